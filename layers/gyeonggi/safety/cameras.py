"""CCTV segments: what a key says, where results go, and what evidence a detection makes.

Recorders upload ``cctv/{jurisdiction}/{camera_id}/{start}.mp4`` (or ``.avi``); results go to
``analysis/{jurisdiction}/{camera_id}/{start}.json`` and ``.jpg`` in the same bucket.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from gyeonggi.common.errors import InvalidInput
from gyeonggi.safety.video import VideoAnalysis

_KEY = re.compile(
    r"^cctv/(?P<jurisdiction>[A-Za-z0-9.\-]{1,64})/(?P<camera>[A-Za-z0-9_.\-]{1,64})/"
    r"(?P<start>\d{8}T\d{6}Z)\.(?P<ext>mp4|avi)$"
)


def _iso(moment: datetime) -> str:
    return moment.isoformat().replace("+00:00", "Z")


def analysis_key(key: str, suffix: str) -> str:
    """Where the result of segment ``key`` goes (``analysis/...`` instead of ``cctv/...``)."""
    stem = key[len("cctv/") :] if key.startswith("cctv/") else key
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

    def result(self, analysis: VideoAnalysis, keyframe_key: str | None) -> dict[str, Any]:
        """The result stored next to the segment."""
        return {
            "segment_key": self.key,
            "jurisdiction": self.jurisdiction,
            "camera_id": self.camera_id,
            "start": _iso(self.start),
            "keyframe_key": keyframe_key,
            **analysis.to_json(),
        }

    def evidence(self, analysis: VideoAnalysis, keyframe_key: str | None) -> list[dict[str, Any]]:
        """One evidence message per confirmed kind (fire, smoke) for the incident workflow."""
        seconds = analysis.to_json()["seconds"]
        found = []
        for kind, confirmed, first, boxes in (
            ("fire", analysis.fire, analysis.first_fire_second, analysis.fire_boxes),
            ("smoke", analysis.smoke, analysis.first_smoke_second, analysis.smoke_boxes),
        ):
            if not confirmed or first is None:
                continue
            found.append(
                {
                    "source": "camera",
                    "complex_id": self.jurisdiction,
                    "camera_id": self.camera_id,
                    "kind": kind,
                    "severity": "alarm",
                    "ts": _iso(self.start + timedelta(seconds=first)),
                    "detail": {
                        "scores": [s[kind] for s in seconds],
                        "boxes": [list(b) for b in boxes],
                        "keyframe_key": keyframe_key,
                        "segment_key": self.key,
                    },
                }
            )
        return found
