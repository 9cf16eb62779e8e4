"""Gas and fire alarms for one sensor reading: thresholds, exposure windows, rise, faults.

This module is the alarm path's domain. It imports the standard library only (plus the
stdlib-only ``gyeonggi.common.errors`` and ``.clock``): no numpy, scikit-learn, cv2 or
pydantic, because the sensor function's cold start and per-message work must stay small
(NFPA 72 allows 10 s from detector to alarm, for everything). Statistical anomaly pre-alarms
live elsewhere, on batches.

One entry point, :func:`evaluate`, takes a sensor's previous :class:`SensorState`, one reading
and the complex's :class:`AlarmConfig`, and returns the new state and the alarm events. It is
pure: no clock, no I/O, the caller's state is not mutated.

Where the numbers come from
---------------------------
Alarm set points (low / high), gas detector industry defaults, as the mission states them:
LEL 10 / 20 %LEL, CO 35 / 70 ppm, H2S 10 / 20 ppm, NH3 25 / 50 ppm, Cl2 0.5 / 1.0 ppm.

Exposure limits (TWA 8 h / STEL 15 min) follow one source, the Korean Ministry of Employment and
Labor notice *Exposure Standards for Chemical Substances and Physical Factors*
(고용노동부 고시 「화학물질 및 물리적 인자의 노출기준」, table 1), which is what KOSHA applies:
CO 30 / 200 ppm, H2S 10 / 15 ppm, NH3 25 / 35 ppm, Cl2 0.5 / 1 ppm. They are lower-bounded by
no alarm logic of ours; re-check them against the notice's current revision before relying on
them (ACGIH TLVs are stricter for some gases, e.g. H2S 1 / 5 ppm, Cl2 0.1 / 0.4 ppm, and a
complex can adopt those through :meth:`AlarmConfig.from_mapping`). LEL has no exposure limit: it
measures flammability, not toxicity.

Fire:

- ``flame`` is a boolean detector output (1.0 or 0.0): 1.0 is a high alarm.
- ``smoke`` in %obs/m: UL 268 lets spot smoke detectors alarm between 0.5 and 4.0 %obs/ft
  (about 1.6 to 12.5 %obs/m); we pre-alarm at 3 %obs/m and alarm at 8 %obs/m (about 2.5 %obs/ft,
  a common factory setting of photoelectric detectors). Our choice within that range.
- ``temperature`` in °C: NFPA 72's *ordinary* fixed-temperature class starts at 57 °C (135 °F),
  our high alarm; rate-of-rise heat detectors (UL 521) alarm at 8.3 °C/min (15 °F/min), our
  temperature rate-of-rise, which is therefore critical and not only a pre-alarm. The 45 °C
  low level is our own pre-alarm choice.

Rate of rise: LEL rising by 5 %LEL within 60 s is a pre-alarm (a leak building up before it
reaches the 10 %LEL set point).

Sensor ranges (out-of-range faults) are typical full scales of industrial detectors; a complex
whose detectors differ overrides them.
"""

from __future__ import annotations

import dataclasses
import math
import struct
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from types import MappingProxyType
from typing import Any, Literal, Protocol

from gyeonggi.common.clock import from_epoch_ms, to_epoch_ms
from gyeonggi.common.errors import InvalidInput

EventKind = Literal[
    "threshold_low",
    "threshold_high",
    "stel_exceeded",
    "twa_exceeded",
    "rate_of_rise",
    "fault_stuck",
    "fault_out_of_range",
    "fault_low_battery",
    "cleared",
]
Severity = Literal["info", "warning", "critical"]

#: Bump when :meth:`SensorState.to_dict` changes shape; an unknown version starts afresh.
#: 2: exposure sums packed as float32 (:func:`_pack_sums`); 1 (``[[index, sum], ...]``) is
#: still read, so a deploy keeps every sensor's 8 h of exposure.
STATE_VERSION = 2
_READABLE_VERSIONS = frozenset({1, 2})

_STEL_WINDOW_MS = 15 * 60 * 1000
#: A detector pinned at full scale reads at or a little past its range; twice the full scale, in
#: either direction, is no reading a transducer gives (a corrupt encoding, 1e300, -1e300), so it
#: is a fault, not an alarm.
ABSURD_RANGE_FACTOR = 2.0
_TWA_WINDOW_MS = 8 * 60 * 60 * 1000


class AlarmConfigError(InvalidInput):
    """A complex's alarm overrides are invalid (unknown gas or key, low >= high, ...)."""

    code = "alarm_config_error"


@dataclass(frozen=True, slots=True)
class KindLimits:
    """Alarm levels, exposure limits and sensor range of one sensor kind.

    Attributes
    ----------
    unit : str
        Unit the values are in (the one ``telemetry.UNITS`` requires).
    high : float
        High alarm set point; a value at or above it alarms (critical).
    low : float or None
        Low alarm set point (warning); ``None`` for binary detectors.
    twa, stel : float or None
        8 h time-weighted average and 15 min short-term exposure limits; ``None`` when the kind
        has none. Exceeded means strictly above.
    range_min, range_max : float
        Physical range of the sensor; readings outside it are faults.
    ror_delta, ror_window_s : float or None, float
        Rate-of-rise: a rise of at least ``ror_delta`` within ``ror_window_s`` seconds.
    ror_severity : str
        Severity of a rate-of-rise event (a pre-alarm for gas, an alarm for heat).
    stuck_check : bool
        Whether a constant value is suspicious at all (not for a binary flame detector).
    stuck_exempt : tuple of float
        Values that are legitimately constant for hours, e.g. 0 ppm in clean air.
    """

    unit: str
    high: float
    low: float | None = None
    twa: float | None = None
    stel: float | None = None
    range_min: float = 0.0
    range_max: float = 100.0
    ror_delta: float | None = None
    ror_window_s: float = 60.0
    ror_severity: Severity = "warning"
    stuck_check: bool = True
    stuck_exempt: tuple[float, ...] = (0.0,)


DEFAULT_LIMITS: Mapping[str, KindLimits] = MappingProxyType(
    {
        "lel": KindLimits("%LEL", low=10, high=20, range_max=100, ror_delta=5, ror_window_s=60),
        "co": KindLimits("ppm", low=35, high=70, twa=30, stel=200, range_max=1000),
        "h2s": KindLimits("ppm", low=10, high=20, twa=10, stel=15, range_max=100),
        "nh3": KindLimits("ppm", low=25, high=50, twa=25, stel=35, range_max=1000),
        "cl2": KindLimits("ppm", low=0.5, high=1.0, twa=0.5, stel=1.0, range_max=20),
        "flame": KindLimits("bool", high=1.0, range_max=1.0, stuck_check=False),
        "smoke": KindLimits("%obs/m", low=3.0, high=8.0, range_max=100),
        "temperature": KindLimits(
            "C",
            low=45.0,
            high=57.0,
            range_min=-40.0,
            range_max=200.0,
            ror_delta=8.3,
            ror_window_s=60.0,
            ror_severity="critical",
            stuck_exempt=(),
        ),
    }
)

# Keys a complex may override per kind; the unit is fixed by the telemetry contract.
_KIND_KEYS = frozenset(f.name for f in dataclasses.fields(KindLimits)) - {"unit"}
_GLOBAL_KEYS = frozenset(
    {
        "clear_ratio",
        "battery_low_pct",
        "battery_clear_pct",
        "stuck_samples",
        "stuck_minutes",
        "max_hold_s",
    }
)


@dataclass(frozen=True, slots=True)
class AlarmConfig:
    """The alarm configuration of one complex.

    Attributes
    ----------
    limits : Mapping[str, KindLimits]
        Per sensor kind.
    clear_ratio : float
        Hysteresis: an alarm clears only once the value falls below ``clear_ratio`` times its
        level, so a value hovering at the set point does not flap.
    battery_low_pct, battery_clear_pct : float
        Low-battery fault below the first, cleared at or above the second.
    stuck_samples, stuck_minutes : int, float
        A value repeated exactly for at least this many samples *and* this long is stuck. Both,
        because either alone misfires: a 1 Hz sensor repeats a quantised value 30 times in
        half a minute, and a sensor reporting every 10 min repeats it 6 times in an hour.
    max_hold_s : float
        Exposure integration holds each reading until the next one, at most this long; a longer
        gap counts as no exposure (the missed-heartbeat fault reports the gap itself).
    """

    limits: Mapping[str, KindLimits] = field(default_factory=lambda: DEFAULT_LIMITS)
    clear_ratio: float = 0.9
    battery_low_pct: float = 15.0
    battery_clear_pct: float = 20.0
    stuck_samples: int = 30
    stuck_minutes: float = 30.0
    max_hold_s: float = 300.0

    def to_json(self) -> dict[str, Any]:
        """The whole effective configuration (per kind with its unit, which is not an override)."""
        settings = {f.name: getattr(self, f.name) for f in dataclasses.fields(self)}
        settings.pop("limits")
        kinds = {kind: dataclasses.asdict(limits) for kind, limits in self.limits.items()}
        for values in kinds.values():
            values["stuck_exempt"] = list(values["stuck_exempt"])
        return {"kinds": kinds, **settings}

    @classmethod
    def from_mapping(cls, overrides: Mapping[str, Any] | None) -> AlarmConfig:
        """Build a complex's configuration from the defaults and its overrides.

        Parameters
        ----------
        overrides : Mapping or None
            ``{"kinds": {"co": {"low": 30, "high": 60}}, "clear_ratio": 0.85, ...}``; the
            global keys are the attributes of this class other than ``limits``.

        Raises
        ------
        AlarmConfigError
            Naming the offending key: an unknown kind or key, a non-number, low >= high,
            twa >= stel, range_min >= range_max, a ratio outside (0, 1).
        """
        overrides = dict(overrides or {})
        unknown = set(overrides) - _GLOBAL_KEYS - {"kinds"}
        if unknown:
            raise AlarmConfigError(f"unknown alarm setting(s): {sorted(unknown)}", field="config")
        limits = dict(DEFAULT_LIMITS)
        kinds = overrides.pop("kinds", None) or {}
        if not isinstance(kinds, Mapping):
            raise AlarmConfigError("kinds: must be a mapping of kind to limits", field="kinds")
        for kind, values in kinds.items():
            if kind not in DEFAULT_LIMITS:
                raise AlarmConfigError(
                    f"kinds.{kind}: unknown sensor kind (known: {sorted(DEFAULT_LIMITS)})",
                    field=f"kinds.{kind}",
                )
            limits[kind] = _override_kind(kind, limits[kind], values)
        globals_: dict[str, Any] = {}
        for key, value in overrides.items():
            globals_[key] = _number(key, value, integer=key == "stuck_samples")
        config = cls(limits=MappingProxyType(limits), **globals_)
        if not 0 < config.clear_ratio < 1:
            raise AlarmConfigError("clear_ratio: must be between 0 and 1", field="clear_ratio")
        if not 0 <= config.battery_low_pct <= config.battery_clear_pct <= 100:
            raise AlarmConfigError(
                "battery_low_pct must be <= battery_clear_pct, both within 0..100",
                field="battery_low_pct",
            )
        if config.stuck_samples < 2 or config.stuck_minutes <= 0 or config.max_hold_s <= 0:
            raise AlarmConfigError(
                "stuck_samples must be >= 2; stuck_minutes and max_hold_s positive",
                field="config",
            )
        return config


def _number(name: str, value: Any, *, integer: bool = False) -> Any:
    # bool is an int in Python; "true" as a set point is a typo, not 1.0.
    if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
        raise AlarmConfigError(f"{name}: must be a finite number, not {value!r}", field=name)
    if integer and int(value) != value:
        raise AlarmConfigError(f"{name}: must be a whole number", field=name)
    return int(value) if integer else float(value)


def _override_kind(kind: str, base: KindLimits, values: Any) -> KindLimits:
    if not isinstance(values, Mapping):
        raise AlarmConfigError(f"kinds.{kind}: must be a mapping", field=f"kinds.{kind}")
    changes: dict[str, Any] = {}
    for key, value in values.items():
        name = f"kinds.{kind}.{key}"
        if key not in _KIND_KEYS:
            raise AlarmConfigError(f"{name}: unknown setting", field=name)
        if key == "ror_severity":
            if value not in ("info", "warning", "critical"):
                raise AlarmConfigError(f"{name}: info, warning or critical", field=name)
            changes[key] = value
        elif key == "stuck_check":
            if not isinstance(value, bool):
                raise AlarmConfigError(f"{name}: must be true or false", field=name)
            changes[key] = value
        elif key == "stuck_exempt":
            if not isinstance(value, list | tuple):
                raise AlarmConfigError(f"{name}: must be a list of numbers", field=name)
            changes[key] = tuple(_number(name, v) for v in value)
        elif value is None and key in {"low", "twa", "stel", "ror_delta"}:
            changes[key] = None
        else:
            changes[key] = _number(name, value)
    limits = dataclasses.replace(base, **changes)
    where = f"kinds.{kind}"
    if limits.low is not None and limits.low >= limits.high:
        raise AlarmConfigError(
            f"{where}: low ({limits.low}) must be below high ({limits.high})", field=where
        )
    if limits.twa is not None and limits.stel is not None and limits.twa >= limits.stel:
        raise AlarmConfigError(
            f"{where}: twa ({limits.twa}) must be below stel ({limits.stel})", field=where
        )
    if limits.range_min >= limits.range_max:
        raise AlarmConfigError(f"{where}: range_min must be below range_max", field=where)
    for name in ("high", "low", "twa", "stel", "ror_delta"):
        value = getattr(limits, name)
        if value is not None and name != "high" and value <= 0:
            raise AlarmConfigError(f"{where}.{name}: must be positive", field=f"{where}.{name}")
    if limits.ror_window_s <= 0:
        raise AlarmConfigError(f"{where}.ror_window_s: must be positive", field=where)
    return limits


class ReadingLike(Protocol):
    """What :func:`evaluate` reads from a reading; ``telemetry.Telemetry`` fits it as is."""

    @property
    def complex_id(self) -> str: ...
    @property
    def sensor_id(self) -> str: ...
    @property
    def kind(self) -> str: ...
    @property
    def value(self) -> float: ...
    @property
    def ts(self) -> datetime: ...
    @property
    def battery(self) -> float | None: ...


@dataclass(frozen=True, slots=True)
class Reading:
    """One sensor reading, without pydantic (the telemetry model is validated upstream)."""

    complex_id: str
    sensor_id: str
    kind: str
    value: float
    unit: str
    ts: datetime
    battery: float | None = None


@dataclass(frozen=True, slots=True)
class AlarmEvent:
    """Something the incident workflow must hear about.

    ``cleared`` events name what cleared in ``clears``; a high alarm that steps down to the low
    level clears ``threshold_high`` with severity ``warning`` (the low alarm still stands).
    """

    kind: EventKind
    severity: Severity
    gas: str
    value: float | None  # None: the reading had no usable number (a broken sensor's NaN or inf)
    limit: float | None
    ts: datetime
    complex_id: str = ""
    sensor_id: str = ""
    clears: str | None = None

    def to_dict(self) -> dict[str, Any]:
        out = dataclasses.asdict(self)
        out["ts"] = self.ts.isoformat()
        return out


@dataclass(slots=True)
class SensorState:
    """What one sensor's alarms remember between readings; a small dict in DynamoDB.

    Memory is bounded whatever the reading rate: exposure is kept as sums of
    concentration x time per bucket (1 min buckets for the 15 min STEL, 5 min buckets for the 8 h
    TWA: at most 16 + 97 numbers), the rate of rise as the minimum per sixth of its window.
    Times are integer epoch milliseconds.
    """

    complex_id: str
    sensor_id: str
    kind: str
    last_ts_ms: int
    hold_value: float | None = None
    level: int = 0
    active: list[str] = field(default_factory=list)
    stuck_value: float | None = None
    stuck_count: int = 0
    stuck_since_ms: int = 0
    stel_buckets: dict[int, float] = field(default_factory=dict)
    twa_buckets: dict[int, float] = field(default_factory=dict)
    ror_buckets: dict[int, float] = field(default_factory=dict)

    @property
    def last_seen(self) -> datetime:
        return from_epoch_ms(self.last_ts_ms)

    def copy(self) -> SensorState:
        return dataclasses.replace(
            self,
            active=list(self.active),
            stel_buckets=dict(self.stel_buckets),
            twa_buckets=dict(self.twa_buckets),
            ror_buckets=dict(self.ror_buckets),
        )

    def to_dict(self) -> dict[str, Any]:
        """DynamoDB-ready: exposure sums are packed bytes (a Binary attribute), the rate-of-rise
        minima ``[[index, value], ...]`` (JSON keys are strings)."""
        return {
            "v": STATE_VERSION,
            "complex_id": self.complex_id,
            "sensor_id": self.sensor_id,
            "kind": self.kind,
            "last_ts_ms": self.last_ts_ms,
            "hold_value": self.hold_value,
            "level": self.level,
            "active": list(self.active),
            "stuck_value": self.stuck_value,
            "stuck_count": self.stuck_count,
            "stuck_since_ms": self.stuck_since_ms,
            "stel": _pack_sums(self.stel_buckets),
            "twa": _pack_sums(self.twa_buckets),
            "ror": [[k, v] for k, v in sorted(self.ror_buckets.items())],
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> SensorState | None:
        """Rebuild from :meth:`to_dict` output (numbers may be ``Decimal`` from DynamoDB).

        Returns ``None`` for an unknown schema version, so the sensor starts afresh instead of
        failing on the alarm path.
        """
        version = int(data.get("v", 0))
        if version not in _READABLE_VERSIONS:
            return None

        def buckets(key: str) -> dict[int, float]:
            if version == 1 or key == "ror":
                return {int(k): float(v) for k, v in data.get(key) or []}
            return _unpack_sums(data.get(key))

        def opt(key: str) -> float | None:
            value = data.get(key)
            return None if value is None else float(value)

        return cls(
            complex_id=str(data["complex_id"]),
            sensor_id=str(data["sensor_id"]),
            kind=str(data["kind"]),
            last_ts_ms=int(data["last_ts_ms"]),
            hold_value=opt("hold_value"),
            level=int(data.get("level", 0)),
            active=[str(a) for a in data.get("active", [])],
            stuck_value=opt("stuck_value"),
            stuck_count=int(data.get("stuck_count", 0)),
            stuck_since_ms=int(data.get("stuck_since_ms", 0)),
            stel_buckets=buckets("stel"),
            twa_buckets=buckets("twa"),
            ror_buckets=buckets("ror"),
        )


def heartbeat_missed(
    last_seen: datetime | None, now: datetime, expected_interval_s: float, factor: float = 3.0
) -> bool:
    """Whether a sensor has been silent for more than ``factor`` times its reporting interval.

    A sensor never seen is not "missed" here: provisioning, not the heartbeat, owns that case.
    """
    if last_seen is None:
        return False
    return (_ms(now) - _ms(last_seen)) > factor * expected_interval_s * 1000


def _ms(ts: datetime) -> int:
    # A naive timestamp is taken as UTC rather than refused: dropping a gas reading to the
    # dead-letter queue over a missing "Z" would be the worse failure.
    return to_epoch_ms(ts)


#: Buckets a packed run may span: a window's worth (97 for the TWA) and room to spare; older
#: buckets are pruned by every evaluation anyway.
_MAX_PACKED_BUCKETS = 256


def _pack_sums(buckets: Mapping[int, float]) -> dict[str, Any] | None:
    """Exposure sums as the sensor's item stores them: the first bucket's index and the run of
    sums from there as little-endian float32, a missing bucket as 0.

    Four bytes a bucket instead of about sixteen as DynamoDB number pairs: the item of a gas
    sensor with 8 h of exposure goes from about 2.2 KB (3 write units per reading) to under
    1 KB (1 write unit), the alarm path's main cost at the design scale (docs/BENCHMARKS.md).
    float32 keeps about seven significant digits, far finer than any sensor's accuracy.
    """
    if not buckets:
        return None
    last = max(buckets)
    first = max(min(buckets), last - _MAX_PACKED_BUCKETS + 1)
    run = [buckets.get(i, 0.0) for i in range(first, last + 1)]
    return {"first": first, "sums": struct.pack(f"<{len(run)}f", *run)}


def _unpack_sums(packed: Any) -> dict[int, float]:
    if not packed:
        return {}
    raw = packed["sums"]
    raw = bytes(getattr(raw, "value", raw))  # boto3 hands a Binary attribute back wrapped
    first = int(packed["first"])
    sums = struct.unpack(f"<{len(raw) // 4}f", raw)
    return {first + i: float(v) for i, v in enumerate(sums) if v}


def _accumulate(buckets: dict[int, float], start: int, end: int, value: float, size: int) -> None:
    """Add ``value`` held over [start, end) ms to the buckets it spans (value x ms)."""
    t = start
    while t < end:
        idx = t // size
        edge = min(end, (idx + 1) * size)
        buckets[idx] = buckets.get(idx, 0.0) + value * (edge - t)
        t = edge


def _window_average(buckets: dict[int, float], now: int, window: int, size: int) -> float:
    """Average over (now - window, now], dropping buckets that fell out of it.

    The oldest bucket, partly inside the window, counts pro rata (exact for a constant level).
    Division by the whole window, as the regulatory definitions do (KOSHA: sum(C x T) / 8 h).
    """
    start = now - window
    total = 0.0
    for idx in list(buckets):
        b0, b1 = idx * size, (idx + 1) * size
        if b1 <= start:
            del buckets[idx]
        elif b0 < start:
            total += buckets[idx] * (b1 - start) / size
        else:
            total += buckets[idx]
    return total / window


def _held_level(value: float, current: int, limits: KindLimits, ratio: float) -> Literal[0, 1, 2]:
    # Raising is immediate at the set point; lowering waits until the value is clearly below it.
    if value >= limits.high or (current == 2 and value >= ratio * limits.high):
        return 2
    low = limits.low
    if low is not None and (value >= low or (current >= 1 and value >= ratio * low)):
        return 1
    return 0


def plausible(value: float, limits: KindLimits) -> bool:
    """Whether a transducer of this kind could give ``value`` at all.

    NaN, infinity and anything more than :data:`ABSURD_RANGE_FACTOR` times the larger end of
    the range in magnitude are not readings but a broken sensor or encoder: the alarm path
    raises ``fault_out_of_range`` for them, and no path stores or averages them.
    """
    bound = ABSURD_RANGE_FACTOR * max(abs(limits.range_min), abs(limits.range_max))
    return math.isfinite(value) and abs(value) <= bound


def evaluate(
    state: SensorState | None,
    reading: ReadingLike,
    config: AlarmConfig,
) -> tuple[SensorState, list[AlarmEvent]]:
    """Evaluate one reading against the sensor's previous state.

    Parameters
    ----------
    state : SensorState or None
        What :func:`evaluate` returned for this sensor last time; ``None`` for a new sensor. A
        state of another kind (the device was reconfigured) is discarded.
    reading : ReadingLike
        A :class:`Reading` or a ``telemetry.Telemetry``.
    config : AlarmConfig
        The complex's configuration.

    Returns
    -------
    (SensorState, list of AlarmEvent)
        The new state (``state`` itself is not mutated) and the events, possibly none. A reading
        no newer than the state (a duplicate or late delivery) returns the state unchanged and
        no events.

    Raises
    ------
    InvalidInput
        For a sensor kind the configuration does not know.
    """
    limits = config.limits.get(reading.kind)
    if limits is None:
        raise InvalidInput(f"kind: unknown sensor kind {reading.kind!r}", field="kind")
    now = _ms(reading.ts)
    value = float(reading.value)
    if state is not None and state.kind == reading.kind:
        if now <= state.last_ts_ms:
            return state, []
        new = state.copy()
    else:
        new = SensorState(reading.complex_id, reading.sensor_id, reading.kind, last_ts_ms=now)

    events: list[AlarmEvent] = []

    def emit(
        kind: EventKind,
        severity: Severity,
        limit: float | None,
        clears: str | None = None,
        shown: float | None = None,
    ) -> None:
        events.append(
            AlarmEvent(
                kind,
                severity,
                reading.kind,
                (value if math.isfinite(value) else None) if shown is None else shown,
                limit,
                reading.ts,
                reading.complex_id,
                reading.sensor_id,
                clears,
            )
        )

    def transition(name: EventKind, on: bool, severity: Severity, limit: float | None) -> None:
        # Report a condition once when it starts and once when it ends.
        if on and name not in new.active:
            new.active.append(name)
            emit(name, severity, limit)
        elif not on and name in new.active:
            new.active.remove(name)
            emit("cleared", "info", limit, clears=name)

    # Exposure of the interval just ended, at the previous reading's value (sample and hold).
    if new.hold_value is not None and new.last_ts_ms < now:
        end = min(now, new.last_ts_ms + round(config.max_hold_s * 1000))
        if limits.stel is not None:
            _accumulate(new.stel_buckets, new.last_ts_ms, end, new.hold_value, 60_000)
        if limits.twa is not None:
            _accumulate(new.twa_buckets, new.last_ts_ms, end, new.hold_value, 300_000)
    new.last_ts_ms = now

    # A value no transducer can give (NaN, infinity, far past full scale) is a broken sensor or
    # a broken encoder, never a gas level: a fault, and nothing of it is stored or averaged.
    if not plausible(value, limits):
        transition("fault_out_of_range", True, "warning", limits.range_max)
        new.hold_value = None  # fail safe: no exposure credit, no clearing of a standing alarm
        return new, events

    # Faults first: a reading below the sensor's range says nothing about the air.
    below = value < limits.range_min
    above = value > limits.range_max
    transition(
        "fault_out_of_range",
        below or above,
        "warning",
        limits.range_min if below else limits.range_max,
    )
    if reading.battery is not None:
        battery = float(reading.battery)
        if battery < config.battery_low_pct:
            transition("fault_low_battery", True, "warning", config.battery_low_pct)
        elif battery >= config.battery_clear_pct:
            transition("fault_low_battery", False, "info", config.battery_clear_pct)
    _check_stuck(new, value, now, limits, config, transition)

    if below:
        # No exposure credit and no clearing of a standing alarm on a broken reading (fail safe).
        new.hold_value = None
        return new, events
    # Over range is kept: a gas detector pinned at full scale is in alarm, not healthy.
    new.hold_value = min(value, limits.range_max)

    held = _held_level(value, new.level, limits, config.clear_ratio)
    if held > new.level:
        if held == 2:
            emit("threshold_high", "critical", limits.high)
        else:
            emit("threshold_low", "warning", limits.low)
    elif held < new.level:
        cleared = "threshold_high" if new.level == 2 else "threshold_low"
        limit = limits.high if new.level == 2 else limits.low
        emit("cleared", "warning" if held == 1 else "info", limit, clears=cleared)
    new.level = held

    # Exposure events carry the window average as their value, not the instantaneous reading.
    exposures: list[tuple[EventKind, float | None, dict[int, float], int, int, Severity]] = [
        ("stel_exceeded", limits.stel, new.stel_buckets, _STEL_WINDOW_MS, 60_000, "critical"),
        ("twa_exceeded", limits.twa, new.twa_buckets, _TWA_WINDOW_MS, 300_000, "warning"),
    ]
    for name, exposure_limit, buckets, window, size, severity in exposures:
        if exposure_limit is None:
            continue
        average = _window_average(buckets, now, window, size)
        if average > exposure_limit and name not in new.active:
            new.active.append(name)
            emit(name, severity, exposure_limit, shown=average)
        elif average < config.clear_ratio * exposure_limit and name in new.active:
            new.active.remove(name)
            emit("cleared", "info", exposure_limit, clears=name, shown=average)

    if limits.ror_delta is not None:
        rise = _rise(new.ror_buckets, value, now, limits.ror_window_s)
        if rise >= limits.ror_delta:
            transition("rate_of_rise", True, limits.ror_severity, limits.ror_delta)
        elif rise < config.clear_ratio * limits.ror_delta:
            transition("rate_of_rise", False, "info", limits.ror_delta)
    return new, events


def _rise(buckets: dict[int, float], value: float, now: int, window_s: float) -> float:
    """How far ``value`` is above the lowest value of the last ``window_s`` seconds.

    The minimum is kept per sixth of the window, so the window is effectively between 1 and
    7/6 of ``window_s``: a slight over-estimate of the rise, the safe side for a pre-alarm.
    """
    size = max(1, round(window_s * 1000 / 6))
    idx = now // size
    oldest = (now - round(window_s * 1000)) // size
    for key in [k for k in buckets if k < oldest]:
        del buckets[key]
    lowest = min(buckets.values(), default=value)
    buckets[idx] = min(buckets.get(idx, value), value)
    return value - lowest


def _check_stuck(
    state: SensorState,
    value: float,
    now: int,
    limits: KindLimits,
    config: AlarmConfig,
    transition: Any,
) -> None:
    # A dead sensor often repeats its last value exactly; a live one at a non-zero level wobbles.
    if state.stuck_value is not None and value == state.stuck_value:
        state.stuck_count += 1
    else:
        state.stuck_value, state.stuck_count, state.stuck_since_ms = value, 1, now
    stuck = (
        limits.stuck_check
        and value not in limits.stuck_exempt
        and state.stuck_count >= config.stuck_samples
        and now - state.stuck_since_ms >= config.stuck_minutes * 60_000
    )
    transition("fault_stuck", stuck, "warning", None)
