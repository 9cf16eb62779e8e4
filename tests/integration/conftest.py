"""One deployment of the stack into the embedded local cloud, shared by the integration tests.

Tests use their own request ids and read only what they wrote, so they can share the stack.
"""

from __future__ import annotations

import io
import json
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Callable, Iterator
from contextlib import contextmanager, redirect_stderr, redirect_stdout
from dataclasses import dataclass
from pathlib import Path
from typing import Any

# Imported before any function runs: the cloud's functions first import numpy in their own
# threads (the Data Dam's through pyarrow), and Hypothesis, in the test's thread, reads
# sys.modules["numpy"].ndarray whenever numpy is there, half-initialised or not.
import numpy  # noqa: F401
import pytest

from gyeonggi_tools import cli
from localcloud import timescale
from localcloud.cloud import LocalCloud
from tests.conftest import ROOT


@pytest.fixture(scope="package")
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
        headers: dict[str, str] | None = None,
    ) -> Answer:
        headers = dict(headers or {})
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


@contextmanager
def scaled_time(cloud: LocalCloud, factor: float) -> Iterator[None]:
    """Waits, retry intervals and task-token timeouts that start inside the block run at
    ``factor``."""
    timescale.scale_time(factor)
    try:
        yield
    finally:
        timescale.scale_time(cloud.time_scale)


def listed_incident(
    cloud: LocalCloud,
    http: Http,
    token: str,
    complex_id: str,
    until: Callable[[dict[str, Any]], bool] = lambda i: True,
    timeout: float = 10,
) -> dict[str, Any]:
    """The complex's incident as operators list it (``GET /safety/incidents``, open or
    closed), once ``until`` holds for it."""

    def probe() -> dict[str, Any] | None:
        for status in ("open", "closed"):
            answer = http.request("GET", f"/safety/incidents?status={status}", token=token)
            for incident in answer.body["incidents"]:
                if incident["complex_id"] == complex_id and until(incident):
                    return dict(incident)
        return None

    return cloud.wait_for(probe, timeout, interval=0.05, what=f"the incident of {complex_id}")


@pytest.fixture(scope="package")
def http(cloud: LocalCloud) -> Http:
    return Http(cloud.api.url)


@pytest.fixture(scope="package")
def api_key(cloud: LocalCloud) -> str:
    return cloud.issue_api_key("integration tests")


# The role whose token reaches furthest comes first: province scope sees every jurisdiction and
# complex, so a 403 or 404 is never the token's doing.
_REACH = ("civil-servant", "operator", "analyst", "citizen")


def role_for(security: list[dict[str, list[str]]]) -> str | None:
    """The role of the token to send to an operation with ``security`` (OpenAPI), or None for
    a public one."""
    accepted = {
        role for requirement in security for roles in requirement.values() for role in roles
    }
    return next((role for role in _REACH if role in accepted), None)


@pytest.fixture(scope="package")
def tokens(cloud: LocalCloud) -> dict[str, str]:
    """A token per role, province-wide for civil servants and operators."""
    return {
        "citizen": cloud.mint_token("citizen", subject="citizen-of-the-property-tests"),
        "civil-servant": cloud.mint_token("civil-servant", province=True),
        "operator": cloud.mint_token("operator", province=True),
        "analyst": cloud.mint_token("analyst", subject="analyst-of-the-property-tests"),
    }


@dataclass
class Published:
    """One message a topic delivered: its body and its message attributes."""

    body: dict[str, Any]
    attributes: dict[str, str]


class TopicTap:
    """A queue subscribed to one topic of the stack, to see what was published.

    ``event_type`` subscribes with a filter policy on that message attribute, so a test sees
    only the events it is about.
    """

    def __init__(self, cloud: LocalCloud, topic: str, event_type: str | None = None) -> None:
        self.cloud = cloud
        sqs = cloud.client("sqs")
        name = f"test-tap-{topic}-{event_type or 'all'}"
        self.url = sqs.create_queue(QueueName=name)["QueueUrl"]
        arn = sqs.get_queue_attributes(QueueUrl=self.url, AttributeNames=["QueueArn"])[
            "Attributes"
        ]["QueueArn"]
        attributes = (
            {"FilterPolicy": json.dumps({"event_type": [event_type]})} if event_type else {}
        )
        cloud.client("sns").subscribe(
            TopicArn=cloud.physical_id(topic), Protocol="sqs", Endpoint=arn, Attributes=attributes
        )
        self.backlog: list[Published] = []

    def drain(self) -> list[Published]:
        """Everything delivered since the last drain (at most 1,000 messages)."""
        sqs, new = self.cloud.client("sqs"), []
        for _ in range(100):
            messages = sqs.receive_message(QueueUrl=self.url, MaxNumberOfMessages=10).get(
                "Messages", []
            )
            if not messages:
                break
            for msg in messages:
                envelope = json.loads(msg["Body"])
                attributes = {
                    k: v["Value"] for k, v in envelope.get("MessageAttributes", {}).items()
                }
                new.append(Published(json.loads(envelope["Message"]), attributes))
                sqs.delete_message(QueueUrl=self.url, ReceiptHandle=msg["ReceiptHandle"])
        self.backlog += new
        return new

    def events_for(self, request_id: str, timeout: float = 10) -> list[Published]:
        """Messages about one request, waiting until at least one has arrived."""

        def probe() -> list[Published]:
            self.drain()
            return [p for p in self.backlog if p.body.get("service_request_id") == request_id]

        return self.cloud.wait_for(probe, timeout, what=f"a message for {request_id}")


@pytest.fixture(scope="package")
def events_tap(cloud: LocalCloud) -> TopicTap:
    """ComplaintReceived events."""
    return TopicTap(cloud, "ComplaintEventsTopic", "ComplaintReceived")


@pytest.fixture(scope="package")
def routed_tap(cloud: LocalCloud) -> TopicTap:
    """ComplaintRouted events."""
    return TopicTap(cloud, "ComplaintEventsTopic", "ComplaintRouted")


def gyeonggi_command(state_dir: Path, *args: str) -> tuple[int, str, str]:
    """``gyeonggi --state-dir STATE_DIR ARGS`` in this process: its status, standard output and
    standard error. ``redirect_stdout`` is process-wide, so the cloud's functions running in other
    threads meanwhile (a workflow's steps) may log into it: their Powertools JSON lines and EMF
    metrics are taken out, being no part of the command's output."""
    out, err = io.StringIO(), io.StringIO()
    with redirect_stdout(out), redirect_stderr(err):
        status = cli.main(["--state-dir", str(state_dir), *args])
    lines = [line for line in out.getvalue().splitlines(keepends=True) if not _function_log(line)]
    return status, "".join(lines), err.getvalue()


def _function_log(line: str) -> bool:
    try:
        record = json.loads(line)
    except ValueError:
        return False
    return isinstance(record, dict) and ("_aws" in record or "function_request_id" in record)
