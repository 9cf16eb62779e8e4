"""The alarm path: one sensor reading from the IoT topic rule -> alarm state -> evidence.

Per reading: decode the rule's message (the payload as published, base64, and the topic's
ids) and validate it (a payload that is no JSON object, a malformed or clock-skewed reading
goes to the dead-letter queue with the reason, never crashes the function), read the sensor's
state (one GetItem), evaluate the alarms (:func:`gyeonggi.safety.alarms.evaluate`, pure), send
one evidence message per alarm event to the SafetyEvidenceQueue, then write the state back
conditioned on its version.

Why evidence before the state write: if the write then fails, the retry (IoT invokes
asynchronously; Lambda retries twice) re-evaluates the same reading and sends the same events
again with the same ``detail.evidence_id``. The other order could lose an alarm: a state
written with the reading in it makes every retry a no-op. A duplicate is the consumer's to
drop; a lost gas alarm is nobody's to find. A state store that fails (``StateNotLoaded``,
``StateNotSaved``) fails the invocation after the evidence went out; after Lambda's two
retries, the function's on-failure destination (``TelemetryDeadLetterQueue``) keeps the event
with the error type and message.

No numpy, scikit-learn or cv2 here (a test checks it in a fresh interpreter): statistical
anomalies run on batches in ``functions/sensor_anomalies``.
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from datetime import datetime
from typing import Any

from gyeonggi.common import clock
from gyeonggi.common.config import Settings
from gyeonggi.common.errors import InvalidInput
from gyeonggi.common.observability import observability
from gyeonggi.safety.alarm_configs import ComplexAlarmConfigs
from gyeonggi.safety.alarm_path import AlarmPath, StateNotLoaded, StateNotSaved
from gyeonggi.safety.evidence import Evidence, EvidenceNotAccepted, EvidenceQueue
from gyeonggi.safety.heartbeats import ComplexRegister
from gyeonggi.safety.sensor_state import AlarmStateStore
from gyeonggi.safety.telemetry import (
    RejectedReadings,
    Telemetry,
    check_clock_skew,
    decode_rule_message,
    parse_telemetry,
)

logger, tracer, metrics = observability()


class TelemetrySettings(Settings):
    sensor_state_table: str
    safety_complexes_table: str
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
complexes = ComplexRegister(settings.safety_complexes_table)
configs = ComplexAlarmConfigs(ttl_s=settings.alarm_config_ttl_s, on_invalid=_invalid_config)


def _reject(event: Any, reason: str, metric: str) -> dict[str, Any]:
    metrics.add_metric(name=metric, unit="Count", value=1)
    logger.warning("telemetry rejected", extra={"reason": reason})
    rejected.reject(event, reason)
    return {"accepted": False, "reason": reason}


def send_evidence(found: Sequence[Evidence], /) -> int:
    """Evidence before state: a failure raises, Lambda retries the reading, ids dedupe."""
    try:
        sent = evidence.send(found)
    except EvidenceNotAccepted:
        metrics.add_metric(name="EvidenceSendFailed", unit="Count", value=1)
        raise
    if sent:
        metrics.add_metric(name="EvidenceSent", unit="Count", value=sent)
    return sent


alarm_path = AlarmPath(store, configs, send_evidence, complexes)


def process(reading: Telemetry, received_at: datetime) -> dict[str, Any]:
    """Evaluate and persist one valid reading; returns what happened."""
    try:
        outcome = alarm_path.handle(reading, received_at)
    except (StateNotLoaded, StateNotSaved) as exc:
        metrics.add_metric(name="StateStoreFailed", unit="Count", value=1)
        logger.error("sensor state store failed; evidence sent", extra={"reason": str(exc)})
        raise
    if outcome.unregistered:
        metrics.add_metric(name="ComplexRegisterFailed", unit="Count", value=1)
    if outcome.conflicts:
        metrics.add_metric(name="StateWriteConflict", unit="Count", value=outcome.conflicts)
    metrics.add_metric(
        name="TelemetryStale" if outcome.stale else "TelemetryAccepted", unit="Count", value=1
    )
    return outcome.as_response()


@logger.inject_lambda_context
@tracer.capture_lambda_handler
@metrics.log_metrics
def handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    received_at = clock.now()
    started = time.perf_counter()
    try:
        data = decode_rule_message(event)
    except InvalidInput as exc:
        return _reject(event, exc.message, "TelemetryRejected")
    try:
        reading = parse_telemetry(data)
    except InvalidInput as exc:
        return _reject(data, exc.message, "TelemetryRejected")
    try:
        check_clock_skew(reading, received_at)
    except InvalidInput as exc:
        return _reject(data, exc.message, "TelemetryClockSkew")
    result = process(reading, received_at)
    metrics.add_metric(
        name="AlarmPathMs", unit="Milliseconds", value=(time.perf_counter() - started) * 1000
    )
    return result
