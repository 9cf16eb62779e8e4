"""The Data Dam's HTTP endpoints: the catalogue, analysts' queries, open data.

A function of its own for least privilege: it may start Athena queries in the Data Dam's
workgroup, read the lake's Glue tables and S3 objects and the query results; no other function
of the API holds those, and this one holds nothing else. Its package has no pyiceberg or
pyarrow: the Glue table and the Iceberg metadata JSON are read with boto3
(:mod:`gyeonggi.datadam.tables`).

Routes (docs/openapi.yaml, tag ``datadam``):

- ``GET /datadam/datasets``: the catalogue as DCAT JSON-LD, no token (portals harvest it)
- ``POST /datadam/queries``: run an analyst's SQL (role ``analyst``), the first page
- ``GET /datadam/queries/{query_id}``: a later page (``next``), JSON or CSV
- ``GET /datadam/open/{file}``: ``{dataset}.csv`` or ``{dataset}.json``, open data,
  aggregated and k-anonymous, no token

Domain errors become HTTP answers in one place, :func:`error`, in the API's
``[{code, description}]`` shape: bad SQL is a 400 with what was wrong, never a 500.
"""

from __future__ import annotations

import json
import time
from collections.abc import Mapping
from functools import cache
from typing import Any

from aws_lambda_powertools.event_handler import APIGatewayRestResolver, Response
from aws_lambda_powertools.logging import correlation_paths

from gyeonggi.auth import ANALYST, AuthSettings, Principal, TokenVerifier
from gyeonggi.common import clock
from gyeonggi.common.errors import InvalidInput
from gyeonggi.common.http import JSON, PRIVATE, error_answer, json_request_body
from gyeonggi.common.observability import observability
from gyeonggi.datadam.datasets import CATALOGUE, Dataset
from gyeonggi.datadam.dcat import catalog
from gyeonggi.datadam.engines import engine_from_settings
from gyeonggi.datadam.open_data import open_data, open_json, parse_open_request
from gyeonggi.datadam.queries import (
    QueryService,
    QuerySettings,
    format_of,
    next_token_of,
    page_json,
    page_size_of,
    parse_request,
    to_csv,
)
from gyeonggi.datadam.tables import Snapshot, TableLocator, TableNotLanded

logger, tracer, metrics = observability()
app = APIGatewayRestResolver()

_JSON_LD = "application/ld+json"
_CSV = "text/csv; charset=utf-8"
#: Open data and the catalogue change at most a few times an hour.
PUBLIC = {"Cache-Control": "public, max-age=300", "Access-Control-Allow-Origin": "*"}
#: How long the catalogue's snapshots are kept in this instance (each is a Glue and S3 call).
CATALOGUE_SECONDS = 300.0


class DatadamApiSettings(QuerySettings, AuthSettings):
    pass


settings = DatadamApiSettings.from_env()


@cache
def verifier() -> TokenVerifier:
    return TokenVerifier.from_settings(settings)


@cache
def service() -> QueryService:
    return QueryService.from_settings(settings, engine_from_settings(settings))


@cache
def locator() -> TableLocator:
    return settings.locator()


_snapshots: dict[str, tuple[float, Snapshot]] = {}


def snapshot_of(dataset: Dataset) -> Snapshot | None:
    """The dataset's current snapshot, kept a few minutes; ``None`` when nothing has landed.

    Only a snapshot is kept: a dataset with no table yet is asked again each time (one Glue
    call), so its first records show in the catalogue at once, not minutes later."""
    kept = _snapshots.get(dataset.id)
    if kept is not None and time.monotonic() - kept[0] < CATALOGUE_SECONDS:
        return kept[1]
    try:
        found = locator().snapshot(dataset.id)
    except TableNotLanded:
        return None
    _snapshots[dataset.id] = (time.monotonic(), found)
    return found


# ------------------------------------------------------------------ the request


def _analyst() -> Principal:
    return verifier().require(app.current_event.headers.get("authorization"), ANALYST)


def _query() -> dict[str, str]:
    return dict(app.current_event.query_string_parameters or {})


def _body() -> Any:
    event = app.current_event
    return json_request_body(
        event.headers.get("content-type"), event.body, base64_encoded=event.is_base64_encoded
    )


def _base_url() -> str:
    # API Gateway's own domain and stage, not the Host header (a caller writes that); the local
    # cloud's server sets no domain, and there the Host is this machine's.
    context = app.current_event.request_context
    domain = context.domain_name
    stage = context.stage or ""
    if domain is None:
        host = app.current_event.headers.get("host") or "127.0.0.1"
        local = host.split(":")[0] in ("127.0.0.1", "localhost")
        return f"http://{host}" if local else "https://localhost"
    if domain.endswith(".amazonaws.com") and stage:
        return f"https://{domain}/{stage}"
    return f"https://{domain}"


def _answer(
    body: Any, status: int = 200, headers: Mapping[str, str] | None = None, content_type: str = JSON
) -> Response[str]:
    text = body if isinstance(body, str) else json.dumps(body, ensure_ascii=False)
    return Response(status_code=status, content_type=content_type, body=text, headers=headers or {})


# ------------------------------------------------------------------ routes


@app.get("/datadam/datasets")
def list_datasets() -> Response[str]:
    document = catalog(CATALOGUE.values(), snapshot_of, _base_url())
    return _answer(document, headers=PUBLIC, content_type=_JSON_LD)


@app.post("/datadam/queries")
def post_query() -> Response[str]:
    principal = _analyst()
    request = parse_request(_body())
    run, page = service().submit(request)
    logger.info(
        "datadam query",
        extra={
            "query_id": run.query_id,
            "by": principal.subject,
            "engine": run.engine,
            "scanned_bytes": run.scanned_bytes,
            "elapsed_ms": run.elapsed_ms,
        },
    )
    metrics.add_metric(name="DatadamQueries", unit="Count", value=1)
    if run.scanned_bytes:
        metrics.add_metric(name="DatadamScannedBytes", unit="Bytes", value=run.scanned_bytes)
    location = {"Location": f"/datadam/queries/{run.query_id}"}
    if request.format == "csv":
        return _csv(page.columns, page.rows, page.next_token, {**PRIVATE, **location})
    body = page_json(run, page, service().max_rows)
    return _answer(body, headers={**PRIVATE, **location})


@app.get("/datadam/queries/<query_id>")
def get_query_page(query_id: str) -> Response[str]:
    _analyst()
    query = _query()
    unknown = sorted(set(query) - {"next", "page_size", "format"})
    if unknown:
        raise InvalidInput(f"{unknown[0]}: not a parameter (next, page_size, format)")
    fmt = format_of(query.get("format", "json"))
    token = next_token_of(query.get("next"))
    page = service().page(query_id, token, page_size_of(query.get("page_size", "100")))
    if fmt == "csv":
        return _csv(page.columns, page.rows, page.next_token, PRIVATE)
    return _answer(page_json(None, page), headers=PRIVATE)


@app.get("/datadam/open/<file>")
def get_open_data(file: str) -> Response[str]:
    request = parse_open_request(file, _query(), clock.now().astimezone(clock.KST).date())
    columns, rows = open_data(service(), request)
    metrics.add_metric(name="DatadamOpenDownloads", unit="Count", value=1)
    disposition = {
        "Content-Disposition": f'inline; filename="{request.dataset.id}.{request.format}"'
    }
    if request.format == "csv":
        names = [c.name for c in columns]
        text = to_csv(columns, [[row.get(n) for n in names] for row in rows])
        return _answer(text, headers={**PUBLIC, **disposition}, content_type=_CSV)
    return _answer(open_json(request, rows), headers={**PUBLIC, **disposition})


def _csv(
    columns: Any, rows: Any, next_token: str | None, headers: Mapping[str, str]
) -> Response[str]:
    extra = {"X-Next-Page": next_token} if next_token else {}
    return _answer(to_csv(columns, rows), headers={**headers, **extra}, content_type=_CSV)


# ------------------------------------------------------------------ errors, in one place


@app.exception_handler(Exception)
def error(exc: Exception) -> Response[str]:
    answer = error_answer(exc, logger, metrics)
    return _answer(answer.body, answer.status, {**PRIVATE, **answer.headers})


@app.not_found
def no_route(exc: Exception) -> Response[str]:
    return _answer([{"code": 404, "description": "no such resource or method"}], 404, PRIVATE)


@logger.inject_lambda_context(correlation_id_path=correlation_paths.API_GATEWAY_REST)
@tracer.capture_lambda_handler(capture_response=False)
@metrics.log_metrics
def handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    """API Gateway REST proxy events in, proxy responses out. Responses are not traced: they
    hold query results."""
    return app.resolve(event, context)
