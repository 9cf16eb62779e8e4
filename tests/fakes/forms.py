"""In-memory stores of the forms dialogue and its issuance, each held to its port by mypy and
to its DynamoDB (or S3, Step Functions) twin by the tests: the sessions by
``tests/unit/test_forms_sessions.py``, the submissions by
``tests/unit/test_forms_submissions.py``."""

from __future__ import annotations

import copy
import json
from collections.abc import Mapping
from dataclasses import replace
from typing import Any

from gyeonggi.common.errors import NotFound
from gyeonggi.forms.issuance import WorkflowGateway
from gyeonggi.forms.rendering import DocumentStore
from gyeonggi.forms.sessions import FormSession, SessionConflict, SessionStore
from gyeonggi.forms.submission_access import DocumentLinks
from gyeonggi.forms.submissions import (
    SUBMISSION_ID,
    Page,
    Submission,
    SubmissionConflict,
    SubmissionStore,
    decode_cursor,
    encode_cursor,
    from_item,
    to_item,
)


class FakeSubmissionStore:
    """Submissions in a dictionary, with the DynamoDB store's conditions and indexes (each
    item goes through the same item conversion, so what does not survive DynamoDB does not
    survive here either)."""

    def __init__(self) -> None:
        self.items: dict[str, dict[str, Any]] = {}

    def create(self, submission: Submission) -> None:
        if submission.submission_id in self.items:
            raise SubmissionConflict(f"submission {submission.submission_id} exists")
        self.items[submission.submission_id] = to_item(replace(submission, version=1))

    def get(self, submission_id: str) -> Submission:
        if not SUBMISSION_ID.fullmatch(submission_id) or submission_id not in self.items:
            raise NotFound("no such submission")
        return from_item(copy.deepcopy(self.items[submission_id]))

    def save(self, submission: Submission) -> Submission:
        stored = self.items.get(submission.submission_id)
        if stored is None or int(stored["version"]) != submission.version:
            raise SubmissionConflict(f"submission {submission.submission_id} changed meanwhile")
        saved = replace(submission, version=submission.version + 1)
        self.items[submission.submission_id] = to_item(saved)
        return saved

    def _page(
        self,
        items: list[dict[str, Any]],
        keys: tuple[str, str],
        limit: int,
        after: str | None,
        partition: tuple[str, str],
    ) -> Page:
        hash_key, range_key = keys
        start = decode_cursor(after, frozenset({"submission_id", hash_key, range_key}), partition)
        ordered = sorted(items, key=lambda i: (i[range_key], i["submission_id"]))
        if start:
            position = (start[range_key], start["submission_id"])
            ordered = [i for i in ordered if (i[range_key], i["submission_id"]) > position]
        page = ordered[:limit]
        last = page[-1] if len(page) == limit and len(ordered) > limit else None
        cursor = (
            encode_cursor({k: last[k] for k in ("submission_id", hash_key, range_key)})
            if last
            else None
        )
        return Page([from_item(copy.deepcopy(i)) for i in page], cursor)

    def queue(self, jurisdiction_id: str, state: str, limit: int, after: str | None) -> Page:
        partition = f"{jurisdiction_id}#{state}"
        items = [i for i in self.items.values() if i.get("queue") == partition]
        return self._page(items, ("queue", "queued_at"), limit, after, ("queue", partition))

    def in_state(
        self,
        state: str,
        limit: int,
        after: str | None,
        jurisdictions: frozenset[str] | None = None,
    ) -> Page:
        if jurisdictions is not None and not jurisdictions:
            return Page([], None)
        items = [i for i in self.items.values() if i["state"] == state]
        page = self._page(items, ("state", "updated_at"), limit, after, ("state", state))
        if jurisdictions is None:
            return page
        # As DynamoDB's filter: applied to the page read, so it may come back short.
        kept = [s for s in page.submissions if s.jurisdiction_id in jurisdictions]
        return Page(kept, page.after)


class FakeSessionStore:
    """Sessions in a dictionary, with the DynamoDB store's conditional writes; a confirmed
    session's submission goes to ``submissions`` in the same (all-or-nothing) write."""

    def __init__(self, submissions: FakeSubmissionStore | None = None) -> None:
        self.items: dict[str, FormSession] = {}
        self.submissions = submissions

    def create(self, session: FormSession) -> None:
        if session.session_id in self.items:
            raise SessionConflict("a session with this id exists")
        self.items[session.session_id] = copy.deepcopy(session)

    def get(self, session_id: str) -> FormSession | None:
        found = self.items.get(session_id)
        return copy.deepcopy(found) if found else None

    def save(self, session: FormSession, expected_version: int) -> None:
        stored = self.items.get(session.session_id)
        if stored is None or stored.version != expected_version:
            raise SessionConflict("the session changed while this message was read; send it again")
        self.items[session.session_id] = copy.deepcopy(session)

    def save_confirmed(
        self, session: FormSession, expected_version: int, submission: Submission
    ) -> None:
        if self.submissions is None:
            raise ValueError("this store was made without the submissions table")
        stored = self.items.get(session.session_id)
        if (
            stored is None
            or stored.version != expected_version
            or submission.submission_id in self.submissions.items
        ):
            raise SessionConflict("the session changed while this message was read; send it again")
        self.items[session.session_id] = copy.deepcopy(session)
        self.submissions.create(submission)


class FakeDocuments:
    """Documents in a dictionary; links name the key and their lifetime."""

    def __init__(self, fail: Exception | None = None) -> None:
        self.objects: dict[str, tuple[bytes, str]] = {}
        self.fail = fail
        self.links: list[tuple[str, int]] = []

    def put(self, key: str, body: bytes, content_type: str) -> None:
        if self.fail is not None:
            raise self.fail
        self.objects[key] = (body, content_type)

    def link(self, key: str, expires_in: int, filename: str) -> str:
        self.links.append((key, expires_in))
        return f"https://documents.test/{key}?expires_in={expires_in}&filename={filename}"


class FakeWorkflow:
    """Records executions by name (a second start of a name is the first's), and the failure
    queue's messages; ``fail``: starting raises it."""

    def __init__(self, fail: Exception | None = None) -> None:
        self.executions: dict[str, dict[str, Any]] = {}
        self.reported: list[dict[str, Any]] = []
        self.fail = fail
        #: Execution name -> status, where a test says (otherwise a started one has failed).
        self.statuses: dict[str, str] = {}

    def start(self, name: str, payload: Mapping[str, Any]) -> str:
        if self.fail is not None:
            raise self.fail
        self.executions.setdefault(name, json.loads(json.dumps(payload)))
        return f"arn:aws:states:ap-northeast-2:123456789012:execution:form-issuance:{name}"

    def report(self, message: Mapping[str, Any]) -> None:
        self.reported.append(json.loads(json.dumps(message)))

    def status(self, name: str) -> str | None:
        return self.statuses.get(name, "FAILED" if name in self.executions else None)


_port: SessionStore = FakeSessionStore()
_submissions: SubmissionStore = FakeSubmissionStore()
_documents: DocumentStore = FakeDocuments()
_links: DocumentLinks = FakeDocuments()
_workflow: WorkflowGateway = FakeWorkflow()
