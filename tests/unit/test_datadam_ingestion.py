"""Ingestion into the lake: the handlers with the sample events, malformed messages, redelivery,
and a sweep of every byte in the lake for the personal values it was given."""

from __future__ import annotations

import copy
import importlib
import io
import json
from collections.abc import Iterator
from types import ModuleType
from typing import Any

import pytest

from gyeonggi.datadam.datasets import dataset
from gyeonggi.datadam.imports import import_file
from localcloud.datadam import LakeEndpoint
from tests.conftest import load_event
from tests.unit.conftest import LambdaContext

#: Personal values the sample events and files carry; none may be found in the lake.
RAW_PERSONAL = [
    "경기도 수원시 팔달구 정조로 825",
    "big pothole by Paldalmun",
    "someone@example.kr",
    "010-9876-5432",
    "900101-1234567",
    "홍길동",
    "경기도 용인시 수지구 포은대로 435",
    "팔달문 로터리 앞 도로에",  # the complaint's free text
    "en-9f8e7d",  # the enrolment a status entry belongs to
    "q3V8cK1mT0pZ7yX4wN6bAa",  # a presentation request's id (its result's key)
    "1990-01-01",  # a birth date (an import's; a presentation's claim)
]


CCTV_BUCKET = "gyeonggi-cctv-123456789012-ap-northeast-2"
STREAM_TABLES = (
    "complaint_forecasts",
    "incidents",
    "form_submissions",
    "presentation_requests",
    "wallet_status_lists",
)


def _logical(table: str) -> str:
    return "".join(part.capitalize() for part in table.split("_")) + "Table"


@pytest.fixture
def handlers(
    datadam_lake: LakeEndpoint, lambda_environment: None, monkeypatch: pytest.MonkeyPatch
) -> Iterator[dict[str, ModuleType]]:
    """The four ingestion functions, set up against the test lake."""
    for key, value in datadam_lake.environment().items():
        monkeypatch.setenv(key, value)
    monkeypatch.setenv("PSEUDONYM_KEY_ID", datadam_lake.pseudonym_key_id or "")
    monkeypatch.setenv("POWERTOOLS_SERVICE_NAME", "unit-test-datadam")
    monkeypatch.setenv("CCTV_BUCKET", CCTV_BUCKET)
    # The tables the sample stream events name (events/datadam_streams/).
    for table in STREAM_TABLES:
        monkeypatch.setenv(table.upper() + "_TABLE", "gyeonggi-" + _logical(table))
    modules = {}
    for name in ("datadam_events", "datadam_sensors", "datadam_import", "datadam_streams"):
        module_name = f"functions.{name}.app"
        module = importlib.reload(importlib.import_module(module_name))
        modules[name] = module
    # The handlers' KMS client is the lake server's (moto serves both).
    kms = datadam_lake.client("kms")
    modules["datadam_events"].ingestion.pseudonyms.kms = kms
    modules["datadam_streams"].ingestion.pseudonyms.kms = kms
    modules["datadam_events"].ingestion.read_object.s3 = datadam_lake.client("s3")
    modules["datadam_import"].pseudonymizer.kms = kms
    modules["datadam_import"].s3.client = datadam_lake.client("s3")
    yield modules


def failures(response: dict[str, Any]) -> set[str]:
    return {f["itemIdentifier"] for f in response["batchItemFailures"]}


def test_events_land_in_their_datasets_once(
    handlers: dict[str, ModuleType], datadam_lake: LakeEndpoint
) -> None:
    event = load_event("datadam_events/sqs_batch.json")
    response = handlers["datadam_events"].handler(event, LambdaContext())
    assert response == {"batchItemFailures": []}
    lake = datadam_lake.lake()
    complaints = lake.read(dataset("complaints")).to_pylist()
    assert len(complaints) == 1
    row = complaints[0]
    assert row["service_request_id"] == "GG-20261124-7A11C0DE"
    assert (row["category"], row["jurisdiction_id"], row["day"].isoformat()) == (
        "roads",
        "suwon.gg.kr",
        "2026-11-24",
    )
    assert row["citizen_pseudonym"] == "p_3f9a0c7d21e84b56"
    routing = lake.read(dataset("complaint_routing")).to_pylist()
    assert routing[0]["case_id"] == "CASE-suwon-0001" and routing[0]["confidence"] == 0.91
    assert lake.read(dataset("complaint_surges")).to_pylist()[0]["count"] == 41
    steps = lake.read(dataset("safety_incidents")).to_pylist()
    assert [s["step"] for s in steps] == ["alert-level-1"]
    # Redelivered whole, and then a message at a time: nothing is written twice.
    assert handlers["datadam_events"].handler(event, LambdaContext()) == {"batchItemFailures": []}
    for record in event["Records"]:
        single = {"Records": [{**record, "messageId": record["messageId"] + "-again"}]}
        handlers["datadam_events"].handler(single, LambdaContext())
    for ds_id in ("complaints", "complaint_routing", "complaint_surges", "safety_incidents"):
        assert lake.read(dataset(ds_id)).num_rows == 1, ds_id


def test_malformed_messages_fail_alone(
    handlers: dict[str, ModuleType], datadam_lake: LakeEndpoint
) -> None:
    event = load_event("datadam_events/sqs_batch_with_malformed.json")
    response = handlers["datadam_events"].handler(event, LambdaContext())
    ids = [r["messageId"] for r in event["Records"]]
    # not JSON, an event the Data Dam does not take, a time that is no time
    assert failures(response) == set(ids[1:])
    assert datadam_lake.lake().read(dataset("complaints")).num_rows == 1


def test_a_failed_write_fails_only_its_messages(
    handlers: dict[str, ModuleType], monkeypatch: pytest.MonkeyPatch
) -> None:
    module = handlers["datadam_events"]
    real_write = module.lake.write

    def flaky(ds: Any, rows: Any, **kwargs: Any) -> Any:
        if ds.id == "complaint_surges":
            raise ConnectionError("S3 is slow today")
        return real_write(ds, rows, **kwargs)

    monkeypatch.setattr(module.lake, "write", flaky)
    event = load_event("datadam_events/sqs_batch.json")
    response = module.handler(event, LambdaContext())
    assert failures(response) == {event["Records"][2]["messageId"]}


def test_sensor_readings_land_per_minute_and_bad_ones_fail_alone(
    handlers: dict[str, ModuleType], datadam_lake: LakeEndpoint
) -> None:
    event = load_event("datadam_sensors/sqs_batch_with_malformed.json")
    response = handlers["datadam_sensors"].handler(event, LambdaContext())
    # "not json" and a payload that is not JSON
    bad = {"0b6c6a36-0000-4000-8000-999999999999", "0b6c6a36-0000-4000-8000-0000000000ff"}
    assert failures(response) == bad
    good = len(event["Records"]) - len(bad)
    lake = datadam_lake.lake()
    rows = lake.read(dataset("sensor_minutes")).to_pylist()
    assert sum(r["samples"] for r in rows) == good
    assert all(r["min_ppm"] <= r["mean_ppm"] <= r["max_ppm"] for r in rows)
    # Half of the batch again, regrouped: still each reading once.
    half = {"Records": event["Records"][::2]}
    handlers["datadam_sensors"].handler(half, LambdaContext())
    rows = lake.read(dataset("sensor_minutes")).to_pylist()
    assert sum(r["samples"] for r in rows) == good


def lake_contents(endpoint: LakeEndpoint) -> str:
    """Every value in the lake's bucket as text."""
    import pyarrow.parquet as pq

    from gyeonggi.datadam.datasets import CATALOGUE

    s3 = endpoint.client("s3")
    parts = []
    for page in s3.get_paginator("list_objects_v2").paginate(Bucket=endpoint.bucket):
        for obj in page.get("Contents", []):
            data = s3.get_object(Bucket=endpoint.bucket, Key=obj["Key"])["Body"].read()
            if obj["Key"].endswith(".parquet"):
                table = pq.read_table(io.BytesIO(data))
                parts.append(json.dumps(table.to_pylist(), ensure_ascii=False, default=str))
            else:
                parts.append(data.decode("utf-8", "replace"))
    lake = endpoint.lake()
    for ds in CATALOGUE.values():
        if lake.exists(ds):
            files = lake.table(ds).inspect.files().to_pylist()
            parts.append(json.dumps(files, ensure_ascii=False, default=str))
    assert len(parts) > 10
    return "\n".join(parts)


def _personal_complaint() -> dict[str, Any]:
    body = json.loads(load_event("datadam_events/sqs_batch.json")["Records"][0]["body"])
    body.update(
        service_request_id="GG-20261124-0000BEEF",
        email="someone@example.kr",
        phone="010-9876-5432",
        first_name="길동",
        last_name="홍",
        media_url="https://example.kr/photo-of-홍길동.jpg",
        attributes={"note": "전화 010-9876-5432"},
    )
    return body


def test_no_personal_value_lands_raw_anywhere_in_the_lake(
    handlers: dict[str, ModuleType], datadam_lake: LakeEndpoint
) -> None:
    # Given events and an import file full of personal data
    event = copy.deepcopy(load_event("datadam_events/sqs_batch.json"))
    event["Records"][0]["body"] = json.dumps(_personal_complaint(), ensure_ascii=False)
    handlers["datadam_events"].handler(event, LambdaContext())
    lake = datadam_lake.lake()
    welfare = (
        "application_id,applied_on,benefit,resident_id,birth_date,address,applicant_name,phone\n"
        "W-1,2026-11-02,기초연금,900101-1234567,1990-01-01,"
        "경기도 용인시 수지구 포은대로 435,홍길동,010-9876-5432\n"
        "W-2,2026-11-02,기초연금,900101-1234567,not a date,"
        "경기도 용인시 수지구 포은대로 435,홍길동,010-9876-5432\n"
    ).encode()
    result = import_file(
        lake,
        "welfare_applications",
        welfare,
        source="landing/welfare_applications/2026-11.csv",
        pseudonyms=handlers["datadam_import"].pseudonymizer,
    )
    assert (result.loaded, len(result.rejects)) == (1, 1)
    # ...and the tables' streams: a form's answers, a presentation's claims
    handlers["datadam_streams"].handler(
        load_event("datadam_streams/dynamodb_batch.json"), LambdaContext()
    )
    assert lake.read(dataset("form_submissions")).num_rows == 2
    # When everything in the lake is read: every Parquet file decoded, every metadata file, and
    # each table's manifests (their column bounds, decoded by pyiceberg)
    everything = lake_contents(datadam_lake)
    # Then no raw value is in it, nor the start of one (column bounds keep a value's prefix)
    for value in RAW_PERSONAL:
        assert value[:10] not in everything, value
    # ...and what did land is the generalised form
    row = lake.read(dataset("welfare_applications")).to_pylist()[0]
    assert row["jurisdiction_id"] == "yongin.gg.kr" and row["age_band"] == "30-39"
    assert row["applicant_pseudonym"].startswith("p_")
    # The sweep is not blind: a raw value put where a column takes any text is found.
    from localcloud.datadam import write_records

    write_records(
        lake,
        "resident_population",
        [{"day": "2026-11-01", "jurisdiction_id": "suwon.gg.kr", "age_band": RAW_PERSONAL[0],
          "gender": "female", "residents": 1}],
    )  # fmt: skip
    found = lake_contents(datadam_lake)
    assert RAW_PERSONAL[0] in found and found.count(RAW_PERSONAL[0][:10]) >= 3  # data, bounds


# ------------------------------------------------------------------ the tables' streams


def test_stream_records_land_in_their_datasets_once(
    handlers: dict[str, ModuleType], datadam_lake: LakeEndpoint
) -> None:
    event = load_event("datadam_streams/dynamodb_batch.json")
    streams = handlers["datadam_streams"]
    assert streams.handler(event, LambdaContext()) == {"batchItemFailures": []}
    lake = datadam_lake.lake()
    (forecast,) = lake.read(dataset("complaint_forecasts")).to_pylist()
    assert (forecast["as_of"].isoformat(), forecast["day"].isoformat()) == (
        "2026-12-02",  # generated 15:05 UTC: the next day in Korea
        "2026-12-02",
    )
    assert forecast["category"] == "roads" and forecast["forecast"] == 12.4
    # Only the evidence the timeline gained: the clearing, with the alarm's own severity.
    (alarm,) = lake.read(dataset("safety_alarms")).to_pylist()
    assert (alarm["alarm_id"], alarm["kind"], alarm["clears"], alarm["severity"]) == (
        "0d2e4f6a8b1c3d5e7f9a0b2c4d6e8f10",
        "cleared",
        "threshold_high",
        "info",
    )
    assert alarm["complex_id"] == "banwol-sihwa" and alarm["limit_value"] == 15.0
    forms = sorted(lake.read(dataset("form_submissions")).to_pylist(), key=lambda r: r["status"])
    assert [f["status"] for f in forms] == ["received", "submitted"]
    assert forms[0]["applicant_pseudonym"].startswith("p_")
    assert forms[0]["applicant_pseudonym"] == forms[1]["applicant_pseudonym"]
    assert (forms[0]["age_band"], forms[0]["channel"], forms[0]["fields"]) == ("30-39", "kiosk", 5)
    # No jurisdiction yet on receipt: the address gives the city; then the submission's own.
    assert {f["jurisdiction_id"] for f in forms} == {"yongin.gg.kr"}
    outcomes = {o["operation"]: o for o in lake.read(dataset("wallet_outcomes")).to_pylist()}
    assert outcomes["verification"]["outcome"] == "success"
    assert outcomes["verification"]["credential_type"] == "urn:gyeonggi:resident:1"
    assert outcomes["issuance"]["outcome"] == "success"
    assert "sl-0001" not in outcomes["issuance"]["event_id"]
    # The same batch again (Lambda retries from a failure): nothing twice.
    assert streams.handler(event, LambdaContext()) == {"batchItemFailures": []}
    for ds_id, rows in (
        ("complaint_forecasts", 1),
        ("safety_alarms", 1),
        ("form_submissions", 2),
        ("wallet_outcomes", 2),
    ):
        assert lake.read(dataset(ds_id)).num_rows == rows, ds_id


def test_a_bad_stream_record_is_reported_by_its_sequence_number(
    handlers: dict[str, ModuleType], datadam_lake: LakeEndpoint
) -> None:
    event = copy.deepcopy(load_event("datadam_streams/dynamodb_batch.json"))
    records = event["Records"]
    # A table the Data Dam does not take, and a forecast whose number is no number.
    records[5]["eventSourceARN"] = records[5]["eventSourceARN"].replace(
        "WalletStatusListsTable", "SomeOtherTable"
    )
    records[0]["dynamodb"]["NewImage"]["forecast"] = {"S": "a lot"}
    response = handlers["datadam_streams"].handler(event, LambdaContext())
    # In batch order: Lambda checkpoints before the first and retries from it.
    assert [f["itemIdentifier"] for f in response["batchItemFailures"]] == [
        records[0]["dynamodb"]["SequenceNumber"],
        records[5]["dynamodb"]["SequenceNumber"],
    ]
    assert datadam_lake.lake().read(dataset("safety_alarms")).num_rows == 1


def test_every_cctv_analysis_lands_a_detection_row(
    handlers: dict[str, ModuleType], datadam_lake: LakeEndpoint
) -> None:
    s3 = datadam_lake.client("s3")
    s3.create_bucket(
        Bucket=CCTV_BUCKET, CreateBucketConfiguration={"LocationConstraint": "ap-northeast-2"}
    )
    key = "analysis/ansan.gg.kr/cam-0042/20261201T040000Z.json"
    seconds = [{"second": 0, "fire": 0.12, "smoke": 0.31}, {"second": 1, "fire": 0.2, "smoke": 0.4}]
    nothing = {"camera_id": "cam-0042", "jurisdiction": "ansan.gg.kr",
               "start": "2026-12-01T04:00:00Z", "fire": False, "smoke": False,
               "frames_analysed": 20, "seconds": seconds,
               "keyframe_key": "keyframes/cctv/ansan.gg.kr/cam-0042/20261201T040000Z.jpg",
               }  # fmt: skip
    s3.put_object(Bucket=CCTV_BUCKET, Key=key, Body=json.dumps(nothing).encode())
    event = load_event("datadam_events/sqs_cctv_analysis.json")
    events = handlers["datadam_events"]
    assert events.handler(event, LambdaContext()) == {"batchItemFailures": []}
    # A fire and smoke in the next segment; a keyframe notified too; S3's test event.
    fire = {**nothing, "start": "2026-12-01T04:00:10Z", "fire": True, "smoke": True,
            "seconds": [{"second": 0, "fire": 0.93, "smoke": 0.71}]}  # fmt: skip
    key2 = key.replace("040000Z", "040010Z")
    s3.put_object(Bucket=CCTV_BUCKET, Key=key2, Body=json.dumps(fire).encode())
    body = json.loads(event["Records"][0]["body"])
    body["Records"][0]["s3"]["object"]["key"] = key2
    jpg = copy.deepcopy(body)
    jpg["Records"][0]["s3"]["object"]["key"] = key2.replace(".json", ".jpg")
    more = [
        json.dumps(body),
        json.dumps(jpg),
        json.dumps({"Service": "Amazon S3", "Event": "s3:TestEvent", "Bucket": CCTV_BUCKET}),
    ]
    batch = {
        "Records": [
            {**event["Records"][0], "messageId": f"cctv-{n}", "body": text}
            for n, text in enumerate(more)
        ]
    }
    assert events.handler(batch, LambdaContext()) == {"batchItemFailures": []}
    rows = datadam_lake.lake().read(dataset("camera_detections")).to_pylist()
    found = sorted((r["segment_start"].isoformat(), r["label"], r["score"]) for r in rows)
    assert found == [
        ("2026-12-01T04:00:00+00:00", "none", 0.4),
        ("2026-12-01T04:00:10+00:00", "fire", 0.93),
        ("2026-12-01T04:00:10+00:00", "smoke", 0.71),
    ]
    assert {r["jurisdiction_id"] for r in rows} == {"ansan.gg.kr"}
    assert "jpg" not in json.dumps(rows, default=str)
    # A result that is not there fails its message alone (retried: S3 may be behind).
    gone = copy.deepcopy(body)
    gone["Records"][0]["s3"]["object"]["key"] = key.replace("040000Z", "235959Z")
    batch = {"Records": [{**event["Records"][0], "messageId": "gone", "body": json.dumps(gone)},
                         {**event["Records"][0], "messageId": "fine"}]}  # fmt: skip
    assert failures(events.handler(batch, LambdaContext())) == {"gone"}
    # A notification from another bucket is refused (and dead-lettered after its retries).
    body["Records"][0]["s3"]["bucket"]["name"] = "someone-elses-bucket"
    stray = {"Records": [{**event["Records"][0], "messageId": "stray", "body": json.dumps(body)}]}
    assert failures(events.handler(stray, LambdaContext())) == {"stray"}
