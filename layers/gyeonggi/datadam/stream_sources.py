"""What the systems' DynamoDB stream records become in the lake: ``(dataset id, record)``.

Four systems record what the Data Dam wants only in their own tables; each table's stream
(``StreamSpecification`` in template.yaml) feeds ``DataDamStreamsFunction``, and an adapter per
table turns a record's images into lake records:

=============================  ===================  ========================================
table                          dataset              a row per
=============================  ===================  ========================================
``ComplaintForecastsTable``    complaint_forecasts  ``forecast#<day>`` item written
``IncidentsTable``             safety_alarms        sensor evidence added to a timeline
``FormSubmissionsTable``       form_submissions     state a submission reaches
``PresentationRequestsTable``  wallet_outcomes      request answered (a verification)
``WalletStatusListsTable``     wallet_outcomes      status entry allocated (an issuance)
=============================  ===================  ========================================

A record here is flat and may still hold personal values (a form's RRN, its address):
``records.prepare`` applies the dataset's policy next. Values nobody declared (a form's answers,
a presentation's claims, an incident's operators) are never copied into a record at all.
Removals (TTL expiry, a deleted pointer) are no event for the lake and give nothing.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable, Mapping
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

from gyeonggi.common.clock import KST
from gyeonggi.common.errors import DomainError, InvalidInput
from gyeonggi.complaints.services import BY_CODE as SERVICES

Record = dict[str, Any]
Image = Mapping[str, Any]
#: ``(event name, new image, old image) -> records``; an image is ``None`` when the stream
#: record has none (an INSERT's old image, a REMOVE's new one).
StreamAdapter = Callable[[str, Image | None, Image | None], list[tuple[str, Record]]]


def plain(image: Mapping[str, Any] | None) -> dict[str, Any] | None:
    """A stream image (DynamoDB's typed JSON) as plain values; numbers as int or float."""
    if image is None:
        return None
    from boto3.dynamodb.types import TypeDeserializer

    deserialise = TypeDeserializer().deserialize
    try:
        return {k: _numbers(deserialise(v)) for k, v in image.items()}
    except (TypeError, ValueError, KeyError, AttributeError) as exc:
        raise InvalidInput(f"an image that is not DynamoDB JSON: {exc}", field="dynamodb") from None


def _numbers(value: Any) -> Any:
    if isinstance(value, Decimal):
        return int(value) if value == value.to_integral_value() else float(value)
    if isinstance(value, dict):
        return {k: _numbers(v) for k, v in value.items()}
    if isinstance(value, list | set | frozenset):
        return [_numbers(v) for v in value]
    return value


def _korean_day(moment: Any) -> str | None:
    if not isinstance(moment, str):
        return None
    try:
        parsed = datetime.fromisoformat(moment.replace("Z", "+00:00"))
    except ValueError:
        raise InvalidInput(f"{moment!r} is not a time", field="generated_at") from None
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=UTC)
    return parsed.astimezone(KST).date().isoformat()


def _json(value: Any, name: str) -> Any:
    if value is None or not isinstance(value, str):
        return value
    try:
        return json.loads(value)
    except ValueError:
        raise InvalidInput(f"{name} is not JSON", field=name) from None


def _epoch_seconds(value: Any) -> datetime | None:
    if isinstance(value, int | float) and not isinstance(value, bool):
        return datetime.fromtimestamp(value, UTC)
    return None


def opaque_id(*parts: object) -> str:
    """A stable id that names an event without the key it came from (a request id, a status
    entry: each would lead back to a person through the operational table)."""
    return hashlib.sha256("|".join(str(p) for p in parts).encode()).hexdigest()[:32]


def forecast_item(event: str, new: Image | None, old: Image | None) -> list[tuple[str, Record]]:
    """A ``forecast#<day>`` item of ``ComplaintForecastsTable`` -> ``complaint_forecasts``.

    The forecasts are recomputed every hour over the same days; the dataset's key has the day
    the forecast was made (``as_of``, in Korea), so the first forecast of a day for a day ahead
    is the one kept (the lake keeps what it has; later runs that day are duplicates). Surge
    markers and the surge index share the table and are not forecasts.
    """
    if new is None or not str(new.get("key", "")).startswith("forecast#"):
        return []
    code = new.get("service_code")
    service = SERVICES.get(code) if isinstance(code, str) else None
    return [
        (
            "complaint_forecasts",
            {
                "day": new.get("day"),
                "as_of": _korean_day(new.get("generated_at")),
                "jurisdiction_id": new.get("jurisdiction_id"),
                "service_code": code,
                "category": service.group if service else None,
                "forecast": new.get("forecast"),
                "lower": new.get("lower"),
                "upper": new.get("upper"),
                "model": new.get("model"),
            },
        )
    ]


def incident_item(event: str, new: Image | None, old: Image | None) -> list[tuple[str, Record]]:
    """An ``IncidentsTable`` item -> a ``safety_alarms`` row per sensor alarm it newly holds.

    Every alarm event of the alarm path reaches an incident as evidence (it opens or joins one;
    only a clearing with nothing to clear is dropped), and the incident's timeline keeps it. The
    timeline only grows, so the entries past the old image's are the new ones. The alarm's id
    is the evidence id the alarm path gave it, so an incident written twice lands it once.
    Camera evidence is not an alarm (``camera_detections`` has every analysis).
    """
    if new is None or str(new.get("incident_id", "")).startswith("complex#"):
        return []
    timeline = new.get("timeline") or []
    before = len((old or {}).get("timeline") or [])
    if not isinstance(timeline, list):
        raise InvalidInput("timeline is not a list", field="timeline")
    rows: list[tuple[str, Record]] = []
    for entry in timeline[before:]:
        if not isinstance(entry, Mapping) or entry.get("event") != "evidence":
            continue
        evidence = entry.get("evidence")
        if not isinstance(evidence, Mapping):
            continue
        if evidence.get("source") != "sensor":
            continue
        detail: Mapping[str, Any] = evidence.get("detail") or {}
        if not isinstance(detail, Mapping):
            detail = {}
        alarm_id = detail.get("evidence_id") or opaque_id(
            new.get("complex_id"),
            evidence.get("sensor_id"),
            evidence.get("kind"),
            evidence.get("ts"),
        )
        rows.append(
            (
                "safety_alarms",
                {
                    "alarm_id": alarm_id,
                    "raised_at": evidence.get("ts"),
                    "complex_id": new.get("complex_id"),
                    "sensor_id": evidence.get("sensor_id"),
                    "kind": evidence.get("kind"),
                    # The alarm's own severity; the incident scale's when it has none.
                    "severity": detail.get("alarm_severity") or evidence.get("severity"),
                    "gas": evidence.get("gas"),
                    "value": evidence.get("value"),
                    "limit_value": evidence.get("limit"),
                    "clears": detail.get("clears"),
                },
            )
        )
    return rows


_CHANNELS = {"citizen": "web", "kiosk": "kiosk"}


def submission_item(event: str, new: Image | None, old: Image | None) -> list[tuple[str, Record]]:
    """A ``FormSubmissionsTable`` item -> a ``form_submissions`` row per state it reaches.

    The answers never enter the record: only how many fields were filled in, and the two the
    dataset's policy turns into something safe (the applicant's RRN into a pseudonym and, by
    its birth date, an age band; the address into a city or county when the submission has
    none yet).
    """
    if new is None or (old is not None and old.get("state") == new.get("state")):
        return []
    from gyeonggi.forms.rrn import parse as parse_rrn

    answers = _json(new.get("fields"), "fields") or {}
    if not isinstance(answers, Mapping):
        raise InvalidInput("fields is not an object", field="fields")
    rrn = answers.get("applicant_rrn")
    birth_date = None
    if isinstance(rrn, str):
        try:
            birth_date = parse_rrn(rrn).birth_date
        except DomainError:
            birth_date = None  # a number the form accepted with a warning: no age band
    return [
        (
            "form_submissions",
            {
                "submission_id": new.get("submission_id"),
                "submitted_at": new.get("created_at"),
                "status_at": new.get("updated_at"),
                "form_id": new.get("form_id"),
                "jurisdiction_id": new.get("jurisdiction_id"),
                "address": answers.get("address"),
                "channel": _CHANNELS.get(str(new.get("owner_kind"))),
                "language": new.get("lang"),
                "rrn": rrn if isinstance(rrn, str) and rrn else None,
                "birth_date": birth_date,
                "fields": sum(1 for v in answers.values() if v not in (None, "", [], {})),
                "status": new.get("state"),
            },
        )
    ]


def presentation_item(event: str, new: Image | None, old: Image | None) -> list[tuple[str, Record]]:
    """A ``PresentationRequestsTable`` item once answered -> a ``wallet_outcomes`` verification.

    Recording the answer is one conditional write, so a request is answered once; its outcome
    is the verifier's (``verified``, or the reason code it failed with). The claims in it are
    never read into the record.
    """
    if new is None or "answered_at" not in new:
        return []
    outcome = _json(new.get("outcome"), "outcome") or {}
    if not isinstance(outcome, Mapping):
        raise InvalidInput("outcome is not an object", field="outcome")
    types = sorted(
        {
            str(c.get("vct"))
            for items in (outcome.get("credentials") or {}).values()
            if isinstance(items, list)
            for c in items
            if isinstance(c, Mapping) and c.get("vct")
        }
    )
    verified = bool(outcome.get("verified"))
    return [
        (
            "wallet_outcomes",
            {
                "event_id": opaque_id("verification", new.get("request_id")),
                "at": _epoch_seconds(new.get("answered_at")),
                "operation": "verification",
                "outcome": "success" if verified else "failure",
                "reason_code": None if verified else outcome.get("reason"),
                "credential_type": ",".join(types) or None,
                "verifier_id": new.get("client_id"),
            },
        )
    ]


def status_entry_item(event: str, new: Image | None, old: Image | None) -> list[tuple[str, Record]]:
    """A status entry allocated in ``WalletStatusListsTable`` -> a ``wallet_outcomes`` issuance.

    Every credential the issuer signs gets its own entry, allocated (once: a conditional put)
    just before it is signed. Only the allocation is an event: the list's count and statuses
    change with every allocation and revocation and are not outcomes.
    """
    if event != "INSERT" or new is None or not str(new.get("entry", "")).startswith("idx#"):
        return []
    return [
        (
            "wallet_outcomes",
            {
                "event_id": opaque_id("issuance", new.get("list_id"), new.get("entry")),
                "at": new.get("allocated_at"),
                "operation": "issuance",
                "outcome": "success",
            },
        )
    ]


#: The tables whose streams the Data Dam takes, by the name of their adapter.
STREAM_ADAPTERS: Mapping[str, StreamAdapter] = {
    "complaint_forecasts": forecast_item,
    "incidents": incident_item,
    "form_submissions": submission_item,
    "presentation_requests": presentation_item,
    "wallet_status_lists": status_entry_item,
}


def table_of(event_source_arn: str) -> str:
    """The table a stream ARN belongs to (``...:table/<name>/stream/<label>``)."""
    try:
        return event_source_arn.split(":table/", 1)[1].split("/stream/", 1)[0]
    except IndexError:
        raise InvalidInput(
            "eventSourceARN is not a table's stream", field="eventSourceARN"
        ) from None


def from_stream_record(
    record: Mapping[str, Any], adapters_by_table: Mapping[str, StreamAdapter]
) -> list[tuple[str, Record]]:
    """The lake records one DynamoDB stream record carries.

    Raises
    ------
    InvalidInput
        A record of a table the Data Dam does not take, or that is not a stream record.
    """
    table = table_of(str(record.get("eventSourceARN") or ""))
    adapter = adapters_by_table.get(table)
    if adapter is None:
        raise InvalidInput(f"table {table!r} is not one the Data Dam takes", field="eventSourceARN")
    change = record.get("dynamodb")
    if not isinstance(change, Mapping):
        raise InvalidInput("a stream record without its change", field="dynamodb")
    event = str(record.get("eventName") or "")
    if event == "REMOVE":
        return []
    return adapter(event, plain(change.get("NewImage")), plain(change.get("OldImage")))
