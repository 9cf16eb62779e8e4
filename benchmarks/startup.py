"""Start-up: from ``gyeonggi local up`` to the API answering, and where the time goes.

Every measurement runs in fresh processes so that nothing is warm, and comes in two flavours:
a **first start** (an empty state directory) and a **restart** (the state directory of an
earlier start, as a developer's ``.local`` is: the SAM transform is cached there).

1. **The user's path.** ``gyeonggi local up`` is spawned as a user would run it; the HTTP API is
   polled until it answers (a 404 for an unknown complaint is an answer), then the banner's
   "Ready." is awaited and SIGINT sent to the process group (what Ctrl-C in a terminal does);
   the time to a clean exit, and the exit status, are recorded.
2. **LocalCloud's own timings** (``cloud.timings``: moto, deploy, total) from a child process
   that imports ``localcloud.cloud`` and calls ``start()``, configured as ``local up`` is (moto
   server, API server, MQTT broker) or embedded (moto in-process, no servers).
3. **Where it goes.** One embedded restart under cProfile (moto's work runs in the profiled
   thread only when it is embedded), one ``local up``-like restart under ``-X importtime``, and
   a what-if for the biggest item (moto's Step Functions parser import) measured both ways.
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

# The what-if child: import moto's Step Functions parser, optionally with ``moto.batch``
# pre-seeded as a bare package (the parser needs only ``moto.batch.utils.JobStatus``, but
# importing ``moto.batch`` runs its ``__init__``, which imports moto.batch.models and moto.ec2).
_PARSER_IMPORT = textwrap.dedent(
    """
    import sys, time, types
    t0 = time.perf_counter()
    import moto
    if sys.argv[1] == "stub":
        from pathlib import Path
        stub = types.ModuleType("moto.batch")
        stub.__path__ = [str(Path(moto.__file__).parent / "batch")]
        sys.modules["moto.batch"] = stub
    import moto.stepfunctions.parser.models
    if sys.argv[1] == "stub":
        del sys.modules["moto.batch"]
    print(time.perf_counter() - t0, "moto.ec2" in sys.modules)
    """
)

# The repeated-parsing child: an embedded start (argv = root, state_dir) that counts and times
# every botocore JSON data file it parses; prints one JSON line.
_JSON_LOADS = textwrap.dedent(
    """
    import json, sys, time
    from collections import Counter, defaultdict
    from pathlib import Path
    import botocore.loaders as loaders
    original = loaders.JSONFileLoader.load_file
    count, cost = Counter(), defaultdict(float)
    def load_file(self, file_path):
        t = time.perf_counter()
        try:
            return original(self, file_path)
        finally:
            cost[file_path] += time.perf_counter() - t
            count[file_path] += 1
    loaders.JSONFileLoader.load_file = load_file
    from localcloud.cloud import LocalCloud
    cloud = LocalCloud(Path(sys.argv[1]), state_dir=Path(sys.argv[2]))
    cloud.start()
    cloud.stop()
    files = [
        [path.split("botocore/data/")[-1], count[path], cost[path]]
        for path in sorted(count, key=lambda p: -cost[p] * (count[p] - 1) / count[p])
    ]
    print(json.dumps(files))
    """
)

_NO_PROXY = urllib.request.build_opener(urllib.request.ProxyHandler({}))


# ---------------------------------------------------------------------- 1. the user's path
@dataclass
class UpRun:
    """One ``gyeonggi local up`` from spawn to exit."""

    kind: str
    """"first start" or "restart"."""
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


def _tail(path: Path, lines: int = 3) -> str:
    text = path.read_text(errors="replace").strip().splitlines()
    return " / ".join(text[-lines:])[-400:]


def measure_local_up(state_dir: Path, kind: str, time_limit: float) -> UpRun:
    """Spawn ``gyeonggi local up`` on free ports; time the API's first answer and the stop."""
    run = UpRun(kind)
    moto_port, api_port, mqtt_port = free_ports(3)
    url = f"http://127.0.0.1:{api_port}{PROBE_PATH}"
    with tempfile.TemporaryDirectory(prefix="bench-up-") as tmp:
        log_path = Path(tmp) / "up.log"
        command = [
            str(venv_script("gyeonggi")),
            "--state-dir",
            str(state_dir),
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
            if run.status not in (None, 404) and not run.error:
                # The API answered, but not as expected: say why, from the server's log.
                reasons = [
                    line
                    for line in log_path.read_text(errors="replace").splitlines()
                    if " failed" in line or "Error" in line
                ]
                run.error = f"HTTP {run.status}: " + (reasons[0][-300:] if reasons else "?")
        finally:
            if proc.poll() is None:
                _kill_group(proc, log_path.read_text(errors="replace"))
    return run


# ---------------------------------------------------------------------- 2. and 3. children
def _start_child(
    mode: str,
    state_dir: Path,
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
        argv += ["-c", _CHILD, mode, str(ROOT), str(state_dir), str(out)]
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


def parser_import_what_if(runs: int, time_limit: float) -> dict[str, tuple[float, bool]]:
    """Median seconds to import moto's Step Functions parser, as is and with moto.batch stubbed,
    and whether moto.ec2 ended up imported."""
    out = {}
    for variant in ("as is", "stub"):
        times, ec2 = [], False
        for _ in range(runs):
            proc = subprocess.run(
                [python(), "-c", _PARSER_IMPORT, variant],
                env=clean_environment(),
                capture_output=True,
                text=True,
                timeout=time_limit,
                check=True,
            )
            seconds, ec2_imported = proc.stdout.split()
            times.append(float(seconds))
            ec2 = ec2_imported == "True"
        out[variant] = (median(times), ec2)
    return out


def repeated_json(state_dir: Path, time_limit: float) -> list[tuple[str, int, float]]:
    """botocore data files parsed during an embedded start: (file, times parsed, seconds)."""
    proc = subprocess.run(
        [python(), "-c", _JSON_LOADS, str(ROOT), str(state_dir)],
        cwd=ROOT,
        env=clean_environment(),
        capture_output=True,
        text=True,
        timeout=time_limit + STOP_TIMEOUT_S,
        check=True,
    )
    return [(str(f), int(n), float(t)) for f, n, t in json.loads(proc.stdout.splitlines()[-1])]


# ---------------------------------------------------------------------- profile analysis
@dataclass(frozen=True)
class Contributor:
    """A named place in the profile: the profiled functions (file fragment, name) it sums."""

    label: str
    fragment: str
    name: str
    depth: int = 0
    aggregate: bool = False
    """True for rows that contain others (not something to attack by itself)."""
    advice: str = ""
    title: str = ""
    """How the row reads in the list of things to attack (default: its label)."""


_SFN_ADVICE = (
    "Pre-seed `sys.modules['moto.batch']` with a bare package (`types.ModuleType` whose "
    "`__path__` is moto/batch) before the parser is first imported, and remove it after: the "
    "parser needs only the `JobStatus` enum of `moto.batch.utils`, and importing `moto.batch` "
    "runs its `__init__`, which imports moto.batch.models and with it all of moto.ec2 (whose "
    "`RegionsAndZonesBackend` class body opens three boto3 Sessions and parses ec2's service "
    "model and endpoints.json in each). See the what-if above; worth reporting to moto too."
)
CONTRIBUTORS: tuple[Contributor, ...] = (
    Contributor("LocalCloud.start, profiled", "localcloud/cloud.py", "start", 0, True),
    Contributor("start moto (mock_aws)", "localcloud/cloud.py", "_start_moto", 1),
    Contributor("Deployer.deploy", "localcloud/deployer.py", "deploy", 1, True),
    Contributor("load_template: parse template.yaml", "localcloud/template.py", "load_template", 2),
    Contributor("of which importing cfnlint", "cfnlint/__init__.py", "<module>", 3),
    Contributor("package: zip the code, put it to S3", "localcloud/template.py", "package", 2),
    Contributor(
        "transform: aws-sam-translator (cached on restart)",
        "localcloud/template.py",
        "transform",
        2,
        True,
    ),
    Contributor(
        "of which importing samtranslator",
        "samtranslator/translator/transform.py",
        "<module>",
        3,
        advice="Cached on restart since the transform cache; a first start still pays it.",
    ),
    Contributor(
        "of which the translation itself", "samtranslator/translator/transform.py", "transform", 3
    ),
    Contributor(
        "create the state machine (moto)", "localcloud/deployer.py", "_state_machine", 2, True
    ),
    Contributor("create the Lambda functions", "localcloud/deployer.py", "_lambda_function", 2),
    Contributor("create the layer version", "localcloud/deployer.py", "_lambda_layer", 2),
    Contributor("create the IAM roles", "localcloud/deployer.py", "_iam_role", 2),
    Contributor("create the DynamoDB tables", "localcloud/deployer.py", "_dynamodb_table", 2),
    Contributor("create the KMS keys", "localcloud/deployer.py", "_kms_key", 2),
    Contributor("create the SQS queues", "localcloud/deployer.py", "_sqs_queue", 2),
    Contributor("create the SNS topics", "localcloud/deployer.py", "_sns_topic", 2),
    Contributor("create the log groups", "localcloud/deployer.py", "_log_group", 2),
    Contributor(
        "create the event source mappings", "localcloud/deployer.py", "_event_source_mapping", 2
    ),
    Contributor("local token issuer (RSA keys)", "localcloud/cloud.py", "_start_issuer", 1),
    Contributor("register the functions", "localcloud/cloud.py", "_register_functions", 1),
    Contributor("start the SQS pollers", "localcloud/cloud.py", "_start_pollers", 1),
    Contributor("across all of the above", "", "", 0, True),
    Contributor(
        "Python imports (every module first imported during start)",
        "<frozen",
        "_find_and_load",
        1,
        True,
    ),
    Contributor(
        "moto's Step Functions parser import",
        "moto/stepfunctions/parser/models.py",
        "<module>",
        2,
        True,
    ),
    Contributor(
        "of which moto.batch (for one enum)",
        "moto/batch/__init__.py",
        "<module>",
        3,
        advice=_SFN_ADVICE,
        title="moto.batch, imported by moto's Step Functions parser for one enum",
    ),
    Contributor("of which moto.ec2", "moto/ec2/__init__.py", "<module>", 4, True),
    Contributor(
        "of which ec2's RegionsAndZonesBackend (3 new boto3 Sessions)",
        "moto/ec2/models/availability_zones_and_regions.py",
        "RegionsAndZonesBackend",
        5,
        True,
    ),
    Contributor(
        "moto answering the AWS calls (botocore stubber)",
        "moto/core/botocore_stubber.py",
        "__call__",
        1,
        True,
    ),
    Contributor(
        "botocore client creation (Session.create_client)",
        "botocore/session.py",
        "create_client",
        1,
        advice="Already one shared session; what is left is each service's model, parsed once.",
    ),
    Contributor(
        "botocore endpoint resolver, once per new Session (endpoints.json)",
        "botocore/session.py",
        "create_default_resolver",
        1,
        True,
    ),
    Contributor(
        "botocore JSON data files parsed (loaders.load_file)",
        "botocore/loaders.py",
        "load_file",
        1,
        True,
    ),
    Contributor(
        "moto loading service models to parse requests",
        "moto/core/utils.py",
        "_load_service_model",
        1,
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
        resolved = (
            {k: v / norm for k, v in result.items()} if norm else {"(stdlib, no caller)": 1.0}
        )
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
        parts = name.strip().split(".")
        key = ".".join(parts[:2]) if parts[0] == "moto" and len(parts) > 1 else parts[0]
        totals[key] += micros / 1e6
    return sorted(totals.items(), key=lambda kv: -kv[1]), sum(totals.values())


# ---------------------------------------------------------------------- the report
def _up_section(options: Options, shared_state: Path) -> tuple[list[str], float, float]:
    """The user's path: one first start, then ``runs`` restarts on the same state directory."""
    # The first start fills the shared state directory that the restarts then find.
    first = measure_local_up(shared_state, "first start", options.time_limit)
    restarts = [
        measure_local_up(shared_state, "restart", options.time_limit) for _ in range(options.runs)
    ]
    rows: list[list[object]] = []
    for i, r in enumerate([first, *restarts]):
        rows.append(
            [
                r.kind if i == 0 else f"{r.kind} {i}",
                sec(r.answered_s),
                r.status if r.status is not None else "-",
                sec(r.ready_s),
                sec(r.stop_s),
                r.exit_code if r.exit_code is not None else "-",
                r.error or "",
            ]
        )
    answered = [r.answered_s for r in restarts if r.status is not None]
    rows.append(["restart: min", sec(min(answered, default=float("nan"))), "", "", "", "", ""])
    rows.append(
        [
            "restart: median",
            sec(median(answered)),
            "",
            sec(median(r.ready_s for r in restarts if r.ready_s == r.ready_s)),
            sec(median(r.stop_s for r in restarts if r.exit_code == 0)),
            "",
            "",
        ]
    )
    everything = [first, *restarts]
    clean = all(r.exit_code == 0 and not r.error for r in everything)
    restart_median = median(answered)
    lines = [
        f"`gyeonggi local up` spawned on free ports of 127.0.0.1: one first start (empty state "
        f"directory), then {options.runs} restarts on the state directory it left (as `.local` "
        f"is). `GET {PROBE_PATH}` is polled every "
        f"{POLL_INTERVAL_S * 1000:.0f} ms until it answers; then SIGINT goes to the process "
        "group once the banner says Ready.",
        "",
        table(
            ["run", "spawn to API answer", "HTTP", "spawn to Ready.", "SIGINT to exit", "exit", ""],
            rows,
            right=(1, 3, 4),
        ),
        "",
        f"- Goal, API answering in under {GOAL_S:.0f} s: restart "
        f"{goal(restart_median < GOAL_S)} (median {sec(restart_median)}, min "
        f"{sec(min(answered, default=float('nan')))}); first start "
        f"{goal(first.answered_s < GOAL_S)} ({sec(first.answered_s)}).",
        f"- Goal, clean exit (status 0) on SIGINT, every run: {goal(clean)}.",
        "",
    ]
    return lines, restart_median, first.answered_s


def run(options: Options) -> str:
    """Run the start-up benchmark; returns its Markdown section."""
    out: list[str] = ["## Start-up: `gyeonggi local up` until the API answers", ""]
    with tempfile.TemporaryDirectory(prefix="bench-state-") as shared:
        shared_state = Path(shared) / "state"
        lines, restart_median, first_answer = _up_section(options, shared_state)
        out += lines

        # -- LocalCloud's own timings, fresh process each
        out += ["### What `LocalCloud.start()` records (`cloud.timings`), fresh process each", ""]
        timing_rows = []
        totals: dict[str, float] = {}
        for mode, fresh, label in (
            ("server", False, "as `local up`, restart"),
            ("server", True, "as `local up`, first start"),
            ("embedded", False, "embedded (no servers), restart"),
        ):
            results = []
            for _ in range(options.runs):
                with tempfile.TemporaryDirectory(prefix="bench-fresh-") as tmp:
                    state = Path(tmp) / "state" if fresh else shared_state
                    results.append(_start_child(mode, state, options.time_limit)[0])
            t = [r["timings"] for r in results]
            totals[label] = median(x["total"] for x in t)
            timing_rows.append(
                [
                    label,
                    sec(median(r["import_s"] for r in results)),
                    sec(median(x["moto"] for x in t)),
                    sec(median(x["deploy"] for x in t)),
                    sec(median(x["total"] - x["moto"] - x["deploy"] for x in t)),
                    sec(totals[label]),
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
        server_total = totals["as `local up`, restart"]
        out += [
            "",
            f"Medians of {options.runs} runs. *rest of start* is the local issuer's keys, "
            "function registration, SQS pollers, MQTT broker and API server. A restart's "
            f"spawn-to-answer minus its in-process total ({sec(restart_median)} - "
            f"{sec(server_total)} = {sec(restart_median - server_total)}) is the interpreter, "
            "the CLI's imports and the polling granularity (separate processes: noise of a few "
            "tenths of a second either way). `stop()` as `local up` waits for the moto and API "
            "servers' `serve_forever` loops, which look at their shutdown flag every 0.5 s.",
            "",
        ]

        # -- cProfile of an embedded restart
        with tempfile.TemporaryDirectory(prefix="bench-prof-") as tmp:
            prof_path = Path(tmp) / "start.prof"
            profiled, _ = _start_child(
                "embedded", shared_state, options.time_limit, profile=prof_path
            )
            raw: dict[Any, Any] = pstats.Stats(str(prof_path)).stats  # type: ignore[attr-defined]
        # -- -X importtime of a local-up-like restart
        _, stderr = _start_child("server", shared_state, options.time_limit, importtime=True)
        parsed = repeated_json(shared_state, options.time_limit)
    out += _profile_section(profiled, raw)
    packages, import_total = import_time_by_package(stderr)
    out += [
        "",
        "### Import time during a `local up`-like restart (`-X importtime`, self time by package)",
        "",
        f"All imports of the process, interpreter start-up included: {sec(import_total)} "
        "(`-X importtime` inflates this a little); moto is split by service. Module-level code "
        "counts as its module's self time (ec2's region list is in moto.ec2).",
        "",
        table(
            ["package", "import self time", "share"],
            [[p, sec(t), f"{t / import_total * 100:.0f} %"] for p, t in packages[:15]],
            right=(1, 2),
        ),
        "",
    ]
    out += _json_section(parsed)
    what_if = parser_import_what_if(options.runs, options.time_limit)
    out += _what_to_attack(restart_median, first_answer, server_total, raw, what_if)
    return "\n".join(out)


def _profile_section(profiled: dict[str, Any], raw: dict[Any, Any]) -> list[str]:
    """The cProfile tables: named contributors, then exclusive time by package."""
    deploy_s = float(profiled["timings"]["deploy"])
    rows: list[list[object]] = []
    for c in CONTRIBUTORS:
        label = "&nbsp;&nbsp;" * c.depth + c.label
        if not c.fragment:
            rows.append([f"*{label}*", "", "", ""])
            continue
        seconds, calls = _cumulative(raw, c.fragment, c.name)
        if not calls:
            rows.append([label, "not on the path", 0, ""])
            continue
        share = f"{seconds / deploy_s * 100:.0f} %" if deploy_s else ""
        rows.append([label, sec(seconds), calls, share])
    by_package = self_time_by_package(raw)
    profiled_total = sum(t for _, t in by_package) or 1.0
    return [
        "### Where a restart goes (cProfile, one embedded restart, cumulative times)",
        "",
        f"Deploy took {sec(deploy_s)} in this profiled run (start total "
        f"{sec(profiled['timings']['total'])}; profiling adds overhead). Indented rows are part "
        "of the row above; the rows under *across all of the above* cut across the phases (an "
        "import triggered by a request is counted in both).",
        "",
        table(["contributor", "cumulative", "calls", "of deploy"], rows, right=(1, 2, 3)),
        "",
        "Exclusive time by package (stdlib, C builtins and importlib charged to their callers):",
        "",
        table(
            ["package", "self time", "share"],
            [[p, sec(t), f"{t / profiled_total * 100:.0f} %"] for p, t in by_package[:12]],
            right=(1, 2),
        ),
    ]


def _json_section(parsed: list[tuple[str, int, float]]) -> list[str]:
    """How much of botocore's JSON parsing during a start is parsing the same file again."""
    total = sum(t for _, _, t in parsed)
    again = sum(t * (n - 1) / n for _, n, t in parsed)
    rows = [[name, n, sec(t), sec(t * (n - 1) / n)] for name, n, t in parsed[:8] if n > 1]
    return [
        "### botocore data files parsed more than once (embedded restart, unprofiled)",
        "",
        f"{len(parsed)} files parsed {sum(n for _, n, _ in parsed)} times in {sec(total)}; "
        f"{sec(again)} of it re-parses a file already parsed in this process (each boto3 "
        "Session has its own loader: a service's model is parsed for the boto3 client, again "
        "when moto lists the service's regions through a new `boto3.Session()`, which also "
        "re-reads endpoints.json, and again by moto's request router).",
        "",
        table(["file", "times parsed", "total", "spent re-parsing"], rows, right=(1, 2, 3)),
        "",
    ]


def _what_to_attack(
    restart: float,
    first: float,
    server_total: float,
    raw: dict[Any, Any],
    what_if: dict[str, tuple[float, bool]],
) -> list[str]:
    """The plain reading of the figures above: the items worth attacking, biggest first."""
    plain, plain_ec2 = what_if["as is"]
    stubbed, stubbed_ec2 = what_if["stub"]
    items = []
    for c in CONTRIBUTORS:
        if c.aggregate or not c.fragment:
            continue
        seconds, calls = _cumulative(raw, c.fragment, c.name)
        if calls and seconds >= 0.05:
            items.append((seconds, c))
    items.sort(key=lambda item: -item[0])
    over = restart - GOAL_S
    lines = [
        "### What to attack to get under 3 s",
        "",
        f"A restart answers in {sec(restart)}"
        + (f", {sec(over)} over the goal" if over > 0 else ", within the goal")
        + f"; a first start in {sec(first)}. The in-process start is {sec(server_total)} of a "
        f"restart; the rest is the interpreter and the CLI's imports. What-if, measured in fresh "
        f"processes: importing moto's Step Functions parser takes {sec(plain)} as is (moto.ec2 "
        f"imported: {'yes' if plain_ec2 else 'no'}) and {sec(stubbed)} with moto.batch stubbed "
        f"(moto.ec2 imported: {'yes' if stubbed_ec2 else 'no'}): {sec(plain - stubbed)} saved.",
        "",
        "Leaf contributors of the profiled restart, biggest first (profiled times):",
        "",
    ]
    for i, (seconds, c) in enumerate(items[:8], 1):
        name = c.title or c.label
        lines.append(f"{i}. **{name}: {sec(seconds)}**" + (f". {c.advice}" if c.advice else "."))
    lines.append("")
    return lines
