"""The DynamoDB Streams poller: Lambda's batch, partial-failure, retry and OnFailure rules,
against moto's stream of a real table (the function is a stand-in that answers as told)."""

from __future__ import annotations

import io
import json
from collections.abc import Callable, Iterator
from typing import Any

import boto3
import pytest
from moto import mock_aws

from localcloud.stream_sources import StreamMapping, StreamPoller, first_failure

REGION = "ap-northeast-2"


class Function:
    """A Lambda client whose function answers each batch with ``answer(sequence numbers)``."""

    def __init__(self, answer: Callable[[list[str]], tuple[dict[str, Any] | None, bool]]) -> None:
        self.answer = answer
        self.batches: list[list[str]] = []

    def invoke(self, **kwargs: Any) -> dict[str, Any]:
        event = json.loads(kwargs["Payload"])
        assert all(r["eventSource"] == "aws:dynamodb" for r in event["Records"])
        seqs = [r["dynamodb"]["SequenceNumber"] for r in event["Records"]]
        self.batches.append(seqs)
        body, errored = self.answer(seqs)
        response: dict[str, Any] = {"Payload": io.BytesIO(json.dumps(body).encode())}
        if errored:
            response["FunctionError"] = "Unhandled"
        return response


@pytest.fixture
def stream() -> Iterator[tuple[Any, str]]:
    with mock_aws():
        ddb = boto3.client("dynamodb", region_name=REGION)
        table = ddb.create_table(
            TableName="things",
            AttributeDefinitions=[{"AttributeName": "id", "AttributeType": "S"}],
            KeySchema=[{"AttributeName": "id", "KeyType": "HASH"}],
            BillingMode="PAY_PER_REQUEST",
            StreamSpecification={"StreamEnabled": True, "StreamViewType": "NEW_IMAGE"},
        )["TableDescription"]
        for n in range(5):
            ddb.put_item(TableName="things", Item={"id": {"S": f"item-{n}"}})
        yield boto3.client("dynamodbstreams", region_name=REGION), table["LatestStreamArn"]


def _poller(
    stream: tuple[Any, str], function: Function, sent: list[tuple[str, str]], **options: Any
) -> StreamPoller:
    streams, arn = stream
    properties = {
        "EventSourceArn": arn,
        "FunctionName": "fn",
        "StartingPosition": "TRIM_HORIZON",
        "BatchSize": 10,
        "FunctionResponseTypes": ["ReportBatchItemFailures"],
        "MaximumRetryAttempts": 2,
        "DestinationConfig": {"OnFailure": {"Destination": "arn:aws:sqs:ap-northeast-2:1:dlq"}},
        **options,
    }
    mapping = StreamMapping.from_properties("u-1", properties, "arn:aws:lambda:fn")
    poller = StreamPoller(mapping, streams, function, REGION, lambda t, b: sent.append((t, b)))
    poller._iterator = poller._first_iterator()
    return poller


def test_a_batch_is_delivered_in_order_in_lambdas_shape(stream: tuple[Any, str]) -> None:
    sent: list[tuple[str, str]] = []
    function = Function(lambda seqs: ({"batchItemFailures": []}, False))
    poller = _poller(stream, function, sent)
    records = poller._read_batch()
    assert [r["dynamodb"]["NewImage"]["id"]["S"] for r in records] == [
        f"item-{n}" for n in range(5)
    ]
    assert records[0]["eventName"] == "INSERT" and records[0]["eventSourceARN"] == stream[1]
    poller.process(records)
    assert len(function.batches) == 1 and not sent
    assert poller.checkpoint == records[-1]["dynamodb"]["SequenceNumber"]


def test_a_partial_failure_checkpoints_before_it_and_retries_from_it(
    stream: tuple[Any, str],
) -> None:
    failing: dict[str, int] = {}

    first: list[str] = []

    def answer(seqs: list[str]) -> tuple[dict[str, Any], bool]:
        # The third record fails twice, then succeeds.
        third = first[2]
        if third in seqs and failing.get(third, 0) < 2:
            failing[third] = failing.get(third, 0) + 1
            return {"batchItemFailures": [{"itemIdentifier": third}]}, False
        return {"batchItemFailures": []}, False

    sent: list[tuple[str, str]] = []
    function = Function(answer)
    poller = _poller(stream, function, sent)
    records = poller._read_batch()
    first.extend(r["dynamodb"]["SequenceNumber"] for r in records)
    poller.process(records)
    seqs = first
    assert function.batches == [seqs, seqs[2:], seqs[2:]]
    assert not sent and poller.checkpoint == seqs[-1]


def test_after_the_last_retry_the_failure_record_goes_to_the_destination(
    stream: tuple[Any, str],
) -> None:
    sent: list[tuple[str, str]] = []
    function = Function(lambda seqs: ({"errorMessage": "boom"}, True))
    poller = _poller(stream, function, sent, MaximumRetryAttempts=1)
    records = poller._read_batch()
    poller.process(records)
    # One invocation and one retry, then Lambda's record of the batch (not its items).
    assert len(function.batches) == 2
    ((target, body),) = sent
    record = json.loads(body)
    assert target == "arn:aws:sqs:ap-northeast-2:1:dlq"
    info = record["DDBStreamBatchInfo"]
    assert record["requestContext"]["condition"] == "RetryAttemptsExhausted"
    assert info["batchSize"] == 5 and info["streamArn"] == stream[1]
    assert info["startSequenceNumber"] == records[0]["dynamodb"]["SequenceNumber"]
    assert "NewImage" not in body
    assert poller.checkpoint == records[-1]["dynamodb"]["SequenceNumber"]


def test_bisection_isolates_the_poison_record(stream: tuple[Any, str]) -> None:
    poison: list[str] = []

    def answer(seqs: list[str]) -> tuple[dict[str, Any] | None, bool]:
        return (None, poison[0] in seqs) if poison else (None, False)

    sent: list[tuple[str, str]] = []
    function = Function(answer)
    poller = _poller(
        stream,
        function,
        sent,
        FunctionResponseTypes=[],
        BisectBatchOnFunctionError=True,
        MaximumRetryAttempts=0,
    )
    records = poller._read_batch()
    poison.append(records[3]["dynamodb"]["SequenceNumber"])
    poller.process(records)
    ((_, body),) = sent
    info = json.loads(body)["DDBStreamBatchInfo"]
    assert info["batchSize"] == 1 and info["startSequenceNumber"] == poison[0]


@pytest.mark.parametrize(
    ("payload", "expected"),
    [
        (b"", None),
        (b"{}", None),
        (b'{"batchItemFailures": []}', None),
        (b'{"batchItemFailures": [{"itemIdentifier": "3"}, {"itemIdentifier": "2"}]}', 1),
        (b'{"batchItemFailures": [{"itemIdentifier": "9"}]}', 0),
        (b'{"batchItemFailures": "x"}', 0),
        (b"not json", 0),
    ],
)
def test_partial_response_rules(payload: bytes, expected: int | None) -> None:
    assert first_failure(payload, ["1", "2", "3"]) == expected
