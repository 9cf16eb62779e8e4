"""The complaint classifier at run time: pure Python, standard library only.

``ComplaintClassifier.load`` reads the JSON that ``gyeonggi_tools.complaints.classifier.training``
exports and reproduces the scikit-learn featurisation exactly (character n-grams of
``analyzer="char_wb"``, word tokens of the default ``token_pattern``, sublinear TF, IDF, L2 norm
per block), then applies the two linear heads and a softmax. No numpy and no scikit-learn:
importing them would cost a Lambda cold start about a second (``benchmarks/classify.py``
measures it).

Emergency safety net: a short list of unmistakable danger phrases (gas smell or leak,
collapse, sinkhole, sparks and exposed live wires, fire, toxic fumes) raises the urgency to
``emergency`` when the model put it lower; ``Classification.urgency_rule`` then names the
phrase. The model catches nearly all of them on its own, but a missed gas leak costs far more
than a needless alert, so the rule stays as a backstop.
"""

from __future__ import annotations

import json
import math
import os
import re
import unicodedata
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

FORMAT = "gyeonggi-complaint-classifier/1"
MODEL_ENV = "GYEONGGI_MODEL_PATH"
# The model ships inside the triage function's package; the CLI finds it in the checkout.
DEFAULT_MODEL = Path("functions") / "complaint_triage" / "model" / "model.json"

_EMERGENCY_RULES: tuple[tuple[str, re.Pattern[str]], ...] = tuple(
    (name, re.compile(pattern, re.IGNORECASE))
    for name, pattern in (
        (
            "gas",
            r"가스\s*(냄새|가\s*새|새는|누출|유출)|gas\s*(leak|smell)|smell(s|ing)?\s+of\s+gas",
        ),
        ("collapse", r"붕괴|무너지|무너졌|collaps"),
        ("sinkhole", r"싱크홀|sink\s*hole|지반\s*침하"),
        ("live-wire", r"전선.{0,12}(노출|피복|불꽃)|불꽃이\s*튀|live\s*wire|sparking|sparks"),
        ("fire", r"불이\s*(났|붙|나고)|화재\s*발생|on\s*fire|catch(ing)?\s*fire"),
        ("toxic", r"유독\s*가스|toxic\s*(gas|fume|smell)"),
    )
)


@dataclass(frozen=True, slots=True)
class Classification:
    """What the classifier says about one complaint text."""

    service_code: str
    confidence: float
    department: str
    urgency: str
    urgency_confidence: float
    model_version: str
    urgency_rule: str | None = None

    def as_dict(self) -> dict[str, Any]:
        """A JSON-ready dict (confidences rounded to 4 places)."""
        out = asdict(self)
        out["confidence"] = round(self.confidence, 4)
        out["urgency_confidence"] = round(self.urgency_confidence, 4)
        return out


class ModelError(ValueError):
    """The model document is missing, unreadable or of another format."""


def char_wb_ngrams(text: str, low: int, high: int) -> list[str]:
    """Character n-grams inside word boundaries, padded with one space each side.

    Matches scikit-learn's ``analyzer="char_wb"``: a padded word shorter than ``n`` (or equal
    to it) yields itself once, and no longer n-grams are taken from it.
    """
    grams: list[str] = []
    for word in text.split():
        padded = f" {word} "
        size = len(padded)
        for n in range(low, high + 1):
            if size <= n:
                grams.append(padded)
                break
            grams.extend(padded[i : i + n] for i in range(size - n + 1))
    return grams


class _Block:
    """One TF-IDF block: terms -> column, IDF, sublinear TF, L2 norm."""

    def __init__(self, terms: Sequence[str], idf: Sequence[float], offset: int) -> None:
        if len(terms) != len(idf):
            raise ModelError("terms and idf differ in length")
        self.index = {t: offset + i for i, t in enumerate(terms)}
        self.idf = [float(v) for v in idf]
        self.offset = offset

    def weights(self, tokens: Sequence[str]) -> dict[int, float]:
        counts: dict[int, int] = {}
        index = self.index
        for token in tokens:
            j = index.get(token)
            if j is not None:
                counts[j] = counts.get(j, 0) + 1
        out = {j: (1.0 + math.log(c)) * self.idf[j - self.offset] for j, c in counts.items()}
        norm = math.sqrt(sum(v * v for v in out.values()))
        return {j: v / norm for j, v in out.items()} if norm else {}


class _Head:
    """A multinomial logistic regression: feature-major quantised coefficients."""

    def __init__(self, spec: dict[str, Any]) -> None:
        self.classes: list[str] = [str(c) for c in spec["classes"]]
        self.intercept = [float(b) for b in spec["intercept"]]
        self.scale = float(spec["scale"])
        self.coef: list[list[int]] = spec["coef"]

    def probabilities(self, x: dict[int, float]) -> list[float]:
        scores = [0.0] * len(self.classes)
        coef = self.coef
        for j, v in x.items():
            row = coef[j]
            for k, w in enumerate(row):
                scores[k] += w * v
        logits = [s * self.scale + b for s, b in zip(scores, self.intercept, strict=True)]
        top = max(logits)
        exps = [math.exp(z - top) for z in logits]
        total = sum(exps)
        return [e / total for e in exps]


class ComplaintClassifier:
    """The exported model, ready to classify texts."""

    def __init__(self, document: dict[str, Any]) -> None:
        if document.get("format") != FORMAT:
            raise ModelError(f"not a {FORMAT} document (format={document.get('format')!r})")
        features = document["features"]
        char, word = features["char"], features["word"]
        self.version = str(document["version"])
        self.sha256 = str(document.get("sha256", ""))
        self.low, self.high = (int(n) for n in char["ngram_range"])
        self.chars = _Block(char["terms"], char["idf"], 0)
        self.words = _Block(word["terms"], word["idf"], len(char["terms"]))
        self.token = re.compile(word["token_pattern"])
        self.service = _Head(document["heads"]["service"])
        self.urgency = _Head(document["heads"]["urgency"])
        self.departments: dict[str, str] = dict(document["departments"])
        width = len(char["terms"]) + len(word["terms"])
        for head in (self.service, self.urgency):
            if len(head.coef) != width:
                raise ModelError("coefficients do not match the vocabulary")

    @classmethod
    def load(cls, source: str | Path | bytes) -> ComplaintClassifier:
        """Load an exported ``model.json`` from a path or from its bytes.

        Raises
        ------
        ModelError
            When the file is missing or not a model of this format.
        """
        try:
            raw = source if isinstance(source, bytes) else Path(source).read_bytes()
            document = json.loads(raw)
        except (OSError, ValueError) as exc:
            raise ModelError(f"cannot read the model: {exc}") from exc
        if not isinstance(document, dict):
            raise ModelError("the model document is not a JSON object")
        try:
            return cls(document)
        except (KeyError, TypeError) as exc:
            raise ModelError(f"malformed model document: missing or bad {exc}") from exc

    def features(self, text: str) -> dict[int, float]:
        """The sparse feature vector of ``text`` (column -> value), as scikit-learn builds it."""
        text = unicodedata.normalize("NFC", text).lower()
        x = self.chars.weights(char_wb_ngrams(text, self.low, self.high))
        x.update(self.words.weights(self.token.findall(text)))
        return x

    def probabilities(self, text: str) -> tuple[dict[str, float], dict[str, float]]:
        """Class probabilities of both heads: ``(service, urgency)``."""
        x = self.features(text)
        return (
            dict(zip(self.service.classes, self.service.probabilities(x), strict=True)),
            dict(zip(self.urgency.classes, self.urgency.probabilities(x), strict=True)),
        )

    def classify(self, text: str) -> Classification:
        """Service, department and urgency of one complaint text.

        Parameters
        ----------
        text
            The complaint's description (Korean, English or mixed).
        """
        service, urgency = self.probabilities(text)
        code = max(service, key=service.__getitem__)
        level = max(urgency, key=urgency.__getitem__)
        level_confidence = urgency[level]
        rule = None
        if level != "emergency":
            rule = emergency_rule(text)
            if rule:
                level, level_confidence = "emergency", urgency.get("emergency", 0.0)
        return Classification(
            service_code=code,
            confidence=service[code],
            department=self.departments.get(code, "civil-service"),
            urgency=level,
            urgency_confidence=level_confidence,
            model_version=self.version,
            urgency_rule=rule,
        )


def emergency_rule(text: str) -> str | None:
    """The name of the first emergency phrase found in ``text``, if any."""
    text = unicodedata.normalize("NFC", text)
    for name, pattern in _EMERGENCY_RULES:
        if pattern.search(text):
            return name
    return None


def default_model_path() -> Path:
    """``$GYEONGGI_MODEL_PATH``, else the committed model of the checkout this file is in."""
    if os.environ.get(MODEL_ENV):
        return Path(os.environ[MODEL_ENV])
    here = Path(__file__).resolve()
    for parent in here.parents:
        candidate = parent / DEFAULT_MODEL
        if candidate.is_file():
            return candidate
    return Path.cwd() / DEFAULT_MODEL
