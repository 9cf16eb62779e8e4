"""The safety-alert workflow's steps and operators' answers, against moto DynamoDB.

Each race between an operator's answer and a wait's timeout is played here in each order,
step by step, with a stand-in for Step Functions whose tokens die when their wait times out.
"""

from __future__ import annotations

import json
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest

from gyeonggi.common.errors import Conflict, InvalidInput, NotFound
from gyeonggi.safety.evidence import parse_evidence
from gyeonggi.safety.incident_rules import Incident, open_incident
from gyeonggi.safety.incident_service import Answered, answer, ingest
from gyeonggi.safety.incident_steps import StepResult, parse_step, run_step
from gyeonggi.safety.incident_store import IncidentStore
from tests.conftest import ROOT, load_event
from tests.fakes.safety import FakeAlerts, FakeWorkflow
from tests.unit.conftest import EVIDENCE_T0, gas_evidence

T0 = EVIDENCE_T0
GAS = gas_evidence()


@pytest.fixture
def store(incident_store: IncidentStore) -> IncidentStore:
    return incident_store


@pytest.fixture
def wf() -> FakeWorkflow:
    # Tokens die when their wait times out: the races below depend on it.
    return FakeWorkflow(only_waiting_tokens=True)


@pytest.fixture
def incident_id(store: IncidentStore) -> str:
    incident = open_incident(parse_evidence(GAS), "inc-1", T0)
    store.create(incident, replacing=None)
    return incident.incident_id


def _step(store: IncidentStore, wf: FakeWorkflow, action: str, **payload: Any) -> StepResult:
    request = parse_step({"action": action, "incident_id": "inc-1", **payload})
    return run_step(request, store, wf, T0)


def _wait(store: IncidentStore, wf: FakeWorkflow, token: str, **payload: Any) -> StepResult:
    """An ``await_ack`` step whose wait is live (its token can be answered)."""
    wf.waiting.add(token)
    notification = payload.pop("notification", {"message_id": f"m-{token}"})
    return _step(store, wf, "await_ack", task_token=token, notification=notification, **payload)


def _timed_out(wf: FakeWorkflow, token: str) -> None:
    wf.waiting.discard(token)


def _answer(
    store: IncidentStore,
    wf: FakeWorkflow,
    outcome: Any,
    note: str | None = None,
    incident: str = "inc-1",
) -> Answered:
    return answer(store, wf, incident, outcome, by="operator-kim", note=note, now=T0)


def _events(incident: Incident) -> list[str]:
    return [entry["event"] for entry in incident.timeline]


# ------------------------------------------------------------------ the steps


def test_step_payloads_are_checked() -> None:
    for bad in (
        {"action": "dance", "incident_id": "inc-1"},
        {"action": "escalate"},
        {"action": "await_ack", "incident_id": "inc-1"},
        {"action": "escalate", "incident_id": "inc-1", "level": "2"},
        {"action": "escalate", "incident_id": "inc-1", "level": 0},
        ["escalate"],
    ):
        with pytest.raises(InvalidInput):
            parse_step(bad)


def test_the_sample_event_escalates_an_unknown_incident_and_fails(store: IncidentStore) -> None:
    request = parse_step(load_event("safety_incident_steps/escalate_unknown_incident.json"))
    wf = FakeWorkflow(only_waiting_tokens=True)
    with pytest.raises(NotFound):
        run_step(request, store, wf, T0)


def test_a_wait_stores_its_token_and_a_timeout_escalates(
    store: IncidentStore, wf: FakeWorkflow, incident_id: str
) -> None:
    assert _wait(store, wf, "t1") == StepResult({})
    waiting = store.get(incident_id)
    assert (waiting.state, waiting.task_token) == ("awaiting_ack", "t1")
    assert _events(waiting)[-2:] == ["notified", "awaiting_ack"]
    _timed_out(wf, "t1")
    escalated = _step(store, wf, "escalate")
    assert escalated.output["outcome"] == "escalated"
    assert escalated.output["alert"]["level"] == 2
    assert escalated.counts == ("IncidentEscalated",)
    incident = store.get(incident_id)
    assert (incident.state, incident.level, incident.task_token) == ("escalating", 2, None)


def test_a_retried_escalate_does_not_skip_a_level(
    store: IncidentStore, wf: FakeWorkflow, incident_id: str
) -> None:
    """Escalate timed out (or its answer was lost) after it wrote level 2: the retry names
    level 1 again and gets level 2 back, not level 3."""
    _wait(store, wf, "t1")
    _timed_out(wf, "t1")
    first = _step(store, wf, "escalate", level=1)
    again = _step(store, wf, "escalate", level=1)
    assert first.output["alert"]["level"] == again.output["alert"]["level"] == 2
    assert again.output["outcome"] == "escalated" and again.counts == ()
    incident = store.get(incident_id)
    assert incident.level == 2 and _events(incident).count("escalated") == 1
    # the next level's own timeout escalates from 2
    assert _step(store, wf, "escalate", level=2).output["alert"]["level"] == 3


def test_only_plain_steps_retry_a_timeout_and_escalate_names_its_level() -> None:
    """A task-token wait's States.Timeout is the acknowledgement window: never retried. Every
    other Lambda step is idempotent, so a step that timed out or crashed runs again."""
    states = json.loads(
        Path(ROOT, "statemachines/safety_alert.asl.json").read_text(encoding="utf-8")
    )["States"]
    for name, state in states.items():
        if not state.get("Resource", "").startswith("arn:aws:states:::lambda:invoke"):
            continue
        retried = {error for r in state["Retry"] for error in r["ErrorEquals"]}
        assert "Lambda.ClientExecutionTimeoutException" in retried, name
        waits = state["Resource"].endswith(".waitForTaskToken")
        assert ("States.Timeout" in retried) is not waits, name
    assert states["Escalate"]["Parameters"]["Payload"]["level.$"] == "$.alert.level"


def test_a_failed_notification_is_recorded_and_the_wait_goes_on(
    store: IncidentStore, wf: FakeWorkflow, incident_id: str
) -> None:
    # Notify's Catch puts the error where the notification's result would be
    sample = load_event("safety_incident_steps/await_ack_after_failed_notification.json")
    token = sample["task_token"]
    wf.waiting.add(token)
    stand_in: Any = wf
    result = run_step(parse_step({**sample, "incident_id": incident_id}), store, stand_in, T0)
    assert result.counts == ("IncidentNotificationFailed",)
    incident = store.get(incident_id)
    entry = next(e for e in incident.timeline if e["event"] == "notification_failed")
    assert (entry["level"], entry["error"]) == (1, "SNS.NotFoundException")
    assert "notified" not in _events(incident)
    assert (incident.state, incident.task_token) == ("awaiting_ack", token)
    assert [i.incident_id for i in store.list("open")] == [incident_id]
    # the operator can still answer the wait
    assert _answer(store, wf, "acknowledged").outcome == "delivered"
    assert wf.answered == [(token, "acknowledged")]


def test_nobody_answers_at_the_last_level(
    store: IncidentStore, wf: FakeWorkflow, incident_id: str
) -> None:
    for level, token in enumerate(("t1", "t2", "t3"), start=1):
        _wait(store, wf, token)
        _timed_out(wf, token)
        if level < 3:
            assert _step(store, wf, "escalate").output["outcome"] == "escalated"
    result = _step(store, wf, "unacknowledged")
    assert result == StepResult({"outcome": "unacknowledged"}, ("IncidentUnacknowledged",))
    incident = store.get(incident_id)
    assert (incident.state, incident.level, incident.status) == ("unacknowledged", 3, "open")
    assert incident.workflow_ended and incident.task_token is None
    assert _events(incident).count("escalated") == 2 and _events(incident)[-1] == "unacknowledged"
    assert [i.incident_id for i in store.list("open")] == [incident_id]
    # the state machine retries the step: same answer, nothing written twice
    assert _step(store, wf, "unacknowledged").output == {"outcome": "unacknowledged"}
    assert store.get(incident_id).timeline == incident.timeline


def test_close_closes_once_and_frees_the_complex(
    store: IncidentStore, wf: FakeWorkflow, incident_id: str
) -> None:
    _step(store, wf, "close", outcome="all_clear")
    _step(store, wf, "close", outcome="all_clear")  # a retry
    incident = store.get(incident_id)
    assert (incident.state, incident.status) == ("closed", "closed")
    assert _events(incident).count("closed") == 1
    assert store.open_for("banwol") is None


# ------------------------------------------------------------------ operators' answers


def test_an_ack_answers_the_live_wait_and_a_second_one_conflicts(
    store: IncidentStore, wf: FakeWorkflow, incident_id: str
) -> None:
    _wait(store, wf, "t1")
    acked = _answer(store, wf, "acknowledged", note="on my way")
    assert acked.outcome == "delivered" and wf.answered == [("t1", "acknowledged")]
    assert (acked.incident.state, acked.incident.task_token) == ("acknowledged", None)
    entry = acked.incident.timeline[-1]
    assert (entry["event"], entry["by"], entry["note"], entry["level"]) == (
        "acknowledged",
        "operator-kim",
        "on my way",
        1,
    )
    with pytest.raises(Conflict):
        _answer(store, wf, "acknowledged")
    # the all-clear wait, then the operator's all-clear, then close
    wf.waiting.add("t2")
    _step(store, wf, "await_all_clear", task_token="t2")
    assert _answer(store, wf, "all_clear").outcome == "delivered"
    _step(store, wf, "close", outcome="all_clear")
    with pytest.raises(Conflict):
        _answer(store, wf, "acknowledged")
    with pytest.raises(NotFound):
        _answer(store, wf, "acknowledged", incident="inc-nope")


def test_an_ack_after_the_timeout_but_before_escalate_stops_the_escalation(
    store: IncidentStore, wf: FakeWorkflow, incident_id: str
) -> None:
    _wait(store, wf, "t1")
    _timed_out(wf, "t1")
    acked = _answer(store, wf, "acknowledged")
    assert acked.outcome == "deferred" and wf.answered == []
    assert (acked.incident.state, acked.incident.task_token) == ("acknowledged", None)
    result = _step(store, wf, "escalate")
    assert result.output["outcome"] == "acknowledged" and result.counts == ()
    incident = store.get(incident_id)
    assert (incident.level, incident.state) == (1, "acknowledged")
    assert "escalated" not in _events(incident)
    with pytest.raises(Conflict):
        _answer(store, wf, "acknowledged")


def test_an_ack_after_escalate_is_taken_by_the_next_wait(
    store: IncidentStore, wf: FakeWorkflow, incident_id: str
) -> None:
    _wait(store, wf, "t1")
    _timed_out(wf, "t1")
    _step(store, wf, "escalate")
    acked = _answer(store, wf, "acknowledged")
    assert acked.outcome == "deferred"  # no token stored while escalating
    _wait(store, wf, "t2")
    assert wf.answered == [("t2", "acknowledged")]
    incident = store.get(incident_id)
    assert (incident.level, incident.state, incident.task_token) == (2, "acknowledged", None)
    events = _events(incident)
    assert events.count("awaiting_ack") == 1 and events[-1] == "notified"


def test_an_ack_after_the_last_timeout_is_not_unacknowledged(
    store: IncidentStore, wf: FakeWorkflow, incident_id: str
) -> None:
    for token in ("t1", "t2"):
        _wait(store, wf, token)
        _timed_out(wf, token)
        _step(store, wf, "escalate")
    _wait(store, wf, "t3")
    _timed_out(wf, "t3")
    assert _answer(store, wf, "acknowledged").outcome == "deferred"
    assert _step(store, wf, "unacknowledged") == StepResult({"outcome": "acknowledged"})
    incident = store.get(incident_id)
    assert (incident.state, incident.level, incident.workflow_ended) == ("acknowledged", 3, False)
    assert "unacknowledged" not in _events(incident)


def test_an_all_clear_after_the_timeout_goes_to_close(
    store: IncidentStore, wf: FakeWorkflow, incident_id: str
) -> None:
    _wait(store, wf, "t1")
    _timed_out(wf, "t1")
    assert _answer(store, wf, "all_clear").outcome == "deferred"
    assert _step(store, wf, "escalate").output["outcome"] == "all_clear"
    with pytest.raises(Conflict):
        _answer(store, wf, "all_clear")
    # between escalate and the next wait it is the wait that answers
    _wait(store, wf, "t2")
    assert wf.answered == [("t2", "all_clear")]


def test_after_the_workflow_ended_an_ack_is_recorded_and_all_clear_closes(
    store: IncidentStore, wf: FakeWorkflow, incident_id: str
) -> None:
    store.update(incident_id, _ended)
    late = _answer(store, wf, "acknowledged", note="sorry, radio was off")
    assert late.outcome == "recorded" and wf.answered == []
    assert (late.incident.state, late.incident.status) == ("acknowledged", "open")
    with pytest.raises(Conflict):
        _answer(store, wf, "acknowledged")
    done = _answer(store, wf, "all_clear")
    assert done.outcome == "closed"
    assert (done.incident.state, done.incident.status) == ("closed", "closed")
    assert _events(done.incident)[-2:] == ["all_clear", "closed"]
    assert store.open_for("banwol") is None


def test_all_clear_evidence_closes_an_incident_whose_workflow_ended(store: IncidentStore) -> None:
    wf = FakeWorkflow(only_waiting_tokens=True)
    alerts = FakeAlerts()
    opened = ingest(parse_evidence(GAS), store, wf, alerts, T0)
    assert opened.incident_id is not None
    store.update(opened.incident_id, _ended)
    cleared = {**GAS, "kind": "cleared", "severity": "warning", "ts": "2026-11-24T13:35:00+00:00"}
    ingest(parse_evidence(cleared), store, wf, alerts, T0)
    incident = store.get(opened.incident_id)
    assert (incident.status, _events(incident)[-1]) == ("closed", "closed")
    assert store.open_for("banwol") is None


def test_a_failed_workflow_is_said_on_the_incident_and_then_answers_close_it(
    store: IncidentStore, wf: FakeWorkflow, incident_id: str
) -> None:
    # Close failed after the all-clear (say, the table was throttled past every retry).
    store.update(incident_id, lambda i: replace(i, all_clear=True, task_token="tok-9"))
    request = parse_step({"action": "workflow_failed", "incident_id": incident_id})
    assert run_step(request, store, wf, T0).output == {"outcome": "workflow_failed"}
    run_step(request, store, wf, T0)  # a retried step writes nothing twice
    failed = store.get(incident_id)
    assert failed.workflow_ended and failed.task_token is None and failed.is_open
    assert _events(failed).count("workflow_failed") == 1
    # the operator's all-clear, refused while a workflow was closing the incident, now closes it
    done = _answer(store, wf, "all_clear")
    assert (done.outcome, done.incident.status) == ("closed", "closed")
    assert store.open_for("banwol") is None


def test_the_failure_path_marks_the_incident_after_keeping_the_input() -> None:
    states = json.loads(
        Path(ROOT, "statemachines/safety_alert.asl.json").read_text(encoding="utf-8")
    )["States"]
    record, mark = states["RecordFailure"], states["MarkWorkflowFailed"]
    assert record["Next"] == "MarkWorkflowFailed"
    assert {c["Next"] for c in record["Catch"]} == {"MarkWorkflowFailed"}
    assert mark["Parameters"]["Payload"]["action"] == "workflow_failed"
    assert mark["Next"] == "AlertFailed" and mark["Catch"][0]["Next"] == "AlertFailed"


def _ended(incident: Incident) -> Incident:
    """As the ``unacknowledged`` step leaves an incident."""
    return replace(incident, state="unacknowledged", level=3, workflow_ended=True)


# ------------------------------------------------------------------ the state machine


def test_every_outcome_a_step_returns_after_a_timeout_has_its_branch() -> None:
    definition = json.loads(
        Path(ROOT, "statemachines/safety_alert.asl.json").read_text(encoding="utf-8")
    )
    states = definition["States"]
    choice = states["AnsweredMeanwhile"]
    branches = {c["StringEquals"]: c["Next"] for c in choice["Choices"]}
    assert branches == {
        "escalated": "NextLevelAlert",
        "unacknowledged": "Unacknowledged",
        "all_clear": "Close",
    }
    assert choice["Default"] == "AwaitAllClear"  # "acknowledged"
    for name in ("Escalate", "RecordUnacknowledged"):
        assert states[name]["Next"] == "AnsweredMeanwhile"
        assert states[name]["ResultPath"] == "$.answer"
    assert states["NextLevelAlert"]["Next"] == "Notify"
