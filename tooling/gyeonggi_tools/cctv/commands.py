"""``gyeonggi cctv import FILE.csv`` and ``gyeonggi cctv export``: the public CCTV data format
in and out of the registry.

Both talk to the registry's table directly, with the caller's AWS credentials (the province's
registry administrators, as ``gyeonggi safety redrive``), against a running ``gyeonggi local up``
(``--local``) or a deployed stack (``--stack NAME``: its ``CctvCamerasTableName`` output). An
import validates the whole file first and writes nothing if a row is bad: every problem is
printed on stderr (``row 7, WGS84위도: 99 is outside Gyeonggi-do (36.8 to 38.4)``) and the exit
status is 2. Otherwise one JSON line on stdout says what was written; ``--dry-run`` validates
and writes nothing (gyeonggi_tools.cctv.importer explains why an interrupted import is completed by
running it again).
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any

ENCODINGS = ("utf-8-sig", "utf-8", "cp949")
#: A file larger than this is not a province's cameras (about 100,000 rows are 30 MB).
MAX_FILE_BYTES = 64 * 1024 * 1024


def add_commands(groups: Any) -> None:
    """The ``cctv`` group of the ``gyeonggi`` parser."""
    cctv = groups.add_parser("cctv", help="the registry of the province's CCTV cameras")
    commands = cctv.add_subparsers(dest="command", required=True)
    importing = commands.add_parser(
        "import",
        help="import the public CCTV data (전국CCTV표준데이터, CSV) into the registry",
        description="Reads the public format's CSV (UTF-8, with or without BOM, or CP949). "
        "Nothing is written unless every row is valid; each problem is printed with its row "
        "and column. Re-running a file is harmless: it completes an interrupted import.",
    )
    importing.add_argument("file", type=Path, help="the CSV file")
    importing.add_argument("--dry-run", action="store_true", help="validate only; write nothing")
    _target(importing)
    exporting = commands.add_parser(
        "export", help="export the registry in the public CCTV data format (CSV)"
    )
    exporting.add_argument("--jurisdiction", help="only this city or county, e.g. suwon.gg.kr")
    exporting.add_argument("--out", type=Path, help="write here (default: standard output)")
    exporting.add_argument(
        "--encoding",
        choices=ENCODINGS,
        default="utf-8-sig",
        help="utf-8-sig (default, what spreadsheets read as UTF-8) or cp949 (LOCALDATA's)",
    )
    _target(exporting)


def _target(parser: argparse.ArgumentParser) -> None:
    where = parser.add_mutually_exclusive_group(required=True)
    where.add_argument("--local", action="store_true", help="the running `gyeonggi local up`")
    where.add_argument("--stack", help="a deployed stack's name (its CctvCamerasTableName)")


def run(args: argparse.Namespace, state_dir: Path) -> int:
    """Dispatch one ``cctv`` command; returns the exit status."""
    from botocore.exceptions import BotoCoreError, ClientError

    try:
        store = _store(args, state_dir)
        if args.command == "import":
            return _import(args, store)
        return _export(args, store)
    except (BotoCoreError, ClientError) as exc:
        print(f"error: DynamoDB: {exc}", file=sys.stderr)
        return 1
    except KeyError as exc:
        print(f"error: stack {args.stack} has no output {exc}", file=sys.stderr)
        return 1


def _store(args: argparse.Namespace, state_dir: Path) -> Any:
    from gyeonggi.cctv.store import CameraStore

    if args.local:
        from localcloud.up import running_dynamodb, running_resource

        table = running_resource(state_dir, "CctvCamerasTable")
        return CameraStore(table, dynamodb=running_dynamodb(state_dir))
    from gyeonggi_tools.stacks import stack_outputs

    outputs = stack_outputs(args.stack)
    return CameraStore(outputs["CctvCamerasTableName"])


def _import(args: argparse.Namespace, store: Any) -> int:
    from gyeonggi.cctv.standard_data import ImportRejected
    from gyeonggi.common import clock
    from gyeonggi_tools.cctv.importer import import_file

    try:
        size = args.file.stat().st_size
    except OSError:
        print(f"error: no such file: {args.file}", file=sys.stderr)
        return 2
    if size > MAX_FILE_BYTES:
        print(f"error: {args.file} is larger than {MAX_FILE_BYTES // 2**20} MB", file=sys.stderr)
        return 2
    try:
        report = import_file(args.file.read_bytes(), store, clock.now(), dry_run=args.dry_run)
    except ImportRejected as exc:
        for problem in exc.problems:
            print(f"{args.file}: {problem}", file=sys.stderr)
        print(f"{len(exc.problems)} problem(s): nothing was imported", file=sys.stderr)
        return 2
    print(json.dumps(report.to_json(), ensure_ascii=False))
    return 0


def _export(args: argparse.Namespace, store: Any) -> int:
    from gyeonggi.complaints.jurisdictions import known
    from gyeonggi_tools.cctv.importer import export_file

    data = export_file(store, known(args.jurisdiction), args.encoding)
    if args.out is None:
        sys.stdout.buffer.write(data)
        sys.stdout.flush()
    else:
        args.out.write_bytes(data)
        rows = data.count(b"\n") - 1
        print(f"wrote {args.out} ({rows} rows)", file=sys.stderr)
    return 0
