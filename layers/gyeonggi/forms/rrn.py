"""Resident registration numbers (주민등록번호): format, birth date, century and sex digit.

``YYMMDD-SNNNNNN``: the birth date, then S, which gives the century and sex (1/2: born
1900-1999, 3/4: 2000-2099, 5/6 and 7/8 the same centuries for foreign residents' registration
numbers, 9/0: 1800-1899; odd male, even female, 0 female). The last digit was a check digit
(weights 2-9, 2-5; mod 11), but numbers issued or changed since October 2020 have random digits
after S, so a mismatch is only a warning, never a refusal.

Masked everywhere they are shown or logged: ``YYMMDD-S******`` (:func:`mask`, and
:func:`gyeonggi.common.privacy.mask_rrns` for free text).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date

from gyeonggi.common.privacy import mask_rrn
from gyeonggi.forms.catalogue import Text
from gyeonggi.forms.problems import Checked, problem

#: An RRN inside text: six digits, an optional hyphen or dash (spaces around it), seven digits,
#: not part of a longer run of digits.
PATTERN = re.compile(r"(?<![0-9])([0-9]{6})\s*[-‐‑–—]?\s*([0-9]{7})(?![0-9])")
_WEIGHTS = (2, 3, 4, 5, 6, 7, 8, 9, 2, 3, 4, 5)
_CENTURY = {
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

mask = mask_rrn

CHECK_DIGIT_WARNING = Text(
    "주민등록번호 마지막 자리가 옛 검증 규칙과 맞지 않아요. 2020년 10월 이후 받은 번호면 "
    "괜찮아요. 한 번 더 확인해 주세요.",
    "The last digit does not match the old check digit. That is normal for numbers issued "
    "since October 2020; please make sure it is right.",
    "주민번호 마지막 숫자를 한 번 더 봐 주세요. 최근에 받은 번호면 괜찮아요.",
)


@dataclass(frozen=True, slots=True)
class Rrn:
    """A resident registration number that passed every check but the check digit."""

    value: str  # YYMMDD-NNNNNNN
    birth_date: date
    sex: str  # "M" or "F"
    foreign: bool
    check_digit_ok: bool

    def age_on(self, day: date) -> int:
        """Age in full years on ``day``."""
        born = self.birth_date
        return day.year - born.year - ((day.month, day.day) < (born.month, born.day))


def check_digit(digits: str) -> int:
    """The check digit of the first twelve digits (the pre-2020 rule)."""
    total = sum(int(d) * w for d, w in zip(digits[:12], _WEIGHTS, strict=True))
    return (11 - total % 11) % 10


def parse(text: str, today: date | None = None) -> Rrn:
    """Parse and check one RRN (``900101-1234567``, ``9001011234567``, spaces around the dash).

    Raises
    ------
    InvalidValue
        Saying what is wrong: not 13 digits, a birth date that does not exist or is in the
        future, or a seventh digit that is no century and sex digit.
    """
    match = PATTERN.fullmatch(text.strip())
    if not match:
        raise problem(
            "주민등록번호는 숫자 13자리예요 (생년월일 6자리, 뒤 7자리).",
            "A resident registration number has 13 digits (six of the birth date, then seven).",
            "주민번호는 숫자 13개예요.",
        )
    front, back = match.groups()
    century = _CENTURY[back[0]]
    year, month, day = century + int(front[:2]), int(front[2:4]), int(front[4:6])
    try:
        born = date(year, month, day)
    except ValueError:
        raise problem(
            f"앞 6자리 {front}는 있는 날짜가 아니에요. 생년월일(YYMMDD)을 확인해 주세요.",
            f"The first six digits, {front}, are not a real date; check the birth date (YYMMDD).",
            "앞 6자리는 생일이에요. 생일을 다시 봐 주세요.",
        ) from None
    if today is not None and born > today:
        raise problem(
            f"앞 6자리와 뒷자리 첫 숫자({back[0]})로 보면 생일이 앞으로의 날짜예요.",
            f"With the seventh digit {back[0]}, the birth date {born.isoformat()} is in the "
            "future.",
            "생일이 오늘보다 뒤예요. 다시 봐 주세요.",
        )
    digits = front + back
    return Rrn(
        value=f"{front}-{back}",
        birth_date=born,
        sex="F" if int(back[0]) % 2 == 0 else "M",
        foreign=back[0] in "5678",
        check_digit_ok=check_digit(digits) == int(digits[12]),
    )


def check(text: str, today: date | None = None) -> Checked:
    """:func:`parse`, as a validator: the normalised number and the check-digit warning."""
    rrn = parse(text, today)
    return Checked(rrn.value, () if rrn.check_digit_ok else (CHECK_DIGIT_WARNING,))
