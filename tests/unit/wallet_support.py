"""What the wallet tests share: keys made per test, a resident, and hand-built SD-JWTs.

Keys are generated here, never stored: nothing secret is in the repository.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from typing import Any

from gyeonggi.wallet.credential import ResidentClaims, issue_resident_credential
from gyeonggi.wallet.errors import VerificationFailed
from gyeonggi.wallet.jose import LocalSigner, b64url_encode, sign_jws
from gyeonggi.wallet.sd_jwt import digest, present

ISSUER = "https://wallet.gg.go.kr"
STATUS_URI = "https://wallet.gg.go.kr/status-lists/1"
NONCE = "n-0S6_WzA2Mj"
AUDIENCE = "x509_san_dns:verifier.gg.go.kr"
#: 1 December 2026, 12:00 in Korea.
NOW = datetime(2026, 12, 1, 3, 0, tzinfo=UTC)
LIFETIME = timedelta(days=365)


def resident(**changes: Any) -> ResidentClaims:
    """홍길동 of Suwon, born 5 May 2000, with ``changes``."""
    values: dict[str, Any] = {
        "given_name": "길동",
        "family_name": "홍",
        "birthdate": date(2000, 5, 5),
        "jurisdiction": "suwon.gg.kr",
        "address": "경기도 수원시 팔달구 효원로 1",
        "resident_since": date(2010, 3, 2),
    }
    values.update(changes)
    return ResidentClaims(**values)


@dataclass
class Wallet:
    """An issuer key and a holder key, made for one test."""

    issuer: LocalSigner = field(default_factory=LocalSigner.generate)
    holder: LocalSigner = field(default_factory=LocalSigner.generate)
    lookups: list[tuple[str, str]] = field(default_factory=list)

    def jwks(self, iss: str, kid: str) -> Mapping[str, str]:
        """The verifier's key lookup: only this issuer's key, by its kid."""
        self.lookups.append((iss, kid))
        key = self.issuer.public_jwk()
        if iss != ISSUER or kid != key["kid"]:
            raise VerificationFailed("issuer_key")
        return key

    def issue(self, **changes: Any) -> str:
        """A resident credential for the holder, issued at :data:`NOW`."""
        options: dict[str, Any] = {
            "issuer": ISSUER,
            "holder_jwk": self.holder.public_jwk(),
            "status": {"status_list": {"idx": 7, "uri": STATUS_URI}},
            "signer": self.issuer,
            "now": NOW,
            "lifetime": LIFETIME,
        }
        claims = changes.pop("claims", resident())
        options.update(changes)
        return issue_resident_credential(claims, **options)

    def present(self, credential: str, *paths: tuple[str | int, ...], **changes: Any) -> str:
        """A presentation of ``paths`` with a KB-JWT for :data:`NONCE` and :data:`AUDIENCE`."""
        options: dict[str, Any] = {
            "holder": self.holder,
            "nonce": NONCE,
            "audience": AUDIENCE,
            "now": NOW,
        }
        options.update(changes)
        return present(credential, disclose=list(paths), **options)


def disclosure(*content: Any, raw: str | None = None) -> tuple[str, str]:
    """A disclosure of ``content`` (``salt, name, value`` or ``salt, value``), or of the JSON
    text ``raw`` as is, and its digest."""
    text = raw if raw is not None else json.dumps(list(content))
    encoded = b64url_encode(text.encode("utf-8"))
    return encoded, digest(encoded)


def signed_sd_jwt(
    signer: LocalSigner,
    payload: Mapping[str, Any],
    disclosures: list[str],
    *,
    header: Mapping[str, Any] | None = None,
) -> str:
    """``<JWT>~<D1>~...~`` with exactly ``payload`` (nothing added), signed by ``signer``."""
    jwt = sign_jws(header if header is not None else {"typ": "dc+sd-jwt"}, payload, signer)
    return jwt + "~" + "".join(d + "~" for d in disclosures)


def vc_payload(wallet: Wallet, **changes: Any) -> dict[str, Any]:
    """The plain part of a valid SD-JWT VC for ``wallet``'s holder, with ``changes``
    (a value of ``None`` removes the claim)."""
    payload: dict[str, Any] = {
        "iss": ISSUER,
        "vct": ISSUER + "/credentials/gyeonggi-resident",
        "exp": int((NOW + LIFETIME).timestamp()),
        "cnf": {"jwk": {k: v for k, v in wallet.holder.public_jwk().items() if k != "kid"}},
        "_sd_alg": "sha-256",
    }
    payload.update(changes)
    return {k: v for k, v in payload.items() if v is not None}
