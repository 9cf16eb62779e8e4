"""Who may call what: JWT bearer tokens for people, API keys for Open311 client apps.

``TokenVerifier`` checks Cognito (or local-issuer) ID tokens and the caller's roles and scopes
(:mod:`gyeonggi.auth.scopes`: the jurisdictions and complexes a caller may see);
``ApiKeyStore`` issues and checks the ``api_key`` of Open311 POST requests. The local cloud's
issuer is :mod:`localcloud.issuer`, outside the domain: it signs tokens, which no function does.
"""

from gyeonggi.auth.apikeys import (
    KEY_PREFIX,
    ApiKeyRecord,
    ApiKeySettings,
    ApiKeyStore,
    IssuedKey,
    hash_key,
)
from gyeonggi.auth.scopes import (
    COMPLEXES_CLAIM,
    JURISDICTIONS_CLAIM,
    PROVINCE,
    parse_scope_claim,
)
from gyeonggi.auth.tokens import (
    ADMIN,
    ANALYST,
    CITIZEN,
    CIVIL_SERVANT,
    KIOSK,
    OPERATOR,
    ROLES,
    AuthSettings,
    FileJwksClient,
    JwksClient,
    KeySetUnavailable,
    Principal,
    TokenVerifier,
    make_jwks_client,
)

__all__ = [
    "ADMIN",
    "ANALYST",
    "CITIZEN",
    "CIVIL_SERVANT",
    "COMPLEXES_CLAIM",
    "JURISDICTIONS_CLAIM",
    "KEY_PREFIX",
    "KIOSK",
    "OPERATOR",
    "PROVINCE",
    "ROLES",
    "ApiKeyRecord",
    "ApiKeySettings",
    "ApiKeyStore",
    "AuthSettings",
    "FileJwksClient",
    "IssuedKey",
    "JwksClient",
    "KeySetUnavailable",
    "Principal",
    "TokenVerifier",
    "hash_key",
    "make_jwks_client",
    "parse_scope_claim",
]
