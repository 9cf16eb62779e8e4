"""Daily complaint volume forecasts with prediction intervals, and the baseline they must beat.

The model (numpy only, so it runs in the layer without pandas or statsmodels)
--------------------------------------------------------------------------------
For every series (jurisdiction x service) ``log1p(count)`` is regressed on

- an intercept and a linear trend (in years),
- six day-of-week dummies (Monday is the reference),
- ``FOURIER_TERMS`` pairs of annual sine/cosine terms,
- a public-holiday flag (``calendar.holiday_mask``).

All series share one design matrix, so one least-squares solve fits all of them at once
(``numpy.linalg.solve`` on the ridge-regularised normal equations with one right-hand side per
series). The fit is done twice: days whose residual is more than ``OUTLIER_MADS`` robust standard
deviations away are replaced by the first fit's value before the second, so that a past surge
neither bends the curve nor widens the intervals.

Forecasts go back to counts with Duan's smearing estimator (the mean of ``expm1(mu + r)`` over
the series' residuals ``r``), which undoes the bias of averaging on the log scale. Intervals
come from the residuals' empirical quantiles on the log scale: the central ``interval`` (90 %
by default) gives ``lower``/``upper``; a one-sided ``alert`` quantile (99.5 %) gives the surge
threshold ``alert_upper``.

The baseline is seasonal-naive: the count of the same weekday in the last week of history.
``backtest`` fits both on rolling origins and scores the held-out weeks.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any, NamedTuple

import numpy as np

from gyeonggi.complaints.calendar import holiday_mask, weekday, year_fraction
from gyeonggi.complaints.series import History, HistoryError, read_csv

FOURIER_TERMS = 3
RIDGE = 1e-2
OUTLIER_MADS = 4.0
MIN_HISTORY_DAYS = 28
MAX_HORIZON = 90


class ForecastRow(NamedTuple):
    """One forecast day of one series."""

    date: date
    jurisdiction_id: str
    service_code: str
    forecast: float
    lower: float
    upper: float


@dataclass(frozen=True)
class Forecast:
    """Forecasts of every series of a history for ``horizon`` days after its end.

    Arrays are ``(n_series, horizon)``; ``alert_upper`` is the surge threshold.
    """

    start: date
    series: tuple[tuple[str, str], ...]
    mean: np.ndarray
    lower: np.ndarray
    upper: np.ndarray
    alert_upper: np.ndarray

    @property
    def horizon(self) -> int:
        return int(self.mean.shape[1])

    def rows(self) -> list[ForecastRow]:
        """Date-major rows, rounded to 2 decimals."""
        out = []
        for h in range(self.horizon):
            day = self.start + timedelta(days=h)
            for i, (jid, code) in enumerate(self.series):
                out.append(
                    ForecastRow(
                        day,
                        jid,
                        code,
                        round(float(self.mean[i, h]), 2),
                        round(float(self.lower[i, h]), 2),
                        round(float(self.upper[i, h]), 2),
                    )
                )
        return out


@dataclass(frozen=True)
class Model:
    """Fitted coefficients and residual statistics of every series of one history."""

    origin: np.datetime64
    n_fourier: int
    with_trend: bool
    series: tuple[tuple[str, str], ...]
    end: date
    coef: np.ndarray  # (n_features, n_series)
    smear: np.ndarray  # (n_series,) mean of exp(residual)
    q_lower: np.ndarray
    q_upper: np.ndarray
    q_alert: np.ndarray


def design(days: np.ndarray, origin: np.datetime64, n_fourier: int, with_trend: bool) -> np.ndarray:
    """The design matrix ``(len(days), n_features)`` for ``datetime64[D]`` days."""
    cols = [np.ones(days.size)]
    if with_trend:
        cols.append((days - origin).astype(np.float64) / 365.25)
    dow = weekday(days)
    cols.extend((dow == k).astype(np.float64) for k in range(1, 7))
    frac = year_fraction(days)
    for k in range(1, n_fourier + 1):
        cols.append(np.sin(2 * np.pi * k * frac))
        cols.append(np.cos(2 * np.pi * k * frac))
    cols.append(holiday_mask(days).astype(np.float64))
    return np.column_stack(cols)


def _solve(x: np.ndarray, y: np.ndarray) -> np.ndarray:
    # Ridge keeps short histories (a holiday seen once, half a year of Fourier terms) stable;
    # the intercept is not penalised.
    penalty = RIDGE * x.shape[0] * np.eye(x.shape[1]) / 100.0
    penalty[0, 0] = 0.0
    return np.linalg.solve(x.T @ x + penalty, x.T @ y)


def fit(history: History, *, interval: float = 0.9, alert: float = 0.995) -> Model:
    """Fit the model to every series of ``history``.

    Raises
    ------
    HistoryError
        When the history is shorter than ``MIN_HISTORY_DAYS``.
    """
    if history.n_days < MIN_HISTORY_DAYS:
        raise HistoryError(
            f"the history covers {history.n_days} day(s); at least {MIN_HISTORY_DAYS} are needed"
        )
    days = history.days
    origin = days[-1]
    # Annual terms need most of a year to be estimated, a trend a couple of months.
    n_fourier = FOURIER_TERMS if history.n_days >= 300 else 0
    with_trend = history.n_days >= 56
    x = design(days, origin, n_fourier, with_trend)
    y = np.log1p(history.counts.T.astype(np.float64))  # (n_days, n_series)

    coef = _solve(x, y)
    fitted = x @ coef
    resid = y - fitted
    mad = np.median(np.abs(resid - np.median(resid, axis=0)), axis=0) * 1.4826
    outlier = np.abs(resid) > OUTLIER_MADS * np.maximum(mad, 0.05)
    coef = _solve(x, np.where(outlier, fitted, y))
    resid = np.where(outlier, np.nan, y - x @ coef)

    tail = (1.0 - interval) / 2.0
    q_lower, q_upper, q_alert = np.nanquantile(resid, [tail, 1.0 - tail, alert], axis=0)
    smear = np.nanmean(np.exp(resid), axis=0)
    return Model(
        origin=origin,
        n_fourier=n_fourier,
        with_trend=with_trend,
        series=history.series,
        end=history.end,
        coef=coef,
        smear=smear,
        q_lower=q_lower,
        q_upper=q_upper,
        q_alert=q_alert,
    )


def predict(model: Model, horizon: int) -> Forecast:
    """Forecast ``horizon`` days after the end of the model's history."""
    days = np.datetime64(model.end, "D") + 1 + np.arange(horizon)
    mu = (design(days, model.origin, model.n_fourier, model.with_trend) @ model.coef).T
    mean = np.exp(mu) * model.smear[:, None] - 1.0
    lower = np.expm1(mu + model.q_lower[:, None])
    upper = np.expm1(mu + model.q_upper[:, None])
    alert_upper = np.expm1(mu + model.q_alert[:, None])
    return Forecast(
        start=model.end + timedelta(days=1),
        series=model.series,
        mean=np.maximum(mean, 0.0),
        lower=np.maximum(lower, 0.0),
        upper=np.maximum(upper, 0.0),
        alert_upper=np.maximum(alert_upper, 0.0),
    )


def seasonal_naive(history: History, horizon: int) -> np.ndarray:
    """The baseline: each day's forecast is the count of the same weekday in the last week."""
    last_week = history.counts[:, -7:].astype(np.float64)
    return last_week[:, np.arange(horizon) % 7]


# ------------------------------------------------------------------ backtest


@dataclass(frozen=True)
class Scores:
    """Errors of one method over the held-out days.

    ``mape`` is the mean absolute percentage error over series-days with a count above zero
    (a percentage of zero is undefined); ``smape`` the symmetric MAPE over all series-days
    (``2|f-a|/(|f|+|a|)``, 0 when both are 0); ``wape`` the total absolute error over the total
    count, which weighs the big series as the province's workload does.
    """

    mape: float
    smape: float
    wape: float


@dataclass(frozen=True)
class BacktestResult:
    """Model and baseline on ``folds`` consecutive held-out windows of ``horizon`` days."""

    horizon: int
    folds: int
    series: int
    points: int
    model: Scores
    baseline: Scores
    coverage: float  # share of held-out counts inside [lower, upper]
    interval: float
    alert_rate: float  # share of held-out counts above alert_upper (false surge alarms)


def scores(forecast: np.ndarray, actual: np.ndarray) -> Scores:
    """MAPE (count > 0), sMAPE and WAPE of ``forecast`` against ``actual``."""
    f = forecast.astype(np.float64).ravel()
    a = actual.astype(np.float64).ravel()
    positive = a > 0
    mape = float(np.mean(np.abs(f[positive] - a[positive]) / a[positive])) if positive.any() else 0
    denom = np.abs(f) + np.abs(a)
    smape_terms = np.divide(2 * np.abs(f - a), denom, out=np.zeros_like(denom), where=denom > 0)
    wape = float(np.abs(f - a).sum() / a.sum()) if a.sum() > 0 else 0.0
    return Scores(mape=mape, smape=float(smape_terms.mean()), wape=wape)


def backtest(
    history: History, *, horizon: int = 14, folds: int = 4, interval: float = 0.9
) -> BacktestResult:
    """Fit on all days before each of ``folds`` origins and score the next ``horizon`` days.

    The origins are the last ``folds * horizon`` days, so every held-out day is scored once
    and never seen by the fit that forecast it.
    """
    held_out = folds * horizon
    if history.n_days - held_out < MIN_HISTORY_DAYS:
        raise HistoryError("the history is too short for this backtest")
    forecasts, baselines, actuals, lowers, uppers, alerts = [], [], [], [], [], []
    for k in range(folds):
        cut = history.n_days - held_out + k * horizon
        train = History(history.start, history.series, history.counts[:, :cut])
        result = predict(fit(train, interval=interval), horizon)
        forecasts.append(result.mean)
        lowers.append(result.lower)
        uppers.append(result.upper)
        alerts.append(result.alert_upper)
        baselines.append(seasonal_naive(train, horizon))
        actuals.append(history.counts[:, cut : cut + horizon])
    actual = np.concatenate(actuals, axis=1)
    lower = np.concatenate(lowers, axis=1)
    upper = np.concatenate(uppers, axis=1)
    return BacktestResult(
        horizon=horizon,
        folds=folds,
        series=len(history.series),
        points=int(actual.size),
        model=scores(np.concatenate(forecasts, axis=1), actual),
        baseline=scores(np.concatenate(baselines, axis=1), actual),
        coverage=float(np.mean((actual >= lower) & (actual <= upper))),
        interval=interval,
        alert_rate=float(np.mean(actual > np.concatenate(alerts, axis=1))),
    )


# ------------------------------------------------------------------ entry points


def _as_history(history_rows: History | Iterable[Any]) -> History:
    if isinstance(history_rows, History):
        return history_rows
    lines = ["date,jurisdiction_id,service_code,count"]
    for row in history_rows:
        if isinstance(row, Mapping):
            values = (row["date"], row["jurisdiction_id"], row["service_code"], row["count"])
        else:
            values = tuple(row)
        lines.append(",".join(str(v) for v in values))
    return read_csv("\n".join(lines))


def validate_horizon(horizon: int) -> None:
    """Raise ``HistoryError`` unless ``1 <= horizon <= MAX_HORIZON``."""
    if not 1 <= horizon <= MAX_HORIZON:
        raise HistoryError(f"--horizon must be between 1 and {MAX_HORIZON} days, not {horizon}")


def forecast(history_rows: History | Iterable[Any], horizon: int = 14) -> list[ForecastRow]:
    """Forecast every series of a history ``horizon`` days past its last day.

    Parameters
    ----------
    history_rows
        A ``History``, or rows ``(date, jurisdiction_id, service_code, count)`` (tuples or
        mappings with those keys); a series' missing days count as zero.
    horizon
        Days ahead, 1 to ``MAX_HORIZON``.

    Returns
    -------
    list of ForecastRow
        ``(date, jurisdiction_id, service_code, forecast, lower, upper)``, date-major; the
        interval is the central 90 %.
    """
    validate_horizon(horizon)
    return predict(fit(_as_history(history_rows)), horizon).rows()
