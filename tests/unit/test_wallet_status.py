"""Token Status Lists (issue 10, section 4): entries allocated at random and never twice, lists
opened when full, revocation, suspension and reinstatement by the right officials, changes
that never lose each other, and each list served as a signed ``statuslist+jwt``."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from datetime import timedelta

import pytest

from gyeonggi.common.errors import Conflict, NotFound
from gyeonggi.wallet.enrolments import REVOKED, SUSPENDED, VALID, StatusReference
from gyeonggi.wallet.errors import VerificationFailed
from gyeonggi.wallet.issuer_errors import DocumentNotFound
from gyeonggi.wallet.jose import LocalSigner, unverified_header, verify_jws
from gyeonggi.wallet.status_list import (
    decode_status_list,
    encode_status_list,
    read_status_list_token,
)
from gyeonggi.wallet.status_registry import (
    MAX_PROBES,
    StatusListsFull,
    StatusListState,
    StatusRegistry,
    get_entry,
    packed_zeros,
    set_entry,
    unpacked,
)
from tests.fakes.wallet_issuer import FakeStatusLists
from tests.unit.wallet_issuer_support import ISSUER, T0, Setup, credential_request, official, proof


def _issued(setup: Setup, count: int = 1) -> tuple[str, list[StatusReference]]:
    """An enrolment with ``count`` credentials issued, and their status entries."""
    made = setup.enrol()
    token = setup.access_token(made)
    for _ in range(count):
        grant = setup.issuer.credentials.access(f"Bearer {token}")
        nonce = setup.issuer.nonces.issue()
        setup.issuer.credentials.issue(
            grant, credential_request(proof(LocalSigner.generate(), nonce))
        )
    return made.enrolment_id, list(setup.enrolments.get(made.enrolment_id).credentials)


def _served(setup: Setup, list_id: str) -> list[int]:
    """The list as a verifier reads it: the served token, verified with the published keys."""
    token = setup.issuer.statuses.list_token(list_id)
    keys = {k["kid"]: k for k in setup.keys.jwks()["keys"]}

    def lookup(iss: str, kid: str) -> dict[str, str]:
        if iss != ISSUER or kid not in keys:
            raise VerificationFailed("status_list_issuer_key")
        return keys[kid]

    uri = f"{ISSUER}/wallet/status-lists/{list_id}"
    read = read_status_list_token(token, uri=uri, issuer_jwks=lookup, now=setup.clock.now)
    assert read.ttl == timedelta(minutes=5)
    return [read.status_list.get(i) for i in range(len(read.status_list))]


# ------------------------------------------------------------------ packing


def test_packing_is_the_drafts_least_significant_bits_first() -> None:
    packed = bytearray(packed_zeros(16))
    for idx, status in {0: 1, 1: 2, 2: 0, 3: 1, 9: 2, 15: 1}.items():
        set_entry(packed, idx, status)
    statuses = unpacked(bytes(packed), 16)
    assert statuses[:4] == [1, 2, 0, 1] and statuses[9] == 2 and statuses[15] == 1
    assert packed[0] == 0b01_00_10_01  # the draft's figure: entry 0 in the lowest two bits
    decoded = decode_status_list(encode_status_list(statuses, bits=2), bits=2)
    assert (
        [decoded.get(i) for i in range(16)] == statuses == [get_entry(packed, i) for i in range(16)]
    )


# ------------------------------------------------------------------ allocation


def test_entries_are_random_never_reused_and_a_full_list_opens_the_next() -> None:
    lists = FakeStatusLists(size=64, fill_limit=0.75)  # 48 allocations a list
    registry = StatusRegistry(lists)
    references = [registry.allocate("en-x", T0) for _ in range(100)]
    assert len(set(references)) == 100
    per_list = {r.list_id for r in references}
    assert per_list == {"1", "2", "3"}
    assert sum(r.list_id == "1" for r in references) == 48
    assert sorted(r.idx for r in references if r.list_id == "1") != list(range(48))


def test_a_collision_draws_again() -> None:
    draws: Iterator[int] = iter([5, 5, 5, 7])
    registry = StatusRegistry(FakeStatusLists(size=64), random_index=lambda n: next(draws))
    assert registry.allocate("en-a", T0) == StatusReference("1", 5)
    assert registry.allocate("en-b", T0) == StatusReference("1", 7)


def test_an_allocator_that_finds_no_free_entry_gives_up() -> None:
    registry = StatusRegistry(FakeStatusLists(size=64), random_index=lambda n: 3)
    registry.allocate("en-a", T0)
    with pytest.raises(StatusListsFull):
        registry.allocate("en-b", T0)
    assert MAX_PROBES <= 64


def test_allocations_racing_from_many_threads_never_share_an_entry() -> None:
    lists = FakeStatusLists(size=256, fill_limit=0.75)
    registry = StatusRegistry(lists)
    found: list[StatusReference] = []
    start = threading.Barrier(8)

    def allocate() -> None:
        start.wait()
        for _ in range(40):
            found.append(registry.allocate("en-x", T0))

    threads = [threading.Thread(target=allocate) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(30)
    assert len(found) == 320 and len(set(found)) == 320
    assert {r.list_id for r in found} == {"1", "2"}


# ------------------------------------------------------------------ status changes


def test_revoke_suspend_and_reinstate_show_in_the_served_list() -> None:
    setup = Setup()
    enrolment_id, (ref,) = _issued(setup)
    _, (other,) = _issued(setup)
    changes = setup.issuer.statuses
    servant = official("suwon.gg.kr")

    assert _served(setup, ref.list_id)[ref.idx] == VALID
    assert changes.change(servant, enrolment_id, "suspend") == {
        "enrolment_id": enrolment_id,
        "status": "suspended",
        "credentials": 1,
    }
    assert _served(setup, ref.list_id)[ref.idx] == SUSPENDED
    assert changes.change(servant, enrolment_id, "reinstate")["status"] == "valid"
    assert _served(setup, ref.list_id)[ref.idx] == VALID
    assert changes.change(servant, enrolment_id, "revoke")["status"] == "revoked"
    served = _served(setup, ref.list_id)
    assert served[ref.idx] == REVOKED
    # Nobody else's entry moved.
    assert served[other.idx] == VALID and sum(served) == REVOKED


def test_revocation_is_final_and_repeating_an_act_is_harmless() -> None:
    setup = Setup()
    enrolment_id, (ref,) = _issued(setup)
    changes, servant = setup.issuer.statuses, official("suwon.gg.kr")
    changes.change(servant, enrolment_id, "suspend")
    changes.change(servant, enrolment_id, "suspend")
    changes.change(servant, enrolment_id, "revoke")
    changes.change(servant, enrolment_id, "revoke")
    for action in ("reinstate", "suspend"):
        with pytest.raises(Conflict, match="final"):
            changes.change(servant, enrolment_id, action)
    assert setup.issuer.statuses.registry.status_of(ref) == REVOKED


def test_every_credential_of_the_enrolment_changes_together() -> None:
    setup = Setup()
    enrolment_id, references = _issued(setup, count=3)
    setup.issuer.statuses.change(official(province=True), enrolment_id, "revoke")
    assert {setup.issuer.statuses.registry.status_of(r) for r in references} == {REVOKED}


def test_only_officials_of_the_persons_jurisdiction_or_the_province_change_a_status() -> None:
    setup = Setup()
    enrolment_id, _ = _issued(setup)
    for outsider in (official("osan.gg.kr"), official()):
        with pytest.raises(NotFound):
            setup.issuer.statuses.change(outsider, enrolment_id, "revoke")
    for unknown in ("en-000000000000000000000000", "../../etc", "en-" + "0" * 500):
        with pytest.raises(NotFound):
            setup.issuer.statuses.change(official(province=True), unknown, "revoke")
    assert setup.issuer.statuses.change(official(province=True), enrolment_id, "suspend")


def test_an_enrolment_without_credentials_changes_too_and_issues_none_after() -> None:
    setup = Setup()
    made = setup.enrol()
    answer = setup.issuer.statuses.change(official("suwon.gg.kr"), made.enrolment_id, "revoke")
    assert answer == {"enrolment_id": made.enrolment_id, "status": "revoked", "credentials": 0}


def test_concurrent_changes_to_entries_of_one_list_lose_nothing() -> None:
    lists = FakeStatusLists(size=512)
    registry = StatusRegistry(lists)
    references = [registry.allocate("en-x", T0) for _ in range(64)]
    start = threading.Barrier(8)

    def revoke(chunk: list[StatusReference]) -> None:
        start.wait()
        for reference in chunk:
            registry.set_status(reference, REVOKED, attempts=100)

    threads = [threading.Thread(target=revoke, args=(references[i::8],)) for i in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(30)
    assert {registry.status_of(r) for r in references} == {REVOKED}
    assert lists.read("1").version == 1 + 64


def test_a_change_that_loses_a_race_is_retried_on_what_the_winner_wrote() -> None:
    lists = FakeStatusLists(size=64)
    registry = StatusRegistry(lists)
    first, second = registry.allocate("en-a", T0), registry.allocate("en-b", T0)
    real_write = lists.write
    raced: list[bool] = []

    def write_after_another(state: StatusListState, packed: bytes) -> None:
        if not raced:  # another official revokes `second` between our read and our write
            raced.append(True)
            registry.set_status(second, REVOKED)
        real_write(state, packed)

    lists.write = write_after_another  # type: ignore[method-assign]
    assert registry.set_status(first, SUSPENDED) == SUSPENDED
    assert (registry.status_of(first), registry.status_of(second)) == (SUSPENDED, REVOKED)


def test_an_entry_never_allocated_cannot_be_changed() -> None:
    registry = StatusRegistry(FakeStatusLists(size=64))
    registry.allocate("en-a", T0)
    with pytest.raises(NotFound):
        registry.set_status(StatusReference("1", 99), REVOKED)


# ------------------------------------------------------------------ the served token


def test_the_list_token_is_signed_typed_and_names_its_uri_with_a_ttl() -> None:
    setup = Setup()
    _, (ref,) = _issued(setup)

    token = setup.issuer.statuses.list_token(ref.list_id)
    header = unverified_header(token)
    assert header["typ"] == "statuslist+jwt" and header["kid"] == setup.keys.current.kid
    _, payload = verify_jws(token, setup.keys.current.public_jwk(), typ="statuslist+jwt")
    assert payload["sub"] == f"{ISSUER}/wallet/status-lists/{ref.list_id}"
    assert payload["iss"] == ISSUER
    assert payload["ttl"] == 300 and payload["exp"] - payload["iat"] == 24 * 3600
    assert payload["status_list"]["bits"] == 2
    assert len(_served(setup, ref.list_id)) == setup.lists.size


@pytest.mark.parametrize("list_id", ["0", "99", "abc", "1a", "١", "9" * 20])
def test_an_unknown_list_is_not_found(list_id: str) -> None:
    setup = Setup()
    _issued(setup)
    with pytest.raises(DocumentNotFound):
        setup.issuer.statuses.list_token(list_id)
