"""The Data Dam in the local cloud: the ingestion functions run for real, fed by the systems'
own events, the telemetry rule and the landing prefix, and write Iceberg tables through moto's
server. Complaints, readings and files here are simulated."""

from __future__ import annotations

import io
import json
import secrets
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pyarrow.parquet as pq
import pytest

from gyeonggi.datadam.datasets import dataset
from gyeonggi.datadam.landing import landing_key
from localcloud.cloud import LocalCloud
from localcloud.datadam import LakeEndpoint
from tests.integration.conftest import Http

pytestmark = pytest.mark.integration


@pytest.fixture(scope="module")
def lake(cloud: LocalCloud) -> LakeEndpoint:
    return LakeEndpoint.of_cloud(cloud)


def _rows(
    cloud: LocalCloud, lake: LakeEndpoint, dataset_id: str, where: Callable[[dict[str, Any]], bool]
) -> list[dict[str, Any]]:
    """Rows of a dataset, waited for (the queues are polled)."""
    reader = lake.lake()
    ds = dataset(dataset_id)

    def found() -> list[dict[str, Any]] | None:
        if not reader.exists(ds):
            return None
        rows = [r for r in reader.read(ds).to_pylist() if where(r)]
        return rows or None

    return list(cloud.wait_for(found, 60, interval=0.5, what=f"rows in {dataset_id}"))


def test_a_complaint_lands_pseudonymised_with_its_routing(
    cloud: LocalCloud, http: Http, lake: LakeEndpoint
) -> None:
    # Given a citizen who files a complaint with contact details
    token = cloud.mint_token("citizen", subject=f"citizen-{secrets.token_hex(3)}")
    answer = http.request(
        "POST",
        "/complaints",
        token=token,
        json_body={
            "jurisdiction_id": "hwaseong.gg.kr",
            "service_code": "road-damage",
            "description": "동탄 호수공원 앞 도로 파손, 연락은 010-5555-0101 로",
            "address_string": "경기도 화성시 동탄호수로 1",
            "email": "lake-citizen@example.kr",
            "phone": "010-5555-0101",
            "citizen": {"birth_year": 1984, "gender": "male", "consent_analytics": True},
        },
    )
    assert answer.status in (201, 202), answer.body
    request_id = answer.body["service_request_id"]
    # When intake and triage publish their events, Then the Data Dam lands them
    (row,) = _rows(cloud, lake, "complaints", lambda r: r["service_request_id"] == request_id)
    assert row["jurisdiction_id"] == "hwaseong.gg.kr" and row["category"] == "roads"
    assert row["age_band"] == "40-49" and row["citizen_pseudonym"].startswith("p_")
    (routed,) = _rows(
        cloud, lake, "complaint_routing", lambda r: r["service_request_id"] == request_id
    )
    assert routed["department"] and routed["day"] == row["day"]
    # and none of the personal data is anywhere in the table's files
    s3 = lake.client("s3")
    text = ""
    for obj in s3.list_objects_v2(Bucket=lake.bucket, Prefix="warehouse/")["Contents"]:
        if "/complaint" in obj["Key"] and obj["Key"].endswith(".parquet"):
            body = s3.get_object(Bucket=lake.bucket, Key=obj["Key"])["Body"].read()
            text += json.dumps(pq.read_table(io.BytesIO(body)).to_pylist(), default=str)
    assert request_id in text
    for personal in ("lake-citizen@example.kr", "010-5555-0101", "동탄호수로", "호수공원"):
        assert personal not in text


def test_readings_published_over_the_rule_land_per_minute(
    cloud: LocalCloud, lake: LakeEndpoint
) -> None:
    sensor = f"co-lake-{secrets.token_hex(3)}"
    start = datetime.now(UTC).replace(second=0, microsecond=0)
    for second in (0, 10, 20, 30):
        payload = {
            "kind": "co",
            "value": 4.0 + second / 10,
            "unit": "ppm",
            "ts": start.replace(second=second).isoformat(),
        }
        cloud.bridge.publish_local(f"gyeonggi/safety/banwol/{sensor}/telemetry", payload)
    reader = lake.lake()

    def complete() -> list[dict[str, Any]] | None:
        got = reader.read(
            dataset("sensor_minutes"), row_filter=f"sensor_id == '{sensor}'"
        ).to_pylist()
        return got if sum(r["samples"] for r in got) == 4 else None

    rows = cloud.wait_for(complete, 60, interval=0.5, what="four readings")
    assert {r["minute"] for r in rows} == {start}
    assert max(r["max_ppm"] for r in rows) == 7.0


def test_a_landed_file_is_imported_and_its_bad_rows_rejected(
    cloud: LocalCloud, lake: LakeEndpoint
) -> None:
    name = f"population-{secrets.token_hex(3)}.csv"
    body = (
        "day,jurisdiction_id,age_band,gender,residents\n"
        "2026-10-31,yeoju.gg.kr,20-29,female,5012\n"
        "2026-10-31,yeoju.gg.kr,20-29,male,lots\n"
    )
    cloud.client("s3").put_object(
        Bucket=lake.bucket, Key=landing_key("resident_population", name), Body=body.encode()
    )
    (loaded,) = _rows(
        cloud,
        lake,
        "resident_population",
        lambda r: r["jurisdiction_id"] == "yeoju.gg.kr" and r["gender"] == "female",
    )
    assert loaded["residents"] == 5012
    (reject,) = _rows(cloud, lake, "import_rejects", lambda r: name in r["source"])
    assert (reject["row_number"], reject["field"]) == (2, "residents")


def test_the_cli_lands_a_file_and_reports_its_rejects(
    cloud: LocalCloud,
    lake: LakeEndpoint,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    from gyeonggi_tools.cli import main

    # What `gyeonggi local up` writes about itself, for this test's cloud
    (tmp_path / "running.json").write_text(
        json.dumps(
            {
                "endpoint_url": lake.endpoint,
                "region": cloud.stack.region,
                "resources": {k: r.physical_id for k, r in cloud.stack.resources.items()},
            }
        )
    )
    data = tmp_path / f"welfare-{secrets.token_hex(3)}.jsonl"
    data.write_text(
        json.dumps({"application_id": f"W-{data.stem}", "applied_on": "2026-11-03",
                    "benefit": "주거급여", "resident_id": "850505-2345678",
                    "birth_date": "1985-05-05", "address": "경기도 포천시 소흘읍",
                    "applicant_name": "김민지", "phone": "010-2222-3333"}, ensure_ascii=False)
        + "\n"
        + json.dumps({"application_id": f"W2-{data.stem}", "applied_on": "someday",
                      "benefit": "주거급여"})
        + "\n",
        encoding="utf-8",
    )  # fmt: skip
    argv = ["--state-dir", str(tmp_path), "datadam", "import", "welfare_applications"]
    status = main([*argv, str(data), "--local", "--wait"])
    lines = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    assert status == 2  # a row was rejected
    assert lines[0]["landed"].endswith(f"landing/welfare_applications/{data.name}")
    outcome = lines[1]
    assert (outcome["loaded"], outcome["rejected"]) == (1, 1)
    assert [(r["row"], r["field"]) for r in outcome["rejects"]] == [(2, "applied_on")]
    (row,) = _rows(
        cloud, lake, "welfare_applications", lambda r: r["application_id"] == f"W-{data.stem}"
    )
    assert (row["jurisdiction_id"], row["age_band"]) == ("pocheon.gg.kr", "40-49")
    # An unknown dataset is refused before anything is sent.
    assert main([*argv[:-1], "citizens", str(data), "--local"]) == 2


def test_the_daily_run_lands_the_counts_of_the_complaints_filed(
    cloud: LocalCloud, http: Http, lake: LakeEndpoint
) -> None:
    # Given a complaint filed and counted by triage today
    token = cloud.mint_token("citizen", subject=f"citizen-{secrets.token_hex(3)}")
    answer = http.request(
        "POST",
        "/complaints",
        token=token,
        json_body={"jurisdiction_id": "gapyeong.gg.kr", "service_code": "road-damage",
                   "description": "가평 도로 파손 (simulated)", "lat": 37.83, "long": 127.51},
    )  # fmt: skip
    request_id = answer.body["service_request_id"]
    _rows(cloud, lake, "complaint_routing", lambda r: r["service_request_id"] == request_id)
    # When the daily run fires tomorrow (today is then a closed day)
    tomorrow = datetime.now(UTC) + timedelta(days=1)
    result, errored = cloud.invoke(
        "DataDamDailyFunction", {"time": tomorrow.isoformat(), "detail-type": "Scheduled Event"}
    )
    assert not errored, result
    # Then today's count of Gapyeong's road damage is in the lake
    rows = [
        r
        for r in lake.lake().read(dataset("complaint_daily_counts")).to_pylist()
        if (r["jurisdiction_id"], r["service_code"]) == ("gapyeong.gg.kr", "road-damage")
    ]
    assert rows and rows[0]["count"] >= 1 and rows[0]["day"].isoformat() in result["days"]


# ------------------------------------------------------------------ the tables' streams and CCTV
# Each system writes its own table as it does in production (its own store class); the table's
# stream, polled by the local cloud, feeds DataDamStreamsFunction.


def test_a_forecast_written_by_the_volumes_lands_from_its_table_stream(
    cloud: LocalCloud, lake: LakeEndpoint
) -> None:
    import numpy as np

    from gyeonggi.complaints.forecasting import Forecast
    from gyeonggi.complaints.volumes import ForecastStore

    code = "road-damage"
    start = datetime.now(UTC).date() + timedelta(days=400 + secrets.randbelow(300))
    forecast = Forecast(
        start=start,
        series=(("gimpo.gg.kr", code),),
        mean=np.array([[6.5]]),
        lower=np.array([[3.0]]),
        upper=np.array([[9.5]]),
        alert_upper=np.array([[12.0]]),
    )
    ForecastStore(cloud.physical_id("ComplaintForecastsTable")).put_forecast(
        forecast, datetime.now(UTC)
    )
    (row,) = _rows(cloud, lake, "complaint_forecasts", lambda r: r["day"] == start)
    assert (row["jurisdiction_id"], row["service_code"], row["forecast"]) == (
        "gimpo.gg.kr",
        code,
        6.5,
    )


def test_an_alarm_on_an_incident_timeline_lands_from_its_table_stream(
    cloud: LocalCloud, lake: LakeEndpoint
) -> None:
    from gyeonggi.safety.evidence import Evidence
    from gyeonggi.safety.incident_rules import open_incident
    from gyeonggi.safety.incident_store import IncidentStore

    sensor = f"h2s-lake-{secrets.token_hex(3)}"
    now = datetime.now(UTC)
    evidence = Evidence(
        source="sensor",
        complex_id=f"lake-complex-{secrets.token_hex(3)}",
        source_id=sensor,
        kind="threshold_high",
        severity="alarm",
        ts=now,
        gas="h2s",
        value=22.0,
        limit=15.0,
        detail={"evidence_id": secrets.token_hex(16), "alarm_severity": "critical"},
    )
    incident = open_incident(evidence, f"INC-{secrets.token_hex(6)}", now)
    IncidentStore(cloud.physical_id("IncidentsTable")).create(incident, replacing=None)
    (row,) = _rows(cloud, lake, "safety_alarms", lambda r: r["sensor_id"] == sensor)
    assert (row["kind"], row["severity"], row["value"]) == ("threshold_high", "critical", 22.0)


def test_a_form_submission_lands_from_its_table_stream_without_its_answers(
    cloud: LocalCloud, lake: LakeEndpoint
) -> None:
    from dataclasses import replace

    from gyeonggi.forms.submissions import DynamoSubmissionStore
    from gyeonggi_tools.forms.samples import sample_submission

    sid = secrets.token_hex(11)
    submission = replace(
        sample_submission("seal-certificate", verified=False),
        submission_id=f"FA-{sid}",
        session_id=f"FS-{sid}",
    )
    DynamoSubmissionStore(cloud.physical_id("FormSubmissionsTable")).create(submission)
    (row,) = _rows(cloud, lake, "form_submissions", lambda r: r["submission_id"] == f"FA-{sid}")
    assert row["status"] == "received" and row["fields"] > 0
    rrn = submission.fields.get("applicant_rrn")
    assert rrn and row["applicant_pseudonym"].startswith("p_")
    assert str(rrn) not in json.dumps(row, default=str)


def test_wallet_outcomes_land_from_their_table_streams(
    cloud: LocalCloud, lake: LakeEndpoint
) -> None:
    from gyeonggi.wallet.presentation_requests import (
        Outcome,
        PresentationRequest,
        PresentationRequestStore,
        new_nonce,
        new_request_id,
    )
    from gyeonggi.wallet.status_registry import StatusListStore, StatusRegistry

    # A credential issued: its status entry allocated.
    now = datetime.now(UTC)
    registry = StatusRegistry(StatusListStore(cloud.physical_id("WalletStatusListsTable")))
    registry.allocate(f"en-{secrets.token_hex(4)}", now)
    # A presentation answered: revoked.
    store = PresentationRequestStore(cloud.physical_id("PresentationRequestsTable"))
    request = PresentationRequest(
        request_id=new_request_id(),
        nonce=new_nonce(),
        client_id="x509_hash:lake-test",
        request_uri="https://verifier.example/r",
        response_uri="https://verifier.example/p",
        dcql_query={"credentials": []},
        purpose=None,
        created_by="officer-lake",
        created_at=now,
        expires_at=now + timedelta(minutes=5),
    )
    store.create(request, keep_until=now + timedelta(hours=1))
    store.answer(
        request.request_id,
        Outcome.failed("status_revoked", "the credential was revoked"),
        at=now + timedelta(seconds=1),
        keep_until=now + timedelta(hours=1),
    )
    (verified,) = _rows(
        cloud, lake, "wallet_outcomes", lambda r: r["verifier_id"] == "x509_hash:lake-test"
    )
    assert (verified["outcome"], verified["reason_code"]) == ("failure", "status_revoked")
    issued = _rows(
        cloud,
        lake,
        "wallet_outcomes",
        lambda r: r["operation"] == "issuance" and r["at"] >= now.replace(microsecond=0),
    )
    assert issued and issued[0]["outcome"] == "success"


def test_every_cctv_analysis_result_lands_a_detection_row(
    cloud: LocalCloud, lake: LakeEndpoint
) -> None:
    # As the analysis function stores a result that found nothing (the bucket notifies the
    # Data Dam's queue).
    camera = f"cam-lake-{secrets.token_hex(3)}"
    start = datetime.now(UTC).replace(microsecond=0)
    key = f"analysis/siheung.gg.kr/{camera}/{start:%Y%m%dT%H%M%SZ}.json"
    result = {"segment_key": key.replace("analysis/", "cctv/").replace(".json", ".mp4"),
              "jurisdiction": "siheung.gg.kr", "camera_id": camera,
              "start": start.isoformat().replace("+00:00", "Z"), "fire": False, "smoke": False,
              "frames_analysed": 20,
              "seconds": [{"second": 0, "fire": 0.05, "smoke": 0.1}]}  # fmt: skip
    cloud.client("s3").put_object(
        Bucket=cloud.physical_id("CctvBucket"), Key=key, Body=json.dumps(result).encode()
    )
    (row,) = _rows(cloud, lake, "camera_detections", lambda r: r["camera_id"] == camera)
    assert (row["label"], row["score"], row["jurisdiction_id"]) == ("none", 0.1, "siheung.gg.kr")
