"""CCTV segments in the local cloud: an upload to CctvBucket is analysed asynchronously."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from gyeonggi_tools.safety import video_clips
from localcloud.cloud import LocalCloud
from tests.integration.conftest import messages_on


def _object(cloud: LocalCloud, bucket: str, key: str) -> bytes | None:
    try:
        body: bytes = cloud.client("s3").get_object(Bucket=bucket, Key=key)["Body"].read()
    except Exception:
        return None
    return body


def _evidence(cloud: LocalCloud, marker: str) -> list[dict[str, Any]]:
    """Evidence mentioning ``marker``: still on SafetyEvidenceQueue or already handed to a
    function the queue feeds (the incident workflow consumes it when that is deployed)."""
    found = [json.loads(m["Body"]) for m in messages_on(cloud, "SafetyEvidenceQueue", marker)]
    arn = cloud.client("sqs").get_queue_attributes(
        QueueUrl=cloud.physical_id("SafetyEvidenceQueue"), AttributeNames=["QueueArn"]
    )["Attributes"]["QueueArn"]
    mappings = cloud.client("lambda").list_event_source_mappings(EventSourceArn=arn)
    for mapping in mappings.get("EventSourceMappings", []):
        for call in cloud.runner.calls(mapping["FunctionArn"].split(":")[-1]):
            for record in (call.event or {}).get("Records", []):
                if marker in record.get("body", ""):
                    found.append(json.loads(record["body"]))
    return found


def test_fire_clip_yields_analysis_keyframe_and_evidence(cloud: LocalCloud, tmp_path: Path) -> None:
    clip = video_clips.make_clip("fire_path", tmp_path, seconds=6.0)
    bucket = cloud.physical_id("CctvBucket")
    key = "cctv/suwon.gg.kr/cam-01/20261124T090000Z.avi"
    cloud.client("s3").put_object(Bucket=bucket, Key=key, Body=clip.path.read_bytes())
    raw = cloud.wait_for(
        lambda: _object(cloud, bucket, "analysis/suwon.gg.kr/cam-01/20261124T090000Z.json"),
        30,
        what="the analysis JSON",
    )
    result: dict[str, Any] = json.loads(raw)
    assert result["fire"] is True and "error" not in result
    jpeg = _object(cloud, bucket, result["keyframe_key"])
    assert jpeg is not None and jpeg[:2] == b"\xff\xd8"
    bodies = cloud.wait_for(lambda: _evidence(cloud, key), 15, what="camera evidence")
    fire = [b for b in bodies if b["kind"] == "fire"]
    assert fire and fire[0]["source"] == "camera" and fire[0]["complex_id"] == "suwon.gg.kr"
    assert fire[0]["detail"]["keyframe_key"] == result["keyframe_key"]


def test_corrupt_segment_yields_an_error_result_and_no_evidence(cloud: LocalCloud) -> None:
    bucket = cloud.physical_id("CctvBucket")
    key = "cctv/suwon.gg.kr/cam-09/20261124T091000Z.mp4"
    cloud.client("s3").put_object(Bucket=bucket, Key=key, Body=b"\x00\x01 not a video")
    raw = cloud.wait_for(
        lambda: _object(cloud, bucket, "analysis/suwon.gg.kr/cam-09/20261124T091000Z.json"),
        20,
        what="the error result",
    )
    assert json.loads(raw)["error"]
    assert _evidence(cloud, key) == []


pytestmark = pytest.mark.filterwarnings("ignore::DeprecationWarning")
