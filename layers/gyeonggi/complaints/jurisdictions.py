"""The 31 cities and counties of Gyeonggi-do, the Open311 ``jurisdiction_id``s of this server."""

from __future__ import annotations

import re
from dataclasses import dataclass

from gyeonggi.common.errors import InvalidInput, NotFound

#: The shape of every id here, a host name's (letters, digits, dots and hyphens, at most 253
#: characters). A value of this shape that is none of the 31 names a place this server does
#: not serve; anything else is not an id at all.
_ID_SHAPE = re.compile(r"[A-Za-z0-9](?:[A-Za-z0-9.-]{0,251}[A-Za-z0-9])?")


@dataclass(frozen=True, slots=True)
class Jurisdiction:
    """One city (si) or county (gun) of the province."""

    id: str
    name_en: str
    name_ko: str
    kind: str  # "city" or "county"

    def name(self, locale: str = "en") -> str:
        """The name in ``locale`` (``ko`` or ``en``)."""
        return self.name_ko if locale == "ko" else self.name_en


def _city(slug: str, en: str, ko: str) -> Jurisdiction:
    return Jurisdiction(f"{slug}.gg.kr", en, ko, "city")


def _county(slug: str, en: str, ko: str) -> Jurisdiction:
    return Jurisdiction(f"{slug}.gg.kr", en, ko, "county")


JURISDICTIONS: tuple[Jurisdiction, ...] = (
    _city("suwon", "Suwon", "수원시"),
    _city("seongnam", "Seongnam", "성남시"),
    _city("uijeongbu", "Uijeongbu", "의정부시"),
    _city("anyang", "Anyang", "안양시"),
    _city("bucheon", "Bucheon", "부천시"),
    _city("gwangmyeong", "Gwangmyeong", "광명시"),
    _city("pyeongtaek", "Pyeongtaek", "평택시"),
    _city("dongducheon", "Dongducheon", "동두천시"),
    _city("ansan", "Ansan", "안산시"),
    _city("goyang", "Goyang", "고양시"),
    _city("gwacheon", "Gwacheon", "과천시"),
    _city("guri", "Guri", "구리시"),
    _city("namyangju", "Namyangju", "남양주시"),
    _city("osan", "Osan", "오산시"),
    _city("siheung", "Siheung", "시흥시"),
    _city("gunpo", "Gunpo", "군포시"),
    _city("uiwang", "Uiwang", "의왕시"),
    _city("hanam", "Hanam", "하남시"),
    _city("yongin", "Yongin", "용인시"),
    _city("paju", "Paju", "파주시"),
    _city("icheon", "Icheon", "이천시"),
    _city("anseong", "Anseong", "안성시"),
    _city("gimpo", "Gimpo", "김포시"),
    _city("hwaseong", "Hwaseong", "화성시"),
    _city("gwangju", "Gwangju", "광주시"),
    _city("yangju", "Yangju", "양주시"),
    _city("pocheon", "Pocheon", "포천시"),
    _city("yeoju", "Yeoju", "여주시"),
    _county("yeoncheon", "Yeoncheon", "연천군"),
    _county("gapyeong", "Gapyeong", "가평군"),
    _county("yangpyeong", "Yangpyeong", "양평군"),
)

BY_ID: dict[str, Jurisdiction] = {j.id: j for j in JURISDICTIONS}


class UnknownJurisdiction(NotFound):
    """A well-formed ``jurisdiction_id`` that is none of the 31 cities and counties.

    GeoReport v2 answers ``404`` ("jurisdiction_id provided was not found") wherever it takes a
    ``jurisdiction_id``; a malformed one stays an :class:`InvalidInput` (``400``).
    """

    code = "unknown_jurisdiction"


def unknown_message(jurisdiction_id: str) -> str:
    """What is wrong with a well-formed ``jurisdiction_id`` that is none of the 31."""
    return f"{jurisdiction_id!r} is not one of the 31 cities and counties (e.g. 'suwon.gg.kr')"


def is_well_formed(jurisdiction_id: str) -> bool:
    """Whether ``jurisdiction_id`` has the shape of an id (not whether it is one of ours)."""
    return _ID_SHAPE.fullmatch(jurisdiction_id) is not None


def known(jurisdiction_id: str | None) -> str | None:
    """Return ``jurisdiction_id`` if it is one of the 31, ``None`` when it was not given.

    Raises
    ------
    UnknownJurisdiction
        Naming ``jurisdiction_id`` when it is well formed but none of the 31 (``404``).
    InvalidInput
        Naming ``jurisdiction_id`` when it is blank or not shaped like an id (``400``).
    """
    if jurisdiction_id is None:
        return None
    # Given empty is a mistake, not "the whole province" (which is leaving it out).
    if not jurisdiction_id.strip():
        raise InvalidInput(
            "jurisdiction_id: is empty; leave it out for the whole province",
            field="jurisdiction_id",
        )
    if jurisdiction_id in BY_ID:
        return jurisdiction_id
    if not is_well_formed(jurisdiction_id):
        raise InvalidInput(
            "jurisdiction_id: must be the id of a city or county, e.g. 'suwon.gg.kr'",
            field="jurisdiction_id",
        )
    raise UnknownJurisdiction(
        f"jurisdiction_id: {unknown_message(jurisdiction_id)}", field="jurisdiction_id"
    )
