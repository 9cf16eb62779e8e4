"""The docs cannot rot: commands they show parse, files they link or name exist, targets they
name run."""

from __future__ import annotations

import posixpath
import re
import shlex
import subprocess
from functools import cache
from pathlib import Path, PurePosixPath

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
    path = Path(str(doc))
    for target in re.findall(r"\]\(([^)#:]+)(?:#[^)]*)?\)", path.read_text(encoding="utf-8")):
        assert (path.parent / target).exists(), f"{path.name} links to missing {target}"


@cache
def _repository_paths() -> frozenset[str]:
    """Every file the repository has (tracked, or new and not ignored) and every folder of one."""
    listed = subprocess.run(
        ["git", "ls-files", "--cached", "--others", "--exclude-standard"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=True,
    ).stdout.splitlines()
    paths = set(listed)
    for file in listed:
        paths.update(str(parent) for parent in PurePosixPath(file).parents if str(parent) != ".")
    return frozenset(paths)


def _named_paths(text: str) -> list[tuple[int, str]]:
    """``(line, text)`` of every backticked span and every dotted word of prose, outside fenced
    code blocks (commands there name a user's files) and outside link targets (checked above)."""
    found, fenced = [], False
    for number, line in enumerate(text.splitlines(), start=1):
        if line.lstrip().startswith("```"):
            fenced = not fenced
            continue
        if fenced:
            continue
        found += [(number, span) for span in re.findall(r"`([^`]+)`", line)]
        prose = re.sub(r"`[^`]*`|\]\([^)]*\)", " ", line)
        found += [(number, w.rstrip(".")) for w in re.findall(r"[\w./*<>{}-]+\.[A-Za-z]\w*", prose)]
    return found


def _matches(pattern: str, exactly: bool) -> bool:
    """Whether some repository path is ``pattern`` (``exactly``) or ends with it."""
    want = PurePosixPath(pattern)
    return any(
        PurePosixPath(p).match(pattern)
        and (not exactly or len(PurePosixPath(p).parts) == len(want.parts))
        for p in _repository_paths()
    )


def _missing(doc: PurePosixPath, named: str) -> bool:
    """Whether ``named`` is a repository path, by the rules of the test below, that is absent."""
    if re.search(r"\s|://|^[/~$-]|[=@:|()]", named):
        return False  # commands, URLs, absolute and home paths, options, formulas
    pattern = re.sub(r"<[^>]*>|\{[^}]*\}", "*", named).rstrip("/")  # a placeholder is any name
    if named.startswith(("./", "../")):
        return not _matches(posixpath.normpath(f"{doc.parent}/{pattern}"), exactly=True)
    paths = _repository_paths()
    path = PurePosixPath(pattern)
    if path.parts[0] in paths:  # its first part is a top-level entry: anchored at the root
        return not _matches(pattern, exactly=True)
    extensions = {PurePosixPath(p).suffix for p in paths} - {""}
    if named.endswith("/") or path.suffix not in extensions:
        return False  # not a file of a kind the repository has: a topic, an S3 prefix, a module
    if len(path.parts) == 1 and path.suffix not in {".md", ".py"}:
        return False  # a data file's bare name is a user's input or a library's file
    return not _matches(pattern, exactly=False)


@pytest.mark.parametrize("doc", DOCS, ids=lambda p: p.name)
def test_every_repository_path_a_doc_names_exists(doc: object) -> None:
    """Every repository path a doc names, in backticks or in prose, exists.

    Rules, in order (``<name>`` and ``{name}`` placeholders match any one name, ``*`` globs):

    - Skipped, as not repository paths: fenced code blocks (commands name a user's files),
      spans with spaces, ``://``, ``=``, ``@``, ``:``, ``|`` or parentheses, and paths starting
      with ``/``, ``~``, ``$`` or ``-`` (outside the repository, or options).
    - ``./x`` and ``../x`` resolve against the doc's own folder, as links do.
    - A path whose first part is an entry of the repository's top level (``functions/...``,
      ``docs/X.md``, ``template.yaml``) is anchored there and must exist exactly, folders too.
    - Any other path is relative to the package the doc is talking about (the domain table's
      ``safety/incidents.py`` is in ``layers/gyeonggi/``, ``chalicelib/web.py`` in
      ``functions/api/``): it must be the end of some repository path. It is checked only
      when it names a file of a kind the repository has (an extension some file has), so MQTT
      topics, S3 prefixes and module names are not; a bare name only when it is a ``.md`` or
      ``.py`` file (``MISSION.md``), since a bare data file is a user's or a library's.

    The repository's paths are git's files (tracked, or new and not ignored) and their folders.
    """
    path = PurePosixPath(str(doc))
    relative = path.relative_to(ROOT.as_posix())
    missing = [
        f"  line {line}: `{named}`"
        for line, named in _named_paths(Path(str(doc)).read_text(encoding="utf-8"))
        if _missing(relative, named)
    ]
    assert not missing, f"{relative} names paths that are not in the repository:\n" + "\n".join(
        missing
    )


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


def test_make_test_runs_every_tier_of_the_testpaths_once() -> None:
    import tomllib

    testpaths = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["tool"][
        "pytest"
    ]["ini_options"]["testpaths"]
    makefile = (ROOT / "Makefile").read_text(encoding="utf-8")
    found = re.search(r"^OTHER_TIERS := (.+)$", makefile, flags=re.M)
    assert found is not None
    others = found.group(1).split()
    # the LocalStack tier runs beside the others, in a pytest of its own
    assert sorted([*others, "tests/localstack"]) == sorted(testpaths)
    assert "pytest tests/localstack" in makefile and "pytest $(OTHER_TIERS)" in makefile
