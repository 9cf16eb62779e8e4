"""Batch import of outside files: row-by-row validation, rejects with reasons, nothing half
loaded, idempotent re-runs, and the import function on an S3 landing notification."""

from __future__ import annotations

import importlib
import json
from collections.abc import Iterator
from types import ModuleType

import pytest

from gyeonggi.common.errors import InvalidInput
from gyeonggi.datadam.datasets import dataset
from gyeonggi.datadam.imports import import_file
from gyeonggi.datadam.landing import landing_key
from localcloud.datadam import LakeEndpoint
from tests.conftest import load_event
from tests.unit.conftest import LambdaContext

POPULATION = (
    "day,jurisdiction_id,age_band,gender,residents\n"
    "2026-11-30,suwon.gg.kr,30-39,female,98231\n"
    "2026-11-30,suwon.gg.kr,30-39,male,101220\n"
    "2026-11-30,suwon.gg.kr,thirty,male,5\n"  # row 3: fine for the types (a string)
    "2026-11-31,yongin.gg.kr,30-39,male,88000\n"  # row 4: no such day
    "2026-11-30,yongin.gg.kr,30-39,male,many\n"  # row 5: not an integer
    "2026-11-30,suwon.gg.kr,30-39,female,1\n"  # row 6: same key as row 1
    "2026-11-30,yongin.gg.kr,30-39\n"  # row 7: too few values
    "2026-11-30,yongin.gg.kr,30-39,male,1,2\n"  # row 8: too many
)


def rejects_of(endpoint: LakeEndpoint) -> list[tuple[int, str | None, str]]:
    rows = endpoint.lake().read(dataset("import_rejects")).to_pylist()
    return sorted((r["row_number"], r["field"], r["reason"]) for r in rows)


def test_good_rows_load_in_one_commit_and_bad_rows_are_rejected_with_reasons(
    datadam_lake: LakeEndpoint,
) -> None:
    lake = datadam_lake.lake()
    result = import_file(
        lake, "resident_population", POPULATION.encode(), source="p.csv", pseudonyms=None
    )
    assert (result.rows, result.loaded) == (8, 3)
    rejected = rejects_of(datadam_lake)
    assert [r[0] for r in rejected] == [4, 5, 6, 7, 8]
    assert rejected[0][1] == "day" and rejected[1][1] == "residents"
    assert "same key as row 1" in rejected[2][2]
    assert "values for" in rejected[3][2]
    snaps = lake.snapshots(dataset("resident_population"))
    assert len(snaps) == 1 and snaps[0]["summary"]["added-records"] == "3"
    # The same file again changes nothing: neither the rows nor the rejects.
    again = import_file(
        lake, "resident_population", POPULATION.encode(), source="p.csv", pseudonyms=None
    )
    assert (again.loaded, again.already_loaded) == (0, 3)
    assert len(rejects_of(datadam_lake)) == 5
    assert len(lake.snapshots(dataset("resident_population"))) == 1


def test_strict_loads_nothing_of_a_file_with_a_bad_row(datadam_lake: LakeEndpoint) -> None:
    lake = datadam_lake.lake()
    result = import_file(
        lake,
        "resident_population",
        POPULATION.encode(),
        source="p.csv",
        pseudonyms=None,
        strict=True,
    )
    assert result.strict_refused and result.loaded == 0
    assert not lake.exists(dataset("resident_population"))
    assert len(rejects_of(datadam_lake)) == 5


def test_json_lines_and_cp949_csv(datadam_lake: LakeEndpoint) -> None:
    lake = datadam_lake.lake()
    lines = "\n".join(
        [
            json.dumps({"day": "2026-11-30", "jurisdiction_id": "gapyeong.gg.kr",
                        "age_band": "70+", "gender": "female", "residents": 4100}),
            "[1, 2]",
            json.dumps({"day": "2026-11-30", "jurisdiction_id": "gapyeong.gg.kr",
                        "age_band": "70+", "gender": "male", "residents": 3000, "name": "x"}),
        ]
    )  # fmt: skip
    result = import_file(
        lake, "resident_population", lines.encode(), source="p.jsonl", pseudonyms=None
    )
    assert result.loaded == 1
    assert [(r.row_number, r.reason) for r in result.rejects] == [
        (2, "not a JSON object"),
        (3, "fields not in resident_population's schema: name"),
    ]
    korean = "day,jurisdiction_id,age_band,gender,residents\n2026-11-30,양평,70+,male,1\n"
    result = import_file(
        lake, "resident_population", korean.encode("cp949"), source="k.csv", pseudonyms=None
    )
    assert result.loaded == 1  # decoded; "양평" is a string, as the schema allows


@pytest.mark.parametrize(
    ("data", "source", "message"),
    [
        (b"day,jurisdiction_id,age_band,gender,residents,email\n", "p.csv", "email"),
        (b"day,jurisdiction_id,age_band,gender\n", "p.csv", "residents"),
        (b"\xff\xfe\x00garbage", "p.csv", "not UTF-8 or CP949"),
        (b"{}", "p.xlsx", "not a .csv or .jsonl"),
    ],
)
def test_a_file_refused_as_a_whole_loads_nothing(
    datadam_lake: LakeEndpoint, data: bytes, source: str, message: str
) -> None:
    with pytest.raises(InvalidInput, match=message):
        import_file(
            datadam_lake.lake(), "resident_population", data, source=source, pseudonyms=None
        )


@pytest.fixture
def import_function(
    datadam_lake: LakeEndpoint, lambda_environment: None, monkeypatch: pytest.MonkeyPatch
) -> Iterator[ModuleType]:
    for key, value in datadam_lake.environment().items():
        monkeypatch.setenv(key, value)
    monkeypatch.setenv("PSEUDONYM_KEY_ID", datadam_lake.pseudonym_key_id or "")
    monkeypatch.setenv("POWERTOOLS_SERVICE_NAME", "unit-test-datadam-import")
    module = importlib.reload(importlib.import_module("functions.datadam_import.app"))
    module.s3.client = datadam_lake.client("s3")
    module.pseudonymizer.kms = datadam_lake.client("kms")
    yield module


def test_the_import_function_loads_a_landed_file(
    import_function: ModuleType, datadam_lake: LakeEndpoint
) -> None:
    event = load_event("datadam_import/sqs_s3_notification.json")
    body = json.loads(event["Records"][0]["body"])
    key = body["Records"][0]["s3"]["object"]["key"]
    assert key == landing_key("resident_population", "2026-11-30.csv")
    body["Records"][0]["s3"]["bucket"]["name"] = datadam_lake.bucket
    event["Records"][0]["body"] = json.dumps(body)
    s3 = datadam_lake.client("s3")
    s3.put_object(Bucket=datadam_lake.bucket, Key=key, Body=POPULATION.encode())
    refused_key = landing_key("resident_population", "bad.csv")
    s3.put_object(Bucket=datadam_lake.bucket, Key=refused_key, Body=b"who,what\n1,2\n")
    refused = json.loads(json.dumps(body))
    refused["Records"][0]["s3"]["object"]["key"] = refused_key
    event["Records"][1]["body"] = json.dumps(refused)
    response = import_function.handler(event, LambdaContext())
    # The notification that is none fails alone; the refused file is recorded, not retried.
    assert [f["itemIdentifier"] for f in response["batchItemFailures"]] == [
        event["Records"][2]["messageId"]
    ]
    lake = datadam_lake.lake()
    assert lake.read(dataset("resident_population")).num_rows == 3
    reasons = [r[2] for r in rejects_of(datadam_lake) if r[0] == 0]
    assert reasons == ["columns not in resident_population's schema: who, what"]
