"""The anomaly path: batches of telemetry from the TelemetryBatchQueue -> pre-alarm evidence.

The IoT topic rule copies every reading to the batch queue; this function scores the batch per
sensor (robust z-score against each sensor's recent median/MAD), looks for sensors stuck while
their neighbours vary, and checks the complexes in the batch for missed heartbeats. Findings go
to the SafetyEvidenceQueue as ``warning`` evidence, off the alarm path: numpy is imported here,
never in the sensor function.

Failures are per sensor: a sensor whose evidence or state could not be written reports its
records as batch item failures (Powertools batch), so only they are redelivered; readings
already scored are skipped on redelivery (each sensor's state keeps its last timestamp).
Malformed readings are not failures: the alarm path dead-letters them with the reason.
"""

from __future__ import annotations

import json
import time
from datetime import UTC, datetime
from typing import Any

from aws_lambda_powertools.utilities.batch import (
    BatchProcessor,
    EventType,
    process_partial_response,
)
from aws_lambda_powertools.utilities.data_classes.sqs_event import SQSRecord

from gyeonggi.common.config import Settings
from gyeonggi.common.errors import InvalidInput
from gyeonggi.common.observability import observability
from gyeonggi.safety.anomalies import (
    AnomalyStateStore,
    HeartbeatWatch,
    anomaly_evidence,
    group_points,
    heartbeat_evidence,
    score_sensor,
    stuck_evidence,
    stuck_while_neighbours_vary,
)
from gyeonggi.safety.evidence import EvidenceQueue
from gyeonggi.safety.telemetry import check_clock_skew, parse_telemetry

logger, tracer, metrics = observability()


class AnomalySettings(Settings):
    sensor_state_table: str
    safety_evidence_queue_url: str
    heartbeat_check_s: float = 60.0


settings = AnomalySettings.from_env()
states = AnomalyStateStore(settings.sensor_state_table)
heartbeats = HeartbeatWatch(settings.sensor_state_table)
evidence = EvidenceQueue(settings.safety_evidence_queue_url)
processor = BatchProcessor(event_type=EventType.SQS)
# complex_id -> monotonic time of its last heartbeat check, per warm container: the check is a
# query per complex, and batches arrive far more often than a sensor can go silent.
_checked: dict[str, float] = {}


def analyse(records: list[dict[str, Any]], now: datetime) -> set[str]:
    """Score one batch; returns the message ids of records to redeliver."""
    readings: list[tuple[str, str, str, int, float]] = []
    ids_by_sensor: dict[tuple[str, str, str], list[str]] = {}
    for record in records:
        try:
            reading = parse_telemetry(json.loads(record["body"]))
            check_clock_skew(reading, now)
        except (InvalidInput, ValueError, TypeError):
            metrics.add_metric(name="AnomalyInputSkipped", unit="Count", value=1)
            continue
        ts_ms = round(reading.ts.timestamp() * 1000)
        readings.append((reading.complex_id, reading.sensor_id, reading.kind, ts_ms, reading.value))
        key = (reading.complex_id, reading.sensor_id, reading.kind)
        ids_by_sensor.setdefault(key, []).append(record["messageId"])

    failed: set[str] = set()
    groups = group_points(readings)
    for (complex_id, sensor_id, kind), points in groups.items():
        sensor_key = f"{complex_id}#{sensor_id}"
        try:
            state = states.load(sensor_key)
            new, found = score_sensor(state, kind, points)
            sent = evidence.send([anomaly_evidence(complex_id, sensor_id, kind, a) for a in found])
            metrics.add_metric(name="AnomalyEvidenceSent", unit="Count", value=sent)
            if new is not state:
                states.save(sensor_key, new)
            metrics.add_metric(name="AnomaliesFlagged", unit="Count", value=len(found))
        except Exception:
            logger.exception("anomaly scoring failed", extra={"sensor_key": sensor_key})
            failed.update(ids_by_sensor[(complex_id, sensor_id, kind)])

    series = {(c, k, s): [p.value for p in pts] for (c, s, k), pts in groups.items()}
    stuck = [
        stuck_evidence(c, k, s, v, n, groups[(c, s, k)][-1].ts_ms)
        for c, k, s, v, n in stuck_while_neighbours_vary(series)
    ]
    evidence.send(stuck)  # a failure here fails the batch: the stuck check is not per sensor

    clock = time.monotonic()
    for complex_id in sorted({c for c, _, _ in groups}):
        if clock - _checked.get(complex_id, -1e9) < settings.heartbeat_check_s:
            continue
        _checked[complex_id] = clock
        silent = heartbeats.silent(complex_id, now)
        # Evidence first, then the mark: a failed mark repeats a report, it never loses one.
        evidence.send([heartbeat_evidence(i, now) for i in silent])
        for item in silent:
            heartbeats.mark_reported(item)
        metrics.add_metric(name="HeartbeatsMissed", unit="Count", value=len(silent))
    return failed


@logger.inject_lambda_context
@tracer.capture_lambda_handler
@metrics.log_metrics
def handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    records = event.get("Records", [])
    failed = analyse(records, datetime.now(UTC))
    metrics.add_metric(name="AnomalyReadings", unit="Count", value=len(records))

    def record_handler(record: SQSRecord) -> None:
        # The batch was scored as a whole above; this only reports the outcome per record.
        if record.message_id in failed:
            raise RuntimeError("sensor state or evidence not written")

    return dict(
        process_partial_response(
            event=event, record_handler=record_handler, processor=processor, context=context
        )
    )
