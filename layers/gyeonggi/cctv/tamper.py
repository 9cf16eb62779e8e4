"""Is the camera's view covered, blurred or moved? Image statistics against a reference frame.

numpy only (no OpenCV): the frames come decoded from :func:`gyeonggi.safety.video.still_frames`
(grey, 320 pixels wide), and everything here works on them halved to :data:`WORK_WIDTH` by
averaging 2 x 2 blocks, which also averages sensor noise down.

A view is judged against the camera's reference frame (a normal view of the same camera,
:mod:`gyeonggi.cctv.references`) with three measures, chosen so that the change from day to
night is none of them:

Similarity (phase correlation)
    The normalised cross-power spectrum of the two frames (mean removed, Hann window), weighted
    towards low and middle spatial frequencies (a Gaussian of :data:`_BAND` cycles a pixel, so
    that night-time sensor noise does not count), back to an image whose peak is the shift
    between the two views and whose height (1 for the same picture, about 0.1 for unrelated
    ones) says how much of the scene they share. A change of brightness, contrast or gamma
    changes amplitudes, not phases: night keeps the peak.
Contrast
    The standard deviation of grey levels. A lens covered by a hand, a bag, paint or a light
    shone into it leaves a nearly uniform picture.
Sharpness
    The variance of the Laplacian over the variance of the picture: the share of fine detail.
    Both scale alike with light, so the ratio ignores night; noise raises it, so night can only
    look sharper, never blurred. A defocused or smeared lens loses most of it.

Verdicts, in this order:

``covered``
    Contrast below :data:`COVERED_STD` grey levels, or below :data:`COVERED_SHARE` of the
    reference's while the picture no longer resembles it (similarity below :data:`SAME_VIEW`):
    a dark night still resembles the reference, a covered lens does not.
``blurred``
    Sharpness below :data:`BLURRED_SHARE` of the reference's.
``moved``
    The same scene shifted by more than :data:`MOVED_SHARE` of the frame's width (similarity
    above :data:`SAME_VIEW` at a shift), or another scene (similarity below it).

A pan-tilt-zoom camera's view moves by design, so for it (and for a camera without a reference
yet) only what needs no reference is judged: no contrast at all is ``covered``.

Thresholds were set on frames of Debian's ``vtest.avi`` and on generated scenes
(``tests/unit/test_cctv_tamper.py``): normal views (medians of three frames) score 0.4-0.6
similarity and night views (light x 0.3, street lamps, noise) the same; covered, blurred, moved
and turned views each fail their own measure by a factor of three or more (turned: 0.08-0.13).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Literal

import numpy as np
import numpy.typing as npt

Frame = npt.NDArray[Any]
Kind = Literal["covered", "blurred", "moved"]

WORK_WIDTH = 160
COVERED_STD = 4.0
COVERED_SHARE = 0.2
BLURRED_SHARE = 0.25
SAME_VIEW = 0.2
MOVED_SHARE = 0.05
#: A reference must itself show something: this much contrast and sharpness.
REFERENCE_MIN_STD = 8.0
REFERENCE_MIN_SHARPNESS = 0.02
_BAND = 0.12


@dataclass(frozen=True)
class ViewStats:
    mean: float
    std: float
    sharpness: float

    def to_json(self) -> dict[str, float]:
        return {k: round(v, 4) for k, v in vars(self).items()}


@dataclass(frozen=True)
class Verdict:
    """The view's statistics against its reference, and what they mean."""

    kind: Kind | None
    stats: ViewStats
    reference: ViewStats | None
    similarity: float | None
    shift: tuple[int, int] | None

    def to_json(self) -> dict[str, Any]:
        return {
            "kind": self.kind,
            "stats": self.stats.to_json(),
            "reference": None if self.reference is None else self.reference.to_json(),
            "similarity": None if self.similarity is None else round(self.similarity, 4),
            "shift": None if self.shift is None else list(self.shift),
        }


def work_frame(frame: Frame) -> Frame:
    """``frame`` (grey, any width) as float32, averaged down to about :data:`WORK_WIDTH`."""
    grey = np.asarray(frame, dtype=np.float32)
    if grey.ndim != 2 or min(grey.shape) < 16:
        raise ValueError("a frame is a grey image of at least 16 x 16 pixels")
    factor = max(1, grey.shape[1] // WORK_WIDTH)
    h, w = grey.shape[0] // factor * factor, grey.shape[1] // factor * factor
    blocks = grey[:h, :w].reshape(h // factor, factor, w // factor, factor)
    result: Frame = blocks.mean(axis=(1, 3))
    return result


def median_frame(frames: Sequence[Frame]) -> Frame:
    """The per-pixel median of a few frames of the segment: passers-by and cars drop out."""
    if not frames:
        raise ValueError("no frame")
    stacked = np.stack([work_frame(f) for f in frames])
    result: Frame = np.median(stacked, axis=0).astype(np.float32)
    return result


def stats(frame: Frame) -> ViewStats:
    """Mean and standard deviation of grey levels, and sharpness (see the module)."""
    a = np.asarray(frame, dtype=np.float32)
    laplacian = a[1:-1, :-2] + a[1:-1, 2:] + a[:-2, 1:-1] + a[2:, 1:-1] - 4 * a[1:-1, 1:-1]
    variance = float(a.var())
    return ViewStats(
        mean=float(a.mean()),
        std=float(np.sqrt(variance)),
        sharpness=float(laplacian.var()) / (variance + 1e-6),
    )


def phase_correlation(current: Frame, reference: Frame) -> tuple[float, tuple[int, int]]:
    """Similarity (0 to 1) and the shift ``(dx, dy)`` that takes ``reference`` to ``current``."""
    h, w = current.shape
    window = np.outer(np.hanning(h), np.hanning(w))
    a = np.fft.fft2((current - current.mean()) * window)
    b = np.fft.fft2((reference - reference.mean()) * window)
    cross = a * np.conj(b)
    cross /= np.abs(cross) + 1e-9
    fy, fx = np.fft.fftfreq(h)[:, None], np.fft.fftfreq(w)[None, :]
    weight = np.exp(-(fx**2 + fy**2) / (2 * _BAND**2))
    weight[0, 0] = 0.0  # the mean says nothing about the scene
    surface = np.real(np.fft.ifft2(cross * weight)) * (h * w) / weight.sum()
    y, x = np.unravel_index(int(np.argmax(surface)), surface.shape)
    dy = int(y) if y <= h // 2 else int(y) - h
    dx = int(x) if x <= w // 2 else int(x) - w
    return float(surface[y, x]), (dx, dy)


def usable_as_reference(frame: Frame) -> bool:
    """Whether a view shows enough to be a reference (a covered or blurred one does not)."""
    seen = stats(frame)
    return seen.std >= REFERENCE_MIN_STD and seen.sharpness >= REFERENCE_MIN_SHARPNESS


def judge(current: Frame, reference: Frame | None, *, ptz: bool = False) -> Verdict:
    """The verdict on ``current`` (a :func:`median_frame`) against ``reference``.

    Without a reference (a new camera, or one whose reference was reset), only what needs none
    is judged: a picture with no contrast is covered.
    """
    seen = stats(current)
    if reference is None or reference.shape != current.shape or ptz:
        # A pan-tilt-zoom camera's view moves by design: its reference is one of its
        # positions, so only what needs no reference is judged.
        kind: Kind | None = "covered" if seen.std < COVERED_STD else None
        return Verdict(kind, seen, None, None, None)
    known = stats(reference)
    similarity, shift = phase_correlation(current, reference)
    same_view = similarity >= SAME_VIEW
    kind = None
    if seen.std < COVERED_STD or (seen.std < COVERED_SHARE * known.std and not same_view):
        kind = "covered"
    elif seen.sharpness < BLURRED_SHARE * known.sharpness:
        kind = "blurred"
    elif not same_view or max(abs(shift[0]), abs(shift[1])) > MOVED_SHARE * current.shape[1]:
        kind = "moved"
    return Verdict(kind, seen, known, similarity, shift)
