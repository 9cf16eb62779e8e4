"""Scheduled each minute: cameras that stopped sending segments -> evidence or an ops alarm.

A silent camera sends nothing that could trigger a check, so the check runs on the clock
(:class:`gyeonggi.cctv.health_checks.OfflineSweep`), as the sensors' heartbeat sweep does.
Silence is judged against the time the sweep runs. A camera watching an industrial complex
becomes ``camera_offline`` evidence for the incident workflow; the others are counted in the
``CamerasWentOffline`` metric, whose alarm pages ``OpsAlertsTopic``, and logged one line each.
A failed sweep is not retried (the next is a minute away); its event goes to the dead-letter
queue, whose alarm pages the operators too.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from gyeonggi.cctv.health import HealthStore
from gyeonggi.cctv.health_checks import OfflineSweep
from gyeonggi.cctv.store import CameraStore
from gyeonggi.common import clock
from gyeonggi.common.config import Settings
from gyeonggi.common.observability import observability
from gyeonggi.safety.evidence import EvidenceQueue

logger, tracer, metrics = observability()


class CameraSweepSettings(Settings):
    cctv_cameras_table: str
    cctv_health_table: str
    safety_evidence_queue_url: str
    camera_offline_after_seconds: int = 180


settings = CameraSweepSettings.from_env()
sweep = OfflineSweep(
    CameraStore(settings.cctv_cameras_table),
    HealthStore(settings.cctv_health_table),
    EvidenceQueue(settings.safety_evidence_queue_url).send,
    offline_after=timedelta(seconds=settings.camera_offline_after_seconds),
)


@logger.inject_lambda_context
@tracer.capture_lambda_handler
@metrics.log_metrics
def handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    outcome = sweep.run(clock.now())
    metrics.add_metric(name="CamerasSwept", unit="Count", value=outcome.cameras)
    metrics.add_metric(name="CamerasWentOffline", unit="Count", value=outcome.to_operations)
    metrics.add_metric(name="CameraOfflineEvidence", unit="Count", value=outcome.to_incidents)
    return {
        "cameras": outcome.cameras,
        "silent": outcome.silent,
        "to_incidents": outcome.to_incidents,
        "to_operations": outcome.to_operations,
        "offline": [f.camera_id for f in outcome.findings],
    }
