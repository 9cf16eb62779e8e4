"""Validation of petition-form values (issue 11, section 2), one reader at a time."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from gyeonggi.common.privacy import mask_rrn, mask_rrns, mask_rrns_in
from gyeonggi.forms import addresses, phones, rrn
from gyeonggi.forms.catalogue import catalogue
from gyeonggi.forms.dates import find_dates, parse_date
from gyeonggi.forms.numerals import bare_count, find_counts
from gyeonggi.forms.problems import InvalidValue
from gyeonggi.forms.validation import check_name, find_choices, form_warnings, validate

TODAY = date(2026, 12, 7)  # a Monday
CENTURY = {
    "1": 1900,
    "2": 1900,
    "3": 2000,
    "4": 2000,
    "5": 1900,
    "6": 1900,
    "7": 2000,
    "8": 2000,
    "9": 1800,
    "0": 1800,
}

# ------------------------------------------------------------------ resident registration numbers


@st.composite
def rrns(draw: st.DrawFn) -> tuple[str, date, str]:
    """A well-formed, fictitious RRN, its birth date and seventh digit."""
    digit = draw(st.sampled_from("1234567890"))
    century = CENTURY[digit]
    born = draw(st.dates(date(century, 1, 1), min(date(century + 99, 12, 31), TODAY)))
    rest = draw(st.text("0123456789", min_size=6, max_size=6))
    return f"{born:%y%m%d}-{digit}{rest}", born, digit


@settings(max_examples=200, deadline=None)
@given(case=rrns(), style=st.sampled_from(["-", "", " - ", "–"]))
def test_an_rrn_round_trips_with_its_birth_date_and_sex(
    case: tuple[str, date, str], style: str
) -> None:
    value, born, digit = case
    parsed = rrn.parse(value.replace("-", style), TODAY)
    assert parsed.value == value
    assert parsed.birth_date == born
    assert parsed.sex == ("F" if int(digit) % 2 == 0 else "M")
    assert parsed.foreign == (digit in "5678")
    assert mask_rrn(parsed.value) == value[:8] + "******"
    assert mask_rrns(f"번호 {value} 입니다") == f"번호 {value[:8]}****** 입니다"


@settings(max_examples=100, deadline=None)
@given(case=rrns())
def test_the_check_digit_is_only_a_warning(case: tuple[str, date, str]) -> None:
    value, _, _ = case
    good = value[:13] + str(rrn.check_digit(value.replace("-", "")))
    bad = value[:13] + str((rrn.check_digit(value.replace("-", "")) + 1) % 10)
    assert rrn.check(good, TODAY).warnings == ()
    checked = rrn.check(bad, TODAY)
    assert checked.value == bad and checked.warnings == (rrn.CHECK_DIGIT_WARNING,)


@pytest.mark.parametrize(
    ("value", "says"),
    [
        ("900230-1234567", "not a real date"),  # 30 February
        ("901301-1234567", "not a real date"),  # month 13
        ("000229-3234567", ""),  # 2000 was a leap year: valid
        ("010229-3234567", "not a real date"),  # 2001 was not
        ("300101-3234567", "future"),  # born in 2030
        ("90010112345678", "13 digits"),
        ("900101-123456", "13 digits"),
        ("abcdef-1234567", "13 digits"),
    ],
)
def test_a_bad_rrn_says_what_is_wrong(value: str, says: str) -> None:
    if not says:
        assert rrn.parse(value, TODAY).birth_date == date(2000, 2, 29)
        return
    with pytest.raises(InvalidValue) as raised:
        rrn.parse(value, TODAY)
    assert says in raised.value.text.en
    assert raised.value.text.ko and raised.value.text.easy_ko


def test_9_and_0_are_the_1800s() -> None:
    assert rrn.parse("990101-9234567", TODAY).birth_date == date(1899, 1, 1)
    assert rrn.parse("000101-0234567", TODAY).sex == "F"


def test_rrns_are_masked_anywhere_in_json_like_data() -> None:
    data = {
        "fields": {"applicant_rrn": "900101-1234567"},
        "turns": ["9001011234567 입니다"],
        "phone": "010-1234-5678",
    }
    masked = mask_rrns_in(data)
    assert masked["fields"]["applicant_rrn"] == "900101-1******"
    assert masked["turns"] == ["900101-1****** 입니다"]
    assert masked["phone"] == "010-1234-5678"  # no RRN: left alone by this function
    # Longer runs of digits are not RRNs (an account number).
    assert mask_rrns("1234567890123456") == "1234567890123456"


# ------------------------------------------------------------------ phones


@settings(max_examples=80, deadline=None)
@given(
    middle=st.integers(2000, 4999) | st.integers(6000, 9999),
    last=st.integers(0, 9999),
    style=st.sampled_from(
        [
            "{a}-{b}-{c}",
            "{a}{b}{c}",
            "{a} {b} {c}",
            "+82 10 {b} {c}",
            "+82-10-{b}-{c}",
            "({a}) {b}-{c}",
            "{a}.{b}.{c}",
        ]
    ),
)
def test_mobile_numbers_in_any_format_normalise_with_hyphens(
    middle: int, last: int, style: str
) -> None:
    text = style.format(a="010", b=middle, c=f"{last:04d}")
    assert phones.check(text).value == f"010-{middle}-{last:04d}"


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("031-228-2114", "031-228-2114"),
        ("0312282114", "031-228-2114"),
        ("02 123 4567", "02-123-4567"),
        ("(031) 8008-1234", "031-8008-1234"),
    ],
)
def test_landlines_keep_their_area_code(text: str, expected: str) -> None:
    assert phones.check(text).value == expected


@pytest.mark.parametrize(
    "text",
    ["010-12-3456", "12345", "010-1234-5678-9", "전화번호", "+1 202 555 0100", "010-5976-2708"],
)
def test_what_is_no_korean_phone_number_is_refused(text: str) -> None:
    with pytest.raises(InvalidValue):
        phones.check(text)


# ------------------------------------------------------------------ addresses


@pytest.mark.parametrize(
    ("text", "address", "jurisdiction"),
    [
        (
            "수원시 팔달구 효원로 1, 302동 1104호",
            "경기도 수원시 팔달구 효원로 1, 302동 1104호",
            "suwon.gg.kr",
        ),
        (
            "경기 용인시 수지구 풍덕천로 152 203동 1101호예요",
            "경기도 용인시 수지구 풍덕천로 152, 203동 1101호",
            "yongin.gg.kr",
        ),
        ("수원 영통구 매탄로36번길 12", "경기도 수원시 영통구 매탄로36번길 12", "suwon.gg.kr"),
        ("광주시 경안로 20", "경기도 광주시 경안로 20", "gwangju.gg.kr"),
        ("가평군 석봉로 181", "경기도 가평군 석봉로 181", "gapyeong.gg.kr"),
        ("서울 마포구 월드컵로 212", "서울특별시 마포구 월드컵로 212", None),
        ("광주 북구 우치로 77", "광주광역시 북구 우치로 77", None),
        ("세종시 한누리대로 2130", "세종특별자치시 한누리대로 2130", None),
        (
            "825 Jeongjo-ro, Paldal-gu, Suwon-si",
            "825 Jeongjo-ro, Paldal-gu, Suwon-si",
            "suwon.gg.kr",
        ),
        (
            "Before, I lived at 45 Olympic-ro, Songpa-gu, Seoul",
            "45 Olympic-ro, Songpa-gu, Seoul",
            None,
        ),
    ],
)
def test_road_name_addresses_normalise_with_their_jurisdiction(
    text: str, address: str, jurisdiction: str | None
) -> None:
    value = addresses.check(text).value
    assert value["address"] == address
    assert value.get("jurisdiction_id") == jurisdiction


@pytest.mark.parametrize(
    ("text", "says"),
    [
        ("정조로 825", "city"),
        ("수원시 어딘가", "road"),
        ("경기도 서울시 강남구 테헤란로 1", "Gyeonggi"),
    ],
)
def test_an_incomplete_address_says_what_is_missing(text: str, says: str) -> None:
    with pytest.raises(InvalidValue) as raised:
        addresses.check(text)
    assert says in raised.value.text.en


def test_a_city_alone_is_kept_as_a_hint() -> None:
    assert addresses.city_hint("지난주 수원으로 이사했어요") == "수원시"
    assert addresses.city_hint("수원 팔달구") == "수원시 팔달구"
    assert addresses.city_hint("수원시 효원로 1") is None


# ------------------------------------------------------------------ dates


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("어제", "2026-12-06"),
        ("그저께", "2026-12-05"),
        ("사흘 전", "2026-12-04"),
        ("지난주 금요일", "2026-12-04"),
        ("이번 주 월요일", "2026-12-07"),
        ("3월 2일", "2026-03-02"),
        ("12월 20일", "2025-12-20"),
        ("2026년 11월 3일", "2026-11-03"),
        ("지난달 28일", "2026-11-28"),
        ("2026-11-30", "2026-11-30"),
        ("11/28", "2026-11-28"),
        ("yesterday", "2026-12-06"),
        ("last Friday", "2026-12-04"),
        ("3 days ago", "2026-12-04"),
        ("March 2nd", "2026-03-02"),
        ("2 March", "2026-03-02"),
        ("a week ago", "2026-11-30"),
        ("일주일 전", "2026-11-30"),
    ],
)
def test_relative_dates_resolve_against_the_day_in_korea(text: str, expected: str) -> None:
    assert parse_date(text, TODAY).isoformat() == expected


def test_a_day_that_does_not_exist_or_a_week_alone_is_asked_again() -> None:
    with pytest.raises(InvalidValue):
        parse_date("2월 30일", TODAY)
    with pytest.raises(InvalidValue):
        parse_date("지난주", TODAY)
    assert find_dates("이사는 했어요", TODAY) == []


def test_a_late_move_in_report_is_warned_not_refused() -> None:
    move_date = catalogue()["move-in-report"].field("move_date")
    on_time = validate(move_date, "11월 23일", TODAY)  # 14 days: due today
    assert on_time.value == "2026-11-23" and on_time.warnings == ()
    late = validate(move_date, "11월 1일", TODAY)
    assert late.value == "2026-11-01"
    assert "22 days late" in late.warnings[0].en and "accepted" in late.warnings[0].en
    with pytest.raises(InvalidValue):
        validate(move_date, "2026-12-25", TODAY)  # a move in the future


# ------------------------------------------------------------------ counts, choices, names


@pytest.mark.parametrize(
    ("text", "count"),
    [
        ("두 통 주세요", 2),
        ("3부요", 3),
        ("세 부", 3),
        ("열두 장", 12),
        ("한 통만", 1),
        ("2통이요", 2),
        ("I need two copies", 2),
        ("actually three copies", 3),
        ("하나 떼 주세요", 1),
    ],
)
def test_counts_in_korean_and_english(text: str, count: int) -> None:
    assert find_counts(text)[0][0] == count


@pytest.mark.parametrize("text", ["두 통장", "세 부동산", "일부만요", "a member of the household"])
def test_words_that_only_look_like_counts_are_not(text: str) -> None:
    assert find_counts(text) == []


def test_bare_counts_and_bounds() -> None:
    copies = catalogue()["resident-registration-copy"].field("copies")
    assert [bare_count(t) for t in ("3", "three", "두", "just one")] == [3, 3, 2, 1]
    with pytest.raises(InvalidValue):  # twelve copies: more than a counter gives at once
        validate(copies, "열두 장", TODAY)
    with pytest.raises(InvalidValue):
        validate(copies, 11, TODAY)
    with pytest.raises(InvalidValue):
        validate(copies, True, TODAY)


@pytest.mark.parametrize(
    ("form_id", "field", "text", "choice"),
    [
        ("resident-registration-copy", "document_kind", "초본으로 주세요", "abstract"),
        (
            "resident-registration-copy",
            "document_kind",
            "the whole household, a full copy",
            "full-copy",
        ),
        (
            "family-relation-certificate",
            "certificate_kind",
            "친양자입양관계증명서",
            "full-adoption",
        ),
        ("family-relation-certificate", "certificate_kind", "marriage certificate", "marriage"),
        ("family-relation-certificate", "subject_relation", "아버지 거요", "parent"),
        ("building-register-copy", "register_kind", "아파트라서 집합이요", "aggregate"),
        ("seal-certificate", "purpose_kind", "selling my flat", "real-estate-sale"),
        ("basic-pension", "bank_name", "농협이요", "nh"),
        ("disability-registration", "disability_type", "청각 장애", "hearing"),
        ("disability-registration", "disability_type", "귀가 안 들려요", "hearing"),
    ],
)
def test_choices_from_korean_or_english_words(
    form_id: str, field: str, text: str, choice: str
) -> None:
    f = catalogue()[form_id].field(field)
    assert validate(f, text, TODAY).value == choice


def test_an_english_word_must_stand_alone() -> None:
    purpose = catalogue()["resident-registration-copy"].field("purpose")
    assert [c for c, _, _ in find_choices(purpose, "my parents")] == []


@pytest.mark.parametrize(
    ("text", "married"),
    [
        ("네", True),
        ("결혼했어요", True),
        ("미혼이에요", False),
        ("no, my husband passed away", False),
        ("I'm single", False),
        ("yes, my wife", True),
        ("사별했어요", False),
    ],
)
def test_married_from_yes_no_and_words(text: str, married: bool) -> None:
    f = catalogue()["basic-pension"].field("married")
    assert validate(f, text, TODAY).value is married


@pytest.mark.parametrize(
    ("text", "name"),
    [
        ("김하늘이에요", "김하늘"),
        ("제 이름은 박지훈입니다", "박지훈"),
        ("아내 정순이요", "정순"),
        ("한상철이", "한상철"),
        ("유재석이고요", "유재석"),
        ("My name is Thomas Müller", "Thomas Müller"),
        ("Son Yejin", "Son Yejin"),
        ("the buyer is Lee Sora", "Lee Sora"),
    ],
)
def test_names_as_written_without_the_words_around_them(text: str, name: str) -> None:
    assert check_name(text).value == name


@pytest.mark.parametrize("text", ["010-1234-5678", "하", "", "   "])
def test_what_is_no_name_is_refused(text: str) -> None:
    with pytest.raises(InvalidValue):
        check_name(text)


def test_a_basic_pension_applicant_under_65_is_warned() -> None:
    form = catalogue()["basic-pension"]
    young = (TODAY - timedelta(days=365 * 50)).strftime("%y%m%d") + "-2123456"
    assert form_warnings(form, {"applicant_rrn": young}, TODAY)
    assert not form_warnings(form, {"applicant_rrn": "550101-2123456"}, TODAY)
