"""Cold import-and-init of every function in template.yaml, each in a fresh process.

For each ``AWS::Serverless::Function``, a fresh ``python -c`` child gets the function's own
environment (the template's ``Environment`` with ``Globals`` applied, references replaced by
plausible dummy names, ARNs and URLs; the Lambda runtime's variables; fake credentials), puts
the function's folder first on ``sys.path`` and times ``importlib.import_module(handler module)``
with ``time.perf_counter`` inside the child, which leaves the interpreter's own start-up out;
the whole process's wall time is reported beside it. This is what a Lambda cold start costs on
top of the runtime's own start ("init duration").

Measured twice: with ``POWERTOOLS_TRACE_DISABLED=true`` (the local cloud) and without it, as in
AWS, where ``LAMBDA_TASK_ROOT`` is set and Powertools' Tracer loads the X-Ray SDK and patches
botocore. A last child per function (tracer on) runs with ``-X importtime`` for the top
contributors, and with an audit hook that records any attempt to reach the network during the
import (there must be none: creating a boto3 client is fine, it connects on its first call).
"""

from __future__ import annotations

import importlib.util
import json
import re
import subprocess
import textwrap
import time
from collections import defaultdict
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from benchmarks import (
    ACCOUNT_ID,
    REGION,
    ROOT,
    Options,
    clean_environment,
    goal,
    median,
    ms,
    python,
    table,
)

GOAL_S = 0.3
HEAVY = ("numpy", "sklearn", "cv2")
# The functions the 0.3 s goal is about: the HTTP API, the complaint intake (issue 2) and the
# sensors' alarm path (issue 4).
GOAL_FUNCTIONS = ("ApiFunction", "IntakeFunction", "TelemetryFunction", "WalletVerifierFunction")
_MARK = "BENCH-RESULT "
# Audit events of operations that could reach another host (a bind to ::1, which urllib3 does
# to learn whether IPv6 exists, is not one of them).
NETWORK_EVENTS = (
    "socket.connect",
    "socket.sendto",
    "socket.sendmsg",
    "socket.getaddrinfo",
    "socket.gethostbyname",
    "socket.gethostbyaddr",
)

# Timed child: argv = code dir, module. Nothing is imported before the timer that the module
# would not import anyway (json is imported after it).
_TIMED = textwrap.dedent(
    f"""
    import importlib, sys, time
    sys.path.insert(0, sys.argv[1])
    t0 = time.perf_counter()
    importlib.import_module(sys.argv[2])
    elapsed = time.perf_counter() - t0
    import json
    heavy = [m for m in {HEAVY!r} if m in sys.modules]
    print({_MARK!r} + json.dumps({{"import_s": elapsed, "heavy": heavy,
                                  "modules": len(sys.modules)}}))
    """
)

# Inspecting child (run with -X importtime): marks where the function's imports start and end
# on stderr, and records every socket operation attempted while importing.
_INSPECT = textwrap.dedent(
    f"""
    import sys
    seen = []
    NETWORK = {NETWORK_EVENTS!r}
    def audit(event, args):
        if event in NETWORK:
            seen.append(event + " " + repr(args[1:])[:160])
    sys.addaudithook(audit)
    sys.path.insert(0, sys.argv[1])
    sys.stderr.write("BENCH-IMPORT-START\\n"); sys.stderr.flush()
    __import__(sys.argv[2])  # the import statement's path, which -X importtime reports
    sys.stderr.write("BENCH-IMPORT-END\\n"); sys.stderr.flush()
    import json
    print({_MARK!r} + json.dumps({{"network": seen,
                                  "heavy": [m for m in {HEAVY!r} if m in sys.modules]}}))
    """
)


@dataclass
class Function:
    """One function of the template, ready to be imported cold."""

    logical_id: str
    code_dir: Path
    module: str
    environment: dict[str, str]


@dataclass
class Measured:
    """What the children measured for one function and one tracer setting."""

    import_s: list[float] = field(default_factory=list)
    wall_s: list[float] = field(default_factory=list)
    heavy: set[str] = field(default_factory=set)
    modules: int = 0
    error: str = ""


# ---------------------------------------------------------------------- the template
class _Dummies:
    """Plausible values for ``Ref``, ``Fn::GetAtt`` and ``Fn::Sub`` without deploying."""

    def __init__(self, template: dict[str, Any]) -> None:
        self.resources: dict[str, Any] = template.get("Resources", {})
        self.parameters = {
            name: str(spec.get("Default", name))
            for name, spec in template.get("Parameters", {}).items()
        }
        self.pseudo = {
            "AWS::Region": REGION,
            "AWS::AccountId": ACCOUNT_ID,
            "AWS::Partition": "aws",
            "AWS::StackName": "gyeonggi",
            "AWS::URLSuffix": "amazonaws.com",
        }

    def _type(self, name: str) -> str:
        return str(self.resources.get(name, {}).get("Type", ""))

    def _arn(self, name: str) -> str:
        kind = self._type(name)
        physical = f"gyeonggi-{name}-BENCH"
        if "StateMachine" in kind:
            return f"arn:aws:states:{REGION}:{ACCOUNT_ID}:stateMachine:{physical}"
        service = kind.split("::")[1].lower() if kind.count("::") >= 2 else "unknown"
        if service == "serverless":
            service = "lambda"
        return f"arn:aws:{service}:{REGION}:{ACCOUNT_ID}:{physical}"

    def ref(self, name: str) -> str:
        if name in self.parameters:
            return self.parameters[name]
        if name in self.pseudo:
            return self.pseudo[name]
        kind = self._type(name)
        physical = f"gyeonggi-{name}-BENCH"
        if kind == "AWS::SQS::Queue":
            return f"https://sqs.{REGION}.amazonaws.com/{ACCOUNT_ID}/{physical}"
        if "StateMachine" in kind or kind == "AWS::SNS::Topic":
            return self._arn(name)
        if kind == "AWS::KMS::Key":
            return "1234abcd-12ab-34cd-56ef-1234567890ab"
        if kind == "AWS::Cognito::UserPool":
            return f"{REGION}_BENCH0000"
        if kind == "AWS::Cognito::UserPoolClient":
            return "benchappclientid000000000"
        return physical

    def get_att(self, name: str, attribute: str) -> str:
        if attribute == "Arn":
            return self._arn(name)
        if attribute == "ProviderURL":
            return f"https://cognito-idp.{REGION}.amazonaws.com/{self.ref(name)}"
        if attribute in ("Name", "QueueName", "TopicName"):
            return f"gyeonggi-{name}-BENCH"
        if attribute == "QueueUrl":
            return self.ref(name)
        return f"gyeonggi-{name}-{attribute}"

    def value(self, node: Any) -> str:
        """The dummy string for one environment value."""
        if isinstance(node, bool):
            return str(node).lower()
        if isinstance(node, str | int | float):
            return str(node)
        if isinstance(node, dict) and len(node) == 1:
            ((fn, arg),) = node.items()
            if fn == "Ref":
                return self.ref(str(arg))
            if fn == "Fn::GetAtt":
                name, attribute = arg if isinstance(arg, list) else str(arg).split(".", 1)
                return self.get_att(name, attribute)
            if fn == "Fn::Sub":
                text, variables = (arg, {}) if isinstance(arg, str) else (arg[0], arg[1])
                return re.sub(r"\$\{([^}!][^}]*)\}", lambda m: self._sub(m[1], variables), text)
        return "bench-dummy"

    def _sub(self, expr: str, variables: dict[str, Any]) -> str:
        if expr in variables:
            return self.value(variables[expr])
        if "." in expr:
            name, attribute = expr.split(".", 1)
            return self.get_att(name, attribute)
        return self.ref(expr)


def functions(root: Path = ROOT) -> list[Function]:
    """Every ``AWS::Serverless::Function`` of the template with its cold-start environment."""
    from localcloud.template import load_template

    template = load_template(root / "template.yaml")
    dummies = _Dummies(template)
    glob = template.get("Globals", {}).get("Function", {})
    result = []
    for logical_id, resource in template.get("Resources", {}).items():
        if resource.get("Type") != "AWS::Serverless::Function":
            continue
        props = {**glob, **resource.get("Properties", {})}
        variables = {
            **glob.get("Environment", {}).get("Variables", {}),
            **resource.get("Properties", {}).get("Environment", {}).get("Variables", {}),
        }
        code_dir = (root / str(props["CodeUri"])).resolve()
        handler = str(props.get("Handler", "app.handler"))
        env = {k: dummies.value(v) for k, v in variables.items()}
        env.update(
            {
                "AWS_DEFAULT_REGION": REGION,
                "AWS_REGION": REGION,
                "AWS_ACCESS_KEY_ID": "testing",
                "AWS_SECRET_ACCESS_KEY": "testing",
                "AWS_SESSION_TOKEN": "testing",
                # What the Lambda runtime sets before the module is imported.
                "AWS_LAMBDA_FUNCTION_NAME": f"gyeonggi-{logical_id}-BENCH",
                "AWS_LAMBDA_FUNCTION_MEMORY_SIZE": str(props.get("MemorySize", 128)),
                "AWS_LAMBDA_FUNCTION_VERSION": "$LATEST",
                "AWS_EXECUTION_ENV": f"AWS_Lambda_{props.get('Runtime', 'python3.12')}",
                "LAMBDA_TASK_ROOT": str(code_dir),
                "_HANDLER": handler,
            }
        )
        module = handler.rpartition(".")[0]
        result.append(Function(logical_id, code_dir, module, env))
    return result


# ---------------------------------------------------------------------- the children
def _child(
    code: str, fn: Function, tracing: bool, time_limit: float, importtime: bool = False
) -> tuple[dict[str, Any], float, str]:
    """Run one child; returns its JSON result, its wall time and its stderr."""
    env = dict(fn.environment)
    if not tracing:
        env["POWERTOOLS_TRACE_DISABLED"] = "true"
    argv = [python(), *(["-X", "importtime"] if importtime else []), "-c", code]
    started = time.perf_counter()
    proc = subprocess.run(
        [*argv, str(fn.code_dir), fn.module],
        cwd=fn.code_dir,
        env=clean_environment(env),
        capture_output=True,
        text=True,
        timeout=time_limit,
        check=False,
    )
    wall = time.perf_counter() - started
    lines = [line for line in proc.stdout.splitlines() if line.startswith(_MARK)]
    if proc.returncode != 0 or not lines:
        raise RuntimeError(f"{fn.logical_id}: import failed: {proc.stderr.strip()[-600:]}")
    return json.loads(lines[-1][len(_MARK) :]), wall, proc.stderr


def baseline(runs: int, time_limit: float) -> float:
    """Median wall time of ``python -c pass``: the interpreter's own start."""
    walls = []
    for _ in range(runs):
        started = time.perf_counter()
        subprocess.run(
            [python(), "-c", "pass"], env=clean_environment(), timeout=time_limit, check=True
        )
        walls.append(time.perf_counter() - started)
    return median(walls)


def top_imports(stderr: str, module: str, count: int = 5) -> list[tuple[str, float]]:
    """The packages with the most self import time between the child's start and end marks."""
    totals: dict[str, float] = defaultdict(float)
    inside = False
    for line in stderr.splitlines():
        if line.startswith("BENCH-IMPORT-"):
            inside = line.endswith("START")
            continue
        if not inside or not line.startswith("import time:") or "self [us]" in line:
            continue
        try:
            self_us, _cumulative, name = line.split(":", 1)[1].split("|")
            package = name.strip().split(".")[0]
            if package == module:
                package += " (its module-level code)"
            totals[package] += int(self_us) / 1e6
        except ValueError:
            continue
    return sorted(totals.items(), key=lambda kv: -kv[1])[:count]


def direct_imports(stderr: str, count: int = 4) -> list[tuple[str, float]]:
    """The handler module's own imports with their cumulative time (the first importer of a
    shared dependency pays for it)."""
    found = []
    inside = False
    for line in stderr.splitlines():
        if line.startswith("BENCH-IMPORT-"):
            inside = line.endswith("START")
            continue
        if not inside or not line.startswith("import time:") or "self [us]" in line:
            continue
        try:
            _self, cumulative_us, name = line.split(":", 1)[1].split("|")
            depth = (len(name) - len(name.lstrip(" ")) - 1) // 2
            if depth == 1:
                found.append((name.strip(), int(cumulative_us) / 1e6))
        except ValueError:
            continue
    return sorted(found, key=lambda kv: -kv[1])[:count]


def measure(fn: Function, tracing: bool, options: Options) -> Measured:
    """``options.imports`` fresh imports of one function."""
    out = Measured()
    deadline = time.monotonic() + options.time_limit
    for _ in range(options.imports):
        if time.monotonic() > deadline:
            break
        try:
            result, wall, _ = _child(_TIMED, fn, tracing, options.time_limit)
        except (RuntimeError, subprocess.TimeoutExpired) as exc:
            out.error = str(exc)
            break
        out.import_s.append(float(result["import_s"]))
        out.wall_s.append(wall)
        out.heavy.update(result["heavy"])
        out.modules = int(result["modules"])
    return out


# ---------------------------------------------------------------------- the report
def run(options: Options) -> str:
    """Run the cold-import benchmark; returns its Markdown section."""
    fns = functions()
    base = baseline(options.imports, options.time_limit)
    installed = {m: importlib.util.find_spec(m) is not None for m in HEAVY}
    rows, tops, verdicts, notes = [], [], [], []
    for fn in fns:
        off = measure(fn, tracing=False, options=options)
        on = measure(fn, tracing=True, options=options)
        for label, m in (("tracer off", off), ("tracer on", on)):
            if m.error:
                notes.append(f"- {fn.logical_id} ({label}): **{m.error}**")
        try:
            inspected, _, stderr = _child(
                _INSPECT, fn, tracing=True, time_limit=options.time_limit, importtime=True
            )
            network = inspected["network"]
            top = top_imports(stderr, fn.module)
            direct = direct_imports(stderr)
        except (RuntimeError, subprocess.TimeoutExpired) as exc:
            network, top, direct = [f"inspection failed: {exc}"], [], []
        heavy = sorted(off.heavy | on.heavy)
        rows.append(
            [
                fn.logical_id,
                fn.code_dir.relative_to(ROOT).as_posix(),
                ms(median(off.import_s)),
                ms(median(on.import_s)),
                ms(median(off.wall_s)),
                ms(median(on.wall_s)),
                off.modules,
                ", ".join(heavy) if heavy else "no",
                "none" if not network else f"**{len(network)}**: {network[0]}",
            ]
        )
        tops.append(
            [
                fn.logical_id,
                ", ".join(f"{name} {seconds * 1000:.0f} ms" for name, seconds in top),
                ", ".join(f"{name} {seconds * 1000:.0f} ms" for name, seconds in direct),
            ]
        )
        if fn.logical_id in GOAL_FUNCTIONS:
            verdicts.append(
                f"- {fn.logical_id}: under {GOAL_S * 1000:.0f} ms with the tracer off "
                f"{goal(median(off.import_s) < GOAL_S)} ({ms(median(off.import_s))}), "
                f"with it on as in AWS {goal(median(on.import_s) < GOAL_S)} "
                f"({ms(median(on.import_s))}); numpy/scikit-learn/cv2 not imported "
                f"{goal(not heavy)}."
            )
    out = [
        "## Cold import-and-init of each function (fresh process each)",
        "",
        f"Median of {options.imports} fresh processes per function and tracer setting. *import* "
        "is `importlib.import_module('app')` timed inside the child (module-level settings, "
        "clients and Powertools objects included, interpreter start excluded); *process* is the "
        f"child's whole wall time. Interpreter alone (`python -c pass`): {ms(base)}.",
        "",
        table(
            [
                "function",
                "code",
                "import, tracer off",
                "import, tracer on (AWS)",
                "process, tracer off",
                "process, tracer on",
                "modules loaded",
                "numpy / sklearn / cv2",
                "network during import",
            ],
            rows,
            right=range(2, 7),
        ),
        "",
        "Installed in this virtualenv (so that *no* above means not imported, not absent): "
        + ", ".join(f"{m} {'yes' if ok else 'no'}" for m, ok in installed.items())
        + ".",
        "",
        *verdicts,
        *notes,
        "",
        "Top 5 import-time contributors per function (`-X importtime`, self time summed by "
        "top-level package, tracer on as in AWS; `-X importtime` inflates times a little):",
        "",
        table(
            [
                "function",
                "top 5 packages (self time)",
                "its biggest own imports (cumulative, first importer pays)",
            ],
            tops,
        ),
    ]
    return "\n".join(out)
