"""In-memory fakes of the safety ports (:mod:`gyeonggi.safety.ports`).

The stores keep the real ones' conditional writes (a version per item, a pointer per complex),
because that is what the services' races depend on; ``tests/unit/test_store_contracts.py``
runs each against its DynamoDB-backed twin so the two cannot drift apart. The assignments at
the end make mypy check every fake against its Protocol.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime
from typing import Any

from gyeonggi.common.errors import Conflict, NotFound
from gyeonggi.safety.alarms import AlarmConfig, SensorState
from gyeonggi.safety.incident_rules import Incident
from gyeonggi.safety.incident_store import OptimisticUpdates
from gyeonggi.safety.ports import (
    AlarmConfigSource,
    AlarmStates,
    AlertPublisher,
    ComplexRegistry,
    EvidenceDeadLetters,
    IncidentRecords,
    IncidentWorkflowPort,
)
from gyeonggi.safety.sensor_state import StoredState

EXECUTION_PREFIX = "arn:aws:states:ap-northeast-2:123456789012:execution:safety-alert"


class FakeIncidentStore(OptimisticUpdates):
    """:class:`gyeonggi.safety.incident_store.IncidentStore` in a dict."""

    def __init__(self) -> None:
        self.incidents: dict[str, Incident] = {}
        #: complex id -> its open incident's id
        self.pointers: dict[str, str] = {}

    def get(self, incident_id: str) -> Incident:
        if incident_id not in self.incidents:
            raise NotFound(f"incident {incident_id} does not exist")
        return self.incidents[incident_id]

    def open_for(self, complex_id: str) -> Incident | None:
        pointer = self.pointers.get(complex_id)
        return None if pointer is None else self.incidents.get(pointer)

    def create(self, incident: Incident, replacing: str | None) -> None:
        pointer = self.pointers.get(incident.complex_id)
        if (pointer is not None and pointer != replacing) or incident.incident_id in self.incidents:
            raise Conflict(f"complex {incident.complex_id} got an incident meanwhile")
        self.pointers[incident.complex_id] = incident.incident_id
        self.incidents[incident.incident_id] = replace(incident, version=1)

    def save(self, incident: Incident) -> Incident:
        stored = self.incidents.get(incident.incident_id)
        if stored is None or stored.version != incident.version:
            raise Conflict(f"incident {incident.incident_id} changed meanwhile")
        self.incidents[incident.incident_id] = replace(incident, version=incident.version + 1)
        return self.incidents[incident.incident_id]

    def release(self, incident: Incident) -> None:
        if self.pointers.get(incident.complex_id) == incident.incident_id:
            del self.pointers[incident.complex_id]

    def list(self, status: str, limit: int = 100) -> list[Incident]:
        found = [i for i in self.incidents.values() if i.status == status]
        # The by-status index sorts on opened_at's text, as stored.
        return sorted(found, key=lambda i: i.opened_at.isoformat(), reverse=True)[:limit]


class FakeWorkflow:
    """Step Functions as the incident services see it: executions by name, task tokens.

    Parameters
    ----------
    only_waiting_tokens
        Answer a token only while it is in :attr:`waiting` (once: a wait takes one answer),
        as a wait that timed out no longer takes its token. Otherwise every answer is taken.
    """

    def __init__(self, only_waiting_tokens: bool = False) -> None:
        self.only_waiting_tokens = only_waiting_tokens
        #: Execution names in the order started; a name started again is found, not repeated.
        self.started: list[str] = []
        self.waiting: set[str] = set()
        self.answered: list[tuple[str, str]] = []

    def start(self, incident: Incident, name: str | None = None) -> str:
        name = name or incident.incident_id
        if name not in self.started:
            self.started.append(name)
        return f"{EXECUTION_PREFIX}:{name}"

    def answer(self, token: str, outcome: str, **details: Any) -> bool:
        if self.only_waiting_tokens and token not in self.waiting:
            return False  # TaskTimedOut, or already answered
        self.waiting.discard(token)
        self.answered.append((token, outcome))
        return True


class FakeAlerts:
    """The alerts topic: what was published, in order."""

    def __init__(self) -> None:
        self.published: list[dict[str, Any]] = []

    def publish(self, alert: dict[str, Any]) -> None:
        self.published.append(alert)


class FakeAlarmStates:
    """:class:`gyeonggi.safety.sensor_state.AlarmStateStore` in a dict.

    The state goes through :meth:`SensorState.to_dict` and back, as through DynamoDB, so a
    caller that mutates a state it saved does not change the stored one.
    """

    def __init__(self) -> None:
        #: sensor key -> (stored state, version, interval)
        self.items: dict[str, tuple[dict[str, Any], int, float]] = {}

    def load(self, sensor_key: str) -> StoredState:
        if sensor_key not in self.items:
            return StoredState(None, 0)
        state, version, interval = self.items[sensor_key]
        return StoredState(SensorState.from_dict(state), version, interval)

    def save(
        self,
        reading: Any,
        state: SensorState,
        *,
        expected_version: int,
        received_ms: int,
        interval_s: float,
    ) -> bool:
        key = f"{reading.complex_id}#{reading.sensor_id}"
        current = self.items[key][1] if key in self.items else 0
        if current != expected_version:
            return False
        self.items[key] = (state.to_dict(), expected_version + 1, round(interval_s, 3))
        return True


class FakeAlarmConfigs:
    """Per-complex alarm configurations; a complex without one has the industry defaults."""

    def __init__(self, configs: dict[str, AlarmConfig] | None = None) -> None:
        self.configs = dict(configs or {})

    def get(self, complex_id: str) -> AlarmConfig:
        return self.configs.get(complex_id, AlarmConfig())


class FakeComplexRegistry:
    """The register of complexes: each complex id with when it was first seen."""

    def __init__(self) -> None:
        self.first_seen: dict[str, datetime] = {}

    def ensure(self, complex_id: str, now: datetime) -> None:
        self.first_seen.setdefault(complex_id, now)


class FakeEvidenceDeadLetters:
    """The evidence dead-letter queue: each raw message with its attributes, in order."""

    def __init__(self) -> None:
        self.kept: list[tuple[str, dict[str, Any]]] = []

    def keep(self, body: str, *, reason: str, error: str, paged: bool) -> None:
        self.kept.append((body, {"reason": reason, "error": error, "paged": paged}))


# mypy checks each fake against the port the services take it as.
_incidents: IncidentRecords = FakeIncidentStore()
_workflow: IncidentWorkflowPort = FakeWorkflow()
_alerts: AlertPublisher = FakeAlerts()
_states: AlarmStates = FakeAlarmStates()
_configs: AlarmConfigSource = FakeAlarmConfigs()
_complexes: ComplexRegistry = FakeComplexRegistry()
_dead_letters: EvidenceDeadLetters = FakeEvidenceDeadLetters()
