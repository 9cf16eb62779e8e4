"""Who the applicant is, proven by the wallet: what a form asks of it, and what its verified
claims do to the form (issue 11, section 4).

**Minimal disclosure.** The presentation request asks only for what *this* form, as filled,
needs (:func:`claims_needed`):

- ``family_name`` and ``given_name`` when the form names the applicant (every form): to match
  the name given, or to fill it when none was;
- ``birthdate`` when the form carries the applicant's resident registration number: its first
  six digits and seventh (century) digit give a birth date, which must be the credential's;
- ``address`` when the form has a field for the applicant's residence that is still empty (it
  is filled from the credential: the citizen types less);
- ``jurisdiction`` (the city or county of residence) when nothing on the form says which
  city's civil servants handle it (a resident register copy, a family certificate, a seal
  certificate; a move-in report goes to the new address's city, a building register to the
  building's).

Never the address when the form already has one, never ``age_equal_or_over``, never
``resident_since``.

**Reconciliation** (:func:`reconcile`): a claim fills a field that is empty; a field that has a
value must agree with the claim (names compared without spaces, hyphens or case, in either
order of family and given name; the RRN's birth date against ``birthdate``). A disagreement is
an :class:`IdentityMismatch` with a stable reason (``name_mismatch``, ``birthdate_mismatch``,
``claims_missing``) and never a silent overwrite: the civil servant must see what the citizen
said, and a form filed in someone else's name must not go through.
"""

from __future__ import annotations

import json
import unicodedata
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date
from typing import Any

from gyeonggi.common.errors import DomainError
from gyeonggi.complaints import jurisdictions
from gyeonggi.forms import rrn
from gyeonggi.forms.catalogue import Form
from gyeonggi.forms.problems import InvalidValue
from gyeonggi.forms.validation import validate

#: The DCQL credential query id of the resident credential in every request made here.
CREDENTIAL_QUERY_ID = "resident"
#: The resident credential's type, after its issuer (``gyeonggi.wallet.credential``).
RESIDENT_VCT_PATH = "/credentials/gyeonggi-resident"


@dataclass(frozen=True, slots=True)
class PersonFields:
    """Which fields of a form are the applicant's (``None``: the form has none)."""

    name: str
    rrn: str | None
    residence: str | None


#: The applicant's fields of each form of the catalogue (``tests/unit/test_forms_identity.py``
#: holds them to the catalogue: they exist and have these types).
PERSON: Mapping[str, PersonFields] = {
    "resident-registration-copy": PersonFields("applicant_name", "applicant_rrn", None),
    "move-in-report": PersonFields("reporter_name", "reporter_rrn", "previous_address"),
    "family-relation-certificate": PersonFields("applicant_name", "applicant_rrn", None),
    "building-register-copy": PersonFields("applicant_name", None, None),
    "basic-pension": PersonFields("applicant_name", "applicant_rrn", "address"),
    "disability-registration": PersonFields("applicant_name", "applicant_rrn", "address"),
    "seal-certificate": PersonFields("applicant_name", "applicant_rrn", None),
}

#: The field whose address decides which city's civil servants handle a form, where one does:
#: the new address of a move-in report, the building of a building register, the residence of
#: a pension or a disability registration. Elsewhere (or outside Gyeonggi), the applicant's
#: city of residence from the credential.
JURISDICTION_FIELD: Mapping[str, str] = {
    "move-in-report": "new_address",
    "building-register-copy": "building_address",
    "basic-pension": "address",
    "disability-registration": "address",
}


class IdentityMismatch(DomainError):
    """The verified claims do not agree with the form (or lack what it needs).

    The message is JSON ``{"reason", "field", "message"}`` (the workflow records it) and never
    holds a value: neither the form's nor the credential's.
    """

    code = "identity_mismatch"
    REASONS = frozenset({"name_mismatch", "birthdate_mismatch", "claims_missing"})

    def __init__(self, reason: str, field: str, message: str) -> None:
        if reason not in self.REASONS:
            raise ValueError(f"unknown mismatch reason {reason!r}")
        super().__init__(json.dumps({"reason": reason, "field": field, "message": message}))
        self.reason = reason
        self.mismatched_field = field


def resident_vct(issuer: str) -> str:
    """The resident credential's ``vct`` of ``issuer``."""
    return issuer.rstrip("/") + RESIDENT_VCT_PATH


def form_jurisdiction(form_id: str, fields: Mapping[str, Any]) -> str | None:
    """The jurisdiction the form itself names (an address in Gyeonggi), if any."""
    name = JURISDICTION_FIELD.get(form_id)
    value = fields.get(name) if name else None
    return _ours(value.get("jurisdiction_id")) if isinstance(value, Mapping) else None


def _ours(value: Any) -> str | None:
    """``value`` if it is one of the 31 jurisdiction ids, else ``None``."""
    return value if isinstance(value, str) and value in jurisdictions.BY_ID else None


def claims_needed(form_id: str, fields: Mapping[str, Any]) -> tuple[str, ...]:
    """The resident credential's claims the request asks for, given what the form holds."""
    person = PERSON[form_id]
    needed = ["family_name", "given_name"]
    if person.rrn and fields.get(person.rrn):
        needed.append("birthdate")
    if person.residence and not fields.get(person.residence):
        needed.append("address")
    if form_jurisdiction(form_id, fields) is None:
        needed.append("jurisdiction")
    return tuple(needed)


def dcql_query(claims: tuple[str, ...], issuers: tuple[str, ...]) -> dict[str, Any]:
    """The DCQL query for ``claims`` of a resident credential of one of ``issuers``."""
    if not issuers:
        raise ValueError("no trusted issuer: nobody's resident credential could be asked for")
    return {
        "credentials": [
            {
                "id": CREDENTIAL_QUERY_ID,
                "format": "dc+sd-jwt",
                "meta": {"vct_values": [resident_vct(i) for i in issuers]},
                "claims": [{"path": [claim]} for claim in claims],
            }
        ]
    }


def purpose(form: Form, lang: str) -> str:
    """What the person's wallet shows as the reason for the request."""
    if lang == "en":
        return f"Identity check for your application: {form.title.en}"
    return f"{form.title.ko} 신청 본인 확인"


@dataclass(frozen=True, slots=True)
class Reconciled:
    """The form after the claims: its fields (some perhaps filled), what was matched and
    filled, and the jurisdiction that handles it."""

    fields: dict[str, Any]
    matched: tuple[str, ...]
    filled: tuple[str, ...]
    jurisdiction_id: str


def _folded(name: str) -> str:
    text = unicodedata.normalize("NFC", name).casefold()
    return "".join(ch for ch in text if ch.isalnum())


def _hangul(text: str) -> bool:
    return any("\uac00" <= ch <= "\ud7a3" for ch in text)


def full_name(family_name: str, given_name: str) -> str:
    """The name as a Korean form writes it: ``홍길동``; a Latin name ``Given Family``."""
    if _hangul(family_name + given_name):
        return f"{family_name}{given_name}"
    return f"{given_name} {family_name}"


def name_matches(written: str, family_name: str, given_name: str) -> bool:
    """Whether a name given on the form is the credential's, in either order, ignoring
    spaces, hyphens, apostrophes and case (NFC)."""
    folded = _folded(written)
    family, given = _folded(family_name), _folded(given_name)
    return bool(folded) and folded in {family + given, given + family}


def _claim_text(claims: Mapping[str, Any], name: str, field: str) -> str:
    value = claims.get(name)
    if not isinstance(value, str) or not value.strip():
        raise IdentityMismatch(
            "claims_missing", field, f"the verified credential did not disclose {name}"
        )
    return value.strip()


def reconcile(
    form: Form, fields: Mapping[str, Any], claims: Mapping[str, Any], today: date
) -> Reconciled:
    """The form's fields with the verified ``claims`` applied (see the module's docstring).

    Raises
    ------
    IdentityMismatch
        A name or birth date that disagrees with the credential, or a claim the form needs
        that the credential did not disclose.
    """
    person = PERSON[form.id]
    values = dict(fields)
    matched: list[str] = []
    filled: list[str] = []

    family = _claim_text(claims, "family_name", person.name)
    given = _claim_text(claims, "given_name", person.name)
    written = values.get(person.name)
    if written:
        if not name_matches(str(written), family, given):
            raise IdentityMismatch(
                "name_mismatch", person.name, "the name on the form is not the credential's"
            )
        matched.append(person.name)
    else:
        values[person.name] = full_name(family, given)
        filled.append(person.name)

    if person.rrn and values.get(person.rrn):
        birthdate = _claim_text(claims, "birthdate", person.rrn)
        try:
            born = date.fromisoformat(birthdate)
            number = rrn.parse(str(values[person.rrn]), today)
        except (ValueError, InvalidValue):
            raise IdentityMismatch(
                "birthdate_mismatch", person.rrn, "the birth date could not be compared"
            ) from None
        if number.birth_date != born:
            raise IdentityMismatch(
                "birthdate_mismatch",
                person.rrn,
                "the resident registration number's birth date is not the credential's",
            )
        matched.append(person.rrn)

    if person.residence and not values.get(person.residence):
        address = claims.get("address")
        formatted = address.get("formatted") if isinstance(address, Mapping) else address
        if not isinstance(formatted, str) or not formatted.strip():
            raise IdentityMismatch(
                "claims_missing", person.residence, "the credential did not disclose an address"
            )
        values[person.residence] = _residence(form, person.residence, formatted, claims, today)
        filled.append(person.residence)

    jurisdiction = form_jurisdiction(form.id, values)
    if jurisdiction is None:
        jurisdiction = _ours(claims.get("jurisdiction"))
    if jurisdiction is None:
        # Nobody could be given the form: neither it nor the credential names a city here.
        raise IdentityMismatch(
            "claims_missing", "jurisdiction", "no city or county of Gyeonggi handles this form"
        )
    return Reconciled(values, tuple(matched), tuple(filled), jurisdiction)


def _residence(
    form: Form, name: str, formatted: str, claims: Mapping[str, Any], today: date
) -> dict[str, Any]:
    """The credential's address as the form's address field holds it: validated as the
    dialogue would (its jurisdiction read from it), or as written with the credential's city."""
    try:
        checked = validate(form.field(name), formatted.strip(), today)
        if isinstance(checked.value, Mapping):
            return dict(checked.value)
    except InvalidValue:
        pass
    value: dict[str, Any] = {"address": formatted.strip()}
    city = _ours(claims.get("jurisdiction"))
    if city:
        value["jurisdiction_id"] = city
    return value
