"""The Data Dam's stream ingestion: what the systems write in their own tables -> Iceberg.

The streams of the complaint forecasts, incidents, form submissions, presentation requests and
wallet status lists tables feed this function (``gyeonggi.datadam.stream_sources``: one adapter
per table). Each batch becomes one lake write per dataset, the privacy policy applied first. A
malformed record fails alone (partial batch response: Lambda retries from it), and after the
mapping's retries the batch's position goes to ``DataDamStreamsDeadLetterQueue``; a record
delivered again writes nothing twice (the lake's key check). Nothing waits for this function:
a table's writer never knows its stream is read.
"""

from __future__ import annotations

from typing import Any

from gyeonggi.common.config import Settings
from gyeonggi.common.observability import observability
from gyeonggi.complaints.privacy import Pseudonymizer
from gyeonggi.datadam.ingestion import StreamIngestion, answer_batch
from gyeonggi.datadam.lake import Lake, LakeSettings

logger, tracer, metrics = observability()


class StreamSettings(Settings):
    pseudonym_key_id: str
    complaint_forecasts_table: str
    incidents_table: str
    form_submissions_table: str
    presentation_requests_table: str
    wallet_status_lists_table: str


settings = StreamSettings.from_env()
ingestion = StreamIngestion(
    Lake.from_settings(LakeSettings.from_env()),
    Pseudonymizer(settings.pseudonym_key_id),
    {
        settings.complaint_forecasts_table: "complaint_forecasts",
        settings.incidents_table: "incidents",
        settings.form_submissions_table: "form_submissions",
        settings.presentation_requests_table: "presentation_requests",
        settings.wallet_status_lists_table: "wallet_status_lists",
    },
)


@logger.inject_lambda_context
@tracer.capture_lambda_handler
@metrics.log_metrics
def handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    return answer_batch(ingestion, event, metrics)
