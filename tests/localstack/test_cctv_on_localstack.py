"""A CCTV segment uploaded to the stack's bucket is analysed by the packaged OpenCV function.

S3 notification -> CctvAnalysisFunction (its own package: OpenCV and numpy, the layer inlined)
-> the analysis JSON and keyframe beside the segment. The clip is generated: procedural fire
drawn over Debian's real CCTV footage (vtest.avi), as in the embedded cloud's test.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from gyeonggi_tools.safety import video_clips
from localcloud.cloud import wait_for

pytestmark = pytest.mark.localstack


def _object(s3: Any, bucket: str, key: str) -> bytes | None:
    try:
        body: bytes = s3.get_object(Bucket=bucket, Key=key)["Body"].read()
    except s3.exceptions.NoSuchKey:
        return None
    return body


def test_a_fire_segment_is_analysed_with_a_keyframe(
    stack: dict[str, Any], aws: Callable[[str], Any], tmp_path: Path
) -> None:
    s3 = aws("s3")
    bucket = stack["resources"]["CctvBucket"]
    clip = video_clips.make_clip("fire_path", tmp_path, seconds=6.0)

    # Given a recorder uploading a segment with fire in it
    key = "cctv/suwon.gg.kr/cam-ls-01/20261124T090000Z.avi"
    s3.put_object(Bucket=bucket, Key=key, Body=clip.path.read_bytes())

    # When the function has analysed it (an asynchronous S3 notification)
    raw = wait_for(
        lambda: _object(s3, bucket, "analysis/suwon.gg.kr/cam-ls-01/20261124T090000Z.json"),
        180,
        interval=2,
        what="the analysis JSON",
    )

    # Then the result says fire, and its keyframe is a JPEG beside it
    result: dict[str, Any] = json.loads(raw)
    assert "error" not in result, result
    assert result["fire"] is True
    jpeg = _object(s3, bucket, result["keyframe_key"])
    assert jpeg is not None and jpeg[:2] == b"\xff\xd8"


def test_a_corrupt_segment_gets_an_error_result(
    stack: dict[str, Any], aws: Callable[[str], Any]
) -> None:
    s3 = aws("s3")
    bucket = stack["resources"]["CctvBucket"]
    key = "cctv/suwon.gg.kr/cam-ls-09/20261124T091000Z.mp4"
    s3.put_object(Bucket=bucket, Key=key, Body=b"\x00\x01 not a video")
    raw = wait_for(
        lambda: _object(s3, bucket, "analysis/suwon.gg.kr/cam-ls-09/20261124T091000Z.json"),
        180,
        interval=2,
        what="the error result",
    )
    assert json.loads(raw)["error"]
