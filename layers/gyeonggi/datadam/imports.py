"""Batch import from the administrative systems that are not ours: CSV or JSON Lines.

The declared schema of a file is its dataset's (the catalogue): the columns, plus the personal
fields the dataset's privacy policy takes in (``resident_id``, ``birth_date``, ``address``...),
which never land as they are. Each row is validated on its own; a bad row goes to the
``import_rejects`` table with its number, field and reason (not its content: it may be
personal, and the file stays in the landing prefix to be fixed). The good rows land in one
commit, so a reader sees all of them or none: nothing is half-loaded. With ``strict`` a file
with any bad row loads nothing at all (its rejects are still recorded).

The import is idempotent: its id is a hash of the dataset and the file's bytes, rows already in
the lake (by key) are not written again and the rejects are keyed by (import, row), so running
the same file twice changes nothing.
"""

from __future__ import annotations

import csv
import hashlib
import io
import json
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, Literal

from gyeonggi.cctv.standard_data import ImportRejected, decode
from gyeonggi.common.errors import InvalidInput
from gyeonggi.datadam.datasets import Dataset, dataset
from gyeonggi.datadam.lake import Lake
from gyeonggi.datadam.privacy import Pseudonyms
from gyeonggi.datadam.records import key_of, prepare

Format = Literal["csv", "jsonl"]
REJECTS = dataset("import_rejects")

#: The largest file one import reads (a Lambda has the memory for it; split larger ones).
MAX_BYTES = 64 * 1024 * 1024
#: Rows in one file at most.
MAX_ROWS = 500_000


@dataclass(frozen=True)
class Reject:
    """One row refused: its number (from 1, the header not counted), field and reason."""

    row_number: int
    field: str | None
    reason: str


@dataclass
class ImportResult:
    """What an import did."""

    import_id: str
    dataset: str
    source: str
    rows: int = 0
    loaded: int = 0
    already_loaded: int = 0
    rejects: list[Reject] = field(default_factory=list)
    strict_refused: bool = False

    def summary(self) -> dict[str, Any]:
        return {
            "import_id": self.import_id,
            "dataset": self.dataset,
            "source": self.source,
            "rows": self.rows,
            "loaded": self.loaded,
            "already_loaded": self.already_loaded,
            "rejected": len(self.rejects),
            "strict_refused": self.strict_refused,
            "rejects": [r.__dict__ for r in self.rejects[:20]],
        }


def format_of(name: str) -> Format:
    """The format a file name says (``.csv``, ``.jsonl`` or ``.ndjson``).

    Raises
    ------
    InvalidInput
        Any other ending.
    """
    lower = name.lower()
    if lower.endswith(".csv"):
        return "csv"
    if lower.endswith((".jsonl", ".ndjson")):
        return "jsonl"
    raise InvalidInput(f"{name}: not a .csv or .jsonl file", field="source")


def accepted_fields(ds: Dataset) -> set[str]:
    """The fields a file of ``ds`` may have: its columns and its privacy policy's inputs."""
    return set(ds.column_names) | {r.field for r in ds.privacy}


def _rows(text: str, fmt: Format, ds: Dataset) -> Iterator[tuple[int, dict[str, Any] | str]]:
    """``(row number, row or the reason it is unreadable)``; file-level problems raise."""
    allowed = accepted_fields(ds)
    if fmt == "csv":
        reader = csv.DictReader(io.StringIO(text, newline=""))
        header = reader.fieldnames or []
        unknown = [h for h in header if h not in allowed]
        if unknown:
            raise InvalidInput(f"columns not in {ds.id}'s schema: {', '.join(unknown)}")
        made = {r.into for r in ds.privacy}
        missing = [
            c.name for c in ds.columns if c.required and c.name not in header and c.name not in made
        ]
        if missing:
            raise InvalidInput(f"required columns missing: {', '.join(missing)}")
        for n, row in enumerate(reader, start=1):
            extra = row.pop(None, None)
            given = len(header) + len(extra or ()) - sum(v is None for v in row.values())
            if given != len(header):
                yield n, f"{given} values for {len(header)} columns"
                continue
            yield n, dict(row)
        return
    for n, line in enumerate((ln for ln in text.splitlines() if ln.strip()), start=1):
        try:
            value = json.loads(line)
        except (ValueError, RecursionError):
            yield n, "not a JSON object"
            continue
        if not isinstance(value, dict):
            yield n, "not a JSON object"
            continue
        unknown = sorted(set(value) - allowed)
        yield (
            (n, f"fields not in {ds.id}'s schema: {', '.join(unknown)}")
            if unknown
            else (
                n,
                value,
            )
        )


def import_file(
    lake: Lake,
    dataset_id: str,
    data: bytes,
    *,
    source: str,
    fmt: Format | None = None,
    pseudonyms: Pseudonyms | None,
    strict: bool = False,
    now: datetime | None = None,
) -> ImportResult:
    """Validate every row of ``data`` and land it in ``dataset_id`` (see the module).

    Raises
    ------
    InvalidInput
        A problem with the file as a whole (unknown dataset, too large, not text, a header
        outside the schema): nothing is loaded; the caller records it as row 0.
    """
    ds = dataset(dataset_id)
    if ds.id == REJECTS.id:
        raise InvalidInput("import_rejects is written by imports, not imported into")
    if len(data) > MAX_BYTES:
        raise InvalidInput(f"{source}: larger than {MAX_BYTES // 2**20} MiB; split it")
    import_id = hashlib.sha256(ds.id.encode() + b"\0" + data).hexdigest()[:24]
    result = ImportResult(import_id, ds.id, source)
    try:
        text = decode(data)
    except ImportRejected as exc:
        raise InvalidInput(f"{source}: {exc.problems[0].message}") from None
    rows: list[dict[str, Any]] = []
    first_row_of: dict[tuple[Any, ...], int] = {}
    for n, row in _rows(text, fmt or format_of(source), ds):
        if n > MAX_ROWS:
            raise InvalidInput(f"{source}: more than {MAX_ROWS} rows; split it")
        result.rows = n
        if isinstance(row, str):
            result.rejects.append(Reject(n, None, row))
            continue
        try:
            prepared = prepare(ds, row, pseudonyms=pseudonyms)
        except InvalidInput as exc:  # a RecordError, or the policy's PrivacyError
            result.rejects.append(Reject(n, exc.field, exc.message))
            continue
        key = key_of(ds, prepared)
        if key in first_row_of:
            result.rejects.append(
                Reject(n, None, f"same key as row {first_row_of[key]}: {', '.join(ds.key_columns)}")
            )
            continue
        first_row_of[key] = n
        rows.append(prepared)
    if strict and result.rejects:
        result.strict_refused = True
        rows = []
    # The rejects first, saying how many rows follow: whoever follows the import (the CLI's
    # --wait) knows from them whether a commit of rows is still to come.
    record_rejects(lake, result, now=now, rows_to_load=len(rows))
    if rows:
        write = lake.write(ds, rows, batch_id=import_id, source=f"import {source}")
        result.loaded, result.already_loaded = write.written, write.duplicates
    return result


#: Snapshot summary property of a rejects commit: how many good rows the import goes on to load.
ROWS_TO_LOAD = "gyeonggi.rows-to-load"


def record_rejects(
    lake: Lake, result: ImportResult, *, now: datetime | None = None, rows_to_load: int = 0
) -> None:
    """Write ``result``'s rejects to ``import_rejects`` (keyed by import and row: once)."""
    if not result.rejects:
        return
    at = now or datetime.now(UTC)
    rows = [
        prepare(
            REJECTS,
            {
                "import_id": result.import_id,
                "dataset": result.dataset,
                "source": result.source[:1000],
                "row_number": r.row_number,
                "field": r.field,
                "reason": r.reason[:1000],
                "rejected_at": at,
            },
            pseudonyms=None,
        )
        for r in result.rejects
    ]
    lake.write(
        REJECTS,
        rows,
        batch_id=result.import_id,
        source="import rejects",
        properties={ROWS_TO_LOAD: str(rows_to_load)},
    )


def reject_file(
    lake: Lake, dataset_id: str, data: bytes, *, source: str, reason: str
) -> ImportResult:
    """Record a file refused as a whole (row 0) in ``import_rejects``."""
    import_id = hashlib.sha256(dataset_id.encode() + b"\0" + data).hexdigest()[:24]
    result = ImportResult(import_id, dataset_id, source, rejects=[Reject(0, None, reason)])
    record_rejects(lake, result)
    return result
