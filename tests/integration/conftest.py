"""One deployment of the stack into the embedded local cloud, shared by the integration tests.

Tests use their own request ids and read only what they wrote, so they can share the stack.
"""

from __future__ import annotations

import json
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import pytest

from localcloud.cloud import LocalCloud
from tests.conftest import ROOT


@pytest.fixture(scope="session")
def cloud(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LocalCloud]:
    state = tmp_path_factory.mktemp("local-cloud")
    with LocalCloud(ROOT, state_dir=state, api_port=0, mqtt_port=0, time_scale=0.01) as c:
        yield c


@dataclass
class Answer:
    status: int
    body: Any
    headers: dict[str, str]


class Http:
    """A tiny client of the local API server."""

    def __init__(self, base: str) -> None:
        self.base = base

    def request(
        self,
        method: str,
        path: str,
        *,
        form: dict[str, str] | None = None,
        json_body: Any = None,
        raw: bytes | None = None,
        content_type: str | None = None,
        token: str | None = None,
    ) -> Answer:
        headers: dict[str, str] = {}
        data = raw
        if form is not None:
            data = urllib.parse.urlencode(form).encode()
            headers["Content-Type"] = "application/x-www-form-urlencoded"
        elif json_body is not None:
            data = json.dumps(json_body).encode()
            headers["Content-Type"] = "application/json"
        if content_type:
            headers["Content-Type"] = content_type
        if token:
            headers["Authorization"] = f"Bearer {token}"
        req = urllib.request.Request(self.base + path, data=data, method=method, headers=headers)
        try:
            with urllib.request.urlopen(req, timeout=30) as resp:
                return Answer(resp.status, _json(resp.read()), dict(resp.headers))
        except urllib.error.HTTPError as exc:
            return Answer(exc.code, _json(exc.read()), dict(exc.headers))


def _json(raw: bytes) -> Any:
    try:
        return json.loads(raw or b"null")
    except json.JSONDecodeError:
        return raw.decode("utf-8", "replace")


def messages_on(cloud: LocalCloud, queue: str, marker: str) -> list[dict[str, Any]]:
    """Messages on a queue of the stack whose body contains ``marker``, left on the queue."""
    found = []
    for msg in (
        cloud.client("sqs")
        .receive_message(
            QueueUrl=cloud.physical_id(queue),
            MaxNumberOfMessages=10,
            VisibilityTimeout=0,
            AttributeNames=["All"],
            MessageAttributeNames=["All"],
        )
        .get("Messages", [])
    ):
        if marker in msg["Body"]:
            found.append(dict(msg))
    return found


@pytest.fixture(scope="session")
def http(cloud: LocalCloud) -> Http:
    return Http(cloud.api.url)


@pytest.fixture(scope="session")
def api_key(cloud: LocalCloud) -> str:
    return cloud.issue_api_key("integration tests")


class EventTap:
    """A queue subscribed to the complaint events topic, read per request id."""

    def __init__(self, cloud: LocalCloud) -> None:
        self.cloud = cloud
        sqs = cloud.client("sqs")
        self.url = sqs.create_queue(QueueName="test-complaint-events-tap")["QueueUrl"]
        arn = sqs.get_queue_attributes(QueueUrl=self.url, AttributeNames=["QueueArn"])[
            "Attributes"
        ]["QueueArn"]
        cloud.client("sns").subscribe(
            TopicArn=cloud.physical_id("ComplaintEventsTopic"), Protocol="sqs", Endpoint=arn
        )
        self.backlog: list[dict[str, Any]] = []

    def _drain(self) -> None:
        sqs = self.cloud.client("sqs")
        for msg in sqs.receive_message(QueueUrl=self.url, MaxNumberOfMessages=10).get(
            "Messages", []
        ):
            envelope = json.loads(msg["Body"])
            event = json.loads(envelope["Message"])
            event["_attributes"] = envelope.get("MessageAttributes", {})
            self.backlog.append(event)
            sqs.delete_message(QueueUrl=self.url, ReceiptHandle=msg["ReceiptHandle"])

    def events_for(self, request_id: str, timeout: float = 10) -> list[dict[str, Any]]:
        """Events published for one request, waiting until at least one has arrived."""

        def probe() -> list[dict[str, Any]]:
            self._drain()
            return [e for e in self.backlog if e["service_request_id"] == request_id]

        return self.cloud.wait_for(probe, timeout, what=f"ComplaintReceived for {request_id}")


@pytest.fixture(scope="session")
def events_tap(cloud: LocalCloud) -> EventTap:
    return EventTap(cloud)
