"""The safety path on LocalStack: a gas alarm opens an incident whose alert workflow notifies,
waits for an acknowledgement in real time, and escalates when nobody answers.

The reading is sent by the session's ``gas_leak`` fixture as soon as the stack is up (the
first wait is 120 s), so this test mostly finds the workflow where the other tests left it.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

import pytest

from gyeonggi.safety.incident_store import IncidentStore
from localcloud.cloud import wait_for
from tests.localstack.conftest import GAS_LEAK_COMPLEX

pytestmark = pytest.mark.localstack

#: The first acknowledgement wait (statemachines/safety_alert.asl.json, AwaitAck1).
FIRST_WAIT_S = 120


def test_an_unacknowledged_gas_alarm_escalates_to_level_two(
    stack: dict[str, Any], aws: Callable[[str], Any], dynamodb: Any, gas_leak: dict[str, Any]
) -> None:
    incidents = IncidentStore(stack["resources"]["IncidentsTable"], dynamodb=dynamodb)

    # Given the CO reading of 900 ppm: the alarm path raised evidence, an incident opened
    incident = wait_for(
        lambda: incidents.open_for(GAS_LEAK_COMPLEX), 120, interval=1, what="the incident"
    )
    assert incident.severity in ("alarm", "critical")
    assert incident.execution_arn, "the incident's workflow was not started"

    # When nobody acknowledges within the first wait
    elapsed = (datetime.now(UTC) - gas_leak["sent_at"]).total_seconds()
    budget = max(FIRST_WAIT_S - elapsed, 0) + 120

    def escalated() -> Any:
        current = incidents.get(incident.incident_id)
        return current if current.level >= 2 else None

    # Then the workflow escalates to level 2 and is still running, waiting at that level
    current = wait_for(escalated, budget, interval=2, what="the escalation to level 2")
    events = [entry["event"] for entry in current.timeline]
    assert "escalated" in events, events
    execution = aws("stepfunctions").describe_execution(executionArn=incident.execution_arn)
    assert execution["status"] == "RUNNING"
    history = aws("stepfunctions").get_execution_history(
        executionArn=incident.execution_arn, maxResults=200
    )["events"]
    entered = [
        e["stateEnteredEventDetails"]["name"] for e in history if "stateEnteredEventDetails" in e
    ]
    assert "AwaitAck1" in entered and "AwaitAck2" in entered, entered
