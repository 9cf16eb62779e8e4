"""What one camera tells the video analysis: regions to ignore and the smallest fire that counts.

An operator marks, per camera, the places where flame-like light is normal (a flare stack, a
neon sign, a welding bay) and the smallest fire worth an alarm in that view. The camera registry
stores it with the camera (issue 12, section 2); the CCTV function asks a
:class:`CameraSettingsSource` for it by camera id and passes it to
:func:`gyeonggi.safety.video.analyze`.

Polygons are in normalised coordinates (0 to 1 of the frame's width and height), so one
calibration holds whatever resolution the recorder uploads. The module is pure Python
(pydantic): the registry's API can validate a calibration without OpenCV.
"""

from __future__ import annotations

from typing import Any, Protocol

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from gyeonggi.common.errors import InvalidInput

Point = tuple[float, float]

MAX_REGIONS = 32
"""Regions per camera; more is a drawing mistake, not a calibration."""
MAX_POINTS = 64
"""Vertices per polygon."""


class IgnoreRegion(BaseModel):
    """A polygon of the view where nothing is reported (fire or smoke).

    ``points``: three or more ``[x, y]`` vertices, each coordinate from 0 (left, top) to 1
    (right, bottom) of the frame. ``label`` says why, for the operator ("flare stack").
    """

    model_config = ConfigDict(frozen=True, extra="forbid")

    points: tuple[Point, ...] = Field(min_length=3, max_length=MAX_POINTS)
    label: str = Field(default="", max_length=120)

    @field_validator("points")
    @classmethod
    def _inside_frame(cls, points: tuple[Point, ...]) -> tuple[Point, ...]:
        for x, y in points:
            if not (0.0 <= x <= 1.0 and 0.0 <= y <= 1.0):
                raise ValueError("polygon coordinates are fractions of the frame, 0 to 1")
        return points


class CameraCalibration(BaseModel):
    """One camera's settings for the fire and smoke analysis.

    ``ignore``: regions where nothing is reported. ``min_fire_px``: the smallest fire that
    counts, as the larger side of its box in the recording's own pixels (``None``: the
    detector's own floor, a few pixels).
    """

    model_config = ConfigDict(frozen=True, extra="forbid")

    ignore: tuple[IgnoreRegion, ...] = Field(default=(), max_length=MAX_REGIONS)
    min_fire_px: int | None = Field(default=None, ge=1, le=4096)

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
    """Where the CCTV function finds a camera's calibration (the registry, section 2)."""

    def get(self, camera_id: str) -> CameraCalibration | None:
        """The camera's calibration, or ``None`` when it has none (or is not registered)."""
        ...


class NoCameraSettings:
    """The source until the camera registry is wired in: no camera has a calibration."""

    def get(self, camera_id: str) -> CameraCalibration | None:
        return None


class FixedCameraSettings:
    """Calibrations held in memory, by camera id (tests, the CLI, a small deployment)."""

    def __init__(self, calibrations: dict[str, CameraCalibration] | None = None) -> None:
        self.calibrations = dict(calibrations or {})

    def get(self, camera_id: str) -> CameraCalibration | None:
        return self.calibrations.get(camera_id)
