"""For operators and civil servants: the intake's queues and the ops view of volumes."""

from __future__ import annotations

from datetime import UTC, datetime

from chalice import Blueprint, Response

from chalicelib import resources, web
from gyeonggi.auth import Principal
from gyeonggi.common.http import PRIVATE
from gyeonggi.complaints.chart import render_series_svg
from gyeonggi.complaints.counts import korean_day
from gyeonggi.complaints.dashboard import VolumeQuery, parse_volume_query, volumes_view
from gyeonggi.complaints.dashboard_page import content_security_policy, page_html, script_js
from gyeonggi.complaints.ops import intake_status

routes = Blueprint(__name__)


def _text(body: str, content_type: str, headers: dict[str, str]) -> Response:
    merged: dict[str, str | list[str]] = {
        "Content-Type": content_type,
        "X-Content-Type-Options": "nosniff",
        **headers,
    }
    return Response(body=body, status_code=200, headers=merged)


def _within(principal: Principal, query: VolumeQuery) -> frozenset[str] | None:
    """The jurisdictions the view may show: one asked for must be the caller's (403 if not),
    the overview is cut to the caller's (403 when their token names none)."""
    if query.jurisdiction_id is not None:
        principal.require_jurisdiction(query.jurisdiction_id)
        return None
    return principal.visible_jurisdictions()


@routes.route("/ops/status", methods=["GET"])
@web.answer
def ops_status() -> Response:
    # Queue depths only, no complaint and no jurisdiction: every operator and civil servant.
    web.principal("operator", "civil-servant")
    s = resources.settings()
    return web.json_response(
        intake_status(
            intake_queue_url=s.intake_queue_url,
            dead_letter_queue_url=s.intake_dlq_url,
            failure_queue_url=s.intake_failure_queue_url,
        )
    )


@routes.route("/ops/volumes.json", methods=["GET"])
@web.answer
def ops_volumes() -> Response:
    principal = web.principal("operator", "civil-servant")
    today = korean_day(datetime.now(UTC))
    query = parse_volume_query(web.query(), today)
    view = volumes_view(query, resources.volumes(), today, _within(principal, query))
    return web.json_response(view, headers=PRIVATE)


@routes.route("/ops/volumes.svg", methods=["GET"])
@web.answer
def ops_volumes_svg() -> Response:
    principal = web.principal("operator", "civil-servant")
    today = korean_day(datetime.now(UTC))
    query = parse_volume_query(web.query(), today, require_series=True)
    view = volumes_view(query, resources.volumes(), today, _within(principal, query))
    svg = render_series_svg(view)
    # An SVG opened on its own is a document: it may run nothing and load nothing.
    csp = {"Content-Security-Policy": "default-src 'none'; style-src 'unsafe-inline'"}
    return _text(svg, "image/svg+xml; charset=utf-8", {**PRIVATE, **csp})


@routes.route("/ops/dashboard", methods=["GET"])
@web.answer
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


@routes.route("/ops/dashboard.js", methods=["GET"])
@web.answer
def ops_dashboard_js() -> Response:
    return _text(script_js(), "text/javascript; charset=utf-8", {"Cache-Control": "no-cache"})
