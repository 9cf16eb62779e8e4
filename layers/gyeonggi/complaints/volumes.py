"""Daily complaint counts, stored forecasts, and surge alerts.

Tables (see template.yaml, section "complaints: volumes")
---------------------------------------------------------
``ComplaintCountsTable``
    ``series`` (``<jurisdiction_id>#<service_code>``) + ``day`` (``YYYY-MM-DD``, Korean date):
    ``count``, incremented atomically by ``record_count``. Items ``series = counted#<request id>``
    remember which complaints were counted, so a retried intake counts once; they expire.
``ComplaintForecastsTable``
    ``series`` + ``key``: ``forecast#<day>`` items (forecast, lower, upper, alert_upper) and
    ``surge#<day>`` items, written with a condition, which make a surge alert exactly-once per
    series and day however often the schedule fires; in the same transaction, an item
    ``series = surge-index``, ``key = <day>#<series>`` lets the ops view list the province's
    surges by day with one query.

The surge rule: a day's count (yesterday's, complete, or today's so far) is a surge when it is
above the forecast's ``alert_upper`` (the 99.5 % quantile of the model's residuals) *and* at
least ``MIN_EXCESS`` complaints above the forecast, so that one extra complaint in a quiet
county is not an alert. The forecast compared with a day is always fitted on days before it.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from datetime import date, datetime, timedelta
from decimal import Decimal
from typing import Any, Protocol

import numpy as np

from gyeonggi.common.aws import AwsClient, DynamoTable, first_condition_failed
from gyeonggi.complaints.counts import korean_day, series_counts, series_key
from gyeonggi.complaints.dashboard import SURGE_INDEX
from gyeonggi.complaints.forecasting import MIN_HISTORY_DAYS, Forecast, fit, predict
from gyeonggi.complaints.series import History
from gyeonggi.complaints.services import BY_CODE as SERVICES

MIN_EXCESS = 3.0
FORECAST_TTL_DAYS = 400


class CountHistory(Protocol):
    """Where a run reads daily counts from: :class:`CountStore` (the live DynamoDB counter),
    or the Data Dam (``gyeonggi.datadam.aggregates.DataDamCounts``)."""

    def history(self, series: Sequence[tuple[str, str]], first: date, last: date) -> History:
        """A ``History`` of ``series`` from ``first`` to ``last`` (inclusive)."""
        ...


class CountStore(DynamoTable):
    """Reads daily counts from ``ComplaintCountsTable``."""

    def series_counts(self, key: str, first: date, last: date) -> dict[date, int]:
        """Counts of one series between two days (inclusive); absent days are zero."""
        return series_counts(self.table, key, first, last)

    def history(self, series: Sequence[tuple[str, str]], first: date, last: date) -> History:
        """A ``History`` of the given series from ``first`` to ``last`` (inclusive)."""
        n_days = (last - first).days + 1
        counts = np.zeros((len(series), n_days), dtype=np.int64)
        for i, (jid, code) in enumerate(series):
            for day, count in self.series_counts(series_key(jid, code), first, last).items():
                counts[i, (day - first).days] = count
        return History(first, tuple(series), counts)


def _decimal(value: float) -> Decimal:
    return Decimal(str(round(float(value), 2)))


@dataclass(frozen=True)
class SurgeEvent:
    """A ``ComplaintSurge``: a day's count above what the forecast allowed for."""

    jurisdiction_id: str
    service_code: str
    department: str
    date: str
    count: int
    forecast: float
    upper: float
    alert_upper: float
    partial_day: bool
    detected_at: str
    type: str = "ComplaintSurge"
    version: int = 1

    @property
    def event_id(self) -> str:
        return f"surge:{series_key(self.jurisdiction_id, self.service_code)}:{self.date}"

    def body(self) -> dict[str, Any]:
        return {**asdict(self), "event_id": self.event_id}


class ForecastStore(DynamoTable):
    """Forecast items and surge markers in ``ComplaintForecastsTable``."""

    def put_forecast(self, result: Forecast, generated_at: datetime) -> int:
        """Store every day of every series; returns the number of items written."""
        expires = int((generated_at + timedelta(days=FORECAST_TTL_DAYS)).timestamp())
        written = 0
        with self.table.batch_writer() as batch:
            for i, (jid, code) in enumerate(result.series):
                for h in range(result.horizon):
                    day = (result.start + timedelta(days=h)).isoformat()
                    batch.put_item(
                        Item={
                            "series": series_key(jid, code),
                            "key": f"forecast#{day}",
                            "jurisdiction_id": jid,
                            "service_code": code,
                            "day": day,
                            "forecast": _decimal(result.mean[i, h]),
                            "lower": _decimal(result.lower[i, h]),
                            "upper": _decimal(result.upper[i, h]),
                            "alert_upper": _decimal(result.alert_upper[i, h]),
                            "generated_at": generated_at.isoformat(),
                            "expires_at": expires,
                        }
                    )
                    written += 1
        return written

    def forecasts(self, jurisdiction_id: str, service_code: str) -> list[dict[str, Any]]:
        """The stored forecast items of one series, oldest day first."""
        page = self.table.query(
            KeyConditionExpression="#series = :s AND begins_with(#key, :p)",
            ExpressionAttributeNames={"#series": "series", "#key": "key"},
            ExpressionAttributeValues={
                ":s": series_key(jurisdiction_id, service_code),
                ":p": "forecast#",
            },
        )
        return list(page.get("Items", []))

    def claim_surge(self, event: SurgeEvent) -> bool:
        """Record that a surge was alerted; False when it had been already.

        The marker and its entry in the surge index (``SURGE_INDEX``, read by the ops view's
        overview without a scan) are written in one transaction, so neither exists alone.
        """
        client = self.table.meta.client
        key = series_key(event.jurisdiction_id, event.service_code)
        expires = int(
            (
                datetime.fromisoformat(event.detected_at) + timedelta(days=FORECAST_TTL_DAYS)
            ).timestamp()
        )
        figures = {
            "count": event.count,
            "forecast": _decimal(event.forecast),
            "alert_upper": _decimal(event.alert_upper),
            "detected_at": event.detected_at,
        }
        try:
            # The resource's client serialises plain Python values itself.
            client.transact_write_items(
                TransactItems=[
                    {
                        "Put": {
                            "TableName": self.table.name,
                            "Item": {
                                "series": key,
                                "key": f"surge#{event.date}",
                                "event_id": event.event_id,
                                **figures,
                            },
                            "ConditionExpression": "attribute_not_exists(#series)",
                            "ExpressionAttributeNames": {"#series": "series"},
                        }
                    },
                    {
                        "Put": {
                            "TableName": self.table.name,
                            "Item": {
                                "series": SURGE_INDEX,
                                "key": f"{event.date}#{key}",
                                "jurisdiction_id": event.jurisdiction_id,
                                "service_code": event.service_code,
                                "date": event.date,
                                "excess": _decimal(event.count - event.forecast),
                                "expires_at": expires,
                                **figures,
                            },
                        }
                    },
                ]
            )
        except client.exceptions.TransactionCanceledException as exc:
            if first_condition_failed(exc):
                return False
            raise
        return True

    def release_surge(self, event: SurgeEvent) -> None:
        """Forget a claim whose alert could not be sent, so the next run sends it."""
        key = series_key(event.jurisdiction_id, event.service_code)
        self.table.delete_item(Key={"series": SURGE_INDEX, "key": f"{event.date}#{key}"})
        self.table.delete_item(Key={"series": key, "key": f"surge#{event.date}"})


class SurgePublisher:
    """Publishes ``ComplaintSurge`` to the department (complaint events) and to ops."""

    sns = AwsClient("sns")

    def __init__(self, events_topic_arn: str, ops_topic_arn: str, sns: Any | None = None) -> None:
        self.events_topic_arn = events_topic_arn
        self.ops_topic_arn = ops_topic_arn
        if sns is not None:
            self.sns = sns

    def publish(self, event: SurgeEvent) -> None:
        message = json.dumps(event.body(), ensure_ascii=False)

        def attr(value: str) -> dict[str, str]:
            return {"DataType": "String", "StringValue": value}

        common = {"event_type": attr(event.type), "department": attr(event.department)}
        self.sns.publish(TopicArn=self.events_topic_arn, Message=message, MessageAttributes=common)
        self.sns.publish(
            TopicArn=self.ops_topic_arn,
            Message=message,
            Subject=f"Complaint surge: {event.service_code} in {event.jurisdiction_id}",
            MessageAttributes={
                **common,
                "jurisdiction_id": attr(event.jurisdiction_id),
                "service_code": attr(event.service_code),
            },
        )


def detect_surges(
    history: History, result: Forecast, days: Sequence[date], detected_at: datetime, today: date
) -> list[SurgeEvent]:
    """Series-days among ``days`` whose count breaks the surge rule (see the module doc)."""
    events = []
    for day in days:
        h = (day - result.start).days
        d = (day - history.start).days
        if not (0 <= h < result.horizon and 0 <= d < history.n_days):
            continue
        actual = history.counts[:, d]
        over = (actual > result.alert_upper[:, h]) & (actual - result.mean[:, h] >= MIN_EXCESS)
        for i in np.flatnonzero(over):
            jid, code = history.series[i]
            events.append(
                SurgeEvent(
                    jurisdiction_id=jid,
                    service_code=code,
                    department=SERVICES[code].department if code in SERVICES else "unknown",
                    date=day.isoformat(),
                    count=int(actual[i]),
                    forecast=round(float(result.mean[i, h]), 2),
                    upper=round(float(result.upper[i, h]), 2),
                    alert_upper=round(float(result.alert_upper[i, h]), 2),
                    partial_day=day >= today,
                    detected_at=detected_at.isoformat(),
                )
            )
    return events


@dataclass
class VolumeRun:
    """What one run of the volumes function did."""

    as_of: str
    series: int
    forecasts_written: int = 0
    surges: list[str] = field(default_factory=list)
    already_alerted: int = 0
    skipped: str | None = None


def run_volumes(
    now: datetime,
    series: Sequence[tuple[str, str]],
    counts: CountHistory,
    forecasts: ForecastStore,
    publisher: SurgePublisher,
    *,
    history_days: int = 1096,
    horizon: int = 14,
) -> VolumeRun:
    """Update forecasts and alert surges for yesterday (complete) and today (so far).

    The model is fitted on days up to the day before yesterday, so neither day it judges is in
    its training data; forecasts are stored from yesterday to ``horizon`` days after today.
    """
    today = korean_day(now)
    yesterday = today - timedelta(days=1)
    first = today - timedelta(days=history_days)
    full = counts.history(series, first, today)
    active = np.flatnonzero(full.counts.sum(axis=1) > 0)
    run = VolumeRun(as_of=today.isoformat(), series=int(active.size))
    if active.size == 0:
        run.skipped = "no counts recorded in the window"
        return run
    history = History(full.start, tuple(full.series[i] for i in active), full.counts[active])
    observed = np.flatnonzero(history.counts.any(axis=0))
    train_end = today - timedelta(days=2)
    train = history.until(train_end)
    # Leading days before the first count anywhere are not zeros, they are "not yet recorded".
    lead = int(observed[0]) if observed.size else 0
    train = History(train.start + timedelta(days=lead), train.series, train.counts[:, lead:])
    if train.n_days < MIN_HISTORY_DAYS:
        run.skipped = f"{train.n_days} day(s) of counts; {MIN_HISTORY_DAYS} needed"
        return run

    result = predict(fit(train), horizon + 2)
    run.forecasts_written = forecasts.put_forecast(result, now)
    for event in detect_surges(history, result, [yesterday, today], now, today):
        if not forecasts.claim_surge(event):
            run.already_alerted += 1
            continue
        try:
            publisher.publish(event)
        except Exception:
            forecasts.release_surge(event)
            raise
        run.surges.append(event.event_id)
    return run
