"""The triage chain end to end: ComplaintReceived -> SQS -> starter -> triage state machine ->
classification, cases, complaint record, ComplaintRouted and safety alerts."""

from __future__ import annotations

import json
import secrets
from datetime import datetime
from typing import Any

import pytest

from gyeonggi.complaints.counts import korean_day
from localcloud.cloud import LocalCloud
from tests.conftest import load_event
from tests.integration.conftest import Http, TopicTap, messages_on

pytestmark = pytest.mark.integration

INTAKE = "ComplaintIntakeStateMachine"
TRIAGE = "ComplaintTriageStateMachine"


def _file(http: Http, api_key: str, **fields: str) -> str:
    form = {"jurisdiction_id": "suwon.gg.kr", "lat": "37.2636", "long": "127.0286", **fields}
    answer = http.request("POST", "/open311/v2/requests.json", form={**form, "api_key": api_key})
    assert answer.status == 201, answer.body
    return str(answer.body[0]["service_request_id"])


def _triaged(cloud: LocalCloud, request_id: str) -> dict[str, Any]:
    assert cloud.wait_for_execution(INTAKE, request_id)["status"] == "SUCCEEDED"
    execution = cloud.wait_for_execution(TRIAGE, request_id, timeout=20)
    assert execution["status"] == "SUCCEEDED", execution.get("cause")
    item = cloud.client("dynamodb").get_item(
        TableName=cloud.physical_id("ComplaintsTable"),
        Key={"service_request_id": {"S": request_id}},
    )["Item"]
    return dict(item)


def test_complaint_is_classified_recorded_and_routed(
    cloud: LocalCloud, http: Http, api_key: str, routed_tap: TopicTap
) -> None:
    # Given a complaint about a dark street, filed as a streetlight problem
    request_id = _file(
        http,
        api_key,
        service_code="streetlight",
        description="우리 골목 가로등이 일주일째 꺼져 있어요 밤에 넘 어두워요 pls fix",
    )
    # Then triage records department, urgency and case on the complaint
    item = _triaged(cloud, request_id)
    assert item["department"]["S"] == "road-management"
    assert item["urgency"]["S"] in ("normal", "high")
    assert item["case_id"]["S"].startswith("CASE-")
    classification = item["classification"]["M"]
    assert classification["service_code"]["S"] == "streetlight"
    assert classification["flagged"]["BOOL"] is False
    # and publishes ComplaintRouted with the attributes departments filter on
    (event,) = routed_tap.events_for(request_id)
    assert event.attributes["event_type"] == "ComplaintRouted"
    assert event.attributes["department"] == "road-management"
    assert event.attributes["urgency"] == item["urgency"]["S"]


def test_disagreeing_text_is_kept_but_flagged(cloud: LocalCloud, http: Http, api_key: str) -> None:
    request_id = _file(
        http,
        api_key,
        jurisdiction_id="gimpo.gg.kr",
        service_code="tax",
        description="Huge pothole on the main road, a scooter rider fell over. please fix it",
    )
    item = _triaged(cloud, request_id)
    assert item["service_code"]["S"] == "tax"  # the citizen's choice is kept
    assert item["department"]["S"] == "tax-administration"
    classification = item["classification"]["M"]
    assert classification["flagged"]["BOOL"] is True
    assert classification["service_code"]["S"] == "road-damage"


def test_emergency_reaches_the_safety_topic(cloud: LocalCloud, http: Http, api_key: str) -> None:
    alerts = TopicTap(cloud, "SafetyAlertsTopic")
    request_id = _file(
        http,
        api_key,
        jurisdiction_id="ansan.gg.kr",
        service_code="safety-hazard",
        lat="37.3219",
        long="126.8309",
        description="상가 지하에서 가스 냄새가 심하게 나요!! 가스가 새는 것 같아요",
        **{"attribute[immediate_danger]": "yes"},
    )
    item = _triaged(cloud, request_id)
    assert item["urgency"]["S"] == "emergency"
    (alert,) = alerts.events_for(request_id)
    assert alert.body["department"] == "disaster-safety"
    assert alert.attributes["event_type"] == "ComplaintEmergency"


def test_near_duplicates_become_one_case_with_a_count(
    cloud: LocalCloud, http: Http, api_key: str
) -> None:
    # Two residents, 40 m apart, report the same fallen bench within minutes
    where = {"jurisdiction_id": "yeoju.gg.kr", "service_code": "parks-trees"}
    first = _file(
        http, api_key, **where, lat="37.29810", long="127.63720",
        description="근린공원 벤치가 부서졌어요 아이들 다칠까 봐 걱정돼요",
    )  # fmt: skip
    first_item = _triaged(cloud, first)
    second = _file(
        http, api_key, **where, lat="37.29840", long="127.63740",
        description="근린공원 벤치 부서짐 ㅠㅠ 아이들이 다칠까봐요",
    )  # fmt: skip
    second_item = _triaged(cloud, second)

    case_id = first_item["case_id"]["S"]
    assert second_item["case_id"]["S"] == case_id
    case = cloud.client("dynamodb").get_item(
        TableName=cloud.physical_id("CasesTable"), Key={"case_id": {"S": case_id}}
    )["Item"]
    assert case["count"]["N"] == "2"
    assert [r["S"] for r in case["request_ids"]["L"]] == [first, second]


def test_triage_failure_lands_on_the_failure_queue(cloud: LocalCloud) -> None:
    bad = load_event("complaint_triage/complaint_missing_fields.json")
    name = f"broken-{secrets.token_hex(4)}"
    cloud.client("stepfunctions").start_execution(
        stateMachineArn=cloud.physical_id(TRIAGE), name=name, input=json.dumps(bad)
    )
    execution = cloud.wait_for_execution(TRIAGE, name)
    assert execution["status"] == "FAILED"
    assert execution["error"] == "ComplaintTriageFailed"
    (record,) = cloud.wait_for(
        lambda: messages_on(cloud, "TriageFailureQueue", bad["service_request_id"]),
        what="the triage failure record",
    )
    body = json.loads(record["Body"])
    assert body["error"]["Error"] == "InvalidInput"


def test_triage_function_sample_events(cloud: LocalCloud) -> None:
    answer, errored = cloud.invoke(
        "TriageFunction", load_event("complaint_triage/complaint_received.json")
    )
    assert not errored, answer
    assert answer["department"] == "road-management"
    assert answer["event"]["suggested_service_code"] == "road-damage"
    answer, errored = cloud.invoke(
        "TriageFunction", load_event("complaint_triage/complaint_received_emergency.json")
    )
    assert not errored and answer["urgency"] == "emergency"


def test_triage_starter_reports_only_the_malformed_record(cloud: LocalCloud) -> None:
    event = load_event("complaint_triage_starter/sqs_batch_with_malformed.json")
    answer, errored = cloud.invoke("TriageStarterFunction", event)
    assert not errored, answer
    assert answer["batchItemFailures"] == [{"itemIdentifier": event["Records"][1]["messageId"]}]


def test_each_triaged_complaint_is_counted_once_for_the_forecasts(
    cloud: LocalCloud, http: Http, api_key: str
) -> None:
    # Given a complaint in a county where no other test files one
    request_id = _file(
        http,
        api_key,
        jurisdiction_id="gapyeong.gg.kr",
        service_code="parks-trees",
        description="A fallen tree blocks the walking path by the river",
    )
    item = _triaged(cloud, request_id)
    day = korean_day(datetime.fromisoformat(item["requested_datetime"]["S"])).isoformat()
    key = {"series": {"S": "gapyeong.gg.kr#parks-trees"}, "day": {"S": day}}

    def count() -> int:
        got = cloud.client("dynamodb").get_item(
            TableName=cloud.physical_id("ComplaintCountsTable"), Key=key
        )
        return int(got.get("Item", {}).get("count", {}).get("N", 0))

    assert count() == 1
    # When the triage task runs again for the same complaint (a retry), the count stays
    complaint = {k: v.get("S") for k, v in item.items() if "S" in v}
    complaint["lat"], complaint["long"] = 37.2636, 127.0286
    _, errored = cloud.invoke("TriageFunction", complaint)
    assert not errored and count() == 1
