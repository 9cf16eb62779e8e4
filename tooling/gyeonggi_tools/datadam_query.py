"""``gyeonggi datadam query "SQL"`` and ``gyeonggi datadam datasets``: the Data Dam over HTTP.

Both call the stack's own API, as an analyst's script would: against a running
``gyeonggi local up`` by default (its API URL, and an ``analyst`` token from its local issuer),
or a deployed stack with ``--url`` and a Cognito ID token in ``GYEONGGI_TOKEN``. A query's pages
are followed to the end (at most ``--max-rows``), printed as CSV (default) or one JSON
document; a refused query prints the API's reason and exits 2.
"""

from __future__ import annotations

import argparse
import csv
import json
import os
import sys
import urllib.error
import urllib.parse
import urllib.request
from pathlib import Path
from typing import Any

#: Each HTTP call waits at most this long (the API answers within 29 s).
TIMEOUT_SECONDS = 35.0
#: Pages followed at most (10,000 rows at 1,000 a page, with room).
MAX_PAGES = 20


def add_commands(commands: Any) -> None:
    """The query side's commands of the ``datadam`` group (``commands`` is its subparsers)."""
    query = commands.add_parser(
        "query",
        help="run read-only SQL (Trino dialect) on the Data Dam; CSV or JSON out",
        description="One SELECT over the catalogued tables (e.g. "
        "gyeonggi_datadam.complaint_daily_counts), run by the stack's API: DuckDB in the local "
        "cloud, Athena in AWS. Refused SQL prints why and exits 2.",
    )
    query.add_argument("sql", help='e.g. "SELECT count(*) FROM complaints"')
    query.add_argument("--format", choices=("csv", "json"), default="csv")
    query.add_argument("--max-rows", type=int, default=10_000, help="stop after this many rows")
    query.add_argument("--page-size", type=int, default=1000, help="rows per request (1-1000)")
    _target(query)
    datasets = commands.add_parser(
        "datasets", help="the catalogue: one line per dataset (or the DCAT JSON-LD with --dcat)"
    )
    datasets.add_argument("--dcat", action="store_true", help="print the DCAT JSON-LD document")
    _target(datasets)


def _target(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--url",
        help="a deployed stack's API URL (token from GYEONGGI_TOKEN); "
        "default: the running `gyeonggi local up`",
    )


COMMANDS = ("query", "datasets")


def run(args: argparse.Namespace, state_dir: Path) -> int:
    """Dispatch one query-side ``datadam`` command; returns the exit status."""
    try:
        base, token = _where(args, state_dir)
        if args.command == "query":
            return _query(args, base, token)
        return _datasets(args, base)
    except ApiRefused as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    except (urllib.error.URLError, TimeoutError, ConnectionError) as exc:
        print(f"error: the API did not answer: {exc}", file=sys.stderr)
        return 1


class ApiRefused(Exception):
    """The API answered with an error; the message is its description."""


def _where(args: argparse.Namespace, state_dir: Path) -> tuple[str, str | None]:
    if args.url:
        return args.url.rstrip("/"), os.environ.get("GYEONGGI_TOKEN")
    from localcloud.issuer import LocalIssuer
    from localcloud.up import running_api_url

    token = LocalIssuer.load(state_dir).mint(["analyst"]) if args.command == "query" else None
    return running_api_url(state_dir).rstrip("/"), token


def _call(method: str, url: str, token: str | None, body: Any = None) -> tuple[Any, dict[str, str]]:
    data = None if body is None else json.dumps(body).encode()
    request = urllib.request.Request(url, data=data, method=method)
    if data is not None:
        request.add_header("Content-Type", "application/json")
    if token:
        request.add_header("Authorization", f"Bearer {token}")
    try:
        with urllib.request.urlopen(request, timeout=TIMEOUT_SECONDS) as answer:
            return json.loads(answer.read()), dict(answer.headers)
    except urllib.error.HTTPError as exc:
        try:
            problems = json.loads(exc.read())
            reason = "; ".join(str(p.get("description")) for p in problems)
        except (ValueError, AttributeError, TypeError):
            reason = exc.reason
        raise ApiRefused(f"{exc.code}: {reason}") from None


def _query(args: argparse.Namespace, base: str, token: str | None) -> int:
    page, _ = _call(
        "POST",
        f"{base}/datadam/queries",
        token,
        {"sql": args.sql, "page_size": max(1, min(args.page_size, 1000))},
    )
    columns = [c["name"] for c in page["columns"]]
    rows: list[list[Any]] = list(page["rows"])
    for _ in range(MAX_PAGES):
        if page["next"] is None or len(rows) >= args.max_rows:
            break
        query = urllib.parse.urlencode({"next": page["next"], "page_size": args.page_size})
        page, _ = _call("GET", f"{base}/datadam/queries/{page['query_id']}?{query}", token)
        rows.extend(page["rows"])
    rows = rows[: args.max_rows]
    if args.format == "json":
        print(json.dumps({"columns": page["columns"], "rows": rows}, ensure_ascii=False))
    else:
        writer = csv.writer(sys.stdout, lineterminator="\n")
        writer.writerow(columns)
        writer.writerows(["" if v is None else v for v in row] for row in rows)
    return 0


def _datasets(args: argparse.Namespace, base: str) -> int:
    document, _ = _call("GET", f"{base}/datadam/datasets", None)
    if args.dcat:
        print(json.dumps(document, ensure_ascii=False, indent=2))
        return 0
    for node in document.get("dcat:dataset", []):
        title = next(
            (t["@value"] for t in node.get("dct:title", []) if t.get("@language") == "en"), ""
        )
        rows = node.get("datadam:rowCount")
        modified = (node.get("dct:modified") or {}).get("@value", "-")
        access = "open" if node.get("datadam:open") else "internal"
        count = "not landed" if rows is None else f"{rows} rows"
        print(f"{node['dct:identifier']}\t{access}\t{count}\t{modified}\t{title}")
    return 0
