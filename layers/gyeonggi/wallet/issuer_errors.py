"""The errors of the issuer's OAuth 2.0 and OpenID4VCI endpoints, as their specs name them.

The token endpoint answers RFC 6749 section 5.2 errors, the credential endpoint OpenID4VCI 1.0
section 8.3.1 errors and RFC 6750 section 3 for its access token. Each is a
:class:`~gyeonggi.common.errors.DomainError` with the spec's ``error`` code and HTTP status; the
wallet issuer function turns them into ``{"error": ..., "error_description": ...}`` in one
place, never Open311's ``[{code, description}]``.
"""

from __future__ import annotations

from gyeonggi.common.errors import DomainError

# What an error_description may hold (RFC 6749 5.2, OpenID4VCI 8.3.1.2): printable ASCII
# without '"' and '\'.
_ALLOWED = frozenset(chr(c) for c in range(0x20, 0x7F)) - {'"', "\\"}


def safe_description(text: str) -> str:
    """``text`` with every character an ``error_description`` may not hold replaced by ``?``."""
    return "".join(c if c in _ALLOWED else "?" for c in text)


class OAuthError(DomainError):
    """An error answered as ``{"error", "error_description"}`` with :attr:`status`."""

    error = "invalid_request"
    status = 400
    code = "oauth_error"


# ---------------------------------------------------------------- token endpoint (RFC 6749)


class InvalidRequest(OAuthError):
    """A parameter is missing, repeated or malformed; a ``tx_code`` is missing."""

    error = "invalid_request"


class InvalidGrant(OAuthError):
    """The pre-authorized code is unknown, expired, used or spent; the ``tx_code`` is wrong."""

    error = "invalid_grant"


class UnsupportedGrantType(OAuthError):
    """A grant type other than the pre-authorized code."""

    error = "unsupported_grant_type"


class InvalidAuthorizationDetails(OAuthError):
    """``authorization_details`` that are malformed or ask for what was not offered (RFC 9396)."""

    error = "invalid_authorization_details"


# ---------------------------------------------------------------- credential endpoint


class MissingToken(OAuthError):
    """No access token at all: RFC 6750 3.1 says to answer 401 with no error code."""

    error = "invalid_token"
    status = 401


class InvalidToken(OAuthError):
    """An access token that is unknown or expired (RFC 6750 3.1)."""

    error = "invalid_token"
    status = 401


class InsufficientScope(OAuthError):
    """An access token that does not cover the credential asked for (RFC 6750 3.1)."""

    error = "insufficient_scope"
    status = 403


class InvalidCredentialRequest(OAuthError):
    """A credential request that is malformed or has an unsupported parameter value."""

    error = "invalid_credential_request"


class UnknownCredentialConfiguration(OAuthError):
    """A ``credential_configuration_id`` this issuer does not have."""

    error = "unknown_credential_configuration"


class UnknownCredentialIdentifier(OAuthError):
    """A ``credential_identifier`` the token response did not give."""

    error = "unknown_credential_identifier"


class InvalidProof(OAuthError):
    """``proofs`` missing, or a key proof that is invalid or carries no ``nonce``."""

    error = "invalid_proof"


class InvalidNonce(OAuthError):
    """A key proof whose ``nonce`` is not a live ``c_nonce`` of this issuer (unknown, expired or
    used): the wallet should fetch a new one."""

    error = "invalid_nonce"


class InvalidEncryptionParameters(OAuthError):
    """``credential_response_encryption`` was sent; this issuer does not encrypt responses."""

    error = "invalid_encryption_parameters"


class CredentialRequestDenied(OAuthError):
    """The enrolment behind the token was revoked or suspended: no credential for it."""

    error = "credential_request_denied"


# ---------------------------------------------------------------- documents


class DocumentNotFound(OAuthError):
    """A credential offer (by reference) or a status list that does not exist (any more)."""

    error = "not_found"
    status = 404
