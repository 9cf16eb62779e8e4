"""The complaint intake chain end to end: HTTP, SQS, Lambda, Step Functions, DynamoDB, SNS."""

from __future__ import annotations

import json
import secrets
from typing import Any

import pytest

from localcloud.cloud import LocalCloud
from tests.integration.conftest import Http, TopicTap, messages_on

pytestmark = pytest.mark.integration

SM = "ComplaintIntakeStateMachine"

FORM = {
    "jurisdiction_id": "suwon.gg.kr",
    "service_code": "road-damage",
    "lat": "37.2636",
    "long": "127.0286",
    "description": "팔달문 앞 포트홀 / pothole by Paldalmun",
    "email": "citizen@example.kr",
    "first_name": "Minji",
    "last_name": "Kim",
    "phone": "010-1234-5678",
    "attribute[pothole_size]": "large",
}


def _item(cloud: LocalCloud, table: str, request_id: str) -> dict[str, Any] | None:
    item = (
        cloud.client("dynamodb")
        .get_item(TableName=cloud.physical_id(table), Key={"service_request_id": {"S": request_id}})
        .get("Item")
    )
    return dict(item) if item else None


def _intake_message(request_id: str | None = None) -> dict[str, Any]:
    return {
        "type": "ComplaintSubmitted",
        "version": 1,
        "service_request_id": request_id or f"GG-20261124-{secrets.token_hex(4).upper()}",
        "submitted_at": "2026-11-24T09:00:00Z",
        "channel": "open311",
        "submission": {
            "jurisdiction_id": "paju.gg.kr",
            "service_code": "streetlight",
            "lat": 37.76,
            "long": 126.78,
            "description": "Streetlight out at the bus stop",
        },
    }


# ------------------------------------------------------------------ the happy path


def test_open311_post_is_stored_without_personal_data_and_published(
    cloud: LocalCloud, http: Http, api_key: str, events_tap: TopicTap
) -> None:
    # Given a client app with an API key
    # When a citizen files a complaint through Open311
    answer = http.request("POST", "/open311/v2/requests.json", form={**FORM, "api_key": api_key})

    # Then the id comes back at once
    assert answer.status == 201, answer.body
    request_id = answer.body[0]["service_request_id"]
    assert answer.headers["Location"] == f"/open311/v2/requests/{request_id}.json"

    # and the intake workflow stores and publishes it
    execution = cloud.wait_for_execution(SM, request_id)
    assert execution["status"] == "SUCCEEDED", execution.get("cause")
    stored = _item(cloud, "ComplaintsTable", request_id)
    assert stored is not None
    text = json.dumps(stored, ensure_ascii=False)
    for personal in ("citizen@example.kr", "010-1234-5678", "Minji", "Kim"):
        assert personal not in text
    assert stored["citizen"]["M"]["pseudonym"]["S"].startswith("p_")
    assert stored["attributes"]["M"] == {"pothole_size": {"S": "large"}}

    contact = _item(cloud, "ContactsTable", request_id)
    assert contact is not None and contact["email"]["S"] == "citizen@example.kr"

    (event,) = events_tap.events_for(request_id)
    assert event.attributes["event_type"] == "ComplaintReceived"
    assert event.attributes["jurisdiction_id"] == "suwon.gg.kr"
    assert "email" not in event.body

    # and anyone can follow it through Open311, without personal data
    got = http.request("GET", f"/open311/v2/requests/{request_id}.json")
    assert got.status == 200
    (request,) = got.body
    assert request["status"] == "open"
    assert request["agency_responsible"] == "road-management"
    assert request["requested_datetime"].endswith("+00:00")
    assert "citizen@example.kr" not in json.dumps(got.body)


def test_open311_post_accepts_json_too(cloud: LocalCloud, http: Http, api_key: str) -> None:
    # In JSON, numbers are JSON numbers (a form carries them as text).
    fields = {k: v for k, v in FORM.items() if not k.startswith("attribute")}
    body = {**fields, "lat": 37.2636, "long": 127.0286}
    answer = http.request(
        "POST", "/open311/v2/requests.json", json_body={**body, "api_key": api_key}
    )
    assert answer.status == 201, answer.body
    execution = cloud.wait_for_execution(SM, answer.body[0]["service_request_id"])
    assert execution["status"] == "SUCCEEDED"


def test_citizen_files_natively_and_civil_servant_reads_contact(
    cloud: LocalCloud, http: Http
) -> None:
    citizen = cloud.mint_token("citizen", subject="citizen-4711")
    answer = http.request(
        "POST",
        "/complaints",
        token=citizen,
        json_body={
            "jurisdiction_id": "yeoncheon.gg.kr",
            "service_code": "welfare",
            "address_string": "연천군 전곡읍",
            "description": "난방비 지원을 받고 싶습니다",
            "account_id": "somebody-else",  # ignored: the token says who files
            "citizen": {"birth_year": 1950, "gender": "male", "consent_analytics": True},
        },
    )
    assert answer.status == 201, answer.body
    request_id = answer.body["service_request_id"]
    assert cloud.wait_for_execution(SM, request_id)["status"] == "SUCCEEDED"

    officer = cloud.mint_token(
        "civil-servant", subject="officer-1", jurisdictions=["yeoncheon.gg.kr"]
    )
    got = http.request("GET", f"/complaints/{request_id}", token=officer)
    assert got.status == 200, got.body
    assert got.body["contact"]["account_id"] == "citizen-4711"
    assert got.body["complaint"]["citizen"] == {
        "pseudonym": got.body["complaint"]["citizen"]["pseudonym"],
        "age_band": "70+",
        "gender": "male",
        "consent_analytics": True,
    }


def test_same_citizen_gets_the_same_pseudonym(cloud: LocalCloud, http: Http) -> None:
    token = cloud.mint_token("citizen", subject="citizen-pseudonym-check")
    body = {
        "jurisdiction_id": "hanam.gg.kr",
        "service_code": "waste",
        "address_string": "하남시 미사강변대로",
        "description": "Illegal dumping again",
    }
    ids = [
        http.request("POST", "/complaints", token=token, json_body=body).body["service_request_id"]
        for _ in range(2)
    ]
    pseudonyms = set()
    for request_id in ids:
        assert cloud.wait_for_execution(SM, request_id)["status"] == "SUCCEEDED"
        stored = _item(cloud, "ComplaintsTable", request_id)
        assert stored is not None
        pseudonyms.add(stored["citizen"]["M"]["pseudonym"]["S"])
    assert len(pseudonyms) == 1


# ------------------------------------------------------------------ bad input: 4xx, never 500


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"service_code": None}, "service_code"),
        ({"service_code": "ufo-sighting"}, "service_code"),
        ({"jurisdiction_id": "seoul go"}, "jurisdiction_id"),  # unknown ones: 404 (test_open311)
        ({"lat": "91"}, "lat"),
        ({"long": None}, "long"),
        ({"lat": None, "long": None}, "address_string"),
        ({"description": "x" * 4001}, "description"),
        ({"description": None}, "description"),
        ({"email": "not-an-address"}, "email"),
        ({"media_url": "javascript:alert(1)"}, "media_url"),
        ({"favourite_colour": "blue"}, "favourite_colour"),
    ],
)
def test_open311_bad_field_is_400_naming_it(
    http: Http, api_key: str, change: dict[str, str | None], field: str
) -> None:
    form = {**FORM, "api_key": api_key, **change}
    form = {k: v for k, v in form.items() if v is not None}
    answer = http.request("POST", "/open311/v2/requests.json", form=form)  # type: ignore[arg-type]
    assert answer.status == 400, answer.body
    (error,) = answer.body
    assert error["code"] == 400
    assert field in error["description"]


@pytest.mark.parametrize(
    ("raw", "expected"),
    [(b"{not json", "is not JSON"), (b"[1, 2]", "JSON object"), (b"", "is not JSON")],
)
def test_native_bad_body_is_400(cloud: LocalCloud, http: Http, raw: bytes, expected: str) -> None:
    token = cloud.mint_token("citizen")
    answer = http.request(
        "POST", "/complaints", raw=raw, content_type="application/json", token=token
    )
    assert answer.status == 400
    assert expected in answer.body[0]["description"]


def test_wrong_content_type_is_415_in_open311_shape(
    cloud: LocalCloud, http: Http, api_key: str
) -> None:
    token = cloud.mint_token("citizen")
    answer = http.request(
        "POST", "/complaints", raw=b"<complaint/>", content_type="text/xml", token=token
    )
    assert answer.status == 415
    assert answer.body == [
        {"code": 415, "description": "Content-Type text/xml: send application/json"}
    ]
    answer = http.request(
        "POST", "/open311/v2/requests.json", raw=b"api_key=x", content_type="text/plain"
    )
    assert answer.status == 415 and answer.body[0]["code"] == 415


def test_api_key_for_other_cities_is_403(cloud: LocalCloud, http: Http) -> None:
    suwon_only = cloud.issue_api_key("Suwon app", jurisdiction_ids=["suwon.gg.kr"])
    form = {**FORM, "api_key": suwon_only}
    assert http.request("POST", "/open311/v2/requests.json", form=form).status == 201
    answer = http.request(
        "POST", "/open311/v2/requests.json", form={**form, "jurisdiction_id": "goyang.gg.kr"}
    )
    assert answer.status == 403
    assert answer.body[0]["description"] == "api_key is not valid for this jurisdiction_id"


@pytest.mark.parametrize(
    ("key", "reason"), [(None, "api_key is missing"), ("gg_forged", "api_key is not valid")]
)
def test_open311_post_without_a_valid_api_key_is_403(
    http: Http, key: str | None, reason: str
) -> None:
    form = dict(FORM)
    if key:
        form["api_key"] = key
    answer = http.request("POST", "/open311/v2/requests.json", form=form)
    # GeoReport v2: 403 for a missing or invalid api_key; it is not a bearer token (no 401).
    assert answer.status == 403 and answer.body == [{"code": 403, "description": reason}]
    assert "WWW-Authenticate" not in answer.headers
    as_json = http.request("POST", "/open311/v2/requests.xml", json_body=form)
    assert as_json.status == 403 and f"<code>403</code><description>{reason}" in as_json.body


def test_token_routes_refuse_missing_bad_and_wrong_role(cloud: LocalCloud, http: Http) -> None:
    assert http.request("GET", "/ops/status").status == 401
    bad = http.request("GET", "/ops/status", token="not.a.jwt")
    assert bad.status == 401 and "Bearer" in bad.headers.get("WWW-Authenticate", "")
    citizen = cloud.mint_token("citizen")
    assert http.request("GET", "/ops/status", token=citizen).status == 403
    # A citizen reads only their own complaints: another's, or none, is not found.
    assert http.request("GET", "/complaints/GG-20261124-00000000", token=citizen).status == 404
    operator = cloud.mint_token("operator")
    assert http.request("GET", "/complaints/GG-20261124-00000000", token=operator).status == 403


def test_unknown_request_is_404_in_open311_shape(http: Http) -> None:
    answer = http.request("GET", "/open311/v2/requests/GG-20990101-DEADBEEF.json")
    assert answer.status == 404
    assert answer.body == [
        {"code": 404, "description": "service request GG-20990101-DEADBEEF not found"}
    ]
    assert http.request("GET", "/open311/v2/requests/GG-20990101-DEADBEEF.csv").status == 404


def test_unknown_route_is_404_in_open311_shape(http: Http) -> None:
    # API Gateway's own answer, customised in template.yaml (tests/integration/test_open311.py).
    answer = http.request("GET", "/no/such/route")
    assert answer.status == 404 and answer.body[0]["code"] == 404


# ------------------------------------------------------------------ delivery guarantees


def _sqs_event(*bodies: dict[str, Any]) -> dict[str, Any]:
    """An SQS batch as the event source mapping delivers it, one record per body."""
    return {
        "Records": [
            {
                "messageId": f"redelivery-{i}-{secrets.token_hex(4)}",
                "receiptHandle": "test",
                "body": json.dumps(body, ensure_ascii=False),
                "attributes": {"ApproximateReceiveCount": "1"},
                "messageAttributes": {},
                "eventSource": "aws:sqs",
                "eventSourceARN": "arn:aws:sqs:ap-northeast-2:123456789012:gyeonggi-IntakeQueue",
                "awsRegion": "ap-northeast-2",
            }
            for i, body in enumerate(bodies)
        ]
    }


def test_message_delivered_twice_creates_one_complaint(cloud: LocalCloud) -> None:
    # The intake function keeps no record of what it has seen: the execution's name is the
    # request id, and Step Functions starts a name once.
    message = _intake_message()
    request_id = message["service_request_id"]
    sqs = cloud.client("sqs")
    for _ in range(2):
        sqs.send_message(QueueUrl=cloud.physical_id("IntakeQueue"), MessageBody=json.dumps(message))
    assert cloud.wait_for_execution(SM, request_id)["status"] == "SUCCEEDED"
    cloud.wait_for(lambda: cloud.queue_depth("IntakeQueue") == 0, what="the intake queue to drain")
    runs = [e for e in cloud.executions(SM) if e["name"] == request_id]
    assert len(runs) == 1
    assert _item(cloud, "ComplaintsTable", request_id) is not None
    assert not messages_on(cloud, "IntakeDeadLetterQueue", request_id)


def test_the_same_message_twice_in_one_batch_starts_one_execution(cloud: LocalCloud) -> None:
    # The second start finds the first execution running: same name and input, same execution.
    message = _intake_message()
    request_id = message["service_request_id"]
    response, errored = cloud.invoke("IntakeFunction", _sqs_event(message, message))
    assert not errored
    assert response == {"batchItemFailures": []}
    assert cloud.wait_for_execution(SM, request_id)["status"] == "SUCCEEDED"
    assert len([e for e in cloud.executions(SM) if e["name"] == request_id]) == 1


def test_a_redelivery_after_the_execution_finished_is_a_no_op(cloud: LocalCloud) -> None:
    # Given a complaint whose intake execution has finished
    message = _intake_message()
    request_id = message["service_request_id"]
    cloud.invoke("IntakeFunction", _sqs_event(message))
    assert cloud.wait_for_execution(SM, request_id)["status"] == "SUCCEEDED"

    # and whose triage, which runs after intake and adds the routing, has written it too
    def triaged() -> dict[str, Any] | None:
        item = _item(cloud, "ComplaintsTable", request_id)
        return item if item and "case_id" in item else None

    stored = cloud.wait_for(triaged, timeout=30, what="the triaged complaint")

    # When the message comes again (Step Functions answers ExecutionAlreadyExists)
    response, errored = cloud.invoke("IntakeFunction", _sqs_event(message))
    sqs = cloud.client("sqs")
    sqs.send_message(QueueUrl=cloud.physical_id("IntakeQueue"), MessageBody=json.dumps(message))
    cloud.wait_for(lambda: cloud.queue_depth("IntakeQueue") == 0, what="the intake queue to drain")

    # Then it succeeds, so the queue deletes it instead of retrying it into the DLQ
    assert not errored
    assert response == {"batchItemFailures": []}
    assert not messages_on(cloud, "IntakeDeadLetterQueue", request_id)
    assert len([e for e in cloud.executions(SM) if e["name"] == request_id]) == 1
    assert _item(cloud, "ComplaintsTable", request_id) == stored


def test_malformed_message_reaches_the_dead_letter_queue(cloud: LocalCloud) -> None:
    marker = secrets.token_hex(6)
    body = json.dumps({"service_request_id": marker, "submission": "garbage"})
    cloud.client("sqs").send_message(QueueUrl=cloud.physical_id("IntakeQueue"), MessageBody=body)

    (dead,) = cloud.wait_for(
        lambda: messages_on(cloud, "IntakeDeadLetterQueue", marker),
        timeout=30,
        what="the malformed message in the DLQ",
    )
    assert dead["Body"] == body  # nothing lost, nothing changed
    assert int(dead["Attributes"]["ApproximateReceiveCount"]) >= 3


def test_failed_execution_keeps_input_and_error_on_the_failure_queue(cloud: LocalCloud) -> None:
    # Given an execution whose input the privacy task refuses
    name = f"broken-{secrets.token_hex(4)}"
    bad_input = {"service_request_id": name, "channel": "carrier-pigeon"}
    cloud.client("stepfunctions").start_execution(
        stateMachineArn=cloud.physical_id(SM), name=name, input=json.dumps(bad_input)
    )
    # Then it fails visibly, and the failure queue holds what is needed to redrive it
    execution = cloud.wait_for_execution(SM, name)
    assert execution["status"] == "FAILED"
    assert execution["error"] == "ComplaintIntakeFailed"

    (record,) = cloud.wait_for(
        lambda: messages_on(cloud, "IntakeFailureQueue", name), what="the failure record"
    )
    body = json.loads(record["Body"])
    assert body["channel"] == "carrier-pigeon"
    assert body["error"]["Error"] == "InvalidInput"
    assert "service_request_id" in body["error"]["Cause"]


def test_ops_status_shows_queue_depths(cloud: LocalCloud, http: Http) -> None:
    operator = cloud.mint_token("operator")
    answer = http.request("GET", "/ops/status", token=operator)
    assert answer.status == 200, answer.body
    assert set(answer.body["queues"]) == {"intake", "dead_letter", "workflow_failures"}
    assert isinstance(answer.body["needs_attention"], bool)
