"""The public CCTV data format: reading it (every bad row named, nothing half-imported), the
importer's all-or-nothing and resumable writes, and the export's round trip.

Rows are fictitious (``tests/unit/cctv_support.py``); the header is the current file's 18
columns, or the older file's names.
"""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from gyeonggi.cctv import retention
from gyeonggi.cctv.standard_data import (
    COLUMNS,
    ImportRejected,
    is_ptz,
    jurisdiction_of,
    parse,
    purpose_of,
)
from gyeonggi_tools.cctv.importer import export_file, import_file
from tests.fakes.cctv import FakeCameraStore
from tests.unit.cctv_support import NOW, csv_bytes, row, valid_rows

EXAMPLES = settings(max_examples=40, deadline=None, derandomize=True, database=None)


def problems(raw: bytes) -> list[str]:
    with pytest.raises(ImportRejected) as caught:
        parse(raw)
    return [str(p) for p in caught.value.problems]


# ------------------------------------------------------------------ reading


@pytest.mark.parametrize("encoding", ["utf-8-sig", "utf-8", "cp949"])
def test_a_file_reads_in_each_encoding_it_comes_in(encoding: str) -> None:
    parsed = parse(csv_bytes([row(), row(관리번호="202637400000800002", 카메라대수="1")], encoding))
    assert [r.management_number for r in parsed.rows] == [
        "202637400000800001",
        "202637400000800002",
    ]
    assert parsed.cameras == 3
    first = parsed.rows[0]
    assert first.fields.jurisdiction == "suwon.gg.kr"
    assert first.fields.purpose == "crime_prevention" and first.fields.purpose_label == "생활방범"
    assert first.fields.installed == "2019-06" and first.fields.ptz is True
    assert first.camera_ids() == ["202637400000800001-01", "202637400000800001-02"]


def test_the_older_files_headers_are_read_and_its_rows_get_a_stable_number() -> None:
    # Given the 2015-2024 file: 위도/경도/설치년월, no 관리번호, 제공기관 columns
    columns = [c for c in COLUMNS if c not in ("관리번호", "개방자치단체코드")]
    columns = [
        {"WGS84위도": "위도", "WGS84경도": "경도", "설치연월": "설치년월"}.get(c, c)
        for c in columns
    ]
    columns += ["제공기관코드", "제공기관명"]
    old = [{**row(), "위도": "37.2636", "경도": "127.0286", "설치년월": "2019-06"}]
    # When it is read twice
    first, again = parse(csv_bytes(old, columns=columns)), parse(csv_bytes(old, columns=columns))
    # Then its number is derived from place and purpose, the same each time
    number = first.rows[0].management_number
    assert number.startswith("H") and len(number) == 17
    assert number == again.rows[0].management_number
    assert first.rows[0].fields.installed == "2019-06"


def test_every_bad_row_is_named_with_its_column() -> None:
    raw = csv_bytes(
        [
            row(),
            row(관리번호="2", 소재지도로명주소="서울특별시 종로구 북촌로 134-1", 소재지지번주소=""),
            row(관리번호="3", 카메라대수="x", WGS84위도="99", 데이터기준일자="2026-13-18"),
            row(관리번호="4", 설치목적구분="", 보관일수="-1"),
            row(관리번호="5", 소재지도로명주소="", 소재지지번주소=""),
            row(관리번호="202637400000800001"),
            row(관리번호="6", 카메라대수="120", 관리기관전화번호="call us"),
            row(관리번호="7", 데이터갱신구분="X", 설치연월="2019-13"),
        ]
    )
    found = problems(raw)
    assert found == [
        "row 3, 소재지도로명주소: names no city or county of Gyeonggi-do "
        "(e.g. '경기도 수원시 ...')",
        "row 4, 카메라대수: 'x' is not a whole number",
        "row 4, WGS84위도: 99 is outside Gyeonggi-do (36.8 to 38.4)",
        "row 4, 데이터기준일자: '2026-13-18' is not a date (YYYY-MM-DD)",
        "row 5, 설치목적구분: is empty",
        "row 5, 보관일수: '-1' is not a whole number",
        "row 6, 소재지도로명주소: no address: 소재지도로명주소 or 소재지지번주소 is required",
        "row 7, 관리번호: 202637400000800001 is row 2's too (one installation is one row: merge "
        "them with 카메라대수, or correct one)",
        "row 8, 카메라대수: 120 is not between 1 and 99",
        "row 9, 데이터갱신구분: 'X' is none of I (new), U (changed), D (deleted)",
    ]


def test_a_bad_value_the_model_refuses_is_named_by_its_column() -> None:
    found = problems(
        csv_bytes([row(관리기관전화번호="call us"), row(관리번호="2", 설치연월="2019-13")])
    )
    assert found == [
        "row 2, 관리기관전화번호: must be a telephone number (digits, spaces, - ( ) +)",
        "row 3, 설치연월: must be a year and month, e.g. 2019-06 or 201906",
    ]


def test_the_header_and_the_file_itself_are_checked() -> None:
    assert problems(b"") == ["file: the file is empty"]
    assert problems(csv_bytes([])) == ["file: the file has a header and no row"]
    no_coordinates = csv_bytes([row()], columns=[c for c in COLUMNS if c != "WGS84위도"])
    assert problems(no_coordinates) == ["row 1, WGS84위도: column missing from the header"]
    assert problems(b"\xff\xfe\x00garbage") == ["file: not UTF-8 or CP949 text (byte 0: 0xff)"]
    short = csv_bytes([row()]) + "3740000,1,수원시청\r\n".encode()
    assert problems(short) == ["row 3: 3 values for 18 columns"]


def test_where_and_why_a_row_films() -> None:
    assert jurisdiction_of("경기도 수원시 팔달구 효원로 1") == "suwon.gg.kr"
    assert jurisdiction_of("경기 고양시 일산동구 중앙로 1") == "goyang.gg.kr"
    assert jurisdiction_of("", "", "수원시청") == "suwon.gg.kr"
    assert jurisdiction_of("경기도 여주군 여주읍 1") == "yeoju.gg.kr"  # before 2013
    assert jurisdiction_of("광주광역시 서구 1") is None  # not Gyeonggi's 광주시
    assert jurisdiction_of("경기도 광주시 경안동 1") == "gwangju.gg.kr"
    assert jurisdiction_of("서울특별시 종로구 북촌로 1", "", "수원시청") is None
    assert jurisdiction_of("팔달구 효원로 1", "", "수원시청") == "suwon.gg.kr"
    assert purpose_of("방범(공원)") == "parks"
    assert purpose_of("교통정보수집") == "traffic"
    assert purpose_of("불법주정차") == "traffic"
    assert purpose_of("무엇") == "other"
    assert is_ptz("360도 전방면") and not is_ptz("북측") and not is_ptz(None)


@EXAMPLES
@given(
    rows=st.lists(valid_rows(), min_size=1, max_size=8, unique_by=lambda r: r["관리번호"]),
    encoding=st.sampled_from(["utf-8-sig", "utf-8", "cp949"]),
)
def test_any_valid_file_reads_whole_in_any_encoding(
    rows: list[dict[str, str]], encoding: str
) -> None:
    parsed = parse(csv_bytes(rows, encoding))
    assert [r.management_number for r in parsed.rows] == [r["관리번호"] for r in rows]
    assert parsed.cameras == sum(int(r["카메라대수"]) for r in rows)
    for given_row, read in zip(rows, parsed.rows, strict=True):
        assert read.fields.latitude == pytest.approx(float(given_row["WGS84위도"]))
        assert read.fields.retention_days == int(given_row["보관일수"] or retention.DEFAULT_DAYS)


@EXAMPLES
@given(
    rows=st.lists(valid_rows(), min_size=2, max_size=6, unique_by=lambda r: r["관리번호"]),
    spoiled=st.data(),
)
def test_one_bad_cell_anywhere_rejects_the_file_naming_it_and_writes_nothing(
    rows: list[dict[str, str]], spoiled: Any
) -> None:
    # Given a valid file, one cell of one row spoiled
    index = spoiled.draw(st.integers(0, len(rows) - 1))
    column, value = spoiled.draw(
        st.sampled_from(
            [
                ("카메라대수", "0"),
                ("카메라대수", "두 대"),
                ("WGS84위도", "north"),
                ("WGS84경도", "129.5"),
                ("보관일수", "3651"),
                ("데이터기준일자", "yesterday"),
                ("설치목적구분", " "),
            ]
        )
    )
    rows[index] = {**rows[index], column: value}
    store = FakeCameraStore()
    # When it is imported
    with pytest.raises(ImportRejected) as caught:
        import_file(csv_bytes(rows), store, NOW)
    # Then the row and column are named, and nothing is written
    named = [(p.row, p.column) for p in caught.value.problems]
    assert named == [(index + 2, column)]
    assert store.cameras == {} and store.transactions == []


# ------------------------------------------------------------------ importing and exporting


@EXAMPLES
@given(rows=st.lists(valid_rows(), min_size=1, max_size=8, unique_by=lambda r: r["관리번호"]))
def test_export_gives_back_the_rows_imported(rows: list[dict[str, str]]) -> None:
    store = FakeCameraStore()
    imported = parse(csv_bytes(rows, "cp949"))
    import_file(csv_bytes(rows, "cp949"), store, NOW)
    exported = export_file(store)
    assert exported.startswith(b"\xef\xbb\xbf" + ",".join(COLUMNS).encode())
    again = parse(exported)
    ordered = sorted(imported.rows, key=lambda r: r.management_number)
    assert [(r.management_number, r.cameras, r.fields) for r in again.rows] == [
        (r.management_number, r.cameras, r.fields) for r in ordered
    ]
    # and importing the export changes no camera but its version
    before = {k: c.model_copy(update={"version": 0}) for k, c in store.cameras.items()}
    import_file(exported, store, NOW)
    assert {k: c.model_copy(update={"version": 0}) for k, c in store.cameras.items()} == before


def test_export_in_cp949_and_of_one_jurisdiction() -> None:
    store = FakeCameraStore()
    ansan = row(관리번호="9", 소재지도로명주소="경기도 안산시 단원구 산단로 1", 소재지지번주소="")
    import_file(csv_bytes([row(), ansan]), store, NOW)
    suwon = export_file(store, "suwon.gg.kr", "cp949").decode("cp949").splitlines()
    assert len(suwon) == 2 and suwon[1].startswith("3740000,202637400000800001,경기도 수원시청,")


def test_an_import_is_written_in_whole_rows_of_at_most_100_cameras() -> None:
    rows = [row(관리번호=f"2026{n:014d}", 카메라대수="30") for n in range(1, 8)]  # 210 cameras
    store = FakeCameraStore()
    report = import_file(csv_bytes(rows), store, NOW)
    assert report.cameras == 210 and report.transactions == 3
    assert [len(t) for t in store.transactions] == [90, 90, 30]


def test_an_interrupted_import_is_completed_by_running_it_again() -> None:
    rows = [row(관리번호=f"2026{n:014d}", 카메라대수="40") for n in range(1, 6)]  # 200 cameras
    store = FakeCameraStore()
    store.fail_after = 1
    # Given an import that stopped after its first transaction
    with pytest.raises(RuntimeError):
        import_file(csv_bytes(rows), store, NOW)
    written = len(store.cameras)
    assert 0 < written < 200 and written % 40 == 0  # whole rows only
    # When the same file is imported again
    store.fail_after = None
    report = import_file(csv_bytes(rows), store, NOW)
    # Then every camera is there, once, as the file says
    assert len(store.cameras) == 200 and report.changed_rows == written // 40
    assert {c.management_number for c in store.cameras.values()} == {r["관리번호"] for r in rows}


def test_a_row_grown_shorter_or_deleted_takes_cameras_out_of_service_keeping_operators_fields() -> (
    None
):
    store = FakeCameraStore()
    import_file(csv_bytes([row(카메라대수="3")]), store, NOW)
    first = "202637400000800001-01"
    store.update(first, lambda c: c.model_copy(update={"masks": (((0, 0), (1, 0), (1, 1)),)}))
    # When the row says two cameras now, then that the installation is gone
    report = import_file(csv_bytes([row(카메라대수="2", 보관일수="90")]), store, NOW)
    assert report.out_of_service == 1
    assert [store.cameras[f"202637400000800001-0{i}"].in_service for i in (1, 2, 3)] == [
        True,
        True,
        False,
    ]
    assert store.cameras[first].masks and store.cameras[first].retention_days == 90
    import_file(csv_bytes([row(카메라대수="2", 데이터갱신구분="D")]), store, NOW)
    assert not any(c.in_service for c in store.cameras.values())
    # Then the export shows the row deleted, with its cameras counted
    exported = parse(export_file(store))
    assert exported.rows[0].deleted and exported.rows[0].cameras == 2


def test_a_dry_run_validates_and_writes_nothing() -> None:
    store = FakeCameraStore()
    report = import_file(csv_bytes([row()]), store, NOW, dry_run=True)
    assert report.dry_run and report.cameras == 2 and store.cameras == {}
