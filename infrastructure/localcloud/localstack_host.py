"""A LocalStack without Docker, for the LocalStack tier in CI and on machines like CI's.

LocalStack's own Lambda runs functions in Docker containers and its DynamoDB downloads
DynamoDB Local; neither works where there is no Docker engine and no network but the package
registries. Two small LocalStack plugins (``shared/localstack-hostmode`` beside the checkout;
test tooling, not part of the product) replace them: a Lambda executor that runs each function
as a host process of a Python 3.12 interpreter (:func:`localcloud.packaging.runtime_python`,
which has boto3 and nothing else, like the Lambda runtime), and DynamoDB served by the moto
bundled with LocalStack. So on this target DynamoDB is moto, as in the embedded cloud; the rest
(CloudFormation with the SAM transform, Lambda invocation, SQS event source mappings, S3
notifications, SNS, Step Functions, API Gateway, KMS) is LocalStack's own.

``python -m localcloud.localstack_host start`` installs LocalStack into ``.local/`` (once), starts
it on 127.0.0.1:4566, waits for its health endpoint (bounded) and returns; ``stop`` ends it by
the PID it wrote. ``.ci/run`` does both around ``make test``. ``install`` alone makes both
environments (LocalStack's and the runtime's) and needs nothing but the standard library, so CI
runs it with the machine's Python while the project's own environment installs.
"""

from __future__ import annotations

import argparse
import contextlib
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from collections.abc import Sequence
from pathlib import Path

from localcloud.packaging import BuildError, runtime_python

#: Measured to work on Python 3.11 without Docker (newer releases need Python 3.13).
LOCALSTACK_REQUIREMENTS = (
    "localstack-core[runtime]==4.9.2",
    "pyopenssl==25.3.0",
    "cryptography==46.0.7",
    "cbor2<6",
    "service-identity",
)
DEFAULT_PORT = 4566
PLUGINS_ENV = "LOCALSTACK_HOSTMODE_PLUGINS"


class HostModeError(RuntimeError):
    """LocalStack could not be installed, or did not come up in time (with the reason)."""


def _local(root: Path) -> Path:
    return root / ".local"


def plugins_dir(root: Path) -> Path:
    """Where the two plugins are: ``$LOCALSTACK_HOSTMODE_PLUGINS``, else ``../shared/...``."""
    configured = os.environ.get(PLUGINS_ENV)
    folder = Path(configured) if configured else root.parent / "shared" / "localstack-hostmode"
    if not (folder / "hostexec_plugin.py").is_file() or not (folder / "ddbmoto").is_dir():
        raise HostModeError(
            f"the host-mode plugins are not at {folder} (set {PLUGINS_ENV} to their folder)"
        )
    return folder


def _run(command: list[str], what: str) -> None:
    done = subprocess.run(command, capture_output=True, text=True, check=False)
    if done.returncode != 0:
        raise HostModeError(f"{what} failed:\n{done.stderr[-2000:]}")


def install(root: Path) -> Path:
    """LocalStack and the plugins in their own virtual environment; returns its Python.

    LocalStack pins its own versions of libraries the project also uses, so it never shares
    the project's environment. Reinstalled only when the pinned list or the plugins change.
    """
    venv = _local(root) / "localstack-venv"
    python = venv / "bin" / "python"
    plugins = plugins_dir(root)
    fingerprint = "\n".join(
        [*LOCALSTACK_REQUIREMENTS]
        + [f"{p.name}:{p.stat().st_mtime_ns}" for p in sorted(plugins.rglob("*.py"))]
    )
    stamp = venv / ".installed"
    if python.exists() and stamp.exists() and stamp.read_text() == fingerprint:
        return python
    shutil.rmtree(venv, ignore_errors=True)
    _run([sys.executable, "-m", "venv", str(venv)], "creating LocalStack's virtual environment")
    pip = [str(python), "-m", "pip", "install", "--quiet", "--disable-pip-version-check"]
    _run([*pip, *LOCALSTACK_REQUIREMENTS], "installing LocalStack")
    # pip builds a local project in place, and shared/ may be read-only: build from a copy.
    with tempfile.TemporaryDirectory() as scratch:
        copy = Path(scratch) / "plugins"
        shutil.copytree(plugins, copy)
        for path in copy.rglob("*"):
            path.chmod(path.stat().st_mode | 0o200)
        _run([*pip, str(copy), str(copy / "ddbmoto")], "installing the host-mode plugins")
    stamp.write_text(fingerprint)
    return python


def _runtime_python(root: Path) -> Path:
    """The Python 3.12 with boto3 only that runs the functions (made once)."""
    try:
        return runtime_python(root)
    except BuildError as exc:
        raise HostModeError(str(exc)) from None


def _pid_file(root: Path) -> Path:
    return _local(root) / "localstack.pid"


def start(root: Path, port: int = DEFAULT_PORT, timeout: float = 90.0) -> int:
    """Install if needed, start LocalStack on 127.0.0.1:``port``, and wait until it is healthy.

    Returns the PID. A fresh state folder each time: nothing of an earlier run is served.

    Raises
    ------
    HostModeError
        Naming why: the port is taken, the install failed, the process died (with the end of
        its log), or it was not healthy within ``timeout`` seconds.
    """
    from localcloud.localstack import is_localstack_running  # PyYAML and boto3: not for install

    endpoint = f"http://127.0.0.1:{port}"
    if is_localstack_running(endpoint, timeout=1.0)[0]:
        raise HostModeError(f"something already answers at {endpoint}; stop it first")
    python = install(root)
    lambda_python = _runtime_python(root)
    state = _local(root) / "localstack-state"
    shutil.rmtree(state, ignore_errors=True)
    state.mkdir(parents=True)
    log_path = _local(root) / "localstack.log"
    env = {
        **os.environ,
        # These machines have a /.dockerenv file; LocalStack must not think it runs in Docker.
        "OVERRIDE_IN_DOCKER": "0",
        "FILESYSTEM_ROOT": str(state),
        "GATEWAY_LISTEN": f"127.0.0.1:{port}",
        "DNS_ADDRESS": "0",
        "DISABLE_EVENTS": "1",
        "LAMBDA_RUNTIME_EXECUTOR": "host",
        "HOSTEXEC_PYTHON": str(lambda_python),
        # The template declares arm64; the host executor runs the functions natively.
        "LAMBDA_IGNORE_ARCHITECTURE": "1",
        "PROVIDER_OVERRIDE_DYNAMODB": "moto",
        "PROVIDER_OVERRIDE_DYNAMODBSTREAMS": "moto",
    }
    with log_path.open("wb") as log:
        process = subprocess.Popen(
            [str(python), "-m", "localstack.runtime.main"],
            stdout=log,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
            env=env,
            cwd=state,
            start_new_session=True,  # outlives this command; stopped by its PID
        )
    _pid_file(root).write_text(str(process.pid))
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            tail = log_path.read_text(errors="replace")[-3000:]
            raise HostModeError(f"LocalStack exited with {process.returncode}:\n{tail}")
        running, _ = is_localstack_running(endpoint, timeout=1.0)
        if running:
            return process.pid
        time.sleep(0.5)
    stop(root)
    tail = log_path.read_text(errors="replace")[-3000:]
    raise HostModeError(f"LocalStack was not healthy at {endpoint} after {timeout:.0f} s:\n{tail}")


def stop(root: Path, timeout: float = 20.0) -> bool:
    """End the LocalStack :func:`start` started (TERM, then KILL); ``False`` if none ran."""
    pid_file = _pid_file(root)
    if not pid_file.exists():
        return False
    pid = int(pid_file.read_text().strip())
    pid_file.unlink()
    try:
        os.killpg(pid, signal.SIGTERM)  # its session: LocalStack and the function processes
    except ProcessLookupError:
        return False
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            os.kill(pid, 0)
        except ProcessLookupError:
            return True
        with contextlib.suppress(ChildProcessError):
            os.waitpid(pid, os.WNOHANG)
        time.sleep(0.2)
    with contextlib.suppress(ProcessLookupError):
        os.killpg(pid, signal.SIGKILL)
    return True


def main(argv: Sequence[str] | None = None) -> int:
    """``python -m localcloud.localstack_host install|start|stop [--port N]``."""
    parser = argparse.ArgumentParser(
        prog="python -m localcloud.localstack_host", description=__doc__.split("\n\n")[0]
    )
    parser.add_argument("command", choices=["install", "start", "stop"])
    parser.add_argument("--port", type=int, default=DEFAULT_PORT)
    parser.add_argument("--timeout", type=float, default=90.0, help="seconds to become healthy")
    parser.add_argument("--root", type=Path, default=Path.cwd())
    args = parser.parse_args(argv)
    root = args.root.resolve()
    try:
        if args.command == "install":
            print(install(root))
            print(_runtime_python(root))
        elif args.command == "start":
            started = time.monotonic()
            pid = start(root, args.port, args.timeout)
            print(
                f"LocalStack (host mode) pid {pid} at http://127.0.0.1:{args.port}, "
                f"healthy after {time.monotonic() - started:.1f} s",
                file=sys.stderr,
            )
        else:
            print("stopped" if stop(root) else "no LocalStack was running", file=sys.stderr)
    except HostModeError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
