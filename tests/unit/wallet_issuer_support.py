"""What the wallet issuer's unit tests share: an issuer over fakes, a clock, people and proofs.

Keys are generated per test, never stored: nothing secret is in the repository.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from types import MappingProxyType
from typing import Any

from gyeonggi.auth.tokens import CIVIL_SERVANT, PROVINCE, Principal
from gyeonggi.wallet.issuer_ports import TxCodeSender
from gyeonggi.wallet.issuer_service import WalletIssuer
from gyeonggi.wallet.issuer_settings import IssuerEndpoints
from gyeonggi.wallet.jose import LocalSigner, encode_jws
from gyeonggi.wallet.offers import PRE_AUTHORIZED_GRANT, AnswerTxCodes, OfferMade
from tests.fakes.wallet_issuer import FakeEnrolments, FakeGrants, FakeStatusLists, LocalKeys

ISSUER = "https://wallet.gg.go.kr"
#: 1 December 2026, 12:00 in Korea.
T0 = datetime(2026, 12, 1, 3, 0, tzinfo=UTC)


class Clock:
    """A clock a test moves by hand."""

    def __init__(self, now: datetime = T0) -> None:
        self.now = now

    def __call__(self) -> datetime:
        return self.now

    def advance(self, **delta: float) -> None:
        self.now += timedelta(**delta)


def official(*jurisdictions: str, province: bool = False, subject: str = "official-1") -> Principal:
    """A civil servant of ``jurisdictions`` (or of the whole province)."""
    roles = frozenset({CIVIL_SERVANT, PROVINCE} if province else {CIVIL_SERVANT})
    return Principal(
        subject=subject,
        roles=roles,
        claims=MappingProxyType({"sub": subject}),
        jurisdictions=frozenset(jurisdictions),
    )


def person(**changes: Any) -> dict[str, Any]:
    """What an official sends to enrol 홍길동 of Suwon (born 5 May 2000)."""
    body: dict[str, Any] = {
        "given_name": "길동",
        "family_name": "홍",
        "birthdate": "2000-05-05",
        "jurisdiction": "suwon.gg.kr",
        "address": "경기도 수원시 팔달구 효원로 1",
        "resident_since": "2010-03-02",
        "phone_number": "+821012345678",
    }
    body.update(changes)
    return {k: v for k, v in body.items() if v is not None}


@dataclass
class Setup:
    """An issuer over in-memory fakes, with everything a test looks into."""

    clock: Clock = field(default_factory=Clock)
    enrolments: FakeEnrolments = field(default_factory=FakeEnrolments)
    grants: FakeGrants = field(default_factory=FakeGrants)
    lists: FakeStatusLists = field(default_factory=lambda: FakeStatusLists(size=1024))
    keys: LocalKeys = field(default_factory=LocalKeys)
    tx_codes: TxCodeSender = field(default_factory=AnswerTxCodes)
    random_index: Callable[[int], int] | None = None
    issuer: WalletIssuer = field(init=False)

    def __post_init__(self) -> None:
        self.issuer = WalletIssuer.build(
            IssuerEndpoints(ISSUER),
            enrolments=self.enrolments,
            grants=self.grants,
            status_lists=self.lists,
            keys=self.keys,
            tx_codes=self.tx_codes,
            clock=self.clock,
            random_index=self.random_index,
        )

    def enrol(self, **changes: Any) -> OfferMade:
        return self.issuer.offers.enrol(official("suwon.gg.kr"), person(**changes))

    def token_form(self, made: OfferMade, **changes: str | None) -> dict[str, list[str]]:
        grant = made.offer["grants"][PRE_AUTHORIZED_GRANT]
        form: dict[str, str | None] = {
            "grant_type": PRE_AUTHORIZED_GRANT,
            "pre-authorized_code": grant["pre-authorized_code"],
            "tx_code": made.tx_code,
        }
        form.update(changes)
        return {k: [v] for k, v in form.items() if v is not None}

    def access_token(self, made: OfferMade | None = None) -> str:
        made = made or self.enrol()
        return str(self.issuer.tokens.exchange(self.token_form(made))["access_token"])


def proof(
    holder: LocalSigner,
    nonce: str | None,
    *,
    aud: Any = ISSUER,
    iat: Any = None,
    now: datetime = T0,
    header: dict[str, Any] | None = None,
    claims: dict[str, Any] | None = None,
    signer: LocalSigner | None = None,
) -> str:
    """An OpenID4VCI key proof JWT of ``holder``'s key (header ``jwk``), as a wallet makes it;
    ``header`` and ``claims`` change or (with ``None``) remove members."""
    protected: dict[str, Any] = {
        "typ": "openid4vci-proof+jwt",
        "jwk": {k: v for k, v in holder.public_jwk().items() if k != "kid"},
    }
    payload: dict[str, Any] = {
        "aud": aud,
        "iat": int(now.timestamp()) if iat is None else iat,
        "nonce": nonce,
    }
    for target, changes in ((protected, header), (payload, claims)):
        for key, value in (changes or {}).items():
            if value is None:
                target.pop(key, None)
            else:
                target[key] = value
    if payload.get("nonce") is None:
        payload.pop("nonce", None)
    return encode_jws(protected, payload, signer or holder)


def credential_request(*proofs: str, **changes: Any) -> dict[str, Any]:
    request: dict[str, Any] = {
        "credential_configuration_id": "gyeonggi_resident",
        "proofs": {"jwt": list(proofs)},
    }
    request.update(changes)
    return {k: v for k, v in request.items() if v is not None}
