"""SQS event source mappings, polled as the Lambda service polls them.

For each mapping a thread receives up to ``BatchSize`` messages (waiting at most the batching
window to fill a batch), invokes the function once with the whole batch, and then:

- deletes every message when the invocation succeeds;
- with ``ReportBatchItemFailures``, deletes all but the ``batchItemFailures`` it returned;
- when the function errors, deletes nothing.

Messages left behind become visible again after the queue's visibility timeout (scaled by the
local time scale), are received again, and after ``maxReceiveCount`` receives the queue's
redrive policy moves them to the dead-letter queue: the same path as in AWS.
"""

from __future__ import annotations

import json
import logging
import math
import threading
import time
from dataclasses import dataclass
from typing import Any

from localcloud import timescale

log = logging.getLogger("localcloud.event_sources")


@dataclass(frozen=True)
class SqsMapping:
    """One ``AWS::Lambda::EventSourceMapping`` from an SQS queue."""

    uuid: str
    queue_url: str
    queue_arn: str
    function_name: str
    batch_size: int
    batching_window_s: float
    report_failures: bool
    visibility_timeout_s: int


#: A poller's pause between empty reads: from the first to the second, doubling while idle.
IDLE_PAUSES = (0.05, 0.4)


class Poller:
    """A thread that reads batches for one function and delivers each, until stopped.

    Subclasses say how a batch is read (:meth:`_read_batch`, empty when there is none yet) and
    delivered (:meth:`_deliver`); the loop, its pauses and stopping are the same for every
    kind of event source.
    """

    kind = "poller"

    def __init__(self, function_name: str) -> None:
        self.function_name = function_name
        self.batches = 0
        self.idle = threading.Event()
        self._stop = threading.Event()
        self._thread = threading.Thread(
            target=self._run, name=f"{self.kind}-{function_name}", daemon=True
        )

    def start(self) -> None:
        self._thread.start()

    def signal_stop(self) -> None:
        """Ask the poller to stop after its current read (at most one second)."""
        self._stop.set()

    def stop(self, timeout: float = 5.0) -> None:
        self._stop.set()
        if self._thread.is_alive():
            self._thread.join(timeout)

    def _run(self) -> None:
        pause = IDLE_PAUSES[0]
        while not self._stop.is_set():
            try:
                batch = self._read_batch()
                if not batch:
                    self.idle.set()
                    # Short polls and an interruptible pause: stopping never waits for a long
                    # poll. The pause doubles while nothing comes (every poll is a moto call
                    # under the GIL, twenty pollers' worth of it in one process) and is short
                    # again once something does.
                    self._stop.wait(pause)
                    pause = min(pause * 2, IDLE_PAUSES[1])
                    continue
                pause = IDLE_PAUSES[0]
                self.idle.clear()
                self._deliver(batch)
            except Exception:  # keep polling, as Lambda does, but say why
                log.exception("%s for %s failed a cycle", self.kind, self.function_name)
                self._stop.wait(0.5)

    def _read_batch(self) -> list[dict[str, Any]]:
        raise NotImplementedError

    def _deliver(self, batch: list[dict[str, Any]]) -> None:
        raise NotImplementedError


class SqsPoller(Poller):
    """Polls one queue for one function until stopped."""

    kind = "sqs-poller"

    def __init__(self, mapping: SqsMapping, sqs: Any, lambda_client: Any, region: str) -> None:
        self.mapping = mapping
        self.sqs = sqs
        self.lambda_client = lambda_client
        self.region = region
        super().__init__(mapping.function_name)

    def _read_batch(self) -> list[dict[str, Any]]:
        m = self.mapping
        batch: list[dict[str, Any]] = []
        deadline = time.monotonic() + m.batching_window_s * timescale.factor()
        while len(batch) < m.batch_size and not self._stop.is_set():
            got = self.sqs.receive_message(
                QueueUrl=m.queue_url,
                MaxNumberOfMessages=min(10, m.batch_size - len(batch)),
                WaitTimeSeconds=0,
                VisibilityTimeout=m.visibility_timeout_s,
                AttributeNames=["All"],
                MessageAttributeNames=["All"],
            ).get("Messages", [])
            batch.extend(got)
            if not batch or (not got and time.monotonic() >= deadline):
                break
            if not got:
                self._stop.wait(0.02)
        return batch

    def _deliver(self, messages: list[dict[str, Any]]) -> None:
        m = self.mapping
        event = {"Records": [self._record(msg) for msg in messages]}
        response = self.lambda_client.invoke(
            FunctionName=m.function_name,
            InvocationType="RequestResponse",
            Payload=json.dumps(event).encode(),
        )
        payload = response["Payload"].read()
        self.batches += 1
        by_id = {msg["MessageId"]: msg for msg in messages}
        if response.get("FunctionError"):
            failed = set(by_id)
            log.warning(
                "%s failed its batch of %d: %s", m.function_name, len(messages), payload[:300]
            )
        elif m.report_failures:
            failed = _reported_failures(payload, set(by_id))
        else:
            failed = set()
        done = [by_id[i] for i in by_id if i not in failed]
        for start in range(0, len(done), 10):
            chunk = done[start : start + 10]
            self.sqs.delete_message_batch(
                QueueUrl=m.queue_url,
                Entries=[
                    {"Id": str(n), "ReceiptHandle": msg["ReceiptHandle"]}
                    for n, msg in enumerate(chunk)
                ],
            )
        # Failed messages come back after the (scaled) visibility timeout, as in AWS.
        retry_after = math.ceil(m.visibility_timeout_s * timescale.factor())
        if retry_after < m.visibility_timeout_s:
            for msg_id in failed:
                self.sqs.change_message_visibility(
                    QueueUrl=m.queue_url,
                    ReceiptHandle=by_id[msg_id]["ReceiptHandle"],
                    VisibilityTimeout=retry_after,
                )

    def _record(self, msg: dict[str, Any]) -> dict[str, Any]:
        attributes = msg.get("MessageAttributes", {})
        return {
            "messageId": msg["MessageId"],
            "receiptHandle": msg["ReceiptHandle"],
            "body": msg["Body"],
            "attributes": msg.get("Attributes", {}),
            "messageAttributes": {
                name: {
                    "stringValue": a.get("StringValue"),
                    "binaryValue": a.get("BinaryValue"),
                    "stringListValues": [],
                    "binaryListValues": [],
                    "dataType": a["DataType"],
                }
                for name, a in attributes.items()
            },
            "md5OfBody": msg.get("MD5OfBody"),
            "eventSource": "aws:sqs",
            "eventSourceARN": self.mapping.queue_arn,
            "awsRegion": self.region,
        }


def _reported_failures(payload: bytes, batch_ids: set[str]) -> set[str]:
    """Parse a partial batch response; like Lambda, a malformed one fails the whole batch."""
    try:
        body = json.loads(payload or b"null")
    except json.JSONDecodeError:
        return batch_ids
    if body is None or body == {}:
        return set()
    if not isinstance(body, dict) or not isinstance(body.get("batchItemFailures", []), list):
        return batch_ids
    failed = set()
    for item in body.get("batchItemFailures", []):
        ident = item.get("itemIdentifier") if isinstance(item, dict) else None
        if not ident or ident not in batch_ids:
            return batch_ids
        failed.add(ident)
    return failed
