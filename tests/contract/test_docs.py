"""The docs cannot rot: commands they show parse, files they link exist, targets they name run."""

from __future__ import annotations

import re
import shlex
import subprocess

import pytest

from gyeonggi_tools import cli
from tests.conftest import ROOT

DOCS = [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]


def _code_lines(text: str) -> list[str]:
    blocks = re.findall(r"```(?:sh|bash|console)?\n(.*?)```", text, flags=re.S)
    lines: list[str] = []
    for block in blocks:
        joined = block.replace("\\\n", " ")
        lines += [line.strip() for line in joined.splitlines() if line.strip()]
    return lines


def _gyeonggi_commands() -> list[tuple[str, list[str]]]:
    found = []
    for doc in DOCS:
        for line in _code_lines(doc.read_text(encoding="utf-8")):
            for match in re.finditer(r"(?:\.venv/bin/)?gyeonggi ([^|;&)#]+)", line):
                found.append((doc.name, shlex.split(match.group(1).strip())))
    return found


@pytest.mark.parametrize(("doc", "argv"), _gyeonggi_commands())
def test_every_gyeonggi_command_in_the_docs_parses(doc: str, argv: list[str]) -> None:
    try:
        cli.build_parser().parse_args(argv)
    except SystemExit as exc:
        pytest.fail(f"{doc}: `gyeonggi {' '.join(argv)}` does not parse ({exc.code})")


def test_the_docs_show_gyeonggi_commands() -> None:
    assert len(_gyeonggi_commands()) >= 2


@pytest.mark.parametrize("doc", DOCS, ids=lambda p: p.name)
def test_relative_links_point_to_files(doc: object) -> None:
    from pathlib import Path

    path = Path(str(doc))
    for target in re.findall(r"\]\(([^)#:]+)(?:#[^)]*)?\)", path.read_text(encoding="utf-8")):
        assert (path.parent / target).exists(), f"{path.name} links to missing {target}"


def test_make_targets_named_in_the_readme_exist() -> None:
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    named = set(re.findall(r"\bmake ([a-z]+)", readme))
    assert {"demo", "test", "up"} <= named
    for target in named:
        dry = subprocess.run(
            ["make", "-n", "-C", str(ROOT), target], capture_output=True, text=True, check=False
        )
        assert dry.returncode == 0, f"make {target}: {dry.stderr}"


def test_ci_runs_exactly_the_readme_test_command() -> None:
    ci = (ROOT / ".ci" / "run").read_text(encoding="utf-8")
    assert re.search(r"^make test$", ci, flags=re.M)
    assert "make test" in (ROOT / "README.md").read_text(encoding="utf-8")
