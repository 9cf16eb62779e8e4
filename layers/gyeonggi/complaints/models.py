"""The shapes a complaint takes on its way through the system.

``ComplaintSubmission`` is what a citizen sends (Open311 GeoReport v2 fields plus
``jurisdiction_id``); ``IntakeMessage`` is what travels on the intake queue; ``Complaint`` is the
stored, pseudonymized record; ``Contact`` is what only the restricted store keeps.
"""

from __future__ import annotations

import re
from datetime import datetime
from typing import Annotated, Any, Literal

from pydantic import (
    AfterValidator,
    BaseModel,
    ConfigDict,
    Field,
    StringConstraints,
    field_validator,
    model_validator,
)
from pydantic_core import PydanticCustomError

from gyeonggi.common.text import all_visible, multi_line, single_line
from gyeonggi.complaints.jurisdictions import BY_ID as JURISDICTIONS
from gyeonggi.complaints.jurisdictions import UnknownJurisdiction, is_well_formed, unknown_message
from gyeonggi.complaints.services import BY_CODE as SERVICES

_EMAIL = re.compile(r"^[^@\s]{1,64}@[^@\s]+\.[^@\s]{2,}$")
_PHONE = re.compile(r"^\+?[0-9][0-9 ()-]{6,19}$")

Gender = Literal["female", "male", "other", "undisclosed"]
AgeBand = Literal["0-19", "20-29", "30-39", "40-49", "50-59", "60-69", "70+", "unknown"]
Status = Literal["open", "closed"]

ShortText = Annotated[
    str,
    StringConstraints(strip_whitespace=True, min_length=1, max_length=100),
    AfterValidator(single_line),
]
# Text that may span lines; a string of zero-width spaces has a length but nothing to read.
Description = Annotated[
    str, StringConstraints(min_length=1, max_length=4000), AfterValidator(multi_line)
]
Address = Annotated[
    str, StringConstraints(min_length=1, max_length=500), AfterValidator(multi_line)
]
# Strict: JSON's true is not 1.0 and "37.5" is not a number (forms convert their text first,
# in ``intake.submission_from_form``); finite, so NaN never reaches a range check.
Latitude = Annotated[float, Field(strict=True, allow_inf_nan=False, ge=-90, le=90)]
Longitude = Annotated[float, Field(strict=True, allow_inf_nan=False, ge=-180, le=180)]


def _email(value: str) -> str:
    if not _EMAIL.match(all_visible(value)):
        raise ValueError("is not an e-mail address")
    return value


def _phone(value: str) -> str:
    if not _PHONE.match(value):
        raise ValueError("is not a phone number (digits, spaces, +, - and parentheses)")
    return value


def _http_url(value: str) -> str:
    if not re.match(r"^https?://[^\s/$.?#].[^\s]*$", all_visible(value)):
        raise ValueError("must be an http or https URL")
    return value


class CitizenProfile(BaseModel):
    """What a citizen chooses to tell about themselves; reduced to age band and gender."""

    model_config = ConfigDict(extra="forbid")

    # Strict: a year is a JSON integer (not true, not "1987", not 1987.0).
    birth_year: int | None = Field(default=None, strict=True, ge=1900, le=2100)
    gender: Gender = "undisclosed"
    consent_analytics: bool = False


class ComplaintSubmission(BaseModel):
    """A complaint as submitted, through Open311 or the native JSON API."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    jurisdiction_id: str
    service_code: str
    description: Description
    lat: Latitude | None = None
    long: Longitude | None = None
    address_string: Address | None = None
    email: Annotated[str, AfterValidator(_email)] | None = None
    phone: Annotated[str, AfterValidator(_phone)] | None = None
    first_name: ShortText | None = None
    last_name: ShortText | None = None
    device_id: ShortText | None = None
    account_id: ShortText | None = None
    media_url: Annotated[str, AfterValidator(_http_url)] | None = None
    attributes: dict[str, str | list[str]] = Field(default_factory=dict)
    citizen: CitizenProfile = Field(default_factory=CitizenProfile)

    @field_validator("jurisdiction_id")
    @classmethod
    def _known_jurisdiction(cls, value: str) -> str:
        if value in JURISDICTIONS:
            return value
        if is_well_formed(value):
            # An error type of its own: parse_submission answers it 404, as GeoReport v2 does.
            raise PydanticCustomError(UnknownJurisdiction.code, unknown_message(value))
        raise ValueError("must be the id of a city or county, e.g. 'suwon.gg.kr'")

    @field_validator("service_code")
    @classmethod
    def _known_service(cls, value: str) -> str:
        if value not in SERVICES:
            raise ValueError(f"{value!r} is not a service_code of this server")
        return value

    @model_validator(mode="after")
    def _location_given(self) -> ComplaintSubmission:
        if (self.lat is None) != (self.long is None):
            raise ValueError("lat and long must be given together")
        if self.lat is None and not self.address_string:
            raise ValueError("a location is required: lat and long, or address_string")
        return self


class IntakeMessage(BaseModel):
    """The message the API puts on the intake queue; the request id is fixed at the door."""

    model_config = ConfigDict(extra="forbid")

    type: Literal["ComplaintSubmitted"] = "ComplaintSubmitted"
    version: Literal[1] = 1
    service_request_id: Annotated[str, StringConstraints(pattern=r"^GG-[0-9]{8}-[0-9A-F]{8}$")]
    submitted_at: datetime
    channel: Literal["open311", "api"]
    submission: ComplaintSubmission


class CitizenSegment(BaseModel):
    """The citizen's only trace in a complaint: a pseudonym and coarse demographics."""

    # Absent from stored items (``to_item`` drops None) when the citizen left no identifier.
    pseudonym: str | None = None
    age_band: AgeBand
    gender: Gender
    consent_analytics: bool


class ServiceRequest(BaseModel):
    """A request as Open311 shows it, stored or only received: nothing personal in it."""

    service_request_id: str
    jurisdiction_id: str
    service_code: str
    description: str
    status: Status = "open"
    status_notes: str | None = None
    agency_responsible: str
    lat: float | None = None
    long: float | None = None
    address_string: str | None = None
    media_url: str | None = None
    attributes: dict[str, str | list[str]] = Field(default_factory=dict)
    channel: Literal["open311", "api"]
    requested_datetime: datetime
    updated_datetime: datetime


def as_submitted(message: IntakeMessage) -> dict[str, Any]:
    """The :class:`ServiceRequest` fields of ``message`` as submitted (status ``open``).

    Where a receipt and a stored complaint both start: one list, so the two cannot differ in
    what they show of a request.
    """
    sub = message.submission
    return {
        "service_request_id": message.service_request_id,
        "jurisdiction_id": sub.jurisdiction_id,
        "service_code": sub.service_code,
        "description": sub.description,
        "agency_responsible": SERVICES[sub.service_code].department,
        "lat": sub.lat,
        "long": sub.long,
        "address_string": sub.address_string,
        "media_url": sub.media_url,
        "attributes": sub.attributes,
        "channel": message.channel,
        "requested_datetime": message.submitted_at,
        "updated_datetime": message.submitted_at,
    }


class Complaint(ServiceRequest):
    """The stored complaint: no contact details, no name, no birth date."""

    citizen: CitizenSegment


class Contact(BaseModel):
    """Contact details, kept only in the restricted store, keyed by the request id."""

    service_request_id: str
    email: str | None = None
    phone: str | None = None
    first_name: str | None = None
    last_name: str | None = None
    device_id: str | None = None
    account_id: str | None = None

    def is_empty(self) -> bool:
        """True when the citizen left no way to be reached."""
        return not any(
            (
                self.email,
                self.phone,
                self.first_name,
                self.last_name,
                self.device_id,
                self.account_id,
            )
        )


def to_item(model: BaseModel) -> dict[str, Any]:
    """A JSON-safe dict without ``None`` values, ready for DynamoDB or a queue."""
    return model.model_dump(mode="json", exclude_none=True)
