"""Scheduled each minute: missed heartbeats across every registered complex -> evidence.

A silent sensor, or a whole complex gone dark, sends nothing that could trigger a check, so the
check runs on the clock (:class:`gyeonggi.safety.heartbeats.HeartbeatSweep`). Silence is judged
against the time the sweep runs, not the schedule's ``time`` (a late invocation must not hide
a silence). A complex whose check failed is retried by the next sweep; the invocation still
fails afterwards, so the failure shows in the function's errors and its dead-letter queue.
"""

from __future__ import annotations

from typing import Any

from gyeonggi.common import clock
from gyeonggi.common.config import Settings
from gyeonggi.common.observability import observability
from gyeonggi.safety.evidence import EvidenceQueue
from gyeonggi.safety.heartbeats import ComplexRegister, HeartbeatSweep, HeartbeatWatch

logger, tracer, metrics = observability()


class SweepSettings(Settings):
    sensor_state_table: str
    safety_complexes_table: str
    safety_evidence_queue_url: str


class SweepIncomplete(RuntimeError):
    """Some complexes could not be checked this minute."""


settings = SweepSettings.from_env()
sweep = HeartbeatSweep(
    ComplexRegister(settings.safety_complexes_table),
    HeartbeatWatch(settings.sensor_state_table),
    EvidenceQueue(settings.safety_evidence_queue_url).send,
)


@logger.inject_lambda_context
@tracer.capture_lambda_handler
@metrics.log_metrics
def handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    outcome = sweep.run(clock.now())
    metrics.add_metric(name="ComplexesSwept", unit="Count", value=outcome.complexes)
    metrics.add_metric(name="HeartbeatsMissed", unit="Count", value=outcome.missed)
    metrics.add_metric(name="ComplexesDark", unit="Count", value=len(outcome.dark))
    metrics.add_metric(name="SweepFailures", unit="Count", value=len(outcome.failed))
    if outcome.failed:
        raise SweepIncomplete(f"heartbeats not checked for {', '.join(outcome.failed)}")
    if outcome.missed:
        logger.warning("missed heartbeats", extra={"sweep": vars(outcome)})
    return vars(outcome)
