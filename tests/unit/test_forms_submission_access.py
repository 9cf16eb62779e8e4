"""Who sees which submitted form (the access matrix), the civil servants' queue, decisions
(once, a reason to reject, seen by the citizen), the views (RRNs masked; which document each
reader gets a link to), and the submissions function with its sample events."""

from __future__ import annotations

import copy
import importlib
import json
import os
from collections.abc import Iterator
from dataclasses import replace
from datetime import timedelta
from types import ModuleType
from typing import Any

import boto3
import pytest
from moto import mock_aws

from gyeonggi.auth import Principal
from gyeonggi.common.errors import Forbidden, InvalidInput, NotFound
from gyeonggi.complaints.jurisdictions import UnknownJurisdiction
from gyeonggi.forms.catalogue import catalogue
from gyeonggi.forms.rendering import document_keys
from gyeonggi.forms.sessions import Caller, digest
from gyeonggi.forms.submission_access import (
    CITIZEN_LINK_SECONDS,
    OFFICIAL_LINK_SECONDS,
    ListRequest,
    citizen_view,
    decide,
    list_submissions,
    official_view,
    parse_decision,
    read_submission,
)
from gyeonggi.forms.submissions import (
    DECIDED_RETENTION,
    DynamoSubmissionStore,
    Failure,
    IdentityRequest,
    Submission,
    SubmissionConflict,
)
from gyeonggi_tools.forms.samples import SAMPLE_TIME, sample_submission
from localcloud.issuer import LocalIssuer
from tests.conftest import load_event
from tests.fakes.forms import FakeDocuments, FakeSubmissionStore
from tests.unit.conftest import LambdaContext, table_from_template

NOW = SAMPLE_TIME + timedelta(minutes=5)
OWNER = Caller("citizen", "citizen-1")


def _principal(*roles: str, jurisdictions: tuple[str, ...] = (), subject: str = "p") -> Principal:
    return Principal(subject, frozenset(roles), {}, frozenset(jurisdictions))


SUWON = _principal("civil-servant", jurisdictions=("suwon.gg.kr",), subject="officer-suwon")
OSAN = _principal("civil-servant", jurisdictions=("osan.gg.kr",), subject="officer-osan")
PROVINCE = _principal("civil-servant", "province", subject="officer-province")
NOBODY = _principal("civil-servant", subject="officer-without-scope")


def _submitted(form_id: str = "seal-certificate", n: int = 0, **changes: Any) -> Submission:
    base = sample_submission(form_id)
    sid = f"FA-{form_id[:4]}{n:018d}"
    defaults: dict[str, Any] = {
        "submission_id": sid,
        "session_id": "FS-" + sid[3:],
        "owner_hash": digest(OWNER.subject),
        "state": "submitted",
        "queued_at": SAMPLE_TIME + timedelta(seconds=n),
        "documents": document_keys(base),
    }
    return replace(base, **{**defaults, **changes})


@pytest.fixture
def store() -> FakeSubmissionStore:
    return FakeSubmissionStore()


# ------------------------------------------------------------------ reading


@pytest.mark.parametrize(
    ("principal", "owner", "reason"),
    [
        (SUWON, None, "jurisdiction"),
        (PROVINCE, None, "jurisdiction"),
        (OSAN, None, None),
        (NOBODY, None, None),
        (_principal("citizen", subject="citizen-1"), OWNER, "owner"),
        (_principal("citizen", subject="citizen-2"), Caller("citizen", "citizen-2"), None),
        (_principal("kiosk", subject="citizen-1"), Caller("kiosk", "citizen-1", "k"), None),
        (_principal("operator", "province"), None, None),
    ],
)
def test_who_reads_a_submitted_form(
    store: FakeSubmissionStore, principal: Principal, owner: Caller | None, reason: str | None
) -> None:
    submission = _submitted()
    store.create(submission)
    if reason is None:
        with pytest.raises(NotFound):
            read_submission(store, submission.submission_id, principal, owner)
    else:
        assert read_submission(store, submission.submission_id, principal, owner).reason == reason


def test_a_form_not_on_the_queue_yet_is_its_owners_alone(store: FakeSubmissionStore) -> None:
    waiting = _submitted(state="awaiting_identity", queued_at=None, documents=None)
    store.create(waiting)
    with pytest.raises(NotFound):
        read_submission(store, waiting.submission_id, PROVINCE, None)
    citizen = _principal("citizen", subject="citizen-1")
    assert read_submission(store, waiting.submission_id, citizen, OWNER).reason == "owner"
    with pytest.raises(NotFound):
        read_submission(store, "FA-nope", PROVINCE, None)


def test_a_kiosk_reads_its_form_with_the_session_key() -> None:
    store = FakeSubmissionStore()
    kiosk_form = _submitted(owner_kind="kiosk", owner_hash=digest("kiosk-1"), key_hash=digest("k1"))
    store.create(kiosk_form)
    kiosk = _principal("kiosk", subject="kiosk-1")
    sid = kiosk_form.submission_id
    assert read_submission(store, sid, kiosk, Caller("kiosk", "kiosk-1", "k1")).reason == "owner"
    for key in (None, "k2"):
        with pytest.raises(NotFound):
            read_submission(store, sid, kiosk, Caller("kiosk", "kiosk-1", key))


# ------------------------------------------------------------------ the queue


def _fill(store: FakeSubmissionStore) -> None:
    for n, form_id in enumerate(("seal-certificate", "resident-registration-copy")):
        store.create(_submitted(form_id, n))  # both in Suwon
    store.create(_submitted("basic-pension", 2))  # Yongin
    store.create(_submitted("seal-certificate", 3, state="approved"))


def _ids(page: Any) -> list[str]:
    return [s.form_id for s in page.submissions]


def test_a_civil_servant_lists_their_jurisdictions_queue(store: FakeSubmissionStore) -> None:
    _fill(store)
    assert _ids(list_submissions(store, SUWON, ListRequest())) == [
        "seal-certificate",
        "resident-registration-copy",
    ]
    assert _ids(list_submissions(store, SUWON, ListRequest(state="approved"))) == [
        "seal-certificate"
    ]
    assert _ids(list_submissions(store, OSAN, ListRequest())) == []
    assert len(list_submissions(store, PROVINCE, ListRequest()).submissions) == 3
    yongin = list_submissions(store, PROVINCE, ListRequest(jurisdiction_id="yongin.gg.kr"))
    assert _ids(yongin) == ["basic-pension"]
    two = _principal("civil-servant", jurisdictions=("suwon.gg.kr", "yongin.gg.kr"))
    assert len(list_submissions(store, two, ListRequest()).submissions) == 3


def test_a_list_outside_ones_scope_is_403(store: FakeSubmissionStore) -> None:
    _fill(store)
    with pytest.raises(Forbidden):
        list_submissions(store, NOBODY, ListRequest())
    with pytest.raises(Forbidden):
        list_submissions(store, SUWON, ListRequest(jurisdiction_id="yongin.gg.kr"))


def test_pages_follow_their_cursor(store: FakeSubmissionStore) -> None:
    for n in range(5):
        store.create(_submitted("seal-certificate", n))
    seen: list[str] = []
    request = ListRequest(limit=2)
    for _ in range(5):
        page = list_submissions(store, SUWON, request)
        seen += [s.submission_id for s in page.submissions]
        if page.after is None:
            break
        request = replace(request, after=page.after)
    assert len(seen) == len(set(seen)) == 5


@pytest.mark.parametrize(
    "params",
    [
        {"state": "failed"},
        {"state": ""},
        {"limit": "0"},
        {"limit": "51"},
        {"limit": "1e1"},
        {"jurisdiction_id": "not an id"},
        {"page": "2"},
    ],
)
def test_a_bad_list_query_is_400(params: dict[str, str]) -> None:
    with pytest.raises(InvalidInput):
        ListRequest.parse(params)


def test_an_unknown_jurisdiction_is_404() -> None:
    with pytest.raises(UnknownJurisdiction):
        ListRequest.parse({"jurisdiction_id": "seoul.gg.kr"})
    assert ListRequest.parse({"limit": "5", "state": "rejected"}) == ListRequest(
        "rejected", None, 5
    )


# ------------------------------------------------------------------ decisions


def test_a_decision_is_taken_once_by_the_forms_jurisdiction(store: FakeSubmissionStore) -> None:
    submission = _submitted()
    store.create(submission)
    sid = submission.submission_id
    with pytest.raises(NotFound):
        decide(store, sid, OSAN, "approved", None, NOW)
    decided = decide(store, sid, SUWON, "rejected", "매매계약서가 필요합니다", NOW)
    assert decided.state == "rejected" and decided.queue == "suwon.gg.kr#rejected"
    assert decided.decision is not None and decided.decision.decided_by == "officer-suwon"
    assert decided.expires_at == NOW + DECIDED_RETENTION
    with pytest.raises(SubmissionConflict):
        decide(store, sid, PROVINCE, "approved", None, NOW)
    assert store.get(sid).state == "rejected"


def test_a_form_not_on_the_queue_cannot_be_decided(store: FakeSubmissionStore) -> None:
    failed = _submitted(
        state="failed",
        failure=Failure("render", "error", "X", None, "m", NOW),
    )
    store.create(failed)
    with pytest.raises(NotFound):
        decide(store, failed.submission_id, PROVINCE, "approved", None, NOW)


@pytest.mark.parametrize(
    "body",
    [
        None,
        [],
        {},
        {"decision": "maybe"},
        {"decision": "rejected"},
        {"decision": "rejected", "reason": "   "},
        {"decision": "rejected", "reason": 3},
        {"decision": "approved", "reason": "x" * 501},
        {"decision": "approved", "note": "x"},
        {"decision": "approved", "reason": "a\u0000b"},
    ],
)
def test_a_bad_decision_is_400(body: Any) -> None:
    with pytest.raises(InvalidInput):
        parse_decision(body)


def test_a_decision_reads_back() -> None:
    assert parse_decision({"decision": "approved"}) == ("approved", None)
    assert parse_decision({"decision": "rejected", "reason": " 서류 부족 "}) == (
        "rejected",
        "서류 부족",
    )


# ------------------------------------------------------------------ views


def test_the_official_view_masks_rrns_and_links_the_whole_documents_for_five_minutes() -> None:
    links = FakeDocuments()
    submission = _submitted()
    view = official_view(submission, catalogue(), links, NOW)
    text = json.dumps(view, ensure_ascii=False)
    assert "900101-1234568" not in text and "920315-2345672" not in text
    assert view["fields"]["applicant_rrn"] == "900101-1******"
    assert view["applicant_name"] == "김하늘" and view["jurisdiction_id"] == "suwon.gg.kr"
    assert sorted(links.links) == sorted(
        [
            (submission.documents.official_pdf, OFFICIAL_LINK_SECONDS),  # type: ignore[union-attr]
            (submission.documents.official_json, OFFICIAL_LINK_SECONDS),  # type: ignore[union-attr]
        ]
    )
    assert view["identity"]["matched"] == ["applicant_name", "applicant_rrn"]
    assert view["links"]["decision"].endswith("/decision")


def test_the_citizen_sees_the_wallet_request_then_their_masked_copy_and_the_decision() -> None:
    links = FakeDocuments()
    waiting = _submitted(
        state="awaiting_identity",
        documents=None,
        identity=None,
        identity_request=IdentityRequest(
            "r" * 22, "openid4vp://?client_id=x", NOW + timedelta(minutes=10), "E1", ("a",)
        ),
    )
    view = citizen_view(waiting, catalogue(), links, NOW, lambda uri: f"qr:{uri}")
    assert view["identity_request"]["request_uri"] == "openid4vp://?client_id=x"
    assert view["identity_request"]["qr_code"] == "qr:openid4vp://?client_id=x"
    assert view["document"] is None and links.links == []
    late = citizen_view(waiting, catalogue(), links, NOW + timedelta(minutes=11))
    assert late["identity_request"] is None
    decided = _submitted(state="rejected")
    decided = replace(
        decide(
            _one(decided.moved("submitted", NOW)),
            decided.submission_id,
            SUWON,
            "rejected",
            "서류 부족",
            NOW,
        ),
    )
    view = citizen_view(decided, catalogue(), links, NOW)
    assert view["decision"] == {
        "decision": "rejected",
        "reason": "서류 부족",
        "decided_at": NOW.isoformat().replace("+00:00", "Z"),
    }
    assert "decided_by" not in view["decision"] and "900101-1234568" not in json.dumps(view)
    assert links.links == [(decided.documents.citizen_pdf, CITIZEN_LINK_SECONDS)]  # type: ignore[union-attr]


def test_the_citizen_sees_why_their_identity_failed_but_no_system_error_text() -> None:
    failed = _submitted(
        state="failed",
        documents=None,
        failure=Failure("render", "error", "NoSuchBucket", None, "bucket x is gone", NOW),
    )
    view = citizen_view(failed, catalogue(), FakeDocuments(), NOW)
    assert view["failure"] == {"kind": "error", "step": "render", "reason": None}
    assert "bucket" not in json.dumps(view)


def _one(submission: Submission) -> FakeSubmissionStore:
    store = FakeSubmissionStore()
    store.create(submission)
    return store


# ------------------------------------------------------------------ the function, sample events


@pytest.fixture(scope="module")
def function(
    tmp_path_factory: pytest.TempPathFactory,
) -> Iterator[tuple[ModuleType, Any, LocalIssuer]]:
    saved = dict(os.environ)
    issuer = LocalIssuer.create(tmp_path_factory.mktemp("issuer"), "https://issuer.test", "forms")
    os.environ.update(
        {
            "AWS_ACCESS_KEY_ID": "testing",
            "AWS_SECRET_ACCESS_KEY": "testing",
            "AWS_SESSION_TOKEN": "testing",
            "AWS_DEFAULT_REGION": "ap-northeast-2",
            "POWERTOOLS_TRACE_DISABLED": "true",
            "POWERTOOLS_METRICS_NAMESPACE": "Test",
            "POWERTOOLS_SERVICE_NAME": "unit-test-form-submissions",
            "FORM_SUBMISSIONS_TABLE": "form-submissions",
            "FORMS_BUCKET": "forms-bucket",
            **issuer.environment(),
        }
    )
    try:
        with mock_aws():
            dynamodb = boto3.resource("dynamodb", region_name="ap-northeast-2")
            table_from_template(dynamodb, "FormSubmissionsTable", "form-submissions")
            store = DynamoSubmissionStore("form-submissions", dynamodb=dynamodb)
            yield importlib.import_module("functions.form_submissions.app"), store, issuer
    finally:
        os.environ.clear()
        os.environ.update(saved)


def _call(
    module: ModuleType, event: dict[str, Any], token: str | None, **headers: str
) -> tuple[int, Any]:
    event = copy.deepcopy(event)
    sent = {k: v for k, v in event["headers"].items() if k != "Authorization"}
    if token:
        sent["Authorization"] = f"Bearer {token}"
    sent.update(headers)
    event["headers"] = sent
    event["multiValueHeaders"] = {k: [v] for k, v in sent.items()}
    answer = module.handler(event, LambdaContext())
    return answer["statusCode"], json.loads(answer["body"])


def test_the_sample_events_list_read_and_decide(
    function: tuple[ModuleType, Any, LocalIssuer],
) -> None:
    module, store, issuer = function
    submission = replace(
        sample_submission("seal-certificate"),
        owner_hash=digest("citizen-sample"),
        state="submitted",
        queued_at=SAMPLE_TIME,
    )
    submission = replace(submission, documents=document_keys(submission))
    store.create(submission)
    officer = issuer.mint("civil-servant", subject="officer-suwon", jurisdictions=["suwon.gg.kr"])
    status, body = _call(module, load_event("form_submissions/list_queue.json"), officer)
    assert status == 200 and body["next"] is None
    assert [s["submission_id"] for s in body["submissions"]] == [submission.submission_id]
    status, body = _call(module, load_event("form_submissions/get_submission.json"), officer)
    assert status == 200 and body["documents"]["pdf"].startswith("https://forms-bucket.s3.")
    assert "X-Amz-Signature" in body["documents"]["pdf"] and body["fields"]["applicant_rrn"] == (
        "900101-1******"
    )
    citizen = issuer.mint("citizen", subject="citizen-sample")
    status, body = _call(module, load_event("form_submissions/get_submission.json"), citizen)
    assert status == 200 and "citizen/" in body["document"]["pdf"] and body["decision"] is None
    status, body = _call(module, load_event("form_submissions/decide.json"), officer)
    assert status == 200 and body["state"] == "rejected"
    assert _call(module, load_event("form_submissions/decide.json"), officer)[0] == 409
    status, body = _call(module, load_event("form_submissions/get_submission.json"), citizen)
    assert body["decision"]["decision"] == "rejected" and "매매계약서" in body["decision"]["reason"]


def test_the_function_maps_refusals_to_statuses(
    function: tuple[ModuleType, Any, LocalIssuer],
) -> None:
    module, _, issuer = function
    listing = load_event("form_submissions/list_queue.json")
    assert _call(module, listing, None)[0] == 401
    assert _call(module, listing, issuer.mint("citizen"))[0] == 403
    assert _call(module, listing, issuer.mint("civil-servant"))[0] == 403  # no jurisdiction
    officer = issuer.mint("civil-servant", province=True)
    bad = copy.deepcopy(listing)
    bad["queryStringParameters"] = {"state": "failed"}
    bad["multiValueQueryStringParameters"] = {"state": ["failed"]}
    assert _call(module, bad, officer)[0] == 400
    other = issuer.mint("citizen", subject="someone-else")
    assert _call(module, load_event("form_submissions/get_submission.json"), other)[0] == 404
    decide_event = load_event("form_submissions/decide.json")
    xml = copy.deepcopy(decide_event)
    xml["headers"]["Content-Type"] = "text/xml"
    assert _call(module, xml, officer)[0] == 415
    empty = copy.deepcopy(decide_event)
    empty["body"] = json.dumps({"decision": "rejected"})
    assert _call(module, empty, officer)[0] == 400
