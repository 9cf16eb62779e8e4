"""Forecast run time for 31 jurisdictions x 15 services x 3 years of (simulated) daily history.

Measured in this process (numpy is warm after the first repetition; the first is reported too):
generating the history, writing and reading it as CSV (the CLI's path), fitting and predicting
14 days for all 465 series, and the rolling-origin backtest (4 x 14 held-out days) with the
model's and the seasonal-naive baseline's errors.
"""

from __future__ import annotations

import tempfile
import time
from pathlib import Path

from benchmarks import Options, median, ms, table


def run(options: Options) -> str:
    from gyeonggi.complaints.forecasting import backtest, fit, predict
    from gyeonggi.complaints.series import read_csv, write_csv
    from gyeonggi_tools.complaints.simulated_history import generate

    started = time.perf_counter()
    history = generate()
    generate_s = time.perf_counter() - started

    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "history.csv"
        started = time.perf_counter()
        write_csv(history, path)
        write_s = time.perf_counter() - started
        started = time.perf_counter()
        read_back = read_csv(path)
        read_s = time.perf_counter() - started
        size_mb = path.stat().st_size / 1e6
    assert read_back.counts.shape == history.counts.shape

    fits: list[float] = []
    deadline = time.monotonic() + options.time_limit
    for _ in range(max(3, options.runs)):
        started = time.perf_counter()
        predict(fit(history), 14)
        fits.append(time.perf_counter() - started)
        if time.monotonic() > deadline:
            break

    started = time.perf_counter()
    result = backtest(history, horizon=14, folds=4)
    backtest_s = time.perf_counter() - started

    n_series, n_days = history.counts.shape
    timings = table(
        ["step", "time"],
        [
            (f"generate {n_series} series x {n_days} days (simulated)", ms(generate_s)),
            (f"write CSV ({n_series * n_days:,} rows, {size_mb:.1f} MB)", ms(write_s)),
            ("read and validate CSV", ms(read_s)),
            ("fit + 14-day forecast, all series (first run)", ms(fits[0])),
            (f"fit + 14-day forecast, all series (median of {len(fits)})", ms(median(fits))),
            ("backtest: 4 folds x 14 days", ms(backtest_s)),
        ],
        right=[1],
    )
    errors = table(
        ["method", "MAPE (days with count > 0)", "sMAPE", "WAPE"],
        [
            (
                name,
                f"{s.mape:.1%}",
                f"{s.smape:.1%}",
                f"{s.wape:.1%}",
            )
            for name, s in (("model", result.model), ("seasonal-naive", result.baseline))
        ],
        right=[1, 2, 3],
    )
    return (
        "## forecast\n\n"
        f"{n_series} series (31 jurisdictions x 15 services), {n_days} days of simulated "
        "history.\n\n"
        f"{timings}\n\n"
        f"Held-out: the last {result.folds * result.horizon} days, forecast {result.horizon} "
        f"days at a time ({result.points:,} series-days).\n\n"
        f"{errors}\n\n"
        f"90 % interval coverage: {result.coverage:.1%}; days above the surge threshold "
        f"(99.5 % bound): {result.alert_rate:.2%}.\n"
    )
