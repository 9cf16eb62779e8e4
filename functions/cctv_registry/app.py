"""The CCTV registry's HTTP endpoints: cameras, their segments, audited views, the audit.

A function of its own rather than routes of the Chalice API, for least privilege: its role is
the only one that may read the CCTV bucket's video (a presigned link carries its signer's
permission, so whoever may sign may show any video), and it holds the registry's three tables;
the API function keeps neither. Its cold start also skips Chalice and the complaint code.

Routes (docs/openapi.yaml, tag ``cctv``; role ``operator``, scoped by ``custom:jurisdictions``
or the ``province`` group, :mod:`gyeonggi.cctv.access`):

- ``GET /cctv/cameras`` and ``POST /cctv/cameras``
- ``GET /cctv/cameras/{camera_id}`` and ``PATCH /cctv/cameras/{camera_id}``
- ``GET /cctv/cameras/{camera_id}/segments``
- ``POST /cctv/cameras/{camera_id}/view``: a link for minutes, after its audit record
- ``GET /cctv/audit``

The domain is :mod:`gyeonggi.cctv.registry`; domain errors become HTTP answers in one place,
:func:`error`, in the API's ``[{code, description}]`` shape.
"""

from __future__ import annotations

import json
from datetime import timedelta
from functools import cache
from typing import Any

from aws_lambda_powertools.event_handler import APIGatewayRestResolver, Response
from aws_lambda_powertools.logging import correlation_paths

from gyeonggi.auth import AuthSettings, Principal, TokenVerifier
from gyeonggi.cctv.access import ROLES
from gyeonggi.cctv.audit import AuditLog
from gyeonggi.cctv.health import HealthStore
from gyeonggi.cctv.registry import CameraRegistry
from gyeonggi.cctv.store import CameraStore
from gyeonggi.cctv.videos import VideoBucket
from gyeonggi.common import clock
from gyeonggi.common.http import JSON, PRIVATE, error_answer, json_request_body
from gyeonggi.common.observability import observability

logger, tracer, metrics = observability()
app = APIGatewayRestResolver()


class RegistrySettings(AuthSettings):
    cctv_cameras_table: str
    cctv_health_table: str
    cctv_audit_table: str
    cctv_bucket: str
    #: A camera silent this long is offline (the health sweep's threshold too).
    camera_offline_after_seconds: int = 180


settings = RegistrySettings.from_env()


@cache
def verifier() -> TokenVerifier:
    return TokenVerifier.from_settings(settings)


@cache
def registry() -> CameraRegistry:
    return CameraRegistry(
        CameraStore(settings.cctv_cameras_table),
        HealthStore(settings.cctv_health_table),
        AuditLog(settings.cctv_audit_table),
        VideoBucket(settings.cctv_bucket),
        offline_after=timedelta(seconds=settings.camera_offline_after_seconds),
    )


# ------------------------------------------------------------------ the request


def _operator() -> Principal:
    return verifier().require(app.current_event.headers.get("authorization"), *ROLES)


def _query() -> dict[str, str]:
    return dict(app.current_event.query_string_parameters or {})


def _body() -> Any:
    event = app.current_event
    return json_request_body(
        event.headers.get("content-type"), event.body, base64_encoded=event.is_base64_encoded
    )


def _json(body: Any, status: int = 200, headers: dict[str, str] | None = None) -> Response[str]:
    return Response(
        status_code=status,
        content_type=JSON,
        body=json.dumps(body, ensure_ascii=False),
        headers={**PRIVATE, **(headers or {})},
    )


# ------------------------------------------------------------------ routes


@app.get("/cctv/cameras")
def list_cameras() -> Response[str]:
    return _json(registry().list(_operator(), _query(), clock.now()))


@app.post("/cctv/cameras")
def create_camera() -> Response[str]:
    principal = _operator()
    created = registry().create(principal, _body(), clock.now())
    logger.info(
        "camera created", extra={"camera_id": created["camera_id"], "by": principal.subject}
    )
    metrics.add_metric(name="CamerasCreated", unit="Count", value=1)
    location = f"/cctv/cameras/{created['camera_id']}"
    return _json(created, 201, {"Location": location})


@app.get("/cctv/cameras/<camera_id>")
def get_camera(camera_id: str) -> Response[str]:
    return _json(registry().read(_operator(), camera_id, clock.now()))


@app.patch("/cctv/cameras/<camera_id>")
def patch_camera(camera_id: str) -> Response[str]:
    principal = _operator()
    body = _body()
    changed = registry().patch(principal, camera_id, body, clock.now())
    # Text, not a list: the masking log filter takes mappings and text only.
    changes = ",".join(sorted(body)) if isinstance(body, dict) else ""
    logger.info(
        "camera changed",
        extra={"camera_id": camera_id, "by": principal.subject, "fields": changes},
    )
    return _json(changed)


@app.get("/cctv/cameras/<camera_id>/segments")
def list_segments(camera_id: str) -> Response[str]:
    return _json(registry().segments(_operator(), camera_id, _query()))


@app.post("/cctv/cameras/<camera_id>/view")
def view_video(camera_id: str) -> Response[str]:
    principal = _operator()
    context = app.current_event.request_context
    link = registry().view_video(
        principal,
        camera_id,
        _body(),
        clock.now(),
        source_ip=context.identity.source_ip,
        request_id=context.request_id,
    )
    # The audit record is the record of the view; the log line says it was given, never why
    # (the reason may name a person).
    logger.info(
        "video link given",
        extra={"camera_id": camera_id, "view_id": link.record.view_id, "by": principal.subject},
    )
    metrics.add_metric(name="CctvViews", unit="Count", value=1)
    return _json(link.to_json())


@app.get("/cctv/audit")
def read_audit() -> Response[str]:
    return _json(registry().audit_page(_operator(), _query()))


# ------------------------------------------------------------------ errors, in one place


@app.exception_handler(Exception)
def error(exc: Exception) -> Response[str]:
    answer = error_answer(exc, logger, metrics)
    return _json(answer.body, answer.status, dict(answer.headers))


@app.not_found
def no_route(exc: Exception) -> Response[str]:
    # API Gateway routes only the template's paths here; a path it decoded into something no
    # route matches (a camera id with "/") is the same 404 as an unknown camera.
    return _json([{"code": 404, "description": "no such resource or method"}], 404)


@logger.inject_lambda_context(correlation_id_path=correlation_paths.API_GATEWAY_REST)
@tracer.capture_lambda_handler(capture_response=False)
@metrics.log_metrics
def handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    """API Gateway REST proxy events in, proxy responses out. Responses are not traced: they
    hold video links."""
    return app.resolve(event, context)
