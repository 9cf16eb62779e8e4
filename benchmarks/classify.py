"""Complaint classification: throughput, latency, and cold import-and-load against scikit-learn.

Throughput and latency are the pure-Python runtime (``gyeonggi.complaints.classifier.model``)
on generated complaints in this process. The cold comparison runs fresh processes: one imports
the triage function's classifier module and loads the committed ``model.json``; the other imports
scikit-learn and unpickles the same model's scikit-learn pipelines (trained here with the same
seed); each then classifies one text.
"""

from __future__ import annotations

import json
import pickle
import subprocess
import tempfile
import textwrap
import time
from pathlib import Path

from benchmarks import ROOT, Options, clean_environment, median, ms, percentile, python, table

MODEL = ROOT / "functions" / "complaint_triage" / "model" / "model.json"
GOAL_S = 0.4
_MARK = "BENCH-RESULT "

_RUNTIME = textwrap.dedent(
    f"""
    import sys, time, json
    t0 = time.perf_counter()
    from gyeonggi.complaints.classifier.model import ComplaintClassifier
    c = ComplaintClassifier.load(sys.argv[1])
    c.classify("가로등이 꺼져 있어요 pls fix")
    elapsed = time.perf_counter() - t0
    heavy = [m for m in ("numpy", "sklearn", "scipy") if m in sys.modules]
    print({_MARK!r} + json.dumps({{"s": elapsed, "heavy": heavy}}))
    """
)
_SKLEARN = textwrap.dedent(
    f"""
    import sys, time, json, pickle
    t0 = time.perf_counter()
    import sklearn.pipeline, sklearn.linear_model, sklearn.feature_extraction.text
    with open(sys.argv[1], "rb") as f:
        service, urgency = pickle.load(f)
    service.predict_proba(["가로등이 꺼져 있어요 pls fix"])
    urgency.predict_proba(["가로등이 꺼져 있어요 pls fix"])
    print({_MARK!r} + json.dumps({{"s": time.perf_counter() - t0, "heavy": []}}))
    """
)


def _cold(
    code: str, argument: Path, runs: int, time_limit: float
) -> tuple[list[float], list[float]]:
    inside, wall = [], []
    deadline = time.monotonic() + time_limit
    for _ in range(runs):
        if time.monotonic() > deadline:
            break
        started = time.perf_counter()
        proc = subprocess.run(
            [python(), "-c", code, str(argument)],
            env=clean_environment(),
            capture_output=True,
            text=True,
            timeout=time_limit,
            check=True,
        )
        wall.append(time.perf_counter() - started)
        line = next(x for x in proc.stdout.splitlines() if x.startswith(_MARK))
        inside.append(float(json.loads(line[len(_MARK) :])["s"]))
    return inside, wall


def run(options: Options) -> str:
    """Run the classification benchmark; returns its Markdown section."""
    from gyeonggi.complaints.classifier.model import ComplaintClassifier
    from gyeonggi_tools.complaints.classifier import corpus

    started = time.perf_counter()
    classifier = ComplaintClassifier.load(MODEL)
    load_s = time.perf_counter() - started
    texts = [e.text for e in corpus.generate(seed=1, per_service=100)]
    latencies = []
    deadline = time.monotonic() + options.time_limit
    for text in texts:
        t0 = time.perf_counter()
        classifier.classify(text)
        latencies.append(time.perf_counter() - t0)
        if time.monotonic() > deadline:
            break
    throughput = len(latencies) / sum(latencies)

    from gyeonggi_tools.complaints.classifier.training import train

    trained = train(int(json.loads(MODEL.read_bytes())["seed"]))
    with tempfile.TemporaryDirectory() as tmp:
        pickled = Path(tmp) / "pipelines.pkl"
        pickled.write_bytes(pickle.dumps((trained.service, trained.urgency)))
        runtime_in, runtime_wall = _cold(_RUNTIME, MODEL, options.imports, options.time_limit)
        sk_in, sk_wall = _cold(_SKLEARN, pickled, options.imports, options.time_limit)
    verdict = "met" if median(runtime_in) < GOAL_S else "**not met**"
    return "\n".join(
        [
            "## Complaint classification",
            "",
            f"Pure-Python runtime, model `{classifier.version}` "
            f"({MODEL.stat().st_size / 1e6:.2f} MB, loaded in {ms(load_s)} warm), "
            f"{len(latencies)} generated complaints, one at a time:",
            "",
            table(
                ["complaints/s", "p50", "p99", "max"],
                [
                    [
                        f"{throughput:.0f}",
                        ms(percentile(latencies, 50)),
                        ms(percentile(latencies, 99)),
                        ms(max(latencies)),
                    ]
                ],
                right=range(4),
            ),
            "",
            f"Cold import-and-load, fresh process each, median of {options.imports} "
            "(*inside*: from the first import to the first classification; *process*: "
            "the child's wall time including the interpreter):",
            "",
            table(
                ["how", "inside", "process"],
                [
                    ["runtime (json + stdlib)", ms(median(runtime_in)), ms(median(runtime_wall))],
                    ["scikit-learn pipelines", ms(median(sk_in)), ms(median(sk_wall))],
                ],
                right=(1, 2),
            ),
            "",
            f"- goal: runtime under {GOAL_S * 1000:.0f} ms: {verdict}.",
        ]
    )
