"""The safety-alert workflow's bookkeeping: task tokens, levels and the timeline of an incident.

One small function for every step (``action`` in the payload) keeps the incident record the
single place an operator reads; the state machine only decides what happens next. The two
``await_*`` actions run under ``lambda:invoke.waitForTaskToken``: they store the token and
return, and the API (or all-clear evidence) answers it.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace
from typing import Any

from gyeonggi.common.config import Settings
from gyeonggi.common.errors import InvalidInput
from gyeonggi.common.observability import observability
from gyeonggi.safety.incidents import (
    CLOSED_STATUS,
    Incident,
    IncidentStore,
    IncidentWorkflow,
    alert_of,
    now_utc,
    record,
)

logger, tracer, metrics = observability()


class StepSettings(Settings):
    incidents_table: str


settings = StepSettings.from_env()
store = IncidentStore(settings.incidents_table)
workflow = IncidentWorkflow()


def _await(event: dict[str, Any], state: str, waiting_for: str) -> dict[str, Any]:
    token = str(event["task_token"])
    notification = event.get("notification")

    def change(incident: Incident) -> Incident:
        now = now_utc()
        if isinstance(notification, dict):
            if "Error" in notification:
                # The alert did not go out: say so on the timeline and keep waiting, because
                # the incident must stay in front of operators (the list shows it) regardless.
                incident = record(
                    incident,
                    "notification_failed",
                    now,
                    level=incident.level,
                    error=str(notification.get("Error")),
                )
                metrics.add_metric(name="IncidentNotificationFailed", unit="Count", value=1)
            else:
                incident = record(
                    incident,
                    "notified",
                    now,
                    level=incident.level,
                    message_id=notification.get("message_id"),
                )
        incident = record(incident, f"awaiting_{waiting_for}", now, level=incident.level)
        return replace(incident, state=state, task_token=token)

    incident = store.update(str(event["incident_id"]), change)
    if incident.all_clear:
        # All-clear evidence came while no token was stored: answer our own wait.
        workflow.answer(token, "all_clear", by="evidence")
    return {}


def await_ack(event: dict[str, Any]) -> dict[str, Any]:
    return _await(event, "awaiting_ack", "ack")


def await_all_clear(event: dict[str, Any]) -> dict[str, Any]:
    return _await(event, "acknowledged", "all_clear")


def escalate(event: dict[str, Any]) -> dict[str, Any]:
    def change(incident: Incident) -> Incident:
        level = incident.level + 1
        incident = record(incident, "escalated", now_utc(), level=level)
        return replace(incident, level=level, state="escalating", task_token=None)

    incident = store.update(str(event["incident_id"]), change)
    metrics.add_metric(name="IncidentEscalated", unit="Count", value=1)
    # The next notification carries the severity as it is now, raised meanwhile or not.
    return alert_of(incident)


def unacknowledged(event: dict[str, Any]) -> dict[str, Any]:
    def change(incident: Incident) -> Incident:
        incident = record(incident, "unacknowledged", now_utc(), level=incident.level)
        return replace(incident, state="unacknowledged", task_token=None)

    store.update(str(event["incident_id"]), change)
    metrics.add_metric(name="IncidentUnacknowledged", unit="Count", value=1)
    return {}


def close(event: dict[str, Any]) -> dict[str, Any]:
    def change(incident: Incident) -> Incident:
        incident = record(incident, "closed", now_utc(), outcome=event.get("outcome"))
        return replace(incident, state="closed", status=CLOSED_STATUS, task_token=None)

    incident = store.update(str(event["incident_id"]), change)
    store.release(incident)
    return {}


ACTIONS: dict[str, Callable[[dict[str, Any]], dict[str, Any]]] = {
    "await_ack": await_ack,
    "await_all_clear": await_all_clear,
    "escalate": escalate,
    "unacknowledged": unacknowledged,
    "close": close,
}


@logger.inject_lambda_context
@tracer.capture_lambda_handler
@metrics.log_metrics
def handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    action = ACTIONS.get(str(event.get("action")))
    if action is None or not event.get("incident_id"):
        raise InvalidInput(f"unknown action {event.get('action')!r} or no incident_id")
    logger.append_keys(incident_id=event["incident_id"], action=event["action"])
    return action(event)
