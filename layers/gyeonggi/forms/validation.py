"""Validation of each field's value, as a civil servant would check it.

One entry point, :func:`validate`, takes a field of the catalogue and what the citizen said for
it (the span the understanding found, or a value already typed: an int, a bool, a choice id)
and returns the normalised value with any warnings, or raises
:class:`~gyeonggi.forms.problems.InvalidValue` saying what was wrong. The exact readers live in
their own modules (:mod:`.rrn`, :mod:`.phones`, :mod:`.addresses`, :mod:`.dates`,
:mod:`.numerals`); this module adds names, choices, booleans, account numbers and free text,
and the rules between fields (a move reported late, an applicant too young for the basic
pension).
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Mapping
from datetime import date
from functools import cache
from typing import Any

from gyeonggi.common.text import check_text
from gyeonggi.forms import addresses, phones, rrn
from gyeonggi.forms.catalogue import Choice, Form, FormField, Text
from gyeonggi.forms.dates import parse_date
from gyeonggi.forms.numerals import bare_count, find_counts
from gyeonggi.forms.problems import Checked, InvalidValue, problem

_YES = re.compile(
    r"^(?:네+|넵|넹|예+|응+|어|그래요?|그렇습니다|그렇게\s*해|맞아|맞아요|맞습니다|맞네요|있어요|있습니다|있음|"
    r"포함|넣어\s*주세요|넣어요|좋아요|좋습니다|확인|다\s*맞|"
    r"yes|yeah|yep|yup|sure|of course|please do|include it|i do|i am|correct|right|ok|okay|"
    r"that'?s (?:all )?(?:right|correct|fine|good)|all (?:good|correct)|looks? (?:good|right|fine)|"
    r"confirm|perfect|fine|go ahead)\b",
    re.I,
)
_NO = re.compile(
    r"^(?:아니요|아뇨|아니|아니에요|없어요|없습니다|없음|빼\s*주세요|빼요|안\s*넣어요|필요\s*없어요|"
    r"no|nope|nah|not really|don'?t|do not|without|none|i'?m not|i am not)\b",
    re.I,
)
#: Words that settle "married" without a yes or no.
_MARRIED = re.compile(
    r"기혼|결혼했|결혼\s*했|배우자가?\s*있|남편이?\s*있|아내가?\s*있|부인이?\s*있|\bmarried\b|"
    r"my (?:wife|husband)|\bspouse\b",
    re.I,
)
_UNMARRIED = re.compile(
    r"미혼|싱글|혼자|이혼|사별|돌아가셨|passed away|died|late (?:husband|wife)|배우자\s*없|"
    r"배우자는\s*없|\bsingle\b|\bnot married\b|divorced|widow|\bunmarried\b|never married",
    re.I,
)

_LATIN = "A-Za-zÀ-ÖØ-öø-ÿĀ-ž"
_NAME = re.compile(rf"[가-힣]{{2,6}}|[{_LATIN}][{_LATIN} .'-]{{0,58}}[{_LATIN}.]|[{_LATIN}]")
# Who the name is (a role said before it: "아내 정순", "the buyer is Lee Sora"): not the name.
_ROLE_BEFORE = re.compile(
    r"^(?:(?:제|저의|우리|my|our|the|her|his)\s*)?(?:아내|남편|부인|집사람|배우자|보호자(?:분)?|매수인|매수자|"
    r"구매자|사는\s*(?:분|사람)|세대주(?:\s*되시는\s*분)?|대상자|아버지|어머니|아빠|엄마|아들|딸|"
    r"wife|husband|spouse|guardian|buyer|purchaser|father|mother|dad|mom|son|daughter|"
    r"head of (?:the )?household)(?:'s name)?\s*(?:은|는|이|가|:|is|name is)?\s+",
    re.I,
)
# An English role word is a role only with "my", "the"... before it or "is", ":" after it:
# "Son Yejin" is a name (손), "my son Jiho" a role.
_ROLE_EN_BARE = re.compile(r"^(?:son|mother|father|wife|husband|buyer|guardian)\s+(?!is\b|:)", re.I)
_HONORIFIC = re.compile(r"\s*(?:님|씨|선생님|어르신)$")
_COPULA = re.compile(
    r"(?:입니다|이에요|예요|이요|요|이고요|고요|이고|이구요|구요|이며|이라고\s*해요|라고\s*해요|라고\s*합니다|"
    r"이라고\s*합니다|이랍니다|랍니다|인데요|이고\s*요)$"
)


def fold(text: str) -> str:
    """Text as the matchers compare it: NFC, lower case, no spaces or middle dots."""
    return re.sub(r"[\s·・.\-_]+", "", unicodedata.normalize("NFC", text).lower())


def find_choices(field: FormField, text: str) -> list[tuple[str, int, int]]:
    """Every choice of ``field`` named in ``text``: ``(choice id, start, end)``.

    Korean words are matched folded (spaces ignored: "가족 관계" is "가족관계"); English words
    as whole words ("rent" is not inside "parent"). Where two words overlap the longer one
    wins, so "친양자입양" is full adoption and not adoption.
    """
    folded, index = _folded_with_index(text)
    lowered = unicodedata.normalize("NFC", text).lower()
    hits: list[tuple[int, int, int, str]] = []
    for choice in field.choices:
        for word in choice.words():
            if word.isascii():
                pattern = _english_word(word)
                hits.extend(
                    (len(m.group(0)), m.start(), m.end(), choice.id)
                    for m in pattern.finditer(lowered)
                )
                continue
            w = fold(word)
            if len(w) < 2:
                # One syllable ("귀", "눈", "나") only as a word of its own, with a particle.
                for m in re.finditer(
                    rf"(?<![가-힣]){re.escape(w)}(?=$|[\s.,!?]|이|가|은|는|요|을|를|에|예요|이에요|입니다|이요|로|으로|만|도)",
                    unicodedata.normalize("NFC", text),
                ):
                    hits.append((1, m.start(), m.end(), choice.id))
                continue
            start = folded.find(w)
            while start >= 0:
                end = start + len(w)
                hits.append((len(w), index[start], index[end - 1] + 1, choice.id))
                start = folded.find(w, start + 1)
    hits.sort(key=lambda h: (-h[0], h[1]))
    taken: list[tuple[int, int]] = []
    found: list[tuple[str, int, int]] = []
    for _, s, e, cid in hits:
        if any(s < te and ts < e for ts, te in taken):
            continue
        taken.append((s, e))
        found.append((cid, s, e))
    return sorted(found, key=lambda f: f[1])


@cache
def _english_word(word: str) -> re.Pattern[str]:
    parts = [re.escape(p) for p in re.split(r"[\s-]+", word.lower()) if p]
    return re.compile(r"(?<![a-z0-9])" + r"[\s-]*".join(parts) + r"(?![a-z0-9])")


def _folded_with_index(text: str) -> tuple[str, list[int]]:
    chars: list[str] = []
    index: list[int] = []
    for i, ch in enumerate(unicodedata.normalize("NFC", text)):
        if re.match(r"[\s·・.\-_]", ch):
            continue
        chars.append(ch.lower())
        index.append(i)
    return "".join(chars), index


def yes_or_no(text: str) -> bool | None:
    """``True`` for a yes, ``False`` for a no, ``None`` when ``text`` is neither."""
    t = text.strip()
    if _NO.match(t):
        return False
    if _YES.match(t):
        return True
    return None


def married_words(text: str) -> bool | None:
    """Whether ``text`` says the person is married (or not), without a plain yes or no."""
    if _UNMARRIED.search(text):
        return False
    if _MARRIED.search(text):
        return True
    return None


def clean_name(text: str) -> str:
    """A name as written, without the words around it in speech ("김하늘이에요" → "김하늘")."""
    name = unicodedata.normalize("NFC", text).strip(" .,!?~\"'")
    name = re.sub(
        r"^(?:제|저의|내|my|the)?\s*(?:이름은|성함은|이름|name is|name's|name)\s*",
        "",
        name,
        flags=re.I,
    )
    name = re.sub(r"^(?:i'?m|i am|it'?s|this is)\s+", "", name, flags=re.I)
    if not _ROLE_EN_BARE.match(name):
        name = _ROLE_BEFORE.sub("", name).strip()
    for _ in range(2):
        name = _COPULA.sub("", name).strip()
        name = _HONORIFIC.sub("", name).strip()
    # The subject particle after a name ending in a consonant ("한상철이", "박지은이 보호자예요").
    name = re.sub(r"\s*(?:이|가)\s*(?:보호자|세대주|매수인|매수자)\S*$", "", name).strip()
    if re.fullmatch(r"[가-힣]{3,6}", name) and name.endswith("이") and _batchim(name[-2]):
        name = name[:-1]
    return name


def _batchim(syllable: str) -> bool:
    return "가" <= syllable <= "힣" and (ord(syllable) - 0xAC00) % 28 != 0


def check_name(text: str) -> Checked:
    """A person's name: Hangul (2 to 6 syllables) or Latin letters, as written (NFC)."""
    name = clean_name(text)
    try:
        check_text(name)
    except ValueError:
        name = ""
    if not _NAME.fullmatch(name):
        raise problem(
            "이름을 한글이나 영문으로 알려 주세요. (숫자나 기호는 빼고요)",
            "Please give the name in Hangul or Latin letters (no digits or symbols).",
            "이름만 말해 주세요.",
        )
    return Checked(name)


def check_choice(field: FormField, value: Any) -> Checked:
    """One of ``field``'s choice ids, from an id or any word that names it."""
    if isinstance(value, str):
        if field.choice(value):
            return Checked(value)
        found = {cid for cid, _, _ in find_choices(field, value)}
        if len(found) == 1:
            return Checked(found.pop())
    options = ", ".join(c.label.ko for c in field.choices[:8])
    options_en = ", ".join(c.label.en for c in field.choices[:8])
    raise problem(
        f"{field.label.ko}은(는) 다음 중에서 골라 주세요: {options}",
        f"For {field.label.en.lower()}, please choose one of: {options_en}.",
        f"이 중에서 골라 주세요: {options}",
    )


def check_count(field: FormField, value: Any) -> Checked:
    """A whole number within the field's bounds (copies: 1 to 10)."""
    low, high = field.minimum if field.minimum is not None else 1, field.maximum or 10
    number: int | None
    if isinstance(value, bool):
        number = None
    elif isinstance(value, int):
        number = value
    else:
        counts = find_counts(str(value))
        number = counts[0][0] if counts else bare_count(str(value))
    if number is None or not low <= number <= high:
        raise problem(
            f"{field.label.ko}은(는) {low}부터 {high}까지의 숫자로 알려 주세요.",
            f"{field.label.en} must be a whole number from {low} to {high}.",
            f"{low}에서 {high} 사이 숫자로 말해 주세요.",
        )
    return Checked(number)


def check_boolean(field: FormField, value: Any) -> Checked:
    """A yes or a no (for "married", also words such as 미혼, 기혼, single)."""
    if isinstance(value, bool):
        return Checked(value)
    text = str(value)
    # A plain yes or no first ("no, my husband passed away"), then the words that settle it.
    answer = yes_or_no(text)
    if field.name == "married":
        words = married_words(text)
        answer = words if words is not None else answer
    if answer is None:
        raise problem(
            "'네' 또는 '아니요'로 답해 주세요.",
            "Please answer yes or no.",
            "'네'나 '아니요'로 말해 주세요.",
        )
    return Checked(answer)


def check_account(text: str) -> Checked:
    """A bank account number: 10 to 16 digits, in groups joined by hyphens as written."""
    raw = re.sub(r"\s+", "-", str(text).strip().strip(".,"))
    digits = re.sub(r"-", "", raw)
    if not re.fullmatch(r"[0-9]+(?:-[0-9]+)*", raw) or not 10 <= len(digits) <= 16:
        raise problem(
            "계좌번호는 숫자 10~16자리예요. 통장에 적힌 대로 알려 주세요.",
            "An account number has 10 to 16 digits; give it as it is written in the bankbook.",
            "통장 번호를 숫자로 말해 주세요.",
        )
    return Checked(raw)


def check_text_value(text: str) -> Checked:
    """One line of free text (a unit number such as ``101동 1203호``)."""
    value = re.sub(r"\s+", " ", unicodedata.normalize("NFC", str(text))).strip(" ,.")
    value = _COPULA.sub("", value).strip()
    try:
        check_text(value)
    except ValueError:
        raise problem("내용을 알려 주세요.", "Please say it again.", "다시 말해 주세요.") from None
    if len(value) > 100:
        raise problem(
            "100자 안으로 알려 주세요.", "Please keep it under 100 characters.", "짧게 말해 주세요."
        )
    return Checked(value)


def validate(field: FormField, value: Any, today: date) -> Checked:
    """The normalised value of ``field`` from ``value``, with warnings.

    Parameters
    ----------
    field
        The catalogue's field.
    value
        What the citizen gave for it: text, or a value already typed.
    today
        The conversation's day in Korea: relative dates are resolved against it, and no birth
        date may be after it.

    Raises
    ------
    InvalidValue
        Saying what is wrong, in Korean, easy Korean and English.
    """
    try:
        return _validate(field, value, today)
    except InvalidValue as exc:
        exc.field = field.name
        raise


def _validate(field: FormField, value: Any, today: date) -> Checked:
    kind = field.type
    if kind == "choice":
        return check_choice(field, value)
    if kind == "count":
        return check_count(field, value)
    if kind == "boolean":
        return check_boolean(field, value)
    text = str(value)
    if kind == "rrn":
        return rrn.check(text, today)
    if kind == "phone":
        return phones.check(text)
    if kind == "address":
        if isinstance(value, Mapping) and "address" in value:
            return addresses.check(str(value["address"]))
        return addresses.check(text)
    if kind == "date":
        day = (
            parse_date(text, today, past=field.past) if not _iso(text) else date.fromisoformat(text)
        )
        return _check_day(field, day, today)
    if kind == "name":
        return check_name(text)
    if kind == "account":
        return check_account(text)
    return check_text_value(text)


def _iso(text: str) -> bool:
    return bool(re.fullmatch(r"[0-9]{4}-[0-9]{2}-[0-9]{2}", text.strip()))


def late_warning(days_late: int, due_days: int) -> Text:
    """What a late move-in report is told: the deadline, the delay, and that it is accepted."""
    return Text(
        f"이사한 날부터 {due_days}일이 지나 {days_late}일 늦었어요. 과태료가 나올 수 있지만 "
        "신고는 그대로 받아요.",
        f"The report was due within {due_days} days of the move and is {days_late} days late. "
        "A fine may apply, but the report is still accepted.",
        f"신고가 {days_late}일 늦었어요. 벌금이 나올 수 있어요. 그래도 신고는 돼요.",
    )


def _check_day(field: FormField, day: date, today: date) -> Checked:
    if field.past and day > today:
        raise problem(
            f"{day.isoformat()}은(는) 아직 오지 않은 날이에요. 이사한 날을 알려 주세요.",
            f"{day.isoformat()} is in the future; when did you move?",
            "아직 안 온 날이에요. 이사한 날을 말해 주세요.",
        )
    warnings: tuple[Text, ...] = ()
    if field.due_days is not None:
        late = (today - day).days - field.due_days
        if late > 0:
            warnings = (late_warning(late, field.due_days),)
    return Checked(day.isoformat(), warnings)


def form_warnings(form: Form, values: Mapping[str, Any], today: date) -> list[Text]:
    """Warnings about the form as a whole, from fields together (never a refusal)."""
    out: list[Text] = []
    if form.id == "basic-pension" and "applicant_rrn" in values:
        person = rrn.parse(values["applicant_rrn"])
        # One may apply from the month before the month of the 65th birthday.
        sixty_five = (
            person.birth_date.replace(year=person.birth_date.year + 65)
            if not (person.birth_date.month == 2 and person.birth_date.day == 29)
            else date(person.birth_date.year + 65, 3, 1)
        )
        first = sixty_five.replace(day=1)
        opens = date(first.year - (first.month == 1), (first.month - 2) % 12 + 1, 1)
        if today < opens:
            out.append(
                Text(
                    f"기초연금은 만 65세가 되는 달의 한 달 전({opens.isoformat()})부터 신청할 수 "
                    "있어요. 지금 접수하면 담당자가 확인해요.",
                    f"The basic pension can be applied for from {opens.isoformat()} (the month "
                    "before you turn 65); an official will review an earlier application.",
                    f"기초연금은 {opens.year}년 {opens.month}월부터 신청할 수 있어요.",
                )
            )
    return out


def describe(field: FormField, value: Any, lang: str) -> str:
    """A value as the confirmation summary shows it: choices by their label, yes/no in words,
    resident registration numbers masked."""
    if field.type == "choice":
        choice: Choice | None = field.choice(str(value))
        return choice.label.get(lang) if choice else str(value)
    if field.type == "boolean":
        return ("예" if value else "아니요") if lang == "ko" else ("yes" if value else "no")
    if field.type == "rrn":
        return rrn.mask(str(value))
    if field.type == "address" and isinstance(value, Mapping):
        return str(value.get("address", ""))
    if field.type == "count":
        return f"{value}통" if lang == "ko" and field.name == "copies" else str(value)
    return str(value)
