"""Dates as people say them, resolved against the conversation's day in Korea (KST).

"2026-03-02", "2026년 3월 2일", "3월 2일", "3/2", "어제", "그저께", "사흘 전", "지난주 금요일",
"이번 주 월요일", "지난달 28일", "yesterday", "3 days ago", "last Friday", "March 2nd",
"2 March". A date without a year is the most recent such day for a field about the past (a move
has happened), else the next one. "지난주" or "last week" alone names no day: the reply asks
which.
"""

from __future__ import annotations

import re
from datetime import date, timedelta

from gyeonggi.forms.numerals import korean_number
from gyeonggi.forms.problems import problem

_WEEKDAYS_KO = {"월": 0, "화": 1, "수": 2, "목": 3, "금": 4, "토": 5, "일": 6}
_WEEKDAYS_EN = {
    "monday": 0,
    "mon": 0,
    "tuesday": 1,
    "tue": 1,
    "tues": 1,
    "wednesday": 2,
    "wed": 2,
    "thursday": 3,
    "thu": 3,
    "thurs": 3,
    "friday": 4,
    "fri": 4,
    "saturday": 5,
    "sat": 5,
    "sunday": 6,
    "sun": 6,
}
_MONTHS_EN = {
    "january": 1,
    "jan": 1,
    "february": 2,
    "feb": 2,
    "march": 3,
    "mar": 3,
    "april": 4,
    "apr": 4,
    "may": 5,
    "june": 6,
    "jun": 6,
    "july": 7,
    "jul": 7,
    "august": 8,
    "aug": 8,
    "september": 9,
    "sep": 9,
    "sept": 9,
    "october": 10,
    "oct": 10,
    "november": 11,
    "nov": 11,
    "december": 12,
    "dec": 12,
}
_DAYS_AGO_KO = {
    "하루": 1,
    "이틀": 2,
    "사흘": 3,
    "나흘": 4,
    "닷새": 5,
    "엿새": 6,
    "이레": 7,
    "열흘": 10,
}

_month_en = "|".join(sorted(_MONTHS_EN, key=len, reverse=True))
_weekday_en = "|".join(sorted(_WEEKDAYS_EN, key=len, reverse=True))

# Each pattern, most specific first; the first that matches at a position wins.
_PATTERNS: list[tuple[str, re.Pattern[str]]] = [
    (
        "iso",
        re.compile(
            r"(?<![0-9])(?P<y>(?:19|20)[0-9]{2})\s*[-./]\s*(?P<m>[0-9]{1,2})\s*[-./]\s*(?P<d>[0-9]{1,2})(?![0-9])"
        ),
    ),
    (
        "ko_ymd",
        re.compile(
            r"(?P<y>(?:19|20)?[0-9]{2})\s*년\s*(?P<m>[0-9]{1,2})\s*월\s*(?P<d>[0-9]{1,2})\s*일"
        ),
    ),
    (
        "ko_last_month_day",
        re.compile(r"(?P<rel>지난\s*달|저번\s*달|이번\s*달|이달)\s*(?P<d>[0-9]{1,2})\s*일"),
    ),
    ("ko_md", re.compile(r"(?<![0-9])(?P<m>[0-9]{1,2})\s*월\s*(?P<d>[0-9]{1,2})\s*일")),
    (
        "ko_week_day",
        re.compile(
            r"(?P<rel>지지난\s*주|지난\s*주|저번\s*주|전\s*주|이번\s*주|금주|이번주)\s*(?P<wd>[월화수목금토일])\s*요일"
        ),
    ),
    ("ko_days_ago_word", re.compile(r"(?P<n>하루|이틀|사흘|나흘|닷새|엿새|이레|열흘)\s*전")),
    ("ko_week_ago", re.compile(r"(?P<n>[0-9]|한|두|세|일)?\s*(?:주일|주)\s*전")),
    ("ko_days_ago", re.compile(r"(?P<n>[0-9]{1,2}|[일이삼사오육칠팔구십]{1,3})\s*일\s*전")),
    ("ko_word", re.compile(r"(?P<w>오늘|어제|어저께|그저께|그제|엊그제|그끄저께)")),
    ("ko_weekday", re.compile(r"(?<![가-힣])(?P<wd>[월화수목금토일])\s*요일")),
    ("en_word", re.compile(r"\b(?P<w>today|yesterday|the day before yesterday)\b", re.I)),
    (
        "en_days_ago",
        re.compile(
            r"\b(?P<n>[0-9]{1,2}|a|one|two|three|four|five|six|seven|eight|nine|ten)\s+(?P<u>days?|weeks?)\s+ago\b",
            re.I,
        ),
    ),
    ("en_week_day", re.compile(rf"\b(?P<rel>last|this|on|past)\s+(?P<wd>{_weekday_en})\b", re.I)),
    (
        "en_md",
        re.compile(
            rf"\b(?P<mn>{_month_en})\.?\s+(?P<d>[0-9]{{1,2}})(?:st|nd|rd|th)?(?:,?\s*(?P<y>(?:19|20)[0-9]{{2}}))?\b",
            re.I,
        ),
    ),
    (
        "en_dm",
        re.compile(
            rf"\b(?P<d>[0-9]{{1,2}})(?:st|nd|rd|th)?\s+(?:of\s+)?(?P<mn>{_month_en})\b\.?(?:,?\s*(?P<y>(?:19|20)[0-9]{{2}}))?",
            re.I,
        ),
    ),
    ("slash_md", re.compile(r"(?<![0-9./-])(?P<m>[0-9]{1,2})\s*/\s*(?P<d>[0-9]{1,2})(?![0-9./-])")),
]
# Names a week or a month but no day: asked again.
_VAGUE = re.compile(
    r"지난\s*주|저번\s*주|지난\s*달|last\s+week|last\s+month|얼마\s*전|recently|요즘", re.I
)

ASK_DAY = problem(
    "정확한 날짜를 알려 주세요. 예: 12월 1일, 지난주 금요일",
    "Which day exactly? For example 1 December or last Friday.",
    "며칠이었는지 말해 주세요. 예: 지난주 금요일",
)


def _year_for(month: int, day: int, today: date, past: bool) -> date:
    this_year = date(today.year, month, day)
    if past and this_year > today:
        return date(today.year - 1, month, day)
    if not past and this_year < today:
        return date(today.year + 1, month, day)
    return this_year


def _day(y: int, m: int, d: int) -> date:
    try:
        return date(y, m, d)
    except ValueError:
        raise problem(
            f"{m}월 {d}일은 없는 날짜예요.",
            f"{y}-{m:02d}-{d:02d} is not a real date.",
            "그런 날짜는 없어요. 다시 말해 주세요.",
        ) from None


def _resolve(kind: str, m: re.Match[str], today: date, past: bool) -> date:
    g = m.groupdict()
    if kind == "iso":
        return _day(int(g["y"]), int(g["m"]), int(g["d"]))
    if kind == "ko_ymd":
        y = int(g["y"])
        y = y + (2000 if y + 2000 <= today.year + 1 else 1900) if y < 100 else y
        return _day(y, int(g["m"]), int(g["d"]))
    if kind == "ko_last_month_day":
        first = today.replace(day=1)
        if g["rel"].replace(" ", "") in ("지난달", "저번달"):
            first = (first - timedelta(days=1)).replace(day=1)
        return _day(first.year, first.month, int(g["d"]))
    if kind in ("ko_md", "slash_md"):
        month, day = int(g["m"]), int(g["d"])
        _day(today.year if (month, day) != (2, 29) else 2024, month, day)
        return _year_for(month, day, today, past)
    if kind in ("ko_week_day", "en_week_day"):
        rel = g["rel"].replace(" ", "").lower()
        wd = _WEEKDAYS_KO[g["wd"]] if kind == "ko_week_day" else _WEEKDAYS_EN[g["wd"].lower()]
        monday = today - timedelta(days=today.weekday())
        if rel in ("지난주", "저번주", "전주", "last"):
            if kind == "en_week_day":  # "last Friday": the most recent Friday before today
                delta = (today.weekday() - wd) % 7 or 7
                return today - timedelta(days=delta)
            return monday - timedelta(days=7) + timedelta(days=wd)
        if rel == "지지난주":
            return monday - timedelta(days=14) + timedelta(days=wd)
        if rel in ("on", "past"):
            delta = (today.weekday() - wd) % 7
            return (
                today - timedelta(days=delta)
                if past
                else today + timedelta(days=(wd - today.weekday()) % 7)
            )
        return monday + timedelta(days=wd)
    if kind == "ko_days_ago_word":
        return today - timedelta(days=_DAYS_AGO_KO[g["n"]])
    if kind == "ko_days_ago":
        n = korean_number(g["n"]) if g["n"] else None
        if n is None:
            raise ASK_DAY
        return today - timedelta(days=n)
    if kind == "ko_week_ago":
        n = 1 if not g["n"] or g["n"] == "일" else korean_number(g["n"])
        return today - timedelta(days=7 * (n or 1))
    if kind in ("ko_word", "en_word"):
        w = g["w"].lower()
        back = {
            "오늘": 0,
            "today": 0,
            "어제": 1,
            "어저께": 1,
            "yesterday": 1,
            "그저께": 2,
            "그제": 2,
            "엊그제": 2,
            "the day before yesterday": 2,
            "그끄저께": 3,
        }[w]
        return today - timedelta(days=back)
    if kind == "ko_weekday":
        wd = _WEEKDAYS_KO[g["wd"]]
        delta = (today.weekday() - wd) % 7
        return (
            today - timedelta(days=delta)
            if past
            else today + timedelta(days=(wd - today.weekday()) % 7)
        )
    if kind == "en_days_ago":
        word = g["n"].lower()
        n = (
            int(word)
            if word.isdigit()
            else {
                "a": 1,
                "one": 1,
                "two": 2,
                "three": 3,
                "four": 4,
                "five": 5,
                "six": 6,
                "seven": 7,
                "eight": 8,
                "nine": 9,
                "ten": 10,
            }[word]
        )
        return today - timedelta(days=n * (7 if g["u"].lower().startswith("week") else 1))
    if kind in ("en_md", "en_dm"):
        month, day = _MONTHS_EN[g["mn"].lower().rstrip(".")], int(g["d"])
        if g.get("y"):
            return _day(int(g["y"]), month, day)
        _day(today.year if (month, day) != (2, 29) else 2024, month, day)
        return _year_for(month, day, today, past)
    raise AssertionError(kind)


def find_dates(text: str, today: date, past: bool = True) -> list[tuple[date, int, int]]:
    """Every date named in ``text``, resolved: ``(date, start, end)``, left to right.

    Raises
    ------
    InvalidValue
        When a date is named that does not exist (``2월 30일``).
    """
    found: list[tuple[date, int, int]] = []
    taken: list[tuple[int, int]] = []
    for kind, pattern in _PATTERNS:
        for m in pattern.finditer(text):
            if any(m.start() < e and s < m.end() for s, e in taken):
                continue
            found.append((_resolve(kind, m, today, past), m.start(), m.end()))
            taken.append((m.start(), m.end()))
    return sorted(found, key=lambda f: f[1])


def is_vague(text: str) -> bool:
    """Whether ``text`` names a week or a month without the day."""
    return bool(_VAGUE.search(text))


def parse_date(text: str, today: date, past: bool = True) -> date:
    """The one date ``text`` names.

    Raises
    ------
    InvalidValue
        When it names none (or only a week: the reply asks for the day), or a day that does
        not exist.
    """
    found = find_dates(text, today, past)
    if not found:
        raise ASK_DAY
    return found[0][0]
