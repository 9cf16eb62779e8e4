"""Missed heartbeats, swept across every complex on a schedule.

A sensor that stops reporting cannot trigger anything itself, and a complex whose gateway or
power has gone (the case that matters most: a fire can take both) sends no batch either. So a
scheduled function sweeps every known complex each minute instead of waiting for traffic.

The complexes are known from :class:`ComplexRegister`: the alarm path registers a complex the
first time a warm container sees it (one idempotent UpdateItem per complex and container), so
no scan of the sensor table is ever needed. Per complex, :class:`HeartbeatWatch` queries the
sensor table's ``sensors_by_complex`` index (key ``complex_id``; ``last_seen`` projected) for
sensors silent for more than three times their smoothed interval and reports each silence once.
When every sensor of a complex is silent, one more piece of evidence says so at ``alarm``
severity: the whole site has gone dark, which is not one battery running flat.

Standard library plus boto3 only, like the alarm path.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from gyeonggi.common.aws import DynamoTable, from_dynamo
from gyeonggi.common.clock import from_epoch_ms
from gyeonggi.safety.alarms import heartbeat_missed
from gyeonggi.safety.evidence import Evidence, EvidenceSender, evidence_id
from gyeonggi.safety.sensor_state import DEFAULT_INTERVAL_S

log = logging.getLogger(__name__)

#: Silence longer than this many reporting intervals is a missed heartbeat.
FACTOR = 3.0


class ComplexRegister(DynamoTable):
    """``SafetyComplexesTable``: one item per industrial complex that has ever reported."""

    def __init__(self, table_name: str, dynamodb: Any | None = None) -> None:
        super().__init__(table_name, dynamodb)
        self._known: set[str] = set()

    def ensure(self, complex_id: str, now: datetime) -> None:
        """Register ``complex_id`` once per warm container (idempotent, never conditional)."""
        if complex_id in self._known:
            return
        self.table.update_item(
            Key={"complex_id": complex_id},
            UpdateExpression="SET first_seen = if_not_exists(first_seen, :now)",
            ExpressionAttributeValues={":now": now.isoformat()},
        )
        self._known.add(complex_id)

    def complex_ids(self) -> Iterator[str]:
        """Every registered complex (a scan of a table with one small item per complex)."""
        kwargs: dict[str, Any] = {"ProjectionExpression": "complex_id"}
        while True:
            page = self.table.scan(**kwargs)
            for item in page.get("Items", []):
                yield str(item["complex_id"])
            if "LastEvaluatedKey" not in page:
                return
            kwargs["ExclusiveStartKey"] = page["LastEvaluatedKey"]


@dataclass(frozen=True)
class Silence:
    """A complex's sensors as the sweep found them."""

    sensors: int
    silent: list[dict[str, Any]]
    """Every silent sensor's index item; ``heartbeat_reported == last_seen`` once reported."""

    @property
    def new(self) -> list[dict[str, Any]]:
        return [i for i in self.silent if i.get("heartbeat_reported") != i["last_seen"]]

    @property
    def dark(self) -> bool:
        """Every sensor silent, at least one newly: report the complex once per blackout."""
        return self.sensors > 0 and len(self.silent) == self.sensors and bool(self.new)


class HeartbeatWatch(DynamoTable):
    """Sensors of a complex silent for more than ``FACTOR`` times their reporting interval."""

    INDEX = "sensors_by_complex"

    def silence(self, complex_id: str, now: datetime) -> Silence:
        """One query of the complex's sensors (all of them: the count tells a dark complex)."""
        items = [from_dynamo(i) for i in self._query(complex_id)]
        silent = [
            item
            for item in items
            if heartbeat_missed(
                from_epoch_ms(item["last_seen"]),
                now,
                float(item.get("interval_s") or DEFAULT_INTERVAL_S),
                FACTOR,
            )
        ]
        return Silence(len(items), silent)

    def _query(self, complex_id: str) -> Iterator[dict[str, Any]]:
        kwargs: dict[str, Any] = {
            "IndexName": self.INDEX,
            "KeyConditionExpression": "complex_id = :c",
            "ExpressionAttributeValues": {":c": complex_id},
        }
        while True:
            page = self.table.query(**kwargs)
            yield from page.get("Items", [])
            if "LastEvaluatedKey" not in page:
                return
            kwargs["ExclusiveStartKey"] = page["LastEvaluatedKey"]

    def mark_reported(self, item: Mapping[str, Any]) -> bool:
        """Record that this silence was reported; False if the sensor spoke meanwhile."""
        try:
            self.table.update_item(
                Key={"sensor_key": item["sensor_key"]},
                UpdateExpression="SET heartbeat_reported = :seen",
                ConditionExpression="last_seen = :seen",
                ExpressionAttributeValues={":seen": item["last_seen"]},
            )
        except self.table.meta.client.exceptions.ConditionalCheckFailedException:
            return False
        return True


def heartbeat_evidence(item: Mapping[str, Any], now: datetime) -> Evidence:
    """The warning evidence of one silent sensor."""
    interval = float(item.get("interval_s") or DEFAULT_INTERVAL_S)
    silent_s = now.timestamp() - item["last_seen"] / 1000
    return Evidence(
        source="sensor",
        complex_id=item["complex_id"],
        source_id=item["sensor_id"],
        kind="fault_heartbeat",
        severity="warning",
        ts=now,
        gas=item.get("kind"),
        value=round(silent_s, 1),
        limit=round(FACTOR * interval, 1),
        detail={
            "evidence_id": evidence_id(item["sensor_key"], "heartbeat", item["last_seen"]),
            "check": "missed_heartbeat",
            "last_seen": from_epoch_ms(int(item["last_seen"])).isoformat(),
            "interval_s": interval,
        },
    )


def dark_complex_evidence(complex_id: str, silence: Silence, now: datetime) -> Evidence:
    """The alarm evidence of a complex whose every sensor is silent."""
    last_ms = max(int(i["last_seen"]) for i in silence.silent)
    return Evidence(
        source="sensor",
        complex_id=complex_id,
        # The incident's timeline names a source; for the whole site it is the site.
        source_id="*",
        kind="fault_complex_silent",
        severity="alarm",
        ts=now,
        value=round(now.timestamp() - last_ms / 1000, 1),
        detail={
            "evidence_id": evidence_id(complex_id, "dark", last_ms),
            "check": "complex_silent",
            "sensors": silence.sensors,
            "last_seen": from_epoch_ms(last_ms).isoformat(),
        },
    )


@dataclass
class SweepOutcome:
    """What one sweep found, for metrics; ``failed`` names complexes to retry next minute."""

    complexes: int = 0
    missed: int = 0
    dark: list[str] = field(default_factory=list)
    failed: list[str] = field(default_factory=list)


class HeartbeatSweep:
    """Check every registered complex for missed heartbeats.

    Evidence goes out before the sensors are marked reported, so a failure between the two
    repeats a report on the next sweep and never loses one. One complex failing does not stop
    the others; the sweep raises at the end (after checking everyone) so the failure is seen.
    """

    def __init__(
        self,
        register: ComplexRegister,
        watch: HeartbeatWatch,
        send_evidence: EvidenceSender,
    ) -> None:
        self.register = register
        self.watch = watch
        self.send_evidence = send_evidence

    def run(self, now: datetime) -> SweepOutcome:
        outcome = SweepOutcome()
        for complex_id in self.register.complex_ids():
            outcome.complexes += 1
            try:
                self._check(complex_id, now, outcome)
            except Exception:
                log.exception("heartbeat check failed for complex %s", complex_id)
                outcome.failed.append(complex_id)
        return outcome

    def _check(self, complex_id: str, now: datetime, outcome: SweepOutcome) -> None:
        silence = self.watch.silence(complex_id, now)
        new = silence.new
        if not new:
            return
        evidence = [heartbeat_evidence(i, now) for i in new]
        if silence.dark:
            evidence.append(dark_complex_evidence(complex_id, silence, now))
            outcome.dark.append(complex_id)
        self.send_evidence(evidence)
        for item in new:
            self.watch.mark_reported(item)
        outcome.missed += len(new)
