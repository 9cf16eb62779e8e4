"""The Data Dam's catalogue and privacy policies (pure: no lake needed)."""

from __future__ import annotations

import dataclasses
import json
import subprocess
import sys
from datetime import date
from typing import Any

import pytest

from gyeonggi.common.errors import NotFound
from gyeonggi.common.privacy import PERSONAL_FIELDS
from gyeonggi.datadam.datasets import CATALOGUE, NAMESPACE, Column, UnknownDataset, dataset
from gyeonggi.datadam.privacy import (
    PrivacyError,
    apply_policy,
    drop,
    jurisdiction_of_address,
    pseudonymise,
)
from gyeonggi.datadam.records import RecordError, prepare
from tests.conftest import ROOT


class FakePseudonyms:
    """Stands in for the KMS HMAC: deterministic, and visibly not the input."""

    def pseudonym(self, identifier: str) -> str:
        return "p_" + str(abs(hash(identifier.strip().lower())))[:12]


def test_the_contract_names_are_there() -> None:
    for name in (
        "complaints",
        "complaint_routing",
        "complaint_daily_counts",
        "complaint_forecasts",
        "sensor_minutes",
        "safety_alarms",
        "safety_incidents",
        "camera_detections",
        "form_submissions",
        "wallet_outcomes",
    ):
        assert dataset(name).table == f"{NAMESPACE}.{name}"
    complaints = dataset("complaints")
    for col, kind in {
        "service_request_id": "string",
        "service_code": "string",
        "category": "string",
        "jurisdiction_id": "string",
        "status": "string",
        "requested_at": "timestamp",
        "day": "date",
        "channel": "string",
    }.items():
        assert complaints.column(col).type == kind
    assert complaints.day_column == "day"
    counts = dataset("complaint_daily_counts")
    assert set(counts.column_names) >= {"day", "jurisdiction_id", "category", "count"}
    minutes = dataset("sensor_minutes")
    assert set(minutes.column_names) >= {
        "minute", "day", "complex_id", "jurisdiction_id", "sensor_id", "gas", "mean_ppm",
        "max_ppm", "samples",
    }  # fmt: skip


def test_an_unknown_dataset_is_a_clear_not_found() -> None:
    with pytest.raises(UnknownDataset) as err:
        dataset("citizens")
    assert isinstance(err.value, NotFound)
    assert "citizens" in err.value.message and "complaints" in err.value.message


def test_no_column_is_a_personal_field_and_open_sets_have_a_licence() -> None:
    for ds in CATALOGUE.values():
        assert not set(ds.column_names) & set(PERSONAL_FIELDS), ds.id
        if ds.open:
            assert ds.licence.startswith("KOGL") and ds.open_dimensions
        for rule in ds.privacy:
            assert rule.describe("en") and rule.describe("ko")


def test_a_dataset_that_breaks_the_rules_is_refused_when_declared() -> None:
    base = dataset("complaint_daily_counts")
    with pytest.raises(ValueError, match="personal field"):
        dataclasses.replace(base, columns=(*base.columns, Column("email", "string", "", "")))
    with pytest.raises(ValueError, match="not a column"):
        dataclasses.replace(base, key_columns=("nope",))
    with pytest.raises(ValueError, match="type"):
        dataclasses.replace(base, columns=(*base.columns, Column("x", "int", "", "")))


def test_the_catalogue_imports_nothing_heavy() -> None:
    # The request path (the query side's API function) reads the catalogue.
    probe = (
        "import sys, json; import gyeonggi.datadam.datasets; "
        "print(json.dumps([m for m in ('pyarrow','pyiceberg','boto3') if m in sys.modules]))"
    )
    out = subprocess.run(
        [sys.executable, "-c", probe],
        capture_output=True,
        text=True,
        check=True,
        env={"PYTHONPATH": str(ROOT / "layers")},
    ).stdout
    assert json.loads(out) == []


@pytest.mark.parametrize(
    ("address", "expected"),
    [
        ("경기도 수원시 팔달구 효원로 1", "suwon.gg.kr"),
        ("경기도 광주시 오포읍 문형리", "gwangju.gg.kr"),
        ("광주광역시 북구 용봉로 77", None),  # not in Gyeonggi
        ("12, Jungang-ro, Gapyeong-gun", "gapyeong.gg.kr"),
        ("서울특별시 중구 세종대로 110", None),
    ],
)
def test_an_address_becomes_its_city_or_county(address: str, expected: str | None) -> None:
    assert jurisdiction_of_address(address) == expected


def test_the_policy_drops_pseudonymises_and_generalises() -> None:
    record: dict[str, Any] = {
        "resident_id": "900101-1234567",
        "birth_date": "1990-01-01",
        "address": "경기도 용인시 수지구 포은대로 435",
        "applicant_name": "홍길동",
        "phone": "010-1234-5678",
        "benefit": "기초연금 900101-1234567",
    }
    rules = dataset("welfare_applications").privacy
    out = apply_policy(record, rules, pseudonyms=FakePseudonyms(), as_of=date(2026, 12, 1))
    assert out["applicant_pseudonym"].startswith("p_")
    assert out["age_band"] == "30-39"
    assert out["jurisdiction_id"] == "yongin.gg.kr"
    for gone in ("resident_id", "birth_date", "address", "applicant_name", "phone"):
        assert gone not in out
    assert out["benefit"] == "기초연금 900101-1******"  # an RRN in free text is masked
    # The same person, the same pseudonym; no key, no pseudonym.
    again = apply_policy(record, rules, pseudonyms=FakePseudonyms(), as_of=date(2026, 12, 1))
    assert again["applicant_pseudonym"] == out["applicant_pseudonym"]
    with pytest.raises(PrivacyError):
        apply_policy(record, rules, pseudonyms=None, as_of=date(2026, 12, 1))
    # A drop of an absent field, a pseudonym of an empty one: nothing to do.
    assert apply_policy({}, (drop("x"), pseudonymise("y", "z")), pseudonyms=None,
                        as_of=date(2026, 1, 1)) == {"z": None}  # fmt: skip


def test_prepare_projects_types_and_refuses_with_the_column() -> None:
    ds = dataset("complaints")
    row = prepare(
        ds,
        {
            "service_request_id": "GG-20261124-7A11C0DE",
            "service_code": "road-damage",
            "category": "roads",
            "jurisdiction_id": "suwon.gg.kr",
            "status": "open",
            "channel": "open311",
            "requested_at": "2026-11-24T16:15:02+00:00",
            "lat": 37.26361,
            "long": 127.02864,
            "email": "someone@example.kr",
            "description": "call me at 010-1234-5678",
            "unexpected": "never lands",
        },
        pseudonyms=None,
    )
    assert set(row) == set(ds.column_names)
    assert row["day"] == date(2026, 11, 25)  # the day in Korea
    assert (row["lat"], row["long"]) == (37.26, 127.03)
    with pytest.raises(RecordError) as err:
        prepare(ds, {**row, "requested_at": "yesterday"}, pseudonyms=None)
    assert err.value.field == "requested_at"
    with pytest.raises(RecordError) as err:
        prepare(ds, {**row, "service_request_id": None}, pseudonyms=None)
    assert err.value.field == "service_request_id"
    with pytest.raises(RecordError):
        prepare(ds, {**row, "consent_analytics": "maybe"}, pseudonyms=None)
    with pytest.raises(RecordError):
        prepare(dataset("complaint_daily_counts"), {"count": float("nan")}, pseudonyms=None)
