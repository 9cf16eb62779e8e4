"""The stores the registry's services take, as ``typing.Protocol`` ports.

The services are typed with these, so mypy holds the in-memory fakes of ``tests/fakes/cctv.py``
to the surface of the real classes, and ``tests/unit/test_cctv_store_contracts.py`` runs both
against the same tests.

- :class:`CameraRecords`: :class:`.store.CameraStore`; :mod:`.registry`, :mod:`.health_checks`,
  :mod:`.segment_watch`.
- :class:`HealthRecords`: :class:`.health.HealthStore`; the same three.
- :class:`ViewAudit`: :class:`.audit.AuditLog`; :mod:`.registry`.
- :class:`VideoFiles`: :class:`.videos.VideoBucket`; :mod:`.registry`.

The reference frames' port, :class:`gyeonggi.cctv.segment_watch.ReferenceFrames`, is beside the
one service that takes it: its frames are numpy arrays, and the API's and the sweep's functions,
which import this module, ship without numpy (an import contract in pyproject.toml).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator, Mapping
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any, Protocol

if TYPE_CHECKING:
    from gyeonggi.cctv.audit import AuditPosition, ViewRecord
    from gyeonggi.cctv.health import CameraHealth
    from gyeonggi.cctv.models import Camera
    from gyeonggi.cctv.videos import StoredSegment
    from gyeonggi.safety.camera_calibration import CameraCalibration


class CameraRecords(Protocol):
    """The registry's cameras; every operator's write conditional on the version read."""

    def get(self, camera_id: str) -> Camera:
        """Raises ``NotFound`` for an unknown id."""
        ...

    def get_many(self, camera_ids: Iterable[str]) -> dict[str, Camera]:
        """The cameras that exist, by id."""
        ...

    def settings(self, camera_id: str) -> CameraCalibration | None:
        """The fire analysis's settings of a camera; ``None`` for an unknown one."""
        ...

    def page(
        self, jurisdiction: str, limit: int, after: str | None = None
    ) -> tuple[list[Camera], str | None]:
        """A city's cameras in id order after ``after``; the last id when there may be more."""
        ...

    def create(self, camera: Camera) -> Camera:
        """Store a new camera at version 1; raises ``Conflict`` when the id exists."""
        ...

    def save(self, camera: Camera) -> Camera:
        """Write over the version read; raises ``Conflict`` when it changed meanwhile."""
        ...

    def update(
        self, camera_id: str, change: Callable[[Camera], Camera], attempts: int = 5
    ) -> Camera:
        """Apply ``change`` with optimistic retries; an unchanged result writes nothing."""
        ...


class HealthRecords(Protocol):
    """Each camera's last segment, reported silence and tampered view."""

    def seen(
        self, camera_id: str, jurisdiction: str, key: str, start: datetime, received: datetime
    ) -> CameraHealth:
        """Record a segment; returns the health as it was before."""
        ...

    def get(self, camera_id: str) -> CameraHealth: ...

    def get_many(self, camera_ids: Iterable[str]) -> dict[str, CameraHealth]: ...

    def scan(self) -> Iterator[CameraHealth]:
        """Every camera that ever sent a segment."""
        ...

    def mark_offline(self, camera_id: str, last_segment_at: datetime) -> bool:
        """Record a reported silence; ``False`` if a segment came meanwhile."""
        ...

    def set_tamper(
        self, camera_id: str, kind: str, since: datetime, detail: Mapping[str, Any]
    ) -> bool:
        """Record a tampered view; ``False`` when one is recorded already."""
        ...

    def clear_tamper(self, camera_id: str) -> bool:
        """Forget a tampered view; ``False`` when none was recorded."""
        ...

    def set_reference_time(self, camera_id: str, at: datetime | None) -> None: ...


class ViewAudit(Protocol):
    """The audit of views: written before every link, read newest first."""

    def record(self, view: ViewRecord) -> None: ...

    def page(
        self,
        jurisdiction: str,
        limit: int,
        *,
        since: datetime | None = None,
        until: datetime | None = None,
        after: AuditPosition | None = None,
    ) -> tuple[list[ViewRecord], bool]: ...

    def page_for_camera(
        self,
        camera_id: str,
        limit: int,
        *,
        since: datetime | None = None,
        until: datetime | None = None,
        after: AuditPosition | None = None,
    ) -> tuple[list[ViewRecord], bool]: ...


class VideoFiles(Protocol):
    """Segments and keyframes in the CCTV bucket, and links to them."""

    def segments(
        self, prefix: str, limit: int, start_after: str | None = None
    ) -> tuple[list[StoredSegment], bool]: ...

    def exists(self, key: str) -> bool: ...

    def link(self, key: str, lifetime: timedelta) -> str: ...

    def forget_reference(self, camera_id: str) -> None: ...
