"""The analysts' SQL: what is refused (and the words of the refusal), what is rewritten for
Athena and for DuckDB. The DuckDB side of the same queries runs for real in
``test_datadam_duckdb.py``."""

from __future__ import annotations

import pytest
import sqlglot

from gyeonggi.datadam.datasets import CATALOGUE, NAMESPACE
from gyeonggi.datadam.sql import InvalidQuery, Statement, parse_statement


def check(sql: object, max_rows: int = 1000) -> Statement:
    return parse_statement(sql, CATALOGUE, namespace=NAMESPACE, max_rows=max_rows)


@pytest.mark.parametrize(
    ("sql", "words"),
    [
        ("", "one SELECT statement"),
        (None, "one SELECT statement"),
        ("SELECT 1; SELECT 2", "exactly one statement, not 2"),
        ("SELECT * FROM complaints; DROP TABLE complaints", "exactly one statement"),
        ("INSERT INTO complaints VALUES (1)", "only a query"),
        ("DELETE FROM complaints", "only a query"),
        ("CREATE TABLE x AS SELECT * FROM complaints", "only a query"),
        ("PRAGMA database_list", "only a query"),
        ("ATTACH 'x.db'", "does not parse"),
        ("COPY complaints TO 'x.csv'", "only a query"),
        ("SET enable_external_access = true", "only a query"),
        ("SELECT * INTO copy FROM complaints", "INTO is not allowed"),
        ("SELECT * FROM read_csv('/etc/passwd')", "function read_csv is not allowed"),
        ("SELECT * FROM read_parquet('s3://x/y.parquet')", "function read_parquet"),
        ("SELECT * FROM iceberg_scan('s3://x/m.json')", "function iceberg_scan"),
        ("SELECT * FROM 'secrets.csv'", "no dataset 'secrets.csv'"),
        ("SELECT * FROM TABLE(system.query(query => 'x'))", "not allowed"),
        ("SELECT getenv('HOME') FROM complaints", "function getenv"),
        ("SELECT current_setting('s3_secret_access_key') FROM complaints", "current_setting"),
        ("SELECT * FROM information_schema.tables", "only tables of gyeonggi_datadam"),
        ("SELECT * FROM awsdatacatalog.gyeonggi_datadam.complaints", "without a catalog"),
        ("SELECT * FROM nonsense", "no dataset 'nonsense'"),
        ("SELECT 1", "reads no dataset"),
        ("SELECT * FROM complaints LIMIT ALL", "LIMIT must be a whole number"),
        ("SELECT * FROM complaints FOR VERSION AS OF 1", "time travel"),
        ("SELEC day FROM complaints", "does not parse"),
        ("SELECT day FROM complaints WHERE", "does not parse"),
    ],
)
def test_what_is_refused_says_why(sql: object, words: str) -> None:
    with pytest.raises(InvalidQuery) as caught:
        check(sql)
    assert words in caught.value.message
    assert caught.value.field == "sql"


def test_a_long_text_is_refused_before_parsing() -> None:
    with pytest.raises(InvalidQuery, match="longer than"):
        check("SELECT day FROM complaints WHERE " + " OR ".join(["day = DATE '2026-01-01'"] * 2000))


def test_tables_are_named_in_the_namespace_and_read_once_each() -> None:
    statement = check(
        "WITH c AS (SELECT day FROM complaints) "
        "SELECT c.day, d.count FROM c JOIN gyeonggi_datadam.complaint_daily_counts d "
        "ON c.day = d.day JOIN complaints e ON e.day = c.day"
    )
    assert sorted(statement.datasets) == ["complaint_daily_counts", "complaints"]
    assert "FROM gyeonggi_datadam.complaints" in statement.for_duckdb()


@pytest.mark.parametrize(
    ("sql", "limit"),
    [
        ("SELECT day FROM complaints", 1000),
        ("SELECT day FROM complaints LIMIT 5", 5),
        ("SELECT day FROM complaints LIMIT 50000", 1000),
        ("SELECT day FROM complaints FETCH FIRST 7 ROWS ONLY", 7),
        ("SELECT day FROM complaints UNION ALL SELECT day FROM complaints LIMIT 3", 3),
        ("SELECT day FROM complaints UNION SELECT day FROM complaint_daily_counts", 1000),
    ],
)
def test_the_outer_limit_is_at_most_the_row_limit(sql: str, limit: int) -> None:
    statement = check(sql)
    for text, dialect in (
        (statement.for_athena("db"), "athena"),
        (statement.for_duckdb(), "duckdb"),
    ):
        assert sqlglot.parse_one(text, read=dialect).args["limit"].expression.this == str(limit)


def test_athena_reads_the_stacks_glue_database() -> None:
    statement = check("SELECT d.day FROM gyeonggi_datadam.complaint_daily_counts AS d")
    assert statement.for_athena("gyeonggi_datadam_dev") == (
        "SELECT d.day FROM gyeonggi_datadam_dev.complaint_daily_counts AS d LIMIT 1000"
    )


# The pairs the two engines spell differently: Trino in, Athena and DuckDB out.
TRANSLATIONS = [
    (
        "SELECT day FROM complaints WHERE day >= date_add('day', -7, DATE '2026-03-10')",
        "DATE_ADD('DAY', -7, CAST('2026-03-10' AS DATE))",
        "(CAST('2026-03-10' AS DATE) + INTERVAL (-7) DAY)",
    ),
    (
        "SELECT date_diff('day', DATE '2026-01-01', day) AS age FROM complaints",
        "DATE_DIFF('DAY', CAST('2026-01-01' AS DATE), day)",
        "DATE_DIFF('DAY', CAST('2026-01-01' AS DATE), day)",
    ),
    (
        "SELECT date_format(requested_at, '%Y-%m') AS month FROM complaints",
        "DATE_FORMAT(requested_at, '%Y-%m')",
        "STRFTIME(requested_at, '%Y-%m')",
    ),
    (
        "SELECT CAST(count AS varchar) AS n FROM complaint_daily_counts",
        "CAST(count AS VARCHAR)",
        "CAST(count AS TEXT)",
    ),
    (
        "SELECT approx_distinct(category) AS n FROM complaints",
        "APPROX_DISTINCT(category)",
        "APPROX_COUNT_DISTINCT(category)",
    ),
    (
        "SELECT day_of_week(day) AS dow FROM complaints",
        "DAY_OF_WEEK(day)",
        "ISODOW(day)",
    ),
    (
        "SELECT day FROM complaints ORDER BY day OFFSET 2 LIMIT 3",
        "OFFSET 2 LIMIT 3",
        "LIMIT 3 OFFSET 2",
    ),
]


@pytest.mark.parametrize(("sql", "athena", "duckdb"), TRANSLATIONS)
def test_each_engine_gets_its_own_spelling(sql: str, athena: str, duckdb: str) -> None:
    statement = check(sql)
    assert athena in statement.for_athena(NAMESPACE)
    assert duckdb in statement.for_duckdb()


def test_duckdb_gets_strict_comparisons_spelled_out_athena_as_written() -> None:
    statement = check("SELECT day FROM complaints WHERE day < DATE '2026-03-03' AND 3 > 2")
    assert "day < CAST('2026-03-03' AS DATE) AND 3 > 2" in statement.for_athena(NAMESPACE)
    assert (
        "(day <= CAST('2026-03-03' AS DATE) AND day <> CAST('2026-03-03' AS DATE)) "
        "AND (3 >= 2 AND 3 <> 2)"
    ) in statement.for_duckdb()
