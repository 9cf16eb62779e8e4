"""The HTTP API: one Chalice app behind API Gateway (and ``127.0.0.1:8000`` locally).

The routes are in ``chalicelib/``, one Blueprint per group: Open311 GeoReport v2, the native
complaints API, the ops view and safety incidents. What they share is :mod:`chalicelib.web` (the
request, its caller and format, the error mapping) and :mod:`chalicelib.resources` (settings and
stores).
"""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools.logging import correlation_paths
from chalice import Chalice

from chalicelib import complaints, open311, ops, safety, web
from chalicelib.web import logger, metrics, tracer

app = Chalice(app_name="gyeonggi-api")
# web's blueprint routes nothing; registered, it lets the shared helpers read the request.
app.register_blueprint(web.blueprint)
for group in (open311, complaints, ops, safety):
    app.register_blueprint(group.routes)


@logger.inject_lambda_context(correlation_id_path=correlation_paths.API_GATEWAY_REST)
@tracer.capture_lambda_handler
@metrics.log_metrics
def handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    """API Gateway REST proxy events in, proxy responses out."""
    return app(event, context)
