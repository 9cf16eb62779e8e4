"""Counting complaints per jurisdiction, service and Korean day, exactly once each.

Kept apart from :mod:`gyeonggi.complaints.volumes` (which needs numpy for forecasting) so the
intake path can count without paying for numpy at cold start.
"""

from __future__ import annotations

from datetime import date, datetime, timedelta
from typing import Any

from gyeonggi.common.aws import first_condition_failed
from gyeonggi.common.clock import KST, now

COUNTED_MARKER_TTL_DAYS = 30


def series_key(jurisdiction_id: str, service_code: str) -> str:
    """The counts table's partition key of one series."""
    return f"{jurisdiction_id}#{service_code}"


def korean_day(moment: datetime) -> date:
    """The calendar day in Korea (UTC+9) of an aware datetime; complaints count by it."""
    if moment.tzinfo is None:
        raise ValueError("an aware datetime is needed")
    return moment.astimezone(KST).date()


def record_count(
    table: Any,
    jurisdiction_id: str,
    service_code: str,
    day: date,
    request_id: str | None = None,
) -> bool:
    """Add one complaint to the count of ``(jurisdiction_id, service_code, day)``.

    Parameters
    ----------
    table
        The boto3 ``Table`` resource of ``ComplaintCountsTable``.
    day
        The complaint's Korean calendar day (``korean_day(requested_datetime)``).
    request_id
        When given, the increment and a ``counted#<request_id>`` marker are written in one
        transaction conditional on the marker's absence, so a retried task counts once.

    Returns
    -------
    bool
        False when ``request_id`` had been counted already.
    """
    key = {"series": series_key(jurisdiction_id, service_code), "day": day.isoformat()}
    update = {
        "UpdateExpression": "ADD #count :one SET jurisdiction_id = :j, service_code = :s",
        "ExpressionAttributeNames": {"#count": "count"},
    }
    if request_id is None:
        table.update_item(
            Key=key,
            ExpressionAttributeValues={":one": 1, ":j": jurisdiction_id, ":s": service_code},
            **update,
        )
        return True
    # The resource's client serialises plain Python values itself (boto3 injects its
    # TypeSerializer), so the items below are not in DynamoDB's typed JSON.
    client = table.meta.client
    expires = int((now() + timedelta(days=COUNTED_MARKER_TTL_DAYS)).timestamp())
    try:
        client.transact_write_items(
            TransactItems=[
                {
                    "Put": {
                        "TableName": table.name,
                        "Item": {
                            "series": f"counted#{request_id}",
                            "day": key["day"],
                            "expires_at": expires,
                        },
                        "ConditionExpression": "attribute_not_exists(series)",
                    }
                },
                {
                    "Update": {
                        "TableName": table.name,
                        "Key": key,
                        "ExpressionAttributeValues": {
                            ":one": 1,
                            ":j": jurisdiction_id,
                            ":s": service_code,
                        },
                        **update,
                    }
                },
            ]
        )
    except client.exceptions.TransactionCanceledException as exc:
        if first_condition_failed(exc):
            return False
        raise
    return True


def series_counts(table: Any, key: str, first: date, last: date) -> dict[date, int]:
    """Counts of one series (``series_key``) between two days (inclusive); absent days are zero.

    Here, not in ``volumes``, so a reader without numpy (the Data Dam's daily landing) has it.
    """
    out: dict[date, int] = {}
    args: dict[str, Any] = {
        "KeyConditionExpression": "#series = :s AND #day BETWEEN :a AND :b",
        "ExpressionAttributeNames": {"#series": "series", "#day": "day", "#count": "count"},
        "ExpressionAttributeValues": {
            ":s": key,
            ":a": first.isoformat(),
            ":b": last.isoformat(),
        },
        "ProjectionExpression": "#day, #count",
    }
    while True:
        page = table.query(**args)
        for item in page.get("Items", []):
            out[date.fromisoformat(item["day"])] = int(item["count"])
        if "LastEvaluatedKey" not in page:
            return out
        args["ExclusiveStartKey"] = page["LastEvaluatedKey"]
