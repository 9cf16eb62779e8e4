"""Petition forms (issue 11, section 6): quality on the hand-written dialogues, the generated
set's figures apart, latency per turn through the handler, and the function's cold start.

- Quality: ``gyeonggi forms evaluate``'s measures (form accuracy, slot F1 over the core fields,
  whole dialogues right) on ``tests/data/forms_test_dialogues.jsonl`` (held out: written before
  the engine ran on it), on the development set ``forms_dev_dialogues.jsonl`` (the engine was
  corrected against it), and on dialogues the generator writes with another seed than training.
- Latency: every held-out dialogue replayed through the forms function's handler in this
  process (API Gateway proxy events, a bearer token verified each time, the sessions table on
  moto; a confirming turn writes its submission and starts its workflow there too): one handler
  call per turn, timed around the handler. The engine's own time per turn
  beside it.
- Cold start: fresh processes import the handler module as Lambda would (the template's
  environment), then load the models, import what a token check imports and answer a first
  utterance with a phone number in it ("ready"); median of
  ``--imports`` processes, the tracer off and on.
- PDF render time (section 4's documents): each form's sample (``gyeonggi_tools.forms.samples``)
  rendered as the render function does it, the font read from the function's package each
  time: one PDF (the civil servant's or the citizen's), and the whole rendering step (both PDFs
  and the JSON, stored in memory); and a fresh process's first PDF (fpdf2 imported). Only the
  PDF part runs with ``python -c "from benchmarks.forms import pdf_section; ..."``.
"""

from __future__ import annotations

import contextlib
import copy
import io
import json
import os
import statistics
import textwrap
import time
from pathlib import Path
from typing import Any

from benchmarks import ROOT, Options, median, ms, percentile, table

TEST_SET = ROOT / "tests" / "data" / "forms_test_dialogues.jsonl"
FRESH_SET = ROOT / "tests" / "data" / "forms_fresh_dialogues.jsonl"
DEV_SET = ROOT / "tests" / "data" / "forms_dev_dialogues.jsonl"
MODEL_DIR = ROOT / "functions" / "forms_dialogue" / "model"
GOALS = {"form_accuracy": 0.95, "slot_f1": 0.90, "whole_dialogue": 0.80}
COLD_GOAL_S = 0.5
_MARK = "BENCH-RESULT "

_COLD = textwrap.dedent(
    f"""
    import importlib, json, sys, time
    sys.path.insert(0, sys.argv[1])
    t0 = time.perf_counter()
    module = importlib.import_module(sys.argv[2])
    imported = time.perf_counter() - t0
    from datetime import date
    from gyeonggi.forms.dialogue import start
    engine = module.sessions().engine
    # What a first request also loads: PyJWT and cryptography for the token, phonenumbers.
    import jwt.algorithms
    engine.take_turn(start("ko", date(2026, 12, 7)), "건축물대장요 010-2345-6789")
    ready = time.perf_counter() - t0
    heavy = [m for m in ("numpy", "sklearn", "scipy", "pycrfsuite") if m in sys.modules]
    print({_MARK!r} + json.dumps({{"import_s": imported, "ready_s": ready, "heavy": heavy}}))
    """
)


def _quality() -> dict[str, dict[str, Any]]:
    from gyeonggi.forms.engine import load_engine
    from gyeonggi_tools.forms.evaluation import evaluate_file

    engine = load_engine(MODEL_DIR)
    results = {
        "second held-out set (unseen)": evaluate_file(engine, FRESH_SET),
        "held-out test set": evaluate_file(engine, TEST_SET),
        "development set": evaluate_file(engine, DEV_SET),
    }
    import tempfile

    with tempfile.TemporaryDirectory() as tmp:
        results["generated (seed 99)"] = _generated(engine, Path(tmp) / "generated.jsonl")
    return results


def _generated(engine: Any, generated: Path) -> dict[str, Any]:
    from gyeonggi_tools.forms.corpus import Generator
    from gyeonggi_tools.forms.evaluation import evaluate_file
    from gyeonggi_tools.forms.training import TRAINING_DAY

    with generated.open("w", encoding="utf-8") as fh:
        for d in Generator(99, TRAINING_DAY).dialogues(300):
            fh.write(
                json.dumps(
                    {
                        **d.converse_input(),
                        "today": TRAINING_DAY.isoformat(),
                        "expected": {"form_id": d.form_id, "fields": d.fields, "state": d.state},
                    },
                    ensure_ascii=False,
                )
                + "\n"
            )
    return evaluate_file(engine, generated)


def _latency(options: Options) -> tuple[list[float], list[float], list[float], int]:
    """Handler time per turn (start and messages), engine time per turn, calls made."""
    import importlib
    import tempfile

    import boto3
    from moto import mock_aws

    from gyeonggi.forms.dialogue import start
    from gyeonggi.forms.engine import load_engine
    from localcloud.issuer import LocalIssuer
    from localcloud.template import load_template

    dialogues = [json.loads(line) for line in TEST_SET.read_text(encoding="utf-8").splitlines()]
    engine = load_engine(MODEL_DIR)
    from datetime import date

    engine_s: list[float] = []
    for item in dialogues:
        state = start(item["lang"], date(2026, 12, 7))
        for text in item["turns"]:
            t0 = time.perf_counter()
            state, _ = engine.take_turn(state, text)
            engine_s.append(time.perf_counter() - t0)

    saved = dict(os.environ)
    starts: list[float] = []
    messages: list[float] = []
    calls = 0
    with tempfile.TemporaryDirectory() as tmp:
        issuer = LocalIssuer.create(Path(tmp), "https://issuer.bench", "forms-bench")
        os.environ.update(
            {
                "AWS_ACCESS_KEY_ID": "testing",
                "AWS_SECRET_ACCESS_KEY": "testing",
                "AWS_SESSION_TOKEN": "testing",
                "AWS_DEFAULT_REGION": "ap-northeast-2",
                "POWERTOOLS_TRACE_DISABLED": "true",
                "POWERTOOLS_METRICS_NAMESPACE": "Bench",
                "POWERTOOLS_SERVICE_NAME": "bench-forms",
                "POWERTOOLS_LOG_LEVEL": "WARNING",
                "FORM_SESSIONS_TABLE": "form-sessions",
                "FORM_SUBMISSIONS_TABLE": "form-submissions",
                **issuer.environment(),
            }
        )
        try:
            with mock_aws():
                resources = load_template(ROOT / "template.yaml")["Resources"]
                for logical_id, name in (
                    ("FormSessionsTable", "form-sessions"),
                    ("FormSubmissionsTable", "form-submissions"),
                ):
                    props = resources[logical_id]["Properties"]
                    boto3.resource("dynamodb", region_name="ap-northeast-2").create_table(
                        TableName=name,
                        BillingMode="PAY_PER_REQUEST",
                        **{
                            k: props[k]
                            for k in ("AttributeDefinitions", "KeySchema", "GlobalSecondaryIndexes")
                            if k in props
                        },
                    )
                # A confirming turn writes the submission and starts its workflow (recorded by
                # moto, not run: the issuance's own figures are below).
                machine = boto3.client("stepfunctions", region_name="ap-northeast-2")
                os.environ["FORM_ISSUANCE_STATE_MACHINE_ARN"] = machine.create_state_machine(
                    name="form-issuance",
                    definition=json.dumps({"StartAt": "S", "States": {"S": {"Type": "Succeed"}}}),
                    roleArn="arn:aws:iam::123456789012:role/bench",
                )["stateMachineArn"]
                os.environ["FORM_ISSUANCE_FAILURE_QUEUE_URL"] = boto3.client(
                    "sqs", region_name="ap-northeast-2"
                ).create_queue(QueueName="form-issuance-failures")["QueueUrl"]
                module = importlib.import_module("functions.forms_dialogue.app")
                start_event = json.loads(
                    (ROOT / "events" / "forms_dialogue" / "start_session.json").read_text()
                )
                message_event = json.loads(
                    (ROOT / "events" / "forms_dialogue" / "post_message.json").read_text()
                )
                context = _Context()
                deadline = time.monotonic() + options.time_limit
                # Powertools writes each invocation's metrics to stdout: not into the report.
                quiet = contextlib.redirect_stdout(io.StringIO())
                quiet.__enter__()
                token = issuer.mint("citizen", subject="bench-citizen")
                for item in dialogues * 3:
                    if time.monotonic() > deadline or not item["turns"]:
                        continue
                    event = _event(
                        start_event, token, {"lang": item["lang"], "text": item["turns"][0]}
                    )
                    t0 = time.perf_counter()
                    answer = module.handler(event, context)
                    starts.append(time.perf_counter() - t0)
                    calls += 1
                    sid = json.loads(answer["body"])["session_id"]
                    for text in item["turns"][1:]:
                        event = _event(message_event, token, {"text": text}, sid)
                        t0 = time.perf_counter()
                        module.handler(event, context)
                        messages.append(time.perf_counter() - t0)
                        calls += 1
                quiet.__exit__(None, None, None)
        finally:
            os.environ.clear()
            os.environ.update(saved)
    return starts, messages, engine_s, calls


class _Context:
    function_name = "bench"
    memory_limit_in_mb = 512
    invoked_function_arn = "arn:aws:lambda:ap-northeast-2:123456789012:function:bench"
    aws_request_id = "bench"

    def get_remaining_time_in_millis(self) -> int:
        return 10_000


def _event(
    template: dict[str, Any], token: str, body: dict[str, Any], session_id: str | None = None
) -> dict[str, Any]:
    event = copy.deepcopy(template)
    if session_id:
        event = json.loads(json.dumps(event).replace("FS-REPLACE_WITH_A_SESSION_ID", session_id))
    event["headers"]["Authorization"] = f"Bearer {token}"
    event["multiValueHeaders"]["Authorization"] = [f"Bearer {token}"]
    event["body"] = json.dumps(body, ensure_ascii=False)
    return event


def _cold(options: Options) -> dict[bool, tuple[list[float], list[float], set[str]]]:
    import subprocess

    from benchmarks import clean_environment, python
    from benchmarks.cold_import import functions

    fn = next(f for f in functions() if f.logical_id == "FormsDialogueFunction")
    out: dict[bool, tuple[list[float], list[float], set[str]]] = {}
    for tracing in (False, True):
        imported: list[float] = []
        ready: list[float] = []
        heavy: set[str] = set()
        env = dict(fn.environment)
        if not tracing:
            env["POWERTOOLS_TRACE_DISABLED"] = "true"
        for _ in range(options.imports):
            proc = subprocess.run(
                [python(), "-c", _COLD, str(fn.code_dir), fn.module],
                cwd=fn.code_dir,
                env=clean_environment(env),
                capture_output=True,
                text=True,
                timeout=options.time_limit,
                check=True,
            )
            line = next(x for x in proc.stdout.splitlines() if x.startswith(_MARK))
            result = json.loads(line[len(_MARK) :])
            imported.append(result["import_s"])
            ready.append(result["ready_s"])
            heavy.update(result["heavy"])
        out[tracing] = (imported, ready, heavy)
    return out


RENDER_ROUNDS = 10
"""Renders per form and reader (and whole steps per form) measured, after one not measured."""

_FIRST_PDF = textwrap.dedent(
    f"""
    import json, sys, time
    t0 = time.perf_counter()
    from pathlib import Path
    from gyeonggi.forms.catalogue import catalogue
    from gyeonggi.forms.documents import form_document
    from gyeonggi.forms.pdf import render_pdf
    from gyeonggi_tools.forms.samples import sample_submission
    submission = sample_submission("seal-certificate")
    document = form_document(catalogue()["seal-certificate"], submission, "official")
    t1 = time.perf_counter()
    render_pdf(document, Path(sys.argv[1]))
    done = time.perf_counter()
    print({_MARK!r} + json.dumps({{"first_pdf_s": done - t1, "total_s": done - t0}}))
    """
)


def _render_times(options: Options) -> tuple[dict[str, list[float]], dict[str, list[float]]]:
    """Seconds per PDF (both readers) and per whole rendering step, by form."""
    from gyeonggi.forms.catalogue import FORM_IDS, catalogue
    from gyeonggi.forms.documents import form_document
    from gyeonggi.forms.pdf import render_pdf
    from gyeonggi.forms.rendering import render_submission
    from gyeonggi_tools.forms.samples import sample_submission
    from tests.fakes.forms import FakeDocuments, FakeSubmissionStore

    font = ROOT / "functions" / "form_render" / "fonts" / "NanumGothic.ttf"
    pdfs: dict[str, list[float]] = {}
    steps: dict[str, list[float]] = {}
    deadline = time.monotonic() + options.time_limit * 3
    for form_id in FORM_IDS:
        form, submission = catalogue()[form_id], sample_submission(form_id)
        documents = [form_document(form, submission, a) for a in ("official", "citizen")]
        render_pdf(documents[0], font)  # not measured: the first render of a form's glyphs
        for _ in range(RENDER_ROUNDS):
            for document in documents:
                t0 = time.perf_counter()
                render_pdf(document, font)
                pdfs.setdefault(form_id, []).append(time.perf_counter() - t0)
            store = FakeSubmissionStore()
            store.create(submission)
            t0 = time.perf_counter()
            render_submission(
                store,
                FakeDocuments(),
                catalogue(),
                submission.submission_id,
                font=font,
                now=submission.created_at,
            )
            steps.setdefault(form_id, []).append(time.perf_counter() - t0)
            if time.monotonic() > deadline:
                break
    return pdfs, steps


def _first_pdf(options: Options) -> tuple[list[float], list[float]]:
    """A fresh process's first PDF: (the render alone, with the imports), seconds."""
    import subprocess
    import sys

    font = ROOT / "functions" / "form_render" / "fonts" / "NanumGothic.ttf"
    env = {
        **os.environ,
        "PYTHONPATH": os.pathsep.join(str(ROOT / p) for p in ("layers", "tooling")),
    }
    first, total = [], []
    for _ in range(options.imports):
        done = subprocess.run(
            [sys.executable, "-c", _FIRST_PDF, str(font)],
            capture_output=True,
            text=True,
            timeout=120,
            env=env,
            check=True,
        )
        line = next(x for x in done.stdout.splitlines() if x.startswith(_MARK))
        result = json.loads(line[len(_MARK) :])
        first.append(result["first_pdf_s"])
        total.append(result["total_s"])
    return first, total


def pdf_section(options: Options) -> str:
    """The PDF render time's Markdown (a part of :func:`run`; also runnable alone)."""
    pdfs, steps = _render_times(options)
    first, total = _first_pdf(options)
    every = [t for ts in pdfs.values() for t in ts]
    rows = [
        [
            form_id,
            len(pdfs[form_id]),
            ms(percentile(pdfs[form_id], 50)),
            ms(percentile(pdfs[form_id], 99)),
            ms(percentile(steps[form_id], 50)),
            ms(percentile(steps[form_id], 99)),
        ]
        for form_id in pdfs
    ]
    rows.append(
        [
            "**all seven**",
            len(every),
            ms(percentile(every, 50)),
            ms(percentile(every, 99)),
            ms(percentile([t for ts in steps.values() for t in ts], 50)),
            ms(percentile([t for ts in steps.values() for t in ts], 99)),
        ]
    )
    return "\n".join(
        [
            "### PDF render time (issue 11, sections 4 and 6)",
            "",
            f"Each form's sample rendered in this process as FormRenderFunction renders it "
            f"(fpdf2, NanumGothic read from the function's package for every PDF), "
            f"{RENDER_ROUNDS} rounds after one not measured; *one PDF*: the civil servant's or "
            "the citizen's (both counted); *the step*: both PDFs and the JSON, stored in memory, "
            "the submission written to the fake store:",
            "",
            table(
                ["form", "PDFs", "one PDF p50", "one PDF p99", "the step p50", "the step p99"],
                rows,
                right=range(1, 6),
            ),
            "",
            f"A fresh process's first PDF (median of {options.imports}): the render "
            f"{ms(median(first))}, with fpdf2, fontTools and Pillow imported first "
            f"{ms(median(total))}.",
        ]
    )


def run(options: Options) -> str:
    """Run the forms benchmark; returns its Markdown section."""
    quality = _quality()
    starts, messages, engine_s, calls = _latency(options)
    cold = _cold(options)
    test = quality["held-out test set"]
    rows = []
    for name, r in quality.items():
        rows.append(
            [
                name,
                r["dialogues"],
                f"{r['form_accuracy']:.3f}",
                f"{r['slot_f1']:.3f}",
                f"{r['slot_precision']:.3f} / {r['slot_recall']:.3f}",
                f"{r['whole_dialogue']:.3f}",
                f"{r['state_accuracy']:.3f}",
            ]
        )
    goals = [
        f"- {label} >= {goal}: "
        + "; ".join(
            f"{name} {quality[name][key]:.3f} "
            + (
                "**met**"
                if quality[name][key] >= goal
                else f"**not met** (short by {goal - quality[name][key]:.3f})"
            )
            for name in ("second held-out set (unseen)", "held-out test set")
        )
        for key, goal, label in (
            ("form_accuracy", GOALS["form_accuracy"], "form accuracy"),
            ("slot_f1", GOALS["slot_f1"], "slot F1 (core fields)"),
            ("whole_dialogue", GOALS["whole_dialogue"], "whole dialogue"),
        )
    ]
    ready_on = median(cold[True][1])
    heavy = sorted(cold[True][2] | cold[False][2])
    return "\n".join(
        [
            "## Petition forms (issue 11)",
            "",
            "Quality (`gyeonggi forms evaluate`; the unseen second held-out set is the measure, "
            "the first held-out set was read after its first run):",
            "",
            table(
                [
                    "set",
                    "dialogues",
                    "form accuracy",
                    "slot F1 (core)",
                    "slot P / R",
                    "whole dialogue",
                    "final state",
                ],
                rows,
                right=range(1, 7),
            ),
            "",
            *goals,
            "",
            "Whole dialogues right, held-out set, by form: "
            + ", ".join(f"{k} {v}" for k, v in test["whole_by_form"].items())
            + "; by language: "
            + ", ".join(f"{k} {v}" for k, v in test["whole_by_lang"].items())
            + ".",
            "",
            f"Latency per turn: the held-out dialogues three times through the handler ({calls} "
            "calls, one at a time, token verified each time, sessions on moto's DynamoDB in "
            "process), and the engine alone:",
            "",
            table(
                ["what", "calls", "p50", "p99", "mean"],
                [
                    [
                        "handler, start (first utterance)",
                        len(starts),
                        ms(percentile(starts, 50)),
                        ms(percentile(starts, 99)),
                        ms(statistics.fmean(starts) if starts else float("nan")),
                    ],
                    [
                        "handler, message",
                        len(messages),
                        ms(percentile(messages, 50)),
                        ms(percentile(messages, 99)),
                        ms(statistics.fmean(messages) if messages else float("nan")),
                    ],
                    [
                        "engine, one turn",
                        len(engine_s),
                        ms(percentile(engine_s, 50)),
                        ms(percentile(engine_s, 99)),
                        ms(statistics.fmean(engine_s)),
                    ],
                ],
                right=range(1, 5),
            ),
            "",
            f"Cold start of FormsDialogueFunction, fresh process each, median of {options.imports} "
            "(*import*: the handler module as Lambda imports it; *ready*: import, then the models "
            "and catalogue read, PyJWT and cryptography imported as a token check does, and a "
            "first utterance with a phone number answered):",
            "",
            table(
                ["tracer", "import", "ready"],
                [
                    ["off", ms(median(cold[False][0])), ms(median(cold[False][1]))],
                    ["on (as in AWS)", ms(median(cold[True][0])), ms(median(cold[True][1]))],
                ],
                right=(1, 2),
            ),
            "",
            f"- cold start (ready, tracer on) under {COLD_GOAL_S * 1000:.0f} ms: {ms(ready_on)}, "
            + ("**met**" if ready_on < COLD_GOAL_S else "**not met**")
            + f"; heavy modules loaded: {', '.join(heavy) if heavy else 'none'}.",
            "",
            pdf_section(options),
        ]
    )
