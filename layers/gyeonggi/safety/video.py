"""Fire and smoke in CCTV video segments, with OpenCV and numpy.

:func:`analyze` decodes a segment (MP4 or AVI, ~10 s), keeps about :data:`ANALYSIS_FPS` frames a
second, downscales them to :data:`WORK_WIDTH` pixels wide and scores every second of video:

Fire
    Flame-coloured pixels (bright, red to yellow, R >= G > B) that stay in place for most of the
    second *and* flicker: their fine texture (the frame minus its local mean) changes from frame
    to frame. Subtracting the local mean removes changes a whole region shares, so a blinking
    beacon or a lamp dimming does not count as flicker; a static cone, vest, sunset or lamp has
    no flicker at all; a moving red jacket or headlight does not stay in place.
Smoke
    Cells (8 x 8 working pixels) whose background is still visible but washed out: the
    frame is well correlated with a running background model while its contrast fell more than
    its brightness did (a shadow dims both alike), and the cell turned grey (low saturation).

A second scores from 0 to 1 by the area of such pixels. An alarm needs temporal confirmation:
:data:`CONFIRM_SECONDS` consecutive seconds scoring at least :data:`SCORE_THRESHOLD` over
overlapping regions, and the region must grow (fire) or spread or rise (smoke) during the run,
or, for fire, persist for :data:`SUSTAINED_SECONDS`.

The module imports cv2 and numpy at import time: it is for the video function and the CLI, never
for the sensor alarm path.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import cv2
import numpy as np
import numpy.typing as npt

from gyeonggi.common.errors import InvalidInput

WORK_WIDTH = 320
"""Frames are analysed at this width (the aspect ratio is kept)."""
ANALYSIS_FPS = 7.5
"""About this many frames a second are analysed (every 2nd frame of a 15 fps recording)."""
SCORE_THRESHOLD = 0.5
CONFIRM_SECONDS = 2
SUSTAINED_SECONDS = 4
MAX_SECONDS = 600
"""Longer files are analysed up to this many seconds (a segment is ~10 s)."""

# Fire pixels: minimum share of the frame for a full score (0.2 %: ~150 px at 320 x 240).
_FIRE_FULL_AREA = 0.002
_FIRE_PERSISTENCE = 0.5
_FIRE_FLICKER = 0.35
_FLICKER_STEP = 12.0
# Smoke cells.
_CELL = 8
_SMOKE_FULL_CELLS = 12
_MIN_TEXTURE = 6.0
_BG_ALPHA = 0.05
_SMOKE_NCC = 0.75
_SMOKE_CONTRAST = 0.6
_SMOKE_MIN_CELLS = 5
_FIRE_RED = 180
_FIRE_RB = 90

Box = tuple[int, int, int, int]
# cv2's stubs type every array loosely; these aliases document intent, not dtype checks.
U8 = npt.NDArray[Any]
F32 = npt.NDArray[Any]
Mask = npt.NDArray[np.bool_]


@dataclass
class SecondScore:
    """The scores of one second of video and where the evidence is (original pixels)."""

    second: int
    fire: float
    smoke: float
    fire_boxes: list[Box] = field(default_factory=list)
    smoke_boxes: list[Box] = field(default_factory=list)


@dataclass
class VideoAnalysis:
    """What :func:`analyze` found in one segment; :meth:`to_json` is the published shape."""

    fps: float
    width: int
    height: int
    frames: int
    frames_analysed: int
    seconds: list[SecondScore]
    fire: bool = False
    smoke: bool = False
    first_fire_second: int | None = None
    first_smoke_second: int | None = None
    fire_boxes: list[Box] = field(default_factory=list)
    smoke_boxes: list[Box] = field(default_factory=list)
    keyframe_second: int | None = None
    keyframe_jpeg: bytes | None = field(default=None, repr=False)

    @property
    def duration_s(self) -> float:
        return round(self.frames / self.fps, 3) if self.fps else 0.0

    def to_json(self) -> dict[str, Any]:
        """The result as JSON-ready data (everything but the keyframe's bytes)."""
        return {
            "fire": self.fire,
            "smoke": self.smoke,
            "first_fire_second": self.first_fire_second,
            "first_smoke_second": self.first_smoke_second,
            "fire_boxes": [list(b) for b in self.fire_boxes],
            "smoke_boxes": [list(b) for b in self.smoke_boxes],
            "fps": round(self.fps, 3),
            "width": self.width,
            "height": self.height,
            "frames": self.frames,
            "frames_analysed": self.frames_analysed,
            "duration_s": self.duration_s,
            "keyframe_second": self.keyframe_second,
            "seconds": [
                {
                    "second": s.second,
                    "fire": round(s.fire, 3),
                    "smoke": round(s.smoke, 3),
                    "fire_boxes": [list(b) for b in s.fire_boxes],
                    "smoke_boxes": [list(b) for b in s.smoke_boxes],
                }
                for s in self.seconds
            ],
        }


@dataclass
class _Region:
    """Evidence of one kind in one second, in working pixels."""

    score: float
    mask: Mask
    area: int
    box: Box | None


def analyze(path: str | Path) -> VideoAnalysis:
    """Score fire and smoke in every second of a video file.

    Parameters
    ----------
    path
        An MP4 or AVI file OpenCV can decode.

    Returns
    -------
    VideoAnalysis
        Per-second scores, the confirmed alarms, boxes in original pixels and a keyframe JPEG
        of the most confident second (the middle analysed frame of the last second when
        nothing scored).

    Raises
    ------
    InvalidInput
        When the file cannot be opened or holds no decodable frame.
    """
    capture = cv2.VideoCapture(str(path))
    if not capture.isOpened():
        raise InvalidInput(f"cannot read video {path}")
    try:
        return _Analyser(capture).run()
    finally:
        capture.release()


class _Analyser:
    def __init__(self, capture: cv2.VideoCapture) -> None:
        self.capture = capture
        fps = float(capture.get(cv2.CAP_PROP_FPS) or 0.0)
        # Some containers carry no rate; 15 fps is what our recorders write.
        self.fps = fps if 1.0 <= fps <= 120.0 else 15.0
        self.step = max(1, round(self.fps / ANALYSIS_FPS))
        self.background: F32 | None = None

    def run(self) -> VideoAnalysis:
        frames = 0
        analysed = 0
        width = height = 0
        scale = 1.0
        bucket: list[tuple[U8, F32, Mask]] = []
        smoke_votes: list[Mask] = []
        keep: U8 | None = None
        current = 0
        fire_regions: list[_Region] = []
        smoke_regions: list[_Region] = []
        originals: list[U8 | None] = []
        limit = int(self.fps * MAX_SECONDS)
        mid = max(1, round(self.fps / self.step / 2))
        while frames < limit:
            if frames % self.step:
                # Skipped frames are only grabbed: no colour conversion, no copy.
                if not self.capture.grab():
                    break
                frames += 1
                continue
            ok, frame = self.capture.read()
            if not ok or frame is None:
                break
            if not width:
                height, width = frame.shape[:2]
                scale = width / WORK_WIDTH
            second = int(frames / self.fps)
            frames += 1
            if second != current and bucket:
                self._close_second(bucket, smoke_votes, fire_regions, smoke_regions)
                originals.append(keep)
                bucket, smoke_votes, keep = [], [], None
            current = second
            small = cv2.resize(
                frame, (WORK_WIDTH, max(1, round(height / scale))), interpolation=cv2.INTER_AREA
            )
            gray = cv2.cvtColor(small, cv2.COLOR_BGR2GRAY).astype(np.float32)
            bucket.append((small, gray, _flame_colour(small)))
            smoke_votes.append(self._smoke_cells(small, gray))
            # The keyframe candidate of a second is its middle analysed frame.
            if keep is None or len(bucket) == mid:
                keep = frame
            analysed += 1
        if bucket:
            self._close_second(bucket, smoke_votes, fire_regions, smoke_regions)
            originals.append(keep)
        if not analysed:
            raise InvalidInput("no decodable frame in the video")
        return self._verdict(
            frames, analysed, width, height, scale, fire_regions, smoke_regions, originals
        )

    # -------------------------------------------------------------- fire
    def _close_second(
        self,
        bucket: list[tuple[U8, F32, Mask]],
        smoke_votes: list[Mask],
        fire_regions: list[_Region],
        smoke_regions: list[_Region],
    ) -> None:
        fire_regions.append(_fire_region(bucket))
        smoke_regions.append(_smoke_region(smoke_votes))

    # -------------------------------------------------------------- smoke
    def _smoke_cells(self, small: U8, gray: F32) -> Mask:
        """Cells of this frame where the background shows through a grey veil."""
        if self.background is None:
            self.background = gray.copy()
        bg = self.background
        h, w = gray.shape
        cells = (max(1, w // _CELL), max(1, h // _CELL))

        def mean(a: F32) -> F32:
            return cv2.resize(a, cells, interpolation=cv2.INTER_AREA)

        m_g, m_b = mean(gray), mean(bg)
        sd_g = np.sqrt(np.maximum(mean(gray * gray) - m_g * m_g, 0.0))
        sd_b = np.sqrt(np.maximum(mean(bg * bg) - m_b * m_b, 0.0))
        cov = mean(gray * bg) - m_g * m_b
        textured = sd_b >= _MIN_TEXTURE
        ncc = cov / (sd_g * sd_b + 1e-3)
        std_ratio = sd_g / (sd_b + 1e-3)
        mean_ratio = m_g / (m_b + 1e-3)
        # A camera-wide change (exposure, compression) moves every cell alike: compare each
        # cell to the frame's typical ratio rather than to 1.
        typical = float(np.median(std_ratio[textured])) if textured.any() else 1.0
        relative = std_ratio / max(typical, 0.5)
        hsv_s = cv2.cvtColor(small, cv2.COLOR_BGR2HSV)[:, :, 1].astype(np.float32)
        saturation = cv2.resize(hsv_s, cells, interpolation=cv2.INTER_AREA)
        veiled = (
            textured
            & (relative < _SMOKE_CONTRAST)
            & (ncc > _SMOKE_NCC)
            & (std_ratio < 0.8 * mean_ratio)
            & (saturation < 64)
            & (m_g > 60)
        )
        # The background learns slowly, and not under smoke, so a plume is not absorbed.
        under = cv2.resize(veiled.astype(np.uint8), (w, h), interpolation=cv2.INTER_NEAREST)
        update = np.where(under > 0, 0.0, _BG_ALPHA).astype(np.float32)
        bg += update * (gray - bg)
        return veiled

    def _verdict(
        self,
        frames: int,
        analysed: int,
        width: int,
        height: int,
        scale: float,
        fire_regions: list[_Region],
        smoke_regions: list[_Region],
        originals: list[U8 | None],
    ) -> VideoAnalysis:
        seconds = [
            SecondScore(
                second=i,
                fire=f.score,
                smoke=s.score,
                fire_boxes=[_scaled(f.box, scale, width, height)] if f.box else [],
                smoke_boxes=[_scaled(s.box, scale, width, height)] if s.box else [],
            )
            for i, (f, s) in enumerate(zip(fire_regions, smoke_regions, strict=True))
        ]
        result = VideoAnalysis(
            fps=self.fps,
            width=width,
            height=height,
            frames=frames,
            frames_analysed=analysed,
            seconds=seconds,
        )
        fire_run = _confirmed(fire_regions, growth=1.2, rise=False, sustained=SUSTAINED_SECONDS)
        smoke_run = _confirmed(smoke_regions, growth=1.2, rise=True, sustained=None)
        if fire_run is not None:
            result.fire, result.first_fire_second = True, fire_run
        if smoke_run is not None:
            result.smoke, result.first_smoke_second = True, smoke_run
        # The keyframe: the most confident second among confirmed kinds, else the top score.
        alarmed = result.fire or result.smoke
        candidates = [
            (
                max(
                    f.score if result.fire or not alarmed else 0.0,
                    s.score if result.smoke or not alarmed else 0.0,
                ),
                i,
            )
            for i, (f, s) in enumerate(zip(fire_regions, smoke_regions, strict=True))
        ]
        # Ties go to the earliest second; with no score at all, to the last second.
        best = max(candidates, key=lambda c: (c[0], -c[1]))[1] if candidates else 0
        if candidates and candidates[best][0] == 0.0:
            best = len(candidates) - 1
        if result.fire:
            result.fire_boxes = seconds[best].fire_boxes or _first_boxes(seconds, "fire")
        if result.smoke:
            result.smoke_boxes = seconds[best].smoke_boxes or _first_boxes(seconds, "smoke")
        chosen = originals[best] if originals else None
        if chosen is not None:
            result.keyframe_second = best
            result.keyframe_jpeg = _keyframe(chosen, result.fire_boxes, result.smoke_boxes)
        return result


def _first_boxes(seconds: list[SecondScore], kind: str) -> list[Box]:
    for s in seconds:
        boxes = s.fire_boxes if kind == "fire" else s.smoke_boxes
        if boxes:
            return boxes
    return []


def _flame_colour(small: U8) -> Mask:
    """Bright red-to-yellow pixels with R >= G > B (the classic flame colour rule)."""
    b, g, r = (small[:, :, i].astype(np.int16) for i in range(3))
    return (r >= _FIRE_RED) & (r >= g) & (g > b) & (r - b >= _FIRE_RB)


def _fire_region(bucket: list[tuple[U8, F32, Mask]]) -> _Region:
    """Flame-coloured pixels of one second that stay in place and flicker."""
    masks = np.stack([m for _, _, m in bucket])
    shape = masks.shape[1:]
    empty = np.zeros(shape, dtype=bool)
    if len(bucket) < 3 or not masks.any():
        return _Region(0.0, empty, 0, None)
    persistence = masks.mean(axis=0)
    # Fine texture: the frame minus its local mean, so a change a whole region shares
    # (a beacon switching, a lamp dimming) cancels out and only incoherent flicker remains.
    texture = np.stack([g - cv2.blur(g, (9, 9)) for _, g, _ in bucket])
    jumps = np.abs(np.diff(texture, axis=0)) > _FLICKER_STEP
    flicker = jumps.mean(axis=0)
    fire = (persistence >= _FIRE_PERSISTENCE) & (flicker >= _FIRE_FLICKER)
    mask = cv2.morphologyEx(fire.astype(np.uint8), cv2.MORPH_CLOSE, np.ones((5, 5), np.uint8))
    mask = cv2.morphologyEx(mask, cv2.MORPH_OPEN, np.ones((3, 3), np.uint8))
    count, labels, stats, _ = cv2.connectedComponentsWithStats(mask, connectivity=8)
    keep = np.zeros(shape, dtype=bool)
    for i in range(1, count):
        if stats[i, cv2.CC_STAT_AREA] >= 12:
            keep |= labels == i
    area = int(keep.sum())
    score = min(1.0, area / (_FIRE_FULL_AREA * shape[0] * shape[1]))
    return _Region(score, keep, area, _box(keep))


def _smoke_region(votes: list[Mask]) -> _Region:
    """Cells veiled in at least half the analysed frames of one second, in working pixels."""
    if not votes:
        return _Region(0.0, np.zeros((1, 1), dtype=bool), 0, None)
    share = np.stack(votes).mean(axis=0)
    cells = (share >= 0.5).astype(np.uint8)
    count, labels, stats, _ = cv2.connectedComponentsWithStats(cells, connectivity=8)
    keep = np.zeros(cells.shape, dtype=bool)
    for i in range(1, count):
        # A lone cell is compression noise or a passer-by's shadow edge, not a plume.
        if stats[i, cv2.CC_STAT_AREA] >= _SMOKE_MIN_CELLS:
            keep |= labels == i
    area = int(keep.sum())
    score = min(1.0, area / _SMOKE_FULL_CELLS)
    mask = np.kron(keep, np.ones((_CELL, _CELL), dtype=bool))
    return _Region(score, mask, area, _box(mask))


def _box(mask: Mask) -> Box | None:
    ys, xs = np.nonzero(mask)
    if not len(xs):
        return None
    x0, y0 = int(xs.min()), int(ys.min())
    return (x0, y0, int(xs.max()) - x0 + 1, int(ys.max()) - y0 + 1)


def _scaled(box: Box, scale: float, width: int, height: int) -> Box:
    x, y, w, h = (round(v * scale) for v in box)
    x, y = min(x, width - 1), min(y, height - 1)
    return (x, y, max(1, min(w, width - x)), max(1, min(h, height - y)))


def _overlaps(a: Mask, b: Mask) -> bool:
    """Whether region ``b`` touches region ``a`` grown by a few pixels (same place, moved)."""
    if a.shape != b.shape or not a.any() or not b.any():
        return False
    grown = cv2.dilate(a.astype(np.uint8), np.ones((9, 9), np.uint8)) > 0
    return bool((grown & b).sum() >= 0.3 * b.sum())


def _confirmed(
    regions: list[_Region], *, growth: float, rise: bool, sustained: int | None
) -> int | None:
    """The first second of the first confirmed run, or None.

    A run is consecutive seconds at or above the threshold whose regions overlap. It confirms
    once it has lasted :data:`CONFIRM_SECONDS` and its region grew by ``growth`` (area or box),
    or rose (``rise``: the box's top moved up), or lasted ``sustained`` seconds.
    """
    start: int | None = None
    for i, region in enumerate(regions):
        above = region.score >= SCORE_THRESHOLD
        if above and start is not None and not _overlaps(regions[i - 1].mask, region.mask):
            start = None
        if not above:
            start = None
            continue
        if start is None:
            start = i
        length = i - start + 1
        if length < CONFIRM_SECONDS:
            continue
        first = regions[start]
        peak = max(r.area for r in regions[start : i + 1])
        grew = peak >= growth * max(first.area, 1) or _box_area(region.box) >= growth * max(
            _box_area(first.box), 1
        )
        rose = rise and region.box is not None and first.box is not None
        rose = rose and region.box[1] < first.box[1]  # type: ignore[index]
        if grew or rose or (sustained is not None and length >= sustained):
            return start
    return None


def _box_area(box: Box | None) -> int:
    return box[2] * box[3] if box else 0


def _keyframe(frame: U8, fire: list[Box], smoke: list[Box]) -> bytes:
    """The frame as JPEG with the detections outlined (fire red, smoke light grey)."""
    image = frame.copy()
    thickness = max(2, math.ceil(frame.shape[1] / 400))
    for x, y, w, h in fire:
        cv2.rectangle(image, (x, y), (x + w, y + h), (0, 0, 255), thickness)
    for x, y, w, h in smoke:
        cv2.rectangle(image, (x, y), (x + w, y + h), (220, 220, 220), thickness)
    ok, jpeg = cv2.imencode(".jpg", image, [cv2.IMWRITE_JPEG_QUALITY, 85])
    return jpeg.tobytes() if ok else b""


# ------------------------------------------------------------------ frames for other checks
# Appended for the CCTV registry's tamper checks (issue 12, section 2): gyeonggi.cctv.tamper is
# numpy only, and this is the one module that may decode video.


def still_frames(path: str | Path, count: int = 3) -> list[U8]:
    """``count`` grey frames spread over a video, :data:`WORK_WIDTH` pixels wide.

    For :mod:`gyeonggi.cctv.tamper`, which compares their median with the camera's reference
    frame. Frames are taken at the middle of ``count`` equal parts of the video (by seeking,
    when the container says how many frames it has; else one a second from the start). A file
    OpenCV cannot read gives no frame.
    """
    capture = cv2.VideoCapture(str(path))
    if not capture.isOpened():
        return []
    try:
        total = int(capture.get(cv2.CAP_PROP_FRAME_COUNT) or 0)
        fps = float(capture.get(cv2.CAP_PROP_FPS) or 0.0)
        fps = fps if 1.0 <= fps <= 120.0 else 15.0
        if total > 0:
            wanted = sorted({min(total - 1, int(total * (i + 0.5) / count)) for i in range(count)})
        else:
            wanted = [round(fps * i) for i in range(count)]
        frames: list[U8] = []
        position = 0
        for index in wanted:
            if total > 0:
                capture.set(cv2.CAP_PROP_POS_FRAMES, index)
            else:
                while position < index and capture.grab():
                    position += 1
            ok, frame = capture.read()
            position = index + 1
            if not ok or frame is None:
                continue
            height, width = frame.shape[:2]
            size = (WORK_WIDTH, max(1, round(height * WORK_WIDTH / width)))
            small = cv2.resize(frame, size, interpolation=cv2.INTER_AREA)
            frames.append(cv2.cvtColor(small, cv2.COLOR_BGR2GRAY))
        return frames
    finally:
        capture.release()
