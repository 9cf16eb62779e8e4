"""One behaviour, two stores: each in-memory fake against its DynamoDB-backed twin.

The services' races (two consumers opening an incident for one complex, two invocations
writing one sensor's state) are decided by the stores' conditional writes. The unit tests that
use a fake rely on it behaving as the real store does, so every test here runs on both: the
fake of ``tests/fakes/safety.py`` and the real store on moto, its table created from the
properties in ``template.yaml``. A fake that drifts fails here, not in production.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import replace
from datetime import timedelta
from typing import Any

import boto3
import pytest
from moto import mock_aws

from gyeonggi.common.errors import Conflict, NotFound
from gyeonggi.safety.alarms import AlarmConfig, Reading, SensorState, evaluate
from gyeonggi.safety.evidence import parse_evidence
from gyeonggi.safety.incident_rules import Incident, open_incident
from gyeonggi.safety.incident_store import IncidentStore
from gyeonggi.safety.ports import AlarmStates, IncidentRecords
from gyeonggi.safety.sensor_state import AlarmStateStore
from tests.fakes.safety import FakeAlarmStates, FakeIncidentStore
from tests.unit.conftest import EVIDENCE_T0, gas_evidence, table_from_template

T0 = EVIDENCE_T0


@pytest.fixture
def moto_dynamodb(lambda_environment: None) -> Iterator[Any]:
    with mock_aws():
        yield boto3.resource("dynamodb", region_name="ap-northeast-2")


@pytest.fixture(params=["fake", "dynamodb"])
def incidents(request: pytest.FixtureRequest) -> IncidentRecords:
    if request.param == "fake":
        return FakeIncidentStore()
    dynamodb = request.getfixturevalue("moto_dynamodb")
    table_from_template(dynamodb, "IncidentsTable", "incidents")
    return IncidentStore("incidents", dynamodb=dynamodb)


@pytest.fixture(params=["fake", "dynamodb"])
def states(request: pytest.FixtureRequest) -> AlarmStates:
    if request.param == "fake":
        return FakeAlarmStates()
    dynamodb = request.getfixturevalue("moto_dynamodb")
    table_from_template(dynamodb, "SensorStateTable", "sensor-state")
    return AlarmStateStore("sensor-state", dynamodb=dynamodb)


def _incident(incident_id: str = "inc-1", complex_id: str = "banwol", **changes: Any) -> Incident:
    evidence = parse_evidence(gas_evidence(complex_id=complex_id))
    return replace(open_incident(evidence, incident_id, T0), **changes)


# ------------------------------------------------------------------ the incident store


def test_an_unknown_incident_or_a_pointers_key_is_not_found(incidents: IncidentRecords) -> None:
    incidents.create(_incident(), replacing=None)
    for incident_id in ("inc-nope", "complex#banwol"):
        with pytest.raises(NotFound):
            incidents.get(incident_id)
    assert incidents.open_for("sihwa") is None


def test_a_created_incident_is_version_one_and_its_complexs_open_incident(
    incidents: IncidentRecords,
) -> None:
    incident = _incident()
    incidents.create(incident, replacing=None)
    stored = incidents.get("inc-1")
    assert stored == replace(incident, version=1)
    assert incidents.open_for("banwol") == stored


def test_a_second_incident_for_a_complex_conflicts_unless_it_replaces_the_open_one(
    incidents: IncidentRecords,
) -> None:
    incidents.create(_incident("inc-1"), replacing=None)
    with pytest.raises(Conflict):
        incidents.create(_incident("inc-2"), replacing=None)
    with pytest.raises(Conflict):
        incidents.create(_incident("inc-2"), replacing="inc-other")
    incidents.create(_incident("inc-2"), replacing="inc-1")
    found = incidents.open_for("banwol")
    assert found is not None and found.incident_id == "inc-2"
    # the replaced incident is still there, and an id is never created twice
    assert incidents.get("inc-1").incident_id == "inc-1"
    with pytest.raises(Conflict):
        incidents.create(_incident("inc-1", complex_id="sihwa"), replacing=None)


def test_a_save_is_conditional_on_the_version_read(incidents: IncidentRecords) -> None:
    incidents.create(_incident(), replacing=None)
    read = incidents.get("inc-1")
    saved = incidents.save(replace(read, level=2))
    assert (saved.version, saved.level) == (2, 2)
    assert incidents.get("inc-1") == saved
    with pytest.raises(Conflict):
        incidents.save(replace(read, level=3))  # read at version 1, stored is 2
    with pytest.raises(Conflict):
        incidents.save(_incident("inc-never-created", version=1))
    assert incidents.get("inc-1").level == 2


def test_release_forgets_the_pointer_only_if_it_still_names_the_incident(
    incidents: IncidentRecords,
) -> None:
    incidents.create(_incident("inc-1"), replacing=None)
    incidents.create(_incident("inc-2"), replacing="inc-1")
    incidents.release(incidents.get("inc-1"))  # replaced already: the pointer stays
    found = incidents.open_for("banwol")
    assert found is not None and found.incident_id == "inc-2"
    incidents.release(incidents.get("inc-2"))
    assert incidents.open_for("banwol") is None
    incidents.release(incidents.get("inc-2"))  # twice is harmless


def test_update_writes_nothing_for_an_unchanged_incident(incidents: IncidentRecords) -> None:
    incidents.create(_incident(), replacing=None)
    assert incidents.update("inc-1", lambda i: i).version == 1
    assert incidents.get("inc-1").version == 1


def test_update_retries_on_a_concurrent_write_and_keeps_both(incidents: IncidentRecords) -> None:
    incidents.create(_incident(), replacing=None)
    calls: list[int] = []

    def change(incident: Incident) -> Incident:
        calls.append(incident.version)
        if len(calls) == 1:  # another writer gets in between this read and this write
            incidents.save(replace(incident, task_token="tok-1"))
        return replace(incident, level=incident.level + 1)

    stored = incidents.update("inc-1", change)
    assert calls == [1, 2]
    assert (stored.version, stored.level, stored.task_token) == (3, 2, "tok-1")


def test_update_does_not_retry_a_conflict_its_change_raises(incidents: IncidentRecords) -> None:
    incidents.create(_incident(), replacing=None)
    calls: list[int] = []

    def refuse(incident: Incident) -> Incident:
        calls.append(incident.version)
        raise Conflict("already acknowledged")

    with pytest.raises(Conflict, match="already acknowledged"):
        incidents.update("inc-1", refuse)
    assert calls == [1]
    with pytest.raises(NotFound):
        incidents.update("inc-nope", lambda i: i)


def test_update_gives_up_after_its_attempts(incidents: IncidentRecords) -> None:
    incidents.create(_incident(), replacing=None)

    def always_raced(incident: Incident) -> Incident:
        incidents.save(replace(incident, level=incident.level + 1))
        return replace(incident, state="escalating")

    with pytest.raises(Conflict):
        incidents.update("inc-1", always_raced, attempts=2)
    assert incidents.get("inc-1").state != "escalating"


def test_list_gives_one_status_newest_first(incidents: IncidentRecords) -> None:
    for n, complex_id in enumerate(("a", "b", "c")):
        opened = T0 + timedelta(minutes=n)
        incidents.create(_incident(f"inc-{n}", complex_id, opened_at=opened), replacing=None)
    incidents.update("inc-1", lambda i: replace(i, status="closed", state="closed"))
    assert [i.incident_id for i in incidents.list("open")] == ["inc-2", "inc-0"]
    assert [i.incident_id for i in incidents.list("open", limit=1)] == ["inc-2"]
    assert [i.incident_id for i in incidents.list("closed")] == ["inc-1"]


# ------------------------------------------------------------------ the sensor state store


def _evaluated(
    previous: SensorState | None, value: float, seconds: int = 0
) -> tuple[Reading, SensorState]:
    reading = Reading("banwol", "co-1", "co", value, "ppm", T0 + timedelta(seconds=seconds))
    state, _ = evaluate(previous, reading, AlarmConfig())
    return reading, state


def _save(states: AlarmStates, reading: Reading, state: SensorState, expected: int) -> bool:
    return states.save(reading, state, expected_version=expected, received_ms=1, interval_s=12.3456)


def test_an_unknown_sensor_has_no_state_and_version_zero(states: AlarmStates) -> None:
    stored = states.load("banwol#co-1")
    assert (stored.state, stored.version, stored.interval_s) == (None, 0, None)


def test_the_first_write_creates_version_one_and_reads_back(states: AlarmStates) -> None:
    reading, state = _evaluated(None, 40.0)
    assert _save(states, reading, state, expected=0)
    stored = states.load("banwol#co-1")
    assert stored.version == 1 and stored.interval_s == pytest.approx(12.346)
    assert stored.state is not None and stored.state.to_dict() == state.to_dict()


def test_a_state_write_is_conditional_on_the_version_read(states: AlarmStates) -> None:
    reading, state = _evaluated(None, 40.0)
    assert _save(states, reading, state, expected=0)
    assert not _save(states, reading, state, expected=0)  # someone created it meanwhile
    later, newer = _evaluated(state, 80.0, seconds=10)
    assert not _save(states, later, newer, expected=2)
    assert _save(states, later, newer, expected=1)
    assert not _save(states, later, newer, expected=1)  # stale now
    stored = states.load("banwol#co-1")
    assert stored.version == 2 and stored.state is not None
    assert stored.state.to_dict() == newer.to_dict()


def test_a_saved_state_does_not_change_with_the_callers_copy(states: AlarmStates) -> None:
    reading, state = _evaluated(None, 40.0)
    assert _save(states, reading, state, expected=0)
    before = states.load("banwol#co-1").state
    state.level = 9
    after = states.load("banwol#co-1").state
    assert before is not None and after is not None and after.level == before.level
