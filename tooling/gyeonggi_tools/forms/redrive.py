"""Redrive: restart submitted forms whose issuance workflow failed, from where it failed.

A workflow whose task fails after its retries records the failure on the submission (state
``failed``, with the step, the kind and the error) and puts it on
``FormIssuanceFailureQueue``, whose alarm pages the operators. Once the cause is fixed,
``gyeonggi forms redrive`` takes the queue's messages and then sweeps the table itself, so a
failure whose message is gone (or was never sent) is found too:

- a ``failed`` submission gets a new execution, ``{submission_id}-r{n}`` for its n-th redrive,
  that resumes where it failed (:func:`gyeonggi.forms.issuance.resume_point`): the render,
  the queue, the identity check (its result is kept an hour), or a new presentation request;
- a submission still ``received`` long after it was confirmed (its workflow never started,
  and even recording that failed) is started as if new;
- failures on the person's side (not presented in time, not verified, not matching) are left
  alone unless asked (``--identity``, or ``--submission`` for one form): a restart makes a new
  presentation request the citizen must answer within its ten minutes.

The execution starts before the submission records its number; a redrive that stopped between
the two is finished by the next one, which finds the same execution by its name (Step
Functions refuses a second one). An execution still running is never doubled. A message is
deleted once its submission is restarted or needs nothing (queued, decided, in progress);
anything else stays on the queue, with the reason in the report.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from typing import Any, Literal

from gyeonggi.common.errors import DomainError, InvalidInput
from gyeonggi.forms.issuance import (
    WorkflowGateway,
    execution_input,
    failure_of,
    resume_point,
)
from gyeonggi.forms.submissions import (
    QUEUED,
    Failure,
    Submission,
    SubmissionStore,
    update,
)

Outcome = Literal["restarted", "not_failed", "running", "identity", "left"]
#: A submission still ``received`` this long after it was stored never started.
STALE_AFTER = timedelta(minutes=15)
_REDRIVE_SUFFIX = re.compile(r"-r([0-9]+)$")


@dataclass(frozen=True, slots=True)
class Redriven:
    """What became of one submission (or message). ``detail``: the new execution and where it
    resumes, or why nothing was done."""

    submission_id: str | None
    outcome: Outcome
    detail: str = ""

    def as_dict(self) -> dict[str, Any]:
        return {
            "submission_id": self.submission_id,
            "outcome": self.outcome,
            "detail": self.detail,
        }


def _redrive_number(name: str | None) -> int:
    match = _REDRIVE_SUFFIX.search(name or "")
    return int(match.group(1)) if match else 0


def restart(
    store: SubmissionStore,
    workflow: WorkflowGateway,
    submission_id: str,
    now: datetime,
    *,
    reported: Failure | None = None,
    include_identity: bool = False,
) -> Redriven:
    """Start a new execution for a failed submission, resuming where it failed.

    Parameters
    ----------
    reported
        The failure a queue message describes, for a submission whose own record of it could
        not be written.
    include_identity
        Restart failures on the person's side too (a new presentation request).

    Raises
    ------
    NotFound
        No such submission.
    """
    submission = store.get(submission_id)
    if submission.state in QUEUED:
        return Redriven(submission_id, "not_failed", f"it is {submission.state}")
    if submission.execution and workflow.status(submission.execution) == "RUNNING":
        return Redriven(submission_id, "running", f"execution {submission.execution} is running")
    failure = _failure(submission, reported, now)
    if failure is None:
        return Redriven(submission_id, "not_failed", f"it is {submission.state}")
    if failure.kind == "identity" and not include_identity:
        return Redriven(
            submission_id,
            "identity",
            f"the person's side ({failure.reason}); restart with --identity or --submission",
        )
    number = 1 + max(
        submission.redrives,
        _redrive_number(failure.execution),
        _redrive_number(submission.execution),
    )
    name = f"{submission_id}-r{number}"
    resume = resume_point(failure)
    request = submission.identity_request
    if resume == "check_identity" and request is None:
        resume = "request_identity"
    workflow.start(
        name,
        execution_input(
            submission_id,
            resume,
            request.request_id if resume == "check_identity" and request else None,
        ),
    )

    def record(current: Submission) -> Submission:
        if current.redrives >= number:
            return current  # an earlier redrive of this number recorded it
        # The TTL an identity failure set would delete a form being redriven.
        return replace(current, redrives=number, expires_at=None)

    update(store, submission_id, record)
    return Redriven(submission_id, "restarted", f"{name} from {resume}")


def _failure(submission: Submission, reported: Failure | None, now: datetime) -> Failure | None:
    if submission.state == "failed" and submission.failure is not None:
        return submission.failure
    if reported is not None:
        return reported
    if submission.state == "received" and now - submission.updated_at >= STALE_AFTER:
        # Confirmed, and its workflow never started: start it as if new.
        return Failure("start", "error", "NeverStarted", None, "", now)
    return None


def submission_of(body: str, now: datetime) -> tuple[str, Failure | None]:
    """The submission a failure message is about, and the failure it describes (if it can be
    read: a message of the dialogue's or the workflow's failure states).

    Raises
    ------
    ValueError
        The body names no submission.
    """
    try:
        data = json.loads(body)
    except json.JSONDecodeError as exc:
        raise ValueError(f"the message is not JSON ({exc.msg})") from None
    submission_id = data.get("submission_id") if isinstance(data, dict) else None
    if not isinstance(submission_id, str) or not submission_id:
        raise ValueError("the message names no submission_id")
    try:
        return submission_id, failure_of(data, now)
    except InvalidInput:
        return submission_id, None


def _redrive_one(
    body: str,
    store: SubmissionStore,
    workflow: WorkflowGateway,
    now: datetime,
    include_identity: bool,
) -> Redriven:
    try:
        submission_id, reported = submission_of(body, now)
    except ValueError as exc:
        return Redriven(None, "left", str(exc))
    return _safely(
        submission_id,
        lambda: restart(
            store,
            workflow,
            submission_id,
            now,
            reported=reported,
            include_identity=include_identity,
        ),
    )


def redrive_submission(
    store: SubmissionStore, workflow: WorkflowGateway, submission_id: str, now: datetime
) -> Redriven:
    """Restart one named submission, whatever failed (a citizen at the counter asking again);
    an error is reported as ``left``, never raised."""
    return _safely(
        submission_id,
        lambda: restart(store, workflow, submission_id, now, include_identity=True),
    )


def _safely(submission_id: str, run: Any) -> Redriven:
    try:
        result: Redriven = run()
        return result
    except DomainError as exc:  # NotFound, a conflict that kept losing: waits for a person
        return Redriven(submission_id, "left", exc.message)
    except Exception as exc:  # an AWS error: the message stays for the next redrive
        return Redriven(submission_id, "left", f"{type(exc).__name__}: {exc}")


def redrive_queue(
    sqs: Any,
    queue_url: str,
    store: SubmissionStore,
    workflow: WorkflowGateway,
    now: datetime,
    *,
    limit: int = 100,
    include_identity: bool = False,
) -> list[Redriven]:
    """Take up to ``limit`` messages off the failure queue and restart their submissions."""
    results: list[Redriven] = []
    while len(results) < limit:
        messages = sqs.receive_message(
            QueueUrl=queue_url,
            MaxNumberOfMessages=min(10, limit - len(results)),
            VisibilityTimeout=60,
            WaitTimeSeconds=0,
        ).get("Messages", [])
        if not messages:
            break
        for message in messages:
            result = _redrive_one(message["Body"], store, workflow, now, include_identity)
            if result.outcome != "left":
                sqs.delete_message(QueueUrl=queue_url, ReceiptHandle=message["ReceiptHandle"])
            results.append(result)
    return results


def sweep(
    store: SubmissionStore,
    workflow: WorkflowGateway,
    now: datetime,
    *,
    limit: int = 100,
    include_identity: bool = False,
    done: frozenset[str] = frozenset(),
) -> list[Redriven]:
    """Restart ``failed`` submissions, and ``received`` ones that never started, read from the
    table's state index (what the queue may have missed); ``done``: ids already handled."""
    results: list[Redriven] = []
    for state in ("failed", "received"):
        after: str | None = None
        for _ in range(1000):  # pages, bounded: 1000 pages of 100 is far past any backlog
            page = store.in_state(state, min(100, limit), after)
            for submission in page.submissions:
                if len(results) >= limit:
                    return results
                if submission.submission_id in done:
                    continue
                if state == "received" and now - submission.updated_at < STALE_AFTER:
                    continue  # starting now, as it should
                failure = submission.failure
                if failure and failure.kind == "identity" and not include_identity:
                    continue  # the person's side: not the operators' to restart
                results.append(
                    _safely(
                        submission.submission_id,
                        lambda s=submission: restart(
                            store, workflow, s.submission_id, now, include_identity=True
                        ),
                    )
                )
            after = page.after
            if after is None:
                break
    return results
