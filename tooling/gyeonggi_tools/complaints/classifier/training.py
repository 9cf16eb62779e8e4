"""Training and export of the complaint classifier (development machines only).

This module imports scikit-learn; no Lambda function imports it. It generates the corpus
(``corpus.generate``: synthetic texts, see that module), splits it (stratified, seeded), fits
two scikit-learn pipelines that share one featurisation -- character n-grams (1-4,
``analyzer="char_wb"``) and words, both TF-IDF with sublinear term frequency and L2-normalised
separately -- with a multinomial logistic regression on top (one for ``service_code``, one for
urgency), reports macro-F1 and per-class F1 on the held-out split, and exports what the pure
Python runtime (``gyeonggi.complaints.classifier.model``) needs into one JSON document.
"""

from __future__ import annotations

import hashlib
import json
import sys
import unicodedata
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import f1_score
from sklearn.model_selection import train_test_split
from sklearn.pipeline import FeatureUnion, Pipeline

from gyeonggi.complaints.services import SERVICES
from gyeonggi_tools.complaints.classifier import corpus

FORMAT = "gyeonggi-complaint-classifier/1"
WORD_PATTERN = r"(?u)\b\w\w+\b"
CHAR_NGRAMS = (1, 4)
# Vocabulary caps keep model.json around 1-2 MB: coefficients dominate (19 per feature).
CHAR_FEATURES = 12_000
WORD_FEATURES = 3_000
QUANT_LEVELS = 32_767  # int16-like levels per head; keeps logits within ~1e-4 of scikit-learn
PER_SERVICE = 240
TEST_SIZE = 0.25


@dataclass
class Trained:
    """The fitted pipelines and the data they were fitted and judged on."""

    service: Pipeline
    urgency: Pipeline
    train_texts: list[str]
    test_texts: list[str]
    test_services: list[str]
    test_urgencies: list[str]
    seed: int


def normalise(text: str) -> str:
    """NFC, as the runtime does: a decomposed Hangul syllable must count as the same one."""
    return unicodedata.normalize("NFC", text)


def featurizer() -> FeatureUnion:
    """The shared featurisation (unfitted)."""
    chars = TfidfVectorizer(
        analyzer="char_wb",
        ngram_range=CHAR_NGRAMS,
        lowercase=True,
        sublinear_tf=True,
        min_df=2,
        max_features=CHAR_FEATURES,
        dtype=np.float64,
    )
    words = TfidfVectorizer(
        analyzer="word",
        token_pattern=WORD_PATTERN,
        lowercase=True,
        sublinear_tf=True,
        min_df=2,
        max_features=WORD_FEATURES,
        dtype=np.float64,
    )
    return FeatureUnion([("char", chars), ("word", words)])


def train(seed: int, per_service: int = PER_SERVICE) -> Trained:
    """Generate the corpus, split it and fit both pipelines.

    Parameters
    ----------
    seed
        Seeds the corpus, the split and the solvers: equal seeds give equal models.
    per_service
        Generated examples per service code.
    """
    examples = corpus.generate(seed=seed, per_service=per_service)
    texts = [normalise(e.text) for e in examples]
    strata = [f"{e.service_code}|{e.urgency}" for e in examples]
    train_idx, test_idx = train_test_split(
        list(range(len(examples))), test_size=TEST_SIZE, random_state=seed, stratify=strata
    )
    train_texts = [texts[i] for i in train_idx]
    features = featurizer().fit(train_texts)
    x_train = features.transform(train_texts)

    heads = {}
    for name, label in (("service", "service_code"), ("urgency", "urgency")):
        y = [getattr(examples[i], label) for i in train_idx]
        clf = LogisticRegression(C=20.0, max_iter=3000, random_state=seed)
        clf.fit(x_train, y)
        heads[name] = Pipeline([("features", features), ("clf", clf)])
    return Trained(
        service=heads["service"],
        urgency=heads["urgency"],
        train_texts=train_texts,
        test_texts=[texts[i] for i in test_idx],
        test_services=[examples[i].service_code for i in test_idx],
        test_urgencies=[examples[i].urgency for i in test_idx],
        seed=seed,
    )


def evaluate(trained: Trained) -> dict[str, Any]:
    """Macro-F1, accuracy and per-class F1 of both heads on the held-out split."""
    report: dict[str, Any] = {
        "held_out": len(trained.test_texts),
        "train": len(trained.train_texts),
    }
    for name, pipeline, truth in (
        ("service", trained.service, trained.test_services),
        ("urgency", trained.urgency, trained.test_urgencies),
    ):
        predicted = list(pipeline.predict(trained.test_texts))
        classes = [str(c) for c in pipeline.classes_]
        per_class = f1_score(truth, predicted, labels=classes, average=None)
        report[name] = {
            "macro_f1": round(float(f1_score(truth, predicted, average="macro")), 4),
            "accuracy": round(
                sum(p == t for p, t in zip(predicted, truth, strict=True)) / len(truth), 4
            ),
            "per_class_f1": {
                c: round(float(f), 4) for c, f in zip(classes, per_class, strict=True)
            },
        }
    return report


def _head(pipeline: Pipeline) -> dict[str, Any]:
    clf = pipeline.named_steps["clf"]
    coef = clf.coef_  # (classes, features)
    scale = float(abs(coef).max()) / QUANT_LEVELS or 1.0
    quantised = (coef / scale).round().astype(int).T.tolist()  # feature-major for sparse dots
    return {
        "classes": [str(c) for c in clf.classes_],
        "intercept": [round(float(b), 8) for b in clf.intercept_],
        "scale": scale,
        "coef": quantised,
    }


def export(trained: Trained) -> dict[str, Any]:
    """The runtime model as a JSON-ready dict, with its ``version`` and ``sha256``."""
    union = trained.service.named_steps["features"]
    chars, words = union.transformer_list[0][1], union.transformer_list[1][1]

    def vocabulary(vectorizer: TfidfVectorizer) -> dict[str, Any]:
        terms = sorted(vectorizer.vocabulary_, key=vectorizer.vocabulary_.__getitem__)
        return {"terms": terms, "idf": [round(float(v), 8) for v in vectorizer.idf_]}

    body: dict[str, Any] = {
        "format": FORMAT,
        "seed": trained.seed,
        # Part of the hashed body: the corpus's module path when the committed model was
        # trained, kept as it was so that retraining still reproduces that model's version.
        "corpus": "generated (gyeonggi.complaints.classifier.corpus), not real complaints",
        "features": {
            "normalisation": "NFC, then lower()",
            "char": {"analyzer": "char_wb", "ngram_range": list(CHAR_NGRAMS), **vocabulary(chars)},
            "word": {"token_pattern": WORD_PATTERN, **vocabulary(words)},
            "sublinear_tf": True,
            "norm": "l2 per block",
        },
        "heads": {"service": _head(trained.service), "urgency": _head(trained.urgency)},
        "departments": {s.code: s.department for s in SERVICES},
    }
    digest = hashlib.sha256(_canonical(body)).hexdigest()
    # The version names the content, so retraining with the same seed reproduces it exactly.
    return {"version": f"cc1-{digest[:12]}", "sha256": digest, **body}


def _canonical(document: dict[str, Any]) -> bytes:
    return json.dumps(document, ensure_ascii=False, sort_keys=True, separators=(",", ":")).encode()


def cli_train(out_dir: Path, seed: int) -> int:
    """``gyeonggi complaints train``: write ``model.json`` and ``metrics.json`` to ``out_dir``.

    Parameters
    ----------
    out_dir
        Directory for the exported model and its metrics (created if missing).
    seed
        Seed of corpus, split and solvers.

    Returns
    -------
    int
        The exit status (0).
    """
    trained = train(seed)
    metrics = evaluate(trained)
    model = export(trained)
    out_dir.mkdir(parents=True, exist_ok=True)
    raw = json.dumps(model, ensure_ascii=False, separators=(",", ":")).encode()
    (out_dir / "model.json").write_bytes(raw)
    metrics.update(
        {
            "version": model["version"],
            "model_sha256": hashlib.sha256(raw).hexdigest(),
            "model_bytes": len(raw),
            "seed": seed,
            "corpus": "generated by gyeonggi.complaints.classifier.corpus (synthetic)",
        }
    )
    (out_dir / "metrics.json").write_text(
        json.dumps(metrics, ensure_ascii=False, indent=2, sort_keys=True) + "\n", encoding="utf-8"
    )
    out = sys.stdout
    out.write(f"model {model['version']} -> {out_dir / 'model.json'} ({len(raw) / 1e6:.2f} MB)\n")
    out.write(f"held-out: {metrics['held_out']} of {metrics['held_out'] + metrics['train']}\n")
    for head in ("service", "urgency"):
        m = metrics[head]
        worst = sorted(m["per_class_f1"].items(), key=lambda kv: kv[1])[:3]
        out.write(
            f"{head:8} macro-F1 {m['macro_f1']:.3f}  accuracy {m['accuracy']:.3f}  weakest: "
            + ", ".join(f"{c} {f:.2f}" for c, f in worst)
            + "\n"
        )
    return 0
