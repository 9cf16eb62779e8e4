"""The Open311 server's pure parts: rendering, locale, filters, attribute validation."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any
from xml.etree import ElementTree as ET

import pytest

from gyeonggi.common.errors import InvalidInput, NotFound
from gyeonggi.complaints import open311
from gyeonggi.complaints.jurisdictions import UnknownJurisdiction
from gyeonggi.complaints.models import CitizenSegment, Complaint
from gyeonggi.complaints.queries import Window, find_requests, parse_request_query, parse_window
from gyeonggi.complaints.services import BY_CODE, SERVICES
from gyeonggi.complaints.store import time_bounds
from gyeonggi.complaints.updates import RequestUpdate
from tests.fakes.complaints import FakeReceipts

NOW = datetime(2026, 11, 24, 9, 0, tzinfo=UTC)


def _complaint(rid: str = "GG-20261124-0000000A", **changes: Any) -> Complaint:
    data: dict[str, Any] = {
        "service_request_id": rid,
        "jurisdiction_id": "suwon.gg.kr",
        "service_code": "road-damage",
        "description": "포트홀 <deep> & \"wide\" 'hole'",
        "agency_responsible": "road-management",
        "lat": 37.2636,
        "long": 127.0286,
        "channel": "open311",
        "requested_datetime": NOW,
        "updated_datetime": NOW,
        "citizen": CitizenSegment(
            age_band="unknown", gender="undisclosed", consent_analytics=False
        ),
        **changes,
    }
    return Complaint.model_validate(data)


# ------------------------------------------------------------------ rendering


def test_xml_escapes_markup_and_keeps_korean_in_utf8() -> None:
    body, content_type = open311.render(
        "xml", "service_requests", open311.service_requests([_complaint()], "ko")
    )
    assert content_type == "text/xml; charset=utf-8"
    assert "&lt;deep&gt; &amp;" in body and "<deep>" not in body
    root = ET.fromstring(body.encode("utf-8"))
    assert root.tag == "service_requests"
    request = root.find("request")
    assert request is not None
    assert request.findtext("description") == "포트홀 <deep> & \"wide\" 'hole'"
    assert request.findtext("service_name") == "도로 파손"
    assert request.findtext("requested_datetime") == "2026-11-24T09:00:00+00:00"
    assert request.find("status_notes") is not None and request.findtext("status_notes") == ""


def test_xml_replaces_characters_xml_cannot_carry() -> None:
    body, _ = open311.render("xml", "errors", open311.errors(400, "bad \x00 byte \x1f"))
    root = ET.fromstring(body.encode("utf-8"))
    assert root.findtext("error/code") == "400"
    assert root.findtext("error/description") == "bad \ufffd byte \ufffd"


def test_json_keeps_korean_unescaped() -> None:
    body, content_type = open311.render("json", "services", open311.services("ko"))
    assert content_type.startswith("application/json") and "불법 주정차" in body


def test_service_definition_xml_has_the_spec_shape() -> None:
    body, _ = open311.render(
        "xml", "service_definition", open311.service_definition(BY_CODE["noise"])
    )
    root = ET.fromstring(body.encode("utf-8"))
    assert root.tag == "service_definition" and root.findtext("service_code") == "noise"
    first = root.find("attributes/attribute")
    assert first is not None
    assert [c.tag for c in first] == [
        "variable",
        "code",
        "datatype",
        "required",
        "datatype_description",
        "order",
        "description",
        "values",
    ]
    assert first.findtext("variable") == "true"
    assert first.find("values/value/key") is not None


def test_discovery_lists_both_formats_and_the_spec() -> None:
    document = open311.discovery("https://api.example/open311/v2/")
    (endpoint,) = document["endpoints"]
    assert endpoint["url"] == "https://api.example/open311/v2"
    assert endpoint["specification"] == "http://wiki.open311.org/GeoReport_v2"
    body, _ = open311.render("xml", "discovery", document)
    root = ET.fromstring(body.encode("utf-8"))
    assert len(root.findall("endpoints/endpoint/formats/format")) == 2


def test_post_response_xml() -> None:
    body, _ = open311.render("xml", "post_response", open311.post_response("GG-20261124-0000000A"))
    root = ET.fromstring(body.encode("utf-8"))
    assert root.findtext("request/service_request_id") == "GG-20261124-0000000A"


def test_request_updates_leave_out_the_author() -> None:
    update = RequestUpdate(
        update_id="UPD-20261124T090000-0000000A",
        service_request_id="GG-20261124-0000000A",
        jurisdiction_id="suwon.gg.kr",
        status="closed",
        description="보수 완료",
        updated_datetime=NOW,
        author="civil-servant-7",
    )
    (shown,) = open311.request_updates([update])
    assert shown == {
        "update_id": "UPD-20261124T090000-0000000A",
        "service_request_id": "GG-20261124-0000000A",
        "status": "closed",
        "updated_datetime": "2026-11-24T09:00:00+00:00",
        "description": "보수 완료",
        "media_url": None,
    }
    body, _ = open311.render("xml", "request_updates", [shown])
    assert ET.fromstring(body.encode("utf-8")).findtext("request_update/status") == "closed"


@pytest.mark.parametrize(
    ("query", "header", "expected"),
    [
        (None, None, "en"),
        ("ko", None, "ko"),
        ("ko-KR", "en", "ko"),
        (None, "ko-KR,ko;q=0.9,en;q=0.8", "ko"),
        (None, "en;q=0.5,ko;q=0.9", "ko"),
        (None, "fr, en;q=0.1", "en"),
    ],
)
def test_locale(query: str | None, header: str | None, expected: str) -> None:
    assert open311.locale_of(query, header) == expected


def test_unknown_locale_is_400() -> None:
    with pytest.raises(InvalidInput, match="locale"):
        open311.locale_of("fr", None)


@pytest.mark.parametrize("name", ["GG-1.csv", ".json", "json"])
def test_unknown_file_format_is_404(name: str) -> None:
    with pytest.raises(NotFound):
        open311.split_file(name, "requests")


# ------------------------------------------------------------------ the catalogue


def test_every_service_is_complete_and_metadata_follows_attributes() -> None:
    for service in SERVICES:
        assert service.name_ko and service.description_en and service.description_ko
        assert service.keywords_en and service.keywords_ko and service.department
        assert service.metadata == bool(service.attributes)
    datatypes = {a.datatype for s in SERVICES for a in s.attributes}
    assert {"string", "number", "datetime", "singlevaluelist", "multivaluelist"} <= datatypes


@pytest.mark.parametrize(
    ("code", "answers"),
    [
        ("road-damage", {"pothole_size": "large"}),
        ("road-damage", {}),
        ("illegal-parking", {"vehicle_plate": "12가3456", "duration_minutes": "45"}),
        ("noise", {"time_of_day": "night", "started_at": "2026-11-24T22:30:00+09:00"}),
        ("waste", {"waste_type": ["furniture", "appliances"]}),
        ("waste", {"waste_type": "furniture"}),
        ("animal", {"animal_kind": "cat", "injured": "yes"}),
    ],
)
def test_valid_attributes_pass(code: str, answers: dict[str, Any]) -> None:
    BY_CODE[code].validate_attributes(answers)


@pytest.mark.parametrize(
    ("code", "answers", "named"),
    [
        ("road-damage", {"pothole_size": "enormous"}, "attribute[pothole_size]"),
        ("road-damage", {"colour": "red"}, "attribute[colour]"),
        ("illegal-parking", {}, "attribute[vehicle_plate]"),
        ("illegal-parking", {"vehicle_plate": "1", "duration_minutes": "long"}, "duration"),
        ("illegal-parking", {"vehicle_plate": "1", "duration_minutes": "nan"}, "duration"),
        ("noise", {"started_at": "yesterday"}, "attribute[started_at]"),
        ("noise", {"started_at": "2026-11-24T22:30:00"}, "time zone"),
        ("noise", {"time_of_day": ["night", "morning"]}, "given once"),
        ("waste", {"waste_type": ["furniture", "cars"]}, "attribute[waste_type]"),
        ("animal", {"animal_kind": ""}, "attribute[animal_kind]"),
        ("streetlight", {"pole_number": "x" * 501}, "at most 500"),
        ("tax", {"anything": "x"}, "it has: none"),
    ],
)
def test_invalid_attributes_are_400_naming_them(
    code: str, answers: dict[str, Any], named: str
) -> None:
    with pytest.raises(InvalidInput, match=named.replace("[", r"\[").replace("]", r"\]")):
        BY_CODE[code].validate_attributes(answers)


# ------------------------------------------------------------------ filters


def test_default_window_is_90_days_and_1000_records() -> None:
    window = parse_window({}, NOW)
    assert window.end == NOW and window.start == NOW - timedelta(days=90)
    assert window.page_size == 1000 and window.needed == 1000


def test_dates_without_offset_are_korean_time() -> None:
    window = parse_window({"start_date": "2026-11-01", "end_date": "2026-11-02T09:00"}, NOW)
    assert window.start == datetime(2026, 10, 31, 15, 0, tzinfo=UTC)
    assert window.end == datetime(2026, 11, 2, 0, 0, tzinfo=UTC)


def test_one_date_gives_90_days_from_or_up_to_it() -> None:
    from_start = parse_window({"start_date": "2026-01-01T00:00:00Z"}, NOW)
    assert from_start.end - from_start.start == timedelta(days=90)
    up_to_end = parse_window({"end_date": "2026-06-01T00:00:00Z"}, NOW)
    assert up_to_end.end - up_to_end.start == timedelta(days=90)


@pytest.mark.parametrize(
    ("params", "named"),
    [
        ({"start_date": "2026-01-01T00:00:00Z", "end_date": "2026-04-02T00:00:00Z"}, "end_date"),
        ({"start_date": "2026-02-01T00:00:00Z", "end_date": "2026-01-01T00:00:00Z"}, "end_date"),
        ({"start_date": "soon"}, "start_date"),
        ({"page": "0"}, "page"),
        ({"page": "two"}, "page"),
        ({"page_size": "1001"}, "page_size"),
        ({"page": "11", "page_size": "1000"}, "page"),
        ({"status": "open,pending"}, "status"),
        ({"status": ""}, "status"),
        ({"service_code": "road-damage,ufo"}, "service_code"),
        ({"service_request_id": "GG-1"}, "service_request_id"),
        (
            {"service_request_id": ",".join(f"GG-20261124-{i:08X}" for i in range(101))},
            "at most 100",
        ),
        ({"jurisdiction_id": "seoul go"}, "jurisdiction_id"),
    ],
)
def test_bad_filters_are_400_naming_them(params: dict[str, str], named: str) -> None:
    with pytest.raises(InvalidInput, match=named):
        parse_request_query(params, NOW)


def test_an_unknown_jurisdiction_filter_is_not_found() -> None:
    with pytest.raises(UnknownJurisdiction, match=r"jurisdiction_id: 'seoul\.go\.kr'"):
        parse_request_query({"jurisdiction_id": "seoul.go.kr"}, NOW)


def test_exactly_90_days_is_allowed() -> None:
    parse_window({"start_date": "2026-01-01T00:00:00Z", "end_date": "2026-04-01T00:00:00Z"})


def test_time_bounds_include_the_whole_last_second() -> None:
    low, high = time_bounds(NOW, NOW)
    for stored in ("2026-11-24T09:00:00Z", "2026-11-24T09:00:00.999999Z"):
        assert low <= stored <= high
    assert high < "2026-11-24T09:00:01Z"


class _FakeStore:
    """In memory, answering as the DynamoDB indexes do (newest first, up to a limit)."""

    def __init__(self, complaints: list[Complaint]) -> None:
        self.complaints = sorted(complaints, key=lambda c: c.requested_datetime, reverse=True)
        self.calls: list[str] = []

    def get(self, service_request_id: str, jurisdiction_id: str | None = None) -> Complaint:
        self.calls.append("get")
        found = [c for c in self.complaints if c.service_request_id == service_request_id]
        if not found:
            raise NotFound(f"service request {service_request_id} not found")
        return found[0]

    def get_many(self, ids: tuple[str, ...]) -> list[Complaint]:
        self.calls.append("get_many")
        by_id = {c.service_request_id: c for c in self.complaints}
        return [by_id[i] for i in ids if i in by_id]

    def newest_in_jurisdiction(
        self,
        jurisdiction_id: str,
        start: datetime,
        end: datetime,
        limit: int,
        *,
        statuses: tuple[str, ...] = (),
        service_codes: tuple[str, ...] = (),
    ) -> list[Complaint]:
        self.calls.append(f"jurisdiction:{jurisdiction_id}")
        return [
            c
            for c in self.complaints
            if c.jurisdiction_id == jurisdiction_id
            and start <= c.requested_datetime <= end
            and (not statuses or c.status in statuses)
            and (not service_codes or c.service_code in service_codes)
        ][:limit]

    def newest_with_status(
        self,
        status: str,
        start: datetime,
        end: datetime,
        limit: int,
        *,
        service_codes: tuple[str, ...] = (),
    ) -> list[Complaint]:
        self.calls.append(f"status:{status}")
        return [
            c
            for c in self.complaints
            if c.status == status
            and start <= c.requested_datetime <= end
            and (not service_codes or c.service_code in service_codes)
        ][:limit]


def _many() -> list[Complaint]:
    return [
        _complaint(
            f"GG-20261124-0000000{i}",
            requested_datetime=NOW - timedelta(hours=i),
            status="closed" if i % 2 else "open",
            jurisdiction_id="suwon.gg.kr" if i < 6 else "paju.gg.kr",
        )
        for i in range(9)
    ]


def test_province_wide_merges_both_statuses_newest_first_and_pages() -> None:
    store = _FakeStore(_many())
    query = parse_request_query({"page": "2", "page_size": "3"}, NOW + timedelta(minutes=1))
    found = find_requests(query, store, FakeReceipts())
    assert [c.service_request_id[-1] for c in found] == ["3", "4", "5"]
    assert store.calls == ["status:open", "status:closed"]


def test_jurisdiction_and_status_use_the_jurisdiction_index() -> None:
    store = _FakeStore(_many())
    query = parse_request_query(
        {"jurisdiction_id": "paju.gg.kr", "status": "open"}, NOW + timedelta(minutes=1)
    )
    assert [c.service_request_id[-1] for c in find_requests(query, store, FakeReceipts())] == [
        "6",
        "8",
    ]
    assert store.calls == ["jurisdiction:paju.gg.kr"]


def test_ids_override_every_other_filter() -> None:
    store = _FakeStore(_many())
    query = parse_request_query(
        {"service_request_id": "GG-20261124-00000008,GG-20261124-00000001", "status": "open"}, NOW
    )
    assert [c.service_request_id[-1] for c in find_requests(query, store, FakeReceipts())] == [
        "8",
        "1",
    ]


def test_window_cuts_pages() -> None:
    window = Window(NOW, NOW, page=2, page_size=2)
    assert window.cut(list(range(5))) == [2, 3]
