"""The Athena engine against botocore's Stubber: the calls it makes, in order, with the answers
Athena gives (its documented shapes), including failure, the time limit and paging."""

from __future__ import annotations

import io
from collections.abc import Iterator
from typing import Any

import boto3
import pytest
from botocore.response import StreamingBody
from botocore.stub import ANY, Stubber

from gyeonggi.datadam.athena import AthenaEngine
from gyeonggi.datadam.datasets import CATALOGUE, NAMESPACE
from gyeonggi.datadam.engines import EngineUnavailable, QueryFailed, QueryTimedOut, UnknownQuery
from gyeonggi.datadam.sql import Statement, parse_statement

QID = "0f4a9e4e-1c1e-4b5b-9d51-3f2f8a1e7c11"


class Clock:
    def __init__(self) -> None:
        self.now = 0.0
        self.slept: list[float] = []

    def sleep(self, seconds: float) -> None:
        self.slept.append(seconds)
        self.now += seconds

    def monotonic(self) -> float:
        return self.now


@pytest.fixture
def athena() -> Iterator[tuple[Any, Stubber]]:
    client = boto3.client(
        "athena",
        region_name="ap-northeast-2",
        aws_access_key_id="testing",
        aws_secret_access_key="testing",
    )
    with Stubber(client) as stubber:
        yield client, stubber
        stubber.assert_no_pending_responses()


def engine(client: Any, clock: Clock) -> AthenaEngine:
    return AthenaEngine(
        "datadam",
        "gyeonggi_datadam_dev",
        "results",
        athena=client,
        sleep=clock.sleep,
        monotonic=clock.monotonic,
    )


def statement(sql: str = "SELECT day, count FROM complaint_daily_counts") -> Statement:
    return parse_statement(sql, CATALOGUE, namespace=NAMESPACE, max_rows=100)


def execution(state: str, **status: Any) -> dict[str, Any]:
    return {
        "QueryExecution": {
            "QueryExecutionId": QID,
            "Status": {"State": state, **status},
            "Statistics": {"DataScannedInBytes": 2048, "TotalExecutionTimeInMillis": 900},
        }
    }


def test_a_query_starts_in_the_workgroup_is_polled_and_reports_its_scan(athena: Any) -> None:
    client, stub = athena
    clock = Clock()
    stub.add_response(
        "start_query_execution",
        {"QueryExecutionId": QID},
        {
            "QueryString": "SELECT day, count FROM gyeonggi_datadam_dev.complaint_daily_counts "
            "LIMIT 100",
            "WorkGroup": "datadam",
            "QueryExecutionContext": {"Database": "gyeonggi_datadam_dev"},
            "ResultConfiguration": {"OutputLocation": "s3://results/athena/"},
        },
    )
    stub.add_response("get_query_execution", execution("QUEUED"), {"QueryExecutionId": QID})
    stub.add_response("get_query_execution", execution("RUNNING"), {"QueryExecutionId": QID})
    stub.add_response("get_query_execution", execution("SUCCEEDED"), {"QueryExecutionId": QID})
    run = engine(client, clock).run(statement(), time_limit=20)
    assert (run.query_id, run.engine, run.scanned_bytes, run.elapsed_ms) == (
        QID,
        "athena",
        2048,
        900,
    )
    assert clock.slept == [0.1, 0.2]


def test_open_data_asks_athena_to_reuse_recent_results(athena: Any) -> None:
    client, stub = athena
    stub.add_response(
        "start_query_execution",
        {"QueryExecutionId": QID},
        {
            "QueryString": ANY,
            "WorkGroup": "datadam",
            "QueryExecutionContext": ANY,
            "ResultConfiguration": ANY,
            "ResultReuseConfiguration": {
                "ResultReuseByAgeConfiguration": {"Enabled": True, "MaxAgeInMinutes": 60}
            },
        },
    )
    stub.add_response("get_query_execution", execution("SUCCEEDED"), {"QueryExecutionId": QID})
    engine(client, Clock()).run(statement(), time_limit=20, reuse_minutes=60)


def test_a_users_mistake_is_a_refusal_with_athenas_reason(athena: Any) -> None:
    client, stub = athena
    stub.add_response("start_query_execution", {"QueryExecutionId": QID})
    stub.add_response(
        "get_query_execution",
        execution(
            "FAILED",
            StateChangeReason="COLUMN_NOT_FOUND: line 1:8: Column 'nope' cannot be resolved",
            AthenaError={"ErrorCategory": 2, "ErrorType": 1006},
        ),
    )
    with pytest.raises(QueryFailed, match="Column 'nope' cannot be resolved"):
        engine(client, Clock()).run(statement(), time_limit=20)


def test_athenas_own_failure_is_unavailable_not_the_callers_fault(athena: Any) -> None:
    client, stub = athena
    stub.add_response("start_query_execution", {"QueryExecutionId": QID})
    stub.add_response(
        "get_query_execution",
        execution("FAILED", StateChangeReason="Internal error", AthenaError={"ErrorCategory": 1}),
    )
    with pytest.raises(EngineUnavailable):
        engine(client, Clock()).run(statement(), time_limit=20)


def test_a_syntax_athena_refuses_at_start_is_a_refusal(athena: Any) -> None:
    client, stub = athena
    stub.add_client_error(
        "start_query_execution", "InvalidRequestException", "line 1:1: mismatched input"
    )
    with pytest.raises(QueryFailed, match="mismatched input"):
        engine(client, Clock()).run(statement(), time_limit=20)


def test_throttling_is_unavailable(athena: Any) -> None:
    client, stub = athena
    stub.add_client_error("start_query_execution", "TooManyRequestsException", "slow down")
    with pytest.raises(EngineUnavailable):
        engine(client, Clock()).run(statement(), time_limit=20)


def test_a_query_past_the_time_limit_is_stopped(athena: Any) -> None:
    client, stub = athena
    clock = Clock()
    stub.add_response("start_query_execution", {"QueryExecutionId": QID})
    for _ in range(5):  # 0.1 + 0.2 + 0.4 + 0.8 s, then the next wait would pass 2 s
        stub.add_response("get_query_execution", execution("RUNNING"))
    stub.add_response("stop_query_execution", {}, {"QueryExecutionId": QID})
    with pytest.raises(QueryTimedOut, match="longer than 2 s"):
        engine(client, clock).run(statement(), time_limit=2)
    assert clock.now <= 2


def _row(*cells: str | None) -> dict[str, Any]:
    return {"Data": [{} if c is None else {"VarCharValue": c} for c in cells]}


METADATA = {
    "ColumnInfo": [
        {"Name": "day", "Type": "date"},
        {"Name": "count", "Type": "bigint"},
        {"Name": "share", "Type": "double"},
        {"Name": "open", "Type": "boolean"},
    ]
}


def test_pages_drop_the_header_once_and_type_the_cells(athena: Any) -> None:
    client, stub = athena
    stub.add_response(
        "get_query_results",
        {
            "ResultSet": {
                "Rows": [
                    _row("day", "count", "share", "open"),
                    _row("2026-03-01", "12", "0.5", "true"),
                ],
                "ResultSetMetadata": METADATA,
            },
            "NextToken": "t2",
        },
        {"QueryExecutionId": QID, "MaxResults": 2},
    )
    stub.add_response(
        "get_query_results",
        {
            "ResultSet": {
                "Rows": [_row("2026-03-02", None, "NaN", "false")],
                "ResultSetMetadata": METADATA,
            }
        },
        {"QueryExecutionId": QID, "MaxResults": 1, "NextToken": "t2"},
    )
    athena_engine = engine(client, Clock())
    first = athena_engine.page(QID, None, 1)
    second = athena_engine.page(QID, first.next_token, 1)
    assert [c.name for c in first.columns] == ["day", "count", "share", "open"]
    assert first.rows == [["2026-03-01", 12, 0.5, True]]
    assert first.next_token == "t2"
    assert second.rows == [["2026-03-02", None, None, False]]
    assert second.next_token is None


def test_an_unknown_query_id_is_unknown(athena: Any) -> None:
    client, stub = athena
    stub.add_client_error(
        "get_query_results", "InvalidRequestException", "QueryExecution x was not found"
    )
    with pytest.raises(UnknownQuery):
        engine(client, Clock()).page("x", None, 10)


def test_all_rows_come_from_the_results_csv_typed_by_the_metadata(athena: Any) -> None:
    client, stub = athena
    s3 = boto3.client(
        "s3", region_name="ap-northeast-2", aws_access_key_id="t", aws_secret_access_key="t"
    )
    stub.add_response(
        "get_query_results",
        {
            "ResultSet": {
                "Rows": [_row("day", "count", "share", "open")],
                "ResultSetMetadata": METADATA,
            }
        },
        {"QueryExecutionId": QID, "MaxResults": 2},
    )
    stub.add_response(
        "get_query_execution",
        {
            "QueryExecution": {
                "QueryExecutionId": QID,
                "ResultConfiguration": {"OutputLocation": f"s3://results/athena/{QID}.csv"},
            }
        },
    )
    csv_text = (
        '"day","count","share","open"\n'
        '"2026-03-01","12","0.5","true"\n'
        '"2026-03-02",,"1.25","false"\n'
    )
    with Stubber(s3) as s3_stub:
        s3_stub.add_response(
            "get_object",
            {"Body": StreamingBody(io.BytesIO(csv_text.encode()), len(csv_text))},
            {"Bucket": "results", "Key": f"athena/{QID}.csv"},
        )
        athena_engine = AthenaEngine("datadam", "db", "results", athena=client, s3=s3)
        whole = athena_engine.all_rows(QID)
    assert whole.rows == [["2026-03-01", 12, 0.5, True], ["2026-03-02", None, 1.25, False]]
