"""Submitted forms: the store (the in-memory fake and DynamoDB on moto with the table of
``template.yaml``, one suite), its pages and cursors, and the confirming message that writes a
session and its submission together (issue 11, section 4)."""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from typing import Any

import boto3
import pytest
from moto import mock_aws

from gyeonggi.common.errors import InvalidInput, NotFound
from gyeonggi.forms.catalogue import catalogue
from gyeonggi.forms.engine import load_engine
from gyeonggi.forms.sessions import (
    Caller,
    DynamoSessionStore,
    FormSessions,
    SessionConflict,
    SessionStore,
    StartRequest,
    session_view,
    submission_of,
)
from gyeonggi.forms.submissions import (
    Decision,
    Documents,
    DynamoSubmissionStore,
    Failure,
    IdentityRequest,
    Submission,
    SubmissionConflict,
    SubmissionStore,
    VerifiedIdentity,
    from_item,
    submission_id_for,
    to_item,
    update,
)
from gyeonggi_tools.forms.samples import sample_submission
from tests.conftest import ROOT
from tests.fakes.forms import FakeSessionStore, FakeSubmissionStore, FakeWorkflow
from tests.unit.conftest import table_from_template

NOW = datetime(2026, 12, 7, 1, 0, tzinfo=UTC)
MODEL_DIR = ROOT / "functions" / "forms_dialogue" / "model"


@pytest.fixture
def moto_dynamodb(lambda_environment: None) -> Iterator[Any]:
    with mock_aws():
        dynamodb = boto3.resource("dynamodb", region_name="ap-northeast-2")
        table_from_template(dynamodb, "FormSubmissionsTable", "form-submissions")
        table_from_template(dynamodb, "FormSessionsTable", "form-sessions")
        yield dynamodb


@pytest.fixture(params=["fake", "dynamodb"])
def store(request: pytest.FixtureRequest) -> SubmissionStore:
    if request.param == "fake":
        return FakeSubmissionStore()
    dynamodb = request.getfixturevalue("moto_dynamodb")
    return DynamoSubmissionStore("form-submissions", dynamodb=dynamodb)


def _submission(n: int = 0, **changes: Any) -> Submission:
    base = sample_submission("seal-certificate", verified=False)
    sid = f"FA-{n:022d}"
    return replace(base, submission_id=sid, session_id="FS-" + sid[3:], **changes)


def _queued(n: int, jurisdiction: str, minute: int, state: str = "submitted") -> Submission:
    at = NOW + timedelta(minutes=minute)
    return _submission(n, state=state, jurisdiction_id=jurisdiction, queued_at=at, updated_at=at)


def _all_pages(fetch: Any) -> list[str]:
    """Every submission id of a list, page by page (a bounded loop)."""
    found: list[str] = []
    after = None
    for _ in range(20):
        page = fetch(after)
        found += [s.submission_id for s in page.submissions]
        after = page.after
        if after is None:
            return found
    raise AssertionError("the list did not end within 20 pages")


# ------------------------------------------------------------------ the item


def test_every_part_of_a_submission_survives_its_item() -> None:
    full = _submission(
        7,
        state="approved",
        identity_request=IdentityRequest("r" * 22, "openid4vp://?x", NOW, "FA-x-r1", ("a", "b")),
        identity=VerifiedIdentity(NOW, "https://issuer.test", ("applicant_name",), ()),
        jurisdiction_id="suwon.gg.kr",
        queued_at=NOW,
        documents=Documents("official/a.pdf", "official/a.json", "citizen/a.pdf", NOW),
        decision=Decision("approved", None, NOW, "officer-1"),
        failure=Failure("render", "error", "NoSuchBucket", None, "gone", NOW, "FA-x"),
        execution="FA-x-r1",
        redrives=1,
        expires_at=NOW.replace(microsecond=0) + timedelta(days=1827),
        version=3,
    )
    item = to_item(full)
    assert item["queue"] == "suwon.gg.kr#approved"
    back = from_item(json.loads(json.dumps(item)))
    assert back == full and back.version == 3


def test_the_submission_of_a_session_is_named_after_it() -> None:
    assert submission_id_for("FS-abc") == "FA-abc"
    with pytest.raises(ValueError):
        submission_id_for("GG-abc")


# ------------------------------------------------------------------ the store, fake and real


def test_a_created_submission_reads_back_and_its_id_is_taken_once(store: SubmissionStore) -> None:
    store.create(_submission(1))
    read = store.get(_submission(1).submission_id)
    assert read == _submission(1) and read.version == 1
    with pytest.raises(SubmissionConflict):
        store.create(_submission(1))
    for unknown in ("FA-" + "9" * 22, "not-an-id"):
        with pytest.raises(NotFound):
            store.get(unknown)


def test_a_save_is_conditional_on_the_version_read(store: SubmissionStore) -> None:
    store.create(_submission(1))
    read = store.get(_submission(1).submission_id)
    saved = store.save(read.moved("awaiting_identity", NOW))
    assert saved.version == 2 and store.get(read.submission_id).state == "awaiting_identity"
    with pytest.raises(SubmissionConflict):
        store.save(read.moved("failed", NOW))  # read at 1, stored is 2
    with pytest.raises(SubmissionConflict):
        store.save(_submission(2))  # never created


def test_update_retries_a_lost_race_and_keeps_a_verdict(store: SubmissionStore) -> None:
    store.create(_submission(1))
    sid = _submission(1).submission_id
    raced = {"done": False}

    def change(current: Submission) -> Submission:
        if not raced["done"]:  # someone else writes between this read and this write
            raced["done"] = True
            store.save(current.moved("awaiting_identity", NOW))
        return replace(current, redrives=current.redrives + 1)

    assert update(store, sid, change).redrives == 1
    assert store.get(sid).state == "awaiting_identity"

    def refuse(current: Submission) -> Submission:
        raise SubmissionConflict("decided already")

    with pytest.raises(SubmissionConflict):
        update(store, sid, refuse)


def test_a_jurisdictions_queue_is_its_submitted_forms_oldest_first_page_by_page(
    store: SubmissionStore,
) -> None:
    for n, minute in enumerate((5, 1, 3, 2, 4)):
        store.create(_queued(n, "suwon.gg.kr", minute))
    store.create(_queued(9, "osan.gg.kr", 0))
    store.create(_queued(8, "suwon.gg.kr", 0, state="approved"))
    store.create(_submission(7, state="awaiting_identity", jurisdiction_id="suwon.gg.kr"))
    ids = _all_pages(lambda after: store.queue("suwon.gg.kr", "submitted", 2, after))
    assert ids == [_submission(n).submission_id for n in (1, 3, 2, 4, 0)]
    assert [
        s.submission_id for s in store.queue("suwon.gg.kr", "approved", 5, None).submissions
    ] == [_submission(8).submission_id]


def test_a_states_list_is_filtered_to_the_jurisdictions_asked(store: SubmissionStore) -> None:
    store.create(_queued(1, "suwon.gg.kr", 1))
    store.create(_queued(2, "osan.gg.kr", 2))
    store.create(_queued(3, "yongin.gg.kr", 3))
    every = _all_pages(lambda after: store.in_state("submitted", 2, after))
    assert every == [_submission(n).submission_id for n in (1, 2, 3)]
    mine = _all_pages(
        lambda after: store.in_state("submitted", 1, after, frozenset({"osan.gg.kr", "x.gg.kr"}))
    )
    assert mine == [_submission(2).submission_id]
    assert store.in_state("submitted", 5, None, frozenset()).submissions == []


@pytest.mark.parametrize(
    "after", ["!!", "e30", "x" * 2000, "eyJxdWV1ZSI6Im9zYW4uZ2cua3Ijc3VibWl0dGVkIn0"]
)
def test_a_cursor_that_is_not_this_lists_is_refused(store: SubmissionStore, after: str) -> None:
    store.create(_queued(1, "suwon.gg.kr", 1))
    with pytest.raises(InvalidInput):
        store.queue("suwon.gg.kr", "submitted", 5, after)


def test_a_cursor_of_another_jurisdiction_is_refused(store: SubmissionStore) -> None:
    for n in range(3):
        store.create(_queued(n, "osan.gg.kr", n))
    after = store.queue("osan.gg.kr", "submitted", 1, None).after
    assert after is not None
    with pytest.raises(InvalidInput):
        store.queue("suwon.gg.kr", "submitted", 1, after)


def test_the_item_holds_the_rrn_and_the_indexes_project_no_field(moto_dynamodb: Any) -> None:
    store = DynamoSubmissionStore("form-submissions", dynamodb=moto_dynamodb)
    store.create(_queued(1, "suwon.gg.kr", 1))
    item = moto_dynamodb.Table("form-submissions").get_item(
        Key={"submission_id": _submission(1).submission_id}
    )["Item"]
    assert "900101-1234568" in item["fields"]  # only in the table, encrypted with DataKey
    indexes = {
        i["IndexName"]: i["Projection"]
        for i in moto_dynamodb.meta.client.describe_table(TableName="form-submissions")["Table"][
            "GlobalSecondaryIndexes"
        ]
    }
    assert indexes["by-queue"] == {"ProjectionType": "KEYS_ONLY"}
    assert indexes["by-state"]["NonKeyAttributes"] == ["jurisdiction_id"]


# ------------------------------------------------------------------ the confirming message


def _confirm(service: FormSessions) -> tuple[str, Any]:
    caller = Caller("citizen", "citizen-1")
    turn = service.start(caller, StartRequest("ko", False, "인감증명서 떼러 왔어요"), NOW)
    sid = turn.session.session_id
    for text in ("김하늘", "900101-1234568", "일반용이요"):
        turn = service.message(caller, sid, text, NOW)
    assert turn.session.state.status == "confirming", turn.reply
    return sid, service.message(caller, sid, "네", NOW)


@pytest.fixture(params=["fake", "dynamodb"])
def stores(request: pytest.FixtureRequest) -> tuple[SessionStore, SubmissionStore]:
    if request.param == "fake":
        submissions = FakeSubmissionStore()
        return FakeSessionStore(submissions), submissions
    dynamodb = request.getfixturevalue("moto_dynamodb")
    return (
        DynamoSessionStore(
            "form-sessions", dynamodb=dynamodb, submissions_table="form-submissions"
        ),
        DynamoSubmissionStore("form-submissions", dynamodb=dynamodb),
    )


def test_confirming_writes_the_submission_with_the_session_and_starts_its_workflow(
    stores: tuple[SessionStore, SubmissionStore],
) -> None:
    from gyeonggi.forms.issuance import Issuance

    sessions, submissions = stores
    workflow = FakeWorkflow()
    service = FormSessions(sessions, load_engine(MODEL_DIR), Issuance(submissions, workflow))
    sid, turn = _confirm(service)
    assert turn.session.state.status == "confirmed" and turn.issuance == "started"
    submission = submissions.get(submission_id_for(sid))
    assert submission.state == "received" and submission.session_id == sid
    assert submission.fields["applicant_rrn"] == "900101-1234568"
    assert submission.owner_hash == turn.session.owner_hash
    assert workflow.executions == {
        submission.submission_id: {"submission_id": submission.submission_id}
    }
    view = session_view(turn.session, catalogue(), turn.reply)
    assert view["submission"]["links"]["self"] == f"/forms/submissions/{submission.submission_id}"


def test_a_confirmation_that_loses_a_race_writes_neither(
    stores: tuple[SessionStore, SubmissionStore],
) -> None:
    sessions, submissions = stores
    service = FormSessions(sessions, load_engine(MODEL_DIR))
    caller = Caller("citizen", "citizen-1")
    sid = service.start(caller, StartRequest("ko", False, "인감증명서요"), NOW).session.session_id
    session = sessions.get(sid)
    assert session is not None
    confirmed = replace(
        session, state=replace(session.state, status="confirmed"), version=session.version + 1
    )
    other = replace(session, version=session.version + 1)
    sessions.save(other, session.version)  # another message came first
    done = replace(confirmed, state=replace(confirmed.state, form_id="seal-certificate", fields={}))
    with pytest.raises(SessionConflict):
        sessions.save_confirmed(done, session.version, submission_of(done, catalogue(), NOW))
    with pytest.raises(NotFound):
        submissions.get(submission_id_for(sid))


def test_a_workflow_that_does_not_start_is_recorded_and_the_confirmation_stands() -> None:
    from gyeonggi.forms.issuance import Issuance

    submissions = FakeSubmissionStore()
    workflow = FakeWorkflow(fail=RuntimeError("Step Functions is unreachable"))
    service = FormSessions(
        FakeSessionStore(submissions), load_engine(MODEL_DIR), Issuance(submissions, workflow)
    )
    sid, turn = _confirm(service)
    assert turn.session.state.status == "confirmed" and turn.issuance == "recorded"
    failed = submissions.get(submission_id_for(sid))
    assert failed.state == "failed" and failed.failure is not None
    assert (failed.failure.step, failed.failure.kind) == ("start", "error")
    assert failed.failure.error == "RuntimeError" and failed.expires_at is None
    (message,) = workflow.reported
    assert message["submission_id"] == failed.submission_id and message["step"] == "start"
