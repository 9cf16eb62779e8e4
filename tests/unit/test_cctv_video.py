"""Fire and smoke in CCTV segments: the detector on generated clips, the CLI, the function."""

from __future__ import annotations

import importlib
import json
import os
from collections.abc import Iterator, Sequence
from pathlib import Path
from types import ModuleType
from typing import Any

import boto3
import pytest
from moto import mock_aws

from gyeonggi.cctv.store import CameraStore
from gyeonggi.safety.camera_calibration import (
    CameraCalibration,
    FixedCameraSettings,
)
from gyeonggi.safety.cameras import SegmentAnalyser, analysis_key
from gyeonggi.safety.evidence import Evidence
from gyeonggi.safety.video import analyze
from gyeonggi_tools.cli import main
from gyeonggi_tools.safety import video_clips
from tests.conftest import load_event
from tests.unit.cctv_support import camera
from tests.unit.conftest import LambdaContext, table_from_template

SECONDS = 6.0


class _Clips(dict[str, video_clips.Clip]):
    """The labelled clips, each generated the first time a test asks for it (CI time)."""

    def __init__(self, out: Path) -> None:
        super().__init__()
        self.out = out

    def __missing__(self, name: str) -> video_clips.Clip:
        self[name] = clip = video_clips.make_clip(name, self.out, SECONDS)
        return clip


@pytest.fixture(scope="module")
def clips(tmp_path_factory: pytest.TempPathFactory) -> dict[str, video_clips.Clip]:
    return _Clips(tmp_path_factory.mktemp("clips"))


@pytest.mark.parametrize(
    "name",
    [
        "fire_path",
        "fire_left",
        "fire_and_smoke",
        "fire_small_facade",
        "fire_distant",
        "fire_night_small",
    ],
)
def test_fire_is_confirmed_after_its_onset_with_a_box_around_it(
    clips: dict[str, video_clips.Clip], name: str
) -> None:
    clip = clips[name]
    result = analyze(clip.path)
    assert result.fire
    assert clip.onset_s is not None and result.first_fire_second is not None
    assert int(clip.onset_s) <= result.first_fire_second <= clip.onset_s + 3
    assert result.fire_boxes
    x, y, w, h = result.fire_boxes[0]
    assert 0 <= x < result.width and 0 <= y < result.height and w > 0 and h > 0


@pytest.mark.parametrize("name", ["smoke_path", "smoke_right", "fire_and_smoke"])
def test_smoke_is_confirmed(clips: dict[str, video_clips.Clip], name: str) -> None:
    clip = clips[name]
    result = analyze(clip.path)
    assert result.smoke and result.smoke_boxes
    assert clip.onset_s is not None and result.first_smoke_second is not None
    assert int(clip.onset_s) <= result.first_smoke_second <= clip.onset_s + 4


@pytest.mark.parametrize(
    "name",
    [
        "vtest_a",
        "vtest_b",
        "vtest_c",
        "cones_vest",
        "red_jacket",
        "sunset",
        "street_lamp",
        "blinking_light",
        "headlights",
        "glitter",
        "tail_lights",
        "red_jacket_night",
    ],
)
def test_decoys_do_not_alarm(clips: dict[str, video_clips.Clip], name: str) -> None:
    result = analyze(clips[name].path)
    assert not result.fire and not result.smoke
    assert result.first_fire_second is None and result.first_smoke_second is None


@pytest.mark.skipif(not video_clips.VTEST.exists(), reason="opencv-doc's vtest.avi not installed")
def test_real_footage_does_not_alarm() -> None:
    result = analyze(video_clips.VTEST)
    assert not result.fire and not result.smoke
    assert result.fps == pytest.approx(10.0)
    assert result.frames_analysed > 700


def test_json_shape(clips: dict[str, video_clips.Clip]) -> None:
    result = analyze(clips["fire_path"].path)
    data = json.loads(json.dumps(result.to_json()))
    assert {
        "fire",
        "smoke",
        "first_fire_second",
        "first_smoke_second",
        "fire_confirmed_second",
        "smoke_confirmed_second",
        "fire_boxes",
        "smoke_boxes",
        "fps",
        "frames",
        "frames_analysed",
        "duration_s",
        "seconds",
    } <= set(data)
    assert data["duration_s"] == pytest.approx(SECONDS, abs=0.2)
    assert len(data["seconds"]) == 6
    assert all(0 <= s["fire"] <= 1 and 0 <= s["smoke"] <= 1 for s in data["seconds"])
    assert data["frames_analysed"] < data["frames"]  # every 2nd frame at 15 fps
    assert result.keyframe_jpeg and result.keyframe_jpeg[:2] == b"\xff\xd8"


def test_cli_prints_json_and_writes_keyframe(
    clips: dict[str, video_clips.Clip], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    keyframe = tmp_path / "k.jpg"
    code = main(
        ["safety", "analyze-video", str(clips["fire_path"].path), "--keyframe", str(keyframe)]
    )
    assert code == 0
    assert json.loads(capsys.readouterr().out)["fire"] is True
    assert keyframe.read_bytes()[:2] == b"\xff\xd8"


def test_cli_unreadable_file_exits_2(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    bad = tmp_path / "bad.mp4"
    bad.write_bytes(b"not a video at all")
    assert main(["safety", "analyze-video", str(bad)]) == 2
    assert "error:" in capsys.readouterr().err
    assert main(["safety", "analyze-video", str(tmp_path / "missing.avi")]) == 2


# ------------------------------------------------------------------ the function (moto)
BUCKET = "cctv-123456789012-ap-northeast-2-dev"


@pytest.fixture
def aws(monkeypatch: pytest.MonkeyPatch, lambda_environment: None) -> Iterator[dict[str, Any]]:
    monkeypatch.setenv("CCTV_BUCKET", BUCKET)
    with mock_aws():
        s3 = boto3.client("s3")
        s3.create_bucket(
            Bucket=BUCKET, CreateBucketConfiguration={"LocationConstraint": "ap-northeast-2"}
        )
        sqs = boto3.client("sqs")
        url = sqs.create_queue(QueueName="evidence")["QueueUrl"]
        monkeypatch.setenv("SAFETY_EVIDENCE_QUEUE_URL", url)
        # The CCTV registry's tables: each segment records its camera's health (issue 12).
        dynamodb = boto3.resource("dynamodb")
        for logical, name in (("CctvCamerasTable", "cameras"), ("CctvHealthTable", "health")):
            table_from_template(dynamodb, logical, name)
            monkeypatch.setenv(f"CCTV_{name.upper()}_TABLE", name)
        yield {"s3": s3, "sqs": sqs, "url": url, "dynamodb": dynamodb}


def _app() -> ModuleType:
    os.environ["POWERTOOLS_SERVICE_NAME"] = "unit-test-cctv"
    try:
        return importlib.import_module("functions.cctv_analysis.app")
    finally:
        os.environ.pop("POWERTOOLS_SERVICE_NAME", None)


def test_function_stores_result_and_sends_evidence(
    aws: dict[str, Any], clips: dict[str, video_clips.Clip]
) -> None:
    event = load_event("cctv_analysis/s3_put.json")
    key = event["Records"][0]["s3"]["object"]["key"]
    aws["s3"].put_object(Bucket=BUCKET, Key=key, Body=clips["fire_path"].path.read_bytes())
    out = _app().handler(event, LambdaContext())
    assert out["processed"][0]["fire"] is True
    stored = json.loads(
        aws["s3"]
        .get_object(Bucket=BUCKET, Key="analysis/suwon.gg.kr/cam-01/20261124T090000Z.json")["Body"]
        .read()
    )
    assert stored["fire"] and stored["keyframe_key"].endswith(".jpg")
    messages = aws["sqs"].receive_message(QueueUrl=aws["url"], MaxNumberOfMessages=10)["Messages"]
    bodies = [json.loads(m["Body"]) for m in messages]
    fire = [b for b in bodies if b["kind"] == "fire"]
    assert len(fire) == 1
    assert fire[0]["complex_id"] == "suwon.gg.kr" and fire[0]["camera_id"] == "cam-01"
    # the ISO 8601 form every evidence producer writes (Evidence.to_message)
    assert fire[0]["ts"] == f"2026-11-24T09:00:0{stored['first_fire_second']}+00:00"
    assert fire[0]["detail"]["segment_key"] == key
    health = aws["dynamodb"].Table("health").get_item(Key={"camera_id": "cam-01"})["Item"]
    assert health["last_segment_key"] == key


def test_function_survives_bad_keys_and_corrupt_video(aws: dict[str, Any]) -> None:
    app = _app()
    bad_key = "cctv/suwon.gg.kr/no-start-time.avi"
    corrupt = "cctv/suwon.gg.kr/cam-02/20261124T090010Z.mp4"
    for key in (bad_key, corrupt):
        aws["s3"].put_object(Bucket=BUCKET, Key=key, Body=b"\x00garbage")
    event = {
        "Records": [
            {"s3": {"bucket": {"name": BUCKET}, "object": {"key": k.replace(" ", "+")}}}
            for k in (bad_key, corrupt)
        ]
    }
    out = app.handler(event, LambdaContext())
    assert [p["error"] is not None for p in out["processed"]] == [True, True]
    assert not aws["sqs"].receive_message(QueueUrl=aws["url"]).get("Messages")


def test_segment_is_analysed_with_its_cameras_calibration(
    aws: dict[str, Any], clips: dict[str, video_clips.Clip]
) -> None:
    # Given a camera whose whole view is marked to ignore (say, a flare stack fills it)
    whole_view = ((0.0, 0.0), (1.0, 0.0), (1.0, 1.0), (0.0, 1.0))
    cameras = FixedCameraSettings({"cam-01": CameraCalibration(masks=(whole_view,))})
    sent: list[Evidence] = []

    def send(found: Sequence[Evidence]) -> int:
        sent.extend(found)
        return len(found)

    key = "cctv/suwon.gg.kr/cam-01/20261124T090000Z.avi"
    aws["s3"].put_object(Bucket=BUCKET, Key=key, Body=clips["fire_path"].path.read_bytes())
    # When its fire segment is analysed
    outcome = SegmentAnalyser(send, cameras).process(BUCKET, key)
    # Then nothing is reported, and the result says which calibration it was analysed with
    assert outcome.result["fire"] is False and outcome.evidence == [] and sent == []
    assert outcome.result["calibration"]["masks"] == [[[0, 0], [1, 0], [1, 1], [0, 1]]]


# ------------------------------------------------------------------ calibration from the registry
FIRE_AREA = ((0.15, 0.35), (0.5, 0.35), (0.5, 1.0), (0.15, 1.0))
"""Around fire_path's flame (standing on (120, 250) of 384 x 288)."""
NEON_SIGN = ((0.6, 0.0), (1.0, 0.0), (1.0, 0.3))


def _registered(aws: dict[str, Any], **calibration: Any) -> str:
    """A camera in the registry's table with what an operator stored; its segment's key."""
    stored = CameraStore("cameras", dynamodb=aws["dynamodb"]).create(camera(**calibration))
    return f"cctv/{stored.jurisdiction}/{stored.camera_id}/20261124T090000Z.avi"


def _analyse(aws: dict[str, Any], clip: video_clips.Clip, key: str) -> dict[str, Any]:
    aws["s3"].put_object(Bucket=BUCKET, Key=key, Body=clip.path.read_bytes())
    event = {"Records": [{"s3": {"bucket": {"name": BUCKET}, "object": {"key": key}}}]}
    (processed,) = _app().handler(event, LambdaContext())["processed"]
    stored = aws["s3"].get_object(Bucket=BUCKET, Key=analysis_key(key, ".json"))["Body"].read()
    return {**processed, "result": json.loads(stored)}


@pytest.mark.parametrize(
    ("calibration", "fire"),
    [
        ({"masks": [FIRE_AREA]}, False),  # the operator masked where the flame is
        ({"masks": [NEON_SIGN]}, True),  # a mask elsewhere hides nothing
        ({"min_fire_px": 400}, False),  # a smallest fire larger than this one
        ({"min_fire_px": 8}, True),
    ],
)
def test_function_analyses_with_the_calibration_stored_in_the_registry(
    aws: dict[str, Any],
    clips: dict[str, video_clips.Clip],
    calibration: dict[str, Any],
    fire: bool,
) -> None:
    # Given a camera whose masks or smallest fire an operator stored in the registry
    key = _registered(aws, **calibration)
    # When the function analyses its fire segment
    out = _analyse(aws, clips["fire_path"], key)
    # Then the stored calibration decided, and the result says which one it was
    assert out["fire"] is fire
    assert out["result"]["calibration"] == CameraCalibration(**calibration).to_json()
    sent = aws["sqs"].receive_message(QueueUrl=aws["url"], MaxNumberOfMessages=10)
    assert any(json.loads(m["Body"])["kind"] == "fire" for m in sent.get("Messages", [])) is fire


def test_function_analyses_without_calibration_when_the_registry_fails(
    aws: dict[str, Any], clips: dict[str, video_clips.Clip], caplog: pytest.LogCaptureFixture
) -> None:
    # Given a camera masked where the fire is, and then a registry that cannot be read
    key = _registered(aws, masks=[FIRE_AREA])
    aws["dynamodb"].Table("cameras").delete()
    # When its fire segment arrives
    out = _analyse(aws, clips["fire_path"], key)
    # Then the segment is analysed over the whole view (a skipped segment could cost a fire)
    # and the failure is logged
    assert out["error"] is None and out["fire"] is True
    assert out["result"]["calibration"] is None
    assert "camera calibration unavailable" in caplog.text
