"""The port a query engine fills: run a checked statement, hand back its results a page at a time.

Two engines fill it: :class:`gyeonggi.datadam.athena.AthenaEngine` in AWS and
:class:`gyeonggi.datadam.duckdb_engine.DuckDbEngine` on one machine. Both keep a query's results
in the results bucket under its id, so a later request (another Lambda instance) can read the
next page: Athena does so itself; the DuckDB engine writes them there as Athena would.

Callers (the API, the forecasting and notice functions) hold a :class:`QueryEngine` and never
know which one it is; :func:`engine_from_settings` picks it from ``DATADAM_QUERY_ENGINE``.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal
from typing import Any, Protocol

from gyeonggi.common.config import Settings
from gyeonggi.common.errors import NotFound, Unavailable
from gyeonggi.datadam.sql import InvalidQuery, Statement
from gyeonggi.datadam.tables import TableLocator

#: The most rows one page holds (Athena's GetQueryResults gives at most 1,000 a call).
MAX_PAGE_SIZE = 1000


class QueryFailed(InvalidQuery):
    """The engine refused the query for something in it (an unknown column, a bad cast)."""

    code = "query_failed"


class QueryTimedOut(InvalidQuery):
    """The query ran past the time limit and was stopped; a narrower one may finish."""

    code = "query_timed_out"


class EngineUnavailable(Unavailable):
    """The engine could not run the query for a reason of its own (HTTP 503)."""

    code = "engine_unavailable"


class UnknownQuery(NotFound):
    """A query id or page token that no query of this engine has (HTTP 404)."""

    code = "unknown_query"


@dataclass(frozen=True)
class ResultColumn:
    name: str
    type: str  # the engine's SQL type, lower case: varchar, bigint, double, date...


@dataclass(frozen=True)
class Run:
    """A finished query: its id, and what the engine said it cost."""

    query_id: str
    engine: str
    scanned_bytes: int | None = None
    elapsed_ms: int | None = None


@dataclass(frozen=True)
class Page:
    """Some of a query's rows, JSON-ready, and the token of the next page (``None``: the last)."""

    query_id: str
    columns: tuple[ResultColumn, ...]
    rows: list[list[Any]] = field(default_factory=list)
    next_token: str | None = None


class QueryEngine(Protocol):
    """Runs checked statements; where the tables are is the engine's business."""

    name: str

    def run(self, statement: Statement, *, time_limit: float, reuse_minutes: int = 0) -> Run:
        """Run ``statement`` to the end within ``time_limit`` seconds.

        ``reuse_minutes`` lets the engine answer from an identical query's results of that age
        (Athena's result reuse; open data asks for it, analysts do not).

        Raises
        ------
        QueryFailed, QueryTimedOut, EngineUnavailable
        """
        ...

    def page(self, query_id: str, token: str | None, size: int) -> Page:
        """One page of a finished query's rows, from ``token`` (``None``: the first).

        Raises
        ------
        UnknownQuery
            No such query or token.
        """
        ...

    def all_rows(self, query_id: str) -> Page:
        """Every row of a finished query at once, read from the results file in one go
        (the functions' aggregates: hundreds of thousands of rows are minutes of pages)."""
        ...


class EngineSettings(Settings):
    """Where the Data Dam is and which engine reads it (the contract's variables)."""

    datadam_query_engine: str = "athena"
    datadam_database: str = "gyeonggi_datadam"
    datadam_results_bucket: str
    datadam_athena_workgroup: str = "primary"
    #: Local only: the S3 endpoint DuckDB reads the warehouse from (``http://127.0.0.1:PORT``),
    #: and Glue's (the lake's variables, ``gyeonggi.datadam.lake.LakeSettings``).
    datadam_s3_endpoint: str | None = None
    datadam_glue_endpoint: str | None = None

    def locator(self) -> TableLocator:
        """The reader of the lake's Glue tables and Iceberg metadata these settings name."""
        return TableLocator(
            self.datadam_database,
            glue_endpoint=self.datadam_glue_endpoint or self.datadam_s3_endpoint,
            s3_endpoint=self.datadam_s3_endpoint,
        )


def engine_from_settings(settings: EngineSettings) -> QueryEngine:
    """The engine ``DATADAM_QUERY_ENGINE`` names: ``athena`` (AWS) or ``duckdb`` (local)."""
    if settings.datadam_query_engine == "athena":
        from gyeonggi.datadam.athena import AthenaEngine

        return AthenaEngine(
            settings.datadam_athena_workgroup,
            settings.datadam_database,
            settings.datadam_results_bucket,
        )
    if settings.datadam_query_engine == "duckdb":
        from gyeonggi.datadam.duckdb_engine import DuckDbEngine

        return DuckDbEngine(
            settings.locator(),
            settings.datadam_results_bucket,
            s3_endpoint=settings.datadam_s3_endpoint,
        )
    from gyeonggi.common.config import ConfigurationError

    raise ConfigurationError(
        f"DATADAM_QUERY_ENGINE {settings.datadam_query_engine!r}: athena or duckdb"
    )


def json_value(value: Any) -> Any:
    """A cell as JSON: dates and times ISO 8601, decimals and non-finite floats as numbers/None."""
    if value is None or isinstance(value, bool | int | str):
        return value
    if isinstance(value, float):
        return value if math.isfinite(value) else None
    if isinstance(value, Decimal):
        return int(value) if value == value.to_integral_value() else float(value)
    if isinstance(value, datetime | date):
        return value.isoformat()
    return str(value)


_INTEGER_TYPES = ("tinyint", "smallint", "integer", "int", "bigint", "hugeint", "ubigint")
_FLOAT_TYPES = ("double", "float", "real")


def typed_value(text: str | None, sql_type: str) -> Any:
    """A cell Athena gave as text, as the JSON value its column's type means."""
    if text is None:
        return None
    kind = sql_type.lower().split("(")[0].strip()
    try:
        if kind in _INTEGER_TYPES:
            return int(text)
        if kind in _FLOAT_TYPES:
            number = float(text)
            return number if math.isfinite(number) else None
        if kind == "decimal":
            return json_value(Decimal(text))
        if kind == "boolean":
            return text.lower() == "true"
    except ValueError:
        return text
    return text
