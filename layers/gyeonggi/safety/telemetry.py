"""Sensor telemetry as devices publish it to ``gyeonggi/safety/{complex_id}/{sensor_id}/telemetry``.

The IoT topic rule adds ``complex_id`` and ``sensor_id`` from the topic, so a device cannot
claim to be another complex's sensor by what it writes in the payload.
"""

from __future__ import annotations

import json
from datetime import datetime
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, StringConstraints, ValidationError

from gyeonggi.common.aws import AwsClient
from gyeonggi.common.clock import aware, now
from gyeonggi.common.errors import InvalidInput

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


class Telemetry(BaseModel):
    """One reading of one sensor."""

    model_config = ConfigDict(extra="ignore", frozen=True)

    complex_id: _Id
    sensor_id: _Id
    kind: SensorKind
    value: float
    unit: str
    ts: datetime = Field(description="Device time of the reading, ISO 8601 or epoch ms.")
    battery: float | None = Field(default=None, ge=0, le=100)
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
        body = json.dumps(
            {"reason": reason, "payload": event, "rejected_at": now().isoformat()},
            ensure_ascii=False,
            default=str,
        )
        self.sqs.send_message(QueueUrl=self.queue_url, MessageBody=body)
