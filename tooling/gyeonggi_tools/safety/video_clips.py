"""Labelled test clips for the CCTV analysis, generated with OpenCV (no real fire footage ships).

Positives composite procedurally drawn fire (noise-driven flame shapes that flicker and grow)
and smoke (semi-transparent grey puffs that expand, rise and blur what is behind them) over real
frames of Debian's ``vtest.avi`` (a fixed camera over a path, with orange cones). Negatives are
decoys: extra cones and a vest drawn over vtest, a person in a red jacket walking across it, and
synthetic sunset, street lamp, blinking beacon and headlight scenes; vtest itself is a negative.
Every clip is a pure function of its name and seed.

    python -m gyeonggi_tools.safety.video_clips      the labelled set: detection and false alarms
"""

from __future__ import annotations

import sys
import tempfile
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import cv2
import numpy as np
import numpy.typing as npt

VTEST = Path("/usr/share/doc/opencv-doc/examples/data/vtest.avi")
FPS = 15.0
SIZE = (384, 288)
U8 = npt.NDArray[Any]
F32 = npt.NDArray[Any]
Painter = Callable[[U8, int, np.random.Generator], U8]


@dataclass(frozen=True)
class Clip:
    """One labelled clip: what it shows and when (seconds from its start)."""

    name: str
    fire: bool
    smoke: bool
    onset_s: float | None
    path: Path
    fire_box: tuple[int, int, int, int] | None = None
    """Where the fire can be (x, y, w, h in the clip's pixels), for labelling candidates."""
    size_px: int | None = None
    """The fire's width at onset, in the clip's pixels."""


def backgrounds(count: int, size: tuple[int, int] = SIZE, offset: int = 0) -> list[U8]:
    """``count`` consecutive frames of vtest.avi from frame ``offset`` (looped), resized.

    Falls back to a textured synthetic pavement when vtest.avi is not installed.
    """
    frames: list[U8] = []
    if VTEST.exists():
        cap = cv2.VideoCapture(str(VTEST))
        cap.set(cv2.CAP_PROP_POS_FRAMES, offset)
        while len(frames) < count:
            ok, frame = cap.read()
            if not ok:
                cap.set(cv2.CAP_PROP_POS_FRAMES, 0)
                continue
            frames.append(cv2.resize(frame, size, interpolation=cv2.INTER_AREA))
        cap.release()
        return frames
    rng = np.random.default_rng(offset)
    coarse = rng.normal(120, 25, (size[1] // 4, size[0] // 4, 3)).clip(0, 255).astype(np.uint8)
    base: U8 = cv2.resize(coarse, size, interpolation=cv2.INTER_NEAREST)
    return [base.copy() for _ in range(count)]


def write(path: Path, frames: Iterator[U8] | list[U8], fps: float = FPS) -> Path:
    """Write frames as MJPG AVI (``.avi``) or mp4v MP4 (``.mp4``)."""
    first = True
    writer: cv2.VideoWriter | None = None
    for frame in frames:
        if first:
            fourcc = cv2.VideoWriter.fourcc(*("mp4v" if path.suffix == ".mp4" else "MJPG"))
            writer = cv2.VideoWriter(str(path), fourcc, fps, (frame.shape[1], frame.shape[0]))
            first = False
        assert writer is not None
        writer.write(frame)
    if writer is not None:
        writer.release()
    return path


def _noise(rng: np.random.Generator, shape: tuple[int, int], cells: tuple[int, int]) -> F32:
    """Smooth random noise in [0, 1]: a coarse random grid upsampled with cubic interpolation."""
    coarse = rng.random((cells[1], cells[0])).astype(np.float32)
    return np.clip(cv2.resize(coarse, (shape[1], shape[0]), interpolation=cv2.INTER_CUBIC), 0, 1)


def fire_painter(
    x: int,
    base_y: int,
    onset_s: float,
    width: int = 26,
    grow: float = 9.0,
    *,
    height0: int = 14,
    max_height: int = 120,
    calm: float = 0.0,
    glow: float = 0.0,
) -> Painter:
    """A flame standing on (x, base_y) from ``onset_s``, growing ``grow`` px/s in height.

    ``height0`` is its height at onset; ``calm`` (0 to 0.9) carries that share of each frame's
    noise over to the next, for flames that flicker more slowly; ``glow`` lights the ground
    around the base (for night scenes), flickering with the flame.
    """
    state: dict[str, F32] = {}

    def paint(frame: U8, index: int, rng: np.random.Generator) -> U8:
        t = index / FPS - onset_s
        if t < 0:
            return frame
        height = int(min(max_height, height0 + grow * t))
        half = max(2, int(width / 2 + 0.25 * grow * t))
        x0, x1 = max(0, x - half), min(frame.shape[1], x + half)
        y0 = max(0, base_y - height)
        h, w = base_y - y0, x1 - x0
        if h < 3 or w < 3:
            return frame
        yy, xx = np.mgrid[0:h, 0:w].astype(np.float32)
        v = 1.0 - yy / h  # 0 at the top, 1 at the base
        u = (xx - (x - x0)) / max(half, 1)
        envelope = v**0.7 * np.clip(1.0 - u * u, 0, 1)
        # Tongues of flame: noise that changes every frame, so the outline and the inner
        # brightness flicker independently pixel by pixel, as real flames do (~10 Hz).
        noise = _noise(rng, (h, w), (max(2, w // 6), max(2, h // 8)))
        previous = state.get("noise")
        if calm and previous is not None and previous.shape == noise.shape:
            noise = calm * previous + (1 - calm) * noise
        state["noise"] = noise
        heat = envelope * (0.55 + 0.9 * noise) - 0.35 * (1 - v)
        alpha = np.clip(heat * 2.2, 0, 1)[..., None]
        core = np.clip(heat * 1.6, 0, 1)[..., None]
        red = np.array([20, 60, 235], np.float32)
        orange = np.array([30, 150, 255], np.float32)
        yellow = np.array([150, 235, 255], np.float32)
        colour = np.where(
            core < 0.5,
            red + (orange - red) * core * 2,
            orange + (yellow - orange) * (core - 0.5) * 2,
        )
        if glow:
            _glow(frame, x, base_y, 2.5 * max(half, 3), glow * (0.8 + 0.4 * float(noise.mean())))
        patch = frame[y0:base_y, x0:x1].astype(np.float32)
        frame[y0:base_y, x0:x1] = (patch * (1 - alpha) + colour * alpha).astype(np.uint8)
        return frame

    return paint


def _glow(frame: U8, x: int, y: int, radius: float, strength: float) -> None:
    """Add warm light around (x, y) in place (a fire lighting the ground at night)."""
    h, w = frame.shape[:2]
    r = int(3 * radius)
    x0, x1, y0, y1 = max(0, x - r), min(w, x + r), max(0, y - r), min(h, y + r)
    if x1 <= x0 or y1 <= y0:
        return
    yy, xx = np.mgrid[y0:y1, x0:x1].astype(np.float32)
    light = np.exp(-((xx - x) ** 2 + (yy - y) ** 2) / (2 * radius * radius))[..., None]
    warm = np.array([20, 90, 160], np.float32) * strength
    patch = frame[y0:y1, x0:x1].astype(np.float32) + light * warm
    frame[y0:y1, x0:x1] = np.clip(patch, 0, 255).astype(np.uint8)


def night(frame: U8, index: int, rng: np.random.Generator) -> U8:
    """The scene at night: dark, bluish, noisier (a painter applied before the others)."""
    dark = frame.astype(np.float32) * np.array([0.32, 0.26, 0.22], np.float32)
    dark += rng.normal(0, 3.0, dark.shape)
    return np.clip(dark, 0, 255).astype(np.uint8)


def sodium_night(frame: U8, index: int, rng: np.random.Generator) -> U8:
    """Night under sodium street lighting: dark and orange, so bright things look warm."""
    lit = frame.astype(np.float32) * np.array([0.12, 0.35, 0.6], np.float32)
    lit += rng.normal(0, 3.5, lit.shape)
    return np.clip(lit, 0, 255).astype(np.uint8)


def warm_tint(frame: U8, index: int, rng: np.random.Generator) -> U8:
    """Low evening sun: the whole view warmer and brighter."""
    warm = frame.astype(np.float32) * np.array([0.7, 0.95, 1.25], np.float32) + 15
    return np.clip(warm, 0, 255).astype(np.uint8)


def sway_painter(y0: int, y1: int, amplitude: float = 3.0) -> Painter:
    """Foliage or grass moving in the wind: rows of a band shift back and forth, unevenly."""

    def paint(frame: U8, index: int, rng: np.random.Generator) -> U8:
        t = index / FPS
        w = frame.shape[1]
        yy, xx = np.mgrid[y0:y1, 0:w].astype(np.float32)
        dx = amplitude * np.sin(0.09 * xx + 0.05 * yy + 2.3 * t) * np.sin(0.13 * yy + 1.7 * t)
        band = cv2.remap(frame, xx + dx, yy + 0.5 * dx, cv2.INTER_LINEAR)
        frame[y0:y1] = band
        return frame

    return paint


def glitter_painter(y0: int, y1: int, colour: tuple[int, int, int] = (60, 160, 255)) -> Painter:
    """Sunlight on rippling water: a band of warm glints that sparkle and drift."""

    def paint(frame: U8, index: int, rng: np.random.Generator) -> U8:
        w = frame.shape[1]
        band = frame[y0:y1].astype(np.float32) * 0.6 + np.array([90, 70, 50], np.float32) * 0.4
        for _ in range(int(0.004 * (y1 - y0) * w)):
            gx, gy = int(rng.integers(0, w)), int(rng.integers(0, y1 - y0))
            size = int(rng.integers(1, 4))
            cv2.ellipse(band, (gx, gy), (size + 1, size), 0, 0, 360, colour, -1)
        frame[y0:y1] = np.clip(band, 0, 255).astype(np.uint8)
        return frame

    return paint


def tail_lights_painter(y: int, speed: float, brake_hz: float = 0.5) -> Painter:
    """A car's red tail lights crossing the view, brightening as it brakes."""

    def paint(frame: U8, index: int, rng: np.random.Generator) -> U8:
        t = index / FPS
        w = frame.shape[1]
        cx = int((20 + speed * t) % (w + 60)) - 30
        bright = 255 if (t * brake_hz) % 1.0 < 0.5 else 170
        cv2.rectangle(frame, (cx - 30, y - 14), (cx + 30, y + 6), (70, 60, 60), -1)
        for dx in (-24, 20):
            cv2.circle(frame, (cx + dx, y - 4), 4, (40, 40, bright), -1)
        return frame

    return paint


def wet_reflections_painter(xs: tuple[int, ...], y0: int, y1: int) -> Painter:
    """Lamps' light on a wet road at night: warm vertical streaks below each lamp whose rows
    ripple (shift and brighten) independently, frame to frame, as the water moves."""

    def paint(frame: U8, index: int, rng: np.random.Generator) -> U8:
        h = y1 - y0
        for x in xs:
            shift = np.cumsum(rng.normal(0, 0.8, h)).clip(-4, 4)
            gain = 0.55 + 0.45 * rng.random(h)
            for r in range(0, h, 2):
                cx, half = int(x + shift[r]), 2 + int(3 * r / h)
                warm = np.array([40, 150, 255], np.float32) * gain[r] * (1 - 0.5 * r / h)
                row = frame[y0 + r : y0 + r + 2, max(0, cx - half) : cx + half].astype(np.float32)
                frame[y0 + r : y0 + r + 2, max(0, cx - half) : cx + half] = np.clip(
                    row * 0.3 + warm, 0, 255
                ).astype(np.uint8)
        return frame

    return paint


def lamp_row_painter(y: int, count: int, hz: float) -> Painter:
    """A row of sodium street lamps at night, each a warm glow with its own mains flicker."""

    def paint(frame: U8, index: int, rng: np.random.Generator) -> U8:
        t = index / FPS
        w = frame.shape[1]
        for k in range(count):
            x = int((k + 0.5) * w / count)
            level = 0.85 + 0.15 * np.sin(2 * np.pi * hz * t + k)
            cv2.circle(frame, (x, y), 5, (60, int(170 * level), int(255 * level)), -1)
            cv2.circle(frame, (x, y), 9, (30, int(90 * level), int(170 * level)), 2)
        return frame

    return paint


def headlights_painter(y: int, speed: float) -> Painter:
    """A car's headlights coming through the scene at night: two bright warm-white discs."""

    def paint(frame: U8, index: int, rng: np.random.Generator) -> U8:
        t = index / FPS
        w = frame.shape[1]
        cx = int((speed * t) % (w + 80)) - 40
        for dx in (0, 30):
            cv2.circle(frame, (cx + dx, y), 6, (190, 235, 255), -1)
            cv2.circle(frame, (cx + dx, y), 10, (60, 140, 220), 2)
        return frame

    return paint


def smoke_painter(x: int, y: int, onset_s: float, grey: int = 190) -> Painter:
    """A light grey plume from (x, y): puffs that appear, expand, rise and drift."""

    def paint(frame: U8, index: int, rng: np.random.Generator) -> U8:
        t = index / FPS - onset_s
        if t < 0:
            return frame
        h, w = frame.shape[:2]
        density = np.zeros((h, w), np.float32)
        yy, xx = np.mgrid[0:h, 0:w].astype(np.float32)
        # A puff leaves the source every 0.3 s; each rises at 12 px/s and widens with age.
        for k in range(int(t / 0.3) + 1):
            age = t - k * 0.3
            cy = y - 12 * age
            cx = x + 6 * np.sin(0.9 * k) * age
            r = 10 + 7 * age
            density += 0.35 * np.exp(-((xx - cx) ** 2 + (yy - cy) ** 2) / (2 * r * r))
        turbulence = _noise(rng, (h, w), (12, 9)) * 0.3 + 0.85
        alpha = np.clip(density * turbulence * min(1.0, 0.4 + 0.3 * t), 0, 0.7)[..., None]
        blurred = cv2.GaussianBlur(frame, (0, 0), 2.5).astype(np.float32)
        behind = frame.astype(np.float32) * (1 - alpha) + blurred * alpha
        veil = np.full_like(behind, grey)
        return (behind * (1 - alpha) + veil * alpha).astype(np.uint8)

    return paint


def red_jacket_painter(speed: float = 22.0) -> Painter:
    """A walker in a red jacket crossing the frame from left to right."""

    def paint(frame: U8, index: int, rng: np.random.Generator) -> U8:
        t = index / FPS
        cx = int(20 + speed * t)
        cy = int(180 + 3 * np.sin(2 * np.pi * 1.8 * t))
        cv2.ellipse(frame, (cx, cy), (11, 22), 0, 0, 360, (30, 30, 200), -1)
        cv2.ellipse(frame, (cx - 3, cy - 5), (4, 12), 0, 0, 360, (60, 60, 240), -1)
        cv2.circle(frame, (cx, cy - 30), 7, (120, 150, 190), -1)
        cv2.rectangle(frame, (cx - 7, cy + 20), (cx + 7, cy + 45), (60, 50, 40), -1)
        return frame

    return paint


def cones_painter() -> Painter:
    """Static traffic cones and a safety vest on a post (orange, reflective stripes)."""

    def paint(frame: U8, index: int, rng: np.random.Generator) -> U8:
        for x in (60, 110, 300):
            pts = np.array([[x, 200], [x - 12, 240], [x + 12, 240]], np.int32)
            cv2.fillPoly(frame, [pts], (20, 110, 245))
            cv2.line(frame, (x - 7, 225), (x + 7, 225), (235, 235, 235), 3)
        cv2.rectangle(frame, (200, 150), (230, 190), (10, 140, 255), -1)
        cv2.line(frame, (200, 170), (230, 170), (200, 230, 230), 3)
        return frame

    return paint


def _scene(kind: str, index: int, rng: np.random.Generator) -> U8:
    """Synthetic decoy scenes that vtest cannot provide."""
    w, h = SIZE
    t = index / FPS
    yy, xx = np.mgrid[0:h, 0:w].astype(np.float32)
    if kind == "sunset":
        k = (yy / h)[..., None]
        sky = (
            np.array([60, 90, 250], np.float32) * (1 - k) + np.array([90, 170, 255], np.float32) * k
        )
        sun = np.exp(-((xx - 190) ** 2 + (yy - 160 + 2 * t) ** 2) / 900.0)[..., None]
        img = sky * (1 - sun) + np.array([170, 240, 255], np.float32) * sun
        img[200:] = np.array([40, 35, 30], np.float32)
        cv2.rectangle(img, (40, 150), (90, 200), (30, 25, 20), -1)
    else:
        img = np.full((h, w, 3), 18, np.float32)
        img[200:] = 40
        for x in range(0, w, 48):
            cv2.line(img, (x, 200), (x + 20, 288), (70, 70, 70), 2)
        if kind == "street_lamp":
            glow = np.exp(-((xx - 150) ** 2 + (yy - 70) ** 2) / 700.0)[..., None]
            mains = 1.0 + 0.04 * np.sin(2 * np.pi * 3.3 * t)  # aliased mains flicker, coherent
            img = img + glow * np.array([90, 200, 255], np.float32) * mains
            cv2.line(img, (150, 80), (150, 200), (50, 50, 50), 4)
        elif kind == "blinking":
            on = (t * 2.0) % 1.0 < 0.5  # an amber beacon at 2 Hz
            if on:
                glow = np.exp(-((xx - 200) ** 2 + (yy - 150) ** 2) / 250.0)[..., None]
                img = img + glow * np.array([40, 170, 255], np.float32)
        elif kind == "headlights":
            for lane, (speed, y) in enumerate(((60.0, 210.0), (-45.0, 235.0))):
                cx = (30 + speed * t) % (w + 80) - 40 if speed > 0 else w - ((45 * t) % (w + 80))
                for dx in (0, 34):
                    glow = np.exp(-((xx - cx - dx) ** 2 + (yy - y) ** 2) / (60.0 + 20 * lane))
                    img = img + glow[..., None] * np.array([190, 240, 255], np.float32)
    img = img + rng.normal(0, 2.5, img.shape)  # sensor noise
    return np.clip(img, 0, 255).astype(np.uint8)


def _frames(
    seconds: float,
    painters: list[Painter],
    seed: int,
    offset: int = 0,
    scene: str | None = None,
    size: tuple[int, int] = SIZE,
) -> Iterator[U8]:
    rng = np.random.default_rng(seed)
    count = int(seconds * FPS)
    bgs = [] if scene else backgrounds(count, size, offset)
    for i in range(count):
        frame = _scene(scene, i, rng) if scene else bgs[i].copy()
        for paint in painters:
            frame = paint(frame, i, rng)
        yield frame


Spec = tuple[str, bool, bool, float | None, list[Painter], int, str | None]


def _specs() -> list[Spec]:
    """(name, fire, smoke, onset s, painters, vtest offset, synthetic scene) of every clip."""
    return [
        ("fire_path", True, False, 2.0, [fire_painter(120, 250, 2.0)], 0, None),
        ("fire_left", True, False, 1.0, [fire_painter(60, 200, 1.0, grow=12)], 200, None),
        ("fire_late", True, False, 4.0, [fire_painter(290, 230, 4.0, width=20)], 400, None),
        ("smoke_path", False, True, 1.0, [smoke_painter(200, 240, 1.0)], 100, None),
        ("smoke_right", False, True, 2.0, [smoke_painter(300, 220, 2.0)], 500, None),
        (
            "fire_and_smoke",
            True,
            True,
            1.5,
            [smoke_painter(150, 220, 1.5), fire_painter(150, 240, 1.5)],
            300,
            None,
        ),
        ("vtest_a", False, False, None, [], 0, None),
        ("vtest_b", False, False, None, [], 250, None),
        ("vtest_c", False, False, None, [], 600, None),
        ("cones_vest", False, False, None, [cones_painter()], 150, None),
        ("red_jacket", False, False, None, [red_jacket_painter()], 350, None),
        ("sunset", False, False, None, [], 0, "sunset"),
        ("street_lamp", False, False, None, [], 0, "street_lamp"),
        ("blinking_light", False, False, None, [], 0, "blinking"),
        ("headlights", False, False, None, [], 0, "headlights"),
        # Fires that stay small: on the facade high in the frame, far away, at night.
        (
            "fire_small_facade",
            True,
            False,
            1.0,
            [fire_painter(230, 46, 1.0, width=10, grow=0.0, height0=14, max_height=14)],
            120,
            None,
        ),
        (
            "fire_distant",
            True,
            False,
            1.0,
            [fire_painter(330, 95, 1.0, width=8, grow=0.0, height0=10, max_height=10, calm=0.5)],
            420,
            None,
        ),
        (
            "fire_night_small",
            True,
            False,
            1.0,
            [
                night,
                fire_painter(140, 200, 1.0, 12, 0.0, height0=16, max_height=16, glow=0.6),
            ],
            260,
            None,
        ),
        ("glitter", False, False, None, [glitter_painter(180, 270)], 90, None),
        ("tail_lights", False, False, None, [tail_lights_painter(220, 30.0)], 310, None),
        ("red_jacket_night", False, False, None, [night, red_jacket_painter()], 530, None),
    ]


NAMES = tuple(spec[0] for spec in _specs())
"""Every clip of the labelled set."""


def make_clip(name: str, out: Path, seconds: float = 8.0, variant: int = 0) -> Clip:
    """Write one clip of the labelled set into ``out`` (see :func:`labelled_set`)."""
    for seed, (clip, fire, smoke, onset, painters, offset, scene) in enumerate(_specs()):
        if clip == name:
            path = write(
                out / f"{name}.avi",
                _frames(seconds, painters, seed + 1000 * variant, offset + 37 * variant, scene),
            )
            return Clip(name, fire, smoke, onset, path)
    raise KeyError(name)


def labelled_set(out: Path, seconds: float = 8.0, variant: int = 0) -> list[Clip]:
    """Write the labelled set into ``out`` and return its clips (positives, then negatives).

    ``variant`` 0 is the set the thresholds were tuned on; other variants draw other noise
    (seeds) over other vtest frames (offsets), a held-out check of the same recipe.
    """
    return [make_clip(name, out, seconds, variant) for name in NAMES]


def clip_720p(path: Path, seconds: float = 6.0) -> Path:
    """A 1280 x 720 fire clip over vtest (for the decode-vs-analysis benchmark)."""
    size = (1280, 720)
    painter = fire_painter(600, 600, 1.0, width=80, grow=30)
    return write(path, _frames(seconds, [painter], 7, 0, None, size))


_TUNING_SIZES = ((384, 288), (640, 480), (768, 576))
_DECOYS = (
    "vtest",
    "swaying",
    "warm_evening",
    "cones_vest",
    "red_jacket",
    "sunset",
    "street_lamp",
    "blinking",
    "headlights",
    "glitter",
    "tail_lights",
)


def _night_kind(rng: np.random.Generator) -> Painter:
    return night if rng.random() < 0.5 else sodium_night


def tuning_set(out: Path, seed: int = 0, fires: int = 24, seconds: float = 6.0) -> list[Clip]:
    """Random fires and decoys for training the second stage (the *tuning* clips).

    Fires of 6 to 40 px at onset, growing or not, fast or slower flicker, day or night, at
    random places over vtest.avi at three sizes; every decoy kind, day and night, then night
    lights over vtest (reflections on a wet road, a row of lamps, headlights). Everything is
    drawn by this module's painters: the evaluation set (``video_eval_clips``) draws its own.
    """
    rng = np.random.default_rng(seed)
    clips: list[Clip] = []
    for i in range(fires):
        size = _TUNING_SIZES[int(rng.integers(0, len(_TUNING_SIZES)))]
        w, h = size
        width = int(rng.integers(6, 41))
        x = int(rng.integers(30, w - 30))
        base = int(rng.integers(h // 4, h - 10))
        onset = float(rng.uniform(0.5, 2.5))
        grow = float(rng.choice([0.0, 1.0, 4.0, 10.0]))
        dark = bool(rng.random() < 0.4)
        height0 = max(5, int(width * rng.uniform(1.0, 1.8)))
        painter = fire_painter(
            x,
            base,
            onset,
            width,
            grow,
            height0=height0,
            max_height=max(height0, min(base - 2, 3 * height0)),
            calm=float(rng.uniform(0.0, 0.7)),
            glow=float(rng.uniform(0.3, 1.0)) if dark else 0.0,
        )
        painters: list[Painter] = [_night_kind(rng)] if dark else []
        if rng.random() < 0.3:
            painters.insert(0, sway_painter(h // 3, h, float(rng.uniform(1, 4))))
        if rng.random() < 0.3:
            painters.append(red_jacket_painter(float(rng.uniform(10, 40))))
        painters.append(painter)
        top = max(0, base - max(height0, min(base - 2, 3 * height0)) - 4)
        half = int(width / 2 + 0.25 * grow * seconds) + 4
        name = f"tune_fire_{seed}_{i}"
        path = write(
            out / f"{name}.avi",
            _frames(seconds, painters, seed * 1000 + i, int(rng.integers(0, 700)), None, size),
        )
        box = (max(0, x - half), top, 2 * half, base + 4 - top)
        clips.append(Clip(name, True, False, onset, path, box, width))
    for j, kind in enumerate(_DECOYS * 2):
        dark = j >= len(_DECOYS)
        name = f"tune_{kind}_{'night' if dark else 'day'}_{seed}"
        size = _TUNING_SIZES[j % len(_TUNING_SIZES)]
        painters = [_night_kind(rng)] if dark else []
        scene = None
        if kind == "cones_vest":
            painters.append(cones_painter())
        elif kind == "red_jacket":
            painters.append(red_jacket_painter(float(rng.uniform(10, 40))))
        elif kind == "glitter":
            painters.append(glitter_painter(size[1] // 2, size[1] - 20))
        elif kind == "swaying":
            painters.insert(0, sway_painter(size[1] // 3, size[1], float(rng.uniform(2, 5))))
        elif kind == "warm_evening":
            painters.append(sway_painter(0, size[1] // 2, float(rng.uniform(1, 3))))
            painters.append(warm_tint)
        elif kind == "tail_lights":
            painters.append(tail_lights_painter(int(size[1] * 0.7), float(rng.uniform(15, 50))))
        elif kind in ("sunset", "street_lamp", "blinking", "headlights"):
            scene, size = ("blinking" if kind == "blinking" else kind), SIZE
        path = write(
            out / f"{name}.avi",
            _frames(
                seconds, painters, seed * 1000 + 500 + j, int(rng.integers(0, 700)), scene, size
            ),
        )
        clips.append(Clip(name, False, False, None, path))
    clips += _night_lights(out, seed, rng, seconds)
    return clips


def _night_lights(out: Path, seed: int, rng: np.random.Generator, seconds: float) -> list[Clip]:
    """Night decoys over vtest: reflections on a wet road, a row of lamps, headlights
    (drawn after the other clips, so the earlier ones stay as they were)."""
    clips: list[Clip] = []
    for k, kind in enumerate(("wet_reflections", "lamp_row", "night_headlights")):
        size = _TUNING_SIZES[(seed + k) % len(_TUNING_SIZES)]
        w, h = size
        painters: list[Painter] = [_night_kind(rng)]
        if kind == "wet_reflections":
            xs = tuple(int(x) for x in rng.integers(20, w - 20, 3))
            y0 = int(rng.integers(h // 2, h - 60))
            painters.append(wet_reflections_painter(xs, y0, min(h, y0 + int(rng.integers(30, 60)))))
        elif kind == "lamp_row":
            painters.append(
                lamp_row_painter(int(rng.integers(20, h // 2)), 5, float(rng.uniform(0.5, 4)))
            )
        else:
            painters.append(
                headlights_painter(int(rng.integers(h // 2, h - 20)), float(rng.uniform(30, 90)))
            )
        name = f"tune_{kind}_{seed}"
        path = write(
            out / f"{name}.avi",
            _frames(
                seconds, painters, seed * 1000 + 900 + k, int(rng.integers(0, 700)), None, size
            ),
        )
        clips.append(Clip(name, False, False, None, path))
    return clips


def main(argv: list[str] | None = None) -> int:
    """Generate the labelled set (variant ``argv[0]``), analyse it, print a Markdown table."""
    from gyeonggi.safety.video import analyze

    variant = int((argv or sys.argv[1:] or ["0"])[0])
    with tempfile.TemporaryDirectory() as tmp:
        clips = labelled_set(Path(tmp), variant=variant)
        print("| clip | truth | fire | smoke | first fire s | first smoke s |")
        print("| --- | --- | --- | --- | ---: | ---: |")
        hits = positives = false_alarms = negatives = 0
        for clip in clips:
            result = analyze(clip.path)
            truth = ("fire " if clip.fire else "") + ("smoke" if clip.smoke else "") or "none"
            print(
                f"| {clip.name} | {truth.strip()} | {result.fire} | {result.smoke} "
                f"| {result.first_fire_second} | {result.first_smoke_second} |"
            )
            for want, got in ((clip.fire, result.fire), (clip.smoke, result.smoke)):
                if want:
                    positives += 1
                    hits += got
                else:
                    negatives += 1
                    false_alarms += got
        print(f"\ndetected {hits}/{positives}; false alarms {false_alarms}/{negatives}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
