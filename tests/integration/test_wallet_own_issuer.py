"""The province's own wallet in the local cloud: enrolment, OpenID4VCI and OpenID4VP against
the stack's own issuer and verifier functions, as an outside wallet would use ``local up``.

Without ``WalletTrustedIssuers`` the local cloud trusts its own issuer (the API server's URL).
The verifier fetches that issuer's keys and status list over the local API while it runs, so
the issuer's function runs at the same time as the verifier's: the runner lets two functions
run at once, as two Lambda containers would.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from gyeonggi_tools.wallet.holder import (
    HolderWallet,
    PresentationPlan,
    accept_offer,
    load_trust_anchors,
    present_request,
)
from localcloud.cloud import LocalCloud
from tests.integration.conftest import Http

pytestmark = pytest.mark.integration


def yes(plan: PresentationPlan) -> bool:
    return True


def test_the_local_cloud_trusts_its_own_issuer(cloud: LocalCloud) -> None:
    variables = (
        cloud.client("lambda")
        .get_function_configuration(FunctionName=cloud.physical_id("WalletVerifierFunction"))
        .get("Environment", {})
        .get("Variables", {})
    )
    assert variables["WALLET_TRUSTED_ISSUERS"] == cloud.api.url


def test_the_provinces_own_issuer_is_trusted_and_verified_end_to_end(
    cloud: LocalCloud, http: Http, tmp_path: Path
) -> None:
    # Given a person enrolled at the counter and a wallet holding their credential
    officer = cloud.mint_token("civil-servant", jurisdictions=["suwon.gg.kr"])
    enrolled = http.request(
        "POST",
        "/wallet/enrolments",
        json_body={
            "given_name": "영희",
            "family_name": "김",
            "birthdate": "1990-07-14",
            "jurisdiction": "suwon.gg.kr",
            "address": "경기도 수원시 팔달구 효원로 1",
            "resident_since": "2015-04-01",
        },
        token=officer,
    )
    assert enrolled.status == 201, enrolled
    wallet = HolderWallet.open(tmp_path / "wallet.json")
    accepted = accept_offer(
        enrolled.body["credential_offer_uri"], wallet, tx_code=enrolled.body["tx_code"]
    )
    assert len(accepted) == 1
    assert cloud.wallet_verifier is not None
    anchors = load_trust_anchors([cloud.wallet_verifier.ca_path])

    # When a service asks for "over 19" and the wallet answers
    query = {
        "credentials": [
            {
                "id": "resident",
                "format": "dc+sd-jwt",
                "meta": {"vct_values": [f"{cloud.api.url}/credentials/gyeonggi-resident"]},
                "claims": [{"path": ["age_equal_or_over", "19"]}],
            }
        ]
    }
    created = http.request(
        "POST", "/verifier/requests", json_body={"dcql_query": query}, token=officer
    )
    assert created.status == 201, created
    sent = present_request(created.body["request_uri"], wallet, anchors=anchors, consent=yes)
    assert sent.accepted, sent

    # Then the verifier trusted the province's issuer and saw only what it asked for
    result = http.request("GET", f"/verifier/requests/{created.body['request_id']}", token=officer)
    assert result.status == 200 and result.body["status"] == "verified", result.body
    (credential,) = result.body["credentials"]["resident"]
    assert credential["issuer"] == cloud.api.url
    assert credential["claims"] == {"age_equal_or_over": {"19": True}}
