"""Submitted petition forms for the civil servants who decide them and the citizens who filed
them (issue 11, section 4): ``/forms/submissions*``.

- ``GET /forms/submissions``: the queue of the caller's jurisdictions (civil servants);
- ``GET /forms/submissions/{submission_id}``: one submission, for a civil servant of its
  jurisdiction (with five-minute links to the official PDF and JSON, RRNs in full) or for its
  owner (where it is, the wallet request to answer with its QR code, a fifteen-minute link to
  their copy, RRNs masked, and the decision);
- ``POST /forms/submissions/{submission_id}/decision``: approve, or reject with a reason; once.

A function of its own: the only one that may read the forms bucket (its role signs the
presigned links), and it writes nothing there; the dialogue function keeps its sessions and
this one never sees them. Domain errors become HTTP statuses in one place, :func:`answer`, in
the API's error body (``[{code, description}]``). Every document link given out is logged with
who asked and why (an audit of who could read an RRN).
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from functools import cache
from typing import Any

from aws_lambda_powertools.logging import correlation_paths
from chalice import Chalice, Response

from gyeonggi.auth import CITIZEN, KIOSK, AuthSettings, TokenVerifier
from gyeonggi.auth.tokens import Principal
from gyeonggi.common import clock
from gyeonggi.common.errors import UnsupportedFormat
from gyeonggi.common.http import ANY_BODY, PRIVATE, answering
from gyeonggi.common.messages import MAX_REQUEST_BYTES, json_body
from gyeonggi.common.observability import observability
from gyeonggi.forms.catalogue import catalogue
from gyeonggi.forms.document_store import S3Documents
from gyeonggi.forms.sessions import KEY_HEADER, Caller
from gyeonggi.forms.submission_access import (
    ListRequest,
    citizen_view,
    decide,
    list_submissions,
    official_view,
    parse_decision,
    read_submission,
    summary_view,
)
from gyeonggi.forms.submissions import DynamoSubmissionStore

logger, tracer, metrics = observability()


class SubmissionsSettings(AuthSettings):
    form_submissions_table: str
    forms_bucket: str


settings = SubmissionsSettings.from_env()
app = Chalice(app_name="gyeonggi-form-submissions")


@cache
def verifier() -> TokenVerifier:
    return TokenVerifier.from_settings(settings)


@cache
def store() -> DynamoSubmissionStore:
    return DynamoSubmissionStore(settings.form_submissions_table)


@cache
def documents() -> S3Documents:
    return S3Documents(settings.forms_bucket)


_JSON = {"Content-Type": "application/json; charset=utf-8"}
# Personal data, links that expire, a state that changes: never cached.
_PRIVATE = {**PRIVATE, "Vary": "Authorization, X-Session-Key"}


def _json(body: Any, status: int = 200, headers: Mapping[str, str] | None = None) -> Response:
    merged: dict[str, str | list[str]] = {**_JSON, **(headers or {})}
    return Response(json.dumps(body, ensure_ascii=False), status_code=status, headers=merged)


# Domain errors to HTTP, in one place (gyeonggi.common.http).
answer = answering(lambda e: _json(e.body, e.status, e.headers), logger, metrics)


def _headers() -> Any:
    request = app.current_request
    return request.headers if request is not None else {}


def principal(*roles: str) -> tuple[Principal, Caller | None]:
    """The verified caller, who must hold one of ``roles``, and the owner they may be: a
    citizen, or a kiosk with the session key it was given (``X-Session-Key``)."""
    headers = _headers()
    verified = verifier().require(headers.get("authorization"), *roles)
    owner = None
    if verified.has_any_role(CITIZEN):
        owner = Caller("citizen", verified.subject)
    elif verified.has_any_role(KIOSK):
        owner = Caller("kiosk", verified.subject, headers.get(KEY_HEADER.lower()))
    return verified, owner


def accepted(*types: str) -> None:
    """Refuse a body of another content type (a missing one counts as JSON)."""
    given = _headers().get("content-type", "").split(";")[0].strip().lower()
    if given and given not in types:
        raise UnsupportedFormat(f"Content-Type {given}: send {' or '.join(types)}")


def body_json() -> Any:
    """The JSON body within the API's limits (413, 400), or ``None`` when there is none."""
    request = app.current_request
    raw = (request.raw_body if request is not None else b"") or b""
    return json_body(raw, limit=MAX_REQUEST_BYTES, what="body") if raw.strip() else None


def query() -> dict[str, str]:
    request = app.current_request
    params: Any = (request.query_params if request is not None else None) or {}
    return {name: params[name] for name in params}


def qr_code(uri: str) -> str:
    """The ``openid4vp://`` URI as a PNG QR code in a ``data:`` URI: a kiosk page shows it
    with the same request that fetched the view (an ``<img src>`` could not send the token)."""
    import base64
    import io

    import segno

    out = io.BytesIO()
    # Level M: read by a phone from a kiosk's screen; the URI holds two short URLs.
    segno.make(uri, error="m").save(out, kind="png", scale=6, border=4)
    return "data:image/png;base64," + base64.b64encode(out.getvalue()).decode("ascii")


@app.route("/forms/submissions", methods=["GET"])
@answer
def list_form_submissions() -> Response:
    official, _ = principal("civil-servant")
    request = ListRequest.parse(query())
    page = list_submissions(store(), official, request)
    logger.info(
        "form submissions listed",
        extra={"reader": official.subject, "state": request.state, "count": len(page.submissions)},
    )
    body = {
        "state": request.state,
        "submissions": [summary_view(s, catalogue()) for s in page.submissions],
        "next": page.after,
    }
    return _json(body, 200, _PRIVATE)


@app.route("/forms/submissions/{submission_id}", methods=["GET"])
@answer
def get_form_submission(submission_id: str) -> Response:
    reader, owner = principal("civil-servant", "citizen", "kiosk")
    readable = read_submission(store(), submission_id, reader, owner)
    now = clock.now()
    if readable.reason == "jurisdiction":
        view = official_view(readable.submission, catalogue(), documents(), now)
    else:
        view = citizen_view(readable.submission, catalogue(), documents(), now, qr_code)
    # Who was given which document link, and why: the audit of who could read an RRN.
    logger.info(
        "form submission read",
        extra={
            "reader": reader.subject,
            "submission_id": submission_id,
            "access": readable.reason,
            "state": readable.submission.state,
            "document_link": readable.submission.documents is not None,
        },
    )
    return _json(view, 200, _PRIVATE)


@app.route("/forms/submissions/{submission_id}/decision", methods=["POST"], content_types=ANY_BODY)
@answer
def decide_form_submission(submission_id: str) -> Response:
    official, _ = principal("civil-servant")
    accepted("application/json")
    decision, reason = parse_decision(body_json())
    decided = decide(store(), submission_id, official, decision, reason, clock.now())
    logger.info(
        "form submission decided",
        extra={"reader": official.subject, "submission_id": submission_id, "decision": decision},
    )
    metrics.add_metric(name=f"FormSubmissions{decision.capitalize()}", unit="Count", value=1)
    return _json(official_view(decided, catalogue(), documents(), clock.now()), 200, _PRIVATE)


@logger.inject_lambda_context(correlation_id_path=correlation_paths.API_GATEWAY_REST)
@tracer.capture_lambda_handler(capture_response=False)
@metrics.log_metrics
def handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    """API Gateway REST proxy events in, proxy responses out."""
    return app(event, context)
