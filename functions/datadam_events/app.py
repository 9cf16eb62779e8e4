"""The Data Dam's event ingestion: events the systems publish -> Iceberg tables.

``DataDamEventsQueue`` is subscribed (raw delivery) to the complaint events topic (received,
routed, surges) and the incident alerts topic. Each batch becomes one lake write per dataset,
the privacy policy applied first (``gyeonggi.datadam``). A malformed message fails alone
(partial batch response) and is dead-lettered after three receives; a redelivered one writes
nothing twice (the lake's key check). Nothing waits for this function.
"""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools.utilities.batch import (
    BatchProcessor,
    EventType,
    process_partial_response,
)
from aws_lambda_powertools.utilities.data_classes.sqs_event import SQSRecord

from gyeonggi.common.config import Settings
from gyeonggi.common.observability import observability
from gyeonggi.complaints.privacy import Pseudonymizer
from gyeonggi.datadam.ingestion import EventIngestion
from gyeonggi.datadam.lake import Lake, LakeSettings

logger, tracer, metrics = observability()


class PseudonymSettings(Settings):
    pseudonym_key_id: str


lake = Lake.from_settings(LakeSettings.from_env())
ingestion = EventIngestion(lake, Pseudonymizer(PseudonymSettings.from_env().pseudonym_key_id))
processor = BatchProcessor(event_type=EventType.SQS)


@logger.inject_lambda_context
@tracer.capture_lambda_handler
@metrics.log_metrics
def handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    outcome = ingestion.ingest(event.get("Records", []))
    metrics.add_metric(name="DataDamRecordsWritten", unit="Count", value=outcome.written)
    metrics.add_metric(name="DataDamDuplicatesSkipped", unit="Count", value=outcome.duplicates)
    metrics.add_metric(name="DataDamMessagesFailed", unit="Count", value=len(outcome.failed))

    def record_handler(record: SQSRecord) -> None:
        # The batch was written as a whole above; this reports each message's outcome.
        reason = outcome.failed.get(record.message_id)
        if reason is not None:
            raise ValueError(reason)

    return dict(
        process_partial_response(
            event=event, record_handler=record_handler, processor=processor, context=context
        )
    )
