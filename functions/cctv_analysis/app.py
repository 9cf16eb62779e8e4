"""CCTV segments uploaded to S3: fire and smoke analysis, evidence for the incident workflow.

Recorders upload ``cctv/{jurisdiction}/{camera_id}/{start}.mp4`` (or ``.avi``), or under their
retention class's root ``cctv-{days}d/``. Each upload is downloaded to /tmp and analysed; the
result JSON goes to ``analysis/{jurisdiction}/{camera_id}/{start}.json`` and the keyframe JPEG to
``keyframes/`` and the segment's own key (it expires with the segment) in the same bucket. A
confirmed fire or smoke sends one message per kind to the safety evidence queue.

A malformed key or an undecodable video is logged, counted and stored as a result with an
``error``; the handler returns normally so S3's asynchronous retries never loop on it.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import unquote_plus

from gyeonggi.cctv.health import HealthStore
from gyeonggi.cctv.references import S3ReferenceFrames
from gyeonggi.cctv.segment_watch import SegmentWatch
from gyeonggi.cctv.store import CameraStore
from gyeonggi.common import clock
from gyeonggi.common.config import Settings
from gyeonggi.common.observability import observability
from gyeonggi.safety.cameras import SegmentAnalyser
from gyeonggi.safety.evidence import EvidenceQueue
from gyeonggi.safety.video import still_frames

logger, tracer, metrics = observability()


class CctvSettings(Settings):
    cctv_bucket: str
    safety_evidence_queue_url: str
    # ---- the CCTV registry (issue 12, section 2): each segment's camera health
    cctv_cameras_table: str
    cctv_health_table: str


settings = CctvSettings.from_env()
evidence = EvidenceQueue(settings.safety_evidence_queue_url)
cameras = CameraStore(settings.cctv_cameras_table)


# ---- the CCTV registry (issue 12, section 2): per segment, the camera is alive (one write);
# once a minute, its view is checked for tampering against its reference frame.
camera_health = SegmentWatch(
    cameras,
    HealthStore(settings.cctv_health_table),
    S3ReferenceFrames(settings.cctv_bucket),
    evidence.send,
    still_frames,
    clock=clock.now,
    count=lambda name, value: metrics.add_metric(name=name, unit="Count", value=value),
)
# Each segment is analysed with its camera's masks and smallest fire as an operator stored them
# in the registry (PATCH /cctv/cameras/{id}); a registry that cannot be read costs the masks,
# never the analysis (logged by SegmentAnalyser.calibration).
segments = SegmentAnalyser(evidence.send, cameras=cameras, observers=[camera_health])


def process(bucket: str, key: str) -> dict[str, Any]:
    """Analyse one segment and store its result; returns the stored result."""
    outcome = segments.process(bucket, key)
    if outcome.problem is not None:
        metrics.add_metric(name=f"CctvSegment{outcome.problem.capitalize()}", unit="Count", value=1)
        logger.warning(
            "cctv segment not analysed", extra={"key": key, "reason": outcome.result["error"]}
        )
        return outcome.result
    metrics.add_metric(name="CctvSegmentAnalysed", unit="Count", value=1)
    for item in outcome.evidence:
        metrics.add_metric(name=f"Cctv{item.kind.capitalize()}Alarm", unit="Count", value=1)
        logger.info("camera alarm", extra={"kind": item.kind, "segment_key": key})
    return outcome.result


@logger.inject_lambda_context
@tracer.capture_lambda_handler
@metrics.log_metrics
def handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    processed = []
    for record in event.get("Records", []):
        bucket = record["s3"]["bucket"]["name"]
        # S3 event keys are URL-encoded (a space arrives as '+').
        key = unquote_plus(record["s3"]["object"]["key"])
        if bucket != settings.cctv_bucket:
            logger.warning("event from an unexpected bucket", extra={"bucket": bucket})
            continue
        result = process(bucket, key)
        processed.append(
            {
                "segment_key": key,
                "error": result.get("error"),
                "fire": result.get("fire", False),
                "smoke": result.get("smoke", False),
            }
        )
    return {"processed": processed}
