"""DynamoDB Streams event source mappings, polled as the Lambda service polls them.

moto records a table's stream (``StreamSpecification``) and serves it through the
``dynamodbstreams`` API, but moto's own Lambda backend would invoke a stream-mapped function
synchronously inside the table write, which deadlocks the in-process runner. So the deployer
keeps stream mappings out of moto's Lambda backend and a :class:`StreamPoller` thread per
mapping does what Lambda does:

- reads the shard from ``StartingPosition`` (``TRIM_HORIZON`` or ``LATEST``), up to
  ``BatchSize`` records, waiting at most ``MaximumBatchingWindowInSeconds`` to fill a batch;
- invokes the function with the batch in Lambda's DynamoDB event shape, in order;
- with ``ReportBatchItemFailures``, checkpoints before the first failed sequence number and
  retries from it (a malformed response, or one naming a record not in the batch, fails the
  whole batch, as in Lambda);
- on a function error, retries the batch (split in two first with
  ``BisectBatchOnFunctionError``);
- after ``MaximumRetryAttempts`` retries, sends Lambda's failure record (the batch's shard and
  sequence numbers, not its records) to the ``OnFailure`` destination (an SQS queue) and moves on.

Records are retried from memory instead of re-reading the shard at the checkpoint: the same
records, in the same order, as Lambda's re-read gives. One shard per table (moto's).
"""

from __future__ import annotations

import json
import logging
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from localcloud import timescale
from localcloud.event_sources import Poller

log = logging.getLogger("localcloud.stream_sources")

#: Lambda's default when a mapping gives no ``MaximumRetryAttempts`` is -1 (until the record
#: expires, a day); locally that would spin for ever on a poison record, so it is capped.
UNBOUNDED_RETRIES = 10_000
#: Pause between retries of a failed batch (scaled by the local time scale).
RETRY_PAUSE_S = 0.2


@dataclass(frozen=True)
class StreamMapping:
    """One ``AWS::Lambda::EventSourceMapping`` from a DynamoDB stream."""

    uuid: str
    stream_arn: str
    function_name: str
    function_arn: str
    starting_position: str = "TRIM_HORIZON"
    batch_size: int = 100
    batching_window_s: float = 0.0
    report_failures: bool = False
    bisect: bool = False
    max_retries: int = -1
    on_failure_arn: str | None = None

    @classmethod
    def from_properties(cls, uuid_: str, p: dict[str, Any], function_arn: str) -> StreamMapping:
        """The mapping from its CloudFormation properties (as SAM writes them)."""
        destination = p.get("DestinationConfig", {}).get("OnFailure", {}).get("Destination")
        return cls(
            uuid=uuid_,
            stream_arn=p["EventSourceArn"],
            function_name=p["FunctionName"],
            function_arn=function_arn,
            starting_position=p.get("StartingPosition", "TRIM_HORIZON"),
            batch_size=int(p.get("BatchSize", 100)),
            batching_window_s=float(p.get("MaximumBatchingWindowInSeconds", 0)),
            report_failures="ReportBatchItemFailures" in p.get("FunctionResponseTypes", []),
            bisect=bool(p.get("BisectBatchOnFunctionError", False)),
            max_retries=int(p.get("MaximumRetryAttempts", -1)),
            on_failure_arn=destination,
        )


class StreamPoller(Poller):
    """Polls one table's stream for one function until stopped."""

    kind = "stream-poller"

    def __init__(
        self,
        mapping: StreamMapping,
        streams: Any,
        lambda_client: Any,
        region: str,
        send_failure: Callable[[str, str], None],
    ) -> None:
        self.mapping = mapping
        self.streams = streams
        self.lambda_client = lambda_client
        self.region = region
        self.send_failure = send_failure
        #: The last sequence number done with (processed, or given up on and reported).
        self.checkpoint: str | None = None
        self._iterator: str | None = None
        self._shard_id = ""
        super().__init__(mapping.function_name)

    def start(self) -> None:
        # The shard iterator is taken now, so LATEST means "from when the mapping started".
        self._iterator = self._first_iterator()
        super().start()

    def _first_iterator(self) -> str:
        shards = self.streams.describe_stream(StreamArn=self.mapping.stream_arn)[
            "StreamDescription"
        ]["Shards"]
        self._shard_id = shards[0]["ShardId"]
        return str(
            self.streams.get_shard_iterator(
                StreamArn=self.mapping.stream_arn,
                ShardId=self._shard_id,
                ShardIteratorType=self.mapping.starting_position,
            )["ShardIterator"]
        )

    def _read_batch(self) -> list[dict[str, Any]]:
        m = self.mapping
        batch: list[dict[str, Any]] = []
        deadline = time.monotonic() + m.batching_window_s * timescale.factor()
        while len(batch) < m.batch_size and not self._stop.is_set():
            got = self.streams.get_records(
                ShardIterator=self._iterator, Limit=min(1000, m.batch_size - len(batch))
            )
            self._iterator = got.get("NextShardIterator") or self._iterator
            batch.extend(got.get("Records", []))
            if not batch or (not got.get("Records") and time.monotonic() >= deadline):
                break
            if not got.get("Records"):
                self._stop.wait(0.02)
        return [self._record(r) for r in batch]

    def _record(self, raw: dict[str, Any]) -> dict[str, Any]:
        """A stream record as Lambda hands it over (``dynamodb`` times in epoch seconds)."""
        record = json.loads(json.dumps(raw, default=_jsonable))
        record.setdefault("eventSource", "aws:dynamodb")
        record["eventSourceARN"] = self.mapping.stream_arn
        record["awsRegion"] = self.region
        return dict(record)

    def _deliver(self, batch: list[dict[str, Any]]) -> None:
        self.process(batch)

    def process(self, records: list[dict[str, Any]]) -> None:
        """Deliver ``records`` (one batch, in order) until done or given up on."""
        self._attempt(records, attempts_left=self._retries())

    def _retries(self) -> int:
        m = self.mapping
        return UNBOUNDED_RETRIES if m.max_retries < 0 else m.max_retries

    def _attempt(self, records: list[dict[str, Any]], attempts_left: int) -> None:
        pending = records
        invocations = 0
        while pending and not self._stop.is_set():
            invocations += 1
            failed_at, error = self._invoke(pending)
            if failed_at is None:
                self._checkpoint(pending[-1])
                return
            if failed_at > 0:
                # Lambda checkpoints before the first failed record and retries from it.
                self._checkpoint(pending[failed_at - 1])
                pending = pending[failed_at:]
            if error and self.mapping.bisect and len(pending) > 1:
                half = len(pending) // 2
                self._attempt(pending[:half], attempts_left)
                self._attempt(pending[half:], attempts_left)
                return
            if attempts_left <= 0:
                self._give_up(pending, invocations, error)
                return
            attempts_left -= 1
            self._stop.wait(RETRY_PAUSE_S * timescale.factor())

    def _invoke(self, records: list[dict[str, Any]]) -> tuple[int | None, bool]:
        """``(index of the first failed record or None, whether the function errored)``."""
        response = self.lambda_client.invoke(
            FunctionName=self.mapping.function_name,
            InvocationType="RequestResponse",
            Payload=json.dumps({"Records": records}).encode(),
        )
        payload = response["Payload"].read()
        self.batches += 1
        if response.get("FunctionError"):
            log.warning(
                "%s failed its stream batch of %d: %s",
                self.mapping.function_name,
                len(records),
                payload[:300],
            )
            return 0, True
        if not self.mapping.report_failures:
            return None, False
        return first_failure(payload, [r["dynamodb"]["SequenceNumber"] for r in records]), False

    def _checkpoint(self, record: dict[str, Any]) -> None:
        self.checkpoint = record["dynamodb"]["SequenceNumber"]

    def _give_up(self, records: list[dict[str, Any]], invocations: int, error: bool) -> None:
        """Lambda's failure record to the OnFailure destination; the batch is then skipped."""
        m = self.mapping
        first, last = records[0]["dynamodb"], records[-1]["dynamodb"]
        body = {
            "requestContext": {
                "requestId": str(uuid.uuid4()),
                "functionArn": m.function_arn,
                "condition": "RetryAttemptsExhausted",
                "approximateInvokeCount": invocations,
            },
            "responseContext": {
                "statusCode": 200,
                "executedVersion": "$LATEST",
                "functionError": "Unhandled" if error else "",
            },
            "version": "1.0",
            "timestamp": datetime.now(UTC).isoformat().replace("+00:00", "Z"),
            "DDBStreamBatchInfo": {
                "shardId": self._shard_id,
                "startSequenceNumber": first["SequenceNumber"],
                "endSequenceNumber": last["SequenceNumber"],
                "approximateArrivalOfFirstRecord": _iso(first.get("ApproximateCreationDateTime")),
                "approximateArrivalOfLastRecord": _iso(last.get("ApproximateCreationDateTime")),
                "batchSize": len(records),
                "streamArn": m.stream_arn,
            },
        }
        log.error(
            "%s: %d stream record(s) failed every retry; sent to %s",
            m.function_name,
            len(records),
            m.on_failure_arn or "nowhere (no OnFailure destination)",
        )
        if m.on_failure_arn:
            self.send_failure(m.on_failure_arn, json.dumps(body))
        self._checkpoint(records[-1])


def first_failure(payload: bytes, sequence_numbers: list[str]) -> int | None:
    """The index of the first failed record a partial batch response names (``None``: none).

    As Lambda: a response that is not one, or an item that is not in the batch, fails the whole
    batch (index 0); several failures checkpoint before the lowest.
    """
    try:
        body = json.loads(payload or b"null")
    except json.JSONDecodeError:
        return 0
    if body is None or body == {}:
        return None
    items = body.get("batchItemFailures", []) if isinstance(body, dict) else None
    if not isinstance(items, list):
        return 0
    position = {s: i for i, s in enumerate(sequence_numbers)}
    found: list[int] = []
    for item in items:
        ident = item.get("itemIdentifier") if isinstance(item, dict) else None
        if not ident or ident not in position:
            return 0
        found.append(position[ident])
    return min(found) if found else None


def _jsonable(value: Any) -> Any:
    if isinstance(value, datetime):
        return value.timestamp()
    if isinstance(value, bytes | bytearray):
        import base64

        return base64.b64encode(value).decode()
    raise TypeError(f"{type(value).__name__} is not JSON serialisable")


def _iso(value: Any) -> str | None:
    if isinstance(value, int | float):
        return datetime.fromtimestamp(value, UTC).isoformat().replace("+00:00", "Z")
    return None
