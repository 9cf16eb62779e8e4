"""The dialogue: one turn at a time, from what the citizen says to the next question.

:func:`take_turn` is pure: a :class:`DialogueState` and an utterance in, the next state and the
reply out. Storing the state between turns is :mod:`.sessions`' business; running many
dialogues offline is ``gyeonggi forms converse``'s.

States (``DialogueState.status``):

``collecting``
    A form is being chosen (``form_id`` is ``None``) or filled: the reply asks for what is
    missing or was invalid, one field at a time.
``confirming``
    Every needed field has a value; the reply is the summary, and "네"/"yes" confirms. A
    correction ("아니, 주소는 ...") changes the field and shows the summary again.
``confirmed``
    Final. The completed form (:meth:`DialogueState.submission`) is what the issuance step
    takes over (identity check, PDF, the civil servants' queue).
``cancelled``
    Final. The values are erased at once.

Rules: a valid value overwrites what was there (that is how corrections work, in any state but
the final ones); an invalid one is named with what was wrong and asked again, and nothing given
before is lost; an optional field may be skipped ("없음", "skip"); a question about a word gets
its explanation and the question again; the reply follows the citizen's language from the
utterance on (a switch mid-way works) unless the citizen chose the language with a control
(``keep_lang``: a page's language switch); fields that no longer apply (a sale changed to
general use) are dropped.

A page with buttons needs two things no utterance gives reliably: :meth:`Dialogue.choose_form`
(a form picked from a list, no words to misread: the title "주민등록표 등본·초본" read as an
utterance also says 등본) and :meth:`Dialogue.prefer` (the language or easy Korean switched
without a turn: "English please" while a name is asked could be taken for the name).
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import asdict, dataclass, field
from datetime import date
from typing import Any, Literal

from gyeonggi.forms import addresses
from gyeonggi.forms.catalogue import Catalogue, Form, FormField, Text
from gyeonggi.forms.problems import InvalidValue
from gyeonggi.forms.replies import (
    ALREADY_CANCELLED,
    ALREADY_CONFIRMED,
    ASK_ADDRESS_IN,
    ASK_DAY_IN_WEEK,
    CANCELLED,
    CONFIRMED,
    HINT_ADDRESS,
    NEXT_STEPS,
    NOT_UNDERSTOOD,
    NOTED,
    OPTIONAL_HINT,
    REQUIRED,
    SKIPPED,
    START,
    SUMMARY,
    WHAT_TO_CHANGE,
    WHICH_FORM,
    WRONG,
)
from gyeonggi.forms.understanding import Reading, Understanding
from gyeonggi.forms.validation import describe, form_warnings, validate

Status = Literal["collecting", "confirming", "confirmed", "cancelled"]
STATUSES: tuple[Status, ...] = ("collecting", "confirming", "confirmed", "cancelled")
FINAL: frozenset[str] = frozenset({"confirmed", "cancelled"})


@dataclass(slots=True)
class DialogueState:
    """Everything the dialogue needs between turns (JSON-ready through :meth:`to_dict`)."""

    lang: str = "ko"
    today: str = ""  # the conversation's day in Korea, ISO: relative dates resolve against it
    easy: bool = False
    form_id: str | None = None
    status: Status = "collecting"
    fields: dict[str, Any] = field(default_factory=dict)
    skipped: list[str] = field(default_factory=list)
    warnings: dict[str, list[dict[str, str]]] = field(default_factory=dict)
    pending: str | None = None
    hints: dict[str, str] = field(default_factory=dict)
    last_filled: str | None = None  # a bare correction ("no wait, two") is about this field
    turns: int = 0
    # The language was chosen with a control (a page's switch): what the citizen types in the
    # other language (a Hangul name on an English screen) does not switch it; asking does.
    keep_lang: bool = False

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> DialogueState:
        known = {k: data[k] for k in cls.__slots__ if k in data}
        return cls(**known)

    @property
    def day(self) -> date:
        return date.fromisoformat(self.today)

    def submission(self, catalogue: Catalogue) -> dict[str, Any]:
        """The completed form as the issuance step takes it over (only once confirmed).

        Raises
        ------
        ValueError
            When the form is not confirmed.
        """
        if self.status != "confirmed" or self.form_id is None:
            raise ValueError("only a confirmed form is submitted")
        form = catalogue[self.form_id]
        return {
            "form_id": form.id,
            "form_version": form.version,
            "fields": dict(self.fields),
            "warnings": self.warnings,
            "lang": self.lang,
            "fee_krw": form.fee_krw,
        }


@dataclass(frozen=True, slots=True)
class Reply:
    """What the assistant answers to one utterance."""

    text: str
    asked: str | None  # the field asked next, if any
    problems: tuple[str, ...] = ()  # fields whose value was refused this turn


def _batchim(word: str) -> bool:
    """Whether ``word`` ends in a consonant (Hangul with a final consonant, or a digit read so)."""
    last = word.rstrip(" )")[-1:] or "가"
    if "가" <= last <= "힣":
        return (ord(last) - 0xAC00) % 28 != 0
    return last in "013678LMNlmn"


def start(lang: str, today: date, easy: bool = False, keep_lang: bool = False) -> DialogueState:
    """A new conversation in ``lang`` on ``today`` (the day in Korea); ``keep_lang`` when the
    language was chosen with a control rather than guessed."""
    return DialogueState(
        lang=lang if lang in ("ko", "en") else "ko",
        today=today.isoformat(),
        easy=easy,
        keep_lang=keep_lang,
    )


class Dialogue:
    """The engine: the catalogue and the understanding, and the rules of a turn."""

    def __init__(self, catalogue: Catalogue, understanding: Understanding) -> None:
        self.catalogue = catalogue
        self.understanding = understanding

    # ------------------------------------------------------------------ helpers

    def _t(self, state: DialogueState, text: Text, **kw: Any) -> str:
        # Korean particles after a word that ends in a consonant or a vowel: 을/를, 은/는.
        for key in ("title", "label"):
            if key in kw:
                word = str(kw[key])
                kw["eul"] = "을" if _batchim(word) else "를"
                kw["eun"] = "은" if _batchim(word) else "는"
        return text.get(state.lang, state.easy).format(**kw)

    def _label(self, state: DialogueState, f: FormField) -> str:
        return f.label.get(state.lang)

    def next_field(self, form: Form, state: DialogueState) -> FormField | None:
        """The field to ask next: the first needed one without a value, then optional ones
        the form asks about (not skipped)."""
        values = state.fields
        for f in form.fields:
            if f.name in values or f.name in state.skipped or not f.applies(values):
                continue
            if f.required or f.ask:
                return f
        return None

    def missing(self, state: DialogueState) -> list[str]:
        """The needed fields without a value (``[]`` before a form is chosen)."""
        if state.form_id is None:
            return []
        return self.catalogue[state.form_id].missing(state.fields)

    def question(self, form: Form, f: FormField, state: DialogueState) -> str:
        """The question for ``f``, shaped by what is known (the city of an address, "지난주")."""
        if f.type == "address" and f.name in state.hints:
            return self._t(state, ASK_ADDRESS_IN, city=state.hints[f.name])
        if f.type == "date" and state.hints.get(f.name) == "last-week":
            return self._t(state, ASK_DAY_IN_WEEK)
        q = f.question.get(state.lang, state.easy)
        if not f.required:
            q += " " + self._t(state, OPTIONAL_HINT)
        return q

    def summary(self, form: Form, state: DialogueState) -> str:
        items = [
            f"{self._label(state, f)} {describe(f, state.fields[f.name], state.lang)}"
            for f in form.fields
            if f.name in state.fields
        ]
        warnings = [
            Text(**w).get(state.lang, state.easy) for ws in state.warnings.values() for w in ws
        ]
        text = self._t(state, SUMMARY, items=", ".join(items))
        return " ".join([*warnings, text])

    # ------------------------------------------------------------------ the turn

    def take_turn(self, state: DialogueState, utterance: str) -> tuple[DialogueState, Reply]:
        """One utterance: the next state and the reply. ``state`` is not changed."""
        state = DialogueState.from_dict(state.to_dict())
        state.turns += 1
        reading = self.understanding.read(
            utterance,
            form_id=state.form_id,
            pending=state.pending,
            today=state.day,
            filled=state.fields,
        )
        if reading.switch_lang:
            state.lang = reading.switch_lang
        elif reading.lang and not state.keep_lang:
            state.lang = reading.lang
        if reading.easy is not None:
            state.easy = reading.easy
        if (
            not reading.values
            and state.status == "confirming"
            and (reading.act == "deny" or reading.correction)
            and state.last_filled
            and state.form_id
        ):
            # "no wait, two": a correction with a bare value is about the field just given.
            again = self.understanding.read(
                utterance,
                form_id=state.form_id,
                pending=state.last_filled,
                today=state.day,
                filled=state.fields,
            )
            if again.values:
                reading = again
        if state.status == "confirmed":
            return state, Reply(self._t(state, ALREADY_CONFIRMED), None)
        if state.status == "cancelled":
            return state, Reply(self._t(state, ALREADY_CANCELLED), None)
        if reading.act == "cancel":
            state.status = "cancelled"
            state.fields, state.warnings, state.hints, state.pending = {}, {}, {}, None
            return state, Reply(self._t(state, CANCELLED), None)
        parts: list[str] = []
        if (
            state.form_id is not None
            and reading.form_id not in (None, state.form_id)
            and not state.fields
        ):
            # The form was guessed and nothing is filled yet: the form now named replaces it.
            state.form_id = None
            state.skipped, state.hints, state.pending = [], {}, None
        if state.form_id is None:
            if reading.act == "question" and reading.terms:
                # "초본이 뭐예요?" before a form is chosen: the explanation, then which form.
                parts.extend(self._explain(reading, state))
                parts.append(self._t(state, WHICH_FORM))
                return state, Reply(" ".join(parts), None)
            if reading.form_id is None:
                parts.append(self._t(state, WHICH_FORM))
                return state, Reply(" ".join(parts), None)
            state.form_id = reading.form_id
            form = self.catalogue[state.form_id]
            parts.append(self._t(state, START, title=form.title.get(state.lang, state.easy)))
        form = self.catalogue[state.form_id]
        problems = self._apply(form, state, reading, parts)
        if reading.act == "question" and not reading.values:
            parts.extend(self._explain(reading, state, form))
        elif (
            reading.act in ("skip", "deny")
            and state.pending
            and not problems
            and state.status == "collecting"
            and (reading.act == "skip" or not form.field(state.pending).required)
        ):
            pending = form.field(state.pending)
            if pending.required:
                parts.append(self._t(state, REQUIRED, label=self._label(state, pending)))
            else:
                state.skipped.append(pending.name)
                parts.append(self._t(state, SKIPPED, label=self._label(state, pending)))
        elif reading.act == "confirm" and state.status == "confirming" and not problems:
            return self._confirm(form, state)
        elif reading.act == "deny" and state.status == "confirming":
            state.pending = None
            return state, Reply(self._t(state, WHAT_TO_CHANGE), None)
        elif reading.act == "none" and state.turns > 1 and not reading.values:
            parts.append(self._t(state, NOT_UNDERSTOOD))
        return self._next(form, state, parts, problems)

    def choose_form(self, state: DialogueState, form_id: str) -> tuple[DialogueState, Reply]:
        """The form picked from a list (a kiosk's buttons): its first question, nothing read.

        Raises
        ------
        KeyError
            When ``form_id`` is not in the catalogue.
        ValueError
            When the conversation is final.
        """
        if state.status in FINAL:
            raise ValueError(f"the conversation is {state.status}")
        form = self.catalogue[form_id]
        state = DialogueState.from_dict(state.to_dict())
        if state.form_id != form_id:
            state.form_id = form_id
            state.fields, state.warnings, state.hints = {}, {}, {}
            state.skipped, state.pending, state.last_filled = [], None, None
            state.status = "collecting"
        parts = [self._t(state, START, title=form.title.get(state.lang, state.easy))]
        return self._next(form, state, parts, [])

    def prefer(
        self, state: DialogueState, lang: str | None = None, easy: bool | None = None
    ) -> tuple[DialogueState, Reply]:
        """The language or easy Korean switched with a control, not a turn: the question (or
        the summary) said again in the new words. A language chosen so is kept
        (``keep_lang``). Nothing the citizen gave changes.

        Raises
        ------
        ValueError
            When the conversation is final, or ``lang`` is neither ``ko`` nor ``en``.
        """
        if state.status in FINAL:
            raise ValueError(f"the conversation is {state.status}")
        if lang is not None and lang not in ("ko", "en"):
            raise ValueError(f"unknown language {lang!r}")
        state = DialogueState.from_dict(state.to_dict())
        if lang is not None:
            state.lang, state.keep_lang = lang, True
        if easy is not None:
            state.easy = easy
        return state, self.restate(state)

    def restate(self, state: DialogueState) -> Reply:
        """What is being asked, said again in the state's language: the question, the summary,
        or which form."""
        if state.form_id is None:
            return Reply(self._t(state, WHICH_FORM), None)
        form = self.catalogue[state.form_id]
        if state.status == "confirming":
            return Reply(self.summary(form, state), None)
        if state.status == "collecting" and state.pending:
            return Reply(self.question(form, form.field(state.pending), state), state.pending)
        return Reply(self._t(state, WHAT_TO_CHANGE), None)

    def _explain(
        self, reading: Reading, state: DialogueState, form: Form | None = None
    ) -> list[str]:
        out = []
        forms = [form] if form else list(self.catalogue)
        for term in reading.terms:
            entry = next(
                (g for f in [*forms, *self.catalogue] for g in f.glossary if term in g.terms), None
            )
            if entry:
                out.append(entry.text.get(state.lang, state.easy))
        if not out and form and state.pending:
            pending = form.field(state.pending)
            out.append(f"{self._label(state, pending)}:")
        return out

    def _apply(
        self, form: Form, state: DialogueState, reading: Reading, parts: list[str]
    ) -> list[str]:
        """Validate and keep each value the utterance gives; say what was noted and what was
        wrong. Returns the fields whose value was refused."""
        noted: list[str] = []
        problems: list[str] = []
        wrong: list[str] = []
        for found in reading.values:
            f = form.by_name.get(found.field)
            if f is None:
                continue
            value = found.value
            if (
                f.type == "date"
                and isinstance(value, str)
                and state.hints.get(f.name) == "last-week"
                and re.fullmatch(r"\s*[월화수목금토일]\s*요일.*", value)
            ):
                value = "지난주 " + value
            try:
                checked = self._validate_with_hint(f, value, state)
            except InvalidValue as exc:
                city = addresses.city_hint(str(value)) if f.type == "address" else None
                if city and f.name not in state.fields:
                    state.hints[f.name] = city
                    continue
                problems.append(f.name)
                wrong.append(
                    self._t(
                        state,
                        WRONG,
                        label=self._label(state, f),
                        reason=exc.text.get(state.lang, state.easy),
                    )
                )
                continue
            state.fields[f.name] = checked.value
            if f.name in state.skipped:
                state.skipped.remove(f.name)
            if checked.warnings:
                state.warnings[f.name] = [
                    {k: v for k, v in asdict(w).items() if v is not None} for w in checked.warnings
                ]
            else:
                state.warnings.pop(f.name, None)
            state.hints.pop(f.name, None)
            state.last_filled = f.name
            noted.append(describe(f, checked.value, state.lang))
        self._city_hint(form, state, reading, parts)
        if (
            "move_date" in form.by_name
            and "move_date" not in state.fields
            and re.search(r"지난\s*주|저번\s*주|last week", reading.text, re.I)
            and not any(v.field == "move_date" for v in reading.values)
        ):
            state.hints["move_date"] = "last-week"
        # Fields whose condition no longer holds leave the form.
        for f in form.fields:
            if f.name in state.fields and not f.applies(state.fields):
                del state.fields[f.name]
                state.warnings.pop(f.name, None)
        for w in form_warnings(form, state.fields, state.day):
            state.warnings["_form"] = [{k: v for k, v in asdict(w).items() if v is not None}]
        if noted:
            parts.append(self._t(state, NOTED, items=", ".join(noted)))
        for warning_field in {v.field for v in reading.values} & set(state.warnings):
            parts.extend(
                Text(**w).get(state.lang, state.easy) for w in state.warnings[warning_field]
            )
        parts.extend(wrong)
        return problems

    def _city_hint(
        self, form: Form, state: DialogueState, reading: Reading, parts: list[str]
    ) -> None:
        """A city or county said without a road ("지난주 수원으로 이사했어요") is kept for the
        address asked later: its question names the city, and an answer without one gets it."""
        if any(
            form.field(v.field).type == "address" for v in reading.values if v.field in form.by_name
        ):
            return
        city = addresses.city_hint(reading.text)
        if city is None:
            return
        open_fields = [
            f
            for f in form.fields
            if f.type == "address"
            and f.name not in state.fields
            and f.name not in state.hints
            and f.applies(state.fields)
        ]
        if not open_fields:
            return
        target = open_fields[0]
        if form.id == "move-in-report":
            came_from = re.search(r"에서\s*(?:이사|왔)|\bfrom\b", reading.text, re.I)
            name = "previous_address" if came_from else "new_address"
            target = form.by_name[name] if form.by_name[name] in open_fields else target
        state.hints[target.name] = city
        parts.append(self._t(state, HINT_ADDRESS, field=self._label(state, target), city=city))

    def _validate_with_hint(self, f: FormField, value: Any, state: DialogueState) -> Any:
        try:
            return validate(f, value, state.day)
        except InvalidValue:
            hint = state.hints.get(f.name)
            if f.type == "address" and hint and isinstance(value, str):
                return validate(f, f"{hint} {value}", state.day)
            raise

    def _next(
        self, form: Form, state: DialogueState, parts: list[str], problems: list[str]
    ) -> tuple[DialogueState, Reply]:
        if problems:
            f = form.field(problems[0])
            state.pending = f.name
            state.status = "collecting"
            parts.append(self.question(form, f, state))
            return state, Reply(" ".join(parts), f.name, tuple(problems))
        nxt = self.next_field(form, state)
        if nxt is not None:
            state.pending = nxt.name
            state.status = "collecting"
            parts.append(self.question(form, nxt, state))
            return state, Reply(" ".join(parts), nxt.name)
        state.pending = None
        state.status = "confirming"
        parts.append(self.summary(form, state))
        return state, Reply(" ".join(parts), None)

    def _confirm(self, form: Form, state: DialogueState) -> tuple[DialogueState, Reply]:
        state.status = "confirmed"
        state.pending = None
        things = [
            t.get(state.lang, state.easy).rstrip(".") for t in (*form.attachments, *form.in_person)
        ]
        steps = self._t(state, NEXT_STEPS, items=" / ".join(things)) if things else ""
        text = self._t(state, CONFIRMED, fee=form.fee.get(state.lang), steps=steps)
        return state, Reply(text, None)
