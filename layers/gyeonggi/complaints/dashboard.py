"""What the ops view shows: one series' counts, forecasts and surges, or the province's worst.

Reads ``ComplaintCountsTable`` and ``ComplaintForecastsTable`` (layout in
:mod:`gyeonggi.complaints.volumes`) with bounded key-range queries only, never a scan:

- one series: a ``day`` range of its counts, a ``forecast#<day>`` range and a ``surge#<day>``
  range of its forecast partition; at most ``MAX_DAYS`` + ``MAX_FORECAST_AHEAD`` items each;
- the overview: a day range of the surge index partition (``SURGE_INDEX``), which the volumes
  function writes together with each surge marker. Surges are rare (a handful a day in the
  whole province), so one partition holds them without becoming hot.

Kept free of numpy (unlike ``volumes``) so the API function does not pay for it at cold start.
A past day's forecast is the one the scheduled run made the morning after it, fitted on days
before it, so the chart shows actual against forecast honestly.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any

from gyeonggi.common import clock
from gyeonggi.common.aws import DynamoTable, from_dynamo
from gyeonggi.common.errors import InvalidInput
from gyeonggi.common.numbers import whole_number
from gyeonggi.complaints.counts import series_key
from gyeonggi.complaints.jurisdictions import BY_ID as JURISDICTIONS
from gyeonggi.complaints.jurisdictions import known as known_jurisdiction
from gyeonggi.complaints.services import BY_CODE as SERVICES

DEFAULT_DAYS = 60
MAX_DAYS = 400
#: How far past ``end`` stored forecasts are read (``forecasting.MAX_HORIZON`` days at most).
MAX_FORECAST_AHEAD = 90
#: The fixed partition of ``ComplaintForecastsTable`` that indexes every surge by day.
SURGE_INDEX = "surge-index"
OVERVIEW_LIMIT = 10
#: The central interval the stored ``lower``/``upper`` cover (``forecasting.fit``'s default).
INTERVAL = 0.9


@dataclass(frozen=True)
class VolumeQuery:
    """A validated request of the ops view.

    Without ``service_code`` it asks for the overview (optionally of one jurisdiction).
    """

    jurisdiction_id: str | None
    service_code: str | None
    days: int
    end: date

    @property
    def first(self) -> date:
        return self.end - timedelta(days=self.days - 1)

    @property
    def is_series(self) -> bool:
        return self.service_code is not None


def parse_volume_query(
    params: Mapping[str, str], today: date, *, require_series: bool = False
) -> VolumeQuery:
    """Validate the query parameters of ``/ops/volumes.*``.

    Parameters
    ----------
    params
        ``jurisdiction_id``, ``service_code``, ``days`` (1 to ``MAX_DAYS``, default
        ``DEFAULT_DAYS``) and ``end`` (``YYYY-MM-DD``, the last day of counts; default today).
    today
        The Korean calendar day now; ``end`` may not be after it.
    require_series
        True where only one series makes sense (the chart).

    Raises
    ------
    InvalidInput
        Naming the parameter that is wrong.
    """
    jurisdiction_id = known_jurisdiction(params.get("jurisdiction_id"))
    service_code = params.get("service_code")
    if service_code is not None and service_code not in SERVICES:
        raise InvalidInput(
            f"service_code: {service_code!r} is not a service of this server "
            "(see /open311/v2/services.json)",
            field="service_code",
        )
    if service_code is not None and jurisdiction_id is None:
        raise InvalidInput(
            "jurisdiction_id: needed with service_code (a series is one city or county's)",
            field="jurisdiction_id",
        )
    if require_series and service_code is None:
        raise InvalidInput("service_code: needed, the chart shows one series", field="service_code")
    raw_days = params.get("days")
    days = DEFAULT_DAYS if raw_days is None else whole_number(raw_days, "days", 1, MAX_DAYS)
    raw_end = params.get("end")
    try:
        end = today if raw_end is None else date.fromisoformat(raw_end)
    except ValueError:
        raise InvalidInput("end: a date as YYYY-MM-DD", field="end") from None
    if end > today:
        raise InvalidInput(f"end: may not be after today ({today.isoformat()})", field="end")
    # The view reads days before end and forecasts after it: near the year 1 that overflows.
    earliest = clock.EARLIEST.date()
    if end < earliest:
        raise InvalidInput(f"end: may not be before {earliest.isoformat()}", field="end")
    return VolumeQuery(jurisdiction_id, service_code, days, end)


class VolumeReader:
    """Reads what the ops view needs from the counts and forecasts tables."""

    def __init__(
        self, counts_table: str, forecasts_table: str, dynamodb: Any | None = None
    ) -> None:
        self.counts = DynamoTable(counts_table, dynamodb)
        self.forecasts = DynamoTable(forecasts_table, dynamodb)

    @staticmethod
    def _query(table: Any, partition: str, sort_key: str, low: str, high: str) -> list[Any]:
        args: dict[str, Any] = {
            "KeyConditionExpression": "#p = :p AND #s BETWEEN :a AND :b",
            "ExpressionAttributeNames": {"#p": "series", "#s": sort_key},
            "ExpressionAttributeValues": {":p": partition, ":a": low, ":b": high},
        }
        items: list[Any] = []
        while True:
            page = table.query(**args)
            items += [from_dynamo(item) for item in page.get("Items", [])]
            if "LastEvaluatedKey" not in page:
                return items
            args["ExclusiveStartKey"] = page["LastEvaluatedKey"]

    def daily_counts(self, key: str, first: date, last: date) -> dict[str, int]:
        """``{day: count}`` of one series; days without an item had no complaint."""
        items = self._query(self.counts.table, key, "day", first.isoformat(), last.isoformat())
        return {item["day"]: int(item["count"]) for item in items}

    def forecasts_between(self, key: str, first: date, last: date) -> list[dict[str, Any]]:
        """Stored ``forecast#<day>`` items of one series, oldest first."""
        low, high = f"forecast#{first.isoformat()}", f"forecast#{last.isoformat()}"
        return self._query(self.forecasts.table, key, "key", low, high)

    def surges_between(self, key: str, first: date, last: date) -> list[dict[str, Any]]:
        """Stored ``surge#<day>`` markers of one series, oldest first."""
        low, high = f"surge#{first.isoformat()}", f"surge#{last.isoformat()}"
        return self._query(self.forecasts.table, key, "key", low, high)

    def indexed_surges(self, first: date, last: date) -> list[dict[str, Any]]:
        """Every surge of the province between two days, from the surge index."""
        # Keys are "<day>#<series>": "~" sorts after every character a series key uses.
        low, high = first.isoformat(), f"{last.isoformat()}~"
        return self._query(self.forecasts.table, SURGE_INDEX, "key", low, high)


def _names(jurisdiction_id: str, service_code: str) -> dict[str, dict[str, str]]:
    j, s = JURISDICTIONS[jurisdiction_id], SERVICES[service_code]
    return {
        "jurisdiction": {"en": j.name("en"), "ko": j.name("ko")},
        "service": {"en": s.name("en"), "ko": s.name("ko")},
    }


def _number(value: Any) -> float | None:
    return None if value is None else round(float(value), 2)


def series_view(query: VolumeQuery, reader: VolumeReader, today: date) -> dict[str, Any]:
    """Counts, forecasts with their interval, and surges of one series, day by day.

    Days run from ``query.first`` to the last stored forecast (or ``query.end``); ``count`` is
    ``None`` after ``end`` (not counted yet) and ``partial`` marks today, still being counted.
    """
    assert query.jurisdiction_id and query.service_code, "a series query"
    key = series_key(query.jurisdiction_id, query.service_code)
    first, end = query.first, query.end
    counts = reader.daily_counts(key, first, end)
    stored = reader.forecasts_between(key, first, end + timedelta(days=MAX_FORECAST_AHEAD))
    forecasts = {item["day"]: item for item in stored}
    markers = {
        item["key"].removeprefix("surge#"): item for item in reader.surges_between(key, first, end)
    }
    last = max([end, *(date.fromisoformat(d) for d in forecasts)])
    days = []
    surges = []
    for offset in range((last - first).days + 1):
        day = (first + timedelta(days=offset)).isoformat()
        fc = forecasts.get(day, {})
        count = counts.get(day, 0) if day <= end.isoformat() else None
        forecast = _number(fc.get("forecast"))
        row: dict[str, Any] = {
            "date": day,
            "count": count,
            "partial": day == today.isoformat(),
            "forecast": forecast,
            "lower": _number(fc.get("lower")),
            "upper": _number(fc.get("upper")),
            "alert_upper": _number(fc.get("alert_upper")),
            "surge": day in markers,
        }
        days.append(row)
        if day in markers:
            marker = markers[day]
            observed = int(marker.get("count", count or 0))
            surges.append(
                {
                    "date": day,
                    "count": observed,
                    "forecast": forecast,
                    "alert_upper": row["alert_upper"],
                    "excess": None if forecast is None else round(observed - forecast, 2),
                    "detected_at": marker.get("detected_at"),
                }
            )
    generated = [str(item["generated_at"]) for item in stored if item.get("generated_at")]
    return {
        "jurisdiction_id": query.jurisdiction_id,
        "service_code": query.service_code,
        "names": _names(query.jurisdiction_id, query.service_code),
        "first": first.isoformat(),
        "end": end.isoformat(),
        "interval": INTERVAL,
        "forecast_generated_at": max(generated) if generated else None,
        "days": days,
        "surges": surges,
    }


def overview_view(
    query: VolumeQuery,
    reader: VolumeReader,
    limit: int = OVERVIEW_LIMIT,
    within: frozenset[str] | None = None,
) -> dict[str, Any]:
    """The series with the most excess complaints over their forecast in the window.

    Ranked by the sum of ``count - forecast`` over their surge days, then by the number of
    surge days; ``query.jurisdiction_id`` narrows it to one city or county, ``within`` to the
    reader's jurisdictions (``None``: the whole province).
    """
    ranked: dict[tuple[str, str], dict[str, Any]] = {}
    for item in reader.indexed_surges(query.first, query.end):
        jid, code = str(item["jurisdiction_id"]), str(item["service_code"])
        if query.jurisdiction_id and jid != query.jurisdiction_id:
            continue
        if within is not None and jid not in within:
            continue
        if jid not in JURISDICTIONS or code not in SERVICES:
            continue  # written by an older catalogue: nothing the page could show
        entry = ranked.setdefault(
            (jid, code),
            {
                "jurisdiction_id": jid,
                "service_code": code,
                "names": _names(jid, code),
                "surge_days": 0,
                "excess": 0.0,
                "last_surge": None,
                "max_count": 0,
            },
        )
        entry["surge_days"] += 1
        entry["excess"] = round(entry["excess"] + float(item.get("excess", 0)), 2)
        entry["max_count"] = max(entry["max_count"], int(item.get("count", 0)))
        entry["last_surge"] = max(entry["last_surge"] or "", str(item["date"]))
    top = sorted(ranked.values(), key=lambda e: (-e["excess"], -e["surge_days"]))[:limit]
    return {
        "jurisdiction_id": query.jurisdiction_id,
        "first": query.first.isoformat(),
        "end": query.end.isoformat(),
        "series_with_surges": len(ranked),
        "top": top,
    }


def volumes_view(
    query: VolumeQuery,
    reader: VolumeReader,
    today: date,
    within: frozenset[str] | None = None,
) -> dict[str, Any]:
    """The JSON document of ``GET /ops/volumes.json``: a series, or the overview.

    ``within`` is the reader's jurisdictions (``None``: all); the caller has already refused a
    ``query.jurisdiction_id`` outside them.
    """
    if query.is_series:
        return series_view(query, reader, today)
    return overview_view(query, reader, within=within)
