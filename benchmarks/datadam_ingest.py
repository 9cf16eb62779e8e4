"""Ingestion throughput into the Data Dam: records/s through the ingestion functions' handlers.

The handlers run in this process against moto's server on 127.0.0.1 (Glue and S3 over HTTP,
as the local cloud serves them): SQS batches of simulated ``ComplaintReceived`` events through
``functions/datadam_events`` and of telemetry-rule messages through ``functions/datadam_sensors``,
then the same batches again (a redelivery: the key check reads the partitions and writes
nothing). What one invocation does is all there: parse, privacy policy, typing, the partition
read of the key check, Parquet (zstd), S3 puts, the Glue commit. moto is not S3: its latency per
request is lower than S3's and its throughput of large objects too, so these figures are the
code's cost on this machine, not AWS's.
"""

from __future__ import annotations

import base64
import contextlib
import importlib
import io
import json
import os
import time
from datetime import UTC, datetime, timedelta
from typing import Any

from benchmarks import Options, median, table

T0 = datetime(2026, 11, 24, 0, 0, tzinfo=UTC)
JURISDICTIONS = ("suwon.gg.kr", "yongin.gg.kr", "goyang.gg.kr", "hwaseong.gg.kr", "paju.gg.kr")


class _Context:
    function_name = "benchmark"
    memory_limit_in_mb = 1024
    invoked_function_arn = "arn:aws:lambda:ap-northeast-2:123456789012:function:benchmark"
    aws_request_id = "benchmark"

    def get_remaining_time_in_millis(self) -> int:
        return 120_000


def _sqs(i: int, body: dict[str, Any], event_type: str | None) -> dict[str, Any]:
    attributes = (
        {"event_type": {"stringValue": event_type, "dataType": "String"}} if event_type else {}
    )
    return {
        "messageId": f"bench-{i:08d}",
        "receiptHandle": f"r-{i}",
        "body": json.dumps(body, ensure_ascii=False),
        "attributes": {"SentTimestamp": "1795886102120", "ApproximateReceiveCount": "1"},
        "messageAttributes": attributes,
        "eventSource": "aws:sqs",
        "eventSourceARN": "arn:aws:sqs:ap-northeast-2:123456789012:bench",
    }


def complaint_batch(start: int, size: int) -> dict[str, Any]:
    records = []
    for i in range(start, start + size):
        body = {
            "service_request_id": f"GG-20261124-{i:08X}",
            "jurisdiction_id": JURISDICTIONS[i % len(JURISDICTIONS)],
            "service_code": "road-damage",
            "description": "도로 파손 신고 (simulated)",
            "status": "open",
            "agency_responsible": "road-management",
            "lat": 37.26 + (i % 100) / 1000,
            "long": 127.02 + (i % 100) / 1000,
            "channel": "api",
            "requested_datetime": (T0 + timedelta(seconds=i * 7)).isoformat(),
            "updated_datetime": (T0 + timedelta(seconds=i * 7)).isoformat(),
            "citizen": {
                "pseudonym": f"p_{i % 5000:032d}",
                "age_band": "30-39",
                "gender": "female",
                "consent_analytics": True,
            },
        }
        records.append(_sqs(i, body, "ComplaintReceived"))
    return {"Records": records}


def reading_batch(start_minute: int, sensors: int) -> dict[str, Any]:
    """Six readings a minute (every 10 s) of ``sensors`` CO sensors over one minute."""
    records: list[dict[str, Any]] = []
    minute = T0 + timedelta(minutes=start_minute)
    for s in range(sensors):
        for second in range(0, 60, 10):
            payload = {
                "kind": "co",
                "value": 3.0 + (s % 7) + second / 100,
                "unit": "ppm",
                "ts": (minute + timedelta(seconds=second)).isoformat(),
            }
            body = {
                "payload": base64.b64encode(json.dumps(payload).encode()).decode(),
                "complex_id": f"complex-{s % 20:02d}",
                "sensor_id": f"co-{s:05d}",
            }
            records.append(_sqs(len(records), body, None))
    return {"Records": records}


#: The form submissions table's name in the stream records below.
SUBMISSIONS_TABLE = "bench-FormSubmissionsTable"


def submission_batch(start: int, size: int) -> dict[str, Any]:
    """A stream batch of ``size`` form submissions received (INSERT, new and old images), each
    with an RRN to pseudonymise (one KMS call each) and answers the record leaves out."""
    from boto3.dynamodb.types import TypeSerializer

    serialise = TypeSerializer().serialize
    records = []
    for i in range(start, start + size):
        fields = {"applicant_name": "시험용", "applicant_rrn": f"{900101 + i % 28:06d}-1234567",
                  "address": "경기도 수원시 팔달구 정조로 825", "copies": 1}  # fmt: skip
        item = {
            "submission_id": f"FA-bench{i:016d}",
            "form_id": "resident-registration-copy",
            "lang": "ko",
            "fields": json.dumps(fields, ensure_ascii=False),
            "owner_kind": "citizen",
            "state": "received",
            "created_at": (T0 + timedelta(seconds=i)).isoformat(),
            "updated_at": (T0 + timedelta(seconds=i)).isoformat(),
        }
        records.append(
            {
                "eventID": f"{i:032x}",
                "eventName": "INSERT",
                "eventSource": "aws:dynamodb",
                "dynamodb": {
                    "Keys": {"submission_id": serialise(item["submission_id"])},
                    "NewImage": {k: serialise(v) for k, v in item.items()},
                    "SequenceNumber": f"{i:021d}",
                    "StreamViewType": "NEW_AND_OLD_IMAGES",
                },
                "eventSourceARN": "arn:aws:dynamodb:ap-northeast-2:123456789012:table/"
                f"{SUBMISSIONS_TABLE}/stream/2026-11-24T00:00:00.000",
            }
        )
    return {"Records": records}


def _handler(module_name: str) -> Any:
    return importlib.reload(importlib.import_module(module_name))


def _invoke(handler: Any, batch: dict[str, Any]) -> Any:
    # Powertools prints each invocation's metrics (EMF) on stdout: not part of the report.
    with contextlib.redirect_stdout(io.StringIO()):
        return handler.handler(batch, _Context())


def _measure(
    handler: Any, batches: list[dict[str, Any]], deadline: float
) -> tuple[list[float], int]:
    """Seconds per batch and records handled (every batch must succeed)."""
    seconds, records = [], 0
    for batch in batches:
        if time.monotonic() > deadline:
            break
        started = time.perf_counter()
        response = _invoke(handler, batch)
        seconds.append(time.perf_counter() - started)
        assert response == {"batchItemFailures": []}, response
        records += len(batch["Records"])
    return seconds, records


def run(options: Options) -> str:
    import logging

    from localcloud.datadam import lake_server

    logging.getLogger("werkzeug").setLevel(logging.WARNING)
    rows = []
    with lake_server() as endpoint:
        saved = dict(os.environ)
        os.environ.update(endpoint.environment())
        os.environ.update(
            PSEUDONYM_KEY_ID=endpoint.pseudonym_key_id or "",
            POWERTOOLS_SERVICE_NAME="benchmark",
            POWERTOOLS_METRICS_NAMESPACE="Benchmark",
            POWERTOOLS_TRACE_DISABLED="true",
            POWERTOOLS_LOG_LEVEL="WARNING",
            CCTV_BUCKET="bench-cctv",
            COMPLAINT_FORECASTS_TABLE="bench-ComplaintForecastsTable",
            INCIDENTS_TABLE="bench-IncidentsTable",
            FORM_SUBMISSIONS_TABLE=SUBMISSIONS_TABLE,
            PRESENTATION_REQUESTS_TABLE="bench-PresentationRequestsTable",
            WALLET_STATUS_LISTS_TABLE="bench-WalletStatusListsTable",
        )
        try:
            events = _handler("functions.datadam_events.app")
            sensors = _handler("functions.datadam_sensors.app")
            streams = _handler("functions.datadam_streams.app")
            streams.ingestion.pseudonyms.kms = endpoint.client("kms")
            deadline = time.monotonic() + options.time_limit * 3
            # The first batch creates the table: measured apart.
            started = time.perf_counter()
            _invoke(events, complaint_batch(10**7, 10))
            first_s = time.perf_counter() - started
            rows.append(["events: first batch (creates the table)", "10", f"{first_s:.2f}", "-"])
            for size in (100, 1000):
                batches = [complaint_batch(i * size, size) for i in range(1 + size // 1000, 4)]
                secs, n = _measure(events, batches, deadline)
                rows.append(_row(f"events: ComplaintReceived x {size}", size, secs, n))
                secs, n = _measure(events, batches, deadline)
                rows.append(_row(f"events: the same {size} again (redelivery)", size, secs, n))
            started = time.perf_counter()
            _invoke(sensors, reading_batch(10**4, 10))
            rows.append(
                [
                    "sensors: first batch (creates the table)",
                    "60",
                    f"{time.perf_counter() - started:.2f}",
                    "-",
                ]
            )
            batches = [reading_batch(m, 1666) for m in range(3)]
            size = len(batches[0]["Records"])
            secs, n = _measure(sensors, batches, deadline)
            rows.append(_row(f"sensors: readings x {size} (1,666 sensors, 1 min)", size, secs, n))
            secs, n = _measure(sensors, batches, deadline)
            rows.append(_row(f"sensors: the same {size} again (redelivery)", size, secs, n))
            # Table streams: form submissions, each with an RRN pseudonymised through KMS.
            _invoke(streams, submission_batch(10**7, 10))  # creates the table
            for size in (100, 1000):
                batches = [submission_batch(i * size, size) for i in range(1 + size // 1000, 4)]
                secs, n = _measure(streams, batches, deadline)
                rows.append(_row(f"streams: form submissions x {size}", size, secs, n))
            lake = endpoint.lake()
            from gyeonggi.datadam.datasets import dataset

            stored = lake.read(dataset("complaints")).num_rows
            parts = lake.read(dataset("sensor_minutes")).num_rows
        finally:
            os.environ.clear()
            os.environ.update(saved)
    return "\n".join(
        [
            "### Data Dam ingestion (`benchmarks/datadam_ingest.py`)",
            "",
            "Handlers in-process, moto's server on 127.0.0.1 for Glue and S3 (median of the "
            "batches; records/s = batch size / median seconds).",
            "",
            table(["batch", "records", "median s", "records/s"], rows),
            "",
            f"Rows in the lake afterwards: complaints {stored}, sensor minute parts {parts} "
            "(the redeliveries added none).",
        ]
    )


def _row(name: str, size: int, seconds: list[float], records: int) -> list[str]:
    if not seconds:
        return [name, str(size), "time limit", "-"]
    m = median(seconds)
    return [name, str(size), f"{m:.2f}", f"{size / m:,.0f}"]
