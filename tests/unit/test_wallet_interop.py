"""Interoperability, proven by outside code (test dependencies only, never shipped).

- credentials and presentations we make verify with the reference Python library (PyPI
  ``sd-jwt``, ``SDJWTVerifier``) and with the TypeScript one (npm ``@sd-jwt/sd-jwt-vc``, run by
  node from ``tests/interop/``), status lists included;
- presentations the Python library's holder (``SDJWTHolder``) makes verify with ours;
- where those libraries are laxer than the specifications, ours refuses what they accept.

The npm package is installed by ``make interop`` (``npm ci --prefix tests/interop``; ``.ci/run``
does it). The node tests skip only when node itself is missing; node without the package is a
failure that says what to run.
"""

from __future__ import annotations

import json
import shutil
import subprocess
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from jwcrypto.jwk import JWK
from sd_jwt.holder import SDJWTHolder
from sd_jwt.verifier import SDJWTVerifier

from gyeonggi.wallet.credential import verify_presentation
from gyeonggi.wallet.errors import VerificationFailed
from gyeonggi.wallet.jose import encode_jws
from gyeonggi.wallet.sd_jwt import DisclosureBuilder, digest, split_sd_jwt
from gyeonggi.wallet.status_list import encode_status_list, status_list_token
from tests.conftest import ROOT
from tests.unit.wallet_support import (
    AUDIENCE,
    ISSUER,
    NONCE,
    NOW,
    STATUS_URI,
    Wallet,
    signed_sd_jwt,
    vc_payload,
)

INTEROP = ROOT / "tests" / "interop"
NODE_SCRIPT = INTEROP / "verify_sd_jwt_vc.mjs"
NODE = shutil.which("node")


@pytest.fixture
def wallet() -> Wallet:
    return Wallet()


def _jwcrypto(jwk: dict[str, str]) -> JWK:
    return JWK(**{k: v for k, v in jwk.items() if k != "kid"})


def _python_verify(wallet: Wallet, sd_jwt: str, *, kb: bool = True) -> dict[str, Any]:
    def issuer_key(iss: str, header: dict[str, Any]) -> JWK:
        assert iss == ISSUER and header["kid"] == wallet.issuer.kid
        return _jwcrypto(wallet.issuer.public_jwk())

    verifier = SDJWTVerifier(
        sd_jwt,
        issuer_key,
        expected_aud=AUDIENCE if kb else None,
        expected_nonce=NONCE if kb else None,
    )
    payload: dict[str, Any] = verifier.get_verified_payload()
    return payload


def _verify(wallet: Wallet, presentation: str, **changes: Any) -> Any:
    options: dict[str, Any] = {
        "issuer_jwks": wallet.jwks,
        "nonce": NONCE,
        "audience": AUDIENCE,
        "now": NOW,
    }
    options.update(changes)
    return verify_presentation(presentation, **options)


def _our_reason(wallet: Wallet, presentation: str, **changes: Any) -> str:
    with pytest.raises(VerificationFailed) as failure:
        _verify(wallet, presentation, **changes)
    return failure.value.reason


# --- PyPI sd-jwt ----------------------------------------------------------------------------


def test_python_reference_verifies_our_credential_with_every_claim(wallet: Wallet) -> None:
    credential = wallet.issue()
    payload = _python_verify(wallet, credential, kb=False)
    assert payload["given_name"] == "길동" and payload["birthdate"] == "2000-05-05"
    assert payload["age_equal_or_over"] == {"14": True, "19": True, "65": False}
    assert payload["address"] == {"formatted": "경기도 수원시 팔달구 효원로 1"}
    assert payload["vct"] == ISSUER + "/credentials/gyeonggi-resident"


def test_python_reference_verifies_our_presentation_and_kb_jwt(wallet: Wallet) -> None:
    shown = wallet.present(wallet.issue(), ("age_equal_or_over", "19"), ("jurisdiction",))
    payload = _python_verify(wallet, shown)
    ours = _verify(wallet, shown).claims
    assert payload == ours
    assert payload["age_equal_or_over"] == {"19": True} and "birthdate" not in payload


def test_python_reference_holder_presentations_verify_with_ours(wallet: Wallet) -> None:
    holder = SDJWTHolder(wallet.issue())
    holder.create_presentation(
        {"given_name": True, "age_equal_or_over": {"19": True}},
        nonce=NONCE,
        aud=AUDIENCE,
        holder_key=_jwcrypto_private(wallet),
        sign_alg="ES256",
    )
    # The library stamps the KB-JWT with the real clock: verify at the real time.
    verified = _verify(wallet, holder.sd_jwt_presentation, now=datetime.now(UTC))
    assert verified.claims["given_name"] == "길동"
    assert verified.claims["age_equal_or_over"] == {"19": True}
    assert "family_name" not in verified.claims


def _jwcrypto_private(wallet: Wallet) -> JWK:
    return JWK.from_pem(wallet.holder.private_pem())


def test_python_reference_holder_with_everything_and_with_nothing(wallet: Wallet) -> None:
    credential = wallet.issue()
    for selection in ({}, {"iat": True, "address": True, "age_equal_or_over": True}):
        holder = SDJWTHolder(credential)
        holder.create_presentation(
            selection,
            nonce=NONCE,
            aud=AUDIENCE,
            holder_key=_jwcrypto_private(wallet),
            sign_alg="ES256",
        )
        claims = _verify(wallet, holder.sd_jwt_presentation, now=datetime.now(UTC)).claims
        assert set(selection) <= set(claims)


# --- where the Python reference is laxer than the specifications ----------------------------


def test_an_untyped_credential_passes_the_python_reference_not_ours(wallet: Wallet) -> None:
    for header in ({}, {"typ": "JWT"}):
        credential = signed_sd_jwt(wallet.issuer, vc_payload(wallet), [], header=header)
        shown = wallet.present(credential)
        _python_verify(wallet, shown)  # no typ check there
        assert _our_reason(wallet, shown) == "typ"


def test_an_expired_credential_passes_the_python_reference_not_ours(wallet: Wallet) -> None:
    long_ago = NOW - timedelta(days=800)
    credential = wallet.issue(now=long_ago)  # expired 435 days before NOW
    shown = wallet.present(credential, ("given_name",))
    _python_verify(wallet, shown)  # it skips exp and iat
    assert _our_reason(wallet, shown) == "expired"


def test_a_stale_kb_jwt_passes_the_python_reference_not_ours(wallet: Wallet) -> None:
    shown = wallet.present(wallet.issue(), ("given_name",), now=NOW - timedelta(hours=3))
    _python_verify(wallet, shown)  # no freshness check on the KB-JWT's iat
    assert _our_reason(wallet, shown) == "kb_stale"


def test_an_unreferenced_disclosure_passes_the_python_reference_not_ours(wallet: Wallet) -> None:
    stray = DisclosureBuilder()
    stray.conceal_object({}, {"nickname": "stray"})
    shown = _with_extra_disclosure(wallet, wallet.issue(), stray.disclosures[0])
    _python_verify(wallet, shown)  # extra disclosures are ignored there
    assert _our_reason(wallet, shown) == "disclosure_unreferenced"


def _with_extra_disclosure(wallet: Wallet, credential: str, extra: str) -> str:
    shown = split_sd_jwt(wallet.present(credential, ("given_name",)))
    presented = shown.presented + extra + "~"
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
    return presented + kb


def test_a_disclosed_exp_passes_the_python_reference_not_ours(wallet: Wallet) -> None:
    shown = _credential_with_concealed_exp(wallet)
    assert "exp" in _python_verify(wallet, shown)
    assert _our_reason(wallet, shown) == "sd_forbidden"


def _credential_with_concealed_exp(wallet: Wallet) -> str:
    builder = DisclosureBuilder()
    plain = vc_payload(wallet)
    exp = plain.pop("exp")
    payload = builder.conceal_object(plain, {"exp": exp})
    credential = signed_sd_jwt(wallet.issuer, payload, builder.disclosures)
    return wallet.present(credential, ("exp",))


# --- npm @sd-jwt/sd-jwt-vc ------------------------------------------------------------------


@pytest.fixture(scope="module")
def node() -> str:
    if NODE is None:
        pytest.skip("node is not installed here (CI installs it and tests/interop's package)")
    if not (INTEROP / "node_modules" / "@sd-jwt" / "sd-jwt-vc").is_dir():
        pytest.fail(
            "the npm package @sd-jwt/sd-jwt-vc is not installed: run `make interop` "
            "(npm ci --prefix tests/interop, as .ci/run does)"
        )
    return NODE


def _node_verify(node: str, wallet: Wallet, sd_jwt: str, **extra: Any) -> dict[str, Any]:
    request = {
        "sd_jwt": sd_jwt,
        "issuer_jwk": {k: v for k, v in wallet.issuer.public_jwk().items() if k != "kid"},
        "now": int(NOW.timestamp()),
        **extra,
    }
    done = subprocess.run(
        [node, str(NODE_SCRIPT)],
        input=json.dumps(request),
        capture_output=True,
        text=True,
        timeout=60,
        cwd=INTEROP,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    answer: dict[str, Any] = json.loads(done.stdout)
    return answer


def _status_token(wallet: Wallet, status: int) -> str:
    statuses = [0] * 64
    statuses[7] = status  # the index Wallet.issue gives
    return status_list_token(
        STATUS_URI,
        encode_status_list(statuses, 2),
        2,
        signer=wallet.issuer,
        now=NOW,
        ttl=timedelta(minutes=5),
        lifetime=timedelta(days=1),
        issuer=ISSUER,
    )


def test_typescript_reference_verifies_our_credential(node: str, wallet: Wallet) -> None:
    answer = _node_verify(node, wallet, wallet.issue())
    assert answer["ok"], answer
    assert answer["payload"]["age_equal_or_over"] == {"14": True, "19": True, "65": False}
    assert answer["payload"]["family_name"] == "홍"


def test_typescript_reference_verifies_our_presentation_and_status(
    node: str, wallet: Wallet
) -> None:
    shown = wallet.present(wallet.issue(), ("age_equal_or_over", "19"))
    answer = _node_verify(
        node, wallet, shown, nonce=NONCE, status_list_token=_status_token(wallet, 0)
    )
    assert answer["ok"], answer
    assert answer["payload"] == _verify(wallet, shown).claims
    assert answer["kb"]["aud"] == AUDIENCE and answer["kb"]["nonce"] == NONCE


@pytest.mark.parametrize("status", [1, 2])
def test_typescript_reference_reads_our_status_list(node: str, wallet: Wallet, status: int) -> None:
    # Our ZLIB, LSB-first, base64url list as their decoder reads it: revoked and suspended are
    # not valid there either.
    shown = wallet.present(wallet.issue(), ("given_name",))
    answer = _node_verify(
        node, wallet, shown, nonce=NONCE, status_list_token=_status_token(wallet, status)
    )
    assert not answer["ok"] and "Status is not valid" in answer["error"]


def test_typescript_reference_refuses_what_it_should(node: str, wallet: Wallet) -> None:
    shown = wallet.present(wallet.issue(), ("given_name",))
    tampered = shown.replace("~", "~x", 1)  # a disclosure changed
    assert not _node_verify(node, wallet, tampered, nonce=NONCE)["ok"]
    assert not _node_verify(node, wallet, shown, nonce="another")["ok"]
    stripped = split_sd_jwt(shown).presented
    assert not _node_verify(node, wallet, stripped, nonce=NONCE)["ok"]


# --- where the TypeScript reference is laxer than the specifications ------------------------


def test_an_untyped_credential_passes_the_typescript_reference_not_ours(
    node: str, wallet: Wallet
) -> None:
    credential = signed_sd_jwt(wallet.issuer, vc_payload(wallet), [], header={"typ": "JWT"})
    shown = wallet.present(credential)
    assert _node_verify(node, wallet, shown, nonce=NONCE)["ok"]
    assert _our_reason(wallet, shown) == "typ"


def test_a_kb_jwt_for_another_verifier_passes_the_typescript_reference_not_ours(
    node: str, wallet: Wallet
) -> None:
    shown = wallet.present(wallet.issue(), ("given_name",), audience="x509_san_dns:other.example")
    assert _node_verify(node, wallet, shown, nonce=NONCE)["ok"]  # aud is not checked there
    assert _our_reason(wallet, shown) == "kb_aud"


def test_a_stale_kb_jwt_passes_the_typescript_reference_not_ours(node: str, wallet: Wallet) -> None:
    shown = wallet.present(wallet.issue(), ("given_name",), now=NOW - timedelta(hours=3))
    assert _node_verify(node, wallet, shown, nonce=NONCE)["ok"]
    assert _our_reason(wallet, shown) == "kb_stale"


def test_a_disclosed_exp_passes_the_typescript_reference_not_ours(
    node: str, wallet: Wallet
) -> None:
    shown = _credential_with_concealed_exp(wallet)
    assert _node_verify(node, wallet, shown, nonce=NONCE)["ok"]
    assert _our_reason(wallet, shown) == "sd_forbidden"


def test_an_unreferenced_disclosure_is_refused_by_the_typescript_reference_and_ours(
    node: str, wallet: Wallet
) -> None:
    # RFC 9901 section 7.1, step 5: here the TypeScript library is as strict as the RFC (the
    # Python one is not, above).
    stray = DisclosureBuilder()
    stray.conceal_object({}, {"nickname": "stray"})
    shown = _with_extra_disclosure(wallet, wallet.issue(), stray.disclosures[0])
    answer = _node_verify(node, wallet, shown, nonce=NONCE)
    assert not answer["ok"] and "nreferenced" in answer["error"]
    assert _our_reason(wallet, shown) == "disclosure_unreferenced"
