"""AWS clients and tables created on first use, or injected.

Domain classes declare what they talk to as class attributes (``sqs = AwsClient("sqs")``); a
test or the local cloud passes its own client to the constructor instead. Creating clients
lazily keeps a function's cold start to what the invocation actually needs.
"""

from __future__ import annotations

import os
from decimal import Decimal
from functools import cache
from typing import Any


class AwsClient:
    """A descriptor: the injected client, else one ``boto3.client(service)`` made once."""

    def __init__(self, service: str) -> None:
        self.service = service
        self.slot = f"_{service}_client"

    def __set_name__(self, owner: type, name: str) -> None:
        self.slot = f"_{name}_client"

    def __get__(self, obj: Any, objtype: type | None = None) -> Any:
        if obj is None:
            return self
        client = obj.__dict__.get(self.slot)
        if client is None:
            import boto3

            client = boto3.client(self.service)  # type: ignore[call-overload,unused-ignore]
            obj.__dict__[self.slot] = client
        return client

    def __set__(self, obj: Any, client: Any) -> None:
        obj.__dict__[self.slot] = client


class DynamoTable:
    """Base of the stores: one DynamoDB table, its resource made on first use."""

    def __init__(self, table_name: str, dynamodb: Any | None = None) -> None:
        self.table_name = table_name
        self._dynamodb = dynamodb
        self._table: Any | None = None

    @property
    def table(self) -> Any:
        if self._table is None:
            if self._dynamodb is None:
                self._dynamodb = _dynamodb_resource(
                    os.environ.get("AWS_ENDPOINT_URL"), os.environ.get("AWS_DEFAULT_REGION")
                )
            self._table = self._dynamodb.Table(self.table_name)
        return self._table


@cache
def _dynamodb_resource(endpoint_url: str | None, region: str | None) -> Any:
    # One per process and endpoint: each store of a function would otherwise build its own
    # (about 30 ms of a cold start apiece). Keyed on the variables boto3 reads, so a local
    # cloud started later in the same process is not answered by an earlier one's resource.
    import boto3

    return boto3.resource("dynamodb")


def first_condition_failed(exc: Exception) -> bool:
    """Whether a cancelled DynamoDB transaction failed on its first item's condition.

    The stores put their "already done" marker first in a transaction, so this is how they
    tell a repeat (nothing to do) from a real failure (raise).
    """
    reasons = getattr(exc, "response", {}).get("CancellationReasons", [])
    return bool(reasons) and reasons[0].get("Code") == "ConditionalCheckFailed"


def to_dynamo(value: Any) -> Any:
    """JSON-like data as DynamoDB takes it: floats become Decimals built from their text."""
    if isinstance(value, float):
        return Decimal(str(value))
    if isinstance(value, dict):
        return {k: to_dynamo(v) for k, v in value.items()}
    if isinstance(value, list):
        return [to_dynamo(v) for v in value]
    return value


def from_dynamo(value: Any) -> Any:
    """DynamoDB's Decimals back to ints and floats."""
    if isinstance(value, Decimal):
        return int(value) if value == value.to_integral_value() else float(value)
    if isinstance(value, dict):
        return {k: from_dynamo(v) for k, v in value.items()}
    if isinstance(value, list):
        return [from_dynamo(v) for v in value]
    return value
