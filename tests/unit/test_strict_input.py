"""Input read as strictly as the API documents it: numbers as JSON writes them, text a person can
read, times within the years the system can shift and window, and no empty value taken for the
default."""

from __future__ import annotations

import json
import unicodedata
from datetime import UTC, date, datetime, timedelta, timezone
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from gyeonggi.common import clock
from gyeonggi.common.errors import InvalidInput
from gyeonggi.common.numbers import MAX_CHARS, decimal_number, whole_number
from gyeonggi.common.text import check_text, has_visible
from gyeonggi.complaints.access import parse_page
from gyeonggi.complaints.dashboard import MAX_DAYS, parse_volume_query
from gyeonggi.complaints.intake import parse_submission, submission_from_form
from gyeonggi.complaints.jurisdictions import known
from gyeonggi.complaints.open311 import locale_of
from gyeonggi.complaints.queries import MAX_SPAN, parse_request_query, parse_window
from gyeonggi.complaints.services import BY_CODE
from gyeonggi.complaints.updates import parse_update
from gyeonggi.safety.incident_view import parse_note, parse_status

EXAMPLES = settings(max_examples=300, deadline=None, derandomize=True, database=None)
NOW = datetime(2026, 11, 24, 9, 0, tzinfo=UTC)
TODAY = date(2026, 11, 24)
COMPLAINT: dict[str, Any] = {
    "jurisdiction_id": "suwon.gg.kr",
    "service_code": "noise",
    "description": "밤마다 공사 소음",
    "lat": 37.2636,
    "long": 127.0286,
}
# Characters that show nothing by themselves, of every kind text.py knows.
INVISIBLE = [
    " ", "\u3000", "\u00a0", "\u200b", "\u200c", "\u200d", "\u2060", "\ufeff", "\u200e",
    "\u202e", "\u00ad", "\u034f", "\u115f", "\u1160", "\u3164", "\uffa0", "\u2800", "\u2028",
]  # fmt: skip


def _json_number(text: str) -> bool:
    """The oracle: what JSON (RFC 8259) reads as a finite number from exactly ``text``."""
    if text != text.strip() or len(text) > MAX_CHARS:
        return False
    try:
        value = json.loads(text, parse_constant=lambda c: None)
    except ValueError:
        return False
    return type(value) in (int, float) and value not in (float("inf"), float("-inf"))


# ------------------------------------------------------------------ numbers


@EXAMPLES
@given(
    st.text(st.characters(codec="utf-8"), max_size=12)
    | st.sampled_from(["1_0", " 1", "1 ", "+1", "0x1f", "1e3", "nan", "inf", "١", "１", "01"])
)
def test_a_number_is_exactly_what_json_reads_as_one(text: str) -> None:
    if _json_number(text):
        assert decimal_number(text, "lat") == json.loads(text)
    else:
        with pytest.raises(InvalidInput, match=r"^lat: ") as caught:
            decimal_number(text, "lat")
        assert caught.value.field == "lat"


@EXAMPLES
@given(st.integers(-(10**6), 10**6).map(str) | st.text(max_size=8))
def test_a_whole_number_is_a_json_integer_within_its_range(text: str) -> None:
    whole = _json_number(text) and type(json.loads(text)) is int
    if whole and 1 <= json.loads(text) <= 1000:
        assert whole_number(text, "page", 1, 1000) == int(text)
    else:
        with pytest.raises(InvalidInput, match=r"^page: must be a whole number from 1 to 1000"):
            whole_number(text, "page", 1, 1000)


@pytest.mark.parametrize("digits", [MAX_CHARS + 1, 4301, 5000])
def test_a_number_too_long_is_refused_before_python_converts_it(digits: int) -> None:
    with pytest.raises(InvalidInput, match="page"):
        whole_number("9" * digits, "page", 1, 10)
    with pytest.raises(InvalidInput, match="lat"):
        decimal_number("9" * digits, "lat")


@pytest.mark.parametrize("lax", ["1_0", " 37.5", "37.5 ", "+37.5", "nan", "inf", "0x10", "١", ""])
def test_form_lat_and_attribute_numbers_are_json_numbers(lax: str) -> None:
    form = {k: [str(v)] for k, v in COMPLAINT.items()}
    with pytest.raises(InvalidInput, match=r"^lat: ") as caught:
        submission_from_form(form | {"lat": [lax]})
    assert caught.value.field == "lat"
    with pytest.raises(InvalidInput, match=r"^attribute\[duration_minutes\]: "):
        BY_CODE["illegal-parking"].attributes[1].check(lax)


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"lat": True}, "lat"),
        ({"long": False}, "long"),
        ({"lat": "37.5"}, "lat"),
        ({"lat": float("nan")}, "lat"),
        ({"long": float("inf")}, "long"),
        ({"citizen": {"birth_year": True}}, "citizen.birth_year"),
        ({"citizen": {"birth_year": "1987"}}, "citizen.birth_year"),
        ({"citizen": {"birth_year": 1987.0}}, "citizen.birth_year"),
        ({"citizen": {"birth_year": 10**5000}}, "citizen.birth_year"),
        ({"citizen": {"birth_year": 19870}}, "citizen.birth_year"),
    ],
)
def test_json_numbers_are_strict_in_the_model(change: dict[str, Any], field: str) -> None:
    with pytest.raises(InvalidInput) as caught:
        parse_submission(COMPLAINT | change)
    assert caught.value.field == field


def test_whole_numbers_in_json_are_numbers_too() -> None:
    submission = parse_submission(COMPLAINT | {"lat": 37, "citizen": {"birth_year": 1987}})
    assert submission.lat == 37.0 and submission.citizen.birth_year == 1987


# ------------------------------------------------------------------ text


@EXAMPLES
@given(st.text(st.sampled_from(INVISIBLE), min_size=1, max_size=30))
def test_text_of_invisible_characters_only_is_empty(text: str) -> None:
    assert not has_visible(text)
    with pytest.raises(ValueError, match="no visible character"):
        check_text(text, multiline=True)
    for field in ("description", "address_string", "first_name", "device_id"):
        with pytest.raises(InvalidInput) as caught:
            parse_submission(COMPLAINT | {field: text})
        assert caught.value.field == field
    with pytest.raises(InvalidInput, match=r"^status_notes: "):
        parse_update({"status": "closed", "status_notes": text})
    with pytest.raises(InvalidInput, match=r"^note: "):
        parse_note({"note": text})


@EXAMPLES
@given(st.text(min_size=1, max_size=30))
def test_text_is_taken_if_it_shows_something_and_holds_no_control_or_surrogate(
    text: str,
) -> None:
    categories = {unicodedata.category(c) for c in text}
    controls = {c for c in text if unicodedata.category(c) == "Cc"} - set("\t\n\r")
    readable = has_visible(text) and "Cs" not in categories and not controls
    if readable:
        assert check_text(text, multiline=True) == text
    else:
        with pytest.raises(ValueError):
            check_text(text, multiline=True)


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("description", "소음\x00"),
        ("description", "\x1b[31m red"),
        ("first_name", "Min\nji"),
        ("first_name", "Min\tji"),
        ("email", "a\x00b@example.kr"),
        ("email", "\u200b@\u200b.\u200b\u200b"),
        ("media_url", "https://example.kr/\x07"),
    ],
)
def test_control_characters_are_not_text(field: str, value: str) -> None:
    with pytest.raises(InvalidInput) as caught:
        parse_submission(COMPLAINT | {field: value})
    assert caught.value.field == field


def test_descriptions_keep_line_breaks_korean_and_emoji() -> None:
    text = "도로가 파손되었습니다.\r\n\t위험합니다 \U0001f6a7"
    assert parse_submission(COMPLAINT | {"description": text}).description == text


def test_a_required_text_attribute_of_invisible_characters_is_missing() -> None:
    plate = BY_CODE["illegal-parking"].attributes[0]
    assert plate.datatype == "string"
    with pytest.raises(InvalidInput, match=r"attribute\[vehicle_plate\]: "):
        plate.check("\u200b\u3164")
    plate.check("12가 3456")


# ------------------------------------------------------------------ times


@EXAMPLES
@given(
    st.datetimes(min_value=datetime.min, max_value=datetime.max),
    st.sampled_from(["", "Z", "+09:00", "-23:59", "+23:59"]),
    st.sampled_from(["start_date", "end_date"]),
)
def test_any_date_is_a_window_or_a_400_naming_it_never_an_overflow(
    moment: datetime, zone: str, name: str
) -> None:
    params = {name: moment.isoformat() + zone}
    try:
        window = parse_window(params, NOW)
    except InvalidInput as exc:
        assert exc.field == name
        return
    assert clock.EARLIEST - MAX_SPAN <= window.start <= window.end <= clock.LATEST + MAX_SPAN


@pytest.mark.parametrize(
    "text",
    ["0001-01-01", "9999-12-31", "9999-12-31T23:59:59-23:59", "0001-01-01T00:00:00+23:59"],
)
def test_dates_at_the_ends_of_time_are_400_on_both_feeds(text: str) -> None:
    for name in ("start_date", "end_date"):
        with pytest.raises(InvalidInput, match=f"^{name}: .* from 1900 to 2999"):
            parse_request_query({name: text}, NOW)


@EXAMPLES
@given(st.dates(min_value=date.min, max_value=TODAY), st.integers(1, MAX_DAYS))
def test_any_ops_end_day_is_a_query_whose_days_stay_representable(end: date, days: int) -> None:
    try:
        query = parse_volume_query({"end": end.isoformat(), "days": str(days)}, TODAY)
    except InvalidInput as exc:
        assert exc.field == "end"
        return
    assert query.end - timedelta(days=query.days) >= date(1800, 1, 1)


def test_parse_iso_keeps_every_accepted_time_shiftable() -> None:
    for text in ("1900-01-01T00:00:00+00:00", "2999-12-31T23:59:59+00:00"):
        moment = clock.parse_iso(text)
        moment.astimezone(timezone(timedelta(hours=-23, minutes=-59))) + timedelta(days=366)
    for text in ("1899-12-31T23:59:59Z", "3000-01-01T00:00:00Z"):
        with pytest.raises(ValueError, match="outside the years 1900 to 2999"):
            clock.parse_iso(text)


# ------------------------------------------------------------------ empty values


@pytest.mark.parametrize(
    ("parse", "name"),
    [
        (lambda v: parse_status(v), "status"),
        (lambda v: known(v), "jurisdiction_id"),
        (lambda v: locale_of(v, None), "locale"),
        (lambda v: parse_page({"limit": v}), "limit"),
        (lambda v: parse_page({"after": v}), "after"),
        (lambda v: parse_window({"start_date": v}, NOW), "start_date"),
        (lambda v: parse_window({"page": v}, NOW), "page"),
        (lambda v: parse_request_query({"status": v}, NOW), "status"),
        (lambda v: parse_request_query({"service_code": v}, NOW), "service_code"),
        (lambda v: parse_volume_query({"days": v}, TODAY), "days"),
        (lambda v: parse_volume_query({"end": v}, TODAY), "end"),
    ],
)
@pytest.mark.parametrize("empty", ["", " ", "\u200b"])
def test_an_empty_value_is_a_400_naming_it_never_the_default(
    parse: Any, name: str, empty: str
) -> None:
    with pytest.raises(InvalidInput) as caught:
        parse(empty)
    assert caught.value.field == name


def test_status_absent_is_open() -> None:
    assert parse_status(None) == "open"


# ------------------------------------------------------------------ an operator's note


def test_a_note_is_readable_text_of_at_most_2000_characters() -> None:
    assert parse_note({}) is None and parse_note({"note": None}) is None
    assert parse_note({"note": "현장 도착\n확인 중"}) == "현장 도착\n확인 중"
    for bad in (5, ["a"], "x" * 2001, "\x00", "\u200b"):
        with pytest.raises(InvalidInput, match=r"^note: "):
            parse_note({"note": bad})
    with pytest.raises(InvalidInput, match=r"^body: must be a JSON object"):
        parse_note(["note"])
