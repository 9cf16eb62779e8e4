"""Issuance: a confirmed form handed to the ``form-issuance`` workflow, and its failures kept.

The workflow (``statemachines/form_issuance.asl.json``) runs the steps of
:mod:`gyeonggi.forms.issuance_steps` and :mod:`gyeonggi.forms.rendering`: a presentation
request for what the form needs, the wallet's identity check, the claims reconciled with the
form, the PDF and JSON stored encrypted, the civil servants' queue. This module starts it and
records why it stopped:

- :class:`IssuanceWorkflow` starts an execution named after the submission (``FA-x``; a
  redrive's ``FA-x-r<n>``), so asking twice never issues twice: Step Functions refuses a second
  execution of the same name, and that refusal is taken as "already started".
- :class:`Issuance` is what the dialogue calls once a session is confirmed (its submission is
  already stored, in the same transaction): start the workflow, and if that fails, record the
  failure on the submission (step ``start``) and on the failure queue, so that ``gyeonggi
  forms redrive`` starts it later. The citizen's confirmation never fails for it.
- :func:`record_failure` is the workflow's last step when another failed: the submission
  becomes ``failed`` with the step, the kind (the person's ``identity`` or the system's
  ``error``) and the error, and an identity failure gets its reason code.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import replace
from datetime import datetime
from typing import Any, Literal, Protocol

from gyeonggi.common.aws import AwsClient
from gyeonggi.common.errors import InvalidInput
from gyeonggi.common.privacy import mask_rrns
from gyeonggi.forms.submissions import (
    IDENTITY_FAILURE_RETENTION,
    QUEUED,
    STEPS,
    Failure,
    FailureKind,
    Submission,
    SubmissionStore,
    update,
)

#: The identity-check task's errors (``gyeonggi.wallet.identity_check``) and the reason the
#: citizen is shown for each; ``IdentityCheckFailed`` and ``IdentityMismatch`` carry their own.
IDENTITY_REASONS: Mapping[str, str] = {
    "IdentityCheckPending": "not_presented",
    "IdentityCheckExpired": "not_presented",
    "IdentityCheckFailed": "not_verified",
    "IdentityCheckNotFound": "request_unknown",
    "IdentityCheckInvalidInput": "request_unknown",
    "IdentityMismatch": "mismatch",
}
#: The longest error text kept for operators.
MAX_MESSAGE = 300

StartOutcome = Literal["started", "recorded", "unrecorded"]
"""``started``; ``recorded``: not started, and the failure is on the submission and/or the
failure queue; ``unrecorded``: neither could be written, and the submission stays
``received`` (``gyeonggi forms redrive --stale`` finds it)."""


class IssuanceStarter(Protocol):
    """Hands a stored submission to its workflow (what the dialogue needs of issuance)."""

    def start(self, submission: Submission, now: datetime) -> StartOutcome:
        """Start the submission's workflow. Never raises: a workflow that could not be started
        is recorded for a redrive (see :class:`Issuance`)."""
        ...


class WorkflowGateway(Protocol):
    """Starts executions of the issuance state machine; keeps failures for operators."""

    def start(self, name: str, payload: Mapping[str, Any]) -> str:
        """Start execution ``name`` with ``payload``; the existing one's ARN if it exists."""
        ...

    def report(self, message: Mapping[str, Any]) -> None:
        """Put ``message`` on the failure queue (its alarm pages the operators)."""
        ...

    def status(self, name: str) -> str | None:
        """The status of execution ``name`` (``RUNNING``, ``FAILED``...), ``None`` if none."""
        ...


class IssuanceWorkflow:
    """The ``form-issuance`` state machine and its failure queue.

    Parameters
    ----------
    state_machine_arn
        The state machine.
    failure_queue_url
        Where failed executions' inputs wait for ``gyeonggi forms redrive``.
    """

    sfn = AwsClient("stepfunctions")
    sqs = AwsClient("sqs")

    def __init__(
        self,
        state_machine_arn: str,
        failure_queue_url: str,
        sfn: Any | None = None,
        sqs: Any | None = None,
    ) -> None:
        self.state_machine_arn = state_machine_arn
        self.failure_queue_url = failure_queue_url
        if sfn is not None:
            self.sfn = sfn
        if sqs is not None:
            self.sqs = sqs

    def start(self, name: str, payload: Mapping[str, Any]) -> str:
        try:
            answer = self.sfn.start_execution(
                stateMachineArn=self.state_machine_arn, name=name, input=json.dumps(payload)
            )
            return str(answer["executionArn"])
        except self.sfn.exceptions.ExecutionAlreadyExists:
            prefix = self.state_machine_arn.replace(":stateMachine:", ":execution:")
            return f"{prefix}:{name}"

    def report(self, message: Mapping[str, Any]) -> None:
        self.sqs.send_message(
            QueueUrl=self.failure_queue_url, MessageBody=json.dumps(message, ensure_ascii=False)
        )

    def status(self, name: str) -> str | None:
        arn = self.state_machine_arn.replace(":stateMachine:", ":execution:") + f":{name}"
        try:
            return str(self.sfn.describe_execution(executionArn=arn)["status"])
        except self.sfn.exceptions.ExecutionDoesNotExist:
            return None


def execution_input(
    submission_id: str, resume_from: str | None = None, request_id: str | None = None
) -> dict[str, Any]:
    """The workflow's input: the submission (its data stays in the table, not in the
    execution's history), and for a redrive the step to resume from."""
    payload: dict[str, Any] = {"submission_id": submission_id}
    if resume_from is not None:
        payload["resume_from"] = resume_from
    if request_id is not None:
        payload["request_id"] = request_id
    return payload


class Issuance:
    """:class:`IssuanceStarter` over the submission store and the workflow."""

    def __init__(self, store: SubmissionStore, workflow: WorkflowGateway) -> None:
        self.store = store
        self.workflow = workflow

    def start(self, submission: Submission, now: datetime) -> StartOutcome:
        name = submission.submission_id
        try:
            self.workflow.start(name, execution_input(name))
            return "started"
        except Exception as exc:  # any failure to start: kept for a redrive, never raised
            error = {"Error": type(exc).__name__, "Cause": str(exc)[:MAX_MESSAGE]}
        failure = {
            "submission_id": name,
            "step": "start",
            "kind": "error",
            "error": error,
            "execution": None,
        }
        kept = False
        try:
            record_failure(self.store, failure, now)
            kept = True
        except Exception:  # the table may be what failed; the queue's copy still pages
            pass
        try:
            self.workflow.report(failure)
            kept = True
        except Exception:
            pass
        return "recorded" if kept else "unrecorded"


# ---------------------------------------------------------------------------- failures


def _cause(error: Mapping[str, Any]) -> tuple[str, dict[str, Any]]:
    """The error's message and, when the message is JSON (the identity errors'), its data."""
    raw = error.get("Cause")
    message = ""
    if isinstance(raw, str):
        message = raw
        try:
            cause = json.loads(raw)
            if isinstance(cause, dict) and isinstance(cause.get("errorMessage"), str):
                message = cause["errorMessage"]
        except ValueError:
            pass
    try:
        detail = json.loads(message)
    except ValueError:
        detail = None
    return message, detail if isinstance(detail, dict) else {}


def failure_of(data: Mapping[str, Any], now: datetime) -> Failure:
    """The :class:`Failure` a workflow's failure state describes.

    ``data`` is ``{"submission_id", "step", "kind", "error": {"Error", "Cause"}, "execution"}``,
    as the state machine's failure states build it.

    Raises
    ------
    InvalidInput
        ``data`` is not such an object.
    """
    step, kind, error = data.get("step"), data.get("kind"), data.get("error")
    if step not in STEPS:
        raise InvalidInput(f"step: must be one of {', '.join(STEPS)}", field="step")
    if kind not in ("identity", "error"):
        raise InvalidInput('kind: must be "identity" or "error"', field="kind")
    if not isinstance(error, Mapping):
        raise InvalidInput("error: must be Step Functions' {Error, Cause}", field="error")
    name = str(error.get("Error") or "Unknown")[:100]
    message, detail = _cause(error)
    reason: str | None = None
    if kind == "identity":
        reason = IDENTITY_REASONS.get(name, "not_verified")
        if name in ("IdentityCheckFailed", "IdentityMismatch") and isinstance(
            detail.get("reason"), str
        ):
            reason = detail["reason"][:64]
        if isinstance(detail.get("message"), str):
            message = detail["message"]
    execution = data.get("execution")
    typed_kind: FailureKind = "identity" if kind == "identity" else "error"
    return Failure(
        step=str(step),
        kind=typed_kind,
        error=name,
        reason=reason,
        message=mask_rrns(message)[:MAX_MESSAGE],
        at=now,
        execution=str(execution) if isinstance(execution, str) else None,
    )


def record_failure(store: SubmissionStore, data: Mapping[str, Any], now: datetime) -> Submission:
    """Mark the submission ``failed`` as ``data`` says (see :func:`failure_of`).

    A submission already on the civil servants' queue or decided is left alone: whatever failed
    after that (a repeated step of an old execution) changed nothing that matters.
    """
    submission_id = data.get("submission_id")
    if not isinstance(submission_id, str):
        raise InvalidInput("submission_id: is required", field="submission_id")
    failure = failure_of(data, now)

    def change(current: Submission) -> Submission:
        if current.state in QUEUED:
            return current
        ttl = now + IDENTITY_FAILURE_RETENTION if failure.kind == "identity" else None
        return replace(
            current.moved("failed", now, failure=failure),
            expires_at=ttl,
            execution=failure.execution or current.execution,
        )

    return update(store, submission_id, change)


#: Where a redrive resumes after a failure at each step: the identity check resumes at the
#: check (its result is kept an hour) or, for a failure on the person's side, with a new
#: presentation request; the rest at their own step.
RESUME_AT: Mapping[tuple[str, str], str] = {
    ("start", "error"): "request_identity",
    ("request_identity", "error"): "request_identity",
    ("check_identity", "error"): "check_identity",
    ("check_identity", "identity"): "request_identity",
    ("reconcile", "error"): "check_identity",
    ("reconcile", "identity"): "request_identity",
    ("render", "error"): "render",
    ("queue", "error"): "queue",
}


def resume_point(failure: Failure) -> str:
    """The step a redrive of ``failure`` starts at."""
    return RESUME_AT.get((failure.step, failure.kind), "request_identity")
