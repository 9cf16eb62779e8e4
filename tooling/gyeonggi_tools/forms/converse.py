"""``gyeonggi forms converse``: the forms function's dialogue engine over JSON lines, offline.

Input, one JSON object per line: ``{"id": ..., "lang": "ko"|"en", "turns": ["...", ...]}``.
Output, one line per dialogue: ``{"id", "form_id", "fields", "missing", "state", "replies"}``:
the normalised values (section 1 of issue 11), the fields still needed, the dialogue's state
(``collecting``, ``confirming``, ``confirmed``, ``cancelled``) and one reply per turn (resident
registration numbers masked in replies, never in ``fields``). Outside tests use exactly this.
"""

from __future__ import annotations

import json
from datetime import date, datetime
from typing import Any, TextIO

from gyeonggi.common.clock import KST
from gyeonggi.common.privacy import mask_rrns
from gyeonggi.forms.dialogue import Dialogue, start

MAX_TURNS = 200


def today_in_korea() -> date:
    return datetime.now(KST).date()


def converse(
    engine: Dialogue, item: dict[str, Any], today: date, easy: bool = False
) -> dict[str, Any]:
    """One dialogue through the engine: the output line's object."""
    state = start(str(item.get("lang") or "ko"), today, easy)
    replies = []
    for turn in item["turns"][:MAX_TURNS]:
        state, reply = engine.take_turn(state, str(turn))
        replies.append(mask_rrns(reply.text))
    return {
        "id": item.get("id"),
        "form_id": state.form_id,
        "fields": state.fields,
        "missing": engine.missing(state),
        "state": state.status,
        "replies": replies,
    }


def _check(item: Any) -> dict[str, Any]:
    if not isinstance(item, dict):
        raise ValueError("each line must be a JSON object")
    turns = item.get("turns")
    if not isinstance(turns, list) or not all(isinstance(t, str) for t in turns):
        raise ValueError('"turns" must be a list of strings')
    if item.get("lang", "ko") not in ("ko", "en"):
        raise ValueError('"lang" must be "ko" or "en"')
    return item


def converse_lines(
    engine: Dialogue, stdin: TextIO, stdout: TextIO, today: date | None = None, easy: bool = False
) -> int:
    """Every line of ``stdin`` through :func:`converse`; 1 if a line was bad, else 0."""
    status = 0
    day = today or today_in_korea()
    for number, line in enumerate(stdin, start=1):
        if not line.strip():
            continue
        try:
            item = _check(json.loads(line))
        except ValueError as exc:
            stdout.write(json.dumps({"line": number, "error": str(exc)}) + "\n")
            status = 1
            continue
        stdout.write(json.dumps(converse(engine, item, day, easy), ensure_ascii=False) + "\n")
        stdout.flush()
    return status
