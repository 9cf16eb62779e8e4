"""The Open311 service catalogue: what a complaint can be about and who handles it.

Each service carries its names (English and Korean), a group, keywords for search and
classification, a description, the responsible department and, where a few structured answers
help the department act, a *service definition*: GeoReport v2 attributes with datatypes.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Literal

from gyeonggi.common.errors import InvalidInput
from gyeonggi.common.numbers import decimal_number
from gyeonggi.common.text import check_text, has_visible

Datatype = Literal["string", "number", "datetime", "text", "singlevaluelist", "multivaluelist"]
Locale = Literal["en", "ko"]

_MAX_STRING = 500
_MAX_TEXT = 4000


@dataclass(frozen=True, slots=True)
class Choice:
    """One allowed value of a list attribute: the ``key`` sent, the ``name`` shown."""

    key: str
    name_en: str
    name_ko: str

    def name(self, locale: Locale = "en") -> str:
        """The name in ``locale``."""
        return self.name_ko if locale == "ko" else self.name_en


@dataclass(frozen=True, slots=True)
class Attribute:
    """One question of a service definition (GeoReport v2 ``attribute``)."""

    code: str
    datatype: Datatype
    description_en: str
    description_ko: str
    required: bool = False
    order: int = 1
    values: tuple[Choice, ...] = ()
    # ``variable`` false would mark an informational attribute (no answer expected).
    variable: bool = True

    def description(self, locale: Locale = "en") -> str:
        """The question in ``locale``."""
        return self.description_ko if locale == "ko" else self.description_en

    @property
    def datatype_description(self) -> str | None:
        """What a value of this datatype looks like, for the client's form (spec field)."""
        return _DATATYPE_HINTS.get(self.datatype)

    @property
    def keys(self) -> frozenset[str]:
        """The keys a list attribute accepts."""
        return frozenset(v.key for v in self.values)

    def check(self, value: str | list[str]) -> None:
        """Raise ``InvalidInput`` naming ``attribute[code]`` unless ``value`` fits.

        Parameters
        ----------
        value
            One string, or a list when the form repeated the field (a multivaluelist).
        """
        name = f"attribute[{self.code}]"
        values = value if isinstance(value, list) else [value]
        if self.datatype != "multivaluelist" and len(values) != 1:
            raise InvalidInput(f"{name}: must be given once", field=name)
        # Zero-width or filler characters alone are as blank as spaces.
        if self.required and not any(has_visible(v) for v in values):
            raise InvalidInput(f"{name}: is required", field=name)
        for item in values:
            _check_one(self, name, item)


def _check_one(attribute: Attribute, name: str, item: str) -> None:
    kind = attribute.datatype
    if kind in ("singlevaluelist", "multivaluelist"):
        if item not in attribute.keys:
            allowed = ", ".join(v.key for v in attribute.values)
            raise InvalidInput(f"{name}: {item!r} is not one of {allowed}", field=name)
    elif kind == "number":
        decimal_number(item, name)
    elif kind == "datetime":
        try:
            moment = datetime.fromisoformat(item)
        except ValueError:
            raise InvalidInput(f"{name}: must be an ISO 8601 date and time", field=name) from None
        if moment.tzinfo is None:
            raise InvalidInput(f"{name}: needs a time zone (e.g. +09:00)", field=name)
    elif kind in ("string", "text"):
        longest = _MAX_STRING if kind == "string" else _MAX_TEXT
        if len(item) > longest:
            raise InvalidInput(f"{name}: must be at most {longest} characters", field=name)
        # An optional answer may be left empty; one given must be readable text.
        if item:
            try:
                check_text(item, multiline=kind == "text")
            except ValueError as exc:
                raise InvalidInput(f"{name}: {exc}", field=name) from None


_DATATYPE_HINTS: dict[str, str] = {
    "number": "A number, e.g. 30 or 2.5",
    "datetime": "ISO 8601 with a time zone, e.g. 2026-11-24T22:30:00+09:00",
    "string": f"Up to {_MAX_STRING} characters",
    "text": f"Up to {_MAX_TEXT} characters",
    "singlevaluelist": "One of the keys listed",
    "multivaluelist": "One or more of the keys listed (repeat the field)",
}


@dataclass(frozen=True, slots=True)
class Service:
    """One Open311 service (``service_code``) and the department responsible for it."""

    code: str
    name_en: str
    name_ko: str
    group: str
    department: str
    keywords_en: tuple[str, ...] = ()
    keywords_ko: tuple[str, ...] = ()
    description_en: str = ""
    description_ko: str = ""
    attributes: tuple[Attribute, ...] = field(default=())

    @property
    def metadata(self) -> bool:
        """Whether the service has a definition worth fetching (spec: ``metadata``)."""
        return bool(self.attributes)

    def name(self, locale: Locale = "en") -> str:
        """The service name in ``locale``."""
        return self.name_ko if locale == "ko" else self.name_en

    def description(self, locale: Locale = "en") -> str:
        """The description in ``locale``."""
        return self.description_ko if locale == "ko" else self.description_en

    def keywords(self, locale: Locale = "en") -> tuple[str, ...]:
        """Search keywords in ``locale``."""
        return self.keywords_ko if locale == "ko" else self.keywords_en

    def validate_attributes(self, answers: Mapping[str, str | list[str]]) -> None:
        """Check a submission's ``attributes`` against this service's definition.

        Raises
        ------
        InvalidInput
            Naming ``attribute[<code>]``: an unknown code, a missing required answer, a value
            of the wrong datatype or a key the list does not offer.
        """
        known = {a.code: a for a in self.attributes}
        for code, value in answers.items():
            attribute = known.get(code)
            if attribute is None:
                name = f"attribute[{code}]"
                offered = ", ".join(known) or "none"
                raise InvalidInput(
                    f"{name}: is not an attribute of service {self.code} (it has: {offered})",
                    field=name,
                )
            attribute.check(value)
        for attribute in self.attributes:
            if attribute.required and attribute.code not in answers:
                name = f"attribute[{attribute.code}]"
                raise InvalidInput(f"{name}: is required for {self.code}", field=name)


def _yes_no() -> tuple[Choice, ...]:
    return (Choice("yes", "Yes", "예"), Choice("no", "No", "아니요"))


_TIME_OF_DAY = (
    Choice("morning", "Morning (06-12)", "오전 (06-12시)"),
    Choice("afternoon", "Afternoon (12-18)", "오후 (12-18시)"),
    Choice("evening", "Evening (18-22)", "저녁 (18-22시)"),
    Choice("night", "Night (22-06)", "심야 (22-06시)"),
)

SERVICES: tuple[Service, ...] = (
    Service(
        "illegal-parking",
        "Illegal parking",
        "불법 주정차",
        "traffic",
        "traffic-administration",
        keywords_en=("parking", "car", "blocking", "fire lane", "crosswalk"),
        keywords_ko=("주차", "불법주차", "주정차", "소화전", "횡단보도"),
        description_en="A vehicle parked where it blocks traffic, a fire lane or a crossing.",
        description_ko="소화전·횡단보도·도로를 막는 불법 주정차 차량 신고",
        attributes=(
            Attribute(
                "vehicle_plate",
                "string",
                "Vehicle plate number, e.g. 12가3456",
                "차량 번호 (예: 12가3456)",
                required=True,
                order=1,
            ),
            Attribute(
                "duration_minutes",
                "number",
                "How long has it been parked (minutes)?",
                "주차된 시간 (분)",
                order=2,
            ),
            Attribute(
                "blocking",
                "singlevaluelist",
                "What does it block?",
                "무엇을 막고 있나요?",
                order=3,
                values=(
                    Choice("fire-hydrant", "Fire hydrant", "소화전"),
                    Choice("crosswalk", "Crosswalk", "횡단보도"),
                    Choice("bus-stop", "Bus stop", "버스정류장"),
                    Choice("driveway", "Driveway", "차량 출입구"),
                    Choice("other", "Other", "기타"),
                ),
            ),
        ),
    ),
    Service(
        "road-damage",
        "Road damage and potholes",
        "도로 파손",
        "roads",
        "road-management",
        keywords_en=("pothole", "road", "asphalt", "crack", "sinkhole"),
        keywords_ko=("포트홀", "도로", "파손", "균열", "싱크홀"),
        description_en="Potholes, cracks, sunken or broken road surface and pavements.",
        description_ko="포트홀, 균열, 침하 등 도로·보도 파손",
        attributes=(
            Attribute(
                "pothole_size",
                "singlevaluelist",
                "How big is the damage?",
                "파손 크기는 어느 정도인가요?",
                order=1,
                values=(
                    Choice("small", "Smaller than a hand", "손바닥보다 작음"),
                    Choice("medium", "Up to a car wheel", "자동차 바퀴 정도"),
                    Choice("large", "Larger than a car wheel", "자동차 바퀴보다 큼"),
                ),
            ),
            Attribute(
                "lane_blocked",
                "singlevaluelist",
                "Is a lane blocked?",
                "차로가 막혔나요?",
                order=2,
                values=_yes_no(),
            ),
        ),
    ),
    Service(
        "streetlight",
        "Streetlight out or damaged",
        "가로등 고장",
        "roads",
        "road-management",
        keywords_en=("streetlight", "lamp", "light out", "dark"),
        keywords_ko=("가로등", "보안등", "불 꺼짐", "어두움"),
        description_en="A streetlight or security light that is out, flickering or damaged.",
        description_ko="꺼지거나 깜박이거나 파손된 가로등·보안등",
        attributes=(
            Attribute(
                "pole_number",
                "string",
                "Number on the pole, if visible",
                "전주 번호 (보이는 경우)",
                order=1,
            ),
        ),
    ),
    Service(
        "noise",
        "Noise",
        "소음",
        "environment",
        "environmental-policy",
        keywords_en=("noise", "loud", "construction", "music", "night"),
        keywords_ko=("소음", "시끄러움", "공사", "층간소음", "확성기"),
        description_en="Construction, business, traffic or neighbourhood noise.",
        description_ko="공사장·사업장·교통·생활 소음",
        attributes=(
            Attribute(
                "time_of_day",
                "singlevaluelist",
                "When does it happen?",
                "언제 발생하나요?",
                order=1,
                values=_TIME_OF_DAY,
            ),
            Attribute(
                "recurring",
                "singlevaluelist",
                "Does it happen regularly?",
                "반복적으로 발생하나요?",
                order=2,
                values=_yes_no(),
            ),
            Attribute(
                "started_at",
                "datetime",
                "When did it start?",
                "언제 시작되었나요?",
                order=3,
            ),
        ),
    ),
    Service(
        "odor-air",
        "Odour and air pollution",
        "악취·대기오염",
        "environment",
        "environmental-policy",
        keywords_en=("smell", "odour", "smoke", "dust", "air"),
        keywords_ko=("악취", "냄새", "매연", "먼지", "대기오염"),
        description_en="Bad smells, smoke, dust or other air pollution.",
        description_ko="악취, 매연, 비산먼지 등 대기오염",
    ),
    Service(
        "waste",
        "Waste and illegal dumping",
        "쓰레기·무단투기",
        "environment",
        "resource-circulation",
        keywords_en=("rubbish", "garbage", "dumping", "bulky waste", "recycling"),
        keywords_ko=("쓰레기", "무단투기", "대형폐기물", "분리수거", "수거"),
        description_en="Uncollected rubbish, illegal dumping and bulky waste.",
        description_ko="미수거 쓰레기, 무단투기, 대형 폐기물",
        attributes=(
            Attribute(
                "waste_type",
                "multivaluelist",
                "What kind of waste?",
                "어떤 종류의 쓰레기인가요?",
                order=1,
                values=(
                    Choice("household", "Household rubbish", "생활 쓰레기"),
                    Choice("furniture", "Furniture", "가구"),
                    Choice("appliances", "Appliances", "가전제품"),
                    Choice("construction", "Construction debris", "건설 폐기물"),
                    Choice("hazardous", "Hazardous (batteries, chemicals)", "유해 폐기물"),
                ),
            ),
        ),
    ),
    Service(
        "water-sewer",
        "Water supply and sewers",
        "상하수도",
        "utilities",
        "water-supply",
        keywords_en=("water", "leak", "sewer", "drain", "flood"),
        keywords_ko=("수도", "누수", "하수구", "배수", "침수"),
        description_en="Water leaks, no water, blocked drains and sewer smells.",
        description_ko="누수, 단수, 하수구 막힘, 하수 악취",
    ),
    Service(
        "parks-trees",
        "Parks and street trees",
        "공원·가로수",
        "environment",
        "parks-greenery",
        keywords_en=("park", "tree", "branch", "playground", "bench"),
        keywords_ko=("공원", "가로수", "나뭇가지", "놀이터", "벤치"),
        description_en="Fallen trees or branches, damaged park facilities and playgrounds.",
        description_ko="쓰러진 나무·가지, 공원 시설·놀이터 파손",
    ),
    Service(
        "illegal-building",
        "Illegal building work",
        "불법 건축물",
        "housing",
        "building-permits",
        keywords_en=("illegal building", "extension", "construction", "permit"),
        keywords_ko=("불법건축물", "불법 증축", "무허가", "건축"),
        description_en="Building work without a permit, illegal extensions or change of use.",
        description_ko="무허가 건축, 불법 증축·용도 변경",
    ),
    Service(
        "animal",
        "Animals (strays, wildlife, pets)",
        "동물",
        "environment",
        "animal-welfare",
        keywords_en=("dog", "cat", "stray", "wildlife", "injured animal"),
        keywords_ko=("유기견", "길고양이", "야생동물", "로드킬", "동물"),
        description_en="Stray, injured or dead animals, wildlife and pet-related problems.",
        description_ko="유기·부상·폐사 동물, 야생동물, 반려동물 관련 민원",
        attributes=(
            Attribute(
                "animal_kind",
                "singlevaluelist",
                "What animal?",
                "어떤 동물인가요?",
                required=True,
                order=1,
                values=(
                    Choice("dog", "Dog", "개"),
                    Choice("cat", "Cat", "고양이"),
                    Choice("wild-boar", "Wild boar", "멧돼지"),
                    Choice("bird", "Bird", "조류"),
                    Choice("other", "Other", "기타"),
                ),
            ),
            Attribute(
                "injured",
                "singlevaluelist",
                "Is the animal injured?",
                "동물이 다쳤나요?",
                order=2,
                values=_yes_no(),
            ),
        ),
    ),
    Service(
        "public-transit",
        "Buses and public transit",
        "대중교통",
        "traffic",
        "transit-policy",
        keywords_en=("bus", "bus stop", "late", "driver", "route"),
        keywords_ko=("버스", "정류장", "배차", "기사", "노선"),
        description_en="Bus service, stops, drivers and routes.",
        description_ko="버스 운행, 정류장, 운전기사, 노선",
        attributes=(
            Attribute(
                "route_number",
                "string",
                "Bus route number",
                "버스 노선 번호",
                order=1,
            ),
        ),
    ),
    Service(
        "welfare",
        "Welfare support",
        "복지 지원",
        "welfare",
        "welfare-policy",
        keywords_en=("welfare", "heating", "elderly", "childcare", "benefit"),
        keywords_ko=("복지", "난방비", "어르신", "보육", "지원금"),
        description_en="Help for residents in need: heating, care, childcare, benefits.",
        description_ko="난방·돌봄·보육·수당 등 복지 지원 요청",
    ),
    Service(
        "safety-hazard",
        "Safety hazard",
        "안전 위험",
        "safety",
        "disaster-safety",
        keywords_en=("danger", "gas", "collapse", "fire risk", "falling"),
        keywords_ko=("위험", "가스", "붕괴", "화재 위험", "낙하물"),
        description_en="Anything that could hurt people: gas smell, collapse risk, fire risk.",
        description_ko="가스 냄새, 붕괴·화재 위험 등 사람이 다칠 수 있는 위험",
        attributes=(
            Attribute(
                "immediate_danger",
                "singlevaluelist",
                "Is anyone in immediate danger? (call 119 first)",
                "지금 사람이 위험한가요? (먼저 119에 신고하세요)",
                required=True,
                order=1,
                values=_yes_no(),
            ),
        ),
    ),
    Service(
        "certificate-admin",
        "Certificates and civil administration",
        "증명서·민원행정",
        "administration",
        "civil-service",
        keywords_en=("certificate", "document", "registration", "office"),
        keywords_ko=("증명서", "서류", "등본", "민원실"),
        description_en="Certificates, registrations and other civil-service desks.",
        description_ko="증명서 발급, 등록 등 민원 행정",
    ),
    Service(
        "tax",
        "Local taxes",
        "지방세",
        "administration",
        "tax-administration",
        keywords_en=("tax", "property tax", "car tax", "payment"),
        keywords_ko=("지방세", "재산세", "자동차세", "납부"),
        description_en="Local taxes: property, vehicle and resident taxes.",
        description_ko="재산세·자동차세·주민세 등 지방세",
    ),
)

BY_CODE: dict[str, Service] = {s.code: s for s in SERVICES}
