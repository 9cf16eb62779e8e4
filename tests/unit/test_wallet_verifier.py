"""The OpenID4VP verifier's life cycle over in-memory ports: create, serve, one answer.

Credentials come from a test issuer built from the core (``tests/fakes/wallet_verifier.py``);
presentations from the core's ``present`` (what any holder sends), damaged where a test says.
Every rejection surfaces as the request's outcome with its own reason code.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import pytest

from gyeonggi.common.errors import InvalidInput, NotFound
from gyeonggi.wallet.issuer_trust import IssuerTrust
from gyeonggi.wallet.jose import LocalSigner, parse_jws
from gyeonggi.wallet.presentation_requests import (
    AlreadyAnswered,
    RequestExpired,
    RequestStatus,
)
from gyeonggi.wallet.request_objects import (
    REQUEST_OBJECT_TYP,
    RequestObjectSigner,
    x509_hash_client_id,
)
from gyeonggi.wallet.sd_jwt import present
from gyeonggi.wallet.status_checks import StatusListCache
from gyeonggi.wallet.verifier_service import Received, Verifier
from tests.fakes.wallet_verifier import (
    NOW,
    FakePresentationRequests,
    StaticChain,
    TestIssuer,
    Web,
    json_answer,
    verifier_identity,
)

BASE = "https://api.test/dev"
OFFICIAL = "official-1"
AGE_19 = ("age_equal_or_over", "19")


def age_query(vct: str, **credential: Any) -> dict[str, Any]:
    """The DCQL query "over 19?" for a resident credential of type ``vct``."""
    return {
        "credentials": [
            {
                "id": "resident",
                "format": "dc+sd-jwt",
                "meta": {"vct_values": [vct]},
                "claims": [{"path": list(AGE_19)}],
                **credential,
            }
        ]
    }


@dataclass
class World:
    """A verifier, the issuer it trusts, a holder and the web between them."""

    verifier: Verifier
    store: FakePresentationRequests
    issuer: TestIssuer
    holder: LocalSigner
    web: Web
    clock: list[datetime]

    @property
    def now(self) -> datetime:
        return self.clock[0]

    def create(self, query: dict[str, Any] | None = None, **body: Any) -> Any:
        return self.verifier.create(
            {"dcql_query": query or age_query(self.issuer.vct), **body},
            created_by=OFFICIAL,
            base_url=BASE,
            now=self.now,
        )

    def credential(self, **options: Any) -> tuple[str, int]:
        return self.issuer.issue(self.holder.public_jwk(), **options)

    def presentation(
        self,
        credential: str,
        request: Any,
        *paths: tuple[str, ...],
        nonce: str | None = None,
        audience: str | None = None,
    ) -> str:
        return present(
            credential,
            disclose=list(paths or (AGE_19,)),
            holder=self.holder,
            nonce=nonce or request.nonce,
            audience=audience or request.client_id,
            now=self.now,
        )

    def answer(self, request: Any, vp_token: Any, **fields: str) -> Received:
        form = {"state": [request.request_id], **{k: [v] for k, v in fields.items()}}
        if vp_token is not None:
            form["vp_token"] = [vp_token if isinstance(vp_token, str) else json.dumps(vp_token)]
        return self.verifier.receive(form, self.now)


@pytest.fixture
def world() -> World:
    identity = verifier_identity()
    web = Web()
    issuer = TestIssuer()
    issuer.serve(web)
    clock = [NOW]
    trust = IssuerTrust(frozenset({issuer.identifier}), fetcher=web)
    store = FakePresentationRequests()
    verifier = Verifier(
        store,
        RequestObjectSigner(identity.signer, StaticChain(identity.leaf_pem)),
        trust,
        StatusListCache(trust, fetcher=web, clock=lambda: clock[0]),
    )
    return World(verifier, store, issuer, LocalSigner.generate(), web, clock)


def verified(world: World) -> tuple[Any, Received]:
    """A request answered with an over-19 presentation."""
    request = world.create().request
    credential, _ = world.credential()
    return request, world.answer(request, {"resident": [world.presentation(credential, request)]})


# ------------------------------------------------------------------ creating and serving


def test_a_request_has_random_ids_an_x509_hash_client_id_and_the_wallet_uris(
    world: World,
) -> None:
    created = world.create(purpose="주류 구매 연령 확인")
    request = created.request
    assert len(request.request_id) == 22 and len(request.nonce) >= 43
    assert request.client_id.startswith("x509_hash:")
    assert request.request_uri == f"{BASE}/verifier/request-objects/{request.request_id}"
    assert request.response_uri == f"{BASE}/verifier/responses"
    assert created.authorization_uri.startswith("openid4vp://?client_id=x509_hash%3A")
    assert request.expires_at - request.created_at == timedelta(minutes=10)
    assert request.status(world.now) is RequestStatus.PENDING
    assert world.create().request.nonce != request.nonce


def test_the_request_object_is_a_signed_jar_with_every_parameter_the_wallet_needs(
    world: World,
) -> None:
    request = world.create(purpose="age check").request
    token = world.verifier.request_object(request.request_id, world.now)
    jws = parse_jws(token)
    assert jws.header["typ"] == REQUEST_OBJECT_TYP and jws.header["alg"] == "ES256"
    import base64

    leaf = base64.b64decode(jws.header["x5c"][0])
    assert x509_hash_client_id(leaf) == request.client_id
    claims = jws.payload
    assert claims["client_id"] == request.client_id
    assert claims["response_type"] == "vp_token"
    assert claims["response_mode"] == "direct_post"
    assert claims["response_uri"] == request.response_uri
    assert claims["nonce"] == request.nonce
    assert claims["state"] == request.request_id
    assert claims["aud"] == "https://self-issued.me/v2"
    assert claims["dcql_query"] == request.dcql_query
    assert claims["client_metadata"]["vp_formats_supported"]["dc+sd-jwt"]
    assert claims["exp"] == int(request.expires_at.timestamp())
    assert "redirect_uri" not in claims


@pytest.mark.parametrize(
    ("body", "names"),
    [
        ({}, "dcql_query"),
        ({"dcql_query": []}, "dcql_query"),
        ({"dcql_query": {"credentials": []}}, "credentials"),
        (
            {"dcql_query": {"credentials": [{"id": "x", "format": "mso_mdoc", "meta": {}}]}},
            "format",
        ),
        ({"dcql_query": None, "extra": 1}, "extra"),
        ({"purpose": "  "}, "purpose"),
        ({"purpose": "a\x00b"}, "purpose"),
        ({"purpose": "x" * 301}, "purpose"),
    ],
)
def test_a_bad_request_body_is_refused_naming_what_is_wrong(
    world: World, body: dict[str, Any], names: str
) -> None:
    if "dcql_query" not in body and names != "dcql_query":
        body = {"dcql_query": age_query(world.issuer.vct), **body}
    with pytest.raises(InvalidInput) as caught:
        world.verifier.create(body, created_by=OFFICIAL, base_url=BASE, now=world.now)
    assert names in caught.value.message
    assert not world.store.items


def test_a_query_that_turns_key_binding_off_is_refused(world: World) -> None:
    query = age_query(world.issuer.vct, require_cryptographic_holder_binding=False)
    with pytest.raises(InvalidInput, match="key binding"):
        world.create(query)


def test_the_request_object_is_served_only_while_the_request_is_pending(world: World) -> None:
    request, _ = verified(world)
    with pytest.raises(NotFound):
        world.verifier.request_object(request.request_id, world.now)
    late = world.create().request
    with pytest.raises(NotFound):
        world.verifier.request_object(late.request_id, late.expires_at)
    with pytest.raises(NotFound):
        world.verifier.request_object("not-a-request-id", world.now)


def test_only_the_official_who_created_a_request_reads_it(world: World) -> None:
    request = world.create().request
    assert world.verifier.request_for(request.request_id, OFFICIAL) == request
    with pytest.raises(NotFound):
        world.verifier.request_for(request.request_id, "another-official")


# ------------------------------------------------------------------ the one answer


def test_a_valid_presentation_keeps_only_what_was_asked(world: World) -> None:
    request = world.create().request
    credential, _ = world.credential()
    presentation = world.presentation(credential, request)
    received = world.answer(request, {"resident": [presentation]})
    outcome = received.outcome
    assert outcome.verified, outcome
    (kept,) = outcome.credentials
    assert kept.credential_query_id == "resident"
    assert kept.issuer == world.issuer.identifier and kept.vct == world.issuer.vct
    assert kept.claims == {"age_equal_or_over": {"19": True}}
    stored = world.store.get(request.request_id)
    assert stored.status(world.now) is RequestStatus.VERIFIED
    assert "birthdate" not in json.dumps(stored.outcome.to_json() if stored.outcome else {})


def test_claims_disclosed_beyond_the_query_are_dropped_and_counted(world: World) -> None:
    request = world.create().request
    credential, _ = world.credential()
    presentation = world.presentation(credential, request, AGE_19, ("birthdate",), ("address",))
    outcome = world.answer(request, {"resident": [presentation]}).outcome
    assert outcome.verified
    assert outcome.credentials[0].claims == {"age_equal_or_over": {"19": True}}
    assert outcome.discarded_claims == 2


def test_the_nonce_is_used_once_a_replayed_response_is_refused(world: World) -> None:
    request, first = verified(world)
    assert first.outcome.verified
    credential, _ = world.credential()
    replay = {"resident": [world.presentation(credential, request)]}
    with pytest.raises(AlreadyAnswered):
        world.answer(request, replay)
    assert world.store.get(request.request_id).outcome == first.outcome


def test_a_presentation_made_for_another_request_fails_on_its_nonce(world: World) -> None:
    earlier = world.create().request
    credential, _ = world.credential()
    captured = world.presentation(credential, earlier)
    request = world.create().request
    outcome = world.answer(request, {"resident": [captured]}).outcome
    assert (outcome.verified, outcome.reason) == (False, "kb_nonce")


def test_a_request_past_its_lifetime_takes_no_answer(world: World) -> None:
    request = world.create().request
    credential, _ = world.credential()
    presentation = world.presentation(credential, request)
    world.clock[0] = request.expires_at
    with pytest.raises(RequestExpired):
        world.answer(request, {"resident": [presentation]})
    assert world.store.get(request.request_id).status(world.now) is RequestStatus.EXPIRED
    keep_until = world.store.items[request.request_id][1]
    assert keep_until == request.expires_at + timedelta(hours=1)


def test_an_unknown_or_missing_state_touches_no_request(world: World) -> None:
    request = world.create().request
    with pytest.raises(NotFound):
        world.verifier.receive({"state": ["A" * 22], "vp_token": ["{}"]}, world.now)
    with pytest.raises(NotFound):
        world.verifier.receive({"state": ["../../etc"], "vp_token": ["{}"]}, world.now)
    with pytest.raises(InvalidInput, match="state"):
        world.verifier.receive({"vp_token": ["{}"]}, world.now)
    with pytest.raises(InvalidInput, match="more than once"):
        world.verifier.receive({"state": [request.request_id, request.request_id]}, world.now)
    assert world.store.get(request.request_id).status(world.now) is RequestStatus.PENDING


def strip_kb(presentation: str) -> str:
    return presentation[: presentation.rindex("~") + 1]


def tamper_signature(presentation: str) -> str:
    jwt, rest = presentation.split("~", 1)
    head, payload, signature = jwt.split(".")
    flipped = ("A" if signature[0] != "A" else "B") + signature[1:]
    return f"{head}.{payload}.{flipped}~{rest}"


Make = Callable[[World, Any], Any]


def _present(**kwargs: Any) -> Make:
    def make(world: World, request: Any) -> Any:
        credential, _ = world.credential()
        return {"resident": [world.presentation(credential, request, **kwargs)]}

    return make


def _damaged(change: Callable[[str], str]) -> Make:
    def make(world: World, request: Any) -> Any:
        credential, _ = world.credential()
        return {"resident": [change(world.presentation(credential, request))]}

    return make


def _credential(**options: Any) -> Make:
    def make(world: World, request: Any) -> Any:
        credential, _ = world.credential(**options)
        return {"resident": [world.presentation(credential, request)]}

    return make


def _untrusted(world: World, request: Any) -> Any:
    other = TestIssuer(identifier="https://elsewhere.test/issuer")
    credential, _ = other.issue(world.holder.public_jwk())
    return {"resident": [world.presentation(credential, request)]}


def _wrong_holder(world: World, request: Any) -> Any:
    credential, _ = world.issuer.issue(LocalSigner.generate().public_jwk())
    return {"resident": [world.presentation(credential, request)]}


def _two(world: World, request: Any) -> Any:
    credential, _ = world.credential()
    one = world.presentation(credential, request)
    return {"resident": [one, one]}


def _withheld(world: World, request: Any) -> Any:
    credential, _ = world.credential()
    return {"resident": [world.presentation(credential, request, ("family_name",))]}


@pytest.mark.parametrize(
    ("make", "reason"),
    [
        (_damaged(strip_kb), "kb_missing"),
        (_present(nonce="a-nonce-of-another-transaction"), "kb_nonce"),
        (_present(audience="x509_hash:another-verifier"), "kb_aud"),
        (_damaged(tamper_signature), "signature"),
        (_wrong_holder, "kb_signature"),
        (_untrusted, "issuer_untrusted"),
        (_credential(now=NOW - timedelta(days=400)), "expired"),
        (_two, "vp_token_multiple"),
        (_withheld, "credential_query_mismatch"),
        (lambda w, r: {"someone_else": ["x~"]}, "vp_token_unknown_query"),
        (lambda w, r: "not json", "vp_token_malformed"),
        (lambda w, r: {"resident": "x~"}, "vp_token_malformed"),
        (lambda w, r: {"resident": []}, "vp_token_malformed"),
        (lambda w, r: [], "vp_token_malformed"),
        (lambda w, r: None, "vp_token_missing"),
    ],
)
def test_each_failed_check_is_the_requests_outcome_with_its_reason(
    world: World, make: Make, reason: str
) -> None:
    request = world.create().request
    received = world.answer(request, make(world, request))
    assert (received.outcome.verified, received.outcome.reason) == (False, reason)
    stored = world.store.get(request.request_id)
    assert stored.status(world.now) is RequestStatus.FAILED
    assert stored.outcome == received.outcome
    # The request took its one answer, whatever it was.
    with pytest.raises(AlreadyAnswered):
        world.answer(request, make(world, request))


@pytest.mark.parametrize(("value", "reason"), [(1, "revoked"), (2, "suspended")])
def test_a_revoked_or_suspended_credential_fails_with_that_reason(
    world: World, value: int, reason: str
) -> None:
    request = world.create().request
    credential, index = world.credential()
    world.issuer.statuses[index] = value
    outcome = world.answer(request, {"resident": [world.presentation(credential, request)]}).outcome
    assert (outcome.verified, outcome.reason) == (False, reason)


def test_a_status_list_that_cannot_be_fetched_fails_the_presentation(world: World) -> None:
    world.web.route(world.issuer.status_uri, json_answer({"error": "down"}, 503))
    request = world.create().request
    credential, _ = world.credential()
    outcome = world.answer(request, {"resident": [world.presentation(credential, request)]}).outcome
    assert (outcome.verified, outcome.reason) == (False, "status_unavailable")


def test_the_status_list_is_fetched_once_per_ttl(world: World) -> None:
    uri = world.issuer.status_uri
    for _ in range(3):
        _, received = verified(world)
        assert received.outcome.verified
    assert world.web.count(uri) == 1
    world.clock[0] = NOW + world.issuer.ttl
    _, received = verified(world)
    assert received.outcome.verified and world.web.count(uri) == 2


def test_a_credential_revoked_after_the_list_was_cached_fails_once_the_ttl_is_over(
    world: World,
) -> None:
    verified(world)
    credential, index = world.credential()
    world.issuer.statuses[index] = 1
    request = world.create().request
    outcome = world.answer(request, {"resident": [world.presentation(credential, request)]}).outcome
    assert outcome.verified  # the cached list, within its ttl: what the draft allows
    world.clock[0] = NOW + world.issuer.ttl + timedelta(seconds=1)
    request = world.create().request
    outcome = world.answer(request, {"resident": [world.presentation(credential, request)]}).outcome
    assert (outcome.verified, outcome.reason) == (False, "revoked")


def test_a_wallet_error_response_is_recorded_as_the_failure(world: World) -> None:
    request = world.create().request
    received = world.answer(request, None, error="access_denied", error_description="<script>")
    assert received.outcome.reason == "wallet_error"
    assert received.outcome.message == "the wallet answered access_denied"


def test_dcql_not_satisfied_when_a_required_credential_is_missing(world: World) -> None:
    vct = world.issuer.vct
    query = {
        "credentials": [
            {
                "id": "resident",
                "format": "dc+sd-jwt",
                "meta": {"vct_values": [vct]},
                "claims": [{"path": list(AGE_19)}],
            },
            {
                "id": "address",
                "format": "dc+sd-jwt",
                "meta": {"vct_values": [vct]},
                "claims": [{"path": ["address", "formatted"]}],
            },
        ]
    }
    request = world.create(query).request
    credential, _ = world.credential()
    outcome = world.answer(request, {"resident": [world.presentation(credential, request)]}).outcome
    assert (outcome.verified, outcome.reason) == (False, "dcql_unsatisfied")


def test_credential_sets_need_one_whole_option_of_each_required_set(world: World) -> None:
    vct = world.issuer.vct
    query = {
        "credentials": [
            {
                "id": "adult",
                "format": "dc+sd-jwt",
                "meta": {"vct_values": [vct]},
                "claims": [{"path": list(AGE_19)}],
            },
            {
                "id": "birth",
                "format": "dc+sd-jwt",
                "meta": {"vct_values": [vct]},
                "claims": [{"path": ["birthdate"]}],
            },
        ],
        "credential_sets": [{"options": [["adult"], ["birth"]]}],
    }
    request = world.create(query).request
    credential, _ = world.credential()
    presentation = world.presentation(credential, request)
    outcome = world.answer(request, {"adult": [presentation]}).outcome
    assert outcome.verified and [c.credential_query_id for c in outcome.credentials] == ["adult"]


def test_claim_values_asked_for_must_match(world: World) -> None:
    vct = world.issuer.vct
    query = {
        "credentials": [
            {
                "id": "resident",
                "format": "dc+sd-jwt",
                "meta": {"vct_values": [vct]},
                "claims": [{"path": ["jurisdiction"], "values": ["ansan.gg.kr"]}],
            }
        ]
    }
    request = world.create(query).request
    credential, _ = world.credential()
    presentation = world.presentation(credential, request, ("jurisdiction",))
    outcome = world.answer(request, {"resident": [presentation]}).outcome
    assert (outcome.verified, outcome.reason) == (False, "credential_query_mismatch")


def test_an_issuer_whose_metadata_cannot_be_fetched_fails_with_that_reason(world: World) -> None:
    world.web.route(world.issuer.metadata_url, json_answer({}, 500))
    request = world.create().request
    credential, _ = world.credential()
    outcome = world.answer(request, {"resident": [world.presentation(credential, request)]}).outcome
    assert (outcome.verified, outcome.reason) == (False, "issuer_metadata_unavailable")
