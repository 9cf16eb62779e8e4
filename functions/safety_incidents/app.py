"""Opens or joins a safety incident per piece of evidence taken off the evidence queue.

Each message is one sensor alarm or camera detection (:mod:`gyeonggi.safety.evidence`). A
record that fails does so alone (partial batch response); a concurrent change to the same
incident fails the message too, and the redelivery joins the incident as it is now. Evidence
that cannot be processed still reaches a person (:mod:`gyeonggi.safety.unprocessed_evidence`):
a malformed message at once, any other failure on the record's last receive, is paged directly
on the alerts topic with the raw evidence and the reason, then kept on the dead-letter queue.
"""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools.utilities.batch import (
    BatchProcessor,
    EventType,
    process_partial_response,
)
from aws_lambda_powertools.utilities.data_classes.sqs_event import SQSRecord

from gyeonggi.common import clock
from gyeonggi.common.config import Settings
from gyeonggi.common.messages import json_body
from gyeonggi.common.observability import observability
from gyeonggi.safety.evidence import parse_evidence
from gyeonggi.safety.incident_service import ingest
from gyeonggi.safety.incident_store import IncidentStore
from gyeonggi.safety.incident_workflow import IncidentAlerts, IncidentWorkflow
from gyeonggi.safety.unprocessed_evidence import EvidenceDeadLetterQueue, UnprocessedEvidence

logger, tracer, metrics = observability()


class IncidentSettings(Settings):
    incidents_table: str
    state_machine_arn: str
    alerts_topic_arn: str
    evidence_dlq_url: str
    #: The evidence queue's maxReceiveCount (its RedrivePolicy): a failure then is the last.
    evidence_max_receives: int


settings = IncidentSettings.from_env()
store = IncidentStore(settings.incidents_table)
workflow = IncidentWorkflow(settings.state_machine_arn)
alerts = IncidentAlerts(settings.alerts_topic_arn)
unprocessed = UnprocessedEvidence(
    alerts, EvidenceDeadLetterQueue(settings.evidence_dlq_url), settings.evidence_max_receives
)
processor = BatchProcessor(event_type=EventType.SQS)


@tracer.capture_method
def record_handler(record: SQSRecord) -> str | None:
    try:
        return take_evidence(record)
    except Exception as exc:
        paged = unprocessed.take(
            record.body,
            exc,
            receive_count=int(record.attributes.approximate_receive_count or 1),
            message_id=record.message_id,
        )
        if paged is None:
            raise  # a later receive may process it
        metrics.add_metric(name="EvidencePagedDirectly", unit="Count", value=1)
        logger.error(
            "evidence not processed: paged directly and dead-lettered",
            extra={"reason": paged.reason, "error": paged.error, "receives": paged.receive_count},
        )
        return None


def take_evidence(record: SQSRecord) -> str | None:
    data = json_body(record.body)
    evidence = parse_evidence(data)
    result = ingest(evidence, store, workflow, alerts, clock.now())
    metrics.add_metric(name=f"Incident{result.outcome.capitalize()}", unit="Count", value=1)
    logger.info(
        "evidence taken",
        extra={
            "incident_id": result.incident_id,
            "outcome": result.outcome,
            "severity": result.severity,
            "complex_id": evidence.complex_id,
        },
    )
    return result.incident_id


@logger.inject_lambda_context
@tracer.capture_lambda_handler
@metrics.log_metrics
def handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    return dict(
        process_partial_response(
            event=event, record_handler=record_handler, processor=processor, context=context
        )
    )
