"""Status changes of complaints, with notes: the ``servicerequestupdates`` extension.

A civil servant posts an update; the complaint's ``status``, ``status_notes`` and
``updated_datetime`` change and an update record is written, in one DynamoDB transaction, so the
feed never shows a change the complaint does not have (or the reverse).

Update table layout (``ComplaintUpdatesTable`` in template.yaml)::

    service_request_id  S  partition key: a complaint's history is one Query
    update_id           S  sort key: UPD-<UTC yyyymmddThhmmss>-<8 hex>, sorts in time
    month               S  yyyy-mm of updated_datetime; partition key of index by-month
    updated_datetime    S  sort key of by-month (UTC text, as the complaints table keeps times)
    jurisdiction_id, status, description, media_url, author

The ``by-month`` index serves the feed: a 90-day window touches at most four months, so at most
four queries, and a month's partition takes the province's whole update rate with room to spare
(10,000 complaints a day is about 0.1 writes a second).
"""

from __future__ import annotations

import secrets
from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Annotated, Any

from pydantic import AfterValidator, BaseModel, ConfigDict, StringConstraints, TypeAdapter

from gyeonggi.common import clock
from gyeonggi.common.aws import AwsClient
from gyeonggi.common.errors import InvalidInput, NotFound
from gyeonggi.common.text import multi_line
from gyeonggi.complaints.intake import invalid_input
from gyeonggi.complaints.models import Status, _http_url
from gyeonggi.complaints.queries import Window
from gyeonggi.complaints.store import time_bounds

BY_MONTH = "by-month"
_TIME = TypeAdapter(datetime)


def stored_time(moment: datetime) -> str:
    """A time as the stores keep it (pydantic's JSON form of a UTC datetime)."""
    text: str = _TIME.dump_python(moment.astimezone(UTC), mode="json")
    return text


class UpdateSubmission(BaseModel):
    """What a civil servant sends to ``POST /complaints/{id}/updates``."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    status: Status
    status_notes: (
        Annotated[str, StringConstraints(min_length=1, max_length=2000), AfterValidator(multi_line)]
        | None
    ) = None
    media_url: Annotated[str, AfterValidator(_http_url)] | None = None


class RequestUpdate(BaseModel):
    """One recorded status change."""

    update_id: str
    service_request_id: str
    jurisdiction_id: str
    status: Status
    description: str | None = None
    media_url: str | None = None
    updated_datetime: datetime
    author: str


def parse_update(data: Any) -> UpdateSubmission:
    """Validate an update body, raising ``InvalidInput`` naming the first wrong field."""
    from pydantic import ValidationError

    if not isinstance(data, dict):
        raise InvalidInput("body: must be a JSON object")
    try:
        return UpdateSubmission.model_validate(data)
    except ValidationError as exc:
        raise invalid_input(exc) from None


def _months(start: datetime, end: datetime) -> Iterator[str]:
    year, month = start.year, start.month
    while (year, month) <= (end.year, end.month):
        yield f"{year:04d}-{month:02d}"
        year, month = (year + 1, 1) if month == 12 else (year, month + 1)


class UpdateStore:
    """The update records and the complaint fields they change.

    Parameters
    ----------
    updates_table, complaints_table
        Table names.
    dynamodb
        A boto3 DynamoDB *client*; created on first use when omitted.
    """

    dynamodb = AwsClient("dynamodb")

    def __init__(
        self, updates_table: str, complaints_table: str, dynamodb: Any | None = None
    ) -> None:
        self.updates_table = updates_table
        self.complaints_table = complaints_table
        if dynamodb is not None:
            self.dynamodb = dynamodb

    def record(
        self,
        service_request_id: str,
        update: UpdateSubmission,
        author: str,
        now: datetime | None = None,
    ) -> RequestUpdate:
        """Apply ``update`` to the complaint and record it, atomically.

        Raises
        ------
        NotFound
            No stored complaint has that id.
        """
        from boto3.dynamodb.types import TypeDeserializer, TypeSerializer

        now = (now or clock.now()).astimezone(UTC)
        key = {"service_request_id": {"S": service_request_id}}
        item = self.dynamodb.get_item(
            TableName=self.complaints_table,
            Key=key,
            ProjectionExpression="jurisdiction_id",
        ).get("Item")
        if item is None:
            raise NotFound(f"service request {service_request_id} not found")
        jurisdiction_id = TypeDeserializer().deserialize(item["jurisdiction_id"])
        record = RequestUpdate(
            update_id=f"UPD-{now:%Y%m%dT%H%M%S}-{secrets.token_hex(4).upper()}",
            service_request_id=service_request_id,
            jurisdiction_id=jurisdiction_id,
            status=update.status,
            description=update.status_notes,
            media_url=update.media_url,
            updated_datetime=now,
            author=author,
        )
        when = stored_time(now)
        values: dict[str, Any] = {":status": {"S": update.status}, ":now": {"S": when}}
        if update.status_notes is None:
            expression = "SET #status = :status, updated_datetime = :now REMOVE status_notes"
        else:
            expression = "SET #status = :status, updated_datetime = :now, status_notes = :notes"
            values[":notes"] = {"S": update.status_notes}
        serializer = TypeSerializer()
        stored = record.model_dump(mode="json", exclude_none=True)
        stored["updated_datetime"] = when
        stored["month"] = when[:7]
        try:
            self.dynamodb.transact_write_items(
                TransactItems=[
                    {
                        "Update": {
                            "TableName": self.complaints_table,
                            "Key": key,
                            "UpdateExpression": expression,
                            "ConditionExpression": "attribute_exists(service_request_id)",
                            "ExpressionAttributeNames": {"#status": "status"},
                            "ExpressionAttributeValues": values,
                        }
                    },
                    {
                        "Put": {
                            "TableName": self.updates_table,
                            "Item": {k: serializer.serialize(v) for k, v in stored.items()},
                            "ConditionExpression": "attribute_not_exists(update_id)",
                        }
                    },
                ]
            )
        except self.dynamodb.exceptions.TransactionCanceledException:
            # The complaint vanished between the read and the write (it is never deleted
            # today), or the random id collided: either way nothing was written.
            raise NotFound(f"service request {service_request_id} not found") from None
        return record

    def between(self, window: Window, jurisdiction_id: str | None = None) -> list[RequestUpdate]:
        """Updates made in the window, newest first, cut to the window's page."""
        from boto3.dynamodb.types import TypeDeserializer

        low, high = time_bounds(window.start, window.end)
        deserializer = TypeDeserializer()
        found: list[RequestUpdate] = []
        for month in sorted(_months(window.start, window.end), reverse=True):
            kwargs: dict[str, Any] = {
                "TableName": self.updates_table,
                "IndexName": BY_MONTH,
                "KeyConditionExpression": "#m = :m AND updated_datetime BETWEEN :low AND :high",
                "ExpressionAttributeNames": {"#m": "month"},
                "ExpressionAttributeValues": {
                    ":m": {"S": month},
                    ":low": {"S": low},
                    ":high": {"S": high},
                },
                "ScanIndexForward": False,
            }
            if jurisdiction_id:
                kwargs["FilterExpression"] = "jurisdiction_id = :j"
                kwargs["ExpressionAttributeValues"][":j"] = {"S": jurisdiction_id}
            while len(found) < window.needed:
                page = self.dynamodb.query(**kwargs)
                for item in page.get("Items", []):
                    plain = {k: deserializer.deserialize(v) for k, v in item.items()}
                    found.append(RequestUpdate.model_validate(plain))
                if "LastEvaluatedKey" not in page:
                    break
                kwargs["ExclusiveStartKey"] = page["LastEvaluatedKey"]
            if len(found) >= window.needed:
                break
        return window.cut(found)
