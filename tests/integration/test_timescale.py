"""Local runs shorten waits and retries without touching the definitions."""

from __future__ import annotations

import json
import time
from typing import Any

import pytest

from localcloud import timescale
from localcloud.cloud import LocalCloud

pytestmark = pytest.mark.integration

DEFINITION = {
    "StartAt": "Wait",
    "States": {
        "Wait": {"Type": "Wait", "Seconds": 120, "Next": "Fail"},
        "Fail": {
            "Type": "Task",
            "Resource": "arn:aws:states:::sqs:sendMessage",
            "Parameters": {"QueueUrl": "https://sqs.ap-northeast-2.amazonaws.com/1/none"},
            "Retry": [
                {
                    "ErrorEquals": ["States.ALL"],
                    "IntervalSeconds": 60,
                    "MaxAttempts": 2,
                    "BackoffRate": 2.0,
                }
            ],
            "Catch": [{"ErrorEquals": ["States.ALL"], "Next": "Done"}],
            "End": True,
        },
        "Done": {"Type": "Succeed"},
    },
}


def _run(cloud: LocalCloud, name: str, definition: dict[str, Any]) -> tuple[str, float, list[str]]:
    """Create a state machine, run it once to its end: status, seconds taken, history types."""
    sfn = cloud.client("stepfunctions")
    arn = sfn.create_state_machine(
        name=name, definition=json.dumps(definition), roleArn="arn:aws:iam::123456789012:role/probe"
    )["stateMachineArn"]
    started = time.monotonic()
    execution = sfn.start_execution(stateMachineArn=arn, name="probe")["executionArn"]

    def ended() -> dict[str, Any] | None:
        desc = sfn.describe_execution(executionArn=execution)
        return desc if desc["status"] != "RUNNING" else None

    desc = cloud.wait_for(ended, timeout=20, what=f"the {name} execution")
    elapsed = time.monotonic() - started
    history = sfn.get_execution_history(executionArn=execution)["events"]
    return str(desc["status"]), elapsed, [e["type"] for e in history]


def test_a_two_minute_wait_and_three_minutes_of_retries_take_seconds(cloud: LocalCloud) -> None:
    assert timescale.factor() == 0.01
    status, elapsed, events = _run(cloud, "timescale-probe", DEFINITION)
    # 120 s + 60 s + 120 s of real time scaled by 0.01 is 3 s; allow for a slow machine.
    assert status == "SUCCEEDED"
    assert 2.5 < elapsed < 15
    assert events.count("TaskFailed") == 3  # the definition is untouched


def _guarded_step(function: str, queue_url: str) -> dict:
    """A plain Lambda task with a 5 s guard, then a task-token wait of 100 s nobody answers."""
    return {
        "StartAt": "Step",
        "States": {
            "Step": {
                "Type": "Task",
                "Resource": "arn:aws:states:::lambda:invoke",
                "Parameters": {"FunctionName": function, "Payload": {"action": "probe"}},
                "TimeoutSeconds": 5,
                "Catch": [
                    {"ErrorEquals": ["States.Timeout"], "Next": "GuardScaled"},
                    {"ErrorEquals": ["States.ALL"], "ResultPath": "$.error", "Next": "Wait"},
                ],
                "ResultPath": "$.step",
                "Next": "Wait",
            },
            "Wait": {
                "Type": "Task",
                "Resource": "arn:aws:states:::sqs:sendMessage.waitForTaskToken",
                "Parameters": {"QueueUrl": queue_url, "MessageBody": {"token.$": "$$.Task.Token"}},
                "TimeoutSeconds": 100,
                "Catch": [{"ErrorEquals": ["States.Timeout"], "Next": "Done"}],
                "End": True,
            },
            "GuardScaled": {"Type": "Fail", "Error": "GuardScaled"},
            "Done": {"Type": "Succeed"},
        },
    }


def test_a_task_token_wait_is_scaled_but_a_plain_tasks_guard_is_not(
    cloud: LocalCloud, monkeypatch: pytest.MonkeyPatch
) -> None:
    # The step takes 0.5 s: within its 5 s guard, but ten times the guard scaled to 1 %.
    original = cloud.runner.invoke

    def slow_invoke(fn: Any, event: Any) -> tuple[str, bool, str]:
        if "probe" in str(event):
            time.sleep(0.5)
        return original(fn, event)

    monkeypatch.setattr(cloud.runner, "invoke", slow_invoke)
    queue_url = cloud.client("sqs").create_queue(QueueName="timescale-token-probe")["QueueUrl"]
    definition = _guarded_step(cloud.physical_id("IncidentStepsFunction"), queue_url)
    status, elapsed, events = _run(cloud, "timescale-guard-probe", definition)
    assert status == "SUCCEEDED", events
    # the 100 s token wait timed out in about 1 s; the step's 5 s guard did not fire at 0.05 s
    assert events.count("TaskTimedOut") == 1
    assert 1.0 < elapsed < 15
