"""Numbers that arrive as text (query strings, form fields): written as JSON writes them.

Python's ``int()`` and ``float()`` read far more than a client means to send: ``'1_0'`` is 10,
``' 1'`` and ``'+1'`` are 1, ``'١'`` (an Arabic-Indic digit) is 1, ``'nan'`` and ``'inf'`` are
floats, ``'1e999'`` is infinity, and a string of more than 4,300 digits raises a ``ValueError``
of its own. Where this API says "number", it takes JSON's number grammar and nothing else: ASCII
digits, an optional minus sign, fraction and exponent, at most :data:`MAX_CHARS` characters.
"""

from __future__ import annotations

import math
import re

from gyeonggi.common.errors import InvalidInput

#: Longer than any number a field of this system holds (a double's shortest form is at most 24
#: characters, DynamoDB keeps 38 digits), far below Python's 4,300-digit conversion limit.
MAX_CHARS = 40

# JSON's grammar (RFC 8259, section 6), ASCII only; used with fullmatch, so no "$" newline slip.
_INTEGER = re.compile(r"-?(?:0|[1-9][0-9]*)")
_NUMBER = re.compile(r"-?(?:0|[1-9][0-9]*)(?:\.[0-9]+)?(?:[eE][-+]?[0-9]+)?")


def whole_number(text: str, name: str, low: int, high: int) -> int:
    """``text`` as a whole number from ``low`` to ``high``.

    Raises
    ------
    InvalidInput
        Naming ``name`` when ``text`` is not a whole number in JSON's grammar or is out of range.
    """
    if len(text) <= MAX_CHARS and _INTEGER.fullmatch(text):
        value = int(text)
        if low <= value <= high:
            return value
    raise InvalidInput(f"{name}: must be a whole number from {low} to {high}", field=name)


def decimal_number(text: str, name: str) -> float:
    """``text`` as a finite number (``37.2636``, ``-1``, ``2.5e3``).

    Raises
    ------
    InvalidInput
        Naming ``name`` when ``text`` is not a number in JSON's grammar, or too large for a
        double.
    """
    if len(text) > MAX_CHARS or not _NUMBER.fullmatch(text):
        raise InvalidInput(
            f"{name}: must be a number in ASCII digits as JSON writes it, e.g. 37.2636 or -2.5",
            field=name,
        )
    value = float(text)
    if not math.isfinite(value):
        raise InvalidInput(f"{name}: is too large a number", field=name)
    return value
