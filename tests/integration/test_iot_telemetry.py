"""Devices over MQTT -> the template's IoT topic rule -> the telemetry function -> DynamoDB."""

from __future__ import annotations

import base64
import json
import secrets
from datetime import UTC, datetime, timedelta
from typing import Any

import paho.mqtt.client as mqtt
import pytest
from paho.mqtt.enums import CallbackAPIVersion

from localcloud.cloud import LocalCloud
from tests.integration.conftest import messages_on

pytestmark = pytest.mark.integration


def _publish(cloud: LocalCloud, topic: str, payload: bytes) -> None:
    client = mqtt.Client(CallbackAPIVersion.VERSION2, client_id=f"device-{secrets.token_hex(3)}")
    client.connect(cloud.broker.host, cloud.broker.port, keepalive=10)
    client.loop_start()
    try:
        client.publish(topic, payload, qos=1).wait_for_publish(timeout=5)
    finally:
        client.loop_stop()
        client.disconnect()
    assert cloud.bridge.drain(timeout=10)


def _state(cloud: LocalCloud, key: str) -> dict[str, Any] | None:
    item = (
        cloud.client("dynamodb")
        .get_item(TableName=cloud.physical_id("SensorStateTable"), Key={"sensor_key": {"S": key}})
        .get("Item")
    )
    return dict(item) if item else None


def _dead_letters(cloud: LocalCloud, marker: str) -> list[dict[str, Any]]:
    return messages_on(cloud, "TelemetryDeadLetterQueue", marker)


def test_reading_published_over_mqtt_is_kept_per_sensor(cloud: LocalCloud) -> None:
    sensor = f"gas-{secrets.token_hex(3)}"
    reading = {"kind": "co", "value": 41.0, "unit": "ppm", "ts": "2026-11-24T10:00:00Z"}
    # the complex and sensor come from the topic, whatever the payload claims
    payload = json.dumps(reading | {"complex_id": "spoofed"}).encode()
    _publish(cloud, f"gyeonggi/safety/banwol/{sensor}/telemetry", payload)

    item = cloud.wait_for(lambda: _state(cloud, f"banwol#{sensor}"), what="the sensor state")
    assert item["kind"] == {"S": "co"} and item["value"] == {"N": "41.0"}
    assert _state(cloud, f"spoofed#{sensor}") is None


def test_older_reading_arriving_late_does_not_overwrite(cloud: LocalCloud) -> None:
    sensor = f"gas-{secrets.token_hex(3)}"
    topic = f"gyeonggi/safety/sihwa/{sensor}/telemetry"
    for ts, value in (("2026-11-24T10:00:10Z", 5.0), ("2026-11-24T10:00:00Z", 99.0)):
        body = {"kind": "h2s", "value": value, "unit": "ppm", "ts": ts}
        _publish(cloud, topic, json.dumps(body).encode())
    item = cloud.wait_for(lambda: _state(cloud, f"sihwa#{sensor}"), what="the sensor state")
    assert item["value"] == {"N": "5.0"}


def test_malformed_reading_is_rejected_to_the_dead_letter_queue(cloud: LocalCloud) -> None:
    sensor = f"gas-{secrets.token_hex(3)}"
    bad = {"kind": "co", "value": 3, "unit": "%LEL", "ts": "2026-11-24T10:00:00Z"}
    _publish(cloud, f"gyeonggi/safety/banwol/{sensor}/telemetry", json.dumps(bad).encode())
    (dead,) = cloud.wait_for(lambda: _dead_letters(cloud, sensor), what="the rejection")
    body = json.loads(dead["Body"])
    assert body["reason"] == "unit: co is reported in ppm, not %LEL"
    assert body["payload"]["sensor_id"] == sensor
    assert _state(cloud, f"banwol#{sensor}") is None


@pytest.mark.parametrize(
    ("payload", "reason"),
    [
        (b"\x00\x01 not json", "payload: not JSON"),
        (b"[41, 42]", "payload: a JSON array, not an object"),
        (b"\xc3\x28", "payload: not UTF-8 text"),
    ],
    ids=["binary", "array", "not-utf8"],
)
def test_a_payload_that_is_no_json_object_reaches_the_dead_letter_queue_with_the_reason(
    cloud: LocalCloud, payload: bytes, reason: str
) -> None:
    # The rule passes every payload on as published (encode(*, 'base64')): none is a ParseError
    # that AWS IoT would drop; the alarm path rejects it with the reason and the bytes.
    sensor = f"gas-{secrets.token_hex(3)}"
    parse_errors = cloud.bridge.stats["parse_errors"]
    # The bridge's own entry point: MQTT itself is the other tests' (a second a publish).
    cloud.bridge.publish_local(f"gyeonggi/safety/banwol/{sensor}/telemetry", payload)
    (dead,) = cloud.wait_for(lambda: _dead_letters(cloud, sensor), what="the rejection")
    body = json.loads(dead["Body"])
    assert body["reason"].startswith(reason)
    assert base64.b64decode(body["payload"]["payload"]) == payload
    assert cloud.bridge.stats["parse_errors"] == parse_errors


def test_topics_outside_the_rule_are_not_routed(cloud: LocalCloud) -> None:
    before = cloud.bridge.stats["matched"]
    _publish(cloud, "gyeonggi/safety/banwol/gas-x/config", b'{"kind": "co"}')
    assert cloud.bridge.stats["matched"] == before


def test_async_invocation_is_accepted_then_retried_twice_as_lambda_does(
    cloud: LocalCloud,
) -> None:
    # IoT rule actions invoke asynchronously: the caller gets 202 whatever the function does,
    # and a failing function is tried three times in all (then its DeadLetterConfig, if any).
    marker = secrets.token_hex(4)
    fn = cloud.physical_id("PrivacyFunction")
    response = cloud.client("lambda").invoke(
        FunctionName=fn, InvocationType="Event", Payload=json.dumps({"marker": marker}).encode()
    )
    assert response["StatusCode"] == 202 and "FunctionError" not in response
    attempts = [i for i in cloud.runner.calls(fn) if i.event == {"marker": marker}]
    assert len(attempts) == 3 and all(a.errored for a in attempts)


def _evidence_consumers(cloud: LocalCloud) -> list[str]:
    """Functions consuming SafetyEvidenceQueue (then its messages do not stay there)."""
    sqs = cloud.client("sqs")
    arn = sqs.get_queue_attributes(
        QueueUrl=cloud.physical_id("SafetyEvidenceQueue"), AttributeNames=["QueueArn"]
    )["Attributes"]["QueueArn"]
    mappings = cloud.client("lambda").list_event_source_mappings(EventSourceArn=arn)
    return [m["FunctionArn"].split(":")[-1] for m in mappings.get("EventSourceMappings", [])]


def _evidence(cloud: LocalCloud, marker: str) -> list[dict[str, Any]]:
    """Evidence about ``marker``: on the queue, or in the batches its consumer was given."""
    consumers = _evidence_consumers(cloud)
    if not consumers:
        return [json.loads(m["Body"]) for m in messages_on(cloud, "SafetyEvidenceQueue", marker)]
    found = []
    for fn in consumers:
        for call in cloud.runner.calls(fn):
            for record in (call.event or {}).get("Records", []):
                if marker in record.get("body", ""):
                    found.append(json.loads(record["body"]))
    return found


def test_gas_leak_ramp_over_mqtt_raises_low_then_high_evidence(cloud: LocalCloud) -> None:
    sensor = f"lel-{secrets.token_hex(3)}"
    topic = f"gyeonggi/safety/banwol/{sensor}/telemetry"
    start = datetime.now(UTC) - timedelta(minutes=2)
    for i, value in enumerate((1.0, 6.0, 11.0, 15.0, 21.0)):
        ts = (start + timedelta(seconds=10 * i)).isoformat()
        body = {"kind": "lel", "value": value, "unit": "%LEL", "ts": ts, "battery": 90}
        _publish(cloud, topic, json.dumps(body).encode())

    def at_high() -> dict[str, Any] | None:
        item = _state(cloud, f"banwol#{sensor}")
        return item if item and item["level"] == {"N": "2"} else None

    item = cloud.wait_for(at_high, what="the sensor state at the high level")
    assert item["version"] == {"N": "5"} and item["value"] == {"N": "21.0"}

    def evidence() -> list[dict[str, Any]] | None:
        found = _evidence(cloud, sensor)
        kinds = {m["kind"] for m in found}
        return found if {"threshold_low", "threshold_high"} <= kinds else None

    found = {m["kind"]: m for m in cloud.wait_for(evidence, what="low and high evidence")}
    assert found["threshold_low"]["severity"] == "warning" and found["threshold_low"]["limit"] == 10
    assert found["threshold_high"]["severity"] == "alarm" and found["threshold_high"]["limit"] == 20
    assert found["threshold_high"]["source"] == "sensor"


def test_reading_from_a_clock_in_the_future_is_dead_lettered(cloud: LocalCloud) -> None:
    sensor = f"gas-{secrets.token_hex(3)}"
    ts = (datetime.now(UTC) + timedelta(hours=2)).isoformat()
    body = {"kind": "co", "value": 500.0, "unit": "ppm", "ts": ts}
    _publish(cloud, f"gyeonggi/safety/banwol/{sensor}/telemetry", json.dumps(body).encode())
    (dead,) = cloud.wait_for(lambda: _dead_letters(cloud, sensor), what="the rejection")
    assert "clock skew" in json.loads(dead["Body"])["reason"]
    assert _state(cloud, f"banwol#{sensor}") is None


def test_a_complex_gone_dark_is_found_by_the_sweep_and_opens_an_incident(
    cloud: LocalCloud,
) -> None:
    """Sensors register their complex as they report; when all fall silent, nothing arrives
    to trigger a check, and the scheduled sweep is what raises the alarm."""
    complex_id = f"dark-{secrets.token_hex(3)}"
    now = datetime.now(UTC)
    for sensor in ("co-1", "co-2"):
        body = {"kind": "co", "value": 1.0, "unit": "ppm", "ts": now.isoformat()}
        _publish(
            cloud, f"gyeonggi/safety/{complex_id}/{sensor}/telemetry", json.dumps(body).encode()
        )
    for sensor in ("co-1", "co-2"):
        key = f"{complex_id}#{sensor}"
        cloud.wait_for(lambda: _state(cloud, key), what="sensor state")  # noqa: B023
        # Ten minutes of silence, without waiting ten minutes.
        cloud.client("dynamodb").update_item(
            TableName=cloud.physical_id("SensorStateTable"),
            Key={"sensor_key": {"S": f"{complex_id}#{sensor}"}},
            UpdateExpression="SET last_seen = :old",
            ExpressionAttributeValues={":old": {"N": str(round(now.timestamp() * 1000) - 600_000)}},
        )

    result, errored = cloud.invoke("HeartbeatSweepFunction", {"source": "aws.events"})
    assert not errored and complex_id in result["dark"]

    def evidence() -> list[dict[str, Any]] | None:
        found = _evidence(cloud, complex_id)
        return found if len(found) >= 3 else None

    kinds = sorted(m["kind"] for m in cloud.wait_for(evidence, what="the heartbeat evidence"))
    assert kinds == ["fault_complex_silent", "fault_heartbeat", "fault_heartbeat"]
    pointer = cloud.wait_for(
        lambda: (
            cloud.client("dynamodb")
            .get_item(
                TableName=cloud.physical_id("IncidentsTable"),
                Key={"incident_id": {"S": f"complex#{complex_id}"}},
            )
            .get("Item")
        ),
        what="the complex's open incident",
    )
    assert pointer
    # A stale sweep is not retried (the next one is a minute away): EventInvokeConfig is honoured.
    sweep = cloud.runner.functions[cloud.physical_id("HeartbeatSweepFunction")]
    assert sweep.async_retries == 0


def test_a_reading_the_rule_cannot_hand_on_waits_in_the_rule_error_queue(
    cloud: LocalCloud, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Given Lambda refusing the rule's invoke (throttled, or the function's permission gone)
    def throttled(**kwargs: Any) -> Any:
        raise RuntimeError("TooManyRequestsException: Rate Exceeded")

    monkeypatch.setattr(cloud.bridge._lambda, "invoke", throttled)
    sensor = f"gas-{secrets.token_hex(3)}"
    payload = json.dumps({"kind": "co", "value": 900, "unit": "ppm", "ts": "2026-11-24T10:00Z"})
    topic = f"gyeonggi/safety/banwol/{sensor}/telemetry"
    cloud.bridge.publish_local(topic, payload.encode())
    # Then IoT Core's error record, with the payload as published, is in the rule's error queue
    (error,) = cloud.wait_for(
        lambda: messages_on(cloud, "TelemetryRuleErrorQueue", sensor), what="the error record"
    )
    record = json.loads(error["Body"])
    assert record["ruleName"] and record["topic"] == topic
    assert base64.b64decode(record["base64OriginalPayload"]).decode() == payload
    (failure,) = record["failures"]
    assert failure["failedAction"] == "LambdaAction" and "Rate Exceeded" in failure["errorMessage"]
