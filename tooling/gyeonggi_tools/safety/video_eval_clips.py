"""The *evaluation* clips of the fire detector: a generator kept apart from the tuning one.

Nothing here is shared with :mod:`gyeonggi_tools.safety.video_clips` (the clips the detector's
thresholds and second stage were tuned and trained on) except the file writer: other fire and
smoke models, other scenes and framings, other positions, other decoys, other seeds.

- **Fire**: a particle flame. Hot particles are emitted along the base, rise, sway, cool and
  shrink; their heat is splatted and blurred, then coloured from red through orange and yellow
  to a white core. Particles live across frames, so the flame moves continuously (the tuning
  flame redraws noise every frame). Sizes are the flame's width at onset in the clip's pixels,
  from 8 px up; some grow, some stay the same size for the whole clip.
- **Smoke**: a sheared column of advected noise (the tuning smoke is Gaussian puffs), light or
  dark grey, drifting with a wind.
- **Scenes**: Debian's real footage, composited: ``vtest.avi`` (opencv-doc: a campus path with
  walkers) at its full 768 x 576, mirrored, or cropped to 16:9 at 640 x 360, and ``tree.avi``
  (opencv-doc: a tree line moving in the wind, 320 x 240 and 2x); synthetic cars drive
  through some. Night is a separate model (gamma, sodium tint, noise, softer focus).
- **Decoys**: traffic cones of another shape, a walker in a high-visibility vest, a red jacket,
  a sunset sky over the trees, a row of sodium street lamps, a rotating amber beacon, cars'
  headlights at night, lamp reflections shimmering on a wet road, sun glitter on water and a
  blinking neon sign; plain footage of both videos.

Seeds start at :data:`FIRST_SEED`; the tuning clips use small seeds. Every clip is a pure
function of ``(seed, index)``.
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import cv2
import numpy as np
import numpy.typing as npt

from gyeonggi_tools.safety.video_clips import write

DATA = Path("/usr/share/doc/opencv-doc/examples/data")
VTEST = DATA / "vtest.avi"
TREE = DATA / "tree.avi"
FPS = 15.0
SECONDS = 8.0
FIRST_SEED = 9001
"""The evaluation seeds (9001 and up) are far from the tuning seeds (0 to 3)."""
SIZES = (8, 12, 16, 24, 32, 48)
"""Flame widths at onset, in the clip's pixels."""
FIRES_PER_SIZE = 2
"""Fires of each size, by day and by night, per seed: 24 fires a seed."""
DECOYS = (
    "cones",
    "hi_vis_vest",
    "red_jacket",
    "sunset",
    "street_lamps",
    "rotating_beacon",
    "headlights",
    "wet_road_reflections",
    "water_glitter",
    "neon_sign",
    "plain_vtest",
    "plain_tree",
)

U8 = npt.NDArray[Any]
F32 = npt.NDArray[Any]
Layer = Callable[[U8, int], U8]


@dataclass(frozen=True)
class EvalClip:
    """One evaluation clip and its truth."""

    name: str
    path: Path
    kind: str
    """``fire``, ``smoke`` or the decoy's name."""
    scene: str
    night: bool
    onset_s: float | None = None
    size_px: int | None = None
    truth_box: tuple[int, int, int, int] | None = None
    """Where the fire is (x, y, w, h, clip pixels): a detection elsewhere is not a hit."""


# ------------------------------------------------------------------ scenes
def _read(path: Path, offset: int, count: int) -> list[U8]:
    capture = cv2.VideoCapture(str(path))
    total = int(capture.get(cv2.CAP_PROP_FRAME_COUNT)) or 1
    capture.set(cv2.CAP_PROP_POS_FRAMES, offset % total)
    frames: list[U8] = []
    while len(frames) < count:
        ok, frame = capture.read()
        if not ok:
            capture.set(cv2.CAP_PROP_POS_FRAMES, 0)
            continue
        frames.append(frame)
    capture.release()
    return frames


def scene_frames(scene: str, offset: int, count: int) -> list[U8]:
    """``count`` real frames of one framing (vtest.avi is 10 fps: each frame shows 1.5 times).

    ``vtest_full`` 768 x 576, ``vtest_mirror`` the same flipped, ``vtest_wide`` a 16:9 crop at
    640 x 360, ``tree`` 320 x 240, ``tree_2x`` 640 x 480.
    """
    if scene.startswith("vtest"):
        raw = _read(VTEST, offset, math.ceil(count / 1.5) + 1)
        frames = [raw[int(i / 1.5)] for i in range(count)]
        if scene == "vtest_mirror":
            return [cv2.flip(f, 1) for f in frames]
        if scene == "vtest_wide":
            return [
                cv2.resize(f[100:532], (640, 360), interpolation=cv2.INTER_AREA) for f in frames
            ]
        return frames
    frames = _read(TREE, offset, count)
    if scene == "tree_2x":
        return [cv2.resize(f, (640, 480), interpolation=cv2.INTER_LINEAR) for f in frames]
    return frames


def to_night(frame: U8, rng: np.random.Generator) -> U8:
    """A night view: gamma-darkened, sodium-tinted, grainier and a little soft."""
    x = (frame.astype(np.float32) / 255.0) ** 2.2 * np.array([0.55, 0.75, 0.95], np.float32)
    x = x * 255.0 + rng.normal(0, 4.0, x.shape)
    return cv2.GaussianBlur(np.clip(x, 0, 255).astype(np.uint8), (3, 3), 0)


# ------------------------------------------------------------------ fire and smoke
class ParticleFlame:
    """A flame of rising, cooling particles standing on (x, base_y)."""

    def __init__(
        self, x: int, base_y: int, onset_s: float, width: float, grow: float, seed: int
    ) -> None:
        self.x, self.base_y, self.onset_s = x, base_y, onset_s
        self.width0, self.grow = width, grow
        self.rng = np.random.default_rng(seed)
        self.p = np.zeros((0, 6), np.float32)  # x, y, vx, vy, age, life

    def width(self, t: float) -> float:
        return self.width0 + self.grow * max(0.0, t)

    def __call__(self, frame: U8, index: int) -> U8:
        t = index / FPS - self.onset_s
        if t < 0:
            return frame
        w = self.width(t)
        height = 1.7 * w
        rng = self.rng
        # Emit at the base, then move: rise, sway with a shared gust and each its own.
        k = max(4, int(1.2 * w))
        life = rng.uniform(0.35, 0.75, k) * FPS
        new = np.stack(
            [
                self.x + rng.uniform(-w / 2, w / 2, k),
                np.full(k, float(self.base_y)),
                rng.normal(0, 0.04 * w, k),
                -height / life * rng.uniform(0.8, 1.3, k),
                np.zeros(k),
                life,
            ],
            axis=1,
        ).astype(np.float32)
        self.p = np.concatenate([self.p, new])
        gust = rng.normal(0, 0.05 * w)
        self.p[:, 2] += gust + rng.normal(0, 0.05 * w, len(self.p))
        self.p[:, 2] *= 0.8
        # Particles drift toward the flame's axis as they rise (the tongue narrows).
        self.p[:, 2] += (self.x - self.p[:, 0]) * 0.08
        self.p[:, 0] += self.p[:, 2]
        self.p[:, 1] += self.p[:, 3]
        self.p[:, 4] += 1
        self.p = self.p[self.p[:, 4] < self.p[:, 5]]
        pad = int(w + 6)
        x0, x1 = max(0, int(self.x - w - pad)), min(frame.shape[1], int(self.x + w + pad))
        y0, y1 = max(0, int(self.base_y - height - pad)), min(frame.shape[0], self.base_y + 4)
        if x1 - x0 < 2 or y1 - y0 < 2:
            return frame
        # Heat splatted where each particle is, weighed by the life it has left, then blurred:
        # dense and hot at the base, sparse and cooling in the tongues.
        heat = np.zeros((y1 - y0, x1 - x0), np.float32)
        px = np.clip(self.p[:, 0].astype(np.int32) - x0, 0, x1 - x0 - 1)
        py = np.clip(self.p[:, 1].astype(np.int32) - y0, 0, y1 - y0 - 1)
        np.add.at(heat, (py, px), 1.0 - self.p[:, 4] / self.p[:, 5])
        sigma = max(0.8, w / 7)
        heat = cv2.GaussianBlur(heat, (0, 0), sigma) * (2 * math.pi * sigma * sigma) / (0.9 * w / 4)
        heat = np.clip(heat, 0, 1.6)[..., None]
        cold = np.array([10, 30, 190], np.float32)
        warm = np.array([20, 130, 250], np.float32)
        hot = np.array([200, 245, 255], np.float32)
        colour = np.where(
            heat < 0.8, cold + (warm - cold) * heat / 0.8, warm + (hot - warm) * (heat - 0.8) / 0.8
        )
        alpha = np.clip(heat * 1.8, 0, 1)
        patch = frame[y0:y1, x0:x1].astype(np.float32)
        frame[y0:y1, x0:x1] = np.clip(patch * (1 - alpha) + colour * alpha, 0, 255).astype(np.uint8)
        return frame

    def box(self, seconds: float) -> tuple[int, int, int, int]:
        w = self.width(seconds - self.onset_s)
        h = 1.7 * w
        return (
            int(self.x - w - 6),
            int(self.base_y - 1.3 * h - 6),
            int(2 * w + 12),
            int(1.3 * h + 12),
        )


class FireLight:
    """The light a fire throws on the ground at night, flickering with it."""

    def __init__(self, flame: ParticleFlame) -> None:
        self.flame = flame

    def __call__(self, frame: U8, index: int) -> U8:
        t = index / FPS - self.flame.onset_s
        if t < 0:
            return frame
        w = self.flame.width(t)
        strength = 0.5 + 0.25 * len(self.flame.p) / max(1.0, 8 * w)
        r = int(2.5 * w)
        cx, cy = self.flame.x, self.flame.base_y
        y0, y1 = max(0, cy - 2 * r), min(frame.shape[0], cy + 2 * r)
        x0, x1 = max(0, cx - 3 * r), min(frame.shape[1], cx + 3 * r)
        if x1 <= x0 or y1 <= y0:
            return frame
        yy, xx = np.mgrid[y0:y1, x0:x1].astype(np.float32)
        light = np.exp(-((xx - cx) ** 2 / (r * r) + 4 * (yy - cy) ** 2 / (r * r)))[..., None]
        patch = frame[y0:y1, x0:x1].astype(np.float32)
        patch += light * np.array([25, 80, 140], np.float32) * strength
        frame[y0:y1, x0:x1] = np.clip(patch, 0, 255).astype(np.uint8)
        return frame


class NoiseColumn:
    """Smoke: a column of noise advected upward that widens with height and leans with wind."""

    def __init__(
        self, x: int, base_y: int, onset_s: float, grey: int, wind: float, seed: int
    ) -> None:
        self.x, self.base_y, self.onset_s, self.grey, self.wind = x, base_y, onset_s, grey, wind
        rng = np.random.default_rng(seed)
        self.field = rng.random((64, 16)).astype(np.float32)

    def __call__(self, frame: U8, index: int) -> U8:
        t = index / FPS - self.onset_s
        if t < 0:
            return frame
        h, w = frame.shape[:2]
        top = max(0.0, self.base_y - 18.0 * t - 10)
        yy, xx = np.mgrid[0:h, 0:w].astype(np.float32)
        rise = np.clip((self.base_y - yy) / max(1.0, self.base_y - top), 0, 1)
        centre = self.x + self.wind * (self.base_y - yy) * 0.4
        spread = 6 + 0.35 * (self.base_y - yy)
        column = np.exp(-((xx - centre) ** 2) / (2 * spread**2)) * (yy <= self.base_y) * (yy >= top)
        # The noise field scrolls upward: the texture rises with the smoke.
        shift = int(t * 10) % 64
        noise = cv2.resize(
            np.roll(self.field, -shift, axis=0), (w, h), interpolation=cv2.INTER_CUBIC
        )
        density = np.clip(column * (0.5 + 0.7 * noise) * min(1.0, 0.3 + 0.25 * t), 0, 0.75)
        alpha = (density * (0.4 + 0.6 * rise))[..., None]
        soft = cv2.GaussianBlur(frame, (0, 0), 2.0).astype(np.float32)
        out = frame.astype(np.float32) * (1 - alpha) + soft * alpha * 0.5 + self.grey * alpha * 0.5
        return np.clip(out, 0, 255).astype(np.uint8)


# ------------------------------------------------------------------ busy scenes and decoys
class Car:
    """A car crossing the view; ``lights`` at night (white headlights, red tail lights)."""

    def __init__(self, y: int, speed: float, colour: tuple[int, int, int], lights: bool) -> None:
        self.y, self.speed, self.colour, self.lights = y, speed, colour, lights

    def __call__(self, frame: U8, index: int) -> U8:
        w = frame.shape[1]
        size = max(24, w // 12)
        t = index / FPS
        x = int((self.speed * t) % (w + 2 * size)) - size
        if self.speed < 0:
            x = w - int((-self.speed * t) % (w + 2 * size))
        y = self.y
        cv2.rectangle(frame, (x, y - size // 3), (x + size, y), self.colour, -1)
        cv2.rectangle(
            frame,
            (x + size // 5, y - size // 2),
            (x + 4 * size // 5, y - size // 3),
            (60, 50, 50),
            -1,
        )
        if self.lights:
            front = x + size if self.speed > 0 else x
            back = x if self.speed > 0 else x + size
            cv2.circle(frame, (front, y - size // 6), max(2, size // 10), (235, 245, 255), -1)
            cv2.circle(frame, (back, y - size // 6), max(2, size // 12), (40, 30, 230), -1)
        return frame


def _walker(colour: tuple[int, int, int], speed: float, y: int, stripes: bool) -> Layer:
    def paint(frame: U8, index: int) -> U8:
        w = frame.shape[1]
        t = index / FPS
        s = max(1.0, frame.shape[0] / 288)
        cx = int(w - 15 - speed * t) % w
        swing = int(6 * s * math.sin(2 * math.pi * 1.6 * t))
        body = np.array(
            [[cx - 9 * s, y - 40 * s], [cx + 9 * s, y - 40 * s], [cx + 8 * s, y], [cx - 8 * s, y]],
            np.int32,
        )
        cv2.fillPoly(frame, [body], colour)
        cv2.line(
            frame,
            (cx - int(9 * s), int(y - 36 * s)),
            (cx - int(12 * s) + swing, int(y - 10 * s)),
            colour,
            max(2, int(4 * s)),
        )
        if stripes:
            for dy in (14, 26):
                cv2.line(
                    frame,
                    (cx - int(8 * s), int(y - dy * s)),
                    (cx + int(8 * s), int(y - dy * s)),
                    (210, 235, 235),
                    max(1, int(2 * s)),
                )
        cv2.circle(frame, (cx, int(y - 47 * s)), int(7 * s), (110, 140, 180), -1)
        cv2.line(
            frame,
            (cx - int(4 * s), y),
            (cx - int(4 * s) - swing, int(y + 22 * s)),
            (50, 40, 40),
            max(2, int(5 * s)),
        )
        cv2.line(
            frame,
            (cx + int(4 * s), y),
            (cx + int(4 * s) + swing, int(y + 22 * s)),
            (50, 40, 40),
            max(2, int(5 * s)),
        )
        return frame

    return paint


def _cones(frame: U8, index: int) -> U8:
    h, w = frame.shape[:2]
    for fx in (0.2, 0.45, 0.8):
        x, y, s = int(fx * w), int(0.85 * h), max(8, w // 40)
        pts = np.array(
            [[x - s // 3, y - 3 * s], [x + s // 3, y - 3 * s], [x + s, y], [x - s, y]], np.int32
        )
        cv2.fillPoly(frame, [pts], (0, 90, 255))
        for band in (1.2, 2.1):
            yb = int(y - band * s)
            cv2.line(frame, (x - int(0.7 * s), yb), (x + int(0.7 * s), yb), (245, 245, 245), 2)
        cv2.rectangle(frame, (x - int(1.3 * s), y), (x + int(1.3 * s), y + 3), (0, 70, 220), -1)
    return frame


def _sunset(frame: U8, index: int) -> U8:
    h, w = frame.shape[:2]
    t = index / FPS
    yy, xx = np.mgrid[0:h, 0:w].astype(np.float32)
    sky = np.clip(1.0 - yy / (0.6 * h), 0, 1)[..., None]
    tint = np.array([40, 120, 255], np.float32)
    sun = np.exp(-((xx - 0.7 * w) ** 2 + (yy - 0.3 * h - 1.5 * t) ** 2) / (0.01 * w * w))[..., None]
    out = frame.astype(np.float32) * (1 - 0.6 * sky) + tint * 0.6 * sky
    out = out * (1 - sun) + np.array([160, 230, 255], np.float32) * sun
    return np.clip(out, 0, 255).astype(np.uint8)


def _street_lamps(frame: U8, index: int) -> U8:
    h, w = frame.shape[:2]
    t = index / FPS
    out = frame.astype(np.float32)
    for i, fx in enumerate((0.15, 0.4, 0.65, 0.9)):
        x, y = int(fx * w), int(0.25 * h + 0.05 * h * i)
        r = w / 40
        x0, x1, y0, y1 = (
            max(0, int(x - 4 * r)),
            min(w, int(x + 4 * r)),
            max(0, int(y - 4 * r)),
            min(h, int(y + 4 * r)),
        )
        yy, xx = np.mgrid[y0:y1, x0:x1].astype(np.float32)
        glow = np.exp(-((xx - x) ** 2 + (yy - y) ** 2) / (2 * r * r))[..., None]
        mains = 1.0 + 0.05 * math.sin(2 * math.pi * 2.7 * t + i)
        out[y0:y1, x0:x1] += glow * np.array([60, 170, 255], np.float32) * 1.6 * mains
    return np.clip(out, 0, 255).astype(np.uint8)


def _rotating_beacon(frame: U8, index: int) -> U8:
    h, w = frame.shape[:2]
    t = index / FPS
    x, y, r = int(0.6 * w), int(0.55 * h), max(4, w // 60)
    angle = 2 * math.pi * 1.5 * t
    facing = max(0.0, math.cos(angle))  # the lamp's beam sweeps past the camera
    cv2.circle(frame, (x, y), r, (0, 110, 200), -1)
    if facing > 0.05:
        out = frame.astype(np.float32)
        R = 5 * r
        y0, y1, x0, x1 = max(0, y - R), min(h, y + R), max(0, x - R), min(w, x + R)
        yy, xx = np.mgrid[y0:y1, x0:x1].astype(np.float32)
        glow = np.exp(-((xx - x) ** 2 + (yy - y) ** 2) / (2 * (1.5 * r) ** 2))[..., None]
        out[y0:y1, x0:x1] += glow * np.array([30, 160, 255], np.float32) * 2 * facing
        return np.clip(out, 0, 255).astype(np.uint8)
    return frame


def _wet_road(frame: U8, index: int, rng: np.random.Generator) -> U8:
    """Lamp reflections on a wet road: vertical streaks that shimmer with ripples."""
    h, w = frame.shape[:2]
    t = index / FPS
    out = frame.astype(np.float32)
    for fx in (0.3, 0.7):
        x = int(fx * w)
        for y in range(int(0.6 * h), h - 2, 3):
            ripple = math.sin(0.5 * y + 9 * t) + 0.6 * rng.normal()
            dx = int(2 * ripple)
            bright = 0.6 + 0.4 * math.sin(0.3 * y - 7 * t + fx * 10)
            cv2.line(
                out, (x + dx - 3, y), (x + dx + 3, y), (50 * bright, 150 * bright, 250 * bright), 2
            )
    return np.clip(out, 0, 255).astype(np.uint8)


def _water_glitter(frame: U8, index: int) -> U8:
    """Low sun on water: ripples whose crests catch the light, moving with the waves."""
    h, w = frame.shape[:2]
    t = index / FPS
    y0 = int(0.6 * h)
    yy, xx = np.mgrid[y0:h, 0:w].astype(np.float32)
    wave = np.sin(0.35 * xx + 0.9 * yy - 6 * t) * np.sin(0.21 * xx - 0.5 * yy + 4.3 * t)
    crest = (wave > 0.8).astype(np.float32)[..., None]
    water = frame[y0:].astype(np.float32) * 0.5 + np.array([80, 60, 40], np.float32) * 0.5
    water = water * (1 - crest) + np.array([80, 190, 255], np.float32) * crest
    frame[y0:] = np.clip(water, 0, 255).astype(np.uint8)
    return frame


def _neon(frame: U8, index: int) -> U8:
    """A red-and-orange neon sign whose letters light one after another, then all blink."""
    h, w = frame.shape[:2]
    t = index / FPS
    phase = (t * 1.2) % 3.0
    x, y, s = int(0.12 * w), int(0.18 * h), max(6, w // 50)
    for i in range(5):
        lit = (phase < 2.0 and phase >= 0.4 * i) or (phase >= 2.0 and int(phase * 6) % 2 == 0)
        colour = (60, 120, 255) if i % 2 else (80, 60, 255)
        if lit:
            cv2.rectangle(frame, (x + i * 2 * s, y), (x + i * 2 * s + s, y + 2 * s), colour, 2)
    return frame


# ------------------------------------------------------------------ the set
_FIRE_SCENES = ("vtest_full", "vtest_mirror", "vtest_wide", "tree", "tree_2x")


def _frames(scene: str, offset: int, night: bool, layers: list[Layer], seed: int) -> Iterator[U8]:
    count = int(SECONDS * FPS)
    rng = np.random.default_rng(seed)
    for i, frame in enumerate(scene_frames(scene, offset, count)):
        frame = frame.copy()
        if night:
            frame = to_night(frame, rng)
        for layer in layers:
            frame = layer(frame, i)
        yield frame


def evaluation_set(out: Path, seed: int = FIRST_SEED) -> Iterator[EvalClip]:
    """Write the evaluation clips of ``seed`` into ``out`` one by one (fires, smoke, decoys).

    Fires: every size of :data:`SIZES`, day and night, each on a scene and a place drawn from
    the seed (road level among walkers and cars, high on a facade, far away in the trees);
    a third of them grow. Smoke: four plumes. Decoys: each of :data:`DECOYS`, day and night
    where it has a night.
    """
    rng = np.random.default_rng(seed)
    index = 0
    for size, night, repeat in itertools.product(SIZES, (False, True), range(FIRES_PER_SIZE)):
        scene = _FIRE_SCENES[int(rng.integers(0, len(_FIRE_SCENES)))]
        w, h = {
            "vtest_full": (768, 576),
            "vtest_mirror": (768, 576),
            "vtest_wide": (640, 360),
            "tree": (320, 240),
            "tree_2x": (640, 480),
        }[scene]
        s = min(size, w // 8)
        x = int(rng.uniform(0.08, 0.92) * w)
        base = int(rng.uniform(0.15, 0.95) * h)
        base = max(base, int(2.4 * 1.7 * s) + 4)
        onset = float(rng.uniform(0.5, 4.0))
        grow = float(rng.choice([0.0, 0.0, 3.0]))
        flame = ParticleFlame(x, base, onset, s, grow, seed * 100 + index)
        layers: list[Layer] = []
        if scene.startswith("vtest") and rng.random() < 0.6:
            layers.append(
                Car(
                    int(0.8 * h),
                    float(rng.uniform(40, 120)),
                    (
                        int(rng.integers(0, 255)),
                        int(rng.integers(0, 255)),
                        int(rng.integers(0, 255)),
                    ),
                    night,
                )
            )
        if night:
            layers.append(FireLight(flame))
        layers.append(flame)
        name = f"eval{seed}_fire_{size:02d}px_{'night' if night else 'day'}{repeat}_{scene}"
        path = write(
            out / f"{name}.avi",
            _frames(scene, int(rng.integers(0, 400)), night, layers, seed * 100 + index),
        )
        yield EvalClip(name, path, "fire", scene, night, onset, s, flame.box(SECONDS))
        index += 1
    for k in range(4):
        scene = ("vtest_full", "tree", "vtest_wide", "vtest_mirror")[k]
        w, h = {
            "vtest_full": (768, 576),
            "vtest_mirror": (768, 576),
            "vtest_wide": (640, 360),
            "tree": (320, 240),
        }[scene]
        onset = float(rng.uniform(0.5, 3.0))
        column = NoiseColumn(
            int(rng.uniform(0.2, 0.8) * w),
            int(rng.uniform(0.6, 0.9) * h),
            onset,
            int(rng.choice([110, 170, 210])),
            float(rng.uniform(-0.5, 0.5)),
            seed * 100 + index,
        )
        name = f"eval{seed}_smoke_{k}_{scene}"
        path = write(
            out / f"{name}.avi",
            _frames(scene, int(rng.integers(0, 400)), False, [column], seed * 100 + index),
        )
        yield EvalClip(name, path, "smoke", scene, False, onset)
        index += 1
    for decoy in DECOYS:
        for night in (False, True):
            scene, layers = _decoy(decoy, night, rng, seed * 100 + index)
            if not layers and decoy not in ("plain_vtest", "plain_tree"):
                continue
            name = f"eval{seed}_{decoy}_{'night' if night else 'day'}"
            path = write(
                out / f"{name}.avi",
                _frames(scene, int(rng.integers(0, 400)), night, layers, seed * 100 + index),
            )
            yield EvalClip(name, path, decoy, scene, night)
            index += 1


def _decoy(decoy: str, night: bool, rng: np.random.Generator, seed: int) -> tuple[str, list[Layer]]:
    """The scene and layers of one decoy clip (empty layers: no such clip at that time)."""
    scene = ("vtest_full", "vtest_mirror", "vtest_wide")[int(rng.integers(0, 3))]
    h = {"vtest_full": 576, "vtest_mirror": 576, "vtest_wide": 360}[scene]
    noise = np.random.default_rng(seed)
    if decoy == "cones":
        return scene, [_cones]
    if decoy == "hi_vis_vest":
        return scene, [_walker((0, 140, 255), float(rng.uniform(20, 50)), int(0.75 * h), True)]
    if decoy == "red_jacket":
        return scene, [_walker((35, 25, 205), float(rng.uniform(20, 50)), int(0.7 * h), False)]
    if decoy == "sunset":
        return ("tree", [] if night else [_sunset])
    if decoy == "street_lamps":
        return (scene, [_street_lamps] if night else [])
    if decoy == "rotating_beacon":
        return scene, [_rotating_beacon]
    if decoy == "headlights":
        return scene, [
            Car(int(0.8 * h), float(rng.uniform(40, 120)), (200, 200, 200), True),
            Car(int(0.9 * h), -float(rng.uniform(40, 120)), (30, 30, 180), True),
        ] if night else []
    if decoy == "wet_road_reflections":
        return (scene, [lambda f, i: _wet_road(f, i, noise)] if night else [])
    if decoy == "water_glitter":
        return ("tree_2x", [_water_glitter])
    if decoy == "neon_sign":
        return scene, [_neon]
    if decoy == "plain_tree":
        return "tree", []
    return scene, []
