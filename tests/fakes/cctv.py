"""In-memory fakes of the CCTV registry's ports (:mod:`gyeonggi.cctv.ports`).

They keep the real stores' conditional writes (a version per camera, a silence reported once, a
tampered view recorded once), since the services' races depend on them;
``tests/unit/test_cctv_store_contracts.py`` runs each against its DynamoDB twin. The
assignments at the end make mypy check every fake against its Protocol.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import replace
from datetime import datetime, timedelta
from typing import Any

from gyeonggi.cctv.audit import AuditPosition, ViewRecord
from gyeonggi.cctv.health import CameraHealth
from gyeonggi.cctv.models import Camera, camera_id
from gyeonggi.cctv.ports import CameraRecords, HealthRecords, VideoFiles, ViewAudit
from gyeonggi.cctv.segment_watch import ReferenceFrames
from gyeonggi.cctv.standard_data import Row
from gyeonggi.cctv.store import IMPORT_DEFAULTS, IMPORTED
from gyeonggi.cctv.tamper import Frame
from gyeonggi.cctv.videos import StoredSegment, VideoObject, keyframe_key
from gyeonggi.common.errors import Conflict, NotFound
from gyeonggi.safety.camera_calibration import CameraCalibration
from gyeonggi_tools.cctv.importer import CameraExports, CameraImports


class FakeCameraStore:
    """:class:`gyeonggi.cctv.store.CameraStore` in a dict."""

    def __init__(self) -> None:
        self.cameras: dict[str, Camera] = {}
        self.row_size: dict[str, int] = {}
        #: Each ``write_rows`` call's transactions (lists of camera ids), for tests.
        self.transactions: list[list[str]] = []
        #: ``write_rows`` raises after this many transactions (an import cut short).
        self.fail_after: int | None = None

    def get(self, camera_id: str) -> Camera:
        if camera_id not in self.cameras:
            raise NotFound(f"camera {camera_id} is not in the registry")
        return self.cameras[camera_id]

    def get_many(self, camera_ids: Iterable[str]) -> dict[str, Camera]:
        return {i: self.cameras[i] for i in set(camera_ids) if i in self.cameras}

    def settings(self, camera_id: str) -> CameraCalibration | None:
        camera = self.cameras.get(camera_id)
        return None if camera is None else camera.settings()

    def page(
        self, jurisdiction: str, limit: int, after: str | None = None
    ) -> tuple[list[Camera], str | None]:
        ids = sorted(
            i
            for i, c in self.cameras.items()
            if c.jurisdiction == jurisdiction and i > (after or "")
        )
        found = [self.cameras[i] for i in ids[:limit]]
        return found, (found[-1].camera_id if len(ids) > limit else None)

    def in_jurisdiction(self, jurisdiction: str) -> Iterator[Camera]:
        yield from (c for _, c in sorted(self.cameras.items()) if c.jurisdiction == jurisdiction)

    def everything(self) -> Iterator[Camera]:
        yield from (c for _, c in sorted(self.cameras.items()))

    def create(self, camera: Camera) -> Camera:
        if camera.camera_id in self.cameras:
            raise Conflict(f"camera {camera.camera_id} is already in the registry")
        stored = camera.model_copy(update={"version": 1})
        self.cameras[camera.camera_id] = stored
        self.row_size[camera.management_number] = 1
        return stored

    def save(self, camera: Camera) -> Camera:
        current = self.cameras.get(camera.camera_id)
        if current is None or current.version != camera.version:
            raise Conflict(f"camera {camera.camera_id} changed meanwhile")
        stored = camera.model_copy(update={"version": camera.version + 1})
        self.cameras[camera.camera_id] = stored
        return stored

    def update(
        self, camera_id: str, change: Callable[[Camera], Camera], attempts: int = 5
    ) -> Camera:
        for attempt in range(attempts):
            camera = self.get(camera_id)
            changed = change(camera)
            if changed is camera:
                return camera
            try:
                return self.save(changed)
            except Conflict:
                if attempt == attempts - 1:
                    raise
        raise AssertionError("unreachable")

    def row_sizes(self, management_numbers: Iterable[str]) -> dict[str, int]:
        return {n: self.row_size[n] for n in set(management_numbers) if n in self.row_size}

    def write_rows(
        self, rows: list[Row] | tuple[Row, ...], previous: dict[str, int], now: datetime
    ) -> int:
        batches: list[list[Row]] = [[]]
        for row in rows:
            size = max(row.cameras, previous.get(row.management_number, 0))
            if (
                sum(max(r.cameras, previous.get(r.management_number, 0)) for r in batches[-1])
                + (size)
                > 100
            ):
                batches.append([])
            batches[-1].append(row)
        made = 0
        for batch in batches:
            if not batch:
                continue
            if self.fail_after is not None and made >= self.fail_after:
                raise RuntimeError("the network went away")
            self.transactions.append([])
            for row in batch:
                self._write(row, previous.get(row.management_number, 0), now)
                self.transactions[-1] += row.camera_ids()
            made += 1
        return made

    def _write(self, row: Row, previous: int, now: datetime) -> None:
        fields = row.fields.model_dump()
        for index in range(1, row.cameras + 1):
            key = camera_id(row.management_number, index)
            old = self.cameras.get(key)
            data: dict[str, Any] = {name: fields[name] for name in IMPORTED}
            if old is None:
                data.update({name: fields[name] for name in IMPORT_DEFAULTS})
                data.update(created_at=now, version=1)
                base: dict[str, Any] = {}
            else:
                base = old.model_dump()
                data["version"] = old.version + 1
            self.cameras[key] = Camera.model_validate(
                {
                    **base,
                    **data,
                    "masks": base.get("masks", ()),
                    "camera_id": key,
                    "management_number": row.management_number,
                    "index": index,
                    "in_service": not row.deleted,
                    "row_size": row.cameras,
                    "updated_at": now,
                }
            )
        for index in range(row.cameras + 1, previous + 1):
            key = camera_id(row.management_number, index)
            old = self.cameras[key]
            self.cameras[key] = old.model_copy(
                update={
                    "in_service": False,
                    "row_size": row.cameras,
                    "updated_at": now,
                    "version": old.version + 1,
                }
            )
        self.row_size[row.management_number] = row.cameras


class FakeHealthStore:
    """:class:`gyeonggi.cctv.health.HealthStore` in a dict."""

    def __init__(self) -> None:
        self.items: dict[str, CameraHealth] = {}

    def seen(
        self, camera_id: str, jurisdiction: str, key: str, start: datetime, received: datetime
    ) -> CameraHealth:
        before = self.items.get(camera_id, CameraHealth(camera_id))
        self.items[camera_id] = replace(
            before,
            jurisdiction=jurisdiction,
            last_segment_at=_ms(received),
            last_segment_start=_ms(start),
            last_segment_key=key,
        )
        return before

    def get(self, camera_id: str) -> CameraHealth:
        return self.items.get(camera_id, CameraHealth(camera_id))

    def get_many(self, camera_ids: Iterable[str]) -> dict[str, CameraHealth]:
        return {i: self.get(i) for i in set(camera_ids)}

    def scan(self) -> Iterator[CameraHealth]:
        yield from list(self.items.values())

    def mark_offline(self, camera_id: str, last_segment_at: datetime) -> bool:
        health = self.items.get(camera_id)
        if health is None or health.last_segment_at != _ms(last_segment_at):
            return False
        self.items[camera_id] = replace(health, offline_reported_at=health.last_segment_at)
        return True

    def set_tamper(
        self, camera_id: str, kind: str, since: datetime, detail: Mapping[str, Any]
    ) -> bool:
        health = self.items.get(camera_id, CameraHealth(camera_id))
        if health.tamper_kind is not None:
            return False
        self.items[camera_id] = replace(
            health, tamper_kind=kind, tamper_since=_ms(since), tamper_detail=dict(detail)
        )
        return True

    def clear_tamper(self, camera_id: str) -> bool:
        health = self.items.get(camera_id)
        if health is None or health.tamper_kind is None:
            return False
        self.items[camera_id] = replace(
            health, tamper_kind=None, tamper_since=None, tamper_detail=None
        )
        return True

    def set_reference_time(self, camera_id: str, at: datetime | None) -> None:
        health = self.items.get(camera_id, CameraHealth(camera_id))
        self.items[camera_id] = replace(health, reference_at=None if at is None else _ms(at))


def _ms(moment: datetime) -> datetime:
    # The table keeps milliseconds: so does the fake.
    return moment - timedelta(microseconds=moment.microsecond % 1000)


class FakeAuditLog:
    """:class:`gyeonggi.cctv.audit.AuditLog` in a list."""

    def __init__(self, fail: bool = False) -> None:
        self.records: list[ViewRecord] = []
        self.fail = fail

    def record(self, view: ViewRecord) -> None:
        if self.fail:
            raise RuntimeError("the audit table is unavailable")
        if any(
            r.jurisdiction == view.jurisdiction and r.view_id == view.view_id for r in self.records
        ):
            raise Conflict("view recorded twice")
        self.records.append(view)

    def page(
        self,
        jurisdiction: str,
        limit: int,
        *,
        since: datetime | None = None,
        until: datetime | None = None,
        after: AuditPosition | None = None,
    ) -> tuple[list[ViewRecord], bool]:
        return self._page(
            [r for r in self.records if r.jurisdiction == jurisdiction], limit, since, until, after
        )

    def page_for_camera(
        self,
        camera_id: str,
        limit: int,
        *,
        since: datetime | None = None,
        until: datetime | None = None,
        after: AuditPosition | None = None,
    ) -> tuple[list[ViewRecord], bool]:
        return self._page(
            [r for r in self.records if r.camera_id == camera_id], limit, since, until, after
        )

    def _page(
        self,
        records: list[ViewRecord],
        limit: int,
        since: datetime | None,
        until: datetime | None,
        after: AuditPosition | None,
    ) -> tuple[list[ViewRecord], bool]:
        low = "0" if since is None else since.strftime("%Y-%m-%dT%H:%M:%S")
        high = "~" if until is None else until.strftime("%Y-%m-%dT%H:%M:%S") + "~"
        chosen = sorted(
            (r for r in records if low <= r.view_id <= high), key=lambda r: r.view_id, reverse=True
        )
        if after is not None:
            chosen = [r for r in chosen if r.view_id < after.view_id]
        return chosen[:limit], len(chosen) > limit


class FakeVideoBucket:
    """:class:`gyeonggi.cctv.videos.VideoBucket` over a set of keys."""

    def __init__(self, keys: Iterable[str] = ()) -> None:
        self.keys: dict[str, int] = {k: 1000 for k in keys}
        self.links: list[tuple[str, timedelta]] = []
        self.forgotten: list[str] = []

    def segments(
        self, prefix: str, limit: int, start_after: str | None = None
    ) -> tuple[list[StoredSegment], bool]:
        keys = sorted(
            k
            for k in self.keys
            if k.startswith(prefix)
            and k > (start_after or "")
            and (v := VideoObject.parse(k)) is not None
            and v.kind == "segment"
        )
        found = []
        for key in keys[:limit]:
            video = VideoObject.parse(key)
            assert video is not None
            frame = keyframe_key(key)
            found.append(
                StoredSegment(
                    key, video.start, self.keys[key], frame if frame in self.keys else None
                )
            )
        return found, len(keys) > limit

    def exists(self, key: str) -> bool:
        return key in self.keys

    def link(self, key: str, lifetime: timedelta) -> str:
        self.links.append((key, lifetime))
        return f"https://cctv.example/{key}?X-Amz-Expires={int(lifetime.total_seconds())}"

    def forget_reference(self, camera_id: str) -> None:
        self.forgotten.append(camera_id)


class FakeReferenceFrames:
    """:class:`gyeonggi.cctv.references.S3ReferenceFrames` in a dict."""

    def __init__(self) -> None:
        self.frames: dict[str, Frame] = {}

    def get(self, camera_id: str) -> Frame | None:
        return self.frames.get(camera_id)

    def put(self, camera_id: str, frame: Frame) -> None:
        self.frames[camera_id] = frame.round().clip(0, 255).astype("float32")


_cameras: CameraRecords = FakeCameraStore()
_imports: CameraImports = FakeCameraStore()
_exports: CameraExports = FakeCameraStore()
_health: HealthRecords = FakeHealthStore()
_audit: ViewAudit = FakeAuditLog()
_videos: VideoFiles = FakeVideoBucket()
_references: ReferenceFrames = FakeReferenceFrames()
