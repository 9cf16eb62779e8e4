"""The ops view in the local cloud: seeded counts -> the volumes function -> the ops endpoints.

The counts are simulated (``gyeonggi_tools.complaints.simulated_history``). The series and
dates differ from ``test_complaint_volumes`` so the two modules can share the stack in any
order.
"""

from __future__ import annotations

import json
from datetime import date
from typing import Any
from xml.etree import ElementTree as ET

import pytest

from gyeonggi_tools.complaints.simulated_history import Surge, generate
from localcloud.cloud import LocalCloud
from localcloud.seed_volumes import seed_volumes
from tests.conftest import load_event
from tests.integration.conftest import Http

JURISDICTIONS = ["pocheon.gg.kr", "yeoju.gg.kr"]
SERVICES = ["waste", "streetlight"]
SERIES = "jurisdiction_id=pocheon.gg.kr&service_code=waste&end=2024-03-13&days=30"
SVG = "{http://www.w3.org/2000/svg}"


@pytest.fixture(scope="module")
def volumes(cloud: LocalCloud) -> dict[str, Any]:
    """Four series with a surge in Pocheon's waste on 12 March 2024, forecast on the 13th."""
    history = generate(
        date(2023, 3, 1),
        date(2024, 3, 13),
        jurisdictions=JURISDICTIONS,
        services=SERVICES,
        surges=[Surge("pocheon.gg.kr", "waste", date(2024, 3, 12), 1, 8.0)],
    )
    assert seed_volumes(cloud, history) > 0
    event = {
        "detail-type": "Scheduled Event",
        "source": "aws.events",
        "time": "2024-03-12T21:00:00Z",  # 06:00 on 13 March in Korea
        "detail": {"jurisdiction_ids": JURISDICTIONS, "service_codes": SERVICES},
    }
    result, errored = cloud.invoke("ComplaintVolumesFunction", event)
    assert not errored, result
    assert "surge:pocheon.gg.kr#waste:2024-03-12" in result["surges"]
    return dict(result)


@pytest.fixture(scope="module")
def operator(cloud: LocalCloud) -> str:
    return cloud.mint_token("operator", province=True)


def test_series_json_has_counts_forecasts_with_intervals_and_the_surge(
    http: Http, volumes: dict[str, Any], operator: str
) -> None:
    answer = http.request("GET", f"/ops/volumes.json?{SERIES}", token=operator)

    assert answer.status == 200, answer.body
    assert answer.headers["Cache-Control"] == "no-store"
    view = answer.body
    by_day = {d["date"]: d for d in view["days"]}
    assert view["first"] == "2024-02-13" and view["end"] == "2024-03-13"
    assert all(by_day[d]["count"] is not None for d in ("2024-02-13", "2024-03-13"))
    assert by_day["2024-03-13"]["partial"] is False  # "today" is the real today, long after
    # Forecasts from the surge day to 14 days after the run's day, with their interval.
    assert view["days"][-1]["date"] == "2024-03-27" and view["days"][-1]["count"] is None
    surge_day = by_day["2024-03-12"]
    assert surge_day["surge"] is True
    assert surge_day["lower"] <= surge_day["forecast"] <= surge_day["upper"]
    assert surge_day["count"] > surge_day["alert_upper"]
    assert [s["date"] for s in view["surges"]] == ["2024-03-12"]
    assert view["surges"][0]["excess"] > 0
    assert view["names"]["jurisdiction"]["ko"] == "포천시"


def test_overview_ranks_the_surging_series_without_a_service_code(
    http: Http, volumes: dict[str, Any], operator: str
) -> None:
    answer = http.request(
        "GET", "/ops/volumes.json?jurisdiction_id=pocheon.gg.kr&end=2024-03-13", token=operator
    )

    assert answer.status == 200, answer.body
    top = answer.body["top"]
    assert top[0]["service_code"] == "waste" and top[0]["last_surge"] == "2024-03-12"
    assert {t["jurisdiction_id"] for t in top} == {"pocheon.gg.kr"}


def test_svg_chart_has_the_band_the_line_and_the_surge_marker(
    http: Http, volumes: dict[str, Any], operator: str
) -> None:
    answer = http.request("GET", f"/ops/volumes.svg?{SERIES}", token=operator)

    assert answer.status == 200
    assert answer.headers["Content-Type"].startswith("image/svg+xml")
    assert "default-src 'none'" in answer.headers["Content-Security-Policy"]
    root = ET.fromstring(answer.body.encode("utf-8"))
    assert root.tag == f"{SVG}svg"
    ids = {e.get("id") for e in root.iter()}
    assert {"interval-band", "forecast-line", "counts", "legend"} <= ids
    assert len([e for e in root.iter(f"{SVG}path") if e.get("class") == "surge-marker"]) == 1


@pytest.mark.parametrize("path", ["/ops/volumes.json", "/ops/volumes.svg"])
def test_data_needs_an_operator_or_civil_servant_token(
    cloud: LocalCloud, http: Http, path: str
) -> None:
    anonymous = http.request("GET", f"{path}?{SERIES}")
    citizen = http.request("GET", f"{path}?{SERIES}", token=cloud.mint_token("citizen"))
    servant_token = cloud.mint_token("civil-servant", jurisdictions=["pocheon.gg.kr"])
    servant = http.request("GET", f"{path}?{SERIES}", token=servant_token)

    assert anonymous.status == 401 and anonymous.headers["WWW-Authenticate"].startswith("Bearer")
    assert citizen.status == 403
    assert servant.status == 200


def test_bad_parameters_answer_400_naming_the_parameter(http: Http, operator: str) -> None:
    for query, name in [
        ("jurisdiction_id=atlantis%20gg&service_code=waste", "jurisdiction_id"),
        ("jurisdiction_id=suwon.gg.kr&service_code=graffiti", "service_code"),
        ("jurisdiction_id=suwon.gg.kr&service_code=waste&days=401", "days"),
        ("jurisdiction_id=suwon.gg.kr&service_code=waste&end=tomorrow", "end"),
    ]:
        answer = http.request("GET", f"/ops/volumes.json?{query}", token=operator)
        assert answer.status == 400 and answer.body[0]["description"].startswith(name), query
    chart = http.request("GET", "/ops/volumes.svg?jurisdiction_id=suwon.gg.kr", token=operator)
    assert chart.status == 400 and chart.body[0]["description"].startswith("service_code")
    # A well-formed id of no city or county here is not found, as in Open311.
    atlantis = "/ops/volumes.json?jurisdiction_id=atlantis.gg.kr"
    unknown = http.request("GET", atlantis, token=operator)
    assert unknown.status == 404 and unknown.body[0]["code"] == 404


def test_dashboard_page_is_self_contained_with_a_strict_policy(http: Http) -> None:
    page = http.request("GET", "/ops/dashboard")
    script = http.request("GET", "/ops/dashboard.js")

    assert page.status == 200 and page.headers["Content-Type"] == "text/html; charset=utf-8"
    policy = page.headers["Content-Security-Policy"]
    assert "default-src 'none'" in policy and "script-src 'self'" in policy
    assert "unsafe-inline" not in policy
    html = page.body
    assert "민원" in html and "Complaint volumes" in html
    assert not any(u in html for u in ("http:", "https:", '"//', "url("))
    assert script.status == 200 and script.headers["Content-Type"].startswith("text/javascript")
    assert "sessionStorage" in script.body and "https://" not in script.body


def test_api_ops_volumes_sample_event(cloud: LocalCloud, volumes: dict[str, Any]) -> None:
    text = json.dumps(load_event("api/ops_volumes.json"))
    token = cloud.mint_token("operator", province=True)
    event = json.loads(text.replace("REPLACE_WITH_AN_OPERATOR_TOKEN", token))

    response, errored = cloud.invoke("ApiFunction", event)

    assert not errored and response["statusCode"] == 200, response
    assert json.loads(response["body"])["service_code"] == "water-sewer"
