"""Safety incidents: evidence parsing, correlation, duplicates, severity rules, all-clear."""

from __future__ import annotations

import itertools
import json
import math
from datetime import timedelta
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from gyeonggi.common.errors import Conflict, InvalidInput, NotFound
from gyeonggi.safety.evidence import Evidence, parse_evidence
from gyeonggi.safety.incident_rules import Incident, apply_evidence, decide, open_incident
from gyeonggi.safety.incident_service import Ingested, ingest
from gyeonggi.safety.incident_store import IncidentStore
from gyeonggi.safety.incident_view import parse_status
from tests.conftest import load_event
from tests.fakes.safety import FakeAlerts, FakeWorkflow
from tests.unit.conftest import EVIDENCE_T0, gas_evidence

T0 = EVIDENCE_T0
_gas = gas_evidence


def _camera(**changes: Any) -> dict[str, Any]:
    data = {
        "source": "camera",
        "complex_id": "banwol",
        "camera_id": "cam-1",
        "kind": "smoke",
        "severity": "alarm",
        "ts": (T0 + timedelta(seconds=20)).isoformat(),
    }
    return {**data, **changes}


def _ev(data: dict[str, Any]) -> Evidence:
    return parse_evidence(data)


def _opened(data: dict[str, Any]) -> Incident:
    return open_incident(_ev(data), "inc-1", T0)


# ------------------------------------------------------------------ parsing


def test_the_sample_batch_holds_two_good_pieces_of_evidence_and_a_malformed_one() -> None:
    bodies = [
        r["body"] for r in load_event("safety_incidents/sqs_batch_with_malformed.json")["Records"]
    ]
    gas, smoke = (parse_evidence(json.loads(b)) for b in bodies[:2])
    assert (gas.source_key, smoke.source_key) == ("sensor:co-0007", "camera:cam-0042")
    with pytest.raises(ValueError):
        json.loads(bodies[2])


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"source": "drone"}, "source"),
        ({"sensor_id": ""}, "sensor_id"),
        ({"complex_id": None}, "complex_id"),
        ({"severity": "panic"}, "severity"),
        ({"ts": "yesterday"}, "ts"),
        ({"value": "high"}, "value"),
    ],
)
def test_malformed_evidence_names_the_field(changes: dict[str, Any], field: str) -> None:
    with pytest.raises(InvalidInput) as raised:
        parse_evidence(_gas(**changes))
    assert raised.value.field == field


def test_a_timestamp_without_zone_is_utc() -> None:
    assert _ev(_gas(ts="2026-11-24T13:30:00")).ts == T0


def test_status_filter_defaults_to_open() -> None:
    assert parse_status(None) == "open" and parse_status("closed") == "closed"
    with pytest.raises(InvalidInput):
        parse_status("everything")


# ------------------------------------------------------------------ correlation


def test_evidence_within_the_window_joins_and_after_it_opens() -> None:
    incident = _opened(_gas())
    assert decide(None, _ev(_gas())) == "open"
    assert decide(incident, _ev(_camera(ts=(T0 + timedelta(minutes=9)).isoformat()))) == "join"
    assert decide(incident, _ev(_camera(ts=(T0 + timedelta(minutes=11)).isoformat()))) == "open"
    closed = _fields_incident(incident, status="closed")
    assert decide(closed, _ev(_camera())) == "open"


def test_a_clear_joins_its_own_incident_however_late_and_never_opens_one() -> None:
    incident = _opened(_gas())
    hours_later = (T0 + timedelta(hours=3)).isoformat()
    assert decide(incident, _ev(_gas(kind="cleared", severity="warning", ts=hours_later))) == (
        "join"
    )
    # no incident, a closed one, or a source that is not part of it: nothing to clear
    assert decide(None, _ev(_gas(kind="cleared", severity="warning"))) == "ignore"
    closed = _fields_incident(incident, status="closed")
    assert decide(closed, _ev(_gas(kind="cleared", severity="warning"))) == "ignore"
    assert decide(incident, _ev(_camera(kind="cleared", severity="warning"))) == "ignore"


def _fields(incident: Incident, **changes: Any) -> dict[str, Any]:
    from dataclasses import fields

    return {f.name: getattr(incident, f.name) for f in fields(incident)} | changes


def test_a_duplicate_is_ignored_and_a_new_reading_of_the_source_is_not() -> None:
    incident = _opened(_gas())
    again = apply_evidence(incident, _ev(_gas()), T0)
    assert again.duplicate and again.incident == incident
    later = apply_evidence(incident, _ev(_gas(ts=(T0 + timedelta(seconds=5)).isoformat())), T0)
    assert not later.duplicate and len(later.incident.timeline) == len(incident.timeline) + 1


# ------------------------------------------------------------------ severity


def test_severity_is_the_highest_and_never_goes_down() -> None:
    incident = _opened(_gas(severity="warning", kind="threshold_low"))
    assert incident.severity == "warning"
    up = apply_evidence(incident, _ev(_gas(severity="alarm", ts="2026-11-24T13:31:00+00:00")), T0)
    assert up.incident.severity == "alarm"
    down = apply_evidence(
        up.incident, _ev(_gas(severity="warning", ts="2026-11-24T13:32:00+00:00")), T0
    )
    assert down.incident.severity == "alarm"


def test_gas_alarm_plus_camera_smoke_is_critical() -> None:
    incident = _opened(_gas())
    joined = apply_evidence(_fields_incident(incident, version=1), _ev(_camera()), T0)
    assert joined.incident.severity == "critical"
    assert joined.severity_raised
    assert joined.incident.timeline[-1]["event"] == "severity_raised"


def _fields_incident(incident: Incident, **changes: Any) -> Incident:
    return Incident(**_fields(incident, **changes))


def test_a_sensor_fault_or_a_warning_with_smoke_is_not_critical() -> None:
    fault = _opened(_gas(kind="fault_stuck", severity="warning", gas=None))
    assert apply_evidence(fault, _ev(_camera()), T0).incident.severity == "alarm"
    low = _opened(_gas(kind="threshold_low", severity="warning"))
    assert apply_evidence(low, _ev(_camera()), T0).incident.severity == "alarm"


# ------------------------------------------------------------------ all-clear


def test_all_clear_needs_every_source_cleared() -> None:
    incident = apply_evidence(_opened(_gas()), _ev(_camera()), T0).incident
    later = (T0 + timedelta(minutes=1)).isoformat()
    one = apply_evidence(incident, _ev(_gas(kind="cleared", severity="warning", ts=later)), T0)
    assert not one.became_all_clear and not one.incident.all_clear
    both = apply_evidence(one.incident, _ev(_camera(kind="cleared", ts=later)), T0)
    assert both.became_all_clear and both.incident.all_clear
    assert both.incident.timeline[-1]["event"] == "all_clear"
    # clearing does not lower what the incident was
    assert both.incident.severity == "critical"


# ------------------------------------------------------------------ storage and ingest


@pytest.fixture
def store(incident_store: IncidentStore) -> IncidentStore:
    return incident_store


def _ingest(
    store: IncidentStore, wf: FakeWorkflow, alerts: FakeAlerts, data: dict[str, Any]
) -> Ingested:
    return ingest(_ev(data), store, wf, alerts, T0)


def test_ingest_opens_joins_ignores_duplicates_and_starts_one_execution(
    store: IncidentStore,
) -> None:
    wf, alerts = FakeWorkflow(), FakeAlerts()
    first = _ingest(store, wf, alerts, _gas())
    assert first.incident_id is not None
    assert first.outcome == "opened" and wf.started == [first.incident_id]
    dup = _ingest(store, wf, alerts, _gas())
    assert (dup.outcome, dup.incident_id) == ("duplicate", first.incident_id)
    joined = _ingest(store, wf, alerts, _camera())
    assert (joined.outcome, joined.severity) == ("joined", "critical")
    assert wf.started == [first.incident_id]
    # the raise is published at once, with the attributes subscriptions filter on
    assert alerts.published[-1]["event_type"] == "IncidentSeverityRaised"
    assert alerts.published[-1]["severity"] == "critical"
    stored = store.get(first.incident_id)
    assert stored.execution_arn and stored.sources == {
        "sensor:co-1": "active",
        "camera:cam-1": "active",
    }
    assert [i.incident_id for i in store.list("open")] == [first.incident_id]
    # another complex is another incident
    other = _ingest(store, wf, alerts, _gas(complex_id="sihwa"))
    assert other.outcome == "opened" and other.incident_id != first.incident_id


def test_all_clear_evidence_answers_the_stored_token(store: IncidentStore) -> None:
    wf, alerts = FakeWorkflow(), FakeAlerts()
    first = _ingest(store, wf, alerts, _gas())
    assert first.incident_id is not None
    store.update(
        first.incident_id, lambda i: _fields_incident(i, task_token="tok-1", state="awaiting_ack")
    )
    _ingest(
        store, wf, alerts, _gas(kind="cleared", severity="warning", ts="2026-11-24T13:35:00+00:00")
    )
    assert wf.answered == [("tok-1", "all_clear")]
    assert store.get(first.incident_id).task_token is None


def test_a_clear_after_an_operator_closed_the_incident_pages_nobody(
    store: IncidentStore,
) -> None:
    wf, alerts = FakeWorkflow(), FakeAlerts()
    first = _ingest(store, wf, alerts, _gas())
    assert first.incident_id is not None
    store.update(first.incident_id, lambda i: _fields_incident(i, status="closed"))
    store.release(store.get(first.incident_id))
    later = (T0 + timedelta(minutes=30)).isoformat()
    cleared = _ingest(store, wf, alerts, _gas(kind="cleared", severity="warning", ts=later))
    assert (cleared.outcome, cleared.incident_id) == ("ignored", None)
    assert wf.started == [first.incident_id] and store.open_for("banwol") is None
    assert alerts.published == []


def test_an_all_clear_that_loses_the_write_answers_no_token(
    store: IncidentStore, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The token is answered only once the all-clear is stored: a lost race retries the
    message and leaves the workflow waiting, not moved on by an all-clear nobody stored."""
    wf, alerts = FakeWorkflow(), FakeAlerts()
    first = _ingest(store, wf, alerts, _gas())
    assert first.incident_id is not None
    store.update(
        first.incident_id, lambda i: _fields_incident(i, task_token="tok-1", state="awaiting_ack")
    )

    def lost(incident: Incident) -> Incident:
        raise Conflict("incident changed meanwhile")

    cleared = _gas(kind="cleared", severity="warning", ts="2026-11-24T13:35:00+00:00")
    with monkeypatch.context() as patched, pytest.raises(Conflict):
        patched.setattr(store, "save", lost)
        _ingest(store, wf, alerts, cleared)
    assert wf.answered == []
    assert store.get(first.incident_id).task_token == "tok-1"
    # the redelivery stores the all-clear, then answers
    _ingest(store, wf, alerts, cleared)
    assert wf.answered == [("tok-1", "all_clear")]
    stored = store.get(first.incident_id)
    assert stored.all_clear and stored.task_token is None


def test_new_hazard_after_an_unacknowledged_ending_pages_again(store: IncidentStore) -> None:
    """Joining an incident whose workflow has ended would page nobody: a new one opens."""
    wf, alerts = FakeWorkflow(), FakeAlerts()
    first = _ingest(store, wf, alerts, _gas())
    assert first.incident_id is not None
    store.update(
        first.incident_id,
        lambda i: _fields_incident(i, state="unacknowledged", workflow_ended=True, level=3),
    )
    assert _ingest(store, wf, alerts, _gas()).outcome == "duplicate"  # a redelivery, no page
    later = (T0 + timedelta(minutes=2)).isoformat()
    second = _ingest(store, wf, alerts, _camera(ts=later))
    assert second.outcome == "opened" and second.incident_id != first.incident_id
    assert wf.started == [first.incident_id, second.incident_id]
    found = store.open_for("banwol")
    assert found is not None and found.incident_id == second.incident_id
    # the old one stays listed, unacknowledged, for an operator to close
    assert {i.incident_id for i in store.list("open")} == {first.incident_id, second.incident_id}
    assert store.get(first.incident_id).state == "unacknowledged"


def test_an_unknown_incident_is_not_found(store: IncidentStore) -> None:
    with pytest.raises(NotFound):
        store.get("inc-nope")
    with pytest.raises(NotFound):
        store.get("complex#banwol")


# ------------------------------------------------------------------ any message: refused or kept

_ANY_JSON = st.recursive(
    st.none()
    | st.booleans()
    | st.integers(-(10**45), 10**45)
    | st.floats(allow_nan=True, allow_infinity=True)
    | st.sampled_from([1e300, -1e-300, "\ud800", "x" * 300, "", " "])
    | st.text(max_size=12),
    lambda inner: (
        st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=6), inner, max_size=3)
    ),
    max_leaves=8,
)
_EXAMPLE_IDS = itertools.count()


@given(
    damage=st.dictionaries(
        st.sampled_from(["source", "complex_id", "sensor_id", "kind", "severity", "ts", "gas",
                         "value", "limit", "detail"]),
        _ANY_JSON,
        max_size=3,
    ),
)  # fmt: skip
@settings(
    max_examples=120,
    deadline=None,
    derandomize=True,
    database=None,
    # One moto table for every example: each uses a complex of its own.
    suppress_health_check=[HealthCheck.function_scoped_fixture],
)
def test_any_message_is_refused_with_a_reason_or_stored_never_an_error_on_every_receive(
    store: IncidentStore, damage: dict[str, Any]
) -> None:
    # The incident run: NaN in value, 1e300 in detail, a surrogate, a list for a severity...
    # each is InvalidInput (paged at once) or evidence the incidents table keeps.
    data = {**gas_evidence(complex_id=f"any-{next(_EXAMPLE_IDS)}"), **damage}
    try:
        evidence = parse_evidence(json.loads(json.dumps(data)))
    except InvalidInput as exc:
        assert exc.message
        return
    result = ingest(evidence, store, FakeWorkflow(), FakeAlerts(), T0)
    assert result.outcome in ("opened", "ignored")


def test_what_dynamodb_cannot_store_is_read_as_absent_and_the_evidence_kept() -> None:
    deep: Any = "bottom"
    for _ in range(40):
        deep = {"d": deep}
    data = gas_evidence(value=float("nan"), limit=1e300, detail={"": 1, "z": -math.inf, "n": deep})
    evidence = parse_evidence(json.loads(json.dumps(data)))
    assert (evidence.value, evidence.limit) == (None, None)
    assert evidence.detail is not None and "" not in evidence.detail
    assert evidence.detail["z"] is None
    depth, level = 0, evidence.detail["n"]
    while isinstance(level, dict):
        depth, level = depth + 1, level["d"]
    assert depth < 32 and level is None
