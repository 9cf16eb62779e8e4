"""One behaviour, two stores: each wallet issuer fake against its DynamoDB twin on moto.

The services' rules (a code redeemed once, a nonce used once, an entry allocated once, a
status change that never overwrites another) are decided by the stores' conditional writes.
The unit tests that use a fake rely on it behaving as the DynamoDB store does, so every test
here runs on both, the tables created from the properties ``template.yaml`` gives them.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import replace
from datetime import date, timedelta
from typing import Any

import boto3
import pytest
from moto import mock_aws

from gyeonggi.common.errors import Conflict, NotFound
from gyeonggi.wallet.enrolments import (
    REVOKED,
    SUSPENDED,
    Enrolment,
    EnrolmentStore,
    ResidentDetails,
    StatusReference,
)
from gyeonggi.wallet.grants import (
    TX_CODE_ATTEMPTS,
    AccessToken,
    GrantStore,
    PreAuthorizedCode,
    digest,
    epoch,
)
from gyeonggi.wallet.issuer_ports import EnrolmentRecords, GrantRecords, StatusListRecords
from gyeonggi.wallet.status_registry import StatusListStore, StatusRegistry
from tests.fakes.wallet_issuer import FakeEnrolments, FakeGrants, FakeStatusLists
from tests.unit.conftest import table_from_template
from tests.unit.wallet_issuer_support import T0, person


@pytest.fixture
def moto_dynamodb(lambda_environment: None) -> Iterator[Any]:
    with mock_aws():
        yield boto3.resource("dynamodb", region_name="ap-northeast-2")


@pytest.fixture(params=["fake", "dynamodb"])
def enrolments(request: pytest.FixtureRequest) -> EnrolmentRecords:
    if request.param == "fake":
        return FakeEnrolments()
    dynamodb = request.getfixturevalue("moto_dynamodb")
    table_from_template(dynamodb, "WalletEnrolmentsTable", "wallet-enrolments")
    return EnrolmentStore("wallet-enrolments", dynamodb=dynamodb)


@pytest.fixture(params=["fake", "dynamodb"])
def grants(request: pytest.FixtureRequest) -> GrantRecords:
    if request.param == "fake":
        return FakeGrants()
    dynamodb = request.getfixturevalue("moto_dynamodb")
    table_from_template(dynamodb, "WalletGrantsTable", "wallet-grants")
    return GrantStore("wallet-grants", dynamodb=dynamodb)


@pytest.fixture(params=["fake", "dynamodb"])
def lists(request: pytest.FixtureRequest) -> StatusListRecords:
    if request.param == "fake":
        return FakeStatusLists(size=64, fill_limit=0.5)
    dynamodb = request.getfixturevalue("moto_dynamodb")
    table_from_template(dynamodb, "WalletStatusListsTable", "wallet-status-lists")
    return StatusListStore("wallet-status-lists", dynamodb=dynamodb, size=64, fill_limit=0.5)


def _enrolment(enrolment_id: str = "en-" + "a" * 24) -> Enrolment:
    details = ResidentDetails.parse(person(), today=date(2026, 12, 1))
    return Enrolment(enrolment_id, details, enrolled_by="official-1", enrolled_at=T0)


# ------------------------------------------------------------------ enrolments


def test_an_enrolment_is_stored_once_read_back_whole_and_unknown_ids_are_not_found(
    enrolments: EnrolmentRecords,
) -> None:
    created = enrolments.create(_enrolment())
    assert created.version == 1
    assert created.details.phone_number is None  # not kept
    assert enrolments.get(created.enrolment_id) == created
    with pytest.raises(Conflict):
        enrolments.create(_enrolment())
    with pytest.raises(NotFound):
        enrolments.get("en-" + "b" * 24)


def test_credentials_are_recorded_only_while_the_enrolment_is_valid(
    enrolments: EnrolmentRecords,
) -> None:
    created = enrolments.create(_enrolment())
    first = enrolments.add_credential(created.enrolment_id, StatusReference("1", 7))
    second = enrolments.add_credential(created.enrolment_id, StatusReference("2", 0))
    assert second.credentials == (StatusReference("1", 7), StatusReference("2", 0))
    assert second.version == first.version + 1 == 3
    enrolments.save(replace(second, status=SUSPENDED))
    with pytest.raises(Conflict):
        enrolments.add_credential(created.enrolment_id, StatusReference("1", 8))
    with pytest.raises(Conflict):
        enrolments.add_credential("en-" + "c" * 24, StatusReference("1", 8))
    assert len(enrolments.get(created.enrolment_id).credentials) == 2


def test_a_save_is_conditional_on_the_version_read(enrolments: EnrolmentRecords) -> None:
    created = enrolments.create(_enrolment())
    saved = enrolments.save(replace(created, status=REVOKED))
    assert (saved.version, enrolments.get(created.enrolment_id).status) == (2, REVOKED)
    with pytest.raises(Conflict):
        enrolments.save(replace(created, status=SUSPENDED))  # read at version 1
    with pytest.raises(Conflict):
        enrolments.add_credential(created.enrolment_id, StatusReference("1", 1))


# ------------------------------------------------------------------ grants


def _code(code: str = "code-1", **changes: Any) -> PreAuthorizedCode:
    values: dict[str, Any] = {
        "code_digest": digest(code),
        "enrolment_id": "en-1",
        "configuration_ids": ("gyeonggi_resident",),
        "tx_code_digest": "tx",
        "expires_at": epoch(T0 + timedelta(minutes=10)),
    }
    values.update(changes)
    return PreAuthorizedCode(**values)


def test_an_offer_and_its_code_are_stored_together_until_they_expire(
    grants: GrantRecords,
) -> None:
    offer = {"credential_issuer": "https://wallet.gg.go.kr", "grants": {"x": "한글"}}
    grants.put_offer("offer-1", offer, _code())
    assert grants.get_offer("offer-1", T0) == offer
    assert grants.get_offer("offer-2", T0) is None
    stored = grants.get_code("code-1", T0)
    assert stored == _code()
    later = T0 + timedelta(minutes=10)
    assert grants.get_offer("offer-1", later) is None and grants.get_code("code-1", later) is None


def test_a_code_is_redeemed_once_and_not_after_it_expired(grants: GrantRecords) -> None:
    grants.put_offer("offer-1", {}, _code())
    grants.put_offer("offer-2", {}, _code("code-2"))
    assert grants.redeem("code-1", T0) is True
    assert grants.redeem("code-1", T0) is False
    stored = grants.get_code("code-1", T0)
    assert stored is not None and stored.used and not stored.live(T0)
    assert grants.redeem("code-2", T0 + timedelta(minutes=10)) is False
    assert grants.redeem("code-unknown", T0) is False


def test_wrong_attempts_count_down_and_a_spent_code_is_redeemed_no_more(
    grants: GrantRecords,
) -> None:
    grants.put_offer("offer-1", {}, _code())
    left = [grants.spend_attempt("code-1", T0) for _ in range(TX_CODE_ATTEMPTS + 1)]
    assert left == [*range(TX_CODE_ATTEMPTS - 1, -1, -1), None]
    assert grants.redeem("code-1", T0) is False
    assert grants.spend_attempt("code-unknown", T0) is None


def test_an_access_token_is_found_by_its_value_until_it_expires(grants: GrantRecords) -> None:
    expires = epoch(T0 + timedelta(minutes=5))
    plain = AccessToken(digest("tok-1"), "en-1", ("gyeonggi_resident",), expires)
    narrowed = AccessToken(
        digest("tok-2"),
        "en-1",
        ("gyeonggi_resident",),
        expires,
        credential_identifiers=("gyeonggi_resident",),
        client_id="wallet-app",
    )
    grants.put_token("tok-1", plain)
    grants.put_token("tok-2", narrowed)
    assert grants.get_token("tok-1", T0) == plain
    assert grants.get_token("tok-2", T0) == narrowed
    assert grants.get_token("tok-3", T0) is None
    assert grants.get_token("tok-1", T0 + timedelta(minutes=5)) is None


def test_a_nonce_is_consumed_once_and_not_after_it_expired(grants: GrantRecords) -> None:
    expires = epoch(T0 + timedelta(minutes=5))
    grants.put_nonce("n-1", expires)
    grants.put_nonce("n-2", expires)
    assert grants.consume_nonce("n-1", T0) is True
    assert grants.consume_nonce("n-1", T0) is False
    assert grants.consume_nonce("n-2", T0 + timedelta(minutes=5)) is False
    assert grants.consume_nonce("n-unknown", T0) is False


# ------------------------------------------------------------------ status lists


def test_the_first_list_is_opened_once_and_the_next_only_after_the_open_one(
    lists: StatusListRecords,
) -> None:
    assert lists.open_list() is None
    lists.start_list(None)
    lists.start_list(None)  # a second writer that also saw no list: nothing changes
    assert lists.open_list() == "1"
    lists.start_list("1")
    lists.start_list("1")  # the second writer that found list 1 full
    assert lists.open_list() == "2"
    lists.start_list("1")  # late: list 2 is open already
    assert lists.open_list() == "2"
    assert lists.read("2").packed == bytes(16) and lists.read("2").version == 1


def test_an_entry_is_claimed_once_and_a_list_takes_claims_up_to_its_limit(
    lists: StatusListRecords,
) -> None:
    lists.start_list(None)
    assert lists.claim("1", 5, "en-a", T0) == "ok"
    assert lists.claim("1", 5, "en-b", T0) == "taken"
    assert lists.is_allocated("1", 5) and not lists.is_allocated("1", 6)
    outcomes = [lists.claim("1", i, "en-c", T0) for i in range(10, 64)]
    assert outcomes.count("ok") == 31 and set(outcomes[31:]) == {"full"}  # limit 32 of 64


def test_entries_are_written_on_the_version_read(lists: StatusListRecords) -> None:
    lists.start_list(None)
    state = lists.read("1")
    changed = bytearray(state.packed)
    changed[0] = 0b01
    lists.write(state, bytes(changed))
    assert lists.read("1").packed[0] == 0b01 and lists.read("1").version == 2
    with pytest.raises(Conflict):
        lists.write(state, bytes(16))  # read at version 1
    with pytest.raises(NotFound):
        lists.read("7")


def test_the_registry_allocates_and_changes_alike_on_both(lists: StatusListRecords) -> None:
    draws = iter([1, 1, 2, *range(3, 64)])
    registry = StatusRegistry(lists, random_index=lambda n: next(draws))
    references = [registry.allocate("en-x", T0) for _ in range(40)]
    assert len(set(references)) == 40
    assert references[:2] == [StatusReference("1", 1), StatusReference("1", 2)]
    assert {r.list_id for r in references} == {"1", "2"}  # 32 fit in list 1
    registry.set_status(references[0], SUSPENDED)
    registry.set_status(references[1], REVOKED)
    registry.set_status(references[1], SUSPENDED)  # revoked stays revoked
    assert [registry.status_of(r) for r in references[:3]] == [SUSPENDED, REVOKED, 0]
