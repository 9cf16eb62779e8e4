"""Road-name addresses (도로명주소): 시·도 시·군·구 (구) (읍·면) 도로명 건물번호, 상세주소.

The road name ends in 로, 대로 or 길 (a side road: ``정조로513번길``), the building number is one
or two numbers (``825``, ``12-3``), and the detail (동·호수, 층) follows after a comma. Where the
city or county is one of Gyeonggi's 31 (``gyeonggi.complaints.jurisdictions``), the province is
filled in and the address carries that ``jurisdiction_id``; an address elsewhere in Korea is
kept with its province or metropolitan city. An English address ("825 Jeongjo-ro, Paldal-gu,
Suwon-si") is kept as written (nobody can turn a romanised road name back into Hangul without
the national address database), with its jurisdiction when the city is one of the 31.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from gyeonggi.complaints.jurisdictions import JURISDICTIONS
from gyeonggi.forms.problems import Checked, problem

#: The 17 provinces and metropolitan cities, official names and the short ones people use.
PROVINCES: dict[str, str] = {}
for _official, _short in (
    ("서울특별시", ("서울", "서울시")),
    ("부산광역시", ("부산", "부산시")),
    ("대구광역시", ("대구", "대구시")),
    ("인천광역시", ("인천", "인천시")),
    ("광주광역시", ("광주광역시",)),
    ("대전광역시", ("대전", "대전시")),
    ("울산광역시", ("울산", "울산시")),
    ("세종특별자치시", ("세종", "세종시")),
    ("경기도", ("경기",)),
    ("강원특별자치도", ("강원", "강원도")),
    ("충청북도", ("충북",)),
    ("충청남도", ("충남",)),
    ("전북특별자치도", ("전북", "전라북도")),
    ("전라남도", ("전남",)),
    ("경상북도", ("경북",)),
    ("경상남도", ("경남",)),
    ("제주특별자치도", ("제주", "제주도")),
):
    PROVINCES[_official] = _official
    for _name in _short:
        PROVINCES[_name] = _official

GYEONGGI = "경기도"
#: Gyeonggi's cities and counties by their Korean name, with and without 시/군.
_GG_KO = {j.name_ko: j for j in JURISDICTIONS} | {j.name_ko[:-1]: j for j in JURISDICTIONS}
_GG_EN = {j.name_en.lower(): j for j in JURISDICTIONS}

# 광주 alone is Gyeonggi's 광주시 unless one of the metropolitan city's districts follows.
_GWANGJU_METRO_GU = ("동구", "서구", "남구", "북구", "광산구")

_ROAD = re.compile(
    r"(?P<road>[가-힣][가-힣0-9·.]*(?:대로|로|길)(?:\s*[0-9]+(?:번|번가)?길)?)\s*"
    r"(?P<number>[0-9]{1,5}(?:\s*-\s*[0-9]{1,4})?)(?:\s*번지)?(?![0-9])"
)
_ROAD_EN = re.compile(
    r"(?:(?P<n1>[0-9]{1,5}(?:-[0-9]{1,4})?),?\s+(?P<r1>[A-Za-z0-9]+(?:-[A-Za-z0-9]+)*-(?:daero|ro|gil)"
    r"(?:\s*[0-9]+(?:beon)?-gil)?)|(?P<r2>[A-Za-z0-9]+(?:-[A-Za-z0-9]+)*-(?:daero|ro|gil)"
    r"(?:\s*[0-9]+(?:beon)?-gil)?)\s+(?P<n2>[0-9]{1,5}(?:-[0-9]{1,4})?))\b",
    re.I,
)
# Words around an address in speech that are not part of it.
_LEAD = re.compile(
    r"^(?:(?:제|저희|우리|새|이전|전|예전|옛|원래|지금|현|건물|매수인|매수자|사는\s*분)\s*)?"
    r"(?:집\s*)?(?:주소|address)\s*(?:는|은|가|이|:)?\s*",
    re.I,
)
_TRAIL = re.compile(
    r"(?:\s*(?:이에요|예요|입니다|이요|요|이고요?|고요?|이며|에서|으로|로|에|이사|살아요|살고\s*있어요|"
    r"했어요|왔어요|옵니다|입니당|인데요?|거든요|[.!?~]))+$"
)


@dataclass(frozen=True, slots=True)
class Address:
    """A road-name address, normalised, and its jurisdiction when it is in Gyeonggi."""

    address: str
    jurisdiction_id: str | None

    def as_value(self) -> dict[str, str]:
        """The field's value: ``{"address": ..., "jurisdiction_id": ...}`` (the id only in
        Gyeonggi)."""
        value = {"address": self.address}
        if self.jurisdiction_id:
            value["jurisdiction_id"] = self.jurisdiction_id
        return value


def _strip(text: str) -> str:
    text = re.sub(r"\s+", " ", text).strip()
    text = _TRAIL.sub("", text).strip(" ,")
    return text


def _korean(text: str) -> Address:
    road = _ROAD.search(text)
    if not road:
        raise problem(
            "도로명과 건물 번호가 있는 주소를 알려 주세요. 예: 수원시 팔달구 효원로 1",
            "Please give a road-name address with the road and building number, e.g. "
            "1 Hyowon-ro, Paldal-gu, Suwon.",
            "길 이름과 건물 번호를 같이 말해 주세요. 예: 효원로 1",
        )
    before = re.sub(r"[,()]", " ", text[: road.start()]).split()
    after = text[road.end() :].strip(" ,")
    province: str | None = None
    city: str | None = None
    gyeonggi_city = None
    rest: list[str] = []
    for i, token in enumerate(before):
        nxt = before[i + 1] if i + 1 < len(before) else ""
        if province is None and city is None and token in PROVINCES:
            province = PROVINCES[token]
            continue
        if (
            city is None
            and token in ("광주", "광주시")
            and (province == "광주광역시" or nxt in _GWANGJU_METRO_GU)
        ):
            province = "광주광역시"
            continue
        if city is None and token in _GG_KO and province in (None, GYEONGGI):
            gyeonggi_city = _GG_KO[token]
            city = gyeonggi_city.name_ko
            province = GYEONGGI
            continue
        if city is None and re.fullmatch(r"[가-힣]+(?:시|군)", token) and province != GYEONGGI:
            city = token
            continue
        if province == GYEONGGI and city is None and re.fullmatch(r"[가-힣]+(?:시|군)", token):
            raise problem(
                f"경기도에는 '{token}'이(가) 없어요. 시·군 이름을 확인해 주세요.",
                f"There is no '{token}' in Gyeonggi-do; please check the city or county.",
                "시나 군 이름을 다시 말해 주세요.",
            )
        if re.fullmatch(r"[가-힣]+(?:구|읍|면)", token):
            rest.append(token)
            continue
        # Anything else before the road (a 동 name people add, a word of speech) is dropped.
    if city is None and province is None:
        raise problem(
            "시·군·구를 함께 알려 주세요. 예: 수원시 팔달구 효원로 1",
            "Which city or county? For example 1 Hyowon-ro, Paldal-gu, Suwon-si.",
            "어느 시, 어느 군인지 같이 말해 주세요.",
        )
    if city is None and province not in ("세종특별자치시",) and not rest:
        raise problem(
            "시·군·구를 함께 알려 주세요.",
            "Which city, county or district is it in?",
            "어느 시, 어느 구인지 같이 말해 주세요.",
        )
    number = re.sub(r"\s+", "", road.group("number"))
    road_name = re.sub(r"\s+", "", road.group("road"))
    parts = [p for p in (province, city, *rest, road_name, number) if p]
    address = " ".join(parts)
    detail = _strip(after)
    detail = re.sub(r"^\(?([^()]*)\)?$", r"\1", detail).strip(" ,")
    if detail:
        address += ", " + detail
    return Address(address, gyeonggi_city.id if gyeonggi_city else None)


_UNIT_BEFORE = re.compile(r"(?:(?:apt|apartment|unit|flat|suite|#)\.?\s*[0-9A-Za-z-]+,?\s*)$", re.I)


def _english(text: str, road: re.Match[str]) -> Address:
    # From the building number (or a unit said just before it) on: "Before, I lived at" and
    # the like are speech, not address.
    start = road.start()
    unit = _UNIT_BEFORE.search(text[:start])
    if unit:
        start = unit.start()
    cleaned = _strip(text[start:])
    jurisdiction = None
    for word in re.findall(r"[A-Za-z]+", cleaned):
        j = _GG_EN.get(word.lower())
        if j and not (
            j.id == "gwangju.gg.kr" and re.search(r"metropolitan|gwangsan", cleaned, re.I)
        ):
            jurisdiction = j
            break
    if jurisdiction is None and not re.search(
        r"-si\b|-gun\b|-gu\b|seoul|busan|incheon|daegu|daejeon|ulsan|sejong|gwangju|jeju",
        cleaned,
        re.I,
    ):
        raise problem(
            "시·군·구를 함께 알려 주세요.",
            "Which city or county is it in? For example 825 Jeongjo-ro, Paldal-gu, Suwon-si.",
            "어느 시, 어느 군인지 같이 말해 주세요.",
        )
    return Address(cleaned, jurisdiction.id if jurisdiction else None)


def parse_address(text: str) -> Address:
    """A road-name address from what the citizen said (Korean or English).

    Raises
    ------
    InvalidValue
        When there is no road name with a building number, no city or county, or a city that
        Gyeonggi-do does not have.
    """
    text = re.sub(r"\s+", " ", text).strip()
    text = _LEAD.sub("", text, count=1) if not re.match(r"[0-9]", text) else text
    if not re.search(r"[가-힣]", text):
        road = _ROAD_EN.search(text)
        if road:
            return _english(text, road)
    return _korean(text)


def check(text: str) -> Checked:
    """:func:`parse_address` as a validator: the value ``{"address", "jurisdiction_id"}``."""
    return Checked(parse_address(text).as_value())


def has_road(text: str) -> bool:
    """Whether ``text`` holds a road name with a building number (Korean or English)."""
    return bool(_ROAD.search(text) or _ROAD_EN.search(text))


def city_hint(text: str) -> str | None:
    """The Gyeonggi city or county named in ``text`` when it is no full address ("수원으로"),
    so the next question can ask for the road in that city."""
    if has_road(text):
        return None
    tokens = re.findall(r"[가-힣]+", text)
    for i, token in enumerate(tokens):
        for size in range(len(token), 1, -1):
            j = _GG_KO.get(token[:size])
            if j:
                nxt = tokens[i + 1] if i + 1 < len(tokens) else ""
                district = re.match(r"[가-힣]+구", nxt)
                return f"{j.name_ko} {district.group(0)}" if district else j.name_ko
    for word in re.findall(r"[A-Za-z]+", text):
        j = _GG_EN.get(word.lower())
        if j:
            return j.name_ko
    return None
