"""ES256 compact JWS: keys, thumbprints, signers (local, KMS) and the pinned verifier."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
from typing import Any

import boto3
import pytest
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.asymmetric.utils import encode_dss_signature
from jwcrypto import jwk as jwcrypto_jwk
from moto import mock_aws

from gyeonggi.common.errors import InvalidInput
from gyeonggi.wallet.credential import verify_issued_credential
from gyeonggi.wallet.errors import VerificationFailed
from gyeonggi.wallet.jose import (
    KMS_RAW_LIMIT,
    KmsSigner,
    LocalSigner,
    b64url_decode,
    b64url_encode,
    json_loads,
    jwk_thumbprint,
    public_jwk,
    public_key_jwk,
    sign_jws,
    unverified_header,
    verify_jws,
)
from tests.fakes.wallet import FakeKms
from tests.unit.wallet_support import ISSUER, NOW, Wallet


def _segment(value: Any) -> str:
    return b64url_encode(json.dumps(value).encode())


def _forged(header: dict[str, Any], payload: dict[str, Any], signature: bytes = b"") -> str:
    return f"{_segment(header)}.{_segment(payload)}.{b64url_encode(signature)}"


def _reason(token: str, jwk: dict[str, str], typ: str | None = "example+jwt") -> str:
    with pytest.raises(VerificationFailed) as failure:
        verify_jws(token, jwk, typ=typ)
    return failure.value.reason


# --- encodings ------------------------------------------------------------------------------


def test_base64url_is_unpadded_and_strict() -> None:
    assert b64url_encode(b"\xfb\xff") == "-_8"
    assert b64url_decode("-_8") == b"\xfb\xff"
    # Padding, the standard alphabet's + and /, spaces and impossible lengths are refused
    # (a lenient decoder would map different strings to the same bytes).
    for text in ("-_8=", "+/8", "-_ 8", "a", "abcde"):
        with pytest.raises(ValueError):
            b64url_decode(text)


def test_json_refuses_duplicate_members_and_non_json_numbers() -> None:
    assert json_loads('{"a": 1}') == {"a": 1}
    for text in ('{"a": 1, "a": 2}', '{"a": NaN}', '{"a": Infinity}', "[" * 100_000, b"\xff"):
        with pytest.raises(ValueError):
            json_loads(text)


# --- keys -----------------------------------------------------------------------------------


def test_thumbprint_agrees_with_jwcrypto() -> None:
    # An outside RFC 7638 implementation (jwcrypto, installed with PyPI sd-jwt) as the oracle.
    signer = LocalSigner.generate()
    jwk = signer.public_jwk()
    outside = jwcrypto_jwk.JWK(**{k: v for k, v in jwk.items() if k != "kid"})
    assert jwk_thumbprint(jwk) == outside.thumbprint() == signer.kid
    # Other members do not change it.
    assert jwk_thumbprint({**jwk, "kid": "x", "use": "sig", "alg": "ES256"}) == signer.kid


def test_thumbprint_of_a_non_ec_key_is_refused() -> None:
    with pytest.raises(InvalidInput):
        jwk_thumbprint({"kty": "RSA", "n": "AQAB", "e": "AQAB"})


def test_public_key_jwk_from_der_has_the_thumbprint_as_kid() -> None:
    key = ec.generate_private_key(ec.SECP256R1())
    der = key.public_key().public_bytes(
        serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    jwk = public_key_jwk(der)
    assert set(jwk) == {"kty", "crv", "x", "y", "kid"}
    assert jwk["kid"] == jwk_thumbprint(jwk)
    assert len(b64url_decode(jwk["x"])) == len(b64url_decode(jwk["y"])) == 32


def test_public_key_jwk_refuses_other_curves_and_garbage() -> None:
    p384 = ec.generate_private_key(ec.SECP384R1()).public_key()
    der = p384.public_bytes(
        serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    for bad in (der, b"not der"):
        with pytest.raises(InvalidInput):
            public_key_jwk(bad)


def test_public_jwk_keeps_only_public_members() -> None:
    jwk = {**LocalSigner.generate().public_jwk(), "d": "secret", "use": "sig"}
    assert set(public_jwk(jwk)) == {"kty", "crv", "x", "y"}


def test_public_jwk_refuses_a_point_off_the_curve() -> None:
    jwk = LocalSigner.generate().public_jwk()
    off_curve = {**jwk, "y": b64url_encode(bytes(31) + b"\x01")}
    for bad in (off_curve, {**jwk, "crv": "P-384"}, {**jwk, "x": "short"}):
        with pytest.raises(InvalidInput):
            public_jwk(bad)


def test_local_signer_survives_pem() -> None:
    signer = LocalSigner.generate()
    again = LocalSigner.from_pem(signer.private_pem())
    assert again.public_jwk() == signer.public_jwk()
    with pytest.raises(InvalidInput):
        LocalSigner.from_pem(b"-----BEGIN PRIVATE KEY-----\nAAAA\n-----END PRIVATE KEY-----\n")


# --- signing and verifying ------------------------------------------------------------------


def test_a_signed_token_verifies_and_names_alg_and_kid() -> None:
    signer = LocalSigner.generate(kid="issuer-2026")
    token = sign_jws({"typ": "example+jwt"}, {"sub": "x", "n": 1}, signer)
    header, payload = verify_jws(token, signer.public_jwk(), typ="example+jwt")
    assert header == {"alg": "ES256", "typ": "example+jwt", "kid": "issuer-2026"}
    assert payload == {"sub": "x", "n": 1}
    assert unverified_header(token) == header


def test_signatures_are_64_bytes_r_s_that_cryptography_verifies() -> None:
    signer = LocalSigner.generate()
    token = sign_jws({}, {"a": 1}, signer)
    head, body, signature = token.split(".")
    raw = b64url_decode(signature)
    assert len(raw) == 64
    der = encode_dss_signature(int.from_bytes(raw[:32], "big"), int.from_bytes(raw[32:], "big"))
    numbers = ec.EllipticCurvePublicNumbers(
        int.from_bytes(b64url_decode(signer.public_jwk()["x"]), "big"),
        int.from_bytes(b64url_decode(signer.public_jwk()["y"]), "big"),
        ec.SECP256R1(),
    )
    numbers.public_key().verify(der, f"{head}.{body}".encode(), ec.ECDSA(hashes.SHA256()))


def test_a_header_carrying_the_key_gets_no_kid() -> None:
    signer = LocalSigner.generate()
    token = sign_jws({"typ": "openid4vci-proof+jwt", "jwk": signer.public_jwk()}, {}, signer)
    assert "kid" not in unverified_header(token)


def test_alg_none_is_refused() -> None:
    signer = LocalSigner.generate()
    token = _forged({"alg": "none", "typ": "example+jwt"}, {"a": 1})
    assert _reason(token, signer.public_jwk()) == "alg"


def test_hs256_keyed_with_the_public_key_is_refused() -> None:
    # The classic confusion: a verifier that lets the token pick HMAC would check this MAC
    # with the public key it holds as the secret, and accept.
    signer = LocalSigner.generate()
    jwk = signer.public_jwk()
    head = _segment({"alg": "HS256", "typ": "example+jwt"})
    body = _segment({"admin": True})
    for secret in (json.dumps(jwk).encode(), jwk["x"].encode()):
        mac = hmac.new(secret, f"{head}.{body}".encode(), hashlib.sha256).digest()
        assert _reason(f"{head}.{body}.{b64url_encode(mac)}", jwk) == "alg"


def test_other_asymmetric_algorithms_and_a_missing_alg_are_refused() -> None:
    signer = LocalSigner.generate()
    good = sign_jws({"typ": "example+jwt"}, {"a": 1}, signer)
    signature = b64url_decode(good.split(".")[2])
    for header in ({"alg": "ES384"}, {"alg": "RS256"}, {"alg": "es256"}, {}):
        token = _forged({**header, "typ": "example+jwt"}, {"a": 1}, signature)
        assert _reason(token, signer.public_jwk()) == "alg"


def test_typ_is_checked_as_a_media_type() -> None:
    signer = LocalSigner.generate()
    jwk = signer.public_jwk()
    for typ in ("example+jwt", "EXAMPLE+JWT", "application/example+jwt"):
        token = sign_jws({"typ": typ}, {}, signer)
        verify_jws(token, jwk, typ="example+jwt")
    for header in ({"typ": "jwt"}, {"typ": "other+jwt"}, {}, {"typ": 1}):
        assert _reason(sign_jws(header, {}, signer), jwk) == "typ"
    # No expectation, no check.
    verify_jws(sign_jws({}, {}, signer), jwk, typ=None)


def test_critical_extensions_are_refused() -> None:
    signer = LocalSigner.generate()
    token = sign_jws({"typ": "example+jwt", "crit": ["b64"], "b64": False}, {}, signer)
    assert _reason(token, signer.public_jwk()) == "crit"


def test_a_changed_payload_or_another_key_fails_the_signature() -> None:
    signer, other = LocalSigner.generate(), LocalSigner.generate()
    token = sign_jws({"typ": "example+jwt"}, {"age": 19}, signer)
    head, _, signature = token.split(".")
    changed = f"{head}.{_segment({'age': 65})}.{signature}"
    assert _reason(changed, signer.public_jwk()) == "signature"
    assert _reason(token, other.public_jwk()) == "signature"
    # Not 64 bytes: DER, or cut short.
    for bad in (b"\x30\x06\x02\x01\x01\x02\x01\x01", b64url_decode(signature)[:63]):
        assert _reason(
            f"{head}.{token.split('.')[1]}.{b64url_encode(bad)}", signer.public_jwk()
        ) == ("signature")


def test_a_zero_signature_is_refused() -> None:
    # r = s = 0 must never verify (the "psychic signature" class of bug).
    signer = LocalSigner.generate()
    token = sign_jws({"typ": "example+jwt"}, {}, signer)
    head, body, _ = token.split(".")
    assert _reason(f"{head}.{body}.{b64url_encode(bytes(64))}", signer.public_jwk()) == "signature"


def test_a_key_that_is_not_p256_is_refused() -> None:
    signer = LocalSigner.generate()
    token = sign_jws({"typ": "example+jwt"}, {}, signer)
    for jwk in ({"kty": "oct", "k": "c2VjcmV0"}, {**signer.public_jwk(), "crv": "P-384"}, {}):
        assert _reason(token, jwk) == "key"


@pytest.mark.parametrize(
    "token",
    [
        "",
        "a.b",
        "a.b.c.d",
        "!!.e30.AA",
        f"{_segment([1])}.{_segment({})}.AA",  # header not an object
        f"{_segment({'alg': 'ES256'})}.{_segment('x')}.AA",  # payload not an object
        base64.urlsafe_b64encode(b'{"alg": "ES256"}').decode() + ".e30.AA",  # padded
        b64url_encode(b'{"alg":"ES256","alg":"none"}') + ".e30.AA",  # alg twice
        "e30." + "A" * (256 * 1024) + ".AA",
    ],
)
def test_malformed_tokens_are_refused(token: str) -> None:
    assert _reason(token, LocalSigner.generate().public_jwk()) == "malformed"


def test_unverified_header_of_garbage_is_malformed() -> None:
    for token in ("", "nodot", "!!.x.y", f"{_segment([1])}.e30.AA"):
        with pytest.raises(VerificationFailed) as failure:
            unverified_header(token)
        assert failure.value.reason == "malformed"


# --- KMS ------------------------------------------------------------------------------------


@pytest.fixture
def kms_key(lambda_environment: None) -> Any:
    with mock_aws():
        kms = boto3.client("kms", region_name="ap-northeast-2")
        key_id = kms.create_key(KeySpec="ECC_NIST_P256", KeyUsage="SIGN_VERIFY")["KeyMetadata"][
            "KeyId"
        ]
        yield kms, key_id


def test_kms_signer_signs_raw_in_moto_and_the_signature_verifies(kms_key: Any) -> None:
    kms, key_id = kms_key
    signer = KmsSigner(key_id, kms=kms)
    token = sign_jws({"typ": "example+jwt"}, {"sub": "resident"}, signer)
    header, payload = verify_jws(token, signer.public_jwk(), typ="example+jwt")
    assert header["kid"] == signer.kid == jwk_thumbprint(signer.public_jwk())
    assert payload == {"sub": "resident"}


def test_kms_signer_makes_its_client_lazily(kms_key: Any) -> None:
    _, key_id = kms_key
    signer = KmsSigner(key_id)  # the production default: boto3's client, made on first use
    assert "_kms_client" not in vars(signer)
    token = sign_jws({}, {"a": 1}, signer)
    verify_jws(token, signer.public_jwk(), typ=None)


def test_kms_signer_asks_for_the_public_key_once() -> None:
    kms = FakeKms()
    signer = KmsSigner(kms.key_id, kms=kms)
    assert kms.calls == []  # nothing at construction: a cold start that never signs asks nothing
    for _ in range(3):
        sign_jws({}, {"a": 1}, signer)
    assert kms.operations().count("GetPublicKey") == 1


def test_kms_signer_sends_raw_up_to_4096_bytes() -> None:
    kms = FakeKms()
    signer = KmsSigner(kms.key_id, kms=kms)
    message = b"x" * KMS_RAW_LIMIT
    signature = signer.sign(message)
    sign_call = kms.calls[-1][1]
    assert sign_call["MessageType"] == "RAW" and sign_call["Message"] == message
    assert sign_call["SigningAlgorithm"] == "ECDSA_SHA_256"
    assert len(signature) == 64


def test_kms_signer_hashes_a_longer_input_and_sends_the_digest() -> None:
    # moto hashes a DIGEST again (unlike AWS), so this runs against a fake that signs as AWS
    # documents; the token must verify as any JWS does.
    kms = FakeKms()
    signer = KmsSigner(kms.key_id, kms=kms)
    token = sign_jws({"typ": "example+jwt"}, {"padding": "p" * 5000}, signer)
    sign_call = kms.calls[-1][1]
    assert sign_call["MessageType"] == "DIGEST" and len(sign_call["Message"]) == 32
    verify_jws(token, signer.public_jwk(), typ="example+jwt")


def test_kms_signer_refuses_a_key_that_is_not_p256() -> None:
    class RsaKms(FakeKms):
        def get_public_key(self, **kwargs: Any) -> dict[str, Any]:
            return {**super().get_public_key(**kwargs), "KeySpec": "RSA_2048"}

    with pytest.raises(InvalidInput):
        KmsSigner("k", kms=RsaKms()).public_jwk()


def test_kms_der_signatures_are_padded_to_32_bytes_each() -> None:
    # DER drops leading zero bytes of r and s (and adds one before a high bit): JWS wants
    # exactly 32 bytes each.
    class SmallIntegersKms(FakeKms):
        def sign(self, **kwargs: Any) -> dict[str, Any]:
            return {"Signature": encode_dss_signature(1, 2**255 + 7)}

    signature = KmsSigner("k", kms=SmallIntegersKms()).sign(b"x")
    assert signature == (1).to_bytes(32, "big") + (2**255 + 7).to_bytes(32, "big")


def test_a_resident_credential_signed_in_moto_kms_verifies(kms_key: Any) -> None:
    kms, key_id = kms_key
    signer = KmsSigner(key_id, kms=kms)
    wallet = Wallet()
    credential = wallet.issue(signer=signer)

    def jwks(iss: str, kid: str) -> dict[str, str]:
        assert (iss, kid) == (ISSUER, signer.kid)
        return signer.public_jwk()

    verified = verify_issued_credential(credential, issuer_jwks=jwks, now=NOW)
    assert verified.claims["given_name"] == "길동"
    assert unverified_header(credential)["kid"] == signer.kid
