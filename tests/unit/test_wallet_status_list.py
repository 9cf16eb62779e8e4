"""Token Status List: the draft's own test vectors, the encoding rules, and the signed token."""

from __future__ import annotations

import base64
import json
import zlib
from collections.abc import Callable, Mapping
from datetime import UTC, datetime, timedelta

import pytest

from gyeonggi.common.errors import InvalidInput
from gyeonggi.wallet.errors import VerificationFailed
from gyeonggi.wallet.jose import LocalSigner, b64url_decode, b64url_encode, sign_jws, verify_jws
from gyeonggi.wallet.status_list import (
    INVALID,
    SUSPENDED,
    VALID,
    decode_status_list,
    encode_status_list,
    read_status_list_token,
    status_list_token,
)
from tests.unit import status_list_vectors as vectors
from tests.unit.wallet_support import ISSUER, NOW, STATUS_URI

# --- the draft's vectors --------------------------------------------------------------------


@pytest.mark.parametrize("example", [vectors.SHORT_1, vectors.SHORT_2])
def test_the_worked_examples_encode_byte_for_byte(example: tuple[int, list[int], str, str]) -> None:
    bits, statuses, lst, compressed_hex = example
    assert encode_status_list(statuses, bits) == lst
    assert b64url_decode(lst).hex() == compressed_hex
    decoded = decode_status_list(lst, bits)
    assert [decoded.get(i) for i in range(len(statuses))] == statuses


@pytest.mark.parametrize("bits", sorted(vectors.LONG))
def test_the_long_vectors_decode(bits: int) -> None:
    lst, entries = vectors.LONG[bits]
    status_list = decode_status_list(lst, bits)
    assert len(status_list) == vectors.SIZE
    expected = dict(entries)
    for idx, status in expected.items():
        assert status_list.get(idx) == status, idx
    # Everything not listed is 0 (checked on the raw bytes: 2^20 get() calls would be slow).
    nonzero = {
        i * (8 // bits) + slot
        for i, byte in enumerate(status_list.data)
        if byte
        for slot in range(8 // bits)
        if (byte >> (slot * bits)) & ((1 << bits) - 1)
    }
    assert nonzero == {i for i, s in expected.items() if s}


@pytest.mark.parametrize("bits", sorted(vectors.LONG))
def test_our_encoding_of_the_long_vectors_decodes_to_the_same_list(bits: int) -> None:
    lst, entries = vectors.LONG[bits]
    statuses = [0] * vectors.SIZE
    for idx, status in entries:
        statuses[idx] = status
    ours = encode_status_list(statuses, bits)
    assert decode_status_list(ours, bits).data == decode_status_list(lst, bits).data


def test_the_drafts_example_token_verifies_with_the_drafts_key() -> None:
    # Section 8.2's response body, signed by the draft's example key (kid "12"): an outside
    # signature over an outside list, read by our verifier.
    def jwks(iss: str, kid: str) -> Mapping[str, str]:
        assert (iss, kid) == (vectors.JWT_ISSUER, "12")
        return vectors.EXAMPLE_KEY

    token = read_status_list_token(
        vectors.JWT, uri=vectors.JWT_URI, issuer_jwks=jwks, now=datetime(2026, 1, 1, tzinfo=UTC)
    )
    assert token.ttl == timedelta(hours=12)
    assert token.issued_at == datetime.fromtimestamp(1686920170, UTC)
    assert token.expires_at == datetime.fromtimestamp(2291720170, UTC)
    assert token.issuer == vectors.JWT_ISSUER
    assert [token.status_list.get(i) for i in range(16)] == vectors.SHORT_1[1]


# --- encoding rules -------------------------------------------------------------------------


@pytest.mark.parametrize("bits", [1, 2, 4, 8])
def test_every_bit_size_round_trips(bits: int) -> None:
    statuses = [(i * 7 + 3) % (1 << bits) for i in range(1001)]
    decoded = decode_status_list(encode_status_list(statuses, bits), bits)
    assert [decoded.get(i) for i in range(len(statuses))] == statuses
    assert len(decoded) >= len(statuses)


def test_packing_is_least_significant_bit_first() -> None:
    data = zlib.decompress(b64url_decode(encode_status_list([INVALID, SUSPENDED, VALID, 3], 2)))
    assert data == bytes([0b11_00_10_01])


def test_the_list_is_zlib_at_the_highest_level_and_unpadded() -> None:
    lst = encode_status_list([0, 1, 2] * 100, 2)
    assert "=" not in lst
    assert b64url_decode(lst)[:2] == b"\x78\xda"  # ZLIB header, level 9 ("best compression")


def test_raw_deflate_is_refused() -> None:
    # Section 4.1 says ZLIB (RFC 1950): header and checksum. Raw DEFLATE must not pass as it.
    deflater = zlib.compressobj(9, zlib.DEFLATED, -15)
    raw = deflater.compress(bytes([0xB9, 0xA3])) + deflater.flush()
    with pytest.raises(VerificationFailed) as failure:
        decode_status_list(b64url_encode(raw), 1)
    assert failure.value.reason == "status_list_malformed"


@pytest.mark.parametrize(
    ("lst", "bits"),
    [
        (b64url_encode(zlib.compress(b"\x01")) + "=", 1),  # padded
        (base64.b64encode(zlib.compress(b"\xff" * 64)).decode(), 1),  # standard alphabet
        (b64url_encode(zlib.compress(b"\x01")[:-2]), 1),  # cut short
        (b64url_encode(zlib.compress(b"\x01") + b"junk"), 1),  # trailing data
        (b64url_encode(b"not zlib"), 1),
        (b64url_encode(zlib.compress(b"\x01")), 3),
        (b64url_encode(zlib.compress(b"\x01")), 0),
    ],
)
def test_malformed_lists_are_refused(lst: str, bits: int) -> None:
    with pytest.raises(VerificationFailed) as failure:
        decode_status_list(lst, bits)
    assert failure.value.reason == "status_list_malformed"


def test_a_list_that_inflates_without_end_is_refused() -> None:
    bomb = b64url_encode(zlib.compress(bytes(64 * 1024 * 1024), 9))  # 64 MiB of zeros, ~65 KB
    with pytest.raises(VerificationFailed) as failure:
        decode_status_list(bomb, 2)
    assert failure.value.reason == "status_list_malformed"


def test_an_index_outside_the_list_is_refused() -> None:
    status_list = decode_status_list(encode_status_list([0] * 8, 2), 2)
    assert status_list.get(7) == VALID
    for idx in (8, -1, True):
        with pytest.raises(VerificationFailed) as failure:
            status_list.get(idx)
        assert failure.value.reason == "status_index"


@pytest.mark.parametrize(
    ("statuses", "bits"), [([2], 1), ([4], 2), ([256], 8), ([-1], 2), ([0], 3)]
)
def test_statuses_that_do_not_fit_are_refused(statuses: list[int], bits: int) -> None:
    with pytest.raises(InvalidInput):
        encode_status_list(statuses, bits)


# --- the token ------------------------------------------------------------------------------


@pytest.fixture
def signer() -> LocalSigner:
    return LocalSigner.generate()


def _jwks(signer: LocalSigner) -> Callable[[str, str], Mapping[str, str]]:
    def jwks(iss: str, kid: str) -> Mapping[str, str]:
        if iss != ISSUER or kid != signer.kid:
            raise VerificationFailed("issuer_key")
        return signer.public_jwk()

    return jwks


def _token(signer: LocalSigner, **changes: object) -> str:
    options: dict[str, object] = {
        "signer": signer,
        "now": NOW,
        "ttl": timedelta(minutes=10),
        "lifetime": timedelta(days=1),
        "issuer": ISSUER,
    }
    options.update(changes)
    lst = encode_status_list([VALID, INVALID, SUSPENDED], 2)
    return status_list_token(STATUS_URI, lst, 2, **options)  # type: ignore[arg-type]


def _read_reason(token: str, signer: LocalSigner, **changes: object) -> str:
    options: dict[str, object] = {"uri": STATUS_URI, "issuer_jwks": _jwks(signer), "now": NOW}
    options.update(changes)
    with pytest.raises(VerificationFailed) as failure:
        read_status_list_token(token, **options)  # type: ignore[arg-type]
    return failure.value.reason


def test_a_token_round_trips(signer: LocalSigner) -> None:
    token = read_status_list_token(
        _token(signer), uri=STATUS_URI, issuer_jwks=_jwks(signer), now=NOW, issuer=ISSUER
    )
    assert [token.status_list.get(i) for i in range(3)] == [VALID, INVALID, SUSPENDED]
    assert token.ttl == timedelta(minutes=10)
    assert token.issued_at == NOW and token.expires_at == NOW + timedelta(days=1)


def test_the_token_has_the_claims_the_draft_requires(signer: LocalSigner) -> None:
    header, payload = verify_jws(_token(signer), signer.public_jwk(), typ="statuslist+jwt")
    assert header == {"alg": "ES256", "typ": "statuslist+jwt", "kid": signer.kid}
    assert payload == {
        "iss": ISSUER,
        "sub": STATUS_URI,
        "iat": int(NOW.timestamp()),
        "exp": int((NOW + timedelta(days=1)).timestamp()),
        "ttl": 600,
        "status_list": {"bits": 2, "lst": encode_status_list([0, 1, 2], 2)},
    }


def test_the_token_must_be_typed_statuslist_jwt(signer: LocalSigner) -> None:
    for header in ({"typ": "jwt"}, {}, {"typ": "dc+sd-jwt"}):
        token = sign_jws(header, {"iss": ISSUER, "sub": STATUS_URI, "iat": 1}, signer)
        assert _read_reason(token, signer) == "status_list_typ"


def test_a_token_for_another_uri_is_refused(signer: LocalSigner) -> None:
    assert _read_reason(_token(signer), signer, uri=STATUS_URI + "0") == "status_list_sub"


def test_an_expired_token_is_refused(signer: LocalSigner) -> None:
    assert (
        _read_reason(_token(signer), signer, now=NOW + timedelta(days=1)) == "status_list_expired"
    )


def test_a_token_of_another_issuer_or_key_is_refused(signer: LocalSigner) -> None:
    assert _read_reason(_token(signer), signer, issuer="https://other") == "status_list_issuer"
    other = LocalSigner.generate()
    assert _read_reason(_token(other), signer) == "status_list_issuer_key"
    # Signed by a key that is not the one its kid names.
    _, body, signature = _token(other).split(".")
    impostor = sign_jws({"typ": "statuslist+jwt"}, {}, signer).split(".")[0]
    assert _read_reason(f"{impostor}.{body}.{signature}", signer) == "status_list_signature"


def test_a_token_without_iss_takes_the_credentials_issuer(signer: LocalSigner) -> None:
    token = _token(signer, issuer=None)
    read_status_list_token(token, uri=STATUS_URI, issuer_jwks=_jwks(signer), now=NOW, issuer=ISSUER)
    assert _read_reason(token, signer) == "status_list_issuer_key"  # and no issuer to ask


def test_ttl_absent_means_until_exp(signer: LocalSigner) -> None:
    token = sign_jws(
        {"typ": "statuslist+jwt"},
        {
            "iss": ISSUER,
            "sub": STATUS_URI,
            "iat": int(NOW.timestamp()),
            "exp": int((NOW + timedelta(hours=2)).timestamp()),
            "status_list": {"bits": 1, "lst": encode_status_list([1], 1)},
        },
        signer,
    )
    read = read_status_list_token(token, uri=STATUS_URI, issuer_jwks=_jwks(signer), now=NOW)
    assert read.ttl == timedelta(hours=2)


@pytest.mark.parametrize(
    "payload",
    [
        {"sub": STATUS_URI, "status_list": {"bits": 1, "lst": "eNrbuRgAAhcBXQ"}},  # no iat
        {"sub": STATUS_URI, "iat": "now", "status_list": {"bits": 1, "lst": "eNrbuRgAAhcBXQ"}},
        {"sub": STATUS_URI, "iat": 1, "ttl": 0, "status_list": {"bits": 1, "lst": "x"}},
        {"sub": STATUS_URI, "iat": 1},  # no status_list
        {"sub": STATUS_URI, "iat": 1, "status_list": {"bits": 3, "lst": "eNrbuRgAAhcBXQ"}},
    ],
)
def test_malformed_tokens_are_refused(signer: LocalSigner, payload: dict[str, object]) -> None:
    token = sign_jws({"typ": "statuslist+jwt"}, {"iss": ISSUER, **payload}, signer)
    assert _read_reason(token, signer) == "status_list_malformed"


def test_token_parameters_are_checked(signer: LocalSigner) -> None:
    for changes in ({"ttl": timedelta(0)}, {"lifetime": timedelta(0)}):
        with pytest.raises(InvalidInput):
            _token(signer, **changes)
    with pytest.raises(InvalidInput):
        status_list_token(
            STATUS_URI, "x", 5, signer=signer, now=NOW, ttl=timedelta(1), lifetime=timedelta(1)
        )


def test_the_token_header_and_key_are_checked(signer: LocalSigner) -> None:
    good = _token(signer)
    _, body, signature = good.split(".")
    for header, reason in (
        ({"alg": "none", "typ": "statuslist+jwt", "kid": signer.kid}, "status_list_alg"),
        ({"alg": "HS256", "typ": "statuslist+jwt", "kid": signer.kid}, "status_list_alg"),
        (
            {"alg": "ES256", "typ": "statuslist+jwt", "kid": signer.kid, "crit": ["x"]},
            "status_list_crit",
        ),
    ):
        forged = f"{b64url_encode(json.dumps(header).encode())}.{body}.{signature}"
        assert _read_reason(forged, signer) == reason

    def rsa_key(iss: str, kid: str) -> Mapping[str, str]:
        return {"kty": "RSA", "n": "AQAB", "e": "AQAB"}

    assert _read_reason(good, signer, issuer_jwks=rsa_key) == "status_list_key"
