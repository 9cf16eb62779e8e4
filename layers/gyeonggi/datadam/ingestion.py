"""Ingestion: a batch of events, readings or table changes -> one lake write per dataset.

Per message (or stream record), the event is turned into records (``sources``,
``stream_sources``), each made fit for its dataset (``records.prepare``: the privacy policy,
then types). A malformed one fails alone: it is reported as a batch item failure
(:meth:`Outcome.batch_response`), received again up to the queue's ``maxReceiveCount`` (or
the stream mapping's ``MaximumRetryAttempts``) and then dead-lettered, the reason logged. The
good ones are written one commit per dataset; a dataset whose write fails fails its items
only, and their redelivery writes nothing twice (the lake's key check). Nothing here is on a
request or alarm path: the queues and streams are fed beside those paths.
"""

from __future__ import annotations

import hashlib
import logging
from collections import defaultdict
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from functools import partial
from typing import TYPE_CHECKING, Any, Protocol

from gyeonggi.common.clock import aware
from gyeonggi.common.errors import DomainError, InvalidInput
from gyeonggi.datadam.datasets import dataset
from gyeonggi.datadam.lake import Lake, WriteResult
from gyeonggi.datadam.minutes import SENSOR_MINUTES, Reading, rows_builder
from gyeonggi.datadam.privacy import Pseudonyms
from gyeonggi.datadam.records import prepare
from gyeonggi.datadam.sources import ObjectReader, from_sqs_record
from gyeonggi.datadam.stream_sources import STREAM_ADAPTERS, from_stream_record

if TYPE_CHECKING:
    from aws_lambda_powertools import Metrics

log = logging.getLogger(__name__)


@dataclass
class Outcome:
    """What one batch did: items that failed (and why), and each dataset's write.

    ``failed`` is keyed by the item's identifier in the batch: an SQS message id, or a
    DynamoDB stream record's sequence number.
    """

    failed: dict[str, str] = field(default_factory=dict)
    writes: list[WriteResult] = field(default_factory=list)

    @property
    def written(self) -> int:
        return sum(w.written for w in self.writes)

    @property
    def duplicates(self) -> int:
        return sum(w.duplicates for w in self.writes)

    def count(self, metrics: Metrics, *, written: str, failed: str) -> None:
        """The batch's figures as metrics: what was ``written``, duplicates skipped, items
        ``failed`` (each name says what a record is for its function)."""
        metrics.add_metric(name=written, unit="Count", value=self.written)
        metrics.add_metric(name="DataDamDuplicatesSkipped", unit="Count", value=self.duplicates)
        metrics.add_metric(name=failed, unit="Count", value=len(self.failed))

    def batch_response(self, identifiers: Sequence[str]) -> dict[str, list[dict[str, str]]]:
        """Lambda's partial batch response (``ReportBatchItemFailures``), in batch order.

        For a stream the order matters: Lambda checkpoints before the first failure it is
        told of and retries from there, so the successes after it are sent again (and written
        nothing twice, the lake's key check).
        """
        for identifier, reason in self.failed.items():
            log.warning("batch item %s failed: %s", identifier, reason)
        return {
            "batchItemFailures": [{"itemIdentifier": i} for i in identifiers if i in self.failed]
        }


def message_ids(records: Sequence[Mapping[str, Any]]) -> list[str]:
    """The SQS message ids of a batch, in order."""
    return [str(r.get("messageId", "")) for r in records]


def sequence_numbers(records: Sequence[Mapping[str, Any]]) -> list[str]:
    """The sequence numbers of a DynamoDB stream batch, in order."""
    return [str((r.get("dynamodb") or {}).get("SequenceNumber", "")) for r in records]


def batch_id(identifiers: Sequence[str]) -> str:
    """A name for the batch (its items' ids hashed), kept in the snapshot summary."""
    return hashlib.sha256("\n".join(sorted(identifiers)).encode()).hexdigest()[:32]


def _write_each(
    batches: Mapping[str, tuple[Any, list[str]]],
    outcome: Outcome,
    write: Callable[[str, Any], WriteResult],
) -> None:
    for dataset_id, (rows, item_ids) in batches.items():
        try:
            outcome.writes.append(write(dataset_id, rows))
        except Exception as exc:  # any failure of one write fails its items only
            log.exception("writing %s failed", dataset_id)
            for item_id in item_ids:
                outcome.failed[item_id] = f"write of {dataset_id} failed: {type(exc).__name__}"


def _prepare_and_write(
    lake: Lake,
    pseudonyms: Pseudonyms | None,
    items: Sequence[tuple[str, Callable[[], list[tuple[str, dict[str, Any]]]]]],
    source: str,
) -> Outcome:
    """Each item's records made fit for their datasets, then one write per dataset.

    An item whose records cannot be made (a malformed message, a value of the wrong type, a
    result or pseudonym that could not be fetched) fails alone; its other records are not
    written either.
    """
    outcome = Outcome()
    by_dataset: dict[str, tuple[list[dict[str, Any]], list[str]]] = defaultdict(lambda: ([], []))
    for item_id, records_of in items:
        try:
            prepared = [
                (ds_id, prepare(dataset(ds_id), raw, pseudonyms=pseudonyms))
                for ds_id, raw in records_of()
            ]
        except DomainError as exc:
            log.warning("%s item %s is malformed: %s", source, item_id, exc.message)
            outcome.failed[item_id] = exc.message
            continue
        except Exception as exc:  # reading a result, a pseudonym from KMS: retried alone
            log.exception("%s item %s could not be read", source, item_id)
            outcome.failed[item_id] = f"could not be read: {type(exc).__name__}"
            continue
        for ds_id, row in prepared:
            rows, ids = by_dataset[ds_id]
            rows.append(row)
            ids.append(item_id)
    name = batch_id([item_id for item_id, _ in items])
    _write_each(
        by_dataset,
        outcome,
        lambda ds_id, rows: lake.write(dataset(ds_id), rows, batch_id=name, source=source),
    )
    return outcome


class Ingestion(Protocol):
    """What takes one event source's batch: its records in, an outcome out."""

    #: The metrics of what it writes and of the items that failed.
    written_metric: str
    failed_metric: str

    def ingest(self, records: Sequence[Mapping[str, Any]]) -> Outcome: ...

    def item_ids(self, records: Sequence[Mapping[str, Any]]) -> list[str]:
        """The ids Lambda's partial batch response names the batch's items by, in order."""
        ...


def answer_batch(
    ingestion: Ingestion, event: Mapping[str, Any], metrics: Metrics
) -> dict[str, list[dict[str, str]]]:
    """A handler's whole work: the event's batch ingested, counted, its failed items reported."""
    records = event.get("Records", [])
    outcome = ingestion.ingest(records)
    outcome.count(metrics, written=ingestion.written_metric, failed=ingestion.failed_metric)
    return outcome.batch_response(ingestion.item_ids(records))


class EventIngestion:
    """Events (and CCTV analysis results) from the Data Dam's queue into their datasets."""

    def __init__(
        self,
        lake: Lake,
        pseudonyms: Pseudonyms | None,
        read_object: ObjectReader | None = None,
    ) -> None:
        self.lake = lake
        self.pseudonyms = pseudonyms
        self.read_object = read_object

    written_metric = "DataDamRecordsWritten"
    failed_metric = "DataDamMessagesFailed"
    item_ids = staticmethod(message_ids)

    def ingest(self, records: Sequence[Mapping[str, Any]]) -> Outcome:
        """Write what ``records`` (SQS messages) carry; see the module for failures."""
        items = [
            (str(m.get("messageId", "")), partial(from_sqs_record, m, self.read_object))
            for m in records
        ]
        return _prepare_and_write(self.lake, self.pseudonyms, items, "events queue")


class StreamIngestion:
    """Records of the systems' DynamoDB streams into their datasets (``stream_sources``)."""

    def __init__(
        self, lake: Lake, pseudonyms: Pseudonyms | None, adapters_by_table: Mapping[str, str]
    ) -> None:
        """``adapters_by_table``: each table's name and the name of its adapter
        (:data:`gyeonggi.datadam.stream_sources.STREAM_ADAPTERS`)."""
        self.lake = lake
        self.pseudonyms = pseudonyms
        self.adapters = {
            table: STREAM_ADAPTERS[name] for table, name in adapters_by_table.items() if table
        }

    written_metric = "DataDamRecordsWritten"
    failed_metric = "DataDamStreamRecordsFailed"
    item_ids = staticmethod(sequence_numbers)

    def ingest(self, records: Sequence[Mapping[str, Any]]) -> Outcome:
        """Write what ``records`` (one stream batch) carry; a malformed record fails alone."""
        items = [
            (seq, partial(from_stream_record, r, self.adapters))
            for seq, r in zip(sequence_numbers(records), records, strict=True)
        ]
        return _prepare_and_write(self.lake, self.pseudonyms, items, "table streams")


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

    written_metric = "DataDamMinutePartsWritten"
    failed_metric = "DataDamMessagesFailed"
    item_ids = staticmethod(message_ids)

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
            name = batch_id(message_ids(records))
            _write_each(
                {SENSOR_MINUTES.id: (readings, mids)},
                outcome,
                lambda _ds, rs: self.lake.write(
                    SENSOR_MINUTES, rows_builder(rs), batch_id=name, source="telemetry queue"
                ),
            )
        return outcome
