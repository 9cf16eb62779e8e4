"""IETF Token Status List: the compressed list, and the signed ``statuslist+jwt`` that carries it.

The list (draft section 4.1): ``bits`` per credential (1, 2, 4 or 8; the issuer uses 2, for
valid / revoked / suspended), packed into bytes from the least significant bit up, compressed
with DEFLATE in the ZLIB format (RFC 1950, header and checksum: not raw DEFLATE) at the highest
level, then base64url without padding.

The token (section 5.1): ``typ`` ``statuslist+jwt``, ``sub`` the list's URI, ``iat``, ``exp``,
``ttl`` (seconds a consumer may cache it) and ``status_list {bits, lst}``. Reading one checks the
signature, ``typ``, ``sub`` against the URI it was fetched from, and ``exp`` (section 8.3).
"""

from __future__ import annotations

import zlib
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from gyeonggi.common.errors import InvalidInput
from gyeonggi.wallet.errors import VerificationFailed
from gyeonggi.wallet.jose import (
    Signer,
    b64url_decode,
    b64url_encode,
    check_header,
    parse_jws,
    sign_jws,
    verify_signature,
)

VALID, INVALID, SUSPENDED = 0, 1, 2
"""Status Types (section 7.1): 0 valid, 1 invalid (revoked), 2 suspended."""

TYP = "statuslist+jwt"
BITS = (1, 2, 4, 8)

#: The largest decompressed list read: 2^23 bytes holds 2^25 two-bit statuses, far past what a
#: province issues, and stops a few kilobytes of "zip bomb" from inflating without end.
MAX_LIST_BYTES = 1 << 23


def _check_bits(bits: int) -> None:
    if isinstance(bits, bool) or bits not in BITS:
        raise InvalidInput(f"bits must be one of {BITS}", field="bits")


def encode_status_list(statuses: Sequence[int], bits: int = 2) -> str:
    """The ``lst`` of a Status List holding ``statuses`` (index i is the credential with
    ``idx`` i).

    Raises
    ------
    InvalidInput
        When ``bits`` is not 1, 2, 4 or 8, or a status does not fit in ``bits``.
    """
    _check_bits(bits)
    per_byte = 8 // bits
    limit = 1 << bits
    packed = bytearray(-(-len(statuses) // per_byte))
    for index, status in enumerate(statuses):
        if isinstance(status, bool) or not isinstance(status, int) or not 0 <= status < limit:
            raise InvalidInput(f"status {index} does not fit in {bits} bits", field="statuses")
        if status:
            # Least significant bits first: index 0 is bits 0..bits-1 of byte 0.
            packed[index // per_byte] |= status << (index % per_byte * bits)
    return b64url_encode(zlib.compress(bytes(packed), level=9))


@dataclass(frozen=True, slots=True)
class StatusList:
    """A decoded Status List: ``get(idx)`` and ``len()``."""

    bits: int
    data: bytes

    def __len__(self) -> int:
        return len(self.data) * 8 // self.bits

    def get(self, idx: int) -> int:
        """The status of the credential with index ``idx``.

        Raises
        ------
        VerificationFailed
            ``status_index`` when ``idx`` is outside the list: the draft (section 8.3) says no
            statement can be made, and the credential must be rejected.
        """
        if isinstance(idx, bool) or not isinstance(idx, int) or not 0 <= idx < len(self):
            raise VerificationFailed("status_index")
        per_byte = 8 // self.bits
        byte = self.data[idx // per_byte]
        return (byte >> (idx % per_byte * self.bits)) & ((1 << self.bits) - 1)


def decode_status_list(lst: str, bits: int) -> StatusList:
    """The Status List in ``lst``.

    Raises
    ------
    VerificationFailed
        ``status_list_malformed``: ``bits`` is not 1, 2, 4 or 8, ``lst`` is not base64url of a
        ZLIB stream (raw DEFLATE is not), the stream has trailing bytes, or it inflates past
        :data:`MAX_LIST_BYTES`.
    """
    if isinstance(bits, bool) or bits not in BITS or not isinstance(lst, str):
        raise VerificationFailed("status_list_malformed")
    try:
        compressed = b64url_decode(lst)
    except ValueError:
        raise VerificationFailed("status_list_malformed") from None
    inflater = zlib.decompressobj()  # wbits 15: the ZLIB header and Adler-32 are required
    try:
        data = inflater.decompress(compressed, MAX_LIST_BYTES)
    except zlib.error:
        raise VerificationFailed("status_list_malformed") from None
    if not inflater.eof or inflater.unconsumed_tail or inflater.unused_data:
        raise VerificationFailed(
            "status_list_malformed", "the status list is cut short, too large, or followed by data"
        )
    return StatusList(bits, data)


def status_list_token(
    uri: str,
    lst: str,
    bits: int,
    *,
    signer: Signer,
    now: datetime,
    ttl: timedelta,
    lifetime: timedelta,
    issuer: str | None = None,
) -> str:
    """The Status List Token served at ``uri``.

    Parameters
    ----------
    uri
        Where it is served: the ``status_list.uri`` of the credentials it covers, and its
        ``sub``.
    lst, bits
        The list (:func:`encode_status_list`).
    signer
        The issuer's key.
    now, ttl, lifetime
        ``iat``; ``ttl`` in whole seconds (how long consumers cache it); ``exp = now +
        lifetime``.
    issuer
        ``iss``, when given (the same as the credentials', so one key lookup serves both).

    Raises
    ------
    InvalidInput
        When ``bits`` is not 1, 2, 4 or 8, or ``ttl`` or ``lifetime`` is not positive.
    """
    _check_bits(bits)
    if ttl.total_seconds() < 1 or lifetime <= timedelta(0):
        raise InvalidInput("ttl (at least a second) and lifetime must be positive")
    payload: dict[str, Any] = {
        "sub": uri,
        "iat": int(now.timestamp()),
        "exp": int((now + lifetime).timestamp()),
        "ttl": int(ttl.total_seconds()),
        "status_list": {"bits": bits, "lst": lst},
    }
    if issuer is not None:
        payload = {"iss": issuer, **payload}
    return sign_jws({"typ": TYP}, payload, signer)


@dataclass(frozen=True, slots=True)
class StatusListToken:
    """A verified Status List Token.

    Attributes
    ----------
    status_list
        The list.
    ttl
        How long it may be cached: its ``ttl``; without one, until ``exp``; without either,
        not at all (zero).
    issued_at, expires_at
        ``iat``, and ``exp`` (``None`` when absent).
    issuer
        ``iss``, when present.
    """

    status_list: StatusList
    ttl: timedelta
    issued_at: datetime
    expires_at: datetime | None
    issuer: str | None


def _seconds(payload: Mapping[str, Any], name: str) -> float | None:
    value = payload.get(name)
    if value is None and name not in payload:
        return None
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise VerificationFailed(
            "status_list_malformed", f"the status list's {name} is not a number"
        )
    return float(value)


def read_status_list_token(
    token: str,
    *,
    uri: str,
    issuer_jwks: Callable[[str, str], Mapping[str, Any]],
    now: datetime,
    issuer: str | None = None,
) -> StatusListToken:
    """Verify a Status List Token fetched from ``uri`` (draft section 8.3).

    Parameters
    ----------
    token
        The compact JWS as served.
    uri
        The URI it was fetched from: the credential's ``status_list.uri``, which ``sub`` must
        equal.
    issuer_jwks
        ``(iss, kid) -> jwk``, as for credentials.
    now
        The consumer's time.
    issuer
        The credential's issuer: the token's ``iss`` must equal it when present, and the key is
        looked up under it when the token has no ``iss``.

    Raises
    ------
    VerificationFailed
        ``status_list_malformed``, ``status_list_alg``, ``status_list_crit``,
        ``status_list_typ``, ``status_list_issuer``, ``status_list_issuer_key``,
        ``status_list_key``, ``status_list_signature``, ``status_list_sub`` or
        ``status_list_expired``.
    """
    try:
        jws = parse_jws(token)
        check_header(jws.header, TYP)
    except VerificationFailed as failure:
        raise failure.with_prefix("status_list_") from None
    claims = jws.payload
    token_issuer = claims.get("iss")
    if token_issuer is not None and not isinstance(token_issuer, str):
        raise VerificationFailed("status_list_malformed")
    if issuer is not None and token_issuer is not None and token_issuer != issuer:
        raise VerificationFailed("status_list_issuer")
    key_owner = token_issuer or issuer
    kid = jws.header.get("kid")
    if not key_owner or not isinstance(kid, str):
        raise VerificationFailed("status_list_issuer_key")
    try:
        verify_signature(jws, issuer_jwks(key_owner, kid))
    except VerificationFailed as failure:
        raise failure.with_prefix("status_list_") from None
    if claims.get("sub") != uri:
        raise VerificationFailed("status_list_sub")
    issued = _seconds(claims, "iat")
    if issued is None:
        raise VerificationFailed("status_list_malformed", "the status list token has no iat")
    expires = _seconds(claims, "exp")
    moment = now.timestamp()
    if expires is not None and expires <= moment:
        raise VerificationFailed("status_list_expired")
    ttl_seconds = _seconds(claims, "ttl")
    if ttl_seconds is not None and ttl_seconds <= 0:
        raise VerificationFailed("status_list_malformed", "the status list's ttl is not positive")
    if ttl_seconds is None:
        ttl_seconds = max(0.0, expires - moment) if expires is not None else 0.0
    body = claims.get("status_list")
    if not isinstance(body, dict):
        raise VerificationFailed("status_list_malformed")
    lst, bits = body.get("lst"), body.get("bits")
    if not isinstance(lst, str) or not isinstance(bits, int):
        raise VerificationFailed("status_list_malformed")
    return StatusListToken(
        status_list=decode_status_list(lst, bits),
        ttl=timedelta(seconds=ttl_seconds),
        issued_at=datetime.fromtimestamp(issued, UTC),
        expires_at=None if expires is None else datetime.fromtimestamp(expires, UTC),
        issuer=token_issuer,
    )
