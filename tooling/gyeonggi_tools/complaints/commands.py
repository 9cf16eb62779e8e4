"""``gyeonggi complaints ...``: the classifier's training and inference, volume forecasts.

Each command imports only what it needs: ``classify`` loads neither scikit-learn nor numpy.
"""

from __future__ import annotations

import argparse
import csv
import json
import sys
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, TextIO

from gyeonggi.complaints.classifier.model import ComplaintClassifier, ModelError, default_model_path

if TYPE_CHECKING:
    from gyeonggi.complaints.forecasting import ForecastRow

FORECAST_COLUMNS = ("date", "jurisdiction_id", "service_code", "forecast", "lower", "upper")


def run(args: argparse.Namespace) -> int:
    """Dispatch one ``gyeonggi complaints`` command; returns the exit status."""
    if args.command == "train":
        from gyeonggi_tools.complaints.classifier.training import cli_train

        return cli_train(out_dir=args.out, seed=args.seed)
    if args.command == "classify":
        return cli_classify(sys.stdin, sys.stdout, model_path=args.model)
    return cli_forecast(history=args.history, horizon=args.horizon, out=args.out)


# ------------------------------------------------------------------ classify


def cli_classify(stdin: TextIO, stdout: TextIO, model_path: Path | None = None) -> int:
    """``gyeonggi complaints classify``: JSON lines ``{"text": ...}`` in, one JSON line out each.

    A line that is not a JSON object with a non-empty string ``text`` gets a line with an
    ``error`` field (and its line number) instead; the exit status is then 1. Blank lines are
    skipped.

    Returns
    -------
    int
        0 when every line was classified, 1 when any was refused, 2 when the model is unusable.
    """
    try:
        classifier = ComplaintClassifier.load(model_path or default_model_path())
    except ModelError as exc:
        stdout.write(json.dumps({"error": str(exc)}) + "\n")
        return 2
    failed = False
    for number, line in enumerate(stdin, start=1):
        if not line.strip():
            continue
        text = _text_of(line)
        if isinstance(text, _Refused):
            failed = True
            stdout.write(json.dumps({"line": number, "error": text.reason}) + "\n")
            continue
        result = classifier.classify(text).as_dict()
        out = {
            k: result[k]
            for k in ("service_code", "confidence", "department", "urgency", "urgency_confidence")
        }
        out["model_version"] = result["model_version"]
        stdout.write(json.dumps(out, ensure_ascii=False) + "\n")
        stdout.flush()
    return 1 if failed else 0


@dataclass(frozen=True, slots=True)
class _Refused:
    reason: str


def _text_of(line: str) -> str | _Refused:
    try:
        record = json.loads(line)
    except json.JSONDecodeError as exc:
        return _Refused(f"not JSON: {exc.msg}")
    text = record.get("text") if isinstance(record, dict) else None
    if not isinstance(text, str) or not text.strip():
        return _Refused('expected an object with a non-empty string "text"')
    return text


# ------------------------------------------------------------------ forecast


def write_forecast_csv(rows: Iterable[ForecastRow], out: TextIO) -> None:
    """Write forecast rows as CSV with the ``FORECAST_COLUMNS`` header."""
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(FORECAST_COLUMNS)
    for r in rows:
        writer.writerow(
            (
                r.date.isoformat(),
                r.jurisdiction_id,
                r.service_code,
                f"{r.forecast:.2f}",
                f"{r.lower:.2f}",
                f"{r.upper:.2f}",
            )
        )


def cli_forecast(history: Path, horizon: int, out: Path | None) -> int:
    """``gyeonggi complaints forecast``: CSV history in, CSV forecasts out.

    Returns 0 on success, and 2 with one ``error: ...`` line on stderr for any bad input (a
    missing file or column, a bad date, a negative count, a horizon outside 1-90).
    """
    from gyeonggi.complaints.forecasting import fit, predict, validate_horizon
    from gyeonggi.complaints.series import HistoryError, read_csv

    try:
        validate_horizon(horizon)
        rows = predict(fit(read_csv(history)), horizon).rows()
    except HistoryError as exc:
        print(f"error: {exc.message}", file=sys.stderr)
        return 2
    if out is None:
        write_forecast_csv(rows, sys.stdout)
        return 0
    try:
        with out.open("w", encoding="utf-8", newline="") as fh:
            write_forecast_csv(rows, fh)
    except OSError as exc:
        print(f"error: cannot write {out}: {exc.strerror}", file=sys.stderr)
        return 2
    print(f"{len(rows)} forecast rows written to {out}", file=sys.stderr)
    return 0
