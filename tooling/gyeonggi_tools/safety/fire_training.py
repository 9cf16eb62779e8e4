"""Training the fire detector's second stage on the *tuning* clips only.

The candidates of :func:`gyeonggi.safety.video.fire_candidates` on clips of
:mod:`gyeonggi_tools.safety.video_clips` (its labelled set, variant 0, and :func:`tuning_set`
seeds) are labelled by where the clip drew its fire: a candidate of a fire clip inside the
fire's box, from its onset second on, is a fire; one far from it, or any candidate of a decoy
clip, is not; one near the fire but outside its box (its glow, a spark) is left out. A small
multilayer perceptron (scikit-learn) is fitted and exported to
``layers/gyeonggi/safety/fire_stage.json``, which the layer runs in pure numpy.

The evaluation clips (:mod:`gyeonggi_tools.safety.video_eval_clips`) are never read here.

    gyeonggi safety train-fire-stage [--seeds 0 1 2] [--out PATH] [--cache FILE.npz]
    gyeonggi safety train-fire-stage --validate [10 11]   the shipped model on held-out seeds
"""

from __future__ import annotations

import json
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import numpy.typing as npt

from gyeonggi.safety.fire_stage import FEATURES, MODEL_PATH, FireStage, plausible
from gyeonggi.safety.video import FireCandidate, fire_candidates
from gyeonggi_tools.safety import video_clips

TRAINING_SEEDS = (0, 1, 2, 3)
"""The tuning seeds the shipped model was trained on."""
HIDDEN = 12
"""Hidden units: enough for a few feature interactions, small enough to read."""


@dataclass
class Examples:
    """Labelled candidate features."""

    x: npt.NDArray[np.float64]
    y: npt.NDArray[np.int64]
    clips: list[str]


def _label(clip: video_clips.Clip, candidate: FireCandidate) -> int | None:
    if not clip.fire:
        return 0
    assert clip.fire_box is not None and clip.onset_s is not None
    x, y, w, h = candidate.box
    cx, cy = x + w / 2, y + h / 2
    bx, by, bw, bh = clip.fire_box
    inside = bx <= cx <= bx + bw and by <= cy <= by + bh
    near = bx - 3 * bw <= cx <= bx + 4 * bw and by - bh <= cy <= by + 2 * bh
    if inside and candidate.second >= int(clip.onset_s):
        return 1
    if near:
        return None
    return 0


def examples(seeds: tuple[int, ...] = TRAINING_SEEDS, work: Path | None = None) -> Examples:
    """The labelled candidates of the tuning clips of ``seeds`` and labelled set variant 0."""
    rows: list[tuple[float, ...]] = []
    labels: list[int] = []
    names: list[str] = []
    with tempfile.TemporaryDirectory(dir=work) as tmp:
        out = Path(tmp)
        clips = video_clips.labelled_set(out, variant=0)
        # The labelled set's fires carry no box: the whole region right of their spec.
        boxed = [_boxed(c) for c in clips]
        for seed in seeds:
            boxed += video_clips.tuning_set(out, seed)
        # The candidates' features do not depend on the model; a blank one lets a new feature
        # set be trained while the shipped model still has the old one.
        blank = _blank_stage()
        for clip in boxed:
            for candidate in fire_candidates(clip.path, stage=blank):
                label = _label(clip, candidate)
                if label is None:
                    continue
                rows.append(candidate.features)
                labels.append(label)
                names.append(clip.name)
            clip.path.unlink()
        # vtest.avi itself, whole, at its own size and rate: 80 s of walkers passing in front
        # of cones and a sand heap, the warm surfaces the tuning clips' backgrounds show.
        rows_, names_ = vtest_negatives(blank)
        rows += rows_
        labels += [0] * len(rows_)
        names += names_
    return Examples(np.array(rows), np.array(labels), names)


def vtest_negatives(stage: FireStage | None = None) -> tuple[list[tuple[float, ...]], list[str]]:
    """The candidates of the whole of vtest.avi (no fire), none when it is not installed."""
    if not video_clips.VTEST.exists():
        return [], []
    found = fire_candidates(video_clips.VTEST, stage=stage or _blank_stage())
    return [c.features for c in found], ["vtest_raw"] * len(found)


def _blank_stage() -> FireStage:
    n = len(FEATURES)
    return FireStage(np.zeros(n), np.ones(n), [(np.zeros((n, 1)), np.zeros(1))])


def _boxed(clip: video_clips.Clip) -> video_clips.Clip:
    """The labelled set's fire clips with a box around where their spec draws the fire."""
    where = {  # x, base, half width, height of the region the spec can draw in
        "fire_path": (120, 250, 50, 125),
        "fire_left": (60, 200, 50, 125),
        "fire_late": (290, 230, 50, 125),
        "fire_and_smoke": (150, 240, 50, 125),
        "fire_small_facade": (230, 46, 12, 20),
        "fire_distant": (330, 95, 10, 16),
        "fire_night_small": (140, 200, 12, 22),
    }
    if clip.name not in where:
        return clip
    x, base, half, height = where[clip.name]
    box = (x - half, base - height, 2 * half, height + 4)
    return video_clips.Clip(clip.name, True, clip.smoke, clip.onset_s, clip.path, box, 2 * half)


def train(data: Examples, seed: int = 0) -> FireStage:
    """Fit the perceptron (scikit-learn) and return it as the layer's :class:`FireStage`."""
    from sklearn.neural_network import MLPClassifier

    mean = data.x.mean(axis=0)
    scale = data.x.std(axis=0) + 1e-6
    # Fires are rarer than other candidates; weigh them up by repeating them.
    pos = np.flatnonzero(data.y == 1)
    neg = np.flatnonzero(data.y == 0)
    reps = max(1, len(neg) // max(1, len(pos)))
    index = np.concatenate([neg, np.repeat(pos, reps)])
    model = MLPClassifier(
        hidden_layer_sizes=(HIDDEN,),
        alpha=1e-3,
        max_iter=2000,
        random_state=seed,
    )
    model.fit((data.x[index] - mean) / scale, data.y[index])
    layers = [
        (np.asarray(w, np.float64), np.asarray(b, np.float64))
        for w, b in zip(model.coefs_, model.intercepts_, strict=True)
    ]
    return FireStage(mean, scale, layers)


VALIDATION_SEEDS = (10, 11)
"""Tuning seeds never trained on: a check of the model on the tuning generator's own recipe."""


def validate(seeds: tuple[int, ...] = VALIDATION_SEEDS) -> int:
    """Analyse the tuning clips of ``seeds`` with the shipped model and print what it found.

    A fire counts when the analysis confirms fire with a box of the confirming seconds touching
    the clip's fire box; any alarm on a decoy is a false alarm. Returns the number of misses
    and false alarms.
    """
    from gyeonggi.safety.video import analyze

    hits = fires = alarms = decoys = 0
    with tempfile.TemporaryDirectory() as tmp:
        for seed in seeds:
            for clip in video_clips.tuning_set(Path(tmp), seed):
                result = analyze(clip.path)
                clip.path.unlink()
                if not clip.fire:
                    decoys += 1
                    if result.fire or result.smoke:
                        alarms += 1
                        print(f"false alarm: {clip.name}", file=sys.stderr)
                    continue
                assert clip.fire_box is not None
                first, last = result.first_fire_second or 0, result.fire_confirmed_second or 0
                boxes = [b for s in result.seconds[first : last + 1] for b in s.fire_boxes]
                found = result.fire and any(_touches(b, clip.fire_box) for b in boxes)
                fires += 1
                hits += found
                if not found:
                    print(f"missed: {clip.name} ({clip.size_px} px)", file=sys.stderr)
    print(f"tuning seeds {list(seeds)}: fires {hits}/{fires}, false alarms {alarms}/{decoys}")
    return (fires - hits) + alarms


def _touches(a: tuple[int, int, int, int], b: tuple[int, int, int, int]) -> bool:
    return a[0] < b[0] + b[2] and b[0] < a[0] + a[2] and a[1] < b[1] + b[3] and b[1] < a[1] + a[3]


def main(argv: list[str] | None = None) -> int:
    """Train on the tuning seeds and write the model the layer ships."""
    import argparse

    parser = argparse.ArgumentParser(prog="gyeonggi safety train-fire-stage")
    parser.add_argument("--seeds", type=int, nargs="+", default=list(TRAINING_SEEDS))
    parser.add_argument("--out", type=Path, default=MODEL_PATH)
    parser.add_argument(
        "--cache",
        type=Path,
        help="an .npz of the labelled candidates: read if it exists, else "
        "written (the clips take minutes to generate; the fit takes seconds)",
    )
    parser.add_argument(
        "--validate",
        type=int,
        nargs="*",
        help="train nothing: check the shipped model on these held-out tuning seeds "
        f"(default {list(VALIDATION_SEEDS)})",
    )
    args = parser.parse_args(argv)
    if args.validate is not None:
        validate(tuple(args.validate) or VALIDATION_SEEDS)
        return 0
    if args.cache is not None and args.cache.exists():
        saved = np.load(args.cache)
        data = Examples(saved["x"], saved["y"], [str(n) for n in saved["clips"]])
        if "vtest_raw" not in data.clips:  # a cache written before vtest was added
            rows, names = vtest_negatives()
            if rows:
                data = Examples(
                    np.vstack([data.x, np.array(rows)]),
                    np.concatenate([data.y, np.zeros(len(rows), data.y.dtype)]),
                    data.clips + names,
                )
    else:
        data = examples(tuple(args.seeds))
        if args.cache is not None:
            np.savez(args.cache, x=data.x, y=data.y, clips=np.array(data.clips))
    gated = np.array([plausible(row) for row in data.x], dtype=bool)
    data = Examples(
        data.x[gated], data.y[gated], [n for n, g in zip(data.clips, gated, strict=True) if g]
    )
    stage = train(data)
    p = stage.probabilities(data.x)
    predicted = p >= 0.5
    print(
        f"{len(data.y)} candidates ({int(data.y.sum())} fire) from tuning seeds {args.seeds}; "
        f"training recall {predicted[data.y == 1].mean():.3f}, "
        f"false positives {int(predicted[data.y == 0].sum())}",
        file=sys.stderr,
    )
    args.out.write_text(json.dumps(stage.to_json(), separators=(",", ":")) + "\n")
    print(f"wrote {args.out} ({len(FEATURES)} features, {HIDDEN} hidden units)", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
