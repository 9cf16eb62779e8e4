"""Who may see what, through the HTTP API of the local cloud: every caller on every protected
route (issue 9, section 2; the rules are in gyeonggi.complaints.access and docs/ARCHITECTURE.md).

One complaint in Suwon filed by a signed-in citizen, and one incident per test at a complex of
its own, are asked for by each kind of caller; the table says what each must get.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import pytest

from gyeonggi.safety.incident_rules import Incident
from gyeonggi.safety.incident_store import IncidentStore
from localcloud.cloud import LocalCloud
from tests.integration.conftest import Answer, Http

pytestmark = pytest.mark.integration

SM = "ComplaintIntakeStateMachine"
HOME = "suwon.gg.kr"
ELSEWHERE = "seongnam.gg.kr"
OWNER = f"citizen-{uuid.uuid4().hex[:8]}"
COMPLEX = f"ntk-{uuid.uuid4().hex[:8]}"


@dataclass(frozen=True)
class Caller:
    name: str
    mint: Callable[[LocalCloud], str | None]


def _token(*roles: str, **scope: Any) -> Callable[[LocalCloud], str | None]:
    return lambda cloud: cloud.mint_token(*roles, **scope)


CALLERS = [
    Caller("owner", _token("citizen", subject=OWNER)),
    Caller("other_citizen", _token("citizen", subject="citizen-someone-else")),
    Caller("servant_in", _token("civil-servant", jurisdictions=["yongin.gg.kr", HOME])),
    Caller("servant_out", _token("civil-servant", jurisdictions=[ELSEWHERE])),
    Caller("servant_none", _token("civil-servant")),
    Caller("servant_unknown", _token("civil-servant", jurisdictions=["seoul.go.kr"])),
    Caller("province", _token("civil-servant", province=True)),
    Caller("operator_in", _token("operator", complexes=["elsewhere", COMPLEX])),
    Caller("operator_out", _token("operator", complexes=["somewhere-else"])),
    Caller("operator_none", _token("operator")),
    Caller("operator_province", _token("operator", province=True)),
    Caller("no_token", lambda cloud: None),
    Caller("api_key_only", lambda cloud: None),  # sends an Open311 api_key, no bearer token
]
# The status each caller must get on each route. Columns in the order of CALLERS: owner,
# other citizen, servant in / out / with none / unknown, province, operator in / out / with
# none / province, no token, API key only.
MATRIX = """
route                                  own oth sIn sOu sNo sUk prv oIn oOu oNo oPr ano key
GET  /complaints/{id}                  200 404 200 403 403 403 200 403 403 403 403 401 401
POST /complaints/{id}/updates          403 403 201 403 403 403 201 403 403 403 403 401 401
GET  /complaints                       200 200 403 403 403 403 403 403 403 403 403 401 401
GET  /ops/volumes.json                 403 403 200 403 403 403 200 403 403 403 200 401 401
GET  /ops/volumes.svg                  403 403 200 403 403 403 200 403 403 403 200 401 401
GET  /ops/status                       403 403 200 200 200 200 200 200 200 200 200 401 401
GET  /safety/incidents                 403 403 403 403 403 403 403 200 200 403 200 401 401
GET  /safety/incidents/{id}            403 403 403 403 403 403 403 200 404 403 200 401 401
POST /safety/incidents/{id}/ack        403 403 403 403 403 403 403 200 404 403 200 401 401
POST /safety/incidents/{id}/all-clear  403 403 403 403 403 403 403 200 404 403 200 401 401
"""
EXPECTED: dict[str, list[int]] = {
    f"{row[0]} {row[1]}": [int(status) for status in row[2:]]
    for row in (line.split() for line in MATRIX.strip().splitlines()[1:])
}
CASES = [
    pytest.param(route, caller, status, id=f"{route} as {caller.name}")
    for route, statuses in EXPECTED.items()
    for caller, status in zip(CALLERS, statuses, strict=True)
]


@pytest.fixture(scope="module")
def complaint(cloud: LocalCloud, http: Http) -> str:
    """A complaint in Suwon, filed through the native API by ``OWNER`` and stored."""
    answer = http.request(
        "POST",
        "/complaints",
        token=cloud.mint_token("citizen", subject=OWNER),
        json_body={
            "jurisdiction_id": HOME,
            "service_code": "road-damage",
            "address_string": "수원시 팔달구 효원로 1",
            "description": "포트홀이 깊습니다",
            "email": "owner@example.org",
        },
    )
    assert answer.status == 201, answer.body
    request_id: str = answer.body["service_request_id"]
    assert answer.body["links"]["self"] == f"/complaints/{request_id}"
    assert cloud.wait_for_execution(SM, request_id)["status"] == "SUCCEEDED"
    return request_id


def _incident(cloud: LocalCloud) -> str:
    """A fresh open incident at ``COMPLEX`` (stored directly: the routes are what is tested)."""
    store = IncidentStore(cloud.physical_id("IncidentsTable"))
    for stale in (i for i in store.list("open") if i.complex_id == COMPLEX):
        store.release(stale)  # one open incident per complex; the previous test's goes
    now = datetime.now(UTC)
    incident_id = f"INC-{uuid.uuid4().hex[:12]}"
    store.create(
        Incident(
            incident_id=incident_id,
            complex_id=COMPLEX,
            opened_at=now,
            last_evidence_at=now,
            severity="alarm",
            state="awaiting_ack",
        ),
        replacing=None,
    )
    return incident_id


def _call(
    cloud: LocalCloud, http: Http, route: str, caller: Caller, complaint: str, api_key: str
) -> Answer:
    method, path = route.split(" ")
    path = path.replace("/complaints/{id}", f"/complaints/{complaint}")
    if path.startswith("/safety/incidents"):
        path = path.replace("{id}", _incident(cloud))
    query = {
        "/ops/volumes.json": f"?jurisdiction_id={HOME}",
        "/ops/volumes.svg": f"?jurisdiction_id={HOME}&service_code=road-damage&days=7",
    }.get(path, "")
    body: dict[str, Any] | None = None
    if path.endswith("/updates"):
        body = {"status": "open", "status_notes": f"checked by {caller.name}"}
    elif method == "POST":
        body = {"note": f"{caller.name} was here"}
    if caller.name == "api_key_only":
        query += ("&" if query else "?") + f"api_key={api_key}"
        body = {**(body or {}), "api_key": api_key}
    return http.request(method, path + query, json_body=body, token=caller.mint(cloud))


@pytest.mark.parametrize(("route", "caller", "status"), CASES)
def test_every_caller_on_every_protected_route(
    cloud: LocalCloud,
    http: Http,
    complaint: str,
    api_key: str,
    route: str,
    caller: Caller,
    status: int,
) -> None:
    answer = _call(cloud, http, route, caller, complaint, api_key)
    assert answer.status == status, answer.body
    if status >= 400:
        # An Open311 error body saying why; a refusal never carries the complaint or contact.
        assert isinstance(answer.body, list) and answer.body[0]["description"], answer.body
        assert "owner@example.org" not in str(answer.body)
    if route == "GET /complaints/{id}" and status == 200:
        assert answer.body["complaint"]["service_request_id"] == complaint
        assert answer.body["contact"]["email"] == "owner@example.org"
        assert answer.headers["Cache-Control"] == "no-store"
    if route == "GET /complaints" and status == 200:
        listed = [c["service_request_id"] for c in answer.body["complaints"]]
        assert (complaint in listed) == (caller.name == "owner"), listed
    if route == "GET /safety/incidents" and status == 200:
        complexes = {i["complex_id"] for i in answer.body["incidents"]}
        assert (COMPLEX in complexes) == (caller.name != "operator_out"), complexes


def test_refusals_say_which_claim_is_missing(cloud: LocalCloud, http: Http, complaint: str) -> None:
    none = http.request("GET", f"/complaints/{complaint}", token=cloud.mint_token("civil-servant"))
    assert none.status == 403
    assert "custom:jurisdictions" in none.body[0]["description"]
    out = http.request(
        "GET",
        f"/complaints/{complaint}",
        token=cloud.mint_token("civil-servant", jurisdictions=[ELSEWHERE]),
    )
    assert out.status == 403 and HOME in out.body[0]["description"]
    operator = http.request("GET", "/safety/incidents", token=cloud.mint_token("operator"))
    assert operator.status == 403
    assert "custom:complexes" in operator.body[0]["description"]


def test_a_refused_update_changes_nothing(cloud: LocalCloud, http: Http, complaint: str) -> None:
    before = http.request("GET", f"/open311/v2/requests/{complaint}.json").body[0]
    refused = http.request(
        "POST",
        f"/complaints/{complaint}/updates",
        json_body={"status": "closed", "status_notes": "not mine to close"},
        token=cloud.mint_token("civil-servant", jurisdictions=[ELSEWHERE]),
    )
    assert refused.status == 403
    after = http.request("GET", f"/open311/v2/requests/{complaint}.json").body[0]
    assert after["status"] == before["status"]
    assert after.get("status_notes") != "not mine to close"


def test_a_refused_ack_changes_nothing(cloud: LocalCloud, http: Http) -> None:
    incident_id = _incident(cloud)
    refused = http.request(
        "POST",
        f"/safety/incidents/{incident_id}/ack",
        token=cloud.mint_token("operator", complexes=["somewhere-else"]),
    )
    assert refused.status == 404
    stored = IncidentStore(cloud.physical_id("IncidentsTable")).get(incident_id)
    assert stored.state == "awaiting_ack" and not stored.timeline


def test_own_list_pages_newest_first_and_refuses_bad_parameters(
    cloud: LocalCloud, http: Http
) -> None:
    citizen = f"citizen-{uuid.uuid4().hex[:8]}"
    token = cloud.mint_token("citizen", subject=citizen)
    filed = []
    for n in range(3):
        answer = http.request(
            "POST",
            "/complaints",
            token=token,
            json_body={
                "jurisdiction_id": "osan.gg.kr",
                "service_code": "waste",
                "address_string": "오산시 오산로 1",
                "description": f"쓰레기 {n}",
            },
        )
        assert answer.status == 201, answer.body
        filed.append(answer.body["service_request_id"])
    for request_id in filed:
        assert cloud.wait_for_execution(SM, request_id)["status"] == "SUCCEEDED"

    seen: list[str] = []
    path = "/complaints?limit=2"
    for _page in range(3):  # bounded: three filed, two a page
        answer = http.request("GET", path, token=token)
        assert answer.status == 200, answer.body
        seen += [c["service_request_id"] for c in answer.body["complaints"]]
        if not answer.body["after"]:
            break
        path = answer.body["links"]["next"]
    assert sorted(seen, reverse=True) == seen and set(seen) == set(filed)

    for bad in ("limit=0", "limit=51", "limit=two", "limit=1e1", "after=GG-1", "after=%00"):
        refused = http.request("GET", f"/complaints?{bad}", token=token)
        assert refused.status == 400, (bad, refused.body)
        assert bad.split("=")[0] in refused.body[0]["description"]


def test_an_open311_account_id_makes_no_owner(cloud: LocalCloud, http: Http, api_key: str) -> None:
    # Given a client app that names a citizen's account in an Open311 POST
    form = {
        "api_key": api_key,
        "jurisdiction_id": HOME,
        "service_code": "waste",
        "address_string": "수원시 장안구",
        "description": "남의 계정으로",
        "account_id": OWNER,
    }
    answer = http.request("POST", "/open311/v2/requests.json", form=form)
    assert answer.status == 201, answer.body
    request_id = answer.body[0]["service_request_id"]
    assert cloud.wait_for_execution(SM, request_id)["status"] == "SUCCEEDED"
    # Then that citizen neither reads nor lists it: only a signed-in filing makes an owner
    owner = cloud.mint_token("citizen", subject=OWNER)
    assert http.request("GET", f"/complaints/{request_id}", token=owner).status == 404
    listed = http.request("GET", "/complaints?limit=50", token=owner).body["complaints"]
    assert request_id not in [c["service_request_id"] for c in listed]
