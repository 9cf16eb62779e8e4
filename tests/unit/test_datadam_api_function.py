"""The Data Dam function's handler with the sample events of ``events/datadam_api/``: the DCAT
catalogue with the lake's snapshot figures, analysts' queries (who may, bad SQL as 400s, pages
in JSON and CSV), open data (k-anonymous, no token, only open sets).

The lake is real: Iceberg tables in moto's Glue and S3 over HTTP, read by the DuckDB engine as
``DATADAM_QUERY_ENGINE=duckdb`` does locally; tokens come from the local issuer.
"""

from __future__ import annotations

import csv
import importlib
import io
import json
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from types import ModuleType
from typing import Any

import pytest

from gyeonggi.datadam.datasets import CATALOGUE
from localcloud.issuer import LocalIssuer
from tests.conftest import load_event
from tests.unit.conftest import LambdaContext
from tests.unit.datadam_query_support import QueryLake, query_lake

LIST = "datadam_api/list_datasets.json"
POST = "datadam_api/post_query.json"
PAGE = "datadam_api/get_query_page.json"
OPEN = "datadam_api/open_data_csv.json"
DAY = date(2026, 11, 10)


@dataclass
class Stack:
    app: ModuleType
    tokens: LocalIssuer
    lake: QueryLake

    def token(self, *roles: str) -> str:
        return self.tokens.mint(list(roles), province="province" in roles)


def _counts() -> list[dict[str, Any]]:
    rows = []
    for d in range(3):
        for j, n in (("suwon.gg.kr", 7), ("ansan.gg.kr", 2)):
            rows.append(
                {
                    "day": DAY + timedelta(days=d),
                    "jurisdiction_id": j,
                    "category": "roads",
                    "service_code": "road-damage",
                    "count": n,
                }
            )
    return rows


def _complaints() -> list[dict[str, Any]]:
    # Suwon: 6 complaints of 6 people on one day; Ansan: 6 complaints of 2 people.
    rows = []
    for i in range(12):
        at = datetime(2026, 11, 10, 1, tzinfo=UTC) + timedelta(minutes=i)
        suwon = i < 6
        rows.append(
            {
                "service_request_id": f"req-{i}",
                "service_code": "road-damage",
                "category": "roads",
                "jurisdiction_id": "suwon.gg.kr" if suwon else "ansan.gg.kr",
                "status": "open",
                "channel": "open311",
                "requested_at": at,
                "day": at.date(),
                "citizen_pseudonym": f"p{i}" if suwon else f"q{i % 2}",
            }
        )
    return rows


@pytest.fixture(scope="module")
def stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Stack]:
    state = tmp_path_factory.mktemp("datadam-api")
    with query_lake() as lake, pytest.MonkeyPatch.context() as patch:
        lake.append(CATALOGUE["complaint_daily_counts"], _counts())
        lake.append(CATALOGUE["complaints"], _complaints())
        tokens = LocalIssuer.create(state, "http://127.0.0.1/local-issuer/unit", "unit-client")
        for key, value in {
            "AWS_SESSION_TOKEN": "testing",
            "POWERTOOLS_METRICS_NAMESPACE": "Test",
            "POWERTOOLS_TRACE_DISABLED": "true",
            "POWERTOOLS_SERVICE_NAME": "unit-test-datadam-api",
            **tokens.environment(),
            **lake.environment(),
            "DATADAM_MAX_ROWS": "100",
        }.items():
            patch.setenv(key, value)
        patch.delenv("AWS_SESSION_TOKEN")
        app = importlib.import_module("functions.datadam_api.app")
        yield Stack(app, tokens, lake)
        for cached in (app.service, app.verifier, app.locator):
            cached.cache_clear()
        app._snapshots.clear()


def call(
    stack: Stack,
    sample: str,
    token: str | None = None,
    *,
    body: Any = ...,
    query: Any = ...,
    path: dict[str, str] | None = None,
    raw_body: str | None = None,
) -> tuple[int, dict[str, str], str]:
    event: dict[str, Any] = load_event(sample)
    headers = {k: v for k, v in event["headers"].items() if k != "Authorization"}
    if token is not None:
        headers["Authorization"] = f"Bearer {token}"
    event = {**event, "headers": headers, "multiValueHeaders": None}
    if body is not ...:
        event["body"] = json.dumps(body, ensure_ascii=False)
    if raw_body is not None:
        event["body"] = raw_body
    if query is not ...:
        event["queryStringParameters"] = query
    if path is not None:
        event["pathParameters"] = path
        name = next(iter(path.values()))
        event["path"] = event["resource"].replace("{" + next(iter(path)) + "}", name)
    answer = stack.app.handler(event, LambdaContext())
    headers = {k: v[-1] for k, v in (answer.get("multiValueHeaders") or {}).items()}
    return answer["statusCode"], {**headers, **(answer.get("headers") or {})}, answer["body"]


def as_json(body: str) -> Any:
    return json.loads(body)


# ------------------------------------------------------------------ the catalogue


def test_the_catalogue_is_dcat_with_every_dataset_and_the_lakes_figures(stack: Stack) -> None:
    status, headers, body = call(stack, LIST)
    assert status == 200
    assert headers["Content-Type"] == "application/ld+json"
    document = as_json(body)
    assert document["@type"] == "dcat:Catalog"
    assert document["@context"]["dcat"] == "http://www.w3.org/ns/dcat#"
    nodes = {n["dct:identifier"]: n for n in document["dcat:dataset"]}
    assert set(nodes) == set(CATALOGUE)
    counts = nodes["complaint_daily_counts"]
    assert {t["@language"] for t in counts["dct:title"]} == {"ko", "en"}
    assert counts["datadam:rowCount"] == 6
    assert counts["datadam:landed"] is True
    assert counts["dct:modified"]["@type"] == "xsd:dateTime"
    assert counts["dct:license"]["@id"] == "https://www.kogl.or.kr/info/licenseType1.do"
    urls = {d["dcat:downloadURL"]["@id"] for d in counts["dcat:distribution"]}
    assert urls == {
        "https://abcdef1234.execute-api.ap-northeast-2.amazonaws.com/dev/datadam/open/"
        f"complaint_daily_counts.{fmt}"
        for fmt in ("csv", "json")
    }
    columns = {c["csvw:name"]: c for c in counts["dct:conformsTo"]["csvw:column"]}
    assert columns["count"]["csvw:datatype"] == "xsd:long"
    complaints = nodes["complaints"]
    privacy = {p["datadam:field"]: p["datadam:action"] for p in complaints["datadam:privacy"]}
    assert "drop" in privacy.values()
    # A closed dataset: no distribution; one not landed yet: said so.
    assert "dcat:distribution" not in nodes["complaint_routing"]
    assert nodes["sensor_minutes"]["datadam:landed"] is False


# ------------------------------------------------------------------ queries


def test_a_datasets_first_records_show_in_the_catalogue_at_once(stack: Stack) -> None:
    """Snapshots are kept a few minutes per instance; "nothing landed yet" is not, or a catalogue
    read before the first write would hide it for those minutes."""

    def population() -> dict[str, Any]:
        nodes = {n["dct:identifier"]: n for n in as_json(call(stack, LIST)[2])["dcat:dataset"]}
        node: dict[str, Any] = nodes["resident_population"]
        return node

    assert population()["datadam:landed"] is False
    stack.lake.append(
        CATALOGUE["resident_population"],
        [
            {
                "day": DAY,
                "jurisdiction_id": "suwon.gg.kr",
                "age_band": "30-39",
                "gender": gender,
                "residents": 98_000,
            }
            for gender in ("female", "male")
        ],
    )
    landed = population()
    assert landed["datadam:landed"] is True and landed["datadam:rowCount"] == 2


def test_only_analysts_query(stack: Stack) -> None:
    assert call(stack, POST)[0] == 401
    assert call(stack, POST, stack.token("civil-servant"))[0] == 403
    assert call(stack, POST, stack.token("operator", "province"))[0] == 403


def test_an_analysts_query_pages_in_json_and_csv(stack: Stack) -> None:
    token = stack.token("analyst")
    sql = (
        "SELECT day, jurisdiction_id, count FROM gyeonggi_datadam.complaint_daily_counts "
        "ORDER BY day, jurisdiction_id"
    )
    status, headers, body = call(stack, POST, token, body={"sql": sql, "page_size": 4})
    assert status == 200, body
    first = as_json(body)
    assert first["engine"] == "duckdb"
    assert first["row_limit"] == 100
    assert [c["name"] for c in first["columns"]] == ["day", "jurisdiction_id", "count"]
    assert first["rows"][0] == ["2026-11-10", "ansan.gg.kr", 2]
    assert len(first["rows"]) == 4 and first["next"] == "4"
    assert headers["Location"] == f"/datadam/queries/{first['query_id']}"
    assert headers["Cache-Control"] == "no-store"
    qid = first["query_id"]
    status, headers, body = call(
        stack,
        PAGE,
        token,
        path={"query_id": qid},
        query={"next": first["next"], "page_size": "4", "format": "csv"},
    )
    assert status == 200
    assert headers["Content-Type"].startswith("text/csv")
    assert "X-Next-Page" not in headers
    assert list(csv.reader(io.StringIO(body))) == [
        ["day", "jurisdiction_id", "count"],
        ["2026-11-12", "ansan.gg.kr", "2"],
        ["2026-11-12", "suwon.gg.kr", "7"],
    ]


@pytest.mark.parametrize(
    ("body", "words"),
    [
        ({"sql": "DROP TABLE gyeonggi_datadam.complaints"}, "read-only"),
        ({"sql": "SELECT * FROM read_csv('/etc/passwd')"}, "read_csv"),
        ({"sql": "SELECT x FROM complaints"}, "DuckDB refused the query"),
        ({"sql": "SELECT * FROM complaints; SELECT 1"}, "exactly one statement"),
        ({"sql": "SELECT * FROM nope"}, "no dataset 'nope'"),
        ({"sql": 42}, "sql: is required"),
        ({}, "sql: is required"),
        ({"sql": "SELECT day FROM complaints", "page_size": 0}, "page_size"),
        ({"sql": "SELECT day FROM complaints", "format": "xml"}, "format: json or csv"),
        ({"sql": "SELECT day FROM complaints", "limit": 3}, "limit: not a field"),
        (["SELECT day FROM complaints"], "body: a JSON object"),
    ],
)
def test_bad_queries_are_400s_that_say_what_was_wrong(stack: Stack, body: Any, words: str) -> None:
    status, _, answer = call(stack, POST, stack.token("analyst"), body=body)
    assert status == 400, answer
    assert words in as_json(answer)[0]["description"]


def test_a_body_that_is_not_json_is_a_400(stack: Stack) -> None:
    status, _, _ = call(stack, POST, stack.token("analyst"), raw_body="{sql:")
    assert status == 400


def test_an_unknown_query_is_a_404_or_400(stack: Stack) -> None:
    token = stack.token("analyst")
    unknown = "00000000-0000-4000-8000-000000000000"
    assert call(stack, PAGE, token, path={"query_id": unknown}, query={})[0] == 404
    assert call(stack, PAGE, token, path={"query_id": unknown}, query={"page": "2"})[0] == 400
    # An empty next token is a mistake named as such, before the query is looked for.
    status, _, text = call(stack, PAGE, token, path={"query_id": unknown}, query={"next": ""})
    assert status == 400 and "next: is empty" in text


# ------------------------------------------------------------------ open data


def test_open_data_is_aggregated_k_anonymous_and_needs_no_token(stack: Stack) -> None:
    status, headers, body = call(
        stack,
        OPEN,
        query={"from": "2026-11-10", "to": "2026-11-12"},
        path={"file": "complaint_daily_counts.csv"},
    )
    assert status == 200, body
    assert headers["Cache-Control"].startswith("public")
    rows = list(csv.DictReader(io.StringIO(body)))
    # Suwon's 7 a day are published; Ansan's 2 a day are under k = 5 and are not.
    assert {(r["day"], r["jurisdiction_id"], r["count"]) for r in rows} == {
        (f"2026-11-1{d}", "suwon.gg.kr", "7") for d in range(3)
    }


def test_open_complaints_need_k_distinct_people_not_only_k_records(stack: Stack) -> None:
    status, _, body = call(
        stack,
        OPEN,
        query={"from": "2026-11-10", "to": "2026-11-10"},
        path={"file": "complaints.json"},
    )
    assert status == 200, body
    answer = as_json(body)
    assert answer["k"] == 5
    # Ansan's six complaints come from two people: suppressed.
    assert [(r["jurisdiction_id"], r["count"]) for r in answer["rows"]] == [("suwon.gg.kr", 6)]


@pytest.mark.parametrize(
    ("file", "query", "status"),
    [
        ("complaint_routing.csv", {}, 404),  # not open data
        ("nothing.csv", {}, 404),
        ("complaints.xml", {}, 400),
        ("complaints", {}, 400),
        ("complaints.csv", {"from": "2026-01-01", "to": "2026-03-01"}, 400),
        ("complaints.csv", {"from": "2026-13-01"}, 400),
        ("complaints.csv", {"from": "2026-11-10", "to": "2026-11-01"}, 400),
        ("complaints.csv", {"sql": "x"}, 400),
    ],
)
def test_open_data_refusals(stack: Stack, file: str, query: dict[str, str], status: int) -> None:
    assert call(stack, OPEN, query=query, path={"file": file})[0] == status
