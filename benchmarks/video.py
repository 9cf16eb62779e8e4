"""CCTV analysis speed: analysis frames/s against decode-only frames/s of one 720p file.

A 6-s 1280 x 720 fire clip (15 fps, MJPG) is generated over vtest.avi frames, then in the same
process: decode-only (``read`` of every frame), and :func:`gyeonggi.safety.video.analyze` of the
same file, each timed ``options.runs`` times (best run kept), in wall-clock time and in the
process's CPU time (one thread: what one core does, even on a machine others share). Goals:
analysis costs at most 2x the decode, and runs at least 10x real time at 15 fps on one core.
Last, the cold import of the video function's module in fresh processes, measured as the
cold_import benchmark does.
"""

from __future__ import annotations

import sys
import tempfile
import time
from pathlib import Path

from benchmarks import ROOT, Options, goal, median, ms, table
from benchmarks.cold_import import functions, measure


def _decode(path: Path) -> int:
    import cv2

    capture = cv2.VideoCapture(str(path))
    count = 0
    while capture.read()[0]:
        count += 1
    capture.release()
    return count


def run(options: Options) -> str:
    """Measure and return the Markdown section."""
    sys.path.insert(0, str(ROOT / "layers"))
    import cv2

    from gyeonggi.safety.video import analyze
    from gyeonggi_tools.safety import video_clips

    cv2.setNumThreads(1)  # one core, as the goal says
    with tempfile.TemporaryDirectory() as tmp:
        path = video_clips.clip_720p(Path(tmp) / "720p.avi")
        decode_s, analyse_s, decode_cpu, analyse_cpu, frames = [], [], [], [], 0
        for _ in range(max(1, options.runs)):
            t0, c0 = time.perf_counter(), time.process_time()
            frames = _decode(path)
            decode_s.append(time.perf_counter() - t0)
            decode_cpu.append(time.process_time() - c0)
            t0, c0 = time.perf_counter(), time.process_time()
            result = analyze(path)
            analyse_s.append(time.perf_counter() - t0)
            analyse_cpu.append(time.process_time() - c0)
    decode_fps = frames / min(decode_s)
    analysis_fps = frames / min(analyse_s)
    ratio = min(analyse_s) / min(decode_s)
    realtime = analysis_fps / 15.0
    # CPU seconds of this one-threaded process: what one core does, whatever else shares it.
    cpu_ratio = min(analyse_cpu) / min(decode_cpu)
    cpu_realtime = frames / min(analyse_cpu) / 15.0
    # The same fresh-process measurement as the cold_import benchmark, for this function only.
    (fn,) = [f for f in functions() if f.logical_id == "CctvAnalysisFunction"]
    cold = measure(fn, tracing=True, options=options)
    rows = [
        ("decode only", f"{decode_fps:.0f} frames/s", ""),
        ("analysis (decode included)", f"{analysis_fps:.0f} frames/s", ""),
        ("analysis / decode time", f"{ratio:.2f}x", goal(ratio <= 2.0) + " (<= 2x)"),
        ("real-time factor at 15 fps", f"{realtime:.0f}x", goal(realtime >= 10) + " (>= 10x)"),
        ("analysis / decode, CPU time", f"{cpu_ratio:.2f}x", goal(cpu_ratio <= 2.0) + " (<= 2x)"),
        (
            "real-time factor at 15 fps, CPU time",
            f"{cpu_realtime:.0f}x",
            goal(cpu_realtime >= 10) + " (>= 10x)",
        ),
        ("cold import of cctv_analysis, tracer on", f"{ms(median(cold.import_s))} (median)", ""),
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
