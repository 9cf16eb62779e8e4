"""The local MQTT broker (embedded and mosquitto) and the IoT rules bridge over real MQTT.

Everything listens on 127.0.0.1 with port 0; every wait has a deadline.
"""

from __future__ import annotations

import shutil
import socket
import threading
import time
from collections.abc import Callable, Iterator
from typing import Any

import paho.mqtt.client as mqtt
import pytest
from paho.mqtt.enums import CallbackAPIVersion

from localcloud import mqtt_broker
from localcloud.iot_bridge import TopicRuleBridge
from localcloud.mqtt_broker import (
    Broker,
    BrokerError,
    BrokerKind,
    EmbeddedBroker,
    start_broker,
)
from tests.fakes.aws import FakeLambda, FakeSqs

pytestmark = pytest.mark.integration

HOST = "127.0.0.1"
DEADLINE = 5.0
FUNCTION_ARN = "arn:aws:lambda:ap-northeast-2:123456789012:function:telemetry"
DLQ_URL = "https://sqs.ap-northeast-2.amazonaws.com/123456789012/telemetry-dlq"
TOPIC = "gyeonggi/safety/banwol/gas-017/telemetry"
TELEMETRY_RULE: dict[str, Any] = {
    "AwsIotSqlVersion": "2016-03-23",
    "RuleDisabled": False,
    "Sql": "SELECT *, topic(3) AS complex_id, topic(4) AS sensor_id "
    "FROM 'gyeonggi/safety/+/+/telemetry' WHERE value >= 0",
    "Actions": [{"Lambda": {"FunctionArn": FUNCTION_ARN}}],
    "ErrorAction": {"Sqs": {"QueueUrl": DLQ_URL, "RoleArn": "r", "UseBase64": False}},
}

MOSQUITTO = shutil.which("mosquitto")
KINDS = [
    "embedded",
    pytest.param(
        "mosquitto",
        marks=pytest.mark.skipif(
            MOSQUITTO is None, reason="mosquitto is not installed (apt-get install mosquitto)"
        ),
    ),
]


def wait_for(condition: Callable[[], bool], what: str, timeout: float = DEADLINE) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout} s waiting for {what}")
        time.sleep(0.01)


def port_accepts(port: int) -> bool:
    try:
        with socket.create_connection((HOST, port), timeout=0.5):
            return True
    except OSError:
        return False


class Client:
    """A paho client that records what it receives; every wait has a deadline."""

    def __init__(self, broker: Broker, client_id: str, **connect: Any) -> None:
        self.received: list[mqtt.MQTTMessage] = []
        self.paho = mqtt.Client(CallbackAPIVersion.VERSION2, client_id=client_id)
        self.paho.on_message = lambda client, userdata, message: self.received.append(message)
        self._acks: set[int] = set()
        self.paho.on_subscribe = lambda c, u, mid, reasons, p: self._acks.add(mid)
        self.paho.on_unsubscribe = lambda c, u, mid, reasons, p: self._acks.add(mid)
        self.connected = threading.Event()
        self.paho.on_connect = lambda c, u, f, reason, p: self.connected.set()
        self.paho.connect(broker.host, broker.port, **connect)
        self.paho.loop_start()
        assert self.connected.wait(DEADLINE), "no CONNACK"

    def subscribe(self, *filters: str, qos: int = 1) -> None:
        _, mid = self.paho.subscribe([(f, qos) for f in filters])
        wait_for(lambda: mid in self._acks, "SUBACK")

    def unsubscribe(self, topic_filter: str) -> None:
        _, mid = self.paho.unsubscribe(topic_filter)
        wait_for(lambda: mid in self._acks, "UNSUBACK")

    def publish(self, topic: str, payload: bytes, qos: int = 1) -> None:
        info = self.paho.publish(topic, payload, qos=qos)
        info.wait_for_publish(DEADLINE)
        assert info.is_published()

    def topics(self) -> list[str]:
        return [m.topic for m in self.received]

    def close(self) -> None:
        self.paho.disconnect()
        self.paho.loop_stop()


@pytest.fixture(params=KINDS)
def broker(request: pytest.FixtureRequest) -> Iterator[Broker]:
    started = start_broker(HOST, 0, kind=request.param)
    try:
        yield started
    finally:
        started.stop()


# -- the bridge over MQTT --------------------------------------------------------------------


def test_device_message_reaches_the_rule_action_and_broker_stops_cleanly(broker: Broker) -> None:
    assert broker.port > 0
    assert broker.running
    lam, sqs = FakeLambda(), FakeSqs()
    bridge = TopicRuleBridge([("TelemetryRule", TELEMETRY_RULE)], lambda_client=lam, sqs_client=sqs)
    bridge.start(broker.host, broker.port, timeout=DEADLINE)
    device = Client(broker, "gas-017")
    try:
        device.publish(TOPIC, b'{"gas": "CO", "value": 41.5}', qos=1)
        device.publish(TOPIC, b'{"gas": "CO", "value": 3}', qos=0)
        device.publish(TOPIC, b'{"gas": "CO", "value": -1}', qos=1)  # WHERE is false
        device.publish("gyeonggi/safety/banwol/gas-017/status", b'{"value": 1}')  # other topic
        wait_for(lambda: len(lam.calls) >= 2, "two Lambda invocations")
        assert bridge.drain(DEADLINE)
    finally:
        device.close()
        bridge.stop()
    assert [call["InvocationType"] for call in lam.calls] == ["Event", "Event"]
    assert lam.events() == [
        {"gas": "CO", "value": 41.5, "complex_id": "banwol", "sensor_id": "gas-017"},
        {"gas": "CO", "value": 3, "complex_id": "banwol", "sensor_id": "gas-017"},
    ]
    assert sqs.messages == []
    stats = bridge.stats
    assert stats["received"] == 3  # the status message never reaches the bridge
    assert (stats["matched"], stats["dispatched"], stats["failed"]) == (2, 2, 0)

    port = broker.port
    broker.stop()
    broker.stop()  # idempotent
    assert not broker.running
    wait_for(lambda: not port_accepts(port), "the port to close")
    # The port is free again: a new broker can take it at once.
    with start_broker(HOST, port, kind=broker.kind) as again:
        assert again.port == port
        assert port_accepts(port)


def test_retained_messages_are_not_replayed_into_rules(broker: Broker) -> None:
    device = Client(broker, "gas-018")
    try:
        # Published before the bridge subscribes: mosquitto keeps it and replays it on
        # subscription (the embedded broker keeps no retained messages at all).
        device.paho.publish(TOPIC, b'{"value": 1}', qos=1, retain=True).wait_for_publish(DEADLINE)
        lam = FakeLambda()
        bridge = TopicRuleBridge(
            [("TelemetryRule", TELEMETRY_RULE)], lambda_client=lam, sqs_client=FakeSqs()
        )
        bridge.start(broker.host, broker.port, timeout=DEADLINE)
        try:
            device.publish(TOPIC, b'{"value": 2}', qos=1)
            wait_for(lambda: len(lam.calls) >= 1, "the live message")
            assert bridge.drain(DEADLINE)
        finally:
            bridge.stop()
        assert [e["value"] for e in lam.events()] == [2]
        # Clear the retained message (an empty retained payload deletes it).
        device.paho.publish(TOPIC, b"", qos=1, retain=True).wait_for_publish(DEADLINE)
    finally:
        device.close()


def test_bridge_start_fails_fast_without_a_broker() -> None:
    with socket.socket() as probe:
        probe.bind((HOST, 0))
        port = probe.getsockname()[1]
    bridge = TopicRuleBridge(
        [("TelemetryRule", TELEMETRY_RULE)], lambda_client=FakeLambda(), sqs_client=FakeSqs()
    )
    with pytest.raises(RuntimeError, match="cannot connect"):
        bridge.start(HOST, port, timeout=2)


# -- broker behaviour ------------------------------------------------------------------------


def test_wildcards_qos_and_unsubscribe(broker: Broker) -> None:
    subscriber = Client(broker, "subscriber")
    publisher = Client(broker, "publisher")
    try:
        subscriber.subscribe("a/+/c", "x/#", qos=1)
        publisher.publish("a/b/c", b"1", qos=1)
        publisher.publish("a/b/d", b"no", qos=1)
        publisher.publish("x", b"2", qos=0)
        publisher.publish("x/y/z", b"3", qos=2)
        wait_for(lambda: len(subscriber.received) >= 3, "three deliveries")
        assert subscriber.topics() == ["a/b/c", "x", "x/y/z"]
        assert [m.payload for m in subscriber.received] == [b"1", b"2", b"3"]
        assert [m.qos for m in subscriber.received] == [1, 0, 1]  # QoS 2 delivered at QoS 1
        subscriber.unsubscribe("x/#")
        publisher.publish("x/after", b"no", qos=1)
        publisher.publish("a/q/c", b"4", qos=1)
        wait_for(lambda: len(subscriber.received) >= 4, "the fourth delivery")
        assert subscriber.topics()[3] == "a/q/c"
        assert "x/after" not in subscriber.topics()
    finally:
        subscriber.close()
        publisher.close()


def test_last_will_is_published_when_a_client_vanishes(broker: Broker) -> None:
    watcher = Client(broker, "watcher")
    watcher.subscribe("devices/+/status")
    doomed = mqtt.Client(CallbackAPIVersion.VERSION2, client_id="gas-099")
    doomed.will_set("devices/gas-099/status", b"offline", qos=1)
    connected = threading.Event()
    doomed.on_connect = lambda c, u, f, reason, p: connected.set()
    doomed.connect(broker.host, broker.port)
    doomed.loop_start()
    try:
        assert connected.wait(DEADLINE)
        doomed.loop_stop()
        # Drop the TCP connection without DISCONNECT, as a device losing power would.
        sock = doomed.socket()
        assert sock is not None
        sock.close()
        wait_for(lambda: bool(watcher.received), "the will message")
        assert watcher.received[0].payload == b"offline"
    finally:
        watcher.close()


# -- the embedded broker specifically --------------------------------------------------------


def test_embedded_broker_starts_fast_on_port_zero() -> None:
    started = time.monotonic()
    broker = start_broker(HOST, 0, kind="embedded")
    try:
        assert time.monotonic() - started < 0.5
        assert isinstance(broker, EmbeddedBroker)
        assert broker.kind == "embedded"
        assert broker.host == HOST
        assert broker.port > 0
        assert port_accepts(broker.port)
        assert "running" in repr(broker)
    finally:
        broker.stop()
    assert not port_accepts(broker.port)


def test_embedded_broker_takes_over_a_reused_client_id() -> None:
    with start_broker(HOST, 0, kind="embedded") as broker:
        assert isinstance(broker, EmbeddedBroker)
        first = Client(broker, "same-id")
        disconnected = threading.Event()
        first.paho.on_disconnect = lambda c, u, f, reason, p: disconnected.set()
        first.paho.reconnect_delay_set(min_delay=30, max_delay=30)  # keep it down for the test
        second = Client(broker, "same-id")
        try:
            assert disconnected.wait(DEADLINE)
            wait_for(lambda: broker.client_count == 1, "one client left")
        finally:
            first.close()
            second.close()


def test_embedded_broker_refuses_mqtt5_and_protocol_errors() -> None:
    with start_broker(HOST, 0, kind="embedded") as broker:
        v5 = mqtt.Client(CallbackAPIVersion.VERSION2, client_id="v5", protocol=mqtt.MQTTv5)
        outcome: list[Any] = []
        v5.on_connect = lambda c, u, f, reason, p: outcome.append(reason)
        v5.on_disconnect = lambda c, u, f, reason, p: outcome.append(reason)
        v5.connect(broker.host, broker.port)
        v5.loop_start()
        try:
            wait_for(lambda: bool(outcome), "the refusal")
            assert outcome[0].is_failure
        finally:
            v5.disconnect()
            v5.loop_stop()
        # A PUBLISH before CONNECT: the broker hangs up.
        with socket.create_connection((HOST, broker.port), timeout=DEADLINE) as raw:
            raw.sendall(bytes([0x30, 0x05, 0x00, 0x01, ord("a"), ord("h"), ord("i")]))
            assert raw.recv(16) == b""
        assert broker.running


def test_auto_falls_back_to_embedded_without_mosquitto(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(mqtt_broker.shutil, "which", lambda name: None)
    with start_broker(HOST, 0) as broker:
        assert broker.kind == "embedded"
    with pytest.raises(BrokerError, match="mosquitto is not installed"):
        start_broker(HOST, 0, kind="mosquitto")


@pytest.mark.parametrize("kind", KINDS)
def test_a_taken_port_is_a_clear_error(kind: BrokerKind) -> None:
    with socket.socket() as squatter:
        squatter.bind((HOST, 0))
        squatter.listen(1)
        port = squatter.getsockname()[1]
        with pytest.raises(BrokerError, match="in use"):
            start_broker(HOST, port, kind=kind)


def test_only_loopback_hosts_are_accepted() -> None:
    with pytest.raises(BrokerError, match="loopback"):
        start_broker("0.0.0.0", 0, kind="embedded")


@pytest.mark.skipif(MOSQUITTO is None, reason="mosquitto is not installed")
def test_mosquitto_that_exits_early_is_reported() -> None:
    with pytest.raises(BrokerError, match="exited with code 1"):
        start_broker(HOST, 0, kind="mosquitto", mosquitto_path=shutil.which("false"), timeout=2)
