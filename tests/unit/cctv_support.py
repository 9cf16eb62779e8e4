"""Fictitious rows of the public CCTV data format, and cameras, for the registry's tests.

The places are real cities and counties of Gyeonggi-do with made-up road numbers near their
centres; management numbers, telephone numbers and dates are invented. No row describes a real
camera.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any

from hypothesis import strategies as st

from gyeonggi.cctv.models import Camera, camera_id
from gyeonggi.cctv.standard_data import COLUMNS

NOW = datetime(2026, 12, 7, 1, 0, tzinfo=UTC)
#: (name, jurisdiction id, road, dong, latitude, longitude, area code) of some of the 31.
CITIES: tuple[tuple[str, str, str, str, float, float, str], ...] = (
    ("수원시", "suwon.gg.kr", "팔달구 효원로", "팔달구 인계동", 37.2636, 127.0286, "031"),
    ("성남시", "seongnam.gg.kr", "분당구 성남대로", "분당구 정자동", 37.4200, 127.1265, "031"),
    ("안산시", "ansan.gg.kr", "단원구 산단로", "단원구 원시동", 37.3219, 126.8309, "031"),
    ("고양시", "goyang.gg.kr", "일산동구 중앙로", "일산동구 장항동", 37.6584, 126.8320, "031"),
    ("시흥시", "siheung.gg.kr", "공단1대로", "정왕동", 37.3450, 126.7360, "031"),
    ("화성시", "hwaseong.gg.kr", "향남읍 발안로", "향남읍 평리", 37.1300, 126.9200, "031"),
    ("가평군", "gapyeong.gg.kr", "가평읍 석봉로", "가평읍 읍내리", 37.8315, 127.5105, "031"),
)
PURPOSES = (
    "생활방범",
    "어린이보호",
    "교통단속",
    "재난재해",
    "시설물관리",
    "쓰레기단속",
    "방범(공원)",
)


def row(**changes: str) -> dict[str, str]:
    """One valid row (Suwon, two crime-prevention cameras), with ``changes``."""
    base = {
        "개방자치단체코드": "3740000",
        "관리번호": "202637400000800001",
        "관리기관명": "경기도 수원시청",
        "소재지도로명주소": "경기도 수원시 팔달구 효원로 241",
        "소재지지번주소": "경기도 수원시 팔달구 인계동 1111",
        "설치목적구분": "생활방범",
        "카메라대수": "2",
        "카메라화소수": "200",
        "촬영방면정보": "360도 전방면",
        "보관일수": "30",
        "설치연월": "201906",
        "관리기관전화번호": "031-228-0000",
        "WGS84위도": "37.2636",
        "WGS84경도": "127.0286",
        "데이터기준일자": "2026-05-18",
        "데이터갱신구분": "",
        "데이터갱신시점": "2026-05-19 22:58:23",
        "최종수정시점": "2026-05-18 15:24:18",
    }
    return {**base, **changes}


def csv_bytes(
    rows: Sequence[dict[str, str]],
    encoding: str = "utf-8-sig",
    columns: Sequence[str] = COLUMNS,
) -> bytes:
    """``rows`` as a file of the public format (CRLF, as LOCALDATA writes)."""
    out = io.StringIO(newline="")
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(columns)
    for values in rows:
        writer.writerow([values.get(c, "") for c in columns])
    return out.getvalue().encode(encoding)


@st.composite
def valid_rows(draw: Any) -> dict[str, str]:
    """A valid row of any of :data:`CITIES`, with the optional cells present or not."""
    name, _, road, dong, lat, lon, area = draw(st.sampled_from(CITIES))
    number = draw(st.from_regex(r"20[0-9]{2}3[0-9]{13}", fullmatch=True))
    road_address = f"경기도 {name} {road} {draw(st.integers(1, 999))}"
    lot_address = f"경기도 {name} {dong} {draw(st.integers(1, 2999))}-{draw(st.integers(1, 9))}"
    addresses = draw(st.sampled_from(("both", "road", "lot")))
    optional = st.booleans()
    return row(
        관리번호=number,
        관리기관명=draw(st.sampled_from((f"경기도 {name}청", f"{name}청", f"{name} 정보통신과"))),
        소재지도로명주소=road_address if addresses != "lot" else "",
        소재지지번주소=lot_address if addresses != "road" else "",
        설치목적구분=draw(st.sampled_from(PURPOSES)),
        카메라대수=str(draw(st.integers(1, 12))),
        카메라화소수=str(draw(st.sampled_from((41, 130, 200, 500)))) if draw(optional) else "",
        촬영방면정보=draw(st.sampled_from(("360도 전방면", "북측 방면", "교차로", ""))),
        보관일수=str(draw(st.sampled_from((7, 14, 30, 45, 60, 90)))) if draw(optional) else "",
        설치연월=f"{draw(st.integers(2005, 2026))}{draw(st.integers(1, 12)):02d}",
        관리기관전화번호=f"{area}-{draw(st.integers(200, 999))}-{draw(st.integers(0, 9999)):04d}",
        WGS84위도=f"{lat + draw(st.floats(-0.04, 0.04)):.6f}",
        WGS84경도=f"{lon + draw(st.floats(-0.04, 0.04)):.6f}",
        데이터기준일자=f"2026-{draw(st.integers(1, 11)):02d}-{draw(st.integers(1, 28)):02d}",
    )


def camera(
    jurisdiction: str = "suwon.gg.kr", number: str = "202637400000800001", **changes: Any
) -> Camera:
    """A registered camera (the first of its row)."""
    data: dict[str, Any] = {
        "camera_id": camera_id(number, 1),
        "management_number": number,
        "index": 1,
        "jurisdiction": jurisdiction,
        "control_centre": "수원시 CCTV 통합관제센터",
        "managing_agency": "경기도 수원시청",
        "road_address": "경기도 수원시 팔달구 효원로 241",
        "latitude": 37.2636,
        "longitude": 127.0286,
        "purpose": "crime_prevention",
        "purpose_label": "생활방범",
        "created_at": NOW,
        "updated_at": NOW,
    }
    data.update(changes)
    return Camera.model_validate(data)
