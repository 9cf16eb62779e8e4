"""Fakes of the boto3 clients whose calls tests inspect: Lambda ``invoke`` and SQS sends."""

from __future__ import annotations

import io
import json
import threading
from collections.abc import Mapping
from typing import Any


class FakeLambda:
    """Records invocations (thread-safe: the MQTT broker invokes from its own threads).

    Parameters
    ----------
    payload
        What every invocation returns as its ``Payload`` (JSON); ``None``: an empty payload,
        as an asynchronous invocation answers.
    error
        Every invocation reports ``FunctionError`` (with ``payload`` as the error document).
    fail
        Function ARN -> an exception to raise, or ``"FunctionError"`` for an unhandled error.
    """

    def __init__(
        self, payload: Any = None, *, error: bool = False, fail: Mapping[str, Any] | None = None
    ) -> None:
        self.payload = payload
        self.error = error
        self.fail = dict(fail or {})
        self.calls: list[dict[str, Any]] = []
        self._lock = threading.Lock()

    def invoke(self, **kwargs: Any) -> dict[str, Any]:
        with self._lock:
            self.calls.append(kwargs)
        failure = self.fail.get(kwargs["FunctionName"])
        if isinstance(failure, Exception):
            raise failure
        if failure == "FunctionError":
            return {
                "StatusCode": 200,
                "FunctionError": "Unhandled",
                "Payload": io.BytesIO(b'{"errorMessage": "sensor table missing"}'),
            }
        if self.payload is None and not self.error:
            return {"StatusCode": 202, "Payload": io.BytesIO(b"")}
        answer: dict[str, Any] = {
            "StatusCode": 200,
            "Payload": io.BytesIO(json.dumps(self.payload).encode()),
        }
        if self.error:
            answer["FunctionError"] = "Unhandled"
        return answer

    def events(self, arn: str | None = None) -> list[Any]:
        """The events invoked (of function ``arn`` only, if given), oldest first."""
        with self._lock:
            calls = list(self.calls)
        return [
            json.loads(call["Payload"])
            for call in calls
            if arn is None or call["FunctionName"] == arn
        ]


class FakeSqs:
    """Records sent messages; ``fail``: SQS refuses them (a raise for ``send_message``, a
    ``Failed`` entry for ``send_message_batch``, as the real client reports each)."""

    def __init__(self, fail: bool = False) -> None:
        self.fail = fail
        self.messages: list[dict[str, Any]] = []
        #: Each ``send_message_batch`` call's message bodies, parsed.
        self.batches: list[list[Any]] = []

    def send_message(self, **kwargs: Any) -> dict[str, Any]:
        if self.fail:
            raise RuntimeError("queue does not exist")
        self.messages.append(kwargs)
        return {"MessageId": str(len(self.messages))}

    def send_message_batch(self, QueueUrl: str, Entries: list[dict[str, Any]]) -> dict[str, Any]:
        self.batches.append([json.loads(e["MessageBody"]) for e in Entries])
        if self.fail:
            return {"Failed": [{"Id": Entries[0]["Id"], "Code": "KMS"}]}
        return {"Successful": [{"Id": e["Id"], "MessageId": e["Id"]} for e in Entries]}

    def bodies(self, url: str | None = None) -> list[Any]:
        """Bodies of the ``send_message`` calls (to queue ``url`` only, if given)."""
        return [m["MessageBody"] for m in self.messages if url is None or m["QueueUrl"] == url]
