"""The OpenID4VP verifier's HTTP endpoints (API Gateway REST proxy events, one function).

A function of its own rather than routes of the Chalice API: its cold start stays small (no
Chalice, no complaint code; ``cryptography``, ``segno`` and boto3 load on the first request
that needs them), its role holds only the verifier's table, key and certificate parameter,
and the wallet-facing endpoints answer in OAuth's error shape, not Open311's.

Routes (docs/openapi.yaml, tag ``wallet-verifier``):

- ``POST /verifier/requests`` (civil servant or operator): a presentation request for a DCQL
  query; ``GET /verifier/requests/{request_id}`` and ``.../qr.png``: the result and the QR code,
  for the official who created it. Errors: ``[{"code", "description"}]`` as the rest of the API.
- ``GET /verifier/request-objects/{request_id}`` (the wallet): the signed request object;
  ``POST /verifier/responses`` (the wallet, ``direct_post``): its answer. Errors:
  ``{"error", "error_description"}`` (RFC 6749, 5.2; OpenID4VP 1.0, 8.5).

Domain errors become HTTP answers in one place, :func:`_error_answer`.
"""

from __future__ import annotations

import base64
import json
from collections.abc import Callable
from functools import cache
from typing import Any

from gyeonggi.auth import AuthSettings, TokenVerifier
from gyeonggi.common import clock
from gyeonggi.common.config import ConfigurationError
from gyeonggi.common.errors import (
    DomainError,
    UnsupportedFormat,
    http_status,
)
from gyeonggi.common.messages import MAX_REQUEST_BYTES, form_body, json_body, proxy_body
from gyeonggi.common.observability import observability
from gyeonggi.wallet.presentation_requests import (
    PresentationRequest,
    PresentationRequestStore,
    RequestExpired,
)
from gyeonggi.wallet.verifier_service import Verifier

logger, tracer, metrics = observability()

ROLES = ("civil-servant", "operator")
_JSON = "application/json; charset=utf-8"
_NO_STORE = {"Cache-Control": "no-store"}


class VerifierSettings(AuthSettings):
    presentation_requests_table: str
    verifier_key_id: str
    verifier_certificate_parameter: str
    #: Issuer identifiers whose credentials are accepted (spaces or commas between them).
    wallet_trusted_issuers: str = ""
    #: The API's public base URL, when it is not the host API Gateway names in each event
    #: (a custom domain with a base path).
    verifier_base_url: str = ""
    request_lifetime_seconds: int = 600
    result_retention_seconds: int = 3600


settings = VerifierSettings.from_env()

# Beyond the house's statuses: a request past its lifetime is gone, and a verifier without its
# configuration is unavailable (our fault, worth a retry).
_OWN_STATUS: dict[type[DomainError], int] = {RequestExpired: 410, ConfigurationError: 503}


@cache
def tokens() -> TokenVerifier:
    return TokenVerifier.from_settings(settings)


@cache
def verifier() -> Verifier:
    from datetime import timedelta

    from gyeonggi.wallet.issuer_trust import IssuerTrust
    from gyeonggi.wallet.jose import KmsSigner
    from gyeonggi.wallet.request_objects import RequestObjectSigner, SsmCertificateChain
    from gyeonggi.wallet.status_checks import StatusListCache

    trust = IssuerTrust.from_text(settings.wallet_trusted_issuers)
    return Verifier(
        PresentationRequestStore(settings.presentation_requests_table),
        RequestObjectSigner(
            KmsSigner(settings.verifier_key_id),
            SsmCertificateChain(settings.verifier_certificate_parameter),
        ),
        trust,
        StatusListCache(trust),
        lifetime=timedelta(seconds=settings.request_lifetime_seconds),
        retention=timedelta(seconds=settings.result_retention_seconds),
    )


# ---------------------------------------------------------------------- the officials' routes


def create_request(event: dict[str, Any]) -> dict[str, Any]:
    caller = tokens().require(_header(event, "authorization"), *ROLES)
    _require_type(event, "application/json")
    body = json_body(_body(event), limit=MAX_REQUEST_BYTES, what="body")
    created = verifier().create(
        body, created_by=caller.subject, base_url=_base_url(event), now=clock.now()
    )
    request = created.request
    logger.info(
        "presentation request created",
        extra={
            "request_id": request.request_id,
            "credential_queries": len(request.dcql_query["credentials"]),
        },
    )
    metrics.add_metric(name="PresentationRequestsCreated", unit="Count", value=1)
    location = f"{_base_url(event)}/verifier/requests/{request.request_id}"
    return _json(
        201,
        {
            "request_id": request.request_id,
            "request_uri": created.authorization_uri,
            "request_object_uri": request.request_uri,
            "client_id": request.client_id,
            "nonce": request.nonce,
            "state": request.request_id,
            "response_uri": request.response_uri,
            "expires_at": request.expires_at.isoformat(),
            "qr_code": location + "/qr.png",
            "links": {"self": location, "qr_code": location + "/qr.png"},
        },
        {"Location": location, **_NO_STORE},
    )


def get_request(event: dict[str, Any]) -> dict[str, Any]:
    caller = tokens().require(_header(event, "authorization"), *ROLES)
    request = verifier().request_for(_path(event, "request_id"), caller.subject)
    return _json(200, _view(request), {**_NO_STORE, "Vary": "Authorization"})


def get_qr_code(event: dict[str, Any]) -> dict[str, Any]:
    import io

    import segno

    caller = tokens().require(_header(event, "authorization"), *ROLES)
    service = verifier()
    request = service.request_for(_path(event, "request_id"), caller.subject)
    out = io.BytesIO()
    # Level M: a phone reads it from a counter screen; the URI holds two short URLs.
    segno.make(service.authorization_uri(request), error="m").save(
        out, kind="png", scale=8, border=4
    )
    return {
        "statusCode": 200,
        "headers": {"Content-Type": "image/png", **_NO_STORE, "Vary": "Authorization"},
        "body": base64.b64encode(out.getvalue()).decode("ascii"),
        "isBase64Encoded": True,
    }


def _view(request: PresentationRequest) -> dict[str, Any]:
    status = request.status(clock.now())
    view: dict[str, Any] = {
        "request_id": request.request_id,
        "status": status.value,
        "created_at": request.created_at.isoformat(),
        "expires_at": request.expires_at.isoformat(),
        "purpose": request.purpose,
        "dcql_query": request.dcql_query,
        "client_id": request.client_id,
    }
    if request.outcome is not None and request.answered_at is not None:
        view["answered_at"] = request.answered_at.isoformat()
        outcome = request.outcome.to_json()
        if request.outcome.verified:
            view["credentials"] = outcome["credentials"]
            view["discarded_claims"] = outcome["discarded_claims"]
        else:
            view["failure"] = {"reason": outcome["reason"], "message": outcome["message"]}
    return view


# ---------------------------------------------------------------------- the wallet's routes


def get_request_object(event: dict[str, Any]) -> dict[str, Any]:
    request_id = _path(event, "request_id")
    token = verifier().request_object(request_id, clock.now())
    logger.info("request object served", extra={"request_id": request_id})
    return {
        "statusCode": 200,
        "headers": {"Content-Type": "application/oauth-authz-req+jwt", **_NO_STORE},
        "body": token,
    }


def post_response(event: dict[str, Any]) -> dict[str, Any]:
    _require_type(event, "application/x-www-form-urlencoded")
    form = form_body(_body(event), limit=MAX_REQUEST_BYTES)
    received = verifier().receive(form, clock.now())
    outcome = received.outcome
    logger.info(
        "presentation answered",
        extra={
            "request_id": received.request_id,
            "outcome": "verified" if outcome.verified else "failed",
            "reason": outcome.reason,
            "credentials": len(outcome.credentials),
            "discarded_claims": outcome.discarded_claims,
        },
    )
    metrics.add_metric(
        name="PresentationsVerified" if outcome.verified else "PresentationsRejected",
        unit="Count",
        value=1,
    )
    if outcome.verified or outcome.reason == "wallet_error":
        # OpenID4VP 1.0, 8.2: a processed response is answered 200 with a JSON object.
        return _json(200, {}, _NO_STORE)
    return _oauth_error(400, "invalid_request", f"presentation not accepted: {outcome.reason}")


# ---------------------------------------------------------------------- routing and answers

#: Who reads a route's errors: officials (the API's shape) or a wallet (OAuth's shape), at the
#: request URI (an unknown request is 404) or the response URI (every refusal is a 400).
OFFICIAL, REQUEST_URI, RESPONSE_URI = "official", "request_uri", "response_uri"

_ROUTES: dict[tuple[str, str], tuple[Callable[[dict[str, Any]], dict[str, Any]], str]] = {
    ("POST", "/verifier/requests"): (create_request, OFFICIAL),
    ("GET", "/verifier/requests/{request_id}"): (get_request, OFFICIAL),
    ("GET", "/verifier/requests/{request_id}/qr.png"): (get_qr_code, OFFICIAL),
    ("GET", "/verifier/request-objects/{request_id}"): (get_request_object, REQUEST_URI),
    ("POST", "/verifier/responses"): (post_response, RESPONSE_URI),
}


def _error_answer(exc: DomainError, reader: str) -> dict[str, Any]:
    """The one mapping of domain errors to answers: the officials' shape or OAuth's."""
    status = http_status(exc, _OWN_STATUS) or 500
    metrics.add_metric(name=f"Http{status}", unit="Count", value=1)
    if status >= 500:
        logger.error("verifier not available", extra={"error": exc.code, "detail": exc.message})
        message = "the verifier is not available; it has been logged, try again later"
    else:
        message = exc.message
    if reader == OFFICIAL:
        headers = {}
        if status == 401:
            headers["WWW-Authenticate"] = 'Bearer realm="gyeonggi"'
        return _json(status, [{"code": status, "description": message}], headers)
    if status >= 500:
        return _oauth_error(status, "temporarily_unavailable", message)
    if reader == REQUEST_URI:
        # The wallet stops at any HTTP error here (OpenID4VP 1.0, 5.10.2).
        return _oauth_error(
            status, "invalid_request_uri" if status == 404 else "invalid_request", message
        )
    # The response URI: a response for an unknown, answered or expired request, or one that is
    # not a form, is the wallet's invalid_request (RFC 6749, 5.2), status 400.
    return _oauth_error(413 if status == 413 else 400, "invalid_request", message)


def _oauth_error(status: int, error: str, description: str) -> dict[str, Any]:
    # error_description holds printable ASCII without '"' and '\' only (RFC 6749, 5.2).
    printable = "".join(c for c in description if 0x20 <= ord(c) < 0x7F and c not in '"\\')
    return _json(status, {"error": error, "error_description": printable[:300]}, _NO_STORE)


def _json(status: int, body: Any, headers: dict[str, str] | None = None) -> dict[str, Any]:
    return {
        "statusCode": status,
        "headers": {"Content-Type": _JSON, **(headers or {})},
        "body": json.dumps(body, ensure_ascii=False),
    }


def _header(event: dict[str, Any], name: str) -> str | None:
    for key, value in (event.get("headers") or {}).items():
        if key.lower() == name:
            return str(value)
    return None


def _path(event: dict[str, Any], name: str) -> str:
    return str((event.get("pathParameters") or {}).get(name) or "")


def _body(event: dict[str, Any]) -> bytes:
    return proxy_body(event.get("body"), base64_encoded=bool(event.get("isBase64Encoded")))


def _require_type(event: dict[str, Any], expected: str) -> None:
    given = (_header(event, "content-type") or expected).split(";")[0].strip().lower()
    if given != expected:
        raise UnsupportedFormat(f"Content-Type {given}: send {expected}")


def _base_url(event: dict[str, Any]) -> str:
    """The API's public base URL: configured, else API Gateway's host and stage, else (the
    local cloud, which names no domain) the Host the request came to."""
    if settings.verifier_base_url:
        return settings.verifier_base_url.rstrip("/")
    context = event.get("requestContext") or {}
    domain = context.get("domainName")
    if domain:
        stage = context.get("stage")
        prefix = f"/{stage}" if ".execute-api." in str(domain) and stage else ""
        return f"https://{domain}{prefix}"
    return f"http://{_header(event, 'host') or '127.0.0.1'}"


@logger.inject_lambda_context
@tracer.capture_lambda_handler(capture_response=False)
@metrics.log_metrics
def handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    """API Gateway REST proxy events in, proxy responses out. Never a claim in a trace or
    a log: the tracer does not capture responses."""
    route = _ROUTES.get((str(event.get("httpMethod")), str(event.get("resource"))))
    if route is None:
        return _json(404, [{"code": 404, "description": "no such resource or method"}])
    view, reader = route
    try:
        return view(event)
    except DomainError as exc:
        return _error_answer(exc, reader)
    except Exception:
        logger.exception("unhandled error")
        metrics.add_metric(name="Http500", unit="Count", value=1)
        if reader != OFFICIAL:
            return _oauth_error(500, "server_error", "internal error; it has been logged")
        return _json(500, [{"code": 500, "description": "internal error; it has been logged"}])
