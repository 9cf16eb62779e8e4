"""Shared test set-up: no test reaches beyond loopback, and sample events load from events/."""

from __future__ import annotations

import base64
import ipaddress
import json
import socket
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import pytest

ROOT = Path(__file__).resolve().parent.parent
EVENTS = ROOT / "events"


def load_event(relative: str) -> Any:
    """A sample event from ``events/`` (the same files ``sam local invoke -e`` takes)."""
    return json.loads((EVENTS / relative).read_text(encoding="utf-8"))


def rule_message(
    reading: Mapping[str, Any] | bytes,
    complex_id: str | None = None,
    sensor_id: str | None = None,
) -> dict[str, Any]:
    """What the telemetry topic rule hands the functions for one MQTT message.

    ``TelemetryRule`` selects ``encode(*, 'base64') AS payload, topic(3) AS complex_id,
    topic(4) AS sensor_id``. ``reading`` is the payload (bytes as published, or a mapping sent
    as JSON); ``complex_id`` and ``sensor_id`` are the topic's, taken from the mapping when not
    given (a device's payload never carries them in production: the topic does).
    """
    if isinstance(reading, Mapping):
        body = dict(reading)
        complex_id = complex_id or body.pop("complex_id", None)
        sensor_id = sensor_id or body.pop("sensor_id", None)
        reading = json.dumps(body).encode()
    return {
        "payload": base64.b64encode(reading).decode("ascii"),
        "complex_id": complex_id,
        "sensor_id": sensor_id,
    }


def _is_loopback(address: Any) -> bool:
    host = address[0] if isinstance(address, tuple) else address
    if host in ("localhost", ""):
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


@pytest.fixture(autouse=True)
def _loopback_only(monkeypatch: pytest.MonkeyPatch) -> None:
    """Refuse any connection that would leave this machine."""
    original = socket.socket.connect

    def connect(self: socket.socket, address: Any) -> Any:
        if self.family in (socket.AF_INET, socket.AF_INET6) and not _is_loopback(address):
            raise ConnectionRefusedError(f"tests may not connect beyond loopback: {address!r}")
        return original(self, address)

    monkeypatch.setattr(socket.socket, "connect", connect)


@pytest.fixture
def datadam_lake() -> Any:
    """An empty Data Dam served by moto's server on 127.0.0.1 (``localcloud.datadam``): a new
    bucket, Glue database and KMS HMAC key. Write with ``localcloud.datadam.write_records``."""
    from localcloud.datadam import lake_server

    with lake_server() as endpoint:
        yield endpoint
