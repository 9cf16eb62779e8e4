"""The Data Dam's sensor ingestion: telemetry -> ``sensor_minutes`` (per sensor, gas, minute).

The telemetry topic rule copies every reading to ``DataDamTelemetryQueue`` (an action beside the
alarm path's, which never waits for it). Each batch is validated as the alarm path validates a
reading, aggregated per minute and written once per reading (``gyeonggi.datadam.minutes``). A
malformed reading fails alone (partial batch response) and is dead-lettered after three
receives.
"""

from __future__ import annotations

from typing import Any

from gyeonggi.common.observability import observability
from gyeonggi.datadam.ingestion import SensorIngestion, message_ids
from gyeonggi.datadam.lake import Lake, LakeSettings

logger, tracer, metrics = observability()

ingestion = SensorIngestion(Lake.from_settings(LakeSettings.from_env()))


@logger.inject_lambda_context
@tracer.capture_lambda_handler
@metrics.log_metrics
def handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    records = event.get("Records", [])
    outcome = ingestion.ingest(records)
    metrics.add_metric(name="DataDamMinutePartsWritten", unit="Count", value=outcome.written)
    metrics.add_metric(name="DataDamMessagesFailed", unit="Count", value=len(outcome.failed))
    return outcome.batch_response(message_ids(records))
