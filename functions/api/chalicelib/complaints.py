"""The native complaints API: citizens file in JSON and read their own; civil servants read and
update those of their jurisdictions (:mod:`gyeonggi.complaints.access` says who sees what)."""

from __future__ import annotations

from chalice import Blueprint, Response

from chalicelib import resources, web
from gyeonggi.common.http import ANY_BODY, PRIVATE
from gyeonggi.complaints.access import own_complaints, parse_page, read_complaint
from gyeonggi.complaints.intake import parse_submission, receipt
from gyeonggi.complaints.models import to_item
from gyeonggi.complaints.services import BY_CODE as SERVICES
from gyeonggi.complaints.updates import parse_update

routes = Blueprint(__name__)


@routes.route("/complaints", methods=["POST"], content_types=ANY_BODY)
@web.answer
def create_complaint() -> Response:
    principal = web.principal("citizen")
    web.accepted("application/json")
    body = web.body_object()
    # The account is the authenticated citizen, whatever the body claims.
    body["account_id"] = principal.subject
    submission = parse_submission(body)
    SERVICES[submission.service_code].validate_attributes(submission.attributes)
    message = resources.intake().submit(submission, channel="api")
    web.metrics.add_metric(name="ComplaintsSubmitted", unit="Count", value=1)
    received = receipt(message.service_request_id)
    return web.json_response(received, 201, {"Location": received["links"]["self"]})


@routes.route("/complaints", methods=["GET"])
@web.answer
def list_own_complaints() -> Response:
    principal = web.principal("citizen")
    limit, after = parse_page(web.query())
    page = own_complaints(principal, limit, after, resources.complaints(), resources.contacts())
    links = {"next": f"/complaints?limit={limit}&after={page.after}"} if page.after else {}
    found = [to_item(c) for c in page.complaints]
    body = {"complaints": found, "after": page.after, "links": links}
    return web.json_response(body, headers=PRIVATE)


@routes.route("/complaints/{service_request_id}", methods=["GET"])
@web.answer
def get_complaint(service_request_id: str) -> Response:
    principal = web.principal("citizen", "civil-servant")
    readable = read_complaint(
        principal,
        service_request_id,
        resources.complaints(),
        resources.contacts(),
        resources.receipts(),
    )
    # An audit line for every read of the restricted store; the logger masks the values.
    web.logger.info(
        "contact read",
        extra={
            "reader": principal.subject,
            "service_request_id": service_request_id,
            "access": readable.reason,
            "stored": readable.stored,  # False: read from the receipt, no contact details yet
        },
    )
    contact = to_item(readable.contact) if readable.contact else None
    body = {"complaint": to_item(readable.complaint), "contact": contact, "stored": readable.stored}
    return web.json_response(body, headers=PRIVATE)


@routes.route("/complaints/{service_request_id}/updates", methods=["POST"], content_types=ANY_BODY)
@web.answer
def post_complaint_update(service_request_id: str) -> Response:
    principal = web.principal("civil-servant")
    web.accepted("application/json")
    # Only in the servant's jurisdictions; an unknown id is still 404 (record checks again).
    principal.require_jurisdiction(resources.complaints().get(service_request_id).jurisdiction_id)
    update = parse_update(web.body_json())
    recorded = resources.updates().record(service_request_id, update, author=principal.subject)
    web.logger.info(
        "status updated",
        extra={"service_request_id": service_request_id, "update_id": recorded.update_id},
    )
    return web.json_response(
        to_item(recorded),
        201,
        {"Location": f"/open311/v2/requests/{service_request_id}.json"},
    )
