"""What every route group shares: the request, its caller and format, and the answers.

Domain errors become HTTP statuses in one place, :func:`answer`; every error body is Open311's
``[{code, description}]``, in XML (``<errors><error>...``) when the request asked for a ``.xml``
document.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

from chalice import Blueprint, Response
from chalice.app import Request

from chalicelib import resources
from gyeonggi.auth import Principal
from gyeonggi.common.errors import InvalidInput, UnsupportedFormat
from gyeonggi.common.http import answering
from gyeonggi.common.messages import MAX_REQUEST_BYTES, form_body, json_body
from gyeonggi.common.observability import observability
from gyeonggi.complaints import open311

logger, tracer, metrics = observability()

# Registered by app.py with the route groups but routing nothing: through it the helpers here
# read the request being answered, whichever group's view is running.
blueprint = Blueprint(__name__)

_JSON = {"Content-Type": "application/json; charset=utf-8"}
# ------------------------------------------------------------------ errors


# Domain errors to HTTP in one place (gyeonggi.common.http), in Open311's error body and the
# format the request asked for; anything else is a 500 that is logged, never shown.
answer = answering(lambda e: _errors(e.status, e.description, e.headers), logger, metrics)


def _errors(status: int, message: str, headers: Mapping[str, str] | None = None) -> Response:
    # Open311 answers errors in the format the client asked for by the file extension.
    return open311_document(
        requested_format(), "errors", open311.errors(status, message), status, headers
    )


# ------------------------------------------------------------------ the request


def request() -> Request:
    """The request being answered."""
    return blueprint.current_request


def query() -> dict[str, str]:
    """The query string's parameters."""
    params: Any = request().query_params or {}
    # A repeated parameter counts once, its last value, as API Gateway's single-value map.
    return {name: params[name] for name in params}


def requested_format() -> open311.Format:
    """``json`` or ``xml``: the extension of the literal route that was called."""
    path = str((request().context or {}).get("path") or "")
    return "xml" if path.endswith(".xml") else "json"


def accepted(*types: str) -> str:
    """The request's content type if the view reads it; a missing one counts as the first."""
    given = request().headers.get("content-type", "").split(";")[0].strip().lower()
    if not given:
        return types[0]
    if given not in types:
        raise UnsupportedFormat(f"Content-Type {given}: send {' or '.join(types)}")
    return given


def principal(*roles: str) -> Principal:
    """The bearer token's verified caller, who must hold one of ``roles``."""
    return resources.verifier().require(request().headers.get("authorization"), *roles)


def body_json() -> Any:
    """The body, parsed as JSON within ``MAX_REQUEST_BYTES`` and ``MAX_DEPTH`` (413 or 400)."""
    return json_body(request().raw_body or b"", limit=MAX_REQUEST_BYTES, what="body")


def body_object() -> dict[str, Any]:
    """The JSON body, which must be an object."""
    body = body_json()
    if not isinstance(body, dict):
        raise InvalidInput("body: must be a JSON object")
    return body


def body_form() -> dict[str, list[str]]:
    """The body, parsed as an ``application/x-www-form-urlencoded`` form within
    ``MAX_REQUEST_BYTES`` (413 or 400)."""
    return form_body(request().raw_body or b"", limit=MAX_REQUEST_BYTES)


# ------------------------------------------------------------------ answers


def json_response(
    body: Any, status: int = 200, headers: Mapping[str, str] | None = None
) -> Response:
    """``body`` as UTF-8 JSON (Korean kept as is, not escaped)."""
    merged: dict[str, str | list[str]] = {**_JSON, **(headers or {})}
    return Response(
        body=json.dumps(body, ensure_ascii=False),
        status_code=status,
        headers=merged,
    )


def open311_document(
    fmt: open311.Format,
    kind: str,
    data: Any,
    status: int = 200,
    headers: Mapping[str, str] | None = None,
) -> Response:
    """Open311 document ``kind`` in format ``fmt``."""
    body, content_type = open311.render(fmt, kind, data)
    merged: dict[str, str | list[str]] = {"Content-Type": content_type, **(headers or {})}
    return Response(body=body, status_code=status, headers=merged)
