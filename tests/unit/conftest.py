"""Fixtures shared by the unit tests."""

from __future__ import annotations

from collections.abc import Iterator

import boto3
import pytest
from moto import mock_aws

from gyeonggi.safety.incidents import IncidentStore


@pytest.fixture
def incident_store() -> Iterator[IncidentStore]:
    """An empty IncidentsTable (with its ``by-status`` index) under moto."""
    with mock_aws():
        dynamodb = boto3.resource("dynamodb", region_name="ap-northeast-2")
        dynamodb.create_table(
            TableName="incidents",
            BillingMode="PAY_PER_REQUEST",
            AttributeDefinitions=[
                {"AttributeName": n, "AttributeType": "S"}
                for n in ("incident_id", "status", "opened_at")
            ],
            KeySchema=[{"AttributeName": "incident_id", "KeyType": "HASH"}],
            GlobalSecondaryIndexes=[
                {
                    "IndexName": "by-status",
                    "KeySchema": [
                        {"AttributeName": "status", "KeyType": "HASH"},
                        {"AttributeName": "opened_at", "KeyType": "RANGE"},
                    ],
                    "Projection": {"ProjectionType": "ALL"},
                }
            ],
        )
        yield IncidentStore("incidents", dynamodb=dynamodb)
