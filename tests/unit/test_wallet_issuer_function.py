"""The wallet issuer function (``functions/wallet_issuer``) with its sample events, on moto.

Its tables are built from template.yaml and its signing key is a KMS ``ECC_NIST_P256`` key in
moto (which signs with ``MessageType`` RAW as AWS does). What is checked here is the HTTP
shell: routes, status codes, ``Cache-Control``, the two error shapes (OAuth's on protocol
routes, the API's on the civil servants') and the cold start's settings.
"""

from __future__ import annotations

import base64
import importlib
import json
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from types import ModuleType
from typing import Any

import boto3
import pytest
from moto import mock_aws

from gyeonggi.common.config import ConfigurationError
from gyeonggi.wallet.credential import verify_issued_credential
from gyeonggi.wallet.errors import VerificationFailed
from gyeonggi.wallet.issuer_settings import (
    IssuerEndpoints,
    WalletIssuerSettings,
    issuer_identifier,
)
from gyeonggi.wallet.jose import LocalSigner
from localcloud.issuer import LocalIssuer
from tests.conftest import load_event
from tests.unit.conftest import LambdaContext, table_from_template
from tests.unit.wallet_issuer_support import person, proof

ISSUER = "https://wallet.gg.go.kr"
TABLES = {
    "WalletEnrolmentsTable": "wallet-enrolments",
    "WalletGrantsTable": "wallet-grants",
    "WalletStatusListsTable": "wallet-status-lists",
}


@dataclass
class Deployed:
    module: ModuleType
    issuer: LocalIssuer
    kms: Any

    def call(self, event: dict[str, Any]) -> tuple[int, dict[str, str], Any]:
        answer = self.module.handler(event, LambdaContext())
        headers = {k.lower(): v for k, v in (answer.get("headers") or {}).items()}
        for name, values in (answer.get("multiValueHeaders") or {}).items():
            headers.setdefault(name.lower(), values[0])
        body = answer.get("body") or ""
        if answer.get("isBase64Encoded"):
            body = base64.b64decode(body).decode()
        try:
            parsed: Any = json.loads(body)
        except ValueError:
            parsed = body
        return int(answer["statusCode"]), headers, parsed


@pytest.fixture(scope="module")
def local_issuer(tmp_path_factory: pytest.TempPathFactory) -> LocalIssuer:
    """The token issuer (an RSA key: made once for the module)."""
    return LocalIssuer.create(
        tmp_path_factory.mktemp("issuer"), "http://127.0.0.1/local-issuer/pool", "gyeonggi"
    )


@pytest.fixture
def deployed(
    lambda_environment: None, monkeypatch: pytest.MonkeyPatch, local_issuer: LocalIssuer
) -> Iterator[Deployed]:
    issuer = local_issuer
    with mock_aws():
        dynamodb = boto3.resource("dynamodb", region_name="ap-northeast-2")
        for logical_id, name in TABLES.items():
            table_from_template(dynamodb, logical_id, name)
        kms = boto3.client("kms", region_name="ap-northeast-2")
        key = kms.create_key(KeySpec="ECC_NIST_P256", KeyUsage="SIGN_VERIFY")["KeyMetadata"]
        for name, value in {
            **issuer.environment(),
            "POWERTOOLS_SERVICE_NAME": "unit-test-wallet-issuer",
            "CREDENTIAL_ISSUER": ISSUER,
            "WALLET_ENROLMENTS_TABLE": TABLES["WalletEnrolmentsTable"],
            "WALLET_GRANTS_TABLE": TABLES["WalletGrantsTable"],
            "WALLET_STATUS_LISTS_TABLE": TABLES["WalletStatusListsTable"],
            "WALLET_SIGNING_KEY_ID": key["Arn"],
            "WALLET_PREVIOUS_SIGNING_KEY_IDS": "",
            "TX_CODE_DELIVERY": "answer",
            "STAGE": "dev",
        }.items():
            monkeypatch.setenv(name, value)
        module = importlib.import_module("functions.wallet_issuer.app")
        for cached in (module.settings, module.issuer, module.verifier):
            cached.cache_clear()
        yield Deployed(module, issuer, kms)
        for cached in (module.settings, module.issuer, module.verifier):
            cached.cache_clear()


def _post(path: str, body: str, content_type: str, token: str | None = None) -> dict[str, Any]:
    event: dict[str, Any] = load_event("wallet_issuer/credential_without_token.json")
    headers = {"Content-Type": content_type}
    if token:
        headers["Authorization"] = f"Bearer {token}"
    resource = "/wallet/enrolments/{enrolment_id}/revoke" if path.endswith("/revoke") else path
    event.update(
        resource=resource,
        path=path,
        body=body,
        headers=headers,
        multiValueHeaders={k: [v] for k, v in headers.items()},
        pathParameters={"enrolment_id": path.split("/")[3]} if "{" in resource else None,
    )
    event["requestContext"]["resourcePath"] = resource
    return event


def test_the_sample_metadata_events_answer_the_documents(deployed: Deployed) -> None:
    status, headers, body = deployed.call(
        load_event("wallet_issuer/credential_issuer_metadata.json")
    )
    assert status == 200 and headers["content-type"] == "application/json"
    assert body["credential_issuer"] == ISSUER
    assert body["credential_endpoint"] == ISSUER + "/wallet/credential"
    configuration = body["credential_configurations_supported"]["gyeonggi_resident"]
    assert configuration["format"] == "dc+sd-jwt"
    assert configuration["vct"] == ISSUER + "/credentials/gyeonggi-resident"
    assert "max-age" in headers["cache-control"] and headers["access-control-allow-origin"] == "*"

    status, _, body = deployed.call(load_event("wallet_issuer/jwt_vc_issuer_metadata.json"))
    (key,) = body["jwks"]["keys"]
    assert status == 200 and body["issuer"] == ISSUER
    assert key["kty"] == "EC" and key["crv"] == "P-256" and key["kid"] and key["alg"] == "ES256"


def test_a_token_request_without_tx_code_is_400_invalid_request_never_cached(
    deployed: Deployed,
) -> None:
    status, headers, body = deployed.call(load_event("wallet_issuer/token_without_tx_code.json"))
    # The sample's code is unknown here: the code is judged before the tx_code.
    assert status == 400 and body["error"] == "invalid_grant"
    assert set(body) == {"error", "error_description"}
    assert headers["cache-control"] == "no-store"


def test_a_credential_request_without_a_token_is_401_with_a_bearer_challenge(
    deployed: Deployed,
) -> None:
    status, headers, body = deployed.call(load_event("wallet_issuer/credential_without_token.json"))
    assert status == 401 and body["error"] == "invalid_token"
    assert headers["www-authenticate"] == 'Bearer realm="gyeonggi-wallet"'


def test_an_unknown_status_list_is_404_in_oauths_shape(deployed: Deployed) -> None:
    status, _, body = deployed.call(load_event("wallet_issuer/status_list_unknown.json"))
    assert status == 404 and body["error"] == "not_found"


def test_enrolment_answers_in_the_apis_shape_to_whom_it_refuses(deployed: Deployed) -> None:
    event = load_event("wallet_issuer/enrol.json")
    status, headers, body = deployed.call(event)  # the sample's token is a placeholder
    assert status == 401 and body[0]["code"] == 401
    assert headers["www-authenticate"] == 'Bearer realm="gyeonggi"'
    citizen = deployed.issuer.mint(["citizen"])
    event["headers"]["Authorization"] = f"Bearer {citizen}"
    status, _, body = deployed.call(event)
    assert status == 403 and "civil-servant" in body[0]["description"]


def test_the_whole_flow_through_the_handler_signs_with_the_kms_key(deployed: Deployed) -> None:
    official = deployed.issuer.mint(["civil-servant"], jurisdictions=["suwon.gg.kr"])
    event = load_event("wallet_issuer/enrol.json")
    event["headers"]["Authorization"] = f"Bearer {official}"
    event["multiValueHeaders"]["Authorization"] = [f"Bearer {official}"]
    event["body"] = json.dumps(person(birthdate="1950-01-01"))
    status, headers, made = deployed.call(event)
    assert status == 201 and headers["cache-control"] == "no-store"
    assert made["tx_code_delivery"] == "answer"

    grant = made["credential_offer"]["grants"][
        "urn:ietf:params:oauth:grant-type:pre-authorized_code"
    ]
    form = (
        "grant_type=urn%3Aietf%3Aparams%3Aoauth%3Agrant-type%3Apre-authorized_code"
        f"&pre-authorized_code={grant['pre-authorized_code']}&tx_code={made['tx_code']}"
    )
    status, headers, token = deployed.call(
        _post("/wallet/token", form, "application/x-www-form-urlencoded")
    )
    assert status == 200 and headers["cache-control"] == "no-store", token
    status, headers, nonce = deployed.call(_post("/wallet/nonce", "", "application/json"))
    assert status == 200 and headers["cache-control"] == "no-store"
    now = datetime.now(UTC)
    holder = LocalSigner.generate()
    request = {
        "credential_configuration_id": "gyeonggi_resident",
        "proofs": {"jwt": [proof(holder, nonce["c_nonce"], now=now)]},
    }
    status, _, answer = deployed.call(
        _post(
            "/wallet/credential",
            json.dumps(request),
            "application/json",
            token=token["access_token"],
        )
    )
    assert status == 200, answer
    _, _, metadata = deployed.call(load_event("wallet_issuer/jwt_vc_issuer_metadata.json"))
    keys = {k["kid"]: k for k in metadata["jwks"]["keys"]}

    def lookup(iss: str, kid: str) -> dict[str, str]:
        if iss != ISSUER or kid not in keys:
            raise VerificationFailed("issuer_key")
        return keys[kid]

    verified = verify_issued_credential(
        answer["credentials"][0]["credential"], issuer_jwks=lookup, now=now
    )
    assert verified.claims["age_equal_or_over"]["65"] is True

    status, _, changed = deployed.call(
        _post(f"/wallet/enrolments/{made['enrolment_id']}/revoke", "", "", token=official)
    )
    assert status == 200 and changed["status"] == "revoked"


def test_the_settings_refuse_a_missing_or_unsafe_identifier_and_sms_less_prod() -> None:
    for bad in (
        "",
        "http://wallet.gg.go.kr",
        "https://wallet.gg.go.kr/",
        "https://w?x=1",
        "ftp://x",
    ):
        with pytest.raises(ValueError):
            issuer_identifier(bad)
    assert issuer_identifier("http://127.0.0.1:8000") == "http://127.0.0.1:8000"
    assert issuer_identifier("https://wallet.gg.go.kr/tenant") == "https://wallet.gg.go.kr/tenant"
    assert IssuerEndpoints("https://wallet.gg.go.kr/tenant").well_known("jwt-vc-issuer") == (
        "https://wallet.gg.go.kr/.well-known/jwt-vc-issuer/tenant"
    )
    env = {
        "AUTH_ISSUER": "https://cognito",
        "AUTH_AUDIENCE": "client",
        "CREDENTIAL_ISSUER": ISSUER,
        "WALLET_ENROLMENTS_TABLE": "e",
        "WALLET_GRANTS_TABLE": "g",
        "WALLET_STATUS_LISTS_TABLE": "s",
        "WALLET_SIGNING_KEY_ID": "k",
        "WALLET_PREVIOUS_SIGNING_KEY_IDS": " old-1, ,old-2 ",
        "TX_CODE_DELIVERY": "answer",
        "STAGE": "dev",
    }
    settings = WalletIssuerSettings.from_env(env)
    assert settings.previous_key_ids == ("old-1", "old-2")
    with pytest.raises(ConfigurationError, match="TX_CODE_DELIVERY must be sms in prod"):
        WalletIssuerSettings.from_env({**env, "STAGE": "prod"})
    with pytest.raises(ConfigurationError, match="CREDENTIAL_ISSUER"):
        WalletIssuerSettings.from_env({**env, "CREDENTIAL_ISSUER": ""})
    # The API serves the well-known documents at its domain's root, not below a path.
    with pytest.raises(ConfigurationError, match="has a path"):
        WalletIssuerSettings.from_env({**env, "CREDENTIAL_ISSUER": ISSUER + "/dev"})
