"""Safety incidents for operators: list and read them, acknowledge them, declare all-clear.

Each operator sees the incidents of the complexes of their account (``custom:complexes``); the
``province`` group sees all. Incidents are not public, so one of another complex is 404.
"""

from __future__ import annotations

from chalice import Blueprint, Response

from chalicelib import resources, web
from gyeonggi.auth import Principal
from gyeonggi.common import clock
from gyeonggi.common.errors import NotFound
from gyeonggi.common.http import ANY_BODY, PRIVATE
from gyeonggi.safety.incident_rules import Incident
from gyeonggi.safety.incident_service import Answer, answer
from gyeonggi.safety.incident_view import parse_note, parse_status, view

routes = Blueprint(__name__)


def _operated(principal: Principal, incident_id: str) -> Incident:
    """The incident, if it is of one of the operator's complexes (404 otherwise)."""
    principal.require_some_complex()
    incident = resources.incidents().get(incident_id)
    if not principal.may_operate(incident.complex_id):
        raise NotFound(f"incident {incident_id} not found")
    return incident


@routes.route("/safety/incidents", methods=["GET"])
@web.answer
def list_safety_incidents() -> Response:
    principal = web.principal("operator")
    principal.require_some_complex()
    status = parse_status(web.query().get("status"))
    # The newest 100 of the status, then the operator's: incidents are a handful a day.
    found = [
        view(i) for i in resources.incidents().list(status) if principal.may_operate(i.complex_id)
    ]
    return web.json_response({"status": status, "incidents": found}, headers=PRIVATE)


@routes.route("/safety/incidents/{incident_id}", methods=["GET"])
@web.answer
def get_safety_incident(incident_id: str) -> Response:
    incident = _operated(web.principal("operator"), incident_id)
    return web.json_response(view(incident), headers=PRIVATE)


def _note() -> str | None:
    """The optional ``{"note": "..."}`` of an operator's answer (an empty body is no note)."""
    if not (web.request().raw_body or b"").strip():
        return None
    return parse_note(web.body_json())


def _answer_incident(principal: Principal, incident_id: str, outcome: Answer) -> Response:
    """Record the operator's answer and hand it to the workflow (:func:`answer`).

    An answer is never refused for timing: one that misses its wait by a moment is kept on the
    incident for the workflow's next step (``"answer": "deferred"``). Only a closed incident
    or a repeated answer is a 409.
    """
    answered = answer(
        resources.incidents(),
        resources.incident_workflow(),
        incident_id,
        outcome,
        by=principal.subject,
        note=_note(),
        now=clock.now(),
    )
    web.logger.info(
        f"incident {outcome}", extra={"incident_id": incident_id, "answer": answered.outcome}
    )
    body = {**view(answered.incident), "answer": answered.outcome}
    return web.json_response(body, headers=PRIVATE)


@routes.route("/safety/incidents/{incident_id}/ack", methods=["POST"], content_types=ANY_BODY)
@web.answer
def ack_safety_incident(incident_id: str) -> Response:
    principal = web.principal("operator")
    _operated(principal, incident_id)
    web.accepted("application/json")
    return _answer_incident(principal, incident_id, "acknowledged")


@routes.route("/safety/incidents/{incident_id}/all-clear", methods=["POST"], content_types=ANY_BODY)
@web.answer
def all_clear_safety_incident(incident_id: str) -> Response:
    # An operator on site may declare all-clear before acknowledging: that closes it too.
    principal = web.principal("operator")
    _operated(principal, incident_id)
    web.accepted("application/json")
    return _answer_incident(principal, incident_id, "all_clear")
