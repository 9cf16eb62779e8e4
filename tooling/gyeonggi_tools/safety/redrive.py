"""Redrive: page again about incidents whose alert workflow failed.

A workflow whose task fails after its retries leaves its input on ``IncidentFailureQueue`` and
marks the incident ``workflow_failed``. The incident stays listed, but nobody is paged about it
any more. Once the cause is fixed, ``gyeonggi safety redrive`` takes the queue's messages: an
incident that is still open and whose workflow failed gets a new execution, named
``{incident_id}-r{n}`` for its n-th redrive, which pages again from the level it had reached.

The execution starts before the incident records it. A redrive that stops between the two is
finished by the next one, which finds the same execution by its name. A message is deleted only
once its incident is restarted, closed, or has a workflow that did not fail; anything else
stays on the queue, with the reason in the report.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, replace
from datetime import datetime
from typing import Any, Literal

from gyeonggi.common.errors import DomainError
from gyeonggi.safety.incident_rules import Incident, record
from gyeonggi.safety.incident_store import IncidentStore
from gyeonggi.safety.incident_workflow import IncidentWorkflow

Outcome = Literal["restarted", "closed", "not_failed", "left"]


@dataclass(frozen=True, slots=True)
class Redriven:
    """What one message came to. ``detail``: the new execution, or why nothing was done."""

    incident_id: str | None
    outcome: Outcome
    detail: str = ""

    def as_dict(self) -> dict[str, Any]:
        return {"incident_id": self.incident_id, "outcome": self.outcome, "detail": self.detail}


def workflow_failed(incident: Incident) -> bool:
    """Its workflow ended by failing, not by running out of levels (``unacknowledged``)."""
    return incident.workflow_ended and incident.state != "unacknowledged"


def restart(
    store: IncidentStore, workflow: IncidentWorkflow, incident_id: str, now: datetime
) -> Redriven:
    """Start a new alert workflow for ``incident_id`` if it is open and its workflow failed.

    Raises
    ------
    NotFound
        No such incident.
    """
    incident = store.get(incident_id)
    if not incident.is_open:
        return Redriven(incident_id, "closed", "an operator closed it; nobody needs paging")
    if not workflow_failed(incident):
        return Redriven(incident_id, "not_failed", f"its workflow did not fail ({incident.state})")
    restarts = sum(1 for entry in incident.timeline if entry.get("event") == "workflow_restarted")
    arn = workflow.start(incident, name=f"{incident_id}-r{restarts + 1}")

    def change(current: Incident) -> Incident:
        if not workflow_failed(current):
            return current  # another redrive recorded it first
        # The token is left alone: the new execution's first wait may have stored one already.
        current = record(current, "workflow_restarted", now, level=current.level, execution=arn)
        return replace(current, workflow_ended=False, execution_arn=arn)

    store.update(incident_id, change)
    return Redriven(incident_id, "restarted", arn)


def incident_of(body: str) -> str:
    """The incident a failure message is about (the failed execution's input).

    Raises
    ------
    ValueError
        The body is not that input.
    """
    try:
        data = json.loads(body)
    except json.JSONDecodeError as exc:
        raise ValueError(f"the message is not JSON ({exc.msg})") from None
    incident_id = data.get("incident_id") if isinstance(data, dict) else None
    if not isinstance(incident_id, str) or not incident_id:
        raise ValueError("the message names no incident_id")
    return incident_id


def redrive(
    sqs: Any,
    queue_url: str,
    store: IncidentStore,
    workflow: IncidentWorkflow,
    now: datetime,
    limit: int = 100,
) -> list[Redriven]:
    """Take up to ``limit`` messages off the failure queue and restart their incidents."""
    results: list[Redriven] = []
    while len(results) < limit:
        messages = sqs.receive_message(
            QueueUrl=queue_url,
            MaxNumberOfMessages=min(10, limit - len(results)),
            VisibilityTimeout=60,
            WaitTimeSeconds=0,
        ).get("Messages", [])
        if not messages:
            break
        for message in messages:
            result = _redrive_one(message["Body"], store, workflow, now)
            if result.outcome != "left":
                sqs.delete_message(QueueUrl=queue_url, ReceiptHandle=message["ReceiptHandle"])
            results.append(result)
    return results


def _redrive_one(
    body: str, store: IncidentStore, workflow: IncidentWorkflow, now: datetime
) -> Redriven:
    try:
        incident_id = incident_of(body)
    except ValueError as exc:
        return Redriven(None, "left", str(exc))
    try:
        return restart(store, workflow, incident_id, now)
    except DomainError as exc:  # NotFound, Conflict: the message waits for a person
        return Redriven(incident_id, "left", str(exc))
    except Exception as exc:  # an AWS error: the message stays for the next redrive
        return Redriven(incident_id, "left", f"{type(exc).__name__}: {exc}")
