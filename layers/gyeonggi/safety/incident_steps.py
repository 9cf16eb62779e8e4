"""The safety-alert workflow's steps: task tokens, levels and the timeline of an incident.

Each Task of ``statemachines/safety_alert.asl.json`` invokes the steps function with an
``action``; the step writes the incident (the one record operators read) and tells the state
machine what happens next. The two ``await_*`` actions run under
``lambda:invoke.waitForTaskToken``: they store the token and return, and an operator's answer
or all-clear evidence answers it (:func:`gyeonggi.safety.incident_service.answer`).

An answer can miss its wait: the wait times out, and the operator's answer lands before the
next step runs. Every step after a timeout therefore reads the incident first. ``escalate``
and ``unacknowledged`` return the answer found there instead of escalating, and an
``await_*`` step that finds one answers its own token at once. An answer is never lost to an
escalation.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import datetime
from typing import Any

from gyeonggi.common.errors import InvalidInput
from gyeonggi.safety.incident_rules import Incident, closed, record
from gyeonggi.safety.incident_view import alert_of
from gyeonggi.safety.ports import IncidentRecords, IncidentWorkflowPort

ACTIONS = (
    "await_ack",
    "await_all_clear",
    "escalate",
    "unacknowledged",
    "close",
    "workflow_failed",
)


@dataclass(frozen=True, slots=True)
class StepRequest:
    """One step's payload, as the state machine sends it."""

    action: str
    incident_id: str
    task_token: str | None = None
    # ``Notify``'s result: ``{"message_id"}``, or its Catch's ``{"Error", "Cause"}``.
    notification: dict[str, Any] | None = None
    outcome: str | None = None
    # ``escalate``: the level the workflow escalates from (a retried step must not skip one).
    level: int | None = None


@dataclass(frozen=True, slots=True)
class StepResult:
    """What the state machine gets back, and what the handler counts as metrics."""

    output: dict[str, Any]
    counts: tuple[str, ...] = ()


def parse_step(event: Any) -> StepRequest:
    """Read a step's payload.

    Raises
    ------
    InvalidInput
        An unknown action, no incident id, or an ``await_*`` action without a task token.
    """
    if not isinstance(event, dict):
        raise InvalidInput("the step payload must be a JSON object")
    action, incident_id = event.get("action"), event.get("incident_id")
    if action not in ACTIONS or not isinstance(incident_id, str) or not incident_id:
        raise InvalidInput(f"unknown action {action!r} or no incident_id")
    token = event.get("task_token")
    if action.startswith("await_") and not (isinstance(token, str) and token):
        raise InvalidInput(f"{action} needs the task token", field="task_token")
    notification = event.get("notification")
    outcome = event.get("outcome")
    level = event.get("level")
    if level is not None and (isinstance(level, bool) or not isinstance(level, int) or level < 1):
        raise InvalidInput("level must be a positive integer", field="level")
    return StepRequest(
        action=action,
        incident_id=incident_id,
        task_token=token if isinstance(token, str) else None,
        notification=notification if isinstance(notification, dict) else None,
        outcome=outcome if isinstance(outcome, str) else None,
        level=level,
    )


def _answered(incident: Incident, waiting_for: str = "ack") -> str | None:
    """The answer already on the incident, if any, for a workflow waiting for ``waiting_for``.

    While the workflow waits for an acknowledgement, state ``acknowledged`` can only be an
    operator's answer that no wait took; afterwards it is the normal state.
    """
    if incident.all_clear:
        return "all_clear"
    if waiting_for == "ack" and incident.state == "acknowledged":
        return "acknowledged"
    return None


def _notified(incident: Incident, notification: dict[str, Any] | None, now: datetime) -> Incident:
    if notification is None:
        return incident
    if "Error" in notification:
        # The alert did not go out: say so and keep waiting, because the incident stays in
        # front of operators (the list shows it) whether or not the topic delivered.
        return record(
            incident,
            "notification_failed",
            now,
            level=incident.level,
            error=str(notification["Error"]),
        )
    return record(
        incident, "notified", now, level=incident.level, message_id=notification.get("message_id")
    )


def _await(
    request: StepRequest,
    store: IncidentRecords,
    workflow: IncidentWorkflowPort,
    now: datetime,
    waiting_for: str,
) -> StepResult:
    token = str(request.task_token)
    found: list[str] = []

    def change(incident: Incident) -> Incident:
        found.clear()
        incident = _notified(incident, request.notification, now)
        answer = _answered(incident, waiting_for)
        if answer is not None:
            found.append(answer)
            return incident
        incident = record(incident, f"awaiting_{waiting_for}", now, level=incident.level)
        state = "awaiting_ack" if waiting_for == "ack" else "acknowledged"
        return replace(incident, state=state, task_token=token)

    store.update(request.incident_id, change)
    if found:
        # The answer came while no token was stored: this wait takes it at once.
        workflow.answer(token, found[0], deferred=True)
    failed = request.notification is not None and "Error" in request.notification
    return StepResult({}, ("IncidentNotificationFailed",) if failed else ())


def _escalate(request: StepRequest, store: IncidentRecords, now: datetime) -> StepResult:
    found: list[str] = []

    def change(incident: Incident) -> Incident:
        found.clear()
        answer = _answered(incident)
        if answer is not None:
            found.append(answer)
            return incident
        if request.level is not None and incident.level > request.level:
            # This step ran already and is retried (it timed out or its answer was lost):
            # escalating again would skip a level nobody was paged at.
            found.append("escalated")
            return incident
        level = incident.level + 1
        incident = record(incident, "escalated", now, level=level)
        return replace(incident, level=level, state="escalating", task_token=None)

    incident = store.update(request.incident_id, change)
    # The next notification carries the severity as it is now, raised meanwhile or not.
    output = {"outcome": found[0] if found else "escalated", "alert": alert_of(incident)}
    return StepResult(output, () if found else ("IncidentEscalated",))


def _unacknowledged(request: StepRequest, store: IncidentRecords, now: datetime) -> StepResult:
    found: list[str] = []

    def change(incident: Incident) -> Incident:
        found.clear()
        # ``workflow_ended``: this step ran already and is retried; say the same again.
        answer = "unacknowledged" if incident.workflow_ended else _answered(incident)
        if answer is not None:
            found.append(answer)
            return incident
        incident = record(incident, "unacknowledged", now, level=incident.level)
        return replace(incident, state="unacknowledged", task_token=None, workflow_ended=True)

    store.update(request.incident_id, change)
    if found:
        return StepResult({"outcome": found[0]})
    return StepResult({"outcome": "unacknowledged"}, ("IncidentUnacknowledged",))


def _close(request: StepRequest, store: IncidentRecords, now: datetime) -> StepResult:
    incident = store.update(
        request.incident_id,
        lambda i: closed(i, now, request.outcome) if i.is_open else i,
    )
    store.release(incident)
    return StepResult({})


def _workflow_failed(request: StepRequest, store: IncidentRecords, now: datetime) -> StepResult:
    """A task failed after its retries and the execution is ending (its input is on the
    failure queue). Said on the incident, so nothing waits on a workflow that is gone: new
    hazard evidence opens an incident that pages again, and answers are recorded or close it.
    """

    def change(incident: Incident) -> Incident:
        if incident.workflow_ended or not incident.is_open:
            return incident  # a retry, or nothing left to say
        incident = record(incident, "workflow_failed", now, level=incident.level)
        return replace(incident, task_token=None, workflow_ended=True)

    store.update(request.incident_id, change)
    return StepResult({"outcome": "workflow_failed"}, ("IncidentWorkflowFailed",))


def run_step(
    request: StepRequest, store: IncidentRecords, workflow: IncidentWorkflowPort, now: datetime
) -> StepResult:
    """Run one step of the incident's workflow.

    Raises
    ------
    NotFound
        The incident does not exist.
    Conflict
        The incident kept changing under the step (the state machine retries it).
    """
    steps: dict[str, Callable[[], StepResult]] = {
        "await_ack": lambda: _await(request, store, workflow, now, "ack"),
        "await_all_clear": lambda: _await(request, store, workflow, now, "all_clear"),
        "escalate": lambda: _escalate(request, store, now),
        "unacknowledged": lambda: _unacknowledged(request, store, now),
        "close": lambda: _close(request, store, now),
        "workflow_failed": lambda: _workflow_failed(request, store, now),
    }
    return steps[request.action]()
