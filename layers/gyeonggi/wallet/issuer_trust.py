"""Which issuers the verifier trusts, and their keys from their JWT VC Issuer Metadata.

Trust is a configured list of issuer identifiers (``WALLET_TRUSTED_ISSUERS``); a credential
from any other issuer is refused (``issuer_untrusted``) before a key is looked up. The keys of
a trusted issuer come from its metadata (SD-JWT VC, section 5): ``GET`` the URL made by
inserting ``/.well-known/jwt-vc-issuer`` between the host and the path of the identifier; the
answer's ``issuer`` must equal the identifier, its keys are ``jwks`` or the set at
``jwks_uri``. Keys are cached per issuer for ``cache_seconds``; an unknown ``kid`` refetches at
most once per ``refetch_seconds`` (a rotated key is found without a stampede), and keys last
fetched within ``max_stale_seconds`` keep answering while the metadata cannot be fetched.

The province's own issuer is trusted the same way, over HTTPS, like any outside verifier would:
one code path, and the issuer's published metadata is exercised by every verification.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit, urlunsplit

from gyeonggi.common.errors import InvalidInput
from gyeonggi.wallet.presentation_requests import PresentationRejected
from gyeonggi.wallet.web_fetch import Fetched, FetchFailed, fetch

WELL_KNOWN = "/.well-known/jwt-vc-issuer"
#: Keys a metadata document may carry: more is a mistake or an attack, not a key set.
MAX_KEYS = 20

Fetch = Callable[..., Fetched]


def metadata_url(issuer: str) -> str:
    """Where the JWT VC Issuer Metadata of ``issuer`` is (path-aware, as RFC 8414 does it)."""
    parts = urlsplit(issuer)
    path = parts.path.rstrip("/")
    return urlunsplit((parts.scheme, parts.netloc, WELL_KNOWN + path, "", ""))


def parse_trusted_issuers(text: str) -> frozenset[str]:
    """Issuer identifiers separated by spaces or commas (the variable's format)."""
    return frozenset(part for part in text.replace(",", " ").split() if part)


@dataclass
class _Keys:
    keys: dict[str, dict[str, str]]
    fetched_at: float


@dataclass
class IssuerTrust:
    """``(iss, kid) -> jwk`` for the trusted issuers (core's ``IssuerKeys``).

    Parameters
    ----------
    trusted
        The issuer identifiers accepted, exactly as they appear in ``iss``.
    fetcher
        :func:`gyeonggi.wallet.web_fetch.fetch` or a test double.
    """

    trusted: frozenset[str]
    fetcher: Fetch = fetch
    cache_seconds: float = 300.0
    refetch_seconds: float = 30.0
    max_stale_seconds: float = 3600.0
    clock: Callable[[], float] = time.monotonic
    _cache: dict[str, _Keys] = field(default_factory=dict, repr=False)
    _attempted: dict[str, float] = field(default_factory=dict, repr=False)

    @classmethod
    def from_text(cls, text: str, **kwargs: Any) -> IssuerTrust:
        return cls(parse_trusted_issuers(text), **kwargs)

    def __call__(self, issuer: str, kid: str) -> Mapping[str, str]:
        from gyeonggi.wallet.errors import VerificationFailed

        if issuer not in self.trusted:
            raise PresentationRejected("issuer_untrusted")
        now = self.clock()
        cached = self._cache.get(issuer)
        fresh = cached is not None and now - cached.fetched_at < self.cache_seconds
        if fresh and cached is not None and kid in cached.keys:
            return cached.keys[kid]
        last_try = self._attempted.get(issuer)
        if last_try is None or now - last_try >= self.refetch_seconds or not fresh:
            self._attempted[issuer] = now
            try:
                cached = self._cache[issuer] = _Keys(self._fetch_keys(issuer), now)
            except (FetchFailed, InvalidInput):
                usable = cached is not None and now - cached.fetched_at < self.max_stale_seconds
                if not usable:
                    raise PresentationRejected("issuer_metadata_unavailable") from None
        if cached is not None and kid in cached.keys:
            return cached.keys[kid]
        raise VerificationFailed("issuer_key")

    def _fetch_keys(self, issuer: str) -> dict[str, dict[str, str]]:
        answer = self.fetcher(metadata_url(issuer), accept="application/json")
        if not answer.ok:
            raise FetchFailed(f"the issuer's metadata answered {answer.status}")
        metadata = answer.json()
        if not isinstance(metadata, dict) or metadata.get("issuer") != issuer:
            # SD-JWT VC, 5: the metadata of another issuer must not be used.
            raise InvalidInput("the metadata's issuer is not the credential's")
        jwks = metadata.get("jwks")
        if jwks is None and isinstance(metadata.get("jwks_uri"), str):
            fetched = self.fetcher(metadata["jwks_uri"], accept="application/json")
            if not fetched.ok:
                raise FetchFailed(f"the issuer's jwks_uri answered {fetched.status}")
            jwks = fetched.json()
        return _keys(jwks)


def _keys(jwks: Any) -> dict[str, dict[str, str]]:
    from gyeonggi.wallet.jose import public_jwk

    keys = jwks.get("keys") if isinstance(jwks, dict) else None
    if not isinstance(keys, list) or not keys or len(keys) > MAX_KEYS:
        raise InvalidInput("the issuer's metadata holds no key set")
    found: dict[str, dict[str, str]] = {}
    for key in keys:
        if not isinstance(key, dict) or not isinstance(key.get("kid"), str):
            continue
        if key.get("use", "sig") != "sig":
            continue
        try:
            found[key["kid"]] = {**public_jwk(key), "kid": key["kid"]}
        except InvalidInput:
            continue  # not a P-256 key: not one this verifier uses
    return found


def trusted_issuers(issuers: Iterable[str]) -> frozenset[str]:
    """The identifiers as a set, each checked to be a URL the metadata can be fetched from."""
    from gyeonggi.wallet.web_fetch import check_url

    return frozenset(check_url(issuer, "a trusted issuer") for issuer in issuers)
