"""Bodies from outside (``gyeonggi.common.messages``): whatever the bytes, parsed or refused with
an ``InvalidInput`` that says why; never a ``RecursionError``, a bare ``ValueError`` or a value
that cannot be written out again."""

from __future__ import annotations

import contextlib
import json
from typing import Any
from urllib.parse import quote, urlencode

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from gyeonggi.common.errors import ContentTooLarge, InvalidInput
from gyeonggi.common.messages import (
    MAX_DEPTH,
    MAX_FORM_FIELDS,
    MAX_REQUEST_BYTES,
    form_body,
    json_body,
    proxy_body,
)
from gyeonggi.common.numbers import MAX_CHARS
from gyeonggi.complaints.jurisdictions import JURISDICTIONS
from gyeonggi.complaints.services import SERVICES

EXAMPLES = settings(max_examples=200, deadline=None, derandomize=True, database=None)
JSON_VALUES = st.recursive(
    st.none()
    | st.booleans()
    | st.integers(-(10**30), 10**30)
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(),
    lambda children: (
        st.lists(children, max_size=4) | st.dictionaries(st.text(), children, max_size=4)
    ),
    max_leaves=20,
)


def _nested(depth: int, opener: str = "[", closer: str = "]") -> str:
    return opener * depth + "1" + closer * depth


# ------------------------------------------------------------------ any input


@EXAMPLES
@given(st.binary(max_size=2000))
def test_any_bytes_are_parsed_or_refused_as_invalid_input(raw: bytes) -> None:
    for parse in (lambda: json_body(raw), lambda: form_body(raw, limit=MAX_REQUEST_BYTES)):
        with contextlib.suppress(InvalidInput):
            parse()


@EXAMPLES
@given(st.text(max_size=500))
def test_any_text_is_parsed_or_refused_as_invalid_input(text: str) -> None:
    try:
        data = json_body(text)
    except InvalidInput:
        return
    # Whatever was accepted can be written out again as UTF-8 JSON (a queue, a table, a reply).
    json.dumps(data, ensure_ascii=False, allow_nan=False).encode("utf-8")


@EXAMPLES
@given(JSON_VALUES)
def test_json_within_the_limits_reads_back_as_written(value: Any) -> None:
    text = json.dumps(value, ensure_ascii=False)
    try:
        assert json_body(text.encode("utf-8")) == value
    except InvalidInput as exc:
        # Only a lone surrogate that st.text() drew is refused: no UTF-8 encoder writes one.
        assert "surrogate" in exc.message


# ------------------------------------------------------------------ nesting


@settings(max_examples=60, deadline=None, derandomize=True, database=None)
@given(
    st.integers(MAX_DEPTH + 1, 50_000),
    st.sampled_from([("[", "]"), ('{"a":', "}"), ('{"citizen":', "}")]),
)
def test_any_nesting_past_the_limit_is_refused_before_parsing(
    depth: int, brackets: tuple[str, str]
) -> None:
    with pytest.raises(InvalidInput, match=f"nests deeper than {MAX_DEPTH} levels"):
        json_body(_nested(depth, *brackets), what="body")


@pytest.mark.parametrize("depth", [1, MAX_DEPTH])
def test_nesting_up_to_the_limit_is_read(depth: int) -> None:
    assert json_body(_nested(depth)) is not None


def test_brackets_inside_strings_are_text_not_nesting() -> None:
    text = json.dumps({"description": "[[[{{{" * 100 + '"\\' * 50})
    assert json_body(text)["description"].startswith("[[[{{{")


def test_an_unterminated_string_is_not_json_whatever_it_holds() -> None:
    with pytest.raises(InvalidInput, match="is not JSON"):
        json_body('{"a": "' + "[" * 100)


# ------------------------------------------------------------------ numbers


@EXAMPLES
@given(st.integers(MAX_CHARS + 1, 20_000), st.sampled_from(["", "-"]))
def test_any_integer_longer_than_the_limit_is_refused_without_converting_it(
    digits: int, sign: str
) -> None:
    # Python's int() raises a bare ValueError past 4,300 digits; this is refused before it.
    with pytest.raises(InvalidInput, match=f"a number of .* characters; at most {MAX_CHARS}"):
        json_body('{"citizen": {"birth_year": ' + sign + "9" * digits + "}}", what="body")


@EXAMPLES
@given(st.floats(allow_nan=False, allow_infinity=False) | st.integers(-(10**38), 10**38))
def test_any_finite_number_json_writes_is_read(number: float) -> None:
    assert json_body(json.dumps([number])) == [number]


@pytest.mark.parametrize("literal", ["NaN", "Infinity", "-Infinity", "1e999", "-1e400"])
def test_numbers_json_has_not_are_refused(literal: str) -> None:
    with pytest.raises(InvalidInput) as caught:
        json_body('{"lat": ' + literal + "}", what="body")
    assert caught.value.message.startswith("body: ")


# ------------------------------------------------------------------ text


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        (b'{"description": "\xff"}', "is not UTF-8 (byte 17)"),
        (b"\xfe\xff\x00{\x00}", "is not UTF-8"),
        (b'{"a": "\xed\xa0\x80"}', "is not UTF-8"),  # a surrogate encoded as if it were UTF-8
        (b'\xef\xbb\xbf{"a": 1}', "is not JSON"),  # RFC 8259: no byte order mark
        (b'{"a": "\\ud800"}', "lone surrogate"),
        (b'{"\\udfff": 1}', "lone surrogate"),
    ],
)
def test_bodies_that_are_not_unicode_text_are_refused(raw: bytes, expected: str) -> None:
    with pytest.raises(InvalidInput, match=expected.replace("(", r"\(").replace(")", r"\)")):
        json_body(raw)


def test_a_surrogate_pair_escape_is_an_emoji_not_a_fault() -> None:
    assert json_body('"\\ud83d\\ude00"') == "\U0001f600"


# ------------------------------------------------------------------ size


def test_the_size_limit_counts_bytes_and_is_its_own_error() -> None:
    limit = 100
    assert json_body("[" + " " * 98 + "]", limit=limit) == []
    with pytest.raises(ContentTooLarge, match="body: is 101 bytes; at most 100 are read"):
        json_body("[" + " " * 99 + "]", limit=limit, what="body")
    with pytest.raises(ContentTooLarge):
        json_body('"' + "가" * 40 + '"', limit=limit)  # 40 characters, 122 bytes
    with pytest.raises(ContentTooLarge):
        form_body(b"a=" + b"1" * 200, limit=limit)


def test_the_largest_valid_complaint_fits_the_request_limit() -> None:
    """Every text field at its longest, in Korean, percent-encoded as a form (the largest
    encoding), for the service with the most attributes: well within the limit."""
    korean = "가"
    for service in SERVICES:
        form: list[tuple[str, str]] = [
            ("api_key", "gg_" + "x" * 43),
            ("jurisdiction_id", max((j.id for j in JURISDICTIONS), key=len)),
            ("service_code", service.code),
            ("description", korean * 4000),
            ("address_string", korean * 500),
            ("lat", "-89.12345678901234"),
            ("long", "-179.1234567890123"),
            ("email", "a" * 64 + "@" + "b" * 30 + ".kr"),
            ("phone", "+82 10 1234 5678 90"),
            *[(name, korean * 100) for name in ("first_name", "last_name", "device_id")],
            ("media_url", "https://example.kr/" + "a" * 2000),
        ]
        for attribute in service.attributes:
            values = [v.key for v in attribute.values] or [korean * 500]
            form += [(f"attribute[{attribute.code}]", v) for v in values]
        size = len(urlencode(form).encode())
        assert size < 0.5 * MAX_REQUEST_BYTES, (service.code, size)


# ------------------------------------------------------------------ forms


def test_a_form_is_read_with_repeated_and_blank_fields() -> None:
    body = "description=" + quote("도로 파손") + "&attribute[h]=a&attribute[h]=b&email="
    assert form_body(body.encode(), limit=MAX_REQUEST_BYTES) == {
        "description": ["도로 파손"],
        "attribute[h]": ["a", "b"],
        "email": [""],
    }
    assert form_body(b"", limit=MAX_REQUEST_BYTES) == {}


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        (b"description=%FF", "a percent-encoded value is not UTF-8"),
        (b"description=%ED%A0%80", "a percent-encoded value is not UTF-8"),
        (b"description=\xff", "is not UTF-8"),
        (b"no equals sign", "is not a form"),
        (b"&".join(b"f%d=1" % i for i in range(MAX_FORM_FIELDS + 1)), "is not a form"),
    ],
)
def test_forms_that_are_not_utf8_or_not_forms_are_refused(raw: bytes, expected: str) -> None:
    with pytest.raises(InvalidInput, match=expected):
        form_body(raw, limit=MAX_REQUEST_BYTES)


@settings(
    max_examples=100,
    deadline=None,
    derandomize=True,
    database=None,
    suppress_health_check=[HealthCheck.too_slow],
)
@given(st.lists(st.tuples(st.text(min_size=1, max_size=10), st.text(max_size=30)), max_size=10))
def test_any_form_of_text_reads_back_as_sent(pairs: list[tuple[str, str]]) -> None:
    try:
        body = urlencode(pairs).encode()
    except UnicodeEncodeError:
        return  # st.text() drew a lone surrogate, which no client can percent-encode
    expected: dict[str, list[str]] = {}
    for name, value in pairs:
        expected.setdefault(name, []).append(value)
    assert form_body(body, limit=MAX_REQUEST_BYTES) == expected


def test_what_names_the_body_in_every_message() -> None:
    for bad in (b"{", b"[" * 100, b"[1e999]", b"\xff"):
        with pytest.raises(InvalidInput) as caught:
            json_body(bad, what="the evidence")
        assert caught.value.message.startswith("the evidence: ")


def test_a_proxy_body_is_its_text_or_its_base64_decoded() -> None:
    assert proxy_body('{"a": "값"}', base64_encoded=False) == '{"a": "값"}'.encode()
    assert proxy_body("/w==", base64_encoded=True) == b"\xff"  # not UTF-8: the server's base64
    assert proxy_body(None, base64_encoded=None) == b""
    # A lone surrogate is kept as sent, so the JSON reader refuses it with its reason.
    with pytest.raises(InvalidInput, match="UTF-8"):
        json_body(proxy_body('"\ud800"', base64_encoded=False), limit=100, what="body")


def test_a_body_said_to_be_base64_that_is_not_is_a_clear_400() -> None:
    with pytest.raises(InvalidInput, match="body: is not valid base64"):
        proxy_body("not base64!", base64_encoded=True)
