"""Importing the public CCTV data into the registry, and exporting the registry back to it.

An import validates every row first (:func:`gyeonggi.cctv.standard_data.parse`) and writes
nothing when any row is bad: each problem is reported with its row and column. Then it reads how
many cameras each row had (one batch read per 100 rows) and writes the rows in transactions of
whole rows (:meth:`gyeonggi.cctv.store.CameraStore.write_rows`).

Why not one transaction for the whole file: DynamoDB's hold 100 items, and a province has about
10,000 cameras. What "nothing half-imported" needs is met otherwise: no bad row is ever written
(validation first), no row is ever half-written (a row is one transaction), and every write
sets the values the file gives, so the import is idempotent. An import that stops part-way
(the network, a throttle) leaves the rows written so far as they should be, and the same command
run again completes it; nobody needs to undo anything. Readers meanwhile see each camera either
as before or as imported, never a mix within a row.

A tool (``gyeonggi cctv import`` / ``export``), never run by a function.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Protocol

from gyeonggi.cctv.models import Camera
from gyeonggi.cctv.standard_data import Parsed, Row, export_csv, parse


class CameraImports(Protocol):
    """What an import needs of the camera store (:class:`gyeonggi.cctv.store.CameraStore`)."""

    def row_sizes(self, management_numbers: Iterable[str]) -> dict[str, int]: ...

    def write_rows(
        self, rows: list[Row] | tuple[Row, ...], previous: dict[str, int], now: datetime
    ) -> int: ...


class CameraExports(Protocol):
    def everything(self) -> Iterable[Camera]: ...

    def in_jurisdiction(self, jurisdiction: str) -> Iterable[Camera]: ...


@dataclass
class ImportReport:
    """What an import did (or, dry, would do)."""

    rows: int
    cameras: int
    new_rows: int
    changed_rows: int
    out_of_service: int
    transactions: int
    dry_run: bool
    jurisdictions: dict[str, int] = field(default_factory=dict)

    def to_json(self) -> dict[str, Any]:
        return dict(vars(self))


def import_file(
    raw: bytes, store: CameraImports, now: datetime, *, dry_run: bool = False
) -> ImportReport:
    """Validate a file of the public format and, unless ``dry_run``, write it.

    Raises
    ------
    ImportRejected
        Naming every bad row (and column); nothing was written.
    """
    parsed: Parsed = parse(raw)
    previous = store.row_sizes(r.management_number for r in parsed.rows)
    shrinking = sum(
        max(0, previous.get(r.management_number, 0) - r.cameras) for r in parsed.rows
    ) + sum(r.cameras for r in parsed.rows if r.deleted)
    made = 0 if dry_run else store.write_rows(parsed.rows, previous, now)
    by_jurisdiction = Counter[str]()
    for row in parsed.rows:
        by_jurisdiction[row.fields.jurisdiction] += row.cameras
    return ImportReport(
        rows=len(parsed.rows),
        cameras=parsed.cameras,
        new_rows=sum(1 for r in parsed.rows if r.management_number not in previous),
        changed_rows=sum(1 for r in parsed.rows if r.management_number in previous),
        out_of_service=shrinking,
        transactions=made,
        dry_run=dry_run,
        jurisdictions=dict(sorted(by_jurisdiction.items())),
    )


def export_file(
    store: CameraExports, jurisdiction: str | None = None, encoding: str = "utf-8-sig"
) -> bytes:
    """The registry (or one jurisdiction of it) in the public format."""
    cameras = store.everything() if jurisdiction is None else store.in_jurisdiction(jurisdiction)
    return export_csv(cameras, encoding)
