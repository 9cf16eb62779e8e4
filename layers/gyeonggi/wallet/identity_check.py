"""The identity-check step other workflows call: a presentation request's result, or a typed
error a state machine can catch.

Input ``{"request_id": "..."}`` (the id ``POST /verifier/requests`` answered). Output, when the
person's wallet answered and every check passed::

    {"request_id": "...", "status": "verified", "verified_at": "<ISO 8601>",
     "credentials": {"<credential query id>": [{"issuer", "vct", "claims": {...}}]}}

Otherwise the task fails with one of these errors (the Lambda error type, which Step Functions
matches in ``Retry`` and ``Catch``); the ``Cause``'s ``errorMessage`` is JSON
``{"request_id", "reason", "message"}`` (``reason`` only for a failed check):

- ``IdentityCheckPending``: not answered yet. Retry it (the example state machine polls with
  bounded retries).
- ``IdentityCheckFailed``: answered, and the presentation did not verify (``reason`` says why:
  ``kb_nonce``, ``revoked``, ``dcql_unsatisfied``...). Final.
- ``IdentityCheckExpired``: nobody answered within the request's lifetime. Final.
- ``IdentityCheckNotFound``: no such request, or its result is past its retention. Final.
- ``IdentityCheckInvalidInput``: the input is not ``{"request_id": "<string>"}``. Final.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from datetime import datetime
from typing import Any

from gyeonggi.common.errors import DomainError, InvalidInput, NotFound
from gyeonggi.wallet.presentation_requests import (
    PresentationRequests,
    RequestStatus,
    is_request_id,
)


class IdentityCheckError(DomainError):
    """Base of the identity check's errors: their message is JSON for the workflow."""

    code = "identity_check"

    def __init__(self, request_id: str, message: str, reason: str | None = None) -> None:
        detail: dict[str, Any] = {"request_id": request_id, "message": message}
        if reason is not None:
            detail["reason"] = reason
        super().__init__(json.dumps(detail, ensure_ascii=False))
        self.request_id = request_id
        self.reason = reason


class IdentityCheckPending(IdentityCheckError):
    """The person has not answered yet (retry)."""


class IdentityCheckFailed(IdentityCheckError):
    """The answer did not verify (final; ``reason`` says why)."""


class IdentityCheckExpired(IdentityCheckError):
    """Nobody answered within the request's lifetime (final)."""


class IdentityCheckNotFound(IdentityCheckError):
    """No such request, or it is past its retention (final)."""


class IdentityCheckInvalidInput(IdentityCheckError):
    """The task's input is not ``{"request_id": "..."}`` (final)."""


#: The error names a workflow may Catch, as docs/WALLET_VERIFIER.md lists them.
ERRORS = (
    "IdentityCheckPending",
    "IdentityCheckFailed",
    "IdentityCheckExpired",
    "IdentityCheckNotFound",
    "IdentityCheckInvalidInput",
)


def check_identity(
    task_input: Any, requests: PresentationRequests, now: datetime
) -> dict[str, Any]:
    """The verified claims of the request named in ``task_input``.

    Raises
    ------
    IdentityCheckError
        One of the subclasses above.
    """
    request_id = task_input.get("request_id") if isinstance(task_input, Mapping) else None
    if not isinstance(request_id, str) or not request_id:
        raise IdentityCheckInvalidInput("", 'the input must be {"request_id": "<id>"}')
    if not is_request_id(request_id):
        raise IdentityCheckNotFound(request_id[:40], "no such presentation request")
    try:
        request = requests.get(request_id)
    except (NotFound, InvalidInput):
        raise IdentityCheckNotFound(request_id, "no such presentation request") from None
    status = request.status(now)
    if status is RequestStatus.PENDING:
        raise IdentityCheckPending(request_id, "the person has not presented a credential yet")
    if status is RequestStatus.EXPIRED:
        raise IdentityCheckExpired(request_id, "nobody presented a credential in time")
    outcome = request.outcome
    assert outcome is not None and request.answered_at is not None
    if not outcome.verified:
        raise IdentityCheckFailed(request_id, str(outcome.message), outcome.reason)
    return {
        "request_id": request_id,
        "status": RequestStatus.VERIFIED.value,
        "verified_at": request.answered_at.isoformat(),
        "credentials": outcome.to_json()["credentials"],
    }
