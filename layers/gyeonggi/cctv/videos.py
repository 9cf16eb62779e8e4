"""The CCTV bucket as the registry reads it: where a camera's segments, keyframes and reference
frame are, and short-lived links to view them.

Layout (``CctvBucket``): segments under the camera's ``segment_prefix``
(``{class root}/{jurisdiction}/{camera_id}/{start}.mp4|.avi``, :mod:`gyeonggi.cctv.retention`);
the analysis's result under ``analysis/`` (``analysis/{jurisdiction}/{camera_id}/{start}.json``,
as :func:`gyeonggi.safety.cameras.analysis_key` writes it: scores and boxes, no image, kept as
evidence); the keyframe, a frame of the video and so kept exactly as long as its segment, under
``keyframes/`` and its segment's class root (``keyframes/{class root}/{jurisdiction}/
{camera_id}/{start}.jpg``, :func:`keyframe_key`), where the class's second lifecycle rule expires
it; the reference frame of the tamper checks at ``reference/{camera_id}.npy``.

A segment's file name is its start time (``20261124T090000Z``), so keys sort by time and a
listing starts at a time with ``StartAfter``, one request a page.

Links are presigned ``GetObject`` URLs valid for minutes, signed with Signature Version 4 (the
bucket's objects are encrypted with a KMS key, which only SigV4 requests may read): a link
carries the registry function's permission, so only that function's role may read the bucket's
video, and only through a view that was audited.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any, Literal

from gyeonggi.cctv.retention import KEYFRAME_ROOT, root_days

#: ``{root}/{jurisdiction}/{camera}/{start}.{ext}``: a segment's key, in any class root.
SEGMENT_KEY = re.compile(
    r"^(?P<root>cctv(?:-[0-9]{1,3}d)?)/(?P<jurisdiction>[A-Za-z0-9.\-]{1,64})/"
    r"(?P<camera>[A-Za-z0-9_.\-]{1,64})/(?P<start>[0-9]{8}T[0-9]{6}Z)\.(?P<ext>mp4|avi)$"
)
#: ``keyframes/{root}/{jurisdiction}/{camera}/{start}.jpg``: a keyframe, under its segment's root.
KEYFRAME_KEY = re.compile(
    r"^keyframes/(?P<root>cctv(?:-[0-9]{1,3}d)?)/(?P<jurisdiction>[A-Za-z0-9.\-]{1,64})/"
    r"(?P<camera>[A-Za-z0-9_.\-]{1,64})/(?P<start>[0-9]{8}T[0-9]{6}Z)\.jpg$"
)
KEYFRAME_PREFIX = f"{KEYFRAME_ROOT}/"
REFERENCE_PREFIX = "reference/"
MAX_LINK_LIFETIME = timedelta(hours=1)


def reference_key(camera_id: str) -> str:
    return f"{REFERENCE_PREFIX}{camera_id}.npy"


def keyframe_key(segment_key: str) -> str:
    """The keyframe the analysis stores for a segment (``keyframes/{root}/.../{start}.jpg``)."""
    return KEYFRAME_PREFIX + segment_key.rsplit(".", 1)[0] + ".jpg"


def start_of(name: str) -> datetime:
    return datetime.strptime(name, "%Y%m%dT%H%M%SZ").replace(tzinfo=UTC)


@dataclass(frozen=True)
class VideoObject:
    """A segment or keyframe key, read: whose it is and when it starts."""

    key: str
    kind: Literal["segment", "keyframe"]
    jurisdiction: str
    camera_id: str
    start: datetime

    @classmethod
    def parse(cls, key: str) -> VideoObject | None:
        """The segment or keyframe ``key`` names; ``None`` for any other key."""
        segment = SEGMENT_KEY.match(key)
        if segment is not None and root_days(segment["root"]) is not None:
            return cls(
                key,
                "segment",
                segment["jurisdiction"],
                segment["camera"],
                start_of(segment["start"]),
            )
        frame = KEYFRAME_KEY.match(key)
        if frame is not None and root_days(frame["root"]) is not None:
            return cls(
                key, "keyframe", frame["jurisdiction"], frame["camera"], start_of(frame["start"])
            )
        return None


@dataclass(frozen=True)
class StoredSegment:
    """One segment in the bucket, and its keyframe if the analysis made one."""

    key: str
    start: datetime
    size: int
    keyframe_key: str | None

    def to_json(self) -> dict[str, Any]:
        return {
            "key": self.key,
            "start": self.start.isoformat(),
            "size": self.size,
            "keyframe_key": self.keyframe_key,
        }


class VideoBucket:
    """``CctvBucket`` (:class:`~gyeonggi.cctv.ports.VideoFiles`)."""

    def __init__(self, bucket: str, s3: Any | None = None) -> None:
        self.bucket = bucket
        self._s3 = s3

    @property
    def s3(self) -> Any:
        if self._s3 is None:
            import boto3
            from botocore.config import Config

            # SigV4: the only signature KMS-encrypted objects accept.
            self._s3 = boto3.client("s3", config=Config(signature_version="s3v4"))
        return self._s3

    def segments(
        self, prefix: str, limit: int, start_after: str | None = None
    ) -> tuple[list[StoredSegment], bool]:
        """Up to ``limit`` segments under ``prefix`` after the key ``start_after``, oldest
        first; and whether there are more."""
        kwargs: dict[str, Any] = {"Bucket": self.bucket, "Prefix": prefix, "MaxKeys": limit}
        if start_after:
            kwargs["StartAfter"] = start_after
        page = self.s3.list_objects_v2(**kwargs)
        found = []
        for entry in page.get("Contents", []):
            read = VideoObject.parse(entry["Key"])
            if read is not None and read.kind == "segment":
                found.append((entry["Key"], read.start, int(entry.get("Size", 0))))
        frames = self._keyframes(prefix, start_after, found)
        segments = [
            StoredSegment(
                key, start, size, keyframe_key(key) if keyframe_key(key) in frames else None
            )
            for key, start, size in found
        ]
        return segments, bool(page.get("IsTruncated"))

    def _keyframes(
        self, prefix: str, start_after: str | None, found: list[tuple[str, datetime, int]]
    ) -> set[str]:
        if not found:
            return set()
        first, last = keyframe_key(found[0][0]), keyframe_key(found[-1][0])
        kwargs: dict[str, Any] = {
            "Bucket": self.bucket,
            "Prefix": KEYFRAME_PREFIX + prefix,
            # Just before the first segment's keyframe: its own name minus a character sorts so.
            "StartAfter": first[:-5],
            "MaxKeys": 1000,
        }
        keys: set[str] = set()
        while True:
            page = self.s3.list_objects_v2(**kwargs)
            for entry in page.get("Contents", []):
                if entry["Key"] > last:
                    return keys
                keys.add(entry["Key"])
            if not page.get("IsTruncated"):
                return keys
            kwargs["ContinuationToken"] = page["NextContinuationToken"]

    def exists(self, key: str) -> bool:
        try:
            self.s3.head_object(Bucket=self.bucket, Key=key)
        except Exception as exc:
            status = getattr(exc, "response", {}).get("ResponseMetadata", {}).get("HTTPStatusCode")
            if status in (403, 404):
                return False
            raise
        return True

    def link(self, key: str, lifetime: timedelta) -> str:
        """A presigned ``GetObject`` URL of ``key`` valid for ``lifetime`` (at most an hour)."""
        seconds = int(min(lifetime, MAX_LINK_LIFETIME).total_seconds())
        url: str = self.s3.generate_presigned_url(
            "get_object", Params={"Bucket": self.bucket, "Key": key}, ExpiresIn=seconds
        )
        return url

    def forget_reference(self, camera_id: str) -> None:
        """Delete the camera's reference frame: its next segment's view becomes the new one."""
        self.s3.delete_object(Bucket=self.bucket, Key=reference_key(camera_id))
