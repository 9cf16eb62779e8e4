"""Bearer-token verification for the citizen, civil-servant and operator routes.

In AWS the issuer is a Cognito user pool and the tokens are its ID tokens (``aud`` is the app
client id, roles are the ``cognito:groups`` claim). In the local cloud the issuer is
:class:`localcloud.issuer.LocalIssuer`, whose key set is a file read through a
``file://`` URL. The verifier pins the algorithms, fetches keys only from the configured URL
(never from anything the token names) and turns every failure into
:class:`~gyeonggi.common.errors.Unauthenticated` or :class:`~gyeonggi.common.errors.Forbidden`
with a message that names the problem but never echoes key material.
"""

from __future__ import annotations

import json
import os
import threading
import urllib.parse
import urllib.request
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from types import MappingProxyType
from typing import TYPE_CHECKING, Any, Protocol

from pydantic import field_validator

from gyeonggi.auth.scopes import COMPLEXES_CLAIM, JURISDICTIONS_CLAIM, PROVINCE, parse_scope_claim
from gyeonggi.common.config import ConfigurationError, Settings
from gyeonggi.common.errors import Forbidden, Unauthenticated, Unavailable

# PyJWT and cryptography cost ~50 ms of cold start; they are imported where a token is
# verified, so functions and routes that never see a token never load them.
if TYPE_CHECKING:
    import jwt

CITIZEN = "citizen"
CIVIL_SERVANT = "civil-servant"
OPERATOR = "operator"
ADMIN = "admin"
#: A kiosk's machine account (one per kiosk): it starts anonymous form sessions for whoever
#: stands at it (gyeonggi.forms.sessions).
KIOSK = "kiosk"
#: The province's data analysts: they query the Data Dam (``POST /datadam/queries``), whose
#: tables are pseudonymised; no complaint, contact or video of the operational stores.
ANALYST = "analyst"
# ``province`` is a scope, not a role: it widens what a civil servant or operator sees.
ROLES: frozenset[str] = frozenset(
    {CITIZEN, CIVIL_SERVANT, OPERATOR, ADMIN, KIOSK, ANALYST, PROVINCE}
)

# Asymmetric algorithms only: with an HMAC algorithm allowed, a public key could be used as a
# shared secret, and "none" needs no key at all.
_ASYMMETRIC_ALGORITHMS = frozenset(
    {"RS256", "RS384", "RS512", "PS256", "PS384", "PS512", "ES256", "ES384", "ES512", "EdDSA"}
)
# API Gateway caps headers well below this; a larger token is garbage or an attack.
_MAX_TOKEN_LENGTH = 16 * 1024
_REQUIRED_CLAIMS = ["exp", "iss", "aud", "sub"]
_NO_JURISDICTION = (
    f"your token names no jurisdiction ({JURISDICTIONS_CLAIM}) and is not the {PROVINCE}'s: "
    "it may see no complaint"
)
_NO_COMPLEX = (
    f"your token names no industrial complex ({COMPLEXES_CLAIM}) and is not the {PROVINCE}'s: "
    "it may see no incident"
)


class KeySetUnavailable(Unavailable):
    """The issuer's key set could not be fetched or read (a server-side fault, HTTP 503)."""

    code = "key_set_unavailable"


@dataclass(frozen=True)
class Principal:
    """Who made the call, as proven by a verified token.

    Attributes
    ----------
    subject
        The token's ``sub`` claim (the Cognito user's stable id).
    roles
        The roles taken from the configured roles claim.
    claims
        Every verified claim, read-only.
    jurisdictions
        The cities and counties the caller serves (``custom:jurisdictions``).
    complexes
        The industrial complexes the caller watches (``custom:complexes``).
    """

    subject: str
    roles: frozenset[str]
    # Excluded from the hash (a mapping is unhashable) but not from equality.
    claims: Mapping[str, Any] = field(repr=False, hash=False)
    jurisdictions: frozenset[str] = frozenset()
    complexes: frozenset[str] = frozenset()

    def has_any_role(self, *roles: str) -> bool:
        """Return whether the principal holds at least one of ``roles``."""
        return not self.roles.isdisjoint(roles)

    @property
    def is_province(self) -> bool:
        """Whether the caller's scope is the whole province (the ``province`` group)."""
        return PROVINCE in self.roles

    def may_access(self, jurisdiction_id: str) -> bool:
        """Whether ``jurisdiction_id`` is within the caller's scope (need to know)."""
        return self.is_province or jurisdiction_id in self.jurisdictions

    def may_operate(self, complex_id: str) -> bool:
        """Whether the industrial complex ``complex_id`` is within the caller's scope."""
        return self.is_province or complex_id in self.complexes

    def require_some_complex(self) -> None:
        """Raise :class:`Forbidden` when the caller may see no complex at all."""
        if not self.is_province and not self.complexes:
            raise Forbidden(_NO_COMPLEX)

    def visible_jurisdictions(self) -> frozenset[str] | None:
        """The jurisdictions a province-wide view may show the caller; ``None`` for all.

        Raises
        ------
        Forbidden
            The caller's token names no jurisdiction (and is not the province's).
        """
        if not self.is_province and not self.jurisdictions:
            raise Forbidden(_NO_JURISDICTION)
        return None if self.is_province else self.jurisdictions

    def require_jurisdiction(self, jurisdiction_id: str) -> None:
        """Raise :class:`Forbidden` unless ``jurisdiction_id`` is within the caller's scope.

        The message says which claim grants access, so a token without one is told why.
        """
        if self.may_access(jurisdiction_id):
            return
        if not self.jurisdictions:
            raise Forbidden(_NO_JURISDICTION)
        raise Forbidden(f"{jurisdiction_id} is outside the jurisdictions of your account")


class JwksClient(Protocol):
    """What the verifier needs from a key-set client (``jwt.PyJWKClient`` satisfies it)."""

    def get_signing_key(self, kid: str) -> jwt.PyJWK:
        """Return the key whose ``kid`` matches, or raise ``jwt.PyJWKClientError``."""
        ...


class FileJwksClient:
    """A key-set client for ``file://`` URLs, which ``jwt.PyJWKClient`` refuses.

    The file is re-read whenever it changes on disk (checked with one ``stat`` per lookup), so
    keys regenerated by a restart of the local cloud take effect at once and old tokens stop
    verifying.

    Parameters
    ----------
    url
        A ``file://`` URL of a JWKS document (``{"keys": [...]}``).
    """

    def __init__(self, url: str) -> None:
        parsed = urllib.parse.urlparse(url)
        if parsed.scheme != "file" or parsed.netloc not in ("", "localhost"):
            raise ConfigurationError("FileJwksClient needs a file:// URL on the local host")
        self.path = Path(urllib.request.url2pathname(parsed.path))
        self._lock = threading.Lock()
        self._stamp: tuple[int, int, int] | None = None
        self._keys: dict[str, jwt.PyJWK] = {}

    def _load(self) -> dict[str, jwt.PyJWK]:
        import jwt

        try:
            st = os.stat(self.path)
            stamp = (st.st_ino, st.st_mtime_ns, st.st_size)
            with self._lock:
                if stamp != self._stamp:
                    data = json.loads(self.path.read_text(encoding="utf-8"))
                    key_set = jwt.PyJWKSet.from_dict(data)
                    self._keys = {
                        k.key_id: k
                        for k in key_set.keys
                        if k.key_id and k.public_key_use in ("sig", None)
                    }
                    self._stamp = stamp
                return self._keys
        except (OSError, ValueError, TypeError, AttributeError, jwt.PyJWTError) as exc:
            raise jwt.PyJWKClientConnectionError(
                f"cannot read the key set file: {type(exc).__name__}"
            ) from exc

    def get_signing_key(self, kid: str) -> jwt.PyJWK:
        """Return the key whose ``kid`` matches.

        Raises
        ------
        jwt.PyJWKClientConnectionError
            The file is missing or is not a key set.
        jwt.PyJWKClientError
            No key has that ``kid``.
        """
        import jwt

        key = self._load().get(kid)
        if key is None:
            raise jwt.PyJWKClientError("no signing key matches the token's kid")
        return key


def make_jwks_client(jwks_url: str, *, lifespan_seconds: float = 300) -> JwksClient:
    """Return a caching key-set client for ``jwks_url`` (``https://``, ``http://`` or ``file://``).

    Parameters
    ----------
    jwks_url
        Where the issuer publishes its keys.
    lifespan_seconds
        How long an HTTP-fetched key set is reused before it is fetched again.

    Raises
    ------
    ConfigurationError
        For any other URL scheme.
    """
    import jwt

    scheme = urllib.parse.urlparse(jwks_url).scheme.lower()
    if scheme == "file":
        return FileJwksClient(jwks_url)
    if scheme in ("http", "https"):
        # The set is cached for ``lifespan``; an unknown kid forces at most one refetch per
        # cooldown, so random kids in forged tokens cannot hammer the issuer.
        return jwt.PyJWKClient(jwks_url, cache_jwk_set=True, lifespan=lifespan_seconds, timeout=5)
    raise ConfigurationError("AUTH_JWKS_URL must be an https://, http:// or file:// URL")


def _parse_audience(value: str | Sequence[str]) -> list[str]:
    items = [value] if isinstance(value, str) else list(value)
    return [a.strip() for item in items for a in item.split(",") if a.strip()]


class AuthSettings(Settings):
    """Environment of a function that verifies bearer tokens.

    ``AUTH_ISSUER`` and ``AUTH_AUDIENCE`` (comma-separated for several app clients) are
    required; ``AUTH_JWKS_URL`` defaults to ``{AUTH_ISSUER}/.well-known/jwks.json`` (Cognito's
    location); ``AUTH_ROLES_CLAIM`` defaults to ``cognito:groups``.
    """

    auth_issuer: str
    auth_audience: str
    auth_jwks_url: str | None = None
    auth_roles_claim: str = "cognito:groups"

    @field_validator("auth_issuer", "auth_audience", "auth_roles_claim")
    @classmethod
    def _not_blank(cls, value: str) -> str:
        if not value.strip():
            raise ValueError("must not be empty")
        return value.strip()

    @property
    def jwks_url(self) -> str:
        """The configured key-set URL, or the issuer's well-known one."""
        if self.auth_jwks_url:
            return self.auth_jwks_url
        return self.auth_issuer.rstrip("/") + "/.well-known/jwks.json"


class TokenVerifier:
    """Verify ``Authorization: Bearer <jwt>`` headers against one issuer.

    Build it once per cold start (module level) so the key-set cache survives between calls.

    Parameters
    ----------
    issuer
        The exact ``iss`` the tokens must carry.
    audience
        The ``aud`` the tokens must carry (the Cognito app client id); several are allowed.
    jwks_url
        The issuer's key set; ``file://`` is read from disk, ``http(s)://`` fetched and cached.
    roles_claim
        The claim holding the caller's roles (a list of strings, or a space-separated string).
    algorithms
        The signature algorithms accepted; only asymmetric ones are allowed.
    leeway_seconds
        Clock skew tolerated on ``exp``, ``nbf`` and ``iat``.
    jwks_client
        A ready key-set client (tests inject one); built from ``jwks_url`` when omitted.

    Raises
    ------
    ConfigurationError
        An empty issuer or audience, or a symmetric or unknown algorithm.
    """

    def __init__(
        self,
        issuer: str,
        audience: str | Sequence[str],
        jwks_url: str,
        roles_claim: str = "cognito:groups",
        algorithms: Sequence[str] = ("RS256",),
        leeway_seconds: float = 30,
        jwks_client: JwksClient | None = None,
    ) -> None:
        audiences = _parse_audience(audience)
        if not issuer or not audiences:
            raise ConfigurationError("TokenVerifier needs an issuer and an audience")
        bad = [a for a in algorithms if a not in _ASYMMETRIC_ALGORITHMS]
        if bad or not algorithms:
            raise ConfigurationError(
                f"TokenVerifier accepts only asymmetric algorithms, not {bad or 'none'}"
            )
        if leeway_seconds < 0 or leeway_seconds > 300:
            raise ConfigurationError("leeway_seconds must be between 0 and 300")
        self.issuer = issuer
        self.audiences = audiences
        self.jwks_url = jwks_url
        self.roles_claim = roles_claim
        self.algorithms = tuple(algorithms)
        self.leeway_seconds = leeway_seconds
        self._jwks_client = jwks_client
        self._client_lock = threading.Lock()

    @classmethod
    def from_settings(cls, settings: AuthSettings, **kwargs: Any) -> TokenVerifier:
        """Build a verifier from a function's :class:`AuthSettings`.

        Parameters
        ----------
        settings
            The parsed ``AUTH_*`` variables.
        **kwargs
            Passed on to the constructor (``leeway_seconds``, ``jwks_client``...).
        """
        return cls(
            issuer=settings.auth_issuer,
            audience=settings.auth_audience,
            jwks_url=settings.jwks_url,
            roles_claim=settings.auth_roles_claim,
            **kwargs,
        )

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None, **kwargs: Any) -> TokenVerifier:
        """Build a verifier from the ``AUTH_*`` environment variables.

        Raises
        ------
        ConfigurationError
            Naming each missing variable.
        """
        return cls.from_settings(AuthSettings.from_env(environ), **kwargs)

    @property
    def jwks_client(self) -> JwksClient:
        """The key-set client, created on first use (no I/O at import or cold start)."""
        if self._jwks_client is None:
            with self._client_lock:
                if self._jwks_client is None:
                    self._jwks_client = make_jwks_client(self.jwks_url)
        return self._jwks_client

    def verify(self, authorization_header: str | None) -> Principal:
        """Verify an ``Authorization`` header value and return the caller.

        Parameters
        ----------
        authorization_header
            The raw header value, ``"Bearer <token>"`` (scheme case-insensitive), or ``None``.

        Returns
        -------
        Principal
            The verified subject, roles and claims.

        Raises
        ------
        Unauthenticated
            Missing, malformed, expired, not-yet-valid, wrongly issued or wrongly signed token.
        KeySetUnavailable
            The issuer's key set could not be fetched (not the caller's fault).
        """
        token = _bearer_token(authorization_header)
        claims = self._decode(token)
        return Principal(
            subject=str(claims["sub"]),
            roles=self._roles(claims),
            claims=MappingProxyType(claims),
            jurisdictions=parse_scope_claim(claims.get(JURISDICTIONS_CLAIM), JURISDICTIONS_CLAIM),
            complexes=parse_scope_claim(claims.get(COMPLEXES_CLAIM), COMPLEXES_CLAIM),
        )

    def require(self, authorization_header: str | None, *roles: str) -> Principal:
        """Verify the header and require at least one of ``roles``.

        Parameters
        ----------
        authorization_header
            As for :meth:`verify`.
        *roles
            The roles allowed; with none given, any verified caller passes.

        Raises
        ------
        Unauthenticated
            As for :meth:`verify`.
        Forbidden
            The caller holds none of ``roles``.
        """
        principal = self.verify(authorization_header)
        if roles and not principal.has_any_role(*roles):
            raise Forbidden("this operation requires one of the roles: " + ", ".join(roles))
        return principal

    def _decode(self, token: str) -> dict[str, Any]:
        import jwt

        try:
            header = jwt.get_unverified_header(token)
        except jwt.PyJWTError:
            raise Unauthenticated("token is malformed") from None
        alg = header.get("alg")
        if alg not in self.algorithms:
            raise Unauthenticated("token algorithm is not allowed")
        kid = header.get("kid")
        if not isinstance(kid, str) or not kid:
            raise Unauthenticated("token has no key id")
        key = self._signing_key(kid)
        try:
            decoded: dict[str, Any] = jwt.decode(
                token,
                key=key,
                algorithms=list(self.algorithms),
                audience=self.audiences,
                issuer=self.issuer,
                leeway=self.leeway_seconds,
                options={"require": _REQUIRED_CLAIMS},
            )
        except jwt.ExpiredSignatureError:
            raise Unauthenticated("token expired") from None
        except jwt.ImmatureSignatureError:
            raise Unauthenticated("token is not yet valid") from None
        except jwt.InvalidAudienceError:
            raise Unauthenticated("wrong audience") from None
        except jwt.InvalidIssuerError:
            raise Unauthenticated("wrong issuer") from None
        except jwt.MissingRequiredClaimError as exc:
            raise Unauthenticated(f"token has no {exc.claim!r} claim") from None
        except jwt.InvalidAlgorithmError:
            raise Unauthenticated("token algorithm does not match its key") from None
        except jwt.InvalidSignatureError:
            raise Unauthenticated("token signature does not verify") from None
        except jwt.InvalidIssuedAtError:
            raise Unauthenticated("token has an invalid issued-at time") from None
        except jwt.DecodeError:
            raise Unauthenticated("token is malformed") from None
        except jwt.PyJWTError:
            raise Unauthenticated("token is not valid") from None
        if not isinstance(decoded.get("sub"), str) or not decoded["sub"]:
            raise Unauthenticated("token has no subject")
        return decoded

    def _signing_key(self, kid: str) -> jwt.PyJWK:
        import jwt

        try:
            return self.jwks_client.get_signing_key(kid)
        except jwt.PyJWKClientConnectionError:
            raise KeySetUnavailable("the issuer's key set is unavailable") from None
        except jwt.PyJWTError:
            # PyJWKClientError (no such kid, or an empty set) and PyJWKSetError land here.
            raise Unauthenticated("token signed with an unknown key") from None

    def _roles(self, claims: Mapping[str, Any]) -> frozenset[str]:
        raw = claims.get(self.roles_claim)
        if raw is None:
            return frozenset()
        # Cognito sends a JSON list; OAuth-style issuers often send one space-separated string.
        values = raw.split() if isinstance(raw, str) else raw
        if not isinstance(values, list) or not all(isinstance(v, str) for v in values):
            raise Unauthenticated("token's roles claim is malformed")
        return frozenset(values)


def _bearer_token(authorization_header: str | None) -> str:
    if authorization_header is None or not authorization_header.strip():
        raise Unauthenticated("missing bearer token")
    parts = authorization_header.split()
    if parts[0].lower() != "bearer":
        raise Unauthenticated("authorization scheme must be Bearer")
    if len(parts) == 1:
        raise Unauthenticated("missing bearer token")
    if len(parts) > 2:
        raise Unauthenticated("malformed bearer token")
    token = parts[1]
    if len(token) > _MAX_TOKEN_LENGTH:
        raise Unauthenticated("token is too large")
    return token
