"""One filled form of each of the seven, as a confirmed dialogue would hand it over.

Everything is made up (names, numbers that belong to nobody, addresses with random building
numbers). The values are written as a citizen would give them and normalised by the forms'
own validators, so a sample is always a form the dialogue could have confirmed. The tests of
the rendering, the benchmark of the PDF's render time and ``gyeonggi forms render`` use them.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, date, datetime
from typing import Any

from gyeonggi.forms.catalogue import FORM_IDS, catalogue
from gyeonggi.forms.identity import reconcile
from gyeonggi.forms.submissions import Submission, VerifiedIdentity
from gyeonggi.forms.validation import validate

#: The day the samples were filled in (Korea).
SAMPLE_DAY = date(2026, 12, 7)
SAMPLE_TIME = datetime(2026, 12, 7, 1, 30, tzinfo=UTC)  # 10:30 in Korea
SAMPLE_ISSUER = "https://wallet.gg.example"

#: What the applicant of every sample holds in their wallet (the claims a presentation of
#: their resident credential discloses).
APPLICANTS: dict[str, dict[str, Any]] = {
    "김하늘": {
        "family_name": "김",
        "given_name": "하늘",
        "birthdate": "1990-01-01",
        "jurisdiction": "suwon.gg.kr",
        "address": {"formatted": "경기도 수원시 팔달구 효원로 1"},
    },
    "박순자": {
        "family_name": "박",
        "given_name": "순자",
        "birthdate": "1959-03-15",
        "jurisdiction": "yongin.gg.kr",
        "address": {"formatted": "경기도 용인시 수지구 포은대로 435"},
    },
}

#: Each form as a citizen said its values.
RAW: dict[str, dict[str, Any]] = {
    "resident-registration-copy": {
        "applicant_name": "김하늘",
        "applicant_rrn": "900101-1234568",
        "document_kind": "abstract",
        "copies": 2,
        "include_address_history": True,
        "purpose": "bank",
        "include_military_service": False,
        "phone": "010-2345-6789",
    },
    "move-in-report": {
        "reporter_name": "김하늘",
        "reporter_rrn": "900101-1234568",
        "previous_address": "서울 관악구 관악로 1",
        "new_address": "수원시 팔달구 효원로 1, 302동 1104호",
        "move_date": "2026-12-04",
        "household_relation": "member",
        "head_of_household_name": "이도윤",
        "relation_to_head": "spouse",
        "phone": "010-2345-6789",
        "move_reason": "work",
        "moving_members": 2,
    },
    "family-relation-certificate": {
        "applicant_name": "김하늘",
        "applicant_rrn": "900101-1234568",
        "subject_relation": "parent",
        "subject_name": "김철수",
        "subject_rrn": "620505-1234563",
        "certificate_kind": "family-relation",
        "detail_level": "detailed",
        "copies": 1,
    },
    "building-register-copy": {
        "applicant_name": "김하늘",
        "phone": "031-228-2114",
        "building_address": "성남시 분당구 불정로 90",
        "register_kind": "aggregate",
        "aggregate_part": "unit",
        "unit": "101동 1104호",
        "copies": 3,
    },
    "basic-pension": {
        "applicant_name": "박순자",
        "applicant_rrn": "590315-2345671",
        "address": "용인시 수지구 포은대로 435",
        "phone": "010-9876-5432",
        "married": True,
        "spouse_name": "최영호",
        "spouse_rrn": "570720-1456782",
        "bank_name": "nh",
        "account_number": "302-1234-5678-91",
        "housing_kind": "own",
    },
    "disability-registration": {
        "applicant_name": "김하늘",
        "applicant_rrn": "900101-1234568",
        "address": "수원시 영통구 광교중앙로 140",
        "phone": "010-2345-6789",
        "disability_type": "hearing",
        "guardian_name": "이도윤",
        "guardian_phone": "010-3456-7890",
        "guardian_relation": "spouse",
    },
    "seal-certificate": {
        "applicant_name": "김하늘",
        "applicant_rrn": "900101-1234568",
        "purpose_kind": "real-estate-sale",
        "buyer_name": "이지은",
        "buyer_rrn": "920315-2345672",
        "buyer_address": "서울 관악구 관악로 1",
        "copies": 1,
    },
}


def sample_fields(form_id: str) -> dict[str, Any]:
    """The sample's values, normalised by the form's validators."""
    form = catalogue()[form_id]
    return {
        name: validate(form.field(name), value, SAMPLE_DAY).value
        for name, value in RAW[form_id].items()
    }


def applicant_claims(form_id: str) -> dict[str, Any]:
    """The wallet claims of the sample's applicant."""
    fields = RAW[form_id]
    name = fields.get("applicant_name") or fields.get("reporter_name")
    return dict(APPLICANTS[str(name)])


def sample_submission(form_id: str, *, verified: bool = True) -> Submission:
    """A submission of the sample, as the workflow holds it once its identity was verified
    (``verified=False``: as the dialogue hands it over)."""
    form = catalogue()[form_id]
    fields = sample_fields(form_id)
    digits = format(FORM_IDS.index(form_id), "02d")
    submission = Submission(
        submission_id=f"FA-sample{digits}{'x' * 12}{digits}",
        session_id=f"FS-sample{digits}{'x' * 12}{digits}",
        form_id=form_id,
        form_version=form.version,
        lang="ko",
        fee_krw=form.fee_krw,
        fields=fields,
        warnings={},
        owner_kind="citizen",
        owner_hash="0" * 64,
        key_hash=None,
        state="received",
        created_at=SAMPLE_TIME,
        updated_at=SAMPLE_TIME,
    )
    if not verified:
        return submission
    result = reconcile(form, fields, applicant_claims(form_id), SAMPLE_DAY)
    return replace(
        submission,
        fields=result.fields,
        state="identity_verified",
        jurisdiction_id=result.jurisdiction_id,
        identity=VerifiedIdentity(SAMPLE_TIME, SAMPLE_ISSUER, result.matched, result.filled),
    )


def all_samples() -> list[Submission]:
    """One verified sample of each form, in the catalogue's order."""
    return [sample_submission(form_id) for form_id in FORM_IDS]
