"""The ``form-issuance`` workflow's own steps: the identity request, the reconciliation of the
wallet's claims with the form, the civil servants' queue, and recording a failure.

The state machine names the step (``step``); :class:`gyeonggi.forms.issuance_steps.IssuanceSteps`
runs it on the submission. Errors are typed for the state machine's ``Retry`` and ``Catch``
(``IdentityMismatch``, ``SubmissionConflict``, ``StepNotApplicable``): they are raised, not
answered. The verifier's signer (KMS, SSM, ``cryptography``) is built only by the identity
request, on its first call. Logs name the step and the submission, never a value of the form
or a claim (the tracer does not capture responses).
"""

from __future__ import annotations

from functools import cache
from typing import Any

from gyeonggi.common import clock
from gyeonggi.common.config import Settings
from gyeonggi.common.observability import observability
from gyeonggi.forms.catalogue import catalogue
from gyeonggi.forms.issuance_steps import IssuanceSteps, PresentationRequester, parse_step
from gyeonggi.forms.submissions import DynamoSubmissionStore

logger, tracer, metrics = observability()


class StepsSettings(Settings):
    form_submissions_table: str
    presentation_requests_table: str
    verifier_key_id: str
    verifier_certificate_parameter: str
    #: The issuers whose resident credentials are asked for: the verifier's trusted ones.
    wallet_trusted_issuers: str
    #: The API's public base URL: request objects and wallet answers go to the verifier there.
    verifier_base_url: str


settings = StepsSettings.from_env()


@cache
def requester() -> PresentationRequester:
    from gyeonggi.wallet.jose import KmsSigner
    from gyeonggi.wallet.presentation_requests import PresentationRequestStore
    from gyeonggi.wallet.request_objects import RequestObjectSigner, SsmCertificateChain
    from gyeonggi.wallet.verifier_service import Verifier

    def not_here(*args: Any) -> Any:
        # This function only creates requests; the verifier function verifies the answers.
        raise RuntimeError("the issuance steps verify no presentation")

    return Verifier(
        PresentationRequestStore(settings.presentation_requests_table),
        RequestObjectSigner(
            KmsSigner(settings.verifier_key_id),
            SsmCertificateChain(settings.verifier_certificate_parameter),
        ),
        not_here,
        not_here,
    )


@cache
def steps() -> IssuanceSteps:
    from gyeonggi.wallet.issuer_trust import parse_trusted_issuers

    issuers = tuple(sorted(parse_trusted_issuers(settings.wallet_trusted_issuers)))
    return IssuanceSteps(
        DynamoSubmissionStore(settings.form_submissions_table),
        catalogue(),
        requester,
        issuers=issuers,
        base_url=settings.verifier_base_url.rstrip("/"),
    )


@logger.inject_lambda_context
@tracer.capture_lambda_handler(capture_response=False)
@metrics.log_metrics
def handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    request = parse_step(event)
    logger.append_keys(submission_id=request.submission_id, step=request.step)
    try:
        output = steps().run(request, clock.now())
    except Exception as exc:
        # The state machine decides what the error means; the log says which it was.
        # Domain errors here carry codes and field names, never a value of the form or a claim.
        logger.info(
            "step not completed", extra={"error": type(exc).__name__, "detail": str(exc)[:300]}
        )
        metrics.add_metric(name=f"FormStep{type(exc).__name__}", unit="Count", value=1)
        raise
    logger.info("step completed", extra={"state": output.get("state")})
    metrics.add_metric(name="FormStepsCompleted", unit="Count", value=1)
    return output
