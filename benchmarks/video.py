"""CCTV analysis speed: analysis frames/s against decode-only frames/s of one 720p file.

A 6-s 1280 x 720 fire clip (15 fps, MJPG) is generated over vtest.avi frames, then in the same
process: decode-only (``read`` of every frame), and :func:`gyeonggi.safety.video.analyze` of the
same file, each timed ``options.runs`` times (best run kept). Goals: analysis costs at most 2x
the decode, and runs at least 10x real time at 15 fps on one core. Last, the cold import of the
video function's module in a fresh process (``python -X importtime``-free, perf_counter inside).
"""

from __future__ import annotations

import subprocess
import sys
import tempfile
import textwrap
import time
from pathlib import Path

from benchmarks import ROOT, Options, clean_environment, goal, python, table


def _decode(path: Path) -> int:
    import cv2

    capture = cv2.VideoCapture(str(path))
    count = 0
    while capture.read()[0]:
        count += 1
    capture.release()
    return count


_COLD = textwrap.dedent(
    """
    import importlib, os, sys, time
    sys.path[:0] = [sys.argv[1], sys.argv[2]]
    t0 = time.perf_counter()
    importlib.import_module("app")
    print(time.perf_counter() - t0)
    """
)


def run(options: Options) -> str:
    """Measure and return the Markdown section."""
    sys.path.insert(0, str(ROOT / "layers"))
    import cv2

    from gyeonggi.safety import video_clips
    from gyeonggi.safety.video import analyze

    cv2.setNumThreads(1)  # one core, as the goal says
    with tempfile.TemporaryDirectory() as tmp:
        path = video_clips.clip_720p(Path(tmp) / "720p.avi")
        decode_s, analyse_s, frames = [], [], 0
        for _ in range(max(1, options.runs)):
            t0 = time.perf_counter()
            frames = _decode(path)
            decode_s.append(time.perf_counter() - t0)
            t0 = time.perf_counter()
            result = analyze(path)
            analyse_s.append(time.perf_counter() - t0)
    decode_fps = frames / min(decode_s)
    analysis_fps = frames / min(analyse_s)
    ratio = min(analyse_s) / min(decode_s)
    realtime = analysis_fps / 15.0
    env = clean_environment(
        {
            "CCTV_BUCKET": "cctv-bench",
            "SAFETY_EVIDENCE_QUEUE_URL": "https://sqs.ap-northeast-2.amazonaws.com/1/q",
            "AWS_DEFAULT_REGION": "ap-northeast-2",
            "AWS_ACCESS_KEY_ID": "x",
            "AWS_SECRET_ACCESS_KEY": "x",
            "POWERTOOLS_TRACE_DISABLED": "true",
        }
    )
    colds = []
    for _ in range(max(1, options.imports)):
        out = subprocess.run(
            [python(), "-c", _COLD, str(ROOT / "functions/cctv_analysis"), str(ROOT / "layers")],
            capture_output=True,
            text=True,
            env=env,
            timeout=60,
            check=True,
        )
        colds.append(float(out.stdout.strip().splitlines()[-1]))
    colds.sort()
    rows = [
        ("decode only", f"{decode_fps:.0f} frames/s", ""),
        ("analysis (decode included)", f"{analysis_fps:.0f} frames/s", ""),
        ("analysis / decode time", f"{ratio:.2f}x", goal(ratio <= 2.0) + " (<= 2x)"),
        ("real-time factor at 15 fps", f"{realtime:.0f}x", goal(realtime >= 10) + " (>= 10x)"),
        ("cold import of cctv_analysis", f"{colds[len(colds) // 2] * 1000:.0f} ms (median)", ""),
    ]
    return "\n".join(
        [
            "## Video analysis (720p)",
            "",
            f"{frames} frames of 1280 x 720 MJPG, one OpenCV thread; fire found: {result.fire}.",
            "",
            table(("measure", "value", "goal"), rows),
        ]
    )
