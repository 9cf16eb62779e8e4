"""Counts written as people say them: "2통", "두 통", "세 부", "three copies", "열두 장".

Korean has two sets of numerals: native ones (하나, 둘, 셋... with the forms 한, 두, 세, 네 before
a counter) used for copies, and Sino-Korean ones (일, 이, 삼...) that some people use with 부 or
통. Both are read up to 99; English number words up to twenty.
"""

from __future__ import annotations

import re

_NATIVE_UNITS = {
    "한": 1,
    "하나": 1,
    "두": 2,
    "둘": 2,
    "세": 3,
    "셋": 3,
    "석": 3,
    "서": 3,
    "네": 4,
    "넷": 4,
    "넉": 4,
    "너": 4,
    "다섯": 5,
    "여섯": 6,
    "일곱": 7,
    "여덟": 8,
    "여덜": 8,
    "아홉": 9,
}
_NATIVE_TENS = {"열": 10, "스무": 20, "스물": 20, "서른": 30, "마흔": 40, "쉰": 50}
_SINO = {
    "일": 1,
    "이": 2,
    "삼": 3,
    "사": 4,
    "오": 5,
    "육": 6,
    "륙": 6,
    "칠": 7,
    "팔": 8,
    "구": 9,
}
_ENGLISH = {
    "a": 1,
    "an": 1,
    "one": 1,
    "single": 1,
    "two": 2,
    "couple": 2,
    "three": 3,
    "four": 4,
    "five": 5,
    "six": 6,
    "seven": 7,
    "eight": 8,
    "nine": 9,
    "ten": 10,
    "eleven": 11,
    "twelve": 12,
    "thirteen": 13,
    "fourteen": 14,
    "fifteen": 15,
    "sixteen": 16,
    "seventeen": 17,
    "eighteen": 18,
    "nineteen": 19,
    "twenty": 20,
}

_native_unit = "|".join(sorted(_NATIVE_UNITS, key=len, reverse=True))
_native_ten = "|".join(sorted(_NATIVE_TENS, key=len, reverse=True))
_sino = "".join(_SINO)
#: Counters that follow a number of copies, documents or people.
COUNTERS_KO = ("통", "부", "장", "매", "권", "개", "명", "사람", "건")
_counter_ko = "|".join(sorted(COUNTERS_KO, key=len, reverse=True))
_english = "|".join(sorted(_ENGLISH, key=len, reverse=True))

_KO_COUNT = re.compile(
    # Digits or native numerals only: a Sino-Korean one reads words ("일부" is "some", not
    # "one copy"; "이부" ...), and nobody counts copies with them.
    rf"(?P<num>[0-9]{{1,2}}|(?:{_native_ten})?(?:{_native_unit})?)"
    rf"\s*(?P<counter>{_counter_ko})"
    # What may follow a counter: nothing, punctuation or a particle; never the rest of a word
    # such as 통장 (bank account), 부동산, 장애, 번호.
    r"(?=$|[\s.,!?~)]|요|이요|만|씩|이|을|를|은|는|도|정도|짜리|주|필요|부탁|으로|로|가|쯤|까지|입니다|이에요|예요)"
)
_EN_COUNT = re.compile(
    rf"\b(?P<num>[0-9]{{1,2}}|{_english})\s+(?:more\s+|extra\s+|certified\s+|paper\s+)?"
    r"(?P<counter>copies|copy|documents?|prints?|people|persons?|members?|of them)\b",
    re.IGNORECASE,
)
# A native numeral with no counter, before what one says of copies: "하나 떼 주세요", "둘만요".
_KO_BARE = re.compile(
    r"(?<![가-힣])(?P<num>하나|둘|셋|넷|다섯)(?=\s*(?:만|요|만요|주세요|떼|필요|부탁|뽑|발급|$))"
)
_BARE = re.compile(
    rf"^\s*(?P<num>[0-9]{{1,2}}|{_english}|{_native_unit}|{_native_ten})\s*$", re.IGNORECASE
)


def korean_number(word: str) -> int | None:
    """A native or Sino-Korean numeral word (``두``, ``열두``, ``삼``, ``십이``) as an integer."""
    word = word.strip()
    if not word:
        return None
    if word.isascii() and word.isdigit():
        return int(word)
    for ten_word, ten in sorted(_NATIVE_TENS.items(), key=lambda kv: -len(kv[0])):
        if word.startswith(ten_word):
            rest = word[len(ten_word) :]
            if not rest:
                return ten
            unit = _NATIVE_UNITS.get(rest)
            return ten + unit if unit else None
    if word in _NATIVE_UNITS:
        return _NATIVE_UNITS[word]
    if all(c in _SINO or c == "십" for c in word):
        if "십" in word:
            tens, _, units = word.partition("십")
            return (_SINO[tens] if tens else 1) * 10 + (_SINO[units] if units else 0)
        if len(word) == 1:
            return _SINO[word]
    return None


def english_number(word: str) -> int | None:
    """An English number word or digits (``three``, ``12``) as an integer."""
    word = word.strip().lower()
    if word.isascii() and word.isdigit():
        return int(word)
    return _ENGLISH.get(word)


def find_counts(text: str) -> list[tuple[int, int, int]]:
    """Every count with a counter in ``text``: ``(value, start, end)`` of its span."""
    found: list[tuple[int, int, int]] = []
    for match in _KO_COUNT.finditer(text):
        num = match.group("num")
        if not num:
            continue
        value = korean_number(num)
        if value is not None and value > 0:
            found.append((value, match.start(), match.end()))
    for match in _EN_COUNT.finditer(text):
        value = english_number(match.group("num"))
        counter = match.group("counter").lower()
        # "a member" (of a household) counts nobody; "a copy" is one copy.
        if match.group("num").lower() in ("a", "an") and not counter.startswith("cop"):
            continue
        if value is not None:
            found.append((value, match.start(), match.end()))
    for match in _KO_BARE.finditer(text):
        value = _NATIVE_UNITS.get(match.group("num"))
        if value is not None and not any(s <= match.start() < e for _, s, e in found):
            found.append((value, match.start(), match.end()))
    return sorted(found, key=lambda f: f[1])


def bare_count(text: str) -> int | None:
    """``text`` when it is a number alone ("3", "three", "두"), as an integer."""
    text = re.sub(
        r"^(?:just|only|maybe|uh|um)\s+|\s*(?:please|only|만|만요|이요|요)$",
        "",
        text.strip(" .!?"),
        flags=re.I,
    )
    match = _BARE.match(text.strip(" .!?요"))
    if not match:
        return None
    num = match.group("num")
    return english_number(num) if num.isascii() else korean_number(num)
