"""A camera's health, checked: on each segment (:class:`SegmentWatch`, in the analysis function)
and on the clock (:class:`OfflineSweep`, a scheduled function).

Per segment, one write records that the camera is alive (:meth:`HealthRecords.seen`, which
returns the health as it was, so nothing is read). Once a minute per camera (the first segment
that starts in a new minute), the view is checked for tampering (:mod:`gyeonggi.cctv.tamper`):
a few frames of the segment against the camera's reference frame. That costs one read of the
camera (is it watched? a pan-tilt-zoom camera? an industrial complex's?) and one of its
reference, and a write only when something changes.

A camera that stops sending cannot trigger anything itself, so a sweep on the clock (as the
sensors' heartbeat sweep, docs/SENSORS.md) finds cameras silent for longer than
``offline_after`` and reports each silence once.

Where a finding goes:

- a camera watching an industrial complex (``complex_id`` set): evidence for the incident
  workflow, ``camera_offline`` (``warning``: most silences are a network or a power fault, as a
  sensor's missed heartbeat) or ``camera_tampered`` (``alarm``: a covered or turned camera at a
  plant is blind to a fire, and sabotage is likelier than chance), with the camera as source;
- any other camera: an operations alarm. Each finding is counted in a CloudWatch metric
  (``CamerasWentOffline``, ``CamerasTampered``) and logged with the camera, its jurisdiction
  and what was found; an alarm on each metric pages ``OpsAlertsTopic`` (template.yaml). Chosen
  over a message to the topic per camera: at 10,000 cameras a control centre's network outage
  silences hundreds at once, and the alarm pages once for it (an alarm acts when its state
  changes), where a message each would bury the operators; the registry's list
  (``GET /cctv/cameras``) shows each city's operators which cameras and since when. The
  functions need no SNS permission either: the metrics are log lines (embedded metric format).

Neither a camera coming back nor a view restored sends evidence: a camera's ``cleared`` would
clear every kind from that source, a fire included, so the operator declares all-clear. Both
are logged and counted (``CamerasBackOnline``, ``CameraViewsRestored``).
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any, Protocol

from gyeonggi.cctv import tamper
from gyeonggi.cctv.health import CameraHealth
from gyeonggi.cctv.models import Camera
from gyeonggi.cctv.ports import CameraRecords, HealthRecords, ReferenceFrames
from gyeonggi.cctv.references import REFRESH_AFTER
from gyeonggi.common.errors import NotFound
from gyeonggi.safety.evidence import Evidence, EvidenceSender, evidence_id

log = logging.getLogger(__name__)

#: A camera silent this long is offline (six segments of 10 s lost, and a margin).
DEFAULT_OFFLINE_AFTER = timedelta(minutes=3)
#: A tamper check at most this often per camera.
CHECK_EVERY = timedelta(minutes=1)


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


@dataclass(frozen=True)
class Finding:
    """A camera found offline or tampered with, and where the finding went."""

    camera_id: str
    jurisdiction: str
    kind: str  # camera_offline, camera_tampered
    detail: dict[str, Any]
    evidence: Evidence | None = None

    def to_log(self) -> dict[str, Any]:
        return {
            "camera_id": self.camera_id,
            "jurisdiction": self.jurisdiction,
            "kind": self.kind,
            "to": "incident" if self.evidence is not None else "operations",
            **self.detail,
        }


def finding(
    camera: Camera, kind: str, ts: datetime, detail: dict[str, Any], severity: str
) -> Finding:
    """The finding, as evidence when the camera watches an industrial complex."""
    evidence = None
    if camera.complex_id is not None:
        evidence = Evidence(
            source="camera",
            complex_id=camera.complex_id,
            source_id=camera.camera_id,
            kind=kind,
            severity="alarm" if severity == "alarm" else "warning",
            ts=ts,
            detail={
                "evidence_id": evidence_id(camera.camera_id, kind, ts.isoformat()),
                "jurisdiction": camera.jurisdiction,
                **detail,
            },
        )
    return Finding(camera.camera_id, camera.jurisdiction, kind, detail, evidence)


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


@dataclass
class SweepOutcome:
    """What a sweep found, for metrics and the log."""

    cameras: int = 0
    silent: int = 0
    findings: list[Finding] = field(default_factory=list)

    @property
    def to_incidents(self) -> int:
        return sum(1 for f in self.findings if f.evidence is not None)

    @property
    def to_operations(self) -> int:
        return sum(1 for f in self.findings if f.evidence is None)


class OfflineSweep:
    """On the clock: cameras silent for longer than ``offline_after``, each silence once.

    Evidence goes out before the silences are marked reported, so a failure between the two
    repeats a report on the next sweep and never loses one (the evidence id makes the repeat
    harmless to the incident function). Cameras not watched (out of service, in maintenance,
    decommissioned) or not in the registry are marked without a report: their silence is
    expected, and they are not looked up again until they send.
    """

    def __init__(
        self,
        cameras: CameraRecords,
        health: HealthRecords,
        send_evidence: EvidenceSender,
        offline_after: timedelta = DEFAULT_OFFLINE_AFTER,
    ) -> None:
        self.cameras = cameras
        self.health = health
        self.send_evidence = send_evidence
        self.offline_after = offline_after

    def run(self, now: datetime) -> SweepOutcome:
        outcome = SweepOutcome()
        silent: list[CameraHealth] = []
        for health in self.health.scan():
            outcome.cameras += 1
            if health.silent(now, self.offline_after) and not health.reported_offline:
                silent.append(health)
        outcome.silent = len(silent)
        known = self.cameras.get_many(h.camera_id for h in silent)
        for health in silent:
            camera = known.get(health.camera_id)
            if camera is None or not camera.watched or health.last_segment_at is None:
                continue
            silent_s = (now - health.last_segment_at).total_seconds()
            detail = {
                "check": "offline",
                "last_segment_at": health.last_segment_at.isoformat(),
                "last_segment_key": health.last_segment_key,
                "silent_s": round(silent_s, 1),
                "offline_after_s": self.offline_after.total_seconds(),
            }
            outcome.findings.append(
                finding(camera, "camera_offline", health.last_segment_at, detail, "warning")
            )
        evidence = [f.evidence for f in outcome.findings if f.evidence is not None]
        if evidence:
            self.send_evidence(evidence)
        for found in outcome.findings:
            log.warning("camera offline", extra=found.to_log())
        for health in silent:
            assert health.last_segment_at is not None
            self.health.mark_offline(health.camera_id, health.last_segment_at)
        return outcome
