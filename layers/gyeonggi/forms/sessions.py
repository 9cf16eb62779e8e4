"""Form sessions: a conversation's state between HTTP requests, its owner, and its lifetime.

A session belongs to whoever started it, and only they can read or continue it (any other
caller gets ``404``: a session's existence is nobody else's business):

- a **citizen** with a bearer token (role ``citizen``): the token's ``sub``;
- a **kiosk** with a bearer token of the role ``kiosk`` (a machine account of the user pool,
  one per kiosk): the kiosk's ``sub`` *and* a session key returned once, when the session is
  created, which the kiosk page keeps in memory and sends as ``X-Session-Key``. The next
  person at the same kiosk has the same token but not the key, so cannot read the previous
  person's session, and the page forgets the key when it resets.

Owners are stored as SHA-256 digests (the ``sub`` and the key), never in the clear. Sessions
hold resident registration numbers: the table is encrypted with the stack's ``DataKey``, every
view masks them (``YYMMDD-N******``), and they expire: an hour after the last message for a
citizen, ten minutes for a kiosk (the next person is waiting), and a cancelled session is
emptied at once. DynamoDB's TTL deletes expired items within a day or two, so reads check
``expires_at`` themselves. Writes are conditional on the version read: two messages sent at
once cannot overwrite each other (the second gets ``409``).

A **confirmed** session is final; :meth:`gyeonggi.forms.dialogue.DialogueState.submission` is
what the issuance step (issue 11, section 4: identity check, PDF, the civil servants' queue)
takes over. The message that confirms it also stores its submission
(:mod:`gyeonggi.forms.submissions`), in one transaction with the session's write, so a
confirmed form always has its record, and then starts the issuance workflow
(:class:`gyeonggi.forms.issuance.IssuanceStarter`), which never fails the confirmation: a
workflow that did not start is recorded for a redrive.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import re
import secrets
from dataclasses import dataclass, replace
from datetime import UTC, date, datetime, timedelta
from typing import Any, Literal, Protocol

from gyeonggi.common.aws import DynamoTable
from gyeonggi.common.clock import KST
from gyeonggi.common.errors import Conflict, InvalidInput, NotFound
from gyeonggi.common.privacy import mask_rrns
from gyeonggi.common.text import check_text
from gyeonggi.forms.catalogue import FORM_IDS, Catalogue
from gyeonggi.forms.dialogue import FINAL, Dialogue, DialogueState, Reply, start
from gyeonggi.forms.issuance import IssuanceStarter, StartOutcome
from gyeonggi.forms.submissions import Submission, submission_id_for
from gyeonggi.forms.submissions import to_item as submission_item
from gyeonggi.forms.validation import describe

OwnerKind = Literal["citizen", "kiosk"]

CITIZEN_TTL = timedelta(hours=1)
KIOSK_TTL = timedelta(minutes=10)
#: The longest utterance a message may carry (a kiosk's speech-to-text included).
MAX_TEXT = 500
SESSION_ID = re.compile(r"FS-[A-Za-z0-9_-]{22}")
KEY_HEADER = "X-Session-Key"


class SessionConflict(Conflict):
    """The session changed since it was read, or is final (HTTP 409)."""

    code = "session_conflict"


@dataclass(frozen=True, slots=True)
class Caller:
    """Who is calling: a citizen, or a kiosk with the session key it was given."""

    kind: OwnerKind
    subject: str
    session_key: str | None = None


@dataclass(frozen=True, slots=True)
class FormSession:
    """One conversation: its state, owner digests, times and version."""

    session_id: str
    owner_kind: OwnerKind
    owner_hash: str
    key_hash: str | None
    state: DialogueState
    created_at: datetime
    updated_at: datetime
    expires_at: datetime
    version: int = 0

    def expired(self, now: datetime) -> bool:
        return now >= self.expires_at

    def owned_by(self, caller: Caller) -> bool:
        """Whether ``caller`` owns the session (constant-time digest comparisons)."""
        if caller.kind != self.owner_kind:
            return False
        if not hmac.compare_digest(digest(caller.subject), self.owner_hash):
            return False
        if self.owner_kind == "kiosk":
            if not caller.session_key or not self.key_hash:
                return False
            return hmac.compare_digest(digest(caller.session_key), self.key_hash)
        return True


def digest(value: str) -> str:
    return hashlib.sha256(value.encode("utf-8")).hexdigest()


class SessionStore(Protocol):
    """Where sessions are kept (DynamoDB in AWS; a dictionary in tests)."""

    def create(self, session: FormSession) -> None:
        """Store a new session (its id must be new)."""
        ...

    def get(self, session_id: str) -> FormSession | None:
        """The session, or ``None``; strongly consistent."""
        ...

    def save(self, session: FormSession, expected_version: int) -> None:
        """Replace the session if its stored version is ``expected_version``.

        Raises
        ------
        SessionConflict
            When another write came first.
        """
        ...

    def save_confirmed(
        self, session: FormSession, expected_version: int, submission: Submission
    ) -> None:
        """:meth:`save` a session that became confirmed and store its submission, both or
        neither.

        Raises
        ------
        SessionConflict
            When another write came first (nothing is written).
        """
        ...


def to_item(session: FormSession) -> dict[str, Any]:
    item: dict[str, Any] = {
        "session_id": session.session_id,
        "owner_kind": session.owner_kind,
        "owner_hash": session.owner_hash,
        "state": json.dumps(session.state.to_dict(), ensure_ascii=False),
        "status": session.state.status,
        "created_at": session.created_at.isoformat(),
        "updated_at": session.updated_at.isoformat(),
        # DynamoDB's TTL attribute: epoch seconds.
        "expires_at": int(session.expires_at.timestamp()),
        "version": session.version,
    }
    if session.state.form_id:
        item["form_id"] = session.state.form_id
    if session.key_hash:
        item["key_hash"] = session.key_hash
    return item


def from_item(item: dict[str, Any]) -> FormSession:
    return FormSession(
        session_id=str(item["session_id"]),
        owner_kind=item["owner_kind"],
        owner_hash=str(item["owner_hash"]),
        key_hash=item.get("key_hash"),
        state=DialogueState.from_dict(json.loads(item["state"])),
        created_at=datetime.fromisoformat(str(item["created_at"])),
        updated_at=datetime.fromisoformat(str(item["updated_at"])),
        expires_at=datetime.fromtimestamp(int(item["expires_at"]), UTC),
        version=int(item["version"]),
    )


class DynamoSessionStore(DynamoTable):
    """Sessions in ``FormSessionsTable`` (key ``session_id``, TTL ``expires_at``).

    Parameters
    ----------
    submissions_table
        ``FormSubmissionsTable``, where a confirmed session's submission is written in the
        same transaction (:meth:`save_confirmed`).
    """

    def __init__(
        self, table_name: str, dynamodb: Any | None = None, submissions_table: str | None = None
    ) -> None:
        super().__init__(table_name, dynamodb)
        self.submissions_table = submissions_table

    def create(self, session: FormSession) -> None:
        from botocore.exceptions import ClientError

        try:
            self.table.put_item(
                Item=to_item(session), ConditionExpression="attribute_not_exists(session_id)"
            )
        except ClientError as exc:
            if exc.response.get("Error", {}).get("Code") == "ConditionalCheckFailedException":
                raise SessionConflict("a session with this id exists") from None
            raise

    def get(self, session_id: str) -> FormSession | None:
        item = self.table.get_item(Key={"session_id": session_id}, ConsistentRead=True).get("Item")
        return from_item(item) if item else None

    def save(self, session: FormSession, expected_version: int) -> None:
        from botocore.exceptions import ClientError

        try:
            self.table.put_item(
                Item=to_item(session),
                ConditionExpression="#v = :expected",
                ExpressionAttributeNames={"#v": "version"},
                ExpressionAttributeValues={":expected": expected_version},
            )
        except ClientError as exc:
            if exc.response.get("Error", {}).get("Code") == "ConditionalCheckFailedException":
                raise SessionConflict(
                    "the session changed while this message was read; send it again"
                ) from None
            raise

    def save_confirmed(
        self, session: FormSession, expected_version: int, submission: Submission
    ) -> None:
        from botocore.exceptions import ClientError

        if self.submissions_table is None:
            raise ValueError("this store was made without the submissions table")
        try:
            # The resource's client: it serializes plain values as the table's methods do.
            self.table.meta.client.transact_write_items(
                TransactItems=[
                    {
                        "Put": {
                            "TableName": self.table.name,
                            "Item": to_item(session),
                            "ConditionExpression": "#v = :expected",
                            "ExpressionAttributeNames": {"#v": "version"},
                            "ExpressionAttributeValues": {":expected": expected_version},
                        }
                    },
                    {
                        "Put": {
                            "TableName": self.submissions_table,
                            "Item": submission_item(replace(submission, version=1)),
                            "ConditionExpression": "attribute_not_exists(submission_id)",
                        }
                    },
                ]
            )
        except ClientError as exc:
            if exc.response.get("Error", {}).get("Code") == "TransactionCanceledException":
                # The session changed meanwhile (its submission cannot exist without it).
                raise SessionConflict(
                    "the session changed while this message was read; send it again"
                ) from None
            raise


# ---------------------------------------------------------------------------- requests


@dataclass(frozen=True, slots=True)
class StartRequest:
    """What ``POST /forms/sessions`` may carry.

    ``form_id`` is a form picked from a list (a page's buttons); ``keep_lang`` says that
    ``lang`` was chosen with a control, so that what the citizen types in the other language
    does not switch it (:class:`gyeonggi.forms.dialogue.DialogueState`).
    """

    lang: str = "ko"
    easy: bool = False
    text: str | None = None
    form_id: str | None = None
    keep_lang: bool = False

    @classmethod
    def parse(cls, body: Any) -> StartRequest:
        """Read the body (a JSON object; every key optional).

        Raises
        ------
        InvalidInput
            Naming the field that is wrong.
        """
        if body is None:
            return cls()
        if not isinstance(body, dict):
            raise InvalidInput("body: must be a JSON object")
        unknown = sorted(set(body) - {"lang", "easy", "text", "form_id", "keep_lang"})
        if unknown:
            raise InvalidInput(f"{unknown[0]}: is not a field of this request", field=unknown[0])
        lang = _lang(body.get("lang", "ko"))
        easy = _flag(body, "easy")
        keep_lang = _flag(body, "keep_lang")
        form_id = body.get("form_id")
        if form_id is not None and form_id not in FORM_IDS:
            raise InvalidInput(f"form_id: must be one of {', '.join(FORM_IDS)}", field="form_id")
        text = body.get("text")
        return cls(lang, easy, None if text is None else utterance(text), form_id, keep_lang)


@dataclass(frozen=True, slots=True)
class Preferences:
    """What ``PATCH /forms/sessions/{id}`` may carry: the language (then kept) and easy
    Korean, switched with a page's controls rather than said."""

    lang: str | None = None
    easy: bool | None = None

    @classmethod
    def parse(cls, body: Any) -> Preferences:
        """Read the body: a JSON object with ``lang``, ``easy`` or both.

        Raises
        ------
        InvalidInput
            Naming the field that is wrong.
        """
        if not isinstance(body, dict) or not body:
            raise InvalidInput("body: must be a JSON object with lang, easy or both")
        unknown = sorted(set(body) - {"lang", "easy"})
        if unknown:
            raise InvalidInput(f"{unknown[0]}: is not a field of this request", field=unknown[0])
        lang = _lang(body["lang"]) if "lang" in body else None
        return cls(lang, _flag(body, "easy") if "easy" in body else None)


def _lang(value: Any) -> str:
    if value not in ("ko", "en"):
        raise InvalidInput('lang: must be "ko" or "en"', field="lang")
    return str(value)


def _flag(body: dict[str, Any], name: str) -> bool:
    value = body.get(name, False)
    if not isinstance(value, bool):
        raise InvalidInput(f"{name}: must be true or false", field=name)
    return value


def utterance(value: Any) -> str:
    """A message's text: a string of 1 to 500 characters with something visible in it.

    Raises
    ------
    InvalidInput
        Naming ``text``.
    """
    if not isinstance(value, str):
        raise InvalidInput("text: must be a string", field="text")
    text = value.strip()
    if len(text) > MAX_TEXT:
        raise InvalidInput(f"text: at most {MAX_TEXT} characters", field="text")
    try:
        check_text(text, multiline=True)
    except ValueError as exc:
        raise InvalidInput(f"text: {exc}", field="text") from None
    return text


def message_text(body: Any) -> str:
    """The ``text`` of a ``POST .../messages`` body."""
    if not isinstance(body, dict):
        raise InvalidInput("body: must be a JSON object with a text")
    unknown = sorted(set(body) - {"text"})
    if unknown:
        raise InvalidInput(f"{unknown[0]}: is not a field of this request", field=unknown[0])
    if "text" not in body:
        raise InvalidInput("text: is required", field="text")
    return utterance(body["text"])


# ---------------------------------------------------------------------------- the service


@dataclass(frozen=True, slots=True)
class Turn:
    """A session after a request, and what the assistant said (if anything)."""

    session: FormSession
    reply: Reply | None
    session_key: str | None = None  # only when a kiosk session is created
    #: When this message confirmed the form: its submission and how its workflow started.
    submission_id: str | None = None
    issuance: StartOutcome | None = None


def korean_day(now: datetime) -> date:
    return now.astimezone(KST).date()


class FormSessions:
    """Starting, continuing and reading sessions: the forms API's domain.

    Parameters
    ----------
    store
        Where sessions live.
    engine
        The dialogue engine (:func:`gyeonggi.forms.engine.load_engine`).
    issuance
        What starts a confirmed form's issuance; without it (the offline tools), a
        confirmation stores no submission.
    """

    def __init__(
        self, store: SessionStore, engine: Dialogue, issuance: IssuanceStarter | None = None
    ) -> None:
        self.store = store
        self.engine = engine
        self.issuance = issuance

    def _ttl(self, kind: OwnerKind) -> timedelta:
        return KIOSK_TTL if kind == "kiosk" else CITIZEN_TTL

    def start(self, caller: Caller, request: StartRequest, now: datetime) -> Turn:
        """A new session for ``caller``; its first utterance answered when one was sent."""
        key = secrets.token_urlsafe(24) if caller.kind == "kiosk" else None
        state = start(request.lang, korean_day(now), request.easy, request.keep_lang)
        reply = None
        if request.form_id:
            state, reply = self.engine.choose_form(state, request.form_id)
        if request.text:
            state, reply = self.engine.take_turn(state, request.text)
        session = FormSession(
            session_id="FS-" + secrets.token_urlsafe(16),
            owner_kind=caller.kind,
            owner_hash=digest(caller.subject),
            key_hash=digest(key) if key else None,
            state=state,
            created_at=now,
            updated_at=now,
            expires_at=now + self._ttl(caller.kind),
        )
        self.store.create(session)
        return Turn(session, reply, key)

    def read(self, caller: Caller, session_id: str, now: datetime) -> FormSession:
        """The caller's session.

        Raises
        ------
        NotFound
            When there is no such session, it expired, or it is someone else's.
        """
        if not SESSION_ID.fullmatch(session_id):
            raise NotFound("no such form session")
        session = self.store.get(session_id)
        if session is None or session.expired(now) or not session.owned_by(caller):
            raise NotFound("no such form session (sessions expire after a while)")
        return session

    def message(self, caller: Caller, session_id: str, text: str, now: datetime) -> Turn:
        """One utterance in the caller's session: understood, validated, answered, saved.

        Raises
        ------
        NotFound
            As for :meth:`read`.
        SessionConflict
            The session is final (confirmed or cancelled), or changed meanwhile.
        """
        session = self.read(caller, session_id, now)
        if session.state.status in FINAL:
            raise SessionConflict(f"this form session is {session.state.status}; start a new one")
        state, reply = self.engine.take_turn(session.state, text)
        updated = replace(
            session,
            state=state,
            updated_at=now,
            expires_at=now + self._ttl(session.owner_kind),
            version=session.version + 1,
        )
        if state.status != "confirmed" or self.issuance is None:
            self.store.save(updated, session.version)
            return Turn(updated, reply)
        submission = submission_of(updated, self.engine.catalogue, now)
        self.store.save_confirmed(updated, session.version, submission)
        started = self.issuance.start(submission, now)
        return Turn(updated, reply, submission_id=submission.submission_id, issuance=started)

    def prefer(
        self, caller: Caller, session_id: str, preferences: Preferences, now: datetime
    ) -> Turn:
        """The caller's session in another language or in (or out of) easy Korean; the reply
        says the question again. Counts as activity: the session lives on.

        Raises
        ------
        NotFound
            As for :meth:`read`.
        SessionConflict
            The session is final, or changed meanwhile.
        """
        session = self.read(caller, session_id, now)
        if session.state.status in FINAL:
            raise SessionConflict(f"this form session is {session.state.status}; start a new one")
        state, reply = self.engine.prefer(session.state, preferences.lang, preferences.easy)
        updated = replace(
            session,
            state=state,
            updated_at=now,
            expires_at=now + self._ttl(session.owner_kind),
            version=session.version + 1,
        )
        self.store.save(updated, session.version)
        return Turn(updated, reply)


def submission_of(session: FormSession, catalogue: Catalogue, now: datetime) -> Submission:
    """The submission of a session that was just confirmed: the form as confirmed, and the
    session's owner (so its owner, and only they, read it)."""
    handed = session.state.submission(catalogue)
    return Submission(
        submission_id=submission_id_for(session.session_id),
        session_id=session.session_id,
        form_id=handed["form_id"],
        form_version=int(handed["form_version"]),
        lang=handed["lang"],
        fee_krw=int(handed["fee_krw"]),
        fields=dict(handed["fields"]),
        warnings=dict(handed["warnings"]),
        owner_kind=session.owner_kind,
        owner_hash=session.owner_hash,
        key_hash=session.key_hash,
        state="received",
        created_at=now,
        updated_at=now,
    )


def session_view(
    session: FormSession,
    catalogue: Catalogue,
    reply: Reply | None = None,
    session_key: str | None = None,
) -> dict[str, Any]:
    """A session as the API shows it: values normalised, resident registration numbers masked,
    the question being asked with its choices (what a kiosk page draws as buttons)."""
    state = session.state
    form = catalogue[state.form_id] if state.form_id else None
    fields: dict[str, Any] = {}
    if form is not None:
        for name, value in state.fields.items():
            f = form.by_name.get(name)
            fields[name] = mask_rrns(str(value)) if f is not None and f.type == "rrn" else value
    asking = None
    if form is not None and state.pending and state.status == "collecting":
        f = form.field(state.pending)
        asking = {
            "field": f.name,
            "type": f.type,
            "required": f.needed(state.fields),
            "label": f.label.get(state.lang),
            "question": f.question.get(state.lang, state.easy),
            "choices": [{"id": c.id, "label": c.label.get(state.lang)} for c in f.choices],
        }
    view: dict[str, Any] = {
        "session_id": session.session_id,
        "form_id": state.form_id,
        "form_title": form.title.get(state.lang, state.easy) if form else None,
        "state": state.status,
        "lang": state.lang,
        "easy": state.easy,
        "keep_lang": state.keep_lang,
        "fields": fields,
        "missing": form.missing(state.fields) if form else [],
        "asking": asking,
        "summary": [
            {
                "field": f.name,
                "label": f.label.get(state.lang),
                "value": describe(f, state.fields[f.name], state.lang),
            }
            for f in (form.fields if form else ())
            if f.name in state.fields
        ],
        "warnings": [
            w.get(
                "easy_ko" if state.easy and state.lang == "ko" and "easy_ko" in w else state.lang,
                w["ko"],
            )
            for ws in state.warnings.values()
            for w in ws
        ],
        "expires_at": session.expires_at.isoformat().replace("+00:00", "Z"),
        "links": {
            "self": f"/forms/sessions/{session.session_id}",
            "messages": f"/forms/sessions/{session.session_id}/messages",
        },
    }
    if state.status == "confirmed":
        # The submitted form's own resource: where it is, the wallet request to answer, the
        # document, the decision (issue 11, section 4).
        submission_id = submission_id_for(session.session_id)
        view["submission"] = {
            "submission_id": submission_id,
            "links": {"self": f"/forms/submissions/{submission_id}"},
        }
    if reply is not None:
        view["reply"] = mask_rrns(reply.text)
        # The fields whose value was refused by this reply: a page marks their input invalid.
        view["problems"] = list(reply.problems)
    if session_key is not None:
        view["session_key"] = session_key
    return view
