"""``python -m benchmarks [NAME ...]``: run the benchmarks and print one Markdown report."""

from __future__ import annotations

import argparse
import importlib
import shlex
import subprocess
import sys
import time
from collections.abc import Sequence
from datetime import UTC, datetime

from benchmarks import NAMES, ROOT, Options, machine, table


def _revision() -> str:
    """The checkout's commit, and whether the work tree differs from it (read-only git)."""
    try:
        head = subprocess.run(
            ["git", "rev-parse", "--short", "HEAD"],
            cwd=ROOT,
            capture_output=True,
            text=True,
            timeout=10,
            check=True,
        ).stdout.strip()
        dirty = subprocess.run(
            ["git", "status", "--porcelain", "--untracked-files=no"],
            cwd=ROOT,
            capture_output=True,
            text=True,
            timeout=10,
            check=True,
        ).stdout.strip()
    except (OSError, subprocess.SubprocessError):
        return "unknown"
    return f"`{head}`" + (" with uncommitted changes" if dirty else "")


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m benchmarks",
        description="The foundation's benchmarks (by hand, never in CI); Markdown on stdout.",
    )
    parser.add_argument(
        "names", nargs="*", metavar="NAME", help=f"which to run (default: all): {', '.join(NAMES)}"
    )
    defaults = Options()
    parser.add_argument(
        "--runs",
        type=int,
        default=defaults.runs,
        help="repetitions of each start-up measurement (default %(default)s)",
    )
    parser.add_argument(
        "--imports",
        type=int,
        default=defaults.imports,
        help="fresh processes per function for cold imports (default %(default)s)",
    )
    parser.add_argument(
        "--requests",
        type=int,
        default=defaults.requests,
        help="measured requests per latency scenario (default %(default)s)",
    )
    parser.add_argument(
        "--warmup",
        type=int,
        default=defaults.warmup,
        help="unmeasured requests per latency scenario (default %(default)s)",
    )
    parser.add_argument(
        "--time-limit",
        type=float,
        default=defaults.time_limit,
        help="seconds after which any one loop stops (default %(default)s)",
    )
    args = parser.parse_args(argv)
    unknown = [n for n in args.names if n not in NAMES]
    if unknown:
        parser.error(f"unknown benchmark {', '.join(unknown)}; choose from {', '.join(NAMES)}")
    for name in ("runs", "imports", "requests"):
        if getattr(args, name) < 1:
            parser.error(f"--{name} must be at least 1")
    options = Options(
        runs=args.runs,
        imports=args.imports,
        requests=args.requests,
        warmup=max(0, args.warmup),
        time_limit=min(max(1.0, args.time_limit), 60.0),
    )
    names = args.names or list(NAMES)
    command = shlex.join(["python", "-m", "benchmarks", *(argv or sys.argv[1:])])

    print("# Digital Gyeonggi benchmarks\n")
    print(
        f"`{command}` on {datetime.now(UTC).strftime('%Y-%m-%d %H:%M UTC')}, "
        f"checkout {_revision()}\n"
    )
    print(table(["machine", ""], machine().items()))
    print(
        "\nMachines are noisy (2 shared cores here): figures are medians unless a column says "
        "otherwise; compare runs of the same machine only.\n",
        flush=True,
    )
    failed = 0
    for name in names:
        module = importlib.import_module(f"benchmarks.{name}")
        started = time.perf_counter()
        try:
            section = module.run(options)
        except Exception as exc:  # one benchmark failing must not hide the others' figures
            failed += 1
            section = f"## {name}\n\n**failed**: {type(exc).__name__}: {exc}"
        print(section)
        print(f"\n_({name}: {time.perf_counter() - started:.0f} s)_\n", flush=True)
    return 1 if failed else 0


if __name__ == "__main__":
    raise SystemExit(main())
