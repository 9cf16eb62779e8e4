"""Tokens and features of an utterance for the slot tagger, the same in training and at run
time (the tools import this module; the tagger's weights are only as good as this agreement).

Korean attaches particles and endings to words ("수원으로", "김하늘이에요"), so a Hangul word is
tagged syllable by syllable, and a slot ends wherever the name or place ends inside it. Latin
words and runs of digits are one token each. Values the exact readers found first (resident
registration numbers, phone numbers, account numbers, dates, counts) are one placeholder token
each (``<RRN>``, ``<PHONE>``, ...): the tagger decides whose they are (the applicant's or the
buyer's), never what they are.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass

#: Placeholder kinds, in the order the exact readers claim text (an earlier one wins).
PLACEHOLDERS = ("RRN", "PHONE", "ACCOUNT", "DATE", "COUNT")

# Latin words with their accented letters ("Müller", "Nguyễn" is split at the combining
# marks NFC cannot join, which is rare in names typed here).
_LATIN = "A-Za-zÀ-ÖØ-öø-ÿĀ-ž"
_TOKEN = re.compile(rf"[가-힣]|[{_LATIN}]+(?:'[{_LATIN}]+)?|[0-9]+|[^\s]")
_SURNAMES = frozenset(
    "김이박최정강조윤장임한오서신권황안송류전홍고문양손배백허유남심노하곽성차주우구민진나지엄채원천방공현함변염여추도소석선설마길연위표명기반왕금옥육인맹제모탁국어은편용예봉경사부가복태목형피두감음빈동온호범좌팽승간상갈단견당"
)
_REGION_END = frozenset("시군구도읍면동리")
# Words that say whose a value is, or what it is: the tagger sees the nearest ones on each side
# of a token (a role word is often several syllables away from the value it names).
_CUES: tuple[tuple[str, re.Pattern[str]], ...] = tuple(
    (name, re.compile(pattern, re.I))
    for name, pattern in (
        (
            "prev",
            r"전\s*주소|이전|예전|원래|살던|전에는|에서\s*이사|에서\s*왔|\bfrom\b|previous|\bold\b|"
            r"used to|before|earlier|formerly",
        ),
        (
            "new",
            r"새\s*주소|새로|새\s*집|이사\s*온|이사\s*간|으로\s*이사|로\s*이사|들어온|이사한\s*곳|"
            r"moved to|moving to|\bnew\b|\bnow\b",
        ),
        (
            "other",
            r"매수|사는\s*(?:분|사람)|구매자|배우자|남편|아내|부인|집사람|바깥양반|보호자|세대주|대상자|"
            r"아버지|어머니|아빠|엄마|아들|딸|buyer|purchaser|spouse|wife|husband|guardian|"
            r"head of|householder|\bhead\b|father|mother|\bson\b|daughter|the person",
        ),
        (
            "self",
            r"(?<![가-힣])제(?:\s|가|$)|저는|저의|본인|신청인|신고인|\bmy name\b|\bi'?m\b|\bi am\b|"
            r"\bme\b|applicant",
        ),
        ("phone", r"전화|연락|휴대|핸드폰|phone|call|reach|mobile|contact"),
        ("rrn", r"주민|등록\s*번호|registration|\brrn\b|resident number"),
        ("account", r"계좌|통장|account"),
        ("name", r"이름|성함|\bname"),
        ("addr", r"주소|살아|살고|거주|address|\blives?\b|\bat\b"),
        ("building", r"건물|building"),
        ("date", r"이사한\s*날|날짜|언제|moved in|\bon\b"),
    )
)
_ROAD_END = ("로", "길")


@dataclass(frozen=True, slots=True)
class Token:
    """One token: its text, where it is in the utterance, and its kind."""

    text: str
    start: int
    end: int
    kind: str  # "hangul", "latin", "digit", "punct", or a placeholder kind
    space_before: bool
    word: str  # the whitespace-delimited word the token is part of
    word_pos: str  # "S" (the whole word), "B", "I" or "E" of the word


def normalise(text: str) -> str:
    """NFC, full-width forms folded (NFKC on ASCII look-alikes), one space between words."""
    text = unicodedata.normalize("NFC", text)
    text = "".join(
        unicodedata.normalize("NFKC", c) if "\uff01" <= c <= "\uff5e" else c for c in text
    )
    return re.sub(r"\s+", " ", text).strip()


def tokenize(text: str, spans: Sequence[tuple[str, int, int]] = ()) -> list[Token]:
    """Tokens of ``text``; each ``(kind, start, end)`` in ``spans`` becomes one token."""
    claimed = sorted(spans, key=lambda s: s[1])
    raw: list[tuple[str, int, int, str]] = []
    pos = 0
    for kind, start, end in claimed:
        raw.extend(_plain(text, pos, start))
        raw.append((f"<{kind}>", start, end, kind))
        pos = end
    raw.extend(_plain(text, pos, len(text)))
    tokens: list[Token] = []
    # Whitespace words, to know each token's place in its word.
    words = [(m.start(), m.end()) for m in re.finditer(r"\S+", text)]
    for i, (tok, start, end, kind) in enumerate(raw):
        w = next(((s, e) for s, e in words if s <= start < e), (start, end))
        same = [r for r in raw if w[0] <= r[1] < w[1]]
        if len(same) <= 1:
            place = "S"
        elif same[0][1] == start:
            place = "B"
        elif same[-1][1] == start:
            place = "E"
        else:
            place = "I"
        before = start > 0 and text[start - 1].isspace()
        if i == 0:
            before = True
        tokens.append(Token(tok, start, end, kind, before, text[w[0] : w[1]], place))
    return tokens


def _plain(text: str, start: int, end: int) -> list[tuple[str, int, int, str]]:
    out = []
    for m in _TOKEN.finditer(text, start, end):
        t = m.group(0)
        if "가" <= t <= "힣":
            kind = "hangul"
        elif t[0].isalpha() and not ("가" <= t[0] <= "힣"):
            kind = "latin"
        elif t.isdigit():
            kind = "digit"
        else:
            kind = "punct"
        out.append((t, m.start(), m.end(), kind))
    return out


def _shape(tok: Token) -> str:
    if tok.kind == "digit":
        return f"d{min(len(tok.text), 5)}"
    if tok.kind == "latin":
        if tok.text[0].isupper():
            return "Xx" if not tok.text.isupper() else "XX"
        return "x"
    return tok.kind


def _norm(tok: Token) -> str:
    return tok.text.lower() if tok.kind == "latin" else tok.text


def token_features(tokens: Sequence[Token], i: int, context: Sequence[str] = ()) -> list[str]:
    """The CRF's attributes of token ``i``: the token, its neighbours, its word, its shape,
    and the conversation's context (the form and the field just asked, e.g. ``pend=name.self``).
    """
    tok = tokens[i]
    w = _norm(tok)
    f = [
        "b",
        f"w={w}",
        f"k={tok.kind}",
        f"s={_shape(tok)}",
        f"p={tok.word_pos}",
        f"sp={int(tok.space_before)}",
    ]
    if tok.kind == "hangul":
        word = tok.word
        f.append(f"ws={word[-2:]}")
        f.append(f"wp={word[:2]}")
        if tok.word_pos in ("S", "B") and tok.text in _SURNAMES:
            f.append("surname")
        if word[-1:] in _REGION_END:
            f.append("wregion")
        if any(re.search(rf"[가-힣]{r}(?:[0-9]+번?길)?$", word) for r in _ROAD_END):
            f.append("wroad")
        if re.search(r"(?:동|호|층)$", word) and any(c.isdigit() for c in word):
            f.append("wunit")
    for off in (-3, -2, -1, 1, 2, 3):
        j = i + off
        if 0 <= j < len(tokens):
            f.append(f"w{off:+d}={_norm(tokens[j])}")
            if abs(off) == 1:
                f.append(f"k{off:+d}={tokens[j].kind}")
        else:
            f.append(f"w{off:+d}=<edge>")
    if i > 0:
        f.append(f"w-1|w={_norm(tokens[i - 1])}|{w}")
    if i + 1 < len(tokens):
        f.append(f"w|w+1={w}|{_norm(tokens[i + 1])}")
    if i > 1:
        f.append(f"w-2|w-1={_norm(tokens[i - 2])}|{_norm(tokens[i - 1])}")
    if i + 2 < len(tokens):
        f.append(f"w+1|w+2={_norm(tokens[i + 1])}|{_norm(tokens[i + 2])}")
    for c in context:
        f.append(c)
        f.append(f"{c}|k={tok.kind}")
        if tok.kind not in ("hangul", "latin", "digit", "punct"):
            f.append(f"{c}|w={w}")
    return f


def cues(text: str) -> list[tuple[int, int, str]]:
    """The cue words of ``text``: ``(start, end, category)``, left to right."""
    found = [(m.start(), m.end(), name) for name, p in _CUES for m in p.finditer(text)]
    return sorted(found)


def sequence_features(
    tokens: Sequence[Token], context: Sequence[str] = (), text: str | None = None
) -> list[list[str]]:
    """:func:`token_features` of every token, with the nearest cue words on each side when
    the utterance's ``text`` is given."""
    rows = [token_features(tokens, i, context) for i in range(len(tokens))]
    if text is None:
        return rows
    found = cues(text)
    categories = {c for _, _, c in found}
    for tok, row in zip(tokens, rows, strict=True):
        left = [c for s, e, c in reversed(found) if e <= tok.start]
        left = list(dict.fromkeys(left))[:2]
        right = next((c for s, _, c in found if s >= tok.end), None)
        for k, c in enumerate(left):
            row.append(f"lc{k}={c}")
            row.append(f"lc{k}={c}|k={tok.kind}")
        if len(left) == 2:
            row.append(f"lc01={left[0]}|{left[1]}")
        if right:
            row.append(f"rc={right}")
            row.append(f"rc={right}|k={tok.kind}")
        if left and right:
            row.append(f"lr={left[0]}|{right}")
        for c in ("other", "prev", "new"):
            if c in categories:
                row.append(f"has={c}")
    return rows


def spans_from_tags(tokens: Sequence[Token], tags: Sequence[str]) -> list[tuple[str, int, int]]:
    """``(slot, start, end)`` of each B-/I- run of tags (character offsets in the text)."""
    spans: list[tuple[str, int, int]] = []
    current: list[object] | None = None
    for tok, tag in zip(tokens, tags, strict=True):
        if tag.startswith("B-") or (
            tag.startswith("I-") and (current is None or current[0] != tag[2:])
        ):
            if current:
                spans.append((str(current[0]), int(str(current[1])), int(str(current[2]))))
            current = [tag[2:], tok.start, tok.end]
        elif tag.startswith("I-") and current is not None:
            current[2] = tok.end
        else:
            if current:
                spans.append((str(current[0]), int(str(current[1])), int(str(current[2]))))
            current = None
    if current:
        spans.append((str(current[0]), int(str(current[1])), int(str(current[2]))))
    return spans
