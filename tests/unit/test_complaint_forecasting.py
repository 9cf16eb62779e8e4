"""Forecasts: better than seasonal-naive on held-out weeks, honest intervals, a careful CLI."""

from __future__ import annotations

import csv
import io
import time
from datetime import date
from pathlib import Path

import numpy as np
import pytest

from gyeonggi.complaints.forecasting import backtest, fit, forecast, predict
from gyeonggi.complaints.series import History, write_csv
from gyeonggi_tools.complaints.commands import cli_forecast
from gyeonggi_tools.complaints.simulated_history import generate


@pytest.fixture(scope="module")
def province() -> History:
    return generate()  # all 465 series, three years (simulated)


def test_model_beats_seasonal_naive_on_held_out_weeks(province: History) -> None:
    # Given three simulated years, when the last 8 weeks are forecast 14 days at a time
    started = time.perf_counter()
    result = backtest(province, horizon=14, folds=4)
    elapsed = time.perf_counter() - started
    # Then the model's errors are clearly below the baseline's, on every measure
    assert result.points == 465 * 56
    assert result.model.mape < 0.85 * result.baseline.mape
    assert result.model.smape < 0.85 * result.baseline.smape
    assert result.model.wape < 0.85 * result.baseline.wape
    assert elapsed < 5.0


def test_ninety_percent_intervals_cover_about_ninety_percent(province: History) -> None:
    result = backtest(province, horizon=14, folds=4)
    assert 0.85 <= result.coverage <= 0.95
    # The surge threshold is rarely crossed by ordinary days.
    assert result.alert_rate < 0.015


def test_forecast_rows_have_the_documented_shape() -> None:
    h = generate(date(2023, 1, 1), date(2024, 6, 30), jurisdictions=["osan.gg.kr"])
    rows = forecast(h, 14)
    assert len(rows) == 15 * 14
    assert rows[0].date == date(2024, 7, 1)
    assert rows[-1].date == date(2024, 7, 14)
    for r in rows:
        assert 0 <= r.lower <= r.forecast <= r.upper


def test_forecast_accepts_plain_rows() -> None:
    h = generate(
        date(2024, 1, 1), date(2024, 3, 31), jurisdictions=["osan.gg.kr"], services=["tax"]
    )
    rows = [(d.isoformat(), j, s, c) for d, j, s, c in h.rows()]
    assert [r.date for r in forecast(rows, 2)] == [date(2024, 4, 1), date(2024, 4, 2)]


def test_a_surge_in_the_training_data_does_not_widen_the_intervals() -> None:
    calm = generate(date(2022, 1, 1), date(2024, 6, 30), jurisdictions=["suwon.gg.kr"], surges=())
    spiked_counts = calm.counts.copy()
    spiked_counts[:, -100] *= 8
    spiked = type(calm)(calm.start, calm.series, spiked_counts)
    a, b = predict(fit(calm), 14), predict(fit(spiked), 14)
    assert np.allclose(a.upper, b.upper, rtol=0.05)


# ------------------------------------------------------------------ CLI


def _history_file(tmp_path: Path) -> Path:
    path = tmp_path / "history.csv"
    write_csv(generate(date(2024, 1, 1), date(2024, 6, 30), jurisdictions=["osan.gg.kr"]), path)
    return path


def test_cli_writes_the_forecast_csv(tmp_path: Path) -> None:
    out = tmp_path / "forecast.csv"
    assert cli_forecast(_history_file(tmp_path), 14, out) == 0
    rows = list(csv.DictReader(out.open(encoding="utf-8")))
    assert list(rows[0]) == [
        "date",
        "jurisdiction_id",
        "service_code",
        "forecast",
        "lower",
        "upper",
    ]
    assert len(rows) == 15 * 14
    assert rows[0]["date"] == "2024-07-01"


def test_cli_writes_to_stdout_without_out(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert cli_forecast(_history_file(tmp_path), 3, None) == 0
    lines = capsys.readouterr().out.splitlines()
    assert lines[0] == "date,jurisdiction_id,service_code,forecast,lower,upper"
    assert len(lines) == 1 + 15 * 3


_HEADER = "date,jurisdiction_id,service_code,count\n"


@pytest.mark.parametrize(
    ("content", "horizon", "message"),
    [
        (None, 14, "no such file"),
        ("", 14, "empty"),
        ("date,jurisdiction_id,count\n2024-01-01,osan.gg.kr,3\n", 14, "missing column"),
        (_HEADER, 14, "no rows"),
        (_HEADER + "2024-13-01,osan.gg.kr,noise,3\n", 14, "line 2: date '2024-13-01'"),
        (_HEADER + "yesterday,osan.gg.kr,noise,3\n", 14, "is not a date"),
        (_HEADER + "2024-01-01,osan.gg.kr,noise,-3\n", 14, "line 2: count -3 is negative"),
        (_HEADER + "2024-01-01,osan.gg.kr,noise,many\n", 14, "not a whole number"),
        (_HEADER + "2024-01-01,osan.gg.kr,noise,2.5\n", 14, "not a whole number"),
        (_HEADER + "2024-01-01,atlantis.gg.kr,noise,3\n", 14, "unknown jurisdiction_id"),
        (_HEADER + "2024-01-01,osan.gg.kr,potholes,3\n", 14, "unknown service_code"),
        (_HEADER + "2024-01-01,osan.gg.kr\n", 14, "expected 4 fields"),
        (_HEADER + "2024-01-01,osan.gg.kr,noise,3\n" * 2, 14, "a second row"),
        (_HEADER + "2024-01-01,osan.gg.kr,noise,3\n", 14, "at least 28"),
        ("ok", 0, "--horizon must be between 1 and 90"),
        ("ok", 91, "--horizon must be between 1 and 90"),
    ],
)
def test_cli_rejects_bad_input_with_status_2_and_one_clear_line(
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    content: str | None,
    horizon: int,
    message: str,
) -> None:
    if content == "ok":
        path = _history_file(tmp_path)
    else:
        path = tmp_path / "bad.csv"
        if content is not None:
            path.write_text(content, encoding="utf-8")
    out = tmp_path / "never.csv"
    assert cli_forecast(path, horizon, out) == 2
    err = capsys.readouterr().err
    assert err.startswith("error: ") and message in err, err
    assert "Traceback" not in err
    assert not out.exists()


def test_cli_reports_a_file_that_is_not_utf8(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "latin1.csv"
    path.write_bytes(_HEADER.encode() + "2024-01-01,\xe9,noise,3\n".encode("latin-1"))
    assert cli_forecast(path, 14, None) == 2
    assert "not UTF-8" in capsys.readouterr().err


def test_cli_through_the_gyeonggi_command(tmp_path: Path) -> None:
    from gyeonggi_tools.cli import main

    out = tmp_path / "f.csv"
    argv = ["complaints", "forecast", "--history", str(_history_file(tmp_path))]
    assert main([*argv, "--horizon", "7", "--out", str(out)]) == 0
    assert sum(1 for _ in io.StringIO(out.read_text(encoding="utf-8"))) == 1 + 15 * 7
