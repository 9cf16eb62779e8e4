"""RFC 9901 SD-JWT: disclosures, processing (section 7.1), presentations and key binding (7.3).

Each rejection the RFC requires has its own test and reason code.
"""

from __future__ import annotations

import json
from datetime import timedelta
from typing import Any

import pytest

from gyeonggi.common.errors import InvalidInput
from gyeonggi.wallet.errors import VerificationFailed
from gyeonggi.wallet.jose import LocalSigner, b64url_decode, b64url_encode, encode_jws, json_loads
from gyeonggi.wallet.sd_jwt import (
    DisclosureBuilder,
    claim_paths,
    digest,
    disclosable_paths,
    holder_claims,
    issue_sd_jwt,
    present,
    process,
    split_sd_jwt,
    verify_key_binding,
)
from tests.unit.wallet_support import AUDIENCE, NONCE, NOW, disclosure

SALT = "_26bc4LT-ac6q2KI6cBW5es"


def _reason(payload: dict[str, Any], disclosures: list[str]) -> str:
    with pytest.raises(VerificationFailed) as failure:
        process(payload, disclosures)
    return failure.value.reason


# --- digests and disclosures ----------------------------------------------------------------


def test_the_rfc_example_disclosure_has_the_rfc_digest() -> None:
    # RFC 9901 section 4.2.3 (data copied from the RFC): the digest of the family_name
    # disclosure is taken over the base64url text, not the JSON it encodes.
    example = "WyJfMjZiYzRMVC1hYzZxMktJNmNCVzVlcyIsICJmYW1pbHlfbmFtZSIsICJNw7ZiaXVzIl0"
    assert digest(example) == "X9yH0Ajrdm1Oij4tWso9UzzKJvPoDxwmuEcO3XAdRC0"
    processed = process({"_sd": [digest(example)]}, [example])
    assert processed.payload == {"family_name": "Möbius"}


def test_rfc_encoding_variants_of_one_claim_are_different_disclosures() -> None:
    # RFC 9901 section 4.2.1 (data from the RFC): three encodings of the same claim. Each is
    # accepted only where its own digest is, since digests cover the text received.
    variants = [
        "WyJfMjZiYzRMVC1hYzZxMktJNmNCVzVlcyIsICJmYW1pbHlfbmFtZSIsICJNXHUwMGY2Yml1cyJd",
        "WyJfMjZiYzRMVC1hYzZxMktJNmNCVzVlcyIsImZhbWlseV9uYW1lIiwiTcO2Yml1cyJd",
        "WwoiXzI2YmM0TFQtYWM2cTJLSTZjQlc1ZXMiLAoiZmFtaWx5X25hbWUiLAoiTcO2Yml1cyIKXQ",
    ]
    for variant in variants:
        assert process({"_sd": [digest(variant)]}, [variant]).payload == {"family_name": "Möbius"}
        other = next(v for v in variants if v != variant)
        assert _reason({"_sd": [digest(other)]}, [variant]) == "disclosure_unreferenced"


def test_builder_salts_are_128_bits_and_unique() -> None:
    builder = DisclosureBuilder()
    builder.conceal_object({}, {f"c{i}": i for i in range(50)})
    salts = [json_loads(b64url_decode(d))[0] for d in builder.disclosures]
    assert all(len(b64url_decode(salt)) == 16 for salt in salts)
    assert len(set(salts)) == 50


def test_builder_sorts_digests_with_decoys_so_order_says_nothing() -> None:
    builder = DisclosureBuilder()
    obj = builder.conceal_object({"iss": "x"}, {"b": 2, "a": 1, "c": 3}, decoys=3)
    assert obj["iss"] == "x"
    assert obj["_sd"] == sorted(obj["_sd"]) and len(obj["_sd"]) == 6
    real = {digest(d) for d in builder.disclosures}
    assert real < set(obj["_sd"])


def test_builder_refuses_reserved_and_clashing_names() -> None:
    builder = DisclosureBuilder()
    for plain, concealed in (({"a": 1}, {"a": 2}), ({}, {"_sd": 1}), ({"...": 1}, {})):
        with pytest.raises(InvalidInput):
            builder.conceal_object(plain, concealed)


# --- processing (section 7.1) ---------------------------------------------------------------


def test_nested_and_recursive_disclosures_are_put_back() -> None:
    builder = DisclosureBuilder()
    address = builder.conceal_object({"country": "KR"}, {"locality": "수원시"}, decoys=1)
    nationalities = [builder.conceal_element("KR"), builder.decoy_element(), "US"]
    payload = builder.conceal_object(
        {"iss": "https://x"}, {"address": address, "nationalities": nationalities}, decoys=2
    )
    processed = process(payload, builder.disclosures)
    assert processed.payload == {
        "iss": "https://x",
        "address": {"country": "KR", "locality": "수원시"},
        "nationalities": ["KR", "US"],
    }
    assert set(processed.paths.values()) == {
        ("address",),
        ("address", "locality"),
        ("nationalities",),
        ("nationalities", 0),
    }


def test_undisclosed_claims_and_elements_are_left_out() -> None:
    builder = DisclosureBuilder()
    payload = builder.conceal_object(
        {}, {"a": 1, "list": [builder.conceal_element("x"), "y"]}, decoys=1
    )
    _, a, list_ = builder.disclosures  # the element is concealed first, inside the object
    assert process(payload, [list_]).payload == {"list": ["y"]}
    assert process(payload, [a]).payload == {"a": 1}
    assert process(payload, []).payload == {}


def test_a_disclosure_that_is_not_base64url_json_array_is_refused() -> None:
    bad = [
        "not base64!",
        b64url_encode(b"not json"),
        b64url_encode(b'{"salt": "x"}'),
        b64url_encode(b"[]"),
        b64url_encode(b'[1, "name", "value"]'),  # the salt must be a string
    ]
    for text in bad:
        assert _reason({"_sd": [digest(text)]}, [text]) == "disclosure_malformed"


def test_a_claim_name_that_is_not_a_string_is_refused() -> None:
    d, h = disclosure(SALT, 7, "value")
    assert _reason({"_sd": [h]}, [d]) == "disclosure_malformed"


@pytest.mark.parametrize("content", [[SALT, "only-two"], [SALT, "a", 1, "extra"], [SALT]])
def test_an_object_disclosure_of_the_wrong_length_is_refused(content: list[Any]) -> None:
    d, h = disclosure(*content)
    assert _reason({"_sd": [h]}, [d]) == "disclosure_length"


@pytest.mark.parametrize("content", [[SALT, "name", "value"], [SALT]])
def test_an_array_disclosure_of_the_wrong_length_is_refused(content: list[Any]) -> None:
    d, h = disclosure(*content)
    assert _reason({"list": [{"...": h}]}, [d]) == "disclosure_length"


@pytest.mark.parametrize("name", ["_sd", "..."])
def test_a_disclosure_of_a_reserved_name_is_refused(name: str) -> None:
    d, h = disclosure(SALT, name, ["x"])
    assert _reason({"_sd": [h]}, [d]) == "disclosure_claim_name"


def test_a_disclosure_of_a_claim_already_present_is_refused() -> None:
    d, h = disclosure(SALT, "iss", "https://evil")
    assert _reason({"iss": "https://x", "_sd": [h]}, [d]) == "disclosure_claim_exists"
    # Two disclosures of the same name at one level.
    d2, h2 = disclosure("other-salt", "iss", "https://other")
    assert _reason({"_sd": [h, h2]}, [d, d2]) == "disclosure_claim_exists"


def test_a_digest_that_appears_twice_is_refused() -> None:
    d, h = disclosure(SALT, "a", 1)
    _, g = disclosure(SALT, "b", 2)
    assert _reason({"_sd": [h, h]}, [d]) == "digest_duplicate"
    # Twice even when nothing discloses it (a decoy repeated), and across levels.
    assert _reason({"_sd": [g], "n": {"_sd": [g]}}, []) == "digest_duplicate"
    element, k = disclosure(SALT, "KR")
    assert _reason({"list": [{"...": k}, {"...": k}]}, [element]) == "digest_duplicate"
    assert _reason({"a": [{"...": k}], "b": {"_sd": [k]}}, [element]) == "digest_duplicate"
    # Repeated through a recursive disclosure.
    inner, inner_h = disclosure(SALT, "c", {"_sd": [g]})
    assert _reason({"_sd": [g, inner_h]}, [inner]) == "digest_duplicate"


def test_a_disclosure_sent_twice_is_refused() -> None:
    d, h = disclosure(SALT, "a", 1)
    assert _reason({"_sd": [h]}, [d, d]) == "disclosure_duplicate"


def test_a_disclosure_referenced_by_nothing_is_refused() -> None:
    d, h = disclosure(SALT, "a", 1)
    stray, _ = disclosure("another", "b", 2)
    assert _reason({"_sd": [h]}, [d, stray]) == "disclosure_unreferenced"


def test_a_nested_disclosure_without_its_parent_is_unreferenced() -> None:
    builder = DisclosureBuilder()
    inner = builder.conceal_object({}, {"19": True})
    payload = builder.conceal_object({}, {"age_equal_or_over": inner})
    over_19, container = builder.disclosures
    assert _reason(payload, [over_19]) == "disclosure_unreferenced"
    assert process(payload, [container, over_19]).payload == {"age_equal_or_over": {"19": True}}


def test_an_array_placeholder_with_other_keys_is_refused() -> None:
    d, h = disclosure(SALT, "KR")
    assert _reason({"list": [{"...": h, "extra": 1}]}, [d]) == "array_placeholder"
    # Even one whose digest nothing discloses.
    assert _reason({"list": [{"...": h, "extra": 1}]}, []) == "array_placeholder"


def test_the_ellipsis_outside_an_array_placeholder_is_refused() -> None:
    d, h = disclosure(SALT, "KR")
    assert _reason({"...": h}, [d]) == "reserved_claim"
    assert _reason({"claim": {"...": h}}, [d]) == "reserved_claim"


@pytest.mark.parametrize(
    "payload",
    [
        {"_sd": "not-an-array"},
        {"_sd": [7]},
        {"_sd": ["too-short"]},
        {"_sd": ["!" * 43]},
        {"list": [{"...": 7}]},
    ],
)
def test_embedded_digests_that_are_not_sha256_digests_are_refused(payload: dict[str, Any]) -> None:
    assert _reason(payload, []) == "disclosure_digest"


def test_sd_alg_only_at_the_top_level() -> None:
    assert process({"_sd_alg": "sha-256", "a": 1}, []).payload == {"a": 1}
    assert _reason({"nested": {"_sd_alg": "sha-256"}}, []) == "sd_alg"
    d, h = disclosure(SALT, "_sd_alg", "md5")
    assert _reason({"_sd": [h]}, [d]) == "sd_alg"


# --- the serialization ----------------------------------------------------------------------


def test_split_keeps_exactly_what_was_received() -> None:
    parts = split_sd_jwt("a.b.c~d1~d2~kb.x.y")
    assert parts.issuer_jwt == "a.b.c" and parts.disclosures == ("d1", "d2")
    assert parts.kb_jwt == "kb.x.y" and parts.presented == "a.b.c~d1~d2~"
    assert split_sd_jwt("a.b.c~").kb_jwt is None


@pytest.mark.parametrize("text", ["a.b.c", "a.b.c~~d~", "~d~", "a.b.c" + "~d" * 600 + "~"])
def test_malformed_serializations_are_refused(text: str) -> None:
    with pytest.raises(VerificationFailed) as failure:
        split_sd_jwt(text)
    assert failure.value.reason == "malformed"


# --- the holder (section 7.2) ---------------------------------------------------------------


def _credential(holder: LocalSigner) -> str:
    issuer = LocalSigner.generate()
    builder = DisclosureBuilder()
    ages = builder.conceal_object({}, {"14": True, "19": True, "65": False})
    address = {"formatted": "수원시"}
    payload = builder.conceal_object(
        {"iss": "https://x", "cnf": {"jwk": holder.public_jwk()}},
        {"given_name": "길동", "age_equal_or_over": ages, "address": address},
    )
    return issue_sd_jwt(payload, builder.disclosures, signer=issuer, typ="dc+sd-jwt")


def _presented_claims(presentation: str) -> dict[str, Any]:
    parts = split_sd_jwt(presentation)
    payload = json_loads(b64url_decode(parts.issuer_jwt.split(".")[1]))
    return process(payload, parts.disclosures).payload


def test_presenting_a_nested_claim_brings_its_container_only() -> None:
    holder = LocalSigner.generate()
    credential = _credential(holder)
    shown = present(
        credential,
        disclose=[("age_equal_or_over", "19")],
        holder=holder,
        nonce=NONCE,
        audience=AUDIENCE,
        now=NOW,
    )
    assert _presented_claims(shown) == {
        "iss": "https://x",
        "cnf": {"jwk": holder.public_jwk()},
        "age_equal_or_over": {"19": True},
    }
    assert len(split_sd_jwt(shown).disclosures) == 2


def test_presenting_a_container_brings_everything_inside_it() -> None:
    holder = LocalSigner.generate()
    credential = _credential(holder)
    shown = present(
        credential,
        disclose=[("age_equal_or_over",), ("address", "formatted")],
        holder=holder,
        nonce=NONCE,
        audience=AUDIENCE,
        now=NOW,
    )
    claims = _presented_claims(shown)
    assert claims["age_equal_or_over"] == {"14": True, "19": True, "65": False}
    assert claims["address"] == {"formatted": "수원시"}
    assert "given_name" not in claims


def test_presenting_with_a_predicate_and_nothing() -> None:
    holder = LocalSigner.generate()
    credential = _credential(holder)
    shown = present(
        credential,
        disclose=lambda path: path == ("given_name",),
        holder=holder,
        nonce=NONCE,
        audience=AUDIENCE,
        now=NOW,
    )
    assert _presented_claims(shown)["given_name"] == "길동"
    nothing = present(
        credential, disclose=[], holder=holder, nonce=NONCE, audience=AUDIENCE, now=NOW
    )
    assert split_sd_jwt(nothing).disclosures == ()


def test_array_wildcards_select_every_element() -> None:
    holder = LocalSigner.generate()
    builder = DisclosureBuilder()
    payload = builder.conceal_object(
        {"cnf": {"jwk": holder.public_jwk()}},
        {"list": [builder.conceal_element("a"), builder.conceal_element("b")], "other": 1},
    )
    credential = issue_sd_jwt(payload, builder.disclosures, signer=holder, typ="dc+sd-jwt")
    shown = present(
        credential,
        disclose=[("list", None)],
        holder=holder,
        nonce=NONCE,
        audience=AUDIENCE,
        now=NOW,
    )
    assert _presented_claims(shown)["list"] == ["a", "b"]
    assert "other" not in _presented_claims(shown)


def test_the_kb_jwt_binds_exactly_the_presented_sd_jwt() -> None:
    holder = LocalSigner.generate()
    shown = present(
        _credential(holder),
        disclose=[("given_name",)],
        holder=holder,
        nonce=NONCE,
        audience=AUDIENCE,
        now=NOW,
    )
    parts = split_sd_jwt(shown)
    header, payload, _ = parts.kb_jwt.split(".")  # type: ignore[union-attr]
    assert json_loads(b64url_decode(header)) == {"alg": "ES256", "typ": "kb+jwt"}
    assert json_loads(b64url_decode(payload)) == {
        "iat": int(NOW.timestamp()),
        "aud": AUDIENCE,
        "nonce": NONCE,
        "sd_hash": digest(parts.presented),
    }


def test_the_holder_view_lists_every_claim_path() -> None:
    holder = LocalSigner.generate()
    credential = _credential(holder)
    paths = claim_paths(credential)
    assert paths[("age_equal_or_over", "65")] is False
    assert paths[("address",)] == {"formatted": "수원시"}
    assert ("cnf", "jwk", "x") in paths
    claims = holder_claims(credential)
    assert claims["age_equal_or_over"] == {"14": True, "19": True, "65": False}
    assert claims["given_name"] == "길동" and "_sd" not in claims
    assert disclosable_paths(credential) == {
        ("given_name",),
        ("age_equal_or_over",),
        ("age_equal_or_over", "14"),
        ("age_equal_or_over", "19"),
        ("age_equal_or_over", "65"),
        ("address",),
    }


def test_an_issued_sd_jwt_with_a_kb_jwt_is_not_a_credential() -> None:
    holder = LocalSigner.generate()
    shown = present(
        _credential(holder), disclose=[], holder=holder, nonce=NONCE, audience=AUDIENCE, now=NOW
    )
    for call in (claim_paths, disclosable_paths, holder_claims):
        with pytest.raises(VerificationFailed) as failure:
            call(shown)
        assert failure.value.reason == "kb_unexpected"


# --- key binding (section 7.3) --------------------------------------------------------------


def _presentation(holder: LocalSigner) -> str:
    return present(
        _credential(holder),
        disclose=[("given_name",)],
        holder=holder,
        nonce=NONCE,
        audience=AUDIENCE,
        now=NOW,
    )


def _kb_reason(presentation: str, holder: LocalSigner, **changes: Any) -> str:
    options: dict[str, Any] = {
        "nonce": NONCE,
        "audience": AUDIENCE,
        "now": NOW,
        "max_age": timedelta(minutes=5),
    }
    options.update(changes)
    with pytest.raises(VerificationFailed) as failure:
        verify_key_binding(split_sd_jwt(presentation), holder.public_jwk(), **options)
    return failure.value.reason


def _with_kb(
    presentation: str, header: dict[str, Any], payload: dict[str, Any], signer: LocalSigner
) -> str:
    presented = split_sd_jwt(presentation).presented
    return presented + encode_jws(header, payload, signer)


def _kb_payload(presentation: str, **changes: Any) -> dict[str, Any]:
    payload = {
        "iat": int(NOW.timestamp()),
        "aud": AUDIENCE,
        "nonce": NONCE,
        "sd_hash": digest(split_sd_jwt(presentation).presented),
    }
    payload.update(changes)
    return {k: v for k, v in payload.items() if v is not None}


def test_a_good_kb_jwt_verifies() -> None:
    holder = LocalSigner.generate()
    shown = _presentation(holder)
    claims = verify_key_binding(
        split_sd_jwt(shown),
        holder.public_jwk(),
        nonce=NONCE,
        audience=AUDIENCE,
        now=NOW + timedelta(minutes=4),
        max_age=timedelta(minutes=5),
    )
    assert claims["nonce"] == NONCE


def test_a_missing_kb_jwt_is_refused() -> None:
    holder = LocalSigner.generate()
    stripped = split_sd_jwt(_presentation(holder)).presented
    assert _kb_reason(stripped, holder) == "kb_missing"


def test_a_kb_jwt_signed_by_another_key_is_refused() -> None:
    holder, thief = LocalSigner.generate(), LocalSigner.generate()
    shown = _presentation(holder)
    forged = _with_kb(shown, {"typ": "kb+jwt"}, _kb_payload(shown), thief)
    assert _kb_reason(forged, holder) == "kb_signature"


def test_kb_jwt_header_checks() -> None:
    holder = LocalSigner.generate()
    shown = _presentation(holder)
    presented = split_sd_jwt(shown).presented
    wrong_typ = _with_kb(shown, {"typ": "jwt"}, _kb_payload(shown), holder)
    assert _kb_reason(wrong_typ, holder) == "kb_typ"
    no_typ = _with_kb(shown, {}, _kb_payload(shown), holder)
    assert _kb_reason(no_typ, holder) == "kb_typ"
    crit = _with_kb(shown, {"typ": "kb+jwt", "crit": ["x"], "x": 1}, _kb_payload(shown), holder)
    assert _kb_reason(crit, holder) == "kb_crit"
    head = b64url_encode(json.dumps({"alg": "none", "typ": "kb+jwt"}).encode())
    body = b64url_encode(json.dumps(_kb_payload(shown)).encode())
    assert _kb_reason(f"{presented}{head}.{body}.", holder) == "kb_alg"
    assert _kb_reason(presented + "garbage", holder) == "kb_malformed"


def test_a_kb_jwt_for_another_transaction_or_verifier_is_refused() -> None:
    holder = LocalSigner.generate()
    shown = _presentation(holder)
    assert _kb_reason(shown, holder, nonce="another-nonce") == "kb_nonce"
    assert _kb_reason(shown, holder, audience="x509_san_dns:other.example") == "kb_aud"
    as_list = _with_kb(shown, {"typ": "kb+jwt"}, _kb_payload(shown, aud=[AUDIENCE]), holder)
    assert _kb_reason(as_list, holder) == "kb_aud"
    no_nonce = _with_kb(shown, {"typ": "kb+jwt"}, _kb_payload(shown, nonce=None), holder)
    assert _kb_reason(no_nonce, holder) == "kb_nonce"


def test_kb_jwt_freshness() -> None:
    holder = LocalSigner.generate()
    shown = _presentation(holder)
    assert _kb_reason(shown, holder, now=NOW + timedelta(minutes=5, seconds=1)) == "kb_stale"
    assert _kb_reason(shown, holder, now=NOW - timedelta(minutes=2)) == "kb_future"
    # Within the clock skew, a KB-JWT slightly ahead of us is fine.
    verify_key_binding(
        split_sd_jwt(shown),
        holder.public_jwk(),
        nonce=NONCE,
        audience=AUDIENCE,
        now=NOW - timedelta(seconds=30),
        max_age=timedelta(minutes=5),
    )
    for iat in (None, "1796083200", True):
        bad = _with_kb(shown, {"typ": "kb+jwt"}, _kb_payload(shown, iat=iat), holder)
        assert _kb_reason(bad, holder) == "kb_iat"
    expired = _with_kb(
        shown, {"typ": "kb+jwt"}, _kb_payload(shown, exp=int(NOW.timestamp()) - 1), holder
    )
    assert _kb_reason(expired, holder) == "kb_stale"


def test_sd_hash_must_cover_exactly_the_presented_sd_jwt() -> None:
    holder = LocalSigner.generate()
    credential = _credential(holder)
    shown = _presentation(holder)
    kb = split_sd_jwt(shown).kb_jwt
    assert kb is not None
    # A disclosure added after the holder signed (from the full credential).
    extra = next(d for d in split_sd_jwt(credential).disclosures if d not in shown)
    assert _kb_reason(split_sd_jwt(shown).presented + extra + "~" + kb, holder) == "sd_hash"
    # A disclosure removed after the holder signed.
    issuer_jwt = split_sd_jwt(shown).issuer_jwt
    assert _kb_reason(f"{issuer_jwt}~{kb}", holder) == "sd_hash"
    # A KB-JWT taken from another presentation of the same credential.
    other = present(credential, disclose=[], holder=holder, nonce=NONCE, audience=AUDIENCE, now=NOW)
    assert _kb_reason(split_sd_jwt(shown).presented + split_sd_jwt(other).kb_jwt, holder) == (  # type: ignore[operator]
        "sd_hash"
    )
    no_hash = _with_kb(shown, {"typ": "kb+jwt"}, _kb_payload(shown, sd_hash=None), holder)
    assert _kb_reason(no_hash, holder) == "sd_hash"


def test_a_holder_key_that_cannot_verify_is_refused() -> None:
    holder = LocalSigner.generate()
    shown = _presentation(holder)
    with pytest.raises(VerificationFailed) as failure:
        verify_key_binding(
            split_sd_jwt(shown),
            {"kty": "EC", "crv": "P-384", "x": "AA", "y": "AA"},
            nonce=NONCE,
            audience=AUDIENCE,
            now=NOW,
            max_age=timedelta(minutes=5),
        )
    assert failure.value.reason == "kb_key"


def test_an_sd_jwt_past_the_size_bound_is_malformed() -> None:
    with pytest.raises(VerificationFailed) as failure:
        split_sd_jwt("a.b.c~" + "d" * (256 * 1024) + "~")
    assert failure.value.reason == "malformed"
