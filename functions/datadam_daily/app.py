"""Scheduled, daily: closed days' complaint counts into the Data Dam, compaction, and the
expiry of snapshots older than the time-travel window.

The schedule's ``time`` fixes which days are over (in Korea); ``gyeonggi.datadam.daily`` says
what is landed and compacted. Run again, it replaces the same days' counts: a retry or a run by
hand changes nothing that was right.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from gyeonggi.common import clock
from gyeonggi.common.aws import DynamoTable
from gyeonggi.common.config import Settings
from gyeonggi.common.errors import InvalidInput
from gyeonggi.common.observability import observability
from gyeonggi.complaints.jurisdictions import JURISDICTIONS
from gyeonggi.complaints.services import SERVICES
from gyeonggi.datadam.daily import run_daily
from gyeonggi.datadam.lake import Lake, LakeSettings

logger, tracer, metrics = observability()


class DailySettings(Settings):
    complaint_counts_table: str


lake = Lake.from_settings(LakeSettings.from_env())
counts = DynamoTable(DailySettings.from_env().complaint_counts_table)
SERIES = [(j.id, s.code) for j in JURISDICTIONS for s in SERVICES]


def _now(event: dict[str, Any]) -> datetime:
    if "time" not in event:
        return clock.now()  # invoked by hand
    try:
        now = datetime.fromisoformat(str(event["time"]).replace("Z", "+00:00"))
    except ValueError:
        raise InvalidInput("time is not an ISO 8601 time", field="time") from None
    if now.tzinfo is None:
        raise InvalidInput("time must carry a time zone", field="time")
    return now


@logger.inject_lambda_context
@tracer.capture_lambda_handler
@metrics.log_metrics
def handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    run = run_daily(lake, counts.table, SERIES, _now(event))
    metrics.add_metric(name="DataDamCountRowsLanded", unit="Count", value=run.count_rows)
    metrics.add_metric(
        name="DataDamFilesCompacted", unit="Count", value=sum(run.compacted.values())
    )
    metrics.add_metric(
        name="DataDamSnapshotsExpired", unit="Count", value=sum(run.expired.values())
    )
    logger.info("daily run", extra={"run": vars(run)})
    return vars(run)
