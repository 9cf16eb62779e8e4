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
from typing import Any
from urllib.parse import urlencode

import pytest

from gyeonggi.auth.apikeys import ApiKeyStore
from gyeonggi.complaints.intake import IntakeQueue, parse_submission
from localcloud.cloud import wait_for

pytestmark = pytest.mark.localstack

SUBMISSION = {
    "jurisdiction_id": "suwon.gg.kr",
    "service_code": "road-damage",
    "description": "팔달문 로터리 앞 도로에 깊은 포트홀이 생겼습니다.",
    "lat": 37.2636,
    "long": 127.0286,
    "email": "citizen@example.kr",
}


def wait_for_execution(
    aws: Callable[[str], Any], stack: dict[str, Any], name: str, timeout: float = 240
) -> dict[str, Any]:
    """The intake execution named after the request id, once it has ended."""
    sfn = aws("stepfunctions")
    machine = stack["resources"]["ComplaintIntakeStateMachine"]
    arn = machine.replace(":stateMachine:", ":execution:") + f":{name}"

    def ended() -> dict[str, Any] | None:
        try:
            execution: dict[str, Any] = sfn.describe_execution(executionArn=arn)
        except sfn.exceptions.ExecutionDoesNotExist:
            return None
        return execution if execution["status"] != "RUNNING" else None

    return wait_for(ended, timeout, interval=1, what=f"execution {name} to end")


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
    execution = wait_for_execution(aws, stack, rid)

    # Then it succeeded; the complaint is stored without contact details, which are restricted
    assert execution["status"] == "SUCCEEDED", execution.get("cause")
    complaint = stored(aws, stack, "ComplaintsTable", rid)
    assert complaint["jurisdiction_id"] == {"S": "suwon.gg.kr"}
    assert "email" not in complaint
    assert stored(aws, stack, "ContactsTable", rid)["email"] == {"S": "citizen@example.kr"}


def test_a_malformed_message_ends_in_the_dead_letter_queue(
    stack: dict[str, Any], aws: Callable[[str], Any]
) -> None:
    sqs = aws("sqs")
    queue_url = stack["resources"]["IntakeQueue"]
    dlq_url = stack["resources"]["IntakeDeadLetterQueue"]
    # The template's 60-s visibility timeout times maxReceiveCount 3 would make this test wait
    # three minutes; the redrive policy, which is what is under test, stays as deployed.
    sqs.set_queue_attributes(QueueUrl=queue_url, Attributes={"VisibilityTimeout": "2"})
    marker = f"not an intake message {secrets.token_hex(4)}"

    # Given a message that is not an intake message
    sqs.send_message(QueueUrl=queue_url, MessageBody=marker)

    # When the intake function has failed it maxReceiveCount times
    def dead_lettered() -> dict[str, Any] | None:
        received = sqs.receive_message(
            QueueUrl=dlq_url, MaxNumberOfMessages=10, WaitTimeSeconds=1
        ).get("Messages", [])
        for m in received:
            if m["Body"] == marker:
                sqs.delete_message(QueueUrl=dlq_url, ReceiptHandle=m["ReceiptHandle"])
                return dict(m)
        return None

    # Then it is on the dead-letter queue, unchanged
    assert wait_for(
        dead_lettered, 180, interval=1, what="the malformed message on the dead-letter queue"
    )


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
    assert wait_for_execution(aws, stack, rid)["status"] == "SUCCEEDED"
    assert stored(aws, stack, "ComplaintsTable", rid)["channel"] == {"S": "open311"}
