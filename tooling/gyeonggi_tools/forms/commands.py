"""``gyeonggi forms converse | train | generate | evaluate | redrive | render``."""

from __future__ import annotations

import argparse
import json
import sys
from datetime import date
from pathlib import Path
from typing import Any

from gyeonggi.forms.engine import load_engine
from gyeonggi_tools.forms.converse import converse_lines


def run(args: argparse.Namespace, state_dir: Path | None = None) -> int:
    if args.command == "redrive":
        return _redrive(args, state_dir or Path(".local"))
    if args.command == "render":
        return _render(args)
    if args.command == "converse":
        engine = load_engine(args.model_dir)
        today = date.fromisoformat(args.today) if args.today else None
        return converse_lines(engine, sys.stdin, sys.stdout, today=today, easy=args.easy)
    if args.command == "train":
        from gyeonggi_tools.forms.training import export, train

        trained = train(args.seed)
        export(trained, args.out)
        print(json.dumps(trained.metrics))
        return 0
    if args.command == "generate":
        return _generate(args.count, args.seed, args.out)
    from gyeonggi_tools.forms.evaluation import evaluate_file

    engine = load_engine(args.model_dir)
    report = evaluate_file(
        engine, args.set, today=args.today, errors=sys.stderr if args.errors else None
    )
    print(json.dumps(report, ensure_ascii=False, indent=2))
    return 0


def _generate(count: int, seed: int, out: Path) -> int:
    from gyeonggi_tools.forms.corpus import Generator
    from gyeonggi_tools.forms.training import TRAINING_DAY

    gen = Generator(seed, TRAINING_DAY)
    with out.open("w", encoding="utf-8") as fh:
        for d in gen.dialogues(count):
            record: dict[str, Any] = {
                **d.converse_input(),
                "today": TRAINING_DAY.isoformat(),
                "expected": {"form_id": d.form_id, "fields": d.fields, "state": d.state},
            }
            fh.write(json.dumps(record, ensure_ascii=False) + "\n")
    return 0


def _render(args: argparse.Namespace) -> int:
    """``forms render``: a sample form (fictitious values) as the PDF its reader gets."""
    from gyeonggi.forms.catalogue import catalogue
    from gyeonggi.forms.documents import form_document
    from gyeonggi.forms.pdf import render_pdf
    from gyeonggi_tools.forms.samples import sample_submission

    if args.form_id not in catalogue():
        print(
            f"error: no form {args.form_id!r} (one of {', '.join(catalogue().ids)})",
            file=sys.stderr,
        )
        return 2
    document = form_document(
        catalogue()[args.form_id], sample_submission(args.form_id), args.audience
    )
    args.out.write_bytes(render_pdf(document, FONT))
    print(json.dumps({"form_id": args.form_id, "audience": args.audience, "pdf": str(args.out)}))
    return 0


#: The font the rendering function ships (functions/form_render/fonts, with its licence).
FONT = (
    Path(__file__).resolve().parents[3] / "functions" / "form_render" / "fonts" / "NanumGothic.ttf"
)


def _redrive(args: argparse.Namespace, state_dir: Path) -> int:
    """``forms redrive``: one JSON line per submission; 1 when any was left as it was."""
    from botocore.exceptions import BotoCoreError, ClientError

    from gyeonggi.common.clock import now as now_utc
    from gyeonggi.forms.issuance import IssuanceWorkflow
    from gyeonggi.forms.submissions import DynamoSubmissionStore
    from gyeonggi_tools.forms.redrive import Redriven, redrive_queue, redrive_submission, sweep
    from gyeonggi_tools.stacks import workflow_resources

    if args.limit < 1:
        print("error: --limit must be at least 1", file=sys.stderr)
        return 2
    try:
        found = workflow_resources(
            args.local,
            args.stack,
            state_dir,
            queue="FormIssuanceFailureQueue",
            table="FormSubmissionsTable",
            machine="FormIssuanceStateMachine",
        )
        sqs = found.sqs
        queue_url = found.queue_url
        store = DynamoSubmissionStore(found.table, dynamodb=found.dynamodb)
        workflow = IssuanceWorkflow(found.machine, queue_url, sfn=found.sfn, sqs=sqs)
        now = now_utc()
        results: list[Redriven]
        if args.submission:
            results = [redrive_submission(store, workflow, args.submission, now)]
        else:
            results = redrive_queue(
                sqs,
                queue_url,
                store,
                workflow,
                now,
                limit=args.limit,
                include_identity=args.identity,
            )
            handled = frozenset(r.submission_id for r in results if r.submission_id)
            results += sweep(
                store,
                workflow,
                now,
                limit=max(0, args.limit - len(results)),
                include_identity=args.identity,
                done=handled,
            )
    except (BotoCoreError, ClientError) as exc:
        print(f"error: AWS: {exc}", file=sys.stderr)
        return 1
    except KeyError as exc:
        print(f"error: stack {args.stack} has no output {exc}", file=sys.stderr)
        return 1
    for result in results:
        print(json.dumps(result.as_dict(), ensure_ascii=False))
    left = sum(1 for r in results if r.outcome == "left")
    restarted = sum(1 for r in results if r.outcome == "restarted")
    print(f"{len(results)} submission(s): {restarted} restarted, {left} left", file=sys.stderr)
    return 1 if left else 0
