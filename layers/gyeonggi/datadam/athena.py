"""The query engine in AWS: Athena (engine version 3, Trino) over the Glue tables of the lake.

StartQueryExecution in the Data Dam's workgroup (its results bucket and a per-query scan cutoff
are the workgroup's, enforced), GetQueryExecution until the query ends or the time limit is up
(then StopQueryExecution: a query nobody waits for should not go on costing), GetQueryResults a
page at a time: Athena keeps the results in the bucket, its NextToken is the page token.

Athena says whose fault a failure is (``AthenaError.ErrorCategory``: 1 system, 2 user, 3 other):
the user's is a 400 with Athena's reason, anything else a 503.
"""

from __future__ import annotations

import contextlib
import csv
import io
import time
from collections.abc import Callable
from typing import Any

from botocore.exceptions import BotoCoreError, ClientError

from gyeonggi.common.aws import AwsClient
from gyeonggi.datadam.engines import (
    MAX_PAGE_SIZE,
    EngineUnavailable,
    Page,
    QueryFailed,
    QueryTimedOut,
    ResultColumn,
    Run,
    UnknownQuery,
    typed_value,
)
from gyeonggi.datadam.sql import Statement
from gyeonggi.datadam.tables import split_s3_uri

_USER_ERROR = 2
#: Polling starts fast (most Data Dam queries take a second or two) and backs off to this.
_MAX_POLL_SECONDS = 1.0


class AthenaEngine:
    """Runs statements on Athena; ``athena`` and ``sleep`` may be given (tests)."""

    name = "athena"
    athena = AwsClient("athena")
    s3 = AwsClient("s3")

    def __init__(
        self,
        workgroup: str,
        database: str,
        results_bucket: str,
        *,
        athena: Any | None = None,
        s3: Any | None = None,
        sleep: Callable[[float], None] = time.sleep,
        monotonic: Callable[[], float] = time.monotonic,
    ) -> None:
        self.workgroup = workgroup
        self.database = database
        self.results_bucket = results_bucket
        if athena is not None:
            self.athena = athena
        if s3 is not None:
            self.s3 = s3
        self._sleep = sleep
        self._monotonic = monotonic

    def run(self, statement: Statement, *, time_limit: float, reuse_minutes: int = 0) -> Run:
        started = self._monotonic()
        args: dict[str, Any] = {
            "QueryString": statement.for_athena(self.database),
            "WorkGroup": self.workgroup,
            "QueryExecutionContext": {"Database": self.database},
            "ResultConfiguration": {"OutputLocation": f"s3://{self.results_bucket}/athena/"},
        }
        if reuse_minutes > 0:
            args["ResultReuseConfiguration"] = {
                "ResultReuseByAgeConfiguration": {"Enabled": True, "MaxAgeInMinutes": reuse_minutes}
            }
        try:
            query_id = self.athena.start_query_execution(**args)["QueryExecutionId"]
        except ClientError as exc:
            if _code(exc) == "InvalidRequestException":
                raise QueryFailed(f"Athena refused the query: {_message(exc)}") from None
            raise EngineUnavailable(f"Athena did not start the query: {_code(exc)}") from None
        except BotoCoreError as exc:
            raise EngineUnavailable(f"Athena is not reachable: {type(exc).__name__}") from None
        delay = 0.1
        while True:
            execution = self._execution(query_id)
            status = execution.get("Status", {})
            state = status.get("State")
            if state == "SUCCEEDED":
                stats = execution.get("Statistics", {})
                return Run(
                    query_id,
                    self.name,
                    stats.get("DataScannedInBytes"),
                    stats.get("TotalExecutionTimeInMillis"),
                )
            if state in ("FAILED", "CANCELLED"):
                reason = str(status.get("StateChangeReason") or state.lower())
                if status.get("AthenaError", {}).get("ErrorCategory") == _USER_ERROR:
                    raise QueryFailed(f"Athena refused the query: {reason}")
                raise EngineUnavailable(f"Athena could not run the query: {reason}")
            if self._monotonic() - started + delay > time_limit:
                self._stop(query_id)
                raise QueryTimedOut(
                    f"the query ran longer than {time_limit:g} s and was stopped: narrow it "
                    "(fewer days, a jurisdiction, fewer columns)"
                )
            self._sleep(delay)
            delay = min(delay * 2, _MAX_POLL_SECONDS)

    def page(self, query_id: str, token: str | None, size: int) -> Page:
        # The first page of a SELECT's results starts with the header row: ask for one more.
        first = token is None
        args: dict[str, Any] = {
            "QueryExecutionId": query_id,
            "MaxResults": min(size + first, MAX_PAGE_SIZE),
        }
        if token:
            args["NextToken"] = token
        try:
            answer = self.athena.get_query_results(**args)
        except ClientError as exc:
            if _code(exc) == "InvalidRequestException":
                raise UnknownQuery(f"no results for query {query_id}: {_message(exc)}") from None
            raise EngineUnavailable(f"Athena did not give the results: {_code(exc)}") from None
        result = answer.get("ResultSet", {})
        columns = tuple(
            ResultColumn(c["Name"], str(c.get("Type", "varchar")).lower())
            for c in result.get("ResultSetMetadata", {}).get("ColumnInfo", [])
        )
        raw = result.get("Rows", [])
        if first and raw:
            raw = raw[1:]
        rows = [
            [
                typed_value(cell.get("VarCharValue"), col.type)
                for cell, col in zip(row.get("Data", []), columns, strict=False)
            ]
            for row in raw
        ]
        return Page(query_id, columns, rows, answer.get("NextToken"))

    def all_rows(self, query_id: str) -> Page:
        # The columns' types from the results' metadata, the rows from the CSV Athena wrote
        # (every value quoted, NULL as an empty field without quotes).
        head = self.page(query_id, None, 1)
        location = (
            self._execution(query_id).get("ResultConfiguration", {}).get("OutputLocation", "")
        )
        try:
            bucket, key = split_s3_uri(location)
        except ValueError:
            raise UnknownQuery(f"query {query_id} has no results file") from None
        try:
            text = self.s3.get_object(Bucket=bucket, Key=key)["Body"].read().decode("utf-8")
        except ClientError as exc:
            raise EngineUnavailable(
                f"the results of {query_id} are unreadable: {_code(exc)}"
            ) from None
        reader = csv.reader(io.StringIO(text, newline=""))
        next(reader, None)  # the header
        columns = head.columns
        rows = [
            [
                typed_value(cell if cell != "" else None, col.type)
                for cell, col in zip(row, columns, strict=False)
            ]
            for row in reader
        ]
        return Page(query_id, columns, rows)

    def _execution(self, query_id: str) -> dict[str, Any]:
        try:
            found: dict[str, Any] = self.athena.get_query_execution(QueryExecutionId=query_id)
        except (ClientError, BotoCoreError) as exc:
            raise EngineUnavailable(f"Athena did not say how the query went: {exc}") from None
        return dict(found.get("QueryExecution", {}))

    def _stop(self, query_id: str) -> None:
        # It may have ended meanwhile; the answer is the timeout either way.
        with contextlib.suppress(ClientError, BotoCoreError):
            self.athena.stop_query_execution(QueryExecutionId=query_id)


def _code(exc: ClientError) -> str:
    return str(exc.response.get("Error", {}).get("Code", "Unknown"))


def _message(exc: ClientError) -> str:
    return str(exc.response.get("Error", {}).get("Message", ""))[:500]
