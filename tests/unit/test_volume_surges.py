"""Surge detection on stored counts: the rule, exactly-once alerts, counting once per request."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, date, datetime, timedelta
from typing import Any

import boto3
import pytest
from moto import mock_aws

from gyeonggi.complaints.counts import korean_day, record_count
from gyeonggi.complaints.forecasting import Forecast
from gyeonggi.complaints.series import History
from gyeonggi.complaints.volumes import (
    CountStore,
    ForecastStore,
    SurgeEvent,
    SurgePublisher,
    run_volumes,
)
from gyeonggi_tools.complaints.simulated_history import Surge, generate

# 06:00 on 19 July 2024 in Korea: yesterday is the 18th, today the 19th.
NOW = datetime(2024, 7, 18, 21, 0, tzinfo=UTC)
SERIES = [("suwon.gg.kr", "water-sewer"), ("suwon.gg.kr", "noise"), ("gwacheon.gg.kr", "tax")]


class FakeCounts(CountStore):
    def __init__(self, history: History) -> None:
        super().__init__("counts")
        self.data = history

    def history(self, series: Sequence[tuple[str, str]], first: date, last: date) -> History:
        rows = [self.data.series.index(s) for s in series]
        lo = (first - self.data.start).days
        hi = (last - self.data.start).days + 1
        assert lo >= 0 and hi <= self.data.n_days
        return History(first, tuple(series), self.data.counts[rows, lo:hi])


class FakeForecasts(ForecastStore):
    def __init__(self) -> None:
        super().__init__("forecasts")
        self.claims: set[str] = set()
        self.written = 0

    def put_forecast(self, result: Forecast, generated_at: datetime) -> int:
        self.written += result.mean.size
        return int(result.mean.size)

    def claim_surge(self, event: SurgeEvent) -> bool:
        if event.event_id in self.claims:
            return False
        self.claims.add(event.event_id)
        return True

    def release_surge(self, event: SurgeEvent) -> None:
        self.claims.discard(event.event_id)


class FakePublisher(SurgePublisher):
    def __init__(self, fail: bool = False) -> None:
        super().__init__("events", "ops")
        self.sent: list[SurgeEvent] = []
        self.fail = fail

    def publish(self, event: SurgeEvent) -> None:
        if self.fail:
            raise RuntimeError("SNS is down")
        self.sent.append(event)


def _history(*surges: Surge) -> History:
    return generate(
        date(2022, 1, 1),
        date(2024, 7, 19),
        jurisdictions=["suwon.gg.kr", "gwacheon.gg.kr"],
        services=["water-sewer", "noise", "tax"],
        surges=surges,
    )


def _run(history: History, forecasts: FakeForecasts, publisher: FakePublisher) -> Any:
    return run_volumes(NOW, SERIES, FakeCounts(history), forecasts, publisher, history_days=900)


def test_an_injected_surge_yesterday_raises_one_complaint_surge() -> None:
    history = _history(Surge("suwon.gg.kr", "water-sewer", date(2024, 7, 18), 1, 5.0))
    forecasts, publisher = FakeForecasts(), FakePublisher()
    run = _run(history, forecasts, publisher)
    assert [(e.jurisdiction_id, e.service_code, e.date) for e in publisher.sent] == [
        ("suwon.gg.kr", "water-sewer", "2024-07-18")
    ]
    event = publisher.sent[0]
    assert event.department == "water-supply" and event.partial_day is False
    assert event.count > event.alert_upper >= event.upper > event.forecast
    assert run.forecasts_written == 3 * 16  # yesterday, today and 14 days ahead
    assert run.as_of == "2024-07-19"


def test_a_second_run_the_same_day_sends_nothing_new() -> None:
    history = _history(Surge("suwon.gg.kr", "water-sewer", date(2024, 7, 18), 2, 5.0))
    forecasts, publisher = FakeForecasts(), FakePublisher()
    first = _run(history, forecasts, publisher)
    second = _run(history, forecasts, publisher)
    assert len(first.surges) == 2  # yesterday, and today so far
    assert second.surges == [] and second.already_alerted == 2
    assert len(publisher.sent) == 2


def test_ordinary_days_raise_nothing() -> None:
    publisher = FakePublisher()
    _run(_history(), FakeForecasts(), publisher)
    assert publisher.sent == []


def test_a_failed_publish_releases_the_claim_so_the_retry_sends_it() -> None:
    history = _history(Surge("suwon.gg.kr", "water-sewer", date(2024, 7, 18), 1, 5.0))
    forecasts = FakeForecasts()
    with pytest.raises(RuntimeError):
        _run(history, forecasts, FakePublisher(fail=True))
    retry = FakePublisher()
    _run(history, forecasts, retry)
    assert len(retry.sent) == 1


def test_too_little_history_is_skipped_not_an_error() -> None:
    history = _history()
    short = History(history.start, history.series, history.counts)
    run = run_volumes(
        NOW, SERIES, FakeCounts(short), FakeForecasts(), FakePublisher(), history_days=20
    )
    assert run.skipped and run.forecasts_written == 0


def test_korean_day_is_utc_plus_nine() -> None:
    assert korean_day(datetime(2024, 7, 18, 15, 0, tzinfo=UTC)) == date(2024, 7, 19)
    assert korean_day(datetime(2024, 7, 18, 14, 59, tzinfo=UTC)) == date(2024, 7, 18)


def _counts_table(dynamodb: Any) -> Any:
    return dynamodb.create_table(
        TableName="counts",
        BillingMode="PAY_PER_REQUEST",
        AttributeDefinitions=[
            {"AttributeName": "series", "AttributeType": "S"},
            {"AttributeName": "day", "AttributeType": "S"},
        ],
        KeySchema=[
            {"AttributeName": "series", "KeyType": "HASH"},
            {"AttributeName": "day", "KeyType": "RANGE"},
        ],
    )


@mock_aws
def test_record_count_adds_atomically_and_once_per_request_id() -> None:
    dynamodb = boto3.resource("dynamodb", region_name="ap-northeast-2")
    table = _counts_table(dynamodb)
    day = date(2024, 7, 18)
    assert record_count(table, "suwon.gg.kr", "noise", day)
    assert record_count(table, "suwon.gg.kr", "noise", day, request_id="GG-20240718-0000000A")
    assert not record_count(table, "suwon.gg.kr", "noise", day, request_id="GG-20240718-0000000A")
    store = CountStore("counts", dynamodb=dynamodb)
    got = store.series_counts("suwon.gg.kr#noise", day - timedelta(days=1), day)
    assert got == {day: 2}


def test_the_scheduled_event_runs_every_series_for_its_korean_day(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    import importlib.util

    from tests.conftest import ROOT, load_event

    for name in (
        "COMPLAINT_COUNTS_TABLE",
        "COMPLAINT_FORECASTS_TABLE",
        "COMPLAINT_EVENTS_TOPIC_ARN",
        "OPS_ALERTS_TOPIC_ARN",
    ):
        monkeypatch.setenv(name, name.lower())
    spec = importlib.util.spec_from_file_location(
        "complaint_volumes_app", ROOT / "functions/complaint_volumes/app.py"
    )
    assert spec and spec.loader
    app = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(app)
    now, series = app._scope(load_event("complaint_volumes/scheduled_event.json"))
    assert korean_day(now) == date(2024, 7, 19)
    assert len(series) == 31 * 15
    _, scoped = app._scope(load_event("complaint_volumes/scheduled_event_scoped.json"))
    assert len(scoped) == 2 * 3
