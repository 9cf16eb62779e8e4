"""The second stage of fire detection: a small model that scores one candidate region.

:mod:`gyeonggi.safety.video` finds flame-coloured regions and measures how each behaved over
one second (:data:`FEATURES`); this module turns those measures into a probability of fire.
The model is a small multilayer perceptron (or a logistic regression: no hidden layer) run in
pure numpy. Its weights are ``fire_stage.json`` beside this module, trained by
``gyeonggi safety train-fire-stage`` (``gyeonggi_tools.safety.fire_training``) on the *tuning*
clips of ``gyeonggi_tools.safety.video_clips`` only; they are the project's own (generated
data, no third-party weights), under the project's licence.
"""

from __future__ import annotations

import json
from functools import cache
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt

FEATURES = (
    "core_share",
    "occupancy",
    "area_cv",
    "flicker",
    "flicker_p90",
    "flicker_snr",
    "change_density",
    "toggle_rate",
    "saturation",
    "coherence",
    "still_share",
    "motion",
    "top_vs_bottom",
    "red_blue",
    "green_red",
    "brightness",
    "contrast",
    "texture_change",
    "log_size",
)
"""The measures of one candidate region, in the order the model takes them (see
:func:`gyeonggi.safety.video._candidate_features` for what each is)."""

MODEL_PATH = Path(__file__).with_name("fire_stage.json")

GATES = {
    "flicker_snr": (2.0, None),
    "coherence": (None, 0.8),
    "motion": (None, 0.3),
    "occupancy": (0.25, None),
}
"""What any flame does, checked before the model: it flickers at least twice the scene's own
noise (a lamp, a cone or a sunset does not), not all at once (a beacon, a blinking sign, a lamp
dimming do), it stays where it is (a red jacket, headlights move) and its core is flame-coloured
most of the time. ``(low, high)`` bounds; the model only sees what passes, in training too."""
_GATE_INDEX = [(FEATURES.index(name), low, high) for name, (low, high) in GATES.items()]


def plausible(features: npt.NDArray[np.float64]) -> bool:
    """Whether one candidate's features pass :data:`GATES`."""
    for i, low, high in _GATE_INDEX:
        if low is not None and features[i] < low:
            return False
        if high is not None and features[i] > high:
            return False
    return True


class FireStage:
    """A probability of fire for a candidate's features.

    ``layers`` are ``(weights, bias)`` pairs: ReLU between them, a logistic output after the
    last. Features are standardised with ``mean`` and ``scale`` first.
    """

    def __init__(
        self,
        mean: npt.NDArray[np.float64],
        scale: npt.NDArray[np.float64],
        layers: list[tuple[npt.NDArray[np.float64], npt.NDArray[np.float64]]],
        features: tuple[str, ...] = FEATURES,
    ) -> None:
        if features != FEATURES:
            raise ValueError("the model was trained on other features than the detector's")
        self.mean, self.scale, self.layers = mean, scale, layers

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> FireStage:
        """Read the exported model (the shape :meth:`to_json` writes)."""
        return cls(
            np.asarray(data["mean"], np.float64),
            np.asarray(data["scale"], np.float64),
            [
                (np.asarray(layer["weights"], np.float64), np.asarray(layer["bias"], np.float64))
                for layer in data["layers"]
            ],
            tuple(data["features"]),
        )

    def to_json(self) -> dict[str, Any]:
        return {
            "features": list(FEATURES),
            "mean": self.mean.tolist(),
            "scale": self.scale.tolist(),
            "layers": [{"weights": w.tolist(), "bias": b.tolist()} for w, b in self.layers],
        }

    def probabilities(self, features: npt.NDArray[np.float64]) -> npt.NDArray[np.float64]:
        """Probabilities of fire for rows of features (shape ``(n, len(FEATURES))``)."""
        x = (np.atleast_2d(features) - self.mean) / self.scale
        for i, (weights, bias) in enumerate(self.layers):
            x = x @ weights + bias
            if i < len(self.layers) - 1:
                x = np.maximum(x, 0.0)
        out: npt.NDArray[np.float64] = 1.0 / (1.0 + np.exp(-np.clip(x[:, 0], -30, 30)))
        return out

    def probability(self, features: npt.NDArray[np.float64]) -> float:
        """The probability of fire of one candidate."""
        return float(self.probabilities(features)[0])


@cache
def default_stage() -> FireStage:
    """The model shipped with the layer, read once per process."""
    return FireStage.from_json(json.loads(MODEL_PATH.read_text(encoding="utf-8")))
