"""The form catalogue: seven petition forms of Korean local administration, read from data.

Each form is one JSON file in ``catalogue/`` beside this module (shipped in the layer as package
data): its fields with labels, questions (plain and "easy Korean"), conditions, choices and
their Korean and English words, a JSON Schema of the completed form, the fee, attachments and
in-person steps. The files are the source of truth; this module only gives them types.
``tests/contract/test_forms_catalogue.py`` validates every file.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path
from typing import Any, Literal

CATALOGUE_DIR = Path(__file__).parent / "catalogue"
FORMAT = "gyeonggi-form/1"

#: The seven forms, in the order the assistant offers them.
FORM_IDS = (
    "resident-registration-copy",
    "move-in-report",
    "family-relation-certificate",
    "building-register-copy",
    "basic-pension",
    "disability-registration",
    "seal-certificate",
)

FieldType = Literal[
    "name", "rrn", "phone", "address", "date", "choice", "count", "boolean", "account", "text"
]
Lang = Literal["ko", "en"]


@dataclass(frozen=True, slots=True)
class Text:
    """One piece of text in Korean and English, and optionally in easy Korean."""

    ko: str
    en: str
    easy_ko: str | None = None

    def get(self, lang: str, easy: bool = False) -> str:
        """The text in ``lang``; easy Korean when asked for and written."""
        if lang == "en":
            return self.en
        return (self.easy_ko or self.ko) if easy else self.ko

    @classmethod
    def of(cls, data: Mapping[str, str]) -> Text:
        return cls(data["ko"], data["en"], data.get("easy_ko"))


@dataclass(frozen=True, slots=True)
class Choice:
    """One allowed value of a choice field: its id and the words that name it."""

    id: str
    label: Text
    synonyms_ko: tuple[str, ...]
    synonyms_en: tuple[str, ...]

    def words(self) -> tuple[str, ...]:
        """Every word or phrase that names this choice, in either language."""
        return (
            self.id,
            self.label.ko,
            self.label.en,
            *self.synonyms_ko,
            *self.synonyms_en,
        )


@dataclass(frozen=True, slots=True)
class Condition:
    """When a conditional field applies: another field equals, differs from, or has a value."""

    field: str
    equals: Any = None
    not_equals: Any = None
    present: bool | None = None

    def holds(self, values: Mapping[str, Any]) -> bool:
        """Whether the condition holds for the values given so far (absent: it does not)."""
        if self.field not in values:
            return False
        value = values[self.field]
        if self.present is not None:
            return self.present
        if self.not_equals is not None:
            return bool(value != self.not_equals)
        return bool(value == self.equals)


@dataclass(frozen=True, slots=True)
class FormField:
    """One field of a form."""

    name: str
    type: FieldType
    core: bool
    required: bool
    label: Text
    question: Text
    slot: str | None = None
    when: Condition | None = None
    ask: bool = True
    choices: tuple[Choice, ...] = ()
    minimum: int | None = None
    maximum: int | None = None
    past: bool = False
    due_days: int | None = None

    def applies(self, values: Mapping[str, Any]) -> bool:
        """Whether the field belongs to the form given the values so far."""
        return self.when is None or self.when.holds(values)

    def needed(self, values: Mapping[str, Any]) -> bool:
        """Whether the form is incomplete without this field."""
        return self.required and self.applies(values)

    def choice(self, choice_id: str) -> Choice | None:
        """The choice with ``choice_id``, if the field has it."""
        return next((c for c in self.choices if c.id == choice_id), None)


@dataclass(frozen=True, slots=True)
class GlossaryEntry:
    """A word a citizen may ask about, and its plain explanation."""

    terms: tuple[str, ...]
    text: Text


@dataclass(frozen=True, slots=True)
class Form:
    """One petition form of the catalogue."""

    id: str
    version: int
    title: Text
    fields: tuple[FormField, ...]
    fee: Text
    fee_krw: int
    attachments: tuple[Text, ...]
    in_person: tuple[Text, ...]
    glossary: tuple[GlossaryEntry, ...]
    aliases_ko: tuple[str, ...]
    aliases_en: tuple[str, ...]
    schema: Mapping[str, Any]
    due_days: int | None = None
    due: Text | None = None
    by_name: Mapping[str, FormField] = field(default_factory=dict, repr=False, compare=False)

    def field(self, name: str) -> FormField:
        """The field called ``name``.

        Raises
        ------
        KeyError
            When the form has no such field.
        """
        return self.by_name[name]

    @property
    def core_fields(self) -> tuple[str, ...]:
        """The names of the fields the issue fixes, in form order."""
        return tuple(f.name for f in self.fields if f.core)

    def missing(self, values: Mapping[str, Any]) -> list[str]:
        """The required fields (given the values so far) still without a value."""
        return [f.name for f in self.fields if f.needed(values) and f.name not in values]


def _text(data: Mapping[str, str]) -> Text:
    return Text.of(data)


def _field(data: Mapping[str, Any]) -> FormField:
    when = data.get("when")
    return FormField(
        name=data["name"],
        type=data["type"],
        core=bool(data["core"]),
        required=bool(data["required"]),
        label=_text(data["label"]),
        question=_text(data["question"]),
        slot=data.get("slot"),
        when=Condition(**when) if when else None,
        ask=bool(data.get("ask", True)),
        choices=tuple(
            Choice(
                c["id"],
                _text(c["label"]),
                tuple(c["synonyms"].get("ko", ())),
                tuple(c["synonyms"].get("en", ())),
            )
            for c in data.get("choices", ())
        ),
        minimum=data.get("minimum"),
        maximum=data.get("maximum"),
        past=bool(data.get("past", False)),
        due_days=data.get("due_days"),
    )


def parse_form(data: Mapping[str, Any]) -> Form:
    """A :class:`Form` from one catalogue document (already validated by the contract test)."""
    fields = tuple(_field(f) for f in data["fields"])
    due = data.get("due")
    return Form(
        id=data["id"],
        version=int(data["version"]),
        title=_text(data["title"]),
        fields=fields,
        fee=_text(data["fee"]["text"]),
        fee_krw=int(data["fee"]["amount_krw"]),
        attachments=tuple(_text(t) for t in data.get("attachments", ())),
        in_person=tuple(_text(t) for t in data.get("in_person", ())),
        glossary=tuple(
            GlossaryEntry(tuple(g["terms"]), _text(g["text"])) for g in data.get("glossary", ())
        ),
        aliases_ko=tuple(data["aliases"]["ko"]),
        aliases_en=tuple(data["aliases"]["en"]),
        schema=data["schema"],
        due_days=due["days"] if due else None,
        due=_text(due["text"]) if due else None,
        by_name={f.name: f for f in fields},
    )


def load_document(form_id: str, directory: Path = CATALOGUE_DIR) -> dict[str, Any]:
    """The raw JSON document of one form."""
    path = directory / f"{form_id}.json"
    data: dict[str, Any] = json.loads(path.read_text(encoding="utf-8"))
    return data


@dataclass(frozen=True, slots=True)
class Catalogue:
    """Every form, by id, in the order they are offered."""

    forms: Mapping[str, Form]

    def __getitem__(self, form_id: str) -> Form:
        return self.forms[form_id]

    def __contains__(self, form_id: object) -> bool:
        return form_id in self.forms

    def __iter__(self) -> Any:
        return iter(self.forms.values())

    @property
    def ids(self) -> tuple[str, ...]:
        return tuple(self.forms)


@cache
def catalogue(directory: Path = CATALOGUE_DIR) -> Catalogue:
    """The catalogue, read once per process (about 130 KB of JSON)."""
    return Catalogue({fid: parse_form(load_document(fid, directory)) for fid in FORM_IDS})
