"""The wallet issuer: OpenID4VCI 1.0 (pre-authorized code flow), its metadata, enrolment, and
the Token Status Lists of the credentials it issues.

A function of its own, not a blueprint of the API function: it alone may sign with the wallet
key (``kms:Sign``) and read the enrolment table, it ships the QR code library, and its cold
start does not pay for Chalice. Routes are the template's (``WalletIssuerFunction`` events);
the Powertools resolver dispatches them. The domain is :mod:`gyeonggi.wallet`; errors become
HTTP answers in :func:`domain_error`, the one place: OAuth's ``{"error", "error_description"}``
on the protocol routes, the API's ``[{code, description}]`` on the civil servants' routes.
"""

from __future__ import annotations

import json
from functools import cache
from typing import Any

from aws_lambda_powertools.event_handler import APIGatewayRestResolver, Response
from aws_lambda_powertools.logging import correlation_paths

from gyeonggi.auth.tokens import CIVIL_SERVANT, Principal, TokenVerifier
from gyeonggi.common.errors import ContentTooLarge, InvalidInput, UnsupportedFormat
from gyeonggi.common.http import INTERNAL_ERROR, error_answer
from gyeonggi.common.messages import MAX_REQUEST_BYTES, form_body, json_body, proxy_body
from gyeonggi.common.observability import observability
from gyeonggi.wallet.issuer_errors import (
    InsufficientScope,
    InvalidCredentialRequest,
    InvalidRequest,
    InvalidToken,
    MissingToken,
    OAuthError,
    safe_description,
)
from gyeonggi.wallet.issuer_service import STATUS_LIST_TTL, WalletIssuer
from gyeonggi.wallet.issuer_settings import WalletIssuerSettings

logger, tracer, metrics = observability()
app = APIGatewayRestResolver()

_JSON = "application/json"
_FORM = "application/x-www-form-urlencoded"
NO_STORE = {"Cache-Control": "no-store", "Pragma": "no-cache"}
# Documents anyone may fetch, from a browser-based wallet too (CORS).
PUBLIC = {"Cache-Control": "public, max-age=300", "Access-Control-Allow-Origin": "*"}
#: The civil servants' routes answer in the API's error shape; every other route is protocol.
_OFFICIAL_ROUTES = ("/wallet/enrolments",)


@cache
def settings() -> WalletIssuerSettings:
    return WalletIssuerSettings.from_env()


@cache
def issuer() -> WalletIssuer:
    return WalletIssuer.from_settings(settings())


@cache
def verifier() -> TokenVerifier:
    return TokenVerifier.from_settings(settings())


# ------------------------------------------------------------------ the request


def _header(name: str) -> str | None:
    # Powertools' headers are case-insensitive.
    value = app.current_event.headers.get(name)
    return None if value is None else str(value)


def _content_type() -> str:
    return (_header("content-type") or "").split(";")[0].strip().lower()


def _raw_body() -> bytes:
    event = app.current_event
    return proxy_body(event.body, base64_encoded=event.is_base64_encoded)


def _official() -> Principal:
    return verifier().require(_header("authorization"), CIVIL_SERVANT)


def _json(body: Any, status: int = 200, headers: dict[str, str] | None = None) -> Response[str]:
    return Response(
        status_code=status,
        content_type=_JSON,
        body=json.dumps(body, ensure_ascii=False),
        headers=headers or {},
    )


# ------------------------------------------------------------------ published documents


@app.get("/.well-known/openid-credential-issuer")
def credential_issuer_metadata() -> Response[str]:
    return _json(issuer().credential_issuer_metadata(), headers=PUBLIC)


@app.get("/.well-known/oauth-authorization-server")
def authorization_server_metadata() -> Response[str]:
    return _json(issuer().authorization_server_metadata(), headers=PUBLIC)


@app.get("/.well-known/jwt-vc-issuer")
def jwt_vc_issuer_metadata() -> Response[str]:
    return _json(issuer().jwt_vc_issuer_metadata(), headers=PUBLIC)


@app.get("/wallet/offers/<offer_id>")
def credential_offer(offer_id: str) -> Response[str]:
    return _json(issuer().offers.offer(offer_id), headers=NO_STORE)


@app.get("/wallet/status-lists/<list_id>")
def status_list(list_id: str) -> Response[str]:
    token = issuer().statuses.list_token(list_id)
    ttl = int(STATUS_LIST_TTL.total_seconds())
    return Response(
        status_code=200,
        content_type="application/statuslist+jwt",
        body=token,
        headers={"Cache-Control": f"public, max-age={ttl}", "Access-Control-Allow-Origin": "*"},
    )


# ------------------------------------------------------------------ OpenID4VCI


@app.post("/wallet/token")
def token() -> Response[str]:
    if _content_type() != _FORM:
        raise InvalidRequest(f"the token request must be {_FORM}")
    form = form_body(_raw_body(), limit=MAX_REQUEST_BYTES)
    answer = issuer().tokens.exchange(form)
    metrics.add_metric(name="WalletTokensIssued", unit="Count", value=1)
    return _json(answer, headers=NO_STORE)


@app.post("/wallet/nonce")
def nonce() -> Response[str]:
    return _json({"c_nonce": issuer().nonces.issue()}, headers=NO_STORE)


@app.post("/wallet/credential")
def credential() -> Response[str]:
    service = issuer().credentials
    grant = service.access(_header("authorization"))
    if _content_type() != _JSON:
        raise InvalidCredentialRequest(f"the credential request must be {_JSON}")
    request = json_body(_raw_body(), limit=MAX_REQUEST_BYTES, what="body")
    answer = service.issue(grant, request)
    metrics.add_metric(name="WalletCredentialsIssued", unit="Count", value=1)
    return _json(answer, headers=NO_STORE)


# ------------------------------------------------------------------ civil servants


@app.post("/wallet/enrolments")
def enrol() -> Response[str]:
    official = _official()
    if _content_type() not in (_JSON, ""):
        raise UnsupportedFormat(f"Content-Type {_content_type()}: send {_JSON}")
    body = json_body(_raw_body(), limit=MAX_REQUEST_BYTES, what="body")
    made = issuer().offers.enrol(official, body)
    logger.info("enrolled", extra={"enrolment_id": made.enrolment_id, "official": official.subject})
    metrics.add_metric(name="WalletEnrolments", unit="Count", value=1)
    return _json(made.answer(), status=201, headers=NO_STORE)


def _change_status(enrolment_id: str, action: str) -> Response[str]:
    official = _official()
    answer = issuer().statuses.change(official, enrolment_id, action)
    logger.info(
        "status changed",
        extra={"enrolment_id": enrolment_id, "action": action, "official": official.subject},
    )
    return _json(answer, headers=NO_STORE)


@app.post("/wallet/enrolments/<enrolment_id>/revoke")
def revoke(enrolment_id: str) -> Response[str]:
    return _change_status(enrolment_id, "revoke")


@app.post("/wallet/enrolments/<enrolment_id>/suspend")
def suspend(enrolment_id: str) -> Response[str]:
    return _change_status(enrolment_id, "suspend")


@app.post("/wallet/enrolments/<enrolment_id>/reinstate")
def reinstate(enrolment_id: str) -> Response[str]:
    return _change_status(enrolment_id, "reinstate")


# ------------------------------------------------------------------ errors, in one place


def _official_route() -> bool:
    resource = str(app.current_event.resource or "")
    return resource.startswith(_OFFICIAL_ROUTES)


@app.exception_handler(Exception)
def error(exc: Exception) -> Response[str]:
    """Every error as HTTP: the API's shape on the officials' routes, OAuth's on the rest."""
    if _official_route():
        answer = error_answer(exc, logger, metrics)
        return _json(answer.body, answer.status, {**NO_STORE, **answer.headers})
    return _oauth_error(exc)


def _oauth_error(exc: Exception) -> Response[str]:
    if isinstance(exc, OAuthError):
        error, status = exc.error, exc.status
    elif isinstance(exc, ContentTooLarge):
        error, status = "invalid_request", 413
    elif isinstance(exc, InvalidInput):
        # A body that is no JSON or form at all.
        on_credential = str(app.current_event.resource) == "/wallet/credential"
        error, status = ("invalid_credential_request" if on_credential else "invalid_request"), 400
    else:  # OAuth has no word for it: ours to fix, logged and never shown
        logger.exception("unhandled error", exc_info=exc)
        metrics.add_metric(name="Http500", unit="Count", value=1)
        body = {"error": "server_error", "error_description": INTERNAL_ERROR}
        return _json(body, status=500, headers=dict(NO_STORE))
    metrics.add_metric(name=f"Http{status}", unit="Count", value=1)
    description = safe_description(exc.message)
    headers = dict(NO_STORE)
    if isinstance(exc, MissingToken):
        headers["WWW-Authenticate"] = 'Bearer realm="gyeonggi-wallet"'
    elif isinstance(exc, InvalidToken | InsufficientScope):
        headers["WWW-Authenticate"] = (
            f'Bearer realm="gyeonggi-wallet", error="{error}", error_description="{description}"'
        )
    return _json({"error": error, "error_description": description}, status, headers)


@logger.inject_lambda_context(correlation_id_path=correlation_paths.API_GATEWAY_REST)
@tracer.capture_lambda_handler
@metrics.log_metrics
def handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    """API Gateway REST proxy events in, proxy responses out."""
    return app.resolve(event, context)
