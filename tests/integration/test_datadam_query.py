"""The Data Dam's query side in the local cloud: the stack's own API function, over HTTP, on
DuckDB over the lake moto's server holds (written by the lake's writer, as the ingestion
functions write it), and ``gyeonggi datadam`` against it. The counts are simulated, on days of
2020 no other test writes."""

from __future__ import annotations

import csv
import io
import json
from datetime import date, timedelta
from typing import Any

import pytest

from gyeonggi_tools import cli
from localcloud.cloud import LocalCloud
from localcloud.datadam import LakeEndpoint, write_records
from tests.integration.conftest import Http

pytestmark = pytest.mark.integration

FIRST = date(2020, 1, 6)


@pytest.fixture(scope="module")
def lake(cloud: LocalCloud) -> LakeEndpoint:
    where = LakeEndpoint.of_cloud(cloud)
    write_records(
        where,
        "complaint_daily_counts",
        [
            {
                "day": (FIRST + timedelta(days=d)).isoformat(),
                "jurisdiction_id": j,
                "category": "roads",
                "service_code": "road-damage",
                "count": n + d,
            }
            for d in range(3)
            for j, n in (("gapyeong.gg.kr", 3), ("yeoju.gg.kr", 40))
        ],
    )
    return where


def test_the_catalogue_shows_the_landed_table(http: Http, lake: LakeEndpoint) -> None:
    answer = http.request("GET", "/datadam/datasets")
    assert answer.status == 200
    nodes = {n["dct:identifier"]: n for n in answer.body["dcat:dataset"]}
    counts = nodes["complaint_daily_counts"]
    assert counts["datadam:landed"] is True and counts["datadam:rowCount"] >= 6
    assert counts["dcat:distribution"][0]["dcat:downloadURL"]["@id"].startswith(http.base)


def test_an_analyst_queries_the_lake_through_the_api(
    cloud: LocalCloud, http: Http, lake: LakeEndpoint
) -> None:
    token = cloud.mint_token("analyst")
    sql = (
        "SELECT jurisdiction_id, sum(count) AS total FROM gyeonggi_datadam.complaint_daily_counts "
        "WHERE day BETWEEN DATE '2020-01-06' AND date_add('day', 2, DATE '2020-01-06') "
        "GROUP BY jurisdiction_id ORDER BY jurisdiction_id"
    )
    answer = http.request("POST", "/datadam/queries", json_body={"sql": sql}, token=token)
    assert answer.status == 200, answer.body
    assert answer.body["engine"] == "duckdb"
    assert answer.body["rows"] == [["gapyeong.gg.kr", 12], ["yeoju.gg.kr", 123]]
    refused = http.request(
        "POST", "/datadam/queries", json_body={"sql": "DELETE FROM complaints"}, token=token
    )
    assert refused.status == 400 and "read-only" in refused.body[0]["description"]
    citizen = cloud.mint_token("citizen")
    assert (
        http.request("POST", "/datadam/queries", json_body={"sql": sql}, token=citizen).status
        == 403
    )


def test_open_data_publishes_only_cells_of_five_or_more(http: Http, lake: LakeEndpoint) -> None:
    answer = http.request(
        "GET", "/datadam/open/complaint_daily_counts.json?from=2020-01-06&to=2020-01-08"
    )
    assert answer.status == 200, answer.body
    cells = {(r["day"], r["jurisdiction_id"]): r["count"] for r in answer.body["rows"]}
    # Gapyeong's 3, 4 and 5: only the 5 is published.
    assert cells == {
        ("2020-01-06", "yeoju.gg.kr"): 40,
        ("2020-01-07", "yeoju.gg.kr"): 41,
        ("2020-01-08", "yeoju.gg.kr"): 42,
        ("2020-01-08", "gapyeong.gg.kr"): 5,
    }


def test_the_cli_queries_and_lists_through_the_api(
    cloud: LocalCloud,
    http: Http,
    lake: LakeEndpoint,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    monkeypatch.setenv("GYEONGGI_TOKEN", cloud.mint_token("analyst"))
    status = cli.main(
        [
            "datadam",
            "query",
            "SELECT day, count FROM complaint_daily_counts "
            "WHERE jurisdiction_id = 'yeoju.gg.kr' AND day < DATE '2020-01-09' ORDER BY day",
            "--url",
            http.base,
            "--page-size",
            "2",
        ]
    )
    out = capsys.readouterr().out
    assert status == 0
    assert list(csv.reader(io.StringIO(out))) == [
        ["day", "count"],
        ["2020-01-06", "40"],
        ["2020-01-07", "41"],
        ["2020-01-08", "42"],
    ]
    assert cli.main(["datadam", "query", "SELECT 1", "--url", http.base]) == 2
    assert "reads no dataset" in capsys.readouterr().err
    assert cli.main(["datadam", "datasets", "--url", http.base]) == 0
    lines = capsys.readouterr().out.splitlines()
    listed: dict[str, Any] = {line.split("\t")[0]: line for line in lines}
    assert "open" in listed["complaint_daily_counts"]
    assert cli.main(["datadam", "datasets", "--dcat", "--url", http.base]) == 0
    assert json.loads(capsys.readouterr().out)["@type"] == "dcat:Catalog"
