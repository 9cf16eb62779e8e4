"""Scheduled: refresh complaint volume forecasts and alert surges, once per series and day.

The EventBridge schedule's event carries the firing ``time``, which fixes "today" (the Korean
calendar day). A hand-made event may narrow the run with ``detail.jurisdiction_ids`` and
``detail.service_codes``; the schedule covers all 31 x 15 series. With
``COUNTS_SOURCE=datadam`` (the template's) the three years of history come from the Data Dam's
``complaint_daily_counts`` in one query (``gyeonggi.datadam.aggregates``).
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from gyeonggi.common import clock
from gyeonggi.common.config import ConfigurationError, Settings
from gyeonggi.common.errors import InvalidInput
from gyeonggi.common.observability import observability
from gyeonggi.complaints.jurisdictions import JURISDICTIONS
from gyeonggi.complaints.services import SERVICES
from gyeonggi.complaints.volumes import (
    CountHistory,
    CountStore,
    ForecastStore,
    SurgePublisher,
    run_volumes,
)

logger, tracer, metrics = observability()


class VolumesSettings(Settings):
    complaint_counts_table: str
    complaint_forecasts_table: str
    complaint_events_topic_arn: str
    ops_alerts_topic_arn: str
    forecast_history_days: int = 1096
    forecast_horizon_days: int = 14
    #: ``datadam``: the history from the Data Dam (one query), the last days from the counter;
    #: ``dynamodb``: all of it from the counter (one query per series and three years).
    counts_source: str = "dynamodb"


settings = VolumesSettings.from_env()


def _counts() -> CountHistory:
    live = CountStore(settings.complaint_counts_table)
    if settings.counts_source not in ("datadam", "dynamodb"):
        raise ConfigurationError(f"COUNTS_SOURCE {settings.counts_source!r}: datadam or dynamodb")
    if settings.counts_source == "dynamodb":
        return live
    from gyeonggi.datadam.aggregates import DataDamCounts
    from gyeonggi.datadam.engines import engine_from_settings
    from gyeonggi.datadam.queries import QueryService, QuerySettings

    dam = QuerySettings.from_env()
    return DataDamCounts(QueryService.from_settings(dam, engine_from_settings(dam)), live)


counts = _counts()
forecasts = ForecastStore(settings.complaint_forecasts_table)
publisher = SurgePublisher(settings.complaint_events_topic_arn, settings.ops_alerts_topic_arn)


def _scope(event: dict[str, Any]) -> tuple[datetime, list[tuple[str, str]]]:
    try:
        now = datetime.fromisoformat(str(event["time"]).replace("Z", "+00:00"))
    except (KeyError, ValueError):
        now = clock.now()  # invoked by hand without a time: run for now
    if now.tzinfo is None:
        raise InvalidInput("event time must carry a time zone", field="time")
    detail = event.get("detail") or {}
    jids = detail.get("jurisdiction_ids") or [j.id for j in JURISDICTIONS]
    codes = detail.get("service_codes") or [s.code for s in SERVICES]
    return now, [(j, c) for j in jids for c in codes]


@logger.inject_lambda_context
@tracer.capture_lambda_handler
@metrics.log_metrics
def handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    now, series = _scope(event)
    run = run_volumes(
        now,
        series,
        counts,
        forecasts,
        publisher,
        history_days=settings.forecast_history_days,
        horizon=settings.forecast_horizon_days,
    )
    metrics.add_metric(name="ForecastsWritten", unit="Count", value=run.forecasts_written)
    metrics.add_metric(name="ComplaintSurges", unit="Count", value=len(run.surges))
    logger.info("volumes updated", extra={"run": vars(run)})
    return vars(run)
