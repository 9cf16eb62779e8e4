"""The two trained models at run time, in pure Python: no scikit-learn, no crfsuite.

- :class:`FormClassifier`: which form an utterance asks for (or ``none``). A multinomial
  logistic regression over TF-IDF character n-grams (scikit-learn's ``char_wb``, 1-3) and words,
  trained by ``gyeonggi forms train`` and exported with int16-like quantised weights.
- :class:`SlotTagger`: a linear-chain CRF (trained with python-crfsuite), exported as its state
  and transition weights; decoded here with Viterbi.

Both load from JSON files shipped in the forms function's package (``model/``), once per
execution environment, in tens of milliseconds.
"""

from __future__ import annotations

import hashlib
import json
import math
import re
import unicodedata
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from gyeonggi.complaints.classifier.model import char_wb_ngrams

CLASSIFIER_FORMAT = "gyeonggi-form-classifier/1"
TAGGER_FORMAT = "gyeonggi-slot-tagger/1"
MODEL_ENV = "GYEONGGI_FORMS_MODEL_DIR"
#: Where the models live in a checkout (and, relative to the handler, in the package).
DEFAULT_MODEL_DIR = Path("functions") / "forms_dialogue" / "model"
_WORD = re.compile(r"(?u)\b\w\w+\b")


class ModelError(ValueError):
    """A model file is missing, unreadable or of another format."""


def canonical_sha256(document: dict[str, Any]) -> str:
    """SHA-256 of the canonical JSON of every field but ``sha256`` and ``version``."""
    body = {k: v for k, v in document.items() if k not in ("sha256", "version")}
    return hashlib.sha256(
        json.dumps(body, sort_keys=True, ensure_ascii=False, separators=(",", ":")).encode()
    ).hexdigest()


def _read(path: Path, fmt: str) -> dict[str, Any]:
    try:
        data: dict[str, Any] = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise ModelError(f"cannot read {path}: {exc}") from exc
    if data.get("format") != fmt:
        raise ModelError(f"{path} is not a {fmt} document")
    return data


def _prepare(text: str) -> str:
    return unicodedata.normalize("NFC", text).lower()


class FormClassifier:
    """Which form (or ``none``) an utterance asks for, with a probability."""

    def __init__(self, spec: dict[str, Any]) -> None:
        self.version: str = spec["version"]
        self.classes: list[str] = list(spec["classes"])
        char = spec["features"]["char"]
        self.ngram = tuple(char["ngram_range"])
        self.char_index = {t: i for i, t in enumerate(char["terms"])}
        self.char_idf = [float(v) for v in char["idf"]]
        word = spec["features"]["word"]
        offset = len(self.char_idf)
        self.word_index = {t: offset + i for i, t in enumerate(word["terms"])}
        self.word_idf = [float(v) for v in word["idf"]]
        head = spec["head"]
        self.intercept = [float(b) for b in head["intercept"]]
        self.scale = float(head["scale"])
        self.coef: list[list[int]] = head["coef"]

    @classmethod
    def load(cls, path: Path) -> FormClassifier:
        return cls(_read(path, CLASSIFIER_FORMAT))

    def _block(
        self, tokens: Sequence[str], index: dict[str, int], idf: list[float], offset: int
    ) -> dict[int, float]:
        counts: dict[int, int] = {}
        for t in tokens:
            j = index.get(t)
            if j is not None:
                counts[j] = counts.get(j, 0) + 1
        out = {j: (1.0 + math.log(c)) * idf[j - offset] for j, c in counts.items()}
        norm = math.sqrt(sum(v * v for v in out.values()))
        return {j: v / norm for j, v in out.items()} if norm else {}

    def probabilities(self, text: str) -> dict[str, float]:
        """The probability of each class (the forms' ids and ``none``)."""
        prepared = _prepare(text)
        x = self._block(char_wb_ngrams(prepared, *self.ngram), self.char_index, self.char_idf, 0)
        x.update(
            self._block(_WORD.findall(prepared), self.word_index, self.word_idf, len(self.char_idf))
        )
        scores = list(self.intercept)
        for j, v in x.items():
            row = self.coef[j]
            for k in range(len(scores)):
                scores[k] += row[k] * self.scale * v
        top = max(scores)
        exps = [math.exp(s - top) for s in scores]
        total = sum(exps)
        return {c: e / total for c, e in zip(self.classes, exps, strict=True)}

    def predict(self, text: str) -> tuple[str, float]:
        """The most probable class and its probability."""
        probs = self.probabilities(text)
        best = max(probs, key=probs.__getitem__)
        return best, probs[best]


class SlotTagger:
    """A linear-chain CRF: per-attribute state weights, label-to-label transitions, Viterbi."""

    def __init__(self, spec: dict[str, Any]) -> None:
        self.version: str = spec["version"]
        self.labels: list[str] = list(spec["labels"])
        self.transitions: list[list[float]] = spec["transitions"]
        self.state: dict[str, list[tuple[int, float]]] = {
            attr: [(int(k), float(w)) for k, w in pairs] for attr, pairs in spec["state"].items()
        }

    @classmethod
    def load(cls, path: Path) -> SlotTagger:
        return cls(_read(path, TAGGER_FORMAT))

    def tag(self, features: Sequence[Sequence[str]]) -> list[str]:
        """The most probable label sequence for a sequence of attribute lists."""
        if not features:
            return []
        n = len(self.labels)
        emissions = []
        for attrs in features:
            row = [0.0] * n
            for a in attrs:
                for k, w in self.state.get(a, ()):
                    row[k] += w
            emissions.append(row)
        score = emissions[0][:]
        back: list[list[int]] = []
        trans = self.transitions
        for row in emissions[1:]:
            new = [0.0] * n
            ptr = [0] * n
            for j in range(n):
                best_i, best = 0, -math.inf
                for i in range(n):
                    s = score[i] + trans[i][j]
                    if s > best:
                        best_i, best = i, s
                new[j] = best + row[j]
                ptr[j] = best_i
            score = new
            back.append(ptr)
        j = max(range(n), key=score.__getitem__)
        path = [j]
        for ptr in reversed(back):
            j = ptr[j]
            path.append(j)
        return [self.labels[k] for k in reversed(path)]


class Models:
    """The form classifier and the slot tagger, read from one directory."""

    def __init__(self, classifier: FormClassifier, tagger: SlotTagger) -> None:
        self.classifier = classifier
        self.tagger = tagger

    @classmethod
    def load(cls, directory: Path) -> Models:
        return cls(
            FormClassifier.load(directory / "classifier.json"),
            SlotTagger.load(directory / "tagger.json"),
        )

    @property
    def version(self) -> str:
        return f"{self.classifier.version}+{self.tagger.version}"
