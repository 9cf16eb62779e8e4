"""What one camera tells the video analysis: regions to ignore and the smallest fire that counts.

An operator marks, per camera, the places where flame-like light is normal (a flare stack, a
neon sign, a welding bay) and the smallest fire worth an alarm in that view, with ``PATCH
/cctv/cameras/{id}``. The camera registry stores them on the camera (``masks``,
``min_fire_px``; :mod:`gyeonggi.cctv.models` validates them with :func:`validate_masks`, so the
API and the analysis read one format); the CCTV function asks a :class:`CameraSettingsSource`
(the registry's :class:`gyeonggi.cctv.store.CameraStore`) by camera id and passes the
:class:`CameraCalibration` to :func:`gyeonggi.safety.video.analyze`.

Masks are polygons in normalised coordinates: ``x`` from 0 (left edge) to 1 (right edge), ``y``
from 0 (top) to 1 (bottom), so one calibration holds whatever resolution the recorder uploads.
The module is pure Python (pydantic): the registry's API validates masks without numpy or
OpenCV.
"""

from __future__ import annotations

from typing import Annotated, Any, Protocol

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    TypeAdapter,
    ValidationError,
    field_validator,
)

from gyeonggi.common.errors import InvalidInput

MAX_MASKS = 16
"""Masks a camera, at most (an item of the registry stays a few KB)."""
MAX_MASK_POINTS = 32
"""Vertices a mask, at most."""
MASK_DIGITS = 4
"""Mask coordinates are kept to four decimals: a tenth of a pixel at 1,000 pixels across."""
MAX_MIN_FIRE_PX = 4096

Polygon = tuple[tuple[float, float], ...]
"""One mask: its vertices, ``(x, y)`` fractions of the frame."""

_Coordinate = Annotated[float, Field(strict=True, allow_inf_nan=False, ge=0, le=1)]
_POLYGONS = TypeAdapter(
    list[
        Annotated[
            list[tuple[_Coordinate, _Coordinate]],
            Field(min_length=3, max_length=MAX_MASK_POINTS),
        ]
    ]
)


def _polygon(points: list[tuple[float, float]]) -> Polygon:
    rounded = tuple((round(x, MASK_DIGITS), round(y, MASK_DIGITS)) for x, y in points)
    # Shoelace area: three points on a line, or one point thrice, mask nothing.
    area = 0.5 * abs(
        sum(
            x0 * y1 - x1 * y0
            for (x0, y0), (x1, y1) in zip(rounded, rounded[1:] + rounded[:1], strict=True)
        )
    )
    if area < 1e-6:
        raise ValueError("a mask must enclose an area (its points are on one line)")
    return rounded


def validate_masks(value: Any) -> tuple[Polygon, ...]:
    """Masks as stored and analysed, from JSON-like input (``None``: no mask).

    Raises ``ValueError`` naming the first problem (pydantic turns it into the field's error).
    """
    if value is None:
        return ()
    if not isinstance(value, list | tuple):
        raise ValueError("must be a list of polygons, each a list of [x, y] points in [0, 1]")
    if len(value) > MAX_MASKS:
        raise ValueError(f"at most {MAX_MASKS} masks")
    try:
        polygons = _POLYGONS.validate_python(list(value))
    except ValidationError as exc:
        err = exc.errors()[0]
        where = "".join(f"[{part}]" for part in err["loc"])
        raise ValueError(f"{where}: {err['msg']}") from None
    return tuple(_polygon(p) for p in polygons)


class CameraCalibration(BaseModel):
    """One camera's settings for the fire and smoke analysis (the registry's fields).

    ``masks``: regions where nothing is reported (fire or smoke). ``min_fire_px``: the smallest
    fire that counts, as the larger side of its box in the recording's own pixels (``None``: the
    detector's own floor, a few pixels).
    """

    model_config = ConfigDict(frozen=True, extra="forbid")

    masks: tuple[Polygon, ...] = ()
    min_fire_px: int | None = Field(default=None, strict=True, ge=1, le=MAX_MIN_FIRE_PX)

    @field_validator("masks", mode="before")
    @classmethod
    def _masks(cls, value: Any) -> tuple[Polygon, ...]:
        return validate_masks(value)

    @classmethod
    def from_json(cls, data: Any) -> CameraCalibration:
        """Validate stored or uploaded JSON; raises ``InvalidInput`` naming what is wrong."""
        try:
            return cls.model_validate(data)
        except ValidationError as exc:
            first = exc.errors()[0]
            where = ".".join(str(p) for p in first["loc"]) or "calibration"
            raise InvalidInput(f"{where}: {first['msg']}", field=where) from None

    def to_json(self) -> dict[str, Any]:
        """The stored shape (lists, not tuples), the one :meth:`from_json` reads."""
        return self.model_dump(mode="json")


class CameraSettingsSource(Protocol):
    """Where the CCTV function finds a camera's calibration: the registry
    (:class:`gyeonggi.cctv.store.CameraStore`, whose ``settings`` this is)."""

    def settings(self, camera_id: str) -> CameraCalibration | None:
        """The camera's calibration, or ``None`` when it is not registered."""
        ...


class NoCameraSettings:
    """No camera has a calibration (the analysis's default: the whole view, its own floor)."""

    def settings(self, camera_id: str) -> CameraCalibration | None:
        return None


class FixedCameraSettings:
    """Calibrations held in memory, by camera id (tests, the CLI)."""

    def __init__(self, calibrations: dict[str, CameraCalibration] | None = None) -> None:
        self.calibrations = dict(calibrations or {})

    def settings(self, camera_id: str) -> CameraCalibration | None:
        return self.calibrations.get(camera_id)
