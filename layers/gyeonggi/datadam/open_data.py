"""Open data: the datasets marked open, aggregated and k-anonymous, for anyone without a token.

``GET /datadam/open/{dataset}.csv|.json?from=YYYY-MM-DD&to=YYYY-MM-DD`` counts the dataset's
records per combination of its ``open_dimensions`` (a ``count`` column is summed: the daily
counts are counts already) over at most :data:`MAX_DAYS` days, and publishes a cell only when it
counts at least ``K`` records, the proactive notices' k (``gyeonggi.complaints.notices.K`` = 5):
the same threshold, one constant. Where the records name people (a ``citizen_pseudonym``
column), a cell must also hold ``K`` distinct people, the notices' rule 2: five complaints of
one person are one person.

Small cells are suppressed, not merged into wider ones: with every dimension fixed per dataset,
a published total of a wider cell would give the suppressed cell back by subtraction. The query
is built here from the catalogue (never from the caller's text), checked like an analyst's and
run with the engine's result reuse, so a popular download is one scan an hour.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any

from gyeonggi.common.errors import InvalidInput, NotFound
from gyeonggi.complaints.notices import K
from gyeonggi.datadam.datasets import CATALOGUE, Dataset, UnknownDataset
from gyeonggi.datadam.engines import ResultColumn
from gyeonggi.datadam.queries import QueryService, format_of

#: The longest period one request covers (a month at a time keeps an answer under a megabyte).
MAX_DAYS = 31
#: Athena may answer from an identical query's results this recent.
REUSE_MINUTES = 60
#: 31 days x 31 jurisdictions x ~15 services x a few channels, with room.
MAX_ROWS = 100_000
PERSON_COLUMN = "citizen_pseudonym"
COUNT_COLUMN = "count"


@dataclass(frozen=True)
class OpenRequest:
    dataset: Dataset
    format: str
    first: date
    last: date


def parse_open_request(name: str, query: dict[str, str], today: date) -> OpenRequest:
    """``{dataset}.{csv|json}`` and the ``from``/``to`` days (default: the 30 days to yesterday).

    Raises
    ------
    UnknownDataset, NotFound
        No such dataset, or one that is not open data (both 404: closed sets are not listed here).
    InvalidInput
        A bad format or period.
    """
    dataset_id, dot, fmt = name.rpartition(".")
    if not dot:
        raise InvalidInput("ask for {dataset}.csv or {dataset}.json", field="format")
    fmt = format_of(fmt)
    if dataset_id not in CATALOGUE:
        raise UnknownDataset(dataset_id)
    dataset = CATALOGUE[dataset_id]
    if not dataset.open:
        raise NotFound(
            f"dataset {dataset_id} is not open data (GET /datadam/datasets says which are)"
        )
    unknown = sorted(set(query) - {"from", "to"})
    if unknown:
        raise InvalidInput(f"{unknown[0]}: not a parameter (from, to)", field=unknown[0])
    last = _day(query.get("to"), "to") or today - timedelta(days=1)
    first = _day(query.get("from"), "from") or last - timedelta(days=29)
    if first > last:
        raise InvalidInput("from: after to", field="from")
    if (last - first).days + 1 > MAX_DAYS:
        raise InvalidInput(f"from, to: at most {MAX_DAYS} days at a time", field="from")
    return OpenRequest(dataset, fmt, first, last)


def _day(value: str | None, name: str) -> date | None:
    if value is None:
        return None
    try:
        day = date.fromisoformat(value)
    except ValueError:
        raise InvalidInput(f"{name}: a day, YYYY-MM-DD", field=name) from None
    if not date(2000, 1, 1) <= day <= date(2999, 12, 31):
        raise InvalidInput(f"{name}: a day between 2000 and 2999", field=name)
    return day


def _ident(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def open_sql(dataset: Dataset, first: date, last: date, k: int = K) -> str:
    """The aggregate query of an open dataset over ``[first, last]`` (Trino SQL)."""
    dims = ", ".join(_ident(d) for d in dataset.open_dimensions)
    names = dataset.column_names
    measure = f"SUM({_ident(COUNT_COLUMN)})" if COUNT_COLUMN in names else "COUNT(*)"
    having = f"{measure} >= {k}"
    if PERSON_COLUMN in names:
        having += f" AND COUNT(DISTINCT {_ident(PERSON_COLUMN)}) >= {k}"
    day = _ident(dataset.day_column)
    if dataset.column(dataset.day_column).type == "date":
        where = f"{day} BETWEEN DATE '{first.isoformat()}' AND DATE '{last.isoformat()}'"
    else:  # a timestamp: the days in UTC, as stored
        end = last + timedelta(days=1)
        where = (
            f"{day} >= TIMESTAMP '{first.isoformat()} 00:00:00 UTC' "
            f"AND {day} < TIMESTAMP '{end.isoformat()} 00:00:00 UTC'"
        )
    return (
        f"SELECT {dims}, {measure} AS {_ident(COUNT_COLUMN)} "
        f"FROM {dataset.table} WHERE {where} "
        f"GROUP BY {dims} HAVING {having} ORDER BY {dims}"
    )


def open_data(
    service: QueryService, request: OpenRequest
) -> tuple[tuple[ResultColumn, ...], list[dict[str, Any]]]:
    """The published cells of ``request``: columns and rows."""
    sql = open_sql(request.dataset, request.first, request.last)
    return service.rows(sql, max_rows=MAX_ROWS, reuse_minutes=REUSE_MINUTES)


def open_json(request: OpenRequest, rows: list[dict[str, Any]]) -> dict[str, Any]:
    """The JSON answer: the cells with what they are and the terms of use."""
    d = request.dataset
    return {
        "dataset": d.id,
        "title": {"ko": d.title_ko, "en": d.title_en},
        "licence": d.licence,
        "attribution": f"경기도 데이터 댐 / Gyeonggi Data Dam: {d.title_ko} ({d.title_en})",
        "from": request.first.isoformat(),
        "to": request.last.isoformat(),
        "dimensions": list(d.open_dimensions),
        "k": K,
        "suppression": f"cells counting fewer than {K} records (or people) are not published",
        "rows": rows,
    }
