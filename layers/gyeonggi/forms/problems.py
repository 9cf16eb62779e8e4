"""What the validators say back: a value's problem or warning, in Korean, easy Korean and
English, so the dialogue can tell the citizen what was wrong in their own language."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from gyeonggi.common.errors import InvalidInput
from gyeonggi.forms.catalogue import Text


class InvalidValue(InvalidInput):
    """A value a form field cannot take; ``text`` says why, in the citizen's words.

    An :class:`~gyeonggi.common.errors.InvalidInput` too, so an entry point that does not
    converse (a batch import, say) maps it to a 400 like any other bad input.
    """

    code = "invalid_value"

    def __init__(self, text: Text, *, field: str | None = None) -> None:
        super().__init__(text.en, field=field)
        self.text = text


def problem(ko: str, en: str, easy: str | None = None, *, field: str | None = None) -> InvalidValue:
    """An :class:`InvalidValue` with its text in each language."""
    return InvalidValue(Text(ko, en, easy), field=field)


@dataclass(frozen=True, slots=True)
class Checked:
    """A valid, normalised value and any warnings a civil servant would want said."""

    value: Any
    warnings: tuple[Text, ...] = ()
