"""Takes complaints off the intake queue and starts one intake execution per request id.

A malformed message fails alone (partial batch response) and reaches the dead-letter queue
after the queue's ``maxReceiveCount``; a redelivered one is recognised by its request id.
"""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools.utilities.batch import (
    BatchProcessor,
    EventType,
    process_partial_response,
)
from aws_lambda_powertools.utilities.data_classes.sqs_event import SQSRecord
from aws_lambda_powertools.utilities.idempotency import (
    DynamoDBPersistenceLayer,
    IdempotencyConfig,
    idempotent_function,
)

from gyeonggi.common.config import Settings
from gyeonggi.common.observability import observability
from gyeonggi.complaints.intake import parse_intake_message
from gyeonggi.complaints.workflow import IntakeWorkflow

logger, tracer, metrics = observability()


class IntakeSettings(Settings):
    state_machine_arn: str
    idempotency_table: str


settings = IntakeSettings.from_env()
workflow = IntakeWorkflow(settings.state_machine_arn)
processor = BatchProcessor(event_type=EventType.SQS)
idempotency = IdempotencyConfig(
    event_key_jmespath="service_request_id", expires_after_seconds=86400
)


@idempotent_function(
    data_keyword_argument="message",
    config=idempotency,
    persistence_store=DynamoDBPersistenceLayer(table_name=settings.idempotency_table),
)
def start_once(message: dict[str, Any]) -> dict[str, str]:
    execution_arn = workflow.start(parse_intake_message(message))
    metrics.add_metric(name="IntakeExecutionsStarted", unit="Count", value=1)
    return {"execution_arn": execution_arn}


@tracer.capture_method
def record_handler(record: SQSRecord) -> dict[str, str]:
    message = parse_intake_message(record.body)
    logger.append_keys(service_request_id=message.service_request_id)
    return start_once(message=message.model_dump(mode="json"))


@logger.inject_lambda_context
@tracer.capture_lambda_handler
@metrics.log_metrics
def handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    idempotency.register_lambda_context(context)
    return dict(
        process_partial_response(
            event=event, record_handler=record_handler, processor=processor, context=context
        )
    )
