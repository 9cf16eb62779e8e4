"""The public CCTV data format (전국CCTV표준데이터), read into cameras and written back.

The Ministry of the Interior and Safety publishes every local government's public cameras in
one format: the national CCTV standard data on data.go.kr (``행정안전부_CCTV정보``, data set
15155042, WGS84), downloadable as CSV from LOCALDATA (``file.localdata.go.kr``, ``cctv_info``)
in CP949 (EUC-KR). Its 18 columns, in order, are :data:`COLUMNS`. The older file of the same
standard (2015-2024) named the coordinates ``위도``/``경도`` and the month ``설치년월``, and had
no ``관리번호``; both are read (:data:`ALIASES`), and files are decoded as UTF-8 (with or without
a byte order mark) or CP949. Export always writes the current 18 columns, in UTF-8 with a byte
order mark (what spreadsheet programs take as UTF-8) unless CP949 is asked for.

One row is one installation of ``카메라대수`` cameras (1 to 99), all of which become cameras
``{관리번호}-01`` ... (:func:`gyeonggi.cctv.models.camera_id`). A row of the older format has no
``관리번호``: one is derived from its jurisdiction, place (to 1e-5 degree) and purpose
(``H`` + 16 hexadecimal digits), so two rows with the same place and purpose are one
installation said twice, an error naming both.

:func:`parse` validates *every* row before anything is written and reports each bad row with
its number (the header is row 1, as a spreadsheet shows it) and column, so a file is either
taken whole or not at all (``gyeonggi_tools.cctv.importer`` writes it).
"""

from __future__ import annotations

import csv
import hashlib
import io
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

from pydantic import ValidationError

from gyeonggi.cctv import retention
from gyeonggi.cctv.models import (
    LATITUDES,
    LONGITUDES,
    MANAGEMENT_NUMBER,
    Camera,
    CameraFields,
    Purpose,
    default_control_centre,
    invalid,
)
from gyeonggi.common.errors import InvalidInput
from gyeonggi.common.numbers import decimal_number
from gyeonggi.complaints.jurisdictions import JURISDICTIONS

#: The columns of the current file, in its order.
COLUMNS: tuple[str, ...] = (
    "개방자치단체코드",
    "관리번호",
    "관리기관명",
    "소재지도로명주소",
    "소재지지번주소",
    "설치목적구분",
    "카메라대수",
    "카메라화소수",
    "촬영방면정보",
    "보관일수",
    "설치연월",
    "관리기관전화번호",
    "WGS84위도",
    "WGS84경도",
    "데이터기준일자",
    "데이터갱신구분",
    "데이터갱신시점",
    "최종수정시점",
)
#: The older file's names for the same columns.
ALIASES: dict[str, str] = {"위도": "WGS84위도", "경도": "WGS84경도", "설치년월": "설치연월"}
REQUIRED: tuple[str, ...] = ("관리기관명", "설치목적구분", "카메라대수", "WGS84위도", "WGS84경도")
#: At most this many cameras in one row (the ids' two digits; a transaction's 100 items).
MAX_CAMERAS_A_ROW = 99
#: A larger file is not a province's cameras (about 100,000 rows would be 30 MB).
MAX_ROWS = 200_000
#: Which camera field each column fills, to name the column in an error.
FIELD_COLUMNS: dict[str, str] = {
    "org_code": "개방자치단체코드",
    "managing_agency": "관리기관명",
    "road_address": "소재지도로명주소",
    "lot_address": "소재지지번주소",
    "purpose": "설치목적구분",
    "purpose_label": "설치목적구분",
    "pixels": "카메라화소수",
    "direction": "촬영방면정보",
    "retention_days": "보관일수",
    "installed": "설치연월",
    "agency_phone": "관리기관전화번호",
    "latitude": "WGS84위도",
    "longitude": "WGS84경도",
    "data_date": "데이터기준일자",
    "jurisdiction": "소재지도로명주소",
}
# The published purposes vary ("방범(공원)", "불법주정차", "교통정보수집"): the first keyword
# found decides; the label itself is kept and exported as it was.
_PURPOSE_KEYWORDS: tuple[tuple[tuple[str, ...], Purpose], ...] = (
    (("어린이",), "child_protection"),
    (("공원",), "parks"),
    (("산업", "공단"), "industrial_complex"),
    (("재난", "재해", "산불", "하천", "홍수", "해안"), "disaster"),
    (("교통", "주정차", "주차", "과속", "신호"), "traffic"),
    (("쓰레기", "투기"), "waste"),
    (("방범", "범죄", "치안", "안전"), "crime_prevention"),
    (("시설",), "facility"),
)
# Before 2013 Yeoju was a county: older rows say 여주군.
_FORMER_NAMES = {"여주군": "여주시"}
_BY_NAME = {j.name_ko: j.id for j in JURISDICTIONS}
_PROVINCE = ("경기도", "경기")
_OTHER_PROVINCES = ("특별시", "광역시", "특별자치시", "도", "특별자치도")
_DATE = re.compile(r"(?P<y>[0-9]{4})-?(?P<m>[0-9]{2})-?(?P<d>[0-9]{2})")
_TIMESTAMP = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}( [0-9]{2}:[0-9]{2}(:[0-9]{2})?)?")


@dataclass(frozen=True)
class Problem:
    """What is wrong with one row (``row`` counts the header as 1), or with the file (0)."""

    row: int
    column: str | None
    message: str

    def __str__(self) -> str:
        where = f"row {self.row}" if self.row else "file"
        if self.column:
            where += f", {self.column}"
        return f"{where}: {self.message}"


class ImportRejected(InvalidInput):
    """The file has problems; nothing of it was written. ``problems`` names each."""

    code = "import_rejected"

    def __init__(self, problems: Sequence[Problem]) -> None:
        shown = "; ".join(str(p) for p in problems[:5])
        more = f" (and {len(problems) - 5} more)" if len(problems) > 5 else ""
        super().__init__(f"{len(problems)} problem(s), nothing imported: {shown}{more}")
        self.problems = list(problems)


@dataclass(frozen=True)
class Row:
    """One valid row: the installation's shared fields and how many cameras it has."""

    number: int
    management_number: str
    cameras: int
    fields: CameraFields
    deleted: bool = False

    def camera_ids(self) -> list[str]:
        return [f"{self.management_number}-{i:02d}" for i in range(1, self.cameras + 1)]


@dataclass
class Parsed:
    """A file's rows, if every one was valid."""

    rows: list[Row] = field(default_factory=list)

    @property
    def cameras(self) -> int:
        return sum(r.cameras for r in self.rows)


# ------------------------------------------------------------------ reading


def decode(raw: bytes) -> str:
    """The file's text: UTF-8 (a byte order mark is dropped) or else CP949 (EUC-KR's superset).

    Raises
    ------
    ImportRejected
        Neither decodes it.
    """
    if raw.startswith(b"\xef\xbb\xbf"):
        raw = raw[3:]
        encodings: tuple[str, ...] = ("utf-8",)
    else:
        encodings = ("utf-8", "cp949")
    for encoding in encodings:
        try:
            return raw.decode(encoding)
        except UnicodeDecodeError as exc:
            failure = exc
    bad = f"byte {failure.start}: 0x{raw[failure.start]:02x}"
    raise ImportRejected([Problem(0, None, f"not UTF-8 or CP949 text ({bad})")])


def parse(raw: bytes | str) -> Parsed:
    """Every row of a file of the public format, validated.

    Raises
    ------
    ImportRejected
        With a :class:`Problem` for the header or for each bad row; no row is returned then.
    """
    text = decode(raw) if isinstance(raw, bytes) else raw.removeprefix("\ufeff")
    records = csv.reader(io.StringIO(text, newline=""))
    try:
        header = next(records)
    except StopIteration:
        raise ImportRejected([Problem(0, None, "the file is empty")]) from None
    except csv.Error as exc:
        raise ImportRejected([Problem(1, None, f"not CSV ({exc})")]) from None
    names = [ALIASES.get(h.strip().lstrip("\ufeff"), h.strip().lstrip("\ufeff")) for h in header]
    missing = [c for c in REQUIRED if c not in names]
    if "소재지도로명주소" not in names and "소재지지번주소" not in names:
        missing.append("소재지도로명주소 or 소재지지번주소")
    duplicated = sorted({n for n in names if n and names.count(n) > 1})
    if missing or duplicated:
        problems = [Problem(1, c, "column missing from the header") for c in missing]
        problems += [Problem(1, c, "column appears twice in the header") for c in duplicated]
        raise ImportRejected(problems)
    parsed, problems = Parsed(), []
    seen: dict[str, int] = {}
    try:
        for number, values in enumerate(records, start=2):
            if number - 1 > MAX_ROWS:
                problems.append(Problem(number, None, f"more than {MAX_ROWS:,} rows"))
                break
            if not any(v.strip() for v in values):
                continue  # a blank line, as spreadsheets leave at the end
            if len(values) != len(names):
                problems.append(
                    Problem(number, None, f"{len(values)} values for {len(names)} columns")
                )
                continue
            row = _row(number, dict(zip(names, values, strict=True)), problems)
            if row is None:
                continue
            first = seen.setdefault(row.management_number, number)
            if first != number:
                problems.append(
                    Problem(
                        number,
                        "관리번호",
                        f"{row.management_number} is row {first}'s too (one installation is "
                        "one row: merge them with 카메라대수, or correct one)",
                    )
                )
                continue
            parsed.rows.append(row)
    except csv.Error as exc:
        problems.append(Problem(records.line_num, None, f"not CSV ({exc})"))
    if problems:
        raise ImportRejected(problems)
    if not parsed.rows:
        raise ImportRejected([Problem(0, None, "the file has a header and no row")])
    return parsed


def _row(number: int, values: dict[str, str], problems: list[Problem]) -> Row | None:
    def cell(column: str) -> str:
        return values.get(column, "").strip()

    before = len(problems)

    def fail(column: str | None, message: str) -> None:
        problems.append(Problem(number, column, message))

    label = cell("설치목적구분")
    if not label:
        fail("설치목적구분", "is empty")
    cameras = _integer(cell("카메라대수"), "카메라대수", fail, 1, MAX_CAMERAS_A_ROW, required=True)
    pixels = _integer(cell("카메라화소수"), "카메라화소수", fail, 1, 100_000)
    kept = _integer(cell("보관일수"), "보관일수", fail, 0, retention.MAX_DECLARED_DAYS)
    latitude = _number(cell("WGS84위도"), "WGS84위도", fail)
    longitude = _number(cell("WGS84경도"), "WGS84경도", fail)
    data_date = _date(cell("데이터기준일자"), "데이터기준일자", fail)
    refreshed = _timestamp(cell("데이터갱신시점"), "데이터갱신시점", fail)
    modified = _timestamp(cell("최종수정시점"), "최종수정시점", fail)
    change = cell("데이터갱신구분").upper()
    if change not in ("", "I", "U", "D"):
        fail("데이터갱신구분", f"{change!r} is none of I (new), U (changed), D (deleted)")
    road, lot, agency = cell("소재지도로명주소"), cell("소재지지번주소"), cell("관리기관명")
    jurisdiction = None
    if not road and not lot:
        fail("소재지도로명주소", "no address: 소재지도로명주소 or 소재지지번주소 is required")
    else:
        jurisdiction = jurisdiction_of(road, lot, agency)
        if jurisdiction is None:
            fail(
                "소재지도로명주소" if road else "소재지지번주소",
                "names no city or county of Gyeonggi-do (e.g. '경기도 수원시 ...')",
            )
    if len(problems) > before or jurisdiction is None or cameras is None:
        return None
    assert latitude is not None and longitude is not None  # a failed read added a problem
    number_given = "관리번호" in values
    management = (
        cell("관리번호")
        if number_given
        else derived_number(jurisdiction, latitude, longitude, label)
    )
    if not MANAGEMENT_NUMBER.fullmatch(management):
        fail("관리번호", "must be letters and digits, at most 40" if management else "is empty")
        return None
    direction = cell("촬영방면정보") or None
    try:
        fields = CameraFields(
            jurisdiction=jurisdiction,
            control_centre=default_control_centre(jurisdiction),
            managing_agency=agency,
            agency_phone=cell("관리기관전화번호") or None,
            road_address=road or None,
            lot_address=lot or None,
            latitude=latitude,
            longitude=longitude,
            purpose=purpose_of(label),
            purpose_label=label,
            direction=direction,
            pixels=pixels,
            installed=cell("설치연월") or None,
            retention_days=retention.DEFAULT_DAYS if kept is None else kept,
            ptz=is_ptz(direction),
            org_code=cell("개방자치단체코드") or None,
            data_date=data_date,
            source_refreshed_at=refreshed,
            source_modified_at=modified,
        )
    except ValidationError as exc:
        error = invalid(exc, FIELD_COLUMNS)
        column = FIELD_COLUMNS.get(error.field or "")
        problems.append(Problem(number, column, error.message.split(": ", 1)[-1]))
        return None
    return Row(number, management, cameras, fields, change == "D")


def _integer(
    text: str, column: str, fail: Any, low: int, high: int, required: bool = False
) -> int | None:
    if not text:
        if required:
            fail(column, "is empty")
        return None
    if not re.fullmatch(r"[0-9]{1,9}", text.replace(",", "")):
        fail(column, f"{text!r} is not a whole number")
        return None
    value = int(text.replace(",", ""))
    if not low <= value <= high:
        fail(column, f"{value} is not between {low} and {high}")
        return None
    return value


def _number(text: str, column: str, fail: Any) -> float | None:
    if not text:
        fail(column, "is empty")
        return None
    try:
        value = float(decimal_number(text, column))
    except InvalidInput:
        fail(column, f"{text!r} is not a number")
        return None
    low, high = LATITUDES if column == "WGS84위도" else LONGITUDES
    if not low <= value <= high:
        fail(column, f"{text} is outside Gyeonggi-do ({low} to {high})")
        return None
    return round(value, 7)


def _date(text: str, column: str, fail: Any) -> date | None:
    if not text:
        return None
    match = _DATE.fullmatch(text)
    try:
        if match is None:
            raise ValueError
        return date(int(match["y"]), int(match["m"]), int(match["d"]))
    except ValueError:
        fail(column, f"{text!r} is not a date (YYYY-MM-DD)")
        return None


def _timestamp(text: str, column: str, fail: Any) -> str | None:
    if not text:
        return None
    if not _TIMESTAMP.fullmatch(text):
        fail(column, f"{text!r} is not a time (YYYY-MM-DD HH:MM:SS)")
        return None
    return text


def jurisdiction_of(*places: str) -> str | None:
    """The city or county of Gyeonggi-do the first place that names one says.

    ``경기도 수원시 팔달구 ...``, ``경기 수원시 ...`` and ``수원시청`` name Suwon. A place in
    another province (``서울특별시 ...``, and ``광주광역시``, which is not Gyeonggi's
    ``광주시``) names none, and the row is not Gyeonggi's: later places are not asked.
    """
    for place in places:
        tokens = place.replace(",", " ").split()
        if not tokens:
            continue
        if tokens[0] in _PROVINCE:
            tokens = tokens[1:]
        elif tokens[0].endswith(_OTHER_PROVINCES):
            return None
        for token in tokens[:2]:
            name = _FORMER_NAMES.get(token, token)
            # "수원시청", the city hall, is the city.
            for candidate in (name, name.removesuffix("청")):
                if candidate in _BY_NAME:
                    return _BY_NAME[candidate]
    return None


def purpose_of(label: str) -> Purpose:
    """The registry's purpose of a published ``설치목적구분``."""
    for keywords, purpose in _PURPOSE_KEYWORDS:
        if any(k in label for k in keywords):
            return purpose
    return "other"


def is_ptz(direction: str | None) -> bool:
    """Whether ``촬영방면정보`` says the camera turns (``360도 전방면``, ``회전형``): a
    pan-tilt-zoom camera's view moves by design, so it is never reported as moved."""
    return direction is not None and any(k in direction for k in ("360", "회전", "PTZ", "ptz"))


def derived_number(jurisdiction: str, latitude: float, longitude: float, label: str) -> str:
    """The management number of an older-format row: its place (to 1e-5 degree, about a
    metre) and purpose, hashed (``H`` + 16 hexadecimal digits)."""
    key = f"{jurisdiction}|{latitude:.5f}|{longitude:.5f}|{label}"
    return "H" + hashlib.sha256(key.encode()).hexdigest()[:16].upper()


# ------------------------------------------------------------------ writing


def export_rows(cameras: Iterable[Camera]) -> list[list[str]]:
    """The public format's rows of ``cameras``: one per management number, in its order.

    A row's shared fields are its first camera's (the lowest index); ``카메라대수`` counts its
    cameras in service and not decommissioned. A row with none is marked deleted
    (``데이터갱신구분`` ``D``) with the count it was last imported with.
    """
    groups: dict[str, list[Camera]] = {}
    for camera in cameras:
        groups.setdefault(camera.management_number, []).append(camera)
    rows = []
    for number in sorted(groups):
        group = sorted(groups[number], key=lambda c: c.index)
        first = group[0]
        live = [c for c in group if c.in_service and c.status != "decommissioned"]
        rows.append(
            [
                first.org_code or "",
                number,
                first.managing_agency,
                first.road_address or "",
                first.lot_address or "",
                first.purpose_label,
                str(len(live) or first.row_size),
                "" if first.pixels is None else str(first.pixels),
                first.direction or "",
                str(first.retention_days),
                (first.installed or "").replace("-", ""),
                first.agency_phone or "",
                _coordinate(first.latitude),
                _coordinate(first.longitude),
                (first.data_date or first.updated_at.date()).isoformat(),
                "" if live else "D",
                _stamp(first.source_refreshed_at, first.updated_at),
                _stamp(first.source_modified_at, first.updated_at),
            ]
        )
    return rows


def export_csv(cameras: Iterable[Camera], encoding: str = "utf-8-sig") -> bytes:
    """The public format as a file: the header and :func:`export_rows`, CRLF line ends.

    Parameters
    ----------
    encoding
        ``utf-8-sig`` (UTF-8 with a byte order mark, the default) or ``cp949`` (what
        LOCALDATA publishes; a character CP949 lacks is an error).
    """
    if encoding not in ("utf-8-sig", "utf-8", "cp949"):
        raise InvalidInput("encoding: must be utf-8-sig, utf-8 or cp949", field="encoding")
    out = io.StringIO(newline="")
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(COLUMNS)
    writer.writerows(export_rows(cameras))
    try:
        return out.getvalue().encode(encoding)
    except UnicodeEncodeError as exc:
        raise InvalidInput(
            f"a value holds {exc.object[exc.start]!r}, which CP949 cannot write: export as UTF-8",
            field="encoding",
        ) from None


def _coordinate(value: float) -> str:
    return f"{value:.7f}".rstrip("0").rstrip(".")


def _stamp(given: str | None, updated: datetime) -> str:
    return given or updated.strftime("%Y-%m-%d %H:%M:%S")
