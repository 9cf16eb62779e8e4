"""The incident services: evidence in (:func:`ingest`), operators' answers in (:func:`answer`).

Both apply :mod:`gyeonggi.safety.incident_rules` to the stored incident and then tell the
workflow; they take their store and gateways as the ports of :mod:`gyeonggi.safety.ports`.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import datetime
from typing import Literal

from gyeonggi.common.errors import Conflict
from gyeonggi.safety.evidence import Evidence
from gyeonggi.safety.incident_rules import (
    Incident,
    all_clear_by_evidence,
    apply_evidence,
    closed,
    decide,
    new_incident_id,
    open_incident,
    record,
)
from gyeonggi.safety.incident_view import alert_of
from gyeonggi.safety.ports import AlertPublisher, IncidentRecords, IncidentWorkflowPort


@dataclass(frozen=True, slots=True)
class Ingested:
    """What happened to one piece of evidence (``ignored``: a clear with no incident to join)."""

    incident_id: str | None
    outcome: Literal["opened", "joined", "duplicate", "ignored"]
    severity: str


def ingest(
    evidence: Evidence,
    store: IncidentRecords,
    workflow: IncidentWorkflowPort,
    alerts: AlertPublisher,
    now: datetime,
) -> Ingested:
    """Open or join the complex's incident with ``evidence``.

    The incident is stored before its execution starts, and an incident found without an
    execution gets one: a crash between the two cannot leave an incident nobody is alerted
    about (the message is redelivered and the repeat starts the execution). All-clear evidence
    takes the task token off the incident in the same conditional write and answers it after,
    as an operator's answer does: a write that loses a race never leaves a token answered for
    an all-clear that was not stored.

    Raises
    ------
    Conflict
        A concurrent consumer changed the incident; the message should be retried.
    """
    current = store.open_for(evidence.complex_id)
    decision = decide(current, evidence)
    if decision == "ignore":
        return Ingested(None, "ignored", evidence.severity)
    if current is None or decision == "open":
        incident = open_incident(evidence, new_incident_id(now), now)
        store.create(incident, replacing=None if current is None else current.incident_id)
        incident = replace(incident, version=1)
        outcome: Literal["opened", "joined", "duplicate"] = "opened"
    else:
        applied = apply_evidence(current, evidence, now)
        incident, outcome = applied.incident, "duplicate" if applied.duplicate else "joined"
        if not applied.duplicate:
            if applied.severity_raised:
                # Operators hear at once that the hazard is worse, not at the next escalation;
                # published before the write so a failed publish retries the whole message.
                # ``raised_at`` is the evidence's own time: a retry or a repeated delivery
                # carries the same one (the Data Dam keys the step on it).
                alerts.publish(
                    {
                        **alert_of(incident),
                        "event_type": "IncidentSeverityRaised",
                        "raised_at": evidence.ts.isoformat(),
                    }
                )
            token = None
            if applied.became_all_clear:
                incident, token = all_clear_by_evidence(incident, now)
            incident = store.save(incident)
            if not incident.is_open:
                store.release(incident)
            if token is not None:
                # ``False``: the wait ended meanwhile; the next step reads the all-clear.
                workflow.answer(token, "all_clear", by="evidence")
    if incident.execution_arn is None:
        arn = workflow.start(incident)
        incident = store.update(incident.incident_id, lambda i: replace(i, execution_arn=arn))
    return Ingested(incident.incident_id, outcome, incident.severity)


Answer = Literal["acknowledged", "all_clear"]


@dataclass(frozen=True, slots=True)
class Answered:
    """What became of an operator's answer, with the incident as stored afterwards.

    ``delivered``: the waiting step took it. ``deferred``: no wait could take it at that
    moment (one had just timed out, or the workflow was between two waits); the workflow's
    next step reads it from the incident. ``recorded``: the workflow had ended unacknowledged,
    so an acknowledgement is on the timeline only. ``closed``: all-clear for such an incident
    closed it.
    """

    incident: Incident
    outcome: Literal["delivered", "deferred", "recorded", "closed"]


def answer(
    store: IncidentRecords,
    workflow: IncidentWorkflowPort,
    incident_id: str,
    outcome: Answer,
    *,
    by: str,
    note: str | None,
    now: datetime,
) -> Answered:
    """Record an operator's acknowledgement or all-clear, then answer the stored token.

    The answer is written first, with the token taken off the incident in the same
    conditional write: two operators answering at once get one answer and one
    :class:`Conflict`, never two answers to one token, and an answer that misses its wait
    (it timed out a moment before) stays on the incident for the workflow's next step.

    Raises
    ------
    NotFound
        No such incident.
    Conflict
        The incident is closed, or already has this answer.
    """
    taken: list[str] = []

    def change(incident: Incident) -> Incident:
        taken.clear()
        if not incident.is_open:
            raise Conflict(f"incident {incident_id} is closed")
        if outcome == "acknowledged" and incident.state == "acknowledged":
            raise Conflict(f"incident {incident_id} is already acknowledged")
        if outcome == "all_clear" and incident.all_clear and not incident.workflow_ended:
            raise Conflict(f"incident {incident_id} is already all-clear; it is closing")
        entry = {"by": by, "note": note} if note else {"by": by}
        changed = record(incident, outcome, now, level=incident.level, **entry)
        if outcome == "acknowledged":
            changed = replace(changed, state="acknowledged")
        else:
            changed = replace(changed, all_clear=True)
        if changed.workflow_ended:
            return closed(changed, now, outcome) if outcome == "all_clear" else changed
        if changed.task_token:
            taken.append(changed.task_token)
            changed = replace(changed, task_token=None)
        return changed

    incident = store.update(incident_id, change)
    if not incident.is_open:
        store.release(incident)
        return Answered(incident, "closed")
    if incident.workflow_ended:
        return Answered(incident, "recorded")
    if taken and workflow.answer(taken[0], outcome, by=by):
        return Answered(incident, "delivered")
    return Answered(incident, "deferred")
