"""The OpenID4VCI 1.0 token, nonce and credential endpoints (pre-authorized code flow).

Token endpoint (section 6, RFC 6749 4.1.3 and 5.2): a form with ``grant_type``
``urn:ietf:params:oauth:grant-type:pre-authorized_code``, ``pre-authorized_code`` and
``tx_code``. A code that is unknown, expired, used, or spent on wrong tx_codes, and a wrong
tx_code, are ``invalid_grant``; a missing code or tx_code, or a parameter given twice, is
``invalid_request``; all ``400``, never a ``200`` carrying an error. The code is redeemed by a
conditional write, so it yields one access token, ever. The access token is opaque, bound to
the enrolment and the offered configuration, and lives :data:`ACCESS_TOKEN_LIFETIME` (the spec
calls anything over 5 minutes long-lived).

Nonce endpoint (section 7): a fresh unpredictable ``c_nonce``, stored for
:data:`NONCE_LIFETIME`.

Credential endpoint (section 8): ``Authorization: Bearer``; ``credential_configuration_id``
(or the ``credential_identifier`` the token response gave); ``proofs: {"jwt": [proof]}``. The
proof (appendix F.1) must be typed ``openid4vci-proof+jwt``, signed ES256 by the ``jwk`` in its
header (the key the credential is bound to: ``cnf.jwk``), with ``aud`` the Credential Issuer
Identifier, a fresh ``iat``, no ``iss`` for an anonymous token, and a ``nonce`` that is a live
``c_nonce``, consumed on use. The credential's status entry is allocated, recorded on the
enrolment (only while it is valid), and the SD-JWT VC is signed by the issuer's KMS key.
"""

from __future__ import annotations

import json
import secrets
from collections.abc import Callable, Mapping
from datetime import datetime, time, timedelta
from typing import Any

from gyeonggi.common.clock import KST
from gyeonggi.common.errors import Conflict, InvalidInput
from gyeonggi.wallet.credential import ResidentClaims, issue_resident_credential
from gyeonggi.wallet.enrolments import VALID, StatusReference
from gyeonggi.wallet.errors import VerificationFailed
from gyeonggi.wallet.grants import AccessToken, digest, epoch, tx_code_digest
from gyeonggi.wallet.issuer_errors import (
    CredentialRequestDenied,
    InsufficientScope,
    InvalidAuthorizationDetails,
    InvalidCredentialRequest,
    InvalidEncryptionParameters,
    InvalidGrant,
    InvalidNonce,
    InvalidProof,
    InvalidRequest,
    InvalidToken,
    MissingToken,
    UnknownCredentialConfiguration,
    UnknownCredentialIdentifier,
    UnsupportedGrantType,
)
from gyeonggi.wallet.issuer_ports import EnrolmentRecords, GrantRecords, SigningKeySet
from gyeonggi.wallet.issuer_settings import RESIDENT_CONFIGURATION_ID, IssuerEndpoints
from gyeonggi.wallet.jose import public_jwk, unverified_header, verify_jws
from gyeonggi.wallet.metadata import PROOF_TYP, SIGNING_ALG
from gyeonggi.wallet.offers import PRE_AUTHORIZED_GRANT
from gyeonggi.wallet.status_registry import StatusRegistry

ACCESS_TOKEN_LIFETIME = timedelta(minutes=5)
NONCE_LIFETIME = timedelta(minutes=5)
#: How old a key proof may be (its ``iat``), and how far ahead of our clock.
PROOF_MAX_AGE = timedelta(minutes=5)
PROOF_MAX_AHEAD = timedelta(seconds=60)
#: How long a resident credential is valid; rotated keys stay published this long.
CREDENTIAL_LIFETIME = timedelta(days=365)
_MAX_PARAMETER = 2048


# ------------------------------------------------------------------ the token endpoint


def _single(form: Mapping[str, list[str]], name: str) -> str | None:
    """A form parameter's one value; an empty one counts as absent (RFC 6749 3.1).

    Raises
    ------
    InvalidRequest
        The parameter is given more than once, or is absurdly long.
    """
    values = [v for v in form.get(name, []) if v != ""]
    if len(form.get(name, [])) > 1:
        raise InvalidRequest(f"{name} is given more than once")
    if not values:
        return None
    if len(values[0]) > _MAX_PARAMETER:
        raise InvalidRequest(f"{name} is too long")
    return values[0]


class TokenService:
    """The token endpoint: pre-authorized code + tx_code -> access token."""

    def __init__(self, grants: GrantRecords, clock: Callable[[], datetime]) -> None:
        self.grants = grants
        self.clock = clock

    def exchange(self, form: Mapping[str, list[str]]) -> dict[str, Any]:
        """The token response for a token request's form parameters.

        Raises
        ------
        InvalidRequest, InvalidGrant, UnsupportedGrantType, InvalidAuthorizationDetails
            As RFC 6749 5.2 and OpenID4VCI 6.3 say (each a ``400``).
        """
        grant_type = _single(form, "grant_type")
        if grant_type is None:
            raise InvalidRequest("grant_type is missing")
        if grant_type != PRE_AUTHORIZED_GRANT:
            raise UnsupportedGrantType(f"only {PRE_AUTHORIZED_GRANT} is supported")
        code = _single(form, "pre-authorized_code")
        if code is None:
            raise InvalidRequest("pre-authorized_code is missing")
        tx_code = _single(form, "tx_code")
        client_id = _single(form, "client_id")
        details = _single(form, "authorization_details")
        now = self.clock()

        stored = self.grants.get_code(code, now)
        if stored is None or not stored.live(now):
            raise InvalidGrant("the pre-authorized code is unknown, expired or used")
        if tx_code is None:
            # Every offer here asks for one (its tx_code object): missing is invalid_request.
            raise InvalidRequest("tx_code is missing: the offer asked for a transaction code")
        if not secrets.compare_digest(tx_code_digest(code, tx_code), stored.tx_code_digest):
            left = self.grants.spend_attempt(code, now)
            if not left:
                raise InvalidGrant(
                    "the tx_code is wrong, and the pre-authorized code is spent: ask for a new "
                    "offer"
                )
            raise InvalidGrant(f"the tx_code is wrong ({left} attempts left)")
        identifiers = self._authorization_details(details, stored.configuration_ids)
        if not self.grants.redeem(code, now):
            raise InvalidGrant("the pre-authorized code is unknown, expired or used")

        token = secrets.token_urlsafe(32)
        expires_at = now + ACCESS_TOKEN_LIFETIME
        self.grants.put_token(
            token,
            AccessToken(
                token_digest=digest(token),
                enrolment_id=stored.enrolment_id,
                configuration_ids=stored.configuration_ids,
                expires_at=epoch(expires_at),
                credential_identifiers=identifiers,
                client_id=client_id,
            ),
        )
        answer: dict[str, Any] = {
            "access_token": token,
            "token_type": "Bearer",
            "expires_in": int(ACCESS_TOKEN_LIFETIME.total_seconds()),
        }
        if identifiers is not None:
            answer["authorization_details"] = [
                {
                    "type": "openid_credential",
                    "credential_configuration_id": RESIDENT_CONFIGURATION_ID,
                    "credential_identifiers": list(identifiers),
                }
            ]
        return answer

    @staticmethod
    def _authorization_details(raw: str | None, offered: tuple[str, ...]) -> tuple[str, ...] | None:
        """The credential identifiers to give for RFC 9396 ``authorization_details`` of type
        ``openid_credential`` (each offered configuration is one dataset, named after it)."""
        if raw is None:
            return None
        try:
            details = json.loads(raw)
        except ValueError:
            raise InvalidAuthorizationDetails("authorization_details is not JSON") from None
        if not isinstance(details, list) or not details:
            raise InvalidAuthorizationDetails("authorization_details must be a non-empty array")
        identifiers: list[str] = []
        for entry in details:
            if not isinstance(entry, dict) or entry.get("type") != "openid_credential":
                raise InvalidAuthorizationDetails(
                    "each authorization_details entry must have type openid_credential"
                )
            configuration = entry.get("credential_configuration_id")
            if configuration not in offered:
                raise InvalidAuthorizationDetails(
                    "credential_configuration_id must be one the offer named"
                )
            if configuration not in identifiers:
                identifiers.append(configuration)
        return tuple(identifiers)


class NonceService:
    """The nonce endpoint: unpredictable ``c_nonce`` values, each usable once."""

    def __init__(self, grants: GrantRecords, clock: Callable[[], datetime]) -> None:
        self.grants = grants
        self.clock = clock

    def issue(self) -> str:
        nonce = secrets.token_urlsafe(24)
        self.grants.put_nonce(nonce, epoch(self.clock() + NONCE_LIFETIME))
        return nonce


# ------------------------------------------------------------------ the credential endpoint


def bearer_token(authorization: str | None) -> str:
    """The access token of an ``Authorization: Bearer`` header.

    Raises
    ------
    MissingToken
        No header, or another scheme.
    InvalidToken
        ``Bearer`` with nothing usable after it.
    """
    if not authorization:
        raise MissingToken("an access token is required (Authorization: Bearer)")
    scheme, _, token = authorization.strip().partition(" ")
    if scheme.lower() != "bearer":
        raise MissingToken("an access token is required (Authorization: Bearer)")
    token = token.strip()
    if not token or len(token) > _MAX_PARAMETER or " " in token:
        raise InvalidToken("the access token is malformed")
    return token


class CredentialService:
    """The credential endpoint: a proof of the holder's key in, an SD-JWT VC out."""

    def __init__(
        self,
        endpoints: IssuerEndpoints,
        grants: GrantRecords,
        enrolments: EnrolmentRecords,
        statuses: StatusRegistry,
        keys: SigningKeySet,
        clock: Callable[[], datetime],
    ) -> None:
        self.endpoints = endpoints
        self.grants = grants
        self.enrolments = enrolments
        self.statuses = statuses
        self.keys = keys
        self.clock = clock

    def access(self, authorization: str | None) -> AccessToken:
        """The grant behind the request's access token.

        Raises
        ------
        MissingToken, InvalidToken
            ``401``.
        """
        token = bearer_token(authorization)
        grant = self.grants.get_token(token, self.clock())
        if grant is None:
            raise InvalidToken("the access token is unknown or expired")
        return grant

    def issue(self, grant: AccessToken, request: Any) -> dict[str, Any]:
        """The credential response for a credential request (its parsed JSON body).

        Raises
        ------
        InvalidCredentialRequest, UnknownCredentialConfiguration, UnknownCredentialIdentifier,
        InvalidProof, InvalidNonce, InvalidEncryptionParameters, CredentialRequestDenied,
        InsufficientScope
            As OpenID4VCI 8.3.1 and RFC 6750 3.1 say.
        """
        if not isinstance(request, dict):
            raise InvalidCredentialRequest("the credential request must be a JSON object")
        self._configuration(grant, request)
        if "credential_response_encryption" in request:
            raise InvalidEncryptionParameters("this issuer does not encrypt credential responses")
        proof = self._proof_of(request)
        now = self.clock()
        holder_jwk, nonce = self._check_proof(proof, grant, now)
        if not self.grants.consume_nonce(nonce, now):
            raise InvalidNonce("the proof's nonce is unknown, expired or used: fetch a new c_nonce")

        enrolment = self.enrolments.get(grant.enrolment_id)
        if enrolment.status != VALID:
            raise CredentialRequestDenied("the enrolment behind this token is not valid")
        reference = self.statuses.allocate(enrolment.enrolment_id, now)
        try:
            self.enrolments.add_credential(enrolment.enrolment_id, reference)
        except Conflict:
            # Revoked or suspended between the read and now: the entry stays unused (VALID, never
            # issued), which is how every unused entry looks.
            raise CredentialRequestDenied("the enrolment behind this token is not valid") from None
        details = enrolment.details
        credential = issue_resident_credential(
            ResidentClaims(
                given_name=details.given_name,
                family_name=details.family_name,
                birthdate=details.birthdate,
                jurisdiction=details.jurisdiction,
                address=details.address,
                resident_since=details.resident_since,
            ),
            issuer=self.endpoints.issuer,
            holder_jwk=holder_jwk,
            status=self.status_claim(reference),
            signer=self.keys.signer(),
            now=issuance_day(now),
            lifetime=CREDENTIAL_LIFETIME,
        )
        return {"credentials": [{"credential": credential}]}

    def status_claim(self, reference: StatusReference) -> dict[str, Any]:
        return {
            "status_list": {
                "idx": reference.idx,
                "uri": self.endpoints.status_list(reference.list_id),
            }
        }

    @staticmethod
    def _configuration(grant: AccessToken, request: dict[str, Any]) -> str:
        identifier = request.get("credential_identifier")
        configuration = request.get("credential_configuration_id")
        if identifier is not None and configuration is not None:
            raise InvalidCredentialRequest(
                "credential_identifier and credential_configuration_id exclude each other"
            )
        if grant.credential_identifiers is not None:
            if identifier is None:
                raise InvalidCredentialRequest(
                    "credential_identifier is required: the token response gave identifiers"
                )
            if identifier not in grant.credential_identifiers:
                raise UnknownCredentialIdentifier("credential_identifier is not one this token has")
            return str(identifier)
        if identifier is not None:
            raise InvalidCredentialRequest(
                "credential_identifier may only be used when the token response gave some"
            )
        if configuration is None:
            raise InvalidCredentialRequest("credential_configuration_id is missing")
        if configuration != RESIDENT_CONFIGURATION_ID:
            raise UnknownCredentialConfiguration(
                "credential_configuration_id is not one of this issuer's"
            )
        if configuration not in grant.configuration_ids:
            raise InsufficientScope("the access token does not cover this credential")
        return str(configuration)

    @staticmethod
    def _proof_of(request: dict[str, Any]) -> str:
        proofs = request.get("proofs")
        if proofs is None:
            raise InvalidProof("proofs is missing: send proofs.jwt with one key proof")
        if not isinstance(proofs, dict) or len(proofs) != 1:
            raise InvalidProof("proofs must hold exactly one proof type")
        if "jwt" not in proofs:
            raise InvalidProof("the only proof type supported is jwt")
        jwts = proofs["jwt"]
        if not isinstance(jwts, list) or not jwts or not all(isinstance(j, str) for j in jwts):
            raise InvalidProof("proofs.jwt must be a non-empty array of JWTs")
        if len(jwts) > 1:
            # No batch_credential_issuance in the metadata: one key, one credential.
            raise InvalidCredentialRequest("batch issuance is not supported: send one proof")
        return jwts[0]

    def _check_proof(
        self, proof: str, grant: AccessToken, now: datetime
    ) -> tuple[dict[str, str], str]:
        """The holder's key and the proof's nonce, once every rule of appendix F.1 holds.

        Raises
        ------
        InvalidProof
            Naming the rule that failed (a nonce that is missing, not a string, or absent).
        """
        try:
            header = unverified_header(proof)
        except VerificationFailed:
            raise InvalidProof("the proof is not a compact JWS") from None
        if header.get("typ") != PROOF_TYP:
            raise InvalidProof(f"the proof's typ must be {PROOF_TYP}")
        if header.get("alg") != SIGNING_ALG:
            raise InvalidProof(f"the proof's alg must be {SIGNING_ALG}")
        if "kid" in header or "x5c" in header:
            raise InvalidProof("the proof must carry the holder's key as jwk (not kid or x5c)")
        jwk = header.get("jwk")
        if not isinstance(jwk, dict):
            raise InvalidProof("the proof's header has no jwk")
        if "d" in jwk:
            raise InvalidProof("the proof's jwk holds a private key")
        try:
            _, payload = verify_jws(proof, jwk, typ=PROOF_TYP)
        except VerificationFailed as exc:
            raise InvalidProof(f"the proof does not verify ({exc.reason})") from None
        if payload.get("aud") != self.endpoints.issuer:
            raise InvalidProof("the proof's aud must be the credential issuer identifier")
        iat = payload.get("iat")
        if isinstance(iat, bool) or not isinstance(iat, int | float):
            raise InvalidProof("the proof's iat must be a number")
        if iat < (now - PROOF_MAX_AGE).timestamp():
            raise InvalidProof("the proof is too old (iat)")
        if iat > (now + PROOF_MAX_AHEAD).timestamp():
            raise InvalidProof("the proof's iat is in the future")
        if "iss" in payload and payload["iss"] != grant.client_id:
            raise InvalidProof(
                "the proof's iss must be the client_id of the token request, and absent for "
                "anonymous access"
            )
        nonce = payload.get("nonce")
        if nonce is None:
            raise InvalidProof("the proof has no nonce: fetch a c_nonce from the nonce endpoint")
        if not isinstance(nonce, str) or len(nonce) > _MAX_PARAMETER:
            raise InvalidNonce("the proof's nonce is not a c_nonce of this issuer")
        try:
            holder = public_jwk(jwk)
        except InvalidInput:
            raise InvalidProof("the proof's jwk is not a P-256 public key") from None
        return holder, nonce


def issuance_day(now: datetime) -> datetime:
    """The start of ``now``'s day in Korea: the ``iat`` (and from it ``exp``) of a credential.

    OpenID4VCI's privacy considerations (15.4.1) advise rounding times in a credential so that
    they do not single out one issuance; a day is what a resident's card shows anyway.
    """
    local = now.astimezone(KST)
    return datetime.combine(local.date(), time(0), tzinfo=KST)
