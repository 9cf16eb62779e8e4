"""The Open311 GeoReport v2 server end to end, in JSON and XML, through the local API server."""

from __future__ import annotations

import json
import secrets
import urllib.error
import urllib.request
from datetime import UTC, datetime, timedelta
from typing import Any
from xml.etree import ElementTree as ET

import pytest

from localcloud.cloud import LocalCloud
from localcloud.template import load_template
from tests.conftest import ROOT, load_event
from tests.integration.conftest import Http

pytestmark = pytest.mark.integration

SM = "ComplaintIntakeStateMachine"


def _get(http: Http, path: str, headers: dict[str, str] | None = None) -> tuple[int, str, bytes]:
    """Status, content type and raw body (the shared client decodes JSON only)."""
    req = urllib.request.Request(http.base + path, headers=headers or {})
    try:
        with urllib.request.urlopen(req, timeout=30) as resp:
            return resp.status, resp.headers["Content-Type"], resp.read()
    except urllib.error.HTTPError as exc:
        return exc.code, exc.headers["Content-Type"], exc.read()


def _xml(http: Http, path: str) -> tuple[int, ET.Element]:
    status, content_type, body = _get(http, path)
    assert content_type.startswith("text/xml"), (path, content_type, body[:200])
    assert body.startswith(b"<?xml version='1.0' encoding='utf-8'?>")
    return status, ET.fromstring(body)


def _file(cloud: LocalCloud, http: Http, api_key: str, **fields: str) -> str:
    form = {
        "api_key": api_key,
        "jurisdiction_id": "gimpo.gg.kr",
        "service_code": "streetlight",
        "address_string": "김포시 사우동",
        "description": f"가로등 고장 {secrets.token_hex(3)}",
        **fields,
    }
    answer = http.request("POST", "/open311/v2/requests.json", form=form)
    assert answer.status == 201, answer.body
    request_id: str = answer.body[0]["service_request_id"]
    assert cloud.wait_for_execution(SM, request_id)["status"] == "SUCCEEDED"
    return request_id


@pytest.fixture(scope="module")
def filed(cloud: LocalCloud, http: Http, api_key: str) -> dict[str, str]:
    """Three complaints in Gimpo and one in Yeoju, stored."""
    return {
        "light": _file(cloud, http, api_key),
        "noise": _file(
            cloud,
            http,
            api_key,
            service_code="noise",
            **{"attribute[time_of_day]": "night", "attribute[recurring]": "yes"},
        ),
        "waste": _file(cloud, http, api_key, service_code="waste"),
        "yeoju": _file(cloud, http, api_key, jurisdiction_id="yeoju.gg.kr"),
    }


# ------------------------------------------------------------------ discovery and services


def test_discovery_in_both_formats(http: Http) -> None:
    answer = http.request("GET", "/open311/v2/discovery.json")
    assert answer.status == 200
    (endpoint,) = answer.body["endpoints"]
    assert endpoint["url"].endswith("/open311/v2")
    assert set(endpoint["formats"]) == {"text/xml", "application/json"}
    status, root = _xml(http, "/open311/v2/discovery.xml")
    assert status == 200 and root.tag == "discovery"
    assert [f.text for f in root.iterfind("endpoints/endpoint/formats/format")] == [
        "text/xml",
        "application/json",
    ]


def test_services_in_both_formats_and_both_languages(http: Http) -> None:
    answer = http.request("GET", "/open311/v2/services.json?jurisdiction_id=suwon.gg.kr")
    assert answer.status == 200 and len(answer.body) == 15
    road = next(s for s in answer.body if s["service_code"] == "road-damage")
    assert road["metadata"] is True and road["department"] == "road-management"
    status, root = _xml(http, "/open311/v2/services.xml?locale=ko")
    assert status == 200 and root.tag == "services"
    names = {s.findtext("service_code"): s.findtext("service_name") for s in root}
    assert names["road-damage"] == "도로 파손"
    _, _, body = _get(http, "/open311/v2/services.json", {"Accept-Language": "ko-KR,ko;q=0.9"})
    assert "불법 주정차" in body.decode("utf-8")


def test_service_definition_in_both_formats(http: Http) -> None:
    answer = http.request("GET", "/open311/v2/services/road-damage.json")
    assert answer.status == 200
    size = answer.body["attributes"][0]
    assert size["code"] == "pothole_size" and size["datatype"] == "singlevaluelist"
    status, root = _xml(http, "/open311/v2/services/animal.xml?locale=ko")
    assert status == 200 and root.tag == "service_definition"
    attribute = root.find("attributes/attribute")
    assert attribute is not None and attribute.findtext("required") == "true"
    assert [v.findtext("key") for v in attribute.iterfind("values/value")][:2] == ["dog", "cat"]


# ------------------------------------------------------------------ requests


def test_post_in_xml_answers_xml(cloud: LocalCloud, http: Http, api_key: str) -> None:
    form = {
        "api_key": api_key,
        "jurisdiction_id": "paju.gg.kr",
        "service_code": "animal",
        "lat": "37.76",
        "long": "126.78",
        "description": "다친 고양이 <injured cat> & 'kitten'",
        "attribute[animal_kind]": "cat",
        "attribute[injured]": "yes",
    }
    answer = http.request("POST", "/open311/v2/requests.xml", form=form)
    assert answer.status == 201
    root = ET.fromstring(answer.body.encode("utf-8"))
    assert root.tag == "service_requests"
    request_id = root.findtext("request/service_request_id")
    assert request_id and answer.headers["Location"].endswith(f"/{request_id}.xml")
    assert cloud.wait_for_execution(SM, request_id)["status"] == "SUCCEEDED"
    status, got = _xml(http, f"/open311/v2/requests/{request_id}.xml")
    assert status == 200
    assert got.findtext("request/description") == form["description"]
    assert got.findtext("request/requested_datetime", "").endswith("+00:00")


def test_get_requests_filters(http: Http, filed: dict[str, str]) -> None:
    base = "/open311/v2/requests.json?jurisdiction_id=gimpo.gg.kr"
    ids = {r["service_request_id"] for r in http.request("GET", base).body}
    assert {filed["light"], filed["noise"], filed["waste"]} <= ids
    assert filed["yeoju"] not in ids

    only_noise = http.request("GET", base + "&service_code=noise,waste").body
    assert {r["service_code"] for r in only_noise} <= {"noise", "waste"}
    assert filed["noise"] in {r["service_request_id"] for r in only_noise}

    by_id = http.request(
        "GET",
        f"/open311/v2/requests.json?service_request_id={filed['yeoju']},{filed['light']}"
        "&service_code=tax",  # overridden by the ids, as the spec says
    ).body
    assert [r["service_request_id"] for r in by_id] == [filed["yeoju"], filed["light"]]

    province = http.request("GET", "/open311/v2/requests.json?status=open").body
    assert filed["yeoju"] in {r["service_request_id"] for r in province}

    page = http.request("GET", base + "&page_size=2&page=1").body
    assert len(page) == 2
    later = (datetime.now(UTC) + timedelta(days=2)).date().isoformat()
    assert http.request("GET", base + f"&start_date={later}").body == []

    status, root = _xml(http, "/open311/v2/requests.xml?jurisdiction_id=yeoju.gg.kr")
    assert status == 200 and root.tag == "service_requests"
    assert filed["yeoju"] in [r.findtext("service_request_id") for r in root]


@pytest.mark.parametrize(
    ("query", "named"),
    [
        ("start_date=2026-01-01T00:00:00Z&end_date=2026-06-01T00:00:00Z", "end_date"),
        ("start_date=yesterday", "start_date"),
        ("status=pending", "status"),
        ("service_code=ufo", "service_code"),
        ("jurisdiction_id=seoul%20go", "jurisdiction_id"),
        ("page_size=5000", "page_size"),
        ("service_request_id=42", "service_request_id"),
        ("locale=fr", "locale"),
    ],
)
def test_bad_filters_are_400_naming_them_in_both_formats(
    http: Http, query: str, named: str
) -> None:
    answer = http.request("GET", f"/open311/v2/requests.json?{query}")
    assert answer.status == 400, answer.body
    assert answer.body[0]["code"] == 400 and named in answer.body[0]["description"]
    status, root = _xml(http, f"/open311/v2/requests.xml?{query}")
    assert status == 400 and root.tag == "errors"
    assert root.findtext("error/code") == "400"
    assert named in (root.findtext("error/description") or "")


@pytest.mark.parametrize(
    "path",
    [
        "discovery.{fmt}",
        "services.{fmt}",
        "services/noise.{fmt}",
        "requests.{fmt}",
        "requests/GG-20990101-DEADBEEF.{fmt}",
        "servicerequestupdates.{fmt}",
    ],
)
def test_an_unknown_jurisdiction_is_404_on_every_route_that_takes_one(
    http: Http, path: str
) -> None:
    # GeoReport v2: "404 - jurisdiction_id provided was not found" (a malformed one is 400).
    query = "?jurisdiction_id=seoul.go.kr"
    answer = http.request("GET", f"/open311/v2/{path.format(fmt='json')}{query}")
    assert answer.status == 404, answer.body
    assert answer.body[0]["description"].startswith("jurisdiction_id: 'seoul.go.kr'")
    status, root = _xml(http, f"/open311/v2/{path.format(fmt='xml')}{query}")
    assert status == 404 and root.findtext("error/code") == "404"


def test_posting_for_an_unknown_jurisdiction_is_404(http: Http, api_key: str) -> None:
    form = {
        "api_key": api_key,
        "jurisdiction_id": "seoul.go.kr",
        "service_code": "noise",
        "address_string": "서울",
        "description": "소음",
    }
    answer = http.request("POST", "/open311/v2/requests.json", form=form)
    assert answer.status == 404 and answer.body[0]["code"] == 404
    malformed = http.request(
        "POST", "/open311/v2/requests.json", form={**form, "jurisdiction_id": "seoul go"}
    )
    assert malformed.status == 400 and "jurisdiction_id" in malformed.body[0]["description"]


def test_unknown_routes_and_documents_without_a_format_answer_open311_404s(http: Http) -> None:
    # API Gateway's own answer, as template.yaml declares it (not its 403 "Missing
    # Authentication Token"); the local API server reads the same declaration.
    api = load_template(ROOT / "template.yaml")["Resources"]["GyeonggiApi"]["Properties"]
    declared = api["GatewayResponses"]["MISSING_AUTHENTICATION_TOKEN"]["ResponseTemplates"]
    expected = json.loads(declared["application/json"])
    assert expected[0]["code"] == 404
    for method, path in [
        ("GET", "/open311/v2/services"),
        ("GET", "/open311/v2/discovery"),
        ("GET", "/open311/v2/requests"),
        ("POST", "/open311/v2/requests"),
        ("GET", "/nowhere"),
        ("DELETE", "/complaints"),
    ]:
        answer = http.request(method, path)
        assert (answer.status, answer.body) == (404, expected), (method, path)
    # A document route without its extension reaches the app, which says which to add.
    bare = http.request("GET", "/open311/v2/requests/GG-20990101-DEADBEEF")
    assert bare.status == 404 and ".json or .xml" in bare.body[0]["description"]


def test_not_found_in_both_formats(http: Http) -> None:
    answer = http.request("GET", "/open311/v2/requests/GG-20990101-DEADBEEF.json")
    assert answer.status == 404 and answer.body[0]["code"] == 404
    status, root = _xml(http, "/open311/v2/requests/GG-20990101-DEADBEEF.xml")
    assert status == 404 and root.findtext("error/code") == "404"
    status, root = _xml(http, "/open311/v2/services/ufo.xml")
    assert status == 404 and "ufo" in (root.findtext("error/description") or "")


@pytest.mark.parametrize(
    ("attributes", "named"),
    [
        ({"attribute[pothole_size]": "enormous"}, "attribute[pothole_size]"),
        ({"attribute[colour]": "red"}, "attribute[colour]"),
    ],
)
def test_attributes_are_checked_against_the_definition(
    http: Http, api_key: str, attributes: dict[str, str], named: str
) -> None:
    form = {
        "api_key": api_key,
        "jurisdiction_id": "suwon.gg.kr",
        "service_code": "road-damage",
        "address_string": "수원시",
        "description": "pothole",
        **attributes,
    }
    for fmt in ("json", "xml"):
        answer = http.request("POST", f"/open311/v2/requests.{fmt}", form=form)
        assert answer.status == 400
        text = answer.body if isinstance(answer.body, str) else answer.body[0]["description"]
        assert named in text


def test_required_attribute_missing_is_400(http: Http, api_key: str) -> None:
    form = {
        "api_key": api_key,
        "jurisdiction_id": "suwon.gg.kr",
        "service_code": "animal",
        "address_string": "수원시",
        "description": "a dog",
    }
    answer = http.request("POST", "/open311/v2/requests.json", form=form)
    assert answer.status == 400 and "attribute[animal_kind]" in answer.body[0]["description"]


def test_jurisdiction_limited_key_is_403_in_xml(cloud: LocalCloud, http: Http) -> None:
    suwon_only = cloud.issue_api_key("Suwon XML app", jurisdiction_ids=["suwon.gg.kr"])
    form = {
        "api_key": suwon_only,
        "jurisdiction_id": "goyang.gg.kr",
        "service_code": "tax",
        "address_string": "고양시",
        "description": "tax question",
    }
    answer = http.request("POST", "/open311/v2/requests.xml", form=form)
    assert answer.status == 403
    root = ET.fromstring(answer.body.encode("utf-8"))
    assert root.findtext("error/code") == "403"


# ------------------------------------------------------------------ status updates


def test_civil_servant_update_reaches_the_feed_and_the_request(
    cloud: LocalCloud, http: Http, filed: dict[str, str]
) -> None:
    request_id = filed["waste"]
    officer = cloud.mint_token("civil-servant", subject="officer-77", jurisdictions=["gimpo.gg.kr"])
    citizen = cloud.mint_token("citizen")
    body = {"status": "closed", "status_notes": "수거 완료 / collected <today>"}

    refused = http.request(
        "POST", f"/complaints/{request_id}/updates", json_body=body, token=citizen
    )
    assert refused.status == 403
    assert http.request("POST", f"/complaints/{request_id}/updates", json_body=body).status == 401

    answer = http.request(
        "POST", f"/complaints/{request_id}/updates", json_body=body, token=officer
    )
    assert answer.status == 201, answer.body
    update_id = answer.body["update_id"]

    (request,) = http.request("GET", f"/open311/v2/requests/{request_id}.json").body
    assert request["status"] == "closed"
    assert request["status_notes"] == body["status_notes"]

    feed = http.request("GET", "/open311/v2/servicerequestupdates.json").body
    (mine,) = [u for u in feed if u["update_id"] == update_id]
    assert mine["service_request_id"] == request_id and mine["status"] == "closed"
    status, root = _xml(http, "/open311/v2/servicerequestupdates.xml?jurisdiction_id=gimpo.gg.kr")
    assert status == 200 and root.tag == "service_request_updates"
    assert update_id in [u.findtext("update_id") for u in root.iterfind("request_update")]

    closed = http.request(
        "GET", "/open311/v2/requests.json?jurisdiction_id=gimpo.gg.kr&status=closed"
    ).body
    assert request_id in {r["service_request_id"] for r in closed}


@pytest.mark.parametrize(
    ("body", "status"),
    [({"status": "resolved"}, 400), ({"status": "open", "colour": "red"}, 400)],
)
def test_bad_update_is_400(
    cloud: LocalCloud, http: Http, filed: dict[str, str], body: dict[str, Any], status: int
) -> None:
    officer = cloud.mint_token("civil-servant", jurisdictions=["gimpo.gg.kr"])
    answer = http.request(
        "POST", f"/complaints/{filed['light']}/updates", json_body=body, token=officer
    )
    assert answer.status == status, answer.body


def test_update_of_unknown_complaint_is_404(cloud: LocalCloud, http: Http) -> None:
    officer = cloud.mint_token("civil-servant", jurisdictions=["gimpo.gg.kr"])
    answer = http.request(
        "POST",
        "/complaints/GG-20990101-DEADBEEF/updates",
        json_body={"status": "closed"},
        token=officer,
    )
    assert answer.status == 404


# ------------------------------------------------------------------ sample events


@pytest.mark.parametrize(
    ("event_file", "status", "content_type"),
    [
        ("api/open311_discovery_xml.json", 200, "text/xml"),
        ("api/open311_services_json.json", 200, "application/json"),
        ("api/open311_service_definition_xml.json", 200, "text/xml"),
        ("api/open311_get_requests_xml.json", 200, "text/xml"),
        ("api/open311_request_updates_json.json", 200, "application/json"),
        ("api/open311_get_requests_bad_span.json", 400, "application/json"),
        # The sample's bearer token is a placeholder: the function refuses it, in Open311 shape.
        ("api/post_complaint_update.json", 401, "application/json"),
    ],
)
def test_sample_events_invoke_the_function(
    cloud: LocalCloud, event_file: str, status: int, content_type: str
) -> None:
    answer, errored = cloud.invoke("ApiFunction", load_event(event_file))
    assert not errored, answer
    assert answer["statusCode"] == status, answer
    assert answer["headers"]["Content-Type"].startswith(content_type)
