"""Analysts' queries of the Data Dam: checked, run on the engine, answered a page at a time.

``POST /datadam/queries`` takes ``{"sql": "...", "page_size": 100, "format": "json"|"csv"}``;
the SQL is checked (:mod:`gyeonggi.datadam.sql`), run to the end within the time limit on the
engine (:mod:`gyeonggi.datadam.engines`), and its first page answered with the query's id and
the token of the next page; ``GET /datadam/queries/{query_id}?next=...`` gives the next ones.
The functions that read aggregates (forecasting, notices) call :meth:`QueryService.rows`.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from gyeonggi.common.errors import InvalidInput
from gyeonggi.datadam.datasets import CATALOGUE, NAMESPACE, Dataset
from gyeonggi.datadam.engines import (
    MAX_PAGE_SIZE,
    EngineSettings,
    Page,
    QueryEngine,
    ResultColumn,
    Run,
)
from gyeonggi.datadam.sql import Statement, parse_statement

FORMATS = ("json", "csv")
DEFAULT_PAGE_SIZE = 100


class QuerySettings(EngineSettings):
    """The limits of a query (variables ``DATADAM_MAX_ROWS``, ``DATADAM_TIME_LIMIT_SECONDS``)."""

    datadam_max_rows: int = 10_000
    #: Under API Gateway's 29 s integration timeout, with room for the first page.
    datadam_time_limit_seconds: float = 20.0


@dataclass(frozen=True)
class QueryRequest:
    """A checked ``POST /datadam/queries`` body."""

    sql: str
    page_size: int = DEFAULT_PAGE_SIZE
    format: str = "json"


def parse_request(body: Any) -> QueryRequest:
    """The body of ``POST /datadam/queries``, or an ``InvalidInput`` naming the field."""
    if not isinstance(body, Mapping):
        raise InvalidInput('body: a JSON object {"sql": "SELECT ..."}')
    unknown = sorted(set(body) - {"sql", "page_size", "format"})
    if unknown:
        raise InvalidInput(f"{unknown[0]}: not a field (sql, page_size, format)", field=unknown[0])
    sql = body.get("sql")
    if not isinstance(sql, str) or not sql.strip():
        raise InvalidInput("sql: is required, one SELECT statement as a string", field="sql")
    return QueryRequest(
        sql,
        page_size_of(body.get("page_size", DEFAULT_PAGE_SIZE)),
        format_of(body.get("format", "json")),
    )


def page_size_of(value: Any) -> int:
    """A page size from a body or query string: a whole number from 1 to 1,000."""
    if isinstance(value, str) and value.isdigit():
        value = int(value)
    if isinstance(value, bool) or not isinstance(value, int) or not 1 <= value <= MAX_PAGE_SIZE:
        raise InvalidInput(
            f"page_size: a whole number from 1 to {MAX_PAGE_SIZE}", field="page_size"
        )
    return value


def next_token_of(value: str | None) -> str | None:
    """The ``next`` token of a page request: absent for the first page; never empty (an empty
    value is a mistake, not a request for the first page again)."""
    if value is not None and not value.strip():
        raise InvalidInput(
            "next: is empty; give the token the previous page returned, or leave it out",
            field="next",
        )
    return value


def format_of(value: Any) -> str:
    """``json`` or ``csv``."""
    if value not in FORMATS:
        raise InvalidInput("format: json or csv", field="format")
    return str(value)


class QueryService:
    """Checks and runs queries on ``engine`` within the limits."""

    def __init__(
        self,
        engine: QueryEngine,
        *,
        max_rows: int = 10_000,
        time_limit: float = 20.0,
        catalogue: Mapping[str, Dataset] = CATALOGUE,
    ) -> None:
        self.engine = engine
        self.max_rows = max_rows
        self.time_limit = time_limit
        self.catalogue = catalogue

    @classmethod
    def from_settings(cls, settings: QuerySettings, engine: QueryEngine) -> QueryService:
        return cls(
            engine,
            max_rows=settings.datadam_max_rows,
            time_limit=settings.datadam_time_limit_seconds,
        )

    def statement(self, sql: object, *, max_rows: int | None = None) -> Statement:
        """``sql`` checked against the catalogue and the row limit (``InvalidQuery`` if not).

        ``max_rows`` is for the functions' own queries (open data, aggregates); an analyst's
        query always has the service's limit.
        """
        return parse_statement(
            sql, self.catalogue, namespace=NAMESPACE, max_rows=max_rows or self.max_rows
        )

    def submit(self, request: QueryRequest) -> tuple[Run, Page]:
        """Run the request's query and read its first page."""
        run = self.engine.run(self.statement(request.sql), time_limit=self.time_limit)
        return run, self.engine.page(run.query_id, None, request.page_size)

    def page(self, query_id: str, token: str | None, page_size: int) -> Page:
        """A later page of a query."""
        return self.engine.page(query_id, token or None, page_size)

    def rows(
        self, sql: str, *, max_rows: int | None = None, reuse_minutes: int = 0
    ) -> tuple[tuple[ResultColumn, ...], list[dict[str, Any]]]:
        """Every row of ``sql`` (at most the row limit) as dicts, for the functions that read
        aggregates; the same checks as an analyst's query."""
        statement = self.statement(sql, max_rows=max_rows)
        run = self.engine.run(statement, time_limit=self.time_limit, reuse_minutes=reuse_minutes)
        whole = self.engine.all_rows(run.query_id)
        columns = whole.columns
        names = [c.name for c in columns]
        out = [dict(zip(names, row, strict=False)) for row in whole.rows]
        return columns, out


def page_json(run: Run | None, page: Page, row_limit: int | None = None) -> dict[str, Any]:
    """A page as the API answers it (``docs/openapi.yaml``, ``DatadamQueryPage``)."""
    body: dict[str, Any] = {
        "query_id": page.query_id,
        "columns": [{"name": c.name, "type": c.type} for c in page.columns],
        "rows": page.rows,
        "next": page.next_token,
    }
    if run is not None:
        body["engine"] = run.engine
        body["scanned_bytes"] = run.scanned_bytes
        body["elapsed_ms"] = run.elapsed_ms
    if row_limit is not None:
        body["row_limit"] = row_limit
    return body


def to_csv(columns: Sequence[ResultColumn], rows: Sequence[Sequence[Any]]) -> str:
    """RFC 4180 CSV with a header row; ``NULL`` as an empty field, booleans as true/false."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow([c.name for c in columns])
    for row in rows:
        writer.writerow(
            ["" if v is None else str(v).lower() if isinstance(v, bool) else v for v in row]
        )
    return out.getvalue()
