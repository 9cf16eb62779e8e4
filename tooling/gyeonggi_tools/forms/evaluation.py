"""The measures of issue 11, section 6, on a set of dialogues with expected results.

- form accuracy: the dialogue's final ``form_id`` is the expected one;
- slot precision, recall and F1 over the **core** fields (issue 11's table): a core field
  counts as right when the final value equals the expected normalised value; expected core
  fields without a value are misses, values for core fields not expected are false alarms;
- whole dialogues: every field right (all fields, core or not, exactly the expected set) and
  the expected final state;
- the same per form and per language.

A set is JSON lines: ``{"id", "lang", "turns", "today"?, "expected": {"form_id", "fields",
"state"}}``.
"""

from __future__ import annotations

import json
from collections import defaultdict
from datetime import date
from pathlib import Path
from typing import Any, TextIO

from gyeonggi.forms.catalogue import catalogue
from gyeonggi.forms.dialogue import Dialogue
from gyeonggi_tools.forms.converse import converse


def score(results: list[tuple[dict[str, Any], dict[str, Any], dict[str, Any]]]) -> dict[str, Any]:
    """Measures over ``(item, expected, got)`` triples."""
    cat = catalogue()
    tp = fp = fn = 0
    forms_right = whole = states = 0
    per_form: dict[str, list[int]] = defaultdict(lambda: [0, 0])
    per_lang: dict[str, list[int]] = defaultdict(lambda: [0, 0])
    for item, expected, got in results:
        exp_form = expected.get("form_id")
        form_ok = got["form_id"] == exp_form
        forms_right += form_ok
        core = set(cat[str(exp_form)].core_fields) if exp_form in cat else set()
        exp_fields = expected.get("fields", {})
        got_fields = got["fields"] if form_ok else {}
        for name in core:
            e, g = exp_fields.get(name), got_fields.get(name)
            if e is not None and g == e:
                tp += 1
            else:
                if e is not None:
                    fn += 1
                if g is not None:
                    fp += 1
        ok = form_ok and got["fields"] == exp_fields and got["state"] == expected.get("state")
        whole += ok
        states += got["state"] == expected.get("state")
        per_form[str(exp_form)][0] += ok
        per_form[str(exp_form)][1] += 1
        per_lang[str(item.get("lang"))][0] += ok
        per_lang[str(item.get("lang"))][1] += 1
    n = len(results) or 1
    precision = tp / (tp + fp) if tp + fp else 0.0
    recall = tp / (tp + fn) if tp + fn else 0.0
    f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
    return {
        "dialogues": len(results),
        "form_accuracy": round(forms_right / n, 4),
        "slot_precision": round(precision, 4),
        "slot_recall": round(recall, 4),
        "slot_f1": round(f1, 4),
        "whole_dialogue": round(whole / n, 4),
        "state_accuracy": round(states / n, 4),
        "whole_by_form": {k: f"{v[0]}/{v[1]}" for k, v in sorted(per_form.items())},
        "whole_by_lang": {k: f"{v[0]}/{v[1]}" for k, v in sorted(per_lang.items())},
    }


def evaluate_file(
    engine: Dialogue, path: Path, today: str | None = None, errors: TextIO | None = None
) -> dict[str, Any]:
    """Run every dialogue of the set at ``path`` and score it."""
    results = []
    for line in path.read_text(encoding="utf-8").splitlines():
        if not line.strip():
            continue
        item = json.loads(line)
        day = date.fromisoformat(today or item.get("today") or "2026-12-07")
        got = converse(engine, item, day)
        expected = item["expected"]
        results.append((item, expected, got))
        if errors is not None and not (
            got["form_id"] == expected.get("form_id")
            and got["fields"] == expected.get("fields")
            and got["state"] == expected.get("state")
        ):
            diff = {
                k: {"expected": expected.get("fields", {}).get(k), "got": got["fields"].get(k)}
                for k in set(expected.get("fields", {})) | set(got["fields"])
                if expected.get("fields", {}).get(k) != got["fields"].get(k)
            }
            errors.write(
                json.dumps(
                    {
                        "id": item["id"],
                        "form": [expected.get("form_id"), got["form_id"]],
                        "state": [expected.get("state"), got["state"]],
                        "diff": diff,
                        "replies": got["replies"],
                    },
                    ensure_ascii=False,
                )
                + "\n"
            )
    return score(results)
