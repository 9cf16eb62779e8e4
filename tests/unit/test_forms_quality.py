"""The hand-written dialogues stay understood: a regression guard over the three sets (the
figures themselves, and how each was measured, are in docs/BENCHMARKS.md)."""

from __future__ import annotations

from pathlib import Path

import pytest

from gyeonggi.forms.engine import load_engine
from gyeonggi_tools.forms.evaluation import evaluate_file
from tests.conftest import ROOT

DATA = ROOT / "tests" / "data"
MODEL_DIR = ROOT / "functions" / "forms_dialogue" / "model"


@pytest.mark.parametrize(
    ("name", "whole"),
    [
        # Corrected against: all right when this was written.
        ("forms_dev_dialogues.jsonl", 0.97),
        # Read after its first run (0.797); 0.942 when this was written.
        ("forms_test_dialogues.jsonl", 0.90),
        # Never corrected against: 0.857 on its only run; the goal is 0.80.
        ("forms_fresh_dialogues.jsonl", 0.80),
    ],
)
def test_hand_written_dialogues_meet_the_goals(name: str, whole: float) -> None:
    report = evaluate_file(load_engine(MODEL_DIR), Path(DATA / name))
    assert report["form_accuracy"] >= 0.95, report
    assert report["slot_f1"] >= 0.90, report
    assert report["whole_dialogue"] >= whole, report
