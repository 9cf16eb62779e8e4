"""Start-up: from ``gyeonggi local up`` to the API answering, and where the time goes.

Three measurements, each in fresh processes so that nothing is warm:

1. **The user's path.** ``gyeonggi local up`` is spawned as a user would run it; the HTTP API is
   polled until it answers (a 404 for an unknown complaint is an answer), then the banner's
   "Ready." is awaited and SIGINT sent to the process group (what Ctrl-C in a terminal does);
   the time to a clean exit, and the exit status, are recorded.
2. **LocalCloud's own timings** (``cloud.timings``: moto, deploy, total) from a child process
   that imports ``localcloud.cloud`` and calls ``start()``: once configured as ``local up`` is
   (moto server, API server, MQTT broker), once embedded (moto in-process, no servers).
3. **Where it goes.** One embedded start under cProfile (moto's work runs in the profiled
   thread only when it is embedded), and one ``local up``-like start under ``-X importtime``.
"""

from __future__ import annotations

import contextlib
import json
import os
import pstats
import re
import signal
import subprocess
import sys
import tempfile
import textwrap
import time
import urllib.error
import urllib.request
from collections import defaultdict
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from benchmarks import (
    ROOT,
    Options,
    clean_environment,
    free_ports,
    goal,
    median,
    python,
    sec,
    table,
    venv_script,
)

GOAL_S = 3.0
PROBE_PATH = "/open311/v2/requests/GG-20260101-00000000.json"
POLL_INTERVAL_S = 0.05
STOP_TIMEOUT_S = 30.0

# The child that starts a LocalCloud by itself: argv = mode, root, state_dir, out, profile or
# "-", moto_port, api_port, mqtt_port. Kept free of the benchmarks package so that its imports
# are only the ones the local cloud needs.
_CHILD = textwrap.dedent(
    """
    import json, sys, time
    t0 = time.perf_counter()
    from pathlib import Path
    mode, root, state_dir, out, prof = sys.argv[1:6]
    moto_port, api_port, mqtt_port = (int(p) for p in sys.argv[6:9])
    from localcloud.cloud import LocalCloud
    import_s = time.perf_counter() - t0
    kwargs = {}
    if mode == "server":
        kwargs = dict(server=True, moto_port=moto_port, api_port=api_port, mqtt_port=mqtt_port)
    cloud = LocalCloud(Path(root), state_dir=Path(state_dir), **kwargs)
    profiler = None
    if prof != "-":
        import cProfile
        profiler = cProfile.Profile()
        profiler.enable()
    try:
        cloud.start()
    finally:
        if profiler is not None:
            profiler.disable()
            profiler.dump_stats(prof)
    t1 = time.perf_counter()
    cloud.stop()
    result = {"import_s": import_s, "timings": cloud.timings, "stop_s": time.perf_counter() - t1}
    Path(out).write_text(json.dumps(result))
    """
)

_NO_PROXY = urllib.request.build_opener(urllib.request.ProxyHandler({}))


# ---------------------------------------------------------------------- 1. the user's path
@dataclass
class UpRun:
    """One ``gyeonggi local up`` from spawn to exit."""

    answered_s: float = float("nan")
    """Spawn to the first HTTP answer of the API."""
    status: int | None = None
    """The HTTP status of that answer (404 expected)."""
    ready_s: float = float("nan")
    """Spawn to "Ready." in the output (API key issued, banner printed)."""
    stop_s: float = float("nan")
    """SIGINT to the process's exit."""
    exit_code: int | None = None
    error: str = ""


def _probe(url: str) -> int | None:
    """The HTTP status the API answers with, or None while nothing listens."""
    try:
        with _NO_PROXY.open(url, timeout=2) as response:
            return int(response.status)
    except urllib.error.HTTPError as exc:
        return int(exc.code)
    except (urllib.error.URLError, ConnectionError, OSError):
        return None


def _kill_group(proc: subprocess.Popen[bytes], log_text: str) -> None:
    """Last resort for a child that did not stop: kill its group and its MQTT broker."""
    with contextlib.suppress(ProcessLookupError):
        os.killpg(proc.pid, signal.SIGKILL)
    proc.wait(10)
    for pid in re.findall(r"mosquitto \(pid (\d+)\)", log_text):
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.kill(int(pid), signal.SIGTERM)


def measure_local_up(time_limit: float) -> UpRun:
    """Spawn ``gyeonggi local up`` on free ports; time the API's first answer and the stop."""
    run = UpRun()
    moto_port, api_port, mqtt_port = free_ports(3)
    url = f"http://127.0.0.1:{api_port}{PROBE_PATH}"
    with tempfile.TemporaryDirectory(prefix="bench-up-") as tmp:
        log_path = Path(tmp) / "up.log"
        command = [
            str(venv_script("gyeonggi")),
            "--state-dir",
            str(Path(tmp) / "state"),
            "local",
            "up",
            "--api-port",
            str(api_port),
            "--mqtt-port",
            str(mqtt_port),
            "--moto-port",
            str(moto_port),
        ]
        with log_path.open("wb") as log:
            started = time.perf_counter()
            proc = subprocess.Popen(
                command,
                cwd=ROOT,
                stdout=log,
                stderr=subprocess.STDOUT,
                stdin=subprocess.DEVNULL,
                env=clean_environment(),
                start_new_session=True,
            )
        deadline = started + time_limit
        try:
            while time.perf_counter() < deadline and proc.poll() is None:
                status = _probe(url)
                if status is not None:
                    run.answered_s = time.perf_counter() - started
                    run.status = status
                    break
                time.sleep(POLL_INTERVAL_S)
            while time.perf_counter() < deadline and proc.poll() is None:
                if b"Ready." in log_path.read_bytes():
                    run.ready_s = time.perf_counter() - started
                    break
                time.sleep(POLL_INTERVAL_S)
            if proc.poll() is not None:
                run.exit_code = proc.returncode
                run.error = f"exited early with {proc.returncode}: " + _tail(log_path)
                return run
            if run.status is None:
                run.error = f"no answer within {time_limit:.0f} s"
            stop_started = time.perf_counter()
            os.killpg(proc.pid, signal.SIGINT)  # what Ctrl-C in a terminal sends
            try:
                run.exit_code = proc.wait(STOP_TIMEOUT_S)
                run.stop_s = time.perf_counter() - stop_started
            except subprocess.TimeoutExpired:
                run.error = f"still running {STOP_TIMEOUT_S:.0f} s after SIGINT; killed"
            if run.exit_code not in (0, None) and not run.error:
                run.error = f"exit status {run.exit_code}: " + _tail(log_path)
        finally:
            if proc.poll() is None:
                _kill_group(proc, log_path.read_text(errors="replace"))
    return run


def _tail(path: Path, lines: int = 3) -> str:
    text = path.read_text(errors="replace").strip().splitlines()
    return " / ".join(text[-lines:])[-400:]


# ---------------------------------------------------------------------- 2. and 3. children
def _start_child(
    mode: str,
    time_limit: float,
    *,
    profile: Path | None = None,
    importtime: bool = False,
) -> tuple[dict[str, Any], str]:
    """Run one LocalCloud start in a fresh process; returns its figures and its stderr."""
    with tempfile.TemporaryDirectory(prefix="bench-start-") as tmp:
        out = Path(tmp) / "result.json"
        err_path = Path(tmp) / "stderr.txt"
        argv = [python()] + (["-X", "importtime"] if importtime else [])
        argv += ["-c", _CHILD, mode, str(ROOT), str(Path(tmp) / "state"), str(out)]
        argv += [str(profile) if profile else "-", *map(str, free_ports(3))]
        with err_path.open("wb") as err:
            started = time.perf_counter()
            proc = subprocess.run(
                argv,
                cwd=ROOT,
                stdout=subprocess.DEVNULL,
                stderr=err,
                stdin=subprocess.DEVNULL,
                env=clean_environment(),
                timeout=time_limit + STOP_TIMEOUT_S,
                check=False,
            )
        wall = time.perf_counter() - started
        stderr = err_path.read_text(errors="replace")
        if proc.returncode != 0 or not out.exists():
            raise RuntimeError(f"LocalCloud start ({mode}) failed: {stderr.strip()[-800:]}")
        result: dict[str, Any] = json.loads(out.read_text())
        result["wall_s"] = wall
        return result, stderr


# ---------------------------------------------------------------------- profile analysis
# Named contributors: (label, file path fragment, function name). Their cumulative times
# overlap (an import inside a request is in both); indentation in the report shows nesting.
CONTRIBUTORS: tuple[tuple[str, str, str], ...] = (
    ("LocalCloud.start, profiled", "localcloud/cloud.py", "start"),
    ("start moto (mock_aws)", "localcloud/cloud.py", "_start_moto"),
    ("Deployer.deploy", "localcloud/deployer.py", "deploy"),
    ("  load_template: cfn-lint's YAML decoder", "localcloud/template.py", "load_template"),
    ("  package: zip the code, put it to S3", "localcloud/template.py", "package"),
    ("  transform: aws-sam-translator", "localcloud/template.py", "transform"),
    ("  create the state machine", "localcloud/deployer.py", "_state_machine"),
    ("  create the Lambda functions", "localcloud/deployer.py", "_lambda_function"),
    ("  create the layer version", "localcloud/deployer.py", "_lambda_layer"),
    ("  create the IAM roles", "localcloud/deployer.py", "_iam_role"),
    ("  create the DynamoDB tables", "localcloud/deployer.py", "_dynamodb_table"),
    ("  create the KMS keys", "localcloud/deployer.py", "_kms_key"),
    ("  create the SQS queues", "localcloud/deployer.py", "_sqs_queue"),
    ("  create the IoT topic rule", "localcloud/deployer.py", "_topic_rule"),
    ("  create the REST API", "localcloud/deployer.py", "_rest_api"),
    ("local token issuer (RSA keys)", "localcloud/cloud.py", "_start_issuer"),
    ("register the functions", "localcloud/cloud.py", "_register_functions"),
    ("start the SQS pollers", "localcloud/cloud.py", "_start_pollers"),
    ("across all of the above:", "", ""),
    ("  Python imports (all modules first imported during start)", "<frozen", "_find_and_load"),
    (
        "  moto's Step Functions parser import (moto.stepfunctions.parser)",
        "moto/stepfunctions/parser/models.py",
        "<module>",
    ),
    ("    of which moto.ec2 (pulled in by moto.batch)", "moto/ec2/__init__.py", "<module>"),
    (
        "      of which ec2 RegionsAndZonesBackend: get_available_regions x every service",
        "moto/ec2/models/availability_zones_and_regions.py",
        "RegionsAndZonesBackend",
    ),
    (
        "  moto handling the AWS calls (botocore stubber)",
        "moto/core/botocore_stubber.py",
        "__call__",
    ),
    ("  botocore client creation (Session.create_client)", "botocore/session.py", "create_client"),
    (
        "  botocore endpoint resolver, once per new Session (endpoints.json)",
        "botocore/session.py",
        "create_default_resolver",
    ),
    ("  botocore JSON data files read (loaders.load_file)", "botocore/loaders.py", "load_file"),
    (
        "  moto loading botocore service models to parse requests",
        "moto/core/utils.py",
        "_load_service_model",
    ),
)


def _cumulative(stats: dict[Any, Any], fragment: str, name: str) -> tuple[float, int]:
    """Cumulative seconds and calls of every profiled function matching (file, name)."""
    total, calls = 0.0, 0
    for (filename, _line, func), (_cc, nc, _tt, ct, _callers) in stats.items():
        if func == name and fragment in filename:
            total += ct
            calls += nc
    return total, calls


def _owner(filename: str) -> str | None:
    """The package a profiled function belongs to; None for stdlib, builtins and importlib."""
    if "site-packages/" in filename:
        top = filename.split("site-packages/", 1)[1].split("/", 1)[0]
        return top.removesuffix(".py")
    if filename.startswith(str(ROOT / "infrastructure")):
        return "localcloud"
    if filename.startswith(str(ROOT / "layers")):
        return "gyeonggi"
    if filename.startswith(str(ROOT / "functions")):
        return "functions"
    return None


def self_time_by_package(stats: dict[Any, Any]) -> list[tuple[str, float]]:
    """Exclusive time per package; stdlib, C builtins and the import machinery are charged to
    the packages that called them, in proportion to each caller's share of their time."""
    shares: dict[Any, dict[str, float]] = {}
    visiting: set[Any] = set()

    def share(func: Any) -> dict[str, float]:
        if func in shares:
            return shares[func]
        owner = _owner(func[0])
        if owner is not None:
            shares[func] = {owner: 1.0}
            return shares[func]
        if func in visiting or func not in stats:
            return {}
        visiting.add(func)
        callers = stats[func][4]
        weights = {c: edge[3] for c, edge in callers.items()}
        total = sum(weights.values()) or float(len(weights)) or 1.0
        result: dict[str, float] = defaultdict(float)
        for caller, weight in weights.items():
            w = (weight or (total / len(weights))) / total
            for package, part in share(caller).items():
                result[package] += w * part
        visiting.discard(func)
        norm = sum(result.values())
        resolved = {k: v / norm for k, v in result.items()} if norm else {"(unattributed)": 1.0}
        shares[func] = resolved
        return resolved

    totals: dict[str, float] = defaultdict(float)
    limit = sys.getrecursionlimit()
    sys.setrecursionlimit(max(limit, 20000))
    try:
        for func, (_cc, _nc, tt, _ct, _callers) in stats.items():
            for package, part in share(func).items():
                totals[package] += tt * part
    finally:
        sys.setrecursionlimit(limit)
    return sorted(totals.items(), key=lambda kv: -kv[1])


def import_time_by_package(stderr: str) -> tuple[list[tuple[str, float]], float]:
    """Self import time per package from ``-X importtime`` output (moto split by service)."""
    totals: dict[str, float] = defaultdict(float)
    for line in stderr.splitlines():
        if not line.startswith("import time:") or "self [us]" in line:
            continue
        try:
            self_us, _cumulative, name = line.split(":", 1)[1].split("|")
            micros = int(self_us.strip())
        except ValueError:
            continue
        name = name.strip()
        parts = name.split(".")
        key = ".".join(parts[:2]) if parts[0] == "moto" and len(parts) > 1 else parts[0]
        totals[key] += micros / 1e6
    return sorted(totals.items(), key=lambda kv: -kv[1]), sum(totals.values())


# ---------------------------------------------------------------------- the report
@contextlib.contextmanager
def _profile_file() -> Iterator[Path]:
    with tempfile.TemporaryDirectory(prefix="bench-prof-") as tmp:
        yield Path(tmp) / "start.prof"


def run(options: Options) -> str:
    """Run the start-up benchmark; returns its Markdown section."""
    out: list[str] = ["## Start-up: `gyeonggi local up` until the API answers", ""]

    runs = [measure_local_up(options.time_limit) for _ in range(options.runs)]
    rows = []
    for i, r in enumerate(runs, 1):
        rows.append(
            [
                i,
                sec(r.answered_s),
                r.status if r.status is not None else "-",
                sec(r.ready_s),
                sec(r.stop_s),
                r.exit_code if r.exit_code is not None else "-",
                r.error or "",
            ]
        )
    answered = [r.answered_s for r in runs if r.status is not None]
    stops = [r.stop_s for r in runs if r.exit_code == 0]
    rows.append(["min", sec(min(answered, default=float("nan"))), "", "", "", "", ""])
    rows.append(
        [
            "median",
            sec(median(answered)),
            "",
            sec(median(r.ready_s for r in runs if r.ready_s == r.ready_s)),
            sec(median(stops)),
            "",
            "",
        ]
    )
    out.append(
        f"`gyeonggi local up` spawned {options.runs} times on free ports of 127.0.0.1; "
        f"`GET {PROBE_PATH}` polled every {POLL_INTERVAL_S * 1000:.0f} ms until it answers; "
        "then SIGINT to the process group once the banner says Ready."
    )
    out.append("")
    out.append(
        table(
            ["run", "spawn to API answer", "HTTP", "spawn to Ready.", "SIGINT to exit", "exit", ""],
            rows,
            right=(1, 3, 4),
        )
    )
    all_clean = len(stops) == len(runs) and all(r.exit_code == 0 for r in runs)
    best = median(answered)
    out += [
        "",
        f"- Goal: API answering in under {GOAL_S:.0f} s: {goal(best < GOAL_S)} "
        f"(median {sec(best)}).",
        f"- Goal: clean exit (status 0) on SIGINT: {goal(all_clean)}.",
        "",
    ]

    # -- LocalCloud's own timings, fresh process each
    out += ["### What `LocalCloud.start()` records (`cloud.timings`), fresh process each", ""]
    timing_rows = []
    kept: dict[str, list[dict[str, Any]]] = {}
    for mode, label in (
        ("server", "as `local up` (moto server, API, MQTT)"),
        ("embedded", "embedded (moto in-process, no servers)"),
    ):
        results = [_start_child(mode, options.time_limit)[0] for _ in range(options.runs)]
        kept[mode] = results

        def med(key: str, rs: list[dict[str, Any]] = results) -> float:
            return median(r["timings"].get(key, float("nan")) for r in rs)

        other = median(
            r["timings"]["total"] - r["timings"]["moto"] - r["timings"]["deploy"] for r in results
        )
        timing_rows.append(
            [
                label,
                sec(median(r["import_s"] for r in results)),
                sec(med("moto")),
                sec(med("deploy")),
                sec(other),
                sec(med("total")),
                sec(median(r["stop_s"] for r in results)),
                sec(median(r["wall_s"] for r in results)),
            ]
        )
    out.append(
        table(
            [
                "configuration",
                "import localcloud.cloud",
                "moto",
                "deploy",
                "rest of start",
                "total",
                "stop()",
                "process wall",
            ],
            timing_rows,
            right=range(1, 8),
        )
    )
    server_total = median(r["timings"]["total"] for r in kept["server"])
    out += [
        "",
        f"Medians of {options.runs} runs. *rest of start* is the local issuer's keys, "
        "function registration, SQS pollers, MQTT broker and API server. "
        f"Spawn-to-answer minus `local up`'s in-process total ({sec(best)} - "
        f"{sec(server_total)} = {sec(best - server_total)}) is the interpreter, the CLI's "
        "imports and the polling granularity.",
        "",
    ]

    # -- cProfile of an embedded start
    with _profile_file() as prof_path:
        profiled, _ = _start_child("embedded", options.time_limit, profile=prof_path)
        raw: dict[Any, Any] = pstats.Stats(str(prof_path)).stats  # type: ignore[attr-defined]
    deploy_s = profiled["timings"]["deploy"]
    out += [
        "### Where the deploy goes (cProfile, one embedded start, cumulative times)",
        "",
        f"Deploy took {sec(deploy_s)} in this profiled run "
        f"(start total {sec(profiled['timings']['total'])}; profiling adds overhead). "
        "Indented rows are part of the row above; the rows under *across all of the above* "
        "cut across the phases (an import triggered by a request is counted in both).",
        "",
    ]
    contributor_rows: list[list[object]] = []
    figures: dict[str, float] = {}
    for label, fragment, name in CONTRIBUTORS:
        if not fragment:
            contributor_rows.append([f"*{label}*", "", "", ""])
            continue
        seconds, calls = _cumulative(raw, fragment, name)
        figures[name + "@" + fragment] = seconds
        share = f"{seconds / deploy_s * 100:.0f} %" if deploy_s else ""
        contributor_rows.append([label.replace("  ", "&nbsp;&nbsp;"), sec(seconds), calls, share])
    out.append(
        table(
            ["contributor", "cumulative", "calls", "of deploy"], contributor_rows, right=(1, 2, 3)
        )
    )
    out += ["", "Exclusive time by package (stdlib, C builtins and importlib charged to callers):"]
    out.append("")
    by_package = self_time_by_package(raw)[:12]
    profiled_total = sum(t for _, t in self_time_by_package(raw))
    out.append(
        table(
            ["package", "self time", "share"],
            [[p, sec(t), f"{t / profiled_total * 100:.0f} %"] for p, t in by_package],
            right=(1, 2),
        )
    )

    # -- -X importtime of a local-up-like start
    _, stderr = _start_child("server", options.time_limit, importtime=True)
    packages, import_total = import_time_by_package(stderr)
    out += [
        "",
        "### Import time during a `local up`-like start (`-X importtime`, self time by package)",
        "",
        f"All imports of the process, interpreter start-up included: {sec(import_total)} "
        f"(`-X importtime` inflates this a little); moto is split by service.",
        "",
        table(
            ["package", "import self time", "share"],
            [[p, sec(t), f"{t / import_total * 100:.0f} %"] for p, t in packages[:15]],
            right=(1, 2),
        ),
        "",
    ]
    out += _what_to_attack(best, server_total, figures, packages)
    return "\n".join(out)


def _what_to_attack(
    answered: float,
    server_total: float,
    figures: dict[str, float],
    packages: list[tuple[str, float]],
) -> list[str]:
    """The plain reading of the figures above, biggest first."""

    def fig(name: str, fragment: str) -> float:
        return figures.get(name + "@" + fragment, 0.0)

    sfn = fig("<module>", "moto/stepfunctions/parser/models.py")
    ec2 = fig("<module>", "moto/ec2/__init__.py")
    regions = fig("RegionsAndZonesBackend", "moto/ec2/models/availability_zones_and_regions.py")
    sam = fig("transform", "localcloud/template.py")
    cfn = fig("load_template", "localcloud/template.py")
    resolver = fig("create_default_resolver", "botocore/session.py")
    imports = fig("_find_and_load", "<frozen")
    import_pkgs = dict(packages)
    flask = sum(import_pkgs.get(p, 0.0) for p in ("flask", "werkzeug", "jinja2", "flask_cors"))
    over = answered - 3.0
    lines = [
        "### What to attack to get under 3 s",
        "",
        f"Spawn to API answer is {sec(answered)}"
        + (f", {sec(over)} over the goal." if over > 0 else ", within the goal.")
        + f" The in-process start is {sec(server_total)} of it. Biggest items, from the figures "
        "above:",
        "",
        f"1. **moto's Step Functions parser import: {sec(sfn)}**, of which {sec(ec2)} is "
        f"moto.ec2 (imported by moto.batch, which the parser imports for its Batch task "
        f"integration) and {sec(regions)} of that is ec2's `RegionsAndZonesBackend` class body "
        "calling `boto3.Session().get_available_regions()` for every service. Import the "
        "parser before the deploy in a background thread while cfn-lint and SAM run, or "
        "stub `moto.batch` out of the parser's import chain; either takes this off the "
        "critical path.",
        f"2. **aws-sam-translator transform: {sec(sam)}** and **cfn-lint template loading: "
        f"{sec(cfn)}** (mostly their imports). Cache the transformed template keyed by the "
        "hash of template.yaml and the packaged code keys (`.local/transformed-<hash>.json`) "
        "so that a restart with an unchanged template skips both libraries entirely.",
        f"3. **botocore endpoint resolvers: {sec(resolver)}**: every new `boto3.Session` "
        "(moto, SAM's region lookups, ec2's region list, ours) re-reads endpoints.json; "
        "one shared session (and `get_available_regions` not called per service) removes most "
        "of it.",
        f"4. **Everything imported during start: {sec(imports)}** of the profiled start. "
        f"In `local up`, moto's server brings flask/werkzeug/jinja2 ({sec(flask)} of imports).",
        "",
    ]
    return lines
