"""Submitted forms: a confirmed dialogue on its way to a civil servant's decision (issue 11, 4).

A **submission** is written in the same DynamoDB transaction that confirms its session
(:meth:`gyeonggi.forms.sessions.SessionStore.save_confirmed`), so a confirmed form is never
without its record; its id is derived from the session's (``FS-x`` gives ``FA-x``), so the
issuance workflow, named after it, starts once however often it is asked to. Its life:

``received``
    Stored; the ``form-issuance`` workflow is starting.
``awaiting_identity``
    A presentation request (OpenID4VP) waits for the citizen's wallet: ``identity_request``.
``identity_verified``
    The wallet's claims matched the form, or filled what it lacked (``identity``).
``rendered``
    The PDF and JSON are stored, encrypted (``documents``).
``submitted``
    On the civil servants' queue of its jurisdiction (``queue`` = ``<jurisdiction>#submitted``).
``approved`` / ``rejected``
    Decided, once, by a civil servant of that jurisdiction (``decision``); the citizen sees it.
``failed``
    A step failed (``failure``: its step, kind and error). Kind ``identity``: the person did not
    present a credential in time, it did not verify, or it did not match the form. Kind
    ``error``: the system failed; the workflow's input waits on the failure queue and
    ``gyeonggi forms redrive`` restarts it from that step. Never a lost form.

Every write is conditional on the version read (:meth:`SubmissionStore.save`), so two writers
(a workflow step and a civil servant, or two redrives) never overwrite each other.

Retention: a submission holds resident registration numbers, so the table is encrypted with
the stack's ``DataKey`` and items carry a TTL once nothing more can happen to them: five years
after a decision (the province's records of petitions handled), thirty days after an identity
failure (the person never proved who they are; nothing can be issued). A submission waiting
for a person or failed by the system has none: it must not disappear before it is handled.
"""

from __future__ import annotations

import base64
import json
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime, timedelta
from typing import Any, Literal, Protocol

from gyeonggi.common.aws import DynamoTable
from gyeonggi.common.errors import Conflict, InvalidInput, NotFound

State = Literal[
    "received",
    "awaiting_identity",
    "identity_verified",
    "rendered",
    "submitted",
    "approved",
    "rejected",
    "failed",
]
STATES: tuple[State, ...] = (
    "received",
    "awaiting_identity",
    "identity_verified",
    "rendered",
    "submitted",
    "approved",
    "rejected",
    "failed",
)
DECIDED: frozenset[str] = frozenset({"approved", "rejected"})
#: The states a civil servant sees: on the queue, or decided.
QUEUED: frozenset[str] = frozenset({"submitted", *DECIDED})
FailureKind = Literal["identity", "error"]
#: The workflow's steps, in order (``start`` is the dialogue function starting it).
STEPS = ("start", "request_identity", "check_identity", "reconcile", "render", "queue")

SUBMISSION_ID = re.compile(r"FA-[A-Za-z0-9_-]{22}")
#: How long a decided submission is kept (then DynamoDB's TTL deletes it).
DECIDED_RETENTION = timedelta(days=5 * 365 + 1)
#: How long a submission whose identity check failed is kept (a redrive's window).
IDENTITY_FAILURE_RETENTION = timedelta(days=30)
QUEUE_INDEX = "by-queue"
STATE_INDEX = "by-state"


class SubmissionConflict(Conflict):
    """The submission changed since it was read, or is in a state that forbids the change."""

    code = "submission_conflict"


def submission_id_for(session_id: str) -> str:
    """The submission of a session: ``FS-x`` gives ``FA-x`` (one submission per session)."""
    if not session_id.startswith("FS-"):
        raise ValueError("not a form session id")
    return "FA-" + session_id[3:]


# ---------------------------------------------------------------------------- the model


@dataclass(frozen=True, slots=True)
class IdentityRequest:
    """The presentation request the citizen's wallet answers.

    Attributes
    ----------
    request_id
        The verifier's request id (the identity-check task reads its result by it).
    request_uri
        The ``openid4vp://`` URI the wallet opens (shown to the citizen, as a QR code too).
    expires_at
        When the request can no longer be answered.
    execution
        The workflow execution that made it: a retry of that step reuses it.
    claims
        The claims asked for (names only): what the form needs and nothing more.
    """

    request_id: str
    request_uri: str
    expires_at: datetime
    execution: str
    claims: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class VerifiedIdentity:
    """What the wallet proved, and what it did to the form.

    Attributes
    ----------
    verified_at
        When the wallet's answer was verified.
    issuer
        The credential's issuer (one the verifier trusts).
    matched
        Fields whose value the verified claims confirmed (a name, an RRN's birth date).
    filled
        Fields that were empty and were filled from the claims.
    """

    verified_at: datetime
    issuer: str
    matched: tuple[str, ...]
    filled: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class Documents:
    """Where the rendered form is (S3 keys): the civil servant's copy (PDF and JSON, RRNs in
    full) and the citizen's (PDF, RRNs masked)."""

    official_pdf: str
    official_json: str
    citizen_pdf: str
    rendered_at: datetime


@dataclass(frozen=True, slots=True)
class Decision:
    """A civil servant's decision, taken once."""

    decision: Literal["approved", "rejected"]
    reason: str | None
    decided_at: datetime
    decided_by: str  # the official's token ``sub``


@dataclass(frozen=True, slots=True)
class Failure:
    """Why the workflow stopped.

    Attributes
    ----------
    step
        One of :data:`STEPS`: where a redrive starts again.
    kind
        ``identity`` (the person's side: not presented, not verified, not matching) or
        ``error`` (the system's: on the failure queue, paged to the operators).
    error
        The error's name (``IdentityCheckExpired``, ``NoSuchBucket``...).
    reason
        A stable code for an identity failure (``not_presented``, ``name_mismatch``,
        ``revoked``...), shown to the citizen; ``None`` for system errors.
    message
        A short text for operators (RRNs masked); never shown to the citizen.
    at
        When it was recorded.
    execution
        The execution that failed.
    """

    step: str
    kind: FailureKind
    error: str
    reason: str | None
    message: str
    at: datetime
    execution: str | None = None


@dataclass(frozen=True, slots=True)
class Submission:
    """One submitted form and where it is in its life (see the module's docstring)."""

    submission_id: str
    session_id: str
    form_id: str
    form_version: int
    lang: str
    fee_krw: int
    fields: dict[str, Any]
    warnings: dict[str, list[dict[str, str]]]
    owner_kind: str
    owner_hash: str
    key_hash: str | None
    state: State
    created_at: datetime
    updated_at: datetime
    identity_request: IdentityRequest | None = None
    identity: VerifiedIdentity | None = None
    jurisdiction_id: str | None = None
    queued_at: datetime | None = None
    documents: Documents | None = None
    decision: Decision | None = None
    failure: Failure | None = None
    execution: str | None = None
    redrives: int = 0
    expires_at: datetime | None = None
    version: int = field(default=0, compare=False)

    @property
    def queue(self) -> str | None:
        """The civil servants' queue key: ``<jurisdiction>#<state>``, once it is queued."""
        if self.jurisdiction_id and self.state in QUEUED:
            return f"{self.jurisdiction_id}#{self.state}"
        return None

    def moved(self, state: State, now: datetime, **changes: Any) -> Submission:
        """The submission in ``state`` at ``now`` (a failure is cleared unless given)."""
        changes.setdefault("failure", None)
        return replace(self, state=state, updated_at=now, **changes)


# ---------------------------------------------------------------------------- items

_DT = "%Y-%m-%dT%H:%M:%S.%fZ"


def _iso(moment: datetime) -> str:
    # One fixed width, in UTC: index range keys sort as text.
    return moment.astimezone(UTC).strftime(_DT)


def _from_iso(text: Any) -> datetime:
    return datetime.strptime(str(text), _DT).replace(tzinfo=UTC)


def _json_text(value: Any) -> str:
    return json.dumps(value, ensure_ascii=False, separators=(",", ":"), sort_keys=True)


def _identity_request_json(r: IdentityRequest) -> dict[str, Any]:
    return {
        "request_id": r.request_id,
        "request_uri": r.request_uri,
        "expires_at": _iso(r.expires_at),
        "execution": r.execution,
        "claims": list(r.claims),
    }


def _identity_json(i: VerifiedIdentity) -> dict[str, Any]:
    return {
        "verified_at": _iso(i.verified_at),
        "issuer": i.issuer,
        "matched": list(i.matched),
        "filled": list(i.filled),
    }


def _documents_json(d: Documents) -> dict[str, Any]:
    return {
        "official_pdf": d.official_pdf,
        "official_json": d.official_json,
        "citizen_pdf": d.citizen_pdf,
        "rendered_at": _iso(d.rendered_at),
    }


def _decision_json(d: Decision) -> dict[str, Any]:
    return {
        "decision": d.decision,
        "reason": d.reason,
        "decided_at": _iso(d.decided_at),
        "decided_by": d.decided_by,
    }


def _failure_json(f: Failure) -> dict[str, Any]:
    return {
        "step": f.step,
        "kind": f.kind,
        "error": f.error,
        "reason": f.reason,
        "message": f.message,
        "at": _iso(f.at),
        "execution": f.execution,
    }


def to_item(s: Submission) -> dict[str, Any]:
    """The DynamoDB item of a submission (nested parts as JSON text: read back as written)."""
    item: dict[str, Any] = {
        "submission_id": s.submission_id,
        "session_id": s.session_id,
        "form_id": s.form_id,
        "form_version": s.form_version,
        "lang": s.lang,
        "fee_krw": s.fee_krw,
        "fields": _json_text(s.fields),
        "warnings": _json_text(s.warnings),
        "owner_kind": s.owner_kind,
        "owner_hash": s.owner_hash,
        "state": s.state,
        "created_at": _iso(s.created_at),
        "updated_at": _iso(s.updated_at),
        "redrives": s.redrives,
        "version": s.version,
    }
    optional: dict[str, Any] = {
        "key_hash": s.key_hash,
        "identity_request": s.identity_request
        and _json_text(_identity_request_json(s.identity_request)),
        "identity": s.identity and _json_text(_identity_json(s.identity)),
        "jurisdiction_id": s.jurisdiction_id,
        "queue": s.queue,
        "queued_at": s.queued_at and _iso(s.queued_at),
        "documents": s.documents and _json_text(_documents_json(s.documents)),
        "decision": s.decision and _json_text(_decision_json(s.decision)),
        "failure": s.failure and _json_text(_failure_json(s.failure)),
        "execution": s.execution,
        # DynamoDB's TTL attribute: epoch seconds.
        "ttl": s.expires_at and int(s.expires_at.timestamp()),
    }
    item.update({k: v for k, v in optional.items() if v is not None})
    return item


def from_item(item: Mapping[str, Any]) -> Submission:
    """A submission from its item (the inverse of :func:`to_item`)."""

    def part(name: str) -> Any:
        raw = item.get(name)
        return json.loads(str(raw)) if raw is not None else None

    request = part("identity_request")
    identity = part("identity")
    documents = part("documents")
    decision = part("decision")
    failure = part("failure")
    return Submission(
        submission_id=str(item["submission_id"]),
        session_id=str(item["session_id"]),
        form_id=str(item["form_id"]),
        form_version=int(item["form_version"]),
        lang=str(item["lang"]),
        fee_krw=int(item["fee_krw"]),
        fields=json.loads(str(item["fields"])),
        warnings=json.loads(str(item["warnings"])),
        owner_kind=str(item["owner_kind"]),
        owner_hash=str(item["owner_hash"]),
        key_hash=str(item["key_hash"]) if "key_hash" in item else None,
        state=item["state"],
        created_at=_from_iso(item["created_at"]),
        updated_at=_from_iso(item["updated_at"]),
        identity_request=IdentityRequest(
            request["request_id"],
            request["request_uri"],
            _from_iso(request["expires_at"]),
            request["execution"],
            tuple(request["claims"]),
        )
        if request
        else None,
        identity=VerifiedIdentity(
            _from_iso(identity["verified_at"]),
            identity["issuer"],
            tuple(identity["matched"]),
            tuple(identity["filled"]),
        )
        if identity
        else None,
        jurisdiction_id=str(item["jurisdiction_id"]) if "jurisdiction_id" in item else None,
        queued_at=_from_iso(item["queued_at"]) if "queued_at" in item else None,
        documents=Documents(
            documents["official_pdf"],
            documents["official_json"],
            documents["citizen_pdf"],
            _from_iso(documents["rendered_at"]),
        )
        if documents
        else None,
        decision=Decision(
            decision["decision"],
            decision["reason"],
            _from_iso(decision["decided_at"]),
            decision["decided_by"],
        )
        if decision
        else None,
        failure=Failure(
            failure["step"],
            failure["kind"],
            failure["error"],
            failure["reason"],
            failure["message"],
            _from_iso(failure["at"]),
            failure.get("execution"),
        )
        if failure
        else None,
        execution=str(item["execution"]) if "execution" in item else None,
        redrives=int(item.get("redrives", 0)),
        expires_at=datetime.fromtimestamp(int(item["ttl"]), UTC) if "ttl" in item else None,
        version=int(item["version"]),
    )


# ---------------------------------------------------------------------------- pages


@dataclass(frozen=True, slots=True)
class Page:
    """One page of a list, and where the next one starts (``None`` on the last)."""

    submissions: list[Submission]
    after: str | None


def encode_cursor(key: Mapping[str, Any] | None) -> str | None:
    """DynamoDB's ``LastEvaluatedKey`` as an opaque ``after`` (base64url JSON)."""
    if not key:
        return None
    raw = json.dumps({k: str(v) for k, v in sorted(key.items())}, separators=(",", ":"))
    return base64.urlsafe_b64encode(raw.encode()).decode().rstrip("=")


def decode_cursor(after: str | None, keys: frozenset[str], partition: tuple[str, str]) -> Any:
    """The ``ExclusiveStartKey`` of ``after``, which must hold exactly ``keys`` as strings and
    belong to the partition queried (``(name, value)``): a cursor is a position, not a filter.

    Raises
    ------
    InvalidInput
        Naming ``after``.
    """
    if after is None:
        return None
    wrong = InvalidInput("after: is not a cursor of this list", field="after")
    if len(after) > 1024:
        raise wrong
    try:
        padded = after + "=" * (-len(after) % 4)
        data = json.loads(base64.urlsafe_b64decode(padded.encode("ascii")))
    except (ValueError, UnicodeError):
        raise wrong from None
    if not isinstance(data, dict) or set(data) != keys:
        raise wrong
    if not all(isinstance(v, str) and v for v in data.values()):
        raise wrong
    if data[partition[0]] != partition[1]:
        raise wrong
    return data


# ---------------------------------------------------------------------------- the store


class SubmissionStore(Protocol):
    """Where submissions are kept (DynamoDB in AWS; a dictionary in tests)."""

    def create(self, submission: Submission) -> None:
        """Store a new submission.

        Raises
        ------
        SubmissionConflict
            One with this id exists.
        """
        ...

    def get(self, submission_id: str) -> Submission:
        """The submission (strongly consistent).

        Raises
        ------
        NotFound
            No such submission.
        """
        ...

    def save(self, submission: Submission) -> Submission:
        """Write ``submission`` over the version it was read at; returns it as stored (its
        version one higher).

        Raises
        ------
        SubmissionConflict
            Another write came first.
        """
        ...

    def queue(self, jurisdiction_id: str, state: str, limit: int, after: str | None) -> Page:
        """One jurisdiction's submissions in ``state`` (queued ones), oldest first.

        Raises
        ------
        InvalidInput
            ``after`` is not a cursor of this list.
        """
        ...

    def in_state(
        self,
        state: str,
        limit: int,
        after: str | None,
        jurisdictions: frozenset[str] | None = None,
    ) -> Page:
        """Submissions in ``state`` (of ``jurisdictions`` only, if given), least recently
        changed first. A page may hold fewer than ``limit`` when filtered; ``after`` says
        whether to go on.

        Raises
        ------
        InvalidInput
            ``after`` is not a cursor of this list.
        """
        ...


def update(
    store: SubmissionStore,
    submission_id: str,
    change: Callable[[Submission], Submission],
    attempts: int = 5,
) -> Submission:
    """Apply ``change`` with optimistic retries; returns the submission as stored.

    ``change`` returning its argument writes nothing. A :class:`SubmissionConflict` it raises
    is its verdict on the submission (not retried); only a write that lost to a concurrent one
    is retried.
    """
    for attempt in range(attempts):
        current = store.get(submission_id)
        changed = change(current)
        if changed is current:
            return current
        try:
            return store.save(changed)
        except SubmissionConflict:
            if attempt == attempts - 1:
                raise
    raise AssertionError("unreachable")


_QUEUE_KEYS = frozenset({"submission_id", "queue", "queued_at"})
_STATE_KEYS = frozenset({"submission_id", "state", "updated_at"})


class DynamoSubmissionStore(DynamoTable):
    """Submissions in ``FormSubmissionsTable`` (key ``submission_id``; indexes ``by-queue``:
    ``queue`` + ``queued_at``, and ``by-state``: ``state`` + ``updated_at``; TTL ``ttl``)."""

    def _conflict(self, exc: Exception) -> bool:
        return bool(
            getattr(exc, "response", {}).get("Error", {}).get("Code")
            == "ConditionalCheckFailedException"
        )

    def create(self, submission: Submission) -> None:
        from botocore.exceptions import ClientError

        try:
            self.table.put_item(
                Item=to_item(replace(submission, version=1)),
                ConditionExpression="attribute_not_exists(submission_id)",
            )
        except ClientError as exc:
            if self._conflict(exc):
                raise SubmissionConflict(f"submission {submission.submission_id} exists") from None
            raise

    def get(self, submission_id: str) -> Submission:
        if not SUBMISSION_ID.fullmatch(submission_id):
            raise NotFound("no such submission")
        item = self.table.get_item(Key={"submission_id": submission_id}, ConsistentRead=True).get(
            "Item"
        )
        if item is None:
            raise NotFound("no such submission")
        return from_item(item)

    def save(self, submission: Submission) -> Submission:
        from botocore.exceptions import ClientError

        stored = replace(submission, version=submission.version + 1)
        try:
            self.table.put_item(
                Item=to_item(stored),
                ConditionExpression="#v = :expected",
                ExpressionAttributeNames={"#v": "version"},
                ExpressionAttributeValues={":expected": submission.version},
            )
        except ClientError as exc:
            if self._conflict(exc):
                raise SubmissionConflict(
                    f"submission {submission.submission_id} changed meanwhile"
                ) from None
            raise
        return stored

    def queue(self, jurisdiction_id: str, state: str, limit: int, after: str | None) -> Page:
        from boto3.dynamodb.conditions import Key

        partition = f"{jurisdiction_id}#{state}"
        args: dict[str, Any] = {
            "IndexName": QUEUE_INDEX,
            "KeyConditionExpression": Key("queue").eq(partition),
            "Limit": limit,
            "ScanIndexForward": True,
        }
        start = decode_cursor(after, _QUEUE_KEYS, ("queue", partition))
        if start:
            args["ExclusiveStartKey"] = start
        return self._page(args)

    def in_state(
        self,
        state: str,
        limit: int,
        after: str | None,
        jurisdictions: frozenset[str] | None = None,
    ) -> Page:
        from boto3.dynamodb.conditions import Attr, Key

        args: dict[str, Any] = {
            "IndexName": STATE_INDEX,
            "KeyConditionExpression": Key("state").eq(state),
            "Limit": limit,
            "ScanIndexForward": True,
        }
        if jurisdictions is not None:
            if not jurisdictions:
                return Page([], None)
            args["FilterExpression"] = Attr("jurisdiction_id").is_in(sorted(jurisdictions))
        start = decode_cursor(after, _STATE_KEYS, ("state", state))
        if start:
            args["ExclusiveStartKey"] = start
        return self._page(args)

    def _page(self, args: dict[str, Any]) -> Page:
        answer = self.table.query(**args)
        ids = [str(i["submission_id"]) for i in answer.get("Items", [])]
        # The indexes project keys only (they would otherwise copy every RRN): the items
        # themselves are read in one batch, strongly consistent as the table is.
        found = self._batch(ids)
        return Page(
            [found[i] for i in ids if i in found], encode_cursor(answer.get("LastEvaluatedKey"))
        )

    def _batch(self, ids: list[str]) -> dict[str, Submission]:
        if not ids:
            return {}
        name = self.table.name
        # The resource's client: it (de)serializes items as the table does.
        dynamodb = self.table.meta.client
        request: dict[str, Any] = {
            name: {"Keys": [{"submission_id": i} for i in ids], "ConsistentRead": True}
        }
        out: dict[str, Submission] = {}
        for _ in range(10):  # unprocessed keys are retried, a bounded number of times
            answer = dynamodb.batch_get_item(RequestItems=request)
            for item in answer.get("Responses", {}).get(name, []):
                submission = from_item(item)
                out[submission.submission_id] = submission
            request = answer.get("UnprocessedKeys") or {}
            if not request:
                break
        return out
