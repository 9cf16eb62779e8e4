"""Proactive notices: what each group of citizens is likely to need next, privacy first.

A *segment* is jurisdiction x age band x gender. From pseudonymized complaints the module finds,
per segment, services that are

- **in season** for that segment (``CALENDAR``: heating support for seniors before winter,
  childcare before the school year...), and/or
- **elevated**: the share of the segment's people who asked for the service is at least
  ``LIFT_THRESHOLD`` times the province's share (the *lift*),

and publishes a notice per segment and service.

Privacy rules (each has a unit test in ``tests/unit/test_proactive_notices.py``)
--------------------------------------------------------------------------------
1. Only complaints whose citizen consented to analytics (``consent_analytics``) and has a
   pseudonym are counted; people are counted by distinct pseudonym, never by complaint.
2. A published segment describes at least ``K`` = 5 distinct people. Segments are a partition
   (each person in exactly one), built by generalisation: if any gender cell of an age band is
   smaller than k, the band's genders are merged (``gender = "all"``); if any merged band of a
   wider band (0-19, 20-39, 40-59, 60+) is still smaller than k, the wider band becomes one
   segment; a wider band below k is suppressed. A service is called elevated only when at
   least k people of the segment asked for it.
3. Notices, log lines and the aggregates carry no personal data and no pseudonym: a notice
   names the segment, the service and the reasons, with no counts.
4. Pseudonyms are keyed HMACs computed inside KMS (``gyeonggi.complaints.privacy``); this module
   only compares them for equality.
"""

from __future__ import annotations

import hashlib
import json
from collections import defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any, Protocol

from gyeonggi.common.aws import AwsClient, DynamoTable, from_dynamo
from gyeonggi.complaints.jurisdictions import JURISDICTIONS
from gyeonggi.complaints.services import BY_CODE as SERVICES

K = 5
LIFT_THRESHOLD = 1.5
MAX_NOTICES_PER_SEGMENT = 3
ALL_GENDERS = "all"

NARROW_BANDS = ("0-19", "20-29", "30-39", "40-49", "50-59", "60-69", "70+", "unknown")
#: The generalisation hierarchy of age bands: narrow band -> the wider band it merges into.
WIDER_BAND: dict[str, str] = {
    "0-19": "0-19",
    "20-29": "20-39",
    "30-39": "20-39",
    "40-49": "40-59",
    "50-59": "40-59",
    "60-69": "60+",
    "70+": "60+",
    "unknown": "unknown",
}
_MEMBERS: dict[str, tuple[str, ...]] = {
    wide: tuple(n for n in NARROW_BANDS if WIDER_BAND[n] == wide)
    for wide in dict.fromkeys(WIDER_BAND.values())
}


@dataclass(frozen=True)
class CalendarEntry:
    """A service a group of citizens typically needs in some months (data, not code)."""

    topic: str
    service_code: str
    months: tuple[int, ...]
    age_bands: tuple[str, ...]  # narrow bands; () = every age
    title_en: str
    title_ko: str


_SENIORS = ("60-69", "70+")
_PARENTS = ("30-39", "40-49")  # age as a stand-in for parents of young children

CALENDAR: tuple[CalendarEntry, ...] = (
    CalendarEntry(
        "heating-support",
        "welfare",
        (10, 11, 12, 1),
        _SENIORS,
        "Winter heating support (energy vouchers) for seniors",
        "어르신 동절기 난방비(에너지바우처) 지원",
    ),
    CalendarEntry(
        "childcare",
        "welfare",
        (1, 2, 3),
        _PARENTS,
        "Childcare and nursery enrolment support for parents of young children",
        "영유아 보육료·어린이집 입소 지원",
    ),
    CalendarEntry(
        "school-enrolment",
        "certificate-admin",
        (1, 2),
        _PARENTS,
        "Certificates for school enrolment, issued online",
        "입학 관련 증명서 온라인 발급",
    ),
    CalendarEntry(
        "frozen-pipes",
        "water-sewer",
        (11, 12, 1),
        (),
        "Preventing frozen water meters and pipes",
        "수도계량기·배관 동파 예방",
    ),
    CalendarEntry(
        "monsoon",
        "water-sewer",
        (6, 7),
        (),
        "Before the monsoon: clearing drains, flood barriers and sandbags",
        "장마철 침수 예방: 빗물받이 정비·차수판·모래주머니",
    ),
    CalendarEntry(
        "heat-wave",
        "safety-hazard",
        (6, 7, 8),
        _SENIORS,
        "Heat-wave shelters and check-in calls for seniors",
        "어르신 폭염 무더위쉼터·안부 확인",
    ),
    CalendarEntry(
        "fine-dust",
        "odor-air",
        (3, 4),
        ("0-19", "70+"),
        "Fine and yellow dust alerts for children and the elderly",
        "어린이·어르신 미세먼지·황사 주의보",
    ),
    CalendarEntry(
        "car-tax",
        "tax",
        (6, 12),
        ("30-39", "40-49", "50-59", "60-69"),
        "Annual car tax due this month (pay online or by app)",
        "자동차세 납부의 달",
    ),
    CalendarEntry(
        "property-tax",
        "tax",
        (7, 9),
        ("40-49", "50-59", "60-69", "70+"),
        "Property tax due this month",
        "재산세 납부의 달",
    ),
    CalendarEntry(
        "rabies-vaccination",
        "animal",
        (4, 10),
        (),
        "Free rabies vaccination for dogs and cats",
        "반려동물 광견병 무료 예방접종",
    ),
)


@dataclass(frozen=True, order=True)
class Segment:
    """A published group: ``age_band`` may be a wider band, ``gender`` may be ``"all"``."""

    jurisdiction_id: str
    age_band: str
    gender: str

    def narrow_bands(self) -> tuple[str, ...]:
        return _MEMBERS.get(self.age_band, (self.age_band,))


#: pseudonym -> the services that person asked for
People = dict[str, set[str]]


def _field(record: Any, name: str) -> Any:
    return record.get(name) if isinstance(record, Mapping) else getattr(record, name, None)


def consenting_people(
    records: Iterable[Any], since: datetime | None = None, until: datetime | None = None
) -> dict[tuple[str, str, str], People]:
    """Group consenting citizens by (jurisdiction, narrow age band, gender).

    ``records`` are stored complaints (``Complaint`` models or their dicts). A record counts only
    when its citizen consented to analytics and has a pseudonym (rule 1).
    """
    cells: dict[tuple[str, str, str], People] = defaultdict(lambda: defaultdict(set))
    for record in records:
        citizen = _field(record, "citizen")
        if citizen is None:
            continue
        if _field(citizen, "consent_analytics") is not True:
            continue
        pseudonym = _field(citizen, "pseudonym")
        if not pseudonym:
            continue
        when = _field(record, "requested_datetime")
        if isinstance(when, str):
            when = datetime.fromisoformat(when.replace("Z", "+00:00"))
        if since is not None and when is not None and when < since:
            continue
        if until is not None and when is not None and when >= until:
            continue
        band = str(_field(citizen, "age_band") or "unknown")
        gender = str(_field(citizen, "gender") or "undisclosed")
        key = (str(_field(record, "jurisdiction_id")), band, gender)
        cells[key][str(pseudonym)].add(str(_field(record, "service_code")))
    return cells


def _union(groups: Iterable[People]) -> People:
    out: People = defaultdict(set)
    for group in groups:
        for pseudonym, services in group.items():
            out[pseudonym] |= services
    return out


def k_anonymous_segments(
    cells: Mapping[tuple[str, str, str], People], k: int = K
) -> tuple[dict[Segment, People], int]:
    """Generalise cells into a partition of segments of at least ``k`` people (rule 2).

    Returns
    -------
    (segments, suppressed)
        The published segments with their people, and how many people were suppressed.
    """
    by_place: dict[str, dict[str, dict[str, People]]] = defaultdict(lambda: defaultdict(dict))
    for (jid, band, gender), people in cells.items():
        by_place[jid][band if band in WIDER_BAND else "unknown"][gender] = people

    segments: dict[Segment, People] = {}
    suppressed = 0
    for jid, bands in sorted(by_place.items()):
        for wide, members in _MEMBERS.items():
            present = [b for b in members if b in bands]
            if not present:
                continue
            # Step 1: per narrow band, genders stay apart only if every gender cell reaches k.
            split: dict[str, dict[str, People]] = {}
            merged: dict[str, People] = {}
            for band in present:
                genders = bands[band]
                if all(len(p) >= k for p in genders.values()):
                    split[band] = genders
                else:
                    merged[band] = _union(genders.values())
            # Step 2: a merged band still below k widens its whole wider band into one segment.
            if any(len(p) < k for p in merged.values()):
                everyone = _union(g for band in present for g in bands[band].values())
                if len(everyone) >= k:
                    segments[Segment(jid, wide, ALL_GENDERS)] = everyone
                else:
                    suppressed += len(everyone)  # step 3: suppress
                continue
            for band, genders in split.items():
                for gender, people in genders.items():
                    segments[Segment(jid, band, gender)] = people
            for band, people in merged.items():
                segments[Segment(jid, band, ALL_GENDERS)] = people
    return segments, suppressed


@dataclass(frozen=True)
class Notice:
    """One notice for one segment and service; no counts, no pseudonyms, no personal data."""

    segment: Segment
    service_code: str
    month: str  # YYYY-MM the notice is for
    reasons: tuple[str, ...]  # "season:<topic>", "elevated"
    title_en: str
    title_ko: str

    @property
    def notice_id(self) -> str:
        raw = f"{self.segment}|{self.service_code}|{self.month}".encode()
        return "notice-" + hashlib.sha256(raw).hexdigest()[:16]

    def body(self) -> dict[str, Any]:
        service = SERVICES.get(self.service_code)
        return {
            "type": "ProactiveNotice",
            "version": 1,
            "notice_id": self.notice_id,
            "month": self.month,
            "segment": {
                "jurisdiction_id": self.segment.jurisdiction_id,
                "age_band": self.segment.age_band,
                "gender": self.segment.gender,
            },
            "service_code": self.service_code,
            "department": service.department if service else None,
            "reasons": list(self.reasons),
            "title_en": self.title_en,
            "title_ko": self.title_ko,
        }


def lifts(segments: Mapping[Segment, People], k: int = K) -> dict[Segment, dict[str, float]]:
    """Per segment, the lift of every service at least ``k`` of its people asked for."""
    everyone = _union(segments.values())
    if not everyone:
        return {}
    province: dict[str, int] = defaultdict(int)
    for services in everyone.values():
        for code in services:
            province[code] += 1
    out: dict[Segment, dict[str, float]] = {}
    for segment, people in segments.items():
        here: dict[str, int] = defaultdict(int)
        for services in people.values():
            for code in services:
                here[code] += 1
        out[segment] = {
            code: (n / len(people)) / (province[code] / len(everyone))
            for code, n in here.items()
            if n >= k
        }
    return out


def plan_notices(segments: Mapping[Segment, People], month: date, k: int = K) -> list[Notice]:
    """The notices of ``month``: calendar entries in season, plus elevated services."""
    segment_lifts = lifts(segments, k)
    label = f"{month.year:04d}-{month.month:02d}"
    notices = []
    for segment in sorted(segments):
        bands = set(segment.narrow_bands())
        reasons: dict[str, list[str]] = defaultdict(list)
        titles: dict[str, tuple[str, str]] = {}
        for entry in CALENDAR:
            if month.month in entry.months and (
                not entry.age_bands or bands & set(entry.age_bands)
            ):
                reasons[entry.service_code].append(f"season:{entry.topic}")
                titles.setdefault(entry.service_code, (entry.title_en, entry.title_ko))
        elevated = segment_lifts.get(segment, {})
        for code, lift in elevated.items():
            if lift >= LIFT_THRESHOLD:
                reasons[code].append("elevated")
                if code not in titles and code in SERVICES:
                    s = SERVICES[code]
                    titles[code] = (
                        f"{s.name_en}: help and how to ask for it",
                        f"{s.name_ko}: 지원 및 신청 안내",
                    )
        # In season and elevated first, then by lift, so the likeliest needs come first.
        ranked = sorted(
            reasons,
            key=lambda c: (-len(reasons[c]), -elevated.get(c, 0.0), c),
        )[:MAX_NOTICES_PER_SEGMENT]
        for code in ranked:
            en, ko = titles[code]
            notices.append(Notice(segment, code, label, tuple(reasons[code]), en, ko))
    return notices


# ------------------------------------------------------------------ AWS


class ComplaintRecords(Protocol):
    """Where a run reads complaints from: :class:`ComplaintSource` (the complaints table) or
    the Data Dam (``gyeonggi.datadam.aggregates.DataDamComplaints``). Records are what
    :func:`consenting_people` reads."""

    def records(self, since: datetime, until: datetime) -> list[dict[str, Any]]:
        """Complaints requested in ``[since, until)``."""
        ...


class ComplaintSource(DynamoTable):
    """Reads only the analytic fields of complaints, never their text or location."""

    def records(self, since: datetime, until: datetime) -> list[dict[str, Any]]:
        """Complaints of every jurisdiction requested in ``[since, until)``."""
        out: list[dict[str, Any]] = []
        for jurisdiction in JURISDICTIONS:
            args: dict[str, Any] = {
                "IndexName": "by-jurisdiction",
                "KeyConditionExpression": "jurisdiction_id = :j",
                "ExpressionAttributeValues": {":j": jurisdiction.id},
                "ProjectionExpression": "jurisdiction_id, service_code, requested_datetime, "
                "citizen",
            }
            while True:
                page = self.table.query(**args)
                out.extend(from_dynamo(item) for item in page.get("Items", []))
                if "LastEvaluatedKey" not in page:
                    break
                args["ExclusiveStartKey"] = page["LastEvaluatedKey"]
        return [r for r in out if _in_window(r.get("requested_datetime"), since, until)]


def _in_window(value: Any, since: datetime, until: datetime) -> bool:
    try:
        when = datetime.fromisoformat(str(value).replace("Z", "+00:00"))
    except ValueError:
        return False
    return since <= when < until


class NoticePublisher:
    """Publishes notices to ``ProactiveNoticesTopic`` with segment attributes for filtering."""

    sns = AwsClient("sns")

    def __init__(self, topic_arn: str, sns: Any | None = None) -> None:
        self.topic_arn = topic_arn
        if sns is not None:
            self.sns = sns

    def publish(self, notice: Notice) -> None:
        def attr(value: str) -> dict[str, str]:
            return {"DataType": "String", "StringValue": value}

        self.sns.publish(
            TopicArn=self.topic_arn,
            Message=json.dumps(notice.body(), ensure_ascii=False),
            MessageAttributes={
                "jurisdiction_id": attr(notice.segment.jurisdiction_id),
                "age_band": attr(notice.segment.age_band),
                "gender": attr(notice.segment.gender),
                "service_code": attr(notice.service_code),
            },
        )


@dataclass
class NoticeRun:
    """Aggregate figures of one run: safe to log (no person, no pseudonym)."""

    month: str
    segments: int
    notices: int
    people_suppressed: int


def run_notices(
    records: Iterable[Any],
    month: date,
    publisher: NoticePublisher,
    *,
    since: datetime | None = None,
    until: datetime | None = None,
    k: int = K,
) -> NoticeRun:
    """Segment the consenting citizens, plan the month's notices and publish them."""
    segments, suppressed = k_anonymous_segments(consenting_people(records, since, until), k)
    notices = plan_notices(segments, month, k)
    for notice in notices:
        publisher.publish(notice)
    return NoticeRun(
        month=f"{month.year:04d}-{month.month:02d}",
        segments=len(segments),
        notices=len(notices),
        people_suppressed=suppressed,
    )
