"""The exported models at run time agree with the libraries that trained them, and the forms
function imports neither (its cold start stays small)."""

from __future__ import annotations

import json
import random
import subprocess
import sys
from datetime import date
from pathlib import Path

import pytest

from gyeonggi.forms.catalogue import catalogue
from gyeonggi.forms.features import sequence_features, spans_from_tags, tokenize
from gyeonggi.forms.models import FormClassifier, SlotTagger
from gyeonggi_tools.forms.corpus import Generator
from gyeonggi_tools.forms.training import labels_for, train_classifier, train_tagger
from tests.conftest import ROOT

TODAY = date(2026, 12, 7)
MODEL_DIR = ROOT / "functions" / "forms_dialogue" / "model"


def test_viterbi_over_the_export_equals_crfsuite_on_a_small_model(tmp_path: Path) -> None:
    pycrfsuite = pytest.importorskip("pycrfsuite")
    gen = Generator(3, TODAY)
    turns = [t for d in gen.dialogues(60) for t in d.turns]
    export = train_tagger(turns[:300], TODAY, seed=3)
    tagger = SlotTagger(export)
    # The same model through crfsuite's own tagger: train again to a file (deterministic).
    trainer = pycrfsuite.Trainer(verbose=False)
    for turn in turns[:300]:
        xs, ys = labels_for(turn, TODAY)
        if xs:
            trainer.append(xs, ys)
    trainer.set_params(
        {"c1": 0.02, "c2": 0.01, "max_iterations": 120, "feature.possible_transitions": True}
    )
    trainer.train(str(tmp_path / "m.crfsuite"))
    reference = pycrfsuite.Tagger()
    reference.open(str(tmp_path / "m.crfsuite"))
    agree = total = 0
    for turn in turns[300:420]:
        xs, _ = labels_for(turn, TODAY)
        if xs:
            total += 1
            agree += tagger.tag(xs) == reference.tag(xs)
    assert total > 50 and agree == total


def test_the_classifier_export_equals_scikit_learn() -> None:
    pytest.importorskip("sklearn")

    gen = Generator(5, TODAY)
    pairs = gen.classification(30)
    doc = train_classifier(pairs, seed=5)
    model = FormClassifier(doc)
    rng = random.Random(5)
    sample = rng.sample(pairs, 60)
    probs = [model.probabilities(text) for text, _ in sample]
    assert all(abs(sum(p.values()) - 1) < 1e-9 for p in probs)
    right = sum(model.predict(text)[0] == label for text, label in sample)
    assert right >= 57  # its own training data: the export must not lose what it learnt


def test_the_committed_models_load_and_name_their_version() -> None:
    classifier = FormClassifier.load(MODEL_DIR / "classifier.json")
    tagger = SlotTagger.load(MODEL_DIR / "tagger.json")
    assert classifier.version.startswith("fc1-") and tagger.version.startswith("st1-")
    assert set(classifier.classes) == {*catalogue().ids, "none"}
    meta = json.loads((MODEL_DIR / "training.json").read_text(encoding="utf-8"))
    assert meta["dialogues"] >= 1000
    text = "제 이름은 김하늘이고 주민번호는 900101-1234568이에요"
    form = catalogue()["basic-pension"]
    from gyeonggi.forms.understanding import exact_spans

    exact = exact_spans(text, TODAY, form)
    tokens = tokenize(text, [(k, s, e) for k, s, e, _ in exact])
    tags = tagger.tag(sequence_features(tokens, ["form=basic-pension", "pend=name.self"], text))
    spans = spans_from_tags(tokens, tags)
    assert ("name.self", 6, 9) in spans and any(s[0] == "rrn.self" for s in spans)


def test_the_function_imports_neither_scikit_learn_nor_crfsuite_nor_numpy() -> None:
    code = (
        "import sys, json\n"
        "from datetime import date\n"
        "from pathlib import Path\n"
        "from gyeonggi.forms.engine import load_engine\n"
        "from gyeonggi.forms.dialogue import start\n"
        f"e = load_engine(Path({str(MODEL_DIR)!r}))\n"
        "s, r = e.take_turn(start('ko', date(2026, 12, 7)), '전입신고요 010-2345-6789')\n"
        "print(json.dumps(sorted(m for m in sys.modules if m.split('.')[0] in "
        "('numpy', 'sklearn', 'scipy', 'pycrfsuite'))))\n"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=60, check=True
    )
    assert json.loads(out.stdout) == []
