"""The OpenID4VP verifier: create a request, serve its request object, take the one answer.

:class:`Verifier` holds the ports (the request store, the request-object signer, the issuers'
keys, the status lists) and does what the three endpoints of ``functions/wallet_verifier`` and
the identity-check task ask; it knows nothing of HTTP beyond the form the wallet posts.

Verifying an answer (OpenID4VP 1.0, 8.6 "VP Token Validation", in order):

1. the ``state`` names a pending request (an unknown one is refused without touching any);
2. a wallet's error answer is recorded as the request's failure (``wallet_error``);
3. ``vp_token`` is a JSON object whose keys are credential query ids of the request and whose
   values are non-empty arrays of presentations (one, unless the query says ``multiple``);
4. every presentation passes the core's ``verify_presentation``: RFC 9901 and SD-JWT VC, key
   binding required, KB-JWT ``nonce`` = the request's nonce, ``aud`` = the full client id,
   the issuer trusted, the status list consulted; a presentation that fails is discarded;
5. each remaining credential matches the credential query it answers (``vct``, the claims
   asked for, their ``values``), else it is discarded too;
6. the answered queries satisfy the DCQL query (``credential_sets``, or every query);
7. the outcome is written with a condition that the request is still pending and unexpired:
   the nonce is used once, and a replay (or a second answer) is refused.

Only the claims the query asked for are kept (:func:`requested_claims`); anything else the
wallet disclosed is dropped unread and only counted. Nothing is logged here: the function logs
outcomes and reason codes (never a claim value).
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from gyeonggi.common.errors import InvalidInput, NotFound
from gyeonggi.common.text import single_line
from gyeonggi.wallet.errors import VerificationFailed
from gyeonggi.wallet.presentation_requests import (
    AlreadyAnswered,
    Outcome,
    PresentationRejected,
    PresentationRequest,
    PresentationRequests,
    RequestExpired,
    RequestStatus,
    VerifiedCredentialClaims,
    is_request_id,
    new_nonce,
    new_request_id,
)
from gyeonggi.wallet.request_objects import RequestObjectSigner, authorization_request_uri

#: Where the wallet fetches a request object and posts its answer, under the API's base URL.
REQUEST_OBJECT_PATH = "/verifier/request-objects/{request_id}"
RESPONSE_PATH = "/verifier/responses"
#: The longest ``purpose`` shown to the person (OpenID4VCI's ``tx_code`` description has 300).
MAX_PURPOSE = 300
#: The largest DCQL query accepted, as JSON: the request object must stay small enough for
#: KMS to sign as a raw message and for wallets to fetch quickly.
MAX_QUERY_BYTES = 4096
#: Presentations in one response at most (a query asks for at most 16 credentials).
MAX_PRESENTATIONS = 16
#: Claims of an SD-JWT VC that are not about the person: never counted as discarded.
_METADATA_CLAIMS = frozenset(
    {"iss", "sub", "iat", "nbf", "exp", "cnf", "vct", "vct#integrity", "status", "aka_vcts"}
)

ClaimPath = tuple[str | int | None, ...]
IssuerKeys = Callable[[str, str], Mapping[str, str]]
StatusOf = Callable[[str, int], int]


@dataclass(frozen=True)
class CreatedRequest:
    """A new request and what the official shows the person (the URI, as a QR code too)."""

    request: PresentationRequest
    authorization_uri: str


@dataclass(frozen=True)
class Received:
    """What became of a wallet's answer."""

    request_id: str
    outcome: Outcome


class Verifier:
    """The OpenID4VP verifier's use cases over its ports.

    Parameters
    ----------
    requests
        The presentation requests' store.
    signer
        Signs request objects and names the client id (``x509_hash:...``).
    issuer_keys
        ``(iss, kid) -> jwk`` of the trusted issuers.
    status_of
        ``(uri, idx) -> status`` from the issuers' status lists.
    lifetime
        How long a request may be answered.
    retention
        How long a request is kept after it expired or was answered (then DynamoDB's TTL
        deletes it): the identity check reads the result within it.
    """

    def __init__(
        self,
        requests: PresentationRequests,
        signer: RequestObjectSigner,
        issuer_keys: IssuerKeys,
        status_of: StatusOf,
        *,
        lifetime: timedelta = timedelta(minutes=10),
        retention: timedelta = timedelta(hours=1),
        max_kb_age: timedelta = timedelta(minutes=5),
    ) -> None:
        self.requests = requests
        self.signer = signer
        self.issuer_keys = issuer_keys
        self.status_of = status_of
        self.lifetime = lifetime
        self.retention = retention
        self.max_kb_age = max_kb_age

    # ------------------------------------------------------------------ creating

    def create(
        self,
        body: Any,
        *,
        created_by: str,
        base_url: str,
        now: datetime,
    ) -> CreatedRequest:
        """A new request for the DCQL query in ``body`` (``{"dcql_query": ..., "purpose"?}``).

        Raises
        ------
        InvalidInput
            The body or its query, naming what is wrong.
        """
        query, purpose = parse_request_body(body)
        moment = now.replace(microsecond=0)
        request_id = new_request_id()
        base = base_url.rstrip("/")
        request = PresentationRequest(
            request_id=request_id,
            nonce=new_nonce(),
            client_id=self.signer.client_id(moment),
            request_uri=base + REQUEST_OBJECT_PATH.format(request_id=request_id),
            response_uri=base + RESPONSE_PATH,
            dcql_query=query,
            purpose=purpose,
            created_by=created_by,
            created_at=moment,
            expires_at=moment + self.lifetime,
        )
        self.requests.create(request, keep_until=request.expires_at + self.retention)
        return CreatedRequest(
            request, authorization_request_uri(request.client_id, request.request_uri)
        )

    def authorization_uri(self, request: PresentationRequest) -> str:
        return authorization_request_uri(request.client_id, request.request_uri)

    # ------------------------------------------------------------------ reading

    def request_for(self, request_id: str, reader: str) -> PresentationRequest:
        """The request, for the official who created it.

        Raises
        ------
        NotFound
            No such request, or another official's (need to know: its existence is not
            theirs either).
        """
        request = self._get(request_id)
        if request.created_by != reader:
            raise NotFound(f"no presentation request {request_id}")
        return request

    def result(self, request_id: str) -> PresentationRequest:
        """The request, for the identity-check task (trusted by IAM, not by a token)."""
        return self._get(request_id)

    def _get(self, request_id: str) -> PresentationRequest:
        if not is_request_id(request_id):
            raise NotFound(f"no presentation request {request_id[:40]}")
        return self.requests.get(request_id)

    # ------------------------------------------------------------------ the wallet's side

    def request_object(self, request_id: str, now: datetime) -> str:
        """The signed request object the wallet fetches at the request URI.

        Raises
        ------
        NotFound
            No such request, or it is no longer pending (answered or expired): the wallet must
            not start a presentation that cannot be accepted.
        """
        request = self._get(request_id)
        if request.status(now) is not RequestStatus.PENDING:
            raise NotFound(f"presentation request {request_id} is no longer pending")
        if request.client_id != self.signer.client_id(now):
            # The certificate was renewed since: this request's client id is gone.
            raise NotFound(f"presentation request {request_id} was made under another certificate")
        return self.signer.sign(request, now)

    def receive(self, form: Mapping[str, Sequence[str]], now: datetime) -> Received:
        """Take the wallet's ``direct_post`` answer (the form's fields).

        Returns
        -------
        Received
            The recorded outcome: verified claims, or the reason it failed.

        Raises
        ------
        InvalidInput
            No ``state``, or the form repeats a field.
        NotFound
            ``state`` names no request.
        AlreadyAnswered
            The request has had its answer (a replay).
        RequestExpired
            The request's lifetime is over.
        """
        state = _single(form, "state")
        if state is None:
            raise InvalidInput("state: is missing", field="state")
        request = self._get(state)
        if request.status(now) is RequestStatus.EXPIRED:
            raise RequestExpired(f"presentation request {state} has expired")
        if request.outcome is not None:
            raise AlreadyAnswered(f"presentation request {state} has been answered already")
        outcome = self._judge(request, form, now)
        self.requests.answer(request.request_id, outcome, at=now, keep_until=now + self.retention)
        return Received(request.request_id, outcome)

    def _judge(
        self, request: PresentationRequest, form: Mapping[str, Sequence[str]], now: datetime
    ) -> Outcome:
        error = _single(form, "error")
        if error is not None:
            code = error if error.isascii() and error.replace("_", "").isalnum() else "other"
            return Outcome.failed("wallet_error", f"the wallet answered {code[:64]}")
        try:
            return self._verify(request, form, now)
        except PresentationRejected as rejected:
            return Outcome.failed(rejected.reason, rejected.message)
        except VerificationFailed as failed:
            return Outcome.failed(failed.reason, failed.message)

    def _verify(
        self, request: PresentationRequest, form: Mapping[str, Sequence[str]], now: datetime
    ) -> Outcome:
        from gyeonggi.wallet.credential import verify_presentation
        from gyeonggi.wallet.dcql import credential_sets_met, parse_dcql

        query = parse_dcql(request.dcql_query)
        presentations = parse_vp_token(_single(form, "vp_token"), query)
        kept: list[VerifiedCredentialClaims] = []
        discarded = 0
        first_failure: PresentationRejected | VerificationFailed | None = None
        for query_id, presentation in presentations:
            try:
                credential = verify_presentation(
                    presentation,
                    issuer_jwks=self.issuer_keys,
                    nonce=request.nonce,
                    audience=request.client_id,
                    now=now,
                    max_kb_age=self.max_kb_age,
                    status_of=self.status_of,
                )
                claims, dropped = requested_claims(
                    query, query_id, credential.vct, credential.claims
                )
            except (PresentationRejected, VerificationFailed) as failure:
                # OpenID4VP 1.0, 8.6: a presentation that fails a check is discarded.
                first_failure = first_failure or failure
                continue
            discarded += dropped
            kept.append(
                VerifiedCredentialClaims(query_id, credential.issuer, credential.vct, claims)
            )
        if not credential_sets_met(query, {c.credential_query_id for c in kept}):
            if first_failure is not None:
                raise first_failure
            raise PresentationRejected("dcql_unsatisfied")
        return Outcome(True, tuple(kept), discarded_claims=discarded)


# ---------------------------------------------------------------------- parsing


def parse_request_body(body: Any) -> tuple[dict[str, Any], str | None]:
    """The DCQL query (as the core re-writes it) and the purpose of a create request.

    Raises
    ------
    InvalidInput
        The body is not ``{"dcql_query": {...}, "purpose"?: "..."}``, the query is not valid
        DCQL, asks for a credential without key binding (this verifier requires it), or is
        larger than :data:`MAX_QUERY_BYTES`.
    """
    from gyeonggi.wallet.dcql import parse_dcql

    if not isinstance(body, dict):
        raise InvalidInput("body: must be a JSON object")
    unknown = sorted(set(body) - {"dcql_query", "purpose"})
    if unknown:
        raise InvalidInput(f"{unknown[0]}: is not a field of a presentation request")
    if "dcql_query" not in body:
        raise InvalidInput("dcql_query: is required", field="dcql_query")
    query = parse_dcql(body["dcql_query"])
    for credential in query.credentials:
        if not credential.require_cryptographic_holder_binding:
            raise InvalidInput(
                f"dcql_query: credential query {credential.id} turns key binding off; this "
                "verifier requires it (a presentation without it could be replayed)",
                field="dcql_query",
            )
    normalized = query.as_json()
    if len(json.dumps(normalized, ensure_ascii=False).encode()) > MAX_QUERY_BYTES:
        raise InvalidInput(f"dcql_query: is larger than {MAX_QUERY_BYTES} bytes as JSON")
    purpose = body.get("purpose")
    if purpose is not None:
        if not isinstance(purpose, str) or not purpose.strip():
            raise InvalidInput("purpose: must be text", field="purpose")
        purpose = purpose.strip()
        if len(purpose) > MAX_PURPOSE:
            raise InvalidInput(f"purpose: is longer than {MAX_PURPOSE} characters")
        try:
            single_line(purpose)
        except ValueError as exc:
            raise InvalidInput(f"purpose: {exc}", field="purpose") from None
    return normalized, purpose


def _single(form: Mapping[str, Sequence[str]], name: str) -> str | None:
    values = form.get(name)
    if not values:
        return None
    if len(values) > 1:
        raise InvalidInput(f"{name}: is sent more than once", field=name)
    return values[0]


def parse_vp_token(vp_token: str | None, query: Any) -> list[tuple[str, str]]:
    """``(credential query id, presentation)`` pairs of a ``vp_token`` (OpenID4VP 1.0, 8.1).

    Raises
    ------
    PresentationRejected
        ``vp_token_missing``, ``vp_token_malformed``, ``vp_token_unknown_query`` or
        ``vp_token_multiple``.
    """
    from gyeonggi.common.messages import json_body

    if vp_token is None or not vp_token.strip():
        raise PresentationRejected("vp_token_missing")
    try:
        token = json_body(vp_token, limit=len(vp_token.encode("utf-8")) + 1, what="vp_token")
    except InvalidInput:
        raise PresentationRejected("vp_token_malformed") from None
    if not isinstance(token, dict) or not token:
        raise PresentationRejected("vp_token_malformed")
    known = {c.id: c for c in query.credentials}
    pairs: list[tuple[str, str]] = []
    for query_id, items in token.items():
        if query_id not in known:
            raise PresentationRejected("vp_token_unknown_query")
        if not isinstance(items, list) or not items:
            raise PresentationRejected("vp_token_malformed")
        if len(items) > 1 and not known[query_id].multiple:
            raise PresentationRejected("vp_token_multiple")
        for item in items:
            if not isinstance(item, str) or not item:
                raise PresentationRejected("vp_token_malformed")
            pairs.append((query_id, item))
    if len(pairs) > MAX_PRESENTATIONS:
        raise PresentationRejected(
            "vp_token_malformed", "the vp_token holds too many presentations"
        )
    return pairs


# ---------------------------------------------------------------------- what is kept


def requested_claims(
    query: Any, query_id: str, vct: str, claims: Mapping[str, Any]
) -> tuple[dict[str, Any], int]:
    """The claims of a verified credential the credential query ``query_id`` asked for, and
    how many other claims about the person it disclosed (dropped unread).

    The spec puts selecting on the wallet (OpenID4VP 1.0, 6.4: it MUST NOT send claims that
    were not asked for); the verifier must not rely on that (14.9), so it keeps only the
    requested paths. A wallet that disclosed more is not refused: what it sent is already
    here, and refusing it would not unsend it; it is dropped and counted.

    Raises
    ------
    PresentationRejected
        ``credential_query_mismatch``: the credential's type or claims do not meet that query
        (a wallet answering a query with the wrong credential).
    """
    from gyeonggi.wallet.dcql import DcqlQuery, matches, paths_to_disclose

    single = DcqlQuery((query.credential(query_id),))
    if matches(single, vct, claims) != query_id:
        raise PresentationRejected("credential_query_mismatch")
    paths = paths_to_disclose(query, query_id, claims) or set()
    kept: dict[str, Any] = {}
    for path in paths:
        _copy_path(claims, kept, path)
    personal = {k: v for k, v in claims.items() if k not in _METADATA_CLAIMS}
    kept_personal = {k: v for k, v in kept.items() if k not in _METADATA_CLAIMS}
    return kept, max(0, _count_leaves(personal) - _count_leaves(kept_personal))


def _copy_path(source: Any, target: dict[str, Any], path: Sequence[Any]) -> None:
    """Copy the value at ``path`` (string keys; a number or ``None`` on an array copies the
    whole selected element) from ``source`` into ``target``, keeping the nesting."""
    node_source: Any = source
    node_target: Any = target
    for i, component in enumerate(path):
        if not isinstance(component, str) or not isinstance(node_source, dict):
            # An array step: keep the array as far as it was reached (positions matter).
            return
        if component not in node_source:
            return
        last = i == len(path) - 1 or not isinstance(path[i + 1], str)
        if last:
            node_target[component] = node_source[component]
            return
        node_source = node_source[component]
        node_target = node_target.setdefault(component, {})


def _count_leaves(value: Any) -> int:
    if isinstance(value, dict):
        return sum(_count_leaves(v) for v in value.values())
    if isinstance(value, list):
        return sum(_count_leaves(v) for v in value) or 1
    return 1
