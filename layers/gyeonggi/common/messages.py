"""Bodies from outside, a queue message's or an API request's: bounded before they are parsed.

JSON is read only as RFC 8259 writes it: UTF-8, at most a size given by the caller and
:data:`MAX_DEPTH` levels of nesting (checked by a scan without recursion *before*
``json.loads``, whose recursion a deeply nested body would otherwise exhaust), numbers of at most
``numbers.MAX_CHARS`` characters and finite (Python's parser reads ``NaN``, ``Infinity`` and
``1e999``, and raises a bare ``ValueError`` for integers past 4,300 digits), and strings that
are Unicode text (no lone surrogate from a ``\\ud800`` escape, which no UTF-8 encoder can write
out again). Forms likewise: UTF-8, percent-encoding included, and a bounded number of fields.

Whatever is wrong is an ``InvalidInput`` naming it (``ContentTooLarge`` for the size): the API
answers 400 or 413; a queue consumer fails that record alone (partial batch response), and after
the queue's ``maxReceiveCount`` receives the message waits on its dead-letter queue.
"""

from __future__ import annotations

import base64
import binascii
import json
import math
import re
from typing import Any, NoReturn
from urllib.parse import parse_qs

from gyeonggi.common.errors import ContentTooLarge, InvalidInput
from gyeonggi.common.numbers import MAX_CHARS

#: SQS's largest message: what a queue can deliver at all.
MAX_MESSAGE_BYTES = 1024 * 1024
#: The largest body an API route reads (docs/openapi.yaml, "Limits"). A complaint with every
#: text field at its longest, in Korean and percent-encoded as a form, is about 51 KB (a unit
#: test keeps it within); API Gateway's own 10 MB is far more than any route needs to parse.
MAX_REQUEST_BYTES = 128 * 1024
#: Nesting levels a body may have. The deepest this system writes or reads is 4 (an intake
#: message: message, submission, attributes, a list of answers).
MAX_DEPTH = 16
#: Fields a form may have; a complaint has about twenty.
MAX_FORM_FIELDS = 100

# A JSON string (an unterminated one runs to the end) or a bracket. Brackets inside strings are
# text, so strings are matched whole and skipped.
_STRUCTURE = re.compile(r'"[^"\\]*(?:\\.[^"\\]*)*"?|[\[\]{}]', re.DOTALL)
_SURROGATE = re.compile("[\ud800-\udfff]")


def proxy_body(body: str | None, *, base64_encoded: bool | None) -> bytes:
    """The bytes of an API Gateway proxy event's body: decoded when the gateway sent it as base64
    (binary media types; the local server's bodies that are not UTF-8), else its text as sent
    (lone surrogates kept, for :func:`text_body` and :func:`json_body` to refuse with a reason).

    Raises
    ------
    InvalidInput
        When a body said to be base64 is not.
    """
    if not base64_encoded:
        return (body or "").encode("utf-8", "surrogatepass")
    try:
        return base64.b64decode(body or "", validate=True)
    except (binascii.Error, ValueError):
        raise InvalidInput("body: is not valid base64") from None


def text_body(body: str | bytes, *, limit: int, what: str) -> str:
    """``body`` as text: at most ``limit`` bytes of UTF-8.

    Raises
    ------
    ContentTooLarge
        When ``body`` is longer than ``limit`` bytes.
    InvalidInput
        When it is not UTF-8 (naming the byte where it stops being so).
    """
    raw = body.encode("utf-8", "surrogatepass") if isinstance(body, str) else body
    if len(raw) > limit:
        raise ContentTooLarge(f"{what}: is {len(raw):,} bytes; at most {limit:,} are read")
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise InvalidInput(f"{what}: is not UTF-8 (byte {exc.start})") from None


def json_body(
    body: str | bytes, *, limit: int = MAX_MESSAGE_BYTES, what: str = "the message body"
) -> Any:
    """The decoded JSON of a message or request body.

    Parameters
    ----------
    body
        The body as received.
    limit
        Bytes read at most; the default is SQS's largest message.
    what
        How errors name the body (``"body"`` for the API).

    Raises
    ------
    ContentTooLarge
        When ``body`` is larger than ``limit``.
    InvalidInput
        When it is not UTF-8, nests deeper than :data:`MAX_DEPTH`, holds a number that is too
        long or not finite, ``NaN``/``Infinity``, a lone surrogate, or is not JSON at all (the
        reason names where it stopped making sense).
    """
    text = text_body(body, limit=limit, what=what)
    _check_depth(text, what)

    def refuse_constant(name: str) -> NoReturn:
        raise InvalidInput(f"{what}: {name} is not a JSON number")

    def bounded_int(digits: str) -> int:
        _check_number_length(digits, what)
        return int(digits)

    def finite_float(digits: str) -> float:
        _check_number_length(digits, what)
        value = float(digits)
        if not math.isfinite(value):
            raise InvalidInput(f"{what}: {digits} is too large a number")
        return value

    try:
        data = json.loads(
            text,
            parse_constant=refuse_constant,
            parse_int=bounded_int,
            parse_float=finite_float,
        )
    except json.JSONDecodeError as exc:
        raise InvalidInput(f"{what}: is not JSON: {exc}") from None
    _check_strings(data, what)
    return data


def form_body(body: str | bytes, *, limit: int, what: str = "body") -> dict[str, list[str]]:
    """An ``application/x-www-form-urlencoded`` body: each field's values, in order.

    Raises
    ------
    ContentTooLarge
        When ``body`` is larger than ``limit``.
    InvalidInput
        When it (or a percent-encoded value in it) is not UTF-8, is not ``name=value&...``, or
        has more than :data:`MAX_FORM_FIELDS` fields.
    """
    text = text_body(body, limit=limit, what=what)
    if not text:
        return {}
    try:
        return parse_qs(
            text,
            keep_blank_values=True,
            strict_parsing=True,
            errors="strict",
            max_num_fields=MAX_FORM_FIELDS,
        )
    except UnicodeDecodeError:
        raise InvalidInput(f"{what}: a percent-encoded value is not UTF-8") from None
    except ValueError:
        raise InvalidInput(
            f"{what}: is not a form of at most {MAX_FORM_FIELDS} fields (name=value&...)"
        ) from None


def _check_depth(text: str, what: str) -> None:
    depth = 0
    for match in _STRUCTURE.finditer(text):
        bracket = match.group()
        if bracket in ("[", "{"):
            depth += 1
            if depth > MAX_DEPTH:
                raise InvalidInput(f"{what}: nests deeper than {MAX_DEPTH} levels")
        elif bracket in ("]", "}"):
            depth -= 1


def _check_number_length(digits: str, what: str) -> None:
    if len(digits) > MAX_CHARS:
        raise InvalidInput(f"{what}: a number of {len(digits):,} characters; at most {MAX_CHARS}")


def _check_strings(data: Any, what: str) -> None:
    # Depth is bounded already; a stack rather than recursion all the same.
    stack = [data]
    while stack:
        value = stack.pop()
        if isinstance(value, dict):
            stack.extend(value)
            stack.extend(value.values())
        elif isinstance(value, list):
            stack.extend(value)
        elif isinstance(value, str) and _SURROGATE.search(value):
            raise InvalidInput(f"{what}: a string holds a lone surrogate (\\uD800-\\uDFFF)")


def require_encodable(data: Any, what: str, field: str | None = None) -> None:
    """Refuse decoded JSON that cannot be written back as UTF-8 JSON.

    JSON escapes can spell an unpaired UTF-16 surrogate (``"\\ud800"``), which Python decodes
    but no store or queue can encode; a write of it would fail however often it was retried.

    Raises
    ------
    InvalidInput
        ``what`` holds such text, or is nested deeper than the encoder goes.
    """
    try:
        json.dumps(data, ensure_ascii=False).encode("utf-8")
    except UnicodeEncodeError:
        raise InvalidInput(
            f"{what}: text with an unpaired UTF-16 surrogate escape", field=field
        ) from None
    except RecursionError:
        raise InvalidInput(f"{what}: JSON nested too deeply", field=field) from None
