"""DynamoDB access for complaints and the restricted contact store."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from gyeonggi.common.errors import NotFound
from gyeonggi.complaints.models import Complaint, Contact, to_item


def _to_dynamo(value: Any) -> Any:
    # DynamoDB has no float type; numbers travel as Decimal built from their text.
    if isinstance(value, float):
        return Decimal(str(value))
    if isinstance(value, dict):
        return {k: _to_dynamo(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_to_dynamo(v) for v in value]
    return value


def _from_dynamo(value: Any) -> Any:
    if isinstance(value, Decimal):
        return int(value) if value == value.to_integral_value() else float(value)
    if isinstance(value, dict):
        return {k: _from_dynamo(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_from_dynamo(v) for v in value]
    return value


def typed_item(complaint: Complaint) -> dict[str, Any]:
    """The complaint in DynamoDB's typed JSON (``{"S": ...}``), as a PutItem task takes it."""
    from boto3.dynamodb.types import TypeSerializer

    serializer = TypeSerializer()
    return {k: serializer.serialize(v) for k, v in _to_dynamo(to_item(complaint)).items()}


class _Table:
    def __init__(self, table_name: str, dynamodb: Any | None = None) -> None:
        self.table_name = table_name
        self._dynamodb = dynamodb
        self._table: Any | None = None

    @property
    def table(self) -> Any:
        if self._table is None:
            if self._dynamodb is None:
                import boto3

                self._dynamodb = boto3.resource("dynamodb")
            self._table = self._dynamodb.Table(self.table_name)
        return self._table


class ComplaintStore(_Table):
    """The complaints table: pseudonymized records keyed by ``service_request_id``."""

    def get(self, service_request_id: str) -> Complaint:
        """Raises ``NotFound`` when no such complaint has been stored (yet)."""
        item = self.table.get_item(Key={"service_request_id": service_request_id}).get("Item")
        if item is None:
            raise NotFound(f"service request {service_request_id} not found")
        return Complaint.model_validate(_from_dynamo(item))


class ContactStore(_Table):
    """The restricted store of contact details."""

    def put_contact(self, contact: Contact) -> None:
        self.table.put_item(Item=to_item(contact))

    def get_contact(self, service_request_id: str) -> Contact | None:
        item = self.table.get_item(Key={"service_request_id": service_request_id}).get("Item")
        return Contact.model_validate(item) if item else None
