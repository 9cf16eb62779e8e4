"""The completed form as documents: what the PDF shows and what the JSON holds (issue 11, 4).

Two copies of every submitted form are made, for two readers:

``official``
    The civil servant's: the PDF and the JSON, resident registration numbers **in full**. The
    official who handles the petition checks the number against the resident register, as
    with a paper form; only civil servants of the form's jurisdiction (or the province) get a
    link to it, each link is logged with who asked, and it lives five minutes.
``citizen``
    The applicant's receipt: the PDF with every resident registration number **masked**
    (``YYMMDD-N******``). A presigned link is a bearer credential for its fifteen minutes (a
    shared screen, a browser history, a kiosk's next user), and the citizen knows their own
    number; the buyer's number on a seal certificate is not theirs to carry around anyway.

:func:`form_document` is pure: labels and values in Korean (the language of the office), the
English label beside each, the fee, what to bring, warnings, and what the wallet proved. The
PDF layout is :mod:`gyeonggi.forms.pdf`'s; the JSON is :func:`json_document`.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Literal

from gyeonggi.common.clock import KST
from gyeonggi.common.privacy import mask_rrn
from gyeonggi.complaints.jurisdictions import BY_ID
from gyeonggi.forms.catalogue import Form, FormField
from gyeonggi.forms.submissions import Submission
from gyeonggi.forms.validation import describe

Audience = Literal["official", "citizen"]
AUDIENCES: tuple[Audience, ...] = ("official", "citizen")
JSON_FORMAT = "gyeonggi-form-submission/1"
#: What a field that applies but was left empty shows.
EMPTY = "-"


@dataclass(frozen=True, slots=True)
class Row:
    """One field as printed: the Korean label, the English one, the value in Korean."""

    field: str
    label: str
    label_en: str
    value: str


@dataclass(frozen=True, slots=True)
class FormDocument:
    """Everything the PDF prints, in order."""

    audience: Audience
    title: str
    title_en: str
    submission_id: str
    submitted_at: str
    jurisdiction: str
    copy_note: str
    rows: tuple[Row, ...]
    fee: str
    attachments: tuple[str, ...]
    in_person: tuple[str, ...]
    warnings: tuple[str, ...]
    identity: tuple[str, ...]


def _korean_time(moment: datetime) -> str:
    local = moment.astimezone(KST)
    return f"{local.year}년 {local.month}월 {local.day}일 {local:%H:%M} (KST)"


def value_text(field: FormField, value: Any, audience: Audience) -> str:
    """A value as printed for ``audience``: RRNs in full for the official, masked for the
    citizen; everything else as the confirmation summary says it, in Korean."""
    if field.type == "rrn":
        return str(value) if audience == "official" else mask_rrn(str(value))
    return describe(field, value, "ko")


def _jurisdiction(jurisdiction_id: str | None) -> str:
    if jurisdiction_id is None:
        return EMPTY
    place = BY_ID.get(jurisdiction_id)
    return f"{place.name_ko} ({jurisdiction_id})" if place else jurisdiction_id


def _fee(form: Form, fields: Mapping[str, Any]) -> str:
    if form.fee_krw == 0:
        return form.fee.ko
    copies = fields.get("copies")
    if isinstance(copies, int) and not isinstance(copies, bool) and copies > 0:
        return f"{form.fee.ko} · 합계 {form.fee_krw * copies:,}원 ({copies}통)"
    return form.fee.ko


def _identity_lines(form: Form, submission: Submission) -> tuple[str, ...]:
    identity = submission.identity
    if identity is None:
        return ("디지털 경기 지갑 본인 확인 전",)

    def labels(names: tuple[str, ...]) -> str:
        return ", ".join(form.field(n).label.ko for n in names) or EMPTY

    return (
        f"디지털 경기 지갑으로 본인 확인: {_korean_time(identity.verified_at)}",
        f"발급자: {identity.issuer}",
        f"지갑과 일치를 확인한 항목: {labels(identity.matched)}",
        f"지갑에서 채운 항목: {labels(identity.filled)}",
    )


def form_document(form: Form, submission: Submission, audience: Audience) -> FormDocument:
    """What the PDF of ``submission`` shows to ``audience``.

    Every field that applies to the form as filled gets a row (an optional one left empty
    shows ``-``); fields that do not apply (a buyer on a general-use seal certificate) none.
    """
    values = submission.fields
    rows = tuple(
        Row(
            f.name,
            f.label.ko,
            f.label.en,
            value_text(f, values[f.name], audience) if f.name in values else EMPTY,
        )
        for f in form.fields
        if f.applies(values) and (f.name in values or f.required or f.ask)
    )
    warnings = tuple(w["ko"] for ws in submission.warnings.values() for w in ws)
    note = (
        "공무원 처리용 원본: 주민등록번호 전체 표시. 업무 외 열람·복사·전송 금지."
        if audience == "official"
        else "신청인 보관용 사본: 주민등록번호 뒷자리를 가렸습니다."
    )
    return FormDocument(
        audience=audience,
        title=form.title.ko,
        title_en=form.title.en,
        submission_id=submission.submission_id,
        submitted_at=_korean_time(submission.created_at),
        jurisdiction=_jurisdiction(submission.jurisdiction_id),
        copy_note=note,
        rows=rows,
        fee=_fee(form, values),
        attachments=tuple(t.ko for t in form.attachments),
        in_person=tuple(t.ko for t in form.in_person),
        warnings=warnings,
        identity=_identity_lines(form, submission),
    )


def json_document(form: Form, submission: Submission) -> dict[str, Any]:
    """The civil servant's machine-readable copy: the normalised fields in full (they validate
    against the form's JSON Schema), with what the wallet proved."""
    identity = submission.identity
    return {
        "format": JSON_FORMAT,
        "submission_id": submission.submission_id,
        "form_id": form.id,
        "form_version": submission.form_version,
        "form_title": {"ko": form.title.ko, "en": form.title.en},
        "submitted_at": submission.created_at.isoformat(),
        "jurisdiction_id": submission.jurisdiction_id,
        "lang": submission.lang,
        "fields": submission.fields,
        "fee_krw": submission.fee_krw,
        "warnings": [w["ko"] for ws in submission.warnings.values() for w in ws],
        "identity": None
        if identity is None
        else {
            "method": "digital-gyeonggi-wallet",
            "verified_at": identity.verified_at.isoformat(),
            "issuer": identity.issuer,
            "matched": list(identity.matched),
            "filled": list(identity.filled),
        },
    }
