"""Domain errors. Domain code raises these; one module per entry point maps them to a response.

Each error carries a stable ``code`` so callers never need to match on message text.
"""

from __future__ import annotations

from collections.abc import Mapping


class DomainError(Exception):
    """Base class of every error the domain raises on purpose."""

    code = "domain_error"

    def __init__(self, message: str, *, field: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.field = field


class InvalidInput(DomainError):
    """The caller sent something we cannot accept (HTTP 400)."""

    code = "invalid_input"


class ContentTooLarge(InvalidInput):
    """A body past the size the entry point reads (HTTP 413).

    An ``InvalidInput`` too: a queue consumer fails such a record like any other malformed one.
    """

    code = "content_too_large"


class UnsupportedFormat(DomainError):
    """The request is in a format this operation does not read (HTTP 415)."""

    code = "unsupported_format"


class Unauthenticated(DomainError):
    """No credentials, or credentials that do not verify (HTTP 401)."""

    code = "unauthenticated"


class Forbidden(DomainError):
    """Valid credentials without the required role or scope (HTTP 403)."""

    code = "forbidden"


class NotFound(DomainError):
    """The thing asked for does not exist, or not yet (HTTP 404)."""

    code = "not_found"


class Conflict(DomainError):
    """The request contradicts the current state (HTTP 409)."""

    code = "conflict"


class Unavailable(DomainError):
    """Something the request needs could not be reached: our fault, worth a retry (HTTP 503)."""

    code = "unavailable"


# The first type an error is an instance of decides: a subclass before its base.
HTTP_STATUS: Mapping[type[DomainError], int] = {
    ContentTooLarge: 413,
    InvalidInput: 400,
    Unauthenticated: 401,
    Forbidden: 403,
    NotFound: 404,
    Conflict: 409,
    UnsupportedFormat: 415,
    Unavailable: 503,
}


def http_status(
    exc: DomainError, also: Mapping[type[DomainError], int] | None = None
) -> int | None:
    """The HTTP status of ``exc`` (an entry point's own ``also`` first), or None when it has none:
    an unmapped domain error is a bug the entry point logs and answers with 500."""
    for kinds in (also or {}, HTTP_STATUS):
        for kind, status in kinds.items():
            if isinstance(exc, kind):
                return status
    return None
