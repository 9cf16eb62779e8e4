"""Event and table-change adapters of the Data Dam: what each becomes before the privacy
policy (``records.prepare``) is applied; the lake itself is in test_datadam_ingestion."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any

import pytest

from gyeonggi.common.errors import InvalidInput
from gyeonggi.datadam.datasets import dataset
from gyeonggi.datadam.records import key_of, prepare
from gyeonggi.datadam.sources import camera_analysis, from_sqs_record, incident_alert
from gyeonggi.datadam.stream_sources import (
    forecast_item,
    from_stream_record,
    incident_item,
    presentation_item,
    status_entry_item,
    submission_item,
)


def _raised(sent_at: datetime) -> list[tuple[str, dict[str, Any]]]:
    event = {
        "event_type": "IncidentSeverityRaised",
        "incident_id": "inc-1",
        "complex_id": "banwol-sihwa",
        "severity": "critical",
        "level": 2,
        "opened_at": "2026-12-01T01:00:00+00:00",
        "raised_at": "2026-12-01T01:04:30+00:00",
    }
    return incident_alert(event, sent_at)


def test_a_repeated_severity_raised_delivery_is_one_step() -> None:
    # SQS gives a redelivered SNS message (or a retried publish) another SentTimestamp.
    first = _raised(datetime(2026, 12, 1, 1, 4, 31, tzinfo=UTC))
    again = _raised(datetime(2026, 12, 1, 1, 9, 2, tzinfo=UTC))
    ds = dataset("safety_incidents")
    keys = {key_of(ds, prepare(ds, r, pseudonyms=None)) for _, r in first + again}
    assert len(keys) == 1
    assert next(iter(keys))[1:] == (
        "severity-critical",
        datetime(2026, 12, 1, 1, 4, 30, tzinfo=UTC),
    )


def test_other_items_of_the_tables_are_no_rows() -> None:
    assert forecast_item("INSERT", {"series": "surge-index", "key": "2026-12-01#x"}, None) == []
    assert incident_item("MODIFY", {"incident_id": "complex#banwol", "timeline": []}, None) == []
    odd = {"incident_id": "inc-1", "timeline": ["opened", {"event": "acknowledged"}]}
    assert incident_item("INSERT", odd, None) == []
    same_state = {"submission_id": "FA-1", "state": "received"}
    assert submission_item("MODIFY", same_state, same_state) == []
    assert presentation_item("INSERT", {"request_id": "r", "created_at": 1}, None) == []
    assert status_entry_item("MODIFY", {"list_id": "sl-1", "entry": "list"}, None) == []
    assert status_entry_item("INSERT", {"list_id": "sl-1", "entry": "statuses"}, None) == []


def test_camera_evidence_on_a_timeline_is_no_alarm() -> None:
    camera = {"event": "evidence", "evidence": {"source": "camera", "kind": "fire"}}
    assert incident_item("INSERT", {"incident_id": "inc-1", "timeline": [camera]}, None) == []


def test_a_failed_verification_keeps_its_reason_and_no_claim() -> None:
    failed = {"verified": False, "reason": "status_revoked", "message": "revoked"}
    new = {"request_id": "r-1", "answered_at": 1796090042, "client_id": "x509_hash:abc",
           "outcome": json.dumps(failed)}  # fmt: skip
    ((ds_id, row),) = presentation_item("MODIFY", new, None)
    assert (ds_id, row["outcome"], row["reason_code"]) == (
        "wallet_outcomes",
        "failure",
        "status_revoked",
    )
    assert row["at"] == datetime.fromtimestamp(1796090042, UTC)


def test_a_form_answer_never_enters_the_record() -> None:
    fields = {"applicant_rrn": "900101-1234567", "reason": "이사 때문에 필요합니다", "copies": 1}
    new = {"submission_id": "FA-1", "state": "received", "fields": json.dumps(fields),
           "created_at": "2026-12-01T02:00:00+00:00", "form_id": "f",
           "owner_kind": "citizen"}  # fmt: skip
    ((_, record),) = submission_item("INSERT", new, None)
    assert "이사" not in json.dumps(record, default=str, ensure_ascii=False)
    assert record["fields"] == 3 and record["channel"] == "web"
    row = prepare(dataset("form_submissions"), record, pseudonyms=_Fake())
    assert "900101" not in json.dumps(row, default=str)
    assert row["applicant_pseudonym"] == "p_fake" and row["age_band"] == "30-39"


class _Fake:
    def pseudonym(self, value: str) -> str:
        return "p_fake"


def test_an_analysis_that_failed_is_no_row() -> None:
    assert camera_analysis({"segment_key": "cctv/x.mp4", "error": "not a video"}) == []


def test_malformed_notifications_and_stream_records_are_refused() -> None:
    with pytest.raises(InvalidInput):
        from_sqs_record({"body": json.dumps({"Records": [{"s3": {}}]})}, lambda b, k: b"")
    with pytest.raises(InvalidInput, match="not one the Data Dam takes"):
        from_stream_record({"eventSourceARN": "arn:aws:dynamodb:r:1:table/X/stream/1"}, {})
    with pytest.raises(InvalidInput, match="not a table's stream"):
        from_stream_record({"eventSourceARN": "arn:aws:sqs:r:1:q"}, {})
    adapters = {"X": forecast_item}
    with pytest.raises(InvalidInput, match="DynamoDB JSON"):
        from_stream_record(
            {"eventSourceARN": "arn:aws:dynamodb:r:1:table/X/stream/1", "eventName": "INSERT",
             "dynamodb": {"NewImage": {"key": {"Q": "?"}}}},
            adapters,
        )  # fmt: skip


def test_a_forecast_item_of_the_table_stream_is_a_forecast_row_of_the_day_it_was_made() -> None:
    # As ForecastStore.put_forecast writes it, in a stream record's DynamoDB JSON
    from boto3.dynamodb.types import TypeSerializer

    from gyeonggi.common.aws import to_dynamo

    item = {
        "series": "gimpo.gg.kr#road-damage",
        "key": "forecast#2027-01-04",
        "jurisdiction_id": "gimpo.gg.kr",
        "service_code": "road-damage",
        "day": "2027-01-04",
        "forecast": 6.5,
        "lower": 3.0,
        "upper": 9.5,
        "alert_upper": 12.0,
        "generated_at": "2026-12-07T16:30:00+00:00",  # 01:30 on the 8th in Korea
        "expires_at": 1831254250,
    }
    image = {k: TypeSerializer().serialize(to_dynamo(v)) for k, v in item.items()}
    record = {
        "eventSourceARN": "arn:aws:dynamodb:r:1:table/Forecasts/stream/1",
        "eventName": "INSERT",
        "dynamodb": {"NewImage": image, "SequenceNumber": "1"},
    }
    ((ds_id, raw),) = from_stream_record(record, {"Forecasts": forecast_item})
    ds = dataset(ds_id)
    row = prepare(ds, raw, pseudonyms=None)
    assert ds_id == "complaint_forecasts"
    assert key_of(ds, row) == (
        datetime(2026, 12, 8).date(),
        datetime(2027, 1, 4).date(),
        "gimpo.gg.kr",
        "road-damage",
    )
    assert (row["forecast"], row["lower"], row["upper"], row["category"]) == (
        6.5,
        3.0,
        9.5,
        "roads",
    )
