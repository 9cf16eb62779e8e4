"""The alarm path: one sensor reading from the IoT topic rule -> alarm state -> evidence.

Per reading: validate (malformed or clock-skewed readings go to the dead-letter queue with the
reason, never crash the function), read the sensor's state (one GetItem), evaluate the alarms
(:func:`gyeonggi.safety.alarms.evaluate`, pure), send one evidence message per alarm event to
the SafetyEvidenceQueue, then write the state back conditioned on its version.

Why evidence before the state write: if the write then fails, the retry (IoT invokes
asynchronously; Lambda retries twice) re-evaluates the same reading and sends the same events
again with the same ``detail.evidence_id``. The other order could lose an alarm: a state
written with the reading in it makes every retry a no-op. A duplicate is the consumer's to
drop; a lost gas alarm is nobody's to find.

No numpy, scikit-learn or cv2 here (a test checks it in a fresh interpreter): statistical
anomalies run on batches in ``functions/sensor_anomalies``.
"""

from __future__ import annotations

import time
from datetime import UTC, datetime
from typing import Any

from gyeonggi.common.config import Settings
from gyeonggi.common.errors import InvalidInput
from gyeonggi.common.observability import observability
from gyeonggi.safety.alarms import evaluate
from gyeonggi.safety.evidence import EvidenceNotAccepted, EvidenceQueue
from gyeonggi.safety.sensor_state import (
    AlarmStateStore,
    ComplexAlarmConfigs,
    StateConflict,
    alarm_evidence,
    smoothed_interval,
)
from gyeonggi.safety.telemetry import (
    RejectedReadings,
    Telemetry,
    check_clock_skew,
    parse_telemetry,
)

logger, tracer, metrics = observability()


class TelemetrySettings(Settings):
    sensor_state_table: str
    telemetry_dlq_url: str
    safety_evidence_queue_url: str
    alarm_config_ttl_s: float = 60.0


def _invalid_config(complex_id: str, reason: str) -> None:
    metrics.add_metric(name="AlarmConfigInvalid", unit="Count", value=1)
    logger.error(
        "alarm config invalid, using defaults", extra={"complex": complex_id, "reason": reason}
    )


settings = TelemetrySettings.from_env()
store = AlarmStateStore(settings.sensor_state_table)
rejected = RejectedReadings(settings.telemetry_dlq_url)
evidence = EvidenceQueue(settings.safety_evidence_queue_url)
configs = ComplexAlarmConfigs(ttl_s=settings.alarm_config_ttl_s, on_invalid=_invalid_config)


def _reject(event: Any, reason: str, metric: str) -> dict[str, Any]:
    metrics.add_metric(name=metric, unit="Count", value=1)
    logger.warning("telemetry rejected", extra={"reason": reason})
    rejected.reject(event, reason)
    return {"accepted": False, "reason": reason}


def send_evidence(messages: list[dict[str, Any]]) -> None:
    """Evidence before state: a failure raises, Lambda retries the reading, ids dedupe."""
    try:
        sent = evidence.send(messages)
    except EvidenceNotAccepted:
        metrics.add_metric(name="EvidenceSendFailed", unit="Count", value=1)
        raise
    if sent:
        metrics.add_metric(name="EvidenceSent", unit="Count", value=sent)


def process(reading: Telemetry, received_at: datetime) -> dict[str, Any]:
    """Evaluate and persist one valid reading; returns what happened."""
    config = configs.get(reading.complex_id)
    received_ms = round(received_at.timestamp() * 1000)
    for attempt in (1, 2):
        stored = store.load(reading.sensor_key)
        state, events = evaluate(stored.state, reading, config)
        if stored.state is not None and state is stored.state:
            # Duplicate or late delivery: evaluate() changed nothing, so nothing to write.
            metrics.add_metric(name="TelemetryStale", unit="Count", value=1)
            return {"accepted": True, "sensor_key": reading.sensor_key, "stale": True}
        previous_ts = stored.state.last_ts_ms if stored.state else None
        interval = smoothed_interval(stored.interval_s, previous_ts, state.last_ts_ms)
        send_evidence([alarm_evidence(e, received_at=received_at) for e in events])
        if store.save(
            reading,
            state,
            expected_version=stored.version,
            received_ms=received_ms,
            interval_s=interval,
        ):
            metrics.add_metric(name="TelemetryAccepted", unit="Count", value=1)
            return {
                "accepted": True,
                "sensor_key": reading.sensor_key,
                "events": [e.kind for e in events],
            }
        metrics.add_metric(name="StateWriteConflict", unit="Count", value=1)
        logger.info("state changed concurrently, retrying", extra={"attempt": attempt})
    raise StateConflict(f"{reading.sensor_key}: state changed twice while evaluating")


@logger.inject_lambda_context
@tracer.capture_lambda_handler
@metrics.log_metrics
def handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    received_at = datetime.now(UTC)
    started = time.perf_counter()
    try:
        reading = parse_telemetry(event)
    except InvalidInput as exc:
        return _reject(event, exc.message, "TelemetryRejected")
    try:
        check_clock_skew(reading, received_at)
    except InvalidInput as exc:
        return _reject(event, exc.message, "TelemetryClockSkew")
    result = process(reading, received_at)
    metrics.add_metric(
        name="AlarmPathMs", unit="Milliseconds", value=(time.perf_counter() - started) * 1000
    )
    return result
