"""The nonce and credential endpoints (OpenID4VCI 1.0 sections 7 and 8, appendix F.1).

A credential comes only for a live access token and a key proof that is typed
``openid4vci-proof+jwt``, signed ES256 by the ``jwk`` in its header, addressed to the issuer,
fresh, and carrying a live ``c_nonce``, used once. Each rule has its refusal and its error code.
"""

from __future__ import annotations

import json
from datetime import datetime, timedelta
from typing import Any

import pytest

from gyeonggi.common.clock import KST
from gyeonggi.wallet.credential import verify_issued_credential
from gyeonggi.wallet.enrolments import REVOKED, SUSPENDED
from gyeonggi.wallet.errors import VerificationFailed
from gyeonggi.wallet.issuance import NONCE_LIFETIME, PROOF_MAX_AGE
from gyeonggi.wallet.issuer_errors import (
    CredentialRequestDenied,
    InsufficientScope,
    InvalidCredentialRequest,
    InvalidEncryptionParameters,
    InvalidNonce,
    InvalidProof,
    InvalidToken,
    MissingToken,
    UnknownCredentialConfiguration,
    UnknownCredentialIdentifier,
)
from gyeonggi.wallet.jose import LocalSigner, b64url_encode
from tests.unit.wallet_issuer_support import (
    ISSUER,
    T0,
    Setup,
    credential_request,
    official,
    proof,
)


def _issuer_keys(setup: Setup) -> Any:
    keys = {k["kid"]: k for k in setup.keys.jwks()["keys"]}

    def lookup(iss: str, kid: str) -> dict[str, str]:
        if iss != ISSUER or kid not in keys:
            raise VerificationFailed("issuer_key")
        return keys[kid]

    return lookup


def _ask(setup: Setup, proof_jwt: str, token: str | None = None, **changes: Any) -> Any:
    grant = setup.issuer.credentials.access(f"Bearer {token or setup.access_token()}")
    return setup.issuer.credentials.issue(grant, credential_request(proof_jwt, **changes))


def test_a_proof_with_a_fresh_nonce_gets_a_credential_bound_to_the_proofs_key() -> None:
    setup = Setup()
    made = setup.enrol()
    token = setup.access_token(made)
    holder = LocalSigner.generate()
    nonce = setup.issuer.nonces.issue()
    answer = _ask(setup, proof(holder, nonce), token)

    assert list(answer) == ["credentials"]
    (entry,) = answer["credentials"]
    verified = verify_issued_credential(
        entry["credential"], issuer_jwks=_issuer_keys(setup), now=T0
    )
    assert verified.issuer == ISSUER
    assert verified.vct == ISSUER + "/credentials/gyeonggi-resident"
    assert verified.holder_jwk == {k: v for k, v in holder.public_jwk().items() if k != "kid"}
    assert verified.claims["given_name"] == "길동"
    assert verified.claims["jurisdiction"] == "suwon.gg.kr"
    assert verified.claims["age_equal_or_over"] == {"14": True, "19": True, "65": False}
    # Times are rounded to the day in Korea (privacy: no issuance is singled out by its second).
    assert verified.issued_at == datetime(2026, 12, 1, tzinfo=KST)
    assert verified.expires_at == datetime(2027, 12, 1, tzinfo=KST)
    # Its status entry, recorded on the enrolment.
    enrolment = setup.enrolments.get(made.enrolment_id)
    (reference,) = enrolment.credentials
    assert verified.status == {
        "status_list": {
            "idx": reference.idx,
            "uri": f"{ISSUER}/wallet/status-lists/{reference.list_id}",
        }
    }


def test_the_token_serves_more_credentials_each_with_a_fresh_nonce_and_its_own_entry() -> None:
    setup = Setup()
    made = setup.enrol()
    token = setup.access_token(made)
    for _ in range(3):
        _ask(setup, proof(LocalSigner.generate(), setup.issuer.nonces.issue()), token)
    entries = setup.enrolments.get(made.enrolment_id).credentials
    assert len(set(entries)) == 3


# ------------------------------------------------------------------ nonces


def test_a_nonce_is_used_once() -> None:
    setup = Setup()
    token = setup.access_token()
    holder = LocalSigner.generate()
    nonce = setup.issuer.nonces.issue()
    _ask(setup, proof(holder, nonce), token)
    with pytest.raises(InvalidNonce):
        _ask(setup, proof(holder, nonce), token)


def test_a_nonce_expires_and_an_unknown_one_is_refused() -> None:
    setup = Setup()
    token = setup.access_token()
    nonce = setup.issuer.nonces.issue()
    setup.clock.advance(seconds=NONCE_LIFETIME.total_seconds())
    holder = LocalSigner.generate()
    # (the token lives as long as the nonce: a fresh one, made after the wait)
    token = setup.access_token()
    with pytest.raises(InvalidNonce):
        _ask(setup, proof(holder, nonce, now=setup.clock.now), token)
    with pytest.raises(InvalidNonce):
        _ask(setup, proof(holder, "made-up", now=setup.clock.now), token)


def test_a_proof_without_a_nonce_is_an_invalid_proof() -> None:
    setup = Setup()
    with pytest.raises(InvalidProof, match="nonce"):
        _ask(setup, proof(LocalSigner.generate(), None))


def test_nonces_are_unpredictable() -> None:
    setup = Setup()
    nonces = {setup.issuer.nonces.issue() for _ in range(50)}
    assert len(nonces) == 50 and all(len(n) >= 32 for n in nonces)


# ------------------------------------------------------------------ the proof's rules


def _forged(header: dict[str, Any], payload: dict[str, Any], signature: bytes = b"\0" * 64) -> str:
    def part(value: Any) -> str:
        return b64url_encode(json.dumps(value).encode())

    return f"{part(header)}.{part(payload)}.{b64url_encode(signature)}"


@pytest.mark.parametrize(
    ("header", "claims", "reason"),
    [
        ({"typ": "JWT"}, {}, "typ"),
        ({"typ": None}, {}, "typ"),
        ({"kid": "did:example:123#key-1"}, {}, "jwk"),
        ({"x5c": ["MIIB..."]}, {}, "jwk"),
        ({"jwk": None}, {}, "jwk"),
        ({}, {"aud": "https://evil.example"}, "aud"),
        ({}, {"aud": [ISSUER]}, "aud"),
        ({}, {"aud": None}, "aud"),
        ({}, {"iat": None}, "iat"),
        ({}, {"iat": "1764558000"}, "iat"),
        ({}, {"iat": True}, "iat"),
        ({}, {"iss": "some-client"}, "iss"),
    ],
)
def test_a_proof_breaking_a_rule_is_an_invalid_proof(
    header: dict[str, Any], claims: dict[str, Any], reason: str
) -> None:
    setup = Setup()
    token = setup.access_token()
    nonce = setup.issuer.nonces.issue()
    bad = proof(LocalSigner.generate(), nonce, header=header, claims=claims)
    with pytest.raises(InvalidProof, match=reason):
        _ask(setup, bad, token)
    # The nonce was not consumed by a proof that failed: a good proof may still use it.
    assert _ask(setup, proof(LocalSigner.generate(), nonce), token)["credentials"]


def test_a_proof_too_old_or_from_the_future_is_refused() -> None:
    setup = Setup()
    token = setup.access_token()
    holder = LocalSigner.generate()
    old = T0 - PROOF_MAX_AGE - timedelta(seconds=1)
    with pytest.raises(InvalidProof, match="too old"):
        _ask(setup, proof(holder, setup.issuer.nonces.issue(), now=old), token)
    ahead = T0 + timedelta(minutes=2)
    with pytest.raises(InvalidProof, match="future"):
        _ask(setup, proof(holder, setup.issuer.nonces.issue(), now=ahead), token)
    # A little clock skew is fine.
    assert _ask(
        setup, proof(holder, setup.issuer.nonces.issue(), now=T0 + timedelta(seconds=30)), token
    )


def test_a_proof_signed_by_another_key_than_its_jwk_is_refused() -> None:
    setup = Setup()
    nonce = setup.issuer.nonces.issue()
    bad = proof(LocalSigner.generate(), nonce, signer=LocalSigner.generate())
    with pytest.raises(InvalidProof, match="signature"):
        _ask(setup, bad)


@pytest.mark.parametrize("alg", ["none", "HS256", "RS256", "ES384"])
def test_a_proof_of_another_algorithm_is_refused(alg: str) -> None:
    setup = Setup()
    holder = LocalSigner.generate()
    jwk = {k: v for k, v in holder.public_jwk().items() if k != "kid"}
    nonce = setup.issuer.nonces.issue()
    payload = {"aud": ISSUER, "iat": int(T0.timestamp()), "nonce": nonce}
    bad = _forged({"typ": "openid4vci-proof+jwt", "alg": alg, "jwk": jwk}, payload)
    with pytest.raises(InvalidProof, match="alg"):
        _ask(setup, bad)


def test_a_proof_whose_jwk_is_private_or_not_p256_is_refused() -> None:
    setup = Setup()
    holder = LocalSigner.generate()
    public = {k: v for k, v in holder.public_jwk().items() if k != "kid"}
    nonce = setup.issuer.nonces.issue()
    with pytest.raises(InvalidProof, match="private"):
        _ask(setup, proof(holder, nonce, header={"jwk": {**public, "d": "AAAA"}}))
    with pytest.raises(InvalidProof):
        _ask(setup, proof(holder, nonce, header={"jwk": {**public, "crv": "P-384"}}))


def test_a_proof_that_is_no_jws_is_refused() -> None:
    setup = Setup()
    for bad in ("", "abc", "a.b", "eyJ9.e30.AA"):
        with pytest.raises(InvalidProof):
            _ask(setup, bad)


def test_with_a_client_id_at_the_token_endpoint_the_proof_may_name_it_as_iss() -> None:
    setup = Setup()
    made = setup.enrol()
    token = setup.issuer.tokens.exchange(setup.token_form(made, client_id="wallet-app"))[
        "access_token"
    ]
    holder = LocalSigner.generate()
    with pytest.raises(InvalidProof, match="iss"):
        _ask(setup, proof(holder, setup.issuer.nonces.issue(), claims={"iss": "other"}), token)
    nonce = setup.issuer.nonces.issue()
    assert _ask(setup, proof(holder, nonce, claims={"iss": "wallet-app"}), token)


# ------------------------------------------------------------------ the request


def test_proofs_missing_empty_of_another_type_or_more_than_one_are_refused() -> None:
    setup = Setup()
    token = setup.access_token()
    grant = setup.issuer.credentials.access(f"Bearer {token}")
    one = proof(LocalSigner.generate(), setup.issuer.nonces.issue())
    base = {"credential_configuration_id": "gyeonggi_resident"}
    cases: list[tuple[Any, type[Exception]]] = [
        (None, InvalidProof),
        ({"jwt": []}, InvalidProof),
        ({"jwt": "eyJ..."}, InvalidProof),
        ({"di_vp": [{}]}, InvalidProof),
        ({"jwt": [one], "attestation": ["x"]}, InvalidProof),
        ({"jwt": [one, one]}, InvalidCredentialRequest),
    ]
    for proofs, error in cases:
        request = dict(base) if proofs is None else {**base, "proofs": proofs}
        with pytest.raises(error):
            setup.issuer.credentials.issue(grant, request)


def test_an_unknown_or_missing_configuration_is_refused_with_its_code() -> None:
    setup = Setup()
    token = setup.access_token()
    grant = setup.issuer.credentials.access(f"Bearer {token}")
    one = proof(LocalSigner.generate(), setup.issuer.nonces.issue())
    with pytest.raises(UnknownCredentialConfiguration):
        setup.issuer.credentials.issue(
            grant, credential_request(one, credential_configuration_id="org.iso.18013.5.1.mDL")
        )
    with pytest.raises(InvalidCredentialRequest, match="missing"):
        setup.issuer.credentials.issue(
            grant, credential_request(one, credential_configuration_id=None)
        )
    with pytest.raises(InvalidCredentialRequest, match="exclude"):
        setup.issuer.credentials.issue(
            grant, credential_request(one, credential_identifier="gyeonggi_resident")
        )
    with pytest.raises(InvalidCredentialRequest):
        setup.issuer.credentials.issue(grant, ["not", "an", "object"])


def test_a_token_that_does_not_cover_the_configuration_is_insufficient_scope() -> None:
    setup = Setup()
    token = setup.access_token()
    grant = setup.issuer.credentials.access(f"Bearer {token}")
    narrowed = type(grant)(**{**grant.__dict__, "configuration_ids": ()})
    with pytest.raises(InsufficientScope):
        setup.issuer.credentials.issue(
            narrowed, credential_request(proof(LocalSigner.generate(), "n"))
        )


def test_with_identifiers_from_the_token_response_the_request_must_use_one() -> None:
    setup = Setup()
    made = setup.enrol()
    details = '[{"type": "openid_credential", "credential_configuration_id": "gyeonggi_resident"}]'
    token = setup.issuer.tokens.exchange(setup.token_form(made, authorization_details=details))[
        "access_token"
    ]
    holder = LocalSigner.generate()
    with pytest.raises(InvalidCredentialRequest, match="credential_identifier is required"):
        _ask(setup, proof(holder, setup.issuer.nonces.issue()), token)
    with pytest.raises(UnknownCredentialIdentifier):
        _ask(
            setup,
            proof(holder, setup.issuer.nonces.issue()),
            token,
            credential_configuration_id=None,
            credential_identifier="other",
        )
    assert _ask(
        setup,
        proof(holder, setup.issuer.nonces.issue()),
        token,
        credential_configuration_id=None,
        credential_identifier="gyeonggi_resident",
    )["credentials"]


def test_an_encrypted_response_is_not_offered() -> None:
    setup = Setup()
    with pytest.raises(InvalidEncryptionParameters):
        _ask(
            setup,
            proof(LocalSigner.generate(), setup.issuer.nonces.issue()),
            credential_response_encryption={"jwk": {}, "enc": "A128GCM"},
        )


# ------------------------------------------------------------------ the access token


@pytest.mark.parametrize("header", [None, "", "Basic dXNlcjpwYXNz", "Bearer"])
def test_no_bearer_token_is_401_without_an_error_code(header: str | None) -> None:
    setup = Setup()
    with pytest.raises((MissingToken, InvalidToken)):
        setup.issuer.credentials.access(header)


def test_an_unknown_or_expired_token_is_invalid_token() -> None:
    setup = Setup()
    token = setup.access_token()
    with pytest.raises(InvalidToken):
        setup.issuer.credentials.access("Bearer not-a-token")
    setup.clock.advance(minutes=5)
    with pytest.raises(InvalidToken):
        setup.issuer.credentials.access(f"Bearer {token}")


@pytest.mark.parametrize("status", [REVOKED, SUSPENDED])
def test_no_credential_for_an_enrolment_revoked_or_suspended(status: int) -> None:
    setup = Setup()
    made = setup.enrol()
    token = setup.access_token(made)
    action = "revoke" if status == REVOKED else "suspend"
    setup.issuer.statuses.change(official("suwon.gg.kr"), made.enrolment_id, action)
    with pytest.raises(CredentialRequestDenied):
        _ask(setup, proof(LocalSigner.generate(), setup.issuer.nonces.issue()), token)
