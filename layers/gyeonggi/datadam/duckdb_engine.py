"""The query engine on one machine: DuckDB reading the lake's Iceberg tables over S3.

For each query a fresh in-memory DuckDB: the extensions ``httpfs``, ``avro`` and ``iceberg`` are
loaded from the PyPI packages ``duckdb-ext-*`` (their folder, ``duckdb_ext/extensions``) with
automatic install and load off, so nothing is ever downloaded; an S3 secret points at the
endpoint (the local cloud's moto server); each dataset the statement reads becomes a view
``<namespace>.<id>`` over ``iceberg_scan(<metadata location from Glue>)``. Then external access is
limited to the warehouse prefix and the configuration locked, and only then does the analyst's
SQL run. A timer interrupts it at the time limit.

The rows go to the results bucket as one JSON object (``duckdb/<query id>.json``), as Athena
keeps its results there, so any later request reads the next page by offset. DuckDB is a
development dependency: AWS runs Athena (``DATADAM_QUERY_ENGINE=athena``); this module imports
duckdb only when a query runs.
"""

from __future__ import annotations

import importlib.util
import json
import re
import tempfile
import threading
import time
import uuid
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from gyeonggi.common.aws import AwsClient
from gyeonggi.datadam.engines import (
    EngineUnavailable,
    Page,
    QueryFailed,
    QueryTimedOut,
    ResultColumn,
    Run,
    UnknownQuery,
    json_value,
)
from gyeonggi.datadam.sql import Statement
from gyeonggi.datadam.tables import TableLocator, split_s3_uri

EXTENSIONS = ("httpfs", "avro", "iceberg")
_UUID = re.compile(r"^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$")


def extension_directory() -> Path:
    """The folder the ``duckdb-ext-*`` packages install the extensions into."""
    spec = importlib.util.find_spec("duckdb_ext")
    if spec is None or not spec.submodule_search_locations:
        raise EngineUnavailable(
            "DuckDB's extensions are not installed (pip install duckdb-ext-httpfs "
            "duckdb-ext-iceberg duckdb-ext-avro)"
        )
    return Path(next(iter(spec.submodule_search_locations))) / "extensions"


def _quote(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"


class DuckDbEngine:
    """Runs statements in DuckDB; results kept in ``results_bucket`` under ``duckdb/``."""

    name = "duckdb"
    s3 = AwsClient("s3")

    def __init__(
        self,
        locator: TableLocator,
        results_bucket: str,
        *,
        s3_endpoint: str | None = None,
        s3: Any | None = None,
        credentials: tuple[str, str, str | None] | None = None,
        region: str | None = None,
    ) -> None:
        self.locator = locator
        self.results_bucket = results_bucket
        self.s3_endpoint = s3_endpoint
        if s3 is not None:
            self.s3 = s3
        elif s3_endpoint:
            import boto3

            self.s3 = boto3.client("s3", endpoint_url=s3_endpoint)
        self._credentials = credentials
        self._region = region

    # ------------------------------------------------------------------ running
    def run(self, statement: Statement, *, time_limit: float, reuse_minutes: int = 0) -> Run:
        import duckdb

        locations = {d: self.locator.metadata_location(d) for d in statement.datasets}
        started = time.monotonic()
        with tempfile.TemporaryDirectory(prefix="datadam-") as scratch:
            profile = Path(scratch) / "profile.json"
            con = self.connect(locations, statement.namespace, profile=profile)
            timer = threading.Timer(time_limit, con.interrupt)
            timer.start()
            try:
                cursor = con.execute(statement.for_duckdb())
                columns = tuple(
                    ResultColumn(d[0], str(d[1]).lower()) for d in cursor.description or ()
                )
                rows = [[json_value(v) for v in row] for row in cursor.fetchall()]
            except duckdb.InterruptException:
                raise QueryTimedOut(
                    f"the query ran longer than {time_limit:g} s and was stopped: narrow it "
                    "(fewer days, a jurisdiction, fewer columns)"
                ) from None
            except (
                duckdb.ParserException,
                duckdb.BinderException,
                duckdb.CatalogException,
                duckdb.ConversionException,
                duckdb.InvalidInputException,
                duckdb.OutOfRangeException,
                duckdb.NotImplementedException,
                duckdb.PermissionException,
                duckdb.TypeMismatchException,
            ) as exc:
                raise QueryFailed(f"DuckDB refused the query: {_first_line(exc)}") from None
            except duckdb.Error as exc:
                raise EngineUnavailable(
                    f"DuckDB could not run the query: {_first_line(exc)}"
                ) from None
            finally:
                timer.cancel()
                con.close()
            scanned = _bytes_read(profile)
        elapsed = int((time.monotonic() - started) * 1000)
        query_id = str(uuid.uuid4())
        body = {"columns": [[c.name, c.type] for c in columns], "rows": rows}
        self.s3.put_object(
            Bucket=self.results_bucket,
            Key=f"duckdb/{query_id}.json",
            Body=json.dumps(body, ensure_ascii=False).encode("utf-8"),
            ContentType="application/json",
        )
        return Run(query_id, self.name, scanned, elapsed)

    def connect(
        self,
        locations: dict[str, str],
        namespace: str,
        *,
        profile: Path | None = None,
        before_lock: Sequence[str] = (),
    ) -> Any:
        """A DuckDB connection with the views of ``locations`` and nothing else reachable.

        ``locations`` maps dataset ids to their metadata locations. Public for the benchmark,
        which measures queries on the same connection the engine would use; its
        ``before_lock`` statements (HTTP logging, an optimizer off) run before the lock.
        """
        import duckdb

        con = duckdb.connect(
            config={
                "autoinstall_known_extensions": False,
                "autoload_known_extensions": False,
                "extension_directory": str(extension_directory()),
            }
        )
        try:
            for extension in EXTENSIONS:
                con.execute(f"LOAD {extension}")
            con.execute(self._secret())
            con.execute(f"CREATE SCHEMA {namespace}")
            prefixes = set()
            for dataset_id, location in locations.items():
                con.execute(
                    f"CREATE VIEW {namespace}.{dataset_id} AS "
                    f"SELECT * FROM iceberg_scan({_quote(location)})"
                )
                bucket, key = split_s3_uri(location)
                # The table's folder: metadata/ and data/ beside each other.
                table_root = key.rsplit("/metadata/", 1)[0]
                prefixes.add(f"s3://{bucket}/{table_root}/")
            allowed = sorted(prefixes)
            if profile is not None:
                con.execute("SET enable_profiling = 'json'")
                con.execute(f"SET profiling_output = {_quote(str(profile))}")
                allowed.append(str(profile.parent) + "/")
            for statement in before_lock:
                con.execute(statement)
            con.execute("SET allowed_directories = [" + ", ".join(_quote(p) for p in allowed) + "]")
            con.execute("SET enable_external_access = false")
            con.execute("SET lock_configuration = true")
        except duckdb.Error as exc:
            con.close()
            raise EngineUnavailable(f"DuckDB could not open the lake: {_first_line(exc)}") from None
        return con

    def _secret(self) -> str:
        key_id, secret, token = self._credentials or _session_credentials()
        region = self._region or _session_region()
        parts = [
            "TYPE s3",
            f"KEY_ID {_quote(key_id)}",
            f"SECRET {_quote(secret)}",
            f"REGION {_quote(region)}",
        ]
        if token:
            parts.append(f"SESSION_TOKEN {_quote(token)}")
        if self.s3_endpoint:
            scheme, _, host = self.s3_endpoint.partition("://")
            parts += [
                f"ENDPOINT {_quote(host.rstrip('/'))}",
                "URL_STYLE 'path'",
                f"USE_SSL {'true' if scheme == 'https' else 'false'}",
            ]
        return "CREATE SECRET datadam (" + ", ".join(parts) + ")"

    # ------------------------------------------------------------------ paging
    def page(self, query_id: str, token: str | None, size: int) -> Page:
        try:
            offset = int(token) if token else 0
        except ValueError:
            raise UnknownQuery(f"next: {token!r} is no page of query {query_id}") from None
        if offset < 0:
            raise UnknownQuery(f"next: {token!r} is no page of query {query_id}")
        whole = self.all_rows(query_id)
        end = offset + size
        rows = whole.rows
        return Page(
            query_id, whole.columns, rows[offset:end], str(end) if end < len(rows) else None
        )

    def all_rows(self, query_id: str) -> Page:
        if not _UUID.match(query_id):
            raise UnknownQuery(f"no query {query_id!r}")
        try:
            obj = self.s3.get_object(Bucket=self.results_bucket, Key=f"duckdb/{query_id}.json")
        except self.s3.exceptions.NoSuchKey:
            raise UnknownQuery(f"no query {query_id!r} (results are kept for a day)") from None
        body = json.loads(obj["Body"].read())
        columns = tuple(ResultColumn(name, kind) for name, kind in body["columns"])
        return Page(query_id, columns, body["rows"])


def _first_line(exc: Exception) -> str:
    return str(exc).strip().splitlines()[0][:500] if str(exc).strip() else type(exc).__name__


def _bytes_read(profile: Path) -> int | None:
    try:
        return int(json.loads(profile.read_text())["total_bytes_read"])
    except (OSError, ValueError, KeyError, TypeError):
        return None


def _session_credentials() -> tuple[str, str, str | None]:
    import boto3

    credentials = boto3.Session().get_credentials()
    if credentials is None:
        raise EngineUnavailable("no AWS credentials for DuckDB to read the lake with")
    frozen = credentials.get_frozen_credentials()
    return str(frozen.access_key), str(frozen.secret_key), frozen.token


def _session_region() -> str:
    import boto3

    return boto3.Session().region_name or "ap-northeast-2"
