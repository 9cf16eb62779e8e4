"""The identity-check task: a presentation request's verified claims, or a typed error.

Step Functions calls it with ``{"request_id": ...}``; the errors it raises are the workflow's
to ``Retry`` (``IdentityCheckPending``) or ``Catch`` (the others), see
:mod:`gyeonggi.wallet.identity_check` and docs/WALLET_VERIFIER.md. It logs the outcome and the
reason code only: the claims go to the workflow, never to a log line or a trace.
"""

from __future__ import annotations

from typing import Any

from gyeonggi.common import clock
from gyeonggi.common.config import Settings
from gyeonggi.common.observability import observability
from gyeonggi.wallet.identity_check import IdentityCheckError, check_identity
from gyeonggi.wallet.presentation_requests import PresentationRequestStore

logger, tracer, metrics = observability()


class IdentityCheckSettings(Settings):
    presentation_requests_table: str


settings = IdentityCheckSettings.from_env()
store = PresentationRequestStore(settings.presentation_requests_table)


@logger.inject_lambda_context
@tracer.capture_lambda_handler(capture_response=False)
@metrics.log_metrics
def handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    try:
        result = check_identity(event, store, clock.now())
    except IdentityCheckError as exc:
        logger.info(
            "identity check not passed",
            extra={"request_id": exc.request_id, "error": type(exc).__name__, "reason": exc.reason},
        )
        metrics.add_metric(name=type(exc).__name__, unit="Count", value=1)
        raise
    logger.info("identity check passed", extra={"request_id": result["request_id"]})
    metrics.add_metric(name="IdentityCheckVerified", unit="Count", value=1)
    return result
