"""Every function invoked with its sample events from ``events/``, through the Lambda API.

These are the same files ``sam local invoke -e`` takes; placeholders for credentials
(``REPLACE_WITH_...``) are filled with keys and tokens of this run.
"""

from __future__ import annotations

import json
import secrets
from typing import Any

import pytest

from localcloud.cloud import LocalCloud
from tests.conftest import load_event
from tests.integration.conftest import messages_on

pytestmark = pytest.mark.integration


def _with_credentials(event: dict[str, Any], cloud: LocalCloud, api_key: str) -> dict[str, Any]:
    text = json.dumps(event, ensure_ascii=False)
    text = text.replace("gg_REPLACE_WITH_AN_ISSUED_KEY", api_key)
    for placeholder, role in (
        ("REPLACE_WITH_A_CITIZEN_TOKEN", "citizen"),
        ("REPLACE_WITH_A_CIVIL_SERVANT_TOKEN", "civil-servant"),
        ("REPLACE_WITH_AN_OPERATOR_TOKEN", "operator"),
    ):
        # The sample events name no jurisdiction: the tokens are the province's.
        text = text.replace(placeholder, cloud.mint_token(role, province=role != "citizen"))
    result: dict[str, Any] = json.loads(text)
    return result


# ------------------------------------------------------------------ events/api


def test_api_open311_post_request_event(cloud: LocalCloud, api_key: str) -> None:
    event = _with_credentials(load_event("api/open311_post_request.json"), cloud, api_key)
    response, errored = cloud.invoke("ApiFunction", event)
    assert not errored
    assert response["statusCode"] == 201
    assert json.loads(response["body"])[0]["service_request_id"].startswith("GG-")


def test_api_open311_post_request_invalid_event(cloud: LocalCloud, api_key: str) -> None:
    event = _with_credentials(load_event("api/open311_post_request_invalid.json"), cloud, api_key)
    response, errored = cloud.invoke("ApiFunction", event)
    assert not errored
    assert response["statusCode"] == 400
    assert json.loads(response["body"])[0]["description"].startswith("lat:")


def test_api_get_request_event_unknown_id(cloud: LocalCloud, api_key: str) -> None:
    event = load_event("api/open311_get_request.json")
    response, _ = cloud.invoke("ApiFunction", event)
    assert response["statusCode"] == 404


def test_api_create_then_get_complaint_events(cloud: LocalCloud, api_key: str) -> None:
    create = _with_credentials(load_event("api/create_complaint.json"), cloud, api_key)
    response, _ = cloud.invoke("ApiFunction", create)
    assert response["statusCode"] == 201, response
    request_id = json.loads(response["body"])["service_request_id"]
    cloud.wait_for_execution("ComplaintIntakeStateMachine", request_id)

    get = _with_credentials(load_event("api/get_complaint.json"), cloud, api_key)
    get["path"] = f"/complaints/{request_id}"
    get["pathParameters"] = {"service_request_id": request_id}
    response, _ = cloud.invoke("ApiFunction", get)
    assert response["statusCode"] == 200, response
    assert json.loads(response["body"])["complaint"]["service_code"] == "noise"


def test_api_ops_status_event(cloud: LocalCloud, api_key: str) -> None:
    event = _with_credentials(load_event("api/ops_status.json"), cloud, api_key)
    response, _ = cloud.invoke("ApiFunction", event)
    assert response["statusCode"] == 200


# ------------------------------------------------------------------ events/complaint_intake


def _fresh_ids(event: dict[str, Any]) -> dict[str, Any]:
    """Give each valid record a new request id, so the test does not depend on earlier runs."""
    for record in event["Records"]:
        try:
            body = json.loads(record["body"])
        except json.JSONDecodeError:
            continue
        body["service_request_id"] = f"GG-20261124-{secrets.token_hex(4).upper()}"
        record["body"] = json.dumps(body, ensure_ascii=False)
    return event


def test_intake_sqs_batch_event_starts_one_execution_per_record(cloud: LocalCloud) -> None:
    event = _fresh_ids(load_event("complaint_intake/sqs_batch.json"))
    response, errored = cloud.invoke("IntakeFunction", event)
    assert not errored
    assert response == {"batchItemFailures": []}
    for record in event["Records"]:
        name = json.loads(record["body"])["service_request_id"]
        assert cloud.wait_for_execution("ComplaintIntakeStateMachine", name)["status"] == (
            "SUCCEEDED"
        )


def test_intake_reports_only_the_malformed_record_as_failed(cloud: LocalCloud) -> None:
    event = _fresh_ids(load_event("complaint_intake/sqs_batch_with_malformed.json"))
    response, errored = cloud.invoke("IntakeFunction", event)
    assert not errored
    malformed = event["Records"][1]["messageId"]
    assert response == {"batchItemFailures": [{"itemIdentifier": malformed}]}


# ------------------------------------------------------------------ events/complaint_privacy


def test_privacy_intake_message_event(cloud: LocalCloud) -> None:
    event = load_event("complaint_privacy/intake_message.json")
    response, errored = cloud.invoke("PrivacyFunction", event)
    assert not errored
    complaint = response["complaint"]
    assert complaint["citizen"]["age_band"] == "30-39"
    assert "email" not in json.dumps(complaint)
    assert response["item"]["service_request_id"] == {"S": event["service_request_id"]}
    assert response["item"]["lat"] == {"N": "37.2636"}


def test_privacy_refuses_a_message_that_is_not_an_intake_message(cloud: LocalCloud) -> None:
    response, errored = cloud.invoke("PrivacyFunction", {"hello": "world"})
    assert errored
    assert response["errorType"] == "InvalidInput"


# ------------------------------------------------------------------ events/sensor_telemetry


def test_telemetry_gas_reading_event_is_kept(cloud: LocalCloud) -> None:
    event = load_event("sensor_telemetry/iot_rule_gas_reading.json")
    response, errored = cloud.invoke("TelemetryFunction", event)
    assert not errored and response["accepted"] is True
    assert response["sensor_key"] == "siheung-sihwa#gas-0417"
    item = cloud.client("dynamodb").get_item(
        TableName=cloud.physical_id("SensorStateTable"),
        Key={"sensor_key": {"S": "siheung-sihwa#gas-0417"}},
    )["Item"]
    assert item["value"] == {"N": "12.5"} and item["level"] == {"N": "1"}


def test_telemetry_malformed_event_is_dead_lettered_with_the_reason(cloud: LocalCloud) -> None:
    event = load_event("sensor_telemetry/iot_rule_malformed.json")
    response, errored = cloud.invoke("TelemetryFunction", event)
    assert not errored  # never crashes
    assert response["accepted"] is False and response["reason"].startswith("kind:")

    (dead,) = cloud.wait_for(
        lambda: messages_on(cloud, "TelemetryDeadLetterQueue", '"gas-0418"'),
        what="the rejected reading on the telemetry DLQ",
    )
    body = json.loads(dead["Body"])
    assert body["reason"].startswith("kind:")


def test_telemetry_clock_skew_event_is_dead_lettered(cloud: LocalCloud) -> None:
    event = load_event("sensor_telemetry/iot_rule_clock_skew.json")
    response, errored = cloud.invoke("TelemetryFunction", event)
    assert not errored and response["accepted"] is False
    assert response["reason"].startswith("ts:")


# ------------------------------------------------------------------ events/sensor_anomalies


def test_anomalies_sqs_batch_event(cloud: LocalCloud) -> None:
    event = load_event("sensor_anomalies/sqs_batch.json")
    # A sensor id of this run, so the test does not depend on earlier state in the table.
    run = secrets.token_hex(3)
    for record in event["Records"]:
        record["body"] = record["body"].replace('"lel-01', f'"{run}-lel-01')
    response, errored = cloud.invoke("SensorAnomaliesFunction", event)
    assert not errored and response == {"batchItemFailures": []}
    item = cloud.client("dynamodb").get_item(
        TableName=cloud.physical_id("SensorStateTable"),
        Key={"sensor_key": {"S": f"banwol-sample#{run}-lel-0101"}},
    )["Item"]
    assert item["anomaly"]["M"]["f"] == {"BOOL": True}  # flagged by the 9.5 %LEL spike
