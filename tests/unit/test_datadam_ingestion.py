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
]


@pytest.fixture
def handlers(
    datadam_lake: LakeEndpoint, lambda_environment: None, monkeypatch: pytest.MonkeyPatch
) -> Iterator[dict[str, ModuleType]]:
    """The three ingestion functions, set up against the test lake."""
    for key, value in datadam_lake.environment().items():
        monkeypatch.setenv(key, value)
    monkeypatch.setenv("PSEUDONYM_KEY_ID", datadam_lake.pseudonym_key_id or "")
    monkeypatch.setenv("POWERTOOLS_SERVICE_NAME", "unit-test-datadam")
    modules = {}
    for name in ("datadam_events", "datadam_sensors", "datadam_import"):
        module_name = f"functions.{name}.app"
        module = importlib.reload(importlib.import_module(module_name))
        modules[name] = module
    # The handlers' KMS client is the lake server's (moto serves both).
    kms = datadam_lake.client("kms")
    modules["datadam_events"].ingestion.pseudonyms.kms = kms
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
