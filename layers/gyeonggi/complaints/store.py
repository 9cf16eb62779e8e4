"""DynamoDB access for complaints and the restricted contact store."""

from __future__ import annotations

from typing import Any

from gyeonggi.common.aws import DynamoTable, from_dynamo, to_dynamo
from gyeonggi.common.errors import NotFound
from gyeonggi.complaints.models import Complaint, Contact, to_item


def typed_item(complaint: Complaint) -> dict[str, Any]:
    """The complaint in DynamoDB's typed JSON (``{"S": ...}``), as a PutItem task takes it."""
    from boto3.dynamodb.types import TypeSerializer

    serializer = TypeSerializer()
    return {k: serializer.serialize(v) for k, v in to_dynamo(to_item(complaint)).items()}


class ComplaintStore(DynamoTable):
    """The complaints table: pseudonymized records keyed by ``service_request_id``."""

    def get(self, service_request_id: str) -> Complaint:
        """Raises ``NotFound`` when no such complaint has been stored (yet)."""
        item = self.table.get_item(Key={"service_request_id": service_request_id}).get("Item")
        if item is None:
            raise NotFound(f"service request {service_request_id} not found")
        return Complaint.model_validate(from_dynamo(item))


class ContactStore(DynamoTable):
    """The restricted store of contact details."""

    def put_contact(self, contact: Contact) -> None:
        self.table.put_item(Item=to_item(contact))

    def get_contact(self, service_request_id: str) -> Contact | None:
        item = self.table.get_item(Key={"service_request_id": service_request_id}).get("Item")
        return Contact.model_validate(item) if item else None
