"""The verifier function's handler with the sample events of ``events/wallet_verifier/``.

AWS is moto (the table from template.yaml, an ECC_NIST_P256 KMS key, the certificate in SSM),
tokens come from the local issuer, and the trusted issuer's metadata and status list are served
by the test's :class:`~tests.fakes.wallet_verifier.Web`. What is checked here is the HTTP
contract: shapes, statuses, media types, the two error shapes, the QR code, and that no
disclosed value reaches a log line.
"""

from __future__ import annotations

import base64
import importlib
import json
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from types import ModuleType
from typing import Any
from urllib.parse import parse_qs, quote, urlencode, urlsplit

import boto3
import pytest
from moto import mock_aws

from gyeonggi.common import clock
from gyeonggi.wallet.jose import LocalSigner, parse_jws
from gyeonggi.wallet.sd_jwt import present
from localcloud.issuer import LocalIssuer
from localcloud.wallet_verifier import issue_verifier_certificate
from tests.conftest import load_event
from tests.fakes.wallet_verifier import TestIssuer, Web
from tests.unit.conftest import LambdaContext, table_from_template

PARAMETER = "/unit/wallet/verifier-certificate-chain"
#: What the test resident discloses, were anything to leak: none of it may reach a log.
DISCLOSED_VALUES = ("길동", "홍", "2000-05-05", "효원로", "resident_since", "2010-03-02")


@dataclass
class Stack:
    app: ModuleType
    tokens: LocalIssuer
    issuer: TestIssuer
    holder: LocalSigner
    web: Web


@pytest.fixture(scope="module")
def stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Stack]:
    state = tmp_path_factory.mktemp("verifier-function")
    issuer = TestIssuer(clock=clock.now)
    with pytest.MonkeyPatch.context() as patch, mock_aws():
        for key, value in {
            "AWS_ACCESS_KEY_ID": "testing",
            "AWS_SECRET_ACCESS_KEY": "testing",
            "AWS_SESSION_TOKEN": "testing",
            "AWS_DEFAULT_REGION": "ap-northeast-2",
            "POWERTOOLS_METRICS_NAMESPACE": "Test",
            "POWERTOOLS_TRACE_DISABLED": "true",
            "POWERTOOLS_SERVICE_NAME": "unit-test-wallet-verifier",
        }.items():
            patch.setenv(key, value)
        dynamodb = boto3.resource("dynamodb", region_name="ap-northeast-2")
        table_from_template(dynamodb, "PresentationRequestsTable", "presentation-requests")
        kms = boto3.client("kms", region_name="ap-northeast-2")
        key_id = kms.create_key(KeySpec="ECC_NIST_P256", KeyUsage="SIGN_VERIFY")["KeyMetadata"][
            "KeyId"
        ]
        _, leaf = issue_verifier_certificate(kms.get_public_key(KeyId=key_id)["PublicKey"])
        boto3.client("ssm", region_name="ap-northeast-2").put_parameter(
            Name=PARAMETER, Value=leaf.decode(), Type="String"
        )
        tokens = LocalIssuer.create(state, "http://127.0.0.1/local-issuer/unit", "unit-client")
        for key, value in {
            **tokens.environment(),
            "PRESENTATION_REQUESTS_TABLE": "presentation-requests",
            "VERIFIER_KEY_ID": key_id,
            "VERIFIER_CERTIFICATE_PARAMETER": PARAMETER,
            "WALLET_TRUSTED_ISSUERS": issuer.identifier,
        }.items():
            patch.setenv(key, value)
        app = importlib.import_module("functions.wallet_verifier.app")
        web = Web()
        issuer.serve(web)
        service = app.verifier()
        service.issuer_keys.fetcher = web
        service.status_of.fetcher = web
        yield Stack(app, tokens, issuer, LocalSigner.generate(), web)
        app.verifier.cache_clear()
        app.tokens.cache_clear()


def call(stack: Stack, event: dict[str, Any]) -> dict[str, Any]:
    return stack.app.handler(event, LambdaContext())


def body(answer: dict[str, Any]) -> Any:
    return json.loads(answer["body"])


def with_token(event: dict[str, Any], token: str | None) -> dict[str, Any]:
    headers = {k: v for k, v in event["headers"].items() if k != "Authorization"}
    if token is not None:
        headers["Authorization"] = f"Bearer {token}"
    return {**event, "headers": headers, "multiValueHeaders": None}


def official(stack: Stack, subject: str = "official-1", role: str = "civil-servant") -> str:
    return stack.tokens.mint([role], subject)


def create(stack: Stack, token: str | None = None, **changes: Any) -> dict[str, Any]:
    event = load_event("wallet_verifier/create_request.json")
    request = json.loads(event["body"])
    request["dcql_query"]["credentials"][0]["meta"]["vct_values"] = [stack.issuer.vct]
    request.update(changes)
    event["body"] = json.dumps(request, ensure_ascii=False)
    return call(stack, with_token(event, token or official(stack)))


def for_request(sample: str, request_id: str, token: str | None = None) -> dict[str, Any]:
    event = load_event(sample)
    event["pathParameters"] = {"request_id": request_id}
    event["path"] = event["path"].replace("Xq3fK9mB2pLs7TvW1nYc0g", request_id)
    return with_token(event, token)


def response_event(form: dict[str, str]) -> dict[str, Any]:
    event = load_event("wallet_verifier/post_response.json")
    event["body"] = urlencode(form)
    return event


def presentation_for(stack: Stack, created: dict[str, Any], *paths: tuple[str, ...]) -> str:
    credential, _ = stack.issuer.issue(stack.holder.public_jwk(), now=clock.now())
    return present(
        credential,
        disclose=list(paths or (("age_equal_or_over", "19"),)),
        holder=stack.holder,
        nonce=created["nonce"],
        audience=created["client_id"],
        now=clock.now(),
    )


# ------------------------------------------------------------------ the officials' side


def test_create_answers_201_with_the_uri_the_wallet_opens_and_its_parts(stack: Stack) -> None:
    answer = create(stack)
    assert answer["statusCode"] == 201, answer
    created = body(answer)
    base = "https://abcdef1234.execute-api.ap-northeast-2.amazonaws.com/dev"
    request_id = created["request_id"]
    assert answer["headers"]["Location"] == f"{base}/verifier/requests/{request_id}"
    assert created["response_uri"] == f"{base}/verifier/responses"
    assert created["request_object_uri"] == f"{base}/verifier/request-objects/{request_id}"
    assert created["client_id"].startswith("x509_hash:")
    assert created["state"] == request_id and created["nonce"]
    uri = urlsplit(created["request_uri"])
    assert uri.scheme == "openid4vp"
    assert parse_qs(uri.query) == {
        "client_id": [created["client_id"]],
        "request_uri": [created["request_object_uri"]],
    }
    assert created["qr_code"] == f"{base}/verifier/requests/{request_id}/qr.png"


def test_the_qr_code_is_a_png_holding_the_wallets_uri(stack: Stack) -> None:
    import cv2
    import numpy as np

    created = body(create(stack))
    answer = call(
        stack,
        for_request("wallet_verifier/get_qr_code.json", created["request_id"], official(stack)),
    )
    assert answer["statusCode"] == 200 and answer["isBase64Encoded"] is True
    assert answer["headers"]["Content-Type"] == "image/png"
    png = base64.b64decode(answer["body"])
    assert png.startswith(b"\x89PNG\r\n\x1a\n")
    image = cv2.imdecode(np.frombuffer(png, np.uint8), cv2.IMREAD_GRAYSCALE)
    assert image is not None
    # OpenCV's two detectors: the classic one misses some large symbols the other reads.
    read = {cv2.QRCodeDetector().detectAndDecode(image)[0]}
    read.add(cv2.QRCodeDetectorAruco().detectAndDecode(image)[0])
    assert created["request_uri"] in read


def test_only_civil_servants_and_operators_create_and_only_the_creator_reads(stack: Stack) -> None:
    citizen = stack.tokens.mint(["citizen"], "someone")
    answer = create(stack, citizen)
    assert answer["statusCode"] == 403
    assert body(answer) == [{"code": 403, "description": body(answer)[0]["description"]}]
    unsigned = create(stack, "not-a-token")
    assert unsigned["statusCode"] == 401
    assert unsigned["headers"]["WWW-Authenticate"] == 'Bearer realm="gyeonggi"'
    created = body(create(stack, official(stack, "operator-7", "operator")))
    mine = call(
        stack,
        for_request(
            "wallet_verifier/get_request.json",
            created["request_id"],
            official(stack, "operator-7", "operator"),
        ),
    )
    assert mine["statusCode"] == 200 and body(mine)["status"] == "pending"
    theirs = call(
        stack,
        for_request("wallet_verifier/get_request.json", created["request_id"], official(stack)),
    )
    assert theirs["statusCode"] == 404
    qr = call(
        stack,
        for_request("wallet_verifier/get_qr_code.json", created["request_id"], official(stack)),
    )
    assert qr["statusCode"] == 404


def test_a_bad_query_is_400_in_the_apis_error_shape(stack: Stack) -> None:
    answer = create(
        stack, dcql_query={"credentials": [{"id": "x", "format": "mso_mdoc", "meta": {}}]}
    )
    assert answer["statusCode"] == 400
    (error,) = body(answer)
    assert error["code"] == 400 and "format" in error["description"]
    event = load_event("wallet_verifier/create_request.json")
    event["headers"]["Content-Type"] = "text/plain"
    assert call(stack, with_token(event, official(stack)))["statusCode"] == 415


# ------------------------------------------------------------------ the wallet's side


def test_the_request_object_is_served_as_oauth_authz_req_jwt(stack: Stack) -> None:
    created = body(create(stack))
    answer = call(
        stack, for_request("wallet_verifier/get_request_object.json", created["request_id"])
    )
    assert answer["statusCode"] == 200
    assert answer["headers"]["Content-Type"] == "application/oauth-authz-req+jwt"
    assert answer["headers"]["Cache-Control"] == "no-store"
    jws = parse_jws(answer["body"])
    assert jws.header["typ"] == "oauth-authz-req+jwt"
    assert jws.payload["nonce"] == created["nonce"]
    assert jws.payload["purpose"] == "주류 판매 전 성인 확인 (만 19세 이상)"
    unknown = call(stack, for_request("wallet_verifier/get_request_object.json", "A" * 22))
    assert unknown["statusCode"] == 404
    assert body(unknown)["error"] == "invalid_request_uri"


def test_a_verified_answer_is_200_and_the_creator_sees_only_the_claims_asked(
    stack: Stack, capsys: pytest.CaptureFixture[str]
) -> None:
    created = body(create(stack))
    presentation = presentation_for(stack, created, ("age_equal_or_over", "19"), ("birthdate",))
    form = {"vp_token": json.dumps({"resident": [presentation]}), "state": created["request_id"]}
    answer = call(stack, response_event(form))
    assert (answer["statusCode"], body(answer)) == (200, {})
    result = body(
        call(
            stack,
            for_request("wallet_verifier/get_request.json", created["request_id"], official(stack)),
        )
    )
    assert result["status"] == "verified"
    assert result["credentials"] == {
        "resident": [
            {
                "issuer": stack.issuer.identifier,
                "vct": stack.issuer.vct,
                "claims": {"age_equal_or_over": {"19": True}},
            }
        ]
    }
    assert result["discarded_claims"] == 1
    logs = capsys.readouterr().out
    assert "presentation answered" in logs and '"outcome":"verified"' in logs
    for value in DISCLOSED_VALUES:
        assert value not in logs


def test_a_rejected_answer_is_an_oauth_error_and_the_result_names_the_reason(
    stack: Stack, capsys: pytest.CaptureFixture[str]
) -> None:
    created = body(create(stack))
    presentation = presentation_for(
        stack, created, ("given_name",), ("family_name",), ("birthdate",)
    )
    stripped = presentation[: presentation.rindex("~") + 1]
    form = {"vp_token": json.dumps({"resident": [stripped]}), "state": created["request_id"]}
    answer = call(stack, response_event(form))
    assert answer["statusCode"] == 400
    assert body(answer) == {
        "error": "invalid_request",
        "error_description": "presentation not accepted: kb_missing",
    }
    result = body(
        call(
            stack,
            for_request("wallet_verifier/get_request.json", created["request_id"], official(stack)),
        )
    )
    assert result["status"] == "failed"
    assert result["failure"]["reason"] == "kb_missing"
    assert "credentials" not in result
    again = call(stack, response_event(form))
    assert again["statusCode"] == 400 and "answered already" in body(again)["error_description"]
    logs = capsys.readouterr().out
    assert '"reason":"kb_missing"' in logs
    for value in DISCLOSED_VALUES:
        assert value not in logs


def test_the_response_uri_refuses_what_is_no_answer_in_oauths_shape(stack: Stack) -> None:
    unknown = call(stack, response_event({"vp_token": "{}", "state": "A" * 22}))
    assert unknown["statusCode"] == 400 and body(unknown)["error"] == "invalid_request"
    missing = call(stack, response_event({"vp_token": "{}"}))
    assert (
        body(missing)["error"] == "invalid_request"
        and "state" in body(missing)["error_description"]
    )
    event = response_event({"state": "x"})
    event["headers"]["Content-Type"] = "application/json"
    assert call(stack, event)["statusCode"] == 400
    event = response_event({})
    event["body"] = "%ff%fe=1"
    assert body(call(stack, event))["error"] == "invalid_request"


def test_a_wallet_error_response_is_taken_and_recorded(stack: Stack) -> None:
    created = body(create(stack))
    event = load_event("wallet_verifier/post_error_response.json")
    event["body"] = event["body"].replace("Xq3fK9mB2pLs7TvW1nYc0g", quote(created["request_id"]))
    answer = call(stack, event)
    assert (answer["statusCode"], body(answer)) == (200, {})
    result = body(
        call(
            stack,
            for_request("wallet_verifier/get_request.json", created["request_id"], official(stack)),
        )
    )
    assert result["failure"] == {
        "reason": "wallet_error",
        "message": "the wallet answered access_denied",
    }


def test_an_unknown_route_is_404(stack: Stack) -> None:
    event = load_event("wallet_verifier/get_request.json")
    event["resource"] = "/verifier/nothing"
    assert call(stack, event)["statusCode"] == 404


def test_the_sample_events_route_to_their_views(stack: Stack) -> None:
    for name in (
        "wallet_verifier/get_request.json",
        "wallet_verifier/get_qr_code.json",
        "wallet_verifier/get_request_object.json",
        "wallet_verifier/post_response.json",
    ):
        event = load_event(name)
        if "get_request.json" in name or "qr_code" in name:
            event = with_token(event, official(stack))
        answer = call(stack, event)
        # The sample id names no request here: each view answers its own kind of 4xx.
        assert 400 <= answer["statusCode"] < 500, (name, answer)


def test_the_module_imports_no_heavy_dependency_at_cold_start() -> None:
    import subprocess
    import sys

    code = (
        "import sys, os; sys.path.insert(0, 'functions/wallet_verifier');"
        "import app;"
        "print(','.join(m for m in ('cryptography', 'segno', 'boto3', 'jwt') if m in sys.modules))"
    )
    env = {
        "PATH": "/usr/bin:/bin",
        "AWS_DEFAULT_REGION": "ap-northeast-2",
        "POWERTOOLS_TRACE_DISABLED": "true",
        "AUTH_ISSUER": "https://issuer.test",
        "AUTH_AUDIENCE": "client",
        "PRESENTATION_REQUESTS_TABLE": "t",
        "VERIFIER_KEY_ID": "k",
        "VERIFIER_CERTIFICATE_PARAMETER": "/p",
        "PYTHONPATH": "layers",
    }
    out = subprocess.run(
        [sys.executable, "-c", code],
        env=env,
        cwd=Path(__file__).resolve().parents[2],
        capture_output=True,
        text=True,
        check=True,
    )
    assert out.stdout.strip() == ""
