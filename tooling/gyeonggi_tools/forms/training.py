"""Training and export of the form classifier and the slot tagger (development machines only).

Imports scikit-learn (the classifier) and python-crfsuite (the tagger); no Lambda function
imports either. Both are trained on :mod:`.corpus`'s generated dialogues and exported as JSON
documents that :mod:`gyeonggi.forms.models` reads in pure Python. The features of the tagger are
:mod:`gyeonggi.forms.features`' own, so training and run time cannot disagree.
"""

from __future__ import annotations

import json
import tempfile
import unicodedata
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any

from gyeonggi.forms.catalogue import catalogue
from gyeonggi.forms.features import sequence_features, tokenize
from gyeonggi.forms.models import CLASSIFIER_FORMAT, TAGGER_FORMAT, canonical_sha256
from gyeonggi.forms.understanding import exact_spans
from gyeonggi_tools.forms.corpus import Generated, Generator, Turn

WORD_PATTERN = r"(?u)\b\w\w+\b"
CHAR_NGRAMS = (1, 3)
CHAR_FEATURES = 6_000
WORD_FEATURES = 2_000
QUANT_LEVELS = 32_767
#: The day the generated dialogues are set on (relative dates resolve against it).
TRAINING_DAY = date(2026, 12, 7)
DIALOGUES = 2_800
PER_FORM = 260


@dataclass
class Trained:
    classifier: dict[str, Any]
    tagger: dict[str, Any]
    metrics: dict[str, Any]


def labels_for(turn: Turn, today: date) -> tuple[list[list[str]], list[str]]:
    """The tagger's attributes and BIO labels of one generated turn."""
    form = catalogue()[turn.form_id] if turn.form_id else None
    exact = exact_spans(turn.text, today, form)
    tokens = tokenize(turn.text, [(k, s, e) for k, s, e, _ in exact])
    labels: list[str] = []
    for tok in tokens:
        label = "O"
        for slot, s, e in turn.spans:
            if tok.start < e and s < tok.end:
                starts = tok.start <= s or not labels or labels[-1][2:] != slot
                label = ("B-" if starts else "I-") + slot
                break
        labels.append(label)
    context = [f"form={turn.form_id}"] if turn.form_id else []
    if turn.pending:
        context.append(f"pend={turn.pending}")
    return sequence_features(tokens, context, turn.text), labels


def train_classifier(pairs: list[tuple[str, str]], seed: int) -> dict[str, Any]:
    import numpy as np
    from sklearn.feature_extraction.text import TfidfVectorizer
    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import FeatureUnion

    texts = [unicodedata.normalize("NFC", t).lower() for t, _ in pairs]
    labels = [label for _, label in pairs]
    char = TfidfVectorizer(
        analyzer="char_wb",
        ngram_range=CHAR_NGRAMS,
        min_df=2,
        max_features=CHAR_FEATURES,
        sublinear_tf=True,
        lowercase=False,
    )
    word = TfidfVectorizer(
        token_pattern=WORD_PATTERN,
        min_df=2,
        max_features=WORD_FEATURES,
        sublinear_tf=True,
        lowercase=False,
    )
    union = FeatureUnion([("char", char), ("word", word)])
    x = union.fit_transform(texts)
    model = LogisticRegression(C=20.0, max_iter=2000, random_state=seed)
    model.fit(x, labels)
    coef = model.coef_.T  # features x classes
    scale = float(np.abs(coef).max()) / QUANT_LEVELS or 1.0
    quant = np.rint(coef / scale).astype(int).tolist()
    doc: dict[str, Any] = {
        "format": CLASSIFIER_FORMAT,
        "seed": seed,
        "corpus": "generated (tooling/gyeonggi_tools/forms/corpus.py); no citizen's words",
        "classes": [str(c) for c in model.classes_],
        "features": {
            "char": {
                "ngram_range": list(CHAR_NGRAMS),
                "terms": list(char.get_feature_names_out()),
                "idf": [round(float(v), 6) for v in char.idf_],
            },
            "word": {
                "token_pattern": WORD_PATTERN,
                "terms": list(word.get_feature_names_out()),
                "idf": [round(float(v), 6) for v in word.idf_],
            },
        },
        "head": {
            "intercept": [round(float(b), 6) for b in model.intercept_],
            "scale": scale,
            "coef": quant,
        },
    }
    doc["sha256"] = canonical_sha256(doc)
    doc["version"] = "fc1-" + doc["sha256"][:12]
    return doc


def train_tagger(turns: list[Turn], today: date, seed: int) -> dict[str, Any]:
    import pycrfsuite

    trainer = pycrfsuite.Trainer(verbose=False)
    for turn in turns:
        xs, ys = labels_for(turn, today)
        if xs:
            trainer.append(xs, ys)
    trainer.set_params(
        {"c1": 0.02, "c2": 0.01, "max_iterations": 120, "feature.possible_transitions": True}
    )
    with tempfile.TemporaryDirectory() as tmp:
        path = str(Path(tmp) / "tagger.crfsuite")
        trainer.train(path)
        tagger = pycrfsuite.Tagger()
        tagger.open(path)
        info = tagger.info()
        tagger.close()
    labels = sorted(info.labels.keys(), key=lambda lab: (lab != "O", lab))
    index = {lab: i for i, lab in enumerate(labels)}
    transitions = [[0.0] * len(labels) for _ in labels]
    for (a, b), w in info.transitions.items():
        transitions[index[a]][index[b]] = round(float(w), 5)
    state: dict[str, list[list[float]]] = {}
    for (attr, lab), w in info.state_features.items():
        if abs(w) < 1e-4:
            continue
        state.setdefault(attr, []).append([index[lab], round(float(w), 5)])
    doc: dict[str, Any] = {
        "format": TAGGER_FORMAT,
        "seed": seed,
        "corpus": "generated (tooling/gyeonggi_tools/forms/corpus.py); no citizen's words",
        "labels": labels,
        "transitions": transitions,
        "state": dict(sorted(state.items())),
    }
    doc["sha256"] = canonical_sha256(doc)
    doc["version"] = "st1-" + doc["sha256"][:12]
    return doc


def generate(
    seed: int, dialogues: int = DIALOGUES
) -> tuple[list[Generated], list[tuple[str, str]]]:
    gen = Generator(seed, TRAINING_DAY)
    return list(gen.dialogues(dialogues)), gen.classification(PER_FORM)


def train(seed: int, dialogues: int = DIALOGUES) -> Trained:
    """Generate, train both models, and measure them on a second generated set (other seed)."""
    train_dialogues, pairs = generate(seed, dialogues)
    turns = [t for d in train_dialogues for t in d.turns]
    opening_pairs = [(d.turns[0].text, d.form_id or "none") for d in train_dialogues]
    classifier = train_classifier(pairs + opening_pairs, seed)
    tagger = train_tagger(turns, TRAINING_DAY, seed)
    metrics = {
        "seed": seed,
        "dialogues": len(train_dialogues),
        "turns": len(turns),
        "classifier_examples": len(pairs) + len(opening_pairs),
        "tagger_features": len(tagger["state"]),
        "tagger_labels": len(tagger["labels"]),
    }
    return Trained(classifier, tagger, metrics)


def export(trained: Trained, out: Path) -> None:
    out.mkdir(parents=True, exist_ok=True)
    for name, doc in (("classifier.json", trained.classifier), ("tagger.json", trained.tagger)):
        (out / name).write_text(
            json.dumps(doc, ensure_ascii=False, separators=(",", ":")) + "\n", encoding="utf-8"
        )
    (out / "training.json").write_text(
        json.dumps(trained.metrics, indent=2) + "\n", encoding="utf-8"
    )
