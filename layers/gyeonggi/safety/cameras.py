"""CCTV segments: what a key says, where results go, and what evidence a detection makes.

Recorders upload ``cctv/{jurisdiction}/{camera_id}/{start}.mp4`` (or ``.avi``), or under the
root of the camera's retention class, ``cctv-{days}d/`` (:mod:`gyeonggi.cctv.retention`);
results go to ``analysis/{jurisdiction}/{camera_id}/{start}.json`` in the same bucket, whatever
the class, and the keyframe to ``keyframes/`` under the segment's own key, so that it expires
with the segment (:func:`gyeonggi.cctv.videos.keyframe_key`). :class:`SegmentAnalyser` does it
for one upload, with the camera's calibration (ignored regions, smallest fire) from a
:class:`~gyeonggi.safety.camera_calibration.CameraSettingsSource` (the registry, in the
function), and hands the decoded segment to its observers (the registry's health checks,
:mod:`gyeonggi.cctv`).
"""

from __future__ import annotations

import json
import logging
import re
import tempfile
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any, Literal, Protocol

from gyeonggi.cctv import videos
from gyeonggi.common.aws import AwsClient
from gyeonggi.common.errors import InvalidInput
from gyeonggi.safety.camera_calibration import (
    CameraCalibration,
    CameraSettingsSource,
    NoCameraSettings,
)
from gyeonggi.safety.evidence import Evidence, EvidenceSender
from gyeonggi.safety.video import VideoAnalysis, analyze

log = logging.getLogger(__name__)

_KEY = re.compile(
    r"^cctv(?:-[0-9]{1,3}d)?/(?P<jurisdiction>[A-Za-z0-9.\-]{1,64})/"
    r"(?P<camera>[A-Za-z0-9_.\-]{1,64})/(?P<start>\d{8}T\d{6}Z)\.(?P<ext>mp4|avi)$"
)


def _iso(moment: datetime) -> str:
    return moment.isoformat().replace("+00:00", "Z")


def analysis_key(key: str, suffix: str) -> str:
    """Where the result of segment ``key`` goes (``analysis/...`` instead of ``cctv/...`` or
    ``cctv-{days}d/...``)."""
    stem = key.split("/", 1)[1] if key.startswith("cctv") and "/" in key else key
    return "analysis/" + stem.rsplit(".", 1)[0] + suffix


@dataclass(frozen=True, slots=True)
class Segment:
    """One uploaded video segment, as its key names it."""

    key: str
    jurisdiction: str
    camera_id: str
    start: datetime
    extension: str

    @classmethod
    def parse(cls, key: str) -> Segment:
        """Read a segment key; raises ``InvalidInput`` when it is not one."""
        match = _KEY.match(key)
        if match is None:
            raise InvalidInput("key is not cctv/{jurisdiction}/{camera}/{start}", field="key")
        start = datetime.strptime(match["start"], "%Y%m%dT%H%M%SZ").replace(tzinfo=UTC)
        return cls(key, match["jurisdiction"], match["camera"], start, "." + match["ext"])

    def result(
        self,
        analysis: VideoAnalysis,
        keyframe_key: str | None,
        calibration: CameraCalibration | None = None,
    ) -> dict[str, Any]:
        """The result stored next to the segment (with the calibration it was analysed with)."""
        return {
            "segment_key": self.key,
            "jurisdiction": self.jurisdiction,
            "camera_id": self.camera_id,
            "start": _iso(self.start),
            "keyframe_key": keyframe_key,
            "calibration": calibration.to_json() if calibration else None,
            **analysis.to_json(),
        }

    def evidence(self, analysis: VideoAnalysis, keyframe_key: str | None) -> list[Evidence]:
        """One evidence message per confirmed kind (fire, smoke) for the incident workflow."""
        seconds = analysis.to_json()["seconds"]
        found: list[Evidence] = []
        for kind, confirmed, first, boxes in (
            ("fire", analysis.fire, analysis.first_fire_second, analysis.fire_boxes),
            ("smoke", analysis.smoke, analysis.first_smoke_second, analysis.smoke_boxes),
        ):
            if not confirmed or first is None:
                continue
            found.append(
                Evidence(
                    source="camera",
                    complex_id=self.jurisdiction,
                    source_id=self.camera_id,
                    kind=kind,
                    severity="alarm",
                    ts=self.start + timedelta(seconds=first),
                    detail={
                        "scores": [s[kind] for s in seconds],
                        "boxes": [list(b) for b in boxes],
                        "keyframe_key": keyframe_key,
                        "segment_key": self.key,
                    },
                )
            )
        return found


@dataclass(frozen=True, slots=True)
class Analysed:
    """What one upload came to: the stored result, and the evidence sent.

    ``problem``: ``rejected`` (not a segment key) or ``unreadable`` (not a video); the result
    then holds the ``error`` and nothing was sent.
    """

    result: dict[str, Any]
    evidence: list[Evidence]
    problem: Literal["rejected", "unreadable"] | None = None


class SegmentObserver(Protocol):
    """Told of each segment analysed, while its file is on disk (the registry's health checks,
    :class:`gyeonggi.cctv.segment_watch.SegmentWatch`). Must not raise."""

    def observe(self, bucket: str, segment: Segment, video_path: str) -> None: ...


class SegmentAnalyser:
    """Analyses one uploaded segment: the result JSON and the keyframe JPEG go into the bucket,
    and a confirmed fire or smoke goes to ``send_evidence``; then each observer sees the
    segment (after the evidence: the alarm path comes first).

    A malformed key or an undecodable video is stored as a result with an ``error`` and raises
    nothing, so S3's asynchronous retries never loop on it. ``cameras`` gives each camera's
    calibration (default: none for any camera).
    """

    s3 = AwsClient("s3")

    def __init__(
        self,
        send_evidence: EvidenceSender,
        cameras: CameraSettingsSource | None = None,
        observers: Sequence[SegmentObserver] = (),
    ) -> None:
        self.send_evidence = send_evidence
        self.cameras: CameraSettingsSource = cameras or NoCameraSettings()
        self.observers = tuple(observers)

    def calibration(self, camera_id: str) -> CameraCalibration | None:
        """The camera's calibration; one that cannot be read is no reason to skip a segment.

        Analysing the whole view may raise an alarm a mask would have hidden; not analysing
        could miss a fire. So a failing source is logged and the segment analysed without.
        """
        try:
            return self.cameras.settings(camera_id)
        except Exception:  # the source is a port: any backend's failure lands here
            log.warning(
                "camera calibration unavailable", extra={"camera_id": camera_id}, exc_info=True
            )
            return None

    def process(self, bucket: str, key: str) -> Analysed:
        try:
            segment = Segment.parse(key)
        except InvalidInput as exc:
            return self._failed(bucket, key, exc.message, "rejected")
        with tempfile.NamedTemporaryFile(suffix=segment.extension) as local:
            self.s3.download_fileobj(bucket, key, local)
            local.flush()
            calibration = self.calibration(segment.camera_id)
            try:
                analysis = analyze(local.name, calibration)
            except InvalidInput as exc:
                return self._failed(bucket, key, exc.message, "unreadable")
            found = self._publish(bucket, key, segment, analysis, calibration)
            for observer in self.observers:
                observer.observe(bucket, segment, local.name)
        return found

    def _publish(
        self,
        bucket: str,
        key: str,
        segment: Segment,
        analysis: VideoAnalysis,
        calibration: CameraCalibration | None,
    ) -> Analysed:
        """The result and keyframe into the bucket, the evidence to the queue."""
        keyframe_key = videos.keyframe_key(key) if analysis.keyframe_jpeg else None
        if keyframe_key:
            self.s3.put_object(
                Bucket=bucket,
                Key=keyframe_key,
                Body=analysis.keyframe_jpeg,
                ContentType="image/jpeg",
            )
        result = segment.result(analysis, keyframe_key, calibration)
        self._put_json(bucket, analysis_key(key, ".json"), result)
        found = segment.evidence(analysis, keyframe_key)
        self.send_evidence(found)
        return Analysed(result, found)

    def _failed(
        self, bucket: str, key: str, reason: str, problem: Literal["rejected", "unreadable"]
    ) -> Analysed:
        result = {"segment_key": key, "error": reason}
        self._put_json(bucket, analysis_key(key, ".json"), result)
        return Analysed(result, [], problem)

    def _put_json(self, bucket: str, key: str, body: dict[str, Any]) -> None:
        self.s3.put_object(
            Bucket=bucket,
            Key=key,
            Body=json.dumps(body, separators=(",", ":")).encode(),
            ContentType="application/json",
        )
