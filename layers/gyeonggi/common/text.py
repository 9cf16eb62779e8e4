"""Free text from citizens and officials: something a person can read, and nothing that is not
text.

A name or description made only of zero-width spaces, format characters, Hangul fillers or
spaces is empty, whatever its length: ``str.strip()`` removes none of the first three. Control
characters (other than line breaks where text may span lines) and lone surrogates are not text:
XML cannot carry the first, UTF-8 cannot encode the second (a queue or a table write would fail
on it long after the 201).
"""

from __future__ import annotations

import unicodedata

# Unicode categories drawn as nothing by themselves: controls, format characters (zero-width
# space and joiners, bidirectional marks, the BOM), surrogates, private use and unassigned code
# points, separators, and combining marks with no base.
_INVISIBLE_CATEGORIES = frozenset({"Cc", "Cf", "Cs", "Co", "Cn", "Zs", "Zl", "Zp", "Mn", "Me"})
# Letters by category that show as blanks: the Hangul fillers (a known way to post a "blank"
# Korean name) and the blank braille pattern.
_BLANK_LETTERS = frozenset("\u115f\u1160\u3164\uffa0\u2800")
_LINE_BREAKS = frozenset("\t\n\r")


def is_visible(char: str) -> bool:
    """Whether one character shows as something on its own."""
    return char not in _BLANK_LETTERS and unicodedata.category(char) not in _INVISIBLE_CATEGORIES


def has_visible(value: str) -> bool:
    """Whether ``value`` has at least one character a reader sees."""
    return any(is_visible(c) for c in value)


def check_text(value: str, *, multiline: bool = False) -> str:
    """``value`` itself, if it is readable text.

    Parameters
    ----------
    value
        The text as received (already stripped of surrounding whitespace, where the model does).
    multiline
        Whether tabs and line breaks belong in it (a description, a note), or not (a name).

    Raises
    ------
    ValueError
        With what is wrong (pydantic reports it under the field's name): a control character,
        a lone surrogate, or no visible character at all.
    """
    for char in value:
        category = unicodedata.category(char)
        if category == "Cs":
            raise ValueError(f"holds U+{ord(char):04X}, a lone surrogate, which is not text")
        if category == "Cc" and not (multiline and char in _LINE_BREAKS):
            raise ValueError(f"holds the control character U+{ord(char):04X}")
    if not has_visible(value):
        raise ValueError(
            "has no visible character (only spaces, zero-width or formatting characters)"
        )
    return value


def single_line(value: str) -> str:
    """:func:`check_text` for a one-line field (a name, an id)."""
    return check_text(value)


def multi_line(value: str) -> str:
    """:func:`check_text` for a field that may span lines (a description, a note)."""
    return check_text(value, multiline=True)


def all_visible(value: str) -> str:
    """``value`` itself if every character of it shows: an address (e-mail, URL) has no
    spaces, zero-width or control characters, and one that does is a typo or a spoof.

    Raises
    ------
    ValueError
        Naming the first character that does not show.
    """
    for char in value:
        if not is_visible(char):
            raise ValueError(f"holds U+{ord(char):04X}, which does not show")
    return value
