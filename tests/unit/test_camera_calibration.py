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
    NoCameraSettings,
)
from gyeonggi.safety.cameras import SegmentAnalyser
from gyeonggi.safety.evidence import Evidence
from gyeonggi.safety.video import analyze
from gyeonggi_tools.safety import video_clips

# fire_path draws its flame standing on (120, 250) of a 384 x 288 frame.
AROUND_THE_FIRE = ((0.15, 0.35), (0.5, 0.35), (0.5, 1.0), (0.15, 1.0))  # a flare stack
ELSEWHERE = ((0.6, 0.0), (1.0, 0.0), (1.0, 0.3))  # a neon sign


@pytest.fixture(scope="module")
def fire_clip(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return video_clips.make_clip("fire_path", tmp_path_factory.mktemp("cal"), 5.0).path


def test_calibration_round_trips_through_json() -> None:
    calibration = CameraCalibration(masks=(AROUND_THE_FIRE, ELSEWHERE), min_fire_px=12)
    stored = calibration.to_json()
    assert stored["masks"][0][0] == [0.15, 0.35]
    assert CameraCalibration.from_json(stored) == calibration


@pytest.mark.parametrize(
    ("data", "where"),
    [
        ({"masks": [[[0, 0], [1.5, 0], [1, 1]]]}, "masks"),
        ({"masks": [[[0, 0], [1, 1]]]}, "masks"),
        ({"masks": [[[0, 0], [0.5, 0.5], [1, 1]]]}, "masks"),
        ({"masks": "everywhere"}, "masks"),
        ({"min_fire_px": 0}, "min_fire_px"),
        ({"min_fire_px": "8"}, "min_fire_px"),
        ({"ignore": []}, "ignore"),
    ],
)
def test_invalid_calibration_names_the_field(data: dict[str, Any], where: str) -> None:
    with pytest.raises(InvalidInput) as caught:
        CameraCalibration.from_json(data)
    assert caught.value.field == where


def test_fire_inside_an_ignored_region_is_not_reported(fire_clip: Path) -> None:
    assert analyze(fire_clip).fire
    masked = analyze(fire_clip, CameraCalibration(masks=(AROUND_THE_FIRE,)))
    assert not masked.fire
    # Nothing scored inside the mask (0.15-0.5 of the width, 0.35-1 of the height of 384 x 288)
    for second in masked.seconds:
        for x, y, w, h in second.fire_boxes:
            assert not (58 <= x + w / 2 <= 192 and 101 <= y + h / 2 <= 288)


def test_a_region_elsewhere_changes_nothing(fire_clip: Path) -> None:
    result = analyze(fire_clip, CameraCalibration(masks=(ELSEWHERE,)))
    assert result.fire


def test_fire_smaller_than_the_cameras_minimum_is_not_reported(fire_clip: Path) -> None:
    assert not analyze(fire_clip, CameraCalibration(min_fire_px=400)).fire
    assert analyze(fire_clip, CameraCalibration(min_fire_px=8)).fire


def _nowhere(found: Sequence[Evidence]) -> int:
    return len(found)


class _Broken:
    def settings(self, camera_id: str) -> CameraCalibration | None:
        raise ConnectionError("registry unreachable")


def test_segment_analyser_asks_the_source_and_survives_its_failure() -> None:
    calibration = CameraCalibration(min_fire_px=10)
    fixed = SegmentAnalyser(_nowhere, FixedCameraSettings({"cam-01": calibration}))
    assert fixed.calibration("cam-01") == calibration
    assert fixed.calibration("cam-02") is None
    assert SegmentAnalyser(_nowhere).calibration("cam-01") is None
    assert SegmentAnalyser(_nowhere, _Broken()).calibration("cam-01") is None
    assert NoCameraSettings().settings("cam-01") is None
