"""The alarm path's storage: per-sensor alarm state, complex configuration, evidence messages.

Standard library plus boto3 (made lazily) only: this module is imported by the sensor function,
whose cold start and per-message work must stay small (see :mod:`gyeonggi.safety.alarms`).

One DynamoDB item per sensor (``sensor_key = complex_id#sensor_id``) holds

- the last accepted reading (``kind``, ``value``, ``unit``, ``ts``, ...);
- ``state``: :meth:`SensorState.to_dict` without the sensor's identity (the item has it), what
  the alarm logic remembers;
- ``version``: a counter for optimistic concurrency (two invocations for one sensor must not
  overwrite each other's exposure sums);
- ``last_seen`` (receive time, epoch ms, server clock) and ``interval_s`` (the smoothed gap
  between readings) for the missed-heartbeat check through the ``sensors_by_complex`` index;
- ``anomaly``: the anomaly path's compact statistics (written only by that path, with
  ``SET anomaly``, so neither path erases the other's attributes).

Each reading writes the item once, so its size is the alarm path's main cost at the design
scale: a write is billed per started KB. Packed exposure sums and no duplicated fields keep a
gas sensor's item under 1 KB with 8 h of exposure and its anomaly history (docs/BENCHMARKS.md).
"""

from __future__ import annotations

import hashlib
import json
import logging
import re
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, replace
from datetime import datetime
from typing import Any, Literal, Protocol

from gyeonggi.common.aws import AwsClient, DynamoTable, from_dynamo, to_dynamo
from gyeonggi.safety.alarms import (
    AlarmConfig,
    AlarmConfigError,
    AlarmEvent,
    SensorState,
    evaluate,
)

log = logging.getLogger(__name__)

EvidenceSeverity = Literal["warning", "alarm", "critical"]

#: Kinds whose alarms mean fire: a critical event of theirs is critical evidence.
FIRE_KINDS = frozenset({"flame", "smoke", "temperature"})
#: What a complex id may be: a segment of the MQTT topic, and safe in an SSM parameter name.
_COMPLEX_ID = re.compile(r"[A-Za-z0-9_-]{1,64}")
#: Reporting interval assumed until two readings have been seen.
DEFAULT_INTERVAL_S = 60.0


#: On the item itself; the stored ``state`` leaves them out (bytes of every write).
_IDENTITY = ("complex_id", "sensor_id", "kind")


class StateConflict(RuntimeError):
    """Another invocation changed the sensor's state twice while this one retried."""


@dataclass(frozen=True, slots=True)
class StoredState:
    """A sensor's alarm state as read, with the version the write-back is conditioned on."""

    state: SensorState | None
    version: int
    interval_s: float | None = None


def evidence_severity(event: AlarmEvent) -> EvidenceSeverity:
    """Map an alarm event's severity to the incident workflow's scale.

    ``critical`` from :mod:`alarms` is a set point or exposure limit crossed: for fire kinds
    that is ``critical`` (a fire spreads in minutes), for gases ``alarm``. Everything else
    (pre-alarms, faults, clearings) is ``warning``; a clearing says what it clears in
    ``detail.clears``.
    """
    if event.severity == "critical":
        return "critical" if event.gas in FIRE_KINDS else "alarm"
    return "warning"


def evidence_id(*parts: object) -> str:
    """Deterministic id, so a consumer drops the duplicates that at-least-once delivery makes."""
    return hashlib.sha256("|".join(str(p) for p in parts).encode()).hexdigest()[:32]


def alarm_evidence(event: AlarmEvent, *, received_at: datetime) -> dict[str, Any]:
    """The SafetyEvidenceQueue message of one alarm event."""
    return {
        "source": "sensor",
        "complex_id": event.complex_id,
        "sensor_id": event.sensor_id,
        "kind": event.kind,
        "severity": evidence_severity(event),
        "gas": event.gas,
        "value": event.value,
        "limit": event.limit,
        "ts": event.ts.isoformat(),
        "detail": {
            "evidence_id": evidence_id(
                event.complex_id, event.sensor_id, event.kind, event.clears, event.ts.isoformat()
            ),
            "alarm_severity": event.severity,
            "clears": event.clears,
            "received_at": received_at.isoformat(),
        },
    }


class AlarmStateStore(DynamoTable):
    """Read and conditionally write one sensor's alarm state (one GetItem, one UpdateItem)."""

    def load(self, sensor_key: str) -> StoredState:
        # Strongly consistent: the version read must be the one a concurrent writer sees.
        item = self.table.get_item(
            Key={"sensor_key": sensor_key},
            ConsistentRead=True,
            ProjectionExpression="#s, version, interval_s, complex_id, sensor_id, kind",
            ExpressionAttributeNames={"#s": "state"},
        ).get("Item")
        if not item:
            return StoredState(None, 0)
        raw = item.get("state")
        state = None
        if raw:
            identity = {k: item[k] for k in _IDENTITY if k in item}
            state = SensorState.from_dict({**identity, **from_dynamo(raw)})
        interval = item.get("interval_s")
        return StoredState(
            state, int(item.get("version", 0)), None if interval is None else float(interval)
        )

    def save(
        self,
        reading: Any,
        state: SensorState,
        *,
        expected_version: int,
        received_ms: int,
        interval_s: float,
    ) -> bool:
        """Write the new state if nobody else did since ``expected_version``; False if they did."""
        values: dict[str, Any] = {
            ":complex": reading.complex_id,
            ":sensor": reading.sensor_id,
            ":kind": reading.kind,
            ":value": reading.value,
            ":unit": reading.unit,
            ":ts": reading.ts.isoformat(),
            ":state": {k: v for k, v in state.to_dict().items() if k not in _IDENTITY},
            ":level": state.level,
            ":active": list(state.active),
            ":new": expected_version + 1,
            ":seen": received_ms,
            ":interval": round(interval_s, 3),
        }
        sets = [
            "complex_id = :complex",
            "sensor_id = :sensor",
            "kind = :kind",
            "#value = :value",
            "#unit = :unit",
            "ts = :ts",
            "#state = :state",
            "#level = :level",
            "active = :active",
            "version = :new",
            "last_seen = :seen",
            "interval_s = :interval",
        ]
        for name in ("battery", "firmware"):
            if getattr(reading, name, None) is not None:
                values[f":{name}"] = getattr(reading, name)
                sets.append(f"{name} = :{name}")
        if expected_version:
            condition = "version = :expected"
            values[":expected"] = expected_version
        else:
            # The anomaly path may have created the item (without a version) first.
            condition = "attribute_not_exists(version)"
        try:
            self.table.update_item(
                Key={"sensor_key": f"{reading.complex_id}#{reading.sensor_id}"},
                UpdateExpression="SET " + ", ".join(sets),
                ConditionExpression=condition,
                ExpressionAttributeNames={
                    "#value": "value",
                    "#unit": "unit",
                    "#state": "state",
                    "#level": "level",
                },
                ExpressionAttributeValues=to_dynamo(values),
            )
        except self.table.meta.client.exceptions.ConditionalCheckFailedException:
            return False
        return True


def smoothed_interval(previous: float | None, last_ts_ms: int | None, now_ms: int) -> float:
    """The sensor's reporting interval, smoothed so one late reading does not double it."""
    if last_ts_ms is None or now_ms <= last_ts_ms:
        return previous or DEFAULT_INTERVAL_S
    gap = min(max((now_ms - last_ts_ms) / 1000, 1.0), 3600.0)
    return gap if previous is None else 0.8 * previous + 0.2 * gap


class ComplexAlarmConfigs:
    """Each complex's :class:`AlarmConfig` from SSM ``/gyeonggi/safety/complexes/<id>/alarms``.

    Cached per complex for ``ttl_s`` seconds (absent parameters too, so a complex without
    overrides costs one SSM call per TTL, not per reading). An invalid parameter falls back to
    the industry defaults and is reported through ``on_invalid``: alarms must keep firing
    while someone fixes a typo in the configuration.
    """

    ssm = AwsClient("ssm")
    PATH = "/gyeonggi/safety/complexes/{complex_id}/alarms"

    def __init__(
        self,
        ttl_s: float = 60.0,
        ssm: Any | None = None,
        clock: Callable[[], float] = time.monotonic,
        on_invalid: Callable[[str, str], None] | None = None,
    ) -> None:
        self.ttl_s = ttl_s
        self.clock = clock
        self.on_invalid = on_invalid
        self._cache: dict[str, tuple[float, AlarmConfig]] = {}
        if ssm is not None:
            self.ssm = ssm

    def get(self, complex_id: str) -> AlarmConfig:
        now = self.clock()
        hit = self._cache.get(complex_id)
        if hit and hit[0] > now:
            return hit[1]
        config = self._fetch(complex_id)
        self._cache[complex_id] = (now + self.ttl_s, config)
        return config

    def put(self, complex_id: str, overrides: Mapping[str, Any]) -> AlarmConfig:
        """Validate a complex's overrides and store them (a new SSM parameter version).

        Only a configuration that :meth:`AlarmConfig.from_mapping` accepts is written, so the
        fallback in :meth:`get` stays for accidents, not for the normal way of editing.

        Raises
        ------
        AlarmConfigError
            When the overrides are invalid, or ``complex_id`` is not a complex id.
        """
        if not _COMPLEX_ID.fullmatch(complex_id):
            raise AlarmConfigError(
                "complex id: 1-64 letters, digits, '_' or '-' (as in the MQTT topic)",
                field="complex_id",
            )
        config = AlarmConfig.from_mapping(overrides)
        self.ssm.put_parameter(
            Name=self.PATH.format(complex_id=complex_id),
            Value=json.dumps(overrides, ensure_ascii=False, sort_keys=True),
            Type="String",
            Overwrite=True,
            Description=f"Alarm overrides of industrial complex {complex_id}",
        )
        self._cache.pop(complex_id, None)
        return config

    def _fetch(self, complex_id: str) -> AlarmConfig:
        name = self.PATH.format(complex_id=complex_id)
        try:
            value = self.ssm.get_parameter(Name=name)["Parameter"]["Value"]
        except self.ssm.exceptions.ParameterNotFound:
            return AlarmConfig()
        try:
            overrides = json.loads(value)
            if not isinstance(overrides, Mapping):
                raise AlarmConfigError("must be a JSON object", field="config")
            return AlarmConfig.from_mapping(overrides)
        except (ValueError, AlarmConfigError) as exc:
            if self.on_invalid:
                self.on_invalid(complex_id, str(exc))
            return AlarmConfig()


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


class ComplexRegistry(Protocol):
    """Where the alarm path registers its complexes (``heartbeats.ComplexRegister``)."""

    def ensure(self, complex_id: str, now: datetime) -> None: ...


class AlarmPath:
    """One valid reading: load the sensor's state, evaluate, send evidence, save the state.

    Evidence goes out before the state is written: if the write fails, the retry re-evaluates
    the same reading and repeats the same evidence ids, which the incident function drops; the
    other order could lose an alarm.
    """

    def __init__(
        self,
        store: AlarmStateStore,
        configs: ComplexAlarmConfigs,
        send_evidence: Callable[[list[dict[str, Any]]], None],
        complexes: ComplexRegistry | None = None,
    ) -> None:
        self.store = store
        self.configs = configs
        self.send_evidence = send_evidence
        self.complexes = complexes

    def handle(self, reading: Any, received_at: datetime) -> AlarmOutcome:
        """Raises ``StateConflict`` when the state changed twice while evaluating."""
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
            stored = self.store.load(reading.sensor_key)
            state, events = evaluate(stored.state, reading, config)
            if stored.state is not None and state is stored.state:
                # A duplicate or late delivery: evaluate() changed nothing, nothing to write.
                return AlarmOutcome(reading.sensor_key, stale=True, conflicts=attempt)
            previous_ts = stored.state.last_ts_ms if stored.state else None
            interval = smoothed_interval(stored.interval_s, previous_ts, state.last_ts_ms)
            self.send_evidence([alarm_evidence(e, received_at=received_at) for e in events])
            if self.store.save(
                reading,
                state,
                expected_version=stored.version,
                received_ms=received_ms,
                interval_s=interval,
            ):
                return AlarmOutcome(reading.sensor_key, tuple(events), conflicts=attempt)
        raise StateConflict(f"{reading.sensor_key}: state changed twice while evaluating")
