"""``gyeonggi forms converse | train | generate | evaluate``."""

from __future__ import annotations

import argparse
import json
import sys
from datetime import date
from pathlib import Path
from typing import Any

from gyeonggi.forms.engine import load_engine
from gyeonggi_tools.forms.converse import converse_lines


def run(args: argparse.Namespace) -> int:
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
