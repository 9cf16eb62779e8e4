"""Benchmarks of the foundation, run by hand and never in CI.

    python -m benchmarks                 every benchmark, one Markdown report on stdout
    python -m benchmarks startup         one of: startup, cold_import, api_latency, forms, ...

Each benchmark module has ``run(options) -> str`` returning a Markdown section. Everything
heavy (moto, the local cloud, the functions) is imported inside the benchmarks or in child
processes, so that importing this package costs nothing and cold measurements stay cold.
Servers listen on 127.0.0.1 only, and every loop is bounded in count and in time.
"""

from __future__ import annotations

import os
import platform
import socket
import statistics
import sys
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
"""The project checkout (where ``template.yaml`` is)."""

NAMES = (
    "startup",
    "cold_import",
    "api_latency",
    "forecast",
    "classify",
    "alarm_path",
    "video",
    "package_sizes",
    "wallet",
    "forms",
    "datadam_ingest",
    "datadam_query",
)
"""The benchmarks, in the order ``python -m benchmarks`` runs them."""

REGION = "ap-northeast-2"
ACCOUNT_ID = "123456789012"

# Variables of this process that must not leak into a child that should look like a fresh
# machine (a developer's own AWS profile, an endpoint left over from another tool...).
_LEAKY_PREFIXES = ("AWS_", "POWERTOOLS_", "MOTO_", "LAMBDA_", "_HANDLER", "PYTHON")


@dataclass(frozen=True)
class Options:
    """Knobs shared by the benchmarks (all have defaults that fit a 2-core machine)."""

    runs: int = 3
    """Repetitions of process-level measurements (start-up: 3; cold import uses ``imports``)."""
    imports: int = 5
    """Fresh processes per function for the cold-import medians."""
    requests: int = 500
    """Measured requests per latency scenario (after ``warmup``)."""
    warmup: int = 20
    """Requests per scenario that are sent but not measured."""
    time_limit: float = 60.0
    """Seconds after which any one loop stops, whatever it has done."""


def python() -> str:
    """The interpreter of the project's virtualenv (the one running the benchmarks)."""
    return sys.executable


def venv_script(name: str) -> Path:
    """A console script installed next to this interpreter (``gyeonggi``, ``moto_server``)."""
    return Path(sys.executable).parent / name


def clean_environment(extra: dict[str, str] | None = None) -> dict[str, str]:
    """This process's environment without AWS, Powertools or Lambda variables, plus ``extra``."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(_LEAKY_PREFIXES)}
    env.update(extra or {})
    return env


def free_ports(count: int) -> list[int]:
    """``count`` distinct free TCP ports on 127.0.0.1 (held together so they differ)."""
    sockets = []
    try:
        for _ in range(count):
            s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
            s.bind(("127.0.0.1", 0))
            sockets.append(s)
        return [int(s.getsockname()[1]) for s in sockets]
    finally:
        for s in sockets:
            s.close()


def percentile(values: Sequence[float], q: float) -> float:
    """The ``q``-th percentile (0-100) by the nearest-rank method; NaN for no values."""
    if not values:
        return float("nan")
    ordered = sorted(values)
    rank = max(1, min(len(ordered), int(-(-q * len(ordered) // 100))))
    return ordered[rank - 1]


def median(values: Iterable[float]) -> float:
    """The median, NaN for no values."""
    data = list(values)
    return statistics.median(data) if data else float("nan")


def ms(seconds: float) -> str:
    """Seconds shown as milliseconds."""
    return "n/a" if seconds != seconds else f"{seconds * 1000:.1f} ms"


def sec(seconds: float) -> str:
    """Seconds shown as seconds."""
    return "n/a" if seconds != seconds else f"{seconds:.2f} s"


def table(
    headers: Sequence[str], rows: Iterable[Sequence[object]], right: Iterable[int] = ()
) -> str:
    """A Markdown table; the columns whose indexes are in ``right`` are right-aligned."""
    aligned = set(right)
    lines = ["| " + " | ".join(headers) + " |"]
    lines.append(
        "| " + " | ".join("---:" if i in aligned else "---" for i in range(len(headers))) + " |"
    )
    for row in rows:
        lines.append("| " + " | ".join(str(c).replace("|", "\\|") for c in row) + " |")
    return "\n".join(lines)


def goal(met: bool) -> str:
    """A goal's verdict, as the report spells it."""
    return "**met**" if met else "**not met**"


def machine() -> dict[str, str]:
    """What the figures were measured on."""
    cpu = "unknown"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    ram = "unknown"
    try:
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemTotal:"):
                ram = f"{int(line.split()[1]) / 1024 / 1024:.1f} GiB"
                break
    except (OSError, ValueError):
        pass
    os_name = platform.system()
    try:
        for line in Path("/etc/os-release").read_text().splitlines():
            if line.startswith("PRETTY_NAME="):
                os_name = line.split("=", 1)[1].strip('"')
    except OSError:
        pass
    cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()
    return {
        "nproc": str(cores),
        "CPU": cpu,
        "RAM": ram,
        "Python": f"{platform.python_implementation()} {platform.python_version()}",
        "OS": f"{os_name} (kernel {platform.release()})",
    }
