"""Who sees which submitted form, and what they see; the civil servant's decision.

Need to know, as the Personal Information Protection Act asks, with the rules complaints use
(:mod:`gyeonggi.complaints.access`, :mod:`gyeonggi.auth.scopes`):

- a **civil servant** (role ``civil-servant``) sees the submissions of the jurisdictions in
  their token's ``custom:jurisdictions`` (all of them in the ``province`` group), once they are
  on the queue (``submitted``) or decided; lists them (:func:`list_submissions`, a token naming
  no jurisdiction is ``403``, one outside its scope too), reads one with links to the official
  PDF and JSON (RRNs in full: the only place they are) and decides it, once.
  A submission outside their scope, or not on the queue yet, is ``404``: that someone filed a
  form is personal data, unlike a complaint, which Open311 makes public;
- its **owner** (the citizen whose token confirmed the session; a kiosk with the session key
  it was given) reads it: where it is, the presentation request to answer (URI and QR code),
  the decision, and a link to their copy (RRNs masked);
- anyone else gets ``404``.

Views mask every RRN (``YYMMDD-N******``). Every document link given out is the API's to log,
with who asked and why (``jurisdiction`` or ``owner``).
"""

from __future__ import annotations

import hmac
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, Literal, Protocol

from gyeonggi.auth import CIVIL_SERVANT, Principal
from gyeonggi.common.errors import InvalidInput, NotFound
from gyeonggi.common.numbers import whole_number
from gyeonggi.common.privacy import mask_rrn
from gyeonggi.common.text import multi_line
from gyeonggi.complaints import jurisdictions
from gyeonggi.forms.catalogue import Catalogue, Form
from gyeonggi.forms.identity import PERSON
from gyeonggi.forms.sessions import Caller, digest
from gyeonggi.forms.submissions import (
    DECIDED,
    DECIDED_RETENTION,
    QUEUED,
    SUBMISSION_ID,
    Decision,
    Page,
    Submission,
    SubmissionConflict,
    SubmissionStore,
    update,
)
from gyeonggi.forms.validation import describe

DEFAULT_PAGE = 20
MAX_PAGE = 50
MAX_REASON = 500
#: How long a document link lives: the citizen's copy (masked) a quarter of an hour, the
#: civil servant's (RRNs in full) five minutes; each view signs a fresh one.
CITIZEN_LINK_SECONDS = 15 * 60
OFFICIAL_LINK_SECONDS = 5 * 60
LIST_PARAMETERS = frozenset({"state", "jurisdiction_id", "limit", "after"})
Reason = Literal["jurisdiction", "owner"]


class DocumentLinks(Protocol):
    """Short-lived links to stored documents (S3 presigned URLs)."""

    def link(self, key: str, expires_in: int, filename: str) -> str:
        """A link that reads ``key`` for ``expires_in`` seconds."""
        ...


@dataclass(frozen=True, slots=True)
class Readable:
    """A submission its reader may see, and why (``jurisdiction`` or ``owner``)."""

    submission: Submission
    reason: Reason


def owned_by(submission: Submission, caller: Caller) -> bool:
    """Whether ``caller`` owns the submission: the session's owner (constant-time digests)."""
    if caller.kind != submission.owner_kind:
        return False
    if not hmac.compare_digest(digest(caller.subject), submission.owner_hash):
        return False
    if submission.owner_kind == "kiosk":
        if not caller.session_key or not submission.key_hash:
            return False
        return hmac.compare_digest(digest(caller.session_key), submission.key_hash)
    return True


def _visible_to_official(principal: Principal, submission: Submission) -> bool:
    return (
        principal.has_any_role(CIVIL_SERVANT)
        and submission.state in QUEUED
        and submission.jurisdiction_id is not None
        and principal.may_access(submission.jurisdiction_id)
    )


def read_submission(
    store: SubmissionStore,
    submission_id: str,
    principal: Principal,
    owner: Caller | None,
) -> Readable:
    """The submission, if ``principal`` (or the owner ``owner`` it also is) may see it.

    Raises
    ------
    NotFound
        No such submission, or not theirs to see.
    """
    if not SUBMISSION_ID.fullmatch(submission_id):
        raise NotFound("no such submission")
    submission = store.get(submission_id)
    if _visible_to_official(principal, submission):
        return Readable(submission, "jurisdiction")
    if owner is not None and owned_by(submission, owner):
        return Readable(submission, "owner")
    raise NotFound("no such submission")


# ---------------------------------------------------------------------------- the queue


@dataclass(frozen=True, slots=True)
class ListRequest:
    """``GET /forms/submissions``'s query: which state, which jurisdiction, which page."""

    state: str = "submitted"
    jurisdiction_id: str | None = None
    limit: int = DEFAULT_PAGE
    after: str | None = None

    @classmethod
    def parse(cls, params: Mapping[str, str]) -> ListRequest:
        """Read the query string.

        Raises
        ------
        InvalidInput
            An unknown or empty parameter, or a value out of range, naming it.
        NotFound
            A well-formed ``jurisdiction_id`` that is none of the 31.
        """
        unknown = sorted(set(params) - LIST_PARAMETERS)
        if unknown:
            raise InvalidInput(f"{unknown[0]}: is not a parameter of this list", field=unknown[0])
        for name, value in params.items():
            if not value:
                raise InvalidInput(f"{name}: is empty", field=name)
        state = params.get("state", "submitted")
        if state not in QUEUED:
            raise InvalidInput("state: must be submitted, approved or rejected", field="state")
        limit = (
            whole_number(params["limit"], "limit", 1, MAX_PAGE)
            if "limit" in params
            else (DEFAULT_PAGE)
        )
        return cls(
            state, jurisdictions.known(params.get("jurisdiction_id")), limit, params.get("after")
        )


def list_submissions(store: SubmissionStore, principal: Principal, request: ListRequest) -> Page:
    """One page of the queue (or of the decided ones) the civil servant may see.

    With ``jurisdiction_id`` (which must be theirs) or a single jurisdiction in their scope,
    the jurisdiction's queue, oldest first: exact pages. Otherwise (several jurisdictions, or
    the province) the state's index, least recently changed first, filtered to their
    jurisdictions: a page may then hold fewer than ``limit``, and ``after`` says whether to
    go on.

    Raises
    ------
    Forbidden
        The token names no jurisdiction, or ``jurisdiction_id`` is outside it.
    """
    visible = principal.visible_jurisdictions()
    if request.jurisdiction_id is not None:
        principal.require_jurisdiction(request.jurisdiction_id)
        return store.queue(request.jurisdiction_id, request.state, request.limit, request.after)
    if visible is not None and len(visible) == 1:
        (only,) = visible
        return store.queue(only, request.state, request.limit, request.after)
    return store.in_state(request.state, request.limit, request.after, visible)


# ---------------------------------------------------------------------------- decisions


def parse_decision(body: Any) -> tuple[Literal["approved", "rejected"], str | None]:
    """``{"decision": "approved" | "rejected", "reason": ...}``: the reason is required to
    reject (the citizen is told why), optional to approve.

    Raises
    ------
    InvalidInput
        Naming the field that is wrong.
    """
    if not isinstance(body, dict):
        raise InvalidInput("body: must be a JSON object with a decision")
    unknown = sorted(set(body) - {"decision", "reason"})
    if unknown:
        raise InvalidInput(f"{unknown[0]}: is not a field of a decision", field=unknown[0])
    decision = body.get("decision")
    if decision not in ("approved", "rejected"):
        raise InvalidInput('decision: must be "approved" or "rejected"', field="decision")
    reason = body.get("reason")
    if reason is not None:
        if not isinstance(reason, str):
            raise InvalidInput("reason: must be text", field="reason")
        reason = reason.strip()
        if len(reason) > MAX_REASON:
            raise InvalidInput(f"reason: at most {MAX_REASON} characters", field="reason")
        try:
            multi_line(reason)
        except ValueError as exc:
            raise InvalidInput(f"reason: {exc}", field="reason") from None
    if decision == "rejected" and not reason:
        raise InvalidInput(
            "reason: is required to reject (the citizen is told why)", field="reason"
        )
    return ("approved" if decision == "approved" else "rejected"), reason or None


def decide(
    store: SubmissionStore,
    submission_id: str,
    principal: Principal,
    decision: Literal["approved", "rejected"],
    reason: str | None,
    now: datetime,
) -> Submission:
    """Record a civil servant's decision on a submission of their jurisdiction, once.

    Raises
    ------
    NotFound
        Not theirs to see (as :func:`read_submission`).
    SubmissionConflict
        Decided already (``409``): a decision is final.
    """
    read_submission(store, submission_id, principal, None)

    def change(current: Submission) -> Submission:
        if current.state in DECIDED:
            raise SubmissionConflict(f"submission {submission_id} was {current.state} already")
        if current.state != "submitted":
            raise SubmissionConflict(f"submission {submission_id} is {current.state}")
        return current.moved(
            decision,
            now,
            decision=Decision(decision, reason, now, principal.subject),
            expires_at=now + DECIDED_RETENTION,
        )

    return update(store, submission_id, change)


# ---------------------------------------------------------------------------- views


def _iso(moment: datetime | None) -> str | None:
    return moment.isoformat().replace("+00:00", "Z") if moment else None


def masked_fields(form: Form, fields: Mapping[str, Any]) -> dict[str, Any]:
    """The values, RRNs masked."""
    return {
        name: mask_rrn(str(value))
        if form.by_name.get(name) and form.field(name).type == "rrn"
        else value
        for name, value in fields.items()
    }


def _summary(form: Form, fields: Mapping[str, Any], lang: str) -> list[dict[str, Any]]:
    return [
        {"field": f.name, "label": f.label.get(lang), "value": describe(f, fields[f.name], lang)}
        for f in form.fields
        if f.name in fields
    ]


def _filename(submission: Submission, suffix: str) -> str:
    return f"{submission.form_id}-{submission.submission_id}.{suffix}"


def applicant_name(submission: Submission) -> str | None:
    value = submission.fields.get(PERSON[submission.form_id].name)
    return str(value) if value else None


def summary_view(submission: Submission, catalogue: Catalogue) -> dict[str, Any]:
    """A submission as the civil servants' list shows it."""
    form = catalogue[submission.form_id]
    return {
        "submission_id": submission.submission_id,
        "form_id": submission.form_id,
        "form_title": form.title.ko,
        "state": submission.state,
        "jurisdiction_id": submission.jurisdiction_id,
        "applicant_name": applicant_name(submission),
        "queued_at": _iso(submission.queued_at),
        "decision": submission.decision.decision if submission.decision else None,
        "links": {"self": f"/forms/submissions/{submission.submission_id}"},
    }


def official_view(
    submission: Submission, catalogue: Catalogue, links: DocumentLinks, now: datetime
) -> dict[str, Any]:
    """A submission as a civil servant of its jurisdiction reads it: the form (RRNs masked
    here too), what the wallet proved, fresh links to the official PDF and JSON (RRNs in
    full), and the decision."""
    form = catalogue[submission.form_id]
    documents = submission.documents
    identity = submission.identity
    decision = submission.decision
    view = summary_view(submission, catalogue)
    view.update(
        {
            "lang": submission.lang,
            "fee_krw": submission.fee_krw,
            "created_at": _iso(submission.created_at),
            "fields": masked_fields(form, submission.fields),
            "summary": _summary(form, submission.fields, "ko"),
            "warnings": [w["ko"] for ws in submission.warnings.values() for w in ws],
            "identity": None
            if identity is None
            else {
                "verified_at": _iso(identity.verified_at),
                "issuer": identity.issuer,
                "matched": list(identity.matched),
                "filled": list(identity.filled),
            },
            "documents": None
            if documents is None
            else {
                "pdf": links.link(
                    documents.official_pdf, OFFICIAL_LINK_SECONDS, _filename(submission, "pdf")
                ),
                "json": links.link(
                    documents.official_json,
                    OFFICIAL_LINK_SECONDS,
                    _filename(submission, "json"),
                ),
                "expires_at": _iso(_later(now, OFFICIAL_LINK_SECONDS)),
            },
            "decision": None
            if decision is None
            else {
                "decision": decision.decision,
                "reason": decision.reason,
                "decided_at": _iso(decision.decided_at),
                "decided_by": decision.decided_by,
            },
        }
    )
    view["links"]["decision"] = f"/forms/submissions/{submission.submission_id}/decision"
    return view


def _later(now: datetime, seconds: int) -> datetime:
    return now + timedelta(seconds=seconds)


def citizen_view(
    submission: Submission,
    catalogue: Catalogue,
    links: DocumentLinks,
    now: datetime,
    qr_code: Callable[[str], str] | None = None,
) -> dict[str, Any]:
    """A submission as its owner reads it: where it is, what to do (the presentation request
    while it waits for the wallet), their copy's link (RRNs masked), the decision and, if it
    failed on their side, why."""
    form = catalogue[submission.form_id]
    lang = submission.lang
    request = submission.identity_request
    identity = submission.identity
    documents = submission.documents
    decision = submission.decision
    failure = submission.failure
    waiting = (
        submission.state == "awaiting_identity" and request is not None and now < request.expires_at
    )
    return {
        "submission_id": submission.submission_id,
        "session_id": submission.session_id,
        "form_id": submission.form_id,
        "form_title": form.title.get(lang),
        "state": submission.state,
        "created_at": _iso(submission.created_at),
        "updated_at": _iso(submission.updated_at),
        "fields": masked_fields(form, submission.fields),
        "summary": _summary(form, submission.fields, lang),
        "fee_krw": submission.fee_krw,
        "identity_request": {
            "request_uri": request.request_uri,
            "qr_code": qr_code(request.request_uri) if qr_code else None,
            "expires_at": _iso(request.expires_at),
            "claims": list(request.claims),
        }
        if waiting and request is not None
        else None,
        "identity": None
        if identity is None
        else {
            "verified_at": _iso(identity.verified_at),
            "matched": list(identity.matched),
            "filled": list(identity.filled),
        },
        "document": None
        if documents is None
        else {
            "pdf": links.link(
                documents.citizen_pdf, CITIZEN_LINK_SECONDS, _filename(submission, "pdf")
            ),
            "expires_at": _iso(_later(now, CITIZEN_LINK_SECONDS)),
        },
        "decision": None
        if decision is None
        else {
            "decision": decision.decision,
            "reason": decision.reason,
            "decided_at": _iso(decision.decided_at),
        },
        # The person's side only: a system failure is the operators' to fix (the citizen's
        # form is kept, and the state says it is not done); its error text is not theirs.
        "failure": None
        if failure is None
        else {"kind": failure.kind, "step": failure.step, "reason": failure.reason},
        "links": {"self": f"/forms/submissions/{submission.submission_id}"},
    }
