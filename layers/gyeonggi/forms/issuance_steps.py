"""The ``form-issuance`` workflow's own steps (``FormIssuanceStepsFunction``).

- :func:`request_identity`: a presentation request for what the form needs
  (:func:`gyeonggi.forms.identity.claims_needed`), made through the wallet verifier's domain
  (:class:`gyeonggi.wallet.verifier_service.Verifier`), whose ``request_uri`` the citizen's
  view shows (with its QR code). Retried within one execution, it reuses the request it made.
- the wallet's ``IdentityCheckFunction`` runs next (its own task: it polls until the person
  answers), then :func:`reconcile_identity`: the verified claims fill or must match the form.
- :func:`queue_submission`: the rendered form goes on its jurisdiction's queue.

Each step reads the submission, checks that it is in a state the step applies to (an old
execution's late retry must not move a decided form back), and writes over the version read.
The form's data never travels in the workflow's state: each step gets the submission's id.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Protocol

from gyeonggi.common.clock import KST, parse_iso
from gyeonggi.common.errors import Conflict, InvalidInput
from gyeonggi.forms.catalogue import Catalogue
from gyeonggi.forms.identity import (
    CREDENTIAL_QUERY_ID,
    IdentityMismatch,
    claims_needed,
    dcql_query,
    purpose,
    reconcile,
)
from gyeonggi.forms.issuance import record_failure
from gyeonggi.forms.submissions import (
    DECIDED,
    IdentityRequest,
    Submission,
    SubmissionStore,
    VerifiedIdentity,
    update,
)

#: Who the verifier records as the request's creator: the workflow, not an official (no
#: official reads these requests; the identity-check task does, trusted through IAM).
CREATED_BY = "workflow:form-issuance"


class StepNotApplicable(Conflict):
    """The submission is in a state this step does not apply to (a late retry, a redrive of
    something that did not fail)."""

    code = "step_not_applicable"


class PresentationRequester(Protocol):
    """Creates presentation requests (:meth:`gyeonggi.wallet.verifier_service.Verifier.create`)."""

    def create(self, body: Any, *, created_by: str, base_url: str, now: datetime) -> Any:
        """A new request for ``{"dcql_query", "purpose"}``; the answer has ``.request``
        (``request_id``, ``expires_at``) and ``.authorization_uri`` (``openid4vp://...``)."""
        ...


def _require(submission: Submission, step: str, states: frozenset[str]) -> None:
    if submission.state not in states:
        raise StepNotApplicable(
            f"submission {submission.submission_id} is {submission.state}: {step} does not apply"
        )


def request_identity(
    store: SubmissionStore,
    requester: PresentationRequester,
    catalogue: Catalogue,
    submission_id: str,
    *,
    execution: str,
    issuers: tuple[str, ...],
    base_url: str,
    now: datetime,
) -> dict[str, Any]:
    """Ask the citizen's wallet for what the form needs; ``{"request_id"}`` for the check.

    Raises
    ------
    StepNotApplicable
        The submission is past its identity check.
    """
    submission = store.get(submission_id)
    current = submission.identity_request
    if (
        submission.state == "awaiting_identity"
        and current is not None
        and current.execution == execution
    ):
        return {"request_id": current.request_id}  # a retry of this step: the same request
    _require(submission, "request_identity", frozenset({"received", "failed"}))
    form = catalogue[submission.form_id]
    claims = claims_needed(form.id, submission.fields)
    created = requester.create(
        {"dcql_query": dcql_query(claims, issuers), "purpose": purpose(form, submission.lang)},
        created_by=CREATED_BY,
        base_url=base_url,
        now=now,
    )
    request = IdentityRequest(
        request_id=created.request.request_id,
        request_uri=created.authorization_uri,
        expires_at=created.request.expires_at,
        execution=execution,
        claims=claims,
    )

    def change(latest: Submission) -> Submission:
        _require(latest, "request_identity", frozenset({"received", "failed"}))
        return latest.moved(
            "awaiting_identity",
            now,
            identity_request=request,
            execution=execution,
            expires_at=None,
        )

    update(store, submission_id, change)
    return {"request_id": request.request_id}


def _credential(identity: Mapping[str, Any]) -> tuple[str, Mapping[str, Any]]:
    credentials = identity.get("credentials")
    found = credentials.get(CREDENTIAL_QUERY_ID) if isinstance(credentials, Mapping) else None
    if not isinstance(found, list) or not found or not isinstance(found[0], Mapping):
        raise IdentityMismatch("claims_missing", "identity", "no resident credential was verified")
    first = found[0]
    claims = first.get("claims")
    if not isinstance(claims, Mapping):
        raise IdentityMismatch("claims_missing", "identity", "the credential disclosed nothing")
    return str(first.get("issuer", "")), claims


def reconcile_identity(
    store: SubmissionStore,
    catalogue: Catalogue,
    submission_id: str,
    identity: Mapping[str, Any],
    *,
    now: datetime,
) -> dict[str, Any]:
    """Apply the identity check's verified claims to the form.

    ``identity`` is the identity-check task's output (``verified_at``, ``credentials``).

    Raises
    ------
    IdentityMismatch
        The claims disagree with the form (the workflow records the reason; nothing is
        written here).
    StepNotApplicable
        The submission is not waiting for its identity.
    """
    issuer, claims = _credential(identity)
    verified_at = parse_iso(str(identity.get("verified_at") or now.isoformat()))
    today = now.astimezone(KST).date()

    def change(latest: Submission) -> Submission:
        if latest.state == "identity_verified":
            return latest  # this step already ran (its answer was lost): nothing to redo
        _require(latest, "reconcile", frozenset({"awaiting_identity", "failed"}))
        form = catalogue[latest.form_id]
        result = reconcile(form, latest.fields, claims, today)
        return latest.moved(
            "identity_verified",
            now,
            fields=result.fields,
            identity=VerifiedIdentity(verified_at, issuer, result.matched, result.filled),
            jurisdiction_id=result.jurisdiction_id,
            expires_at=None,
        )

    update(store, submission_id, change)
    return {"submission_id": submission_id}


def queue_submission(store: SubmissionStore, submission_id: str, *, now: datetime) -> None:
    """Put the rendered form on its jurisdiction's queue for a civil servant's decision."""

    def change(latest: Submission) -> Submission:
        if latest.state == "submitted" or latest.state in DECIDED:
            return latest
        _require(latest, "queue", frozenset({"rendered", "failed"}))
        if latest.documents is None or latest.jurisdiction_id is None:
            raise StepNotApplicable(f"submission {submission_id} has no rendered documents")
        return latest.moved("submitted", now, queued_at=now, expires_at=None)

    update(store, submission_id, change)


# ---------------------------------------------------------------------------- the task


@dataclass(frozen=True, slots=True)
class StepRequest:
    """One task of the workflow: which step, for which submission, with what it carries."""

    step: str
    submission_id: str
    execution: str = ""
    identity: Mapping[str, Any] | None = None
    failure: Mapping[str, Any] | None = None


STEP_NAMES = ("request_identity", "reconcile", "queue", "record_failure")


def parse_step(event: Any) -> StepRequest:
    """The state machine's payload for ``FormIssuanceStepsFunction``.

    Raises
    ------
    InvalidInput
        Not a payload of the workflow (no known ``step``, no ``submission_id``).
    """
    if not isinstance(event, Mapping) or event.get("step") not in STEP_NAMES:
        raise InvalidInput(f"step: must be one of {', '.join(STEP_NAMES)}", field="step")
    step = str(event["step"])
    failure = event.get("failure") if step == "record_failure" else None
    source = failure if isinstance(failure, Mapping) else event
    submission_id = source.get("submission_id")
    if not isinstance(submission_id, str) or not submission_id:
        raise InvalidInput("submission_id: is required", field="submission_id")
    identity = event.get("identity")
    if step == "reconcile" and not isinstance(identity, Mapping):
        raise InvalidInput("identity: the identity check's output is required", field="identity")
    return StepRequest(
        step=step,
        submission_id=submission_id,
        execution=str(event.get("execution") or ""),
        identity=identity if isinstance(identity, Mapping) else None,
        failure=failure if isinstance(failure, Mapping) else None,
    )


class IssuanceSteps:
    """The steps function's domain: its stores and settings, and one :meth:`run` per task.

    Parameters
    ----------
    store
        The submissions.
    catalogue
        The forms.
    requester
        Makes presentation requests; a callable, so that the verifier's signer (KMS, SSM,
        ``cryptography``) is built only by the step that needs it.
    issuers
        The issuers whose resident credentials are asked for (the verifier's trusted ones).
    base_url
        The API's public base URL: the request object's and the response's URIs are under it.
    """

    def __init__(
        self,
        store: SubmissionStore,
        catalogue: Catalogue,
        requester: Callable[[], PresentationRequester],
        *,
        issuers: tuple[str, ...],
        base_url: str,
    ) -> None:
        self.store = store
        self.catalogue = catalogue
        self.requester = requester
        self.issuers = issuers
        self.base_url = base_url

    def run(self, request: StepRequest, now: datetime) -> dict[str, Any]:
        """Run one step; its output is what the state machine keeps (ids, never the form)."""
        if request.step == "request_identity":
            return request_identity(
                self.store,
                self.requester(),
                self.catalogue,
                request.submission_id,
                execution=request.execution,
                issuers=self.issuers,
                base_url=self.base_url,
                now=now,
            )
        if request.step == "reconcile":
            assert request.identity is not None  # parse_step requires it
            return reconcile_identity(
                self.store, self.catalogue, request.submission_id, request.identity, now=now
            )
        if request.step == "queue":
            queue_submission(self.store, request.submission_id, now=now)
            return {"submission_id": request.submission_id}
        assert request.failure is not None  # parse_step requires it
        recorded = record_failure(self.store, request.failure, now)
        return {"submission_id": recorded.submission_id, "state": recorded.state}
