"""The verifier's signed request objects (JAR, RFC 9101) and its client identifier.

Client Identifier Prefix: ``x509_hash`` (OpenID4VP 1.0, 5.9.3). The verifier's client id is
``x509_hash:`` followed by the base64url SHA-256 of its leaf certificate (DER); every request
object is signed (ES256) by the KMS key that certificate certifies, with the chain in the
``x5c`` header. A wallet checks the signature with the leaf's key, the hash against the
client id and the chain against the trust anchors it has for verifiers; no wallet has to
resolve anything on the network, and no host name has to match the response URI, so the same
verifier works behind API Gateway's host, a custom domain and ``127.0.0.1`` alike. It is the
prefix the OpenID4VC High Assurance Interoperability Profile 1.0 requires wallets to support
and verifiers to use; ``redirect_uri`` (unsigned requests) would let anyone who shows a QR
code claim to be the province. docs/WALLET_VERIFIER.md has the reasoning and the rest.

The request object goes by reference (``request_uri``, fetched with ``GET``), so the QR code
holds only ``openid4vp://?client_id=...&request_uri=...``.
"""

from __future__ import annotations

import base64
import hashlib
import threading
import time
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Any, Protocol
from urllib.parse import urlencode

from gyeonggi.common.aws import AwsClient
from gyeonggi.common.config import ConfigurationError
from gyeonggi.wallet.presentation_requests import PresentationRequest

if TYPE_CHECKING:  # cryptography is loaded where a request object is signed, not at cold start
    from gyeonggi.wallet.jose import Signer

#: ``typ`` of a request object (RFC 9101; OpenID4VP 1.0, 5: wallets refuse any other).
REQUEST_OBJECT_TYP = "oauth-authz-req+jwt"
#: The request object's media type, as the request URI answers it.
REQUEST_OBJECT_MEDIA_TYPE = "application/oauth-authz-req+jwt"
#: ``aud`` of a request object when the wallet's metadata is static (OpenID4VP 1.0, 5.8).
STATIC_AUDIENCE = "https://self-issued.me/v2"
CLIENT_ID_PREFIX = "x509_hash"
#: The authorization endpoint of wallets with static configuration (OpenID4VP 1.0, 13.1.2).
WALLET_SCHEME = "openid4vp://"
#: What this verifier reads: SD-JWT VC signed and key-bound with ES256 only.
VP_FORMATS_SUPPORTED = {
    "dc+sd-jwt": {"sd-jwt_alg_values": ["ES256"], "kb-jwt_alg_values": ["ES256"]}
}


def x509_hash_client_id(leaf_der: bytes) -> str:
    """``x509_hash:<base64url SHA-256 of the DER leaf certificate>``."""
    digest = hashlib.sha256(leaf_der).digest()
    return f"{CLIENT_ID_PREFIX}:" + base64.urlsafe_b64encode(digest).rstrip(b"=").decode()


def authorization_request_uri(client_id: str, request_uri: str) -> str:
    """The ``openid4vp://`` URI a wallet opens: the client id and where its request object is.

    Only these two parameters: the wallet must take every other one from the signed object
    (OpenID4VP 1.0, 5.10.1), so nothing else would be read anyway.
    """
    return WALLET_SCHEME + "?" + urlencode({"client_id": client_id, "request_uri": request_uri})


def request_object_claims(request: PresentationRequest, now: datetime) -> dict[str, Any]:
    """The claims of the request object for ``request`` (OpenID4VP 1.0, 5 and 8.2).

    ``state`` is the request id; ``purpose`` (when given) is this verifier's own parameter,
    which other wallets ignore (OpenID4VP 1.0, 5: unrecognised parameters are ignored).
    """
    claims: dict[str, Any] = {
        "aud": STATIC_AUDIENCE,
        "client_id": request.client_id,
        "response_type": "vp_token",
        "response_mode": "direct_post",
        "response_uri": request.response_uri,
        "nonce": request.nonce,
        "state": request.request_id,
        "dcql_query": request.dcql_query,
        "client_metadata": {"vp_formats_supported": VP_FORMATS_SUPPORTED},
        "iat": int(now.timestamp()),
        "exp": int(request.expires_at.timestamp()),
    }
    if request.purpose:
        claims["purpose"] = request.purpose
    return claims


# ---------------------------------------------------------------------- the certificate chain


class CertificateChainSource(Protocol):
    """Where the verifier's certificate chain comes from: PEM, leaf first."""

    def chain_pem(self) -> str:
        """The chain as PEM text (leaf first, then intermediates; the trust anchor may be
        left out)."""
        ...


class SsmCertificateChain:
    """The chain in an SSM parameter, stored there by the province's operators (the local
    cloud stores its development certificate there at start-up).

    :class:`RequestObjectSigner` reads it on first use and again after its ``refresh_seconds``,
    so a renewed certificate takes effect without a deployment.
    """

    ssm = AwsClient("ssm")

    def __init__(self, parameter_name: str, ssm: Any | None = None) -> None:
        self.parameter_name = parameter_name
        if ssm is not None:
            self.ssm = ssm

    def chain_pem(self) -> str:
        try:
            answer = self.ssm.get_parameter(Name=self.parameter_name)
        except self.ssm.exceptions.ParameterNotFound:
            raise ConfigurationError(
                f"the verifier's certificate chain is not in SSM parameter "
                f"{self.parameter_name} (docs/WALLET_VERIFIER.md, 'The verifier's certificate')"
            ) from None
        return str(answer["Parameter"]["Value"])


@dataclass(frozen=True)
class VerifierCertificate:
    """The verifier's certificate chain, checked against its signing key."""

    chain_der: tuple[bytes, ...]
    not_after: datetime

    @property
    def client_id(self) -> str:
        return x509_hash_client_id(self.chain_der[0])

    @property
    def x5c(self) -> list[str]:
        """The chain as the ``x5c`` header carries it: standard base64 of each DER."""
        return [base64.b64encode(der).decode("ascii") for der in self.chain_der]


def load_certificate(pem: str, signer_jwk: dict[str, str], now: datetime) -> VerifierCertificate:
    """The chain in ``pem``, if its leaf certifies the signing key and is valid at ``now``.

    Raises
    ------
    ConfigurationError
        No certificate, a leaf for another key (requests signed with this key would fail every
        wallet's check), or a leaf that is not valid now.
    """
    from cryptography import x509
    from cryptography.hazmat.primitives import serialization

    from gyeonggi.wallet.jose import public_key_jwk

    try:
        certificates = x509.load_pem_x509_certificates(pem.encode("ascii"))
    except ValueError:
        raise ConfigurationError("the verifier's certificate chain is not PEM") from None
    leaf = certificates[0]
    spki = leaf.public_key().public_bytes(
        serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    try:
        leaf_jwk = public_key_jwk(spki)
    except Exception:
        raise ConfigurationError("the verifier's certificate is not for a P-256 key") from None
    if (leaf_jwk["x"], leaf_jwk["y"]) != (signer_jwk["x"], signer_jwk["y"]):
        raise ConfigurationError(
            "the verifier's certificate is for another key than its KMS signing key"
        )
    if not leaf.not_valid_before_utc <= now < leaf.not_valid_after_utc:
        raise ConfigurationError("the verifier's certificate is not valid now")
    return VerifierCertificate(
        tuple(c.public_bytes(serialization.Encoding.DER) for c in certificates),
        leaf.not_valid_after_utc,
    )


class RequestObjectSigner:
    """Signs request objects with the verifier's key and names its client id.

    The certificate is read and checked on first use and again every ``refresh_seconds``.
    """

    def __init__(
        self,
        signer: Signer,
        certificates: CertificateChainSource,
        *,
        refresh_seconds: float = 900.0,
    ) -> None:
        self.signer = signer
        self.certificates = certificates
        self.refresh_seconds = refresh_seconds
        self._certificate: VerifierCertificate | None = None
        self._loaded_at = 0.0
        self._lock = threading.Lock()

    def certificate(self, now: datetime) -> VerifierCertificate:
        with self._lock:
            stale = time.monotonic() - self._loaded_at > self.refresh_seconds
            if self._certificate is None or stale or now >= self._certificate.not_after:
                pem = self.certificates.chain_pem()
                self._certificate = load_certificate(pem, self.signer.public_jwk(), now)
                self._loaded_at = time.monotonic()
            return self._certificate

    def client_id(self, now: datetime) -> str:
        """The verifier's client identifier (``x509_hash:...``)."""
        return self.certificate(now).client_id

    def sign(self, request: PresentationRequest, now: datetime) -> str:
        """The signed request object for ``request`` (compact JWS)."""
        from gyeonggi.wallet.jose import sign_jws

        certificate = self.certificate(now)
        header = {"typ": REQUEST_OBJECT_TYP, "x5c": certificate.x5c}
        return sign_jws(header, request_object_claims(request, now), self.signer)


def chain_to_pem(chain_der: Sequence[bytes]) -> str:
    """DER certificates as one PEM text (what the SSM parameter holds)."""
    out = []
    for der in chain_der:
        body = base64.b64encode(der).decode("ascii")
        lines = [body[i : i + 64] for i in range(0, len(body), 64)]
        out.append(
            "-----BEGIN CERTIFICATE-----\n" + "\n".join(lines) + "\n-----END CERTIFICATE-----\n"
        )
    return "".join(out)
