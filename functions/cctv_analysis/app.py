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
import re
import tempfile
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import unquote_plus

import boto3

from gyeonggi.common.config import Settings
from gyeonggi.common.errors import InvalidInput
from gyeonggi.common.observability import observability
from gyeonggi.safety.video import analyze

logger, tracer, metrics = observability()

KEY = re.compile(
    r"^cctv/(?P<jurisdiction>[A-Za-z0-9.\-]{1,64})/(?P<camera>[A-Za-z0-9_.\-]{1,64})/"
    r"(?P<start>\d{8}T\d{6}Z)\.(?P<ext>mp4|avi)$"
)


class CctvSettings(Settings):
    cctv_bucket: str
    safety_evidence_queue_url: str


settings = CctvSettings.from_env()
s3 = boto3.client("s3")
sqs = boto3.client("sqs")


def _analysis_key(key: str, suffix: str) -> str:
    """Where the result of segment ``key`` goes (``analysis/...`` instead of ``cctv/...``)."""
    stem = key[len("cctv/") :] if key.startswith("cctv/") else key
    return "analysis/" + stem.rsplit(".", 1)[0] + suffix


def _put_json(bucket: str, key: str, body: dict[str, Any]) -> None:
    s3.put_object(
        Bucket=bucket,
        Key=key,
        Body=json.dumps(body, separators=(",", ":")).encode(),
        ContentType="application/json",
    )


def process(bucket: str, key: str) -> dict[str, Any]:
    """Analyse one segment and store its result; returns the stored result."""
    result_key = _analysis_key(key, ".json")
    result: dict[str, Any]
    match = KEY.match(key)
    if match is None:
        metrics.add_metric(name="CctvSegmentRejected", unit="Count", value=1)
        logger.warning("cctv key rejected", extra={"key": key})
        result = {"segment_key": key, "error": "key is not cctv/{jurisdiction}/{camera}/{start}"}
        _put_json(bucket, result_key, result)
        return result
    start = datetime.strptime(match["start"], "%Y%m%dT%H%M%SZ").replace(tzinfo=UTC)
    suffix = "." + match["ext"]
    with tempfile.NamedTemporaryFile(suffix=suffix) as local:
        s3.download_fileobj(bucket, key, local)
        local.flush()
        try:
            analysis = analyze(local.name)
        except InvalidInput as exc:
            metrics.add_metric(name="CctvSegmentUnreadable", unit="Count", value=1)
            logger.warning("cctv segment unreadable", extra={"key": key, "reason": exc.message})
            result = {"segment_key": key, "error": exc.message}
            _put_json(bucket, result_key, result)
            return result
    keyframe_key = _analysis_key(key, ".jpg") if analysis.keyframe_jpeg else None
    if keyframe_key and analysis.keyframe_jpeg:
        s3.put_object(
            Bucket=bucket, Key=keyframe_key, Body=analysis.keyframe_jpeg, ContentType="image/jpeg"
        )
    result = {
        "segment_key": key,
        "jurisdiction": match["jurisdiction"],
        "camera_id": match["camera"],
        "start": start.isoformat().replace("+00:00", "Z"),
        "keyframe_key": keyframe_key,
        **analysis.to_json(),
    }
    _put_json(bucket, result_key, result)
    metrics.add_metric(name="CctvSegmentAnalysed", unit="Count", value=1)
    for kind, found, first, boxes in (
        ("fire", analysis.fire, analysis.first_fire_second, analysis.fire_boxes),
        ("smoke", analysis.smoke, analysis.first_smoke_second, analysis.smoke_boxes),
    ):
        if not found or first is None:
            continue
        ts = (start + timedelta(seconds=first)).isoformat().replace("+00:00", "Z")
        evidence = {
            "source": "camera",
            "complex_id": match["jurisdiction"],
            "camera_id": match["camera"],
            "kind": kind,
            "severity": "alarm",
            "ts": ts,
            "detail": {
                "scores": [s[kind] for s in result["seconds"]],
                "boxes": [list(b) for b in boxes],
                "keyframe_key": keyframe_key,
                "segment_key": key,
            },
        }
        sqs.send_message(
            QueueUrl=settings.safety_evidence_queue_url, MessageBody=json.dumps(evidence)
        )
        metrics.add_metric(name=f"Cctv{kind.capitalize()}Alarm", unit="Count", value=1)
        logger.info("camera alarm", extra={"kind": kind, "segment_key": key, "ts": ts})
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
