"""Safety evidence: sensor alarms, anomalies, silences and camera detections for incidents.

One model, :class:`Evidence`, is made by every producer (the alarm path, the anomaly path,
the heartbeat sweep and the camera analysis), written to the queue by
:meth:`Evidence.to_message` and read back by the incident function with
:func:`parse_evidence`. Every producer sends through :class:`EvidenceQueue`, so batching and
the "raise when SQS did not take a message" rule live in one place (a raise makes the
producer's delivery retry; the evidence ids make repeats harmless to the incident function).

Standard library plus boto3 (made lazily) only: the alarm path imports this module.

The message on ``SafetyEvidenceQueue`` is a JSON object::

    {"source": "sensor" | "camera", "complex_id": ..., "sensor_id" | "camera_id": ...,
     "kind": ..., "severity": "warning" | "alarm" | "critical", "ts": ISO 8601,
     "gas": ..., "value": ..., "limit": ..., "detail": {...}}

``gas``, ``value``, ``limit`` and ``detail`` are left out when a producer has none (a missing
field and ``null`` read the same). The incident's timeline keeps each piece of evidence in
DynamoDB, so :func:`parse_evidence` reads what DynamoDB cannot store (a number such as NaN,
infinity or 1e300, a map key ``""``, nesting past its 32 levels) as absent, anywhere in the
message: it says nothing, and the evidence around it must still open its incident rather than
fail on every receive.
"""

from __future__ import annotations

import hashlib
import json
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Literal, Protocol, cast

from gyeonggi.common.aws import AwsClient
from gyeonggi.common.clock import parse_iso
from gyeonggi.common.errors import InvalidInput
from gyeonggi.common.messages import require_encodable

Source = Literal["sensor", "camera"]
Severity = Literal["warning", "alarm", "critical"]
SEVERITIES: tuple[Severity, ...] = ("warning", "alarm", "critical")
SEVERITY_RANK: dict[str, int] = {name: rank for rank, name in enumerate(SEVERITIES)}
#: The field that names the source, per kind of source.
SOURCE_ID_FIELDS: dict[str, str] = {"sensor": "sensor_id", "camera": "camera_id"}
_OPTIONAL = ("gas", "value", "limit", "detail")
#: Ids and kinds: far longer than any producer's, far shorter than a DynamoDB key may be.
MAX_ID_CHARS = 256
#: The magnitudes DynamoDB stores (and 0); an integer of more than 38 digits it cannot.
_DYNAMO_MIN, _DYNAMO_MAX, _DYNAMO_INT = 1e-130, 1e125, 10**38
#: Levels of nesting DynamoDB stores; the timeline keeps evidence two levels down.
_DYNAMO_DEPTH = 28


@dataclass(frozen=True, slots=True)
class Evidence:
    """One sensor alarm, anomaly, silence or camera detection."""

    source: Source
    complex_id: str
    source_id: str
    kind: str
    severity: Severity
    ts: datetime
    gas: str | None = None
    value: float | None = None
    limit: float | None = None
    detail: Mapping[str, Any] | None = None

    @property
    def source_key(self) -> str:
        """``sensor:<id>`` or ``camera:<id>``: one source whatever its kinds."""
        return f"{self.source}:{self.source_id}"

    @property
    def dedupe_key(self) -> str:
        return f"{self.source_key}|{self.kind}|{self.ts.isoformat()}"

    @property
    def cleared(self) -> bool:
        return self.kind == "cleared"

    def to_message(self) -> dict[str, Any]:
        """The evidence as the queue carries it (see the module's docstring)."""
        data: dict[str, Any] = {
            "source": self.source,
            "complex_id": self.complex_id,
            SOURCE_ID_FIELDS[self.source]: self.source_id,
            "kind": self.kind,
            "severity": self.severity,
            "ts": self.ts.isoformat(),
        }
        for name in _OPTIONAL:
            if getattr(self, name) is not None:
                data[name] = getattr(self, name)
        return data

    def as_dict(self) -> dict[str, Any]:
        """The evidence as an incident's timeline keeps it (its complex is the incident's)."""
        data = self.to_message()
        del data["complex_id"]
        return data


def parse_evidence(data: Any) -> Evidence:
    """Read one evidence message.

    Raises
    ------
    InvalidInput
        Naming the first missing or malformed field.
    """
    if not isinstance(data, dict):
        raise InvalidInput("the evidence must be a JSON object")
    require_encodable(data, "the evidence")
    data = _storable(data)
    source = data.get("source")
    if not isinstance(source, str) or source not in SOURCE_ID_FIELDS:
        raise InvalidInput("source must be sensor or camera", field="source")
    id_field = SOURCE_ID_FIELDS[source]
    for name in ("complex_id", id_field, "kind"):
        if not isinstance(data.get(name), str) or not data[name].strip():
            raise InvalidInput(f"{name} is missing", field=name)
        if len(data[name]) > MAX_ID_CHARS:
            raise InvalidInput(f"{name} is longer than {MAX_ID_CHARS} characters", field=name)
    severity = data.get("severity")
    if not isinstance(severity, str) or severity not in SEVERITY_RANK:
        raise InvalidInput("severity must be warning, alarm or critical", field="severity")
    try:
        # A device clock without a zone is taken as UTC rather than the function's local time.
        ts = parse_iso(str(data.get("ts")))
    except ValueError:
        raise InvalidInput("ts is not an ISO 8601 timestamp", field="ts") from None
    numbers: dict[str, float | None] = {}
    for name in ("value", "limit"):
        raw = data.get(name)
        if raw is not None and (isinstance(raw, bool) or not isinstance(raw, int | float)):
            raise InvalidInput(f"{name} must be a number", field=name)
        numbers[name] = None if raw is None else float(raw)
    gas, detail = data.get("gas"), data.get("detail")
    if gas is not None and not isinstance(gas, str):
        raise InvalidInput("gas must be text", field="gas")
    if detail is not None and not isinstance(detail, dict):
        raise InvalidInput("detail must be a JSON object", field="detail")
    return Evidence(
        source=cast(Source, source),
        complex_id=data["complex_id"],
        source_id=data[id_field],
        kind=data["kind"],
        severity=cast(Severity, severity),
        ts=ts,
        gas=gas,
        value=numbers["value"],
        limit=numbers["limit"],
        detail=detail,
    )


def _storable(value: Any, depth: int = 0) -> Any:
    """``value`` as DynamoDB can store it: a number it cannot, or anything nested deeper than its
    32 levels, is ``None``; a map entry without a name (``""``) is left out."""
    if depth >= _DYNAMO_DEPTH and isinstance(value, dict | list):
        return None
    if isinstance(value, dict):
        return {key: _storable(item, depth + 1) for key, item in value.items() if key}
    if isinstance(value, list):
        return [_storable(item, depth + 1) for item in value]
    if isinstance(value, bool):
        return value
    if isinstance(value, int):
        return value if abs(value) < _DYNAMO_INT else None
    if isinstance(value, float):
        storable = value == 0 or (math.isfinite(value) and _DYNAMO_MIN <= abs(value) < _DYNAMO_MAX)
        return value if storable else None
    return value


def evidence_id(*parts: object) -> str:
    """Deterministic id, so a consumer drops the duplicates that at-least-once delivery makes."""
    return hashlib.sha256("|".join(str(p) for p in parts).encode()).hexdigest()[:32]


class EvidenceSender(Protocol):
    """Where a producer sends its evidence (:meth:`EvidenceQueue.send`); returns how many."""

    def __call__(self, evidence: Sequence[Evidence], /) -> int: ...


class EvidenceNotAccepted(RuntimeError):
    """SQS refused one or more evidence messages."""


class EvidenceQueue:
    """``SafetyEvidenceQueue``: one JSON message per piece of evidence."""

    sqs = AwsClient("sqs")

    def __init__(self, queue_url: str, sqs: Any | None = None) -> None:
        self.queue_url = queue_url
        if sqs is not None:
            self.sqs = sqs

    def send(self, evidence: Sequence[Evidence]) -> int:
        """Send ``evidence`` in batches of ten; returns how many were sent.

        Raises
        ------
        EvidenceNotAccepted
            When SQS reports a failed entry.
        """
        for start in range(0, len(evidence), 10):
            chunk = evidence[start : start + 10]
            response = self.sqs.send_message_batch(
                QueueUrl=self.queue_url,
                Entries=[
                    {"Id": str(i), "MessageBody": json.dumps(e.to_message(), ensure_ascii=False)}
                    for i, e in enumerate(chunk)
                ],
            )
            if response.get("Failed"):
                raise EvidenceNotAccepted(f"evidence not accepted by SQS: {response['Failed']}")
        return len(evidence)
