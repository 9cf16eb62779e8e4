"""CCTV segments uploaded to S3: fire and smoke analysis, evidence for the incident workflow.

Recorders upload ``cctv/{jurisdiction}/{camera_id}/{start}.mp4`` (or ``.avi``). Each upload is
downloaded to /tmp and analysed; the result JSON and the keyframe JPEG go to
``analysis/{jurisdiction}/{camera_id}/{start}.json`` and ``.jpg`` in the same bucket. A confirmed
fire or smoke sends one message per kind to the safety evidence queue.

A malformed key or an undecodable video is logged, counted and stored as a result with an
``error``; the handler returns normally so S3's asynchronous retries never loop on it.
"""

from __future__ import annotations

import json
import tempfile
from typing import Any
from urllib.parse import unquote_plus

from gyeonggi.common.aws import AwsClient
from gyeonggi.common.config import Settings
from gyeonggi.common.errors import InvalidInput
from gyeonggi.common.observability import observability
from gyeonggi.safety.cameras import Segment, analysis_key
from gyeonggi.safety.evidence import EvidenceQueue
from gyeonggi.safety.video import analyze

logger, tracer, metrics = observability()


class CctvSettings(Settings):
    cctv_bucket: str
    safety_evidence_queue_url: str


class _Bucket:
    s3 = AwsClient("s3")

    def put_json(self, bucket: str, key: str, body: dict[str, Any]) -> None:
        self.s3.put_object(
            Bucket=bucket,
            Key=key,
            Body=json.dumps(body, separators=(",", ":")).encode(),
            ContentType="application/json",
        )


settings = CctvSettings.from_env()
storage = _Bucket()
evidence = EvidenceQueue(settings.safety_evidence_queue_url)


def _failed(bucket: str, key: str, reason: str, metric: str) -> dict[str, Any]:
    metrics.add_metric(name=metric, unit="Count", value=1)
    logger.warning("cctv segment not analysed", extra={"key": key, "reason": reason})
    result = {"segment_key": key, "error": reason}
    storage.put_json(bucket, analysis_key(key, ".json"), result)
    return result


def process(bucket: str, key: str) -> dict[str, Any]:
    """Analyse one segment and store its result; returns the stored result."""
    try:
        segment = Segment.parse(key)
    except InvalidInput as exc:
        return _failed(bucket, key, exc.message, "CctvSegmentRejected")
    with tempfile.NamedTemporaryFile(suffix=segment.extension) as local:
        storage.s3.download_fileobj(bucket, key, local)
        local.flush()
        try:
            analysis = analyze(local.name)
        except InvalidInput as exc:
            return _failed(bucket, key, exc.message, "CctvSegmentUnreadable")
    keyframe_key = analysis_key(key, ".jpg") if analysis.keyframe_jpeg else None
    if keyframe_key:
        storage.s3.put_object(
            Bucket=bucket, Key=keyframe_key, Body=analysis.keyframe_jpeg, ContentType="image/jpeg"
        )
    result = segment.result(analysis, keyframe_key)
    storage.put_json(bucket, analysis_key(key, ".json"), result)
    metrics.add_metric(name="CctvSegmentAnalysed", unit="Count", value=1)
    found = segment.evidence(analysis, keyframe_key)
    evidence.send(found)
    for item in found:
        metrics.add_metric(name=f"Cctv{item['kind'].capitalize()}Alarm", unit="Count", value=1)
        logger.info("camera alarm", extra={"kind": item["kind"], "segment_key": key})
    return result


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
