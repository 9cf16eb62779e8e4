"""The Data Dam's daily run: closed days' counts from the complaint counter, replaced on each
run; the last days compacted. The counter is ComplaintCountsTable as template.yaml makes it
(on the lake's moto server)."""

from __future__ import annotations

import importlib
from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta
from types import ModuleType
from typing import Any

import pytest

from gyeonggi.complaints.counts import korean_day, record_count
from gyeonggi.datadam.daily import TIME_TRAVEL_DAYS, closed_days, run_daily
from gyeonggi.datadam.datasets import dataset
from localcloud.datadam import LakeEndpoint, write_records
from tests.conftest import load_event
from tests.unit.conftest import LambdaContext, table_from_template

NOW = datetime(2026, 11, 27, 18, 30, tzinfo=UTC)  # 03:30 on the 28th in Korea
SERIES = [("suwon.gg.kr", "road-damage"), ("yongin.gg.kr", "noise")]


@pytest.fixture
def counter(datadam_lake: LakeEndpoint) -> Any:
    dynamodb = datadam_lake.resource("dynamodb")
    table_from_template(dynamodb, "ComplaintCountsTable", "counts-" + datadam_lake.bucket[-10:])
    return dynamodb.Table("counts-" + datadam_lake.bucket[-10:])


def counts_of(endpoint: LakeEndpoint) -> dict[tuple[str, str, str], int]:
    rows = endpoint.lake().read(dataset("complaint_daily_counts")).to_pylist()
    return {
        (r["day"].isoformat(), r["jurisdiction_id"], r["service_code"]): r["count"] for r in rows
    }


def test_closed_days_are_the_days_over_in_korea() -> None:
    assert closed_days(NOW) == [date(2026, 11, 25), date(2026, 11, 26), date(2026, 11, 27)]
    assert korean_day(NOW) == date(2026, 11, 28)


def test_closed_days_land_and_a_late_count_replaces_them(
    datadam_lake: LakeEndpoint, counter: Any
) -> None:
    for n in range(3):
        record_count(counter, "suwon.gg.kr", "road-damage", date(2026, 11, 26), f"r{n}")
    record_count(counter, "yongin.gg.kr", "noise", date(2026, 11, 27), "r9")
    record_count(counter, "yongin.gg.kr", "noise", date(2026, 11, 28), "today")  # not over
    record_count(counter, "yongin.gg.kr", "noise", date(2026, 11, 20), "old")  # not re-landed
    lake = datadam_lake.lake()
    run = run_daily(lake, counter, SERIES, NOW)
    assert run.count_rows == 2
    assert counts_of(datadam_lake) == {
        ("2026-11-26", "suwon.gg.kr", "road-damage"): 3,
        ("2026-11-27", "yongin.gg.kr", "noise"): 1,
    }
    (row,) = [
        r
        for r in lake.read(dataset("complaint_daily_counts")).to_pylist()
        if r["service_code"] == "noise"
    ]
    assert row["category"]  # the service's group
    # A complaint counted late (a triage retried past midnight), then the next run
    record_count(counter, "suwon.gg.kr", "road-damage", date(2026, 11, 26), "late")
    run_daily(lake, counter, SERIES, NOW)
    assert counts_of(datadam_lake)[("2026-11-26", "suwon.gg.kr", "road-damage")] == 4
    assert len(counts_of(datadam_lake)) == 2  # replaced, not added to


def test_the_run_compacts_the_last_days(datadam_lake: LakeEndpoint, counter: Any) -> None:
    lake = datadam_lake.lake()
    for n in range(3):
        write_records(
            lake,
            "complaints",
            [
                {"service_request_id": f"GG-20261127-0000000{n}", "service_code": "road-damage",
                 "category": "roads", "jurisdiction_id": "suwon.gg.kr", "status": "open",
                 "channel": "api", "requested_at": "2026-11-27T01:00:00+00:00"}
            ],
        )  # fmt: skip
    assert len(lake.data_files(dataset("complaints"))) == 3
    run = run_daily(lake, counter, SERIES, NOW)
    assert run.compacted == {"complaints": 2}
    assert len(lake.data_files(dataset("complaints"))) == 1
    assert lake.read(dataset("complaints")).num_rows == 3


def test_the_run_expires_snapshots_past_the_time_travel_window(
    datadam_lake: LakeEndpoint, counter: Any
) -> None:
    lake = datadam_lake.lake()
    for n in range(2):
        write_records(
            lake,
            "complaints",
            [
                {"service_request_id": f"GG-20261127-0000001{n}", "service_code": "road-damage",
                 "category": "roads", "jurisdiction_id": "suwon.gg.kr", "status": "open",
                 "channel": "api", "requested_at": "2026-11-27T01:00:00+00:00"}
            ],
        )  # fmt: skip
    # A run eight days later: the window is a week, the two snapshots older than that.
    later = datetime.now(UTC) + timedelta(days=TIME_TRAVEL_DAYS + 1)
    run = run_daily(lake, counter, SERIES, later)
    assert run.expired.get("complaints") == 1
    assert len(lake.snapshots(dataset("complaints"))) == 1
    assert lake.read(dataset("complaints")).num_rows == 2


@pytest.fixture
def daily_function(
    datadam_lake: LakeEndpoint,
    counter: Any,
    lambda_environment: None,
    monkeypatch: pytest.MonkeyPatch,
) -> Iterator[ModuleType]:
    for key, value in datadam_lake.environment().items():
        monkeypatch.setenv(key, value)
    monkeypatch.setenv("COMPLAINT_COUNTS_TABLE", counter.name)
    monkeypatch.setenv("POWERTOOLS_SERVICE_NAME", "unit-test-datadam-daily")
    module = importlib.reload(importlib.import_module("functions.datadam_daily.app"))
    module.counts._table = counter
    yield module


def test_the_daily_function_with_its_schedule_event(
    daily_function: ModuleType, datadam_lake: LakeEndpoint, counter: Any
) -> None:
    record_count(counter, "paju.gg.kr", "streetlight", date(2026, 11, 27), "p1")
    result = daily_function.handler(
        load_event("datadam_daily/scheduled_event.json"), LambdaContext()
    )
    assert result["days"] == ["2026-11-25", "2026-11-26", "2026-11-27"]
    assert counts_of(datadam_lake) == {("2026-11-27", "paju.gg.kr", "streetlight"): 1}
    from gyeonggi.common.errors import InvalidInput

    with pytest.raises(InvalidInput):
        daily_function.handler({"time": "yesterday"}, LambdaContext())
