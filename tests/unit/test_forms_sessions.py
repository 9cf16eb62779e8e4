"""Form sessions: the store (an in-memory fake and DynamoDB on moto, one suite), ownership,
expiry and conflicts, and the forms function's handler with its sample events."""

from __future__ import annotations

import copy
import importlib
import json
import os
from collections.abc import Iterator
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path
from types import ModuleType
from typing import Any

import boto3
import pytest
from moto import mock_aws

from gyeonggi.common.errors import InvalidInput, NotFound
from gyeonggi.forms.catalogue import catalogue
from gyeonggi.forms.dialogue import start
from gyeonggi.forms.engine import load_engine
from gyeonggi.forms.sessions import (
    Caller,
    DynamoSessionStore,
    FormSession,
    FormSessions,
    Preferences,
    SessionConflict,
    SessionStore,
    StartRequest,
    digest,
    message_text,
    session_view,
)
from localcloud.issuer import LocalIssuer
from tests.conftest import ROOT, load_event
from tests.fakes.forms import FakeSessionStore
from tests.unit.conftest import LambdaContext, table_from_template

NOW = datetime(2026, 12, 7, 1, 0, tzinfo=UTC)  # 10:00 in Korea
MODEL_DIR = ROOT / "functions" / "forms_dialogue" / "model"
CITIZEN = Caller("citizen", "citizen-1")


@pytest.fixture(params=["fake", "dynamodb"])
def store(request: pytest.FixtureRequest, lambda_environment: None) -> Iterator[SessionStore]:
    if request.param == "fake":
        yield FakeSessionStore()
        return
    with mock_aws():
        dynamodb = boto3.resource("dynamodb", region_name="ap-northeast-2")
        table_from_template(dynamodb, "FormSessionsTable", "form-sessions")
        yield DynamoSessionStore("form-sessions", dynamodb=dynamodb)


def _session(session_id: str = "FS-" + "a" * 22) -> FormSession:
    return FormSession(
        session_id,
        "citizen",
        digest("citizen-1"),
        None,
        start("ko", NOW.date()),
        NOW,
        NOW,
        NOW + timedelta(hours=1),
    )


# ------------------------------------------------------------------ the store, fake and real


def test_a_created_session_reads_back_as_it_was(store: SessionStore) -> None:
    session = _session()
    store.create(session)
    assert store.get(session.session_id) == session
    assert store.get("FS-" + "b" * 22) is None


def test_an_id_is_created_once(store: SessionStore) -> None:
    store.create(_session())
    with pytest.raises(SessionConflict):
        store.create(_session())


def test_a_save_over_a_stale_version_is_a_conflict(store: SessionStore) -> None:
    session = _session()
    store.create(session)
    first = replace(session, version=1, state=replace(session.state, turns=1))
    store.save(first, expected_version=0)
    with pytest.raises(SessionConflict):
        store.save(replace(session, version=1), expected_version=0)
    assert store.get(session.session_id) == first


def test_the_item_keeps_no_subject_and_expires_by_ttl(lambda_environment: None) -> None:
    with mock_aws():
        dynamodb = boto3.resource("dynamodb", region_name="ap-northeast-2")
        table_from_template(dynamodb, "FormSessionsTable", "form-sessions")
        store = DynamoSessionStore("form-sessions", dynamodb=dynamodb)
        store.create(_session())
        item = dynamodb.Table("form-sessions").get_item(Key={"session_id": "FS-" + "a" * 22})[
            "Item"
        ]
    assert "citizen-1" not in json.dumps(item, default=str)
    assert int(str(item["expires_at"])) == int((NOW + timedelta(hours=1)).timestamp())


# ------------------------------------------------------------------ the service


@pytest.fixture
def service() -> FormSessions:
    return FormSessions(FakeSessionStore(), load_engine(MODEL_DIR))


def test_a_session_belongs_to_its_citizen_only(service: FormSessions) -> None:
    turn = service.start(CITIZEN, StartRequest("ko", False, "전입신고요"), NOW)
    sid = turn.session.session_id
    assert turn.reply is not None and turn.session_key is None
    assert service.read(CITIZEN, sid, NOW).state.form_id == "move-in-report"
    for other in (Caller("citizen", "citizen-2"), Caller("kiosk", "citizen-1", "x")):
        with pytest.raises(NotFound):
            service.read(other, sid, NOW)
        with pytest.raises(NotFound):
            service.message(other, sid, "김하늘", NOW)


def test_a_kiosk_session_needs_the_key_it_was_given(service: FormSessions) -> None:
    kiosk = Caller("kiosk", "kiosk-suwon-01")
    turn = service.start(kiosk, StartRequest(), NOW)
    assert turn.session_key and turn.session.key_hash == digest(turn.session_key)
    sid = turn.session.session_id
    for key in (None, "wrong", turn.session_key[:-1]):
        with pytest.raises(NotFound):
            service.read(Caller("kiosk", "kiosk-suwon-01", key), sid, NOW)
    owner = Caller("kiosk", "kiosk-suwon-01", turn.session_key)
    assert service.message(owner, sid, "등본 떼러 왔어요", NOW).session.state.form_id
    with pytest.raises(NotFound):  # ten minutes later, the next person is at the kiosk
        service.read(owner, sid, NOW + timedelta(minutes=11))


def test_a_session_expires_an_hour_after_its_last_message(service: FormSessions) -> None:
    sid = service.start(CITIZEN, StartRequest(), NOW).session.session_id
    later = NOW + timedelta(minutes=50)
    service.message(CITIZEN, sid, "초본이요", later)
    assert service.read(CITIZEN, sid, later + timedelta(minutes=59))
    with pytest.raises(NotFound):
        service.read(CITIZEN, sid, later + timedelta(minutes=61))


def test_a_final_session_takes_no_more_messages(service: FormSessions) -> None:
    sid = service.start(CITIZEN, StartRequest(text="인감증명서요"), NOW).session.session_id
    service.message(CITIZEN, sid, "취소할게요", NOW)
    with pytest.raises(SessionConflict):
        service.message(CITIZEN, sid, "김하늘", NOW)
    with pytest.raises(NotFound):
        service.read(CITIZEN, "not-an-id", NOW)


def test_the_view_masks_rrns_and_shows_the_question_with_its_choices(service: FormSessions) -> None:
    turn = service.start(CITIZEN, StartRequest(text="초본 두 통이요"), NOW)
    sid = turn.session.session_id
    service.message(CITIZEN, sid, "정하늘", NOW)
    turn = service.message(CITIZEN, sid, "011130-3456782", NOW)
    view = session_view(turn.session, catalogue(), turn.reply)
    assert view["fields"]["applicant_rrn"] == "011130-3******"
    assert "3456782" not in json.dumps(view, ensure_ascii=False)
    assert view["asking"]["field"] == "include_address_history"
    assert view["asking"]["type"] == "boolean" and view["state"] == "collecting"
    assert view["missing"] == ["include_address_history", "purpose"]


def test_a_form_picked_from_a_list_is_asked_with_nothing_read_into_it(
    service: FormSessions,
) -> None:
    # The title read as an utterance also says 등본; picked by its id, nothing is filled.
    said = service.start(CITIZEN, StartRequest(text="주민등록표 등본·초본 교부 신청"), NOW)
    assert said.session.state.fields == {"document_kind": "full-copy"}
    picked = service.start(CITIZEN, StartRequest(form_id="resident-registration-copy"), NOW)
    view = session_view(picked.session, catalogue(), picked.reply)
    assert view["form_id"] == "resident-registration-copy" and view["fields"] == {}
    assert view["asking"]["field"] == "applicant_name" and view["problems"] == []
    assert view["reply"].endswith(view["asking"]["question"])


def test_a_language_chosen_with_a_control_is_kept(service: FormSessions) -> None:
    guessed = service.start(CITIZEN, StartRequest("en", form_id="seal-certificate"), NOW)
    sid = guessed.session.session_id
    assert service.message(CITIZEN, sid, "김영호", NOW).session.state.lang == "ko"
    chosen = service.start(
        CITIZEN, StartRequest("en", form_id="seal-certificate", keep_lang=True), NOW
    )
    sid = chosen.session.session_id
    turn = service.message(CITIZEN, sid, "김영호", NOW)
    assert turn.session.state.lang == "en" and turn.reply is not None
    assert turn.reply.text.startswith("Noted: 김영호.")
    # Asking in words still switches.
    assert service.message(CITIZEN, sid, "한국어로 해 주세요", NOW).session.state.lang == "ko"


def test_switches_say_the_question_again_and_lose_nothing(service: FormSessions) -> None:
    sid = service.start(CITIZEN, StartRequest(text="초본 두 통이요"), NOW).session.session_id
    service.message(CITIZEN, sid, "정하늘", NOW)
    turn = service.prefer(CITIZEN, sid, Preferences(lang="en"), NOW + timedelta(minutes=5))
    view = session_view(turn.session, catalogue(), turn.reply)
    assert view["lang"] == "en" and view["keep_lang"] is True
    assert (
        view["reply"]
        == view["asking"]["question"]
        == (
            "What is your resident registration number (13 digits: six of the birth date, "
            "then seven)?"
        )
    )
    assert view["fields"] == {"document_kind": "abstract", "copies": 2, "applicant_name": "정하늘"}
    assert turn.session.state.turns == 2  # a switch is no turn
    assert turn.session.expires_at == NOW + timedelta(minutes=65)  # but it is activity
    turn = service.prefer(CITIZEN, sid, Preferences(lang="ko", easy=True), NOW)
    assert turn.reply is not None and turn.reply.text == "주민등록번호 13자리를 말해 주세요."
    # At the summary, the summary; once final, no more switches.
    for text in ("011130-3456782", "네", "은행"):
        service.message(CITIZEN, sid, text, NOW)
    turn = service.prefer(CITIZEN, sid, Preferences(lang="en"), NOW)
    assert turn.session.state.status == "confirming" and turn.reply is not None
    assert "Please check:" in turn.reply.text and "011130-3******" in turn.reply.text
    service.message(CITIZEN, sid, "yes", NOW)
    with pytest.raises(SessionConflict):
        service.prefer(CITIZEN, sid, Preferences(easy=False), NOW)
    with pytest.raises(NotFound):
        service.prefer(Caller("citizen", "citizen-2"), sid, Preferences(lang="en"), NOW)


def test_the_view_names_the_values_a_reply_refused(service: FormSessions) -> None:
    sid = service.start(CITIZEN, StartRequest(form_id="seal-certificate"), NOW).session.session_id
    service.message(CITIZEN, sid, "김영호", NOW)
    turn = service.message(CITIZEN, sid, "990231-1234567", NOW)
    view = session_view(turn.session, catalogue(), turn.reply)
    assert view["problems"] == ["applicant_rrn"] and "990231" in view["reply"]
    assert "problems" not in session_view(turn.session, catalogue())


@pytest.mark.parametrize(
    "body",
    [None, {}, [], {"lang": "fr"}, {"easy": "yes"}, {"lang": None}, {"text": "hi"}],
)
def test_a_bad_preferences_body_is_400(body: Any) -> None:
    with pytest.raises(InvalidInput):
        Preferences.parse(body)


@pytest.mark.parametrize(
    "body",
    [
        [],
        {"lang": "fr"},
        {"easy": "yes"},
        {"text": ""},
        {"text": "\u200b"},
        {"text": 3},
        {"text": "x" * 501},
        {"other": 1},
        {"form_id": "passport"},
        {"keep_lang": 1},
    ],
)
def test_a_bad_start_body_is_400(body: Any) -> None:
    with pytest.raises(InvalidInput):
        StartRequest.parse(body)


@pytest.mark.parametrize("body", [None, {}, {"text": None}, {"text": "a", "lang": "ko"}])
def test_a_bad_message_body_is_400(body: Any) -> None:
    with pytest.raises(InvalidInput):
        message_text(body)


# ------------------------------------------------------------------ the handler, sample events


@pytest.fixture(scope="module")
def function(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[ModuleType, LocalIssuer]]:
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
            "POWERTOOLS_SERVICE_NAME": "unit-test-forms",
            "FORM_SESSIONS_TABLE": "form-sessions",
            # Issuance (section 4): tested with its own events in test_forms_issuance.py.
            "FORM_SUBMISSIONS_TABLE": "form-submissions",
            "FORM_ISSUANCE_STATE_MACHINE_ARN": (
                "arn:aws:states:ap-northeast-2:123456789012:stateMachine:form-issuance"
            ),
            "FORM_ISSUANCE_FAILURE_QUEUE_URL": (
                "https://sqs.ap-northeast-2.amazonaws.com/123456789012/form-issuance-failures"
            ),
            **issuer.environment(),
        }
    )
    try:
        with mock_aws():
            dynamodb = boto3.resource("dynamodb", region_name="ap-northeast-2")
            table_from_template(dynamodb, "FormSessionsTable", "form-sessions")
            yield importlib.import_module("functions.forms_dialogue.app"), issuer
    finally:
        os.environ.clear()
        os.environ.update(saved)


def _call(
    module: ModuleType, event: dict[str, Any], token: str | None, key: str | None = None
) -> tuple[int, Any, dict[str, str]]:
    event = copy.deepcopy(event)
    headers = {k: v for k, v in event["headers"].items() if k != "Authorization"}
    if token:
        headers["Authorization"] = f"Bearer {token}"
    if key:
        headers["X-Session-Key"] = key
    event["headers"] = headers
    event["multiValueHeaders"] = {k: [v] for k, v in headers.items()}
    answer = module.handler(event, LambdaContext())
    return answer["statusCode"], json.loads(answer["body"]), answer["headers"]


def _for_session(event: dict[str, Any], session_id: str) -> dict[str, Any]:
    event = json.loads(json.dumps(event).replace("FS-REPLACE_WITH_A_SESSION_ID", session_id))
    return event


def test_the_sample_events_drive_a_citizen_session(
    function: tuple[ModuleType, LocalIssuer],
) -> None:
    module, issuer = function
    token = issuer.mint("citizen", subject="citizen-sample")
    status, body, headers = _call(module, load_event("forms_dialogue/start_session.json"), token)
    assert status == 201 and headers["Location"] == body["links"]["self"]
    assert body["form_id"] == "move-in-report" and body["fields"] == {"move_date": "2026-12-04"}
    assert "수원시" in body["reply"] and "session_key" not in body
    assert headers["Cache-Control"] == "no-store"
    sid = body["session_id"]
    event = _for_session(load_event("forms_dialogue/post_message.json"), sid)
    status, body, _ = _call(module, event, token)
    assert status == 200 and body["fields"]["reporter_name"] == "김하늘"
    assert body["asking"]["field"] == "reporter_rrn"
    # Someone else's token: the session does not exist for them.
    other = issuer.mint("citizen", subject="someone-else")
    assert _call(module, event, other)[0] == 404
    get = copy.deepcopy(event)
    get.update(
        httpMethod="GET",
        resource="/forms/sessions/{session_id}",
        body=None,
        path=f"/forms/sessions/{sid}",
    )
    get["requestContext"].update(httpMethod="GET", resourcePath="/forms/sessions/{session_id}")
    status, body, _ = _call(module, get, token)
    assert status == 200 and body["fields"]["reporter_name"] == "김하늘"


def test_the_handler_maps_refusals_to_statuses(function: tuple[ModuleType, LocalIssuer]) -> None:
    module, issuer = function
    start_event = load_event("forms_dialogue/start_session.json")
    status, body, headers = _call(module, start_event, None)
    assert status == 401 and headers["WWW-Authenticate"].startswith("Bearer")
    assert body[0]["code"] == 401
    assert _call(module, start_event, issuer.mint("operator"))[0] == 403
    bad = copy.deepcopy(start_event)
    bad["body"] = json.dumps({"lang": "fr"})
    assert _call(module, bad, issuer.mint("citizen"))[0] == 400
    bad["body"] = "{"
    assert _call(module, bad, issuer.mint("citizen"))[0] == 400
    xml = copy.deepcopy(start_event)
    xml["headers"]["Content-Type"] = "text/xml"
    assert _call(module, xml, issuer.mint("citizen"))[0] == 415


def test_a_kiosk_gets_a_key_and_must_send_it(function: tuple[ModuleType, LocalIssuer]) -> None:
    module, issuer = function
    token = issuer.mint("kiosk", subject="kiosk-suwon-01")
    status, body, _ = _call(module, load_event("forms_dialogue/start_session.json"), token)
    assert status == 201 and body["session_key"]
    event = _for_session(load_event("forms_dialogue/post_message.json"), body["session_id"])
    assert _call(module, event, token)[0] == 404
    status, answer, _ = _call(module, event, token, key=body["session_key"])
    assert status == 200 and "session_key" not in answer


def test_the_function_package_ships_the_models() -> None:
    for name in ("classifier.json", "tagger.json"):
        assert (Path(MODEL_DIR) / name).stat().st_size > 10_000


def test_the_kiosk_page_and_the_switch_over_the_handler(
    function: tuple[ModuleType, LocalIssuer],
) -> None:
    module, issuer = function
    page = module.handler(load_event("forms_dialogue/get_kiosk_page.json"), LambdaContext())
    assert page["statusCode"] == 200 and page["body"].startswith("<!doctype html>")
    assert page["headers"]["Content-Type"] == "text/html; charset=utf-8"
    assert page["headers"]["Content-Security-Policy"].startswith("default-src 'none'")
    token = issuer.mint("kiosk", subject="kiosk-suwon-02")
    status, body, _ = _call(module, load_event("forms_dialogue/start_session.json"), token)
    key = body["session_key"]
    event = _for_session(load_event("forms_dialogue/set_preferences.json"), body["session_id"])
    assert _call(module, event, token)[0] == 404  # without the key: nobody's session
    status, answer, headers = _call(module, event, token, key=key)
    assert status == 200 and answer["lang"] == "en" and answer["keep_lang"] is True
    assert answer["reply"] == answer["asking"]["question"]
    assert headers["Cache-Control"] == "no-store"
    bad = copy.deepcopy(event)
    bad["body"] = json.dumps({"lang": "fr"})
    assert _call(module, bad, token, key=key)[0] == 400
