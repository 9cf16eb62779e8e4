"""The CCTV registry in the local cloud: the public data imported through the command line, lists
as a city's operator and as the province's, a segment upload recording its camera alive, a view
with its audit, and the sweep turning an industrial complex's silent camera into an incident.

Cameras are fictitious rows of the public format (``tests/unit/cctv_support.py``), numbered
``2099...`` so that this module reads only what it wrote.
"""

from __future__ import annotations

import json
import time
from pathlib import Path
from typing import Any

import pytest

from gyeonggi.cctv.standard_data import parse
from gyeonggi_tools.safety import video_clips
from localcloud.cloud import LocalCloud
from tests.integration.conftest import Http, gyeonggi_command, listed_incident
from tests.unit.cctv_support import csv_bytes, row

pytestmark = pytest.mark.integration

SUWON = "209937400000000001"
ANSAN = "209939300000000001"
COMPLEX = "cctv-it-complex"


@pytest.fixture(scope="module")
def state_dir(cloud: LocalCloud) -> Path:
    """The cloud's state as ``local up`` leaves it for commands run beside it (in this process,
    moto answers the commands' DynamoDB calls)."""
    running = {
        "endpoint_url": None,
        "api_url": cloud.api.url,
        "region": cloud.stack.region,
        "resources": {"CctvCamerasTable": cloud.physical_id("CctvCamerasTable")},
    }
    (cloud.state_dir / "running.json").write_text(json.dumps(running))
    return cloud.state_dir


@pytest.fixture(scope="module")
def imported(state_dir: Path, tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    """Two installations imported with ``gyeonggi cctv import --local``: Suwon's (3 cameras) and
    Ansan's (1), from a CP949 file as LOCALDATA publishes it."""
    folder = tmp_path_factory.mktemp("cctv-import")
    path = folder / "cctv.csv"
    path.write_bytes(
        csv_bytes(
            [
                row(관리번호=SUWON, 카메라대수="3", 촬영방면정보="북측 방면"),
                row(
                    관리번호=ANSAN,
                    관리기관명="경기도 안산시청",
                    소재지도로명주소="경기도 안산시 단원구 산단로 100",
                    소재지지번주소="",
                    설치목적구분="재난재해",
                    카메라대수="1",
                    WGS84위도="37.3195",
                    WGS84경도="126.7441",
                ),
            ],
            "cp949",
        )
    )
    status, out, err = gyeonggi_command(state_dir, "cctv", "import", str(path), "--local")
    assert status == 0, err
    lines = out.splitlines()
    assert len(lines) == 1
    report: dict[str, Any] = json.loads(lines[0])
    return {"report": report, "folder": folder}


def _ours(cameras: list[dict[str, Any]]) -> list[str]:
    return sorted(c["camera_id"] for c in cameras if c["camera_id"].startswith("2099"))


def _all(http: Http, token: str, **query: str) -> list[dict[str, Any]]:
    found: list[dict[str, Any]] = []
    after = None
    for _ in range(100):
        params = {**query, "limit": "100", **({"after": after} if after else {})}
        path = "/cctv/cameras?" + "&".join(f"{k}={v}" for k, v in params.items())
        answer = http.request("GET", path, token=token)
        assert answer.status == 200, answer.body
        found += answer.body["cameras"]
        after = answer.body["next"]
        if after is None:
            return found
    raise AssertionError("the list never ended")


def test_an_import_through_the_cli_then_lists_by_jurisdiction(
    cloud: LocalCloud, http: Http, state_dir: Path, imported: dict[str, Any]
) -> None:
    report = imported["report"]
    assert (report["rows"], report["cameras"]) == (2, 4)
    assert report["jurisdictions"] == {"ansan.gg.kr": 1, "suwon.gg.kr": 3}
    suwon = cloud.mint_token("operator", subject="suwon-centre", jurisdictions=["suwon.gg.kr"])
    province = cloud.mint_token("operator", subject="province-centre", province=True)
    assert _ours(_all(http, suwon)) == [f"{SUWON}-0{i}" for i in (1, 2, 3)]
    assert _ours(_all(http, province)) == sorted(
        [f"{ANSAN}-01", *(f"{SUWON}-0{i}" for i in (1, 2, 3))]
    )
    refused = http.request("GET", f"/cctv/cameras/{ANSAN}-01", token=suwon)
    assert refused.status == 403
    clerk = cloud.mint_token("civil-servant", jurisdictions=["suwon.gg.kr"])
    assert http.request("GET", "/cctv/cameras", token=clerk).status == 403


def test_a_bad_file_is_refused_whole_and_the_export_gives_back_the_rows(
    http: Http, state_dir: Path, imported: dict[str, Any], cloud: LocalCloud
) -> None:
    folder: Path = imported["folder"]
    bad = folder / "bad.csv"
    bad.write_bytes(
        csv_bytes([row(관리번호="209900000000000077"), row(관리번호="2", WGS84경도="east")])
    )
    status, out, err = gyeonggi_command(state_dir, "cctv", "import", str(bad), "--local")
    assert status == 2 and out == ""
    assert "row 3, WGS84경도: 'east' is not a number" in err and "nothing was imported" in err
    province = cloud.mint_token("operator", province=True)
    missing = http.request("GET", "/cctv/cameras/209900000000000077-01", token=province)
    assert missing.status == 404
    # The export, in the same format
    out_file = folder / "export.csv"
    status, _, _ = gyeonggi_command(
        state_dir,
        *("cctv", "export", "--local", "--jurisdiction", "suwon.gg.kr"),
        *("--out", str(out_file)),
    )
    assert status == 0
    rows = {r.management_number: r for r in parse(out_file.read_bytes()).rows}
    assert rows[SUWON].cameras == 3 and rows[SUWON].fields.direction == "북측 방면"
    assert ANSAN not in rows


def _camera(http: Http, token: str, camera_id: str) -> dict[str, Any]:
    answer = http.request("GET", f"/cctv/cameras/{camera_id}", token=token)
    assert answer.status == 200, answer.body
    body: dict[str, Any] = answer.body
    return body


def _upload(cloud: LocalCloud, prefix: str, name: str, tmp_path: Path) -> str:
    clip = video_clips.make_clip("vtest_a", tmp_path, seconds=2.0)
    key = f"{prefix}{name}.avi"
    bucket = cloud.physical_id("CctvBucket")
    cloud.client("s3").put_object(Bucket=bucket, Key=key, Body=clip.path.read_bytes())
    return key


def test_a_segment_records_its_camera_alive_and_a_view_is_audited_with_its_reason(
    cloud: LocalCloud, http: Http, imported: dict[str, Any], tmp_path: Path
) -> None:
    operator = cloud.mint_token("operator", subject="suwon-duty-1", jurisdictions=["suwon.gg.kr"])
    camera_id = f"{SUWON}-01"
    camera = _camera(http, operator, camera_id)
    assert camera["health"]["state"] == "never_seen"
    # Given a segment uploaded by the camera's recorder
    key = _upload(cloud, camera["segment_prefix"], "20261207T010000Z", tmp_path)

    def online() -> dict[str, Any] | None:
        seen = _camera(http, operator, camera_id)
        return seen if seen["health"]["last_segment_key"] == key else None

    seen = cloud.wait_for(online, 30, interval=0.2, what="the camera's last segment")
    assert seen["health"]["state"] == "online" and seen["health"]["tampered"] is None
    listed = http.request("GET", f"/cctv/cameras/{camera_id}/segments", token=operator).body
    assert [s["key"] for s in listed["segments"]] == [key]
    # When the operator views it without a reason, then with one
    refused = http.request(
        "POST", f"/cctv/cameras/{camera_id}/view", json_body={"key": key}, token=operator
    )
    assert refused.status == 400 and refused.body[0]["description"].startswith("reason:")
    reason = "교통사고 민원 2026-1207-044 확인"
    link = http.request(
        "POST",
        f"/cctv/cameras/{camera_id}/view",
        json_body={"key": key, "reason": reason},
        token=operator,
    )
    assert link.status == 200 and "X-Amz-Expires=300" in link.body["url"]
    # Then the audit has who, which camera, when and why, once
    audit = http.request("GET", f"/cctv/audit?camera_id={camera_id}", token=operator).body
    records = [v for v in audit["views"] if v["viewer"] == "suwon-duty-1"]
    assert len(records) == 1
    assert (records[0]["reason"], records[0]["object_key"], records[0]["view_id"]) == (
        reason,
        key,
        link.body["view_id"],
    )
    ansan = cloud.mint_token("operator", jurisdictions=["ansan.gg.kr"])
    hidden = http.request("GET", "/cctv/audit", token=ansan).body["views"]
    assert all(v["jurisdiction"] == "ansan.gg.kr" for v in hidden)


def test_the_sweep_turns_an_industrial_cameras_silence_into_an_incident(
    cloud: LocalCloud, http: Http, tmp_path: Path
) -> None:
    province = cloud.mint_token("operator", subject="province-duty", province=True)
    # Given a camera watching an industrial complex, and one watching a street, both sending
    cameras = []
    for body in (
        {"purpose": "industrial_complex", "complex_id": COMPLEX, "management_number": "2099A1"},
        {"purpose": "traffic", "management_number": "2099A2"},
    ):
        created = http.request(
            "POST",
            "/cctv/cameras",
            json_body={
                "jurisdiction": "siheung.gg.kr",
                "road_address": "경기도 시흥시 공단1대로 100",
                "latitude": 37.345,
                "longitude": 126.736,
                **body,
            },
            token=province,
        )
        assert created.status == 201, created.body
        cameras.append(created.body)
        _upload(cloud, created.body["segment_prefix"], "20261207T020000Z", tmp_path)
    plant, street = (c["camera_id"] for c in cameras)
    cloud.wait_for(
        lambda: all(
            _camera(http, province, c)["health"]["state"] == "online" for c in (plant, street)
        ),
        30,
        interval=0.2,
        what="both cameras online",
    )
    # When they fall silent (a threshold of a second, for the test) and the sweep runs
    before = cloud.set_function_environment(
        "CctvHealthSweepFunction", CAMERA_OFFLINE_AFTER_SECONDS="1"
    )
    try:
        time.sleep(1.5)
        swept, errored = cloud.invoke("CctvHealthSweepFunction", {"source": "aws.events"})
    finally:
        cloud.set_function_environment("CctvHealthSweepFunction", **before)
    assert not errored, swept
    assert {plant, street} <= set(swept["offline"])
    # Then the plant's camera opened an incident of its complex; the street's did not
    watcher = cloud.mint_token("operator", complexes=[COMPLEX])
    incident = listed_incident(
        cloud,
        http,
        watcher,
        COMPLEX,
        until=lambda i: any(
            e.get("event") == "evidence" and e["evidence"]["kind"] == "camera_offline"
            for e in i["timeline"]
        ),
    )
    assert incident["complex_id"] == COMPLEX
    # and each silence is reported once: the next sweep finds nothing new
    again, _ = cloud.invoke("CctvHealthSweepFunction", {"source": "aws.events"})
    assert not {plant, street} & set(again["offline"])


def _result(cloud: LocalCloud, key: str) -> dict[str, Any] | None:
    stem = key.split("/", 1)[1].rsplit(".", 1)[0]
    try:
        body = cloud.client("s3").get_object(
            Bucket=cloud.physical_id("CctvBucket"), Key=f"analysis/{stem}.json"
        )["Body"]
    except Exception:  # not written yet
        return None
    result: dict[str, Any] = json.loads(body.read())
    return result


def test_the_masks_an_operator_stores_are_the_ones_the_analysis_uses(
    cloud: LocalCloud, http: Http, imported: dict[str, Any], tmp_path: Path
) -> None:
    operator = cloud.mint_token("operator", subject="suwon-duty-2", jurisdictions=["suwon.gg.kr"])
    masked_id, plain_id = f"{SUWON}-02", f"{SUWON}-03"
    # Given an operator who masks where a flare stack burns in one camera's view
    # (fire_path's flame stands on (120, 250) of 384 x 288)
    flare = [[0.15, 0.35], [0.5, 0.35], [0.5, 1.0], [0.15, 1.0]]
    patched = http.request(
        "PATCH", f"/cctv/cameras/{masked_id}", json_body={"masks": [flare]}, token=operator
    )
    assert patched.status == 200, patched.body
    clip = video_clips.make_clip("fire_path", tmp_path, seconds=6.0)
    bucket = cloud.physical_id("CctvBucket")
    keys = {}
    # When both cameras' recorders upload the same burning view
    for camera_id in (masked_id, plain_id):
        prefix = _camera(http, operator, camera_id)["segment_prefix"]
        keys[camera_id] = f"{prefix}20261207T020000Z.avi"
        s3 = cloud.client("s3")
        s3.put_object(Bucket=bucket, Key=keys[camera_id], Body=clip.path.read_bytes())
    # Then the masked camera's segment raises nothing, the other's a fire, and each result says
    # with which calibration it was analysed
    masked = cloud.wait_for(lambda: _result(cloud, keys[masked_id]), 60, what="masked result")
    plain = cloud.wait_for(lambda: _result(cloud, keys[plain_id]), 60, what="plain result")
    assert masked["fire"] is False and masked["calibration"]["masks"] == [flare]
    assert plain["fire"] is True and plain["calibration"] == {"masks": [], "min_fire_px": None}
