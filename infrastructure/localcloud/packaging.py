"""Lambda deployment packages, built as ``sam build`` builds them, and measured.

What ships is what is tested: the contract tests import every function from the packages this
module builds, under Python 3.12 with nothing else on the path, and the LocalStack deployer
deploys these same packages.

The build, for each layer and function of the template:

- a layer (``AWS::Serverless::LayerVersion``): its ``ContentUri`` copied under ``python/``
  (where the Python runtime looks in ``/opt``), with ``requirements.txt`` installed there;
- a function (``AWS::Serverless::Function``): its ``CodeUri`` copied, with its own
  ``requirements.txt`` installed beside it, resolved against the versions the layer already
  has (a pip constraints file) and without the distributions the layer provides: a function
  that needs numpy for OpenCV uses the layer's numpy rather than shipping a second copy;
- in both, the distributions the ``python3.12`` runtime already provides (boto3 and botocore
  with their dependencies, :data:`RUNTIME_PROVIDED`) are removed after pip has installed them
  as dependencies of something else: botocore alone is about 30 MB; so are the test suites
  third-party packages ship (``tests`` packages: numpy's is about 8 MB), never imported at run
  time. ``sam build`` keeps those, so its packages are a little larger than these.

pip installs wheels for Linux on the target CPU (``--platform``), not for this machine, so an
x86-64 laptop builds the arm64 packages the template declares, without a container. The result
mirrors the checkout (same relative ``CodeUri``, ``ContentUri``, ``DefinitionUri``, and a copy of
``template.yaml``), so that :func:`localcloud.template.package` uploads it as it is, and so does
``sam deploy --template-file <build>/template.yaml`` in AWS.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import platform
import re
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

#: Lambda's limit on a function's unzipped code plus all its layers (262,144,000 bytes).
UNZIPPED_LIMIT_BYTES = 250 * 1024 * 1024
#: Distributions of the python3.12 runtime image (boto3 and what it needs): never packaged.
RUNTIME_PROVIDED = frozenset(
    {"boto3", "botocore", "s3transfer", "jmespath", "python-dateutil", "six", "urllib3"}
)
#: Amazon Linux 2023 (the python3.12 runtime) has glibc 2.34, so wheels for any glibc from 2.17
#: (manylinux2014) to 2.34 run there; pip takes no range, so every tag is named.
WHEEL_PLATFORMS = {
    arch: tuple(f"manylinux_2_{minor}_{machine}" for minor in range(34, 16, -1))
    for arch, machine in (("x86_64", "x86_64"), ("arm64", "aarch64"))
}
ARCHITECTURES = tuple(WHEEL_PLATFORMS)
#: Files of third-party distributions that nothing in a function loads, removed after pip like
#: the test suites, by glob from the package's root. pyarrow's Arrow Flight (RPC) libraries and
#: its C++ headers: the lake writer reads and writes Parquet on S3 and never loads them (no
#: other library of the wheel links to libarrow_flight; checked with readelf), and they are
#: about 40 MB of the Data Dam functions' 250 (docs/BENCHMARKS.md).
NEVER_LOADED = (
    "pyarrow/libarrow_flight.so*",
    "pyarrow/libarrow_python_flight.so*",
    "pyarrow/_flight.cpython-*.so",
    "pyarrow/_pyarrow_cpp_tests.cpython-*.so",
    "pyarrow/include",
    "pyarrow/src",
)
_COPY_IGNORE = shutil.ignore_patterns(
    "__pycache__", "*.pyc", ".pytest_cache", ".mypy_cache", ".chalice", "requirements.txt"
)


class BuildError(RuntimeError):
    """pip could not install a package's requirements for the target platform."""


@dataclass(frozen=True, slots=True)
class Package:
    """One built function (or layer) and where its files are."""

    logical_id: str
    uri: str  # CodeUri / ContentUri as the template writes it
    path: Path  # what Lambda unpacks: /var/task for a function, /opt for a layer
    handler: str | None = None  # "app.handler"; None for a layer
    layers: tuple[str, ...] = ()  # logical ids of the layers the function takes

    def size_bytes(self) -> int:
        """Unzipped size of the package's files (what counts against Lambda's limit)."""
        return sum(f.lstat().st_size for f in self.path.rglob("*") if f.is_file())


@dataclass(frozen=True, slots=True)
class Build:
    """The packages of one template, built for one architecture."""

    root: Path
    architecture: str
    layers: dict[str, Package]
    functions: dict[str, Package]

    def unzipped_bytes(self, function: str) -> int:
        """The function's code plus its layers, as Lambda counts them against its limit."""
        package = self.functions[function]
        return package.size_bytes() + sum(self.layers[i].size_bytes() for i in package.layers)

    def import_path(self, function: str) -> list[Path]:
        """``sys.path`` entries Lambda gives the function: its code first, then its layers."""
        package = self.functions[function]
        return [package.path, *(self.layers[i].path / "python" for i in package.layers)]


def host_architecture() -> str:
    """The Lambda architecture matching this machine (wheels that can be imported here)."""
    return "arm64" if platform.machine().lower() in ("arm64", "aarch64") else "x86_64"


def _normalise(name: str) -> str:
    """PEP 503 name: ``Python_Dateutil`` -> ``python-dateutil``."""
    return re.sub(r"[-_.]+", "-", name).lower()


def installed_distributions(target: Path) -> dict[str, str]:
    """``{normalised name: version}`` of what pip installed into ``target``."""
    found: dict[str, str] = {}
    for info in target.glob("*.dist-info"):
        name, _, version = info.name[: -len(".dist-info")].rpartition("-")
        found[_normalise(name)] = version
    return found


def remove_distributions(target: Path, names: Iterable[str]) -> list[str]:
    """Delete the named distributions from a ``pip --target`` folder, by their RECORD files.

    Returns the normalised names that were there and are now gone.
    """
    wanted = {_normalise(n) for n in names}
    removed = []
    for info in sorted(target.glob("*.dist-info")):
        name = _normalise(info.name[: -len(".dist-info")].rpartition("-")[0])
        if name not in wanted:
            continue
        record = info / "RECORD"
        for line in record.read_text(encoding="utf-8").splitlines() if record.exists() else []:
            relative = line.split(",", 1)[0]
            path = (target / relative).resolve()
            if path.is_relative_to(target.resolve()) and path.is_file():
                path.unlink()
        shutil.rmtree(info, ignore_errors=True)
        removed.append(name)
    # Folders a RECORD emptied (package directories, their __pycache__).
    for folder in sorted((p for p in target.rglob("*") if p.is_dir()), reverse=True):
        if not any(folder.iterdir()):
            folder.rmdir()
    return removed


def remove_test_suites(target: Path, own: Iterable[str] = ()) -> int:
    """Delete the ``tests`` packages that third-party distributions ship; returns the bytes freed.

    A library's own test suite is never imported at run time (numpy's is about 8 MB), and it
    counts against Lambda's 250 MB like everything else in the package. ``own`` names the
    top-level entries that are the project's code, which is left as it is.
    """
    freed = 0
    skip = set(own)
    for top in target.iterdir():
        if not top.is_dir() or top.name in skip or top.name.endswith(".dist-info"):
            continue
        for suite in sorted(top.rglob("tests"), key=lambda p: len(p.parts)):
            if suite.is_dir() and (suite.parent / "__init__.py").exists():
                freed += sum(f.stat().st_size for f in suite.rglob("*") if f.is_file())
                shutil.rmtree(suite)
    return freed


def remove_never_loaded(target: Path) -> int:
    """Delete the :data:`NEVER_LOADED` files under ``target``; returns the bytes freed."""
    freed = 0
    for pattern in NEVER_LOADED:
        for path in target.glob(pattern):
            if path.is_dir():
                freed += sum(f.stat().st_size for f in path.rglob("*") if f.is_file())
                shutil.rmtree(path)
            else:
                freed += path.stat().st_size
                path.unlink()
    return freed


#: Where installs are kept for reuse (``PACKAGE_CACHE_DIR``; empty turns the cache off), and
#: for how long: one test run builds the packages twice (the contract tests, the LocalStack
#: deployment), and a day bounds how stale an unpinned requirement can get.
CACHE_DIR_VARIABLE = "PACKAGE_CACHE_DIR"
CACHE_MAX_AGE_S = 24 * 3600


def _cache_dir() -> Path | None:
    configured = os.environ.get(CACHE_DIR_VARIABLE)
    if configured is not None:
        return Path(configured) if configured else None
    return Path(__file__).resolve().parents[2] / ".local" / "package-cache"


def _install_key(
    requirements: Path,
    architecture: str,
    python_version: str,
    constraints: Path | None,
    without: Iterable[str],
) -> str:
    digest = hashlib.sha256()
    for part in (
        requirements.read_bytes(),
        constraints.read_bytes() if constraints else b"",
        architecture.encode(),
        python_version.encode(),
        " ".join(WHEEL_PLATFORMS[architecture]).encode(),
        " ".join(sorted(_normalise(n) for n in without)).encode(),
    ):
        digest.update(len(part).to_bytes(8, "big") + part)
    return digest.hexdigest()[:32]


def pip_install(
    requirements: Path,
    target: Path,
    architecture: str,
    *,
    python_version: str = "3.12",
    constraints: Path | None = None,
    without: Iterable[str] = (),
) -> None:
    """``pip install --target`` wheels for the Lambda runtime, not for this machine, less what
    never runs there: the distributions ``without`` (the runtime's, a layer's), third-party test
    suites and the :data:`NEVER_LOADED` files.

    The same install made less than a day ago is linked from the cache
    (:data:`CACHE_DIR_VARIABLE`) instead: pip would install the same files, and pip and the
    trimming take most of a build's time.
    """
    without = tuple(without)
    cache = _cache_dir()
    if cache is None:
        with tempfile.TemporaryDirectory(prefix="install-") as fresh:
            installed = Path(fresh)
            _trimmed_install(
                requirements, installed, architecture, python_version, constraints, without
            )
            shutil.copytree(installed, target, dirs_exist_ok=True)
        return
    kept = cache / _install_key(requirements, architecture, python_version, constraints, without)
    done = kept / ".complete"
    if not (done.is_file() and time.time() - done.stat().st_mtime < CACHE_MAX_AGE_S):
        shutil.rmtree(kept, ignore_errors=True)
        scratch = Path(tempfile.mkdtemp(prefix="install-", dir=_made(cache)))
        _trimmed_install(requirements, scratch, architecture, python_version, constraints, without)
        (scratch / ".complete").write_text(str(requirements) + "\n")
        try:
            scratch.rename(kept)  # atomic: a parallel build sees all of it or none
        except OSError:  # another build got there first; theirs is as good
            shutil.rmtree(scratch, ignore_errors=True)
    shutil.copytree(
        kept,
        target,
        dirs_exist_ok=True,
        ignore=shutil.ignore_patterns(".complete"),
        copy_function=_link_or_copy,
    )


def _link_or_copy(source: str, destination: str) -> None:
    # A hard link costs nothing and is safe here: builds only add files (bytecode) and delete
    # them, never write into one. Another file system gets a copy.
    try:
        os.link(source, destination)
    except OSError:
        shutil.copy2(source, destination)


def _trimmed_install(
    requirements: Path,
    into: Path,
    architecture: str,
    python_version: str,
    constraints: Path | None,
    without: Sequence[str],
) -> None:
    _pip_install(requirements, into, architecture, python_version, constraints)
    remove_distributions(into, without)
    remove_test_suites(into)
    remove_never_loaded(into)


def _made(directory: Path) -> Path:
    directory.mkdir(parents=True, exist_ok=True)
    return directory


def _pip_install(
    requirements: Path,
    target: Path,
    architecture: str,
    python_version: str,
    constraints: Path | None,
) -> None:
    command = [
        sys.executable,
        "-m",
        "pip",
        "install",
        "--quiet",
        "--disable-pip-version-check",
        "--no-compile",
        "--target",
        str(target),
        "--requirement",
        str(requirements),
        *(option for tag in WHEEL_PLATFORMS[architecture] for option in ("--platform", tag)),
        "--implementation",
        "cp",
        "--python-version",
        python_version,
        "--only-binary=:all:",
    ]
    if constraints is not None:
        command += ["--constraint", str(constraints)]
    # pip's own resolver warnings about the *calling* environment are noise here.
    env = {**os.environ, "PIP_NO_WARN_CONFLICTS": "1", "PIP_NO_INPUT": "1"}
    done = subprocess.run(command, capture_output=True, text=True, check=False, env=env)
    if done.returncode != 0:
        raise BuildError(
            f"pip could not install {requirements} for {architecture}:\n{done.stderr[-2000:]}"
        )
    shutil.rmtree(target / "bin", ignore_errors=True)  # console scripts: nothing runs them


def _local_uri(spec: dict[str, Any], prop: str) -> str | None:
    uri = spec.get("Properties", {}).get(prop)
    return uri if isinstance(uri, str) and not uri.startswith("s3://") else None


def _layer_ids(spec: dict[str, Any], globals_: dict[str, Any]) -> tuple[str, ...]:
    layers = spec.get("Properties", {}).get("Layers", globals_.get("Layers", []))
    return tuple(ref["Ref"] for ref in layers if isinstance(ref, dict) and "Ref" in ref)


def build_packages(
    root: Path,
    template: dict[str, Any],
    build_dir: Path,
    *,
    architecture: str | None = None,
    python_version: str = "3.12",
) -> Build:
    """Lay out the template's code under ``build_dir`` with its dependencies installed.

    Parameters
    ----------
    root
        The checkout.
    template
        The template with local URIs (before packaging), from
        :func:`localcloud.template.load_template`.
    build_dir
        Emptied, then filled; mirrors ``root``.
    architecture
        ``x86_64`` or ``arm64`` wheels; this machine's by default.
    python_version
        The Lambda runtime's Python.

    Raises
    ------
    BuildError
        When pip cannot install a requirement for the platform.
    """
    arch = architecture or host_architecture()
    if arch not in WHEEL_PLATFORMS:
        raise ValueError(f"architecture must be one of {list(ARCHITECTURES)}, not {arch!r}")
    shutil.rmtree(build_dir, ignore_errors=True)
    build_dir.mkdir(parents=True)
    resources: dict[str, dict[str, Any]] = template.get("Resources", {})
    function_globals = template.get("Globals", {}).get("Function", {})

    layers: dict[str, Package] = {}
    for logical_id, spec in resources.items():
        uri = _local_uri(spec, "ContentUri")
        if spec.get("Type") != "AWS::Serverless::LayerVersion" or uri is None:
            continue
        content = build_dir / uri / "python"
        shutil.copytree(root / uri, content, ignore=_COPY_IGNORE)
        if (root / uri / "requirements.txt").is_file():
            pip_install(
                root / uri / "requirements.txt",
                content,
                arch,
                python_version=python_version,
                without=RUNTIME_PROVIDED,
            )
        layers[logical_id] = Package(logical_id, uri, build_dir / uri)

    functions: dict[str, Package] = {}
    for logical_id, spec in resources.items():
        uri = _local_uri(spec, "CodeUri")
        if spec.get("Type") != "AWS::Serverless::Function" or uri is None:
            continue
        target = build_dir / uri
        shutil.copytree(root / uri, target, ignore=_COPY_IGNORE)
        layer_ids = tuple(i for i in _layer_ids(spec, function_globals) if i in layers)
        provided: dict[str, str] = {}
        for layer_id in layer_ids:
            provided.update(installed_distributions(layers[layer_id].path / "python"))
        requirements = root / uri / "requirements.txt"
        if requirements.is_file():
            with tempfile.TemporaryDirectory() as scratch:
                constraints = Path(scratch) / "layer-constraints.txt"
                constraints.write_text(
                    "".join(f"{name}=={version}\n" for name, version in sorted(provided.items()))
                )
                pip_install(
                    requirements,
                    target,
                    arch,
                    python_version=python_version,
                    constraints=constraints,
                    without={*RUNTIME_PROVIDED, *provided},
                )
        handler = spec.get("Properties", {}).get("Handler", function_globals.get("Handler"))
        functions[logical_id] = Package(logical_id, uri, target, handler, layer_ids)

    for spec in resources.values():
        uri = _local_uri(spec, "DefinitionUri")
        if spec.get("Type") == "AWS::Serverless::StateMachine" and uri is not None:
            (build_dir / uri).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(root / uri, build_dir / uri)
    # Beside its built code, the template deploys these very packages:
    # `sam deploy --template-file <build_dir>/template.yaml` zips the folders as they are.
    if (root / "template.yaml").is_file():
        shutil.copy2(root / "template.yaml", build_dir / "template.yaml")
    return Build(root, arch, layers, functions)


def inline_layers(build: Build) -> None:
    """Copy each function's layers into its own folder.

    For LocalStack's free plan, which creates layers but does not apply them to functions.
    """
    for package in build.functions.values():
        for layer_id in package.layers:
            shutil.copytree(
                build.layers[layer_id].path / "python", package.path, dirs_exist_ok=True
            )


def size_report(build: Build) -> list[dict[str, Any]]:
    """Each function's unzipped size with its layers, largest first, against the limit."""
    rows = []
    for logical_id, package in build.functions.items():
        total = build.unzipped_bytes(logical_id)
        rows.append(
            {
                "function": logical_id,
                "architecture": build.architecture,
                "code_mb": round(package.size_bytes() / 2**20, 1),
                "with_layers_mb": round(total / 2**20, 1),
                "share_of_limit": round(total / UNZIPPED_LIMIT_BYTES, 3),
            }
        )
    return sorted(rows, key=lambda row: -row["with_layers_mb"])


#: What the python3.12 runtime image has beyond the standard library (pinned near its boto3).
RUNTIME_REQUIREMENTS = ("boto3>=1.34,<2",)


def find_python(version: str = "3.12") -> Path | None:
    """An interpreter of the Lambda runtime's Python version on this machine, if any.

    ``$LAMBDA_PYTHON`` first, then pyenv's versions (the ``python3.12`` shim refuses to run
    when no pyenv version selects it, so the real binary is used), then ``python3.12`` on PATH.
    """
    candidates: list[Path] = []
    if os.environ.get("LAMBDA_PYTHON"):
        candidates.append(Path(os.environ["LAMBDA_PYTHON"]))
    pyenv_root = Path(os.environ.get("PYENV_ROOT", Path.home() / ".pyenv"))
    candidates += sorted((pyenv_root / "versions").glob(f"{version}.*/bin/python"), reverse=True)
    if on_path := shutil.which(f"python{version}"):
        candidates.append(Path(on_path))
    for candidate in candidates:
        probe = subprocess.run(
            [str(candidate), "-c", "import sys; print('%d.%d' % sys.version_info[:2])"],
            capture_output=True,
            text=True,
            check=False,
        )
        if probe.returncode == 0 and probe.stdout.strip() == version:
            return candidate
    return None


def runtime_python(root: Path, version: str = "3.12") -> Path:
    """A virtual environment standing in for the Lambda runtime: that Python and boto3 only.

    Made once under ``root/.local/`` and reused; the LocalStack host executor and the import
    tests run handlers with it.

    Raises
    ------
    BuildError
        When no Python of that version is installed, or boto3 cannot be installed.
    """
    venv = root / ".local" / f"lambda-runtime-python{version}"
    python = venv / "bin" / "python"
    stamp = venv / ".requirements"
    wanted = "\n".join(RUNTIME_REQUIREMENTS)
    if python.exists() and stamp.exists() and stamp.read_text() == wanted:
        return python
    base = find_python(version)
    if base is None:
        raise BuildError(f"no Python {version} found (set LAMBDA_PYTHON, or install it with pyenv)")
    shutil.rmtree(venv, ignore_errors=True)
    for command in (
        [str(base), "-m", "venv", str(venv)],
        [
            str(python),
            "-m",
            "pip",
            "install",
            "--quiet",
            "--disable-pip-version-check",
            *RUNTIME_REQUIREMENTS,
        ],
    ):
        done = subprocess.run(command, capture_output=True, text=True, check=False)
        if done.returncode != 0:
            raise BuildError(f"{' '.join(command)} failed:\n{done.stderr[-2000:]}")
    stamp.write_text(wanted)
    return python


def main(argv: Sequence[str] | None = None) -> int:
    """``python -m localcloud.packaging [build|runtime] [--arch arm64] [--out DIR]``."""
    from localcloud.template import load_template

    parser = argparse.ArgumentParser(
        prog="python -m localcloud.packaging",
        description="Build the Lambda packages and measure them.",
    )
    parser.add_argument(
        "command",
        nargs="?",
        choices=["build", "runtime"],
        default="build",
        help="build the packages (default), or print the runtime Python's path",
    )
    parser.add_argument("--arch", choices=ARCHITECTURES, default=None)
    parser.add_argument("--root", type=Path, default=Path.cwd())
    parser.add_argument(
        "--out", type=Path, default=None, help="build folder (default .aws-sam/packages-<arch>)"
    )
    args = parser.parse_args(argv)
    arch = args.arch or host_architecture()
    root = args.root.resolve()
    if args.command == "runtime":
        try:
            print(runtime_python(root))
        except BuildError as exc:
            print(f"error: {exc}", file=sys.stderr)
            return 1
        return 0
    out = args.out or root / ".aws-sam" / f"packages-{arch}"
    build = build_packages(root, load_template(root / "template.yaml"), out, architecture=arch)
    print(json.dumps(size_report(build), indent=2))
    too_big = [r for r in size_report(build) if r["share_of_limit"] > 1]
    return 1 if too_big else 0


if __name__ == "__main__":
    sys.exit(main())
