"""Understanding one utterance: which form, what it says for which field, and what it asks.

Exact rules where they are exact, trained models where they are not:

1. the exact readers find resident registration numbers, phone numbers, account numbers, dates
   and counts (:mod:`.rrn`, :mod:`.phones`, :mod:`.dates`, :mod:`.numerals`);
2. the slot tagger (a CRF, :mod:`.models`) reads the rest: names, addresses, and whose each
   number is (the applicant's or the buyer's, the previous address or the new one), given the
   form and the field just asked;
3. choices are matched from the catalogue's Korean and English words; yes and no, "skip",
   "cancel", questions about a word ("초본이 뭐예요?") and a wish to switch language by short
   rules (a closed set of phrases);
4. the form classifier says which form an opening utterance asks for, with the forms'
   names (aliases) as a rule beside it.

The result, a :class:`Reading`, names fields, not slots: the roles the tagger gives
(``name.other``) are mapped to the form's fields (``buyer_name``) here.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date
from typing import Any, Literal

from gyeonggi.forms import addresses, dates, numerals, phones, rrn
from gyeonggi.forms.catalogue import Catalogue, Form, FormField
from gyeonggi.forms.features import (
    cues,
    normalise,
    sequence_features,
    spans_from_tags,
    tokenize,
)
from gyeonggi.forms.models import Models
from gyeonggi.forms.validation import find_choices, fold, married_words, yes_or_no

Act = Literal["inform", "confirm", "deny", "cancel", "skip", "question", "none"]

#: The longest utterance read; a kiosk's speech-to-text or a paste beyond it is cut.
MAX_CHARS = 500
#: Below this probability the classifier's form is not taken without a form's name in the text.
FORM_THRESHOLD = 0.55

_CANCEL = re.compile(
    r"취소(?:할게|해\s*주세요|하고\s*싶|할래|요|합니다)?|그만\s*(?:할게|할래|둘게|하고|둘래|요)|"
    r"안\s*할래요|안\s*할게요|필요\s*없어졌|\bcancel\b|\bstop\b|\bquit\b|never\s*mind|forget\s+it|"
    r"\babort\b",
    re.I,
)
_SKIP = re.compile(
    r"건너\s*뛰|건너\s*뛸|넘어가|넘어갈|패스|다음으로|없어요|없습니다|없음|없네요|모르겠|생략|\bskip\b|\bpass\b|"
    r"\bnone\b|no one|nobody|\bnext\b|i don'?t have|not applicable|\bn/?a\b|don'?t know",
    re.I,
)
_QUESTION = re.compile(
    r"뭐예요|뭔가요|뭐에요|뭐죠|뭐지|뭘까요|무엇인가요|무슨\s*뜻|무슨\s*말|뜻이|차이가|어떤\s*거|뭐야|"
    r"what\s+(?:does|is|are|'s)|what's|meaning|\bmean\b|explain|difference|\?$",
    re.I,
)
# A question about a word needs a question word: "친양자입양관계증명서 있어요?" asks for it.
_QUESTION_WORDS = re.compile(
    r"뭐|뭔|무엇|무슨|뜻|차이|어떤|what|meaning|\bmean\b|explain|difference", re.I
)
# A correction inside one utterance: what follows replaces what came before it.
_SELF_CORRECTION = re.compile(
    r"(?:\.{2,}|…|,|\s)\s*(?:no\s+wait|no,|sorry,?|i\s+mean|oops,?|아\s*아니|아니(?:다|요)?\s|"
    r"아니\s*그게\s*아니라|정정,?|잘못\s*말했어요\.?)\s*",
    re.I,
)
_ENGLISH_PLEASE = re.compile(r"english\s*please|in english|speak english|영어로", re.I)
_KOREAN_PLEASE = re.compile(r"한국어로|한국말로|korean\s*please|in korean", re.I)
_EASY_PLEASE = re.compile(r"쉬운\s*말로|쉽게\s*(?:말해|설명)|어려워요", re.I)
_CORRECTION = re.compile(
    r"^(?:아니(?:요|오)?|아뇨|잠깐|정정|수정|다시|틀렸|잘못|actually|no,|sorry|wait|correction|"
    r"i mean|change)",
    re.I,
)
_ACCOUNT = re.compile(
    r"(?<![0-9-])[0-9]{2,6}(?:[-\s][0-9]{1,8}){1,4}(?![0-9-])|(?<![0-9])[0-9]{10,16}(?![0-9])"
)
# The two halves said apart: "앞자리 990101 뒷자리 2123450", "front 990101, back 2123450".
_RRN_SPLIT = re.compile(
    r"(?:앞\s*자리|앞\s*번호|front|first)\D{0,6}?([0-9]{6})\D{1,12}?(?:뒷\s*자리|뒤\s*번호|back|last|"
    r"second)\D{0,6}?([0-9]{7})(?![0-9])",
    re.I,
)
#: Words that say a value changes what was given before ("바꿔 주세요", "instead").
_CHANGE = re.compile(
    r"바꿔|변경|고쳐|수정|정정|말고|대신|아니|잘못|죄송|미안|change|instead|rather|make it|"
    r"actually|correction|sorry|i mean|switch",
    re.I,
)
_HOUSEHOLD_OF = re.compile(
    r"\s*(?:님)?\s*(?:의\s*)?(?:세대|밑|집|쪽|'s household|'? household)", re.I
)
_INVERSE = {"parent": "child", "child": "parent"}
# A language named ("continue in English", "한국어로") is no name.
_LANGUAGE_WORDS = re.compile(r"\b(?:in )?(?:english|korean)\b|영어|한국어|한국말", re.I)
_YES_NO = re.compile(r"^(?:네+|예|아니요|아뇨|아니|yes|no|nope|yep)(?=$|[\s,.!])", re.I)
_PEOPLE_COUNTERS = ("명", "사람", "people", "person", "persons", "members", "member")
_BOOLEAN_CUES: dict[str, tuple[re.Pattern[str], re.Pattern[str]]] = {
    "include_address_history": (
        re.compile(
            r"(?:과거|예전|이전)?\s*주소\s*(?:변동|이력|변경)?\s*(?:사항)?(?:도|을|를|은)?\s*"
            r"(?:포함|넣어|다\s*나오게|나오게|같이)|"
            r"with (?:the |my )?(?:past |previous )?address(?:es)? history|"
            r"include (?:the |my )?(?:past |previous )?address|with (?:past|previous) addresses",
            re.I,
        ),
        re.compile(
            r"주소\s*(?:변동|이력|변경)?\s*(?:사항)?(?:은|는)?\s*(?:빼|없이|필요\s*없|안\s*넣|제외)|"
            r"without (?:the |any )?(?:address )?history|no address history|"
            r"don'?t include (?:the )?address",
            re.I,
        ),
    ),
    "show_full_rrn": (
        re.compile(
            r"뒷자리\s*(?:도|를)?\s*(?:보이게|표시|나오게|포함)|full (?:registration )?numbers?",
            re.I,
        ),
        re.compile(
            r"뒷자리\s*(?:는|은)?\s*(?:가려|빼|숨겨|안\s*보이게)|hide the (?:back|last) digits",
            re.I,
        ),
    ),
    "include_military_service": (
        re.compile(
            r"병역\s*(?:사항)?\s*(?:도|을)?\s*(?:포함|넣어|나오게)|with military service|"
            r"include military",
            re.I,
        ),
        re.compile(r"병역\s*(?:사항)?\s*(?:은|는)?\s*(?:빼|없이|제외)|without military", re.I),
    ),
}


@dataclass(frozen=True, slots=True)
class Found:
    """One value the utterance gives for one field (as said; validation normalises it)."""

    field: str
    value: Any
    start: int
    end: int
    source: str  # "rule", "tagger", "choice", "answer" (the whole utterance, for the field asked)


@dataclass(frozen=True, slots=True)
class Reading:
    """What one utterance says."""

    text: str
    lang: str | None  # "ko", "en", or None when it cannot be told (digits only)
    act: Act
    form_id: str | None = None
    form_confidence: float = 0.0
    values: tuple[Found, ...] = ()
    terms: tuple[str, ...] = ()  # glossary terms a question is about
    correction: bool = False
    switch_lang: str | None = None
    easy: bool | None = None
    unread: tuple[str, ...] = field(default=())  # slots found that the form has no field for


def detect_language(text: str) -> str | None:
    """``ko`` when the text is mostly Hangul, ``en`` when it is Latin letters, else ``None``."""
    hangul = sum(1 for c in text if "가" <= c <= "힣" or "ㄱ" <= c <= "ㅣ")
    latin = sum(1 for c in text if c.isascii() and c.isalpha())
    if hangul == 0 and latin == 0:
        return None
    if hangul and hangul * 4 >= latin:
        return "ko"
    return "en" if latin >= 2 else None


def exact_spans(text: str, today: date, form: Form | None) -> list[tuple[str, int, int, Any]]:
    """Values the exact readers find, ``(kind, start, end, value)``, none overlapping."""
    out: list[tuple[str, int, int, Any]] = []

    def free(s: int, e: int) -> bool:
        return all(e <= s2 or e2 <= s for _, s2, e2, _ in out)

    for m in rrn.PATTERN.finditer(text):
        out.append(("RRN", m.start(), m.end(), m.group(0)))
    for m in _RRN_SPLIT.finditer(text):
        if free(m.start(), m.end()):
            out.append(("RRN", m.start(), m.end(), f"{m.group(1)}-{m.group(2)}"))
    wants_account = form is None or any(f.type == "account" for f in form.fields)
    accounts = (
        [m for m in _ACCOUNT.finditer(text) if 10 <= len(re.sub(r"\D", "", m.group(0))) <= 16]
        if wants_account
        else []
    )
    # Longer than any phone number (11 digits): an account number, whatever its groups.
    for m in accounts:
        if len(re.sub(r"\D", "", m.group(0))) > 11 and free(m.start(), m.end()):
            out.append(("ACCOUNT", m.start(), m.end(), m.group(0)))
    for m in phones.PATTERN.finditer(text):
        if free(m.start(), m.end()):
            out.append(("PHONE", m.start(), m.end(), m.group(0)))
    for m in accounts:
        if free(m.start(), m.end()):
            out.append(("ACCOUNT", m.start(), m.end(), m.group(0)))
    if form is None or any(f.type == "date" for f in form.fields):
        try:
            found_dates = dates.find_dates(text, today)
        except Exception:
            found_dates = []
            for pattern in (
                r"[0-9]{1,2}\s*월\s*[0-9]{1,2}\s*일",
                r"(?:19|20)[0-9]{2}-[0-9]{1,2}-[0-9]{1,2}",
            ):
                for m in re.finditer(pattern, text):
                    if free(m.start(), m.end()):
                        out.append(("DATE", m.start(), m.end(), m.group(0)))
        for _, s, e in found_dates:
            if free(s, e):
                out.append(("DATE", s, e, text[s:e]))
    for value, s, e in numerals.find_counts(text):
        if free(s, e):
            out.append(("COUNT", s, e, (value, text[s:e])))
    return sorted(out, key=lambda x: x[1])


_FIELD_CUES: dict[str, re.Pattern[str]] = {
    "move_reason": re.compile(r"사유|이유|때문|because|reason|due to", re.I),
    "relation_to_head": re.compile(r"관계|relation|related", re.I),
    "guardian_relation": re.compile(r"관계|relation|related", re.I),
    "housing_kind": re.compile(
        r"자가|전세|월세|jeonse|monthly rent|own (?:my|the) (?:home|house|flat)|집은", re.I
    ),
}


def _names_field(f: FormField, text: str) -> bool:
    cue = _FIELD_CUES.get(f.name)
    if cue is not None:
        return bool(cue.search(text))
    return fold(f.label.ko) in fold(text) or f.label.en.lower() in text.lower()


class Understanding:
    """Reads utterances against the catalogue with the trained models.

    Parameters
    ----------
    catalogue
        The forms.
    models
        The form classifier and slot tagger (:meth:`gyeonggi.forms.models.Models.load`).
    """

    def __init__(self, catalogue: Catalogue, models: Models) -> None:
        self.catalogue = catalogue
        self.models = models
        self._cue_categories: set[str] = set()
        self._glossary = [
            (fold(term), term, form.id)
            for form in catalogue
            for entry in form.glossary
            for term in entry.terms
        ]

    # ------------------------------------------------------------------ forms

    def which_form(self, text: str) -> tuple[str | None, float]:
        """The form the text asks for, and the classifier's probability (``None`` if none)."""
        label, p = self.models.classifier.predict(text)
        named = self._named_forms(text)
        if len(named) == 1 and (label == "none" or label not in named or p < FORM_THRESHOLD):
            return named[0], max(p, FORM_THRESHOLD)
        if label != "none" and p >= FORM_THRESHOLD:
            return label, p
        return None, p

    def _named_forms(self, text: str) -> list[str]:
        folded = fold(text)
        hits = []
        for form in self.catalogue:
            words = [fold(a) for a in (*form.aliases_ko, *form.aliases_en)]
            if any(w and w in folded for w in words):
                hits.append(form.id)
        return hits

    # ------------------------------------------------------------------ one utterance

    def read(
        self,
        text: str,
        *,
        form_id: str | None,
        pending: str | None,
        today: date,
        filled: Mapping[str, Any] | None = None,
    ) -> Reading:
        """What ``text`` says, given the form (if chosen) and the field just asked."""
        text = normalise(text)[:MAX_CHARS]
        lang = detect_language(text)
        switch = (
            "en" if _ENGLISH_PLEASE.search(text) else "ko" if _KOREAN_PLEASE.search(text) else None
        )
        easy = True if _EASY_PLEASE.search(text) else None
        confidence = 0.0
        if form_id is None:
            form_id, confidence = self.which_form(text)
        elif not filled:
            # Nothing given yet for the form guessed: a form named outright replaces it
            # ("서류 떼러 왔어요" was taken for a copy; "가족관계증명서요" says which).
            named = self._named_forms(text)
            if len(named) == 1 and named[0] != form_id:
                form_id, confidence = named[0], 1.0
        form = self.catalogue[form_id] if form_id else None
        values: list[Found] = []
        unread: list[str] = []
        if form is not None:
            values, unread = self._read_values(text, form, pending, today, filled or {})
        terms = self._terms(text, form) if _QUESTION.search(text) else ()
        if (
            terms
            and _QUESTION_WORDS.search(text)
            and not any(v.source in ("rule", "tagger") for v in values)
        ):
            # "what does household member mean?": the words asked about are no answer.
            values = []
        act = self._act(text, form, pending, values)
        # Only a question about what a word means is answered with its explanation ("How do I
        # get the basic pension?" asks for the form).
        terms = terms if act == "question" and _QUESTION_WORDS.search(text) else ()
        return Reading(
            text=text,
            lang=lang,
            act=act,
            form_id=form_id,
            form_confidence=confidence,
            values=tuple(values),
            terms=terms,
            correction=bool(_CORRECTION.match(text)),
            switch_lang=switch,
            easy=easy,
            unread=tuple(unread),
        )

    def _read_values(
        self,
        text: str,
        form: Form,
        pending: str | None,
        today: date,
        filled: Mapping[str, Any],
    ) -> tuple[list[Found], list[str]]:
        """Values of ``text``; after a correction inside it ("40 Seho-ro... sorry, 40
        Seongho-daero"), what follows replaces what came before, field by field."""
        marks = [
            m for m in _SELF_CORRECTION.finditer(text) if m.start() > 0 and m.end() < len(text)
        ]
        if not marks:
            return self._values(text, form, pending, today, filled)
        cut = marks[-1]
        later, unread = self._values(text[cut.end() :], form, pending, today, filled)
        if not later:
            return self._values(text, form, pending, today, filled)
        earlier, _ = self._values(text[: cut.start()], form, pending, today, filled)
        offset = cut.end()
        shifted = [
            Found(v.field, v.value, v.start + offset, v.end + offset, v.source) for v in later
        ]
        given = {v.field for v in later}
        return [v for v in earlier if v.field not in given] + shifted, unread

    def _act(
        self, text: str, form: Form | None, pending: str | None, values: Sequence[Found]
    ) -> Act:
        if _CANCEL.search(text) and not values:
            return "cancel"
        if (
            _QUESTION.search(text)
            and (not values or all(v.source == "answer" for v in values))
            and not (pending and values and not text.rstrip().endswith("?"))
        ):
            return "question"
        if values:
            return "inform"
        answer = yes_or_no(text)
        if answer is True:
            return "confirm"
        if _SKIP.search(text):
            return "skip"
        if answer is False:
            return "deny"
        return "none"

    def _terms(self, text: str, form: Form | None) -> tuple[str, ...]:
        folded = fold(text)
        hits = [
            (len(f), term, fid)
            for f, term, fid in self._glossary
            if f and f in folded and (form is None or fid == form.id)
        ]
        if not hits and form is not None:
            hits = [(len(f), term, fid) for f, term, fid in self._glossary if f and f in folded]
        hits.sort(reverse=True)
        return tuple(dict.fromkeys(term for _, term, _ in hits))[:2]

    def _values(
        self,
        text: str,
        form: Form,
        pending: str | None,
        today: date,
        filled: Mapping[str, Any],
    ) -> tuple[list[Found], list[str]]:
        exact = exact_spans(text, today, form)
        self._cue_categories = {c for _, _, c in cues(text)}
        tokens = tokenize(text, [(k, s, e) for k, s, e, _ in exact])
        pending_field = form.by_name.get(pending) if pending else None
        context = [f"form={form.id}"]
        if pending_field is not None:
            context.append(f"pend={pending_field.slot or pending_field.type}")
        tags = self.models.tagger.tag(sequence_features(tokens, context, text))
        spans = spans_from_tags(tokens, tags)
        # A name the tagger found that is a word of the catalogue ("하나은행" while a name was
        # asked) is that word: the catalogue's words are exact, the tagger is not.
        choice_spans = [
            (s, e) for f in form.fields if f.type == "choice" for _, s, e in find_choices(f, text)
        ]
        spans = [
            (slot, s, e)
            for slot, s, e in spans
            if not (
                slot.startswith("name.")
                and any(
                    (cs <= s and e <= ce) or (s <= cs and ce <= e and (ce - cs) * 5 >= (e - s) * 3)
                    for cs, ce in choice_spans
                )
            )
        ]
        # Words that say what the citizen does (skip, cancel, ask, yes, no) are no name.
        acts = [
            (m.start(), m.end())
            for p in (_SKIP, _CANCEL, _QUESTION, _YES_NO, _LANGUAGE_WORDS)
            for m in p.finditer(text)
        ]
        spans = [
            (slot, s, e)
            for slot, s, e in spans
            if not (slot.startswith("name.") and any(a < e and s < b for a, b in acts))
        ]
        exact_by_start = {(s, e): (k, v) for k, s, e, v in exact}
        found: list[Found] = []
        unread: list[str] = []
        claimed: list[tuple[int, int]] = []
        for slot, s, e in spans:
            said = text[s:e]
            if (slot.startswith("addr.") or slot.startswith("name.")) and not re.search(
                r"[가-힣A-Za-z]", said
            ):
                # Digits alone are no name and no address ("010-12-3456" while a phone was
                # asked is a phone number, and a wrong one).
                continue
            target = self._field_for(slot, form, pending_field, filled, found)
            if target is None:
                unread.append(slot)
                continue
            value: Any = text[s:e]
            kind_value = exact_by_start.get((s, e))
            if kind_value:
                # The exact reader's value ("앞자리 990101 뒷자리 2123450" is 990101-2123450).
                value = kind_value[1][0] if kind_value[0] == "COUNT" else kind_value[1]
            found.append(Found(target.name, value, s, e, "tagger"))
            claimed.append((s, e))
        # Exact values the tagger left untagged go to the only field that can take them.
        for kind, s, e, value in exact:
            if any(s < ce and cs < e for cs, ce in claimed):
                continue
            target = self._exact_field(kind, value, form, pending_field, filled, found)
            if target is not None:
                v = value[0] if kind == "COUNT" else value
                found.append(Found(target.name, v, s, e, "rule"))
                claimed.append((s, e))
        found.extend(
            self._choices(
                text, form, pending_field, filled, claimed, changing=bool(_CHANGE.search(text))
            )
        )
        found.extend(self._booleans(text, form, pending_field, found))
        if pending_field is not None and not found:
            answer = self._answer(text, pending_field, exact, claimed)
            if answer is not None:
                found.append(answer)
        return found, unread

    # ------------------------------------------------------------------ slots to fields

    def _field_for(
        self,
        slot: str,
        form: Form,
        pending: FormField | None,
        filled: Mapping[str, Any],
        found: Sequence[Found],
    ) -> FormField | None:
        taken = {f.field for f in found}
        exact = [f for f in form.fields if f.slot == slot and f.name not in taken]
        role = slot.split(".")[-1]
        if (
            pending is not None
            and pending.type == "address"
            and slot.startswith("addr.")
            and pending.slot != slot
            and pending.name not in taken
            and role in ("prev", "new", "other")
            and role not in self._cue_categories
        ):
            # The tagger's role has no word for it in the utterance: the field asked wins.
            return pending
        if len(exact) == 1:
            return exact[0]
        kind = slot.split(".")[0]
        type_ = {
            "name": "name",
            "rrn": "rrn",
            "phone": "phone",
            "addr": "address",
            "date": "date",
            "count": "count",
            "account": "account",
            "unit": "text",
        }.get(kind)
        same = [f for f in form.fields if f.type == type_ and f.name not in taken]
        if not same:
            return None
        if pending is not None and pending in same:
            return pending
        applicable = [f for f in same if f.applies({**filled, **{x.field: x.value for x in found}})]
        pool = applicable or same
        unfilled = [f for f in pool if f.name not in filled]
        return (unfilled or pool)[0]

    def _exact_field(
        self,
        kind: str,
        value: Any,
        form: Form,
        pending: FormField | None,
        filled: Mapping[str, Any],
        found: Sequence[Found],
    ) -> FormField | None:
        type_ = {
            "RRN": "rrn",
            "PHONE": "phone",
            "ACCOUNT": "account",
            "DATE": "date",
            "COUNT": "count",
        }[kind]
        taken = {f.field for f in found}
        candidates = [f for f in form.fields if f.type == type_ and f.name not in taken]
        if kind == "COUNT":
            counter = str(value[1])
            people = any(counter.rstrip(" 요이").endswith(c) for c in _PEOPLE_COUNTERS)
            candidates = [f for f in candidates if (f.name == "moving_members") == people]
        if kind == "PHONE" and not candidates:
            # A number shaped like a phone number where the form wants an account number.
            candidates = [f for f in form.fields if f.type == "account" and f.name not in taken]
        if not candidates:
            return None
        if pending is not None and pending in candidates:
            return pending
        # A second person's number or phone only when it is what was asked.
        own = [
            f for f in candidates if (f.slot or "").endswith(".self") or "." not in (f.slot or "")
        ]
        pool = own or candidates
        unfilled = [f for f in pool if f.name not in filled]
        return (unfilled or pool)[0]

    def _choices(
        self,
        text: str,
        form: Form,
        pending: FormField | None,
        filled: Mapping[str, Any],
        claimed: list[tuple[int, int]],
        changing: bool = False,
    ) -> list[Found]:
        per_span: dict[tuple[int, int], list[tuple[FormField, str]]] = {}
        for f in form.fields:
            if f.type != "choice":
                continue
            if f.name in filled and f is not pending and not changing and not _names_field(f, text):
                # A choice already made changes only when asked again, corrected ("아니",
                # "바꿔 주세요") or named: "세대주는 윤상현" names the head, it does not make the
                # citizen one.
                continue
            if not f.required and not f.ask and f is not pending and not _names_field(f, text):
                # A field the form never asks about is filled only when the citizen names it
                # ("이사 사유는 직장", "the reason is work"): "가족 밑으로" is no reason to move.
                continue
            for cid, s, e in find_choices(f, text):
                if any(s < ce and cs < e for cs, ce in claimed):
                    continue
                per_span.setdefault((s, e), []).append((f, cid))
        out: list[Found] = []
        used: set[str] = set()
        for (s, e), options in sorted(per_span.items()):
            options = [(f, c) for f, c in options if f.name not in used]
            if not options:
                continue
            if len(options) > 1:
                preferred = [o for o in options if pending is not None and o[0] is pending]
                preferred = preferred or [o for o in options if o[0].name not in filled]
                options = preferred or options
            f, cid = options[0]
            if f.name == "relation_to_head" and _HOUSEHOLD_OF.match(text, e):
                # "부모님 세대로 들어가요", "my parents' household": the words name the head,
                # so the citizen is the other side of the relation.
                cid = _INVERSE.get(cid, cid)
            used.add(f.name)
            out.append(Found(f.name, cid, s, e, "choice"))
        return out

    def _booleans(
        self, text: str, form: Form, pending: FormField | None, found: Sequence[Found]
    ) -> list[Found]:
        out: list[Found] = []
        taken = {f.field for f in found}
        for name, (yes, no) in _BOOLEAN_CUES.items():
            if name in form.by_name and name not in taken:
                if no.search(text):
                    out.append(Found(name, False, 0, len(text), "rule"))
                elif yes.search(text):
                    out.append(Found(name, True, 0, len(text), "rule"))
        if "married" in form.by_name and "married" not in taken:
            married = married_words(text)
            if married is not None:
                out.append(Found("married", married, 0, len(text), "rule"))
        return out

    def _answer(
        self,
        text: str,
        f: FormField,
        exact: Sequence[tuple[str, int, int, Any]],
        claimed: Sequence[tuple[int, int]],
    ) -> Found | None:
        """The whole utterance as the answer to the field just asked, when it can be one."""
        stripped = text.strip()
        if f.type == "boolean":
            answer = yes_or_no(stripped)
            return Found(f.name, answer, 0, len(text), "answer") if answer is not None else None
        if f.type == "count":
            n = numerals.bare_count(stripped)
            return Found(f.name, n, 0, len(text), "answer") if n is not None else None
        if f.type == "address" and addresses.has_road(stripped):
            return Found(f.name, stripped, 0, len(text), "answer")
        if f.type == "name" and not claimed and not exact and not re.search(r"[0-9]", stripped):
            words = stripped.split()
            if (
                1 <= len(words) <= 4
                and not _SKIP.search(stripped)
                and not _QUESTION.search(stripped)
                and yes_or_no(stripped) is None
                and not _CANCEL.search(stripped)
            ):
                return Found(f.name, stripped, 0, len(text), "answer")
        if f.type == "text" and not _SKIP.search(stripped) and not _QUESTION.search(stripped):
            return Found(f.name, stripped, 0, len(text), "answer")
        if f.type in ("phone", "rrn") and len(re.sub(r"\D", "", stripped)) >= 6:
            # Digits where a phone number or an RRN was asked, but not one: validation says
            # what is wrong with it.
            m = re.search(r"\+?[0-9][0-9\s().-]*[0-9]", stripped)
            if m:
                return Found(f.name, m.group(0), m.start(), m.end(), "answer")
        if f.type == "account":
            m = re.search(r"[0-9][0-9\s-]{8,}[0-9]", stripped)
            if m:
                return Found(f.name, m.group(0), m.start(), m.end(), "answer")
        return None
