"""The safety-alert path in the local cloud: evidence queue -> incident -> workflow -> operators.

Every test uses its own complex id, so tests share the stack without seeing each other's
incidents. Waits are scaled to 1 %: the 120 s acknowledgement window takes about 1.2 s.
"""

from __future__ import annotations

import json
import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from localcloud.cloud import LocalCloud
from tests.conftest import load_event
from tests.integration.conftest import (
    Http,
    Published,
    TopicTap,
    listed_incident,
    messages_on,
    scaled_time,
)

pytestmark = pytest.mark.integration

ALERT = "SafetyAlertStateMachine"
T0 = datetime.now(UTC).replace(microsecond=0)


@pytest.fixture(scope="module")
def alerts(cloud: LocalCloud) -> TopicTap:
    return TopicTap(cloud, "IncidentAlertsTopic")


@pytest.fixture(scope="module")
def operator(cloud: LocalCloud) -> str:
    return cloud.mint_token("operator", subject="operator-kim", province=True)


def _complex() -> str:
    return f"it-{uuid.uuid4().hex[:10]}"


def _send(cloud: LocalCloud, *evidence: dict[str, Any]) -> None:
    sqs = cloud.client("sqs")
    for item in evidence:
        sqs.send_message(
            QueueUrl=cloud.physical_id("SafetyEvidenceQueue"), MessageBody=json.dumps(item)
        )


def _gas(complex_id: str, **changes: Any) -> dict[str, Any]:
    data = {
        "source": "sensor",
        "complex_id": complex_id,
        "sensor_id": "h2s-3",
        "kind": "threshold_high",
        "severity": "alarm",
        "gas": "h2s",
        "value": 24.0,
        "limit": 20.0,
        "ts": T0.isoformat(),
    }
    return {**data, **changes}


def _smoke(complex_id: str, **changes: Any) -> dict[str, Any]:
    data = {
        "source": "camera",
        "complex_id": complex_id,
        "camera_id": "cam-9",
        "kind": "smoke",
        "severity": "alarm",
        "ts": (T0 + timedelta(seconds=15)).isoformat(),
    }
    return {**data, **changes}


def _alerts_for(
    cloud: LocalCloud, tap: TopicTap, incident_id: str, count: int = 1, timeout: float = 10
) -> list[Published]:
    def probe() -> list[Published] | None:
        tap.drain()
        found = [p for p in tap.backlog if p.body.get("incident_id") == incident_id]
        return found if len(found) >= count else None

    return cloud.wait_for(probe, timeout, what=f"{count} alerts for {incident_id}")


def _events(incident: dict[str, Any]) -> list[str]:
    return [entry["event"] for entry in incident["timeline"]]


def test_alarm_notifies_waits_for_ack_and_closes_on_all_clear(
    cloud: LocalCloud, http: Http, operator: str, alerts: TopicTap
) -> None:
    complex_id = _complex()
    # The level-1 wait (120 s) lasts 12 s here, not 1.2 s: the ack must land in it on a busy CI.
    with scaled_time(cloud, 0.1):
        _send(cloud, _gas(complex_id))
        incident = listed_incident(
            cloud, http, operator, complex_id, lambda i: i["state"] == "awaiting_ack"
        )
    incident_id = incident["incident_id"]
    (alert,) = _alerts_for(cloud, alerts, incident_id)
    assert alert.attributes == {
        "event_type": "IncidentAlert",
        "complex_id": complex_id,
        "severity": "alarm",
        "level": "1",
    }
    # the same alarm again (a redelivery) joins nothing new and opens nothing
    _send(cloud, _gas(complex_id))

    answer = http.request(
        "POST",
        f"/safety/incidents/{incident_id}/ack",
        json_body={"note": "on my way"},
        token=operator,
    )
    assert answer.status == 200, answer.body
    assert answer.body["state"] == "acknowledged"
    again = http.request("POST", f"/safety/incidents/{incident_id}/ack", token=operator)
    assert again.status == 409

    incident = listed_incident(
        cloud, http, operator, complex_id, lambda i: "awaiting_all_clear" in _events(i)
    )
    _send(cloud, _gas(complex_id, kind="cleared", severity="warning", value=2.0))
    execution = cloud.wait_for_execution(ALERT, incident_id, timeout=10)
    assert execution["status"] == "SUCCEEDED"
    closed = http.request("GET", f"/safety/incidents/{incident_id}", token=operator).body
    assert (closed["state"], closed["status"]) == ("closed", "closed")
    events = _events(closed)
    assert events.count("evidence") == 2  # the duplicate was ignored
    for step in ("opened", "notified", "awaiting_ack", "acknowledged", "all_clear", "closed"):
        assert step in events
    ack = next(e for e in closed["timeline"] if e["event"] == "acknowledged")
    assert (ack["by"], ack["note"]) == ("operator-kim", "on my way")
    assert len(cloud.executions(ALERT)) >= 1
    listed = http.request("GET", "/safety/incidents", token=operator).body["incidents"]
    assert incident_id not in {i["incident_id"] for i in listed}


def test_nobody_acknowledges_so_the_alert_escalates(
    cloud: LocalCloud, http: Http, operator: str, alerts: TopicTap
) -> None:
    complex_id = _complex()
    _send(cloud, _gas(complex_id, severity="critical", kind="stel_exceeded"))
    incident = listed_incident(cloud, http, operator, complex_id)
    incident_id = incident["incident_id"]
    # (a slow machine may have reached level 3 already: the first two are what matters)
    first, second = _alerts_for(cloud, alerts, incident_id, count=2, timeout=15)[:2]
    assert (first.attributes["level"], second.attributes["level"]) == ("1", "2")
    assert second.attributes["severity"] == "critical"
    incident = listed_incident(
        cloud,
        http,
        operator,
        complex_id,
        lambda i: i["level"] == 2 and i["state"] == "awaiting_ack",
    )
    assert "escalated" in _events(incident)
    # an operator finally answers; an operator's all-clear then closes it
    assert (
        http.request("POST", f"/safety/incidents/{incident_id}/ack", token=operator).status == 200
    )
    listed_incident(cloud, http, operator, complex_id, lambda i: "awaiting_all_clear" in _events(i))
    answer = http.request(
        "POST", f"/safety/incidents/{incident_id}/all-clear", json_body={}, token=operator
    )
    assert answer.status == 200, answer.body
    assert cloud.wait_for_execution(ALERT, incident_id, timeout=10)["status"] == "SUCCEEDED"


def test_gas_alarm_and_camera_smoke_are_one_critical_incident(
    cloud: LocalCloud, http: Http, operator: str, alerts: TopicTap
) -> None:
    complex_id = _complex()
    _send(cloud, _gas(complex_id))
    first = listed_incident(cloud, http, operator, complex_id)
    _send(cloud, _smoke(complex_id))
    incident = listed_incident(
        cloud, http, operator, complex_id, lambda i: i["severity"] == "critical"
    )
    assert incident["incident_id"] == first["incident_id"]
    assert set(incident["sources"]) == {"sensor:h2s-3", "camera:cam-9"}
    raised = _alerts_for(cloud, alerts, incident["incident_id"], count=2)
    assert any(
        p.attributes["event_type"] == "IncidentSeverityRaised"
        and p.attributes["severity"] == "critical"
        for p in raised
    )
    # every source clears: the workflow closes without an acknowledgement
    later = (T0 + timedelta(minutes=2)).isoformat()
    _send(
        cloud,
        _gas(complex_id, kind="cleared", severity="warning", ts=later),
        _smoke(complex_id, kind="cleared", severity="warning", ts=later),
    )
    execution = cloud.wait_for_execution(ALERT, incident["incident_id"], timeout=15)
    assert execution["status"] == "SUCCEEDED"
    closed = listed_incident(cloud, http, operator, complex_id, lambda i: i["status"] == "closed")
    assert "acknowledged" not in _events(closed)


def test_operator_routes_answer_401_403_404_409_and_400(
    cloud: LocalCloud, http: Http, operator: str
) -> None:
    citizen = cloud.mint_token("citizen")
    assert http.request("GET", "/safety/incidents").status == 401
    assert http.request("GET", "/safety/incidents", token=citizen).status == 403
    assert http.request("POST", "/safety/incidents/inc-x/ack", token=citizen).status == 403
    assert http.request("GET", "/safety/incidents/inc-nope", token=operator).status == 404
    assert http.request("POST", "/safety/incidents/inc-nope/ack", token=operator).status == 404
    assert http.request("GET", "/safety/incidents?status=maybe", token=operator).status == 400
    complex_id = _complex()
    _send(cloud, _gas(complex_id))
    incident = listed_incident(
        cloud, http, operator, complex_id, lambda i: i["state"] == "awaiting_ack"
    )
    path = f"/safety/incidents/{incident['incident_id']}"
    bad = http.request(
        "POST", f"{path}/ack", raw=b"note", content_type="text/plain", token=operator
    )
    assert bad.status == 415
    assert http.request("POST", f"{path}/ack", json_body=["x"], token=operator).status == 400
    # all-clear straight away (an operator on site) closes it; then nothing is waiting
    assert http.request("POST", f"{path}/all-clear", token=operator).status == 200
    assert cloud.wait_for_execution(ALERT, incident["incident_id"])["status"] == "SUCCEEDED"
    assert http.request("POST", f"{path}/ack", token=operator).status == 409


def test_incident_function_sample_batch_pages_the_malformed_record_directly(
    cloud: LocalCloud, alerts: TopicTap
) -> None:
    malformed = "5afe0000-0000-4000-8000-000000000003"
    response, errored = cloud.invoke(
        "IncidentFunction", load_event("safety_incidents/sqs_batch_with_malformed.json")
    )
    # No retry can mend it: paged at once, kept on the dead-letter queue, the record done.
    assert not errored and response == {"batchItemFailures": []}
    (page,) = _pages(cloud, alerts, malformed)
    assert page.attributes["event_type"] == "EvidenceUnprocessed"
    assert page.attributes["complex_id"] == "sample-banwol-sihwa"
    assert page.attributes["level"] == "3" and page.body["error"] == "InvalidInput"
    assert _dead_lettered(cloud, '"sample-banwol-sihwa"')


def _pages(cloud: LocalCloud, tap: TopicTap, message_id: str) -> list[Published]:
    def probe() -> list[Published] | None:
        tap.drain()
        found = [p for p in tap.backlog if p.body.get("message_id") == message_id]
        return found or None

    return cloud.wait_for(probe, 10, interval=0.05, what=f"the direct page of {message_id}")


def _dead_lettered(cloud: LocalCloud, marker: str) -> list[dict[str, Any]]:
    found = messages_on(cloud, "SafetyEvidenceDeadLetterQueue", marker)
    for message in found:
        attributes = message["MessageAttributes"]
        assert attributes["paged"]["StringValue"] == "true" and attributes["reason"]
    return found


def test_evidence_that_keeps_failing_is_paged_on_its_last_receive_then_dead_lettered(
    cloud: LocalCloud, alerts: TopicTap
) -> None:
    # Given a complex whose open-incident pointer is corrupt (no incident named): every
    # attempt to join its incident fails, whatever the evidence
    complex_id = _complex()
    cloud.client("dynamodb").put_item(
        TableName=cloud.physical_id("IncidentsTable"),
        Item={"incident_id": {"S": f"complex#{complex_id}"}},
    )
    # When a gas alarm of that complex arrives on the evidence queue
    _send(cloud, _gas(complex_id))
    # Then after three receives (the queue's maxReceiveCount) it is paged to the complex's
    # subscribers with the raw evidence and the reason, once, and kept for the operators
    page = cloud.wait_for(
        lambda: [p for p in (alerts.drain(), alerts.backlog)[1]
                 if p.attributes.get("complex_id") == complex_id] or None,
        15, interval=0.1, what="the direct page",
    )[0]  # fmt: skip
    assert page.attributes["event_type"] == "EvidenceUnprocessed"
    assert page.attributes["severity"] == "alarm" and page.body["receive_count"] == 3
    assert json.loads(page.body["evidence"])["complex_id"] == complex_id
    (kept,) = cloud.wait_for(lambda: _dead_lettered(cloud, complex_id), what="the DLQ copy")
    assert json.loads(kept["Body"]) == _gas(complex_id)
    incident = "IncidentFunction"
    attempts = [
        c for c in cloud.runner.calls(cloud.physical_id(incident))
        if complex_id in json.dumps(c.event)
    ]  # fmt: skip
    assert len(attempts) == 3  # bounded: no further receive


def test_steps_function_sample_event_fails_for_an_unknown_incident(cloud: LocalCloud) -> None:
    payload, errored = cloud.invoke(
        "IncidentStepsFunction", load_event("safety_incident_steps/escalate_unknown_incident.json")
    )
    assert errored and payload["errorType"] == "NotFound"
