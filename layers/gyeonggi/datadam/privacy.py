"""What each dataset does to personal data before a record reaches the lake.

A dataset's policy is a tuple of :class:`PrivacyRule`: *drop* a field, *pseudonymise* it with
the keyed HMAC the complaint intake already uses (computed inside KMS, so the key never leaves
it; :class:`gyeonggi.complaints.privacy.Pseudonymizer`), or *generalise* it: a birth year or date
becomes a ten-year age band, an address becomes the city or county it lies in, coordinates are
rounded to a grid of about a kilometre.

After the rules, a record is projected onto the dataset's declared columns, so a field no rule
names and no column declares never lands either; and no column may carry the name of a personal
field (checked when the catalogue is built). Resident registration numbers are masked in every
string that remains, the last net for free text.

Nothing heavy is imported here: the catalogue (``datasets``) and the request path read the rules.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any, Literal, Protocol

from gyeonggi.common.errors import InvalidInput
from gyeonggi.common.privacy import mask_rrns
from gyeonggi.complaints.jurisdictions import JURISDICTIONS
from gyeonggi.complaints.privacy import age_band

Action = Literal["drop", "pseudonymise", "age_band", "jurisdiction", "grid"]

#: Decimal places coordinates keep under ``grid``: 0.01 degree is about 1.1 km north-south.
GRID_DECIMALS = 2


class Pseudonyms(Protocol):
    """What a policy needs to pseudonymise: ``Pseudonymizer`` (KMS HMAC) in production."""

    def pseudonym(self, identifier: str) -> str: ...


@dataclass(frozen=True)
class PrivacyRule:
    """One step of a dataset's privacy policy.

    Parameters
    ----------
    field:
        The field of the incoming record the rule reads.
    action:
        ``drop`` removes it; ``pseudonymise`` replaces it by a keyed HMAC pseudonym in ``into``;
        ``age_band`` turns a birth year (or date) into a ten-year band in ``into``;
        ``jurisdiction`` turns an address into the id of the city or county in ``into`` (when
        ``into`` already holds one, that one stays); ``grid`` rounds a coordinate in place.
        Every action except ``grid`` removes ``field`` from the record.
    into:
        The column the result lands in (not for ``drop`` and ``grid``).
    reason_en, reason_ko:
        Why, for the catalogue.
    """

    field: str
    action: Action
    into: str | None = None
    reason_en: str = ""
    reason_ko: str = ""

    def __post_init__(self) -> None:
        needs_into = self.action in ("pseudonymise", "age_band", "jurisdiction")
        if needs_into != (self.into is not None):
            raise ValueError(f"privacy rule {self.field}/{self.action}: 'into' is wrong")

    def describe(self, locale: str = "en") -> str:
        """One line for the catalogue, e.g. ``email: dropped``."""
        ko = locale == "ko"
        what = {
            "drop": "삭제" if ko else "dropped",
            "pseudonymise": (
                f"{self.into}(으)로 가명처리(KMS HMAC)"
                if ko
                else f"pseudonymised into {self.into} (KMS HMAC)"
            ),
            "age_band": f"{self.into}(10세 단위 연령대)로 일반화"
            if ko
            else f"generalised to a ten-year age band in {self.into}",
            "jurisdiction": f"{self.into}(시·군)로 일반화"
            if ko
            else f"generalised to the city or county in {self.into}",
            "grid": f"소수점 {GRID_DECIMALS}자리(약 1 km)로 반올림"
            if ko
            else f"rounded to {GRID_DECIMALS} decimals (about 1 km)",
        }[self.action]
        reason = self.reason_ko if ko else self.reason_en
        return f"{self.field}: {what}" + (f" — {reason}" if reason else "")


def drop(field: str, reason_en: str = "", reason_ko: str = "") -> PrivacyRule:
    """A rule removing ``field``."""
    return PrivacyRule(field, "drop", None, reason_en, reason_ko)


def pseudonymise(field: str, into: str, reason_en: str = "", reason_ko: str = "") -> PrivacyRule:
    """A rule replacing ``field`` by its keyed pseudonym in ``into``."""
    return PrivacyRule(field, "pseudonymise", into, reason_en, reason_ko)


def to_age_band(field: str, into: str = "age_band") -> PrivacyRule:
    """A rule turning the birth year or date in ``field`` into an age band in ``into``."""
    return PrivacyRule(field, "age_band", into)


def to_jurisdiction(field: str, into: str = "jurisdiction_id") -> PrivacyRule:
    """A rule replacing the address in ``field`` by its city or county in ``into``."""
    return PrivacyRule(field, "jurisdiction", into)


def grid(field: str) -> PrivacyRule:
    """A rule rounding the coordinate in ``field`` to about a kilometre."""
    return PrivacyRule(field, "grid")


class PrivacyError(InvalidInput):
    """A record the policy cannot make safe (e.g. a pseudonym needed and no key to make it)."""

    code = "privacy_error"


# Korean names first (addresses here are mostly Korean), then English; longest first, so
# "광주시" is not found inside "광주광역시" (which is not in Gyeonggi: no rule matches it).
_NAMES: tuple[tuple[str, str], ...] = tuple(
    sorted(
        [(j.name("ko"), j.id) for j in JURISDICTIONS]
        + [(j.name("en").lower(), j.id) for j in JURISDICTIONS],
        key=lambda pair: -len(pair[0]),
    )
)


def jurisdiction_of_address(address: str) -> str | None:
    """The id of the city or county an address names, or ``None`` when it names none of the 31.

    >>> jurisdiction_of_address("경기도 수원시 팔달구 효원로 1")
    'suwon.gg.kr'
    """
    text = address.lower()
    for name, jurisdiction_id in _NAMES:
        if re.search(rf"(?<![0-9a-z가-힣]){re.escape(name)}(?![a-z])", text):
            return jurisdiction_id
    return None


def _age_band(value: Any, as_of: date, field: str) -> str:
    if value is None or value == "":
        return "unknown"
    if isinstance(value, datetime):
        year: int | None = value.year
    elif isinstance(value, date):
        year = value.year
    elif isinstance(value, int) and not isinstance(value, bool):
        year = value
    elif isinstance(value, str) and re.fullmatch(r"[0-9]{4}(-[0-9]{2}-[0-9]{2})?", value):
        year = int(value[:4])
    else:
        raise PrivacyError(f"{field} is not a birth year or date", field=field)
    return age_band(year, as_of)


def apply_policy(
    record: Mapping[str, Any],
    rules: Sequence[PrivacyRule],
    *,
    pseudonyms: Pseudonyms | None,
    as_of: date,
) -> dict[str, Any]:
    """A copy of ``record`` with the ``rules`` applied and RRNs masked in every string.

    Parameters
    ----------
    record:
        A flat record as the source gave it.
    rules:
        The dataset's policy, applied in order.
    pseudonyms:
        The keyed pseudonymiser; ``None`` is allowed only when no rule pseudonymises a value.
    as_of:
        The day an age is counted at (the record's own day, so a replay gives the same band).

    Raises
    ------
    PrivacyError
        A value to pseudonymise and no pseudonymiser; a birth date that is none.
    """
    out = dict(record)
    for rule in rules:
        present = rule.field in out
        value = out.pop(rule.field, None) if rule.action != "grid" else out.get(rule.field)
        if rule.action == "drop":
            continue
        if rule.action == "grid":
            if isinstance(value, int | float) and not isinstance(value, bool):
                out[rule.field] = round(float(value), GRID_DECIMALS)
            elif value is not None:
                out[rule.field] = None
            continue
        assert rule.into is not None
        if rule.action == "pseudonymise":
            if value is None or value == "":
                out.setdefault(rule.into, None)
                continue
            if pseudonyms is None:
                raise PrivacyError(f"{rule.field} must be pseudonymised and no key was given")
            out[rule.into] = pseudonyms.pseudonym(str(value))
        elif rule.action == "age_band":
            if present or rule.into not in out:
                out[rule.into] = _age_band(value, as_of, rule.field)
        elif rule.action == "jurisdiction" and not out.get(rule.into):
            out[rule.into] = jurisdiction_of_address(value) if isinstance(value, str) else None
    return {k: mask_rrns(v) if isinstance(v, str) else v for k, v in out.items()}
