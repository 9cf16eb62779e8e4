"""The dialogue engine assembled: catalogue, models, understanding and dialogue, loaded once.

The forms function and ``gyeonggi forms converse`` run exactly this, so the offline results
are the function's.
"""

from __future__ import annotations

import os
from functools import cache
from pathlib import Path

from gyeonggi.forms.catalogue import catalogue
from gyeonggi.forms.dialogue import Dialogue
from gyeonggi.forms.models import DEFAULT_MODEL_DIR, MODEL_ENV, Models
from gyeonggi.forms.understanding import Understanding


def load_engine(model_dir: Path | None = None) -> Dialogue:
    """The engine with the models in ``model_dir`` (default: ``$GYEONGGI_FORMS_MODEL_DIR``,
    else ``functions/forms_dialogue/model`` of the checkout)."""
    directory = model_dir or Path(os.environ.get(MODEL_ENV) or DEFAULT_MODEL_DIR)
    return _engine(directory.resolve())


@cache
def _engine(directory: Path) -> Dialogue:
    cat = catalogue()
    return Dialogue(cat, Understanding(cat, Models.load(directory)))
