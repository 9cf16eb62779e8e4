"""The stores and gateways the safety services take, as ``typing.Protocol`` ports.

The services are typed with these, not with the AWS-backed classes, so mypy checks the
in-memory fakes of ``tests/fakes`` against the same surface the real classes offer, and the
contract suite (``tests/unit/test_store_contracts.py``) checks that both behave alike.

- :class:`IncidentRecords`: :class:`.incident_store.IncidentStore`; taken by
  :mod:`.incident_service` and :mod:`.incident_steps`.
- :class:`IncidentWorkflowPort`: :class:`.incident_workflow.IncidentWorkflow`; the same two.
- :class:`AlertPublisher`: :class:`.incident_workflow.IncidentAlerts`; :mod:`.incident_service`
  and :mod:`.unprocessed_evidence`.
- :class:`EvidenceDeadLetters`: :class:`.unprocessed_evidence.EvidenceDeadLetterQueue`;
  :mod:`.unprocessed_evidence`.
- :class:`AlarmStates`: :class:`.sensor_state.AlarmStateStore`; :mod:`.alarm_path`.
- :class:`AlarmConfigSource`: :class:`.alarm_configs.ComplexAlarmConfigs`; :mod:`.alarm_path`.
- :class:`ComplexRegistry`: :class:`.heartbeats.ComplexRegister`; :mod:`.alarm_path`.

The evidence queue's port is :class:`gyeonggi.safety.evidence.EvidenceSender`.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import TYPE_CHECKING, Any, Protocol

if TYPE_CHECKING:
    from gyeonggi.safety.alarms import AlarmConfig, SensorState
    from gyeonggi.safety.incident_rules import Incident
    from gyeonggi.safety.sensor_state import StoredState


class IncidentRecords(Protocol):
    """Incidents and each complex's open one, every write conditional on the version read."""

    def get(self, incident_id: str) -> Incident:
        """Raises ``NotFound`` for an unknown id."""
        ...

    def open_for(self, complex_id: str) -> Incident | None:
        """The complex's open incident, if any."""
        ...

    def create(self, incident: Incident, replacing: str | None) -> None:
        """Store a new incident (version 1) and point the complex at it.

        Raises ``Conflict`` when the complex's pointer is no longer ``replacing`` (``None``:
        there was none) or the incident id exists.
        """
        ...

    def save(self, incident: Incident) -> Incident:
        """Write over the version read; raises ``Conflict`` when it changed meanwhile."""
        ...

    def release(self, incident: Incident) -> None:
        """Forget the complex's pointer if it still points at ``incident``."""
        ...

    def update(
        self, incident_id: str, change: Callable[[Incident], Incident], attempts: int = 5
    ) -> Incident:
        """Apply ``change`` with optimistic retries; an unchanged result writes nothing."""
        ...

    def list(self, status: str, limit: int = 100) -> list[Incident]:
        """Incidents of one status, newest first (what operators list)."""
        ...


class IncidentWorkflowPort(Protocol):
    """The incident's ``safety-alert`` execution and its task tokens."""

    def start(self, incident: Incident, name: str | None = None) -> str:
        """Start the incident's execution; returns its ARN (a repeat finds the same one)."""
        ...

    def answer(self, token: str, outcome: str, **details: Any) -> bool:
        """Complete a waiting task; ``False`` when the wait is over."""
        ...


class AlertPublisher(Protocol):
    """The incident alerts topic."""

    def publish(self, alert: dict[str, Any]) -> None:
        """Publish ``alert``; its ``event_type``, ``complex_id``, ``severity`` and ``level``
        become the message attributes subscriptions filter on (a ``None`` one is left out)."""
        ...


class EvidenceDeadLetters(Protocol):
    """The evidence queue's dead-letter queue, for evidence the incident function gave up on."""

    def keep(self, body: str, *, reason: str, error: str, paged: bool) -> None:
        """Keep the raw message with why it was not processed and whether it was paged."""
        ...


class AlarmStates(Protocol):
    """Each sensor's alarm state, written only over the version that was read."""

    def load(self, sensor_key: str) -> StoredState: ...

    def save(
        self,
        reading: Any,
        state: SensorState,
        *,
        expected_version: int,
        received_ms: int,
        interval_s: float,
    ) -> bool:
        """``False`` when another invocation wrote since ``expected_version``."""
        ...


class AlarmConfigSource(Protocol):
    """Each complex's alarm configuration."""

    def get(self, complex_id: str) -> AlarmConfig: ...


class ComplexRegistry(Protocol):
    """Where the alarm path registers its complexes (``heartbeats.ComplexRegister``)."""

    def ensure(self, complex_id: str, now: datetime) -> None: ...
