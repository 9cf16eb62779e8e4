"""The Data Dam's daily run: closed days' complaint counts landed, yesterday's small files
compacted.

**Counts.** The complaint counter (``ComplaintCountsTable``, one item per city or county,
service and Korean day, counted once per complaint by triage) is the source of
``complaint_daily_counts``. A day lands once it is over, and the last ``days`` closed days are
landed again on every run (their partitions *replaced*, not appended to), so a complaint counted
late (a triage retried past midnight) is in the next run's figures.

**Compaction.** Every dataset's partitions of the last days with two files or more become one
file each (``Lake.compact``); ``sensor_minutes`` merges its minute parts on the way.

**Snapshot expiry.** Then every dataset's snapshots older than :data:`TIME_TRAVEL_DAYS` are
forgotten and the files only they held deleted (``Lake.expire_snapshots``): time travel reaches
that far back, and the files compaction replaced do not stay for ever.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Any

from gyeonggi.common.clock import KST
from gyeonggi.complaints.counts import series_counts, series_key
from gyeonggi.complaints.services import BY_CODE as SERVICES
from gyeonggi.datadam.datasets import CATALOGUE, dataset
from gyeonggi.datadam.lake import Lake
from gyeonggi.datadam.minutes import SENSOR_MINUTES, merge
from gyeonggi.datadam.records import prepare

COUNTS = dataset("complaint_daily_counts")
#: Closed days landed again on every run (late counts are caught for this long).
RELANDED_DAYS = 3
#: How far back time travel reaches: older snapshots are expired by the daily run. A week, as
#: the bucket keeps a replaced file's noncurrent version: a mistake found within a week can be
#: read back as it was, or restored.
TIME_TRAVEL_DAYS = 7


@dataclass
class DailyRun:
    """What one run did."""

    days: list[str] = field(default_factory=list)
    count_rows: int = 0
    compacted: dict[str, int] = field(default_factory=dict)
    expired: dict[str, int] = field(default_factory=dict)


def closed_days(now: datetime, days: int = RELANDED_DAYS) -> list[date]:
    """The last ``days`` days that are over in Korea, oldest first."""
    today = now.astimezone(KST).date()
    return [today - timedelta(days=n) for n in range(days, 0, -1)]


def count_rows(
    counts_table: Any, series: Sequence[tuple[str, str]], days: Sequence[date]
) -> list[dict[str, Any]]:
    """The counter's counts of ``series`` on ``days``, as ``complaint_daily_counts`` rows."""
    rows = []
    for jurisdiction_id, code in series:
        found = series_counts(counts_table, series_key(jurisdiction_id, code), days[0], days[-1])
        for day, count in sorted(found.items()):
            if day in days and count > 0:
                service = SERVICES.get(code)
                raw = {
                    "day": day,
                    "jurisdiction_id": jurisdiction_id,
                    "category": service.group if service else "unknown",
                    "service_code": code,
                    "count": count,
                }
                rows.append(prepare(COUNTS, raw, pseudonyms=None))
    return rows


def run_daily(
    lake: Lake,
    counts_table: Any,
    series: Sequence[tuple[str, str]],
    now: datetime,
    *,
    days: int = RELANDED_DAYS,
    compact: Iterable[str] | None = None,
) -> DailyRun:
    """Land the closed days' counts, then compact the last days of every dataset (or of
    ``compact``) and expire its snapshots older than :data:`TIME_TRAVEL_DAYS`."""
    wanted = closed_days(now, days)
    run = DailyRun(days=[d.isoformat() for d in wanted])
    rows = count_rows(counts_table, series, wanted)
    lake.replace_days(
        COUNTS, rows, wanted, batch_id=f"daily-{wanted[-1].isoformat()}", source="daily counts"
    )
    run.count_rows = len(rows)
    for dataset_id in compact if compact is not None else sorted(CATALOGUE):
        ds = CATALOGUE[dataset_id]
        if not lake.exists(ds):
            continue
        result = lake.compact(ds, days=wanted, merge=merge if ds.id == SENSOR_MINUTES.id else None)
        if result.partitions:
            run.compacted[ds.id] = result.files_before - result.files_after
        expired = lake.expire_snapshots(ds, older_than=now - timedelta(days=TIME_TRAVEL_DAYS))
        if expired.snapshots:
            run.expired[ds.id] = expired.snapshots
    return run
