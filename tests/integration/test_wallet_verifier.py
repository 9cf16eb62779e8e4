"""The wallet verifier in the local cloud, end to end over HTTP.

An official creates a presentation request through the local API server; the holder CLI's code
(in-process) opens the ``openid4vp://`` URI, fetches and checks the signed request object
(trusting the local cloud's development CA), presents, and posts ``direct_post``; the official
reads the result. The verifier function fetches the issuer's metadata and status list over
HTTP, as in AWS, from a test issuer served on 127.0.0.1 (test scaffolding built from the core:
``tests/fakes/wallet_verifier.py``), whose credentials the holder obtained through OpenID4VCI.
The identity-check state machine runs in moto's ASL interpreter.
"""

from __future__ import annotations

import json
import secrets
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any
from urllib.parse import quote

import pytest

from gyeonggi.common import clock
from gyeonggi_tools.wallet.holder import (
    HolderWallet,
    PresentationPlan,
    accept_offer,
    load_trust_anchors,
    plan_presentation,
    present_request,
    read_authorization_request,
    send_presentation,
)
from localcloud.cloud import LocalCloud
from tests.fakes.wallet_verifier import OpenId4VciTestIssuer, Web, WebServer
from tests.integration.conftest import Http, gyeonggi_command, scaled_time

pytestmark = pytest.mark.integration

EXAMPLE = "IdentityCheckExampleStateMachine"


@dataclass
class Desk:
    """A civil servant's counter: the API, a token, a holder with two credentials."""

    cloud: LocalCloud
    http: Http
    token: str
    issuer: OpenId4VciTestIssuer
    revoking: OpenId4VciTestIssuer
    wallet: HolderWallet
    anchors: list[Any]

    def request(self, vct: str | None = None) -> dict[str, Any]:
        query = {
            "credentials": [
                {
                    "id": "resident",
                    "format": "dc+sd-jwt",
                    "meta": {"vct_values": [vct or self.issuer.vct]},
                    "claims": [{"path": ["age_equal_or_over", "19"]}],
                }
            ]
        }
        answer = self.http.request(
            "POST",
            "/verifier/requests",
            json_body={"dcql_query": query, "purpose": "성인 확인"},
            token=self.token,
        )
        assert answer.status == 201, answer
        return dict(answer.body)

    def result(self, request_id: str) -> dict[str, Any]:
        answer = self.http.request("GET", f"/verifier/requests/{request_id}", token=self.token)
        assert answer.status == 200, answer
        return dict(answer.body)

    def plan(self, created: dict[str, Any]) -> PresentationPlan:
        request = read_authorization_request(
            created["request_uri"], anchors=self.anchors, now=clock.now()
        )
        return plan_presentation(request, self.wallet)


@pytest.fixture(scope="module")
def desk(cloud: LocalCloud, http: Http, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Desk]:
    web = Web()
    with WebServer(web) as server:
        issuer = OpenId4VciTestIssuer(identifier=server.url + "/issuer", clock=clock.now)
        revoking = OpenId4VciTestIssuer(identifier=server.url + "/revoking", clock=clock.now)
        issuer.serve(web)
        revoking.serve(web)
        before = cloud.set_function_environment(
            "WalletVerifierFunction",
            WALLET_TRUSTED_ISSUERS=f"{issuer.identifier} {revoking.identifier}",
        )
        wallet = HolderWallet.open(tmp_path_factory.mktemp("holder") / "wallet.json")
        for source in (issuer, revoking):
            offer = "openid-credential-offer://?credential_offer=" + quote(
                json.dumps(source.offer("135790"))
            )
            accept_offer(offer, wallet, tx_code="135790")
        assert cloud.wallet_verifier is not None
        anchors = load_trust_anchors([cloud.wallet_verifier.ca_path])
        token = cloud.mint_token("civil-servant", subject=f"official-{secrets.token_hex(4)}")
        yield Desk(cloud, http, token, issuer, revoking, wallet, anchors)
        cloud.set_function_environment("WalletVerifierFunction", **before)


def yes(plan: PresentationPlan) -> bool:
    return True


def test_a_presentation_over_http_shows_only_the_asked_claims(desk: Desk) -> None:
    created = desk.request()
    assert desk.result(created["request_id"])["status"] == "pending"
    sent = present_request(created["request_uri"], desk.wallet, anchors=desk.anchors, consent=yes)
    assert sent.accepted and sent.body == {}, sent
    result = desk.result(created["request_id"])
    assert result["status"] == "verified"
    (credential,) = result["credentials"]["resident"]
    assert credential["issuer"] == desk.issuer.identifier
    assert credential["claims"] == {"age_equal_or_over": {"19": True}}
    assert "birthdate" not in json.dumps(result, ensure_ascii=False)
    # The QR code is the same URI, for a phone.
    qr = urllib.request.Request(
        f"{desk.http.base}/verifier/requests/{created['request_id']}/qr.png",
        headers={"Authorization": f"Bearer {desk.token}", "Accept": "image/png"},
    )
    with urllib.request.urlopen(qr, timeout=10) as answer:
        assert answer.headers["Content-Type"] == "image/png"
        assert answer.read().startswith(b"\x89PNG")


def _failed_with(desk: Desk, created: dict[str, Any], sent: Any, reason: str) -> None:
    assert sent.status == 400 and sent.body["error"] == "invalid_request", sent
    result = desk.result(created["request_id"])
    assert result["status"] == "failed"
    assert result["failure"]["reason"] == reason


def test_a_stripped_kb_jwt_fails_with_kb_missing(desk: Desk) -> None:
    created = desk.request()
    sent = send_presentation(
        desk.plan(created),
        desk.wallet,
        now=clock.now(),
        mutate=lambda _, p: p[: p.rindex("~") + 1],
    )
    _failed_with(desk, created, sent, "kb_missing")


def test_a_wrong_nonce_fails_with_kb_nonce(desk: Desk) -> None:
    created = desk.request()
    plan = desk.plan(created)
    wrong = replace(plan, request=replace(plan.request, nonce="another-transactions-nonce"))
    sent = send_presentation(wrong, desk.wallet, now=clock.now())
    _failed_with(desk, created, sent, "kb_nonce")


def test_a_replayed_response_is_refused_and_the_first_result_stands(desk: Desk) -> None:
    created = desk.request()
    posted: list[str] = []

    def keep(query_id: str, presentation: str) -> str:
        posted.append(presentation)
        return presentation

    sent = send_presentation(desk.plan(created), desk.wallet, now=clock.now(), mutate=keep)
    assert sent.accepted
    form = {"vp_token": json.dumps({"resident": posted}), "state": created["request_id"]}
    replayed = desk.http.request("POST", "/verifier/responses", form=form)
    assert replayed.status == 400 and replayed.body["error"] == "invalid_request"
    assert "answered already" in replayed.body["error_description"]
    assert desk.result(created["request_id"])["status"] == "verified"
    # The same presentation at another request: bound to the first one's nonce.
    other = desk.request()
    form = {"vp_token": json.dumps({"resident": posted}), "state": other["request_id"]}
    moved = desk.http.request("POST", "/verifier/responses", form=form)
    assert moved.status == 400
    assert desk.result(other["request_id"])["failure"]["reason"] == "kb_nonce"


def test_a_revoked_credential_fails_with_revoked(desk: Desk) -> None:
    (stored,) = [c for c in desk.wallet.credentials if c.issuer == desk.revoking.identifier]
    desk.revoking.statuses[stored.claims["status"]["status_list"]["idx"]] = 1
    created = desk.request(desk.revoking.vct)
    sent = present_request(created["request_uri"], desk.wallet, anchors=desk.anchors, consent=yes)
    _failed_with(desk, created, sent, "revoked")


def test_the_request_object_is_gone_once_answered(desk: Desk) -> None:
    created = desk.request()
    present_request(created["request_uri"], desk.wallet, anchors=desk.anchors, consent=yes)
    path = created["request_object_uri"].split(desk.http.base, 1)[1]
    answer = desk.http.request("GET", path)
    assert answer.status == 404 and answer.body["error"] == "invalid_request_uri"


# ------------------------------------------------------------------ the identity-check workflow


def _run(cloud: LocalCloud, request_id: str, timeout: float = 15) -> dict[str, Any]:
    name = f"identity-{secrets.token_hex(6)}"
    cloud.client("stepfunctions").start_execution(
        stateMachineArn=cloud.physical_id(EXAMPLE),
        name=name,
        input=json.dumps({"request_id": request_id}),
    )
    return cloud.wait_for_execution(EXAMPLE, name, timeout=timeout)


def test_the_identity_check_workflow_goes_on_with_the_verified_claims(desk: Desk) -> None:
    created = desk.request()
    present_request(created["request_uri"], desk.wallet, anchors=desk.anchors, consent=yes)
    execution = _run(desk.cloud, created["request_id"])
    assert execution["status"] == "SUCCEEDED", execution
    output = json.loads(execution["output"])
    assert output["identity"]["status"] == "verified"
    (credential,) = output["identity"]["credentials"]["resident"]
    assert credential["claims"] == {"age_equal_or_over": {"19": True}}


def test_the_identity_check_workflow_waits_for_an_answer_that_comes_later(desk: Desk) -> None:
    created = desk.request()
    name = f"identity-{secrets.token_hex(6)}"
    desk.cloud.client("stepfunctions").start_execution(
        stateMachineArn=desk.cloud.physical_id(EXAMPLE),
        name=name,
        input=json.dumps({"request_id": created["request_id"]}),
    )
    # The workflow is polling (IdentityCheckPending, retried) when the person presents.
    function = desk.cloud.physical_id("IdentityCheckFunction")

    def polled() -> bool | None:
        return (
            any(
                i.function == function and i.errored and created["request_id"] in str(i.event)
                for i in list(desk.cloud.runner.invocations)
            )
            or None
        )

    desk.cloud.wait_for(polled, 10, interval=0.02, what="the first poll")
    present_request(created["request_uri"], desk.wallet, anchors=desk.anchors, consent=yes)
    execution = desk.cloud.wait_for_execution(EXAMPLE, name, timeout=15)
    assert execution["status"] == "SUCCEEDED", execution


def test_the_identity_check_workflow_ends_in_its_failure_states(desk: Desk) -> None:
    rejected = desk.request()
    send_presentation(
        desk.plan(rejected),
        desk.wallet,
        now=clock.now(),
        mutate=lambda _, p: p[: p.rindex("~") + 1],
    )
    pending = desk.request()
    cases = {
        rejected["request_id"]: "IdentityRejected",
        pending["request_id"]: "IdentityNotPresented",  # 60 polls 10 s apart: 10 minutes
        "A" * 22: "IdentityRequestUnknown",
    }
    # At 0.1 % of real time the ten minutes of polling take 0.6 s.
    with scaled_time(desk.cloud, 0.001):
        for request_id, error in cases.items():
            execution = _run(desk.cloud, request_id)
            assert execution["status"] == "FAILED", (request_id, execution)
            assert execution.get("error") == error, execution


# ------------------------------------------------------------------ the holder and the issuer


def _gyeonggi(state_dir: Path, *args: str) -> list[str]:
    status, out, _ = gyeonggi_command(state_dir, *args)
    assert status == 0
    return out.splitlines()


def test_the_holder_cli_accepts_the_local_issuers_offers_by_value_and_by_reference(
    cloud: LocalCloud, tmp_path: Path
) -> None:
    # Given the running cloud as `local up` describes itself to commands run beside it
    running = {
        "endpoint_url": None,
        "api_url": cloud.api.url,
        "region": cloud.stack.region,
        "resources": {},
    }
    (cloud.state_dir / "running.json").write_text(json.dumps(running))
    wallet = str(tmp_path / "wallet.json")
    for uri_key in ("credential_offer_uri", "credential_offer_by_reference"):
        # When an official enrols a person (the issuer's command) and the holder accepts
        (line,) = _gyeonggi(
            cloud.state_dir,
            *("wallet", "enrol", "--local", "--given-name", "길동", "--family-name", "홍"),
            *("--birth-date", "2000-05-05", "--jurisdiction", "suwon.gg.kr"),
            *("--address", "경기도 수원시 팔달구 효원로 1", "--resident-since", "2010-03-02"),
        )
        made = json.loads(line)
        (accepted,) = _gyeonggi(
            cloud.state_dir,
            "wallet",
            "accept",
            made[uri_key],
            "--tx-code",
            made["tx_code"],
            "--wallet",
            wallet,
        )
        assert json.loads(accepted)["issuer"] == cloud.api.url
    # Then the wallet holds both, bound to its key and verified with the served keys
    listed = [
        json.loads(x) for x in _gyeonggi(cloud.state_dir, "wallet", "list", "--wallet", wallet)
    ]
    assert len(listed) == 2 and {c["issuer"] for c in listed} == {cloud.api.url}
    assert "birthdate" in listed[0]["claim_names"] and "claims" not in listed[0]
    assert oct(Path(wallet).stat().st_mode & 0o777) == "0o600"


def test_the_cli_presents_from_the_verifiers_answer_json(desk: Desk, tmp_path: Path) -> None:
    created = desk.request()
    answer = tmp_path / "answer.json"
    answer.write_text(json.dumps(created))
    assert desk.cloud.wallet_verifier is not None
    (line,) = _gyeonggi(
        desk.cloud.state_dir,
        *("wallet", "present", "--request-json", str(answer), "--yes"),
        *("--trust-anchor", str(desk.cloud.wallet_verifier.ca_path)),
        *("--wallet", str(desk.wallet.path)),
    )
    assert json.loads(line) == {"status": 200, "answer": {}, "sent_error": None}
    assert desk.result(created["request_id"])["status"] == "verified"
