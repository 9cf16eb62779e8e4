"""A camera's health on each segment it sends, in the analysis function.

One write per segment records that the camera is alive (:meth:`HealthRecords.seen`, which
returns the health as it was, so nothing is read). Once a minute per camera (the first segment
that starts in a new minute), the view is checked for tampering (:mod:`gyeonggi.cctv.tamper`): a
few frames of the segment against the camera's reference frame. That costs one read of the
camera (is it watched? a pan-tilt-zoom camera? an industrial complex's?) and one of its
reference, and a write only when something changes. Findings go where
:mod:`gyeonggi.cctv.health_checks` says.

numpy (through :mod:`gyeonggi.cctv.tamper`): the analysis function's own requirement.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from datetime import datetime, timedelta
from typing import Protocol

from gyeonggi.cctv import tamper
from gyeonggi.cctv.health import CameraHealth
from gyeonggi.cctv.health_checks import Finding, finding
from gyeonggi.cctv.models import Camera
from gyeonggi.cctv.ports import CameraRecords, HealthRecords
from gyeonggi.cctv.references import REFRESH_AFTER
from gyeonggi.common.errors import NotFound
from gyeonggi.safety.evidence import EvidenceSender

log = logging.getLogger(__name__)

#: A tamper check at most this often per camera.
CHECK_EVERY = timedelta(minutes=1)


class ReferenceFrames(Protocol):
    """Each camera's reference frame for the tamper checks
    (:class:`gyeonggi.cctv.references.S3ReferenceFrames`)."""

    def get(self, camera_id: str) -> tamper.Frame | None: ...

    def put(self, camera_id: str, frame: tamper.Frame) -> None: ...


class SegmentLike(Protocol):
    """What the watch needs of a segment (``gyeonggi.safety.cameras.Segment`` has it)."""

    @property
    def key(self) -> str: ...

    @property
    def jurisdiction(self) -> str: ...

    @property
    def camera_id(self) -> str: ...

    @property
    def start(self) -> datetime: ...


Counter = Callable[[str, int], None]


def _no_count(name: str, value: int) -> None:
    return None


class SegmentWatch:
    """Per segment: the camera is alive; once a minute, is its view tampered with?

    Called by the analysis function with the segment's file while it is on disk
    (:class:`gyeonggi.safety.cameras.SegmentAnalyser`'s observers). It never raises: a failure
    here must not cost the fire analysis anything, and the next segment (10 s later) tries
    again; failures are logged and counted (``CctvHealthNotRecorded``).

    Parameters
    ----------
    frames
        Decodes a few grey frames of a video file (:func:`gyeonggi.safety.video.still_frames`,
        the one place OpenCV is imported).
    """

    def __init__(
        self,
        cameras: CameraRecords,
        health: HealthRecords,
        references: ReferenceFrames,
        send_evidence: EvidenceSender,
        frames: Callable[[str], Sequence[tamper.Frame]],
        *,
        clock: Callable[[], datetime],
        count: Counter = _no_count,
    ) -> None:
        self.cameras = cameras
        self.health = health
        self.references = references
        self.send_evidence = send_evidence
        self.frames = frames
        self.clock = clock
        self.count = count
        self.last: Finding | None = None

    def observe(self, bucket: str, segment: SegmentLike, video_path: str) -> None:
        """Record the segment and, when due, check the view (see the class)."""
        self.last = None
        try:
            self._observe(segment, video_path)
        except Exception:
            log.exception("camera health not recorded", extra={"segment_key": segment.key})
            self.count("CctvHealthNotRecorded", 1)

    def _observe(self, segment: SegmentLike, video_path: str) -> None:
        before = self.health.seen(
            segment.camera_id, segment.jurisdiction, segment.key, segment.start, self.clock()
        )
        if before.reported_offline:
            log.info("camera back online", extra={"camera_id": segment.camera_id})
            self.count("CamerasBackOnline", 1)
        if not _check_due(before, segment.start):
            return
        try:
            camera = self.cameras.get(segment.camera_id)
        except NotFound:
            self.count("CctvSegmentsUnregistered", 1)
            return
        if not camera.watched:
            return
        if not segment.key.startswith(camera.segment_prefix):
            # Kept under another retention class or city than the registry says.
            log.warning(
                "segment outside its camera's prefix",
                extra={"segment_key": segment.key, "segment_prefix": camera.segment_prefix},
            )
            self.count("CctvSegmentsOutsidePrefix", 1)
        decoded = self.frames(video_path)
        if not decoded:
            return
        self._check(camera, before, segment, tamper.median_frame(decoded))

    def _check(
        self, camera: Camera, before: CameraHealth, segment: SegmentLike, view: tamper.Frame
    ) -> None:
        reference = self.references.get(camera.camera_id)
        verdict = tamper.judge(view, reference, ptz=camera.ptz)
        if verdict.kind is None:
            if before.tamper_kind is not None and self.health.clear_tamper(camera.camera_id):
                log.info("camera view restored", extra={"camera_id": camera.camera_id})
                self.count("CameraViewsRestored", 1)
            stale = before.reference_at is None or segment.start - before.reference_at > (
                REFRESH_AFTER
            )
            if (reference is None or stale) and not camera.ptz and tamper.usable_as_reference(view):
                self.references.put(camera.camera_id, view)
                self.health.set_reference_time(camera.camera_id, segment.start)
            return
        detail = {"check": verdict.kind, "segment_key": segment.key, **verdict.to_json()}
        if not self.health.set_tamper(camera.camera_id, verdict.kind, segment.start, detail):
            return  # reported when it began
        found = finding(camera, "camera_tampered", segment.start, detail, "alarm")
        self._report(found)

    def _report(self, found: Finding) -> None:
        self.last = found
        log.warning("camera view tampered with", extra=found.to_log())
        if found.evidence is not None:
            self.send_evidence([found.evidence])
            self.count("CameraTamperedEvidence", 1)
        else:
            self.count("CamerasTampered", 1)


def _check_due(before: CameraHealth, start: datetime) -> bool:
    """The first segment of a new minute (by the segments' own start times)."""
    previous = before.last_segment_start
    if previous is None:
        return True
    step = int(CHECK_EVERY.total_seconds())
    return int(start.timestamp()) // step != int(previous.timestamp()) // step
