"""The device simulator publishing real MQTT to the embedded broker.

Everything listens on 127.0.0.1 with port 0; every wait has a deadline. The AWS IoT Core path
(``--endpoint``, mutual TLS on 8883) is tested against a mosquitto TLS listener in
test_device_simulator_tls.py.
"""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Iterator

import paho.mqtt.client as mqtt
import pytest
from paho.mqtt.enums import CallbackAPIVersion

from gyeonggi.safety.telemetry import parse_telemetry
from gyeonggi_tools import cli
from gyeonggi_tools.safety.simulator import SimulationError, simulate
from localcloud.mqtt_broker import Broker, start_broker

pytestmark = pytest.mark.integration

HOST = "127.0.0.1"
DEADLINE = 5.0


class Subscriber:
    """A paho client on ``gyeonggi/safety/#`` that keeps what it receives."""

    def __init__(self, broker: Broker) -> None:
        self.received: list[mqtt.MQTTMessage] = []
        self.lock = threading.Lock()
        self.connected = threading.Event()
        self.subscribed = threading.Event()
        self.paho = mqtt.Client(CallbackAPIVersion.VERSION2, client_id="sim-observer")
        self.paho.on_connect = lambda c, u, f, reason, p: self.connected.set()
        self.paho.on_subscribe = lambda c, u, mid, reasons, p: self.subscribed.set()
        self.paho.on_message = self._on_message
        self.paho.connect(broker.host, broker.port)
        self.paho.loop_start()
        assert self.connected.wait(DEADLINE), "no CONNACK"
        self.paho.subscribe("gyeonggi/safety/#", qos=1)
        assert self.subscribed.wait(DEADLINE), "no SUBACK"

    def _on_message(self, client: object, userdata: object, message: mqtt.MQTTMessage) -> None:
        with self.lock:
            self.received.append(message)

    def count(self) -> int:
        with self.lock:
            return len(self.received)

    def wait_for(self, n: int, timeout: float = DEADLINE) -> None:
        deadline = time.monotonic() + timeout
        while self.count() < n and time.monotonic() < deadline:
            time.sleep(0.01)

    def close(self) -> None:
        self.paho.disconnect()
        self.paho.loop_stop()


@pytest.fixture
def broker() -> Iterator[Broker]:
    started = start_broker(HOST, 0, kind="embedded")
    try:
        yield started
    finally:
        started.stop()


@pytest.fixture
def subscriber(broker: Broker) -> Iterator[Subscriber]:
    client = Subscriber(broker)
    try:
        yield client
    finally:
        client.close()


def test_five_sensors_at_10_hz_for_a_second_arrive_over_mqtt(
    broker: Broker, subscriber: Subscriber
) -> None:
    started = time.monotonic()
    summary = simulate(
        "siheung-sihwa",
        sensors=5,
        rate=10.0,
        duration=1.0,
        scenario="normal",
        seed=1,
        host=broker.host,
        port=broker.port,
    )
    assert time.monotonic() - started < DEADLINE
    assert (summary.sent, summary.errors, summary.stopped_by) == (50, 0, "duration")
    subscriber.wait_for(50)
    assert subscriber.count() == 50
    with subscriber.lock:
        messages = list(subscriber.received)
    assert {m.topic.split("/")[3] for m in messages} == {
        "lel-001",
        "co-002",
        "h2s-003",
        "flame-004",
        "lel-005",
    }
    for m in messages:
        _, _, complex_id, sensor_id, _ = m.topic.split("/")
        parse_telemetry({**json.loads(m.payload), "complex_id": complex_id, "sensor_id": sensor_id})


def test_the_cli_publishes_a_bounded_count(
    broker: Broker, subscriber: Subscriber, capsys: pytest.CaptureFixture[str]
) -> None:
    argv = ["devices", "simulate", "--complex", "banwol", "--sensors", "3", "--rate", "20"]
    argv += ["--count", "30", "--duration", "10", "--scenario", "fire", "--seed", "1"]
    argv += ["--port", str(broker.port), "--qos", "0"]
    assert cli.main(argv) == 0
    out = capsys.readouterr().out
    assert "sent 30, errors 0" in out and "stopped by count" in out
    subscriber.wait_for(30)
    assert subscriber.count() == 30


def test_an_unreachable_broker_is_a_clear_error(broker: Broker) -> None:
    port = broker.port
    broker.stop()
    with pytest.raises(SimulationError, match=f"cannot connect to MQTT broker 127.0.0.1:{port}"):
        simulate("banwol", sensors=1, duration=1.0, host=HOST, port=port)
