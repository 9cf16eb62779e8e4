"""Sensor telemetry as devices publish it to ``gyeonggi/safety/{complex_id}/{sensor_id}/telemetry``.

The IoT topic rule (``TelemetryRule`` in template.yaml) hands on every message as

    SELECT encode(*, 'base64') AS payload, topic(3) AS complex_id, topic(4) AS sensor_id

so the rules engine never parses the payload: a rule that reads fields of a payload that is not
a JSON object does nothing in AWS IoT but count a ``ParseError`` (its error action covers failed
actions only), and such a reading would vanish. Here :func:`decode_rule_message` decides, with a
reason the dead-letter queue keeps. ``complex_id`` and ``sensor_id`` come from the topic, never
from the payload, so a device cannot claim to be another complex's sensor by what it writes.
"""

from __future__ import annotations

import base64
import binascii
import json
import math
from datetime import datetime
from typing import Annotated, Any, Literal

from pydantic import (
    AfterValidator,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    StringConstraints,
    ValidationError,
)

from gyeonggi.common.aws import AwsClient
from gyeonggi.common.clock import aware, now
from gyeonggi.common.errors import InvalidInput
from gyeonggi.common.messages import require_encodable

SensorKind = Literal["lel", "co", "h2s", "nh3", "cl2", "flame", "smoke", "temperature"]

#: The unit each kind must report in; a mismatch is a configuration fault at the device.
UNITS: dict[str, str] = {
    "lel": "%LEL",
    "co": "ppm",
    "h2s": "ppm",
    "nh3": "ppm",
    "cl2": "ppm",
    "flame": "bool",
    "smoke": "%obs/m",
    "temperature": "C",
}

_Id = Annotated[str, StringConstraints(pattern=r"^[A-Za-z0-9_-]{1,64}$")]

#: Decimal places a reading keeps: far below any detector's resolution (0.01 ppm at best), and
#: what keeps every number the alarm state derives from it (sums, averages) inside what
#: DynamoDB stores (1e-130 to 1e126 in magnitude): 1e-200 ppm is 0 ppm.
RESOLUTION_DIGITS = 6


def _huge_integer_is_infinite(value: Any) -> Any:
    # JSON integers have no size limit; one past float's range (10**400) is as absurd a reading
    # as 1e309, which JSON decoders read as infinity: the same fault, not a different refusal.
    if isinstance(value, int) and not isinstance(value, bool):
        try:
            float(value)
        except OverflowError:
            return math.inf if value > 0 else -math.inf
    return value


def _to_resolution(value: float) -> float:
    return round(value, RESOLUTION_DIGITS) if math.isfinite(value) else value


#: A number as a device reports it: NaN and infinity are kept (the alarm path makes them a
#: sensor fault, :func:`gyeonggi.safety.alarms.plausible`), finite values are rounded.
_Number = Annotated[
    float, BeforeValidator(_huge_integer_is_infinite), AfterValidator(_to_resolution)
]


class Telemetry(BaseModel):
    """One reading of one sensor."""

    model_config = ConfigDict(extra="ignore", frozen=True)

    complex_id: _Id
    sensor_id: _Id
    kind: SensorKind
    value: _Number
    unit: str
    ts: datetime = Field(description="Device time of the reading, ISO 8601 or epoch ms.")
    battery: _Number | None = Field(default=None, ge=0, le=100)
    firmware: str | None = Field(default=None, max_length=32)

    @property
    def sensor_key(self) -> str:
        return f"{self.complex_id}#{self.sensor_id}"


#: How far in the future of the receive time a device clock may be before a reading is refused.
MAX_CLOCK_SKEW_S = 300.0


def check_clock_skew(
    reading: Telemetry, received_at: datetime, max_skew_s: float = MAX_CLOCK_SKEW_S
) -> None:
    """Refuse a reading stamped too far in the future (a device clock that is wrong).

    Why: the alarm state ignores any reading not newer than the last one, so a single reading
    from next year would make the sensor deaf until then.

    Raises
    ------
    InvalidInput
        On field ``ts``, saying by how much the clock is ahead.
    """
    ahead = (aware(reading.ts) - received_at).total_seconds()
    if ahead > max_skew_s:
        raise InvalidInput(
            f"ts: {ahead:.0f} s in the future of the receive time "
            f"(device clock skew; at most {max_skew_s:.0f} s allowed)",
            field="ts",
        )


def decode_rule_message(message: Any) -> dict[str, Any]:
    """The device's reading, with the ids of its topic, from the topic rule's output.

    Parameters
    ----------
    message
        ``{"payload": <the MQTT payload, base64>, "complex_id": ..., "sensor_id": ...}``.

    Returns
    -------
    dict
        The payload's JSON object with ``complex_id`` and ``sensor_id`` set from the topic.

    Raises
    ------
    InvalidInput
        On field ``payload``, saying what the bytes are instead of a JSON object (not base64,
        not UTF-8, not JSON and where it stopped, nested too deeply, an array or a scalar, or
        text no store can keep).
    """
    encoded = message.get("payload") if isinstance(message, dict) else None
    if not isinstance(encoded, str):
        raise InvalidInput("payload: missing (the topic rule sends it base64)", field="payload")
    try:
        raw = base64.b64decode(encoded, validate=True)
    except (binascii.Error, ValueError):
        raise InvalidInput("payload: not base64", field="payload") from None
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise InvalidInput(
            f"payload: not UTF-8 text (byte 0x{raw[exc.start]:02x} at offset {exc.start})",
            field="payload",
        ) from None
    try:
        reading = json.loads(text)
    except ValueError as exc:
        raise InvalidInput(f"payload: not JSON ({exc})", field="payload") from None
    except RecursionError:
        raise InvalidInput("payload: JSON nested too deeply", field="payload") from None
    require_encodable(reading, "payload", field="payload")
    if not isinstance(reading, dict):
        raise InvalidInput(f"payload: a JSON {_json_type(reading)}, not an object", field="payload")
    return {
        **reading,
        "complex_id": message.get("complex_id"),
        "sensor_id": message.get("sensor_id"),
    }


def _json_type(value: Any) -> str:
    if isinstance(value, list):
        return "array"
    if isinstance(value, str):
        return "string"
    if isinstance(value, bool):
        return "boolean"
    return "null" if value is None else "number"


def parse_telemetry(event: Any) -> Telemetry:
    """Validate an IoT rule's output; raises ``InvalidInput`` naming the bad field."""
    try:
        reading = Telemetry.model_validate(event)
    except ValidationError as exc:
        err = exc.errors()[0]
        field = ".".join(str(p) for p in err["loc"]) or "payload"
        reason = "is required" if err["type"] == "missing" else err["msg"]
        raise InvalidInput(f"{field}: {reason}", field=field) from None
    if reading.unit != UNITS[reading.kind]:
        raise InvalidInput(
            f"unit: {reading.kind} is reported in {UNITS[reading.kind]}, not {reading.unit}",
            field="unit",
        )
    return reading


class RejectedReadings:
    """The dead-letter queue of readings that were refused: what came in, and why."""

    sqs = AwsClient("sqs")

    def __init__(self, queue_url: str, sqs: Any | None = None) -> None:
        self.queue_url = queue_url
        if sqs is not None:
            self.sqs = sqs

    def reject(self, event: Any, reason: str) -> None:
        """Keep ``event`` (the reading, or the rule's message when the payload is no JSON
        object: its bytes exactly as published, base64) with the reason it was refused."""
        body = json.dumps(
            {"reason": reason, "payload": event, "rejected_at": now().isoformat()},
            default=str,  # ASCII escapes: a lone surrogate in a refused text still encodes
        )
        self.sqs.send_message(QueueUrl=self.queue_url, MessageBody=body)
