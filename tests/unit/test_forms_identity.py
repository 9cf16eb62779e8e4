"""What a form asks of the wallet, and what the verified claims do to the form: minimal
disclosure, filling what is empty, and a mismatch recorded, never overwritten."""

from __future__ import annotations

import json
from datetime import date, timedelta
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from gyeonggi.forms.catalogue import FORM_IDS, catalogue
from gyeonggi.forms.identity import (
    JURISDICTION_FIELD,
    PERSON,
    IdentityMismatch,
    claims_needed,
    dcql_query,
    full_name,
    name_matches,
    purpose,
    reconcile,
)
from gyeonggi.forms.rrn import check_digit
from gyeonggi.wallet.dcql import parse_dcql
from gyeonggi.wallet.verifier_service import parse_request_body
from gyeonggi_tools.forms.samples import SAMPLE_DAY, applicant_claims, sample_fields

ISSUER = "https://wallet.gg.example"


def test_every_form_names_its_applicants_fields_with_their_types() -> None:
    assert set(PERSON) == set(FORM_IDS)
    for form_id, person in PERSON.items():
        form = catalogue()[form_id]
        assert form.field(person.name).type == "name"
        assert form.field(person.name).required
        if person.rrn:
            assert form.field(person.rrn).type == "rrn"
        if person.residence:
            assert form.field(person.residence).type == "address"
    for form_id, name in JURISDICTION_FIELD.items():
        assert catalogue()[form_id].field(name).type == "address"


@pytest.mark.parametrize(
    ("form_id", "needed"),
    [
        # No field says where: the city of residence routes it.
        ("resident-registration-copy", ("family_name", "given_name", "birthdate", "jurisdiction")),
        ("family-relation-certificate", ("family_name", "given_name", "birthdate", "jurisdiction")),
        ("seal-certificate", ("family_name", "given_name", "birthdate", "jurisdiction")),
        # The new address is in Suwon: no jurisdiction asked. Filled: no address asked.
        ("move-in-report", ("family_name", "given_name", "birthdate")),
        ("basic-pension", ("family_name", "given_name", "birthdate")),
        ("disability-registration", ("family_name", "given_name", "birthdate")),
        # No RRN on a building register: the name alone (the building names the city).
        ("building-register-copy", ("family_name", "given_name")),
    ],
)
def test_each_form_asks_only_for_what_it_needs(form_id: str, needed: tuple[str, ...]) -> None:
    assert claims_needed(form_id, sample_fields(form_id)) == needed


def test_an_empty_residence_asks_for_the_address_and_one_outside_gyeonggi_for_the_city() -> None:
    fields = sample_fields("basic-pension")
    without = {k: v for k, v in fields.items() if k != "address"}
    assert claims_needed("basic-pension", without) == (
        "family_name",
        "given_name",
        "birthdate",
        "address",
        "jurisdiction",
    )
    elsewhere = {**fields, "address": {"address": "서울특별시 관악구 관악로 1"}}
    assert claims_needed("basic-pension", elsewhere)[-1] == "jurisdiction"


def test_the_query_is_dcql_the_verifier_accepts_with_key_binding() -> None:
    claims = claims_needed("seal-certificate", sample_fields("seal-certificate"))
    query = dcql_query(claims, (ISSUER, "https://other.example"))
    body = {"dcql_query": query, "purpose": purpose(catalogue()["seal-certificate"], "ko")}
    normalised, said = parse_request_body(body)
    (credential,) = parse_dcql(normalised).credentials
    assert credential.require_cryptographic_holder_binding
    assert credential.vct_values == (
        f"{ISSUER}/credentials/gyeonggi-resident",
        "https://other.example/credentials/gyeonggi-resident",
    )
    assert [c.path for c in credential.claims or ()] == [(c,) for c in claims]
    assert said == "인감증명서 발급 신청 신청 본인 확인"
    with pytest.raises(ValueError):
        dcql_query(claims, ())


# ------------------------------------------------------------------ reconciliation


def _reconcile(form_id: str, fields: dict[str, Any], claims: dict[str, Any]) -> Any:
    return reconcile(catalogue()[form_id], fields, claims, SAMPLE_DAY)


@pytest.mark.parametrize("form_id", FORM_IDS)
def test_every_samples_claims_match_its_form(form_id: str) -> None:
    fields = sample_fields(form_id)
    result = _reconcile(form_id, fields, applicant_claims(form_id))
    person = PERSON[form_id]
    assert result.fields == fields and result.filled == ()
    assert result.matched == tuple(n for n in (person.name, person.rrn) if n)
    assert result.jurisdiction_id.endswith(".gg.kr")


@pytest.mark.parametrize(
    ("written", "family", "given"),
    [
        ("김하늘", "김", "하늘"),
        ("김 하늘", "김", "하늘"),
        ("남궁민수", "남궁", "민수"),
        ("Gil-dong Hong", "Hong", "Gildong"),
        ("HONG Gildong", "Hong", "Gil-dong"),
        ("Müller Anna", "Müller", "Anna"),
    ],
)
def test_a_name_matches_in_either_order_without_spaces_hyphens_or_case(
    written: str, family: str, given: str
) -> None:
    assert name_matches(written, family, given)


@pytest.mark.parametrize(
    ("written", "family", "given"),
    [("김하늘", "김", "하나"), ("이하늘", "김", "하늘"), ("김", "김", "하늘"), ("", "김", "하늘")],
)
def test_another_name_does_not_match(written: str, family: str, given: str) -> None:
    assert not name_matches(written, family, given)


def test_a_different_name_is_a_mismatch_naming_the_field_and_no_value() -> None:
    claims = {**applicant_claims("seal-certificate"), "given_name": "하나"}
    with pytest.raises(IdentityMismatch) as caught:
        _reconcile("seal-certificate", sample_fields("seal-certificate"), claims)
    detail = json.loads(caught.value.message)
    assert detail["reason"] == "name_mismatch" and detail["field"] == "applicant_name"
    assert "김하늘" not in caught.value.message and "하나" not in caught.value.message


def test_an_rrn_of_another_birth_date_is_a_mismatch() -> None:
    claims = {**applicant_claims("seal-certificate"), "birthdate": "1990-01-02"}
    with pytest.raises(IdentityMismatch) as caught:
        _reconcile("seal-certificate", sample_fields("seal-certificate"), claims)
    assert caught.value.reason == "birthdate_mismatch"
    assert "900101" not in caught.value.message


def test_the_century_digit_counts() -> None:
    # 900101-1...: born 1990. The same six digits with 3 are 2090 (not yet born here) or, for
    # 000101-3..., 2000: a credential born 1900 does not match.
    fields = {**sample_fields("seal-certificate"), "applicant_rrn": "000101-3234561"}
    claims = {**applicant_claims("seal-certificate"), "birthdate": "1900-01-01"}
    with pytest.raises(IdentityMismatch):
        _reconcile("seal-certificate", fields, claims)
    assert _reconcile("seal-certificate", fields, {**claims, "birthdate": "2000-01-01"})


def test_a_claim_the_form_needs_that_was_not_disclosed_is_a_mismatch() -> None:
    claims = applicant_claims("seal-certificate")
    for missing in ("family_name", "given_name", "birthdate", "jurisdiction"):
        partial = {k: v for k, v in claims.items() if k != missing}
        with pytest.raises(IdentityMismatch) as caught:
            _reconcile("seal-certificate", sample_fields("seal-certificate"), partial)
        assert caught.value.reason == "claims_missing"


def test_empty_fields_are_filled_from_the_claims() -> None:
    # A pension application without a name and an address: the wallet fills both, the city
    # of the address (validated as the dialogue would) routes it.
    fields = {
        k: v
        for k, v in sample_fields("basic-pension").items()
        if k not in ("applicant_name", "address")
    }
    result = _reconcile("basic-pension", fields, applicant_claims("basic-pension"))
    assert result.filled == ("applicant_name", "address")
    assert result.fields["applicant_name"] == "박순자"
    assert result.fields["address"] == {
        "address": "경기도 용인시 수지구 포은대로 435",
        "jurisdiction_id": "yongin.gg.kr",
    }
    assert result.jurisdiction_id == "yongin.gg.kr" and result.matched == ("applicant_rrn",)


def test_an_address_the_validators_refuse_is_kept_as_written_with_the_credentials_city() -> None:
    fields = {k: v for k, v in sample_fields("basic-pension").items() if k != "address"}
    claims = {**applicant_claims("basic-pension"), "address": {"formatted": "용인 어딘가"}}
    result = _reconcile("basic-pension", fields, claims)
    assert result.fields["address"] == {"address": "용인 어딘가", "jurisdiction_id": "yongin.gg.kr"}


def test_a_latin_name_is_filled_given_name_first() -> None:
    assert full_name("Hong", "Gildong") == "Gildong Hong" and full_name("홍", "길동") == "홍길동"


def test_a_form_nobody_in_gyeonggi_handles_is_a_mismatch() -> None:
    claims = {**applicant_claims("seal-certificate"), "jurisdiction": "seoul.example"}
    with pytest.raises(IdentityMismatch) as caught:
        _reconcile("seal-certificate", sample_fields("seal-certificate"), claims)
    assert caught.value.mismatched_field == "jurisdiction"


def test_the_jurisdiction_is_the_forms_own_address_before_the_residence() -> None:
    # Living in Suwon, moving to Suwon; registering a building in Seongnam.
    assert (
        _reconcile(
            "building-register-copy",
            sample_fields("building-register-copy"),
            applicant_claims("building-register-copy"),
        ).jurisdiction_id
        == "seongnam.gg.kr"
    )


@settings(max_examples=60, deadline=None)
@given(
    born=st.dates(date(1900, 1, 1), SAMPLE_DAY - timedelta(days=1)),
    shift=st.integers(-400, 400),
    serial=st.integers(0, 99999),
)
def test_an_rrn_matches_exactly_its_own_birth_date(born: date, shift: int, serial: int) -> None:
    century = "1" if born.year < 2000 else "3"
    first = f"{born:%y%m%d}{century}{serial:05d}"
    rrn = f"{first[:6]}-{first[6:]}{check_digit(first)}"
    fields = {**sample_fields("seal-certificate"), "applicant_rrn": rrn}
    claimed = born + timedelta(days=shift)
    claims = {**applicant_claims("seal-certificate"), "birthdate": claimed.isoformat()}
    if claimed == born:
        assert _reconcile("seal-certificate", fields, claims).matched[-1] == "applicant_rrn"
    else:
        with pytest.raises(IdentityMismatch):
            _reconcile("seal-certificate", fields, claims)
