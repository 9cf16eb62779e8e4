"""TokenVerifier: what passes, what is refused, and what the refusal says."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import time
from pathlib import Path
from typing import Any, cast

import jwt
import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from jwt.algorithms import RSAAlgorithm

from gyeonggi.auth import (
    COMPLEXES_CLAIM,
    JURISDICTIONS_CLAIM,
    PROVINCE,
    AuthSettings,
    FileJwksClient,
    KeySetUnavailable,
    Principal,
    TokenVerifier,
    make_jwks_client,
    parse_scope_claim,
)
from gyeonggi.auth.scopes import MAX_SCOPE_CLAIM_LENGTH, MAX_SCOPE_IDS
from gyeonggi.common.config import ConfigurationError
from gyeonggi.common.errors import Forbidden, Unauthenticated
from gyeonggi.complaints.jurisdictions import JURISDICTIONS

ISSUER = "https://cognito-idp.ap-northeast-2.amazonaws.com/ap-northeast-2_TestPool"
AUDIENCE = "test-app-client"
KID = "key-1"


@pytest.fixture(scope="module")
def key() -> rsa.RSAPrivateKey:
    return rsa.generate_private_key(public_exponent=65537, key_size=2048)


@pytest.fixture(scope="module")
def other_key() -> rsa.RSAPrivateKey:
    """The key of a second, untrusted issuer."""
    return rsa.generate_private_key(public_exponent=65537, key_size=2048)


def _jwk(private_key: rsa.RSAPrivateKey, kid: str, alg: str = "RS256") -> dict[str, Any]:
    jwk: dict[str, Any] = RSAAlgorithm.to_jwk(private_key.public_key(), as_dict=True)
    jwk.update({"kid": kid, "alg": alg, "use": "sig"})
    return jwk


@pytest.fixture
def jwks_url(tmp_path: Path, key: rsa.RSAPrivateKey) -> str:
    path = tmp_path / "jwks.json"
    path.write_text(json.dumps({"keys": [_jwk(key, KID)]}))
    return path.as_uri()


@pytest.fixture
def verifier(jwks_url: str) -> TokenVerifier:
    return TokenVerifier(ISSUER, AUDIENCE, jwks_url)


def _claims(**overrides: Any) -> dict[str, Any]:
    now = int(time.time())
    claims: dict[str, Any] = {
        "iss": ISSUER,
        "aud": AUDIENCE,
        "sub": "3f1c2b9e-0000-4000-8000-000000000001",
        "token_use": "id",
        "cognito:groups": ["citizen"],
        "iat": now,
        "exp": now + 600,
    }
    claims.update(overrides)
    return {k: v for k, v in claims.items() if v is not None}


def _token(
    private_key: rsa.RSAPrivateKey,
    kid: str | None = KID,
    alg: str = "RS256",
    claims: dict[str, Any] | None = None,
    **overrides: Any,
) -> str:
    """Sign ``_claims`` changed by ``claims`` (for names like ``cognito:groups``) and kwargs."""
    headers = {"kid": kid} if kid is not None else {}
    payload = _claims(**{**(claims or {}), **overrides})
    return jwt.encode(payload, private_key, algorithm=alg, headers=headers)


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def _hand_made(header: dict[str, Any], claims: dict[str, Any], secret: bytes | None) -> str:
    """Build a token PyJWT would refuse to create (alg none, HMAC keyed with a public key)."""
    signing_input = _b64(json.dumps(header).encode()) + "." + _b64(json.dumps(claims).encode())
    if secret is None:
        return signing_input + "."
    mac = hmac.new(secret, signing_input.encode(), hashlib.sha256).digest()
    return f"{signing_input}.{_b64(mac)}"


def _refusal(verifier: TokenVerifier, header: str | None) -> str:
    with pytest.raises(Unauthenticated) as info:
        verifier.verify(header)
    return info.value.message


@pytest.mark.parametrize("role", ["citizen", "civil-servant", "operator", "admin"])
def test_valid_token_for_each_role(
    verifier: TokenVerifier, key: rsa.RSAPrivateKey, role: str
) -> None:
    token = _token(key, claims={"cognito:groups": [role]})
    principal = verifier.require(f"Bearer {token}", role)
    assert principal.subject == "3f1c2b9e-0000-4000-8000-000000000001"
    assert principal.roles == frozenset({role})
    assert principal.claims["token_use"] == "id"
    with pytest.raises(TypeError):
        cast(Any, principal.claims)["sub"] = "someone else"
    assert hash(principal) == hash(verifier.require(f"Bearer {token}"))


def test_scheme_is_case_insensitive_and_any_listed_role_passes(
    verifier: TokenVerifier, key: rsa.RSAPrivateKey
) -> None:
    token = _token(key, claims={"cognito:groups": ["civil-servant"]})
    principal = verifier.require(f"bearer  {token} ", "operator", "civil-servant")
    assert principal.has_any_role("civil-servant")


def test_expired_token(verifier: TokenVerifier, key: rsa.RSAPrivateKey) -> None:
    token = _token(key, exp=int(time.time()) - 120)
    assert _refusal(verifier, f"Bearer {token}") == "token expired"


def test_expiry_within_leeway_is_tolerated(verifier: TokenVerifier, key: rsa.RSAPrivateKey) -> None:
    token = _token(key, exp=int(time.time()) - 5)
    assert verifier.verify(f"Bearer {token}").subject


@pytest.mark.parametrize("claim", ["nbf", "iat"])
def test_not_yet_valid(verifier: TokenVerifier, key: rsa.RSAPrivateKey, claim: str) -> None:
    token = _token(key, claims={claim: int(time.time()) + 600})
    assert _refusal(verifier, f"Bearer {token}") == "token is not yet valid"


def test_wrong_issuer(verifier: TokenVerifier, key: rsa.RSAPrivateKey) -> None:
    token = _token(key, iss="https://cognito-idp.ap-northeast-2.amazonaws.com/other-pool")
    assert _refusal(verifier, f"Bearer {token}") == "wrong issuer"


def test_wrong_audience(verifier: TokenVerifier, key: rsa.RSAPrivateKey) -> None:
    token = _token(key, aud="some-other-app")
    assert _refusal(verifier, f"Bearer {token}") == "wrong audience"


@pytest.mark.parametrize("claim", ["exp", "aud", "iss", "sub"])
def test_required_claims(verifier: TokenVerifier, key: rsa.RSAPrivateKey, claim: str) -> None:
    token = _token(key, claims={claim: None})
    assert _refusal(verifier, f"Bearer {token}") == f"token has no {claim!r} claim"


def test_alg_none_is_refused(verifier: TokenVerifier) -> None:
    token = _hand_made({"alg": "none", "typ": "JWT", "kid": KID}, _claims(), None)
    assert _refusal(verifier, f"Bearer {token}") == "token algorithm is not allowed"


def test_hs256_keyed_with_the_public_key_is_refused(
    verifier: TokenVerifier, key: rsa.RSAPrivateKey
) -> None:
    public_pem = key.public_key().public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    claims = _claims(**{"cognito:groups": ["operator"]})
    token = _hand_made({"alg": "HS256", "typ": "JWT", "kid": KID}, claims, public_pem)
    assert _refusal(verifier, f"Bearer {token}") == "token algorithm is not allowed"


@pytest.mark.parametrize("algorithms", [("HS256",), ("none",), ("RS256", "HS512"), ()])
def test_symmetric_or_no_algorithms_cannot_be_configured(
    jwks_url: str, algorithms: tuple[str, ...]
) -> None:
    with pytest.raises(ConfigurationError):
        TokenVerifier(ISSUER, AUDIENCE, jwks_url, algorithms=algorithms)


def test_header_algorithm_must_match_the_key(tmp_path: Path, key: rsa.RSAPrivateKey) -> None:
    """A key published for RS256 is not used to check an RS512 signature, even if allowed."""
    path = tmp_path / "jwks.json"
    path.write_text(json.dumps({"keys": [_jwk(key, KID, alg="RS256")]}))
    verifier = TokenVerifier(ISSUER, AUDIENCE, path.as_uri(), algorithms=("RS256", "RS512"))
    token = _token(key, alg="RS512")
    assert _refusal(verifier, f"Bearer {token}") == "token algorithm does not match its key"


def test_unknown_kid(verifier: TokenVerifier, key: rsa.RSAPrivateKey) -> None:
    token = _token(key, kid="not-a-published-key")
    assert _refusal(verifier, f"Bearer {token}") == "token signed with an unknown key"


def test_missing_kid(verifier: TokenVerifier, key: rsa.RSAPrivateKey) -> None:
    token = _token(key, kid=None)
    assert _refusal(verifier, f"Bearer {token}") == "token has no key id"


def test_tampered_payload(verifier: TokenVerifier, key: rsa.RSAPrivateKey) -> None:
    header, _, signature = _token(key).split(".")
    forged = _b64(json.dumps(_claims(**{"cognito:groups": ["operator"]})).encode())
    message = _refusal(verifier, f"Bearer {header}.{forged}.{signature}")
    assert message == "token signature does not verify"


def test_second_issuers_key_is_rejected(
    verifier: TokenVerifier, other_key: rsa.RSAPrivateKey
) -> None:
    # Claiming our kid does not help: the signature is checked with our key.
    forged = _token(other_key, kid=KID)
    assert _refusal(verifier, f"Bearer {forged}") == "token signature does not verify"
    # And its own kid is simply not one we publish.
    own = _token(other_key, kid="other-issuer-key")
    assert _refusal(verifier, f"Bearer {own}") == "token signed with an unknown key"


@pytest.mark.parametrize(
    ("header", "message"),
    [
        (None, "missing bearer token"),
        ("", "missing bearer token"),
        ("   ", "missing bearer token"),
        ("Bearer", "missing bearer token"),
        ("Basic dXNlcjpwYXNz", "authorization scheme must be Bearer"),
        ("Bearer a b", "malformed bearer token"),
        ("Bearer not-a-jwt", "token is malformed"),
        ("Bearer a.b.c", "token is malformed"),
        ("Bearer " + "a" * 20_000, "token is too large"),
    ],
)
def test_missing_or_garbled_header(
    verifier: TokenVerifier, header: str | None, message: str
) -> None:
    assert _refusal(verifier, header) == message


def test_wrong_role_is_forbidden(verifier: TokenVerifier, key: rsa.RSAPrivateKey) -> None:
    token = _token(key, claims={"cognito:groups": ["citizen"]})
    with pytest.raises(Forbidden) as info:
        verifier.require(f"Bearer {token}", "operator", "admin")
    assert "operator" in info.value.message


def test_no_roles_claim_means_no_roles(verifier: TokenVerifier, key: rsa.RSAPrivateKey) -> None:
    token = _token(key, claims={"cognito:groups": None})
    assert verifier.require(f"Bearer {token}").roles == frozenset()
    with pytest.raises(Forbidden):
        verifier.require(f"Bearer {token}", "citizen")


def test_configurable_roles_claim(jwks_url: str, key: rsa.RSAPrivateKey) -> None:
    verifier = TokenVerifier(ISSUER, AUDIENCE, jwks_url, roles_claim="roles")
    token = _token(key, roles="operator civil-servant")
    assert verifier.verify(f"Bearer {token}").roles == {"operator", "civil-servant"}


def test_malformed_roles_claim(verifier: TokenVerifier, key: rsa.RSAPrivateKey) -> None:
    token = _token(key, claims={"cognito:groups": {"operator": True}})
    assert _refusal(verifier, f"Bearer {token}") == "token's roles claim is malformed"


def test_one_of_several_audiences(jwks_url: str, key: rsa.RSAPrivateKey) -> None:
    verifier = TokenVerifier(ISSUER, "web-client, mobile-client", jwks_url)
    assert verifier.verify(f"Bearer {_token(key, aud='mobile-client')}").subject


def test_errors_do_not_leak_key_material(
    verifier: TokenVerifier, key: rsa.RSAPrivateKey, other_key: rsa.RSAPrivateKey
) -> None:
    modulus = _jwk(key, KID)["n"]
    for token in (_token(other_key), _token(key, aud="x"), _token(key, kid="nope")):
        with pytest.raises(Unauthenticated) as info:
            verifier.verify(f"Bearer {token}")
        text = str(info.value) + repr(info.value.__cause__) + repr(info.value.__context__)
        assert modulus[:32] not in text
        assert info.value.__cause__ is None


def test_unreadable_key_set_is_a_server_fault(tmp_path: Path, key: rsa.RSAPrivateKey) -> None:
    verifier = TokenVerifier(ISSUER, AUDIENCE, (tmp_path / "absent.json").as_uri())
    with pytest.raises(KeySetUnavailable):
        verifier.verify(f"Bearer {_token(key)}")


def test_key_set_client_by_scheme(jwks_url: str) -> None:
    # PyJWT's own client refuses file:// (it guards against URLs taken from tokens), so the
    # local cloud's file:// key set is read by FileJwksClient.
    with pytest.raises(jwt.PyJWKClientError):
        jwt.PyJWKClient(jwks_url)
    assert isinstance(make_jwks_client(jwks_url), FileJwksClient)
    assert isinstance(make_jwks_client(ISSUER + "/.well-known/jwks.json"), jwt.PyJWKClient)
    with pytest.raises(ConfigurationError):
        make_jwks_client("ftp://example.org/jwks.json")


def test_injected_jwks_client_is_used(key: rsa.RSAPrivateKey) -> None:
    class Static:
        def get_signing_key(self, kid: str) -> jwt.PyJWK:
            if kid != KID:
                raise jwt.PyJWKClientError("no such key")
            return jwt.PyJWK(_jwk(key, KID))

    verifier = TokenVerifier(ISSUER, AUDIENCE, "https://unused.invalid", jwks_client=Static())
    assert verifier.verify(f"Bearer {_token(key)}").roles == {"citizen"}


def test_from_settings_and_env(jwks_url: str, key: rsa.RSAPrivateKey) -> None:
    settings = AuthSettings.from_env({"AUTH_ISSUER": ISSUER, "AUTH_AUDIENCE": AUDIENCE})
    assert settings.jwks_url == ISSUER + "/.well-known/jwks.json"
    assert settings.auth_roles_claim == "cognito:groups"

    env = {"AUTH_ISSUER": ISSUER, "AUTH_AUDIENCE": AUDIENCE, "AUTH_JWKS_URL": jwks_url}
    verifier = TokenVerifier.from_env(env)
    assert verifier.verify(f"Bearer {_token(key)}").subject

    with pytest.raises(ConfigurationError) as info:
        TokenVerifier.from_env({"AUTH_AUDIENCE": AUDIENCE})
    assert "AUTH_ISSUER is not set" in info.value.message


def test_key_set_file_is_reloaded_when_it_changes(
    tmp_path: Path, key: rsa.RSAPrivateKey, other_key: rsa.RSAPrivateKey
) -> None:
    path = tmp_path / "jwks.json"
    path.write_text(json.dumps({"keys": [_jwk(key, KID)]}))
    verifier = TokenVerifier(ISSUER, AUDIENCE, path.as_uri())
    old = _token(key)
    assert verifier.verify(f"Bearer {old}").subject

    replacement = tmp_path / "jwks.new"
    replacement.write_text(json.dumps({"keys": [_jwk(other_key, "key-2")]}))
    replacement.replace(path)
    assert _refusal(verifier, f"Bearer {old}") == "token signed with an unknown key"
    assert verifier.verify(f"Bearer {_token(other_key, kid='key-2')}").subject


# ------------------------------------------------------------------ need-to-know scopes


def _servant(verifier: TokenVerifier, key: rsa.RSAPrivateKey, **claims: Any) -> Principal:
    groups = claims.pop("groups", ["civil-servant"])
    token = _token(key, claims={"cognito:groups": groups, **claims})
    return verifier.require(f"Bearer {token}", "civil-servant", "operator")


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("suwon.gg.kr", {"suwon.gg.kr"}),
        ("suwon.gg.kr,yongin.gg.kr", {"suwon.gg.kr", "yongin.gg.kr"}),
        (
            " suwon.gg.kr ,  yongin.gg.kr\tosan.gg.kr\n",
            {"suwon.gg.kr", "yongin.gg.kr", "osan.gg.kr"},
        ),
        ("suwon.gg.kr,suwon.gg.kr suwon.gg.kr", {"suwon.gg.kr"}),  # duplicates count once
        (",,, ,", set()),
        ("", set()),
    ],
)
def test_jurisdictions_claim_is_a_separated_list(
    verifier: TokenVerifier, key: rsa.RSAPrivateKey, raw: str, expected: set[str]
) -> None:
    principal = _servant(verifier, key, **{JURISDICTIONS_CLAIM: raw})
    assert principal.jurisdictions == expected
    for jurisdiction_id in expected:
        assert principal.may_access(jurisdiction_id)
    assert not principal.may_access("gapyeong.gg.kr")


def test_no_jurisdictions_claim_sees_nothing_with_a_clear_403(
    verifier: TokenVerifier, key: rsa.RSAPrivateKey
) -> None:
    principal = _servant(verifier, key)
    assert principal.jurisdictions == frozenset() and not principal.is_province
    assert not any(principal.may_access(j.id) for j in JURISDICTIONS)
    with pytest.raises(Forbidden, match="custom:jurisdictions"):
        principal.require_jurisdiction("suwon.gg.kr")
    with pytest.raises(Forbidden, match="custom:jurisdictions"):
        principal.visible_jurisdictions()


def test_unknown_jurisdiction_ids_grant_nothing(
    verifier: TokenVerifier, key: rsa.RSAPrivateKey
) -> None:
    principal = _servant(verifier, key, **{JURISDICTIONS_CLAIM: "seoul.go.kr,SUWON.GG.KR"})
    assert not any(principal.may_access(j.id) for j in JURISDICTIONS)
    with pytest.raises(Forbidden, match="outside the jurisdictions"):
        principal.require_jurisdiction("suwon.gg.kr")
    # ...and the overview shows no city of the province
    assert principal.visible_jurisdictions() == {"seoul.go.kr", "SUWON.GG.KR"}


def test_out_of_scope_names_the_jurisdiction(
    verifier: TokenVerifier, key: rsa.RSAPrivateKey
) -> None:
    principal = _servant(verifier, key, **{JURISDICTIONS_CLAIM: "seongnam.gg.kr"})
    principal.require_jurisdiction("seongnam.gg.kr")
    with pytest.raises(Forbidden, match=r"suwon\.gg\.kr is outside"):
        principal.require_jurisdiction("suwon.gg.kr")


def test_province_group_sees_every_jurisdiction_and_complex(
    verifier: TokenVerifier, key: rsa.RSAPrivateKey
) -> None:
    principal = _servant(verifier, key, groups=["civil-servant", PROVINCE])
    assert principal.is_province
    assert all(principal.may_access(j.id) for j in JURISDICTIONS)
    assert principal.may_operate("banwol") and principal.visible_jurisdictions() is None
    principal.require_some_complex()


def test_a_province_scope_is_not_a_role(verifier: TokenVerifier, key: rsa.RSAPrivateKey) -> None:
    token = _token(key, claims={"cognito:groups": [PROVINCE]})
    with pytest.raises(Forbidden):
        verifier.require(f"Bearer {token}", "civil-servant", "operator")


def test_complexes_claim_scopes_operators(verifier: TokenVerifier, key: rsa.RSAPrivateKey) -> None:
    operator = _servant(verifier, key, groups=["operator"], **{COMPLEXES_CLAIM: "banwol sihwa"})
    assert operator.complexes == {"banwol", "sihwa"}
    assert operator.may_operate("banwol") and not operator.may_operate("namdong")
    assert not operator.may_access("suwon.gg.kr")  # complexes are not jurisdictions
    operator.require_some_complex()
    with pytest.raises(Forbidden, match="custom:complexes"):
        _servant(verifier, key, groups=["operator"]).require_some_complex()


@pytest.mark.parametrize("claim", [JURISDICTIONS_CLAIM, COMPLEXES_CLAIM])
@pytest.mark.parametrize(
    ("raw", "why"),
    [
        (["suwon.gg.kr"], "must be a string"),  # Cognito sends strings; a list is another issuer
        ({"suwon.gg.kr": True}, "must be a string"),
        (42, "must be a string"),
        (True, "must be a string"),
        ("x" * (MAX_SCOPE_CLAIM_LENGTH + 1), "too long"),
        (",".join(f"j{n}" for n in range(MAX_SCOPE_IDS + 1)), "too many ids"),
        ("suwon.gg.kr;yongin.gg.kr", "not an id"),
        ("suwon.gg.kr,*", "not an id"),
        ("수원시", "not an id"),
        ("suwon.gg.kr,\x00", "not an id"),
        ("a" * 65, "not an id"),
    ],
)
def test_malformed_scope_claims_refuse_the_token(
    verifier: TokenVerifier, key: rsa.RSAPrivateKey, claim: str, raw: Any, why: str
) -> None:
    token = _token(key, claims={"cognito:groups": ["civil-servant"], claim: raw})
    refusal = _refusal(verifier, f"Bearer {token}")
    assert claim in refusal and why in refusal


def test_longest_allowed_scope_claim_is_read(
    verifier: TokenVerifier, key: rsa.RSAPrivateKey
) -> None:
    # Every city and county, many times over, up to Cognito's 2048 characters.
    every = ",".join(j.id for j in JURISDICTIONS)
    raw = ",".join([every] * 10)[:MAX_SCOPE_CLAIM_LENGTH].rsplit(",", 1)[0]
    assert len(raw) <= MAX_SCOPE_CLAIM_LENGTH
    principal = _servant(verifier, key, **{JURISDICTIONS_CLAIM: raw})
    assert principal.jurisdictions == {j.id for j in JURISDICTIONS}


def test_parse_scope_claim_directly() -> None:
    assert parse_scope_claim(None, JURISDICTIONS_CLAIM) == frozenset()
    assert parse_scope_claim("a,b a", COMPLEXES_CLAIM) == {"a", "b"}
    with pytest.raises(Unauthenticated):
        parse_scope_claim(["a"], COMPLEXES_CLAIM)
