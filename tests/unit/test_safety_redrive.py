"""Redrive: incidents whose alert workflow failed page again; nothing else is touched."""

from __future__ import annotations

import json
from dataclasses import replace
from typing import Any

import boto3
import pytest

from gyeonggi.safety.evidence import parse_evidence
from gyeonggi.safety.incident_rules import Incident, open_incident, record
from gyeonggi.safety.incident_store import IncidentStore
from gyeonggi_tools.safety.redrive import incident_of, redrive, restart
from tests.unit.conftest import EVIDENCE_T0, gas_evidence

T0 = EVIDENCE_T0
PREFIX = "arn:aws:states:ap-northeast-2:123456789012:execution:safety-alert"


class Workflow:
    """Starts executions by name; a name started before is found again, as Step Functions
    answers ExecutionAlreadyExists."""

    def __init__(self) -> None:
        self.started: list[tuple[str, dict[str, Any]]] = []

    def start(self, incident: Incident, name: str | None = None) -> str:
        name = name or incident.incident_id
        if name not in [n for n, _ in self.started]:
            self.started.append((name, {"level": incident.level}))
        return f"{PREFIX}:{name}"


def _failed(store: IncidentStore, incident_id: str = "inc-1", **changes: Any) -> Incident:
    """An incident as MarkWorkflowFailed leaves it, at level 2."""
    incident = open_incident(parse_evidence(gas_evidence(complex_id=incident_id)), incident_id, T0)
    store.create(incident, replacing=None)
    fields = {"level": 2, "state": "escalating", "workflow_ended": True, **changes}
    return store.update(
        incident_id, lambda i: replace(record(i, "workflow_failed", T0, level=2), **fields)
    )


def _events(incident: Incident) -> list[str]:
    return [entry["event"] for entry in incident.timeline]


def test_an_open_incident_whose_workflow_failed_pages_again_from_its_level(
    incident_store: IncidentStore,
) -> None:
    wf: Any = Workflow()
    _failed(incident_store)
    result = restart(incident_store, wf, "inc-1", T0)
    assert (result.outcome, result.detail) == ("restarted", f"{PREFIX}:inc-1-r1")
    assert wf.started == [("inc-1-r1", {"level": 2})]
    incident = incident_store.get("inc-1")
    assert not incident.workflow_ended and incident.execution_arn == f"{PREFIX}:inc-1-r1"
    assert _events(incident)[-1] == "workflow_restarted"
    # It is running again: a second redrive of the same message changes nothing.
    assert restart(incident_store, wf, "inc-1", T0).outcome == "not_failed"
    # It fails again: the next redrive is the second, under a new name.
    incident_store.update("inc-1", lambda i: replace(i, workflow_ended=True))
    assert restart(incident_store, wf, "inc-1", T0).detail.endswith(":inc-1-r2")


def test_closed_unacknowledged_and_running_incidents_are_left_as_they_are(
    incident_store: IncidentStore,
) -> None:
    wf: Any = Workflow()
    _failed(incident_store, "inc-closed", status="closed")
    _failed(incident_store, "inc-unacked", state="unacknowledged")
    _failed(incident_store, "inc-running", workflow_ended=False)
    outcomes = {
        i: restart(incident_store, wf, i, T0).outcome
        for i in ("inc-closed", "inc-unacked", "inc-running")
    }
    assert outcomes == {
        "inc-closed": "closed",
        "inc-unacked": "not_failed",
        "inc-running": "not_failed",
    }
    assert wf.started == []


def test_a_redrive_that_stopped_before_its_write_is_finished_by_the_next(
    incident_store: IncidentStore, monkeypatch: pytest.MonkeyPatch
) -> None:
    wf: Any = Workflow()
    _failed(incident_store)

    def lost(*args: Any, **kwargs: Any) -> Incident:
        raise RuntimeError("the process stopped")

    with monkeypatch.context() as patched, pytest.raises(RuntimeError):
        patched.setattr(incident_store, "update", lost)
        restart(incident_store, wf, "inc-1", T0)
    # the execution started; the incident does not say so yet
    assert incident_store.get("inc-1").workflow_ended
    result = restart(incident_store, wf, "inc-1", T0)
    assert result.detail == f"{PREFIX}:inc-1-r1"  # the same execution, found by its name
    assert [name for name, _ in wf.started] == ["inc-1-r1"]


def test_failure_messages_are_read_for_their_incident() -> None:
    assert incident_of(json.dumps({"incident_id": "inc-1", "error": {"Error": "x"}})) == "inc-1"
    for bad in ("not json", "[]", "{}", '{"incident_id": 3}'):
        with pytest.raises(ValueError):
            incident_of(bad)


def test_the_queue_keeps_only_what_could_not_be_redriven(incident_store: IncidentStore) -> None:
    wf: Any = Workflow()
    _failed(incident_store, "inc-1")
    _failed(incident_store, "inc-closed", status="closed")
    sqs = boto3.client("sqs", region_name="ap-northeast-2")
    url = sqs.create_queue(QueueName="incident-failures")["QueueUrl"]
    bodies = [
        json.dumps({"incident_id": "inc-1", "alert": {}, "error": {"Error": "Throttling"}}),
        json.dumps({"incident_id": "inc-closed"}),
        json.dumps({"incident_id": "inc-nowhere"}),
        "not json",
    ]
    for body in bodies:
        sqs.send_message(QueueUrl=url, MessageBody=body)
    results = redrive(sqs, url, incident_store, wf, T0)
    assert sorted((r.incident_id or "-", r.outcome) for r in results) == [
        ("-", "left"),
        ("inc-1", "restarted"),
        ("inc-closed", "closed"),
        ("inc-nowhere", "left"),
    ]
    left = sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10, VisibilityTimeout=0)
    # the two left are invisible for 60 s after the redrive; the others are gone
    assert left.get("Messages", []) == []
    attributes = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["All"])["Attributes"]
    assert attributes["ApproximateNumberOfMessagesNotVisible"] == "2"
    assert attributes["ApproximateNumberOfMessages"] == "0"


def test_redrive_takes_no_more_than_its_limit(incident_store: IncidentStore) -> None:
    sqs = boto3.client("sqs", region_name="ap-northeast-2")
    url = sqs.create_queue(QueueName="incident-failures")["QueueUrl"]
    for n in range(15):
        sqs.send_message(QueueUrl=url, MessageBody=json.dumps({"incident_id": f"inc-{n}"}))
    wf: Any = Workflow()
    assert len(redrive(sqs, url, incident_store, wf, T0, limit=12)) == 12


def test_redrive_command_finds_the_parts_in_the_stack_outputs(
    incident_store: IncidentStore,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    from gyeonggi_tools.cli import main

    monkeypatch.setenv("AWS_DEFAULT_REGION", "ap-northeast-2")
    sfn = boto3.client("stepfunctions", region_name="ap-northeast-2")
    machine = sfn.create_state_machine(
        name="safety-alert",
        definition=json.dumps({"StartAt": "Done", "States": {"Done": {"Type": "Succeed"}}}),
        roleArn="arn:aws:iam::123456789012:role/sfn",
    )["stateMachineArn"]
    template = {
        "Resources": {"Failures": {"Type": "AWS::SQS::Queue"}},
        "Outputs": {
            "IncidentFailureQueueUrl": {"Value": {"Ref": "Failures"}},
            "IncidentsTableName": {"Value": "incidents"},
            "SafetyAlertStateMachineArn": {"Value": machine},
        },
    }
    boto3.client("cloudformation", region_name="ap-northeast-2").create_stack(
        StackName="gyeonggi", TemplateBody=json.dumps(template)
    )
    _failed(incident_store, "inc-1")
    sqs = boto3.client("sqs", region_name="ap-northeast-2")
    url = sqs.list_queues()["QueueUrls"][0]
    sqs.send_message(QueueUrl=url, MessageBody=json.dumps({"incident_id": "inc-1"}))

    assert main(["safety", "redrive", "--stack", "gyeonggi"]) == 0
    out, err = capsys.readouterr()
    assert json.loads(out)["outcome"] == "restarted"
    assert "1 incident(s) paging again, 0 left" in err
    assert sfn.list_executions(stateMachineArn=machine)["executions"][0]["name"] == "inc-1-r1"
    assert main(["safety", "redrive", "--stack", "elsewhere"]) == 1
    assert "error: AWS" in capsys.readouterr().err
    assert main(["safety", "redrive", "--local", "--limit", "0"]) == 2
