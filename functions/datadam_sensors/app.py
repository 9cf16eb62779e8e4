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
from gyeonggi.datadam.ingestion import SensorIngestion, answer_batch
from gyeonggi.datadam.lake import Lake, LakeSettings

logger, tracer, metrics = observability()

ingestion = SensorIngestion(Lake.from_settings(LakeSettings.from_env()))


@logger.inject_lambda_context
@tracer.capture_lambda_handler
@metrics.log_metrics
def handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    return answer_batch(ingestion, event, metrics)
