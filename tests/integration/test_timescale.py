"""Local runs shorten waits and retries without touching the definitions."""

from __future__ import annotations

import json
import time

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


def test_a_two_minute_wait_and_three_minutes_of_retries_take_seconds(cloud: LocalCloud) -> None:
    assert timescale.factor() == 0.01
    sfn = cloud.client("stepfunctions")
    arn = sfn.create_state_machine(
        name="timescale-probe",
        definition=json.dumps(DEFINITION),
        roleArn="arn:aws:iam::123456789012:role/probe",
    )["stateMachineArn"]
    started = time.monotonic()
    execution = sfn.start_execution(stateMachineArn=arn, name="probe")["executionArn"]

    def ended() -> dict | None:
        desc = sfn.describe_execution(executionArn=execution)
        return desc if desc["status"] != "RUNNING" else None

    desc = cloud.wait_for(ended, timeout=20, what="the probe execution")
    elapsed = time.monotonic() - started
    # 120 s + 60 s + 120 s of real time scaled by 0.01 is 3 s; allow for a slow machine.
    assert desc["status"] == "SUCCEEDED"
    assert 2.5 < elapsed < 15
    history = sfn.get_execution_history(executionArn=execution)["events"]
    assert [e["type"] for e in history].count("TaskFailed") == 3  # the definition is untouched
