"""The Data Dam's sensor ingestion: telemetry -> ``sensor_minutes`` (per sensor, gas, minute).

The telemetry topic rule copies every reading to ``DataDamTelemetryQueue`` (an action beside the
alarm path's, which never waits for it). Each batch is validated as the alarm path validates a
reading, aggregated per minute and written once per reading (``gyeonggi.datadam.minutes``). A
malformed reading fails alone and is dead-lettered after three receives.
"""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools.utilities.batch import (
    BatchProcessor,
    EventType,
    process_partial_response,
)
from aws_lambda_powertools.utilities.data_classes.sqs_event import SQSRecord

from gyeonggi.common.observability import observability
from gyeonggi.datadam.ingestion import SensorIngestion
from gyeonggi.datadam.lake import Lake, LakeSettings

logger, tracer, metrics = observability()

ingestion = SensorIngestion(Lake.from_settings(LakeSettings.from_env()))
processor = BatchProcessor(event_type=EventType.SQS)


@logger.inject_lambda_context
@tracer.capture_lambda_handler
@metrics.log_metrics
def handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    outcome = ingestion.ingest(event.get("Records", []))
    metrics.add_metric(name="DataDamMinutePartsWritten", unit="Count", value=outcome.written)
    metrics.add_metric(name="DataDamMessagesFailed", unit="Count", value=len(outcome.failed))

    def record_handler(record: SQSRecord) -> None:
        reason = outcome.failed.get(record.message_id)
        if reason is not None:
            raise ValueError(reason)

    return dict(
        process_partial_response(
            event=event, record_handler=record_handler, processor=processor, context=context
        )
    )
