"""``gyeonggi forms converse``: exactly the interface outside tests use (issue 11, section 3)."""

from __future__ import annotations

import io
import json
import subprocess
import sys

import pytest

from gyeonggi_tools.cli import main
from tests.conftest import ROOT

KEYS = ["id", "form_id", "fields", "missing", "state", "replies"]


def _converse(lines: str, monkeypatch: pytest.MonkeyPatch, *args: str) -> tuple[int, list[dict]]:
    out = io.StringIO()
    monkeypatch.setattr(sys, "stdin", io.StringIO(lines))
    monkeypatch.setattr(sys, "stdout", out)
    monkeypatch.chdir(ROOT)
    status = main(["forms", "converse", "--today", "2026-12-07", *args])
    return status, [json.loads(line) for line in out.getvalue().splitlines()]


def test_one_line_in_one_line_out_with_exactly_the_documented_keys(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    dialogues = [
        {
            "id": "a",
            "lang": "ko",
            "turns": ["초본 두 통이요", "정하늘", "011130-3456782", "네", "은행에 낼 거예요", "네"],
        },
        {"id": 7, "lang": "en", "turns": ["I need a seal certificate", "Park Jisoo"]},
        {"id": "c", "lang": "ko", "turns": []},
    ]
    status, out = _converse(
        "\n".join(json.dumps(d, ensure_ascii=False) for d in dialogues), monkeypatch
    )
    assert status == 0
    assert [list(o) for o in out] == [KEYS, KEYS, KEYS]
    first, second, third = out
    assert first == {
        "id": "a",
        "form_id": "resident-registration-copy",
        "fields": {
            "document_kind": "abstract",
            "copies": 2,
            "applicant_name": "정하늘",
            "applicant_rrn": "011130-3456782",
            "include_address_history": True,
            "purpose": "bank",
        },
        "missing": [],
        "state": "confirmed",
        "replies": first["replies"],
    }
    assert len(first["replies"]) == 6 and all(isinstance(r, str) for r in first["replies"])
    assert "011130-3******" in first["replies"][2]  # masked in replies, never in fields
    assert not any("3456782" in r for r in first["replies"])
    assert second["id"] == 7 and second["state"] == "collecting"
    assert second["missing"] == ["applicant_rrn", "purpose_kind"]
    assert third == {
        "id": "c",
        "form_id": None,
        "fields": {},
        "missing": [],
        "state": "collecting",
        "replies": [],
    }


def test_a_bad_line_is_reported_and_the_rest_still_answered(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    lines = "\n".join(
        [
            '{"id": 1, "turns": "not a list"}',
            "not json",
            '{"id": 2, "lang": "fr", "turns": []}',
            '{"id": 3, "lang": "en", "turns": ["cancel"]}',
        ]
    )
    status, out = _converse(lines, monkeypatch)
    assert status == 1
    assert [o.get("line") for o in out[:3]] == [1, 2, 3] and all("error" in o for o in out[:3])
    assert out[3]["id"] == 3 and out[3]["state"] == "cancelled"


def test_the_console_script_runs_the_same_engine() -> None:
    line = json.dumps({"id": "x", "lang": "ko", "turns": ["인감증명서요", "취소할게요"]})
    proc = subprocess.run(
        [sys.executable, "-m", "gyeonggi_tools", "forms", "converse", "--today", "2026-12-07"],
        input=line,
        capture_output=True,
        text=True,
        timeout=60,
        cwd=ROOT,
        check=True,
    )
    result = json.loads(proc.stdout)
    assert result["form_id"] == "seal-certificate" and result["state"] == "cancelled"
    assert result["fields"] == {}
