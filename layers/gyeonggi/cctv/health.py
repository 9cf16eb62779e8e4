"""What the registry knows of a camera's health: its last segment, whether its silence was
reported, and whether its view is tampered with (``CctvHealthTable``).

The health item is apart from the camera's registry item so that the write every segment makes
stays one write unit: the camera item holds masks and addresses (a few kilobytes, so several
units a write) and an index that a write to it may touch; the health item is a few hundred bytes
and in no index. The write returns the item as it was (``ReturnValues=ALL_OLD``, free), which is
all the segment's checks need to know (was it reported offline? is it tampered? when was it last
checked?), so a segment costs one write and no read.

Times are epoch milliseconds in the item (the receive time of the last segment, as the sensor
heartbeats use, and the segment's own start).
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from gyeonggi.common.aws import DynamoTable, from_dynamo, to_dynamo
from gyeonggi.common.clock import from_epoch_ms
from gyeonggi.common.clock import to_epoch_ms as epoch_ms

TamperKind = str  # "covered", "blurred" or "moved" (gyeonggi.cctv.tamper)


@dataclass(frozen=True)
class CameraHealth:
    """A camera's health item (all ``None`` for a camera that never sent a segment)."""

    camera_id: str
    jurisdiction: str | None = None
    last_segment_at: datetime | None = None
    last_segment_start: datetime | None = None
    last_segment_key: str | None = None
    #: The silence that was reported (its ``last_segment_at``); reported once per silence.
    offline_reported_at: datetime | None = None
    tamper_kind: TamperKind | None = None
    tamper_since: datetime | None = None
    tamper_detail: Mapping[str, Any] | None = None
    #: When the reference frame was taken (``gyeonggi.cctv.references``).
    reference_at: datetime | None = None

    @property
    def reported_offline(self) -> bool:
        return (
            self.offline_reported_at is not None
            and self.offline_reported_at == self.last_segment_at
        )

    def silent(self, now: datetime, after: timedelta) -> bool:
        """Whether no segment came for longer than ``after`` (never silent before a first)."""
        return self.last_segment_at is not None and now - self.last_segment_at > after

    def view(self, now: datetime, after: timedelta) -> dict[str, Any]:
        """The health as the API shows it."""
        state = (
            "never_seen"
            if self.last_segment_at is None
            else "offline"
            if self.silent(now, after)
            else "online"
        )
        return {
            "state": state,
            "last_segment_at": _iso(self.last_segment_at),
            "last_segment_key": self.last_segment_key,
            "tampered": None
            if self.tamper_kind is None
            else {"kind": self.tamper_kind, "since": _iso(self.tamper_since)},
        }


def _iso(moment: datetime | None) -> str | None:
    return None if moment is None else moment.isoformat()


def _moment(value: Any) -> datetime | None:
    return None if value is None else from_epoch_ms(int(value))


def from_item(item: Mapping[str, Any]) -> CameraHealth:
    data = from_dynamo(dict(item))
    return CameraHealth(
        camera_id=str(data["camera_id"]),
        jurisdiction=data.get("jurisdiction"),
        last_segment_at=_moment(data.get("last_segment_at")),
        last_segment_start=_moment(data.get("last_segment_start")),
        last_segment_key=data.get("last_segment_key"),
        offline_reported_at=_moment(data.get("offline_reported")),
        tamper_kind=data.get("tamper_kind"),
        tamper_since=_moment(data.get("tamper_since")),
        tamper_detail=data.get("tamper_detail"),
        reference_at=_moment(data.get("reference_at")),
    )


class HealthStore(DynamoTable):
    """``CctvHealthTable`` (:class:`~gyeonggi.cctv.ports.HealthRecords`)."""

    def seen(
        self, camera_id: str, jurisdiction: str, key: str, start: datetime, received: datetime
    ) -> CameraHealth:
        """Record a segment (one write); returns the health as it was before it."""
        answer = self.table.update_item(
            Key={"camera_id": camera_id},
            UpdateExpression="SET last_segment_at = :at, last_segment_start = :start, "
            "last_segment_key = :key, jurisdiction = :j",
            ExpressionAttributeValues={
                ":at": epoch_ms(received),
                ":start": epoch_ms(start),
                ":key": key,
                ":j": jurisdiction,
            },
            ReturnValues="ALL_OLD",
        )
        old = answer.get("Attributes")
        return from_item(old) if old else CameraHealth(camera_id)

    def get(self, camera_id: str) -> CameraHealth:
        item = self.table.get_item(Key={"camera_id": camera_id}).get("Item")
        return from_item(item) if item else CameraHealth(camera_id)

    def get_many(self, camera_ids: Iterable[str]) -> dict[str, CameraHealth]:
        """Health of each id (an empty one for a camera that never sent a segment)."""
        ids = sorted(set(camera_ids))
        found = {i: CameraHealth(i) for i in ids}
        client = self.table.meta.client
        for start in range(0, len(ids), 100):
            pending: dict[str, Any] = {
                self.table_name: {"Keys": [{"camera_id": i} for i in ids[start : start + 100]]}
            }
            for _ in range(8):
                answer = client.batch_get_item(RequestItems=pending)
                for item in answer.get("Responses", {}).get(self.table_name, []):
                    health = from_item(item)
                    found[health.camera_id] = health
                pending = answer.get("UnprocessedKeys") or {}
                if not pending:
                    break
            else:
                raise RuntimeError("DynamoDB kept keys unprocessed; try again")
        return found

    def scan(self) -> Iterator[CameraHealth]:
        """Every camera that ever sent a segment (small items: about 2 MB for 10,000)."""
        kwargs: dict[str, Any] = {}
        while True:
            page = self.table.scan(**kwargs)
            for item in page.get("Items", []):
                yield from_item(item)
            if "LastEvaluatedKey" not in page:
                return
            kwargs["ExclusiveStartKey"] = page["LastEvaluatedKey"]

    def mark_offline(self, camera_id: str, last_segment_at: datetime) -> bool:
        """Record that this silence was reported; ``False`` if a segment came meanwhile."""
        at = epoch_ms(last_segment_at)
        return self._conditional(
            camera_id,
            "SET offline_reported = :at",
            "last_segment_at = :at",
            {":at": at},
        )

    def set_tamper(
        self, camera_id: str, kind: TamperKind, since: datetime, detail: Mapping[str, Any]
    ) -> bool:
        """Record a tampered view; ``False`` when one is already recorded (reported once)."""
        return self._conditional(
            camera_id,
            "SET tamper_kind = :kind, tamper_since = :since, tamper_detail = :detail",
            "attribute_not_exists(tamper_kind)",
            {":kind": kind, ":since": epoch_ms(since), ":detail": to_dynamo(dict(detail))},
        )

    def clear_tamper(self, camera_id: str) -> bool:
        """The view is as its reference again; ``False`` when nothing was recorded."""
        return self._conditional(
            camera_id,
            "REMOVE tamper_kind, tamper_since, tamper_detail",
            "attribute_exists(tamper_kind)",
            None,
        )

    def set_reference_time(self, camera_id: str, at: datetime | None) -> None:
        """When the camera's reference frame was taken (``None``: it has none now)."""
        if at is None:
            self.table.update_item(
                Key={"camera_id": camera_id}, UpdateExpression="REMOVE reference_at"
            )
            return
        self.table.update_item(
            Key={"camera_id": camera_id},
            UpdateExpression="SET reference_at = :at",
            ExpressionAttributeValues={":at": epoch_ms(at)},
        )

    def _conditional(
        self,
        camera_id: str,
        expression: str,
        condition: str,
        values: dict[str, Any] | None,
    ) -> bool:
        kwargs: dict[str, Any] = {
            "Key": {"camera_id": camera_id},
            "UpdateExpression": expression,
            "ConditionExpression": condition,
        }
        if values:
            kwargs["ExpressionAttributeValues"] = values
        try:
            self.table.update_item(**kwargs)
        except self.table.meta.client.exceptions.ConditionalCheckFailedException:
            return False
        return True
