"""Fire and smoke in CCTV video segments, with OpenCV and numpy.

:func:`analyze` decodes a segment (MP4 or AVI, ~10 s), keeps about :data:`ANALYSIS_FPS` frames a
second and scores every second of video:

Fire (at up to :data:`FIRE_WIDTH` pixels wide, so a flame 8 px wide in a 720p recording is
still 4 px here)
    1. *Candidates*: pixels of flame colour (bright, red to yellow, R >= G > B) in at least a
       third of the second's frames, grouped into regions. Nothing about size is required:
       a fire far away or just starting is a few pixels.
    2. *A second stage* (:mod:`gyeonggi.safety.fire_stage`, a small model in pure numpy) scores
       each candidate region from how it behaves over the second: whether its core stays in
       place, whether its brightness flickers and whether that flicker is incoherent (a flame
       flickers pixel by pixel; a beacon or a lamp changes all at once), whether its outline
       breathes, whether it moves (a red jacket, headlights), its colour and its contrast.
Smoke (at :data:`WORK_WIDTH` pixels wide)
    Cells (8 x 8 working pixels) whose background is still visible but washed out: the
    frame is well correlated with a running background model while its contrast fell more than
    its brightness did (a shadow dims both alike), and the cell turned grey (low saturation).

An alarm needs temporal confirmation: :data:`CONFIRM_SECONDS` consecutive seconds with evidence
over overlapping regions (for smoke, the region must also spread or rise). A fire need not grow:
one that stays small for the whole segment is still a fire.

A :class:`~gyeonggi.safety.camera_calibration.CameraCalibration` removes the camera's masks
(the regions an operator marked to ignore) from both analyses and sets its smallest fire.

The module imports cv2 and numpy at import time: it is for the video function and the CLI, never
for the sensor alarm path.
"""

from __future__ import annotations

import itertools
import math
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import cv2
import numpy as np
import numpy.typing as npt

from gyeonggi.common.errors import InvalidInput
from gyeonggi.safety.camera_calibration import CameraCalibration
from gyeonggi.safety.fire_stage import FEATURES, FireStage, default_stage, plausible

WORK_WIDTH = 320
"""Smoke is analysed at this width (the aspect ratio is kept)."""
FIRE_WIDTH = 640
"""Fire is analysed at this width, or the recording's own when narrower (never upscaled)."""
ANALYSIS_FPS = 7.5
"""About this many frames a second are analysed (every 2nd frame of a 15 fps recording)."""
SCORE_THRESHOLD = 0.5
CONFIRM_SECONDS = 2
MAX_SECONDS = 600
"""Longer files are analysed up to this many seconds (a segment is ~10 s)."""
MIN_FIRE_PX = 3
"""Without a calibration, a candidate's box must be at least this many recording pixels on its
larger side: below it a region is a speck of compression noise."""

# Flame colour: bright, red to yellow. Loose on purpose: the second stage decides.
_FIRE_RED = 150
_FIRE_RB = 50
# A pixel is a candidate when flame-coloured in at least this share of the second's frames.
_CANDIDATE_SHARE = 0.3
_MAX_CANDIDATES = 40
# A seed pixel changes, on average between analysed frames, by at least this many grey levels
# and this many times the scene's noise.
_FLICKER_MIN = 4.0
_FLICKER_NOISE = 2.5
# Smoke cells.
_CELL = 8
_SMOKE_FULL_CELLS = 12
_MIN_TEXTURE = 6.0
_BG_ALPHA = 0.05
_SMOKE_NCC = 0.75
_SMOKE_CONTRAST = 0.6
_SMOKE_MIN_CELLS = 5

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
    """What :func:`analyze` found in one segment; :meth:`to_json` is the published shape.

    ``first_fire_second`` is the first second of the confirmed run, ``fire_confirmed_second``
    the second at whose end it was confirmed (the alarm could not have been raised earlier).
    """

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
    fire_confirmed_second: int | None = None
    smoke_confirmed_second: int | None = None
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
            "fire_confirmed_second": self.fire_confirmed_second,
            "smoke_confirmed_second": self.smoke_confirmed_second,
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


@dataclass(frozen=True)
class FireCandidate:
    """One candidate region of one second: where it is, what the second stage saw and said.

    ``box`` is in the recording's pixels; ``features`` follow
    :data:`gyeonggi.safety.fire_stage.FEATURES`. :func:`fire_candidates` returns them for
    training and for the evaluation's diagnostics.
    """

    second: int
    box: Box
    features: tuple[float, ...]
    probability: float


@dataclass
class _Region:
    """Evidence of one kind in one second, in working pixels."""

    score: float
    mask: Mask
    area: int
    box: Box | None


def analyze(
    path: str | Path,
    calibration: CameraCalibration | None = None,
    *,
    stage: FireStage | None = None,
) -> VideoAnalysis:
    """Score fire and smoke in every second of a video file.

    Parameters
    ----------
    path
        An MP4 or AVI file OpenCV can decode.
    calibration
        The camera's ignored regions and smallest fire (``None``: the whole view, the
        detector's own floor).
    stage
        The fire candidates' second stage (default: the model shipped with the layer).

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
        return _Analyser(capture, calibration, stage or default_stage()).run()
    finally:
        capture.release()


def fire_candidates(
    path: str | Path,
    calibration: CameraCalibration | None = None,
    *,
    stage: FireStage | None = None,
) -> list[FireCandidate]:
    """Every fire candidate of every second of a file, with its features and probability.

    The same pass as :func:`analyze`; for training the second stage and for diagnostics.
    """
    capture = cv2.VideoCapture(str(path))
    if not capture.isOpened():
        raise InvalidInput(f"cannot read video {path}")
    try:
        analyser = _Analyser(capture, calibration, stage or default_stage())
        analyser.run()
        return analyser.candidates
    finally:
        capture.release()


class _Analyser:
    def __init__(
        self,
        capture: cv2.VideoCapture,
        calibration: CameraCalibration | None,
        stage: FireStage,
    ) -> None:
        self.capture = capture
        self.calibration = calibration or CameraCalibration()
        self.stage = stage
        fps = float(capture.get(cv2.CAP_PROP_FPS) or 0.0)
        # Some containers carry no rate; 15 fps is what our recorders write.
        self.fps = fps if 1.0 <= fps <= 120.0 else 15.0
        self.step = max(1, round(self.fps / ANALYSIS_FPS))
        self.background: F32 | None = None
        self.fire_keep: U8 | None = None
        self.smoke_keep: U8 | None = None
        self.fire_scale = 1.0
        self.smoke_scale = 1.0
        self.min_fire_px = MIN_FIRE_PX
        self.candidates: list[FireCandidate] = []

    def _setup(self, width: int, height: int) -> None:
        """Working sizes, and the ignored regions rasterised once at each."""
        fire_w = min(width, FIRE_WIDTH)
        self.fire_size = (fire_w, max(1, round(height * fire_w / width)))
        self.smoke_size = (WORK_WIDTH, max(1, round(height * WORK_WIDTH / width)))
        self.width, self.height = width, height
        self.fire_scale = width / self.fire_size[0]
        self.smoke_scale = width / WORK_WIDTH
        self.fire_keep = _keep_mask(self.calibration, self.fire_size)
        self.smoke_keep = _keep_mask(self.calibration, self.smoke_size)
        if self.calibration.min_fire_px is not None:
            self.min_fire_px = self.calibration.min_fire_px

    def run(self) -> VideoAnalysis:
        frames = 0
        analysed = 0
        width = height = 0
        bucket: list[tuple[U8, U8, U8]] = []
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
                self._setup(width, height)
            second = int(frames / self.fps)
            frames += 1
            if second != current and bucket:
                fire_regions.append(self._fire_region(current, bucket))
                smoke_regions.append(_smoke_region(smoke_votes))
                originals.append(keep)
                bucket, smoke_votes, keep = [], [], None
            current = second
            fire_img = (
                frame
                if self.fire_size[0] == width
                else cv2.resize(frame, self.fire_size, interpolation=cv2.INTER_AREA)
            )
            bucket.append(self._fire_frame(fire_img))
            small = cv2.resize(fire_img, self.smoke_size, interpolation=cv2.INTER_AREA)
            smoke_votes.append(self._smoke_cells(small))
            # The keyframe candidate of a second is its middle analysed frame.
            if keep is None or len(bucket) == mid:
                keep = frame
            analysed += 1
        if bucket:
            fire_regions.append(self._fire_region(current, bucket))
            smoke_regions.append(_smoke_region(smoke_votes))
            originals.append(keep)
        if not analysed:
            raise InvalidInput("no decodable frame in the video")
        return self._verdict(
            frames, analysed, width, height, fire_regions, smoke_regions, originals
        )

    # -------------------------------------------------------------- fire
    def _fire_frame(self, image: U8) -> tuple[U8, U8, U8]:
        """One frame at the fire size: itself, its grey levels and its flame-colour mask."""
        b, g, r = cv2.split(image)
        # cv2 ops on uint8 planes: a fifth of the time of the same rule in numpy at 640 px.
        colour = cv2.bitwise_and(
            cv2.bitwise_and(cv2.inRange(r, _FIRE_RED, 255), cv2.compare(r, g, cv2.CMP_GE)),
            cv2.bitwise_and(
                cv2.compare(g, b, cv2.CMP_GT),
                cv2.inRange(cv2.subtract(r, b), _FIRE_RB, 255),
            ),
        )
        if self.fire_keep is not None:
            colour = cv2.bitwise_and(colour, self.fire_keep)
        gray = cv2.cvtColor(image, cv2.COLOR_BGR2GRAY)
        return image, gray, colour

    def _fire_region(self, second: int, bucket: list[tuple[U8, U8, U8]]) -> _Region:
        """The second's candidate regions, each scored by the second stage."""
        shape = bucket[0][1].shape
        empty = np.zeros(shape, dtype=bool)
        n = len(bucket)
        if n < 3:
            return _Region(0.0, empty, 0, None)
        count = np.zeros(shape, np.uint8)
        for _, _, colour in bucket:
            count += colour & 1
        grays = np.stack([g for _, g, _ in bucket])
        colours = np.stack([c for _, _, c in bucket])
        change = np.zeros(shape, np.float32)
        for a, b in itertools.pairwise(bucket):
            change += cv2.absdiff(a[1], b[1])
        change /= n - 1
        # The scene's own noise (sensor grain, compression, night gain): what a still pixel
        # changes by. Flicker counts only well above it.
        noise = float(np.median(change))
        # Seeds: pixels flame-coloured in a good share of the frames that also flicker. The
        # still parts of a bright scene (a lamp, a cone, a sunset, the ground a fire lights
        # at night) are no seed, so a small flame is not averaged into its own glow.
        needed = max(2, math.ceil(_CANDIDATE_SHARE * n))
        flickering = change >= max(_FLICKER_MIN, _FLICKER_NOISE * noise)
        seeds = ((count >= needed) & flickering).astype(np.uint8)
        if not seeds.any():
            return _Region(0.0, empty, 0, None)
        # The region around the seeds: pixels a flame's tongues reach in fewer frames.
        grown = (cv2.dilate(seeds, np.ones((3, 3), np.uint8)) > 0) & (count > 0)
        found, labels, stats, _ = cv2.connectedComponentsWithStats(
            grown.astype(np.uint8), connectivity=8
        )
        sums = np.bincount(labels.ravel(), weights=change.ravel(), minlength=found)
        mean_change = sums / np.maximum(stats[:, cv2.CC_STAT_AREA], 1)
        # The most changing regions go first to the second stage, whose budget is bounded.
        order = sorted(range(1, found), key=lambda i: -mean_change[i])
        best, best_box = 0.0, None
        fire = np.zeros(shape, dtype=bool)
        for i in order[:_MAX_CANDIDATES]:
            x, y, w, h = (int(v) for v in stats[i, :4])
            if max(w, h) * self.fire_scale < self.min_fire_px:
                continue
            pad = 3
            x0, y0 = max(0, x - pad), max(0, y - pad)
            x1, y1 = min(shape[1], x + w + pad), min(shape[0], y + h + pad)
            region = labels[y0:y1, x0:x1] == i
            features = _candidate_features(
                region,
                grays[:, y0:y1, x0:x1],
                colours[:, y0:y1, x0:x1] > 0,
                count[y0:y1, x0:x1],
                [img[y0:y1, x0:x1] for img, _, _ in bucket],
                noise,
            )
            p = self.stage.probability(features) if plausible(features) else 0.0
            box = _scaled((x, y, w, h), self.fire_scale, self.width, self.height)
            self.candidates.append(FireCandidate(second, box, tuple(features.tolist()), p))
            if p >= SCORE_THRESHOLD:
                fire[y0:y1, x0:x1] |= region
            if p > best:
                best, best_box = p, (x, y, w, h)
        return _Region(best, fire, int(fire.sum()), best_box if best >= SCORE_THRESHOLD else None)

    # -------------------------------------------------------------- smoke
    def _smoke_cells(self, small: U8) -> Mask:
        """Cells of this frame where the background shows through a grey veil."""
        gray = cv2.cvtColor(small, cv2.COLOR_BGR2GRAY).astype(np.float32)
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
        if self.smoke_keep is not None:
            keep_cells = cv2.resize(self.smoke_keep, cells, interpolation=cv2.INTER_AREA)
            veiled &= keep_cells > 127
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
        fire_regions: list[_Region],
        smoke_regions: list[_Region],
        originals: list[U8 | None],
    ) -> VideoAnalysis:
        fs, ss = self.fire_scale, self.smoke_scale
        seconds = [
            SecondScore(
                second=i,
                fire=f.score,
                smoke=s.score,
                fire_boxes=[_scaled(f.box, fs, width, height)] if f.box else [],
                smoke_boxes=[_scaled(s.box, ss, width, height)] if s.box else [],
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
        fire_run = _confirmed(fire_regions, spread=None)
        smoke_run = _confirmed(smoke_regions, spread=1.2)
        if fire_run is not None:
            result.fire = True
            result.first_fire_second, result.fire_confirmed_second = fire_run
        if smoke_run is not None:
            result.smoke = True
            result.first_smoke_second, result.smoke_confirmed_second = smoke_run
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


def _keep_mask(calibration: CameraCalibration, size: tuple[int, int]) -> U8 | None:
    """255 where the analysis looks, 0 in the camera's masks (None: everywhere)."""
    if not calibration.masks:
        return None
    w, h = size
    keep = np.full((h, w), 255, np.uint8)
    for polygon in calibration.masks:
        points = np.array([[round(x * (w - 1)), round(y * (h - 1))] for x, y in polygon])
        cv2.fillPoly(keep, [points.astype(np.int32)], 0)
    return keep


def _candidate_features(
    region: Mask,
    grays: U8,
    colours: Mask,
    count: U8,
    images: list[U8],
    noise: float,
) -> npt.NDArray[np.float64]:
    """How one candidate region behaved over one second (:data:`FEATURES`, in that order).

    ``region`` is the candidate in its crop; ``grays``, ``colours`` (flame-colour masks) and
    ``images`` are the second's frames cropped alike; ``count`` is how many frames each pixel
    was flame-coloured in; ``noise`` the scene's typical change between frames.
    """
    n = grays.shape[0]
    pixels = max(1, int(region.sum()))
    occupancy = count[region].astype(np.float64) / n
    g = grays.astype(np.float32)
    diffs = np.diff(g, axis=0)[:, region]  # (n-1, pixels)
    abs_change = np.abs(diffs).mean(axis=0)
    # A change the whole region shares (a beacon switching, a lamp dimming) is coherent: the
    # mean of the signed changes is as large as the mean of their sizes. A flame is not.
    coherence = float(np.abs(diffs.mean(axis=1)).mean() / (np.abs(diffs).mean() + 1e-3))
    std_t = g[:, region].std(axis=0)
    # How often each pixel changes well above the scene's noise: a flame all the time, a warm
    # surface a walker passes in front of only as the walker comes and goes.
    changing = np.abs(diffs) >= max(_FLICKER_MIN, _FLICKER_NOISE * noise)
    change_density = float(changing.mean())
    # How often each pixel turns flame-coloured or stops being: a flame's tongues many times a
    # second, an occluded surface twice per passer-by.
    toggles = np.diff(colours[:, region].astype(np.int8), axis=0) != 0
    toggle_rate = float(toggles.mean())
    areas = (colours & region).reshape(n, -1).sum(axis=1).astype(np.float64)
    area_cv = float(areas.std() / (areas.mean() + 1e-3))
    # The flame-coloured pixels' centroid, frame to frame, against the region's size.
    ys, xs = np.nonzero(region)
    centroids = []
    for t in range(n):
        inside = colours[t][ys, xs]
        if inside.any():
            centroids.append((xs[inside].mean(), ys[inside].mean()))
    motion = 0.0
    if len(centroids) >= 2:
        c = np.array(centroids)
        motion = float(np.hypot(*np.diff(c, axis=0).T).mean() / math.sqrt(pixels))
    # Flicker near the top of the region against its bottom: flames lick upwards.
    top = ys < ys.min() + (ys.max() - ys.min() + 1) / 2
    top_change = float(abs_change[top].mean()) if top.any() else 0.0
    bottom_change = float(abs_change[~top].mean()) if (~top).any() else top_change
    stack = np.stack(images).astype(np.float32)
    flame = colours & region[None]
    if flame.any():
        bgr = stack[flame]
        red_blue = float((bgr[:, 2] - bgr[:, 0]).mean() / 255.0)
        saturation = float(((bgr[:, 2] - bgr[:, 0]) / (bgr[:, 2] + 1.0)).mean())
        green_red = float((bgr[:, 1] / (bgr[:, 2] + 1.0)).mean())
        brightness = float(g[flame].mean() / 255.0)
    else:
        red_blue = green_red = brightness = saturation = 0.0
    # Contrast with the ring around the region (a lit object on a dark scene, or not).
    ring = (~region) & (cv2.dilate(region.astype(np.uint8), np.ones((5, 5), np.uint8)) > 0)
    surround = float(g[:, ring].mean() / 255.0) if ring.any() else brightness
    texture = np.stack([x - cv2.blur(x, (5, 5)) for x in g])[:, region]
    texture_change = float(np.abs(np.diff(texture, axis=0)).mean() / 32.0)
    values = {
        "core_share": float((occupancy >= 0.75).mean()),
        "occupancy": float(occupancy.mean()),
        "area_cv": min(area_cv, 2.0),
        "flicker": float(abs_change.mean() / 32.0),
        "flicker_p90": float(np.percentile(abs_change, 90) / 32.0),
        "flicker_snr": min(float(abs_change.mean()) / (noise + 1.0), 20.0),
        "change_density": change_density,
        "toggle_rate": toggle_rate,
        "saturation": saturation,
        "coherence": coherence,
        "still_share": float((std_t < 3.0).mean()),
        "motion": min(motion, 2.0),
        "top_vs_bottom": min(top_change / (bottom_change + 1.0), 4.0),
        "red_blue": red_blue,
        "green_red": green_red,
        "brightness": brightness,
        "contrast": brightness - surround,
        "texture_change": texture_change,
        "log_size": math.log(pixels),
    }
    return np.array([values[name] for name in FEATURES], dtype=np.float64)


def _first_boxes(seconds: list[SecondScore], kind: str) -> list[Box]:
    for s in seconds:
        boxes = s.fire_boxes if kind == "fire" else s.smoke_boxes
        if boxes:
            return boxes
    return []


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


def _confirmed(regions: list[_Region], *, spread: float | None) -> tuple[int, int] | None:
    """The first and the confirming second of the first confirmed run, or None.

    A run is consecutive seconds at or above the threshold whose regions overlap. It confirms
    once it has lasted :data:`CONFIRM_SECONDS`; with ``spread`` (smoke), only once its region
    also grew by that factor (area or box) or rose (the box's top moved up).
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
        if i - start + 1 < CONFIRM_SECONDS:
            continue
        if spread is None:
            return start, i
        first = regions[start]
        peak = max(r.area for r in regions[start : i + 1])
        grew = peak >= spread * max(first.area, 1) or _box_area(region.box) >= spread * max(
            _box_area(first.box), 1
        )
        rose = region.box is not None and first.box is not None
        rose = rose and region.box[1] < first.box[1]  # type: ignore[index]
        if grew or rose:
            return start, i
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
