"""Per-camera calibration: the model, the analysis honouring it, the segment path asking for it."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

import pytest

from gyeonggi.common.errors import InvalidInput
from gyeonggi.safety.camera_calibration import (
    CameraCalibration,
    FixedCameraSettings,
    IgnoreRegion,
    NoCameraSettings,
)
from gyeonggi.safety.cameras import SegmentAnalyser
from gyeonggi.safety.evidence import Evidence
from gyeonggi.safety.video import analyze
from gyeonggi_tools.safety import video_clips

# fire_path draws its flame standing on (120, 250) of a 384 x 288 frame.
AROUND_THE_FIRE = IgnoreRegion(
    points=((0.15, 0.35), (0.5, 0.35), (0.5, 1.0), (0.15, 1.0)), label="flare stack"
)
ELSEWHERE = IgnoreRegion(points=((0.6, 0.0), (1.0, 0.0), (1.0, 0.3)), label="neon sign")


@pytest.fixture(scope="module")
def fire_clip(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return video_clips.make_clip("fire_path", tmp_path_factory.mktemp("cal"), 5.0).path


def test_calibration_round_trips_through_json() -> None:
    calibration = CameraCalibration(ignore=(AROUND_THE_FIRE, ELSEWHERE), min_fire_px=12)
    stored = calibration.to_json()
    assert stored["ignore"][0]["points"][0] == [0.15, 0.35]
    assert CameraCalibration.from_json(stored) == calibration


@pytest.mark.parametrize(
    ("data", "where"),
    [
        ({"ignore": [{"points": [[0, 0], [1.5, 0], [1, 1]]}]}, "ignore.0.points"),
        ({"ignore": [{"points": [[0, 0], [1, 1]]}]}, "ignore.0.points"),
        ({"min_fire_px": 0}, "min_fire_px"),
        ({"mask": []}, "mask"),
    ],
)
def test_invalid_calibration_names_the_field(data: dict[str, Any], where: str) -> None:
    with pytest.raises(InvalidInput) as caught:
        CameraCalibration.from_json(data)
    assert caught.value.field == where


def test_fire_inside_an_ignored_region_is_not_reported(fire_clip: Path) -> None:
    assert analyze(fire_clip).fire
    masked = analyze(fire_clip, CameraCalibration(ignore=(AROUND_THE_FIRE,)))
    assert not masked.fire and all(s.fire == 0.0 for s in masked.seconds)


def test_a_region_elsewhere_changes_nothing(fire_clip: Path) -> None:
    result = analyze(fire_clip, CameraCalibration(ignore=(ELSEWHERE,)))
    assert result.fire


def test_fire_smaller_than_the_cameras_minimum_is_not_reported(fire_clip: Path) -> None:
    assert not analyze(fire_clip, CameraCalibration(min_fire_px=400)).fire
    assert analyze(fire_clip, CameraCalibration(min_fire_px=8)).fire


def _nowhere(found: Sequence[Evidence]) -> int:
    return len(found)


class _Broken:
    def get(self, camera_id: str) -> CameraCalibration | None:
        raise ConnectionError("registry unreachable")


def test_segment_analyser_asks_the_source_and_survives_its_failure() -> None:
    calibration = CameraCalibration(min_fire_px=10)
    fixed = SegmentAnalyser(_nowhere, FixedCameraSettings({"cam-01": calibration}))
    assert fixed.calibration("cam-01") == calibration
    assert fixed.calibration("cam-02") is None
    assert SegmentAnalyser(_nowhere).calibration("cam-01") is None
    assert SegmentAnalyser(_nowhere, _Broken()).calibration("cam-01") is None
    assert NoCameraSettings().get("cam-01") is None
