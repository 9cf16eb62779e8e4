"""The forecasting and notice functions' aggregates read from the Data Dam: the same History and
the same k-anonymous segments as from DynamoDB, for the same complaints, through the DuckDB
engine over a real lake (moto's server, the lake's own writer)."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from datetime import UTC, date, datetime, timedelta
from typing import Any

import numpy as np
import pytest

from gyeonggi.complaints.notices import consenting_people, k_anonymous_segments, plan_notices
from gyeonggi.complaints.series import History
from gyeonggi.datadam.aggregates import DataDamComplaints, DataDamCounts
from gyeonggi.datadam.datasets import CATALOGUE
from gyeonggi.datadam.queries import QueryService
from tests.unit.datadam_query_support import QueryLake, query_lake

FIRST = date(2026, 10, 1)
DAYS = 20
SERIES = [("suwon.gg.kr", "road-damage"), ("ansan.gg.kr", "noise"), ("yongin.gg.kr", "tax")]


def _count(i: int, day: int) -> int:
    return (i + 1) * 10 + day


class LiveCounts:
    """The live counter's last days (what DynamoDB holds and the lake does not yet)."""

    def __init__(self) -> None:
        self.asked: list[tuple[date, date]] = []

    def history(self, series: Sequence[tuple[str, str]], first: date, last: date) -> History:
        self.asked.append((first, last))
        n = (last - first).days + 1
        counts = np.array(
            [
                [_count(i, (first - FIRST).days + d) + 1000 for d in range(n)]
                for i in range(len(series))
            ],
            dtype=np.int64,
        )
        return History(first, tuple(series), counts)


def _complaint(i: int, jurisdiction: str, band: str, person: int, service: str) -> dict[str, Any]:
    at = datetime(2026, 9, 1, 3, tzinfo=UTC) + timedelta(hours=5 * i)
    return {
        "service_request_id": f"req-{i:04d}",
        "service_code": service,
        "category": "any",
        "jurisdiction_id": jurisdiction,
        "status": "open",
        "channel": "api",
        "requested_at": at,
        "day": at.date(),
        "citizen_pseudonym": f"{jurisdiction}-{band}-{person}",
        "age_band": band,
        "gender": "female" if person % 2 else "male",
        "consent_analytics": person != 0,
    }


def _complaints() -> list[dict[str, Any]]:
    rows = []
    i = 0
    for jurisdiction, band, people in (
        ("suwon.gg.kr", "70+", 9),
        ("suwon.gg.kr", "30-39", 6),
        ("ansan.gg.kr", "60-69", 3),
    ):
        for person in range(people):
            for service in ("welfare", "water-sewer") if person % 3 else ("welfare",):
                rows.append(_complaint(i, jurisdiction, band, person, service))
                i += 1
    return rows


@pytest.fixture(scope="module")
def lake() -> Iterator[QueryLake]:
    with query_lake() as lake:
        lake.append(
            CATALOGUE["complaint_daily_counts"],
            [
                {
                    "day": FIRST + timedelta(days=d),
                    "jurisdiction_id": j,
                    "category": "any",
                    "service_code": c,
                    "count": _count(i, d),
                }
                for i, (j, c) in enumerate(SERIES)
                for d in range(DAYS)
            ],
        )
        lake.append(CATALOGUE["complaints"], _complaints())
        yield lake


def test_the_history_comes_from_the_lake_and_the_last_days_from_the_counter(
    lake: QueryLake,
) -> None:
    live = LiveCounts()
    counts = DataDamCounts(QueryService(lake.engine(), time_limit=30), live, recent_days=2)
    last = FIRST + timedelta(days=DAYS - 1)
    # Two of the lake's series, one it has never seen, from before the first count.
    series = [SERIES[1], SERIES[0], ("osan.gg.kr", "tax")]
    history = counts.history(series, FIRST - timedelta(days=3), last)
    assert history.start == FIRST - timedelta(days=3)
    assert history.series == tuple(series)
    assert live.asked == [(last - timedelta(days=1), last)]
    expected_lake = [
        [0, 0, 0] + [_count(1, d) for d in range(DAYS - 2)],
        [0, 0, 0] + [_count(0, d) for d in range(DAYS - 2)],
        [0] * (DAYS + 1),
    ]
    assert history.counts[:, :-2].tolist() == expected_lake
    assert history.counts[:, -2:].tolist() == [
        [_count(i, d) + 1000 for d in (DAYS - 2, DAYS - 1)] for i in range(3)
    ]


def test_a_window_inside_the_recent_days_asks_only_the_counter(lake: QueryLake) -> None:
    live = LiveCounts()
    counts = DataDamCounts(QueryService(lake.engine(), time_limit=30), live, recent_days=2)
    history = counts.history(SERIES, FIRST, FIRST + timedelta(days=1))
    assert live.asked == [(FIRST, FIRST + timedelta(days=1))]
    assert history.counts.shape == (3, 2)


def test_the_notices_see_the_same_people_from_the_lake_as_from_dynamodb(lake: QueryLake) -> None:
    since = datetime(2026, 8, 1, tzinfo=UTC)
    until = datetime(2026, 12, 1, tzinfo=UTC)
    from_lake = DataDamComplaints(QueryService(lake.engine(), time_limit=30)).records(since, until)
    # The same complaints as the complaints table holds them (citizen nested, ISO times).
    from_table = [
        {
            "jurisdiction_id": c["jurisdiction_id"],
            "service_code": c["service_code"],
            "requested_datetime": c["requested_at"].isoformat(),
            "citizen": {
                "consent_analytics": c["consent_analytics"],
                "pseudonym": c["citizen_pseudonym"],
                "age_band": c["age_band"],
                "gender": c["gender"],
            },
        }
        for c in _complaints()
    ]
    lake_cells = consenting_people(from_lake, since, until)
    table_cells = consenting_people(from_table, since, until)
    assert {k: {p: set(s) for p, s in v.items()} for k, v in lake_cells.items()} == {
        k: {p: set(s) for p, s in v.items()} for k, v in table_cells.items()
    }
    segments, suppressed = k_anonymous_segments(lake_cells)
    assert suppressed == 2  # Ansan's two consenting people are fewer than k
    notices = plan_notices(segments, date(2026, 12, 1))
    assert {n.segment.jurisdiction_id for n in notices} == {"suwon.gg.kr"}
    # One record per person and service: the lake answers people, not complaints.
    assert len(from_lake) == len(
        {(r["citizen"]["pseudonym"], r["service_code"]) for r in from_lake}
    )


def _load(path: str, name: str) -> Any:
    import importlib.util

    from tests.conftest import ROOT

    spec = importlib.util.spec_from_file_location(name, ROOT / path)
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_the_functions_read_the_data_dam_when_the_template_says_so(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from gyeonggi.complaints.notices import ComplaintSource
    from gyeonggi.complaints.volumes import CountStore
    from gyeonggi.datadam.athena import AthenaEngine

    for name in (
        "COMPLAINT_COUNTS_TABLE",
        "COMPLAINT_FORECASTS_TABLE",
        "COMPLAINT_EVENTS_TOPIC_ARN",
        "OPS_ALERTS_TOPIC_ARN",
        "COMPLAINTS_TABLE",
        "PROACTIVE_NOTICES_TOPIC_ARN",
    ):
        monkeypatch.setenv(name, name.lower())
    volumes = _load("functions/complaint_volumes/app.py", "volumes_dynamodb")
    notices = _load("functions/proactive_notices/app.py", "notices_dynamodb")
    assert isinstance(volumes.counts, CountStore)
    assert isinstance(notices.source, ComplaintSource)
    monkeypatch.setenv("COUNTS_SOURCE", "datadam")
    monkeypatch.setenv("NOTICES_SOURCE", "datadam")
    monkeypatch.setenv("DATADAM_RESULTS_BUCKET", "results")
    monkeypatch.setenv("DATADAM_ATHENA_WORKGROUP", "datadam")
    volumes = _load("functions/complaint_volumes/app.py", "volumes_datadam")
    notices = _load("functions/proactive_notices/app.py", "notices_datadam")
    assert isinstance(volumes.counts, DataDamCounts)
    assert isinstance(volumes.counts.recent, CountStore)
    assert isinstance(volumes.counts.service.engine, AthenaEngine)
    assert isinstance(notices.source, DataDamComplaints)
    engine = notices.source.service.engine
    assert isinstance(engine, AthenaEngine) and engine.workgroup == "datadam"
