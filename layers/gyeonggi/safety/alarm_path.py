"""The alarm path for one valid reading: load the sensor's state, evaluate, send, save.

Standard library plus boto3 only (through its ports): this module is imported by the sensor
function, whose cold start and per-message work must stay small (see
:mod:`gyeonggi.safety.alarms`).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, replace
from datetime import datetime
from typing import Any

from gyeonggi.safety.alarm_evidence import alarm_evidence
from gyeonggi.safety.alarms import AlarmEvent, evaluate
from gyeonggi.safety.evidence import EvidenceSender
from gyeonggi.safety.ports import AlarmConfigSource, AlarmStates, ComplexRegistry
from gyeonggi.safety.sensor_state import smoothed_interval

log = logging.getLogger(__name__)


class StateConflict(RuntimeError):
    """Another invocation changed the sensor's state twice while this one retried."""


class StateNotLoaded(RuntimeError):
    """The sensor's state could not be read. The reading was judged without it (as a new
    sensor's) and that evidence went out; nothing was written."""


class StateNotSaved(RuntimeError):
    """The sensor's state could not be written (not a version conflict); its evidence had
    already gone out."""


@dataclass(frozen=True, slots=True)
class AlarmOutcome:
    """What the alarm path did with one reading."""

    sensor_key: str
    events: tuple[AlarmEvent, ...] = ()
    stale: bool = False
    conflicts: int = 0
    #: The complex could not be registered for the heartbeat sweep (the alarm went out anyway).
    unregistered: bool = False

    def as_response(self) -> dict[str, Any]:
        if self.stale:
            return {"accepted": True, "sensor_key": self.sensor_key, "stale": True}
        return {
            "accepted": True,
            "sensor_key": self.sensor_key,
            "events": [e.kind for e in self.events],
        }


class AlarmPath:
    """One valid reading: load the sensor's state, evaluate, send evidence, save the state.

    Evidence goes out before the state is written: if the write fails, the retry re-evaluates
    the same reading and repeats the same evidence ids, which the incident function drops; the
    other order could lose an alarm. A state that cannot be read or written never costs an
    alarm either: the reading is judged against the set points without its history, the
    evidence goes out, and a typed error (:class:`StateNotLoaded`, :class:`StateNotSaved`)
    fails the invocation so that Lambda retries it (twice) and its failure destination keeps
    the reading with the reason.
    """

    def __init__(
        self,
        store: AlarmStates,
        configs: AlarmConfigSource,
        send_evidence: EvidenceSender,
        complexes: ComplexRegistry | None = None,
    ) -> None:
        self.store = store
        self.configs = configs
        self.send_evidence = send_evidence
        self.complexes = complexes

    def handle(self, reading: Any, received_at: datetime) -> AlarmOutcome:
        """Evaluate one valid reading, send its evidence, save the sensor's state.

        Raises
        ------
        StateConflict
            The state changed twice while evaluating.
        StateNotLoaded, StateNotSaved
            The state store failed; the evidence went out first.
        """
        outcome = self._evaluate(reading, received_at)
        if self.complexes is None:
            return outcome
        try:
            self.complexes.ensure(reading.complex_id, received_at)
        except Exception:
            # The register only lets the heartbeat sweep find the complex: it never holds an
            # alarm back, and the next reading in this container tries again.
            log.exception("complex %s not registered", reading.complex_id)
            return replace(outcome, unregistered=True)
        return outcome

    def _evaluate(self, reading: Any, received_at: datetime) -> AlarmOutcome:
        config = self.configs.get(reading.complex_id)
        received_ms = round(received_at.timestamp() * 1000)
        for attempt in (0, 1):
            try:
                stored = self.store.load(reading.sensor_key)
            except Exception as exc:
                # Without its history the reading is still judged against the set points (a
                # new sensor's view: no exposure windows, no rise, no clearing), and nothing is
                # written over a state that could not be read.
                _, events = evaluate(None, reading, config)
                self.send_evidence([alarm_evidence(e, received_at=received_at) for e in events])
                raise StateNotLoaded(
                    f"{reading.sensor_key}: sensor state not read ({_cause(exc)}); "
                    f"judged without it, {len(events)} event(s) sent"
                ) from exc
            state, events = evaluate(stored.state, reading, config)
            if stored.state is not None and state is stored.state:
                # A duplicate or late delivery: evaluate() changed nothing, nothing to write.
                return AlarmOutcome(reading.sensor_key, stale=True, conflicts=attempt)
            previous_ts = stored.state.last_ts_ms if stored.state else None
            interval = smoothed_interval(stored.interval_s, previous_ts, state.last_ts_ms)
            self.send_evidence([alarm_evidence(e, received_at=received_at) for e in events])
            try:
                saved = self.store.save(
                    reading,
                    state,
                    expected_version=stored.version,
                    received_ms=received_ms,
                    interval_s=interval,
                )
            except Exception as exc:
                raise StateNotSaved(
                    f"{reading.sensor_key}: sensor state not written ({_cause(exc)}) after "
                    f"its {len(events)} event(s) were sent"
                ) from exc
            if saved:
                return AlarmOutcome(reading.sensor_key, tuple(events), conflicts=attempt)
        raise StateConflict(f"{reading.sensor_key}: state changed twice while evaluating")


def _cause(exc: Exception) -> str:
    return f"{type(exc).__name__}: {exc}"[:500]
