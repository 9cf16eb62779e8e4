"""The Data Dam's event ingestion: events the systems publish -> Iceberg tables.

``DataDamEventsQueue`` is subscribed (raw delivery) to the complaint events topic (received,
routed, surges) and the incident alerts topic; ``DataDamCameraQueue`` is notified by the CCTV
bucket of each analysis result (``analysis/*.json``, read from the bucket: every segment's
detections, ``none`` too).
Each batch becomes one lake write per dataset, the privacy policy applied first
(``gyeonggi.datadam``). A malformed message fails alone (partial batch response) and is
dead-lettered after three receives; a redelivered one writes nothing twice (the lake's key
check). Nothing waits for this function.
"""

from __future__ import annotations

from typing import Any

from gyeonggi.common.config import Settings
from gyeonggi.common.observability import observability
from gyeonggi.complaints.privacy import Pseudonymizer
from gyeonggi.datadam.ingestion import EventIngestion, answer_batch
from gyeonggi.datadam.lake import Lake, LakeSettings
from gyeonggi.datadam.sources import AnalysisResults

logger, tracer, metrics = observability()


class EventSettings(Settings):
    pseudonym_key_id: str
    cctv_bucket: str


settings = EventSettings.from_env()
lake = Lake.from_settings(LakeSettings.from_env())
ingestion = EventIngestion(
    lake, Pseudonymizer(settings.pseudonym_key_id), AnalysisResults(settings.cctv_bucket)
)


@logger.inject_lambda_context
@tracer.capture_lambda_handler
@metrics.log_metrics
def handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    return answer_batch(ingestion, event, metrics)
