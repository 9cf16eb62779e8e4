"""A fleet of simulated gas and fire sensors that publish real MQTT telemetry.

``gyeonggi devices simulate`` drives :func:`simulate`: N sensors of one industrial complex
publish JSON readings to ``gyeonggi/safety/{complex_id}/{sensor_id}/telemetry`` at a given rate,
following a scenario:

``normal``
    Background noise around realistic baselines (LEL 0-2 %, CO 0-5 ppm, ...), batteries
    draining slowly.
``gas-leak``
    From :data:`ONSET_S` on, one sensor (the first LEL sensor, else the first gas sensor) ramps
    over ~60 s from its baseline to 1.75 times its high alarm level, crossing the low and high
    levels on the way; its gas-sensing neighbours in the fleet rise a little, below alarm.
``sensor-fault``
    One sensor stuck at a constant value, one out of its measuring range (negative, like a
    broken element), one with a low battery, and one that stops sending at :data:`ONSET_S`
    (a missed heartbeat). Faults go, in that order, to the first non-flame sensors.
``fire``
    From :data:`ONSET_S` on, flame detectors report 1 (true), smoke obscuration and
    temperature rise fast and CO rises from combustion.

Readings are a pure function of (seed, sensor, simulated time), so a seeded run is repeatable
whatever the broker's speed. The module imports no numpy: it runs on any device-side Python.
"""

from __future__ import annotations

import json
import math
import random
import ssl
import threading
import time
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any, Literal, get_args

from gyeonggi.common.errors import DomainError, InvalidInput
from gyeonggi.safety.alarms import DEFAULT_LIMITS
from gyeonggi.safety.telemetry import UNITS

ScenarioName = Literal["normal", "gas-leak", "sensor-fault", "fire"]
SCENARIOS: tuple[str, ...] = get_args(ScenarioName)

#: Hard limits of one run: a simulator left running by mistake must not flood a broker.
MAX_DURATION_S = 3600.0
MAX_MESSAGES = 1_000_000
MAX_SENSORS = 10_000
MAX_RATE_HZ = 100.0

#: Seconds of normal readings before a scenario's event starts, so consumers see a baseline.
ONSET_S = 5.0
#: Seconds the gas-leak ramp takes from baseline to its peak.
LEAK_RAMP_S = 60.0

#: The alarm module's default levels (low, high) per gas; the simulator only uses
#: them to shape its ramps, the alarm path owns the real (per-complex) configuration.
ALARM_LEVELS: dict[str, tuple[float, float]] = {
    kind: (float(DEFAULT_LIMITS[kind].low or 0.0), float(DEFAULT_LIMITS[kind].high or 0.0))
    for kind in ("lel", "co", "h2s", "nh3", "cl2")
}
GASES = frozenset(ALARM_LEVELS)

#: Measuring range (full scale) per kind, the alarm module's: outside it is a sensor fault.
RANGES: dict[str, tuple[float, float]] = {
    kind: (limits.range_min, limits.range_max) for kind, limits in DEFAULT_LIMITS.items()
}

#: Clean-air baseline (mean, noise sigma) per kind.
BASELINES: dict[str, tuple[float, float]] = {
    "lel": (0.6, 0.4),
    "co": (1.5, 1.0),
    "h2s": (0.2, 0.15),
    "nh3": (1.0, 0.6),
    "cl2": (0.02, 0.015),
    "flame": (0.0, 0.0),
    "smoke": (0.1, 0.05),
    "temperature": (22.0, 0.3),
}

#: Decimal places a device reports per kind (real transmitters quantise their readings).
DECIMALS: dict[str, int] = {
    "lel": 1,
    "co": 1,
    "h2s": 1,
    "nh3": 1,
    "cl2": 2,
    "flame": 0,
    "smoke": 2,
    "temperature": 1,
}

FIRMWARE: dict[str, str] = {
    "lel": "gd-cat-3.2.1",
    "co": "gd-ec-2.8.0",
    "h2s": "gd-ec-2.8.0",
    "nh3": "gd-ec-2.8.0",
    "cl2": "gd-ec-2.8.0",
    "flame": "fd-uvir-1.4.2",
    "smoke": "sd-opt-5.0.3",
    "temperature": "hd-rtd-1.1.0",
}

# One cycle of 20 sensors: mostly combustible/toxic gas (LEL, CO, H2S), a few NH3 and Cl2
# (cold stores, water treatment) and flame/smoke/heat detectors, so even a small fleet mixes.
_KIND_CYCLE: tuple[str, ...] = (
    "lel", "co", "h2s", "flame", "lel", "smoke", "co", "temperature", "lel", "h2s",
    "nh3", "co", "lel", "cl2", "smoke", "h2s", "lel", "flame", "co", "temperature",
)  # fmt: skip

#: Battery drain per simulated second in percent: ~1.8 % an hour, slow but visible.
BATTERY_DRAIN_PER_S = 0.0005
LOW_BATTERY = 8.0

Publish = Callable[[str, bytes, int], None]
"""Publishes one message: ``(topic, payload, qos)``; raises when it could not be sent."""


class SimulationError(DomainError):
    """The simulator could not run: no broker, bad certificates."""

    code = "simulation_error"


@dataclass(frozen=True)
class Sensor:
    """One simulated device."""

    sensor_id: str
    kind: str


@dataclass(frozen=True)
class Progress:
    """Totals so far, reported about once a second."""

    elapsed_s: float
    sent: int
    errors: int
    rate: float  # messages per second over the last report interval

    def format(self) -> str:
        return (
            f"{self.elapsed_s:7.1f} s  sent {self.sent:>8}  "
            f"rate {self.rate:8.1f} msg/s  errors {self.errors}"
        )


@dataclass
class SimulationSummary:
    """What a run did.

    Attributes
    ----------
    stopped_by
        ``"count"``, ``"duration"`` or ``"interrupted"``.
    skipped
        Readings not sent because the sensor was silent (the missed-heartbeat fault).
    roles
        Which sensor plays which part of the scenario, e.g. ``{"leak": "lel-001"}``.
    """

    complex_id: str
    scenario: str
    sensors: int
    rate: float
    sent: int = 0
    errors: int = 0
    skipped: int = 0
    elapsed_s: float = 0.0
    stopped_by: str = "duration"
    by_kind: dict[str, int] = field(default_factory=dict)
    roles: dict[str, str] = field(default_factory=dict)

    @property
    def attempted(self) -> int:
        return self.sent + self.errors

    def format(self) -> str:
        achieved = self.sent / self.elapsed_s if self.elapsed_s > 0 else 0.0
        lines = [
            f"scenario {self.scenario} in {self.complex_id}: {self.sensors} sensors "
            f"at {self.rate:g} Hz, stopped by {self.stopped_by} after {self.elapsed_s:.1f} s",
            f"sent {self.sent}, errors {self.errors}, silent {self.skipped}, {achieved:.1f} msg/s",
            "by kind: " + ", ".join(f"{k} {n}" for k, n in sorted(self.by_kind.items())),
        ]
        if self.roles:
            lines.append("roles: " + ", ".join(f"{r} {s}" for r, s in self.roles.items()))
        return "\n".join(lines)


def fleet(size: int) -> list[Sensor]:
    """``size`` sensors with a realistic mix of kinds, named ``{kind}-{nnn}``."""
    return [
        Sensor(f"{kind}-{i + 1:03d}", kind)
        for i, kind in ((i, _KIND_CYCLE[i % len(_KIND_CYCLE)]) for i in range(size))
    ]


def topic_for(complex_id: str, sensor_id: str) -> str:
    return f"gyeonggi/safety/{complex_id}/{sensor_id}/telemetry"


def _clamp(kind: str, value: float) -> float:
    low, high = RANGES[kind]
    return min(max(value, low), high)


class Scenario:
    """The readings of a fleet under one scenario, as a pure function of time.

    Parameters
    ----------
    name
        One of :data:`SCENARIOS`.
    sensors
        The fleet, in order; "neighbours" are sensors close in this order.
    seed
        Seeds every sensor's noise (``None``: a random seed).
    """

    def __init__(self, name: str, sensors: Sequence[Sensor], seed: int | None = None) -> None:
        if name not in SCENARIOS:
            raise InvalidInput(
                f"scenario: {name!r} is not one of {', '.join(SCENARIOS)}", field="scenario"
            )
        self.name = name
        self.sensors = list(sensors)
        self.seed = seed if seed is not None else random.SystemRandom().randrange(2**32)
        self._stuck: dict[int, float] = {}
        # Per-sensor constants, drawn from a per-sensor stream so adding sensors to the fleet
        # does not change the ones already there.
        self._base: list[float] = []
        self._battery0: list[float] = []
        for s in self.sensors:
            rng = random.Random(f"{self.seed}:{s.sensor_id}:const")
            mean = BASELINES[s.kind][0]
            # Heat detectors sit in rooms of different temperature; gases share clean air.
            self._base.append(mean + (rng.uniform(-3, 3) if s.kind == "temperature" else 0.0))
            self._battery0.append(round(rng.uniform(70.0, 100.0), 1))
        self.roles: dict[str, int] = self._assign_roles()

    def _assign_roles(self) -> dict[str, int]:
        kinds = [s.kind for s in self.sensors]
        if self.name == "gas-leak":
            source = next(
                (i for i, k in enumerate(kinds) if k == "lel"),
                next((i for i, k in enumerate(kinds) if k in GASES), None),
            )
            return {} if source is None else {"leak": source}
        if self.name == "sensor-fault":
            # A stuck or out-of-range flame detector (0/1) would not look like a fault.
            candidates = [i for i, k in enumerate(kinds) if k != "flame"]
            faults = ("stuck", "out-of-range", "low-battery", "missed-heartbeat")
            return dict(zip(faults, candidates, strict=False))
        return {}

    def role_ids(self) -> dict[str, str]:
        return {role: self.sensors[i].sensor_id for role, i in self.roles.items()}

    def _noise(self, index: int, t: float) -> float:
        # Keyed on (seed, sensor, time) rather than drawn in sequence, so a reading does not
        # depend on which readings were generated before it.
        _, sigma = BASELINES[self.sensors[index].kind]
        return random.Random(f"{self.seed}:{self.sensors[index].sensor_id}:{t:.6f}").gauss(
            0.0, sigma
        )

    def value(self, index: int, t: float) -> float:
        """The reading of sensor ``index`` at ``t`` seconds into the run."""
        sensor = self.sensors[index]
        kind = sensor.kind
        value = self._base[index] + self._noise(index, t)
        since = t - ONSET_S

        if self.name == "gas-leak" and "leak" in self.roles and since >= 0:
            source = self.roles["leak"]
            ramp = min(1.0, since / LEAK_RAMP_S)
            if index == source:
                value += ramp * (1.75 * ALARM_LEVELS[kind][1] - self._base[index])
            elif kind in GASES and (distance := abs(index - source)) <= 3:
                # Gas drifts to nearby sensors diluted: a rise well under their low level.
                value += ramp * 0.3 * ALARM_LEVELS[kind][0] / distance

        elif self.name == "fire" and since >= 0:
            # Saturating growth: fast at first (about 1.5 C/s, smoke 0.7 %obs/m per second).
            grow = 1.0 - math.exp(-since / 30.0)
            if kind == "flame":
                value = 1.0
            elif kind == "smoke":
                value += 20.0 * grow
            elif kind == "temperature":
                value += 45.0 * grow + 0.5 * since
            elif kind == "co":
                value += 45.0 * grow

        elif self.name == "sensor-fault":
            if self.roles.get("stuck") == index:
                # A frozen output: the first reading repeated exactly, noise and all.
                value = self._stuck.setdefault(index, self._base[index] + self._noise(index, 0.0))
            elif self.roles.get("out-of-range") == index:
                low, high = RANGES[kind]
                return round(low - 0.125 * (high - low), DECIMALS[kind])

        return round(_clamp(kind, value), DECIMALS[kind])

    def battery(self, index: int, t: float) -> float:
        start = LOW_BATTERY if self.roles.get("low-battery") == index else self._battery0[index]
        return round(max(0.0, start - BATTERY_DRAIN_PER_S * t), 2)

    def reading(self, index: int, t: float, ts: datetime) -> dict[str, Any] | None:
        """The payload sensor ``index`` publishes at ``t`` s, or ``None`` when it is silent.

        ``ts`` is the device time written into the payload.
        """
        if self.roles.get("missed-heartbeat") == index and t >= ONSET_S:
            return None
        kind = self.sensors[index].kind
        return {
            "kind": kind,
            "value": self.value(index, t),
            "unit": UNITS[kind],
            "ts": ts.astimezone(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z"),
            "battery": self.battery(index, t),
            "firmware": FIRMWARE[kind],
        }


@dataclass(frozen=True)
class Plan:
    """A validated run.

    Attributes
    ----------
    ticks
        The most ticks (one reading per sensor each) the run may take.
    max_messages
        The most messages it may publish.
    duration_s
        The seconds it is expected to take.
    """

    ticks: int
    max_messages: int
    duration_s: float


def plan_run(sensors: int, rate: float, duration: float | None, count: int | None) -> Plan:
    """Check the bounds of a run; raises ``InvalidInput`` saying what to change.

    Every tick publishes one reading per sensor, ``rate`` ticks a second. A run needs a count or
    a duration (or both: whichever comes first), and either way must stay within
    :data:`MAX_DURATION_S` and :data:`MAX_MESSAGES`.
    """
    if not 1 <= sensors <= MAX_SENSORS:
        raise InvalidInput(f"sensors: must be 1 to {MAX_SENSORS}, not {sensors}", field="sensors")
    if not (math.isfinite(rate) and 0 < rate <= MAX_RATE_HZ):
        raise InvalidInput(
            f"rate: must be above 0 and at most {MAX_RATE_HZ:g} readings/s per sensor",
            field="rate",
        )
    if duration is None and count is None:
        raise InvalidInput(
            "a run needs a bound: give --duration SECONDS or --count MESSAGES (or both)",
            field="duration",
        )
    if duration is not None and not (math.isfinite(duration) and 0 < duration <= MAX_DURATION_S):
        raise InvalidInput(
            f"duration: must be above 0 and at most {MAX_DURATION_S:g} s (1 hour)",
            field="duration",
        )
    if count is not None and not 1 <= count <= MAX_MESSAGES:
        raise InvalidInput(f"count: must be 1 to {MAX_MESSAGES:,} messages", field="count")
    by_count = math.ceil(count / sensors) if count is not None else None
    by_time = math.ceil(duration * rate - 1e-9) if duration is not None else None
    seconds = min(t for t in (by_count, by_time) if t is not None) / rate
    if seconds > MAX_DURATION_S:
        raise InvalidInput(
            f"count: {count:,} messages from {sensors} sensors at {rate:g} Hz take "
            f"{seconds:,.0f} s, over the 1 hour limit; add --duration or raise --rate",
            field="count",
        )
    messages = min(n for n in (count, by_time * sensors if by_time else None) if n is not None)
    if messages > MAX_MESSAGES:
        raise InvalidInput(
            f"duration: {sensors} sensors at {rate:g} Hz for {duration:g} s send "
            f"{messages:,} messages, over the {MAX_MESSAGES:,} limit; add --count or shorten it",
            field="duration",
        )
    # A count-only run keeps ticking until the count is reached, even when silent sensors
    # make it take longer than planned, but never past the hour.
    ticks = by_time if by_time is not None else math.ceil(MAX_DURATION_S * rate)
    return Plan(ticks=ticks, max_messages=messages, duration_s=seconds)


@dataclass(frozen=True)
class TlsConfig:
    """Client certificate for AWS IoT Core (mutual TLS on port 8883)."""

    cert: Path
    key: Path
    ca: Path

    def check(self) -> None:
        for name, path in (("cert", self.cert), ("key", self.key), ("ca", self.ca)):
            if not Path(path).is_file():
                raise InvalidInput(f"{name}: no such file {path}", field=name)


class MqttPublisher:
    """One paho connection publishing for the whole fleet.

    A single connection is enough for the local broker; on AWS IoT Core its client id and
    certificate must be allowed by the thing's policy to publish to every sensor's topic.
    """

    def __init__(
        self,
        host: str,
        port: int,
        *,
        client_id: str,
        tls: TlsConfig | None = None,
        connect_timeout: float = 10.0,
    ) -> None:
        import paho.mqtt.client as mqtt
        from paho.mqtt.enums import CallbackAPIVersion

        self._mqtt = mqtt
        self._pending: list[Any] = []
        self._connected = threading.Event()
        self._refused: str | None = None
        self.client = mqtt.Client(CallbackAPIVersion.VERSION2, client_id=client_id)
        # The default of 20 in-flight QoS 1 messages throttles a fleet to the round-trip time.
        self.client.max_inflight_messages_set(1000)
        if tls is not None:
            tls.check()
            self.client.tls_set(
                ca_certs=str(tls.ca),
                certfile=str(tls.cert),
                keyfile=str(tls.key),
                tls_version=ssl.PROTOCOL_TLS_CLIENT,
            )

        def on_connect(client: Any, userdata: Any, flags: Any, reason: Any, props: Any) -> None:
            if reason.is_failure:
                self._refused = str(reason)
            self._connected.set()

        def on_disconnect(client: Any, userdata: Any, flags: Any, reason: Any, props: Any) -> None:
            # Closed before CONNACK: a refused client certificate (TLS 1.3 reports it only
            # after the handshake) or a broker that drops us; say so now, not after the timeout.
            if not self._connected.is_set():
                self._refused = f"the broker closed the connection ({reason})"
                self._connected.set()

        self.client.on_connect = on_connect
        self.client.on_disconnect = on_disconnect
        try:
            self.client.connect(host, port, keepalive=30)
        except (OSError, ssl.SSLError) as exc:
            raise SimulationError(f"cannot connect to MQTT broker {host}:{port}: {exc}") from exc
        self.client.loop_start()
        if not self._connected.wait(connect_timeout) or self._refused:
            self.close(0)
            raise SimulationError(
                f"MQTT broker {host}:{port} did not accept the connection"
                + (f": {self._refused}" if self._refused else f" in {connect_timeout:g} s")
            )

    def __call__(self, topic: str, payload: bytes, qos: int) -> None:
        info = self.client.publish(topic, payload, qos=qos)
        if info.rc != self._mqtt.MQTT_ERR_SUCCESS:
            raise SimulationError(f"publish failed: {self._mqtt.error_string(info.rc)}")
        if qos:
            self._pending.append(info)
            # Forget acknowledged messages now and then so a long run does not grow a list.
            if len(self._pending) >= 10_000:
                self._pending = [i for i in self._pending if not i.is_published()]

    def close(self, timeout: float = 5.0) -> int:
        """Wait up to ``timeout`` s for outstanding acknowledgements; returns how many lack one."""
        deadline = time.monotonic() + timeout
        for info in self._pending:
            left = deadline - time.monotonic()
            if left <= 0:
                break
            # wait_for_publish raises when the message can no longer be sent.
            try:
                info.wait_for_publish(left)
            except (RuntimeError, ValueError):
                break
        unacked = sum(1 for info in self._pending if not info.is_published())
        self._pending = []
        self.client.disconnect()
        self.client.loop_stop()
        return unacked


def simulate(
    complex_id: str,
    sensors: int = 20,
    rate: float = 1.0,
    duration: float | None = 30.0,
    count: int | None = None,
    scenario: str = "normal",
    *,
    seed: int | None = None,
    qos: int = 1,
    host: str = "127.0.0.1",
    port: int = 1883,
    tls: TlsConfig | None = None,
    client_id: str | None = None,
    publish: Publish | None = None,
    progress: Callable[[Progress], None] | None = None,
    clock: Callable[[], float] = time.monotonic,
    sleep: Callable[[float], None] = time.sleep,
    start_time: datetime | None = None,
) -> SimulationSummary:
    """Publish a scenario's readings for a fleet, bounded by ``count`` and ``duration``.

    Parameters
    ----------
    complex_id
        The industrial complex, the third level of the topic.
    sensors, rate
        Fleet size, and readings per second per sensor.
    duration, count
        Stop after ``duration`` seconds or ``count`` messages, whichever comes first; see
        :func:`plan_run` for the limits.
    scenario
        ``normal``, ``gas-leak``, ``sensor-fault`` or ``fire``.
    seed
        Makes the readings repeatable.
    qos
        0 or 1 (AWS IoT Core has no QoS 2).
    host, port, tls, client_id
        Where to publish when ``publish`` is not given; ``tls`` for AWS IoT Core.
    publish
        Replaces the MQTT connection, e.g. with a list's ``append`` in tests.
    progress
        Called about once a second with the totals so far.
    clock, sleep, start_time
        Injectable for tests; ``start_time`` is the device time of the first reading.

    Returns
    -------
    SimulationSummary
        Counts; QoS 1 messages the broker never acknowledged are counted as errors.

    Raises
    ------
    InvalidInput
        When the bounds or the scenario are refused.
    SimulationError
        When the broker cannot be reached.
    """
    if qos not in (0, 1):
        raise InvalidInput("qos: must be 0 or 1", field="qos")
    plan = plan_run(sensors, rate, duration, count)
    devices = fleet(sensors)
    story = Scenario(scenario, devices, seed=seed)
    topics = [topic_for(complex_id, s.sensor_id) for s in devices]
    summary = SimulationSummary(complex_id, scenario, sensors, rate, roles=story.role_ids())
    by_kind: Counter[str] = Counter()
    started_at = start_time or datetime.now(UTC)

    mqtt_publisher: MqttPublisher | None = None
    if publish is None:
        mqtt_publisher = MqttPublisher(
            host,
            port,
            client_id=client_id or f"gyeonggi-sim-{complex_id}-{random.randrange(10**6)}",
            tls=tls,
        )
        publish = mqtt_publisher

    interval = 1.0 / rate
    t0 = clock()
    last_report, last_sent = t0, 0
    summary.stopped_by = "duration"
    try:
        for tick in range(plan.ticks):
            t = tick * interval
            delay = t0 + t - clock()
            if delay > 0:
                sleep(delay)
            ts = started_at + timedelta(seconds=t)
            for index, topic in enumerate(topics):
                if summary.attempted >= plan.max_messages:
                    break
                payload = story.reading(index, t, ts)
                if payload is None:
                    summary.skipped += 1
                    continue
                try:
                    publish(topic, json.dumps(payload).encode(), qos)
                except Exception:
                    # One failed publish must not end a load test; it is counted and reported.
                    summary.errors += 1
                else:
                    summary.sent += 1
                    by_kind[devices[index].kind] += 1
            now = clock()
            if progress is not None and now - last_report >= 1.0:
                progress(
                    Progress(
                        now - t0,
                        summary.sent,
                        summary.errors,
                        (summary.sent - last_sent) / (now - last_report),
                    )
                )
                last_report, last_sent = now, summary.sent
            if summary.attempted >= plan.max_messages:
                break
        if count is not None and summary.attempted >= count:
            summary.stopped_by = "count"
    except KeyboardInterrupt:
        summary.stopped_by = "interrupted"
    finally:
        if mqtt_publisher is not None:
            unacked = mqtt_publisher.close()
            summary.sent -= unacked
            summary.errors += unacked
    summary.elapsed_s = clock() - t0
    summary.by_kind = dict(by_kind)
    return summary
