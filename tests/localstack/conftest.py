"""One deployment of the stack into LocalStack, shared by the tests of this folder.

Every test here is skipped, with the reason, when no LocalStack answers at
``LOCALSTACK_ENDPOINT`` (default ``http://localhost:4566``; loopback addresses only). The stack
gets a fresh name per run and is deleted afterwards unless ``LOCALSTACK_KEEP_STACK=1``.
"""

from __future__ import annotations

import json
import os
import secrets
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from typing import Any

import pytest

from localcloud.cloud import wait_for
from localcloud.localstack import (
    DEFAULT_ENDPOINT,
    DEFAULT_REGION,
    delete_stack,
    deploy_to_localstack,
    is_localstack_running,
    localstack_client,
    localstack_resource,
)
from tests.conftest import ROOT, rule_message

Aws = Callable[[str], Any]


@pytest.fixture(scope="session")
def localstack_endpoint() -> str:
    endpoint = os.environ.get("LOCALSTACK_ENDPOINT", DEFAULT_ENDPOINT)
    running, detail = is_localstack_running(endpoint, timeout=2.0)
    if not running:
        if os.environ.get("LOCALSTACK_REQUIRED") == "1":  # CI starts one: its absence is a failure
            pytest.fail(f"LOCALSTACK_REQUIRED=1 but no LocalStack at {endpoint} ({detail})")
        pytest.skip(
            f"no LocalStack at {endpoint} ({detail}); start one with `localstack start -d` "
            "and see docs/LOCALSTACK.md"
        )
    return endpoint


@pytest.fixture(scope="session")
def stack(localstack_endpoint: str) -> Iterator[dict[str, Any]]:
    """The deployed stack: outputs, physical ids by logical id, what was left out."""
    name = f"gyeonggi-test-{secrets.token_hex(3)}"
    deployed = deploy_to_localstack(ROOT, localstack_endpoint, stack_name=name, timeout=900)
    yield deployed
    if os.environ.get("LOCALSTACK_KEEP_STACK") != "1":
        delete_stack(name, localstack_endpoint)


@pytest.fixture(scope="session")
def aws(localstack_endpoint: str) -> Callable[[str], Any]:
    """boto3 clients of the LocalStack, one per service."""
    clients: dict[str, Any] = {}

    def client(service: str) -> Any:
        if service not in clients:
            clients[service] = localstack_client(service, localstack_endpoint, DEFAULT_REGION)
        return clients[service]

    return client


@pytest.fixture(scope="session")
def dynamodb(localstack_endpoint: str) -> Any:
    """A DynamoDB resource of the LocalStack, for the domain's stores."""
    return localstack_resource("dynamodb", localstack_endpoint, DEFAULT_REGION)


def wait_for_execution(
    aws: Aws, stack: dict[str, Any], machine: str, name: str, timeout: float = 240
) -> dict[str, Any]:
    """The execution ``name`` of the state machine ``machine`` (logical id), once it ended."""
    sfn = aws("stepfunctions")
    arn = stack["resources"][machine].replace(":stateMachine:", ":execution:") + f":{name}"

    def ended() -> dict[str, Any] | None:
        try:
            execution: dict[str, Any] = sfn.describe_execution(executionArn=arn)
        except sfn.exceptions.ExecutionDoesNotExist:
            return None
        return execution if execution["status"] != "RUNNING" else None

    return wait_for(ended, timeout, interval=1, what=f"{machine} execution {name} to end")


GAS_LEAK_COMPLEX = f"ls-banwol-{secrets.token_hex(2)}"


@pytest.fixture(scope="session", autouse=True)
def gas_leak(stack: dict[str, Any], aws: Aws) -> dict[str, Any]:
    """A CO reading far above the alarm level, sent as soon as the stack is up.

    Sent to the telemetry function as the IoT topic rule sends it (an asynchronous invoke of
    the payload, base64, with the topic's ids: the rule itself is a paid LocalStack feature).
    Started before every other test so that the safety-alert workflow's first real-time
    acknowledgement wait (120 s) runs while they do; ``test_safety_on_localstack`` checks where
    it got to.
    """
    reading = {
        "kind": "co",
        "value": 900,
        "unit": "ppm",
        "ts": datetime.now(UTC).isoformat(timespec="seconds").replace("+00:00", "Z"),
        "complex_id": GAS_LEAK_COMPLEX,
        "sensor_id": "gas-017",
    }
    answer = aws("lambda").invoke(
        FunctionName=stack["resources"]["TelemetryFunction"],
        InvocationType="Event",
        Payload=json.dumps(rule_message(reading)).encode(),
    )
    assert answer["StatusCode"] == 202
    return {"reading": reading, "sent_at": datetime.now(UTC)}
