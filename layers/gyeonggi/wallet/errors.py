"""The wallet's one error: something that does not verify, and the stable reason why.

Callers (the verifier's response endpoint, the identity-check task, the holder's CLI) branch on
:attr:`VerificationFailed.reason`, never on the message. The message is a sentence for people
and never holds a claim value: presentations carry personal data, and messages end up in logs.
"""

from __future__ import annotations

from types import MappingProxyType

from gyeonggi.common.errors import InvalidInput

# Every reason code, with the sentence used when the raiser gives none. docs/WALLET.md has the
# same table; tests/unit/test_wallet_errors.py holds the two together.
_REASONS: dict[str, str] = {
    # The serialization and the JOSE layer.
    "malformed": "the token is not a well-formed compact JWS or SD-JWT",
    "alg": "the signature algorithm is not ES256",
    "typ": "the token's typ header is not the one this check expects",
    "crit": "the token names critical header parameters this verifier does not understand",
    "key": "the verification key is not a P-256 public JWK",
    "signature": "the signature does not verify",
    "issuer_key": "no key of this issuer matches the token's kid",
    # The Issuer-signed JWT's payload and RFC 9901's processing of the disclosures.
    "sd_alg": "the digest algorithm (_sd_alg) is not sha-256, or not at the top level",
    "disclosure_malformed": "a disclosure is not base64url of a JSON array of a salt and a claim",
    "disclosure_length": "a disclosure has the wrong number of elements for where its digest is",
    "disclosure_claim_name": "a disclosure names a reserved claim (_sd or ...)",
    "disclosure_claim_exists": "a disclosure names a claim already present at its level",
    "disclosure_duplicate": "the same disclosure was sent twice",
    "disclosure_unreferenced": "a disclosure's digest appears nowhere in the credential",
    "disclosure_digest": "an embedded digest (_sd or ...) is not a base64url SHA-256 digest",
    "digest_duplicate": "the same digest appears more than once in the credential",
    "array_placeholder": 'an array element placeholder {"...": digest} has other keys',
    "reserved_claim": 'the claim name "..." is used outside an array element placeholder',
    # SD-JWT VC's rules on the processed payload.
    "sd_forbidden": "a claim SD-JWT VC forbids to disclose selectively arrived in a disclosure",
    "claim_missing": "a claim the credential needs is missing",
    "claim_invalid": "a claim has the wrong type or shape",
    "expired": "the credential has expired",
    "not_yet_valid": "the credential is not valid yet (nbf)",
    "iat_future": "the credential was issued in the future (iat)",
    "cnf": "the credential names no usable holder key (cnf.jwk, P-256)",
    # Key binding (RFC 9901 section 7.3).
    "kb_missing": "key binding is required and the presentation has no KB-JWT",
    "kb_unexpected": "an issued SD-JWT must not carry a KB-JWT",
    "kb_malformed": "the KB-JWT is not a well-formed compact JWS",
    "kb_alg": "the KB-JWT's algorithm is not ES256",
    "kb_typ": "the KB-JWT's typ is not kb+jwt",
    "kb_crit": "the KB-JWT names critical header parameters this verifier does not understand",
    "kb_key": "the holder key (cnf.jwk) is not a P-256 public JWK",
    "kb_signature": "the KB-JWT is not signed by the holder key of the credential (cnf.jwk)",
    "kb_nonce": "the KB-JWT's nonce is not this transaction's",
    "kb_aud": "the KB-JWT's audience is not this verifier",
    "kb_iat": "the KB-JWT has no numeric iat",
    "kb_stale": "the KB-JWT was made too long ago",
    "kb_future": "the KB-JWT was made in the future",
    "sd_hash": "the KB-JWT's sd_hash is not the digest of the presented SD-JWT",
    # Status (IETF Token Status List).
    "status_malformed": "the credential's status claim is not a status_list with idx and uri",
    "status_index": "the credential's status index is outside the status list",
    "revoked": "the credential has been revoked",
    "suspended": "the credential is suspended",
    "status_unknown": "the credential's status is neither valid, revoked nor suspended",
    "status_list_malformed": "the status list token is malformed",
    "status_list_alg": "the status list token's algorithm is not ES256",
    "status_list_typ": "the status list token's typ is not statuslist+jwt",
    "status_list_crit": "the status list token names critical header parameters",
    "status_list_key": "the status list's key is not a P-256 public JWK",
    "status_list_signature": "the status list token's signature does not verify",
    "status_list_issuer_key": "no key of the status list's issuer matches its kid",
    "status_list_issuer": "the status list token is not from the expected issuer",
    "status_list_sub": "the status list token's sub is not the URI it was fetched from",
    "status_list_expired": "the status list token has expired",
}

#: Reason code -> the default sentence, read-only.
REASONS = MappingProxyType(_REASONS)


class VerificationFailed(InvalidInput):
    """A credential, presentation, proof or token that does not verify.

    Attributes
    ----------
    reason
        A short stable code from :data:`REASONS` (``"signature"``, ``"kb_nonce"``,
        ``"revoked"`` ...).
    message
        A sentence for people; never a claim value.
    """

    code = "verification_failed"

    def __init__(self, reason: str, message: str | None = None) -> None:
        if reason not in _REASONS:
            # A typo here would hand callers a code nobody maps: fail where it is written.
            raise ValueError(f"unknown verification failure reason {reason!r}")
        super().__init__(message or _REASONS[reason])
        self.reason = reason

    def with_prefix(self, prefix: str) -> VerificationFailed:
        """The same failure, reported for an inner token (``kb_``, ``status_list_``).

        The message is the inner token's own when the prefixed reason has no more specific one.
        """
        prefixed = prefix + self.reason
        if prefixed not in _REASONS:
            return self
        return VerificationFailed(prefixed, _REASONS[prefixed])
