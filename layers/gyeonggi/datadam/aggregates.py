"""What the forecasting and notice functions read from the Data Dam instead of DynamoDB.

Each class fills a port the complaint domain declares, so neither the forecast nor the notices
know where their figures come from, nor which engine computed them:

- :class:`DataDamCounts` fills ``gyeonggi.complaints.volumes.CountHistory``: the daily counts
  of every series in one query of ``complaint_daily_counts`` (three years: one scan of a few MB
  instead of 465 DynamoDB queries), and the last days, which the lake does not hold yet (a
  day's count lands once the day is over), from the live counter;
- :class:`DataDamComplaints` fills ``gyeonggi.complaints.notices.ComplaintRecords``: a year of
  consenting citizens' complaints, already pseudonymised in the lake, in one query of
  ``complaints`` aggregated per person and cell, instead of 31 scans of the complaints table.

Both run through :class:`gyeonggi.datadam.queries.QueryService`: the same checks, the same
engines (Athena in AWS, DuckDB locally) as an analyst's query.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, datetime, timedelta
from typing import TYPE_CHECKING, Any

from gyeonggi.datadam.queries import QueryService

if TYPE_CHECKING:
    from gyeonggi.complaints.series import History
    from gyeonggi.complaints.volumes import CountHistory

#: Three years of 31 x 15 series, with room.
MAX_COUNT_ROWS = 600_000
#: One row per consenting person, city or county, band and gender over a year.
MAX_PEOPLE_ROWS = 3_000_000
#: Days before today that the lake may not hold yet: read from the live counter.
RECENT_DAYS = 2


def _iso(day: date) -> str:
    return day.isoformat()


class DataDamCounts:
    """Daily counts from ``complaint_daily_counts``, the most recent days from ``recent``."""

    def __init__(
        self, service: QueryService, recent: CountHistory, *, recent_days: int = RECENT_DAYS
    ) -> None:
        self.service = service
        self.recent = recent
        self.recent_days = recent_days

    def history(self, series: Sequence[tuple[str, str]], first: date, last: date) -> History:
        # numpy and the volumes module only here: the notices function ships neither.
        import numpy as np

        from gyeonggi.complaints.series import History

        n_days = (last - first).days + 1
        counts = np.zeros((len(series), n_days), dtype=np.int64)
        row_of = {s: i for i, s in enumerate(series)}
        split = max(first, last - timedelta(days=self.recent_days - 1))
        if split > first:
            until = split - timedelta(days=1)
            _, rows = self.service.rows(
                "SELECT jurisdiction_id, service_code, day, sum(count) AS count "
                "FROM gyeonggi_datadam.complaint_daily_counts "
                f"WHERE day BETWEEN DATE '{_iso(first)}' AND DATE '{_iso(until)}' "
                "GROUP BY jurisdiction_id, service_code, day",
                max_rows=MAX_COUNT_ROWS,
            )
            for row in rows:
                i = row_of.get((row["jurisdiction_id"], row["service_code"]))
                if i is not None and row["count"] is not None:
                    counts[i, (date.fromisoformat(row["day"]) - first).days] = int(row["count"])
        live = self.recent.history(series, split, last)
        offset = (split - first).days
        counts[:, offset:] = live.counts
        return History(first, tuple(series), counts)


class DataDamComplaints:
    """Consenting citizens' complaints from the ``complaints`` dataset, as the notices read them."""

    def __init__(self, service: QueryService) -> None:
        self.service = service

    def records(self, since: datetime, until: datetime) -> list[dict[str, Any]]:
        """One record per person, city or county, band and gender in ``[since, until)``, with
        every service that person asked for there: what the notices count (people, not
        complaints), so a year is one row per person instead of one per complaint."""
        # day (the Korean calendar day) bounds the partitions read; requested_at the window.
        first, last = since.date() - timedelta(days=1), until.date() + timedelta(days=1)
        _, rows = self.service.rows(
            "SELECT jurisdiction_id, age_band, gender, citizen_pseudonym, "
            "array_join(array_agg(DISTINCT service_code), ',') AS services, "
            "min(requested_at) AS first_at "
            "FROM gyeonggi_datadam.complaints "
            f"WHERE day BETWEEN DATE '{_iso(first)}' AND DATE '{_iso(last)}' "
            f"AND requested_at >= from_iso8601_timestamp('{since.isoformat()}') "
            f"AND requested_at < from_iso8601_timestamp('{until.isoformat()}') "
            "AND consent_analytics AND citizen_pseudonym IS NOT NULL "
            "GROUP BY jurisdiction_id, age_band, gender, citizen_pseudonym",
            max_rows=MAX_PEOPLE_ROWS,
        )
        out: list[dict[str, Any]] = []
        for row in rows:
            citizen = {
                "consent_analytics": True,
                "pseudonym": row["citizen_pseudonym"],
                "age_band": row["age_band"],
                "gender": row["gender"],
            }
            for code in str(row["services"] or "").split(","):
                if code:
                    out.append(
                        {
                            "jurisdiction_id": row["jurisdiction_id"],
                            "service_code": code,
                            "requested_datetime": row["first_at"],
                            "citizen": citizen,
                        }
                    )
        return out
