"""Open311 GeoReport v2: discovery, services, service definitions, requests (GET and POST) and
the ``servicerequestupdates`` extension, each in ``.json`` and ``.xml``."""

from __future__ import annotations

from chalice import Blueprint, Response

from chalicelib import resources, web
from gyeonggi.common.http import ANY_BODY
from gyeonggi.complaints import open311
from gyeonggi.complaints.intake import parse_submission, submission_from_form
from gyeonggi.complaints.jurisdictions import known as known_jurisdiction
from gyeonggi.complaints.models import ComplaintSubmission
from gyeonggi.complaints.queries import (
    find_request,
    find_requests,
    parse_request_query,
    parse_window,
)
from gyeonggi.complaints.services import BY_CODE as SERVICES
from gyeonggi.complaints.services import Locale

routes = Blueprint(__name__)


def _locale() -> Locale:
    request = web.request()
    return open311.locale_of(web.query().get("locale"), request.headers.get("accept-language"))


def _base_url() -> str:
    request = web.request()
    host = request.headers.get("host", "localhost")
    scheme = request.headers.get("x-forwarded-proto", "https" if "." in host else "http")
    stage = (request.context or {}).get("stage")
    # The execute-api host serves the stage as the first path segment; custom domains and the
    # local cloud map it away.
    prefix = f"/{stage}" if stage and host.endswith(".amazonaws.com") else ""
    return f"{scheme}://{host}{prefix}/open311/v2"


@routes.route("/open311/v2/discovery.json", methods=["GET"])
@routes.route("/open311/v2/discovery.xml", methods=["GET"])
@web.answer
def open311_discovery() -> Response:
    known_jurisdiction(web.query().get("jurisdiction_id"))
    return web.open311_document(web.requested_format(), "discovery", open311.discovery(_base_url()))


@routes.route("/open311/v2/services.json", methods=["GET"])
@routes.route("/open311/v2/services.xml", methods=["GET"])
@web.answer
def open311_services() -> Response:
    # Every city and county offers the same catalogue; jurisdiction_id is checked, not needed.
    known_jurisdiction(web.query().get("jurisdiction_id"))
    return web.open311_document(web.requested_format(), "services", open311.services(_locale()))


@routes.route("/open311/v2/services/{service_file}", methods=["GET"])
@web.answer
def open311_service_definition(service_file: str) -> Response:
    code, fmt = open311.split_file(service_file, "services")
    known_jurisdiction(web.query().get("jurisdiction_id"))
    definition = open311.service_definition(open311.find_service(code), _locale())
    return web.open311_document(fmt, "service_definition", definition)


@routes.route("/open311/v2/requests.json", methods=["POST"], content_types=ANY_BODY)
@routes.route("/open311/v2/requests.xml", methods=["POST"], content_types=ANY_BODY)
@web.answer
def open311_post_request() -> Response:
    # Open311 clients send forms; JSON is taken too.
    content_type = web.accepted("application/x-www-form-urlencoded", "application/json")
    submission: ComplaintSubmission
    if content_type == "application/json":
        body = web.body_object()
        key = resources.api_keys().verify(body.pop("api_key", None))
        submission = parse_submission(body)
    else:
        form = web.body_form()
        key = resources.api_keys().verify(next(iter(form.get("api_key", [])), None))
        submission = submission_from_form(form)
    SERVICES[submission.service_code].validate_attributes(submission.attributes)
    # A key issued to some cities and counties files only there (Open311 answers 403).
    key.require_jurisdiction(submission.jurisdiction_id)
    message = resources.intake().submit(submission, channel="open311")
    web.metrics.add_metric(name="ComplaintsSubmitted", unit="Count", value=1)
    web.logger.info("complaint submitted", extra={"service_request_id": message.service_request_id})
    fmt = web.requested_format()
    location = f"/open311/v2/requests/{message.service_request_id}.{fmt}"
    return web.open311_document(
        fmt,
        "post_response",
        open311.post_response(message.service_request_id),
        201,
        {"Location": location},
    )


@routes.route("/open311/v2/requests.json", methods=["GET"])
@routes.route("/open311/v2/requests.xml", methods=["GET"])
@web.answer
def open311_get_requests() -> Response:
    query = parse_request_query(web.query())
    found = find_requests(query, resources.complaints(), resources.receipts())
    return web.open311_document(
        web.requested_format(), "service_requests", open311.service_requests(found, _locale())
    )


@routes.route("/open311/v2/requests/{request_file}", methods=["GET"])
@web.answer
def open311_get_request(request_file: str) -> Response:
    request_id, fmt = open311.split_file(request_file, "requests")
    jurisdiction_id = known_jurisdiction(web.query().get("jurisdiction_id"))
    locale = _locale()  # a wrong query is a 400 whether or not the request exists
    # A request just posted answers from its receipt until the workflow has stored it.
    found = find_request(request_id, jurisdiction_id, resources.complaints(), resources.receipts())
    return web.open311_document(fmt, "service_requests", [open311.service_request(found, locale)])


@routes.route("/open311/v2/servicerequestupdates.json", methods=["GET"])
@routes.route("/open311/v2/servicerequestupdates.xml", methods=["GET"])
@web.answer
def open311_request_updates() -> Response:
    params = web.query()
    window = parse_window(params)
    jurisdiction_id = known_jurisdiction(params.get("jurisdiction_id"))
    updates = resources.updates().between(window, jurisdiction_id)
    return web.open311_document(
        web.requested_format(), "request_updates", open311.request_updates(updates)
    )
