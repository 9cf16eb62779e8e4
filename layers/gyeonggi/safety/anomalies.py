"""Statistical pre-alarms on batches of readings, off the alarm path (numpy allowed here).

Three checks, each cheap and explainable to an operator:

Robust z-score per sensor
    Each reading is compared with the median and MAD (median absolute deviation) of the
    sensor's previous :data:`WINDOW` readings: ``z = (x - median) / (1.4826 * MAD)``. Median and
    MAD, not mean and standard deviation, because one spike must not widen the band that is
    meant to catch the next one. The MAD has a floor per kind (:func:`mad_floor`), otherwise a
    sensor quantised to a constant value would make any 0.1 ppm step infinitely anomalous.
    ``|z| >= Z_FLAG`` with at least :data:`MIN_HISTORY` readings of history is an anomaly; it is
    reported once, and re-armed when ``|z|`` falls below :data:`Z_REARM`. Chosen over an
    IsolationForest: no model to train, ship and re-validate per sensor type, the state is 32
    numbers per sensor, and the reason ("9.3 MADs above its last 32 readings") is readable.

Stuck while neighbours vary
    Within one batch, a sensor that repeats exactly one value at least :data:`STUCK_MIN`
    times while at least two other sensors of the same kind in the same complex vary is
    probably stuck. The alarm path's stuck fault needs 30 minutes of evidence on one sensor
    alone; the neighbours make it visible in one batch. Values exempt from the stuck check
    (0 ppm in clean air) stay exempt.

Missed heartbeats are not checked here: a silent sensor sends no batch, so a schedule sweeps
every complex for them (:mod:`gyeonggi.safety.heartbeats`).
"""

from __future__ import annotations

import logging
from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

import numpy as np

from gyeonggi.common.aws import DynamoTable, from_dynamo, to_dynamo
from gyeonggi.common.clock import from_epoch_ms
from gyeonggi.common.errors import InvalidInput
from gyeonggi.common.messages import json_body
from gyeonggi.safety.alarms import DEFAULT_LIMITS, plausible
from gyeonggi.safety.evidence import Evidence, EvidenceSender, evidence_id
from gyeonggi.safety.telemetry import check_clock_skew, decode_rule_message, parse_telemetry

log = logging.getLogger(__name__)

WINDOW = 32
MIN_HISTORY = 16
Z_FLAG = 6.0
Z_REARM = 3.0
STUCK_MIN = 5
#: Kinds with a continuous value; a boolean flame detector has no meaningful median.
CONTINUOUS = frozenset(k for k, lim in DEFAULT_LIMITS.items() if lim.unit != "bool")


def mad_floor(kind: str) -> float:
    """Smallest scale a deviation is measured in: 0.2 % of the sensor's span (LEL: 0.2 %LEL)."""
    limits = DEFAULT_LIMITS[kind]
    return 0.002 * (limits.range_max - limits.range_min)


@dataclass(slots=True)
class AnomalyState:
    """What the anomaly check remembers of one sensor: its last readings and whether flagged."""

    history: list[float] = field(default_factory=list)
    last_ts_ms: int = 0
    flagged: bool = False

    def to_dict(self) -> dict[str, Any]:
        return {"h": list(self.history), "t": self.last_ts_ms, "f": self.flagged}

    @classmethod
    def from_dict(cls, data: Mapping[str, Any] | None) -> AnomalyState:
        if not data:
            return cls()
        return cls([float(v) for v in data.get("h", [])], int(data.get("t", 0)), bool(data["f"]))


@dataclass(frozen=True, slots=True)
class Point:
    """One reading as the anomaly checks see it."""

    ts_ms: int
    value: float


@dataclass(frozen=True, slots=True)
class Anomaly:
    """A flagged reading."""

    ts_ms: int
    value: float
    z: float
    median: float
    mad: float
    points: int


def robust_z(
    history: Sequence[float], values: Sequence[float] | np.ndarray, floor: float
) -> np.ndarray:
    """Robust z-scores of ``values``, each against the :data:`WINDOW` readings before it.

    Returns NaN where fewer than :data:`MIN_HISTORY` readings precede. Vectorised: the windows
    are a strided view of the series padded with NaN, so a batch costs two ``nanmedian`` calls.
    """
    n = len(values)
    if n == 0:
        return np.empty(0)
    series = np.concatenate([np.full(WINDOW, np.nan), np.asarray(history, float), values])
    windows = np.lib.stride_tricks.sliding_window_view(series[:-1], WINDOW)[-n:]
    counts = np.sum(~np.isnan(windows), axis=1)
    out = np.full(n, np.nan)
    ok = counts >= MIN_HISTORY
    if not ok.any():
        return out
    w = windows[ok]
    med = np.nanmedian(w, axis=1)
    mad = np.nanmedian(np.abs(w - med[:, None]), axis=1)
    scale = np.maximum(1.4826 * mad, floor)
    out[ok] = (np.asarray(values, float)[ok] - med) / scale
    return out


def score_sensor(
    state: AnomalyState, kind: str, points: Sequence[Point]
) -> tuple[AnomalyState, list[Anomaly]]:
    """Score a sensor's new points (sorted, newer than the state); returns new state, anomalies.

    An anomaly is reported when a run of flagged readings starts, not for each reading of it.
    """
    fresh = sorted((p for p in points if p.ts_ms > state.last_ts_ms), key=lambda p: p.ts_ms)
    if not fresh or kind not in CONTINUOUS:
        return state, []
    values = np.array([p.value for p in fresh])
    floor = mad_floor(kind)
    z = robust_z(state.history, values, floor)
    flagged = state.flagged
    found: list[Anomaly] = []
    series = np.concatenate([np.asarray(state.history, float), values])
    offset = len(state.history)
    for i, score in enumerate(z):
        if np.isnan(score):
            continue
        if abs(score) >= Z_FLAG and not flagged:
            flagged = True
            window = series[max(0, offset + i - WINDOW) : offset + i]
            med = float(np.median(window))
            found.append(
                Anomaly(
                    fresh[i].ts_ms,
                    float(values[i]),
                    round(float(score), 2),
                    med,
                    float(np.median(np.abs(window - med))),
                    len(window),
                )
            )
        elif abs(score) < Z_REARM:
            flagged = False
    history = [float(v) for v in series[-WINDOW:]]
    return AnomalyState(history, fresh[-1].ts_ms, flagged), found


def stuck_while_neighbours_vary(
    series: Mapping[tuple[str, str, str], Sequence[float]],
) -> list[tuple[str, str, str, float, list[str]]]:
    """Sensors repeating one value while neighbours of their kind and complex vary.

    Parameters
    ----------
    series
        ``(complex_id, kind, sensor_id) -> values`` of one batch.

    Returns
    -------
    list of (complex_id, kind, sensor_id, value, varying neighbour ids)
    """
    by_group: dict[tuple[str, str], dict[str, Sequence[float]]] = defaultdict(dict)
    for (complex_id, kind, sensor_id), values in series.items():
        if len(values) >= STUCK_MIN and kind in CONTINUOUS:
            by_group[(complex_id, kind)][sensor_id] = values
    found = []
    for (complex_id, kind), sensors in by_group.items():
        spans = {s: float(np.ptp(np.asarray(v, float))) for s, v in sensors.items()}
        varying = sorted(s for s, span in spans.items() if span > 0)
        limits = DEFAULT_LIMITS[kind]
        for sensor_id, span in spans.items():
            value = float(sensors[sensor_id][-1])
            if span == 0 and len(varying) >= 2 and value not in limits.stuck_exempt:
                found.append((complex_id, kind, sensor_id, value, varying))
    return found


def anomaly_evidence(complex_id: str, sensor_id: str, kind: str, a: Anomaly) -> Evidence:
    """The pre-alarm evidence of one anomaly."""
    return Evidence(
        source="sensor",
        complex_id=complex_id,
        source_id=sensor_id,
        kind="anomaly",
        severity="warning",
        ts=from_epoch_ms(a.ts_ms),
        gas=kind,
        value=a.value,
        detail={
            "evidence_id": evidence_id(complex_id, sensor_id, "anomaly", a.ts_ms),
            "check": "robust_z",
            "z": a.z,
            "median": a.median,
            "mad": a.mad,
            "window": a.points,
            "threshold": Z_FLAG,
        },
    )


def stuck_evidence(
    complex_id: str, kind: str, sensor_id: str, value: float, neighbours: list[str], ts_ms: int
) -> Evidence:
    """The fault evidence of a sensor stuck while its neighbours vary."""
    return Evidence(
        source="sensor",
        complex_id=complex_id,
        source_id=sensor_id,
        kind="fault_stuck",
        severity="warning",
        ts=from_epoch_ms(ts_ms),
        gas=kind,
        value=value,
        detail={
            "evidence_id": evidence_id(complex_id, sensor_id, "stuck_vs_neighbours", ts_ms),
            "check": "stuck_while_neighbours_vary",
            "neighbours": neighbours,
        },
    )


class AnomalyStateStore(DynamoTable):
    """The ``anomaly`` attribute of the sensor state items (the alarm path never writes it)."""

    def load(self, sensor_key: str) -> AnomalyState:
        item = self.table.get_item(
            Key={"sensor_key": sensor_key}, ProjectionExpression="anomaly"
        ).get("Item")
        return AnomalyState.from_dict(from_dynamo(item.get("anomaly")) if item else None)

    def save(self, sensor_key: str, state: AnomalyState) -> None:
        self.table.update_item(
            Key={"sensor_key": sensor_key},
            UpdateExpression="SET anomaly = :a",
            ExpressionAttributeValues={":a": to_dynamo(state.to_dict())},
        )


def group_points(
    readings: Iterable[tuple[str, str, str, int, float]],
) -> dict[tuple[str, str, str], list[Point]]:
    """``(complex_id, sensor_id, kind, ts_ms, value)`` -> points per (complex, sensor, kind)."""
    groups: dict[tuple[str, str, str], list[Point]] = defaultdict(list)
    for complex_id, sensor_id, kind, ts_ms, value in readings:
        groups[(complex_id, sensor_id, kind)].append(Point(ts_ms, value))
    for points in groups.values():
        points.sort(key=lambda p: p.ts_ms)
    return groups


@dataclass
class BatchOutcome:
    """What scoring one batch did: records to redeliver and counts for metrics."""

    failed: set[str] = field(default_factory=set)
    skipped: int = 0
    anomalies: int = 0
    evidence_sent: int = 0


class AnomalyBatch:
    """Scores batches of readings per sensor and checks for stuck sensors.

    Failures are per sensor: a sensor whose evidence or state could not be written reports
    its records as failed, so only they are redelivered. Evidence goes out before the state
    is written, so a failure repeats a report and never loses one.
    """

    def __init__(
        self,
        states: AnomalyStateStore,
        send_evidence: EvidenceSender,
    ) -> None:
        self.states = states
        self.send_evidence = send_evidence

    def score(self, records: list[dict[str, Any]], now: datetime) -> BatchOutcome:
        """Score one SQS batch (records with ``messageId`` and ``body``)."""
        outcome = BatchOutcome()
        readings: list[tuple[str, str, str, int, float]] = []
        ids_by_sensor: dict[tuple[str, str, str], list[str]] = {}
        for record in records:
            try:
                reading = parse_telemetry(decode_rule_message(json_body(record["body"])))
                check_clock_skew(reading, now)
            except (InvalidInput, ValueError, TypeError):
                # Not a failure: the alarm path dead-letters malformed readings with the reason.
                outcome.skipped += 1
                continue
            if not plausible(reading.value, DEFAULT_LIMITS[reading.kind]):
                # A broken sensor's NaN or 1e300 is the alarm path's fault_out_of_range; in the
                # statistics it would only poison the median (and the state write).
                outcome.skipped += 1
                continue
            ts_ms = round(reading.ts.timestamp() * 1000)
            key = (reading.complex_id, reading.sensor_id, reading.kind)
            readings.append((*key[:2], reading.kind, ts_ms, reading.value))
            ids_by_sensor.setdefault(key, []).append(record["messageId"])

        groups = group_points(readings)
        for (complex_id, sensor_id, kind), points in groups.items():
            sensor_key = f"{complex_id}#{sensor_id}"
            try:
                state = self.states.load(sensor_key)
                new, found = score_sensor(state, kind, points)
                outcome.evidence_sent += self.send_evidence(
                    [anomaly_evidence(complex_id, sensor_id, kind, a) for a in found]
                )
                if new is not state:
                    self.states.save(sensor_key, new)
                outcome.anomalies += len(found)
            except Exception:
                log.exception("anomaly scoring failed for %s", sensor_key)
                outcome.failed.update(ids_by_sensor[(complex_id, sensor_id, kind)])

        series = {(c, k, s): [p.value for p in pts] for (c, s, k), pts in groups.items()}
        stuck = [
            stuck_evidence(c, k, s, v, n, groups[(c, s, k)][-1].ts_ms)
            for c, k, s, v, n in stuck_while_neighbours_vary(series)
        ]
        # A failure here fails the batch: the stuck check is not per sensor.
        outcome.evidence_sent += self.send_evidence(stuck)

        return outcome
