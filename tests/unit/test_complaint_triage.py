"""Triage rules: disagreement flag, near-duplicate geometry, time and similarity, the case store."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta
from typing import Any

import boto3
import pytest
from moto import mock_aws

from gyeonggi.common.errors import InvalidInput
from gyeonggi.complaints.classifier.model import Classification
from gyeonggi.complaints.triage import (
    DISAGREEMENT_CONFIDENCE,
    Case,
    CaseStore,
    ComplaintFacts,
    haversine_m,
    normalise_address,
    routing_record,
    similarity,
    triage,
)
from tests.conftest import load_event

T0 = datetime(2026, 11, 24, 9, 0, tzinfo=UTC)


def _facts(rid: str = "GG-20261124-00000001", **changes: Any) -> ComplaintFacts:
    base = ComplaintFacts(
        service_request_id=rid,
        jurisdiction_id="suwon.gg.kr",
        service_code="road-damage",
        description="팔달문 앞 도로에 포트홀이 생겼어요",
        requested_datetime=T0,
        lat=37.2636,
        long=127.0286,
    )
    return replace(base, **changes)


def _verdict(
    code: str = "road-damage", confidence: float = 0.95, urgency: str = "normal"
) -> Classification:
    return Classification(code, confidence, "road-management", urgency, 0.9, "cc1-test")


def _case_after(facts: ComplaintFacts) -> list[Case]:
    return [triage(facts, _verdict(), []).case]


def test_haversine_is_right_at_city_scale() -> None:
    # One thousandth of a degree of latitude is about 111 m anywhere.
    assert haversine_m(37.0, 127.0, 37.001, 127.0) == pytest.approx(111.2, abs=0.5)
    assert haversine_m(37.0, 127.0, 37.0, 127.0) == 0


def test_disagreement_is_flagged_only_when_confident() -> None:
    facts = _facts(service_code="tax")
    flagged = triage(facts, _verdict("road-damage", DISAGREEMENT_CONFIDENCE), [])
    assert flagged.flagged and flagged.service_code == "tax"
    assert flagged.department == "tax-administration"
    assert not triage(facts, _verdict("road-damage", DISAGREEMENT_CONFIDENCE - 0.01), []).flagged
    assert not triage(_facts(), _verdict("road-damage", 0.99), []).flagged


@pytest.mark.parametrize(
    ("changes", "duplicate"),
    [
        ({"lat": 37.2636 + 0.0012}, True),  # ~133 m north
        ({"lat": 37.2636 + 0.0015}, False),  # ~167 m north
        ({"requested_datetime": T0 + timedelta(days=6, hours=23)}, True),
        ({"requested_datetime": T0 + timedelta(days=7, minutes=1)}, False),
        ({"service_code": "streetlight"}, False),
        ({"jurisdiction_id": "osan.gg.kr"}, False),
        ({"description": "도로 포트홀 생겼어요 ㅠㅠ 팔달문 앞"}, True),
        ({"description": "무단투기 쓰레기가 너무 많아요"}, False),
    ],
)
def test_near_duplicates_by_place_time_service_and_text(
    changes: dict[str, object], duplicate: bool
) -> None:
    recent = _case_after(_facts())
    result = triage(_facts("GG-20261124-00000002", **changes), _verdict(), recent)
    assert result.duplicate is duplicate
    assert (result.case.case_id == recent[0].case_id) is duplicate
    assert result.case.count == (2 if duplicate else 1)


def test_without_coordinates_the_normalised_address_decides() -> None:
    first = _facts(lat=None, long=None, address_string="수원시 팔달구, 정조로 1")
    recent = _case_after(first)
    same = _facts("GG-2", lat=None, long=None, address_string="수원시팔달구 정조로1")
    other = _facts("GG-3", lat=None, long=None, address_string="수원시 팔달구 정조로 2")
    assert triage(same, _verdict(), recent).duplicate
    assert not triage(other, _verdict(), recent).duplicate
    assert normalise_address("  ") is None


def test_retriage_of_the_same_complaint_does_not_count_twice() -> None:
    facts = _facts()
    recent = _case_after(facts)
    again = triage(facts, _verdict(), recent)
    assert again.case == recent[0] and not again.duplicate


def test_case_urgency_is_the_highest_seen() -> None:
    recent = _case_after(_facts())
    result = triage(_facts("GG-2"), _verdict(urgency="emergency"), recent)
    assert result.case.urgency == "emergency"


def test_similarity_ignores_spacing_and_punctuation() -> None:
    assert similarity("가로등이 꺼졌어요!", "가로등이꺼졌어요") == 1.0
    assert similarity("abc", "xyz") == 0.0


def test_complaint_event_is_validated() -> None:
    facts = ComplaintFacts.from_event(load_event("complaint_triage/complaint_received.json"))
    assert facts.service_code == "road-damage" and facts.lat == pytest.approx(37.2636)
    with pytest.raises(InvalidInput, match="service_code is missing"):
        ComplaintFacts.from_event(load_event("complaint_triage/complaint_missing_fields.json"))
    with pytest.raises(InvalidInput, match="service_code"):
        ComplaintFacts.from_event(
            {**load_event("complaint_triage/complaint_received.json"), "service_code": "ufo"}
        )


def test_routing_record_is_typed_for_dynamodb() -> None:
    record = routing_record(triage(_facts(), _verdict(), []))
    assert record[":department"] == {"S": "road-management"}
    assert record[":classification"]["M"]["flagged"] == {"BOOL": False}


@mock_aws
def test_case_store_opens_counts_and_ignores_retries() -> None:
    ddb = boto3.resource("dynamodb", region_name="ap-northeast-2")
    ddb.create_table(
        TableName="cases",
        BillingMode="PAY_PER_REQUEST",
        AttributeDefinitions=[
            {"AttributeName": n, "AttributeType": "S"}
            for n in ("case_id", "bucket", "last_seen_at")
        ],
        KeySchema=[{"AttributeName": "case_id", "KeyType": "HASH"}],
        GlobalSecondaryIndexes=[
            {
                "IndexName": "by-bucket",
                "KeySchema": [
                    {"AttributeName": "bucket", "KeyType": "HASH"},
                    {"AttributeName": "last_seen_at", "KeyType": "RANGE"},
                ],
                "Projection": {"ProjectionType": "ALL"},
            }
        ],
    )
    store = CaseStore("cases", dynamodb=ddb)

    def run(facts: ComplaintFacts) -> None:
        result = triage(
            facts,
            _verdict(),
            store.recent(facts.jurisdiction_id, facts.service_code, facts.requested_datetime),
        )
        store.save(result)

    first, second = _facts(), _facts("GG-2", requested_datetime=T0 + timedelta(hours=1))
    for facts in (first, second, second, first):  # retries included
        run(facts)
    (case,) = store.recent("suwon.gg.kr", "road-damage", T0 + timedelta(hours=2))
    assert case.count == 2 and case.request_ids == (first.service_request_id, "GG-2")
    assert store.recent("suwon.gg.kr", "road-damage", T0 + timedelta(days=8)) == []
