"""OpenID4VP presentation requests: their life from a civil servant's ``POST`` to one answer.

A request is created for a DCQL query with a fresh ``nonce`` and a ``request_id`` that is also
its OpenID4VP ``state`` (OpenID4VP 1.0, 14.3: the reference design's request-id, 128 random
bits). It is *pending* until the wallet's ``direct_post`` answer is recorded, and it takes
exactly one answer: recording one is a conditional write on "not answered and not expired",
so the nonce is used once and a replayed response finds the request already answered. A
request nobody answered is *expired* after its lifetime; its item is deleted by DynamoDB's
TTL a while later (``keep_until``), and an answered one likewise after the result's retention.

What is kept of a verified presentation is only what the query asked for (the claims at the
requested paths, the issuer and the type); never the holder key, the status index, the
presentation itself or a claim that was not asked for.
"""

from __future__ import annotations

import json
import secrets
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime, timedelta
from enum import StrEnum
from typing import Any, Protocol

from gyeonggi.common.aws import DynamoTable
from gyeonggi.common.errors import Conflict, DomainError, InvalidInput, NotFound

#: Random bytes of a request id (the OpenID4VP ``state``): 128 bits, as the spec recommends.
REQUEST_ID_BYTES = 16
#: Random bytes of a nonce: 256 bits (the spec asks for at least 128).
NONCE_BYTES = 32
#: A request id is base64url: the spec allows only URL-safe characters in ``state``.
REQUEST_ID_CHARS = frozenset("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_")
#: Length of a request id as made here (``secrets.token_urlsafe(16)``).
REQUEST_ID_LENGTH = 22


class RequestStatus(StrEnum):
    """Where a presentation request is in its life."""

    PENDING = "pending"
    VERIFIED = "verified"
    FAILED = "failed"
    EXPIRED = "expired"


class PresentationRejected(InvalidInput):
    """A response that cannot be accepted, for a reason the verifier (not the SD-JWT core)
    names: the VP Token's shape, the DCQL query, trust in the issuer, the status list.

    Attributes
    ----------
    reason
        A short stable code (:data:`VERIFIER_REASONS`); a message never holds a claim value.
    """

    code = "presentation_rejected"

    def __init__(self, reason: str, message: str | None = None) -> None:
        if reason not in VERIFIER_REASONS:
            raise ValueError(f"unknown presentation rejection reason {reason!r}")
        super().__init__(message or VERIFIER_REASONS[reason])
        self.reason = reason


#: The verifier's own reason codes, beside the core's (``gyeonggi.wallet.errors.REASONS``).
VERIFIER_REASONS: Mapping[str, str] = {
    "wallet_error": "the wallet answered with an error instead of a presentation",
    "vp_token_missing": "the response has no vp_token",
    "vp_token_malformed": "the vp_token is not a JSON object of arrays of presentations",
    "vp_token_unknown_query": "the vp_token answers a credential query the request did not make",
    "vp_token_multiple": "the vp_token has several presentations where the query allows one",
    "dcql_unsatisfied": "the presentations do not satisfy the request's DCQL query",
    "credential_query_mismatch": "a credential does not match the credential query it answers",
    "issuer_untrusted": "the credential's issuer is not one this verifier trusts",
    "issuer_metadata_unavailable": "the issuer's keys could not be fetched or read",
    "status_unavailable": "the credential's status list could not be fetched or read",
}


class AlreadyAnswered(Conflict):
    """The request has had its one answer (a replayed or second response)."""

    code = "already_answered"


class RequestExpired(DomainError):
    """The request's lifetime ended before it was answered."""

    code = "request_expired"


@dataclass(frozen=True)
class VerifiedCredentialClaims:
    """What is kept of one verified presentation: the claims the query asked for.

    Attributes
    ----------
    credential_query_id
        The DCQL credential query it answered.
    issuer, vct
        The credential's issuer and type (both verified).
    claims
        Only the claims at the requested paths, nested as in the credential.
    """

    credential_query_id: str
    issuer: str
    vct: str
    claims: dict[str, Any]

    def to_json(self) -> dict[str, Any]:
        return {"issuer": self.issuer, "vct": self.vct, "claims": self.claims}


@dataclass(frozen=True)
class Outcome:
    """How a request was answered: verified claims, or the reason it failed.

    Attributes
    ----------
    verified
        Whether every check passed and the DCQL query is satisfied.
    credentials
        The verified credentials' requested claims (empty when it failed).
    reason, message
        Why it failed: a stable code and a sentence (never a claim value).
    discarded_claims
        Claims the wallet disclosed beyond the query, dropped unread (a count, no names).
    """

    verified: bool
    credentials: tuple[VerifiedCredentialClaims, ...] = ()
    reason: str | None = None
    message: str | None = None
    discarded_claims: int = 0

    @classmethod
    def failed(cls, reason: str, message: str) -> Outcome:
        return cls(verified=False, reason=reason, message=message)

    def to_json(self) -> dict[str, Any]:
        if not self.verified:
            return {"verified": False, "reason": self.reason, "message": self.message}
        by_query: dict[str, list[dict[str, Any]]] = {}
        for credential in self.credentials:
            by_query.setdefault(credential.credential_query_id, []).append(credential.to_json())
        return {
            "verified": True,
            "credentials": by_query,
            "discarded_claims": self.discarded_claims,
        }

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> Outcome:
        if not data.get("verified"):
            return cls.failed(str(data.get("reason")), str(data.get("message")))
        credentials = tuple(
            VerifiedCredentialClaims(query_id, c["issuer"], c["vct"], c["claims"])
            for query_id, items in data.get("credentials", {}).items()
            for c in items
        )
        return cls(True, credentials, discarded_claims=int(data.get("discarded_claims", 0)))


@dataclass(frozen=True)
class PresentationRequest:
    """One OpenID4VP authorization request and, once answered, its outcome.

    Attributes
    ----------
    request_id
        Random, URL-safe; also the request's ``state``, which the wallet sends back.
    nonce
        Random; the KB-JWT of every presentation must carry it.
    client_id
        The verifier's full client identifier (with its prefix): the KB-JWT's ``aud``.
    request_uri
        Where the wallet fetches the signed request object (``https``).
    response_uri
        Where the wallet posts its answer (``direct_post``).
    dcql_query
        The DCQL query as accepted.
    purpose
        Why the credential is asked for, shown to the person; optional.
    created_by
        The official who created it (the token's ``sub``): only they read the result.
    """

    request_id: str
    nonce: str
    client_id: str
    request_uri: str
    response_uri: str
    dcql_query: dict[str, Any]
    purpose: str | None
    created_by: str
    created_at: datetime
    expires_at: datetime
    answered_at: datetime | None = None
    outcome: Outcome | None = field(default=None)

    def status(self, now: datetime) -> RequestStatus:
        """Where the request is at ``now``."""
        if self.outcome is not None:
            return RequestStatus.VERIFIED if self.outcome.verified else RequestStatus.FAILED
        if now >= self.expires_at:
            return RequestStatus.EXPIRED
        return RequestStatus.PENDING

    def answered(self, outcome: Outcome, at: datetime) -> PresentationRequest:
        return replace(self, outcome=outcome, answered_at=at)


def new_request_id() -> str:
    """A fresh request id (also the OpenID4VP ``state``): 128 random bits, base64url."""
    return secrets.token_urlsafe(REQUEST_ID_BYTES)


def new_nonce() -> str:
    """A fresh nonce: 256 random bits, base64url (only URL-safe characters, as OpenID4VP asks)."""
    return secrets.token_urlsafe(NONCE_BYTES)


def is_request_id(value: str) -> bool:
    """Whether ``value`` could be a request id made here (checked before any store read)."""
    return len(value) == REQUEST_ID_LENGTH and set(value) <= REQUEST_ID_CHARS


# ---------------------------------------------------------------------- the store


class PresentationRequests(Protocol):
    """Where presentation requests live (DynamoDB in AWS, a dict in unit tests)."""

    def create(self, request: PresentationRequest, *, keep_until: datetime) -> None:
        """Store a new request; it may be deleted after ``keep_until``.

        Raises
        ------
        Conflict
            A request with this id exists (ids are random: never in practice).
        """
        ...

    def get(self, request_id: str) -> PresentationRequest:
        """The request.

        Raises
        ------
        NotFound
            No such request, or it has been deleted after its retention.
        """
        ...

    def answer(
        self, request_id: str, outcome: Outcome, *, at: datetime, keep_until: datetime
    ) -> PresentationRequest:
        """Record the request's one answer, if it is pending at ``at``.

        Raises
        ------
        AlreadyAnswered
            It has an answer already (the nonce is used once).
        RequestExpired
            Its lifetime ended before ``at``.
        NotFound
            No such request.
        """
        ...


def _epoch(moment: datetime) -> int:
    return int(moment.timestamp())


def _from_epoch(seconds: Any) -> datetime:
    return datetime.fromtimestamp(int(seconds), UTC)


class PresentationRequestStore(DynamoTable):
    """Presentation requests in ``PresentationRequestsTable`` (key ``request_id``).

    The DCQL query and the outcome are stored as JSON text: a query may hold numbers
    DynamoDB would turn into decimals, and the outcome's claims are read back as they were
    written. The table is encrypted with the stack's ``DataKey`` (outcomes hold personal
    claims); ``ttl`` is its TTL attribute.
    """

    def create(self, request: PresentationRequest, *, keep_until: datetime) -> None:
        item: dict[str, Any] = {
            "request_id": request.request_id,
            "nonce": request.nonce,
            "client_id": request.client_id,
            "request_uri": request.request_uri,
            "response_uri": request.response_uri,
            "dcql_query": json.dumps(request.dcql_query, separators=(",", ":")),
            "created_by": request.created_by,
            "created_at": _epoch(request.created_at),
            "expires_at": _epoch(request.expires_at),
            "ttl": _epoch(keep_until),
        }
        if request.purpose is not None:
            item["purpose"] = request.purpose
        try:
            self.table.put_item(Item=item, ConditionExpression="attribute_not_exists(request_id)")
        except self.table.meta.client.exceptions.ConditionalCheckFailedException:
            raise Conflict(f"presentation request {request.request_id} exists") from None

    def get(self, request_id: str) -> PresentationRequest:
        # Strongly consistent: the official reads the answer the wallet just posted.
        item = self.table.get_item(Key={"request_id": request_id}, ConsistentRead=True).get("Item")
        if item is None:
            raise NotFound(f"no presentation request {request_id}")
        return _from_item(item)

    def answer(
        self, request_id: str, outcome: Outcome, *, at: datetime, keep_until: datetime
    ) -> PresentationRequest:
        client = self.table.meta.client
        try:
            updated = self.table.update_item(
                Key={"request_id": request_id},
                UpdateExpression="SET answered_at = :at, outcome = :outcome, #ttl = :ttl",
                ConditionExpression=(
                    "attribute_exists(request_id) AND attribute_not_exists(answered_at) "
                    "AND expires_at > :at"
                ),
                ExpressionAttributeNames={"#ttl": "ttl"},
                ExpressionAttributeValues={
                    ":at": _epoch(at),
                    ":outcome": json.dumps(outcome.to_json(), separators=(",", ":")),
                    ":ttl": _epoch(keep_until),
                },
                ReturnValues="ALL_NEW",
                ReturnValuesOnConditionCheckFailure="ALL_OLD",
            )
        except client.exceptions.ConditionalCheckFailedException as exc:
            old = getattr(exc, "response", {}).get("Item")
            raise _why_not_answered(request_id, old) from None
        return _from_item(updated["Attributes"])


def _why_not_answered(request_id: str, old: Mapping[str, Any] | None) -> DomainError:
    if not old:
        return NotFound(f"no presentation request {request_id}")
    if "answered_at" in old:
        return AlreadyAnswered(f"presentation request {request_id} has been answered already")
    return RequestExpired(f"presentation request {request_id} has expired")


def _from_item(item: Mapping[str, Any]) -> PresentationRequest:
    # Low-level items (ReturnValuesOnConditionCheckFailure) never reach here: only the
    # resource API's plain values.
    outcome = item.get("outcome")
    return PresentationRequest(
        request_id=str(item["request_id"]),
        nonce=str(item["nonce"]),
        client_id=str(item["client_id"]),
        request_uri=str(item["request_uri"]),
        response_uri=str(item["response_uri"]),
        dcql_query=json.loads(str(item["dcql_query"])),
        purpose=str(item["purpose"]) if "purpose" in item else None,
        created_by=str(item["created_by"]),
        created_at=_from_epoch(item["created_at"]),
        expires_at=_from_epoch(item["expires_at"]),
        answered_at=_from_epoch(item["answered_at"]) if "answered_at" in item else None,
        outcome=Outcome.from_json(json.loads(str(outcome))) if outcome else None,
    )


def keep_until(moment: datetime, retention: timedelta) -> datetime:
    """When an item may be deleted: ``retention`` after ``moment`` (its expiry or answer)."""
    return moment + retention
