"""The anomaly path: batches of telemetry from the TelemetryBatchQueue -> pre-alarm evidence.

The IoT topic rule copies every reading to the batch queue; this function scores the batch per
sensor (robust z-score against each sensor's recent median/MAD) and looks for sensors stuck
while their neighbours vary. Findings go to the SafetyEvidenceQueue as ``warning`` evidence, off
the alarm path: numpy is imported here, never in the sensor function. Missed heartbeats are not
checked here (a silent complex sends no batch): functions/heartbeat_sweep sweeps them.

Failures are per sensor: a sensor whose evidence or state could not be written reports its
records as batch item failures (Powertools batch), so only they are redelivered; readings
already scored are skipped on redelivery (each sensor's state keeps its last timestamp).
Malformed readings are not failures: the alarm path dead-letters them with the reason.
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
from gyeonggi.common.observability import observability
from gyeonggi.safety.anomalies import AnomalyBatch, AnomalyStateStore
from gyeonggi.safety.evidence import EvidenceQueue

logger, tracer, metrics = observability()


class AnomalySettings(Settings):
    sensor_state_table: str
    safety_evidence_queue_url: str


settings = AnomalySettings.from_env()
processor = BatchProcessor(event_type=EventType.SQS)
batch = AnomalyBatch(
    AnomalyStateStore(settings.sensor_state_table),
    EvidenceQueue(settings.safety_evidence_queue_url).send,
)


@logger.inject_lambda_context
@tracer.capture_lambda_handler
@metrics.log_metrics
def handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    records = event.get("Records", [])
    outcome = batch.score(records, clock.now())
    failed = outcome.failed
    for name, value in (
        ("AnomalyReadings", len(records)),
        ("AnomalyInputSkipped", outcome.skipped),
        ("AnomaliesFlagged", outcome.anomalies),
        ("AnomalyEvidenceSent", outcome.evidence_sent),
    ):
        metrics.add_metric(name=name, unit="Count", value=value)

    def record_handler(record: SQSRecord) -> None:
        # The batch was scored as a whole above; this only reports the outcome per record.
        if record.message_id in failed:
            raise RuntimeError("sensor state or evidence not written")

    return dict(
        process_partial_response(
            event=event, record_handler=record_handler, processor=processor, context=context
        )
    )
