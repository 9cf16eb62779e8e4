"""The local cloud with a small stack of its own: S3 and SNS reach functions as in AWS.

S3 notifications and SNS subscriptions invoke Lambda asynchronously: the function runs, a
failure is retried twice, then the event goes to the function's dead-letter queue. This stack
is deployed from a template written here, before the integration tier's stack exists.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any
from urllib.parse import unquote_plus

import pytest

from localcloud.cloud import LocalCloud

TEMPLATE = """\
AWSTemplateFormatVersion: "2010-09-09"
Transform: AWS::Serverless-2016-10-31
Resources:
  SeenQueue:
    Type: AWS::SQS::Queue
  EchoDeadLetters:
    Type: AWS::SQS::Queue
  Uploads:
    Type: AWS::S3::Bucket
  Announcements:
    Type: AWS::SNS::Topic
  EchoFunction:
    Type: AWS::Serverless::Function
    Properties:
      Runtime: python3.12
      CodeUri: functions/echo/
      Handler: app.handler
      Environment:
        Variables:
          SEEN_QUEUE_URL: !Ref SeenQueue
      DeadLetterQueue:
        Type: SQS
        TargetArn: !GetAtt EchoDeadLetters.Arn
      Events:
        Upload:
          Type: S3
          Properties:
            Bucket: !Ref Uploads
            Events: s3:ObjectCreated:*
            Filter:
              S3Key:
                Rules:
                  - Name: prefix
                    Value: cctv/
        Announcement:
          Type: SNS
          Properties:
            Topic: !Ref Announcements
"""

ECHO = """\
import json, os
import boto3

sqs = boto3.client("sqs")


def handler(event, context):
    record = event["Records"][0]
    if "Sns" in record and record["Sns"]["Message"] == "fail":
        raise RuntimeError("asked to fail")
    sqs.send_message(QueueUrl=os.environ["SEEN_QUEUE_URL"], MessageBody=json.dumps(event))
    return {"ok": True}
"""


@pytest.fixture(scope="module")
def stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LocalCloud]:
    root = tmp_path_factory.mktemp("mini-stack")
    (root / "template.yaml").write_text(TEMPLATE)
    (root / "functions" / "echo").mkdir(parents=True)
    (root / "functions" / "echo" / "app.py").write_text(ECHO)
    with LocalCloud(root, state_dir=root / ".local") as cloud:
        yield cloud


def _received(cloud: LocalCloud, queue: str) -> list[dict[str, Any]]:
    messages = cloud.client("sqs").receive_message(
        QueueUrl=cloud.physical_id(queue), MaxNumberOfMessages=10, VisibilityTimeout=0
    )
    return [json.loads(m["Body"]) for m in messages.get("Messages", [])]


def test_an_upload_under_the_prefix_invokes_the_function(stack: LocalCloud) -> None:
    s3 = stack.client("s3")
    s3.put_object(Bucket=stack.physical_id("Uploads"), Key="other/ignored.txt", Body=b"x")
    s3.put_object(Bucket=stack.physical_id("Uploads"), Key="cctv/suwon/cam-1/0001.mp4", Body=b"x")
    events = stack.wait_for(lambda: _received(stack, "SeenQueue"), what="the S3 event")
    # Keys arrive URL-encoded, as in AWS (moto also encodes "/"): consumers unquote_plus them.
    keys = [
        unquote_plus(e["Records"][0]["s3"]["object"]["key"])
        for e in events
        if "s3" in e["Records"][0]
    ]
    assert keys == ["cctv/suwon/cam-1/0001.mp4"]


def test_a_failing_sns_delivery_is_retried_then_dead_lettered(stack: LocalCloud) -> None:
    stack.client("sns").publish(TopicArn=stack.physical_id("Announcements"), Message="fail")
    (dead,) = stack.wait_for(lambda: _received(stack, "EchoDeadLetters"), what="the dead letter")
    assert dead["Records"][0]["Sns"]["Message"] == "fail"
    fn = stack.physical_id("EchoFunction")
    failed = [i for i in stack.runner.calls(fn) if i.errored]
    assert len(failed) == 3  # the first attempt and Lambda's two retries
