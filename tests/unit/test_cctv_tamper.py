"""Tamper statistics on generated views: covered, blurred and moved against normal, and against
the change from day to night, which must be none of them.

The scene is real footage (Debian's ``vtest.avi``: a fixed camera over a path with people
walking) when it is installed, else a generated textured scene; the tampering, the night and the
noise are generated here. Frames are grey and 320 pixels wide, as
``gyeonggi.safety.video.still_frames`` gives them; each view is the median of three frames a
second or so apart, as the analysis takes it.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import cache
from pathlib import Path

import cv2
import numpy as np
import pytest

from gyeonggi.cctv import tamper
from gyeonggi.safety.video import still_frames
from gyeonggi_tools.safety import video_clips

VTEST = Path("/usr/share/doc/opencv-doc/examples/data/vtest.avi")
Frame = np.ndarray


@cache
def footage() -> tuple[Frame, ...]:
    """Grey 320 x 240 frames, 40 frames (about 4 s) apart."""
    if VTEST.exists():
        capture = cv2.VideoCapture(str(VTEST))
        frames = []
        for index in range(720):
            ok, frame = capture.read()
            if not ok:
                break
            if index % 40 == 0:
                small = cv2.resize(frame, (320, 240), interpolation=cv2.INTER_AREA)
                frames.append(cv2.cvtColor(small, cv2.COLOR_BGR2GRAY))
        capture.release()
        return tuple(frames)
    return tuple(synthetic_scene(seed) for seed in range(18))


def synthetic_scene(seed: int, width: int = 320, height: int = 240) -> Frame:
    """A textured scene (buildings, a road, noise) whose passers-by change with ``seed``."""
    rng = np.random.default_rng(7)
    image = np.full((height, width), 110.0)
    for _ in range(40):  # facades and windows: the fixed scene
        x, y = rng.integers(0, width - 20), rng.integers(0, height - 20)
        w, h = rng.integers(8, 60), rng.integers(8, 60)
        image[y : y + h, x : x + w] = rng.integers(30, 230)
    people = np.random.default_rng(seed)
    for _ in range(3):
        x, y = people.integers(0, width - 12), people.integers(height // 2, height - 30)
        image[y : y + 30, x : x + 12] = people.integers(20, 200)
    return np.clip(image + people.normal(0, 2, image.shape), 0, 255).astype(np.uint8)


def view(k: int, change: Callable[[Frame], Frame] = lambda f: f) -> Frame:
    frames = footage()
    return tamper.median_frame([change(frames[(k + j) % len(frames)]) for j in range(3)])


REFERENCE = 0


def night(frame: Frame) -> Frame:
    """Light x 0.3, two street lamps, sensor noise."""
    rng = np.random.default_rng(int(frame.sum()) % 1000)
    dark = frame.astype(np.float32) * 0.3 + 8
    yy, xx = np.mgrid[: frame.shape[0], : frame.shape[1]]
    for cx, cy in ((50, 30), (250, 40)):
        dark += 120 * np.exp(-((xx - cx) ** 2 + (yy - cy) ** 2) / (2 * 12**2))
    return np.clip(dark + rng.normal(0, 5, dark.shape), 0, 255)


def dusk(frame: Frame) -> Frame:
    return np.clip(255 * (frame / 255.0) ** 1.6 * 0.7, 0, 255)


def covered(frame: Frame) -> Frame:
    """A hand or a bag over the lens: dark, nearly uniform, a little light leaking at one side."""
    rng = np.random.default_rng(3)
    xx = np.mgrid[: frame.shape[0], : frame.shape[1]][1]
    return np.clip(20 + 10 * xx / frame.shape[1] + rng.normal(0, 3, frame.shape), 0, 255)


def flashlight(frame: Frame) -> Frame:
    """A lamp shone into the lens: white all over."""
    return np.full(frame.shape, 250.0)


def blurred(frame: Frame) -> Frame:
    return cv2.GaussianBlur(frame.astype(np.float32), (0, 0), 3)


def moved(frame: Frame) -> Frame:
    shift = np.array([[1, 0, 30], [0, 1, 12]], dtype=np.float32)
    return cv2.warpAffine(
        frame, shift, (frame.shape[1], frame.shape[0]), borderMode=cv2.BORDER_REFLECT
    )


def shaken(frame: Frame) -> Frame:
    shift = np.array([[1, 0, 2], [0, 1, 1]], dtype=np.float32)
    return cv2.warpAffine(
        frame, shift, (frame.shape[1], frame.shape[0]), borderMode=cv2.BORDER_REFLECT
    )


@pytest.fixture(scope="module")
def reference() -> Frame:
    return view(REFERENCE)


@pytest.mark.parametrize("k", [3, 8, 14])
@pytest.mark.parametrize(
    "change", [lambda f: f, night, dusk, shaken], ids=["normal", "night", "dusk", "shaken"]
)
def test_normal_views_by_day_and_night_are_not_tampered(
    reference: Frame, k: int, change: Callable[[Frame], Frame]
) -> None:
    verdict = tamper.judge(view(k, change), reference)
    assert verdict.kind is None, verdict.to_json()
    assert verdict.similarity is not None and verdict.similarity >= tamper.SAME_VIEW


@pytest.mark.parametrize("k", [3, 8, 14])
@pytest.mark.parametrize(
    ("change", "kind"),
    [
        (covered, "covered"),
        (flashlight, "covered"),
        (lambda f: covered(night(f)), "covered"),
        (blurred, "blurred"),
        (lambda f: blurred(dusk(f)), "blurred"),
        (moved, "moved"),
        (np.fliplr, "moved"),
        (lambda f: moved(night(f)), "moved"),
    ],
    ids=[
        "covered",
        "flashlight",
        "covered-night",
        "blurred",
        "blurred-dusk",
        "moved",
        "turned",
        "moved-night",
    ],
)
def test_covered_blurred_and_moved_views_are_found(
    reference: Frame, k: int, change: Callable[[Frame], Frame], kind: str
) -> None:
    verdict = tamper.judge(view(k, change), reference)
    assert verdict.kind == kind, verdict.to_json()


def test_a_moved_view_reports_the_shift_at_the_working_scale(reference: Frame) -> None:
    verdict = tamper.judge(view(5, moved), reference)
    assert verdict.shift == (15, 6)  # 30 and 12 pixels at 320 wide, halved


def test_a_pan_tilt_zoom_camera_is_never_moved_but_can_be_covered(reference: Frame) -> None:
    assert tamper.judge(view(5, moved), reference, ptz=True).kind is None
    assert tamper.judge(view(5, np.fliplr), reference, ptz=True).kind is None
    assert tamper.judge(view(5, flashlight), reference, ptz=True).kind == "covered"


def test_without_a_reference_only_a_view_with_no_contrast_is_judged() -> None:
    assert tamper.judge(view(5, covered), None).kind == "covered"
    assert tamper.judge(view(5, moved), None).kind is None
    assert tamper.judge(view(5, blurred), None).kind is None


def test_only_a_view_that_shows_something_becomes_a_reference() -> None:
    assert tamper.usable_as_reference(view(5))
    assert tamper.usable_as_reference(view(5, night))
    assert not tamper.usable_as_reference(view(5, covered))
    assert not tamper.usable_as_reference(view(5, flashlight))
    assert not tamper.usable_as_reference(
        tamper.median_frame([cv2.GaussianBlur(footage()[5], (0, 0), 9)])
    )


def test_frames_come_from_a_segment_file_as_the_analysis_decodes_it(tmp_path: Path) -> None:
    clip = video_clips.make_clip("vtest_a", tmp_path, seconds=3.0)
    frames = still_frames(clip.path)
    assert len(frames) == 3 and all(f.shape[1] == 320 and f.ndim == 2 for f in frames)
    own = tamper.median_frame(frames)
    assert tamper.judge(own, own).kind is None
    assert still_frames(tmp_path / "missing.avi") == []
    (tmp_path / "junk.mp4").write_bytes(b"\x00\x01 not a video")
    assert still_frames(tmp_path / "junk.mp4") == []
