"""The completed forms as PDF and JSON: every field of each of the seven forms, read back from
the PDF by poppler's ``pdftotext`` (as a civil servant's screen reader or search would), the
RRNs in full for the civil servant and masked for the citizen; the JSON valid against the
form's schema; the font and its licence shipped in the function's package; the rendering step
storing the three documents."""

from __future__ import annotations

import hashlib
import json
import re
import shutil
import subprocess
from dataclasses import replace
from functools import cache
from pathlib import Path

import pytest
from jsonschema import Draft202012Validator

from gyeonggi.common.privacy import mask_rrn
from gyeonggi.forms.catalogue import FORM_IDS, catalogue
from gyeonggi.forms.documents import AUDIENCES, Audience, form_document, json_document
from gyeonggi.forms.issuance_steps import StepNotApplicable
from gyeonggi.forms.pdf import FontUnavailable, render_pdf
from gyeonggi.forms.rendering import document_keys, render_submission
from gyeonggi_tools.forms.samples import SAMPLE_TIME, sample_submission
from tests.conftest import ROOT
from tests.fakes.forms import FakeDocuments, FakeSubmissionStore

FONTS = ROOT / "functions" / "form_render" / "fonts"
FONT = FONTS / "NanumGothic.ttf"
DEBIAN_FONT = Path("/usr/share/fonts/truetype/nanum/NanumGothic.ttf")
PDFTOTEXT = shutil.which("pdftotext")

needs_poppler = pytest.mark.skipif(
    PDFTOTEXT is None, reason="poppler-utils is not installed (apt-get install poppler-utils)"
)


def _squeezed(text: str) -> str:
    # Cells wrap long values over lines: compare without any whitespace.
    return re.sub(r"\s+", "", text)


@cache
def _pdf_text(form_id: str, audience: Audience) -> str:
    submission = sample_submission(form_id)
    pdf = render_pdf(form_document(catalogue()[form_id], submission, audience), FONT)
    assert pdf.startswith(b"%PDF-")
    done = subprocess.run(
        [str(PDFTOTEXT), "-enc", "UTF-8", "-", "-"],
        input=pdf,
        capture_output=True,
        timeout=60,
        check=True,
    )
    return done.stdout.decode("utf-8")


@needs_poppler
@pytest.mark.parametrize("audience", AUDIENCES)
@pytest.mark.parametrize("form_id", FORM_IDS)
def test_pdftotext_finds_every_field_label_and_value(form_id: str, audience: Audience) -> None:
    form = catalogue()[form_id]
    submission = sample_submission(form_id)
    text = _squeezed(_pdf_text(form_id, audience))
    document = form_document(form, submission, audience)
    assert {row.field for row in document.rows} >= set(submission.fields)
    for row in document.rows:
        assert _squeezed(row.label) in text, f"{form_id}: label {row.label!r} not in the PDF"
        # The English label beside it wraps in its cell, around the value: word by word.
        for word in row.label_en.split():
            assert _squeezed(word) in text, f"{form_id}: label {row.label_en!r}"
        assert _squeezed(row.value) in text, f"{form_id}: {row.field} = {row.value!r} not in it"
    for part in (form.title.ko, submission.submission_id, "2026년12월7일10:30", form.fee.ko):
        assert _squeezed(part) in text
    for attachment in [*form.attachments, *form.in_person]:
        assert _squeezed(attachment.ko) in text
    assert "디지털경기지갑으로본인확인" in text


@needs_poppler
@pytest.mark.parametrize("form_id", ["seal-certificate", "basic-pension", "move-in-report"])
def test_rrns_are_whole_for_the_civil_servant_and_masked_for_the_citizen(form_id: str) -> None:
    form = catalogue()[form_id]
    submission = sample_submission(form_id)
    numbers = [
        str(submission.fields[f.name])
        for f in form.fields
        if f.type == "rrn" and f.name in submission.fields
    ]
    assert numbers
    official, citizen = _pdf_text(form_id, "official"), _pdf_text(form_id, "citizen")
    for number in numbers:
        assert number in official and number not in citizen
        assert mask_rrn(number) in citizen
    assert "주민등록번호 전체 표시" in official and "뒷자리를 가렸습니다" in citizen


@needs_poppler
def test_values_of_fields_that_do_not_apply_are_not_printed() -> None:
    form = catalogue()["resident-registration-copy"]
    full_copy = sample_submission("resident-registration-copy")
    fields = {k: v for k, v in full_copy.fields.items() if k != "include_military_service"}
    document = form_document(
        form, replace(full_copy, fields={**fields, "document_kind": "full-copy"}), "citizen"
    )
    assert "include_military_service" not in {row.field for row in document.rows}


@pytest.mark.parametrize("form_id", FORM_IDS)
def test_the_json_is_the_form_valid_against_its_schema_rrns_whole(form_id: str) -> None:
    form = catalogue()[form_id]
    submission = sample_submission(form_id)
    document = json.loads(json.dumps(json_document(form, submission), ensure_ascii=False))
    Draft202012Validator(dict(form.schema)).validate(document["fields"])
    assert document["fields"] == submission.fields
    assert document["identity"]["method"] == "digital-gyeonggi-wallet"
    assert document["jurisdiction_id"] == submission.jurisdiction_id


# ------------------------------------------------------------------ the font


def test_the_render_package_ships_nanumgothic_with_its_licence() -> None:
    assert FONT.stat().st_size > 4_000_000
    licence = (FONTS / "OFL.txt").read_text(encoding="utf-8")
    assert "SIL OPEN FONT LICENSE" in licence and "NAVER Corporation" in licence
    assert "Version 1.1" in licence
    digest = hashlib.sha256(FONT.read_bytes()).hexdigest()
    assert digest in (FONTS / "README.md").read_text(encoding="utf-8")
    if DEBIAN_FONT.is_file():  # byte for byte Debian's fonts-nanum, unmodified
        assert hashlib.sha256(DEBIAN_FONT.read_bytes()).hexdigest() == digest


def test_a_missing_or_broken_font_is_a_clear_error(tmp_path: Path) -> None:
    document = form_document(
        catalogue()["seal-certificate"], sample_submission("seal-certificate"), "citizen"
    )
    with pytest.raises(FontUnavailable, match="missing"):
        render_pdf(document, tmp_path / "NanumGothic.ttf")
    broken = tmp_path / "broken.ttf"
    broken.write_bytes(b"not a font")
    with pytest.raises(FontUnavailable, match="cannot be read"):
        render_pdf(document, broken)


# ------------------------------------------------------------------ the rendering step


def test_the_step_stores_three_documents_and_the_submission_is_rendered() -> None:
    store, documents = FakeSubmissionStore(), FakeDocuments()
    submission = sample_submission("move-in-report")
    store.create(submission)
    stored = render_submission(
        store, documents, catalogue(), submission.submission_id, font=FONT, now=SAMPLE_TIME
    )
    keys = document_keys(submission)
    assert stored.official_pdf == keys.official_pdf
    assert sorted(documents.objects) == sorted(
        [keys.official_pdf, keys.official_json, keys.citizen_pdf]
    )
    assert documents.objects[keys.official_pdf][1] == "application/pdf"
    assert keys.official_pdf.startswith("official/") and keys.citizen_pdf.startswith("citizen/")
    data = json.loads(documents.objects[keys.official_json][0])
    assert data["fields"]["reporter_rrn"] == "900101-1234568"
    after = store.get(submission.submission_id)
    assert after.state == "rendered" and after.documents == stored
    # Again (a retried step): the same keys, overwritten.
    render_submission(
        store, documents, catalogue(), submission.submission_id, font=FONT, now=SAMPLE_TIME
    )
    assert len(documents.objects) == 3


def test_an_unverified_submission_is_not_rendered() -> None:
    store = FakeSubmissionStore()
    submission = sample_submission("move-in-report", verified=False)
    store.create(submission)
    with pytest.raises(StepNotApplicable):
        render_submission(
            store,
            FakeDocuments(),
            catalogue(),
            submission.submission_id,
            font=FONT,
            now=SAMPLE_TIME,
        )


def test_a_write_that_fails_leaves_the_submission_as_it_was() -> None:
    store = FakeSubmissionStore()
    submission = sample_submission("seal-certificate")
    store.create(submission)
    with pytest.raises(PermissionError):
        render_submission(
            store,
            FakeDocuments(fail=PermissionError("AccessDenied")),
            catalogue(),
            submission.submission_id,
            font=FONT,
            now=SAMPLE_TIME,
        )
    assert store.get(submission.submission_id).state == "identity_verified"
