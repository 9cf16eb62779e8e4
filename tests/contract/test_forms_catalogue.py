"""The form catalogue (issue 11, section 1): every file is a valid form, its JSON Schema agrees
with its fields, and the ids and core field names are exactly the issue's (outside tests use
them)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import jsonschema
import pytest

from gyeonggi.forms.catalogue import CATALOGUE_DIR, FORM_IDS, catalogue, load_document

ROOT = Path(__file__).resolve().parents[2]
META_SCHEMA = ROOT / "docs" / "schemas" / "form-catalogue.schema.json"

#: Issue 11's table: the form ids and their core fields, in order. Fixed: outside tests use them.
ISSUE_TABLE: dict[str, tuple[str, ...]] = {
    "resident-registration-copy": (
        "applicant_name",
        "applicant_rrn",
        "document_kind",
        "copies",
        "include_address_history",
        "purpose",
    ),
    "move-in-report": (
        "reporter_name",
        "reporter_rrn",
        "previous_address",
        "new_address",
        "move_date",
        "household_relation",
        "phone",
    ),
    "family-relation-certificate": (
        "applicant_name",
        "applicant_rrn",
        "subject_relation",
        "certificate_kind",
        "detail_level",
        "copies",
    ),
    "building-register-copy": (
        "applicant_name",
        "phone",
        "building_address",
        "register_kind",
        "copies",
    ),
    "basic-pension": (
        "applicant_name",
        "applicant_rrn",
        "address",
        "phone",
        "married",
        "spouse_name",
        "bank_name",
        "account_number",
    ),
    "disability-registration": (
        "applicant_name",
        "applicant_rrn",
        "address",
        "phone",
        "disability_type",
        "guardian_name",
        "guardian_phone",
    ),
    "seal-certificate": (
        "applicant_name",
        "applicant_rrn",
        "purpose_kind",
        "buyer_name",
        "buyer_rrn",
        "buyer_address",
    ),
}

#: The choice ids the issue names.
ISSUE_CHOICES: dict[tuple[str, str], set[str]] = {
    ("resident-registration-copy", "document_kind"): {"full-copy", "abstract"},
    ("move-in-report", "household_relation"): {"head", "member"},
    ("family-relation-certificate", "subject_relation"): {
        "self",
        "spouse",
        "parent",
        "child",
        "sibling",
    },
    ("family-relation-certificate", "certificate_kind"): {
        "family-relation",
        "basic",
        "marriage",
        "adoption",
        "full-adoption",
    },
    ("family-relation-certificate", "detail_level"): {"general", "detailed", "specific"},
    ("building-register-copy", "register_kind"): {"general", "aggregate"},
    ("seal-certificate", "purpose_kind"): {"general", "real-estate-sale"},
}

#: Types the issue fixes by their normalised value.
ISSUE_TYPES: dict[str, str] = {
    "applicant_rrn": "rrn",
    "reporter_rrn": "rrn",
    "buyer_rrn": "rrn",
    "phone": "phone",
    "guardian_phone": "phone",
    "previous_address": "address",
    "new_address": "address",
    "building_address": "address",
    "address": "address",
    "buyer_address": "address",
    "move_date": "date",
    "copies": "count",
    "married": "boolean",
    "include_address_history": "boolean",
}


def _documents() -> dict[str, dict[str, Any]]:
    return {fid: load_document(fid) for fid in FORM_IDS}


def test_the_catalogue_holds_exactly_the_seven_forms_of_the_issue() -> None:
    files = sorted(p.stem for p in CATALOGUE_DIR.glob("*.json"))
    assert files == sorted(ISSUE_TABLE)
    assert set(FORM_IDS) == set(ISSUE_TABLE)


@pytest.mark.parametrize("form_id", FORM_IDS)
def test_each_file_is_a_valid_catalogue_form(form_id: str) -> None:
    meta = json.loads(META_SCHEMA.read_text(encoding="utf-8"))
    doc = load_document(form_id)
    jsonschema.validate(doc, meta)
    assert doc["id"] == form_id
    # Its own schema is a valid JSON Schema (draft 2020-12).
    jsonschema.Draft202012Validator.check_schema(doc["schema"])


@pytest.mark.parametrize("form_id", FORM_IDS)
def test_core_fields_are_exactly_the_issue_table(form_id: str) -> None:
    form = catalogue()[form_id]
    assert form.core_fields == ISSUE_TABLE[form_id]
    # Other fields the real form has may follow, but never under a core name.
    names = [f.name for f in form.fields]
    assert len(names) == len(set(names))


def test_choices_and_types_are_the_issue_ones() -> None:
    forms = catalogue()
    for (form_id, name), ids in ISSUE_CHOICES.items():
        assert {c.id for c in forms[form_id].field(name).choices} == ids
    disability = forms["disability-registration"].field("disability_type")
    assert len(disability.choices) == 15  # the 15 legal types, ids in English
    assert all(c.id.isascii() for c in disability.choices)
    for form in forms:
        for f in form.fields:
            if f.name in ISSUE_TYPES:
                assert f.type == ISSUE_TYPES[f.name], (form.id, f.name)


def test_the_conditional_fields_the_issue_names() -> None:
    forms = catalogue()
    seal = forms["seal-certificate"]
    for name in ("buyer_name", "buyer_rrn", "buyer_address"):
        assert seal.field(name).needed({"purpose_kind": "real-estate-sale"})
        assert not seal.field(name).applies({"purpose_kind": "general"})
    pension = forms["basic-pension"]
    assert pension.field("spouse_name").needed({"married": True})
    assert not pension.field("spouse_name").applies({"married": False})


@pytest.mark.parametrize("form_id", FORM_IDS)
def test_the_json_schema_agrees_with_the_fields(form_id: str) -> None:
    doc = load_document(form_id)
    schema = doc["schema"]
    fields = {f["name"]: f for f in doc["fields"]}
    assert set(schema["properties"]) == set(fields)
    assert set(schema["required"]) == {
        n for n, f in fields.items() if f["required"] and "when" not in f
    }
    for name, f in fields.items():
        prop = schema["properties"][name]
        if f["type"] == "choice":
            assert prop["enum"] == [c["id"] for c in f["choices"]]
    # Every conditional field: required exactly when it applies (if it is required), and
    # refused when it does not apply.
    conditional = {n for n, f in fields.items() if "when" in f}
    mentioned = {
        r for rule in schema.get("allOf", []) for r in rule["then"].get("required", [])
    } | {
        r
        for rule in schema.get("allOf", [])
        for r in rule["then"].get("not", {}).get("required", [])
    }
    assert mentioned == conditional


def _complete(form_id: str) -> list[tuple[dict[str, Any], bool]]:
    """Completed forms (fictitious values) and whether the form's schema must accept them."""
    base = {"applicant_name": "김하늘", "applicant_rrn": "900101-1234568"}
    addr = {"address": "경기도 수원시 팔달구 효원로 1", "jurisdiction_id": "suwon.gg.kr"}
    cases: dict[str, list[tuple[dict[str, Any], bool]]] = {
        "seal-certificate": [
            ({**base, "purpose_kind": "general"}, True),
            ({**base, "purpose_kind": "real-estate-sale"}, False),
            (
                {
                    **base,
                    "purpose_kind": "real-estate-sale",
                    "buyer_name": "박서준",
                    "buyer_rrn": "850505-1234560",
                    "buyer_address": addr,
                },
                True,
            ),
            ({**base, "purpose_kind": "general", "buyer_name": "박서준"}, False),
        ],
        "basic-pension": [
            (
                {
                    **base,
                    "address": addr,
                    "phone": "010-1234-5678",
                    "married": True,
                    "spouse_name": "이영희",
                    "spouse_rrn": "520303-2345678",
                    "bank_name": "nh",
                    "account_number": "302-1234-5678-91",
                },
                True,
            ),
            (
                {
                    **base,
                    "address": addr,
                    "phone": "010-1234-5678",
                    "married": True,
                    "bank_name": "nh",
                    "account_number": "302-1234-5678-91",
                },
                False,
            ),
            (
                {
                    **base,
                    "address": addr,
                    "phone": "010-1234-5678",
                    "married": False,
                    "bank_name": "nh",
                    "account_number": "302-1234-5678-91",
                },
                True,
            ),
        ],
        "move-in-report": [
            (
                {
                    "reporter_name": "김하늘",
                    "reporter_rrn": "900101-1234568",
                    "previous_address": {"address": "서울특별시 마포구 월드컵로 212"},
                    "new_address": addr,
                    "move_date": "2026-12-01",
                    "household_relation": "head",
                    "phone": "010-1234-5678",
                },
                True,
            ),
        ],
    }
    return cases.get(form_id, [])


@pytest.mark.parametrize("form_id", ["seal-certificate", "basic-pension", "move-in-report"])
def test_completed_forms_are_checked_by_their_schema(form_id: str) -> None:
    schema = load_document(form_id)["schema"]
    validator = jsonschema.Draft202012Validator(schema)
    for values, valid in _complete(form_id):
        assert validator.is_valid(values) is valid, values


def test_every_question_and_label_has_korean_english_and_easy_korean() -> None:
    for form in catalogue():
        for f in form.fields:
            assert f.question.ko and f.question.en and f.question.easy_ko, (form.id, f.name)
        assert form.fee.ko and form.fee.en
