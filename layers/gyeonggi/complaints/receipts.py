"""Receipts: what the API knows of a complaint between its ``201`` and its storage.

The intake chain stores a complaint asynchronously (queue, intake function, workflow,
conditional put), a fraction of a second to a few seconds after ``POST`` has answered with its
``service_request_id``. A client that reads that id at once must not be told it does not exist.
So, before it enqueues, the API writes a receipt: the complaint as submitted, as Open311 shows a
stored one (status ``open``), and nothing personal. Reads by id fall back to it until the stored
complaint exists (:func:`gyeonggi.complaints.queries.find_request`,
:func:`gyeonggi.complaints.access.read_complaint`); lists do not (docs/ARCHITECTURE.md says why).

A receipt keeps no contact detail, no name and no account id. It keeps a SHA-256 digest of the
filing citizen's account id (their token's ``sub``) instead, so that the native API can tell the
owner from another citizen; the digest finds nobody without the user pool. Receipts expire after
:data:`LIFETIME`: a normal intake takes seconds and its retries minutes, so one still unanswered
by then is waiting for an operator (dead-letter or failure queue), and the complaint is ``404``
again until it is redriven and stored. DynamoDB's TTL removes expired items within days; reads
ignore them from the moment they expire.

Item layout (table ``ComplaintReceiptsTable``, partition key ``service_request_id`` (S), TTL on
``expires_at``): the fields of :class:`Receipt`, plus ``owner`` (S, when filed signed in) and
``expires_at`` (N, epoch seconds).
"""

from __future__ import annotations

import hashlib
from datetime import datetime, timedelta
from typing import Any, Literal, Protocol

from pydantic import Field

from gyeonggi.common import clock
from gyeonggi.common.aws import DynamoTable, from_dynamo, to_dynamo
from gyeonggi.complaints.models import IntakeMessage, ServiceRequest, as_submitted, to_item

#: How long a receipt answers for a complaint not yet stored.
LIFETIME = timedelta(hours=1)
#: What a receipt tells an Open311 client in ``service_notice``.
NOTICE = "Received; it is being classified and routed to the department."
_BATCH = 100  # BatchGetItem's limit
_BATCH_RETRIES = 5


def owner_digest(account_id: str) -> str:
    """The receipt's mark of the citizen who filed: hex SHA-256 of their account id."""
    return hashlib.sha256(f"gyeonggi-receipt-owner:{account_id}".encode()).hexdigest()


class Receipt(ServiceRequest):
    """A complaint received and not yet stored: the fields Open311 shows, none of them personal.

    ``owner`` and ``expires_at`` are stored with it but never part of an answer (``to_item``
    leaves them out).
    """

    status: Literal["open"] = "open"
    status_notes: None = None
    owner: str | None = Field(default=None, exclude=True)
    expires_at: int = Field(exclude=True)

    @classmethod
    def of(cls, message: IntakeMessage) -> Receipt:
        """The receipt of ``message``: its submission without contact details or profile."""
        # Only the native API sets the account (the token's sub); an Open311 client's
        # account_id proves nothing and makes no owner (gyeonggi.complaints.access).
        account = message.submission.account_id if message.channel == "api" else None
        return cls(
            **as_submitted(message),
            owner=owner_digest(account) if account else None,
            expires_at=int((message.submitted_at + LIFETIME).timestamp()),
        )

    def expired(self, now: datetime | None = None) -> bool:
        """Whether the receipt no longer answers for its complaint."""
        return (now or clock.now()).timestamp() >= self.expires_at

    def filed_by(self, account_id: str) -> bool:
        """Whether the citizen with ``account_id`` filed it through the native API."""
        return self.channel == "api" and self.owner == owner_digest(account_id)


class ReceiptReader(Protocol):
    """What the reads need of the receipts (``ReceiptStore`` has it)."""

    def get(self, service_request_id: str) -> Receipt | None: ...

    def get_many(self, ids: tuple[str, ...] | list[str]) -> list[Receipt]: ...


class ReceiptWriter(Protocol):
    """What the front door needs of the receipts."""

    def put(self, receipt: Receipt) -> None: ...


class ReceiptStore(DynamoTable):
    """The receipts table. Reads are strongly consistent: a receipt is read right after the
    ``201`` that followed its write, which an eventually consistent read could miss."""

    def put(self, receipt: Receipt) -> None:
        """Store ``receipt`` (a retried POST has a new id, so nothing is overwritten)."""
        item = to_item(receipt) | {"expires_at": receipt.expires_at}
        if receipt.owner:
            item["owner"] = receipt.owner
        self.table.put_item(Item=to_dynamo(item))

    def get(self, service_request_id: str, now: datetime | None = None) -> Receipt | None:
        """The unexpired receipt of ``service_request_id``, or ``None``."""
        item = self.table.get_item(
            Key={"service_request_id": service_request_id}, ConsistentRead=True
        ).get("Item")
        return _unexpired(item, now)

    def get_many(
        self, ids: tuple[str, ...] | list[str], now: datetime | None = None
    ) -> list[Receipt]:
        """The unexpired receipts among ``ids`` (at most 100), in the order asked."""
        wanted = list(dict.fromkeys(ids))[:_BATCH]
        if not wanted:
            return []
        found: dict[str, Receipt] = {}
        keys: list[dict[str, str]] = [{"service_request_id": i} for i in wanted]
        _ = self.table  # creates the resource when none was injected
        resource: Any = self._dynamodb
        for _attempt in range(_BATCH_RETRIES):
            request = {self.table_name: {"Keys": keys, "ConsistentRead": True}}
            answer = resource.batch_get_item(RequestItems=request)
            for item in answer.get("Responses", {}).get(self.table_name, []):
                receipt = _unexpired(item, now)
                if receipt is not None:
                    found[receipt.service_request_id] = receipt
            keys = answer.get("UnprocessedKeys", {}).get(self.table_name, {}).get("Keys", [])
            if not keys:
                break
        return [found[i] for i in wanted if i in found]


def _unexpired(item: dict[str, Any] | None, now: datetime | None) -> Receipt | None:
    if item is None:
        return None
    receipt = Receipt.model_validate(from_dynamo(item))
    return None if receipt.expired(now) else receipt
