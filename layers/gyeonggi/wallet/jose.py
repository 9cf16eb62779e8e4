"""ES256 compact JWS: signing (a key in this process or in KMS) and pinned verification.

One algorithm only, ES256 (ECDSA on P-256 with SHA-256): the issuer's KMS key is
``ECC_NIST_P256``, holders' keys are P-256, and a verifier that accepts exactly one algorithm
cannot be talked into ``none`` or into HS256 keyed with a public key (RFC 8725, 3.1-3.2). The
algorithm is never chosen from the token: a header naming anything else is rejected before any
key is touched.

Signatures are the 64 bytes ``r || s`` JWS uses (RFC 7518, 3.4); KMS and ``cryptography`` speak
DER, converted here. Public keys are parsed once per JWK and cached, so a verifier that sees
the same issuer key for every presentation does not pay for the point validation again.
"""

from __future__ import annotations

import binascii
import hashlib
import json
import re
from collections.abc import Mapping
from dataclasses import dataclass
from functools import lru_cache
from typing import Any, Protocol

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.asymmetric.utils import (
    decode_dss_signature,
    encode_dss_signature,
)

from gyeonggi.common.aws import AwsClient
from gyeonggi.common.errors import InvalidInput
from gyeonggi.wallet.errors import VerificationFailed

ALG = "ES256"
CURVE = "P-256"

#: The longest compact JWS read. Credentials here are 2-4 KB; the bound keeps a hostile body
#: from costing more than a glance (a status list of 2^20 entries is well under it).
MAX_TOKEN_CHARS = 256 * 1024

#: KMS signs at most this many bytes as ``RAW``; a longer signing input is hashed here and
#: sent as ``DIGEST``.
KMS_RAW_LIMIT = 4096

_COORDINATE_BYTES = 32
_SIGNATURE_BYTES = 2 * _COORDINATE_BYTES
_B64URL = re.compile(r"[A-Za-z0-9_-]*")
_TO_STANDARD = bytes.maketrans(b"-_", b"+/")
_TO_URLSAFE = bytes.maketrans(b"+/", b"-_")
_ECDSA_SHA256 = ec.ECDSA(hashes.SHA256())
_COMPACT = (",", ":")


# --- encodings ------------------------------------------------------------------------------


def b64url_encode(data: bytes) -> str:
    """``data`` as base64url without padding (RFC 7515, 2)."""
    encoded = binascii.b2a_base64(data, newline=False).rstrip(b"=").translate(_TO_URLSAFE)
    return encoded.decode("ascii")


def b64url_decode(text: str) -> bytes:
    """The bytes of unpadded base64url ``text``.

    Raises
    ------
    ValueError
        When ``text`` holds padding or any character outside the base64url alphabet, or has a
        length no encoding produces. (``base64.urlsafe_b64decode`` would silently skip such
        characters, so two different strings would decode to the same bytes.)
    """
    if not _B64URL.fullmatch(text) or len(text) % 4 == 1:
        raise ValueError("not unpadded base64url")
    # The alphabet is checked above, so the standard decoder sees only what it accepts; this is
    # the hot path of verification (every JWS part, every disclosure).
    data = text.encode("ascii").translate(_TO_STANDARD)
    return binascii.a2b_base64(data + b"=" * (-len(text) % 4))


def _unique_keys(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    # RFC 7515, 5.2 and RFC 7519, 7.2: a member name twice is either rejected or the last one
    # wins. Two readers choosing differently is how a signed claim gets read two ways: reject.
    result = dict(pairs)
    if len(result) != len(pairs):
        raise ValueError("a member name appears twice")
    return result


def _no_constant(name: str) -> Any:
    raise ValueError(f"{name} is not JSON")


# One decoder for every call: json.loads would build a new one each time (a measurable part of
# verifying a presentation, which decodes a dozen small documents).
_DECODER = json.JSONDecoder(object_pairs_hook=_unique_keys, parse_constant=_no_constant)


def json_loads(data: bytes | str) -> Any:
    """Strict JSON: no duplicate member names, no ``NaN``/``Infinity``, UTF-8 only.

    Raises
    ------
    ValueError
        Naming nothing of the content (it may be personal data).
    """
    try:
        text = data.decode("utf-8") if isinstance(data, bytes) else data
        return _DECODER.decode(text)
    except RecursionError as exc:
        raise ValueError("nested too deeply") from exc
    except UnicodeDecodeError as exc:
        raise ValueError("not UTF-8") from exc


def json_dumps(value: Any) -> bytes:
    """Compact UTF-8 JSON, as every JWS part and disclosure here is written."""
    return json.dumps(value, separators=_COMPACT, ensure_ascii=False).encode("utf-8")


# --- keys -----------------------------------------------------------------------------------


def jwk_thumbprint(jwk: Mapping[str, str]) -> str:
    """The RFC 7638 SHA-256 thumbprint of an EC public JWK, base64url.

    Only the required members, in lexicographic order, without whitespace: the same key gives
    the same thumbprint whatever else its JWK carries.

    Raises
    ------
    InvalidInput
        When ``jwk`` is not an EC key with ``crv``, ``x`` and ``y`` strings.
    """
    members = {name: jwk.get(name) for name in ("crv", "kty", "x", "y")}
    if members["kty"] != "EC" or not all(isinstance(v, str) for v in members.values()):
        raise InvalidInput("the key is not an EC JWK with crv, x and y")
    canonical = json.dumps(members, separators=_COMPACT, sort_keys=True).encode("utf-8")
    return b64url_encode(hashlib.sha256(canonical).digest())


def _coordinates_jwk(public_key: ec.EllipticCurvePublicKey) -> dict[str, str]:
    numbers = public_key.public_numbers()
    jwk = {
        "kty": "EC",
        "crv": CURVE,
        "x": b64url_encode(numbers.x.to_bytes(_COORDINATE_BYTES, "big")),
        "y": b64url_encode(numbers.y.to_bytes(_COORDINATE_BYTES, "big")),
    }
    return {**jwk, "kid": jwk_thumbprint(jwk)}


def public_key_jwk(public_key_der: bytes) -> dict[str, str]:
    """A DER ``SubjectPublicKeyInfo`` (what KMS ``GetPublicKey`` returns) as a P-256 JWK whose
    ``kid`` is its RFC 7638 thumbprint.

    Raises
    ------
    InvalidInput
        When the DER is not a P-256 public key.
    """
    try:
        key = serialization.load_der_public_key(public_key_der)
    except ValueError:
        raise InvalidInput("the public key is not DER SubjectPublicKeyInfo") from None
    if not isinstance(key, ec.EllipticCurvePublicKey) or not isinstance(key.curve, ec.SECP256R1):
        raise InvalidInput("the public key is not a P-256 (ECC_NIST_P256) key")
    return _coordinates_jwk(key)


def public_jwk(jwk: Mapping[str, Any]) -> dict[str, str]:
    """Only the members that make a P-256 public JWK (``kty``, ``crv``, ``x``, ``y``).

    What a holder's key becomes in ``cnf.jwk``: a private ``d`` or any other member a wallet
    sent is left out.

    Raises
    ------
    InvalidInput
        When ``jwk`` is not a valid P-256 public key.
    """
    try:
        _key_of(jwk)
    except VerificationFailed:
        raise InvalidInput("the key is not a P-256 public JWK") from None
    return {"kty": "EC", "crv": CURVE, "x": jwk["x"], "y": jwk["y"]}


@lru_cache(maxsize=1024)
def _public_key(x: str, y: str) -> ec.EllipticCurvePublicKey:
    # Cached on the coordinates: parsing checks that the point is on the curve, which costs
    # about as much as a verification. Failures are not cached (lru_cache skips exceptions).
    try:
        xb, yb = b64url_decode(x), b64url_decode(y)
    except ValueError:
        raise VerificationFailed("key") from None
    if len(xb) != _COORDINATE_BYTES or len(yb) != _COORDINATE_BYTES:
        raise VerificationFailed("key")
    numbers = ec.EllipticCurvePublicNumbers(
        int.from_bytes(xb, "big"), int.from_bytes(yb, "big"), ec.SECP256R1()
    )
    try:
        return numbers.public_key()
    except ValueError:  # not a point on P-256
        raise VerificationFailed("key") from None


def _key_of(jwk: Mapping[str, Any]) -> ec.EllipticCurvePublicKey:
    # Types first: the cache needs hashable strings, and a JWK arrives from outside (cnf.jwk).
    if not isinstance(jwk, Mapping) or jwk.get("kty") != "EC" or jwk.get("crv") != CURVE:
        raise VerificationFailed("key")
    x, y = jwk.get("x"), jwk.get("y")
    if not isinstance(x, str) or not isinstance(y, str):
        raise VerificationFailed("key")
    return _public_key(x, y)


def _raw_signature(der: bytes) -> bytes:
    # DER's integers are minimal (and may carry a leading zero); JWS wants each 32 bytes.
    r, s = decode_dss_signature(der)
    return r.to_bytes(_COORDINATE_BYTES, "big") + s.to_bytes(_COORDINATE_BYTES, "big")


# --- signers --------------------------------------------------------------------------------


class Signer(Protocol):
    """What signs a JWS here: a key in this process or one in KMS."""

    @property
    def kid(self) -> str:
        """The key id verifiers look the public key up by (the RFC 7638 thumbprint here)."""
        ...

    def sign(self, signing_input: bytes) -> bytes:
        """The JWS signature of ``signing_input``: 64 bytes ``r || s``."""
        ...

    def public_jwk(self) -> dict[str, str]:
        """The public key: ``{"kty": "EC", "crv": "P-256", "x", "y", "kid"}``."""
        ...


class LocalSigner:
    """A P-256 key held in this process: holders' keys, tests and benchmarks.

    The issuer's key is never one of these in a deployment; it lives in KMS (:class:`KmsSigner`).
    """

    def __init__(self, private_key: ec.EllipticCurvePrivateKey, kid: str | None = None) -> None:
        if not isinstance(private_key.curve, ec.SECP256R1):
            raise InvalidInput("the private key is not a P-256 key")
        self._key = private_key
        self._jwk = _coordinates_jwk(private_key.public_key())
        if kid is not None:
            self._jwk["kid"] = kid

    @classmethod
    def generate(cls, kid: str | None = None) -> LocalSigner:
        """A new random P-256 key; ``kid`` defaults to its thumbprint."""
        return cls(ec.generate_private_key(ec.SECP256R1()), kid)

    @classmethod
    def from_pem(cls, pem: bytes, kid: str | None = None) -> LocalSigner:
        """A P-256 private key from unencrypted PEM (PKCS#8 or SEC1).

        Raises
        ------
        InvalidInput
            When ``pem`` is not an unencrypted P-256 private key.
        """
        try:
            key = serialization.load_pem_private_key(pem, password=None)
        except (ValueError, TypeError):
            raise InvalidInput("not an unencrypted PEM private key") from None
        if not isinstance(key, ec.EllipticCurvePrivateKey):
            raise InvalidInput("the private key is not an EC key")
        return cls(key, kid)

    def private_pem(self) -> bytes:
        """The private key as unencrypted PKCS#8 PEM (the holder's wallet file keeps it, 0600)."""
        return self._key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )

    @property
    def kid(self) -> str:
        return self._jwk["kid"]

    def public_jwk(self) -> dict[str, str]:
        return dict(self._jwk)

    def sign(self, signing_input: bytes) -> bytes:
        return _raw_signature(self._key.sign(signing_input, _ECDSA_SHA256))


class KmsSigner:
    """A KMS key (``ECC_NIST_P256``, ``SIGN_VERIFY``): the private key never leaves KMS.

    ``kid`` is the RFC 7638 thumbprint of the public key, which ``GetPublicKey`` fetches once,
    on first use (not at cold start: a function that only verifies never asks).

    Parameters
    ----------
    key_id
        The key's id, ARN or alias.
    kms
        A boto3 KMS client; by default one is made on first use.
    """

    kms = AwsClient("kms")

    def __init__(self, key_id: str, kms: Any | None = None) -> None:
        self.key_id = key_id
        if kms is not None:
            self.kms = kms
        self._jwk: dict[str, str] | None = None

    @property
    def kid(self) -> str:
        return self.public_jwk()["kid"]

    def public_jwk(self) -> dict[str, str]:
        if self._jwk is None:
            answer = self.kms.get_public_key(KeyId=self.key_id)
            spec = answer.get("KeySpec")
            if spec is not None and spec != "ECC_NIST_P256":
                raise InvalidInput(f"KMS key {self.key_id} is {spec}, not ECC_NIST_P256")
            self._jwk = public_key_jwk(answer["PublicKey"])
        return dict(self._jwk)

    def sign(self, signing_input: bytes) -> bytes:
        if len(signing_input) <= KMS_RAW_LIMIT:
            # KMS hashes RAW messages itself with the algorithm's SHA-256.
            message, message_type = signing_input, "RAW"
        else:
            # AWS refuses RAW messages over 4,096 bytes: send the SHA-256 digest instead, which
            # AWS signs as is. (moto 5.2.5 hashes a DIGEST again, unlike AWS: this path is
            # tested against a fake that behaves as AWS documents, see docs/WALLET.md.)
            message, message_type = hashlib.sha256(signing_input).digest(), "DIGEST"
        answer = self.kms.sign(
            KeyId=self.key_id,
            Message=message,
            MessageType=message_type,
            SigningAlgorithm="ECDSA_SHA_256",
        )
        return _raw_signature(answer["Signature"])


# --- compact JWS ----------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class CompactJws:
    """A compact JWS taken apart, not yet verified."""

    header: dict[str, Any]
    payload: dict[str, Any]
    signing_input: bytes
    signature: bytes


def parse_jws(token: str) -> CompactJws:
    """Split and decode a compact JWS whose header and payload are JSON objects.

    Nothing is verified: the result says what the token claims, so that the key to verify it
    with can be found.

    Raises
    ------
    VerificationFailed
        ``malformed``: not three base64url parts, not JSON objects, or too long.
    """
    if not isinstance(token, str) or len(token) > MAX_TOKEN_CHARS:
        raise VerificationFailed("malformed")
    parts = token.split(".")
    if len(parts) != 3:
        raise VerificationFailed("malformed")
    try:
        header = json_loads(b64url_decode(parts[0]))
        payload = json_loads(b64url_decode(parts[1]))
        signature = b64url_decode(parts[2])
    except ValueError:
        raise VerificationFailed("malformed") from None
    if not isinstance(header, dict) or not isinstance(payload, dict):
        raise VerificationFailed("malformed")
    signing_input = f"{parts[0]}.{parts[1]}".encode("ascii")
    return CompactJws(header, payload, signing_input, signature)


def _media_type(value: str) -> str:
    # RFC 7515, 4.1.9: typ is a media type, compared case-insensitively, and "application/"
    # may be left out. "application/dc+sd-jwt" and "DC+SD-JWT" are both dc+sd-jwt.
    lowered = value.lower()
    return lowered.removeprefix("application/")


def check_header(header: Mapping[str, Any], typ: str | None) -> None:
    """Pinned ``alg`` (ES256), no ``crit``, and ``typ`` when one is expected.

    Raises
    ------
    VerificationFailed
        ``alg``, ``crit`` or ``typ``.
    """
    if header.get("alg") != ALG:
        raise VerificationFailed("alg")
    if "crit" in header:
        # RFC 7515, 4.1.11: a recipient that does not understand every listed extension must
        # reject. This verifier understands none.
        raise VerificationFailed("crit")
    if typ is not None:
        found = header.get("typ")
        if not isinstance(found, str) or _media_type(found) != _media_type(typ):
            raise VerificationFailed("typ")


def verify_signature(jws: CompactJws, jwk: Mapping[str, Any]) -> None:
    """Check ``jws``'s ES256 signature with the P-256 public ``jwk``.

    Raises
    ------
    VerificationFailed
        ``key`` when ``jwk`` is not a P-256 public key, ``signature`` when the signature is not
        64 bytes or does not verify.
    """
    key = _key_of(jwk)
    signature = jws.signature
    if len(signature) != _SIGNATURE_BYTES:
        raise VerificationFailed("signature")
    der = encode_dss_signature(
        int.from_bytes(signature[:_COORDINATE_BYTES], "big"),
        int.from_bytes(signature[_COORDINATE_BYTES:], "big"),
    )
    try:
        key.verify(der, jws.signing_input, _ECDSA_SHA256)
    except InvalidSignature:
        raise VerificationFailed("signature") from None


def verify_jws(
    token: str, jwk: Mapping[str, str], *, typ: str | None
) -> tuple[dict[str, Any], dict[str, Any]]:
    """Verify a compact ES256 JWS and return its ``(header, payload)``.

    Parameters
    ----------
    token
        The compact JWS.
    jwk
        The P-256 public key it must be signed with (chosen by the caller, never by the token).
    typ
        The media type its ``typ`` header must name (compared as RFC 7515 says:
        case-insensitively, ``application/`` optional), or ``None`` for no check.

    Raises
    ------
    VerificationFailed
        ``malformed``, ``alg``, ``crit``, ``typ``, ``key`` or ``signature``.
    """
    jws = parse_jws(token)
    check_header(jws.header, typ)
    verify_signature(jws, jwk)
    return jws.header, jws.payload


def unverified_header(token: str) -> dict[str, Any]:
    """The protected header of a compact JWS, unverified (to pick the key by ``kid``).

    Raises
    ------
    VerificationFailed
        ``malformed``.
    """
    if not isinstance(token, str) or len(token) > MAX_TOKEN_CHARS:
        raise VerificationFailed("malformed")
    head, dot, _ = token.partition(".")
    if not dot:
        raise VerificationFailed("malformed")
    try:
        header = json_loads(b64url_decode(head))
    except ValueError:
        raise VerificationFailed("malformed") from None
    if not isinstance(header, dict):
        raise VerificationFailed("malformed")
    return header


def encode_jws(header: Mapping[str, Any], payload: Mapping[str, Any], signer: Signer) -> str:
    """A compact JWS with exactly ``header`` (plus ``"alg": "ES256"``) as its protected header.

    :func:`sign_jws` adds the signer's ``kid``; a KB-JWT, verified with the key in the
    credential, carries none.
    """
    protected = {"alg": ALG, **{k: v for k, v in header.items() if k != "alg"}}
    signing_input = b64url_encode(json_dumps(protected)) + "." + b64url_encode(json_dumps(payload))
    signature = signer.sign(signing_input.encode("ascii"))
    return f"{signing_input}.{b64url_encode(signature)}"


def sign_jws(header: Mapping[str, Any], payload: Mapping[str, Any], signer: Signer) -> str:
    """A compact ES256 JWS of ``payload`` signed by ``signer``.

    The protected header is ``header`` with ``"alg": "ES256"`` and ``"kid": signer.kid`` (no
    ``kid`` when ``header`` carries the key itself as ``jwk``, as an OpenID4VCI proof does).
    """
    protected = dict(header)
    if "jwk" not in protected:
        protected["kid"] = signer.kid
    return encode_jws(protected, payload, signer)
