"""A petition form completed through the local cloud's HTTP API (issue 11, section 3): the
template's routes, the forms function with its packaged models, the sessions table."""

from __future__ import annotations

import pytest

from localcloud.cloud import LocalCloud
from tests.integration.conftest import Http

pytestmark = pytest.mark.integration


def test_a_citizen_completes_a_seal_certificate_form_over_http(
    cloud: LocalCloud, http: Http
) -> None:
    token = cloud.mint_token("citizen", subject="citizen-forms-it")
    started = http.request(
        "POST",
        "/forms/sessions",
        token=token,
        json_body={"lang": "ko", "text": "인감증명서 떼러 왔어요"},
    )
    assert started.status == 201, started.body
    sid = started.body["session_id"]
    assert started.body["form_id"] == "seal-certificate"
    assert started.body["asking"]["field"] == "applicant_name"
    turns = [
        "김영호",
        "680412-1234561",
        "아파트 팔려고요, 부동산 매도용이요",
        "사는 사람은 이지은이에요",
        "920315-2345672",
        "서울 관악구 관악로 1",
    ]
    for text in turns:
        answer = http.request(
            "POST", f"/forms/sessions/{sid}/messages", token=token, json_body={"text": text}
        )
        assert answer.status == 200, answer.body
    assert answer.body["state"] == "confirming" and answer.body["missing"] == []
    assert answer.body["fields"]["applicant_rrn"] == "680412-1******"
    done = http.request(
        "POST", f"/forms/sessions/{sid}/messages", token=token, json_body={"text": "네"}
    )
    assert done.status == 200 and done.body["state"] == "confirmed"
    # Final: no more messages; readable by its owner only.
    again = http.request(
        "POST", f"/forms/sessions/{sid}/messages", token=token, json_body={"text": "김영호"}
    )
    assert again.status == 409
    read = http.request("GET", f"/forms/sessions/{sid}", token=token)
    assert read.status == 200 and read.body["fields"]["buyer_name"] == "이지은"
    other = cloud.mint_token("citizen", subject="someone-else")
    assert http.request("GET", f"/forms/sessions/{sid}", token=other).status == 404
    # Stored with the owner as a digest and the state as the function wrote it.
    table = cloud.physical_id("FormSessionsTable")
    item = cloud.client("dynamodb").get_item(TableName=table, Key={"session_id": {"S": sid}})[
        "Item"
    ]
    assert item["status"]["S"] == "confirmed" and "expires_at" in item
    assert "citizen-forms-it" not in str(item)


def test_a_kiosk_session_over_http_needs_its_key(cloud: LocalCloud, http: Http) -> None:
    token = cloud.mint_token("kiosk", subject="kiosk-suwon-01")
    started = http.request("POST", "/forms/sessions", token=token, json_body={"easy": True})
    assert started.status == 201 and started.body["session_key"]
    sid = started.body["session_id"]
    assert http.request("GET", f"/forms/sessions/{sid}", token=token).status == 404
    key = {"X-Session-Key": started.body["session_key"]}
    answer = http.request(
        "POST",
        f"/forms/sessions/{sid}/messages",
        token=token,
        headers=key,
        json_body={"text": "등본 떼러 왔어요"},
    )
    assert answer.status == 200 and answer.body["form_id"] == "resident-registration-copy"
    assert answer.body["easy"] and "session_key" not in answer.body
    assert http.request("POST", "/forms/sessions", json_body={}).status == 401
