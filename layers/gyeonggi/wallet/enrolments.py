"""Enrolment: who a person is, as a civil servant checked it, and their credentials' status.

Enrolment stands in for the identity check at a community centre (주민센터): the resident shows
their ID card, the official compares face and card and records who the person is. Here the
official's client sends what the check established (``POST /wallet/enrolments``); nothing in
this service checks an ID card, a face or the resident register, and a real deployment would
read the facts from the register rather than take them typed in (docs/WALLET_ISSUER.md).

The record is personal data: it lives only in ``WalletEnrolmentsTable`` (encrypted with
``DataKey``, retained like ``ContactsTable``), read and written only by the wallet issuer
function, and its fields are masked in every log line (:mod:`gyeonggi.common.privacy`). The
phone number the tx_code is sent to is not kept.
"""

from __future__ import annotations

import re
import secrets
from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import date, datetime
from typing import TYPE_CHECKING, Any

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from gyeonggi.common.aws import DynamoTable
from gyeonggi.common.clock import parse_iso
from gyeonggi.common.errors import Conflict, InvalidInput, NotFound
from gyeonggi.common.text import single_line
from gyeonggi.complaints.jurisdictions import BY_ID

if TYPE_CHECKING:
    from gyeonggi.wallet.issuer_ports import EnrolmentRecords

#: The statuses of a credential in a Token Status List (draft-ietf-oauth-status-list 7.1).
VALID, REVOKED, SUSPENDED = 0, 1, 2
STATUS_NAMES = {VALID: "valid", REVOKED: "revoked", SUSPENDED: "suspended"}
#: What each administrative act changes a status to.
ACTIONS = {"revoke": REVOKED, "suspend": SUSPENDED, "reinstate": VALID}

_DATE = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}")
#: E.164: a plus, a country code, at most 15 digits (Korean mobiles: +8210...).
_PHONE = re.compile(r"\+[1-9][0-9]{7,14}")
_ENROLMENT_ID = re.compile(r"en-[0-9a-f]{24}")
_EARLIEST = date(1900, 1, 1)


def _iso_date(value: Any) -> date:
    if not isinstance(value, str) or not _DATE.fullmatch(value):
        raise ValueError("must be a date written YYYY-MM-DD")
    try:
        parsed = date.fromisoformat(value)
    except ValueError:
        raise ValueError(f"{value} is not a date of the calendar") from None
    if parsed < _EARLIEST:
        raise ValueError("must be 1900-01-01 or later")
    return parsed


class ResidentDetails(BaseModel):
    """What the identity check established, as the enrolment request carries it.

    The names are the claims' (``birthdate`` as OpenID Connect spells it). ``phone_number`` is
    where the tx_code is sent by SMS; it is used once and not stored.
    """

    model_config = ConfigDict(extra="forbid", frozen=True, str_strip_whitespace=True)

    given_name: str = Field(min_length=1, max_length=100)
    family_name: str = Field(min_length=1, max_length=100)
    birthdate: date
    jurisdiction: str = Field(min_length=1, max_length=64)
    address: str = Field(min_length=1, max_length=300)
    resident_since: date
    phone_number: str | None = None

    @field_validator("given_name", "family_name", "address", mode="before")
    @classmethod
    def _text(cls, value: Any) -> Any:
        if not isinstance(value, str):
            raise ValueError("must be a string")
        return single_line(value.strip())

    @field_validator("birthdate", "resident_since", mode="before")
    @classmethod
    def _date(cls, value: Any) -> date:
        return _iso_date(value)

    @field_validator("jurisdiction", mode="before")
    @classmethod
    def _jurisdiction(cls, value: Any) -> str:
        if not isinstance(value, str) or value not in BY_ID:
            raise ValueError("must be one of the 31 cities and counties (e.g. suwon.gg.kr)")
        return value

    @field_validator("phone_number", mode="before")
    @classmethod
    def _phone(cls, value: Any) -> Any:
        if value is not None and (not isinstance(value, str) or not _PHONE.fullmatch(value)):
            raise ValueError("must be an E.164 number, e.g. +821012345678")
        return value

    @classmethod
    def parse(cls, data: Any, today: date) -> ResidentDetails:
        """Validate an enrolment request's body against the calendar of ``today``.

        Raises
        ------
        InvalidInput
            Naming the first field that is missing, unknown or wrong.
        """
        if not isinstance(data, dict):
            raise InvalidInput("body: must be a JSON object")
        try:
            details = cls.model_validate(data)
        except ValidationError as exc:
            raise _invalid(exc) from None
        if details.birthdate > today:
            raise InvalidInput("birthdate: is in the future", field="birthdate")
        if details.resident_since > today:
            raise InvalidInput("resident_since: is in the future", field="resident_since")
        if details.resident_since < details.birthdate:
            raise InvalidInput("resident_since: is before the birthdate", field="resident_since")
        return details

    def stored(self) -> dict[str, str]:
        """The record kept of the person: every field but the phone number."""
        return {
            "given_name": self.given_name,
            "family_name": self.family_name,
            "birthdate": self.birthdate.isoformat(),
            "jurisdiction": self.jurisdiction,
            "address": self.address,
            "resident_since": self.resident_since.isoformat(),
        }

    @classmethod
    def from_stored(cls, item: dict[str, Any]) -> ResidentDetails:
        return cls.model_validate({k: item[k] for k in cls.model_fields if k in item})


def _invalid(exc: ValidationError) -> InvalidInput:
    err = exc.errors()[0]
    field = ".".join(str(part) for part in err["loc"]) or None
    if err["type"] == "missing":
        message = "is required"
    elif err["type"] == "extra_forbidden":
        message = "is not a field of an enrolment"
    else:
        message = err["msg"].removeprefix("Value error, ")
    return InvalidInput(f"{field}: {message}" if field else message, field=field)


@dataclass(frozen=True)
class StatusReference:
    """Where one issued credential's status is: entry ``idx`` of status list ``list_id``."""

    list_id: str
    idx: int


@dataclass(frozen=True)
class Enrolment:
    """One enrolment: the person, who enrolled them, and the credentials issued for it."""

    enrolment_id: str
    details: ResidentDetails
    enrolled_by: str
    enrolled_at: datetime
    status: int = VALID
    credentials: tuple[StatusReference, ...] = ()
    version: int = 0

    @property
    def jurisdiction(self) -> str:
        return self.details.jurisdiction


def new_enrolment_id() -> str:
    """``en-`` and 96 random bits in hex: unguessable, and safe to log (it names nobody)."""
    return "en-" + secrets.token_hex(12)


def check_enrolment_id(value: str) -> str:
    """``value`` if it has the shape of an enrolment id.

    Raises
    ------
    NotFound
        For anything else (no enrolment has that id).
    """
    if not _ENROLMENT_ID.fullmatch(value):
        raise NotFound(f"no enrolment {value[:40]!r}")
    return value


def next_status(current: int, action: str) -> int:
    """The status ``action`` leaves a credential of status ``current`` in.

    Revocation is final (the draft's INVALID); suspension is lifted by reinstating. Repeating an
    act is harmless (the status stays).

    Raises
    ------
    Conflict
        To suspend or reinstate a revoked enrolment.
    InvalidInput
        An unknown action.
    """
    if action not in ACTIONS:
        raise InvalidInput(f"action: {action!r} is none of {', '.join(ACTIONS)}")
    if current == REVOKED and action != "revoke":
        raise Conflict("the enrolment is revoked, and revocation is final: enrol the person anew")
    return ACTIONS[action]


# ------------------------------------------------------------------ DynamoDB


def _to_item(enrolment: Enrolment) -> dict[str, Any]:
    return {
        "enrolment_id": enrolment.enrolment_id,
        "details": enrolment.details.stored(),
        "jurisdiction": enrolment.jurisdiction,
        "enrolled_by": enrolment.enrolled_by,
        "enrolled_at": enrolment.enrolled_at.isoformat(),
        "status": enrolment.status,
        "credentials": [{"list_id": c.list_id, "idx": c.idx} for c in enrolment.credentials],
        "version": enrolment.version,
    }


def _from_item(item: dict[str, Any]) -> Enrolment:
    return Enrolment(
        enrolment_id=str(item["enrolment_id"]),
        details=ResidentDetails.from_stored(dict(item["details"])),
        enrolled_by=str(item["enrolled_by"]),
        enrolled_at=parse_iso(str(item["enrolled_at"])),
        status=int(item["status"]),
        credentials=tuple(
            StatusReference(str(c["list_id"]), int(c["idx"])) for c in item.get("credentials", [])
        ),
        version=int(item["version"]),
    )


def _condition_failed(exc: Exception) -> bool:
    code = getattr(exc, "response", {}).get("Error", {}).get("Code", "")
    return code == "ConditionalCheckFailedException"


class EnrolmentStore(DynamoTable):
    """``WalletEnrolmentsTable``: one item per enrolment, every change conditional."""

    def create(self, enrolment: Enrolment) -> Enrolment:
        """Store a new enrolment (version 1).

        Raises
        ------
        Conflict
            The id exists already.
        """
        stored = replace(
            enrolment,
            details=enrolment.details.model_copy(update={"phone_number": None}),
            version=1,
        )
        try:
            self.table.put_item(
                Item=_to_item(stored), ConditionExpression="attribute_not_exists(enrolment_id)"
            )
        except Exception as exc:
            if _condition_failed(exc):
                raise Conflict(f"enrolment {enrolment.enrolment_id} exists") from exc
            raise
        return stored

    def get(self, enrolment_id: str) -> Enrolment:
        """Raises :class:`NotFound` for an unknown id."""
        item = self.table.get_item(Key={"enrolment_id": enrolment_id}, ConsistentRead=True).get(
            "Item"
        )
        if item is None:
            raise NotFound(f"no enrolment {enrolment_id}")
        return _from_item(item)

    def add_credential(self, enrolment_id: str, reference: StatusReference) -> Enrolment:
        """Record a credential's status entry on the enrolment, if it is still valid.

        Raises
        ------
        Conflict
            The enrolment is revoked or suspended (or gone): issue nothing.
        """
        try:
            answer = self.table.update_item(
                Key={"enrolment_id": enrolment_id},
                UpdateExpression="SET credentials = list_append(credentials, :ref), #v = #v + :one",
                ConditionExpression="attribute_exists(enrolment_id) AND #s = :valid",
                ExpressionAttributeNames={"#v": "version", "#s": "status"},
                ExpressionAttributeValues={
                    ":ref": [{"list_id": reference.list_id, "idx": reference.idx}],
                    ":one": 1,
                    ":valid": VALID,
                },
                ReturnValues="ALL_NEW",
            )
        except Exception as exc:
            if _condition_failed(exc):
                raise Conflict(f"enrolment {enrolment_id} is not valid") from exc
            raise
        return _from_item(answer["Attributes"])

    def save(self, enrolment: Enrolment) -> Enrolment:
        """Write ``enrolment`` over the version it was read at; returns the stored one.

        Raises
        ------
        Conflict
            It changed since it was read.
        """
        stored = replace(enrolment, version=enrolment.version + 1)
        try:
            self.table.put_item(
                Item=_to_item(stored),
                ConditionExpression="#v = :v",
                ExpressionAttributeNames={"#v": "version"},
                ExpressionAttributeValues={":v": enrolment.version},
            )
        except Exception as exc:
            if _condition_failed(exc):
                raise Conflict(f"enrolment {enrolment.enrolment_id} changed meanwhile") from exc
            raise
        return stored


def update_enrolment(
    store: EnrolmentRecords,
    enrolment_id: str,
    change: Callable[[Enrolment], Enrolment],
    attempts: int = 5,
) -> Enrolment:
    """Apply ``change`` to the enrolment with optimistic retries; returns it as stored.

    ``change`` returning its argument writes nothing; a :class:`Conflict` it raises is its
    verdict and is not retried, only a write that lost to a concurrent one is.
    """
    for attempt in range(attempts):
        enrolment = store.get(enrolment_id)
        changed = change(enrolment)
        if changed is enrolment:
            return enrolment
        try:
            return store.save(changed)
        except Conflict:
            if attempt == attempts - 1:
                raise
    raise AssertionError("unreachable")
