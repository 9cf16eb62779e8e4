"""The catalogue of the Data Dam: every dataset, its schema, owner, licence and privacy policy.

One :class:`Dataset` per Iceberg table in the Glue database :data:`NAMESPACE`. The lake writer
creates each table from its columns, partitioned by ``day(day_column)`` and
``identity(jurisdiction_column)``; the query side serves the same objects as DCAT. Pure
dataclasses: nothing here imports pyarrow, pyiceberg or boto3, so a request path may read it.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from types import MappingProxyType
from typing import Literal

from gyeonggi.common.errors import NotFound
from gyeonggi.common.privacy import PERSONAL_FIELDS
from gyeonggi.datadam.privacy import (
    PrivacyRule,
    drop,
    grid,
    pseudonymise,
    to_age_band,
    to_jurisdiction,
)

NAMESPACE = "gyeonggi_datadam"

ColumnType = Literal["string", "long", "double", "boolean", "date", "timestamp"]
COLUMN_TYPES: tuple[str, ...] = ("string", "long", "double", "boolean", "date", "timestamp")

KOGL_1 = "KOGL Type 1 (공공누리 제1유형: 출처표시)"
INTERNAL = "internal"


@dataclass(frozen=True)
class Column:
    """One column; ``timestamp`` is UTC microseconds (Iceberg ``timestamptz``)."""

    name: str
    type: str
    description_ko: str
    description_en: str
    required: bool = False


@dataclass(frozen=True)
class Dataset:
    """One table of the lake and what the catalogue says about it."""

    id: str
    title_ko: str
    title_en: str
    description_ko: str
    description_en: str
    owner: str
    source: str
    columns: tuple[Column, ...]
    day_column: str
    jurisdiction_column: str | None
    key_columns: tuple[str, ...]
    privacy: tuple[PrivacyRule, ...]
    licence: str
    open: bool
    open_dimensions: tuple[str, ...] = ()

    @property
    def table(self) -> str:
        """The Iceberg identifier, ``namespace.table``."""
        return f"{NAMESPACE}.{self.id}"

    @property
    def column_names(self) -> tuple[str, ...]:
        """The columns' names in order."""
        return tuple(c.name for c in self.columns)

    def column(self, name: str) -> Column:
        """The column called ``name`` (``KeyError`` when there is none)."""
        for c in self.columns:
            if c.name == name:
                return c
        raise KeyError(name)

    def __post_init__(self) -> None:
        names = self.column_names
        problems = []
        if len(set(names)) != len(names):
            problems.append("duplicate column names")
        for c in self.columns:
            if c.type not in COLUMN_TYPES:
                problems.append(f"{c.name} has type {c.type!r}")
            if c.name in PERSONAL_FIELDS:
                problems.append(f"{c.name} is a personal field and may not be a column")
        if self.day_column not in names or self.column(self.day_column).type not in (
            "date",
            "timestamp",
        ):
            problems.append(f"day column {self.day_column!r} is not a date or timestamp column")
        wanted = (self.day_column, *self.key_columns, *self.open_dimensions)
        if self.jurisdiction_column:
            wanted += (self.jurisdiction_column,)
        problems += [f"{n!r} is not a column" for n in wanted if n not in names]
        problems += [
            f"key column {k!r} is optional"
            for k in self.key_columns
            if k in names and not self.column(k).required
        ]
        if self.day_column in names and not self.column(self.day_column).required:
            problems.append("the day column is optional")
        for rule in self.privacy:
            if rule.into is not None and rule.into not in names:
                problems.append(f"privacy rule writes {rule.into!r}, which is not a column")
            if rule.action == "grid" and rule.field not in names:
                problems.append(f"privacy rule rounds {rule.field!r}, which is not a column")
            if rule.action != "grid" and rule.field in names:
                problems.append(f"privacy rule removes {rule.field!r}, which is a column")
        if problems:
            raise ValueError(f"dataset {self.id}: " + "; ".join(problems))


class UnknownDataset(NotFound):
    """A dataset id that is not in the catalogue."""

    code = "unknown_dataset"

    def __init__(self, dataset_id: str) -> None:
        known = ", ".join(sorted(CATALOGUE))
        super().__init__(f"no dataset {dataset_id!r} in the Data Dam (there are: {known})")
        self.dataset_id = dataset_id


def _c(name: str, type_: ColumnType, ko: str, en: str, required: bool = False) -> Column:
    return Column(name, type_, ko, en, required)


# Columns several datasets share, described once.
_DAY = _c(
    "day", "date", "날짜(한국 표준시 기준 발생일)", "Day it happened (Korea Standard Time)", True
)
_JURISDICTION = _c(
    "jurisdiction_id",
    "string",
    "시·군 식별자(예: suwon.gg.kr)",
    "City or county id (e.g. suwon.gg.kr)",
    True,
)
_JURISDICTION_OPT = _c(
    "jurisdiction_id",
    "string",
    "시·군 식별자(알 수 없으면 비어 있음)",
    "City or county id (empty when unknown)",
)
_AGE_BAND = _c(
    "age_band", "string", "10세 단위 연령대", "Ten-year age band (0-19 ... 70+, unknown)"
)
_GENDER = _c(
    "gender",
    "string",
    "성별(female, male, other, undisclosed)",
    "Gender (female, male, other, undisclosed)",
)
_COMPLEX = _c("complex_id", "string", "산업단지 식별자", "Industrial complex id", True)

_CONTACT_DROPS = tuple(
    drop(f, "contact details stay in the restricted store", "연락처는 제한 저장소에만 보관")
    for f in ("email", "phone", "first_name", "last_name", "device_id", "account_id")
)
_FREE_TEXT = drop(
    "description",
    "free text may name or reach a person; it stays in the operational store",
    "자유 서술은 개인을 식별할 수 있어 운영 저장소에만 보관",
)
_ADDRESS = to_jurisdiction("address_string")
_LOCATION = (grid("lat"), grid("long"))

PETITIONS = "경기도 민원담당관 / Civil Petitions Office"
SAFETY = "경기도 사회재난과 / Social Disaster Division"
DIGITAL = "경기도 디지털정부과 / Digital Government Division"
DATA = "경기도 데이터정책과 / Data Policy Division"
WELFARE = "경기도 복지정책과 / Welfare Policy Division"

_DATASETS: tuple[Dataset, ...] = (
    Dataset(
        id="complaints",
        title_ko="민원 접수",
        title_en="Civil complaints received",
        description_ko=(
            "접수된 민원(Open311): 서비스, 시·군, 경로, 가명 처리된 민원인 분류. "
            "연락처와 본문 없음."
        ),
        description_en=(
            "Complaints as received (Open311): service, city or county, channel and the "
            "pseudonymised citizen segment. No contact details, no free text."
        ),
        owner=PETITIONS,
        source="complaint intake (ComplaintStored on the complaint events topic)",
        columns=(
            _c("service_request_id", "string", "민원 접수 번호", "Service request id", True),
            _c("service_code", "string", "Open311 서비스 코드", "Open311 service code", True),
            _c("category", "string", "서비스 분류(그룹)", "Service group", True),
            _c("agency_responsible", "string", "담당 부서", "Department responsible"),
            _JURISDICTION,
            _c("status", "string", "접수 시 상태(open)", "Status when received (open)", True),
            _c("channel", "string", "접수 경로(open311, api)", "Channel (open311, api)", True),
            _c("requested_at", "timestamp", "접수 시각(UTC)", "Time received (UTC)", True),
            _DAY,
            _c("lat", "double", "위도(약 1 km 격자)", "Latitude, on a grid of about 1 km"),
            _c("long", "double", "경도(약 1 km 격자)", "Longitude, on a grid of about 1 km"),
            _c(
                "citizen_pseudonym",
                "string",
                "민원인 가명(KMS HMAC)",
                "Citizen pseudonym (KMS HMAC)",
            ),
            _AGE_BAND,
            _GENDER,
            _c("consent_analytics", "boolean", "분석 동의 여부", "Consented to analytics"),
        ),
        day_column="day",
        jurisdiction_column="jurisdiction_id",
        key_columns=("service_request_id",),
        privacy=(
            *_CONTACT_DROPS,
            _FREE_TEXT,
            _ADDRESS,
            *_LOCATION,
            drop("media_url", "a photo may show a person", "사진에 사람이 찍힐 수 있음"),
            drop("attributes", "answers are free text", "답변은 자유 서술임"),
        ),
        licence=KOGL_1,
        open=True,
        open_dimensions=("day", "jurisdiction_id", "category", "service_code", "channel"),
    ),
    Dataset(
        id="complaint_routing",
        title_ko="민원 분류·배정",
        title_en="Complaint routing and cases",
        description_ko="민원 분류 결과(서비스, 부서, 긴급도), 중복 여부와 사건(case) 묶음.",
        description_en=(
            "How each complaint was classified (service, department, urgency), whether it "
            "duplicated another, and the case it joined."
        ),
        owner=PETITIONS,
        source="complaint triage (ComplaintRouted on the complaint events topic)",
        columns=(
            _c("service_request_id", "string", "민원 접수 번호", "Service request id", True),
            _c("routed_at", "timestamp", "분류 시각(UTC)", "Time routed (UTC)", True),
            _DAY,
            _JURISDICTION,
            _c("service_code", "string", "분류된 서비스 코드", "Service code classified", True),
            _c("category", "string", "서비스 분류(그룹)", "Service group"),
            _c("department", "string", "배정 부서", "Department routed to"),
            _c("urgency", "string", "긴급도", "Urgency"),
            _c("flagged", "boolean", "검토 표시", "Flagged for review"),
            _c("duplicate", "boolean", "기존 사건과 중복", "Duplicate of an open case"),
            _c("case_id", "string", "사건 번호", "Case id"),
            _c("confidence", "double", "분류 신뢰도", "Classifier confidence"),
        ),
        day_column="day",
        jurisdiction_column="jurisdiction_id",
        key_columns=("service_request_id",),
        privacy=(_FREE_TEXT, _ADDRESS, *(drop(f) for f in ("lat", "long"))),
        licence=INTERNAL,
        open=False,
    ),
    Dataset(
        id="complaint_daily_counts",
        title_ko="일별 민원 건수",
        title_en="Daily complaint counts",
        description_ko="마감된 날의 시·군·서비스별 민원 건수.",
        description_en="Complaints per day, city or county and service, for days that are over.",
        owner=PETITIONS,
        source="complaint volumes (the daily run, ComplaintDayCounted)",
        columns=(
            _DAY,
            _JURISDICTION,
            _c("category", "string", "서비스 분류(그룹)", "Service group", True),
            _c("service_code", "string", "Open311 서비스 코드", "Open311 service code", True),
            _c("count", "long", "건수", "Complaints", True),
        ),
        day_column="day",
        jurisdiction_column="jurisdiction_id",
        key_columns=("day", "jurisdiction_id", "service_code"),
        privacy=(),
        licence=KOGL_1,
        open=True,
        open_dimensions=("day", "jurisdiction_id", "category", "service_code"),
    ),
    Dataset(
        id="complaint_forecasts",
        title_ko="민원량 예측",
        title_en="Complaint volume forecasts",
        description_ko="시·군·서비스별 일 민원량 예측과 구간(예측 실행일별).",
        description_en="Forecast daily complaints per city or county and service, per run.",
        owner=PETITIONS,
        source="complaint volumes (the forecasts table's stream: each day's first forecast)",
        columns=(
            _c("day", "date", "예측 대상일", "Day forecast", True),
            _c("as_of", "date", "예측 실행일", "Day the forecast was made", True),
            _JURISDICTION,
            _c("service_code", "string", "Open311 서비스 코드", "Open311 service code", True),
            _c("category", "string", "서비스 분류(그룹)", "Service group"),
            _c("forecast", "double", "예측 건수", "Forecast complaints", True),
            _c("lower", "double", "하한", "Lower bound"),
            _c("upper", "double", "상한", "Upper bound"),
            _c("model", "string", "예측 모형", "Model"),
        ),
        day_column="day",
        jurisdiction_column="jurisdiction_id",
        key_columns=("as_of", "day", "jurisdiction_id", "service_code"),
        privacy=(),
        licence=INTERNAL,
        open=False,
    ),
    Dataset(
        id="complaint_surges",
        title_ko="민원 급증",
        title_en="Complaint surges",
        description_ko="예측 상한을 넘은 민원 급증 경보.",
        description_en="Surge alerts: days whose complaints passed the forecast's alert bound.",
        owner=PETITIONS,
        source="complaint volumes (ComplaintSurge on the ops alerts topic)",
        columns=(
            _DAY,
            _JURISDICTION,
            _c("service_code", "string", "Open311 서비스 코드", "Open311 service code", True),
            _c("department", "string", "담당 부서", "Department"),
            _c("count", "long", "건수", "Complaints", True),
            _c("forecast", "double", "예측 건수", "Forecast complaints"),
            _c("upper", "double", "예측 상한", "Forecast upper bound"),
            _c("alert_upper", "double", "경보 기준", "Alert bound"),
            _c("partial_day", "boolean", "하루 중 경보", "Raised before the day was over"),
            _c("detected_at", "timestamp", "감지 시각(UTC)", "Time detected (UTC)", True),
        ),
        day_column="day",
        jurisdiction_column="jurisdiction_id",
        key_columns=("day", "jurisdiction_id", "service_code", "detected_at"),
        privacy=(),
        licence=INTERNAL,
        open=False,
    ),
    Dataset(
        id="sensor_minutes",
        title_ko="가스 센서 분 단위 집계",
        title_en="Gas sensor readings per minute",
        description_ko=(
            "센서·가스별 1분 집계(평균, 최대, 표본 수). "
            "한 분이 여러 행으로 나뉘어 들어올 수 있으며 "
            "압축(compaction) 때 한 행으로 합쳐짐: 합칠 때는 samples로 가중 평균."
        ),
        description_en=(
            "Readings aggregated per sensor, gas and minute (mean, max, samples). A minute may "
            "arrive in several rows, merged into one by compaction: combine them with "
            "sum(mean_ppm * samples) / sum(samples) and max(max_ppm)."
        ),
        owner=SAFETY,
        source="sensor telemetry (the IoT rule's batch queue)",
        columns=(
            _c("minute", "timestamp", "분(UTC, 분 단위 절사)", "Minute (UTC, truncated)", True),
            _DAY,
            _COMPLEX,
            _JURISDICTION_OPT,
            _c("sensor_id", "string", "센서 식별자", "Sensor id", True),
            _c(
                "gas",
                "string",
                "측정 대상(co, h2s, lel, ...)",
                "What is measured (co, h2s, lel...)",
                True,
            ),
            _c("unit", "string", "단위", "Unit"),
            _c("mean_ppm", "double", "평균값(단위는 unit)", "Mean value (in unit)", True),
            _c("min_ppm", "double", "최솟값", "Minimum value"),
            _c("max_ppm", "double", "최댓값", "Maximum value", True),
            _c("samples", "long", "측정 횟수", "Readings", True),
            _c(
                "seconds_mask",
                "long",
                "포함된 측정 초(비트)",
                "Seconds of the minute included (bits)",
                True,
            ),
        ),
        day_column="day",
        jurisdiction_column="jurisdiction_id",
        # A part of a minute is a row (gyeonggi.datadam.minutes): its seconds are its identity.
        key_columns=("complex_id", "sensor_id", "gas", "minute", "seconds_mask"),
        privacy=(drop("firmware"), drop("battery")),
        licence=INTERNAL,
        open=False,
    ),
    Dataset(
        id="safety_alarms",
        title_ko="안전 경보",
        title_en="Safety alarms",
        description_ko="센서 경보와 해제(수준, 값, 기준).",
        description_en="Sensor alarms and their clearing (level, value, limit).",
        owner=SAFETY,
        source="sensor alarms (the incidents table's stream: the evidence on each timeline)",
        columns=(
            _c("alarm_id", "string", "경보 식별자", "Alarm id", True),
            _c("raised_at", "timestamp", "발생 시각(UTC)", "Time raised (UTC)", True),
            _DAY,
            _COMPLEX,
            _JURISDICTION_OPT,
            _c("sensor_id", "string", "센서 식별자", "Sensor id"),
            _c("kind", "string", "경보 종류", "Alarm kind", True),
            _c("severity", "string", "심각도", "Severity", True),
            _c("gas", "string", "측정 대상", "What is measured"),
            _c("value", "double", "측정값", "Value"),
            _c("limit_value", "double", "기준값", "Limit"),
            _c("clears", "string", "해제하는 경보", "Alarm it clears"),
        ),
        day_column="day",
        jurisdiction_column="jurisdiction_id",
        key_columns=("alarm_id",),
        privacy=(),
        licence=INTERNAL,
        open=False,
    ),
    Dataset(
        id="safety_incidents",
        title_ko="안전 사고 경과",
        title_en="Safety incident timelines",
        description_ko="사고의 경과: 단계별 한 행(발생, 통보, 확인, 상향, 종료).",
        description_en="Incident timelines: one row per step (opened, notified, acknowledged, "
        "escalated, closed).",
        owner=SAFETY,
        source="safety incidents (incident alerts topic)",
        columns=(
            _c("incident_id", "string", "사고 식별자", "Incident id", True),
            _c("at", "timestamp", "시각(UTC)", "Time (UTC)", True),
            _DAY,
            _c("step", "string", "단계", "Step", True),
            _COMPLEX,
            _JURISDICTION_OPT,
            _c("severity", "string", "심각도", "Severity"),
            _c("status", "string", "상태", "Status"),
            _c("operator_pseudonym", "string", "담당자 가명", "Operator pseudonym"),
            _c("detail", "string", "내용(식별 정보 제외)", "Detail (nothing identifying)"),
        ),
        day_column="day",
        jurisdiction_column="jurisdiction_id",
        key_columns=("incident_id", "step", "at"),
        privacy=(pseudonymise("operator", "operator_pseudonym"),),
        licence=INTERNAL,
        open=False,
    ),
    Dataset(
        id="camera_detections",
        title_ko="CCTV 화재·연기 탐지",
        title_en="CCTV fire and smoke detections",
        description_ko="CCTV 영상 구간 분석 결과(탐지 종류, 점수). 영상과 이미지는 없음.",
        description_en="Analysis of CCTV segments (what was detected, score). No video, no frames.",
        owner=SAFETY,
        source="CCTV analysis (each segment's result in the CCTV bucket, analysis/*.json)",
        columns=(
            _c("camera_id", "string", "카메라 식별자", "Camera id", True),
            _c("segment_start", "timestamp", "구간 시작(UTC)", "Segment start (UTC)", True),
            _DAY,
            _JURISDICTION,
            _c(
                "label",
                "string",
                "탐지 종류(fire, smoke, none)",
                "Detected (fire, smoke, none)",
                True,
            ),
            _c("score", "double", "점수", "Score"),
            _c("frames", "long", "분석한 프레임 수", "Frames analysed"),
        ),
        day_column="day",
        jurisdiction_column="jurisdiction_id",
        key_columns=("camera_id", "segment_start", "label"),
        privacy=(
            drop("frame_key", "a frame may show a person", "영상 프레임에 사람이 찍힐 수 있음"),
        ),
        licence=INTERNAL,
        open=False,
    ),
    Dataset(
        id="form_submissions",
        title_ko="민원 서식 제출",
        title_en="Petition form submissions",
        description_ko="제출된 민원 서식이 거친 상태(상태마다 한 행): 서식, 시·군, 경로, 연령대. "
        "개인 항목(이름, 주민등록번호, 주소, 전화)과 답변은 없음.",
        description_en=(
            "Petition forms submitted and each status they reached (a row per status): form, "
            "city or county, channel, age band. No personal field (name, resident "
            "registration number, address, phone) and no answer."
        ),
        owner=DIGITAL,
        source="form issuance (the submissions table's stream: each state reached)",
        columns=(
            _c("submission_id", "string", "제출 번호", "Submission id", True),
            _c("submitted_at", "timestamp", "제출 시각(UTC)", "Time submitted (UTC)", True),
            _DAY,
            _c(
                "status_at",
                "timestamp",
                "이 상태가 된 시각(UTC)",
                "Time it reached this status (UTC)",
            ),
            _c("form_id", "string", "서식 식별자", "Form id", True),
            _JURISDICTION_OPT,
            _c("channel", "string", "경로(web, kiosk, api)", "Channel (web, kiosk, api)"),
            _c("language", "string", "대화 언어", "Dialogue language"),
            _c(
                "applicant_pseudonym",
                "string",
                "신청인 가명(KMS HMAC)",
                "Applicant pseudonym (KMS HMAC)",
            ),
            _AGE_BAND,
            _c("fields", "long", "작성 항목 수", "Fields filled in"),
            _c(
                "status",
                "string",
                "처리 상태(received ... approved, rejected, failed): 상태마다 한 행",
                "Status (received ... approved, rejected, failed): a row per status reached",
                True,
            ),
        ),
        day_column="day",
        jurisdiction_column="jurisdiction_id",
        key_columns=("submission_id", "status"),
        privacy=(
            to_age_band("birth_date"),
            pseudonymise(
                "rrn",
                "applicant_pseudonym",
                "one applicant, many forms",
                "한 신청인의 여러 서식을 잇기 위함",
            ),
            drop("applicant_name"),
            drop("phone"),
            to_jurisdiction("address"),
            drop("values", "the form's answers are personal", "서식 답변은 개인정보임"),
        ),
        licence=INTERNAL,
        open=False,
    ),
    Dataset(
        id="wallet_outcomes",
        title_ko="전자지갑 발급·검증 결과",
        title_en="Wallet issuance and verification outcomes",
        description_ko=(
            "디지털 경기 지갑의 발급과 제시 검증 결과와 사유 코드. 증명 내용(claims)은 없음."
        ),
        description_en=(
            "Outcomes of the Digital Gyeonggi Wallet's issuance and presentation checks with "
            "their reason codes. No claims."
        ),
        owner=DIGITAL,
        source=(
            "wallet issuer and verifier (the status lists table's stream: an entry per "
            "credential issued; the presentation requests table's: each answer)"
        ),
        columns=(
            _c("event_id", "string", "이벤트 식별자", "Event id", True),
            _c("at", "timestamp", "시각(UTC)", "Time (UTC)", True),
            _DAY,
            _c(
                "operation",
                "string",
                "issuance 또는 verification",
                "issuance or verification",
                True,
            ),
            _c("outcome", "string", "결과(success, failure)", "Outcome (success, failure)", True),
            _c("reason_code", "string", "사유 코드", "Reason code"),
            _c("credential_type", "string", "증명 종류(vct)", "Credential type (vct)"),
            _c("verifier_id", "string", "검증 기관", "Verifier"),
            _JURISDICTION_OPT,
        ),
        day_column="day",
        jurisdiction_column="jurisdiction_id",
        key_columns=("event_id",),
        privacy=tuple(
            drop(f, "claims never leave the wallet's exchange", "증명 내용은 저장하지 않음")
            for f in (
                "claims",
                "vp_token",
                "given_name",
                "family_name",
                "birthdate",
                "address",
                "tx_code",
            )
        ),
        licence=INTERNAL,
        open=False,
    ),
    # Outside systems: batch imports (gyeonggi datadam import / the S3 landing prefix).
    Dataset(
        id="resident_population",
        title_ko="주민등록 인구(연령대·성별)",
        title_en="Registered residents by age band and gender",
        description_ko="행정안전부 주민등록 인구통계에서 가져온 시·군·연령대·성별 인구(기준일별).",
        description_en=(
            "Registered residents per city or county, age band and gender on a reference day, "
            "imported from the resident registration statistics."
        ),
        owner=DATA,
        source="batch import (resident registration statistics)",
        columns=(
            _c("day", "date", "기준일", "Reference day", True),
            _JURISDICTION,
            _c("age_band", "string", "10세 단위 연령대", "Ten-year age band", True),
            _c("gender", "string", "성별(female, male)", "Gender (female, male)", True),
            _c("residents", "long", "인구", "Residents", True),
        ),
        day_column="day",
        jurisdiction_column="jurisdiction_id",
        key_columns=("day", "jurisdiction_id", "age_band", "gender"),
        privacy=(),
        licence=KOGL_1,
        open=True,
        open_dimensions=("day", "jurisdiction_id", "age_band", "gender"),
    ),
    Dataset(
        id="welfare_applications",
        title_ko="복지 급여 신청",
        title_en="Welfare benefit applications",
        description_ko="시·군 복지 시스템의 급여 신청: 신청인은 가명과 연령대, 주소는 시·군으로만.",
        description_en=(
            "Benefit applications from the cities' welfare systems: the applicant only as a "
            "pseudonym and an age band, the address only as the city or county."
        ),
        owner=WELFARE,
        source="batch import (city and county welfare systems)",
        columns=(
            _c("application_id", "string", "신청 번호", "Application id", True),
            _c("applied_on", "date", "신청일", "Day applied", True),
            _JURISDICTION_OPT,
            _c("benefit", "string", "급여 종류", "Benefit", True),
            _c(
                "decision",
                "string",
                "결정(approved, rejected, pending)",
                "Decision (approved, rejected, pending)",
            ),
            _c("amount_krw", "long", "월 급여액(원)", "Monthly amount (KRW)"),
            _c(
                "applicant_pseudonym",
                "string",
                "신청인 가명(KMS HMAC)",
                "Applicant pseudonym (KMS HMAC)",
            ),
            _AGE_BAND,
            _c("household_size", "long", "가구원 수", "Household size"),
        ),
        day_column="applied_on",
        jurisdiction_column="jurisdiction_id",
        key_columns=("application_id",),
        privacy=(
            pseudonymise("resident_id", "applicant_pseudonym"),
            to_age_band("birth_date"),
            to_jurisdiction("address"),
            drop("applicant_name"),
            drop("phone"),
        ),
        licence=INTERNAL,
        open=False,
    ),
    Dataset(
        id="import_rejects",
        title_ko="가져오기 거부 행",
        title_en="Rows rejected by imports",
        description_ko="일괄 가져오기에서 거부된 행: 행 번호, 항목, 사유(행 내용은 저장하지 않음).",
        description_en=(
            "Rows a batch import rejected: row number, field and reason (not the row's content, "
            "which may be personal; the source file stays in the landing prefix)."
        ),
        owner=DATA,
        source="batch import",
        columns=(
            _c("import_id", "string", "가져오기 식별자", "Import id", True),
            _c("dataset", "string", "대상 데이터셋", "Target dataset", True),
            _c("source", "string", "원본 파일", "Source file", True),
            _c(
                "row_number",
                "long",
                "행 번호(1부터, 머리행 제외)",
                "Row number (from 1, header excluded)",
                True,
            ),
            _c("field", "string", "문제 항목", "Field at fault"),
            _c("reason", "string", "사유", "Reason", True),
            _c("rejected_at", "timestamp", "거부 시각(UTC)", "Time rejected (UTC)", True),
            _DAY,
        ),
        day_column="day",
        jurisdiction_column=None,
        key_columns=("import_id", "row_number"),
        privacy=(),
        licence=INTERNAL,
        open=False,
    ),
)

CATALOGUE: Mapping[str, Dataset] = MappingProxyType({d.id: d for d in _DATASETS})


def dataset(dataset_id: str) -> Dataset:
    """The dataset called ``dataset_id``.

    Raises
    ------
    UnknownDataset
        When the catalogue has none by that id.
    """
    try:
        return CATALOGUE[dataset_id]
    except KeyError:
        raise UnknownDataset(dataset_id) from None
