"""Starts one triage execution per ComplaintReceived event taken off the triage queue.

The queue is subscribed to the complaint events topic with a filter on
``event_type = ComplaintReceived`` and raw delivery, so each body is the stored complaint. A
malformed message fails alone (partial batch response) and reaches the queue's dead-letter
queue after three receives; a redelivered one finds its execution already started.
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
from gyeonggi.common.messages import json_body
from gyeonggi.common.observability import observability
from gyeonggi.complaints.triage import TriageWorkflow

logger, tracer, metrics = observability()


class StarterSettings(Settings):
    state_machine_arn: str


settings = StarterSettings.from_env()
workflow = TriageWorkflow(settings.state_machine_arn)
processor = BatchProcessor(event_type=EventType.SQS)


@tracer.capture_method
def record_handler(record: SQSRecord) -> str:
    complaint = json_body(record.body)
    return workflow.start(complaint)


@logger.inject_lambda_context
@tracer.capture_lambda_handler
@metrics.log_metrics
def handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    return dict(
        process_partial_response(
            event=event, record_handler=record_handler, processor=processor, context=context
        )
    )
