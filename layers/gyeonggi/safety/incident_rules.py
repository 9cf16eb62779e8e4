"""Incident rules: how evidence opens, joins, raises and clears an incident of one complex.

Pure: no AWS, no clock (the caller passes ``now``). :func:`decide` says whether evidence
joins the complex's open incident or opens a new one, :func:`apply_evidence` adds it, and
:func:`record` and :func:`closed` write the timeline. The store is
:mod:`gyeonggi.safety.incident_store`; the services that use these rules are
:mod:`gyeonggi.safety.incident_service` and :mod:`gyeonggi.safety.incident_steps`.

Rules
-----
- Evidence of a complex joins that complex's open incident when its timestamp is within
  ``CORRELATION_WINDOW`` (10 min) of the incident's latest evidence; otherwise it opens a new
  incident. A fire seldom announces itself by one detector only, so 10 min covers the gas
  sensor, the heat detector and the camera of one event without merging separate events.
- Evidence is a duplicate -- ignored -- when the same source id already reported the same
  kind at the same ``ts`` (an SQS redelivery or a device re-publishing).
- Severity is the highest severity of the incident's evidence and never goes down while the
  incident is open (an operator must not see "warning" after "alarm" for the same hazard).
  A gas alarm (sensor, ``alarm`` or above) plus a camera's smoke or fire in the same complex
  raises it to ``critical``: two independent channels agree on a real release and fire.
- ``cleared`` evidence clears its source; when every source that reported is cleared the
  incident is all-clear and the workflow closes it. A clear never opens an incident: it joins
  the open incident its source belongs to, however long the hazard lasted, and is otherwise
  ignored (a sensor back to normal after an operator closed the incident pages nobody).
- An operator's acknowledgement or all-clear is written on the incident before its task token
  is answered (:func:`gyeonggi.safety.incident_service.answer`). A wait that timed out
  meanwhile no longer takes the token, so the workflow's next step reads the answer from the
  incident instead: an answer is never lost to an escalation. Once the workflow has ended
  unacknowledged, an acknowledgement is only recorded and an all-clear closes the incident
  here.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime, timedelta
from typing import Any, Literal

from gyeonggi.safety.evidence import SEVERITY_RANK, Evidence

CORRELATION_WINDOW = timedelta(minutes=10)
CAMERA_HAZARDS = frozenset({"smoke", "fire"})
# States of an incident's workflow, as the API shows them.
State = Literal[
    "notifying", "awaiting_ack", "escalating", "acknowledged", "unacknowledged", "closed"
]
OPEN_STATUS = "open"
CLOSED_STATUS = "closed"


@dataclass(frozen=True, slots=True)
class Incident:
    """An incident of one complex, as stored."""

    incident_id: str
    complex_id: str
    opened_at: datetime
    last_evidence_at: datetime
    severity: str
    state: str = "notifying"
    status: str = OPEN_STATUS
    level: int = 1
    # source key -> "active" | "cleared"
    sources: dict[str, str] = field(default_factory=dict)
    # source keys that raised a gas alarm / a camera hazard (for the critical rule)
    gas_alarms: tuple[str, ...] = ()
    camera_hazards: tuple[str, ...] = ()
    evidence_keys: tuple[str, ...] = ()
    timeline: tuple[dict[str, Any], ...] = ()
    all_clear: bool = False
    execution_arn: str | None = None
    task_token: str | None = None
    # The workflow ended without an acknowledgement: nothing will answer a token any more.
    workflow_ended: bool = False
    version: int = 0

    @property
    def is_open(self) -> bool:
        return self.status == OPEN_STATUS


def new_incident_id(at: datetime) -> str:
    """Sortable by time and a valid Step Functions execution name (it names the execution)."""
    return f"inc-{at.astimezone(UTC):%Y%m%dT%H%M%S}-{uuid.uuid4().hex[:12]}"


def decide(current: Incident | None, evidence: Evidence) -> Literal["join", "open", "ignore"]:
    """Join the complex's open incident, open a new one, or ignore a clear.

    An incident whose workflow ended unacknowledged pages nobody any more: new hazard evidence
    opens a new incident (its workflow pages from level 1) instead of joining it silently. The
    old one stays listed, unacknowledged, until an operator declares its all-clear.
    """
    if current is None or not current.is_open:
        return "ignore" if evidence.cleared else "open"
    if evidence.dedupe_key in current.evidence_keys:
        return "join"  # a repeat: joining finds the duplicate and changes nothing
    if evidence.cleared:
        return "join" if evidence.source_key in current.sources else "ignore"
    if current.workflow_ended:
        return "open"
    if abs(evidence.ts - current.last_evidence_at) <= CORRELATION_WINDOW:
        return "join"
    return "open"


def _is_gas_alarm(evidence: Evidence) -> bool:
    return (
        evidence.source == "sensor"
        and not evidence.kind.startswith("fault")
        and not evidence.cleared
        and SEVERITY_RANK[evidence.severity] >= SEVERITY_RANK["alarm"]
        and (evidence.gas is not None or evidence.kind in ("threshold_high", "stel_exceeded"))
    )


def _is_camera_hazard(evidence: Evidence) -> bool:
    return evidence.source == "camera" and evidence.kind in CAMERA_HAZARDS


def severity_of(incident: Incident) -> str:
    """The critical rule on top of the incident's recorded severity."""
    gas = any(incident.sources.get(k) == "active" for k in incident.gas_alarms)
    smoke = any(incident.sources.get(k) == "active" for k in incident.camera_hazards)
    if gas and smoke:
        return "critical"
    return incident.severity


@dataclass(frozen=True, slots=True)
class Applied:
    """What one piece of evidence did to an incident."""

    incident: Incident
    duplicate: bool = False
    severity_raised: bool = False
    became_all_clear: bool = False


def open_incident(evidence: Evidence, incident_id: str, now: datetime) -> Incident:
    """A new incident started by ``evidence`` (not yet stored)."""
    empty = Incident(
        incident_id=incident_id,
        complex_id=evidence.complex_id,
        opened_at=now,
        last_evidence_at=evidence.ts,
        severity=evidence.severity,
        timeline=({"at": now.isoformat(), "event": "opened"},),
    )
    return apply_evidence(empty, evidence, now).incident


def apply_evidence(incident: Incident, evidence: Evidence, now: datetime) -> Applied:
    """Add ``evidence`` to ``incident``'s timeline and recompute severity and all-clear."""
    if evidence.dedupe_key in incident.evidence_keys:
        return Applied(incident, duplicate=True)
    sources = dict(incident.sources)
    sources[evidence.source_key] = "cleared" if evidence.cleared else "active"
    gas = incident.gas_alarms
    if _is_gas_alarm(evidence) and evidence.source_key not in gas:
        gas = (*gas, evidence.source_key)
    hazards = incident.camera_hazards
    if _is_camera_hazard(evidence) and evidence.source_key not in hazards:
        hazards = (*hazards, evidence.source_key)
    before = SEVERITY_RANK[incident.severity]
    recorded = incident.severity
    if not evidence.cleared and SEVERITY_RANK[evidence.severity] > before:
        recorded = evidence.severity
    timeline: list[dict[str, Any]] = [
        {"at": now.isoformat(), "event": "evidence", "evidence": evidence.as_dict()}
    ]
    updated = replace(
        incident,
        last_evidence_at=max(incident.last_evidence_at, evidence.ts),
        severity=recorded,
        sources=sources,
        gas_alarms=gas,
        camera_hazards=hazards,
        evidence_keys=(*incident.evidence_keys, evidence.dedupe_key),
    )
    severity = max(severity_of(updated), recorded, key=SEVERITY_RANK.__getitem__)
    raised = SEVERITY_RANK[severity] > before
    if raised:
        timeline.append({"at": now.isoformat(), "event": "severity_raised", "severity": severity})
    all_clear = bool(sources) and all(v == "cleared" for v in sources.values())
    became = all_clear and not incident.all_clear
    if became:
        timeline.append({"at": now.isoformat(), "event": "all_clear", "by": "evidence"})
    final = replace(
        updated,
        severity=severity,
        all_clear=all_clear,
        timeline=(*incident.timeline, *timeline),
    )
    return Applied(final, severity_raised=raised and incident.version > 0, became_all_clear=became)


def record(incident: Incident, event: str, now: datetime, **details: Any) -> Incident:
    """``incident`` with one more timeline entry."""
    entry = {"at": now.isoformat(), "event": event, **details}
    return replace(incident, timeline=(*incident.timeline, entry))


def closed(incident: Incident, now: datetime, outcome: str | None) -> Incident:
    """``incident`` closed; the caller releases the complex's pointer once it is stored."""
    incident = record(incident, "closed", now, outcome=outcome)
    return replace(incident, state="closed", status=CLOSED_STATUS, task_token=None)


def all_clear_by_evidence(incident: Incident, now: datetime) -> tuple[Incident, str | None]:
    """The all-clear incident to store, and the task token to answer once it is stored."""
    if incident.workflow_ended:
        # Nothing waits for a token any more: the evidence closes the incident itself.
        return closed(incident, now, "all_clear"), None
    # No token: between two waits; the next step sees ``all_clear`` on the incident.
    return replace(incident, task_token=None), incident.task_token
