"""The complaint intake chain on LocalStack: real Lambda containers, SQS, Step Functions.

Auth: LocalStack plans without Cognito get no user pool (see ``localcloud.localstack``), so
these tests use only what needs none -- the Open311 API-key route and the queue itself.
Cold starts pull the Lambda image on first use, hence the generous, but bounded, waits.
"""

from __future__ import annotations

import json
import secrets
import urllib.request
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any
from urllib.parse import urlencode

import pytest

from gyeonggi.auth.apikeys import ApiKeyStore
from gyeonggi.complaints.intake import IntakeQueue, new_request_id, parse_submission
from gyeonggi.complaints.models import IntakeMessage, to_item
from localcloud.cloud import wait_for
from tests.localstack.conftest import wait_for_execution

pytestmark = pytest.mark.localstack

SUBMISSION = {
    "jurisdiction_id": "suwon.gg.kr",
    "service_code": "road-damage",
    "description": "팔달문 로터리 앞 도로에 깊은 포트홀이 생겼습니다.",
    "lat": 37.2636,
    "long": 127.0286,
    "email": "citizen@example.kr",
}


def stored(aws: Callable[[str], Any], stack: dict[str, Any], table: str, rid: str) -> Any:
    item = aws("dynamodb").get_item(
        TableName=stack["resources"][table],
        Key={"service_request_id": {"S": rid}},
        ConsistentRead=True,
    )
    return item.get("Item")


def test_an_intake_message_is_separated_and_stored(
    stack: dict[str, Any], aws: Callable[[str], Any]
) -> None:
    # Given a complaint put on the intake queue exactly as the API puts it
    queue = IntakeQueue(stack["resources"]["IntakeQueue"], sqs=aws("sqs"))
    message = queue.submit(parse_submission(SUBMISSION), channel="open311")
    rid = message.service_request_id

    # When the intake function has started the workflow and it has ended
    execution = wait_for_execution(aws, stack, "ComplaintIntakeStateMachine", rid)

    # Then it succeeded; the complaint is stored without contact details, which are restricted
    assert execution["status"] == "SUCCEEDED", execution.get("cause")
    complaint = stored(aws, stack, "ComplaintsTable", rid)
    assert complaint["jurisdiction_id"] == {"S": "suwon.gg.kr"}
    assert "email" not in complaint
    assert stored(aws, stack, "ContactsTable", rid)["email"] == {"S": "citizen@example.kr"}


def test_a_malformed_message_alone_ends_in_the_dead_letter_queue(
    stack: dict[str, Any], aws: Callable[[str], Any]
) -> None:
    sqs = aws("sqs")
    queue_url = stack["resources"]["IntakeQueue"]
    dlq_url = stack["resources"]["IntakeDeadLetterQueue"]
    # The template's 60-s visibility timeout times maxReceiveCount 3 would make this test wait
    # three minutes; the redrive policy, which is what is under test, stays as deployed.
    sqs.set_queue_attributes(QueueUrl=queue_url, Attributes={"VisibilityTimeout": "2"})
    marker = f"not an intake message {secrets.token_hex(4)}"

    # Given a malformed message and a good one in the same batch
    now = datetime.now(UTC)
    good = IntakeMessage(
        service_request_id=new_request_id(now),
        submitted_at=now,
        channel="open311",
        submission=parse_submission(SUBMISSION),
    )
    sqs.send_message_batch(
        QueueUrl=queue_url,
        Entries=[
            {"Id": "bad", "MessageBody": marker},
            {"Id": "good", "MessageBody": json.dumps(to_item(good), ensure_ascii=False)},
        ],
    )
    on_dlq: list[str] = []

    # When the intake function has failed the malformed one maxReceiveCount times
    def dead_lettered() -> bool:
        received = sqs.receive_message(
            QueueUrl=dlq_url, MaxNumberOfMessages=10, WaitTimeSeconds=1
        ).get("Messages", [])
        for m in received:
            on_dlq.append(m["Body"])
            sqs.delete_message(QueueUrl=dlq_url, ReceiptHandle=m["ReceiptHandle"])
        return marker in on_dlq

    # Then the malformed message is on the dead-letter queue, unchanged ...
    assert wait_for(
        dead_lettered, 180, interval=1, what="the malformed message on the dead-letter queue"
    )
    # ... and the good one of its batch was not failed with it: it was stored, and it is not
    # on the dead-letter queue (a handler failing every record would fail both of these)
    rid = good.service_request_id
    execution = wait_for_execution(aws, stack, "ComplaintIntakeStateMachine", rid)
    assert execution["status"] == "SUCCEEDED", execution.get("cause")
    assert stored(aws, stack, "ComplaintsTable", rid) is not None
    assert not [body for body in on_dlq if rid in body]


def test_open311_post_through_api_gateway_reaches_the_table(
    stack: dict[str, Any], aws: Callable[[str], Any], localstack_endpoint: str
) -> None:
    # Given an API key issued into the stack's table, as the province issues one
    key = ApiKeyStore(stack["resources"]["ApiKeysTable"], dynamodb=aws("dynamodb")).issue(
        "localstack test"
    )
    api_id = stack["resources"]["GyeonggiApi"]
    stage = stack["outputs"]["ApiUrl"].rstrip("/").rsplit("/", 1)[-1]
    # LocalStack's path-style URL for a REST API works without wildcard DNS.
    url = f"{localstack_endpoint}/restapis/{api_id}/{stage}/_user_request_/open311/v2/requests.json"
    form = urlencode({**SUBMISSION, "api_key": key.key}).encode()
    request = urllib.request.Request(
        url, data=form, method="POST", headers={"Content-Type": "application/x-www-form-urlencoded"}
    )

    # When a client app posts the form
    opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))
    with opener.open(request, timeout=120) as response:
        status, body = response.status, json.load(response)

    # Then it is accepted at once and stored by the workflow
    assert status == 201, body
    rid = body[0]["service_request_id"]
    assert (
        wait_for_execution(aws, stack, "ComplaintIntakeStateMachine", rid)["status"] == "SUCCEEDED"
    )
    assert stored(aws, stack, "ComplaintsTable", rid)["channel"] == {"S": "open311"}
