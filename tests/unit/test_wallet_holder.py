"""The holder's CLI wallet: its file, OpenID4VCI against a spec-shaped test issuer, OpenID4VP
against the verifier service, all through an in-memory web."""

from __future__ import annotations

import json
import os
import stat
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, quote, urlencode

import pytest

from gyeonggi.common.errors import DomainError
from gyeonggi.wallet.issuer_trust import IssuerTrust
from gyeonggi.wallet.jose import LocalSigner
from gyeonggi.wallet.presentation_requests import RequestStatus
from gyeonggi.wallet.request_objects import RequestObjectSigner
from gyeonggi.wallet.status_checks import StatusListCache
from gyeonggi.wallet.verifier_service import Verifier
from gyeonggi.wallet.web_fetch import Fetched
from gyeonggi_tools.wallet.holder import (
    HolderError,
    HolderWallet,
    accept_offer,
    load_trust_anchors,
    plan_presentation,
    present_request,
    read_authorization_request,
    read_offer,
)
from tests.fakes.wallet_verifier import (
    NOW,
    FakePresentationRequests,
    OpenId4VciTestIssuer,
    StaticChain,
    VerifierIdentity,
    Web,
    json_answer,
    verifier_identity,
)

BASE = "https://verifier.test"


# ------------------------------------------------------------------ the wallet file


def test_a_new_wallet_file_is_private_from_its_first_byte_and_keeps_its_key(tmp_path: Path) -> None:
    path = tmp_path / "nested" / "wallet.json"
    wallet = HolderWallet.open(path)
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert stat.S_IMODE(path.parent.stat().st_mode) == 0o700
    assert sorted(os.listdir(path.parent)) == ["wallet.json"]  # no temporary file left
    again = HolderWallet.open(path)
    assert again.signer.public_jwk() == wallet.signer.public_jwk()
    assert json.loads(path.read_text())["format"] == "gyeonggi-wallet/1"


def test_a_wallet_others_may_read_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "wallet.json"
    HolderWallet.open(path)
    path.chmod(0o644)
    with pytest.raises(HolderError, match="chmod 600"):
        HolderWallet.open(path)
    path.chmod(0o600)
    path.write_text("{}")
    with pytest.raises(HolderError, match="not a wallet"):
        HolderWallet.open(path)
    with pytest.raises(HolderError, match="no wallet"):
        HolderWallet.open(tmp_path / "absent.json", create=False)


def test_the_wallet_path_comes_from_the_option_then_the_environment(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("GYEONGGI_WALLET", str(tmp_path / "env.json"))
    assert HolderWallet.default_path() == tmp_path / "env.json"
    assert HolderWallet.default_path(tmp_path / "given.json") == tmp_path / "given.json"


def test_a_failed_save_leaves_the_old_file_whole(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = tmp_path / "wallet.json"
    wallet = HolderWallet.open(path)
    before = path.read_bytes()

    def broken(*args: Any, **kwargs: Any) -> None:
        raise OSError("disk full")

    monkeypatch.setattr(os, "replace", broken)
    with pytest.raises(OSError):
        wallet.save()
    assert path.read_bytes() == before
    assert sorted(os.listdir(tmp_path)) == ["wallet.json"]


# ------------------------------------------------------------------ OpenID4VCI


@pytest.fixture
def issuer_web() -> tuple[OpenId4VciTestIssuer, Web]:
    issuer, web = OpenId4VciTestIssuer(), Web()
    issuer.serve(web)
    return issuer, web


def offer_uri(offer: dict[str, Any]) -> str:
    return "openid-credential-offer://?credential_offer=" + quote(json.dumps(offer))


def test_accepting_an_offer_by_value_stores_a_verified_credential_bound_to_the_wallet(
    tmp_path: Path, issuer_web: tuple[OpenId4VciTestIssuer, Web]
) -> None:
    issuer, web = issuer_web
    wallet = HolderWallet.open(tmp_path / "wallet.json")
    (stored,) = accept_offer(
        offer_uri(issuer.offer("493536")), wallet, tx_code="493536", now=lambda: NOW, fetcher=web
    )
    assert stored.issuer == issuer.identifier and stored.vct == issuer.vct
    assert stored.claims["age_equal_or_over"] == {"14": True, "19": True, "65": False}
    assert stored.claims["cnf"]["jwk"]["x"] == wallet.signer.public_jwk()["x"]
    reopened = HolderWallet.open(wallet.path)
    assert [c.credential for c in reopened.credentials] == [stored.credential]
    called = [url for _, url in web.calls]
    assert called[:2] == [
        "https://issuer.test/.well-known/openid-credential-issuer/gyeonggi",
        "https://issuer.test/.well-known/oauth-authorization-server/gyeonggi",
    ]
    assert {"https://issuer.test/gyeonggi/token", "https://issuer.test/gyeonggi/nonce"} <= set(
        called
    )


def test_an_offer_by_reference_is_fetched_and_the_tx_code_asked_for(
    tmp_path: Path, issuer_web: tuple[OpenId4VciTestIssuer, Web]
) -> None:
    issuer, web = issuer_web
    web.route("https://issuer.test/gyeonggi/offers/1", json_answer(issuer.offer("246810")))
    asked: list[Any] = []

    def ask(spec: Any) -> str:
        asked.append(spec)
        return "246810"

    wallet = HolderWallet.open(tmp_path / "wallet.json")
    uri = "openid-credential-offer://?credential_offer_uri=" + quote(
        "https://issuer.test/gyeonggi/offers/1", safe=""
    )
    accepted = accept_offer(uri, wallet, ask_tx_code=ask, now=lambda: NOW, fetcher=web)
    assert len(accepted) == 1 and asked == [{"length": 6, "input_mode": "numeric"}]


@pytest.mark.parametrize(
    ("tx_code", "error"),
    [("000000", "invalid_grant"), ("12345", None), ("abcdef", None)],
)
def test_a_wrong_or_malformed_tx_code_stores_nothing(
    tmp_path: Path, issuer_web: tuple[OpenId4VciTestIssuer, Web], tx_code: str, error: str | None
) -> None:
    issuer, web = issuer_web
    wallet = HolderWallet.open(tmp_path / "wallet.json")
    with pytest.raises(HolderError) as caught:
        accept_offer(
            offer_uri(issuer.offer("493536")), wallet, tx_code=tx_code, now=lambda: NOW, fetcher=web
        )
    assert caught.value.error == error
    assert HolderWallet.open(wallet.path).credentials == []


@pytest.mark.parametrize(
    "uri",
    [
        "https://issuer.test/offer",
        "openid-credential-offer://?",
        "openid-credential-offer://?credential_offer=%7B%7D&credential_offer_uri=https%3A%2F%2Fa.test",
        "openid-credential-offer://?credential_offer=not-json",
        "openid-credential-offer://?credential_offer="
        + quote(
            json.dumps(
                {"credential_issuer": "https://i.test", "credential_configuration_ids": ["x"]}
            )
        ),
        "openid-credential-offer://?credential_offer_uri=" + quote("http://evil.test/offer"),
    ],
)
def test_what_is_no_usable_offer_is_refused(uri: str) -> None:
    with pytest.raises((HolderError, DomainError)):
        read_offer(uri, Web())


def test_metadata_naming_another_issuer_is_not_used(
    tmp_path: Path, issuer_web: tuple[OpenId4VciTestIssuer, Web]
) -> None:
    issuer, web = issuer_web
    web.route(
        "https://issuer.test/.well-known/openid-credential-issuer/gyeonggi",
        json_answer(
            {"credential_issuer": "https://evil.test", "credential_endpoint": "https://evil.test/c"}
        ),
    )
    with pytest.raises(HolderError, match="another credential_issuer"):
        accept_offer(
            offer_uri(issuer.offer()),
            HolderWallet.open(tmp_path / "w.json"),
            tx_code="493536",
            now=lambda: NOW,
            fetcher=web,
        )


# ------------------------------------------------------------------ OpenID4VP


@dataclass
class Counter:
    """A verifier service reachable through the web, an issuer's credential in a wallet."""

    verifier: Verifier
    store: FakePresentationRequests
    identity: VerifierIdentity
    web: Web
    wallet: HolderWallet
    issuer: OpenId4VciTestIssuer
    anchors: list[Any]

    def request(self, query: dict[str, Any] | None = None, **body: Any) -> Any:
        created = self.verifier.create(
            {"dcql_query": query or age_query(self.issuer.vct), **body},
            created_by="official",
            base_url=BASE,
            now=NOW,
        )
        request = created.request
        self.web.route(
            request.request_uri,
            lambda *_: Fetched(
                200,
                "application/oauth-authz-req+jwt",
                self.verifier.request_object(request.request_id, NOW).encode(),
            ),
        )
        return created


def age_query(vct: str) -> dict[str, Any]:
    return {
        "credentials": [
            {
                "id": "resident",
                "format": "dc+sd-jwt",
                "meta": {"vct_values": [vct]},
                "claims": [{"path": ["age_equal_or_over", "19"]}],
            }
        ]
    }


@pytest.fixture
def counter(tmp_path: Path) -> Counter:
    issuer, web = OpenId4VciTestIssuer(), Web()
    issuer.serve(web)
    identity = verifier_identity()
    trust = IssuerTrust(frozenset({issuer.identifier}), fetcher=web)
    store = FakePresentationRequests()
    verifier = Verifier(
        store,
        RequestObjectSigner(identity.signer, StaticChain(identity.leaf_pem)),
        trust,
        StatusListCache(trust, fetcher=web, clock=lambda: NOW),
    )

    def respond(method: str, data: bytes | None, headers: dict[str, str]) -> Fetched:
        form = parse_qs((data or b"").decode(), keep_blank_values=True)
        try:
            received = verifier.receive(form, NOW)
        except DomainError as exc:
            return json_answer({"error": "invalid_request", "error_description": exc.message}, 400)
        if received.outcome.verified or received.outcome.reason == "wallet_error":
            return json_answer({})
        return json_answer(
            {"error": "invalid_request", "error_description": str(received.outcome.reason)}, 400
        )

    web.route(f"{BASE}/verifier/responses", respond)
    wallet = HolderWallet.open(tmp_path / "wallet.json")
    accept_offer(offer_uri(issuer.offer(None)), wallet, now=lambda: NOW, fetcher=web)
    anchor = tmp_path / "verifier-ca.pem"
    anchor.write_bytes(identity.ca_pem)
    return Counter(verifier, store, identity, web, wallet, issuer, load_trust_anchors([anchor]))


def yes(plan: Any) -> bool:
    return True


def test_presenting_sends_only_what_the_query_asks_and_the_verifier_accepts_it(
    counter: Counter,
) -> None:
    created = counter.request()
    sent = present_request(
        created.authorization_uri,
        counter.wallet,
        anchors=counter.anchors,
        consent=yes,
        now=lambda: NOW,
        fetcher=counter.web,
    )
    assert sent.accepted, sent
    stored = counter.store.get(created.request.request_id)
    assert stored.status(NOW) is RequestStatus.VERIFIED
    assert stored.outcome is not None
    assert stored.outcome.credentials[0].claims == {"age_equal_or_over": {"19": True}}
    assert stored.outcome.discarded_claims == 0


def test_the_plan_names_the_paths_disclosed_never_more(counter: Counter) -> None:
    created = counter.request(purpose="성인 확인")
    request = read_authorization_request(
        created.authorization_uri, anchors=counter.anchors, now=NOW, fetcher=counter.web
    )
    assert request.purpose == "성인 확인" and request.state == created.request.request_id
    plan = plan_presentation(request, counter.wallet)
    assert [(q, paths) for q, _, paths in plan.selections] == [
        ("resident", (("age_equal_or_over", "19"),))
    ]


def test_the_verifiers_answer_json_works_as_the_request(counter: Counter) -> None:
    created = counter.request()
    answer = {"request_uri": created.authorization_uri, "client_id": created.request.client_id}
    request = read_authorization_request(
        answer, anchors=counter.anchors, now=NOW, fetcher=counter.web
    )
    assert request.nonce == created.request.nonce


def test_a_verifier_not_certified_by_a_trusted_authority_is_refused(counter: Counter) -> None:
    created = counter.request()
    stranger = verifier_identity()
    with pytest.raises(HolderError, match="trusted authority"):
        read_authorization_request(
            created.authorization_uri,
            anchors=load_trust_anchors([_write(counter, stranger.ca_pem)]),
            now=NOW,
            fetcher=counter.web,
        )
    with pytest.raises(HolderError, match="no verifier trust anchors"):
        read_authorization_request(
            created.authorization_uri, anchors=[], now=NOW, fetcher=counter.web
        )


def _write(counter: Counter, pem: bytes) -> Path:
    path = counter.wallet.path.parent / "other-ca.pem"
    path.write_bytes(pem)
    return path


Tamper = Callable[[str], str]


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (lambda uri: uri.replace("client_id=x509_hash%3A", "client_id=x509_hash%3AX"), "hash"),
        (lambda uri: uri.replace("client_id=x509_hash%3A", "client_id=redirect_uri%3A"), "prefix"),
    ],
)
def test_a_client_id_that_is_not_the_signing_certificates_is_refused(
    counter: Counter, change: Tamper, message: str
) -> None:
    created = counter.request()
    with pytest.raises(HolderError, match=message):
        read_authorization_request(
            change(created.authorization_uri), anchors=counter.anchors, now=NOW, fetcher=counter.web
        )


def test_a_request_object_with_another_typ_or_a_bad_signature_is_refused(counter: Counter) -> None:
    from gyeonggi.wallet.jose import sign_jws
    from gyeonggi.wallet.request_objects import request_object_claims

    created = counter.request()
    request = created.request
    x5c = counter.verifier.signer.certificate(NOW).x5c
    wrong_typ = sign_jws(
        {"typ": "JWT", "x5c": x5c}, request_object_claims(request, NOW), counter.identity.signer
    )
    forged = sign_jws(
        {"typ": "oauth-authz-req+jwt", "x5c": x5c},
        request_object_claims(request, NOW),
        LocalSigner.generate(),
    )
    for token in (wrong_typ, forged):
        counter.web.route(
            request.request_uri, Fetched(200, "application/oauth-authz-req+jwt", token.encode())
        )
        with pytest.raises(HolderError, match="does not verify"):
            read_authorization_request(
                created.authorization_uri, anchors=counter.anchors, now=NOW, fetcher=counter.web
            )


def test_a_query_the_wallet_cannot_meet_is_answered_access_denied(counter: Counter) -> None:
    query = age_query("https://another.test/vct")
    created = counter.request(query)
    sent = present_request(
        created.authorization_uri,
        counter.wallet,
        anchors=counter.anchors,
        consent=yes,
        now=lambda: NOW,
        fetcher=counter.web,
    )
    assert sent.sent_error == "access_denied" and not sent.accepted
    outcome = counter.store.get(created.request.request_id).outcome
    assert outcome is not None and outcome.reason == "wallet_error"


def test_a_refused_consent_sends_nothing_but_access_denied(counter: Counter) -> None:
    created = counter.request()
    sent = present_request(
        created.authorization_uri,
        counter.wallet,
        anchors=counter.anchors,
        consent=lambda plan: False,
        now=lambda: NOW,
        fetcher=counter.web,
    )
    assert sent.sent_error == "access_denied"
    posted = [url for method, url in counter.web.calls if method == "POST"]
    assert posted[-1] == f"{BASE}/verifier/responses"


def test_the_request_uri_answering_an_error_stops_the_wallet(counter: Counter) -> None:
    created = counter.request()
    counter.web.route(
        created.request.request_uri, json_answer({"error": "invalid_request_uri"}, 404)
    )
    with pytest.raises(HolderError, match="404"):
        read_authorization_request(
            created.authorization_uri, anchors=counter.anchors, now=NOW, fetcher=counter.web
        )


def test_an_unsigned_request_is_refused() -> None:
    uri = "openid4vp://?" + urlencode(
        {"client_id": "x509_hash:abc", "response_uri": "https://v.test"}
    )
    with pytest.raises(HolderError, match="unsigned"):
        read_authorization_request(uri, anchors=[], now=NOW, fetcher=Web())
