"""Scheduled: publish the month's proactive notices per k-anonymous citizen segment.

The schedule's ``time`` fixes the month (in Korea) and the window: the complaints of the
365 days before it. Only aggregate figures are logged; notices carry no counts or pseudonyms.
With ``NOTICES_SOURCE=datadam`` (the template's) the complaints come from the Data Dam's
pseudonymised ``complaints`` dataset in one query (``gyeonggi.datadam.aggregates``).
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from gyeonggi.common import clock
from gyeonggi.common.config import ConfigurationError, Settings
from gyeonggi.common.observability import observability
from gyeonggi.complaints.notices import (
    ComplaintRecords,
    ComplaintSource,
    K,
    NoticePublisher,
    run_notices,
)

logger, tracer, metrics = observability()


class NoticesSettings(Settings):
    complaints_table: str
    proactive_notices_topic_arn: str
    notices_window_days: int = 365
    #: ``datadam``: the year of complaints from the Data Dam, one query aggregated per person;
    #: ``dynamodb``: a query of the complaints table per jurisdiction.
    notices_source: str = "dynamodb"


settings = NoticesSettings.from_env()


def _source() -> ComplaintRecords:
    if settings.notices_source not in ("datadam", "dynamodb"):
        raise ConfigurationError(f"NOTICES_SOURCE {settings.notices_source!r}: datadam or dynamodb")
    if settings.notices_source == "dynamodb":
        return ComplaintSource(settings.complaints_table)
    from gyeonggi.datadam.aggregates import DataDamComplaints
    from gyeonggi.datadam.engines import engine_from_settings
    from gyeonggi.datadam.queries import QueryService, QuerySettings

    dam = QuerySettings.from_env()
    return DataDamComplaints(QueryService.from_settings(dam, engine_from_settings(dam)))


source = _source()
publisher = NoticePublisher(settings.proactive_notices_topic_arn)


@logger.inject_lambda_context
@tracer.capture_lambda_handler
@metrics.log_metrics
def handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    try:
        now = datetime.fromisoformat(str(event["time"]).replace("Z", "+00:00"))
    except (KeyError, ValueError):
        now = clock.now()
    since = now - timedelta(days=settings.notices_window_days)
    run = run_notices(
        source.records(since, now),
        now.astimezone(clock.KST).date(),
        publisher,
        since=since,
        until=now,
        k=K,
    )
    metrics.add_metric(name="ProactiveNotices", unit="Count", value=run.notices)
    logger.info("notices published", extra={"run": vars(run)})
    return vars(run)
