"""Fixtures and helpers shared by the unit tests."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime
from functools import cache
from typing import Any

import boto3
import pytest
from moto import mock_aws

from gyeonggi.safety.incident_store import IncidentStore
from localcloud.template import load_template
from tests.conftest import ROOT


@cache
def _template_resources() -> dict[str, Any]:
    # Parsed once per run: the file is thousands of lines, and tests build tables often.
    resources: dict[str, Any] = load_template(ROOT / "template.yaml")["Resources"]
    return resources


def table_from_template(dynamodb: Any, logical_id: str, name: str) -> None:
    """Create table ``name`` with the keys and indexes template.yaml gives ``logical_id``."""
    properties = _template_resources()[logical_id]["Properties"]
    dynamodb.create_table(
        TableName=name,
        BillingMode="PAY_PER_REQUEST",
        **{
            key: properties[key]
            for key in ("AttributeDefinitions", "KeySchema", "GlobalSecondaryIndexes")
            if key in properties
        },
    )


@pytest.fixture
def incident_store() -> Iterator[IncidentStore]:
    """An empty IncidentsTable (with its ``by-status`` index) under moto."""
    with mock_aws():
        dynamodb = boto3.resource("dynamodb", region_name="ap-northeast-2")
        table_from_template(dynamodb, "IncidentsTable", "incidents")
        yield IncidentStore("incidents", dynamodb=dynamodb)


@pytest.fixture
def lambda_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    """What a handler finds in a Lambda environment, with moto's test credentials (no tracer,
    no profile of the developer's)."""
    for key, value in {
        "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": "testing",
        "AWS_SESSION_TOKEN": "testing",
        "AWS_DEFAULT_REGION": "ap-northeast-2",
        "POWERTOOLS_METRICS_NAMESPACE": "Test",
        "POWERTOOLS_TRACE_DISABLED": "true",
    }.items():
        monkeypatch.setenv(key, value)
    monkeypatch.delenv("AWS_PROFILE", raising=False)


class LambdaContext:
    """The attributes of a Lambda context that Powertools reads."""

    function_name = "test"
    memory_limit_in_mb = 512
    invoked_function_arn = "arn:aws:lambda:ap-northeast-2:123456789012:function:test"
    aws_request_id = "req-1"

    def get_remaining_time_in_millis(self) -> int:
        return 60_000


#: The instant the safety tests' evidence happens at.
EVIDENCE_T0 = datetime(2026, 11, 24, 13, 30, tzinfo=UTC)


def gas_evidence(**changes: Any) -> dict[str, Any]:
    """A CO high-level alarm at complex ``banwol`` as the evidence queue carries it."""
    data = {
        "source": "sensor",
        "complex_id": "banwol",
        "sensor_id": "co-1",
        "kind": "threshold_high",
        "severity": "alarm",
        "gas": "co",
        "value": 82,
        "limit": 70,
        "ts": EVIDENCE_T0.isoformat(),
    }
    return {**data, **changes}
