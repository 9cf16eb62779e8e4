"""Validation of complaints as citizens submit them (Open311 form and JSON)."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest

from gyeonggi.common.errors import InvalidInput
from gyeonggi.complaints.intake import (
    new_request_id,
    parse_intake_message,
    parse_submission,
    submission_from_form,
)
from gyeonggi.complaints.jurisdictions import BY_ID, JURISDICTIONS, UnknownJurisdiction, known
from gyeonggi.complaints.privacy import age_band
from gyeonggi.complaints.services import SERVICES

VALID: dict[str, object] = {
    "jurisdiction_id": "suwon.gg.kr",
    "service_code": "road-damage",
    "lat": 37.2636,
    "long": 127.0286,
    "description": "Pothole",
}


def _form(data: dict[str, object]) -> dict[str, list[str]]:
    """``data`` as a form carries it: text."""
    return {k: [str(v)] for k, v in data.items()}


def test_there_are_31_jurisdictions_and_15_services_with_unique_ids() -> None:
    assert len(JURISDICTIONS) == 31 == len(BY_ID)
    assert sum(j.kind == "county" for j in JURISDICTIONS) == 3
    assert len({s.code for s in SERVICES}) == 15
    assert all(j.name_ko.endswith(("시", "군")) for j in JURISDICTIONS)


def test_form_fields_and_attributes_are_read() -> None:
    form = _form(VALID)
    form["attribute[size]"] = ["large"]
    form["attribute[hazards]"] = ["water", "traffic"]
    form["api_key"] = ["gg_secret"]
    submission = submission_from_form(form)
    assert submission.lat == pytest.approx(37.2636)
    assert submission.attributes == {"size": "large", "hazards": ["water", "traffic"]}


def test_a_field_given_twice_is_refused() -> None:
    form = _form(VALID) | {"description": ["a", "b"]}
    with pytest.raises(InvalidInput, match="description: must be given once"):
        submission_from_form(form)


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"jurisdiction_id": "busan go"}, "jurisdiction_id: must be the id of a city or county"),
        ({"jurisdiction_id": " "}, "jurisdiction_id: must be the id of a city or county"),
        ({"service_code": "x"}, "service_code: 'x' is not a service_code"),
        ({"lat": 91}, "lat: Input should be less than or equal to 90"),
        ({"long": None}, "lat and long must be given together"),
        ({"lat": None, "long": None}, "a location is required: lat and long, or address_string"),
        ({"description": ""}, "description: String should have at least 1 character"),
        ({"description": "x" * 4001}, "description: String should have at most 4000 characters"),
        ({"email": "a@b"}, "email: is not an e-mail address"),
        ({"phone": "call me"}, "phone: is not a phone number"),
        ({"media_url": "ftp://x/y.jpg"}, "media_url: must be an http or https URL"),
        ({"nickname": "x"}, "nickname: is not a field of this request"),
        ({"service_code": None}, "service_code: is required"),
    ],
)
def test_each_problem_is_named(change: dict[str, object], message: str) -> None:
    data = {k: v for k, v in (VALID | change).items() if v is not None}
    with pytest.raises(InvalidInput) as caught:
        parse_submission(data)
    assert caught.value.message.startswith(message)


@pytest.mark.parametrize("jurisdiction_id", ["busan.go.kr", "SUWON.GG.KR", "seoul"])
def test_a_well_formed_unknown_jurisdiction_is_not_found(jurisdiction_id: str) -> None:
    # GeoReport v2: "404 - jurisdiction_id provided was not found"; malformed ones stay 400.
    with pytest.raises(UnknownJurisdiction) as caught:
        parse_submission(VALID | {"jurisdiction_id": jurisdiction_id})
    assert caught.value.field == "jurisdiction_id"
    assert caught.value.message.startswith(f"jurisdiction_id: {jurisdiction_id!r} is not one")
    form = {k: [str(v)] for k, v in (VALID | {"jurisdiction_id": jurisdiction_id}).items()}
    with pytest.raises(UnknownJurisdiction):
        submission_from_form(form)
    with pytest.raises(UnknownJurisdiction):
        known(jurisdiction_id)


@pytest.mark.parametrize("jurisdiction_id", ["", " ", "suwon gg", "-suwon", "a" * 254, "수원"])
def test_a_malformed_jurisdiction_is_invalid_input(jurisdiction_id: str) -> None:
    with pytest.raises(InvalidInput) as caught:
        known(jurisdiction_id)
    assert caught.value.field == "jurisdiction_id"
    assert known(None) is None and known("suwon.gg.kr") == "suwon.gg.kr"


def test_address_alone_is_a_location() -> None:
    data = {k: v for k, v in VALID.items() if k not in ("lat", "long")}
    assert parse_submission(data | {"address_string": "수원시 팔달구"}).lat is None


def test_description_keeps_korean_and_line_breaks() -> None:
    text = "도로가 파손되었습니다.\n위험합니다."
    assert parse_submission(VALID | {"description": text}).description == text


def test_request_ids_are_dated_and_unguessable() -> None:
    now = datetime(2026, 11, 24, 9, 0, tzinfo=UTC)
    ids = {new_request_id(now) for _ in range(200)}
    assert len(ids) == 200
    assert all(i.startswith("GG-20261124-") and len(i) == 20 for i in ids)


def test_intake_message_is_parsed_from_json_or_dict_and_refused_otherwise() -> None:
    message = {
        "service_request_id": "GG-20261124-0A1B2C3D",
        "submitted_at": "2026-11-24T09:00:00Z",
        "channel": "open311",
        "submission": VALID,
    }
    import json

    assert parse_intake_message(json.dumps(message)).submission.service_code == "road-damage"
    assert parse_intake_message(message).channel == "open311"
    with pytest.raises(InvalidInput, match="Invalid JSON"):
        parse_intake_message('{"service_request_id": ')
    with pytest.raises(InvalidInput, match="service_request_id"):
        parse_intake_message(message | {"service_request_id": "42"})


@pytest.mark.parametrize(
    ("birth_year", "band"),
    [
        (None, "unknown"),
        (2030, "unknown"),
        (2010, "0-19"),
        (2006, "20-29"),
        (1987, "30-39"),
        (1967, "50-59"),
        (1957, "60-69"),
        (1956, "70+"),
        (1930, "70+"),
    ],
)
def test_age_bands(birth_year: int | None, band: str) -> None:
    assert age_band(birth_year, date(2026, 11, 24)) == band
