"""Petition forms written through dialogue: ``/forms/sessions`` (issue 11, section 3) and the
kiosk page ``/forms/kiosk`` (section 5).

Routes on the stack's API: start a session (a citizen's bearer token, or a kiosk's with
the session key it gets back), send a message, read a session, switch its language or easy
Korean; and the barrier-free page that drives them (:mod:`gyeonggi.forms.kiosk_page`). The
handlers parse, call :class:`gyeonggi.forms.sessions.FormSessions` and shape the answer;
domain errors become HTTP statuses in one place, :func:`answer`, with the error body every
route of the API uses (``[{code, description}]``). The models ship in this package
(``model/``) and are read on the first request, not at cold start.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from functools import cache
from pathlib import Path
from typing import Any

from aws_lambda_powertools.logging import correlation_paths
from chalice import Chalice, Response

from gyeonggi.auth import CITIZEN, KIOSK, AuthSettings, TokenVerifier
from gyeonggi.common import clock
from gyeonggi.common.errors import UnsupportedFormat
from gyeonggi.common.http import ANY_BODY, PRIVATE, answering
from gyeonggi.common.messages import MAX_REQUEST_BYTES, json_body
from gyeonggi.common.observability import observability
from gyeonggi.forms.catalogue import catalogue
from gyeonggi.forms.engine import load_engine
from gyeonggi.forms.issuance import Issuance, IssuanceWorkflow
from gyeonggi.forms.kiosk_page import kiosk_headers, page_html
from gyeonggi.forms.sessions import (
    KEY_HEADER,
    Caller,
    DynamoSessionStore,
    FormSessions,
    Preferences,
    StartRequest,
    message_text,
    session_view,
)

logger, tracer, metrics = observability()
MODEL_DIR = Path(__file__).parent / "model"


class FormsSettings(AuthSettings):
    form_sessions_table: str
    # Issuance (issue 11, section 4): a confirmed form's submission is written with its session,
    # then its workflow starts (or the failure to start waits on the failure queue).
    form_submissions_table: str
    form_issuance_state_machine_arn: str
    form_issuance_failure_queue_url: str


settings = FormsSettings.from_env()
app = Chalice(app_name="gyeonggi-forms")


@cache
def verifier() -> TokenVerifier:
    return TokenVerifier.from_settings(settings)


@cache
def sessions() -> FormSessions:
    from gyeonggi.forms.submissions import DynamoSubmissionStore

    issuance = Issuance(
        DynamoSubmissionStore(settings.form_submissions_table),
        IssuanceWorkflow(
            settings.form_issuance_state_machine_arn, settings.form_issuance_failure_queue_url
        ),
    )
    return FormSessions(
        DynamoSessionStore(
            settings.form_sessions_table, submissions_table=settings.form_submissions_table
        ),
        load_engine(MODEL_DIR),
        issuance,
    )


_JSON = {"Content-Type": "application/json; charset=utf-8"}
# A session holds personal data and changes with every message: never cached.
_PRIVATE = {**PRIVATE, "Vary": "Authorization, X-Session-Key"}


def _json(body: Any, status: int = 200, headers: Mapping[str, str] | None = None) -> Response:
    merged: dict[str, str | list[str]] = {**_JSON, **(headers or {})}
    return Response(json.dumps(body, ensure_ascii=False), status_code=status, headers=merged)


# Domain errors to HTTP, in one place (gyeonggi.common.http).
answer = answering(lambda e: _json(e.body, e.status, e.headers), logger, metrics)


def _headers() -> Any:
    request = app.current_request
    return request.headers if request is not None else {}


def principal(*roles: str) -> Caller:
    """The verified caller, who must hold one of ``roles``: a citizen, or a kiosk with the
    session key of its session (``X-Session-Key``)."""
    headers = _headers()
    verified = verifier().require(headers.get("authorization"), *roles)
    kiosk = verified.has_any_role(KIOSK) and not verified.has_any_role(CITIZEN)
    return Caller(
        "kiosk" if kiosk else "citizen", verified.subject, headers.get(KEY_HEADER.lower())
    )


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


@app.route("/forms/sessions", methods=["POST"], content_types=ANY_BODY)
@answer
def start_session() -> Response:
    caller = principal("citizen", "kiosk")
    accepted("application/json")
    request = StartRequest.parse(body_json())
    turn = sessions().start(caller, request, clock.now())
    logger.info(
        "form session started",
        extra={
            "session_id": turn.session.session_id,
            "owner": caller.kind,
            "form_id": turn.session.state.form_id,
        },
    )
    metrics.add_metric(name="FormSessionsStarted", unit="Count", value=1)
    view = session_view(turn.session, catalogue(), turn.reply, turn.session_key)
    return _json(view, 201, {**_PRIVATE, "Location": view["links"]["self"]})


@app.route("/forms/sessions/{session_id}/messages", methods=["POST"], content_types=ANY_BODY)
@answer
def post_message(session_id: str) -> Response:
    caller = principal("citizen", "kiosk")
    accepted("application/json")
    text = message_text(body_json())
    turn = sessions().message(caller, session_id, text, clock.now())
    state = turn.session.state
    logger.info(
        "form message",
        extra={
            "session_id": session_id,
            "form_id": state.form_id,
            "state": state.status,
            "turn": state.turns,
        },
    )
    if state.status == "confirmed":
        metrics.add_metric(name="FormsConfirmed", unit="Count", value=1)
    if turn.submission_id is not None:
        # "recorded"/"unrecorded": the workflow did not start; the form is kept for a redrive.
        logger.info(
            "form submitted",
            extra={"submission_id": turn.submission_id, "issuance": turn.issuance},
        )
        if turn.issuance != "started":
            metrics.add_metric(name="FormIssuanceNotStarted", unit="Count", value=1)
    return _json(session_view(turn.session, catalogue(), turn.reply), 200, _PRIVATE)


@app.route("/forms/sessions/{session_id}", methods=["GET"])
@answer
def get_session(session_id: str) -> Response:
    caller = principal("citizen", "kiosk")
    session = sessions().read(caller, session_id, clock.now())
    return _json(session_view(session, catalogue()), 200, _PRIVATE)


@app.route("/forms/sessions/{session_id}", methods=["PATCH"], content_types=ANY_BODY)
@answer
def set_preferences(session_id: str) -> Response:
    # A page's language and easy-Korean switches: no turn, the question said again.
    caller = principal("citizen", "kiosk")
    accepted("application/json")
    preferences = Preferences.parse(body_json())
    turn = sessions().prefer(caller, session_id, preferences, clock.now())
    return _json(session_view(turn.session, catalogue(), turn.reply), 200, _PRIVATE)


# ---------------------------------------------------------------- the kiosk page (section 5)


@app.route("/forms/kiosk", methods=["GET"])
@answer
def kiosk_page() -> Response:
    # Public: a page without data; its requests carry the kiosk's (or citizen's) token.
    return Response(body=page_html(), status_code=200, headers=dict(kiosk_headers()))


@logger.inject_lambda_context(correlation_id_path=correlation_paths.API_GATEWAY_REST)
@tracer.capture_lambda_handler
@metrics.log_metrics
def handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    """API Gateway REST proxy events in, proxy responses out."""
    return app(event, context)
