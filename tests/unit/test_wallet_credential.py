"""The resident credential (SD-JWT VC): what issuance puts where, and every verification check
with its reason, in the order RFC 9901 section 7 and SD-JWT VC give them."""

from __future__ import annotations

import json
from datetime import UTC, date, datetime, timedelta
from typing import Any

import pytest

from gyeonggi.common.errors import InvalidInput
from gyeonggi.wallet.credential import (
    NEVER_DISCLOSABLE,
    TYP,
    age_in_years,
    resident_vct,
    verify_issued_credential,
    verify_presentation,
)
from gyeonggi.wallet.dcql import matches, parse_dcql, paths_to_disclose
from gyeonggi.wallet.errors import VerificationFailed
from gyeonggi.wallet.jose import (
    KMS_RAW_LIMIT,
    LocalSigner,
    b64url_decode,
    b64url_encode,
    encode_jws,
    json_loads,
    sign_jws,
    unverified_header,
)
from gyeonggi.wallet.sd_jwt import (
    DisclosureBuilder,
    digest,
    disclosable_paths,
    holder_claims,
    present,
    split_sd_jwt,
)
from gyeonggi.wallet.status_list import INVALID, SUSPENDED, VALID
from tests.unit.wallet_support import (
    AUDIENCE,
    ISSUER,
    LIFETIME,
    NONCE,
    NOW,
    STATUS_URI,
    Wallet,
    resident,
    signed_sd_jwt,
    vc_payload,
)


@pytest.fixture
def wallet() -> Wallet:
    return Wallet()


def _payload(credential: str) -> dict[str, Any]:
    result: dict[str, Any] = json_loads(b64url_decode(credential.split("~")[0].split(".")[1]))
    return result


def _disclosed(credential: str) -> dict[str, Any]:
    return {
        content[1]: content[2]
        for content in (json_loads(b64url_decode(d)) for d in split_sd_jwt(credential).disclosures)
        if len(content) == 3
    }


def _verify(wallet: Wallet, presentation: str, **changes: Any) -> Any:
    options: dict[str, Any] = {
        "issuer_jwks": wallet.jwks,
        "nonce": NONCE,
        "audience": AUDIENCE,
        "now": NOW,
    }
    options.update(changes)
    return verify_presentation(presentation, **options)


def _reason(wallet: Wallet, presentation: str, **changes: Any) -> str:
    with pytest.raises(VerificationFailed) as failure:
        _verify(wallet, presentation, **changes)
    return failure.value.reason


def _present(wallet: Wallet, credential: str, *paths: tuple[str | int, ...]) -> str:
    return wallet.present(credential, *paths)


# --- issuance -------------------------------------------------------------------------------


def test_only_what_sd_jwt_vc_forbids_to_conceal_is_in_clear(wallet: Wallet) -> None:
    credential = wallet.issue()
    payload = _payload(credential)
    assert set(payload) == {"iss", "vct", "exp", "cnf", "status", "_sd", "_sd_alg"}
    assert payload["iss"] == ISSUER
    assert payload["vct"] == resident_vct(ISSUER) == ISSUER + "/credentials/gyeonggi-resident"
    assert payload["exp"] == int((NOW + LIFETIME).timestamp())
    assert payload["_sd_alg"] == "sha-256"
    assert payload["status"] == {"status_list": {"idx": 7, "uri": STATUS_URI}}
    assert unverified_header(credential) == {
        "alg": "ES256",
        "typ": "dc+sd-jwt",
        "kid": wallet.issuer.kid,
    }


def test_every_other_claim_is_selectively_disclosable(wallet: Wallet) -> None:
    credential = wallet.issue()
    assert _disclosed(credential) == {
        "iat": int(NOW.timestamp()),
        "given_name": "길동",
        "family_name": "홍",
        "birthdate": "2000-05-05",
        "age_equal_or_over": {"_sd": _disclosed_age_digests(credential)},
        "jurisdiction": "suwon.gg.kr",
        "address": {"formatted": "경기도 수원시 팔달구 효원로 1"},
        "resident_since": "2010-03-02",
        "14": True,
        "19": True,
        "65": False,
    }
    assert not NEVER_DISCLOSABLE & {path[0] for path in disclosable_paths(credential)}


def _disclosed_age_digests(credential: str) -> list[str]:
    ages = next(
        c[2]
        for c in (json_loads(b64url_decode(d)) for d in split_sd_jwt(credential).disclosures)
        if c[1] == "age_equal_or_over"
    )
    digests: list[str] = ages["_sd"]
    return digests


def test_each_age_is_disclosable_on_its_own_with_decoys(wallet: Wallet) -> None:
    credential = wallet.issue()
    assert {p for p in disclosable_paths(credential) if p[0] == "age_equal_or_over"} == {
        ("age_equal_or_over",),
        ("age_equal_or_over", "14"),
        ("age_equal_or_over", "19"),
        ("age_equal_or_over", "65"),
    }
    digests = _disclosed_age_digests(credential)
    assert digests == sorted(digests) and 4 <= len(digests) <= 7


def test_decoys_pad_the_top_level_and_digests_are_sorted(wallet: Wallet) -> None:
    counts = set()
    for _ in range(20):
        sd = _payload(wallet.issue())["_sd"]
        assert sd == sorted(sd)
        counts.add(len(sd))
    # 8 concealed claims and 1 to 4 decoys, a random number each time.
    assert counts <= set(range(9, 13)) and len(counts) > 1


def test_salts_are_128_bits_and_never_repeat(wallet: Wallet) -> None:
    salts = [
        json_loads(b64url_decode(d))[0]
        for _ in range(5)
        for d in split_sd_jwt(wallet.issue()).disclosures
    ]
    assert all(len(b64url_decode(s)) >= 16 for s in salts)
    assert len(set(salts)) == len(salts)


def test_cnf_holds_only_the_holders_public_key(wallet: Wallet) -> None:
    holder = {**wallet.holder.public_jwk(), "d": "must-not-travel", "use": "sig"}
    cnf = _payload(wallet.issue(holder_jwk=holder))["cnf"]
    assert cnf == {"jwk": {k: wallet.holder.public_jwk()[k] for k in ("kty", "crv", "x", "y")}}


def test_a_credential_without_status() -> None:
    wallet = Wallet()
    credential = wallet.issue(status=None)
    assert "status" not in _payload(credential)
    assert _verify(wallet, _present(wallet, credential), status_of=_never).status is None


def _never(uri: str, idx: int) -> int:
    raise AssertionError("no status to check")


def test_ages_are_counted_on_the_korean_date() -> None:
    # 4 May 2026, 15:30 UTC is already 5 May in Korea: the resident born 5 May 2007 is 19.
    wallet = Wallet()
    moment = datetime(2026, 5, 4, 15, 30, tzinfo=UTC)
    credential = wallet.issue(claims=resident(birthdate=date(2007, 5, 5)), now=moment)
    assert _disclosed(credential)["19"] is True
    day_before = datetime(2026, 5, 4, 14, 59, tzinfo=UTC)  # 23:59 on 4 May in Korea
    credential = wallet.issue(claims=resident(birthdate=date(2007, 5, 5)), now=day_before)
    assert _disclosed(credential)["19"] is False


@pytest.mark.parametrize(
    ("birthdate", "on", "age"),
    [
        (date(2000, 5, 5), date(2026, 5, 4), 25),
        (date(2000, 5, 5), date(2026, 5, 5), 26),
        (date(2008, 2, 29), date(2022, 2, 28), 13),  # no 29 February: a year completes on 1 March
        (date(2008, 2, 29), date(2022, 3, 1), 14),
        (date(2008, 2, 29), date(2024, 2, 29), 16),
        (date(1961, 1, 1), date(2026, 1, 1), 65),
    ],
)
def test_age_in_completed_years(birthdate: date, on: date, age: int) -> None:
    assert age_in_years(birthdate, on) == age


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"given_name": "  "}, "given_name"),
        ({"family_name": "홍\n"}, "family_name"),
        ({"address": "x" * 257}, "address"),
        ({"jurisdiction": "busan.go.kr"}, "jurisdiction"),
        ({"jurisdiction": "not an id"}, None),
        ({"birthdate": date(2027, 1, 1)}, "birthdate"),
        ({"resident_since": date(1999, 1, 1)}, "resident_since"),
        ({"resident_since": date(2027, 1, 1)}, "resident_since"),
    ],
)
def test_impossible_claims_are_refused(
    wallet: Wallet, changes: dict[str, Any], field: str | None
) -> None:
    with pytest.raises(InvalidInput) as refused:
        wallet.issue(claims=resident(**changes))
    if field is not None:
        assert refused.value.field == field


def test_bad_status_lifetime_and_holder_keys_are_refused(wallet: Wallet) -> None:
    for changes in (
        {"status": {"status_list": {"idx": -1, "uri": STATUS_URI}}},
        {"status": {"status_list": {"idx": True, "uri": STATUS_URI}}},
        {"status": {"idx": 1}},
        {"lifetime": timedelta(0)},
        {"holder_jwk": {"kty": "RSA", "n": "x", "e": "AQAB"}},
    ):
        with pytest.raises(InvalidInput):
            wallet.issue(**changes)


def test_the_signing_input_stays_under_kms_raw_limit(wallet: Wallet) -> None:
    # KMS signs RAW messages up to 4,096 bytes; long values live in disclosures, not in the
    # signed payload, so even the longest allowed claims keep it small.
    longest = resident(given_name="가" * 256, family_name="나" * 256, address="다" * 256)
    credential = wallet.issue(
        claims=longest,
        issuer="https://" + "w" * 200 + ".gg.go.kr",
        status={"status_list": {"idx": 2**40, "uri": "https://" + "s" * 300 + ".kr/1"}},
    )
    signing_input = credential.split("~")[0].rsplit(".", 1)[0]
    assert len(signing_input.encode("ascii")) < KMS_RAW_LIMIT
    usual = wallet.issue().split("~")[0].rsplit(".", 1)[0]
    assert len(usual) < 1600


# --- verification: the happy path -----------------------------------------------------------


def test_over_19_without_the_birth_date(wallet: Wallet) -> None:
    credential = wallet.issue()
    verified = _verify(
        wallet, _present(wallet, credential, ("age_equal_or_over", "19")), status_of=lambda u, i: 0
    )
    assert verified.claims["age_equal_or_over"] == {"19": True}
    assert "birthdate" not in verified.claims and "given_name" not in verified.claims
    assert verified.issuer == ISSUER and verified.vct == resident_vct(ISSUER)
    assert verified.holder_jwk == {
        k: wallet.holder.public_jwk()[k] for k in ("kty", "crv", "x", "y")
    }
    assert verified.expires_at == NOW + LIFETIME
    assert verified.issued_at is None  # iat is disclosable, and was not disclosed
    assert verified.status == {"status_list": {"idx": 7, "uri": STATUS_URI}}
    assert wallet.lookups == [(ISSUER, wallet.issuer.kid)]


def test_everything_disclosed(wallet: Wallet) -> None:
    credential = wallet.issue()
    verified = _verify(
        wallet, _present(wallet, credential, ("iat",), ("given_name",), ("address",))
    )
    assert verified.issued_at == NOW
    assert verified.claims["address"] == {"formatted": "경기도 수원시 팔달구 효원로 1"}


def test_the_holder_checks_a_credential_on_receipt(wallet: Wallet) -> None:
    credential = wallet.issue()
    verified = verify_issued_credential(credential, issuer_jwks=wallet.jwks, now=NOW)
    assert verified.claims["birthdate"] == "2000-05-05"
    with pytest.raises(VerificationFailed) as failure:
        verify_issued_credential(_present(wallet, credential), issuer_jwks=wallet.jwks, now=NOW)
    assert failure.value.reason == "kb_unexpected"


# --- verification: the Issuer-signed JWT ----------------------------------------------------


def test_a_stripped_kb_jwt_is_refused_first(wallet: Wallet) -> None:
    shown = _present(wallet, wallet.issue(), ("given_name",))
    stripped = split_sd_jwt(shown).presented
    assert _reason(wallet, stripped) == "kb_missing"
    assert wallet.lookups == []  # refused before any key was looked up


@pytest.mark.parametrize("typ", ["vc+sd-jwt", "example+sd-jwt", "jwt", None])
def test_the_credential_must_be_typed_dc_sd_jwt(wallet: Wallet, typ: str | None) -> None:
    header = {} if typ is None else {"typ": typ}
    credential = signed_sd_jwt(wallet.issuer, vc_payload(wallet), [], header=header)
    assert _reason(wallet, _present(wallet, credential)) == "typ"


def test_alg_none_and_hs256_credentials_are_refused(wallet: Wallet) -> None:
    good = wallet.issue()
    body = good.split("~")[0].split(".")[1]
    for alg in ("none", "HS256", "ES384"):
        head = b64url_encode(
            f'{{"alg":"{alg}","typ":"{TYP}","kid":"{wallet.issuer.kid}"}}'.encode()
        )
        forged = f"{head}.{body}.{good.split('~')[0].split('.')[2]}~"
        assert _reason(wallet, _present(wallet, forged)) == "alg"


def test_an_unknown_issuer_or_key_is_refused(wallet: Wallet) -> None:
    stranger = Wallet(holder=wallet.holder)
    credential = stranger.issue()  # same iss, another key: its kid is unknown
    assert _reason(wallet, _present(wallet, credential)) == "issuer_key"
    other_iss = signed_sd_jwt(wallet.issuer, vc_payload(wallet, iss="https://elsewhere"), [])
    assert _reason(wallet, _present(wallet, other_iss)) == "issuer_key"
    no_kid = encode_jws({"typ": TYP}, vc_payload(wallet), wallet.issuer) + "~"
    assert _reason(wallet, _present(wallet, no_kid)) == "issuer_key"


def test_a_credential_without_iss_is_refused(wallet: Wallet) -> None:
    credential = signed_sd_jwt(wallet.issuer, vc_payload(wallet, iss=None), [])
    assert _reason(wallet, _present(wallet, credential)) == "claim_missing"


def test_a_changed_payload_fails_the_signature(wallet: Wallet) -> None:
    credential = wallet.issue()
    head, body, signature = credential.split("~")[0].split(".")
    payload = json_loads(b64url_decode(body))
    payload["exp"] += 10 * 365 * 86400
    changed = f"{head}.{b64url_encode(json.dumps(payload).encode())}.{signature}~"
    assert _reason(wallet, _present(wallet, changed)) == "signature"


def test_another_digest_algorithm_is_refused(wallet: Wallet) -> None:
    for alg in ("sha-512", "md5", "SHA-256"):
        credential = signed_sd_jwt(wallet.issuer, vc_payload(wallet, _sd_alg=alg), [])
        assert _reason(wallet, _present(wallet, credential)) == "sd_alg"
    # Absent means sha-256 (RFC 9901 section 4.1.1).
    default = signed_sd_jwt(wallet.issuer, vc_payload(wallet, _sd_alg=None), [])
    _verify(wallet, _present(wallet, default))


def test_a_tampered_disclosure_is_unreferenced(wallet: Wallet) -> None:
    shown = _present(wallet, wallet.issue(), ("given_name",))
    parts = split_sd_jwt(shown)
    (given,) = parts.disclosures
    salt, _, _ = json_loads(b64url_decode(given))
    forged = b64url_encode(json.dumps([salt, "given_name", "철수"]).encode())
    # The holder signs whatever it sends; the digest over the forged text matches nothing.
    presented = f"{parts.issuer_jwt}~{forged}~"
    kb = encode_jws(
        {"typ": "kb+jwt"},
        {
            "iat": int(NOW.timestamp()),
            "aud": AUDIENCE,
            "nonce": NONCE,
            "sd_hash": digest(presented),
        },
        wallet.holder,
    )
    assert _reason(wallet, presented + kb) == "disclosure_unreferenced"


# --- verification: SD-JWT VC's claim rules --------------------------------------------------


def _present_all(wallet: Wallet, credential: str) -> str:
    return present(
        credential,
        disclose=lambda path: True,
        holder=wallet.holder,
        nonce=NONCE,
        audience=AUDIENCE,
        now=NOW,
    )


@pytest.mark.parametrize("claim", ["exp", "cnf", "status", "vct", "nbf", "vct#integrity"])
def test_a_validity_claim_in_a_disclosure_is_refused(wallet: Wallet, claim: str) -> None:
    # An issuer that made exp disclosable would let a holder hide that a credential expired:
    # SD-JWT VC forbids it, and this verifier enforces it.
    plain = vc_payload(wallet)
    values = {
        "exp": plain["exp"],
        "cnf": plain["cnf"],
        "status": {"status_list": {"idx": 1, "uri": STATUS_URI}},
        "vct": plain["vct"],
        "nbf": int(NOW.timestamp()) - 60,
        "vct#integrity": "sha256-0000",
    }
    plain.pop(claim, None)
    builder = DisclosureBuilder()
    payload = builder.conceal_object(plain, {claim: values[claim]})
    credential = signed_sd_jwt(wallet.issuer, payload, builder.disclosures)
    assert _reason(wallet, _present_all(wallet, credential)) == "sd_forbidden"


def test_a_sub_claim_of_a_validity_claim_in_a_disclosure_is_refused(wallet: Wallet) -> None:
    builder = DisclosureBuilder()
    plain = vc_payload(wallet)
    plain["status"] = builder.conceal_object({}, {"status_list": {"idx": 1, "uri": STATUS_URI}})
    payload = builder.conceal_object(plain, {})
    credential = signed_sd_jwt(wallet.issuer, payload, builder.disclosures)
    assert _reason(wallet, _present_all(wallet, credential)) == "sd_forbidden"


@pytest.mark.parametrize(("claim", "value"), [("vct", None), ("vct", 7), ("exp", None)])
def test_required_claims_must_be_present(wallet: Wallet, claim: str, value: Any) -> None:
    credential = signed_sd_jwt(wallet.issuer, vc_payload(wallet, **{claim: value}), [])
    assert _reason(wallet, _present(wallet, credential)) == "claim_missing"


@pytest.mark.parametrize("claim", ["exp", "nbf", "iat"])
def test_times_must_be_numbers(wallet: Wallet, claim: str) -> None:
    credential = signed_sd_jwt(wallet.issuer, vc_payload(wallet, **{claim: "tomorrow"}), [])
    assert _reason(wallet, _present(wallet, credential)) == "claim_invalid"


def test_an_expired_credential_is_refused(wallet: Wallet) -> None:
    credential = wallet.issue(lifetime=timedelta(hours=1))
    later = NOW + timedelta(hours=1)
    shown = wallet.present(credential, now=later)
    assert _reason(wallet, shown, now=later) == "expired"
    _verify(
        wallet,
        wallet.present(credential, now=later - timedelta(seconds=1)),
        now=later - timedelta(seconds=1),
    )


def test_a_credential_not_yet_valid_is_refused(wallet: Wallet) -> None:
    soon = int((NOW + timedelta(minutes=5)).timestamp())
    credential = signed_sd_jwt(wallet.issuer, vc_payload(wallet, nbf=soon), [])
    assert _reason(wallet, _present(wallet, credential)) == "not_yet_valid"
    within_skew = int((NOW + timedelta(seconds=30)).timestamp())
    _verify(
        wallet,
        _present(wallet, signed_sd_jwt(wallet.issuer, vc_payload(wallet, nbf=within_skew), [])),
    )


def test_iat_is_checked_after_processing(wallet: Wallet) -> None:
    # iat arrives in a disclosure: checked once the disclosure is put back.
    credential = wallet.issue(now=NOW + timedelta(hours=1))
    shown = wallet.present(credential, ("iat",))
    assert _reason(wallet, shown) == "iat_future"
    # Not disclosed, nothing to check.
    _verify(wallet, wallet.present(credential))


def test_a_credential_without_a_usable_holder_key_is_refused(wallet: Wallet) -> None:
    for cnf in (None, {"kid": "x"}, {"jwk": {"kty": "RSA", "n": "x", "e": "AQAB"}}, {"jwk": "x"}):
        credential = signed_sd_jwt(wallet.issuer, vc_payload(wallet, cnf=cnf), [])
        assert _reason(wallet, _present(wallet, credential)) == "cnf"


# --- verification: key binding --------------------------------------------------------------


def test_the_kb_jwt_must_be_signed_by_the_credentials_holder(wallet: Wallet) -> None:
    credential = wallet.issue()
    thief = LocalSigner.generate()
    stolen = present(credential, disclose=[], holder=thief, nonce=NONCE, audience=AUDIENCE, now=NOW)
    assert _reason(wallet, stolen) == "kb_signature"


def test_kb_nonce_audience_freshness_and_sd_hash(wallet: Wallet) -> None:
    shown = _present(wallet, wallet.issue(), ("given_name",))
    assert _reason(wallet, shown, nonce="replayed") == "kb_nonce"
    assert _reason(wallet, shown, audience="x509_san_dns:other") == "kb_aud"
    assert _reason(wallet, shown, now=NOW + timedelta(minutes=6)) == "kb_stale"
    assert _reason(
        wallet, shown, now=NOW + timedelta(minutes=6), max_kb_age=timedelta(minutes=3)
    ) == ("kb_stale")
    parts = split_sd_jwt(shown)
    assert _reason(wallet, f"{parts.issuer_jwt}~{parts.kb_jwt}") == "sd_hash"


# --- verification: status -------------------------------------------------------------------


@pytest.mark.parametrize(
    ("status", "reason"),
    [(INVALID, "revoked"), (SUSPENDED, "suspended"), (3, "status_unknown"), (15, "status_unknown")],
)
def test_status_other_than_valid_is_refused(wallet: Wallet, status: int, reason: str) -> None:
    asked: list[tuple[str, int]] = []

    def status_of(uri: str, idx: int) -> int:
        asked.append((uri, idx))
        return status

    shown = _present(wallet, wallet.issue(), ("given_name",))
    assert _reason(wallet, shown, status_of=status_of) == reason
    assert asked == [(STATUS_URI, 7)]
    assert _verify(wallet, shown, status_of=lambda u, i: VALID).claims["given_name"] == "길동"


def test_status_is_checked_last(wallet: Wallet) -> None:
    # The Token Status List draft (section 8.3): an invalid credential is refused without
    # asking for its status.
    shown = _present(wallet, wallet.issue(), ("given_name",))
    assert _reason(wallet, shown, nonce="other", status_of=_never) == "kb_nonce"


@pytest.mark.parametrize(
    "status",
    [
        {"status_list": {"idx": "7", "uri": STATUS_URI}},
        {"status_list": {"idx": -1, "uri": STATUS_URI}},
        {"status_list": {"idx": 7}},
        {"other_mechanism": {}},
        "revoked",
    ],
)
def test_a_malformed_status_claim_is_refused(wallet: Wallet, status: Any) -> None:
    credential = signed_sd_jwt(wallet.issuer, vc_payload(wallet, status=status), [])
    assert _reason(wallet, _present(wallet, credential)) == "status_malformed"


def test_a_status_lookup_failure_is_the_callers_to_report(wallet: Wallet) -> None:
    shown = _present(wallet, wallet.issue())

    def out_of_range(uri: str, idx: int) -> int:
        raise VerificationFailed("status_index")

    assert _reason(wallet, shown, status_of=out_of_range) == "status_index"


def test_the_issuer_key_lookup_is_per_kid_for_rotation(wallet: Wallet) -> None:
    # Rotation: an old key keeps verifying the credentials it signed while a new one signs.
    old, new = wallet.issuer, LocalSigner.generate()
    keys = {old.kid: old.public_jwk(), new.kid: new.public_jwk()}

    def jwks(iss: str, kid: str) -> dict[str, str]:
        if iss != ISSUER or kid not in keys:
            raise VerificationFailed("issuer_key")
        return keys[kid]

    issued_before = wallet.issue()
    issued_after = Wallet(issuer=new, holder=wallet.holder).issue()
    for credential in (issued_before, issued_after):
        _verify(wallet, _present(wallet, credential), issuer_jwks=jwks)


def test_verification_messages_never_carry_claim_values(wallet: Wallet) -> None:
    credential = wallet.issue()
    shown = _present(wallet, credential, ("given_name",), ("birthdate",))
    for changes in ({"nonce": "x"}, {"status_of": lambda u, i: INVALID}, {"audience": "y"}):
        with pytest.raises(VerificationFailed) as failure:
            _verify(wallet, shown, **changes)
        assert "길동" not in str(failure.value) and "2000" not in str(failure.value)


def test_dates_are_iso_strings_in_disclosures(wallet: Wallet) -> None:
    disclosed = _disclosed(wallet.issue())
    assert date.fromisoformat(disclosed["birthdate"]) == date(2000, 5, 5)
    assert date.fromisoformat(disclosed["resident_since"]) == date(2010, 3, 2)


def test_a_credential_signed_by_the_issuer_but_not_dc_sd_jwt_never_verifies(wallet: Wallet) -> None:
    # An ordinary JWT from the same key (e.g. a status list token) is no credential.
    token = sign_jws({"typ": "statuslist+jwt"}, vc_payload(wallet), wallet.issuer)
    assert _reason(wallet, _present(wallet, token + "~")) == "typ"


@pytest.mark.parametrize(
    "jwk",
    [
        {"kty": "EC", "crv": "P-256", "x": ["not", "a", "string"], "y": {"x": 1}},
        {"kty": "EC", "crv": "P-256", "x": 1, "y": 2},
        ["EC"],
    ],
)
def test_a_holder_key_of_the_wrong_types_is_refused_not_crashed(wallet: Wallet, jwk: Any) -> None:
    credential = signed_sd_jwt(wallet.issuer, vc_payload(wallet, cnf={"jwk": jwk}), [])
    assert _reason(wallet, _present(wallet, credential)) == "cnf"


def test_text_that_is_not_ascii_is_malformed(wallet: Wallet) -> None:
    shown = _present(wallet, wallet.issue(), ("given_name",))
    parts = split_sd_jwt(shown)
    assert _reason(wallet, f"{parts.issuer_jwt}~길동~{parts.kb_jwt}") == "malformed"


def test_a_dcql_query_from_request_to_verified_match(wallet: Wallet) -> None:
    # The whole exchange with the wallet's pieces: the verifier's query, the holder's choice,
    # the presentation, the verifier's checks and match.
    query = parse_dcql(
        {
            "credentials": [
                {
                    "id": "resident",
                    "format": "dc+sd-jwt",
                    "meta": {"vct_values": [resident_vct(ISSUER)]},
                    "claims": [
                        {"id": "adult", "path": ["age_equal_or_over", "19"], "values": [True]},
                        {"id": "city", "path": ["jurisdiction"]},
                        {"id": "born", "path": ["birthdate"]},
                    ],
                    "claim_sets": [["adult", "city"], ["born", "city"]],
                }
            ]
        }
    )
    credential = wallet.issue()
    claims = holder_claims(credential)
    credential_id = matches(query, resident_vct(ISSUER), claims)
    assert credential_id == "resident"
    paths = paths_to_disclose(query, credential_id, claims)
    assert paths == {("age_equal_or_over", "19"), ("jurisdiction",)}
    shown = present(
        credential, disclose=paths, holder=wallet.holder, nonce=NONCE, audience=AUDIENCE, now=NOW
    )
    verified = _verify(wallet, shown, status_of=lambda uri, idx: VALID)
    assert matches(query, verified.vct, verified.claims) == "resident"
    assert "birthdate" not in verified.claims
    assert verified.claims["jurisdiction"] == "suwon.gg.kr"
