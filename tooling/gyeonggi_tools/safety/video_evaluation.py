"""``gyeonggi safety evaluate-video``: the detector on the held-out evaluation clips.

Generates :func:`gyeonggi_tools.safety.video_eval_clips.evaluation_set` for each seed, analyses
every clip as the CCTV function does and prints Markdown tables: fires detected by size and
time to detect, by day and night, smoke, and false alarms by decoy.

A fire counts as detected when the analysis confirms fire *and* a box of the confirming seconds
touches where the flame was drawn (an alarm elsewhere in the view is a miss). Time to detect is
the end of the confirming second minus the flame's first appearance: the earliest moment the
function could have raised the alarm. An alarm of either kind on a decoy or plain footage, or a
fire alarm on a smoke clip, is a false alarm.
"""

from __future__ import annotations

import sys
import tempfile
import time
from collections import defaultdict
from dataclasses import dataclass
from pathlib import Path
from statistics import median

from gyeonggi.safety.video import Box, VideoAnalysis, analyze
from gyeonggi_tools.safety.video_eval_clips import FIRST_SEED, EvalClip, evaluation_set

WITHIN_S = 3.0
"""The goal's "early": within this many seconds of the fire's first appearance."""


@dataclass(frozen=True)
class Outcome:
    """One clip's truth and what the analysis said."""

    clip: EvalClip
    detected: bool
    time_to_detect_s: float | None
    false_alarm: bool
    note: str = ""


def _touches(a: Box, b: tuple[int, int, int, int]) -> bool:
    ax, ay, aw, ah = a
    bx, by, bw, bh = b
    return ax < bx + bw and bx < ax + aw and ay < by + bh and by < ay + ah


def judge(clip: EvalClip, result: VideoAnalysis) -> Outcome:
    """Score one analysis against the clip's truth."""
    if clip.kind == "fire":
        assert clip.onset_s is not None and clip.truth_box is not None
        if not result.fire:
            return Outcome(clip, False, None, bool(result.smoke), "no fire alarm")
        first, last = result.first_fire_second or 0, result.fire_confirmed_second or 0
        boxes = [b for s in result.seconds[first : last + 1] for b in s.fire_boxes]
        truth = clip.truth_box
        if not any(_touches(b, truth) for b in boxes) or last + 1 <= clip.onset_s:
            return Outcome(clip, False, None, True, f"fire alarm elsewhere {boxes}")
        return Outcome(clip, True, round(last + 1 - clip.onset_s, 2), False)
    if clip.kind == "smoke":
        assert clip.onset_s is not None
        ttd = None
        if result.smoke and result.smoke_confirmed_second is not None:
            ttd = round(result.smoke_confirmed_second + 1 - clip.onset_s, 2)
        return Outcome(clip, result.smoke, ttd, result.fire, "fire alarm" if result.fire else "")
    alarmed = result.fire or result.smoke
    note = ("fire " if result.fire else "") + ("smoke" if result.smoke else "")
    return Outcome(clip, False, None, alarmed, note.strip())


def evaluate(seeds: list[int], work: Path | None = None, keep: Path | None = None) -> list[Outcome]:
    """Generate, analyse and judge every clip of ``seeds`` (clips deleted unless ``keep``)."""
    outcomes: list[Outcome] = []
    with tempfile.TemporaryDirectory(dir=work) as tmp:
        out = keep or Path(tmp)
        out.mkdir(parents=True, exist_ok=True)
        for seed in seeds:
            for clip in evaluation_set(out, seed):
                outcomes.append(judge(clip, analyze(clip.path)))
                if keep is None:
                    clip.path.unlink()
    return outcomes


def _ttd(values: list[float]) -> str:
    if not values:
        return "-"
    return f"{median(values):.1f} / {max(values):.1f}"


def report(outcomes: list[Outcome]) -> str:
    """The Markdown tables."""
    fires = [o for o in outcomes if o.clip.kind == "fire"]
    lines = [
        "| fire width at onset | detected | within 3 s | time to detect, median / max (s) |",
        "| ---: | ---: | ---: | ---: |",
    ]
    by_size: dict[int, list[Outcome]] = defaultdict(list)
    for o in fires:
        by_size[o.clip.size_px or 0].append(o)
    for size in sorted(by_size):
        group = by_size[size]
        times = [o.time_to_detect_s for o in group if o.time_to_detect_s is not None]
        early = sum(t <= WITHIN_S for t in times)
        lines.append(
            f"| {size} px | {sum(o.detected for o in group)}/{len(group)} "
            f"| {early}/{len(group)} | {_ttd(times)} |"
        )
    times = [o.time_to_detect_s for o in fires if o.time_to_detect_s is not None]
    lines.append(
        f"| **all** | **{sum(o.detected for o in fires)}/{len(fires)}** "
        f"| {sum(t <= WITHIN_S for t in times)}/{len(fires)} | {_ttd(times)} |"
    )
    lines += [
        "",
        "| fires | detected | time to detect, median / max (s) |",
        "| --- | ---: | ---: |",
    ]
    for label, night in (("day", False), ("night", True)):
        group = [o for o in fires if o.clip.night == night]
        t = [o.time_to_detect_s for o in group if o.time_to_detect_s is not None]
        lines.append(f"| {label} | {sum(o.detected for o in group)}/{len(group)} | {_ttd(t)} |")
    smoke = [o for o in outcomes if o.clip.kind == "smoke"]
    t = [o.time_to_detect_s for o in smoke if o.time_to_detect_s is not None]
    lines.append(f"| smoke plumes | {sum(o.detected for o in smoke)}/{len(smoke)} | {_ttd(t)} |")
    lines += ["", "| clips without fire | clips | false alarms |", "| --- | ---: | ---: |"]
    by_kind: dict[str, list[Outcome]] = defaultdict(list)
    for o in outcomes:
        if o.clip.kind != "fire":
            by_kind[o.clip.kind].append(o)
    for kind, group in by_kind.items():
        lines.append(f"| {kind} | {len(group)} | {sum(o.false_alarm for o in group)} |")
    negatives = [o for o in outcomes if o.clip.kind != "fire"]
    lines.append(
        f"| **all** | **{len(negatives)}** | **{sum(o.false_alarm for o in negatives)}** |"
    )
    misses = [o for o in outcomes if (o.clip.kind == "fire" and not o.detected) or o.false_alarm]
    if misses:
        lines += ["", "Misses and false alarms:", ""]
        lines += [f"- {o.clip.name}: {o.note or 'missed'}" for o in misses]
    return "\n".join(lines)


def run(seeds: list[int] | None = None, keep: Path | None = None) -> int:
    """Evaluate ``seeds`` (default: the first evaluation seed) and print the tables."""
    seeds = seeds or [FIRST_SEED]
    started = time.perf_counter()
    outcomes = evaluate(seeds, keep=keep)
    print(
        f"Evaluation seeds {seeds}: {len(outcomes)} clips ({time.perf_counter() - started:.0f} s)\n"
    )
    print(report(outcomes))
    return 0


if __name__ == "__main__":
    sys.exit(run([int(a) for a in sys.argv[1:]] or None))
