"""The safety-alert workflow's error paths in the local cloud.

Nobody acknowledges at any level; the alert cannot be published; an operator's answer races a
wait's timeout. Each test uses its own complex id. A race is made certain, not likely: a gate
in front of the local Lambda runner holds one step of one incident's workflow until the test
has answered. Operators answer over HTTP, ``POST /safety/incidents/{id}/ack`` and ``/all-clear``
(:func:`gyeonggi.safety.incident_service.answer` behind them).
"""

from __future__ import annotations

import json
import threading
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from gyeonggi.common.errors import Conflict, NotFound
from gyeonggi.safety.incident_store import IncidentStore
from gyeonggi.safety.incident_workflow import IncidentWorkflow
from gyeonggi_tools.safety.redrive import redrive
from localcloud.cloud import LocalCloud
from tests.integration.conftest import Http, Published, TopicTap, listed_incident, scaled_time

pytestmark = pytest.mark.integration

ALERT = "SafetyAlertStateMachine"
T0 = datetime.now(UTC).replace(microsecond=0)


@pytest.fixture(scope="module")
def alerts(cloud: LocalCloud) -> TopicTap:
    return TopicTap(cloud, "IncidentAlertsTopic", "IncidentAlert")


@pytest.fixture(scope="module")
def operator(cloud: LocalCloud) -> str:
    return cloud.mint_token("operator", subject="operator-lee", province=True)


@pytest.fixture(scope="module")
def store(cloud: LocalCloud) -> IncidentStore:
    return IncidentStore(cloud.physical_id("IncidentsTable"))


def _complex() -> str:
    return f"wf-{uuid.uuid4().hex[:10]}"


def _alarm(cloud: LocalCloud, complex_id: str) -> None:
    """An H2S alarm of ``complex_id`` on the evidence queue: it opens the complex's incident."""
    evidence = {
        "source": "sensor",
        "complex_id": complex_id,
        "sensor_id": "h2s-1",
        "kind": "threshold_high",
        "severity": "alarm",
        "gas": "h2s",
        "value": 26.0,
        "limit": 20.0,
        "ts": T0.isoformat(),
    }
    cloud.client("sqs").send_message(
        QueueUrl=cloud.physical_id("SafetyEvidenceQueue"), MessageBody=json.dumps(evidence)
    )


def _events(incident: dict[str, Any]) -> list[str]:
    return [entry["event"] for entry in incident["timeline"]]


def _alert_levels(cloud: LocalCloud, tap: TopicTap, incident_id: str, count: int) -> list[str]:
    def probe() -> list[Published] | None:
        tap.drain()
        found = [p for p in tap.backlog if p.body.get("incident_id") == incident_id]
        return found if len(found) >= count else None

    found = cloud.wait_for(probe, 10, what=f"{count} alerts for {incident_id}")
    return [p.attributes["level"] for p in found]


def _answer(http: Http, token: str, incident_id: str, outcome: str) -> dict[str, Any]:
    """An operator's answer over HTTP: the incident and ``answer``; a 409 raises Conflict."""
    path = "ack" if outcome == "acknowledged" else "all-clear"
    reply = http.request("POST", f"/safety/incidents/{incident_id}/{path}", token=token)
    if reply.status == 409:
        raise Conflict(reply.body[0]["description"])
    assert reply.status == 200, reply.body
    return dict(reply.body)


def _failures_for(cloud: LocalCloud, incident_id: str) -> list[str]:
    sqs = cloud.client("sqs")
    messages = sqs.receive_message(
        QueueUrl=cloud.physical_id("IncidentFailureQueue"),
        MaxNumberOfMessages=10,
        VisibilityTimeout=0,
    ).get("Messages", [])
    return [m["Body"] for m in messages if incident_id in m["Body"]]


class Gate:
    """Holds the ``nth`` invocation of a step (``action``) for one complex's incident."""

    def __init__(self, store: IncidentStore, complex_id: str, action: str, nth: int) -> None:
        self.store, self.complex_id, self.action, self.nth = store, complex_id, action, nth
        self.seen = 0
        self.reached = threading.Event()
        self.opened = threading.Event()

    def holds(self, event: Any) -> bool:
        payload = json.loads(event) if isinstance(event, str | bytes) else event
        if not isinstance(payload, dict) or payload.get("action") != self.action:
            return False
        try:
            incident = self.store.get(str(payload.get("incident_id")))
        except NotFound:
            return False
        if incident.complex_id != self.complex_id:
            return False
        self.seen += 1
        return self.seen == self.nth


@contextmanager
def _gate(
    cloud: LocalCloud,
    monkeypatch: pytest.MonkeyPatch,
    store: IncidentStore,
    complex_id: str,
    action: str,
    nth: int = 1,
) -> Iterator[Gate]:
    """Hold that step in front of the local runner until the block ends."""
    gate = Gate(store, complex_id, action, nth)
    original = cloud.runner.invoke

    def invoke(fn: Any, event: Any) -> tuple[str, bool, str]:
        if gate.holds(event):
            gate.reached.set()
            gate.opened.wait(timeout=10)
        return original(fn, event)

    monkeypatch.setattr(cloud.runner, "invoke", invoke)
    try:
        yield gate
    finally:
        gate.opened.set()


# ------------------------------------------------------------------ out of levels


def test_nobody_acknowledges_at_any_level_so_the_incident_stays_open_unacknowledged(
    cloud: LocalCloud,
    http: Http,
    operator: str,
    alerts: TopicTap,
    store: IncidentStore,
) -> None:
    # 120 + 300 + 600 s of waits take about 5 s (a plain step's 30 s guard is not scaled).
    complex_id = _complex()
    with scaled_time(cloud, 0.005):
        _alarm(cloud, complex_id)
        incident = listed_incident(cloud, http, operator, complex_id, lambda i: True)
        incident_id = incident["incident_id"]
        execution = cloud.wait_for_execution(ALERT, incident_id, timeout=20)
    assert execution["status"] == "FAILED"
    assert execution.get("error") == "IncidentUnacknowledged"
    assert _alert_levels(cloud, alerts, incident_id, 3) == ["1", "2", "3"]

    incident = listed_incident(cloud, http, operator, complex_id, lambda i: i["status"] == "open")
    assert (incident["state"], incident["level"]) == ("unacknowledged", 3)
    events = _events(incident)
    assert events.count("awaiting_ack") == 3
    assert events.count("escalated") == 2
    assert events.count("notified") == 3
    assert events[-1] == "unacknowledged"
    assert not _failures_for(cloud, incident_id)

    # An operator who comes late takes the incident on; nothing is left to answer, so the ack
    # is recorded, and an all-clear closes the incident without a workflow.
    late = _answer(http, operator, incident_id, "acknowledged")
    assert (late["answer"], late["state"], late["status"]) == (
        "recorded",
        "acknowledged",
        "open",
    )
    with pytest.raises(Conflict):
        _answer(http, operator, incident_id, "acknowledged")
    done = _answer(http, operator, incident_id, "all_clear")
    assert (done["answer"], done["status"]) == ("closed", "closed")
    assert store.open_for(complex_id) is None
    with pytest.raises(Conflict):
        _answer(http, operator, incident_id, "acknowledged")


# ------------------------------------------------------------------ failed notification


@pytest.mark.parametrize(
    ("failure", "error", "attempts"),
    [
        ("TopicNotFound", "SNS.NotFoundException", 1),
        ("InternalError", "SNS.InternalErrorException", 5),
    ],
)
def test_a_failed_notification_is_recorded_and_the_workflow_still_waits_for_an_ack(
    cloud: LocalCloud,
    http: Http,
    operator: str,
    store: IncidentStore,
    monkeypatch: pytest.MonkeyPatch,
    failure: str,
    error: str,
    attempts: int,
) -> None:
    from moto.sns import exceptions
    from moto.sns.models import SNSBackend

    complex_id = _complex()
    tried: list[int] = []
    publish = SNSBackend.publish

    def failing_publish(self: SNSBackend, message: str, *args: Any, **kwargs: Any) -> str:
        if complex_id in message:
            tried.append(json.loads(message)["level"])
            raise getattr(exceptions, failure)("the topic is not there for this complex")
        return publish(self, message, *args, **kwargs)

    monkeypatch.setattr(SNSBackend, "publish", failing_publish)
    # A wait of 120 s takes 6 s here, so the test answers at level 1 for certain.
    with scaled_time(cloud, 0.05):
        _alarm(cloud, complex_id)
        waiting = listed_incident(
            cloud, http, operator, complex_id, lambda i: i["state"] == "awaiting_ack", timeout=15
        )
    incident_id = waiting["incident_id"]
    failed = next(e for e in waiting["timeline"] if e["event"] == "notification_failed")
    assert (failed["level"], failed["error"]) == (1, error)
    assert "notified" not in _events(waiting)
    assert tried == [1] * attempts  # retried as the Retry says, then caught
    assert store.get(incident_id).task_token  # the wait is live: an operator can answer it

    acked = _answer(http, operator, incident_id, "acknowledged")
    assert acked["answer"] == "delivered"
    listed_incident(cloud, http, operator, complex_id, lambda i: "awaiting_all_clear" in _events(i))
    assert _answer(http, operator, incident_id, "all_clear")["answer"] == "delivered"
    assert cloud.wait_for_execution(ALERT, incident_id)["status"] == "SUCCEEDED"
    closed = store.get(incident_id)
    assert (closed.status, closed.level) == ("closed", 1)
    assert not _failures_for(cloud, incident_id)


# ------------------------------------------------------------------ answers racing a timeout


def test_an_ack_that_lands_after_the_wait_timed_out_stops_the_escalation(
    cloud: LocalCloud,
    http: Http,
    operator: str,
    alerts: TopicTap,
    store: IncidentStore,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    complex_id = _complex()
    with _gate(cloud, monkeypatch, store, complex_id, "escalate") as gate:
        _alarm(cloud, complex_id)
        waiting = listed_incident(
            cloud, http, operator, complex_id, lambda i: "awaiting_ack" in _events(i)
        )
        incident_id = waiting["incident_id"]
        # AwaitAck1 timed out and Escalate is held in front of the runner (its 30 s guard
        # is real time; only the task-token waits are scaled).
        assert gate.reached.wait(timeout=10), "AwaitAck1 never timed out"
        stale = store.get(incident_id)
        assert (stale.state, stale.level) == ("awaiting_ack", 1) and stale.task_token
        # The token is dead: AWS says TaskTimedOut ("deferred"); moto still takes it
        # ("delivered"). Either way the ack is on the incident before Escalate reads it.
        acked = _answer(http, operator, incident_id, "acknowledged")
        assert acked["answer"] in ("deferred", "delivered")
        assert acked["state"] == "acknowledged"
        gate.opened.set()
        incident = listed_incident(
            cloud, http, operator, complex_id, lambda i: "awaiting_all_clear" in _events(i)
        )
    assert (incident["state"], incident["level"]) == ("acknowledged", 1)
    assert "escalated" not in _events(incident)
    assert _events(incident).count("acknowledged") == 1
    with pytest.raises(Conflict):
        _answer(http, operator, incident_id, "acknowledged")  # a duplicate ack

    assert _answer(http, operator, incident_id, "all_clear")["answer"] == "delivered"
    assert cloud.wait_for_execution(ALERT, incident_id)["status"] == "SUCCEEDED"
    assert _alert_levels(cloud, alerts, incident_id, 1) == ["1"]  # nobody else was paged
    with pytest.raises(Conflict):
        _answer(http, operator, incident_id, "acknowledged")  # closed


def test_an_ack_between_the_escalation_and_the_next_wait_is_taken_by_that_wait(
    cloud: LocalCloud,
    http: Http,
    operator: str,
    store: IncidentStore,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    complex_id = _complex()
    with _gate(cloud, monkeypatch, store, complex_id, "await_ack", nth=2) as gate:
        _alarm(cloud, complex_id)
        assert gate.reached.wait(timeout=10), "the workflow never escalated"
        incident = store.open_for(complex_id)
        assert incident is not None
        assert (incident.state, incident.level, incident.task_token) == ("escalating", 2, None)
        acked = _answer(http, operator, incident.incident_id, "acknowledged")
        assert acked["answer"] == "deferred"  # no token to answer: AwaitAck2 will take it
        gate.opened.set()
        answered = listed_incident(
            cloud, http, operator, complex_id, lambda i: "awaiting_all_clear" in _events(i)
        )
    assert (answered["state"], answered["level"]) == ("acknowledged", 2)
    events = _events(answered)
    assert events.count("awaiting_ack") == 1  # level 2 never waited
    assert events.count("notified") == 2
    # an all-clear from the site while the workflow waits closes it
    closing = _answer(http, operator, incident.incident_id, "all_clear")
    assert closing["answer"] == "delivered"
    assert cloud.wait_for_execution(ALERT, incident.incident_id)["status"] == "SUCCEEDED"
    assert store.get(incident.incident_id).status == "closed"


def test_an_all_clear_that_lands_after_the_wait_timed_out_closes_the_incident(
    cloud: LocalCloud,
    http: Http,
    operator: str,
    store: IncidentStore,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    complex_id = _complex()
    with _gate(cloud, monkeypatch, store, complex_id, "escalate") as gate:
        _alarm(cloud, complex_id)
        waiting = listed_incident(
            cloud, http, operator, complex_id, lambda i: "awaiting_ack" in _events(i)
        )
        assert gate.reached.wait(timeout=10), "AwaitAck1 never timed out"
        cleared = _answer(http, operator, waiting["incident_id"], "all_clear")
        assert cleared["answer"] in ("deferred", "delivered")
        gate.opened.set()
        execution = cloud.wait_for_execution(ALERT, waiting["incident_id"])
    assert execution["status"] == "SUCCEEDED"
    closed = store.get(waiting["incident_id"])
    assert (closed.status, closed.level) == ("closed", 1)
    assert [e["event"] for e in closed.timeline][-2:] == ["all_clear", "closed"]


# ------------------------------------------------------------------ a workflow that fails


def _failed_workflow(
    cloud: LocalCloud,
    http: Http,
    operator: str,
    store: IncidentStore,
    monkeypatch: pytest.MonkeyPatch,
) -> tuple[str, dict[str, Any], dict[str, Any]]:
    """A new complex's incident whose workflow failed at its first escalation: the complex,
    the incident as listed once marked ``workflow_failed``, and the failed execution."""
    complex_id = _complex()
    escalations = Gate(store, complex_id, "escalate", nth=1)
    original = cloud.runner.invoke

    def invoke(fn: Any, event: Any) -> tuple[str, bool, str]:
        if escalations.holds(event):
            # The step fails with an error its Retry does not cover: the Catch takes it.
            error = {"errorMessage": "throttled", "errorType": "ThrottlingException"}
            return json.dumps(error), True, ""
        return original(fn, event)

    monkeypatch.setattr(cloud.runner, "invoke", invoke)
    with scaled_time(cloud, 0.005):
        _alarm(cloud, complex_id)
        first = listed_incident(cloud, http, operator, complex_id, lambda i: True)
        execution = cloud.wait_for_execution(ALERT, first["incident_id"], timeout=20)
    monkeypatch.setattr(cloud.runner, "invoke", original)  # the cause is fixed
    assert cloud.wait_for(lambda: _failures_for(cloud, first["incident_id"]), what="the input")
    failed = listed_incident(
        cloud, http, operator, complex_id, lambda i: "workflow_failed" in _events(i)
    )
    return complex_id, failed, execution


def test_a_failed_workflow_keeps_its_input_and_new_hazards_page_again(
    cloud: LocalCloud,
    http: Http,
    operator: str,
    alerts: TopicTap,
    store: IncidentStore,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    complex_id, failed, execution = _failed_workflow(cloud, http, operator, store, monkeypatch)
    assert (execution["status"], execution.get("error")) == ("FAILED", "SafetyAlertFailed")
    assert failed["status"] == "open"  # still in front of operators
    # A new hazard at the complex does not vanish into the dead incident: it pages again.
    later = (T0 + timedelta(minutes=2)).isoformat()
    cloud.client("sqs").send_message(
        QueueUrl=cloud.physical_id("SafetyEvidenceQueue"),
        MessageBody=json.dumps(
            {
                "source": "camera",
                "complex_id": complex_id,
                "camera_id": "cam-2",
                "kind": "smoke",
                "severity": "alarm",
                "ts": later,
            }
        ),
    )
    second = listed_incident(
        cloud, http, operator, complex_id, lambda i: i["incident_id"] != failed["incident_id"]
    )
    # It pages from level 1 (and, on a slow machine, may already have escalated: nobody answers)
    assert "1" in _alert_levels(cloud, alerts, second["incident_id"], 1)
    # and the operator closes the old one
    closed = _answer(http, operator, failed["incident_id"], "all_clear")
    assert (closed["answer"], closed["status"]) == ("closed", "closed")
    _answer(http, operator, second["incident_id"], "acknowledged")


def test_a_redrive_pages_again_about_an_incident_whose_workflow_failed(
    cloud: LocalCloud,
    http: Http,
    operator: str,
    alerts: TopicTap,
    store: IncidentStore,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    complex_id, failed, execution = _failed_workflow(cloud, http, operator, store, monkeypatch)
    incident_id = failed["incident_id"]
    assert execution["status"] == "FAILED"

    # The level-1 wait lasts 12 s here, so the ack below lands in it.
    with scaled_time(cloud, 0.1):
        results = redrive(
            cloud.client("sqs"),
            cloud.physical_id("IncidentFailureQueue"),
            store,
            IncidentWorkflow(cloud.physical_id(ALERT), sfn=cloud.client("stepfunctions")),
            datetime.now(UTC),
        )
        assert [r.outcome for r in results if r.incident_id == incident_id] == ["restarted"]
        assert _failures_for(cloud, incident_id) == []  # taken off the queue
        # paged again at the level it had reached (the failed escalation wrote nothing)
        assert _alert_levels(cloud, alerts, incident_id, 2) == ["1", "1"]
        waiting = listed_incident(
            cloud, http, operator, complex_id, lambda i: i["state"] == "awaiting_ack"
        )
        assert "workflow_restarted" in _events(waiting)
        assert _answer(http, operator, incident_id, "acknowledged")["answer"] == "delivered"
    listed_incident(cloud, http, operator, complex_id, lambda i: "awaiting_all_clear" in _events(i))
    assert _answer(http, operator, incident_id, "all_clear")["answer"] == "delivered"
    assert cloud.wait_for_execution(ALERT, f"{incident_id}-r1")["status"] == "SUCCEEDED"
    assert store.get(incident_id).status == "closed"
