"""Each camera's reference frame, the normal view its tamper checks compare against, in S3.

``reference/{camera_id}.npy`` in the CCTV bucket: the median of a few frames of a segment
(passers-by drop out), grey, 160 pixels wide (:func:`gyeonggi.cctv.tamper.median_frame`), as
8-bit NumPy array (about 19 KB; read with ``allow_pickle=False``, so a file is data, never code).

A camera's first usable view becomes its reference; a view judged normal replaces a reference
older than :data:`REFRESH_AFTER` (seasons, foliage and new buildings change a scene slowly), and
only a normal view ever does, so a tampered view never becomes the reference. The registry
deletes a reference when an operator re-aims a camera (``PATCH`` with ``reset_reference``), and
the bucket's lifecycle deletes one a month old (a camera silent or tampered with for a month
starts afresh; the frame is personal video information kept no longer than needed).
"""

from __future__ import annotations

import io
from datetime import timedelta
from typing import Any

import numpy as np

from gyeonggi.cctv.tamper import Frame
from gyeonggi.cctv.videos import reference_key

REFRESH_AFTER = timedelta(days=7)


class S3ReferenceFrames:
    """Reference frames in the CCTV bucket
    (:class:`~gyeonggi.cctv.segment_watch.ReferenceFrames`)."""

    def __init__(self, bucket: str, s3: Any | None = None) -> None:
        self.bucket = bucket
        self._s3 = s3

    @property
    def s3(self) -> Any:
        if self._s3 is None:
            import boto3

            self._s3 = boto3.client("s3")
        return self._s3

    def get(self, camera_id: str) -> Frame | None:
        """The camera's reference, or ``None`` when it has none (or one that is not a frame)."""
        try:
            body = self.s3.get_object(Bucket=self.bucket, Key=reference_key(camera_id))["Body"]
        except self.s3.exceptions.NoSuchKey:
            return None
        try:
            frame = np.load(io.BytesIO(body.read()), allow_pickle=False)
        except ValueError:
            return None
        if frame.ndim != 2:
            return None
        result: Frame = frame.astype(np.float32)
        return result

    def put(self, camera_id: str, frame: Frame) -> None:
        out = io.BytesIO()
        np.save(out, np.clip(np.rint(frame), 0, 255).astype(np.uint8), allow_pickle=False)
        self.s3.put_object(
            Bucket=self.bucket,
            Key=reference_key(camera_id),
            Body=out.getvalue(),
            ContentType="application/octet-stream",
        )
