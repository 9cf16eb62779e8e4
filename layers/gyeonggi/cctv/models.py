"""A camera of the registry: where it is, why it films, how long it keeps video, and how the
analysis treats its picture.

``CameraFields`` are what a person (or the public data) says about a camera; ``Camera`` adds
what the registry keeps about it (ids, timestamps, the version every write is conditional on).
``NewCamera`` is the body of ``POST /cctv/cameras`` and ``CameraPatch`` of ``PATCH``. Every
field is validated here, once, whichever way it arrives (the API, an import, the store).

Ids: a camera belongs to a row of the public data, named by its ``관리번호`` (management
number), and is the ``index``-th of the row's ``카메라대수`` cameras, so its id is
``{management_number}-{index:02d}``: the same row imported again gives the same ids, and a row
that grows from two cameras to three keeps the first two. A camera created through the API gets
a management number of its own (``GG`` and 16 hexadecimal digits), so it exports and imports back
as a row of one camera with the same id.

Masks (the regions the fire analysis ignores: a flare stack, a neon sign) are polygons in
normalised coordinates: ``x`` from 0 (left edge) to 1 (right edge), ``y`` from 0 (top) to 1
(bottom), so they survive a change of resolution. ``min_fire_px`` is the smallest fire the
analysis should alarm on, in pixels across, of the frame as recorded. Both are the analysis's
own format (:class:`gyeonggi.safety.camera_calibration.CameraCalibration`, whose validation the
field uses): what an operator stores is what the analysis reads.
"""

from __future__ import annotations

import re
import secrets
from datetime import date, datetime
from typing import Annotated, Any, Literal

from pydantic import (
    AfterValidator,
    BaseModel,
    ConfigDict,
    Field,
    ValidationError,
    field_validator,
    model_validator,
)

from gyeonggi.cctv import retention
from gyeonggi.common.errors import InvalidInput
from gyeonggi.common.text import check_text
from gyeonggi.complaints.jurisdictions import BY_ID
from gyeonggi.safety.camera_calibration import (
    MAX_MIN_FIRE_PX,
    CameraCalibration,
    Polygon,
    validate_masks,
)

Purpose = Literal[
    "crime_prevention",
    "child_protection",
    "traffic",
    "disaster",
    "facility",
    "waste",
    "parks",
    "industrial_complex",
    "other",
]
PURPOSES: tuple[Purpose, ...] = (
    "crime_prevention",
    "child_protection",
    "traffic",
    "disaster",
    "facility",
    "waste",
    "parks",
    "industrial_complex",
    "other",
)
#: The ``설치목적구분`` a purpose is published as when nobody gave a label of their own.
PURPOSE_LABELS: dict[str, str] = {
    "crime_prevention": "생활방범",
    "child_protection": "어린이보호",
    "traffic": "교통단속",
    "disaster": "재난재해",
    "facility": "시설물관리",
    "waste": "쓰레기단속",
    "parks": "공원안전",
    "industrial_complex": "산업단지안전",
    "other": "기타",
}
Status = Literal["active", "maintenance", "decommissioned"]
STATUSES: tuple[Status, ...] = ("active", "maintenance", "decommissioned")

#: Gyeonggi-do's bounding box, with a margin (its islands and borders included).
LATITUDES = (36.8, 38.4)
LONGITUDES = (126.3, 127.9)

CAMERA_ID = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.-]{0,63}")
MANAGEMENT_NUMBER = re.compile(r"[A-Za-z0-9]{1,40}")
#: Industrial complex ids, as ``custom:complexes`` and the safety topics name them.
COMPLEX_ID = re.compile(r"[A-Za-z0-9_.-]{1,64}")
_YEAR_MONTH = re.compile(r"(?P<y>(?:19|20)[0-9]{2})-?(?P<m>0[1-9]|1[0-2])")
_PHONE = re.compile(r"[0-9()+\- ]{3,30}")
_TIMESTAMP = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}( [0-9]{2}:[0-9]{2}(:[0-9]{2})?)?")


def camera_id(management_number: str, index: int) -> str:
    """``{management_number}-{index:02d}``: the id of a row's ``index``-th camera."""
    return f"{management_number}-{index:02d}"


def new_management_number() -> str:
    """A management number for a camera created here, not imported (``GG`` + 16 hex digits)."""
    return "GG" + secrets.token_hex(8).upper()


def year_month(value: str) -> str:
    """``YYYY-MM`` from ``YYYY-MM``, ``YYYYMM`` or ``YYYY-MM-DD`` (the public data uses all)."""
    text = value.strip()
    if len(text) == 10 and text[4] == "-" and text[7] == "-":
        text = text[:7]
    match = _YEAR_MONTH.fullmatch(text)
    if match is None:
        raise ValueError("must be a year and month, e.g. 2019-06 or 201906")
    return f"{match['y']}-{match['m']}"


def _text(limit: int, multiline: bool = False) -> Any:
    def check(value: str) -> str:
        value = value.strip()
        if len(value) > limit:
            raise ValueError(f"is longer than {limit} characters")
        return check_text(value, multiline=multiline)

    return AfterValidator(check)


Text100 = Annotated[str, _text(100)]
Text300 = Annotated[str, _text(300)]
Latitude = Annotated[
    float, Field(strict=True, allow_inf_nan=False, ge=LATITUDES[0], le=LATITUDES[1])
]
Longitude = Annotated[
    float, Field(strict=True, allow_inf_nan=False, ge=LONGITUDES[0], le=LONGITUDES[1])
]


class CameraFields(BaseModel):
    """What is said about a camera: by the public data, an operator, or both."""

    model_config = ConfigDict(frozen=True, extra="forbid", str_strip_whitespace=True)

    jurisdiction: str
    control_centre: Text100
    managing_agency: Text100
    agency_phone: str | None = None
    road_address: Text300 | None = None
    lot_address: Text300 | None = None
    latitude: Latitude
    longitude: Longitude
    purpose: Purpose
    purpose_label: Text100
    direction: Text100 | None = None
    pixels: int | None = Field(default=None, strict=True, ge=1, le=100_000)
    model: Text100 | None = None
    installed: str | None = None
    retention_days: int = Field(
        default=retention.DEFAULT_DAYS, strict=True, ge=0, le=retention.MAX_DECLARED_DAYS
    )
    status: Status = "active"
    complex_id: str | None = None
    ptz: bool = Field(default=False, strict=True)
    masks: tuple[Polygon, ...] = ()
    min_fire_px: int | None = Field(default=None, strict=True, ge=1, le=MAX_MIN_FIRE_PX)
    #: ``개방자치단체코드`` of the public data, kept for the export.
    org_code: str | None = None
    #: ``데이터기준일자``: the date the description was true (the import's; today's via the API).
    data_date: date | None = None
    #: ``데이터갱신시점`` and ``최종수정시점`` as the public data gave them, for the export.
    source_refreshed_at: str | None = None
    source_modified_at: str | None = None

    @field_validator("jurisdiction")
    @classmethod
    def _jurisdiction(cls, value: str) -> str:
        if value not in BY_ID:
            raise ValueError(f"{value!r} is not one of the 31 cities and counties")
        return value

    @field_validator("agency_phone")
    @classmethod
    def _phone(cls, value: str | None) -> str | None:
        if value is not None and not _PHONE.fullmatch(value):
            raise ValueError("must be a telephone number (digits, spaces, - ( ) +)")
        return value or None

    @field_validator("installed")
    @classmethod
    def _installed(cls, value: str | None) -> str | None:
        return None if value is None else year_month(value)

    @field_validator("complex_id")
    @classmethod
    def _complex(cls, value: str | None) -> str | None:
        if value is not None and not COMPLEX_ID.fullmatch(value):
            raise ValueError("must be an industrial complex id, e.g. banwol")
        return value

    @field_validator("org_code")
    @classmethod
    def _org_code(cls, value: str | None) -> str | None:
        if value is not None and not re.fullmatch(r"[0-9]{1,10}", value):
            raise ValueError("must be digits (개방자치단체코드)")
        return value or None

    @field_validator("source_refreshed_at", "source_modified_at")
    @classmethod
    def _stamp(cls, value: str | None) -> str | None:
        if value is not None and not _TIMESTAMP.fullmatch(value):
            raise ValueError("must be a time, YYYY-MM-DD HH:MM:SS")
        return value

    @field_validator("masks", mode="before")
    @classmethod
    def _masks(cls, value: Any) -> tuple[Polygon, ...]:
        return validate_masks(value)

    @model_validator(mode="after")
    def _somewhere(self) -> CameraFields:
        if not self.road_address and not self.lot_address:
            raise ValueError("an address is required: road_address or lot_address")
        return self

    @property
    def retention_class(self) -> int:
        """The class its video is kept in (:func:`gyeonggi.cctv.retention.retention_class`)."""
        return retention.retention_class(self.retention_days)


class Camera(CameraFields):
    """A camera as the registry keeps it."""

    camera_id: str
    management_number: str
    index: int = Field(strict=True, ge=1, le=99)
    #: Whether the public data lists it (import-owned: a row deleted, or grown shorter, takes
    #: its cameras out of service). ``status`` is the operators' say; a camera is watched only
    #: when it is in service and active.
    in_service: bool = Field(default=True, strict=True)
    #: The row's ``카메라대수`` as last imported (1 for a camera created here).
    row_size: int = Field(default=1, strict=True, ge=1, le=99)
    created_at: datetime
    updated_at: datetime
    version: int = Field(default=1, strict=True, ge=1)

    @field_validator("camera_id")
    @classmethod
    def _camera_id(cls, value: str) -> str:
        if not CAMERA_ID.fullmatch(value):
            raise ValueError("must be letters, digits, '.', '_' or '-', at most 64")
        return value

    @field_validator("management_number")
    @classmethod
    def _management_number(cls, value: str) -> str:
        if not MANAGEMENT_NUMBER.fullmatch(value):
            raise ValueError("must be letters and digits, at most 40 (관리번호)")
        return value

    @property
    def segment_prefix(self) -> str:
        """Where its recorder uploads segments (``{class root}/{jurisdiction}/{camera_id}/``)."""
        return retention.segment_prefix(self.retention_days, self.jurisdiction, self.camera_id)

    @property
    def watched(self) -> bool:
        """Whether its health is checked: listed in the public data and active."""
        return self.in_service and self.status == "active"

    @property
    def industrial(self) -> bool:
        """Whether it watches an industrial complex: its health goes to the incident workflow."""
        return self.complex_id is not None

    def settings(self) -> CameraCalibration:
        """What the fire analysis takes from the camera (issue 12, section 1)."""
        return CameraCalibration(masks=self.masks, min_fire_px=self.min_fire_px)


class NewCamera(CameraFields):
    """``POST /cctv/cameras``: a camera not imported. Defaults: the jurisdiction's control
    centre, agency and purpose label, 30 days, active, today's data date."""

    control_centre: Text100 | None = None  # type: ignore[assignment]
    managing_agency: Text100 | None = None  # type: ignore[assignment]
    purpose_label: Text100 | None = None  # type: ignore[assignment]
    management_number: str | None = None

    @field_validator("management_number")
    @classmethod
    def _management_number(cls, value: str | None) -> str | None:
        if value is not None and not MANAGEMENT_NUMBER.fullmatch(value):
            raise ValueError("must be letters and digits, at most 40 (관리번호)")
        return value


#: What ``PATCH`` may change: everything said about a camera, but never its ids.
PATCHABLE = frozenset(CameraFields.model_fields) - {
    "org_code",
    "data_date",
    "source_refreshed_at",
    "source_modified_at",
}
#: Of those, what may be cleared with ``null``.
CLEARABLE = frozenset(
    {
        "agency_phone",
        "road_address",
        "lot_address",
        "direction",
        "pixels",
        "model",
        "installed",
        "complex_id",
        "min_fire_px",
        "masks",
    }
)


def default_control_centre(jurisdiction: str) -> str:
    """The city's or county's integrated control centre (CCTV 통합관제센터)."""
    return f"{BY_ID[jurisdiction].name_ko} CCTV 통합관제센터"


def default_agency(jurisdiction: str) -> str:
    return f"경기도 {BY_ID[jurisdiction].name_ko}청"


def invalid(exc: ValidationError, names: dict[str, str] | None = None) -> InvalidInput:
    """One ``InvalidInput`` naming the first offending field (``names`` renames fields, e.g.
    to the public data's Korean columns)."""
    err = exc.errors()[0]
    parts = [str(p) for p in err["loc"]]
    field = parts[0] if parts else None
    shown = ".".join([(names or {}).get(parts[0], parts[0]), *parts[1:]]) if parts else None
    if err["type"] == "missing":
        message = "is required"
    elif err["type"] == "extra_forbidden":
        message = "is not a field of a camera"
    else:
        message = str(err["msg"]).removeprefix("Value error, ")
    return InvalidInput(f"{shown}: {message}" if shown else message, field=field)
