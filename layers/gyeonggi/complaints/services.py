"""The Open311 service catalogue: what a complaint can be about and who handles it."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class Service:
    """One Open311 service (``service_code``) and the department responsible for it."""

    code: str
    name_en: str
    name_ko: str
    group: str
    department: str


SERVICES: tuple[Service, ...] = (
    Service(
        "illegal-parking", "Illegal parking", "불법 주정차", "traffic", "traffic-administration"
    ),
    Service("road-damage", "Road damage and potholes", "도로 파손", "roads", "road-management"),
    Service("streetlight", "Streetlight out or damaged", "가로등 고장", "roads", "road-management"),
    Service("noise", "Noise", "소음", "environment", "environmental-policy"),
    Service(
        "odor-air",
        "Odour and air pollution",
        "악취·대기오염",
        "environment",
        "environmental-policy",
    ),
    Service(
        "waste",
        "Waste and illegal dumping",
        "쓰레기·무단투기",
        "environment",
        "resource-circulation",
    ),
    Service("water-sewer", "Water supply and sewers", "상하수도", "utilities", "water-supply"),
    Service(
        "parks-trees", "Parks and street trees", "공원·가로수", "environment", "parks-greenery"
    ),
    Service(
        "illegal-building", "Illegal building work", "불법 건축물", "housing", "building-permits"
    ),
    Service("animal", "Animals (strays, wildlife, pets)", "동물", "environment", "animal-welfare"),
    Service("public-transit", "Buses and public transit", "대중교통", "traffic", "transit-policy"),
    Service("welfare", "Welfare support", "복지 지원", "welfare", "welfare-policy"),
    Service("safety-hazard", "Safety hazard", "안전 위험", "safety", "disaster-safety"),
    Service(
        "certificate-admin",
        "Certificates and civil administration",
        "증명서·민원행정",
        "administration",
        "civil-service",
    ),
    Service("tax", "Local taxes", "지방세", "administration", "tax-administration"),
)

BY_CODE: dict[str, Service] = {s.code: s for s in SERVICES}
