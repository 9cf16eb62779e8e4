"""The local cloud's issuer: files on disk, minted tokens, and key regeneration."""

from __future__ import annotations

import json
import stat
from pathlib import Path

import jwt
import pytest

from gyeonggi.auth import TokenVerifier
from gyeonggi.common.config import ConfigurationError
from gyeonggi.common.errors import Forbidden, InvalidInput, Unauthenticated
from localcloud.issuer import LocalIssuer, main

ISSUER = "http://localhost:4566/local-issuer"
AUDIENCE = "gyeonggi-local"


@pytest.fixture
def issuer(tmp_path: Path) -> LocalIssuer:
    return LocalIssuer.create(tmp_path, ISSUER, AUDIENCE)


def test_create_writes_the_three_files(issuer: LocalIssuer, tmp_path: Path) -> None:
    directory = tmp_path / "issuer"
    assert sorted(p.name for p in directory.iterdir()) == [
        "issuer.json",
        "jwks.json",
        "private_key.pem",
    ]
    assert stat.S_IMODE((directory / "private_key.pem").stat().st_mode) == 0o600
    assert stat.S_IMODE(directory.stat().st_mode) == 0o700

    metadata = json.loads((directory / "issuer.json").read_text())
    assert metadata == {
        "issuer": ISSUER,
        "audience": AUDIENCE,
        "jwks_url": (directory / "jwks.json").resolve().as_uri(),
        "kid": issuer.kid,
    }
    assert issuer.jwks_url.startswith("file://")

    (public,) = json.loads((directory / "jwks.json").read_text())["keys"]
    assert public["kid"] == issuer.kid
    assert public["alg"] == "RS256"
    assert public["use"] == "sig"
    assert public["kty"] == "RSA"
    # Only the public half is published.
    assert not {"d", "p", "q", "dp", "dq", "qi"} & public.keys()
    assert jwt.PyJWK(public).key.key_size == 2048


def test_load_round_trip(issuer: LocalIssuer, tmp_path: Path) -> None:
    loaded = LocalIssuer.load(tmp_path)
    assert (loaded.issuer, loaded.audience, loaded.kid) == (ISSUER, AUDIENCE, issuer.kid)
    assert loaded.jwks_url == issuer.jwks_url
    # A token minted by the loaded issuer verifies like one minted by the original.
    assert loaded.verifier().verify(f"Bearer {loaded.mint('citizen')}").roles == {"citizen"}
    assert "PRIVATE" not in repr(loaded)


def test_load_without_create(tmp_path: Path) -> None:
    with pytest.raises(ConfigurationError, match="start the local cloud first"):
        LocalIssuer.load(tmp_path)


def test_load_detects_mismatched_files(issuer: LocalIssuer, tmp_path: Path) -> None:
    metadata_path = tmp_path / "issuer" / "issuer.json"
    metadata = json.loads(metadata_path.read_text())
    metadata["kid"] = "something-else"
    metadata_path.write_text(json.dumps(metadata))
    with pytest.raises(ConfigurationError, match="does not match"):
        LocalIssuer.load(tmp_path)


@pytest.mark.parametrize("role", ["citizen", "civil-servant", "operator", "admin"])
def test_minted_token_verifies_through_the_file_url(issuer: LocalIssuer, role: str) -> None:
    verifier = TokenVerifier(ISSUER, AUDIENCE, issuer.jwks_url)
    principal = verifier.require(f"Bearer {issuer.mint(role)}", role)
    assert principal.roles == {role}
    assert principal.claims["token_use"] == "id"
    assert principal.claims["cognito:username"] == f"local-{role}"
    assert principal.claims["iss"] == ISSUER
    header = jwt.get_unverified_header(issuer.mint(role))
    assert header == {"alg": "RS256", "kid": issuer.kid, "typ": "JWT"}


def test_mint_options(issuer: LocalIssuer) -> None:
    verifier = issuer.verifier()
    token = issuer.mint(
        ["civil-servant", "operator"],
        subject="user-42",
        ttl_seconds=60,
        extra_claims={"email": "kim@example.org"},
    )
    principal = verifier.require(f"Bearer {token}", "operator")
    assert principal.subject == "user-42"
    assert principal.roles == {"civil-servant", "operator"}
    assert principal.claims["email"] == "kim@example.org"
    assert principal.claims["exp"] - principal.claims["iat"] == 60

    # The default subject is stable per role, so demo data can refer to "the citizen".
    first = verifier.verify(f"Bearer {issuer.mint('citizen')}").subject
    assert verifier.verify(f"Bearer {issuer.mint('citizen')}").subject == first

    with pytest.raises(Forbidden):
        verifier.require(f"Bearer {issuer.mint('citizen')}", "operator")
    expired = issuer.mint("citizen", ttl_seconds=-120)
    with pytest.raises(Unauthenticated, match="token expired"):
        verifier.verify(f"Bearer {expired}")
    with pytest.raises(InvalidInput):
        issuer.mint([])


def test_regenerated_keys_invalidate_old_tokens(issuer: LocalIssuer, tmp_path: Path) -> None:
    verifier = TokenVerifier(ISSUER, AUDIENCE, issuer.jwks_url)
    old_token = issuer.mint("operator")
    assert verifier.verify(f"Bearer {old_token}").subject

    restarted = LocalIssuer.create(tmp_path, ISSUER, AUDIENCE)
    assert restarted.kid != issuer.kid
    assert stat.S_IMODE((tmp_path / "issuer" / "private_key.pem").stat().st_mode) == 0o600

    # The same long-lived verifier sees the new key set at once.
    with pytest.raises(Unauthenticated, match="unknown key"):
        verifier.verify(f"Bearer {old_token}")
    assert verifier.verify(f"Bearer {restarted.mint('operator')}").roles == {"operator"}
    # The old in-memory issuer can no longer produce accepted tokens either.
    with pytest.raises(Unauthenticated):
        restarted.verifier().verify(f"Bearer {issuer.mint('operator')}")


def test_environment_points_a_function_at_the_issuer(issuer: LocalIssuer) -> None:
    env = issuer.environment()
    verifier = TokenVerifier.from_env(env)
    assert verifier.verify(f"Bearer {issuer.mint('citizen')}").roles == {"citizen"}


def test_command_line(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    state = str(tmp_path)
    assert main(["--state-dir", state, "create", "--issuer", ISSUER, "--audience", AUDIENCE]) == 0
    env = json.loads(capsys.readouterr().out)
    assert env["AUTH_ISSUER"] == ISSUER

    assert main(["--state-dir", state, "mint", "operator", "--email", "ops@example.org"]) == 0
    token = capsys.readouterr().out.strip()
    principal = TokenVerifier.from_env(env).require(f"Bearer {token}", "operator")
    assert principal.claims["email"] == "ops@example.org"

    assert main(["--state-dir", str(tmp_path / "none"), "mint", "citizen"]) == 2
    assert "start the local cloud first" in capsys.readouterr().err


def test_scoped_tokens_carry_cognitos_custom_attributes(issuer: LocalIssuer) -> None:
    verifier = issuer.verifier()
    token = issuer.mint("civil-servant", jurisdictions=["suwon.gg.kr", "osan.gg.kr", "suwon.gg.kr"])
    claims = jwt.decode(token, options={"verify_signature": False})
    # One comma-separated string, as Cognito sends a custom attribute; duplicates once.
    assert claims["custom:jurisdictions"] == "suwon.gg.kr,osan.gg.kr"
    assert "custom:complexes" not in claims  # unset attributes are left out, as Cognito does
    servant = verifier.require(f"Bearer {token}", "civil-servant")
    assert servant.may_access("osan.gg.kr") and not servant.may_access("yongin.gg.kr")

    operator = verifier.verify(f"Bearer {issuer.mint('operator', complexes=['banwol'])}")
    assert operator.complexes == {"banwol"} and not operator.may_operate("sihwa")

    province = verifier.verify(f"Bearer {issuer.mint('civil-servant', province=True)}")
    assert province.roles == {"civil-servant", "province"}
    assert province.may_access("yeoncheon.gg.kr") and province.may_operate("sihwa")
    unscoped = verifier.verify(f"Bearer {issuer.mint('civil-servant')}")
    assert not unscoped.jurisdictions and not unscoped.may_access("suwon.gg.kr")


def test_command_lines_mint_scoped_tokens(
    issuer: LocalIssuer, capsys: pytest.CaptureFixture[str]
) -> None:
    from gyeonggi_tools.cli import main as gyeonggi

    state = str(issuer.state_dir)
    verifier = issuer.verifier()
    assert (
        gyeonggi(
            [
                "--state-dir",
                state,
                "auth",
                "token",
                "civil-servant",
                "--jurisdiction",
                "suwon.gg.kr",
                "--jurisdiction",
                "hwaseong.gg.kr",
            ]
        )
        == 0
    )
    servant = verifier.verify(f"Bearer {capsys.readouterr().out.strip()}")
    assert servant.jurisdictions == {"suwon.gg.kr", "hwaseong.gg.kr"}

    assert gyeonggi(["--state-dir", state, "auth", "token", "operator", "--complex", "banwol"]) == 0
    assert verifier.verify(f"Bearer {capsys.readouterr().out.strip()}").complexes == {"banwol"}

    assert main(["--state-dir", state, "mint", "civil-servant", "--province"]) == 0
    assert verifier.verify(f"Bearer {capsys.readouterr().out.strip()}").is_province
