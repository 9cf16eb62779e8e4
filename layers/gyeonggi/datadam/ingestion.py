"""Ingestion: a queue batch of events or readings -> one lake write per dataset.

Per message, the event is turned into records (``sources``), each made fit for its dataset
(``records.prepare``: the privacy policy, then types). A malformed message fails alone: it is
reported as a batch item failure, received again up to the queue's ``maxReceiveCount`` and
then dead-lettered, the reason logged. The good ones are written one commit per dataset; a
dataset whose write fails fails its messages only, and their redelivery writes nothing twice
(the lake's key check). Nothing here is on a request or alarm path: the queues are fed by
subscriptions and topic-rule actions beside those paths.
"""

from __future__ import annotations

import hashlib
import logging
from collections import defaultdict
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from gyeonggi.common.clock import aware
from gyeonggi.common.errors import DomainError, InvalidInput
from gyeonggi.datadam.datasets import dataset
from gyeonggi.datadam.lake import Lake, WriteResult
from gyeonggi.datadam.minutes import SENSOR_MINUTES, Reading, rows_builder
from gyeonggi.datadam.privacy import Pseudonyms
from gyeonggi.datadam.records import prepare
from gyeonggi.datadam.sources import from_sqs_record

log = logging.getLogger(__name__)


@dataclass
class Outcome:
    """What one batch did: message ids that failed (and why), and each dataset's write."""

    failed: dict[str, str] = field(default_factory=dict)
    writes: list[WriteResult] = field(default_factory=list)

    @property
    def written(self) -> int:
        return sum(w.written for w in self.writes)

    @property
    def duplicates(self) -> int:
        return sum(w.duplicates for w in self.writes)


def batch_id(records: Sequence[Mapping[str, Any]]) -> str:
    """A name for the batch (its message ids hashed), kept in the snapshot summary."""
    ids = sorted(str(r.get("messageId", "")) for r in records)
    return hashlib.sha256("\n".join(ids).encode()).hexdigest()[:32]


def _write_each(
    batches: Mapping[str, tuple[Any, list[str]]],
    outcome: Outcome,
    write: Callable[[str, Any], WriteResult],
) -> None:
    for dataset_id, (rows, message_ids) in batches.items():
        try:
            outcome.writes.append(write(dataset_id, rows))
        except Exception as exc:  # any failure of one write fails its messages only
            log.exception("writing %s failed", dataset_id)
            for mid in message_ids:
                outcome.failed[mid] = f"write of {dataset_id} failed: {type(exc).__name__}"


class EventIngestion:
    """Events from the Data Dam's queue into their datasets."""

    def __init__(self, lake: Lake, pseudonyms: Pseudonyms | None) -> None:
        self.lake = lake
        self.pseudonyms = pseudonyms

    def ingest(self, records: Sequence[Mapping[str, Any]]) -> Outcome:
        """Write what ``records`` (SQS messages) carry; see the module for failures."""
        outcome = Outcome()
        by_dataset: dict[str, tuple[list[dict[str, Any]], list[str]]] = defaultdict(
            lambda: ([], [])
        )
        for message in records:
            mid = str(message.get("messageId", ""))
            try:
                prepared = [
                    (ds_id, prepare(dataset(ds_id), raw, pseudonyms=self.pseudonyms))
                    for ds_id, raw in from_sqs_record(message)
                ]
            except DomainError as exc:
                log.warning("message %s is malformed: %s", mid, exc.message)
                outcome.failed[mid] = exc.message
                continue
            for ds_id, row in prepared:
                rows, mids = by_dataset[ds_id]
                rows.append(row)
                mids.append(mid)
        name = batch_id(records)
        _write_each(
            by_dataset,
            outcome,
            lambda ds_id, rows: self.lake.write(
                dataset(ds_id), rows, batch_id=name, source="events queue"
            ),
        )
        return outcome


def reading_of(event: Mapping[str, Any]) -> Reading:
    """A reading from the telemetry rule's message (validated as the alarm path validates it).

    Raises
    ------
    InvalidInput
        Naming the field at fault.
    """
    from gyeonggi.safety.telemetry import decode_rule_message, parse_telemetry

    t = parse_telemetry(decode_rule_message(event))
    return Reading(
        complex_id=t.complex_id,
        sensor_id=t.sensor_id,
        gas=str(t.kind),
        value=float(t.value),
        unit=t.unit,
        ts=aware(t.ts),
    )


class SensorIngestion:
    """Readings from the Data Dam's telemetry queue into ``sensor_minutes``."""

    def __init__(self, lake: Lake) -> None:
        self.lake = lake

    def ingest(self, records: Sequence[Mapping[str, Any]]) -> Outcome:
        """Aggregate the batch's readings per minute and write the parts not yet in the lake."""
        import json

        outcome = Outcome()
        readings: list[Reading] = []
        mids: list[str] = []
        for message in records:
            mid = str(message.get("messageId", ""))
            try:
                body = json.loads(message.get("body") or "")
                readings.append(reading_of(body))
                mids.append(mid)
            except (ValueError, RecursionError):
                outcome.failed[mid] = "body is not JSON"
            except InvalidInput as exc:
                outcome.failed[mid] = exc.message
        if readings:
            name = batch_id(records)
            _write_each(
                {SENSOR_MINUTES.id: (readings, mids)},
                outcome,
                lambda _ds, rs: self.lake.write(
                    SENSOR_MINUTES, rows_builder(rs), batch_id=name, source="telemetry queue"
                ),
            )
        return outcome
