"""The HTTP API: one Chalice app behind API Gateway (and ``127.0.0.1:8000`` locally).

Routes parse the request, call the domain, and shape the answer. Domain errors become HTTP
statuses in one place, ``_answer``; every error body is Open311's ``[{code, description}]``.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from functools import cache, wraps
from typing import Any
from urllib.parse import parse_qs

from aws_lambda_powertools.logging import correlation_paths
from chalice import Chalice, Response
from chalice.app import Request

from gyeonggi.auth import ApiKeyStore, AuthSettings, KeySetUnavailable, Principal, TokenVerifier
from gyeonggi.common.errors import (
    Conflict,
    DomainError,
    Forbidden,
    InvalidInput,
    NotFound,
    Unauthenticated,
    UnsupportedFormat,
)
from gyeonggi.common.observability import observability
from gyeonggi.complaints import open311
from gyeonggi.complaints.intake import IntakeQueue, parse_submission, submission_from_form
from gyeonggi.complaints.models import to_item
from gyeonggi.complaints.ops import intake_status
from gyeonggi.complaints.store import ComplaintStore, ContactStore

logger, tracer, metrics = observability()
app = Chalice(app_name="gyeonggi-api")

_STATUS: dict[type[DomainError], int] = {
    InvalidInput: 400,
    Unauthenticated: 401,
    Forbidden: 403,
    NotFound: 404,
    Conflict: 409,
    UnsupportedFormat: 415,
    # The issuer's keys could not be fetched: our fault, and worth a retry.
    KeySetUnavailable: 503,
}
_JSON = {"Content-Type": "application/json; charset=utf-8"}
# Chalice answers content types a route does not list itself, in its own error shape; routes
# list every usual type and check in the view, so a 415 looks like every other error here.
_ANY_BODY = [
    "application/json",
    "application/x-www-form-urlencoded",
    "multipart/form-data",
    "text/plain",
    "text/xml",
    "application/xml",
    "application/octet-stream",
]


class ApiSettings(AuthSettings):
    complaints_table: str
    contacts_table: str
    api_keys_table: str
    intake_queue_url: str
    intake_dlq_url: str
    intake_failure_queue_url: str


@cache
def _settings() -> ApiSettings:
    return ApiSettings.from_env()


@cache
def _verifier() -> TokenVerifier:
    return TokenVerifier.from_settings(_settings())


@cache
def _complaints() -> ComplaintStore:
    return ComplaintStore(_settings().complaints_table)


@cache
def _contacts() -> ContactStore:
    return ContactStore(_settings().contacts_table)


@cache
def _api_keys() -> ApiKeyStore:
    return ApiKeyStore(_settings().api_keys_table)


@cache
def _intake() -> IntakeQueue:
    return IntakeQueue(_settings().intake_queue_url)


def _json(body: Any, status: int = 200, headers: dict[str, str] | None = None) -> Response:
    merged: dict[str, str | list[str]] = {**_JSON, **(headers or {})}
    return Response(
        body=json.dumps(body, ensure_ascii=False),
        status_code=status,
        headers=merged,
    )


def _answer(view: Callable[..., Response]) -> Callable[..., Response]:
    """Map domain errors to HTTP; anything else is a 500 that is logged, never shown."""

    @wraps(view)
    def wrapped(**kwargs: Any) -> Response:
        try:
            return view(**kwargs)
        except DomainError as exc:
            status = next((s for t, s in _STATUS.items() if isinstance(exc, t)), None)
            if status is None:  # e.g. a ConfigurationError: ours to fix, not the caller's
                logger.exception("unmapped domain error")
                return _internal_error()
            metrics.add_metric(name=f"Http{status}", unit="Count", value=1)
            headers = {}
            if status == 401 and exc.field != "api_key":
                headers["WWW-Authenticate"] = 'Bearer realm="gyeonggi"'
            return _json(open311.errors(status, exc.message), status, headers)
        except Exception:
            logger.exception("unhandled error")
            return _internal_error()

    return wrapped


def _internal_error() -> Response:
    metrics.add_metric(name="Http500", unit="Count", value=1)
    return _json(open311.errors(500, "internal error; it has been logged"), 500)


def _accepted(*types: str) -> str:
    """The request's content type if the view reads it; a missing one counts as the first."""
    given = _request().headers.get("content-type", "").split(";")[0].strip().lower()
    if not given:
        return types[0]
    if given not in types:
        raise UnsupportedFormat(f"Content-Type {given}: send {' or '.join(types)}")
    return given


def _request() -> Request:
    request = app.current_request
    assert request is not None  # Chalice sets it before calling a view
    return request


def _principal(*roles: str) -> Principal:
    return _verifier().require(_request().headers.get("authorization"), *roles)


def _body_json() -> Any:
    raw = _request().raw_body or b""
    try:
        return json.loads(raw)
    except (json.JSONDecodeError, UnicodeDecodeError):
        raise InvalidInput("body: is not valid JSON") from None


def _body_form() -> dict[str, list[str]]:
    raw = _request().raw_body or b""
    try:
        text = raw.decode("utf-8") if isinstance(raw, bytes) else str(raw)
        return parse_qs(text, keep_blank_values=True, strict_parsing=bool(text))
    except (ValueError, UnicodeDecodeError):
        raise InvalidInput("body: is not a valid UTF-8 form") from None


# ------------------------------------------------------------------ Open311 GeoReport v2


@app.route("/open311/v2/requests.json", methods=["POST"], content_types=_ANY_BODY)
@_answer
def open311_post_request() -> Response:
    # Open311 clients send forms; JSON is taken too.
    content_type = _accepted("application/x-www-form-urlencoded", "application/json")
    if content_type == "application/json":
        body = _body_json()
        if not isinstance(body, dict):
            raise InvalidInput("body: must be a JSON object")
        key = _api_keys().verify(body.pop("api_key", None))
        submission = parse_submission(body)
    else:
        form = _body_form()
        key = _api_keys().verify(next(iter(form.get("api_key", [])), None))
        submission = submission_from_form(form)
    # A key issued to some cities and counties files only there (Open311 answers 403).
    key.require_jurisdiction(submission.jurisdiction_id)
    message = _intake().submit(submission, channel="open311")
    metrics.add_metric(name="ComplaintsSubmitted", unit="Count", value=1)
    logger.info("complaint submitted", extra={"service_request_id": message.service_request_id})
    location = f"/open311/v2/requests/{message.service_request_id}.json"
    return _json(open311.post_response(message.service_request_id), 201, {"Location": location})


@app.route("/open311/v2/requests/{request_file}", methods=["GET"])
@_answer
def open311_get_request(request_file: str) -> Response:
    request_id, _, fmt = request_file.rpartition(".")
    if fmt != "json" or not request_id:
        raise NotFound(f"{request_file}: use /open311/v2/requests/{{id}}.json")
    complaint = _complaints().get(request_id)
    return _json([open311.service_request(complaint)])


# ------------------------------------------------------------------ native API


@app.route("/complaints", methods=["POST"], content_types=_ANY_BODY)
@_answer
def create_complaint() -> Response:
    principal = _principal("citizen")
    _accepted("application/json")
    body = _body_json()
    if not isinstance(body, dict):
        raise InvalidInput("body: must be a JSON object")
    # The account is the authenticated citizen, whatever the body claims.
    body["account_id"] = principal.subject
    submission = parse_submission(body)
    message = _intake().submit(submission, channel="api")
    metrics.add_metric(name="ComplaintsSubmitted", unit="Count", value=1)
    rid = message.service_request_id
    return _json(
        {
            "service_request_id": rid,
            "status": "received",
            "links": {"self": f"/complaints/{rid}", "open311": f"/open311/v2/requests/{rid}.json"},
        },
        201,
        {"Location": f"/complaints/{rid}"},
    )


@app.route("/complaints/{service_request_id}", methods=["GET"])
@_answer
def get_complaint(service_request_id: str) -> Response:
    principal = _principal("civil-servant")
    complaint = _complaints().get(service_request_id)
    contact = _contacts().get_contact(service_request_id)
    # An audit line for every read of the restricted store; the logger masks the values.
    logger.info(
        "contact read",
        extra={"reader": principal.subject, "service_request_id": service_request_id},
    )
    return _json(
        {"complaint": to_item(complaint), "contact": to_item(contact) if contact else None}
    )


@app.route("/ops/status", methods=["GET"])
@_answer
def ops_status() -> Response:
    _principal("operator", "civil-servant")
    s = _settings()
    return _json(
        intake_status(
            intake_queue_url=s.intake_queue_url,
            dead_letter_queue_url=s.intake_dlq_url,
            failure_queue_url=s.intake_failure_queue_url,
        )
    )


@logger.inject_lambda_context(correlation_id_path=correlation_paths.API_GATEWAY_REST)
@tracer.capture_lambda_handler
@metrics.log_metrics
def handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    """API Gateway REST proxy events in, proxy responses out."""
    return app(event, context)
