"""DynamoDB access for complaints and the restricted contact store."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

from gyeonggi.common.aws import DynamoTable, from_dynamo, to_dynamo
from gyeonggi.common.errors import NotFound
from gyeonggi.complaints.models import Complaint, Contact, to_item


def typed_item(complaint: Complaint) -> dict[str, Any]:
    """The complaint in DynamoDB's typed JSON (``{"S": ...}``), as a PutItem task takes it."""
    from boto3.dynamodb.types import TypeSerializer

    serializer = TypeSerializer()
    return {k: serializer.serialize(v) for k, v in to_dynamo(to_item(complaint)).items()}


#: Indexes of the complaints table (template.yaml, ``ComplaintsTable``).
BY_JURISDICTION = "by-jurisdiction"
BY_STATUS = "by-status"
#: Index of the contacts table (``ContactsTable``): request ids by ``account_id``, keys only,
#: so the index copies no contact detail.
BY_ACCOUNT = "by-account"
_BATCH_RETRIES = 5


def time_bounds(start: datetime, end: datetime) -> tuple[str, str]:
    """Sort-key bounds for stored times (``2026-11-24T09:15:02.120000Z``), both inclusive.

    Stored times are UTC text, so they sort as times; the bounds are cut at the second, the
    end extended past any fraction or zone suffix of its last second.
    """
    fmt = "%Y-%m-%dT%H:%M:%S"
    return start.astimezone(UTC).strftime(fmt), end.astimezone(UTC).strftime(fmt) + "~"


class ComplaintStore(DynamoTable):
    """The complaints table: pseudonymized records keyed by ``service_request_id``."""

    def get_many(self, ids: tuple[str, ...] | list[str]) -> list[Complaint]:
        """The stored complaints among ``ids`` (at most 100), in the order asked; unknown ids
        are left out."""
        if not ids:
            return []
        keys: list[dict[str, str]] = [{"service_request_id": i} for i in dict.fromkeys(ids)]
        found: dict[str, Complaint] = {}
        _ = self.table  # creates the resource when none was injected
        resource: Any = self._dynamodb
        for _attempt in range(_BATCH_RETRIES):
            answer = resource.batch_get_item(RequestItems={self.table_name: {"Keys": keys}})
            for item in answer.get("Responses", {}).get(self.table_name, []):
                complaint = _complaint(item)
                found[complaint.service_request_id] = complaint
            keys = answer.get("UnprocessedKeys", {}).get(self.table_name, {}).get("Keys", [])
            if not keys:
                break
        return [found[i] for i in ids if i in found]

    def newest_in_jurisdiction(
        self,
        jurisdiction_id: str,
        start: datetime,
        end: datetime,
        limit: int,
        *,
        statuses: tuple[str, ...] = (),
        service_codes: tuple[str, ...] = (),
    ) -> list[Complaint]:
        """Up to ``limit`` complaints of one jurisdiction requested in [start, end], newest
        first (a ``Query`` on ``by-jurisdiction``)."""
        from boto3.dynamodb.conditions import Attr, Key

        low, high = time_bounds(start, end)
        condition = Key("jurisdiction_id").eq(jurisdiction_id) & Key("requested_datetime").between(
            low, high
        )
        filters = []
        if statuses:
            filters.append(Attr("status").is_in(list(statuses)))
        if service_codes:
            filters.append(Attr("service_code").is_in(list(service_codes)))
        return list(self._newest(BY_JURISDICTION, condition, filters, limit))

    def newest_with_status(
        self,
        status: str,
        start: datetime,
        end: datetime,
        limit: int,
        *,
        service_codes: tuple[str, ...] = (),
    ) -> list[Complaint]:
        """Up to ``limit`` complaints with ``status`` requested in [start, end], newest first
        (a ``Query`` on ``by-status``)."""
        from boto3.dynamodb.conditions import Attr, Key

        low, high = time_bounds(start, end)
        condition = Key("status").eq(status) & Key("requested_datetime").between(low, high)
        filters = [Attr("service_code").is_in(list(service_codes))] if service_codes else []
        return list(self._newest(BY_STATUS, condition, filters, limit))

    def _newest(
        self, index: str, condition: Any, filters: list[Any], limit: int
    ) -> Iterator[Complaint]:
        kwargs: dict[str, Any] = {
            "IndexName": index,
            "KeyConditionExpression": condition,
            "ScanIndexForward": False,
        }
        if filters:
            combined = filters[0]
            for extra in filters[1:]:
                combined = combined & extra
            kwargs["FilterExpression"] = combined
        returned = 0
        while returned < limit:
            page = self.table.query(**kwargs, Limit=min(max(limit - returned, 25), 1000))
            for item in page.get("Items", []):
                yield _complaint(item)
                returned += 1
                if returned >= limit:
                    return
            if "LastEvaluatedKey" not in page:
                return
            kwargs["ExclusiveStartKey"] = page["LastEvaluatedKey"]

    def get(self, service_request_id: str, jurisdiction_id: str | None = None) -> Complaint:
        """Raises ``NotFound`` when no such complaint has been stored (yet), or, asked for in
        ``jurisdiction_id``, when it belongs to another city or county."""
        item = self.table.get_item(Key={"service_request_id": service_request_id}).get("Item")
        if item is None:
            raise NotFound(f"service request {service_request_id} not found")
        complaint = Complaint.model_validate(from_dynamo(item))
        if jurisdiction_id and complaint.jurisdiction_id != jurisdiction_id:
            raise NotFound(f"service request {service_request_id} not found in {jurisdiction_id}")
        return complaint


def _complaint(item: dict[str, Any]) -> Complaint:
    # Records carry fields added by later stages (triage); the Open311 view needs only these.
    known = {k: v for k, v in from_dynamo(item).items() if k in Complaint.model_fields}
    return Complaint.model_validate(known)


class ContactStore(DynamoTable):
    """The restricted store of contact details."""

    def put_contact(self, contact: Contact) -> None:
        self.table.put_item(Item=to_item(contact))

    def get_contact(self, service_request_id: str) -> Contact | None:
        item = self.table.get_item(Key={"service_request_id": service_request_id}).get("Item")
        return Contact.model_validate(item) if item else None

    def requests_of_account(
        self, account_id: str, limit: int, after: str | None = None
    ) -> tuple[list[str], str | None]:
        """Up to ``limit`` request ids filed with ``account_id``, newest first (request ids
        sort by day), and the id to continue after when there may be more.

        One ``Query`` on ``by-account``; ``after`` is the last id of the previous page.
        """
        from boto3.dynamodb.conditions import Key

        kwargs: dict[str, Any] = {
            "IndexName": BY_ACCOUNT,
            "KeyConditionExpression": Key("account_id").eq(account_id),
            "ScanIndexForward": False,
            "Limit": limit,
        }
        if after:
            kwargs["ExclusiveStartKey"] = {"account_id": account_id, "service_request_id": after}
        page = self.table.query(**kwargs)
        ids = [str(item["service_request_id"]) for item in page.get("Items", [])]
        more = "LastEvaluatedKey" in page and len(ids) == limit
        return ids, (ids[-1] if more and ids else None)
