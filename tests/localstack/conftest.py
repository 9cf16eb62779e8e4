"""One deployment of the stack into LocalStack, shared by the tests of this folder.

Every test here is skipped, with the reason, when no LocalStack answers at
``LOCALSTACK_ENDPOINT`` (default ``http://localhost:4566``; loopback addresses only). The stack
gets a fresh name per run and is deleted afterwards unless ``LOCALSTACK_KEEP_STACK=1``.
"""

from __future__ import annotations

import os
import secrets
from collections.abc import Callable, Iterator
from typing import Any

import pytest

from localcloud.localstack import (
    DEFAULT_ENDPOINT,
    DEFAULT_REGION,
    delete_stack,
    deploy_to_localstack,
    is_localstack_running,
    localstack_client,
)
from tests.conftest import ROOT


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
