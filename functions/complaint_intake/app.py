"""Takes complaints off the intake queue and starts one intake execution per request id.

A malformed message fails alone (partial batch response) and reaches the dead-letter queue
after the queue's ``maxReceiveCount``. A redelivered one needs no record of its own: the
execution is named after the request id, and Step Functions starts a name only once
(``IntakeWorkflow.start``).
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
from gyeonggi.complaints.intake import parse_intake_message
from gyeonggi.complaints.workflow import IntakeWorkflow

logger, tracer, metrics = observability()


class IntakeSettings(Settings):
    state_machine_arn: str


settings = IntakeSettings.from_env()
workflow = IntakeWorkflow(settings.state_machine_arn)
processor = BatchProcessor(event_type=EventType.SQS)


@tracer.capture_method
def record_handler(record: SQSRecord) -> dict[str, str]:
    message = parse_intake_message(record.body)
    logger.append_keys(service_request_id=message.service_request_id)
    execution_arn = workflow.start(message)
    # Counts messages handed to Step Functions; a redelivery is counted again.
    metrics.add_metric(name="IntakeExecutionsStarted", unit="Count", value=1)
    return {"execution_arn": execution_arn}


@logger.inject_lambda_context
@tracer.capture_lambda_handler
@metrics.log_metrics
def handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    return dict(
        process_partial_response(
            event=event, record_handler=record_handler, processor=processor, context=context
        )
    )
