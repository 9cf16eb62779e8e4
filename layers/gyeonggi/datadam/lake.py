"""The lake: Apache Iceberg tables on S3, registered in the Glue Data Catalog (pyiceberg).

Each dataset of the catalogue is one table, created on its first write, partitioned by its day
column and its jurisdiction. What the writer guarantees:

- **Idempotent ingestion, by key.** Before an append, the rows whose key (the dataset's
  ``key_columns``) is already in the table are left out: only the partitions the batch touches
  are read, and only their key columns. A key rather than a batch id because redeliveries do not
  come back as the same batch: SQS regroups what it redelivers, an SNS message may reach the
  queue twice with two message ids, an import may be run again. The batch id still goes in the
  snapshot's summary (``gyeonggi.batch-id``), for lineage.
- **One commit per write**, retried when another writer committed first (Glue's optimistic
  lock): the check for existing keys is redone against the new snapshot, so two functions
  racing on the same record still write it once.
- **Schema evolution without a rewrite.** A column the catalogue declares and the table lacks
  is added (optional: old files read it as null); no data file is touched.
- **Time travel**: :meth:`Lake.read` at any snapshot id or time.
- **Compaction**: :meth:`Lake.compact` rewrites the small files of a partition into one, in
  one commit (merging the rows a dataset keeps in parts, see ``minutes``).

pyarrow and pyiceberg are large; only the ingestion functions ship them.
"""

from __future__ import annotations

import contextlib
import logging
import warnings
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import TYPE_CHECKING, Any

import pyarrow as pa
from pyiceberg import expressions
from pyiceberg.exceptions import (
    CommitFailedException,
    NamespaceAlreadyExistsError,
    NoSuchTableError,
    TableAlreadyExistsError,
)
from pyiceberg.expressions import AlwaysTrue, And, BooleanExpression
from pyiceberg.partitioning import PartitionField, PartitionSpec
from pyiceberg.schema import Schema
from pyiceberg.transforms import DayTransform, IdentityTransform
from pyiceberg.types import (
    BooleanType,
    DateType,
    DoubleType,
    IcebergType,
    LongType,
    NestedField,
    StringType,
    TimestamptzType,
)

from gyeonggi.common.config import Settings
from gyeonggi.common.errors import DomainError
from gyeonggi.datadam.datasets import NAMESPACE, Dataset
from gyeonggi.datadam.records import key_of

if TYPE_CHECKING:
    from pyiceberg.catalog import Catalog
    from pyiceberg.table import Table

log = logging.getLogger(__name__)

# pyiceberg's predicates are pydantic models whose positional constructors mypy cannot see.
EqualTo: Any = expressions.EqualTo
In: Any = expressions.In
IsNull: Any = expressions.IsNull

_ICEBERG: Mapping[str, Callable[[], IcebergType]] = {
    "string": StringType,
    "long": LongType,
    "double": DoubleType,
    "boolean": BooleanType,
    "date": DateType,
    "timestamp": TimestamptzType,
}

#: Snapshot summary properties the writer sets.
BATCH_ID = "gyeonggi.batch-id"
SOURCE = "gyeonggi.source"

#: How often a write is retried when another writer committed first.
COMMIT_ATTEMPTS = 8


class LakeError(DomainError):
    """The lake cannot take a write as asked (e.g. a column changed type in the catalogue)."""

    code = "lake_error"


class LakeSettings(Settings):
    """Where the lake is. The two endpoints are the local cloud's (moto's server); in AWS they
    are unset and pyiceberg finds Glue and S3 as boto3 does."""

    datadam_bucket: str
    datadam_database: str = NAMESPACE
    datadam_glue_endpoint: str | None = None
    datadam_s3_endpoint: str | None = None
    aws_region: str | None = None
    aws_default_region: str | None = None

    def catalog_properties(self) -> dict[str, str]:
        """pyiceberg's ``GlueCatalog`` properties for this lake."""
        props = {"warehouse": f"s3://{self.datadam_bucket}/warehouse"}
        region = self.aws_region or self.aws_default_region
        if region:
            props["glue.region"] = props["s3.region"] = region
        if self.datadam_glue_endpoint:
            props["glue.endpoint"] = self.datadam_glue_endpoint
        if self.datadam_s3_endpoint:
            props["s3.endpoint"] = self.datadam_s3_endpoint
        return props


def glue_catalog(settings: LakeSettings) -> Catalog:
    """The Glue catalog the lake's tables are registered in."""
    from pyiceberg.catalog.glue import GlueCatalog

    return GlueCatalog("gyeonggi", **settings.catalog_properties())


def iceberg_schema(dataset: Dataset) -> Schema:
    """The dataset's columns as an Iceberg schema (field ids from 1, in order)."""
    return Schema(
        *(
            NestedField(i, c.name, _ICEBERG[c.type](), required=c.required, doc=c.description_en)
            for i, c in enumerate(dataset.columns, start=1)
        )
    )


def partition_spec(dataset: Dataset, schema: Schema) -> PartitionSpec:
    """By day, then by jurisdiction. A ``date`` day column is its own day (identity), which
    needs no native transform library in the package; a ``timestamp`` one takes ``day()``."""
    day = schema.find_field(dataset.day_column)
    fields = [
        PartitionField(
            day.field_id,
            1000,
            IdentityTransform() if isinstance(day.field_type, DateType) else DayTransform(),
            dataset.day_column if isinstance(day.field_type, DateType) else "day",
        )
    ]
    if dataset.jurisdiction_column:
        j = schema.find_field(dataset.jurisdiction_column)
        fields.append(PartitionField(j.field_id, 1001, IdentityTransform(), j.name))
    return PartitionSpec(*fields)


@dataclass(frozen=True)
class WriteResult:
    """What one write did."""

    dataset: str
    received: int
    written: int
    duplicates: int
    snapshot_id: int | None = None
    columns_added: tuple[str, ...] = ()


@dataclass(frozen=True)
class CompactionResult:
    """What compaction did to a table."""

    dataset: str
    partitions: int = 0
    files_before: int = 0
    files_after: int = 0
    rows: int = 0
    snapshot_ids: tuple[int, ...] = field(default=())


@dataclass(frozen=True)
class ExpiryResult:
    """What snapshot expiry did to a table: snapshots forgotten, files no snapshot needs any
    more deleted (data files, manifests, manifest lists)."""

    dataset: str
    snapshots: int = 0
    files_deleted: int = 0


Rows = Sequence[Mapping[str, Any]]
#: Builds the rows to write once the table is known (re-run on each commit attempt).
RowBuilder = Callable[["Lake", "Table"], Rows]
#: Merges the rows of one partition when compaction rewrites it.
Merger = Callable[[list[dict[str, Any]]], list[dict[str, Any]]]


class Lake:
    """The Data Dam's tables in one Glue database.

    Parameters
    ----------
    catalog:
        pyiceberg catalog (``glue_catalog(settings)`` in production).
    database:
        The Glue database (Iceberg namespace).
    location:
        The warehouse URI (``s3://bucket/warehouse``); tables go to ``location/database/id``.
    """

    def __init__(self, catalog: Catalog, *, database: str, location: str) -> None:
        self.catalog = catalog
        self.database = database
        self.location = location.rstrip("/")
        self._tables: dict[str, Table] = {}
        #: Columns the last ``table()`` call added, per dataset.
        self._added: dict[str, tuple[str, ...]] = {}

    @classmethod
    def from_settings(cls, settings: LakeSettings) -> Lake:
        """The lake the settings point at."""
        return cls(
            glue_catalog(settings),
            database=settings.datadam_database,
            location=f"s3://{settings.datadam_bucket}/warehouse",
        )

    # ------------------------------------------------------------------ tables
    def identifier(self, dataset: Dataset) -> tuple[str, str]:
        return (self.database, dataset.id)

    def table(self, dataset: Dataset) -> Table:
        """The dataset's table, created on first use and evolved to the catalogue's columns."""
        table = self._tables.get(dataset.id)
        if table is None:
            table = self._load_or_create(dataset)
            self._tables[dataset.id] = table
        else:
            table.refresh()
        self._added[dataset.id] = self.evolve(dataset, table)
        return table

    def exists(self, dataset: Dataset) -> bool:
        """Whether the dataset's table has been created."""
        return bool(self.catalog.table_exists(self.identifier(dataset)))

    def _load_or_create(self, dataset: Dataset) -> Table:
        ident = self.identifier(dataset)
        try:
            return self.catalog.load_table(ident)
        except NoSuchTableError:
            pass
        with contextlib.suppress(NamespaceAlreadyExistsError):
            self.catalog.create_namespace(self.database)
        schema = iceberg_schema(dataset)
        try:
            return self.catalog.create_table(
                ident,
                schema=schema,
                partition_spec=partition_spec(dataset, schema),
                location=f"{self.location}/{self.database}/{dataset.id}",
                properties={
                    "format-version": "2",
                    "write.parquet.compression-codec": "zstd",
                    "comment": dataset.title_en,
                },
            )
        except TableAlreadyExistsError:
            # Another function created it between our look and our create.
            return self.catalog.load_table(ident)

    def evolve(self, dataset: Dataset, table: Table) -> tuple[str, ...]:
        """Add the columns the catalogue declares and the table lacks; no data file is rewritten.

        Raises
        ------
        LakeError
            A column whose type in the table differs from the catalogue's.
        """
        current = {f.name: f for f in table.schema().fields}
        missing = []
        for column in dataset.columns:
            have = current.get(column.name)
            if have is None:
                missing.append(column)
            elif have.field_type != _ICEBERG[column.type]():
                raise LakeError(
                    f"{dataset.id}.{column.name} is {have.field_type} in the lake and "
                    f"{column.type} in the catalogue: a column's type cannot change in place"
                )
        if missing:
            with table.update_schema() as update:
                for column in missing:
                    # Optional whatever the catalogue says: the rows already written lack it.
                    update.add_column(
                        column.name, _ICEBERG[column.type](), doc=column.description_en
                    )
            log.info("evolved %s: added %s", dataset.id, [c.name for c in missing])
        return tuple(c.name for c in missing)

    # ------------------------------------------------------------------ writing
    def write(
        self,
        dataset: Dataset,
        rows: Rows | RowBuilder,
        *,
        batch_id: str,
        source: str = "",
        properties: Mapping[str, str] | None = None,
    ) -> WriteResult:
        """Append prepared rows (``records.prepare``), leaving out keys the table already holds.

        ``rows`` may be a callable given the lake and the refreshed table, for writers that need
        to read the table to know what to write (``minutes``); it runs again on each attempt.

        Raises
        ------
        CommitFailedException
            When every attempt lost the race to another writer.
        """
        added: tuple[str, ...] = ()
        for attempt in range(1, COMMIT_ATTEMPTS + 1):
            table = self.table(dataset)
            added += self._added.get(dataset.id, ())
            candidates = list(rows(self, table) if callable(rows) else rows)
            unique = _unique_by_key(dataset, candidates)
            present = self.existing_keys(dataset, table, unique)
            new = [r for r in unique if key_of(dataset, r) not in present]
            if not new:
                return WriteResult(dataset.id, len(candidates), 0, len(candidates), None, added)
            try:
                table.append(
                    to_arrow(table, new),
                    snapshot_properties={
                        **(properties or {}),
                        BATCH_ID: batch_id,
                        SOURCE: source or dataset.source,
                    },
                )
            except CommitFailedException:
                log.warning("%s: commit attempt %d lost a race; retrying", dataset.id, attempt)
                if attempt == COMMIT_ATTEMPTS:
                    raise
                continue
            snapshot = table.current_snapshot()
            return WriteResult(
                dataset.id,
                len(candidates),
                len(new),
                len(candidates) - len(new),
                snapshot.snapshot_id if snapshot else None,
                added,
            )
        raise AssertionError("unreachable")  # pragma: no cover

    def replace_days(
        self, dataset: Dataset, rows: Rows, days: Iterable[date], *, batch_id: str, source: str
    ) -> WriteResult:
        """Make ``days`` of the table exactly ``rows`` (a day without rows ends up empty).

        For data recomputed whole from its source (the daily counts): a second run replaces
        what the first wrote instead of adding to it. One commit (pyiceberg's overwrite).
        """
        wanted = sorted(set(days))
        if not wanted:
            raise ValueError("no day to replace")
        outside = [r for r in rows if r[dataset.day_column] not in wanted]
        if outside:
            raise ValueError(f"{len(outside)} rows are not on the days replaced")
        unique = _unique_by_key(dataset, rows)
        for attempt in range(1, COMMIT_ATTEMPTS + 1):
            table = self.table(dataset)
            try:
                with warnings.catch_warnings():
                    # Replacing days that held nothing yet is the first run's normal case.
                    warnings.filterwarnings("ignore", "Delete operation did not match")
                    table.overwrite(
                        to_arrow(table, unique),
                        overwrite_filter=_in(dataset.day_column, set(wanted)),
                        snapshot_properties={BATCH_ID: batch_id, SOURCE: source},
                    )
            except CommitFailedException:
                if attempt == COMMIT_ATTEMPTS:
                    raise
                continue
            snapshot = table.current_snapshot()
            return WriteResult(
                dataset.id,
                len(rows),
                len(unique),
                len(rows) - len(unique),
                snapshot.snapshot_id if snapshot else None,
                self._added.get(dataset.id, ()),
            )
        raise AssertionError("unreachable")  # pragma: no cover

    def existing_keys(self, dataset: Dataset, table: Table, rows: Rows) -> set[tuple[Any, ...]]:
        """The keys of ``rows`` the table already holds."""
        if not rows or table.current_snapshot() is None:
            return set()
        found = self.lookup(dataset, table, rows, dataset.key_columns)
        return {tuple(r[k] for k in dataset.key_columns) for r in found}

    def lookup(
        self, dataset: Dataset, table: Table, probes: Rows, columns: Iterable[str]
    ) -> list[dict[str, Any]]:
        """Rows of the partitions ``probes`` fall in whose first key column matches one of
        theirs (``columns`` of them): what a writer checks before an append."""
        if not probes or table.current_snapshot() is None:
            return []
        filters: list[BooleanExpression] = [
            _in(dataset.day_column, {r[dataset.day_column] for r in probes})
        ]
        if dataset.jurisdiction_column:
            filters.append(
                _in(
                    dataset.jurisdiction_column,
                    {r.get(dataset.jurisdiction_column) for r in probes},
                )
            )
        first = dataset.key_columns[0]
        filters.append(_in(first, {r[first] for r in probes}))
        wanted = tuple(dict.fromkeys((*dataset.key_columns, *columns)))
        scan = table.scan(row_filter=_and(filters), selected_fields=wanted)
        return list(scan.to_arrow().to_pylist())

    # ------------------------------------------------------------------ reading
    def read(
        self,
        dataset: Dataset,
        *,
        snapshot_id: int | None = None,
        as_of: datetime | None = None,
        row_filter: BooleanExpression | str | None = None,
    ) -> pa.Table:
        """The table's rows, now or as they were at a snapshot (by id or by time).

        Raises
        ------
        LakeError
            ``as_of`` before the table's first snapshot kept, or a snapshot that is not kept
            (expired: ``expire_snapshots``).
        """
        table = self.table(dataset)
        if as_of is not None:
            snap = table.snapshot_as_of_timestamp(int(as_of.timestamp() * 1000))
            if snap is None:
                raise LakeError(f"{dataset.id} had no snapshot at {as_of.isoformat()}")
            snapshot_id = snap.snapshot_id
        if snapshot_id is not None and table.snapshot_by_id(snapshot_id) is None:
            raise LakeError(f"{dataset.id} has no snapshot {snapshot_id} (expired or never made)")
        return table.scan(
            row_filter=AlwaysTrue() if row_filter is None else row_filter, snapshot_id=snapshot_id
        ).to_arrow()

    def expire_snapshots(self, dataset: Dataset, older_than: datetime) -> ExpiryResult:
        """Forget the snapshots made before ``older_than`` (never the current one), then delete
        the files only they referred to.

        pyiceberg 0.12 (``table.maintenance.expire_snapshots``) removes snapshots from the
        metadata but deletes no file; without the deletion, every file compaction replaced
        would stay in the bucket for ever. A file is deleted only when no remaining snapshot
        refers to it: a writer racing the expiry commits a snapshot made of new files and of the
        current snapshot's manifests, which are kept. In the versioned bucket a deleted file
        becomes a noncurrent version, which the lifecycle removes a week later.
        """
        if not self.exists(dataset):
            return ExpiryResult(dataset.id)
        cutoff = int(older_than.timestamp() * 1000)
        for attempt in range(1, COMMIT_ATTEMPTS + 1):
            table = self.table(dataset)
            current = table.current_snapshot()
            doomed = [
                snap
                for snap in table.metadata.snapshots
                if snap.timestamp_ms < cutoff
                and (current is None or snap.snapshot_id != current.snapshot_id)
            ]
            if not doomed:
                return ExpiryResult(dataset.id)
            before = _files_of(table, doomed)
            try:
                table.maintenance.expire_snapshots().by_ids(
                    [snap.snapshot_id for snap in doomed]
                ).commit()
            except CommitFailedException:
                if attempt == COMMIT_ATTEMPTS:
                    raise
                continue
            break
        table = self.table(dataset)
        kept = _files_of(table, table.metadata.snapshots)
        unused = sorted(before - kept)
        for path in unused:
            table.io.delete(path)
        log.info(
            "expired %d snapshots of %s, deleted %d files", len(doomed), dataset.id, len(unused)
        )
        return ExpiryResult(dataset.id, len(doomed), len(unused))

    def snapshots(self, dataset: Dataset) -> list[dict[str, Any]]:
        """The table's snapshots, oldest first: id, time (ms), operation, summary."""
        table = self.table(dataset)
        out = []
        for snap in table.snapshots():
            summary = snap.summary
            out.append(
                {
                    "snapshot_id": snap.snapshot_id,
                    "timestamp_ms": snap.timestamp_ms,
                    "operation": summary.operation.value if summary else None,
                    "summary": dict(summary.additional_properties) if summary else {},
                }
            )
        return out

    def data_files(self, dataset: Dataset) -> list[dict[str, Any]]:
        """The current snapshot's data files: path, partition, record count, size."""
        table = self.table(dataset)
        snapshot = table.current_snapshot()
        summary = snapshot.summary if snapshot is not None else None
        if snapshot is None or (summary is not None and summary["total-data-files"] == "0"):
            return []  # pyiceberg's inspect fails on a snapshot without files
        files = table.inspect.files().select(
            ["file_path", "partition", "record_count", "file_size_in_bytes"]
        )
        return list(files.to_pylist())

    # ------------------------------------------------------------------ maintenance
    def compact(
        self,
        dataset: Dataset,
        *,
        days: Iterable[date] | None = None,
        min_files: int = 2,
        merge: Merger | None = None,
    ) -> CompactionResult:
        """Rewrite each partition holding ``min_files`` or more data files as one file.

        One commit per partition (pyiceberg's overwrite: a delete and an append snapshot in
        one metadata change), so a reader sees the partition before or after, never half; an
        append racing it makes the commit fail and the partition is read again. ``merge``
        combines rows a dataset lands in parts (``minutes.merge``).
        """
        wanted_days = set(days) if days is not None else None
        by_partition: dict[tuple[Any, ...], int] = {}
        for f in self.data_files(dataset):
            part = f["partition"]
            key = (part.get(dataset.day_column, part.get("day")),) + (
                (part.get(dataset.jurisdiction_column),) if dataset.jurisdiction_column else ()
            )
            if wanted_days is None or key[0] in wanted_days:
                by_partition[key] = by_partition.get(key, 0) + 1
        result = CompactionResult(dataset.id)
        snapshots = []
        files_before = files_after = rows_total = partitions = 0
        for key, count in sorted(by_partition.items(), key=lambda kv: str(kv[0])):
            if count < min_files:
                continue
            flt = [_eq(dataset.day_column, key[0])]
            if dataset.jurisdiction_column:
                flt.append(_eq(dataset.jurisdiction_column, key[1]))
            for attempt in range(1, COMMIT_ATTEMPTS + 1):
                table = self.table(dataset)
                rows = table.scan(row_filter=_and(flt)).to_arrow().to_pylist()
                if merge is not None:
                    rows = merge(rows)
                try:
                    table.overwrite(
                        to_arrow(table, rows),
                        overwrite_filter=_and(flt),
                        snapshot_properties={SOURCE: "compaction"},
                    )
                except CommitFailedException:
                    if attempt == COMMIT_ATTEMPTS:
                        raise
                    continue
                break
            snap = table.current_snapshot()
            if snap is not None:
                snapshots.append(snap.snapshot_id)
            partitions += 1
            files_before += count
            files_after += 1 if rows else 0
            rows_total += len(rows)
        return CompactionResult(
            result.dataset, partitions, files_before, files_after, rows_total, tuple(snapshots)
        )


def _unique_by_key(dataset: Dataset, rows: Rows) -> list[dict[str, Any]]:
    seen: set[tuple[Any, ...]] = set()
    out = []
    for row in rows:
        key = key_of(dataset, row)
        if key not in seen:
            seen.add(key)
            out.append(dict(row))
    return out


def _in(column: str, values: set[Any]) -> BooleanExpression:
    present = {v for v in values if v is not None}
    expr: BooleanExpression | None = In(column, present) if present else None
    if None in values:
        expr = IsNull(column) if expr is None else expr | IsNull(column)
    assert expr is not None
    return expr


def _eq(column: str, value: Any) -> BooleanExpression:
    return IsNull(column) if value is None else EqualTo(column, value)


def _and(filters: list[BooleanExpression]) -> BooleanExpression:
    expr = filters[0]
    for f in filters[1:]:
        expr = And(expr, f)
    return expr


def to_arrow(table: Table, rows: Rows) -> pa.Table:
    """``rows`` as an Arrow table in the table's current schema (absent columns null)."""
    schema = table.schema().as_arrow()
    columns = {f.name: pa.array([r.get(f.name) for r in rows], type=f.type) for f in schema}
    return pa.Table.from_pydict(columns, schema=schema)


def _files_of(table: Table, snapshots: Iterable[Any]) -> set[str]:
    """Every file the ``snapshots`` refer to: manifest lists, manifests, live data files.

    Each manifest is read once: an append's snapshot keeps its parent's manifests, so a week of
    batches shares most of them, and reading them per snapshot would grow with its square.
    """
    files: set[str] = set()
    manifests: dict[str, Any] = {}
    for snap in snapshots:
        files.add(snap.manifest_list)
        for manifest in snap.manifests(table.io):
            manifests.setdefault(manifest.manifest_path, manifest)
    for path, manifest in manifests.items():
        files.add(path)
        for entry in manifest.fetch_manifest_entry(table.io, discard_deleted=True):
            files.add(entry.data_file.file_path)
    return files
