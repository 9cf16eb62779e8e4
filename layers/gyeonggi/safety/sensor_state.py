"""The alarm path's per-sensor state in DynamoDB (``SensorStateTable``).

Standard library plus boto3 (made lazily) only: this module is imported by the sensor function,
whose cold start and per-message work must stay small (see :mod:`gyeonggi.safety.alarms`).

One DynamoDB item per sensor (``sensor_key = complex_id#sensor_id``) holds

- the last accepted reading (``kind``, ``value``, ``unit``, ``ts``, ...); ``value`` is removed
  when the reading had no number DynamoDB can hold (NaN, infinity, 1e300: a sensor fault the
  state records, :func:`gyeonggi.safety.alarms.plausible`);
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

import math
from dataclasses import dataclass
from typing import Any

from gyeonggi.common.aws import DynamoTable, from_dynamo, to_dynamo
from gyeonggi.safety.alarms import SensorState

#: Reporting interval assumed until two readings have been seen.
DEFAULT_INTERVAL_S = 60.0
#: On the item itself; the stored ``state`` leaves them out (bytes of every write).
_IDENTITY = ("complex_id", "sensor_id", "kind")


@dataclass(frozen=True, slots=True)
class StoredState:
    """A sensor's alarm state as read, with the version the write-back is conditioned on."""

    state: SensorState | None
    version: int
    interval_s: float | None = None


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
            "#unit = :unit",
            "ts = :ts",
            "#state = :state",
            "#level = :level",
            "active = :active",
            "version = :new",
            "last_seen = :seen",
            "interval_s = :interval",
        ]
        removes = []
        if _storable(reading.value):
            values[":value"] = reading.value
            sets.append("#value = :value")
        else:
            # Never a write that fails on the value: the state (with its fault) is what matters.
            removes.append("#value")
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
                UpdateExpression="SET "
                + ", ".join(sets)
                + (" REMOVE " + ", ".join(removes) if removes else ""),
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


#: DynamoDB numbers: magnitudes below 1e126 (and above 1e-130, which readings, rounded to
#: ``telemetry.RESOLUTION_DIGITS`` places, never are).
_DYNAMO_MAX = 1e125


def _storable(value: float) -> bool:
    return math.isfinite(value) and abs(value) < _DYNAMO_MAX


def smoothed_interval(previous: float | None, last_ts_ms: int | None, now_ms: int) -> float:
    """The sensor's reporting interval, smoothed so one late reading does not double it."""
    if last_ts_ms is None or now_ms <= last_ts_ms:
        return previous or DEFAULT_INTERVAL_S
    gap = min(max((now_ms - last_ts_ms) / 1000, 1.0), 3600.0)
    return gap if previous is None else 0.8 * previous + 0.2 * gap
