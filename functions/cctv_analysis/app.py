"""CCTV segments uploaded to S3: fire and smoke analysis, evidence for the incident workflow.

Recorders upload ``cctv/{jurisdiction}/{camera_id}/{start}.mp4`` (or ``.avi``). Each upload is
downloaded to /tmp and analysed; the result JSON and the keyframe JPEG go to
``analysis/{jurisdiction}/{camera_id}/{start}.json`` and ``.jpg`` in the same bucket. A confirmed
fire or smoke sends one message per kind to the safety evidence queue.

A malformed key or an undecodable video is logged, counted and stored as a result with an
``error``; the handler returns normally so S3's asynchronous retries never loop on it.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import unquote_plus

from gyeonggi.common.config import Settings
from gyeonggi.common.observability import observability
from gyeonggi.safety.camera_calibration import NoCameraSettings
from gyeonggi.safety.cameras import SegmentAnalyser
from gyeonggi.safety.evidence import EvidenceQueue

logger, tracer, metrics = observability()


class CctvSettings(Settings):
    cctv_bucket: str
    safety_evidence_queue_url: str


settings = CctvSettings.from_env()
# Each camera's ignored regions and smallest fire: the camera registry (issue 12, section 2)
# is their source once merged; until then no camera has a calibration.
segments = SegmentAnalyser(
    EvidenceQueue(settings.safety_evidence_queue_url).send, cameras=NoCameraSettings()
)


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
