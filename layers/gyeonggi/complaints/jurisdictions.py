"""The 31 cities and counties of Gyeonggi-do, the Open311 ``jurisdiction_id``s of this server."""

from __future__ import annotations

from dataclasses import dataclass

from gyeonggi.common.errors import InvalidInput


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


def known(jurisdiction_id: str | None) -> str | None:
    """Return ``jurisdiction_id`` if it is one of the 31, ``None`` when it was not given.

    Raises
    ------
    InvalidInput
        Naming ``jurisdiction_id`` when it is given but unknown (or blank).
    """
    if jurisdiction_id is None:
        return None
    # Given empty is a mistake, not "the whole province" (which is leaving it out).
    if not jurisdiction_id.strip():
        raise InvalidInput(
            "jurisdiction_id: is empty; leave it out for the whole province",
            field="jurisdiction_id",
        )
    if jurisdiction_id not in BY_ID:
        raise InvalidInput(
            f"jurisdiction_id: {jurisdiction_id!r} is not one of the 31 cities and counties "
            "(e.g. 'suwon.gg.kr')",
            field="jurisdiction_id",
        )
    return jurisdiction_id
