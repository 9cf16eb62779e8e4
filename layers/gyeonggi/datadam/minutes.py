"""Sensor readings aggregated per sensor, gas and minute, exactly once per reading.

A minute's readings arrive spread over several queue batches (a sensor reads every 10 s; a
batch is whatever the queue held), so a batch lands a *part* of a minute: mean, min, max,
samples, and ``seconds_mask``, a bit per second of the minute the part holds. Before a part is
written, the parts already in the lake for that minute are read and every reading whose second
is already set is left out: a redelivered reading, in whatever batch it comes back, is counted
once. (A sensor reads at most once a second; two readings in one second are one.) Compaction
merges a minute's parts into one row (:func:`merge`).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Any

from gyeonggi.common.clock import KST
from gyeonggi.datadam.datasets import dataset

if TYPE_CHECKING:
    from pyiceberg.table import Table

    from gyeonggi.datadam.lake import Lake

SENSOR_MINUTES = dataset("sensor_minutes")
MinuteKey = tuple[str, str, str, datetime]


@dataclass(frozen=True)
class Reading:
    """One reading, already validated (``gyeonggi.safety.telemetry.parse_telemetry``)."""

    complex_id: str
    sensor_id: str
    gas: str
    value: float
    unit: str
    ts: datetime  # aware, UTC
    jurisdiction_id: str | None = None


def minute_of(ts: datetime) -> datetime:
    """The minute a reading falls in."""
    return ts.replace(second=0, microsecond=0)


def _key(r: Reading) -> MinuteKey:
    return (r.complex_id, r.sensor_id, r.gas, minute_of(r.ts))


def probes(readings: Iterable[Reading]) -> list[dict[str, Any]]:
    """Rows standing for the partitions and first key the readings touch (for ``Lake.lookup``)."""
    seen = {}
    for r in readings:
        minute = minute_of(r.ts)
        probe = {
            "day": minute.astimezone(KST).date(),
            "jurisdiction_id": r.jurisdiction_id,
            "complex_id": r.complex_id,
        }
        seen[tuple(probe.values())] = probe
    return list(seen.values())


def seen_masks(rows: Iterable[Mapping[str, Any]]) -> dict[MinuteKey, int]:
    """The seconds already in the lake per minute, from its rows."""
    masks: dict[MinuteKey, int] = {}
    for row in rows:
        key = (row["complex_id"], row["sensor_id"], row["gas"], row["minute"])
        masks[key] = masks.get(key, 0) | int(row["seconds_mask"])
    return masks


def aggregate(
    readings: Sequence[Reading], seen: Mapping[MinuteKey, int] | None = None
) -> list[dict[str, Any]]:
    """The parts of minutes ``readings`` add, leaving out seconds already ``seen``."""
    masks = dict(seen or {})
    parts: dict[MinuteKey, dict[str, Any]] = {}
    for r in sorted(readings, key=lambda r: r.ts):
        key = _key(r)
        bit = 1 << r.ts.second
        if masks.get(key, 0) & bit:
            continue
        masks[key] = masks.get(key, 0) | bit
        part = parts.get(key)
        if part is None:
            parts[key] = {
                "minute": key[3],
                "day": key[3].astimezone(KST).date(),
                "complex_id": r.complex_id,
                "jurisdiction_id": r.jurisdiction_id,
                "sensor_id": r.sensor_id,
                "gas": r.gas,
                "unit": r.unit,
                "mean_ppm": r.value,
                "min_ppm": r.value,
                "max_ppm": r.value,
                "samples": 1,
                "seconds_mask": bit,
            }
            continue
        n = part["samples"]
        part["mean_ppm"] = (part["mean_ppm"] * n + r.value) / (n + 1)
        part["min_ppm"] = min(part["min_ppm"], r.value)
        part["max_ppm"] = max(part["max_ppm"], r.value)
        part["samples"] = n + 1
        part["seconds_mask"] |= bit
    return list(parts.values())


def rows_builder(readings: Sequence[Reading]) -> Any:
    """What ``Lake.write`` calls with the refreshed table: the parts not yet in the lake."""

    def build(lake: Lake, table: Table) -> list[dict[str, Any]]:
        existing = lake.lookup(
            SENSOR_MINUTES, table, probes(readings), ("sensor_id", "gas", "minute", "seconds_mask")
        )
        return aggregate(readings, seen_masks(existing))

    return build


def merge(rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """One row per minute from its parts (compaction); rows of other datasets pass as they are.

    Parts never share a second (the writer sees to it), so samples add up and the mean is the
    samples-weighted mean of the parts.
    """
    merged: dict[MinuteKey, dict[str, Any]] = {}
    for row in rows:
        key = (row["complex_id"], row["sensor_id"], row["gas"], row["minute"])
        have = merged.get(key)
        if have is None:
            merged[key] = dict(row)
            continue
        n, m = have["samples"], row["samples"]
        have["mean_ppm"] = (have["mean_ppm"] * n + row["mean_ppm"] * m) / (n + m)
        have["min_ppm"] = _opt(min, have.get("min_ppm"), row.get("min_ppm"))
        have["max_ppm"] = max(have["max_ppm"], row["max_ppm"])
        have["samples"] = n + m
        have["seconds_mask"] = int(have["seconds_mask"]) | int(row["seconds_mask"])
    return sorted(merged.values(), key=lambda r: (r["sensor_id"], r["gas"], r["minute"]))


def _opt(fn: Any, a: Any, b: Any) -> Any:
    if a is None:
        return b
    if b is None:
        return a
    return fn(a, b)
