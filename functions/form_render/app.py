"""The ``form-issuance`` workflow's rendering step: the completed form as PDF and JSON.

Renders the civil servant's copy (PDF and JSON, RRNs in full) and the citizen's (PDF, RRNs
masked) with fpdf2 in NanumGothic, shipped in this package (``fonts/``, with its OFL licence),
and stores them in the forms bucket under SSE-KMS (:mod:`gyeonggi.forms.rendering`). The only
function that writes the bucket; it reads nothing there. A missing font or a refused write
raises, and the state machine records the failure for a redrive.
"""

from __future__ import annotations

from functools import cache
from pathlib import Path
from typing import Any

from gyeonggi.common import clock
from gyeonggi.common.config import Settings
from gyeonggi.common.errors import InvalidInput
from gyeonggi.common.observability import observability
from gyeonggi.forms.catalogue import catalogue
from gyeonggi.forms.document_store import S3Documents
from gyeonggi.forms.rendering import render_submission
from gyeonggi.forms.submissions import DynamoSubmissionStore

logger, tracer, metrics = observability()
FONT = Path(__file__).parent / "fonts" / "NanumGothic.ttf"


class RenderSettings(Settings):
    form_submissions_table: str
    forms_bucket: str
    #: The key the documents are encrypted with (the stack's DataKey).
    forms_kms_key_id: str


settings = RenderSettings.from_env()


@cache
def stores() -> tuple[DynamoSubmissionStore, S3Documents]:
    return (
        DynamoSubmissionStore(settings.form_submissions_table),
        S3Documents(settings.forms_bucket, settings.forms_kms_key_id),
    )


@logger.inject_lambda_context
@tracer.capture_lambda_handler(capture_response=False)
@metrics.log_metrics
def handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    submission_id = event.get("submission_id") if isinstance(event, dict) else None
    if not isinstance(submission_id, str) or not submission_id:
        raise InvalidInput("submission_id: is required", field="submission_id")
    logger.append_keys(submission_id=submission_id)
    store, documents = stores()
    try:
        rendered = render_submission(
            store, documents, catalogue(), submission_id, font=FONT, now=clock.now()
        )
    except Exception as exc:
        # The error's text is for operators (an AWS error names a bucket or a key, never a
        # value of the form; RRNs are masked by the logger anyway).
        logger.info(
            "form not rendered", extra={"error": type(exc).__name__, "detail": str(exc)[:300]}
        )
        metrics.add_metric(name="FormsNotRendered", unit="Count", value=1)
        raise
    logger.info("form rendered")
    metrics.add_metric(name="FormsRendered", unit="Count", value=1)
    return {"submission_id": submission_id, "rendered_at": rendered.rendered_at.isoformat()}
