"""The Lambda layer holds exactly what the functions import: no module ships that none runs.

The import graph comes from ``grimp`` (import-linter's graph builder), which reads the source
without running it and counts every import, including those inside functions. A module of the
layer that no handler reaches, however indirectly, belongs in ``gyeonggi_tools`` (tooling/).
"""

from __future__ import annotations

import grimp
import pytest

from tests.conftest import ROOT

FUNCTIONS = sorted(p.parent.name for p in (ROOT / "functions").glob("*/app.py"))


@pytest.fixture(scope="module")
def graph() -> grimp.ImportGraph:
    with pytest.MonkeyPatch.context() as patch:
        # This checkout's layer whatever the venv installed, and the API function's package by
        # its Lambda name, as its app.py imports it.
        for folder in ("functions/api", "layers", "."):
            patch.syspath_prepend(str(ROOT / folder))
        return grimp.build_graph("gyeonggi", "functions", "chalicelib", cache_dir=None)


def _with_packages(modules: set[str]) -> set[str]:
    # Importing gyeonggi.safety.alarms runs gyeonggi/__init__.py and gyeonggi/safety/__init__.py.
    parts = [m.split(".") for m in modules]
    return {".".join(p[:i]) for p in parts for i in range(1, len(p) + 1)}


def test_every_function_has_a_handler_module() -> None:
    assert len(FUNCTIONS) == 28, FUNCTIONS


def test_every_layer_module_is_imported_by_a_function(graph: grimp.ImportGraph) -> None:
    reached: set[str] = set()
    for function in FUNCTIONS:
        reached |= graph.find_upstream_modules(f"functions.{function}.app")
    layer = {"gyeonggi", *graph.find_descendants("gyeonggi")}
    unused = sorted(layer - _with_packages(reached))
    assert not unused, (
        "in the layer but imported by no function (move them to gyeonggi_tools): "
        + ", ".join(unused)
    )
