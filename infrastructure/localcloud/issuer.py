"""The local cloud's token issuer: a stand-in for the Cognito user pool, with no AWS at all.

Every start of the local cloud calls :meth:`LocalIssuer.create`, which generates a fresh RSA key
(never committed, never reused) and writes, under ``state_dir/issuer/``:

``private_key.pem``
    The signing key, mode 0600.
``jwks.json``
    The public key set, read by :class:`~gyeonggi.auth.tokens.TokenVerifier` through a
    ``file://`` URL.
``issuer.json``
    ``issuer``, ``audience``, ``jwks_url`` and ``kid``.

:meth:`LocalIssuer.mint` then issues Cognito-shaped ID tokens for a role, with the need-to-know
scopes a user pool administrator would set (``custom:jurisdictions``, ``custom:complexes``, the
``province`` group), so demos and tests call the protected routes exactly as a signed-in user
would::

    python -m localcloud.issuer mint civil-servant --jurisdiction suwon.gg.kr --state-dir .local
    python -m localcloud.issuer mint operator --complex banwol --state-dir .local
"""

from __future__ import annotations

import argparse
import base64
import hashlib
import json
import os
import sys
import tempfile
import time
import uuid
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import jwt
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from jwt.algorithms import RSAAlgorithm

from gyeonggi.auth.scopes import COMPLEXES_CLAIM, JURISDICTIONS_CLAIM, PROVINCE
from gyeonggi.auth.tokens import TokenVerifier
from gyeonggi.common.config import ConfigurationError
from gyeonggi.common.errors import InvalidInput

_ALGORITHM = "RS256"
_ISSUER_DIR = "issuer"
_PRIVATE_KEY = "private_key.pem"
_JWKS = "jwks.json"
_METADATA = "issuer.json"


def _write_atomically(path: Path, data: bytes, mode: int) -> None:
    """Write ``data`` to ``path`` with ``mode`` so a concurrent reader never sees half a file."""
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.")
    try:
        # mkstemp already creates the file 0600; chmod sets the final mode before any data lands.
        os.fchmod(fd, mode)
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def _thumbprint(public_jwk: Mapping[str, Any]) -> str:
    """RFC 7638 JWK thumbprint of an RSA key, used as its ``kid``."""
    canonical = json.dumps(
        {"e": public_jwk["e"], "kty": public_jwk["kty"], "n": public_jwk["n"]},
        separators=(",", ":"),
        sort_keys=True,
    )
    digest = hashlib.sha256(canonical.encode("ascii")).digest()
    return base64.urlsafe_b64encode(digest).rstrip(b"=").decode("ascii")


@dataclass(frozen=True)
class LocalIssuer:
    """A signing key plus the issuer and audience it vouches for.

    Use :meth:`create` or :meth:`load` rather than the constructor.
    """

    issuer: str
    audience: str
    kid: str
    state_dir: Path
    private_key: rsa.RSAPrivateKey

    def __repr__(self) -> str:
        # The default dataclass repr would print the key object; keep it out of logs.
        return f"LocalIssuer(issuer={self.issuer!r}, audience={self.audience!r}, kid={self.kid!r})"

    @property
    def directory(self) -> Path:
        """``state_dir/issuer``, where the key files live."""
        return self.state_dir / _ISSUER_DIR

    @property
    def jwks_path(self) -> Path:
        """The public key set file."""
        return self.directory / _JWKS

    @property
    def jwks_url(self) -> str:
        """The key set as a ``file://`` URL, the value of ``AUTH_JWKS_URL`` locally."""
        return self.jwks_path.resolve().as_uri()

    @classmethod
    def create(cls, state_dir: Path, issuer_url: str, audience: str) -> LocalIssuer:
        """Generate a new RSA-2048 key and write the issuer's files, replacing any old ones.

        Tokens minted with an earlier key stop verifying as soon as this returns.

        Parameters
        ----------
        state_dir
            The local cloud's state directory; files go to ``state_dir/issuer/``.
        issuer_url
            The ``iss`` of minted tokens (the value of ``AUTH_ISSUER``).
        audience
            The ``aud`` of minted tokens (the value of ``AUTH_AUDIENCE``).

        Returns
        -------
        LocalIssuer
            The new issuer, ready to mint.
        """
        if not issuer_url or not audience:
            raise ConfigurationError("the local issuer needs an issuer URL and an audience")
        state_dir = Path(state_dir)
        directory = state_dir / _ISSUER_DIR
        directory.mkdir(parents=True, exist_ok=True)
        directory.chmod(0o700)

        private_key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
        public_jwk: dict[str, Any] = RSAAlgorithm.to_jwk(private_key.public_key(), as_dict=True)
        kid = _thumbprint(public_jwk)
        public_jwk.update({"kid": kid, "alg": _ALGORITHM, "use": "sig"})

        pem = private_key.private_bytes(
            encoding=serialization.Encoding.PEM,
            format=serialization.PrivateFormat.PKCS8,
            encryption_algorithm=serialization.NoEncryption(),
        )
        _write_atomically(directory / _PRIVATE_KEY, pem, 0o600)
        # Key set before metadata: a reader that sees the new kid can already find its key.
        _write_atomically(
            directory / _JWKS, json.dumps({"keys": [public_jwk]}, indent=2).encode(), 0o644
        )
        issuer = cls(
            issuer=issuer_url,
            audience=audience,
            kid=kid,
            state_dir=state_dir,
            private_key=private_key,
        )
        metadata = {
            "issuer": issuer_url,
            "audience": audience,
            "jwks_url": issuer.jwks_url,
            "kid": kid,
        }
        _write_atomically(directory / _METADATA, json.dumps(metadata, indent=2).encode(), 0o644)
        return issuer

    @classmethod
    def load(cls, state_dir: Path) -> LocalIssuer:
        """Read back the issuer that :meth:`create` wrote under ``state_dir``.

        Raises
        ------
        ConfigurationError
            The files are missing or do not belong together (start the local cloud first).
        """
        directory = Path(state_dir) / _ISSUER_DIR
        try:
            metadata = json.loads((directory / _METADATA).read_text(encoding="utf-8"))
            key = serialization.load_pem_private_key(
                (directory / _PRIVATE_KEY).read_bytes(), password=None
            )
        except (OSError, ValueError) as exc:
            raise ConfigurationError(
                f"no local issuer under {directory} ({type(exc).__name__}); "
                "start the local cloud first"
            ) from None
        if not isinstance(key, rsa.RSAPrivateKey):
            raise ConfigurationError(f"{directory / _PRIVATE_KEY} is not an RSA key")
        public_jwk = RSAAlgorithm.to_jwk(key.public_key(), as_dict=True)
        if _thumbprint(public_jwk) != metadata.get("kid"):
            raise ConfigurationError(f"{directory}: the private key does not match issuer.json")
        return cls(
            issuer=metadata["issuer"],
            audience=metadata["audience"],
            kid=metadata["kid"],
            state_dir=Path(state_dir),
            private_key=key,
        )

    def mint(
        self,
        role: str | Sequence[str],
        subject: str | None = None,
        ttl_seconds: int = 3600,
        extra_claims: Mapping[str, Any] | None = None,
        *,
        jurisdictions: Sequence[str] = (),
        complexes: Sequence[str] = (),
        province: bool = False,
    ) -> str:
        """Issue a Cognito-shaped ID token.

        Parameters
        ----------
        role
            One role or several (``citizen``, ``civil-servant``, ``operator``, ``admin``, and the
            scope group ``province``); they go to ``cognito:groups``.
        subject
            The ``sub``; by default a UUID derived from the first role, so every token minted
            for a role names the same demo user.
        ttl_seconds
            Lifetime; negative values make already-expired tokens (for tests).
        extra_claims
            Added last, so they may override any standard claim (``email``, or a wrong ``aud``
            in a test).
        jurisdictions
            The cities and counties a civil servant serves, sent as Cognito sends the custom
            attribute: one comma-separated string in ``custom:jurisdictions``.
        complexes
            The industrial complexes an operator watches (``custom:complexes``).
        province
            Put the token in the ``province`` group: its scope is everything.

        Returns
        -------
        str
            The compact JWT, to send as ``Authorization: Bearer <token>``.
        """
        roles = [role] if isinstance(role, str) else list(role)
        if not roles or not all(isinstance(r, str) and r.strip() for r in roles):
            raise InvalidInput("mint needs at least one non-empty role", field="role")
        if province and PROVINCE not in roles:
            roles.append(PROVINCE)
        sub = subject or str(uuid.uuid5(uuid.NAMESPACE_URL, f"{self.issuer}#{roles[0]}"))
        now = int(time.time())
        claims: dict[str, Any] = {
            "iss": self.issuer,
            "aud": self.audience,
            "sub": sub,
            "token_use": "id",
            "cognito:groups": roles,
            "cognito:username": f"local-{roles[0]}" if subject is None else sub,
            "auth_time": now,
            "iat": now,
            "exp": now + ttl_seconds,
            "jti": str(uuid.uuid4()),
        }
        # Cognito leaves an unset custom attribute out of the token, so do we.
        if jurisdictions:
            claims[JURISDICTIONS_CLAIM] = ",".join(dict.fromkeys(jurisdictions))
        if complexes:
            claims[COMPLEXES_CLAIM] = ",".join(dict.fromkeys(complexes))
        claims.update(extra_claims or {})
        return jwt.encode(
            claims,
            self.private_key,
            algorithm=_ALGORITHM,
            headers={"kid": self.kid, "typ": "JWT"},
        )

    def environment(self) -> dict[str, str]:
        """The ``AUTH_*`` variables that point a function at this issuer."""
        return {
            "AUTH_ISSUER": self.issuer,
            "AUTH_AUDIENCE": self.audience,
            "AUTH_JWKS_URL": self.jwks_url,
            "AUTH_ROLES_CLAIM": "cognito:groups",
        }

    def verifier(self, **kwargs: Any) -> TokenVerifier:
        """A :class:`TokenVerifier` for this issuer's tokens (reads the ``file://`` key set)."""
        return TokenVerifier(
            issuer=self.issuer, audience=self.audience, jwks_url=self.jwks_url, **kwargs
        )


def add_scope_arguments(parser: argparse.ArgumentParser) -> None:
    """The ``--jurisdiction``, ``--complex`` and ``--province`` options of a mint command."""
    parser.add_argument(
        "--jurisdiction",
        action="append",
        default=[],
        metavar="ID",
        help="a city or county the civil servant serves, e.g. suwon.gg.kr (repeatable)",
    )
    parser.add_argument(
        "--complex",
        action="append",
        default=[],
        metavar="ID",
        help="an industrial complex the operator watches, e.g. banwol (repeatable)",
    )
    parser.add_argument(
        "--province",
        action="store_true",
        help="the province group: every jurisdiction and every complex",
    )


def scope_of(args: argparse.Namespace) -> dict[str, Any]:
    """The scope keyword arguments of :meth:`LocalIssuer.mint` from parsed options."""
    return {
        "jurisdictions": args.jurisdiction,
        "complexes": args.complex,
        "province": args.province,
    }


def main(argv: Sequence[str] | None = None) -> int:
    """Command line: ``create`` a new issuer, or ``mint`` a token and print it.

    Parameters
    ----------
    argv
        Arguments without the program name (default: ``sys.argv[1:]``).

    Returns
    -------
    int
        The exit status.
    """
    parser = argparse.ArgumentParser(
        prog="python -m localcloud.issuer",
        description="The local cloud's token issuer.",
    )
    parser.add_argument(
        "--state-dir",
        type=Path,
        default=Path(os.environ.get("GYEONGGI_STATE_DIR", ".local")),
        help="local cloud state directory (default: $GYEONGGI_STATE_DIR or .local)",
    )
    commands = parser.add_subparsers(dest="command", required=True)
    create = commands.add_parser("create", help="generate a new key (old tokens stop working)")
    create.add_argument("--issuer", required=True, help="the iss of minted tokens")
    create.add_argument("--audience", required=True, help="the aud of minted tokens")
    mint = commands.add_parser("mint", help="print an ID token for one or more roles")
    mint.add_argument(
        "roles", nargs="+", help="citizen, civil-servant, operator, admin, kiosk, province"
    )
    mint.add_argument("--subject", help="the sub claim (default: a fixed one per role)")
    mint.add_argument("--ttl", type=int, default=3600, help="lifetime in seconds")
    mint.add_argument("--email", help="an email claim to include")
    add_scope_arguments(mint)
    args = parser.parse_args(argv)

    try:
        if args.command == "create":
            issuer = LocalIssuer.create(args.state_dir, args.issuer, args.audience)
            print(json.dumps(issuer.environment(), indent=2))
        else:
            issuer = LocalIssuer.load(args.state_dir)
            extra = {"email": args.email} if args.email else None
            print(issuer.mint(args.roles, args.subject, args.ttl, extra, **scope_of(args)))
    except (ConfigurationError, InvalidInput) as exc:
        print(f"error: {exc.message}", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
