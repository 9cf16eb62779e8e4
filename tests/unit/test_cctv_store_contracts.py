"""One behaviour, two stores: each CCTV registry fake against its DynamoDB twin (tables from
``template.yaml``, on moto), so the unit tests that use a fake rely on what the real store does.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta
from typing import Any

import boto3
import pytest
from moto import mock_aws

from gyeonggi.cctv.audit import AuditLog, ViewRecord, view_id
from gyeonggi.cctv.health import HealthStore
from gyeonggi.cctv.ports import CameraRecords, HealthRecords, ViewAudit
from gyeonggi.cctv.standard_data import parse
from gyeonggi.cctv.store import CameraStore
from gyeonggi.common.errors import Conflict, NotFound
from gyeonggi_tools.cctv.importer import CameraImports
from tests.fakes.cctv import FakeAuditLog, FakeCameraStore, FakeHealthStore
from tests.unit.cctv_support import NOW, camera, csv_bytes, row
from tests.unit.conftest import table_from_template


@pytest.fixture
def moto_dynamodb(lambda_environment: None) -> Iterator[Any]:
    with mock_aws():
        yield boto3.resource("dynamodb", region_name="ap-northeast-2")


@pytest.fixture(params=["fake", "dynamodb"])
def cameras(request: pytest.FixtureRequest) -> CameraStore | FakeCameraStore:
    if request.param == "fake":
        return FakeCameraStore()
    dynamodb = request.getfixturevalue("moto_dynamodb")
    table_from_template(dynamodb, "CctvCamerasTable", "cameras")
    return CameraStore("cameras", dynamodb=dynamodb)


@pytest.fixture(params=["fake", "dynamodb"])
def health(request: pytest.FixtureRequest) -> HealthRecords:
    if request.param == "fake":
        return FakeHealthStore()
    dynamodb = request.getfixturevalue("moto_dynamodb")
    table_from_template(dynamodb, "CctvHealthTable", "health")
    return HealthStore("health", dynamodb=dynamodb)


@pytest.fixture(params=["fake", "dynamodb"])
def audit(request: pytest.FixtureRequest) -> ViewAudit:
    if request.param == "fake":
        return FakeAuditLog()
    dynamodb = request.getfixturevalue("moto_dynamodb")
    table_from_template(dynamodb, "CctvAuditTable", "audit")
    return AuditLog("audit", dynamodb=dynamodb)


# ------------------------------------------------------------------ cameras


def test_a_camera_is_created_once_read_back_and_saved_over_its_version(
    cameras: CameraRecords,
) -> None:
    masked = camera(masks=[[[0.1, 0.1], [0.5, 0.1], [0.5, 0.5]]], min_fire_px=12)
    stored = cameras.create(masked)
    assert stored.version == 1 and cameras.get(masked.camera_id) == stored
    with pytest.raises(Conflict):
        cameras.create(masked)
    with pytest.raises(NotFound):
        cameras.get("nope-01")
    saved = cameras.save(stored.model_copy(update={"status": "maintenance", "min_fire_px": None}))
    assert cameras.get(masked.camera_id) == saved and saved.version == 2
    assert saved.min_fire_px is None
    with pytest.raises(Conflict):
        cameras.save(stored.model_copy(update={"model": "late"}))  # read at version 1
    settings = cameras.settings(masked.camera_id)
    assert settings is not None and settings.masks == saved.masks
    assert cameras.settings("nope-01") is None


def test_update_retries_a_lost_race_and_keeps_both_changes(cameras: CameraRecords) -> None:
    cameras.create(camera())
    calls: list[int] = []

    def change(current: Any) -> Any:
        calls.append(current.version)
        if len(calls) == 1:  # an import (or another operator) gets in between
            cameras.save(current.model_copy(update={"model": "XNO-6080R"}))
        return current.model_copy(update={"status": "maintenance"})

    stored = cameras.update("202637400000800001-01", change)
    assert calls == [1, 2] and (stored.model, stored.status, stored.version) == (
        "XNO-6080R",
        "maintenance",
        3,
    )


def test_a_citys_cameras_come_a_page_at_a_time_in_id_order(cameras: CameraRecords) -> None:
    for n in range(5):
        cameras.create(camera(number=f"GG{n:016X}"))
    cameras.create(camera("ansan.gg.kr", number="GGFFFFFFFFFFFFFFFF"))
    first, after = cameras.page("suwon.gg.kr", 3)
    assert [c.management_number for c in first] == [f"GG{n:016X}" for n in range(3)]
    assert after == first[-1].camera_id
    rest, more = cameras.page("suwon.gg.kr", 3, after)
    assert [c.management_number for c in rest] == [f"GG{n:016X}" for n in (3, 4)]
    assert more is None
    found = cameras.get_many(["GG0000000000000000-01", "GGFFFFFFFFFFFFFFFF-01", "nope-01"])
    assert sorted(found) == ["GG0000000000000000-01", "GGFFFFFFFFFFFFFFFF-01"]


def test_an_import_writes_the_public_datas_fields_and_keeps_the_operators(
    cameras: CameraImports,
) -> None:
    rows = parse(csv_bytes([row(카메라대수="3")])).rows
    assert cameras.row_sizes(["202637400000800001"]) == {}
    cameras.write_rows(rows, {}, NOW)
    assert cameras.row_sizes(["202637400000800001", "x"]) == {"202637400000800001": 3}
    records: Any = cameras
    first = records.get("202637400000800001-01")
    assert (first.in_service, first.status, first.ptz, first.row_size) == (True, "active", True, 3)
    records.save(first.model_copy(update={"complex_id": "suwon-tech", "ptz": False}))
    # When the row comes again with two cameras and another retention
    again = parse(csv_bytes([row(카메라대수="2", 보관일수="7")])).rows
    cameras.write_rows(again, cameras.row_sizes(["202637400000800001"]), NOW + timedelta(days=1))
    first = records.get("202637400000800001-01")
    assert (first.complex_id, first.ptz, first.retention_days) == ("suwon-tech", False, 7)
    assert first.created_at == NOW and first.updated_at == NOW + timedelta(days=1)
    third = records.get("202637400000800001-03")
    assert third.in_service is False and third.row_size == 2


# ------------------------------------------------------------------ health


def test_a_segment_returns_the_health_before_it_and_a_silence_is_marked_once(
    health: HealthRecords,
) -> None:
    key = "cctv/suwon.gg.kr/cam-01/20261207T010000Z.mp4"
    before = health.seen("cam-01", "suwon.gg.kr", key, NOW, NOW + timedelta(seconds=2))
    assert before.last_segment_at is None and not before.reported_offline
    later = health.get("cam-01")
    assert later.last_segment_key == key and later.last_segment_start == NOW
    assert later.silent(NOW + timedelta(minutes=4), timedelta(minutes=3))
    assert later.last_segment_at is not None
    assert health.mark_offline("cam-01", later.last_segment_at)
    assert health.get("cam-01").reported_offline
    assert not health.mark_offline("cam-01", NOW)  # not the silence stored
    # A segment comes: the health before it says it was reported offline
    again = health.seen("cam-01", "suwon.gg.kr", key, NOW, NOW + timedelta(minutes=5))
    assert again.reported_offline and not health.get("cam-01").reported_offline
    assert [h.camera_id for h in health.scan()] == ["cam-01"]
    assert health.get_many(["cam-01", "cam-02"])["cam-02"].last_segment_at is None


def test_a_tampered_view_is_recorded_once_and_cleared_once(health: HealthRecords) -> None:
    health.seen("cam-01", "suwon.gg.kr", "k", NOW, NOW)
    assert health.set_tamper("cam-01", "covered", NOW, {"std": 2.5})
    assert not health.set_tamper("cam-01", "moved", NOW, {})
    recorded = health.get("cam-01")
    assert (recorded.tamper_kind, recorded.tamper_since) == ("covered", NOW)
    assert health.clear_tamper("cam-01") and not health.clear_tamper("cam-01")
    health.set_reference_time("cam-01", NOW)
    assert health.get("cam-01").reference_at == NOW
    health.set_reference_time("cam-01", None)
    assert health.get("cam-01").reference_at is None


# ------------------------------------------------------------------ the audit


def _view(jurisdiction: str, camera_id: str, minutes: int) -> ViewRecord:
    at = NOW + timedelta(minutes=minutes)
    return ViewRecord(
        view_id=view_id(at),
        jurisdiction=jurisdiction,
        camera_id=camera_id,
        viewer="operator-1",
        reason="민원 확인 요청",
        object_key=f"cctv/{jurisdiction}/{camera_id}/20261207T010000Z.mp4",
        object_kind="segment",
        at=at,
        link_expires_at=at + timedelta(minutes=5),
        viewer_roles=("operator",),
        source_ip="203.0.113.7",
    )


def test_views_read_back_newest_first_by_city_by_camera_and_by_time(audit: ViewAudit) -> None:
    for minutes, (jurisdiction, camera_id) in enumerate(
        [("suwon.gg.kr", "a-01"), ("suwon.gg.kr", "b-01"), ("ansan.gg.kr", "c-01")] * 2
    ):
        audit.record(_view(jurisdiction, camera_id, minutes))
    page, more = audit.page("suwon.gg.kr", 3)
    assert [r.camera_id for r in page] == ["b-01", "a-01", "b-01"] and more
    rest, more = audit.page("suwon.gg.kr", 3, after=page[-1].position)
    assert [r.camera_id for r in rest] == ["a-01"] and not more
    by_camera, _ = audit.page_for_camera("a-01", 10)
    assert [r.at for r in by_camera] == [NOW + timedelta(minutes=3), NOW]
    window, _ = audit.page(
        "suwon.gg.kr", 10, since=NOW + timedelta(minutes=1), until=NOW + timedelta(minutes=3)
    )
    assert [r.camera_id for r in window] == ["a-01", "b-01"]
    assert window[0] == _replace_id(_view("suwon.gg.kr", "a-01", 3), window[0].view_id)


def _replace_id(view: ViewRecord, view_id: str) -> ViewRecord:
    from dataclasses import replace

    return replace(view, view_id=view_id)
