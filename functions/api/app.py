"""The HTTP API: one Chalice app behind API Gateway (and ``127.0.0.1:8000`` locally).

Routes parse the request, call the domain, and shape the answer. Domain errors become HTTP
statuses in one place, ``_answer``; every error body is Open311's ``[{code, description}]``, in
XML (``<errors><error>...``) when the request asked for a ``.xml`` document.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import replace
from datetime import UTC, datetime
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
from gyeonggi.complaints.chart import render_series_svg
from gyeonggi.complaints.counts import korean_day
from gyeonggi.complaints.dashboard import VolumeReader, parse_volume_query, volumes_view
from gyeonggi.complaints.dashboard_page import content_security_policy, page_html, script_js
from gyeonggi.complaints.intake import IntakeQueue, parse_submission, submission_from_form
from gyeonggi.complaints.jurisdictions import known as known_jurisdiction
from gyeonggi.complaints.models import ComplaintSubmission, to_item
from gyeonggi.complaints.ops import intake_status
from gyeonggi.complaints.queries import find_requests, parse_request_query, parse_window
from gyeonggi.complaints.services import BY_CODE as SERVICES
from gyeonggi.complaints.services import Locale
from gyeonggi.complaints.store import ComplaintStore, ContactStore
from gyeonggi.complaints.updates import UpdateStore, parse_update
from gyeonggi.safety import incidents

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
    complaint_updates_table: str
    complaint_counts_table: str
    complaint_forecasts_table: str
    incidents_table: str


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


@cache
def _updates() -> UpdateStore:
    s = _settings()
    return UpdateStore(s.complaint_updates_table, s.complaints_table)


@cache
def _volumes() -> VolumeReader:
    s = _settings()
    return VolumeReader(s.complaint_counts_table, s.complaint_forecasts_table)


@cache
def _incidents() -> incidents.IncidentStore:
    return incidents.IncidentStore(_settings().incidents_table)


@cache
def _incident_workflow() -> incidents.IncidentWorkflow:
    return incidents.IncidentWorkflow()


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
            return _errors(status, exc.message, headers)
        except Exception:
            logger.exception("unhandled error")
            return _internal_error()

    return wrapped


def _internal_error() -> Response:
    metrics.add_metric(name="Http500", unit="Count", value=1)
    return _errors(500, "internal error; it has been logged")


def _errors(status: int, message: str, headers: dict[str, str] | None = None) -> Response:
    # Open311 answers errors in the format the client asked for by the file extension.
    fmt: open311.Format = "xml" if _asked_for_xml() else "json"
    return _open311(fmt, "errors", open311.errors(status, message), status, headers)


def _asked_for_xml() -> bool:
    request = app.current_request
    if request is None:
        return False
    path = str((request.context or {}).get("path") or "")
    return path.endswith(".xml")


def _open311(
    fmt: open311.Format,
    kind: str,
    data: Any,
    status: int = 200,
    headers: dict[str, str] | None = None,
) -> Response:
    body, content_type = open311.render(fmt, kind, data)
    merged: dict[str, str | list[str]] = {"Content-Type": content_type, **(headers or {})}
    return Response(body=body, status_code=status, headers=merged)


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


def _query() -> dict[str, str]:
    params: Any = _request().query_params or {}
    # A repeated parameter counts once, its last value, as API Gateway's single-value map.
    return {name: params[name] for name in params}


def _locale() -> Locale:
    return open311.locale_of(_query().get("locale"), _request().headers.get("accept-language"))


def _format() -> open311.Format:
    """``json`` or ``xml``: the extension of the literal route that was called."""
    return "xml" if _asked_for_xml() else "json"


def _base_url() -> str:
    request = _request()
    host = request.headers.get("host", "localhost")
    scheme = request.headers.get("x-forwarded-proto", "https" if "." in host else "http")
    stage = (request.context or {}).get("stage")
    # The execute-api host serves the stage as the first path segment; custom domains and the
    # local cloud map it away.
    prefix = f"/{stage}" if stage and host.endswith(".amazonaws.com") else ""
    return f"{scheme}://{host}{prefix}/open311/v2"


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


@app.route("/open311/v2/discovery.json", methods=["GET"])
@app.route("/open311/v2/discovery.xml", methods=["GET"])
@_answer
def open311_discovery() -> Response:
    known_jurisdiction(_query().get("jurisdiction_id"))
    return _open311(_format(), "discovery", open311.discovery(_base_url()))


@app.route("/open311/v2/services.json", methods=["GET"])
@app.route("/open311/v2/services.xml", methods=["GET"])
@_answer
def open311_services() -> Response:
    # Every city and county offers the same catalogue; jurisdiction_id is checked, not needed.
    known_jurisdiction(_query().get("jurisdiction_id"))
    return _open311(_format(), "services", open311.services(_locale()))


@app.route("/open311/v2/services/{service_file}", methods=["GET"])
@_answer
def open311_service_definition(service_file: str) -> Response:
    code, fmt = open311.split_file(service_file, "services")
    known_jurisdiction(_query().get("jurisdiction_id"))
    definition = open311.service_definition(open311.find_service(code), _locale())
    return _open311(fmt, "service_definition", definition)


@app.route("/open311/v2/requests.json", methods=["POST"], content_types=_ANY_BODY)
@app.route("/open311/v2/requests.xml", methods=["POST"], content_types=_ANY_BODY)
@_answer
def open311_post_request() -> Response:
    # Open311 clients send forms; JSON is taken too.
    content_type = _accepted("application/x-www-form-urlencoded", "application/json")
    submission: ComplaintSubmission
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
    SERVICES[submission.service_code].validate_attributes(submission.attributes)
    # A key issued to some cities and counties files only there (Open311 answers 403).
    key.require_jurisdiction(submission.jurisdiction_id)
    message = _intake().submit(submission, channel="open311")
    metrics.add_metric(name="ComplaintsSubmitted", unit="Count", value=1)
    logger.info("complaint submitted", extra={"service_request_id": message.service_request_id})
    fmt = _format()
    location = f"/open311/v2/requests/{message.service_request_id}.{fmt}"
    return _open311(
        fmt,
        "post_response",
        open311.post_response(message.service_request_id),
        201,
        {"Location": location},
    )


@app.route("/open311/v2/requests.json", methods=["GET"])
@app.route("/open311/v2/requests.xml", methods=["GET"])
@_answer
def open311_get_requests() -> Response:
    query = parse_request_query(_query())
    found = find_requests(query, _complaints())
    return _open311(_format(), "service_requests", open311.service_requests(found, _locale()))


@app.route("/open311/v2/requests/{request_file}", methods=["GET"])
@_answer
def open311_get_request(request_file: str) -> Response:
    request_id, fmt = open311.split_file(request_file, "requests")
    jurisdiction_id = known_jurisdiction(_query().get("jurisdiction_id"))
    complaint = _complaints().get(request_id)
    if jurisdiction_id and complaint.jurisdiction_id != jurisdiction_id:
        raise NotFound(f"service request {request_id} not found in {jurisdiction_id}")
    return _open311(fmt, "service_requests", [open311.service_request(complaint, _locale())])


@app.route("/open311/v2/servicerequestupdates.json", methods=["GET"])
@app.route("/open311/v2/servicerequestupdates.xml", methods=["GET"])
@_answer
def open311_request_updates() -> Response:
    params = _query()
    window = parse_window(params)
    jurisdiction_id = known_jurisdiction(params.get("jurisdiction_id"))
    updates = _updates().between(window, jurisdiction_id)
    body = [
        open311.request_update(
            update_id=u.update_id,
            service_request_id=u.service_request_id,
            status=u.status,
            updated_datetime=u.updated_datetime,
            description=u.description,
            media_url=u.media_url,
        )
        for u in updates
    ]
    return _open311(_format(), "request_updates", body)


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
    SERVICES[submission.service_code].validate_attributes(submission.attributes)
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


@app.route("/complaints/{service_request_id}/updates", methods=["POST"], content_types=_ANY_BODY)
@_answer
def post_complaint_update(service_request_id: str) -> Response:
    principal = _principal("civil-servant")
    _accepted("application/json")
    update = parse_update(_body_json())
    recorded = _updates().record(service_request_id, update, author=principal.subject)
    logger.info(
        "status updated",
        extra={"service_request_id": service_request_id, "update_id": recorded.update_id},
    )
    return _json(
        to_item(recorded),
        201,
        {"Location": f"/open311/v2/requests/{service_request_id}.json"},
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


# Data of the ops view is per-token: never cached by a browser or a proxy.
_PRIVATE = {"Cache-Control": "no-store", "Vary": "Authorization"}


def _text(body: str, content_type: str, headers: dict[str, str]) -> Response:
    merged: dict[str, str | list[str]] = {
        "Content-Type": content_type,
        "X-Content-Type-Options": "nosniff",
        **headers,
    }
    return Response(body=body, status_code=200, headers=merged)


@app.route("/ops/volumes.json", methods=["GET"])
@_answer
def ops_volumes() -> Response:
    _principal("operator", "civil-servant")
    today = korean_day(datetime.now(UTC))
    query = parse_volume_query(_query(), today)
    return _json(volumes_view(query, _volumes(), today), headers=_PRIVATE)


@app.route("/ops/volumes.svg", methods=["GET"])
@_answer
def ops_volumes_svg() -> Response:
    _principal("operator", "civil-servant")
    today = korean_day(datetime.now(UTC))
    query = parse_volume_query(_query(), today, require_series=True)
    svg = render_series_svg(volumes_view(query, _volumes(), today))
    # An SVG opened on its own is a document: it may run nothing and load nothing.
    csp = {"Content-Security-Policy": "default-src 'none'; style-src 'unsafe-inline'"}
    return _text(svg, "image/svg+xml; charset=utf-8", {**_PRIVATE, **csp})


@app.route("/ops/dashboard", methods=["GET"])
@_answer
def ops_dashboard() -> Response:
    # Public: the page is a shell without data; its requests carry the operator's token.
    return _text(
        page_html(),
        "text/html; charset=utf-8",
        {
            "Content-Security-Policy": content_security_policy(),
            "Referrer-Policy": "no-referrer",
            "Cache-Control": "no-cache",
        },
    )


@app.route("/ops/dashboard.js", methods=["GET"])
@_answer
def ops_dashboard_js() -> Response:
    return _text(script_js(), "text/javascript; charset=utf-8", {"Cache-Control": "no-cache"})


# ------------------------------------------------------------------ safety incidents


@app.route("/safety/incidents", methods=["GET"])
@_answer
def list_safety_incidents() -> Response:
    _principal("operator")
    status = incidents.parse_status(_query().get("status"))
    found = [incidents.view(i) for i in _incidents().list(status)]
    return _json({"status": status, "incidents": found}, headers=_PRIVATE)


@app.route("/safety/incidents/{incident_id}", methods=["GET"])
@_answer
def get_safety_incident(incident_id: str) -> Response:
    _principal("operator")
    return _json(incidents.view(_incidents().get(incident_id)), headers=_PRIVATE)


def _note() -> str | None:
    """The optional ``{"note": "..."}`` of an operator's answer (an empty body is no note)."""
    if not (_request().raw_body or b"").strip():
        return None
    body = _body_json()
    if not isinstance(body, dict):
        raise InvalidInput("body: must be a JSON object")
    note = body.get("note")
    if note is not None and (not isinstance(note, str) or len(note) > 2000):
        raise InvalidInput("note: must be text of at most 2000 characters", field="note")
    return note


def _answer_incident(
    principal: Principal, incident_id: str, *, outcome: str, waiting: tuple[str, ...]
) -> Response:
    """Claim the incident's stored task token and answer it with ``outcome``.

    The claim (a conditional write that takes the token off the incident) comes first, so two
    operators answering at once get one 200 and one 409, never two answers to one token.
    """
    note = _note()
    store, now = _incidents(), incidents.now_utc()
    claimed: dict[str, str] = {}

    def claim(incident: incidents.Incident) -> incidents.Incident:
        if incident.state not in waiting or not incident.task_token:
            raise Conflict(f"incident {incident_id} is {incident.state}: nothing to {outcome}")
        claimed["token"] = incident.task_token
        entry = {"by": principal.subject, "note": note} if note else {"by": principal.subject}
        state = "acknowledged" if outcome == "acknowledged" else incident.state
        changed = incidents.record(incident, outcome, now, level=incident.level, **entry)
        return replace(changed, state=state, task_token=None)

    incident = store.update(incident_id, claim)
    if not _incident_workflow().answer(claimed["token"], outcome, by=principal.subject):
        # The wait ended between the read and the answer (it escalated): say so, and let the
        # operator answer the next level's wait.
        store.update(incident_id, lambda i: incidents.record(i, f"{outcome}_too_late", now))
        raise Conflict(f"incident {incident_id} escalated meanwhile; answer again")
    logger.info(f"incident {outcome}", extra={"incident_id": incident_id})
    return _json(incidents.view(incident), headers=_PRIVATE)


@app.route("/safety/incidents/{incident_id}/ack", methods=["POST"], content_types=_ANY_BODY)
@_answer
def ack_safety_incident(incident_id: str) -> Response:
    principal = _principal("operator")
    _accepted("application/json")
    return _answer_incident(
        principal, incident_id, outcome="acknowledged", waiting=("awaiting_ack",)
    )


@app.route("/safety/incidents/{incident_id}/all-clear", methods=["POST"], content_types=_ANY_BODY)
@_answer
def all_clear_safety_incident(incident_id: str) -> Response:
    # An operator on site may declare all-clear before acknowledging: that closes it too.
    principal = _principal("operator")
    _accepted("application/json")
    return _answer_incident(
        principal, incident_id, outcome="all_clear", waiting=("awaiting_ack", "acknowledged")
    )


@logger.inject_lambda_context(correlation_id_path=correlation_paths.API_GATEWAY_REST)
@tracer.capture_lambda_handler
@metrics.log_metrics
def handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    """API Gateway REST proxy events in, proxy responses out."""
    return app(event, context)
