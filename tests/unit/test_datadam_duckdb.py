"""The DuckDB engine for real: Iceberg tables made by pyiceberg in moto's Glue and S3 (over
HTTP on 127.0.0.1), read by DuckDB's iceberg extension loaded from its PyPI package, with the
analysts' Trino SQL translated. The same statements' Athena text is checked in
``test_datadam_sql.py``; Athena's API in ``test_datadam_athena.py``."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta
from typing import Any

import pytest

from gyeonggi.datadam.datasets import CATALOGUE, NAMESPACE
from gyeonggi.datadam.duckdb_engine import DuckDbEngine, extension_directory
from gyeonggi.datadam.engines import QueryFailed, QueryTimedOut, UnknownQuery
from gyeonggi.datadam.queries import QueryRequest, QueryService
from gyeonggi.datadam.tables import TableNotLanded
from tests.unit.datadam_query_support import QueryLake, query_lake

COUNTS = CATALOGUE["complaint_daily_counts"]
COMPLAINTS = CATALOGUE["complaints"]
START = date(2026, 3, 1)
JURISDICTIONS = ("suwon.gg.kr", "ansan.gg.kr")


def _count_rows() -> list[dict[str, Any]]:
    return [
        {
            "day": START + timedelta(days=d),
            "jurisdiction_id": j,
            "category": "roads",
            "service_code": "road-damage",
            "count": d + (100 if j == "suwon.gg.kr" else 0),
        }
        for d in range(10)
        for j in JURISDICTIONS
    ]


def _complaint_rows() -> list[dict[str, Any]]:
    rows = []
    for i in range(12):
        at = datetime(2026, 3, 1, 9, tzinfo=UTC) + timedelta(hours=7 * i)
        rows.append(
            {
                "service_request_id": f"req-{i:03d}",
                "service_code": "road-damage" if i % 3 else "noise",
                "category": "roads" if i % 3 else "environment",
                "jurisdiction_id": JURISDICTIONS[i % 2],
                "status": "open",
                "channel": "open311",
                "requested_at": at,
                "day": at.date(),
                "citizen_pseudonym": f"p{i % 6}",
                "consent_analytics": True,
            }
        )
    return rows


@pytest.fixture(scope="module")
def lake() -> Iterator[QueryLake]:
    with query_lake() as lake:
        lake.append(COUNTS, _count_rows())
        lake.append(COMPLAINTS, _complaint_rows())
        yield lake


@pytest.fixture
def service(lake: QueryLake) -> QueryService:
    return QueryService(lake.engine(), max_rows=50, time_limit=30)


def run_all(service: QueryService, sql: str) -> list[dict[str, Any]]:
    return service.rows(sql)[1]


def test_extensions_load_from_the_package_folder_with_autoinstall_off(lake: QueryLake) -> None:
    con = lake.engine().connect({}, NAMESPACE)
    try:

        def setting(name: str) -> Any:
            return con.execute(f"SELECT current_setting('{name}')").fetchone()[0]

        assert setting("autoinstall_known_extensions") is False
        assert setting("autoload_known_extensions") is False
        assert setting("extension_directory") == str(extension_directory())
        assert "duckdb_ext/extensions" in setting("extension_directory")
        functions = {
            row[0]
            for row in con.execute(
                "SELECT function_name FROM duckdb_functions() "
                "WHERE function_name IN ('iceberg_scan', 'read_avro', 'httpfs_version')"
            ).fetchall()
        }
        assert {"iceberg_scan", "read_avro"} <= functions
    finally:
        con.close()


def test_a_query_runs_and_its_results_are_kept_for_the_next_pages(
    lake: QueryLake, service: QueryService
) -> None:
    # Given the daily counts of two cities
    request = QueryRequest(
        "SELECT jurisdiction_id, sum(count) AS total FROM complaint_daily_counts "
        "GROUP BY jurisdiction_id ORDER BY jurisdiction_id",
        page_size=1,
    )
    # When an analyst asks a page of one row at a time
    run, first = service.submit(request)
    second = service.page(run.query_id, first.next_token, 1)
    # Then each page holds one row, typed, and the last has no next token
    assert [c.name for c in first.columns] == ["jurisdiction_id", "total"]
    assert first.rows == [["ansan.gg.kr", 45]]
    assert second.rows == [["suwon.gg.kr", 1045]]
    assert second.next_token is None
    assert run.engine == "duckdb" and run.elapsed_ms is not None
    stored = lake.client("s3").get_object(
        Bucket=lake.results_bucket, Key=f"duckdb/{run.query_id}.json"
    )
    assert json.loads(stored["Body"].read())["rows"] == [["ansan.gg.kr", 45], ["suwon.gg.kr", 1045]]


def test_date_functions_intervals_and_casts_translate_and_run(service: QueryService) -> None:
    rows = run_all(
        service,
        "SELECT day, date_diff('day', DATE '2026-03-01', day) AS age, "
        "CAST(count AS varchar) AS n, date_format(CAST(day AS timestamp), '%Y-%m') AS month, "
        "day_of_week(day) AS dow "
        "FROM complaint_daily_counts "
        "WHERE jurisdiction_id = 'ansan.gg.kr' "
        "AND day >= date_add('day', -2, DATE '2026-03-10') "
        "AND day < DATE '2026-03-10' + INTERVAL '1' DAY ORDER BY day",
    )
    assert rows == [
        {"day": "2026-03-08", "age": 7, "n": "7", "month": "2026-03", "dow": 7},
        {"day": "2026-03-09", "age": 8, "n": "8", "month": "2026-03", "dow": 1},
        {"day": "2026-03-10", "age": 9, "n": "9", "month": "2026-03", "dow": 2},
    ]


def test_timestamps_come_back_as_iso_8601_and_counts_as_numbers(service: QueryService) -> None:
    rows = run_all(
        service,
        "SELECT requested_at, count(*) OVER () AS n FROM complaints "
        "WHERE requested_at < TIMESTAMP '2026-03-01 10:00:00 UTC'",
    )
    assert len(rows) == 1
    assert datetime.fromisoformat(rows[0]["requested_at"]) == datetime(2026, 3, 1, 9, tzinfo=UTC)
    assert rows[0]["n"] == 1


def test_the_row_limit_holds_whatever_the_limit_asked(lake: QueryLake) -> None:
    service = QueryService(lake.engine(), max_rows=5, time_limit=30)
    assert len(run_all(service, "SELECT * FROM complaint_daily_counts LIMIT 1000")) == 5
    assert len(run_all(service, "SELECT * FROM complaint_daily_counts LIMIT 3")) == 3


def test_an_unknown_column_is_the_engines_refusal_with_its_words(service: QueryService) -> None:
    with pytest.raises(QueryFailed, match="no_such_column"):
        run_all(service, "SELECT no_such_column FROM complaints")


def test_a_function_duckdb_lacks_is_a_refusal_not_a_crash(service: QueryService) -> None:
    # format_datetime is Trino's (Java patterns); sqlglot leaves it, DuckDB has none.
    with pytest.raises(QueryFailed, match="format_datetime"):
        run_all(service, "SELECT format_datetime(requested_at, 'yyyy') FROM complaints")


def test_a_query_past_the_time_limit_is_interrupted(lake: QueryLake) -> None:
    service = QueryService(lake.engine(), max_rows=5, time_limit=0.5)
    with pytest.raises(QueryTimedOut, match=r"longer than 0\.5 s"):
        run_all(
            service,
            # 12 rows to the ninth power: five billion rows to count.
            "SELECT count(*) FROM complaints "
            + "".join(f" CROSS JOIN complaints AS c{i}" for i in range(8)),
        )


def test_the_engine_reaches_nothing_but_the_tables(lake: QueryLake) -> None:
    # The checker refuses read_csv; the connection refuses it too, should one slip through.
    con = lake.engine().connect(
        {"complaints": lake.locator().metadata_location("complaints")}, NAMESPACE
    )
    try:
        for sql in (
            "SELECT * FROM read_text('/etc/hostname')",
            "SET enable_external_access = true",
            f"SELECT * FROM read_text('s3://{lake.results_bucket}/anything')",
        ):
            with pytest.raises(Exception, match=r"disabled|locked|not allowed|Permission"):
                con.execute(sql).fetchall()
        assert con.execute("SELECT count(*) FROM gyeonggi_datadam.complaints").fetchone() == (12,)
    finally:
        con.close()


def test_a_dataset_with_no_table_yet_is_said_so(service: QueryService) -> None:
    with pytest.raises(TableNotLanded, match="no table in the lake yet"):
        run_all(service, "SELECT * FROM sensor_minutes")


def test_unknown_queries_and_tokens(lake: QueryLake, service: QueryService) -> None:
    engine: DuckDbEngine = lake.engine()
    with pytest.raises(UnknownQuery):
        engine.page("not-a-uuid", None, 10)
    with pytest.raises(UnknownQuery):
        engine.page("00000000-0000-4000-8000-000000000000", None, 10)
    run, _ = service.submit(QueryRequest("SELECT day FROM complaint_daily_counts"))
    with pytest.raises(UnknownQuery):
        engine.page(run.query_id, "minus-one", 10)


def test_a_filter_on_the_day_reads_only_that_days_files(lake: QueryLake) -> None:
    # Partition pruning: DuckDB's plan says how many data files the scan opened.
    locations = {
        "complaint_daily_counts": lake.locator().metadata_location("complaint_daily_counts")
    }
    con = lake.engine().connect(locations, NAMESPACE)
    try:

        def files(where: str) -> int:
            plan = con.execute(
                "EXPLAIN ANALYZE SELECT sum(count) FROM gyeonggi_datadam.complaint_daily_counts "
                + where
            ).fetchall()[0][1]
            return int(plan.split("Total Files Read:")[1].split()[0])

        assert files("") == 20
        assert files("WHERE day = DATE '2026-03-04'") == 2
        assert files("WHERE day = DATE '2026-03-04' AND jurisdiction_id = 'suwon.gg.kr'") == 1
    finally:
        con.close()


@pytest.mark.parametrize(
    ("where", "days"),
    [
        ("day < DATE '2026-03-03'", ["2026-03-01", "2026-03-02"]),
        ("day > DATE '2026-03-08'", ["2026-03-09", "2026-03-10"]),
        ("DATE '2026-03-02' > day", ["2026-03-01"]),
        ("day <= DATE '2026-03-02'", ["2026-03-01", "2026-03-02"]),
    ],
)
def test_strict_comparisons_on_the_partition_day_find_their_rows(
    service: QueryService, where: str, days: list[str]
) -> None:
    # DuckDB 1.4.4's iceberg scan prunes every file for day < X on an identity-partitioned
    # date; the translation spells < and > out (gyeonggi.datadam.sql), and this keeps it so.
    rows = run_all(
        service,
        "SELECT DISTINCT day FROM complaint_daily_counts "
        f"WHERE {where} AND jurisdiction_id = 'ansan.gg.kr' ORDER BY day",
    )
    assert [r["day"] for r in rows] == days
