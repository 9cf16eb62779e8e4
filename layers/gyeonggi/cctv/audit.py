"""The audit of every view of a camera's video (``CctvAuditTable``).

The Personal Information Protection Act asks a CCTV operator to record who viewed which video,
when and why (the standard guidelines' record of access to personal video information). Every
``POST /cctv/cameras/{id}/view`` writes one record *before* the link is given, so there is no
link without its record; a record whose link was never used is a view that could have been.

Records are kept three years (``expires_at``, DynamoDB's TTL, then deleted): the Personal
Information Protection Commission's standards for safety measures ask for at least two years of
access records where a system holds the personal information of 50,000 people or more, and the
third year leaves a record for an inspection or complaint that comes late. The table is retained
with the stack (tests/contract/test_retention.py).

Key: ``jurisdiction`` (the camera's), sorted by ``view_id`` = the view's time (ISO 8601, UTC,
milliseconds) and a random suffix, so a city's records read newest first by a range query; the
``views_by_camera`` index does the same per camera.
"""

from __future__ import annotations

import secrets
from collections.abc import Mapping
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any, Literal, NamedTuple

from gyeonggi.common.aws import DynamoTable, from_dynamo

#: How long a record is kept.
RETENTION = timedelta(days=3 * 365 + 1)
ObjectKind = Literal["segment", "keyframe"]


def view_id(at: datetime) -> str:
    """``2026-12-07T01:02:03.456Z#1a2b3c4d``: sorts by time, unique by its suffix."""
    stamp = at.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.") + f"{at.microsecond // 1000:03d}Z"
    return f"{stamp}#{secrets.token_hex(4)}"


class AuditPosition(NamedTuple):
    """Where a page of records ended: the last record's keys (what a cursor carries)."""

    jurisdiction: str
    view_id: str
    camera_id: str


@dataclass(frozen=True)
class ViewRecord:
    """One view: who, which camera and video, when, why, and until when the link worked."""

    view_id: str
    jurisdiction: str
    camera_id: str
    viewer: str
    reason: str
    object_key: str
    object_kind: ObjectKind
    at: datetime
    link_expires_at: datetime
    viewer_roles: tuple[str, ...] = ()
    source_ip: str | None = None
    request_id: str | None = None
    extra: Mapping[str, Any] = field(default_factory=dict)

    @property
    def position(self) -> AuditPosition:
        return AuditPosition(self.jurisdiction, self.view_id, self.camera_id)

    def to_json(self) -> dict[str, Any]:
        data = asdict(self)
        data.pop("extra")
        data["viewer_roles"] = list(self.viewer_roles)
        data["at"] = self.at.isoformat()
        data["link_expires_at"] = self.link_expires_at.isoformat()
        return {k: v for k, v in data.items() if v is not None}


def _from_item(item: Mapping[str, Any]) -> ViewRecord:
    data = from_dynamo(dict(item))
    return ViewRecord(
        view_id=data["view_id"],
        jurisdiction=data["jurisdiction"],
        camera_id=data["camera_id"],
        viewer=data["viewer"],
        reason=data["reason"],
        object_key=data["object_key"],
        object_kind=data["object_kind"],
        at=datetime.fromisoformat(data["at"]),
        link_expires_at=datetime.fromisoformat(data["link_expires_at"]),
        viewer_roles=tuple(data.get("viewer_roles", [])),
        source_ip=data.get("source_ip"),
        request_id=data.get("request_id"),
    )


class AuditLog(DynamoTable):
    """``CctvAuditTable`` (:class:`~gyeonggi.cctv.ports.ViewAudit`)."""

    INDEX = "views_by_camera"

    def record(self, view: ViewRecord) -> None:
        """Write one record; never over another (a repeated id raises)."""
        item = view.to_json()
        item["expires_at"] = int((view.at + RETENTION).timestamp())
        self.table.put_item(Item=item, ConditionExpression="attribute_not_exists(view_id)")

    def page(
        self,
        jurisdiction: str,
        limit: int,
        *,
        since: datetime | None = None,
        until: datetime | None = None,
        after: AuditPosition | None = None,
    ) -> tuple[list[ViewRecord], bool]:
        """A city's records newest first, ``limit`` at most, after ``after``; and whether
        there may be more."""
        return self._query("jurisdiction", jurisdiction, None, limit, since, until, after)

    def page_for_camera(
        self,
        camera_id: str,
        limit: int,
        *,
        since: datetime | None = None,
        until: datetime | None = None,
        after: AuditPosition | None = None,
    ) -> tuple[list[ViewRecord], bool]:
        """One camera's records newest first (the index), as :meth:`page`."""
        return self._query("camera_id", camera_id, self.INDEX, limit, since, until, after)

    def _query(
        self,
        key: str,
        value: str,
        index: str | None,
        limit: int,
        since: datetime | None,
        until: datetime | None,
        after: AuditPosition | None,
    ) -> tuple[list[ViewRecord], bool]:
        low = since.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S") if since else "0"
        # "~" sorts after every character an id holds: the whole second of ``until`` is in.
        high = until.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S") + "~" if until else "~"
        kwargs: dict[str, Any] = {
            "KeyConditionExpression": f"{key} = :k AND view_id BETWEEN :low AND :high",
            "ExpressionAttributeValues": {":k": value, ":low": low, ":high": high},
            "ScanIndexForward": False,
            "Limit": limit,
        }
        if index:
            kwargs["IndexName"] = index
        if after is not None:
            # The table's key and, on the index, the index's: the record names both.
            kwargs["ExclusiveStartKey"] = {
                "jurisdiction": after.jurisdiction,
                "view_id": after.view_id,
                **({"camera_id": after.camera_id} if index else {}),
            }
        page = self.table.query(**kwargs)
        records = [_from_item(i) for i in page.get("Items", [])]
        return records, "LastEvaluatedKey" in page and bool(records)
