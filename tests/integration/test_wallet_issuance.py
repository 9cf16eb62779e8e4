"""The wallet issuer through the local cloud's HTTP API, as a wallet and an official use it.

``gyeonggi wallet enrol --local`` (the command outside wallets are tested with) enrols a
person; a wallet follows the offer: metadata, token with the tx_code, nonce, key proof,
credential; the credential verifies against the served ``/.well-known/jwt-vc-issuer`` keys
(signed by the stack's KMS key in moto); ``gyeonggi wallet revoke`` and the served status list
then say 1.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlencode, urlsplit

import pytest

from gyeonggi.wallet.credential import verify_issued_credential
from gyeonggi.wallet.errors import VerificationFailed
from gyeonggi.wallet.jose import LocalSigner
from gyeonggi.wallet.status_list import read_status_list_token
from localcloud.cloud import LocalCloud
from tests.conftest import load_event
from tests.integration.conftest import Http, gyeonggi_command
from tests.unit.wallet_issuer_support import proof

pytestmark = pytest.mark.integration

PRE_AUTHORIZED = "urn:ietf:params:oauth:grant-type:pre-authorized_code"


@pytest.fixture(scope="module")
def state_dir(cloud: LocalCloud) -> Path:
    """The cloud's state as ``local up`` leaves it for commands run beside it."""
    running = {
        "endpoint_url": None,
        "api_url": cloud.api.url,
        "region": cloud.stack.region,
        "resources": {},
    }
    (cloud.state_dir / "running.json").write_text(json.dumps(running))
    return cloud.state_dir


def _gyeonggi(state_dir: Path, *args: str) -> dict[str, Any]:
    status, out, _ = gyeonggi_command(state_dir, *args)
    assert status == 0
    lines = out.splitlines()
    assert len(lines) == 1, lines  # one JSON object, nothing else
    answer: dict[str, Any] = json.loads(lines[0])
    return answer


def _path(url: str, cloud: LocalCloud) -> str:
    assert url.startswith(cloud.api.url + "/"), url
    return url.removeprefix(cloud.api.url)


def _form(http: Http, path: str, form: dict[str, str]) -> Any:
    return http.request(
        "POST",
        path,
        raw=urlencode(form).encode(),
        content_type="application/x-www-form-urlencoded",
    )


def test_enrol_offer_token_nonce_proof_credential_then_revoked(
    cloud: LocalCloud, http: Http, state_dir: Path
) -> None:
    # Given a person enrolled by an official with the command line
    made = _gyeonggi(
        state_dir,
        *("wallet", "enrol", "--local", "--given-name", "길동", "--family-name", "홍"),
        *("--birth-date", "1950-03-01", "--jurisdiction", "suwon.gg.kr"),
        *("--address", "경기도 수원시 팔달구 효원로 1", "--resident-since", "2010-03-02"),
    )
    assert set(made) >= {"credential_offer", "credential_offer_uri", "tx_code"}
    uri = urlsplit(made["credential_offer_uri"])
    assert uri.scheme == "openid-credential-offer"
    offer = json.loads(parse_qs(uri.query)["credential_offer"][0])
    assert offer == made["credential_offer"]
    issuer = offer["credential_issuer"]
    assert issuer == cloud.api.url  # the configured identifier: the API server's URL here

    # When a wallet follows it
    by_reference = parse_qs(urlsplit(made["credential_offer_by_reference"]).query)
    fetched = http.request("GET", _path(by_reference["credential_offer_uri"][0], cloud))
    assert fetched.status == 200 and fetched.body == offer
    metadata = http.request("GET", "/.well-known/openid-credential-issuer").body
    assert metadata["credential_issuer"] == issuer
    server = http.request("GET", "/.well-known/oauth-authorization-server").body
    assert server["issuer"] == issuer and PRE_AUTHORIZED in server["grant_types_supported"]

    code = offer["grants"][PRE_AUTHORIZED]["pre-authorized_code"]
    token_path = _path(server["token_endpoint"], cloud)
    form = {"grant_type": PRE_AUTHORIZED, "pre-authorized_code": code}
    missing = _form(http, token_path, form)
    assert (missing.status, missing.body["error"]) == (400, "invalid_request")
    wrong = _form(http, token_path, {**form, "tx_code": "x" + made["tx_code"][1:]})
    assert (wrong.status, wrong.body["error"]) == (400, "invalid_grant")
    assert wrong.headers["Cache-Control"] == "no-store"
    token = _form(http, token_path, {**form, "tx_code": made["tx_code"]})
    assert token.status == 200 and token.headers["Cache-Control"] == "no-store"
    again = _form(http, token_path, {**form, "tx_code": made["tx_code"]})
    assert (again.status, again.body["error"]) == (400, "invalid_grant")

    nonce = http.request("POST", _path(metadata["nonce_endpoint"], cloud))
    assert nonce.status == 200 and nonce.headers["Cache-Control"] == "no-store"
    holder = LocalSigner.generate()
    now = datetime.now(UTC)
    request = {
        "credential_configuration_id": offer["credential_configuration_ids"][0],
        "proofs": {"jwt": [proof(holder, nonce.body["c_nonce"], aud=issuer, now=now)]},
    }
    credential_path = _path(metadata["credential_endpoint"], cloud)
    issued = http.request(
        "POST", credential_path, json_body=request, token=token.body["access_token"]
    )
    assert issued.status == 200, issued.body
    replayed = http.request(
        "POST", credential_path, json_body=request, token=token.body["access_token"]
    )
    assert (replayed.status, replayed.body["error"]) == (400, "invalid_nonce")

    # Then the credential verifies with the keys the issuer publishes
    published = http.request("GET", "/.well-known/jwt-vc-issuer").body
    assert published["issuer"] == issuer
    keys = {k["kid"]: k for k in published["jwks"]["keys"]}

    def lookup(iss: str, kid: str) -> dict[str, str]:
        if iss != issuer or kid not in keys:
            raise VerificationFailed("issuer_key")
        return keys[kid]

    credential = issued.body["credentials"][0]["credential"]
    verified = verify_issued_credential(credential, issuer_jwks=lookup, now=now)
    assert verified.claims["family_name"] == "홍"
    assert verified.claims["age_equal_or_over"] == {"14": True, "19": True, "65": True}
    entry = verified.status["status_list"] if verified.status else {}

    def status_now() -> int:
        served = http.request("GET", _path(entry["uri"], cloud))
        assert served.headers["Content-Type"] == "application/statuslist+jwt"
        token_text = served.body if isinstance(served.body, str) else json.dumps(served.body)
        read = read_status_list_token(
            token_text,
            uri=entry["uri"],
            issuer_jwks=lookup,
            now=datetime.now(UTC),
        )
        return read.status_list.get(entry["idx"])

    assert status_now() == 0

    # And once an official revokes the enrolment, the list says 1
    revoked = _gyeonggi(state_dir, "wallet", "revoke", made["enrolment_id"], "--local")
    assert revoked == {"enrolment_id": made["enrolment_id"], "status": "revoked", "credentials": 1}
    assert status_now() == 1


def test_the_sample_enrolment_event_through_the_lambda_api(cloud: LocalCloud) -> None:
    """events/wallet_issuer/enrol.json as `sam local invoke -e` takes it, its placeholder token
    replaced with a province-wide civil servant's of this run."""
    text = json.dumps(load_event("wallet_issuer/enrol.json"), ensure_ascii=False)
    token = cloud.mint_token("civil-servant", province=True)
    event = json.loads(text.replace("REPLACE_WITH_A_CIVIL_SERVANT_TOKEN", token))
    response, errored = cloud.invoke("WalletIssuerFunction", event)
    assert not errored and response["statusCode"] == 201
    made = json.loads(response["body"])
    assert made["credential_offer"]["credential_issuer"] == cloud.api.url
    assert made["tx_code_delivery"] == "answer" and len(made["tx_code"]) == 6
