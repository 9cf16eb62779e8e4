"""What each event the systems already publish becomes in the lake: ``(dataset id, record)``.

The events reach the Data Dam's queue as the systems publish them (SNS with raw delivery: the
body is the event, ``event_type`` a message attribute); the CCTV bucket's notifications of
analysis results reach its camera queue (an S3 event: the result is read from the bucket). A
record here is the event flattened, personal fields and all: ``records.prepare`` applies the
dataset's privacy policy next, so the knowledge of what is personal lives in one place, the
catalogue.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping
from datetime import UTC, datetime
from typing import Any

from gyeonggi.common.aws import AwsClient
from gyeonggi.common.errors import InvalidInput
from gyeonggi.common.s3_notifications import notified_objects
from gyeonggi.complaints.services import BY_CODE as SERVICES

Record = dict[str, Any]
Adapter = Callable[[Mapping[str, Any], datetime], list[tuple[str, Record]]]


def _object(value: Any, name: str) -> Mapping[str, Any]:
    if not isinstance(value, Mapping):
        raise InvalidInput(f"{name} is not an object", field=name)
    return value


def _category(service_code: Any) -> str | None:
    service = SERVICES.get(service_code) if isinstance(service_code, str) else None
    return service.group if service else None


def complaint_received(event: Mapping[str, Any], sent_at: datetime) -> list[tuple[str, Record]]:
    """``ComplaintReceived`` (the stored complaint) -> ``complaints``."""
    citizen = _object(event.get("citizen") or {}, "citizen")
    record = {k: v for k, v in event.items() if k != "citizen"}
    record.update(
        category=_category(event.get("service_code")),
        requested_at=event.get("requested_datetime"),
        citizen_pseudonym=citizen.get("pseudonym"),
        age_band=citizen.get("age_band"),
        gender=citizen.get("gender"),
        consent_analytics=citizen.get("consent_analytics"),
    )
    record.pop("requested_datetime", None)
    record.pop("updated_datetime", None)
    return [("complaints", record)]


def complaint_routed(event: Mapping[str, Any], sent_at: datetime) -> list[tuple[str, Record]]:
    """``ComplaintRouted`` -> ``complaint_routing`` (routed at: when it was published)."""
    record = dict(event)
    record.update(category=_category(event.get("service_code")), routed_at=sent_at)
    for internal in (
        "event_type",
        "case_count",
        "suggested_service_code",
        "model_version",
        "reasons",
    ):
        record.pop(internal, None)
    return [("complaint_routing", record)]


def complaint_surge(event: Mapping[str, Any], sent_at: datetime) -> list[tuple[str, Record]]:
    """``ComplaintSurge`` -> ``complaint_surges``."""
    record = {k: v for k, v in event.items() if k not in ("type", "version", "event_id")}
    record["day"] = record.pop("date", None)
    return [("complaint_surges", record)]


def incident_alert(event: Mapping[str, Any], sent_at: datetime) -> list[tuple[str, Record]]:
    """An incident's alert (each level of its escalation) -> one ``safety_incidents`` step.

    The step's time comes from the event whenever it carries one (the opening for the first
    alert, ``raised_at`` for a raised severity: the time of the evidence that raised it), so
    the same alert delivered twice, or published again by a retry, is one step; only an
    escalation's later levels fall back to the publication time.
    """
    kind = str(event.get("event_type") or "IncidentAlert")
    level = event.get("level")
    step = {
        "IncidentAlert": f"alert-level-{level}",
        "IncidentSeverityRaised": f"severity-{event.get('severity')}",
    }.get(kind, kind)
    if step == "alert-level-1":
        at: Any = event.get("opened_at")
    elif kind == "IncidentSeverityRaised" and event.get("raised_at"):
        at = event.get("raised_at")
    else:
        at = sent_at
    record = {
        "incident_id": event.get("incident_id"),
        "at": at,
        "step": step,
        "complex_id": event.get("complex_id"),
        "severity": event.get("severity"),
        "status": "open",
    }
    return [("safety_incidents", record)]


def camera_analysis(result: Mapping[str, Any]) -> list[tuple[str, Record]]:
    """A CCTV segment's analysis (``analysis/.../{start}.json``) -> ``camera_detections``.

    One row per kind confirmed (``fire``, ``smoke``) with its highest score over the segment,
    or one row ``none`` with the highest score of either (how close it came): an analysis that
    found nothing is a row too, so detections can be counted against segments analysed. A
    segment that could not be analysed (its result holds an ``error``) is no row; the CCTV
    function counts those. The keyframe is never a column.
    """
    if result.get("error") or not result.get("camera_id"):
        return []
    seconds = [s for s in result.get("seconds") or [] if isinstance(s, Mapping)]

    def best(*kinds: str) -> float | None:
        scores = [
            float(s[k])
            for s in seconds
            for k in kinds
            if isinstance(s.get(k), int | float) and not isinstance(s.get(k), bool)
        ]
        return max(scores) if scores else None

    def kinds_of(label: str) -> tuple[str, ...]:
        return ("fire", "smoke") if label == "none" else (label,)

    labels = [k for k in ("fire", "smoke") if result.get(k) is True] or ["none"]
    base = {
        "camera_id": result.get("camera_id"),
        "segment_start": result.get("start"),
        "jurisdiction_id": result.get("jurisdiction"),
        "frames": result.get("frames_analysed", result.get("frames")),
        "frame_key": result.get("keyframe_key"),
    }
    return [
        (
            "camera_detections",
            {
                **base,
                "label": label,
                "score": best("fire", "smoke") if label == "none" else best(label),
            },
        )
        for label in labels
    ]


#: Where the CCTV analysis stores its results (the bucket notifies the Data Dam's queue).
ANALYSIS_PREFIX = "analysis/"

#: Reads an object: ``(bucket, key) -> bytes``.
ObjectReader = Callable[[str, str], bytes]


def _analysis_results(
    body: Mapping[str, Any], read: ObjectReader | None
) -> list[tuple[str, Record]]:
    """The records an S3 notification of analysis results (``analysis/*.json``) carries."""
    if read is None:
        raise InvalidInput("S3 notifications are not taken here", field="body")
    found: list[tuple[str, Record]] = []
    for notified in notified_objects(body):
        if not notified.key.startswith(ANALYSIS_PREFIX) or not notified.key.endswith(".json"):
            continue  # the bucket notifies only these; anything else is not a result
        try:
            result = json.loads(read(notified.bucket, notified.key))
        except (ValueError, RecursionError):
            raise InvalidInput(f"{notified.key} is not JSON", field="key") from None
        found += camera_analysis(_object(result, notified.key))
    return found


class AnalysisResults:
    """Reads the CCTV analysis results its bucket notifies (an :data:`ObjectReader`), and no
    other bucket's objects: a notification names its bucket, and only one is trusted."""

    s3 = AwsClient("s3")

    def __init__(self, bucket: str) -> None:
        self.bucket = bucket

    def __call__(self, bucket: str, key: str) -> bytes:
        if bucket != self.bucket:
            raise InvalidInput(f"a notification from bucket {bucket!r}", field="bucket")
        return bytes(self.s3.get_object(Bucket=bucket, Key=key)["Body"].read())


#: The events the Data Dam's queue takes, by ``event_type``.
ADAPTERS: Mapping[str, Adapter] = {
    "ComplaintReceived": complaint_received,
    "ComplaintRouted": complaint_routed,
    "ComplaintSurge": complaint_surge,
    "IncidentAlert": incident_alert,
    "IncidentSeverityRaised": incident_alert,
}


def event_type_of(body: Mapping[str, Any], attributes: Mapping[str, Any]) -> str | None:
    """The event's type: the SNS message attribute, else the body's own field."""
    attr = attributes.get("event_type")
    if isinstance(attr, Mapping):
        value = attr.get("stringValue") or attr.get("StringValue") or attr.get("Value")
        if isinstance(value, str):
            return value
    for name in ("event_type", "type"):
        if isinstance(body.get(name), str):
            return str(body[name])
    return None


def sent_time(attributes: Mapping[str, Any]) -> datetime:
    """When the message was sent (SQS's ``SentTimestamp``); now when it has none."""
    try:
        return datetime.fromtimestamp(int(attributes["SentTimestamp"]) / 1000, UTC)
    except (KeyError, TypeError, ValueError):
        return datetime.now(UTC)


def from_sqs_record(
    record: Mapping[str, Any], read_object: ObjectReader | None = None
) -> list[tuple[str, Record]]:
    """The lake records one SQS message of the Data Dam's queue carries.

    A message is an event a system published, or an S3 notification of CCTV analysis results
    (read with ``read_object``).

    Raises
    ------
    InvalidInput
        A body that is no JSON object, or an event type the Data Dam does not take.
    """
    try:
        body = json.loads(record.get("body") or "")
    except (ValueError, RecursionError):
        raise InvalidInput("body is not JSON", field="body") from None
    body = _object(body, "body")
    if "Records" in body or body.get("Event") == "s3:TestEvent":
        return _analysis_results(body, read_object)
    kind = event_type_of(body, record.get("messageAttributes") or {})
    adapter = ADAPTERS.get(kind or "")
    if adapter is None:
        raise InvalidInput(f"event_type {kind!r} is not one the Data Dam takes", field="event_type")
    return adapter(body, sent_time(record.get("attributes") or {}))
