"""Devices over MQTT -> the template's IoT topic rule -> the telemetry function -> DynamoDB."""

from __future__ import annotations

import json
import secrets
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


def test_non_json_payload_is_counted_not_crashing_the_bridge(cloud: LocalCloud) -> None:
    before = cloud.bridge.stats["dropped_not_json"]
    _publish(cloud, "gyeonggi/safety/banwol/gas-x/telemetry", b"\x00\x01 not json")
    assert cloud.bridge.stats["dropped_not_json"] == before + 1


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
