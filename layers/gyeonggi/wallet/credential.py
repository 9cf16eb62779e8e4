"""The Gyeonggi resident credential: an SD-JWT VC (``typ`` ``dc+sd-jwt``), issued and verified.

Issuance follows SD-JWT VC's claim rules: ``iss``, ``nbf``, ``exp``, ``cnf``, ``vct``,
``vct#integrity``, ``aka_vcts`` and ``status`` are never selectively disclosable; every other
claim is, ``iat`` included (the draft allows it, and hiding when a credential was issued makes
presentations harder to link). ``age_equal_or_over`` is an object whose members ``14``, ``19``
and ``65`` are each disclosable on their own, so "over 19" is shown without the birth date.

Verification is RFC 9901 section 7 and SD-JWT VC section 3.4 in order, each failure a
:class:`~gyeonggi.wallet.errors.VerificationFailed` with its reason: the Issuer-signed JWT
(``typ``, ``alg`` pinned, the issuer's key by ``iss`` and ``kid``, the signature, ``_sd_alg``),
the disclosures, the claims SD-JWT VC forbids to disclose, ``vct``/``cnf``/``exp``/``nbf``/
``iat`` after processing, key binding (required: a presentation without a KB-JWT is refused
before anything else), and last the status, as the Token Status List draft orders it.
"""

from __future__ import annotations

import re
import secrets
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import Any

from gyeonggi.common.clock import KST
from gyeonggi.common.errors import InvalidInput, NotFound
from gyeonggi.complaints import jurisdictions
from gyeonggi.wallet import sd_jwt as rfc9901
from gyeonggi.wallet.errors import VerificationFailed
from gyeonggi.wallet.jose import (
    Signer,
    check_header,
    parse_jws,
    public_jwk,
    verify_signature,
)
from gyeonggi.wallet.status_list import INVALID, SUSPENDED, VALID

TYP = "dc+sd-jwt"
RESIDENT_VCT_PATH = "/credentials/gyeonggi-resident"
"""``vct`` is the issuer's identifier followed by this path."""

#: The ages ``age_equal_or_over`` answers: 14 (criminal responsibility, resident registration
#: card), 19 (adulthood: alcohol, tobacco, voting), 65 (senior benefits).
AGE_THRESHOLDS = ("14", "19", "65")

#: SD-JWT VC section 3.2.2.2: these, and anything inside them, are never in a disclosure.
NEVER_DISCLOSABLE = frozenset(
    {"iss", "nbf", "exp", "cnf", "vct", "vct#integrity", "aka_vcts", "status"}
)

#: Tolerance for an issuer's clock ahead of ours (``nbf``, ``iat``).
CLOCK_SKEW = rfc9901.CLOCK_SKEW

# Decoys per object: a random count, so the number of digests says nothing fixed.
_MIN_DECOYS, _MAX_DECOYS = 1, 4
_MAX_TEXT = 256
_CONTROL = re.compile(r"[\x00-\x1f\x7f]")

IssuerKeys = Callable[[str, str], Mapping[str, str]]
"""``(iss, kid) -> jwk``: the issuer's public key with that ``kid``, from a source the verifier
trusts for that issuer (its JWT VC Issuer Metadata); raises ``VerificationFailed("issuer_key")``
for an issuer or key it does not know."""

StatusOf = Callable[[str, int], int]
"""``(uri, idx) -> status``: the Token Status List's value (0 valid, 1 revoked, 2 suspended)."""


@dataclass(frozen=True)
class ResidentClaims:
    """What the community centre checked: the resident's identity.

    Attributes
    ----------
    given_name, family_name
        As on the resident registration.
    birthdate
        Date of birth; ``age_equal_or_over`` is computed from it at issuance.
    jurisdiction
        The city or county of residence, one of the 31 ids of
        :mod:`gyeonggi.complaints.jurisdictions` (``suwon.gg.kr``).
    address
        The postal address, as one line.
    resident_since
        Since when the person lives in the province.
    """

    given_name: str
    family_name: str
    birthdate: date
    jurisdiction: str
    address: str
    resident_since: date


@dataclass(frozen=True)
class VerifiedCredential:
    """A credential that passed every check.

    Attributes
    ----------
    issuer, vct
        ``iss`` and ``vct``.
    claims
        The Processed SD-JWT Payload: the claims in clear and those the holder disclosed, no
        ``_sd`` or ``_sd_alg``.
    holder_jwk
        The holder's key (``cnf.jwk``), only its public members.
    status
        The ``status`` claim, or ``None``.
    issued_at, expires_at
        ``iat`` (``None`` when not disclosed) and ``exp``.
    """

    issuer: str
    vct: str
    claims: dict[str, Any]
    holder_jwk: dict[str, str]
    status: dict[str, Any] | None
    issued_at: datetime | None
    expires_at: datetime | None


def resident_vct(issuer: str) -> str:
    """The ``vct`` of the resident credential of ``issuer``."""
    return issuer.rstrip("/") + RESIDENT_VCT_PATH


def age_in_years(birthdate: date, on: date) -> int:
    """Completed years of life on ``on`` (만 나이).

    Someone born on 29 February completes a year on 1 March in other years: the Civil Act
    counts the day of birth, and a period ending on a day a month lacks ends on its last day.
    """
    before_birthday = (on.month, on.day) < (birthdate.month, birthdate.day)
    return on.year - birthdate.year - int(before_birthday)


def _text(value: str, name: str) -> str:
    if not isinstance(value, str) or not value.strip():
        raise InvalidInput(f"{name} is empty", field=name)
    if len(value) > _MAX_TEXT or _CONTROL.search(value):
        raise InvalidInput(
            f"{name} must be at most {_MAX_TEXT} characters without control characters",
            field=name,
        )
    return value.strip()


def _status_claim(status: Mapping[str, Any]) -> dict[str, Any]:
    entry = status.get("status_list") if isinstance(status, Mapping) else None
    idx = entry.get("idx") if isinstance(entry, Mapping) else None
    uri = entry.get("uri") if isinstance(entry, Mapping) else None
    if isinstance(idx, bool) or not isinstance(idx, int) or idx < 0 or not isinstance(uri, str):
        raise InvalidInput(
            'status must be {"status_list": {"idx": a non-negative integer, "uri": a URI}}'
        )
    return {"status_list": {"idx": idx, "uri": uri}}


def issue_resident_credential(
    claims: ResidentClaims,
    *,
    issuer: str,
    holder_jwk: Mapping[str, str],
    status: Mapping[str, Any] | None,
    signer: Signer,
    now: datetime,
    lifetime: timedelta,
) -> str:
    """Issue a resident credential: ``<JWT>~<D1>~...~<Dn>~``.

    Parameters
    ----------
    claims
        Who the resident is (checked by a civil servant at enrolment).
    issuer
        ``iss``; ``vct`` is :func:`resident_vct` of it.
    holder_jwk
        The holder's P-256 public key from the OpenID4VCI proof; ``cnf.jwk`` keeps only its
        public members.
    status
        ``{"status_list": {"idx": ..., "uri": ...}}``, or ``None`` for a credential that cannot
        be revoked.
    signer
        The issuer's key (KMS in a deployment).
    now, lifetime
        ``iat`` and ``exp = now + lifetime``; ``age_equal_or_over`` is computed on ``now``'s date
        in Korea.

    Raises
    ------
    InvalidInput
        Naming the claim that is empty, too long, unknown (jurisdiction) or impossible (a birth
        date or residence in the future, residence before birth), or a holder key that is not
        P-256.
    """
    if now.tzinfo is None:
        raise ValueError("now must be an aware datetime")
    if lifetime <= timedelta(0):
        raise InvalidInput("lifetime must be positive")
    today = now.astimezone(KST).date()
    given_name = _text(claims.given_name, "given_name")
    family_name = _text(claims.family_name, "family_name")
    address = _text(claims.address, "address")
    try:
        jurisdiction = jurisdictions.known(_text(claims.jurisdiction, "jurisdiction"))
    except NotFound as exc:  # well formed, but none of the 31: wrong here, not missing
        raise InvalidInput(exc.message, field="jurisdiction") from None
    if claims.birthdate > today:
        raise InvalidInput("birthdate is in the future", field="birthdate")
    if not claims.birthdate <= claims.resident_since <= today:
        raise InvalidInput(
            "resident_since must be between the birth date and today", field="resident_since"
        )
    age = age_in_years(claims.birthdate, today)

    builder = rfc9901.DisclosureBuilder()
    age_equal_or_over = builder.conceal_object(
        {}, {threshold: age >= int(threshold) for threshold in AGE_THRESHOLDS}, decoys=_decoys()
    )
    plain: dict[str, Any] = {
        "iss": issuer,
        "vct": resident_vct(issuer),
        "exp": int((now + lifetime).timestamp()),
        "cnf": {"jwk": public_jwk(holder_jwk)},
    }
    if status is not None:
        plain["status"] = _status_claim(status)
    concealed = {
        "iat": int(now.timestamp()),
        "given_name": given_name,
        "family_name": family_name,
        "birthdate": claims.birthdate.isoformat(),
        "age_equal_or_over": age_equal_or_over,
        "jurisdiction": jurisdiction,
        # OpenID Connect's address claim is an object; the one line is its "formatted" member.
        "address": {"formatted": address},
        "resident_since": claims.resident_since.isoformat(),
    }
    payload = builder.conceal_object(plain, concealed, decoys=_decoys())
    return rfc9901.issue_sd_jwt(payload, builder.disclosures, signer=signer, typ=TYP)


def _decoys() -> int:
    return _MIN_DECOYS + secrets.randbelow(_MAX_DECOYS - _MIN_DECOYS + 1)


# --- verification ---------------------------------------------------------------------------


def _time(payload: Mapping[str, Any], name: str) -> float | None:
    if name not in payload:
        return None
    value = payload[name]
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise VerificationFailed("claim_invalid", f"{name} is not a number")
    return float(value)


def _moment(seconds: float | None) -> datetime | None:
    return None if seconds is None else datetime.fromtimestamp(seconds, UTC)


def _status(payload: Mapping[str, Any]) -> dict[str, Any] | None:
    if "status" not in payload:
        return None
    status = payload["status"]
    entry = status.get("status_list") if isinstance(status, dict) else None
    if not isinstance(entry, dict):
        raise VerificationFailed("status_malformed")
    idx, uri = entry.get("idx"), entry.get("uri")
    if isinstance(idx, bool) or not isinstance(idx, int) or idx < 0 or not isinstance(uri, str):
        raise VerificationFailed("status_malformed")
    return status


def _verify_sd_jwt_vc(
    parts: rfc9901.SdJwtParts, issuer_jwks: IssuerKeys, now: datetime
) -> VerifiedCredential:
    # RFC 9901 section 7.1, step 2: the Issuer-signed JWT.
    jws = parse_jws(parts.issuer_jwt)
    check_header(jws.header, TYP)
    issuer, kid = jws.payload.get("iss"), jws.header.get("kid")
    if not isinstance(issuer, str) or not issuer:
        raise VerificationFailed("claim_missing", "the credential names no issuer (iss)")
    if not isinstance(kid, str) or not kid:
        raise VerificationFailed("issuer_key", "the credential's header names no key (kid)")
    verify_signature(jws, issuer_jwks(issuer, kid))
    rfc9901.check_sd_alg(jws.payload)
    # Steps 3 to 5: the disclosures.
    processed = rfc9901.process(jws.payload, parts.disclosures)
    for path in processed.paths.values():
        if path[0] in NEVER_DISCLOSABLE:
            raise VerificationFailed("sd_forbidden", f"{path[0]} arrived in a disclosure")
    claims = processed.payload
    # Step 6 and SD-JWT VC: the claims validity and holder binding depend on.
    vct = claims.get("vct")
    if not isinstance(vct, str) or not vct:
        raise VerificationFailed("claim_missing", "the credential has no type (vct)")
    cnf = claims.get("cnf")
    holder = cnf.get("jwk") if isinstance(cnf, dict) else None
    if not isinstance(holder, dict):
        raise VerificationFailed("cnf")
    try:
        holder_jwk = public_jwk(holder)
    except InvalidInput:
        raise VerificationFailed("cnf") from None
    moment = now.timestamp()
    skew = CLOCK_SKEW.total_seconds()
    expires = _time(claims, "exp")
    if expires is None:
        # This verifier's policy: a credential that never expires is not accepted.
        raise VerificationFailed("claim_missing", "the credential has no expiry (exp)")
    if expires <= moment:
        raise VerificationFailed("expired")
    not_before = _time(claims, "nbf")
    if not_before is not None and not_before > moment + skew:
        raise VerificationFailed("not_yet_valid")
    issued = _time(claims, "iat")
    if issued is not None and issued > moment + skew:
        raise VerificationFailed("iat_future")
    return VerifiedCredential(
        issuer=issuer,
        vct=vct,
        claims=claims,
        holder_jwk=holder_jwk,
        status=_status(claims),
        issued_at=_moment(issued),
        expires_at=_moment(expires),
    )


def _check_status(credential: VerifiedCredential, status_of: StatusOf) -> None:
    if credential.status is None:
        return
    entry = credential.status["status_list"]
    value = status_of(entry["uri"], entry["idx"])
    if value == VALID:
        return
    if value == INVALID:
        raise VerificationFailed("revoked")
    if value == SUSPENDED:
        raise VerificationFailed("suspended")
    # 3 and 0x0C-0x0F are application-specific, the rest unregistered: none means "valid".
    raise VerificationFailed("status_unknown")


def verify_presentation(
    presentation: str,
    *,
    issuer_jwks: IssuerKeys,
    nonce: str,
    audience: str,
    now: datetime,
    max_kb_age: timedelta = timedelta(minutes=5),
    status_of: StatusOf | None = None,
) -> VerifiedCredential:
    """Verify an SD-JWT VC presentation (SD-JWT+KB) as a verifier: every check, key binding
    required.

    Parameters
    ----------
    presentation
        ``<JWT>~<D1>~...~<Dn>~<KB-JWT>`` as received.
    issuer_jwks
        ``(iss, kid) -> jwk`` for the issuers this verifier trusts.
    nonce, audience
        This transaction's nonce and this verifier's client identifier (KB-JWT ``nonce`` and
        ``aud``). That the nonce is used once is the caller's to keep.
    now
        The verifier's time.
    max_kb_age
        How old the KB-JWT may be.
    status_of
        ``(uri, idx) -> status`` from the Token Status List; ``None`` skips the status check.

    Raises
    ------
    VerificationFailed
        With the reason of the first check that fails (docs/WALLET.md lists them in order).
    """
    parts = rfc9901.split_sd_jwt(presentation)
    if parts.kb_jwt is None:
        # RFC 9901 section 7.3, step 2: required by policy, so a stripped KB-JWT is refused
        # whatever else the presentation holds.
        raise VerificationFailed("kb_missing")
    credential = _verify_sd_jwt_vc(parts, issuer_jwks, now)
    rfc9901.verify_key_binding(
        parts,
        credential.holder_jwk,
        nonce=nonce,
        audience=audience,
        now=now,
        max_age=max_kb_age,
    )
    if status_of is not None:
        _check_status(credential, status_of)
    return credential


def verify_issued_credential(
    sd_jwt: str, *, issuer_jwks: IssuerKeys, now: datetime
) -> VerifiedCredential:
    """Verify a credential as the holder receives it from the issuer (no KB-JWT; RFC 9901
    section 7.2), with every disclosure.

    Raises
    ------
    VerificationFailed
        ``kb_unexpected`` for an SD-JWT+KB, else as :func:`verify_presentation` up to key
        binding.
    """
    parts = rfc9901.split_sd_jwt(sd_jwt)
    if parts.kb_jwt is not None:
        raise VerificationFailed("kb_unexpected")
    return _verify_sd_jwt_vc(parts, issuer_jwks, now)
