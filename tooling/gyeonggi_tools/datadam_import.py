"""``gyeonggi datadam import DATASET FILE``: land an outside system's file in the Data Dam.

The file (CSV or JSON Lines, the dataset's declared schema: ``docs/DATADAM.md``) is put under
``landing/{dataset}/`` of the Data Dam's bucket, where the import function takes it, as it takes
any outside system's file; ``--wait`` then follows it into the lake and prints what was loaded
and rejected, with each rejected row's number and reason (exit status 2 when any was rejected).
Against a running ``gyeonggi local up`` (``--local``) or a deployed stack (``--stack NAME``:
its ``DataDamBucketName`` output; waiting needs the lake's Glue database, ``--local`` only).
"""

from __future__ import annotations

import argparse
import hashlib
import json
import sys
import time
from pathlib import Path
from typing import Any

#: How long ``--wait`` follows a file before giving up (the import function's queue is polled).
WAIT_SECONDS = 120.0


def add_commands(commands: Any) -> None:
    """The ``import`` command of the ``datadam`` group."""
    importing = commands.add_parser(
        "import",
        help="land a CSV or JSON Lines file in the Data Dam (row by row, rejects with reasons)",
        description="Puts FILE under landing/DATASET/ in the Data Dam's bucket; the import "
        "function validates every row: good rows land in one commit, bad rows go to the "
        "import_rejects table with their number and reason. Importing a file again changes "
        "nothing.",
    )
    importing.add_argument("dataset", help="the dataset, e.g. resident_population")
    importing.add_argument("file", type=Path, help="a .csv or .jsonl file")
    importing.add_argument(
        "--wait", action="store_true", help="follow the file into the lake and print the outcome"
    )
    where = importing.add_mutually_exclusive_group(required=True)
    where.add_argument("--local", action="store_true", help="the running `gyeonggi local up`")
    where.add_argument("--stack", help="a deployed stack's name (its DataDamBucketName output)")


def run(args: argparse.Namespace, state_dir: Path) -> int:
    """Dispatch one ``datadam`` lake command; returns the exit status."""
    from gyeonggi.datadam.datasets import dataset
    from gyeonggi.datadam.imports import MAX_BYTES, format_of
    from gyeonggi.datadam.landing import landing_key

    ds = dataset(args.dataset)  # an unknown one: a clear error before anything is sent
    format_of(args.file.name)
    try:
        data = args.file.read_bytes()
    except OSError as exc:
        print(f"error: cannot read {args.file}: {exc.strerror}", file=sys.stderr)
        return 2
    if len(data) > MAX_BYTES:
        print(f"error: {args.file} is larger than {MAX_BYTES // 2**20} MiB", file=sys.stderr)
        return 2
    s3, bucket = _bucket(args, state_dir)
    key = landing_key(ds.id, args.file.name)
    s3.put_object(Bucket=bucket, Key=key, Body=data)
    print(json.dumps({"landed": f"s3://{bucket}/{key}", "bytes": len(data)}))
    if not args.wait:
        return 0
    if not args.local:
        print("error: --wait follows a file in the local cloud only", file=sys.stderr)
        return 2
    import_id = hashlib.sha256(ds.id.encode() + b"\0" + data).hexdigest()[:24]
    outcome = _follow(state_dir, ds.id, import_id)
    print(json.dumps(outcome, ensure_ascii=False, default=str))
    return 2 if outcome["rejected"] else 0


def _bucket(args: argparse.Namespace, state_dir: Path) -> tuple[Any, str]:
    if args.local:
        from localcloud.up import running_client, running_resource

        return running_client(state_dir, "s3"), running_resource(state_dir, "DataDamBucket")
    import boto3

    from gyeonggi_tools.stacks import stack_outputs

    outputs = stack_outputs(args.stack)
    return boto3.client("s3"), outputs["DataDamBucketName"]


def _follow(state_dir: Path, dataset_id: str, import_id: str) -> dict[str, Any]:
    """What the import function did with the file: rows loaded and rejects (waited for)."""
    from gyeonggi.datadam.datasets import dataset
    from gyeonggi.datadam.imports import ROWS_TO_LOAD
    from localcloud.datadam import LakeEndpoint
    from localcloud.up import running_endpoint, running_resource

    lake = LakeEndpoint(
        running_endpoint(state_dir),
        running_resource(state_dir, "DataDamBucket"),
        running_resource(state_dir, "DataDamDatabase"),
    ).lake()
    target, rejects = dataset(dataset_id), dataset("import_rejects")

    def commits(ds: Any) -> list[dict[str, Any]]:
        if not lake.exists(ds):
            return []
        return [
            s["summary"]
            for s in lake.snapshots(ds)
            if s["summary"].get("gyeonggi.batch-id") == import_id
        ]

    deadline = time.monotonic() + WAIT_SECONDS
    while time.monotonic() < deadline:
        loaded, refused = commits(target), commits(rejects)
        # Rejects are committed first and say whether rows follow.
        if loaded or any(s.get(ROWS_TO_LOAD) == "0" for s in refused):
            rows = (
                lake.read(rejects, row_filter=f"import_id == '{import_id}'").to_pylist()
                if refused
                else []
            )
            return {
                "import_id": import_id,
                "loaded": sum(int(s.get("added-records", 0)) for s in loaded),
                "rejected": len(rows),
                "rejects": [
                    {"row": r["row_number"], "field": r["field"], "reason": r["reason"]}
                    for r in sorted(rows, key=lambda r: r["row_number"])
                ],
            }
        time.sleep(1.0)
    raise TimeoutError(f"the import of {dataset_id} did not show in {WAIT_SECONDS:.0f} s")
