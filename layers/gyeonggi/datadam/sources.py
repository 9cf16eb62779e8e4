"""What each event the systems already publish becomes in the lake: ``(dataset id, record)``.

The events reach the Data Dam's queue as the systems publish them (SNS with raw delivery: the
body is the event, ``event_type`` a message attribute). A record here is the event flattened,
personal fields and all: ``records.prepare`` applies the dataset's privacy policy next, so the
knowledge of what is personal lives in one place, the catalogue.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping
from datetime import UTC, datetime
from typing import Any

from gyeonggi.common.errors import InvalidInput
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

    The step's time is the incident's opening for the first alert and the publication for the
    later ones; the step names the level, so the same alert published twice is one step.
    """
    kind = str(event.get("event_type") or "IncidentAlert")
    level = event.get("level")
    step = {
        "IncidentAlert": f"alert-level-{level}",
        "IncidentSeverityRaised": f"severity-{event.get('severity')}",
    }.get(kind, kind)
    at = event.get("opened_at") if step == "alert-level-1" else sent_at
    record = {
        "incident_id": event.get("incident_id"),
        "at": at,
        "step": step,
        "complex_id": event.get("complex_id"),
        "severity": event.get("severity"),
        "status": "open",
    }
    return [("safety_incidents", record)]


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


def from_sqs_record(record: Mapping[str, Any]) -> list[tuple[str, Record]]:
    """The lake records one SQS message of the Data Dam's queue carries.

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
    kind = event_type_of(body, record.get("messageAttributes") or {})
    adapter = ADAPTERS.get(kind or "")
    if adapter is None:
        raise InvalidInput(f"event_type {kind!r} is not one the Data Dam takes", field="event_type")
    return adapter(body, sent_time(record.get("attributes") or {}))
