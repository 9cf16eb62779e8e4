"""Phone numbers with ``phonenumbers`` (Google's libphonenumber metadata), region KR.

Normalised to the national format with hyphens, as Korean forms write them: ``010-1234-5678``,
``02-123-4567``, ``031-228-2114``. ``phonenumbers`` is the forms function's own dependency
(its metadata knows which prefixes and lengths Korea assigns; a regular expression would
accept ``010-0000-000`` or refuse a new area code).
"""

from __future__ import annotations

import re

from gyeonggi.forms.problems import Checked, problem

#: A phone number inside text: optional +82, then groups of digits separated by spaces,
#: hyphens, dots or parentheses; 9 to 13 digits in all. Not part of a longer run of digits.
PATTERN = re.compile(
    r"(?<![0-9-])(?:\+82[\s-]?\(?0?\)?|(?<![0-9])82[\s-]\(?0?\)?|\(?0)[0-9]{1,2}\)?"
    r"(?:[\s.-]?[0-9]{3,4}){2}(?![0-9-])"
)
_ALLOWED = re.compile(r"[0-9+()\s.-]{8,24}")


def check(text: str) -> Checked:
    """A Korean phone number, normalised (``010-1234-5678``).

    Raises
    ------
    InvalidValue
        When ``text`` is not a phone number Korea assigns.
    """
    import phonenumbers  # ~15 ms: only where a phone number is read

    raw = text.strip()
    wrong = problem(
        f"'{raw}'은(는) 쓸 수 있는 전화번호가 아니에요. 예: 010-1234-5678",
        f"'{raw}' is not a Korean phone number; e.g. 010-1234-5678.",
        "전화번호를 다시 말해 주세요. 예: 010-1234-5678",
    )
    if not _ALLOWED.fullmatch(raw):
        raise wrong
    try:
        number = phonenumbers.parse(raw, "KR")
    except phonenumbers.NumberParseException:
        raise wrong from None
    if number.country_code != 82 or not phonenumbers.is_valid_number(number):
        raise wrong
    return Checked(phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.NATIONAL))
