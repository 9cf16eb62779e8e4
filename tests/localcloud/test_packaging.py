"""The package builder's own rules, on folders made here (no pip, no network)."""

from __future__ import annotations

from pathlib import Path

import pytest

from localcloud.localstack_host import PLUGINS_ENV, HostModeError, plugins_dir
from localcloud.packaging import installed_distributions, remove_distributions, remove_test_suites


def _distribution(target: Path, name: str, version: str, files: list[str]) -> None:
    info = target / f"{name}-{version}.dist-info"
    info.mkdir(parents=True)
    for relative in files:
        (target / relative).parent.mkdir(parents=True, exist_ok=True)
        (target / relative).write_text("x")
    record = [f"{f},sha256=x,1" for f in files] + [f"{info.name}/RECORD,,"]
    (info / "RECORD").write_text("\n".join(record))


def test_a_distribution_is_removed_by_its_record_and_its_neighbours_stay(tmp_path: Path) -> None:
    # Given botocore and pydantic installed side by side by pip --target
    _distribution(tmp_path, "botocore", "1.40.0", ["botocore/__init__.py", "botocore/data/x.json"])
    _distribution(tmp_path, "pydantic", "2.11.0", ["pydantic/__init__.py"])
    # When botocore is removed (the runtime has it)
    removed = remove_distributions(tmp_path, ["BotoCore"])
    # Then it is gone, folders and all, and pydantic is untouched
    assert removed == ["botocore"]
    assert not (tmp_path / "botocore").exists()
    assert (tmp_path / "pydantic" / "__init__.py").is_file()
    assert installed_distributions(tmp_path) == {"pydantic": "2.11.0"}


def test_names_are_normalised_as_pip_does(tmp_path: Path) -> None:
    _distribution(tmp_path, "python_dateutil", "2.9.0", ["dateutil/__init__.py"])
    assert installed_distributions(tmp_path) == {"python-dateutil": "2.9.0"}
    assert remove_distributions(tmp_path, ["python-dateutil"]) == ["python-dateutil"]


def test_third_party_test_suites_go_and_the_projects_code_and_other_folders_stay(
    tmp_path: Path,
) -> None:
    # Given numpy with its test packages, the project's own code with a tests package, and a
    # folder merely named tests that is not a package (data, not a suite)
    _distribution(
        tmp_path,
        "numpy",
        "2.0.0",
        [
            "numpy/__init__.py",
            "numpy/testing/__init__.py",
            "numpy/_core/__init__.py",
            "numpy/_core/tests/__init__.py",
            "numpy/_core/tests/test_x.py",
            "numpy/tests/test_y.py",
        ],
    )
    (tmp_path / "numpy" / "_core" / "data" / "tests").mkdir(parents=True)
    (tmp_path / "chalicelib" / "tests").mkdir(parents=True)
    (tmp_path / "chalicelib" / "__init__.py").write_text("")
    (tmp_path / "chalicelib" / "tests" / "__init__.py").write_text("")
    # When the suites are removed, the project's chalicelib named as its own
    freed = remove_test_suites(tmp_path, own={"chalicelib"})
    # Then numpy's two suites are gone, numpy.testing (imported at run time) and the rest stay
    assert freed == 3  # bytes: one character in each of the three files
    assert not (tmp_path / "numpy" / "_core" / "tests").exists()
    assert not (tmp_path / "numpy" / "tests").exists()
    assert (tmp_path / "numpy" / "testing" / "__init__.py").is_file()
    assert (tmp_path / "numpy" / "_core" / "data" / "tests").is_dir()
    assert (tmp_path / "chalicelib" / "tests" / "__init__.py").is_file()


def test_missing_host_mode_plugins_are_named_with_the_variable_to_set(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv(PLUGINS_ENV, str(tmp_path / "nowhere"))
    with pytest.raises(HostModeError, match=PLUGINS_ENV):
        plugins_dir(tmp_path)


def test_an_install_is_reused_from_the_cache_until_its_inputs_change_or_it_is_a_day_old(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import os

    from localcloud import packaging

    installs: list[Path] = []

    def fake_pip(requirements: Path, target: Path, *_: object) -> None:
        installs.append(requirements)
        _distribution(target, "lib", "1", ["lib/__init__.py", "lib/tests/__init__.py"])
        (target / "lib" / "__init__.py").write_text(requirements.read_text())
        _distribution(target, "botocore", "1.40.0", ["botocore/__init__.py"])

    monkeypatch.setattr(packaging, "_pip_install", fake_pip)
    monkeypatch.setenv(packaging.CACHE_DIR_VARIABLE, str(tmp_path / "cache"))
    requirements = tmp_path / "requirements.txt"
    requirements.write_text("lib==1\n")

    def install(into: str) -> Path:
        target = tmp_path / into
        (target / "app.py").parent.mkdir(parents=True, exist_ok=True)
        (target / "app.py").write_text("own code")
        packaging.pip_install(requirements, target, "x86_64", without=["botocore"])
        return target

    # The second build of the same requirements copies the first's install, beside its own code
    first, second = install("a"), install("b")
    assert len(installs) == 1
    assert (second / "lib" / "__init__.py").read_text() == "lib==1\n"
    assert (second / "app.py").read_text() == "own code"
    assert not (second / ".complete").exists()
    assert (first / "lib").is_dir()
    # trimmed before it is kept: what the runtime has, third-party test suites
    assert not (second / "botocore").exists() and not (second / "lib" / "tests").exists()
    # Other requirements, or another architecture, are installed anew
    requirements.write_text("lib==2\n")
    assert (install("c") / "lib" / "__init__.py").read_text() == "lib==2\n"
    packaging.pip_install(requirements, tmp_path / "d", "arm64")
    assert len(installs) == 3
    # An install a day old is not trusted: unpinned requirements may have moved on
    for marker in (tmp_path / "cache").glob("*/.complete"):
        old = marker.stat().st_mtime - packaging.CACHE_MAX_AGE_S - 1
        os.utime(marker, (old, old))
    install("e")
    assert len(installs) == 4
    # An empty PACKAGE_CACHE_DIR turns the cache off
    monkeypatch.setenv(packaging.CACHE_DIR_VARIABLE, "")
    install("f")
    install("g")
    assert len(installs) == 6
