"""What every HTTP function answers alike, whatever routes it (Chalice or Powertools' resolver).

- Errors: a domain error's status (:func:`gyeonggi.common.errors.http_status`) and message in the
  API's body ``[{code, description}]``, a bearer challenge with a 401; anything else, and a
  domain error with no status (a bug of ours), is a 500 that is logged and never shown.
- A JSON request body read from an API Gateway proxy event, with the one size limit.

Each function shapes the answer in its own framework's response; what goes in it is decided
here once.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from functools import wraps
from typing import TYPE_CHECKING, Any, ParamSpec, TypeVar

from gyeonggi.common.errors import DomainError, UnsupportedFormat, http_status
from gyeonggi.common.messages import MAX_REQUEST_BYTES, json_body, proxy_body

if TYPE_CHECKING:
    from aws_lambda_powertools import Logger, Metrics

JSON = "application/json"
INTERNAL_ERROR = "internal error; it has been logged"
BEARER_CHALLENGE: Mapping[str, str] = {"WWW-Authenticate": 'Bearer realm="gyeonggi"'}
# Per-caller data (a session, a queue, query results): never cached by a browser or a proxy.
PRIVATE: Mapping[str, str] = {"Cache-Control": "no-store", "Vary": "Authorization"}
# Chalice answers a content type a route does not list in its own error shape; routes list every
# usual type and check in the view, so a 415 looks like every other error of the API.
ANY_BODY = [
    "application/json",
    "application/x-www-form-urlencoded",
    "multipart/form-data",
    "text/plain",
    "text/xml",
    "application/xml",
    "application/octet-stream",
]

P = ParamSpec("P")
R = TypeVar("R")


@dataclass(frozen=True)
class ErrorAnswer:
    """The status, message and headers of an error's answer."""

    status: int
    description: str
    headers: Mapping[str, str] = field(default_factory=dict)

    @property
    def body(self) -> list[dict[str, Any]]:
        """The API's error body (Open311's shape, which every route uses)."""
        return [{"code": self.status, "description": self.description}]


def error_answer(exc: BaseException, logger: Logger, metrics: Metrics) -> ErrorAnswer:
    """The answer to what a view raised, logged and counted (``Http<status>``)."""
    status = http_status(exc) if isinstance(exc, DomainError) else None
    if status is None:
        what = "unmapped domain error" if isinstance(exc, DomainError) else "unhandled error"
        logger.exception(what, exc_info=exc)
        answer = ErrorAnswer(500, INTERNAL_ERROR)
    else:
        assert isinstance(exc, DomainError)  # a status is only ever found for one
        if status >= 500:  # something we depend on is down: ours to look at, worth a retry
            logger.error("dependency unavailable", extra={"error": exc.code, "reason": exc.message})
        answer = ErrorAnswer(status, exc.message, BEARER_CHALLENGE if status == 401 else {})
    metrics.add_metric(name=f"Http{answer.status}", unit="Count", value=1)
    return answer


def answering(
    respond: Callable[[ErrorAnswer], R], logger: Logger, metrics: Metrics
) -> Callable[[Callable[P, R]], Callable[P, R]]:
    """A decorator for a view: whatever it raises is answered by ``respond`` (for frameworks
    without exception handlers of their own, such as Chalice)."""

    def decorate(view: Callable[P, R]) -> Callable[P, R]:
        @wraps(view)
        def wrapped(*args: P.args, **kwargs: P.kwargs) -> R:
            try:
                return view(*args, **kwargs)
            except Exception as exc:
                return respond(error_answer(exc, logger, metrics))

        return wrapped

    return decorate


def json_request_body(
    content_type: str | None, body: str | None, *, base64_encoded: bool | None
) -> Any:
    """A proxy event's body as JSON.

    Raises
    ------
    UnsupportedFormat
        A content type other than JSON (none given counts as JSON).
    InvalidInput
        A body that is no JSON, or larger than ``MAX_REQUEST_BYTES``.
    """
    given = (content_type or JSON).split(";")[0].strip().lower()
    if given != JSON:
        raise UnsupportedFormat(f"Content-Type {given}: send {JSON}")
    data = proxy_body(body, base64_encoded=base64_encoded)
    return json_body(data, limit=MAX_REQUEST_BYTES, what="body")
