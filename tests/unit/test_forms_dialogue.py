"""The dialogue's rules (issue 11, section 3), through the engine with the committed models."""

from __future__ import annotations

import logging
from datetime import date

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from gyeonggi.forms.catalogue import catalogue
from gyeonggi.forms.dialogue import Dialogue, DialogueState, start
from gyeonggi.forms.engine import load_engine
from tests.conftest import ROOT

TODAY = date(2026, 12, 7)
MODEL_DIR = ROOT / "functions" / "forms_dialogue" / "model"


@pytest.fixture(scope="module")
def engine() -> Dialogue:
    return load_engine(MODEL_DIR)


def talk(engine: Dialogue, turns: list[str], lang: str = "ko") -> tuple[DialogueState, list[str]]:
    state = start(lang, TODAY)
    replies = []
    for turn in turns:
        state, reply = engine.take_turn(state, turn)
        replies.append(reply.text)
    return state, replies


def test_the_first_utterance_names_the_form_and_fills_fields(engine: Dialogue) -> None:
    state, replies = talk(engine, ["전입신고 하려고요. 지난주 금요일에 이사했어요"])
    assert state.form_id == "move-in-report"
    assert state.fields == {"move_date": "2026-12-04"}
    assert state.pending == "reporter_name" and state.status == "collecting"
    assert "성함" in replies[0]
    state, _ = talk(engine, ["I need two copies of my resident registration abstract"], "en")
    assert state.form_id == "resident-registration-copy"
    assert state.fields == {"copies": 2, "document_kind": "abstract"}


def test_a_whole_form_to_confirmation(engine: Dialogue) -> None:
    state, replies = talk(
        engine,
        [
            "인감증명서 떼러 왔어요",
            "김영호",
            "680412-1234561",
            "아파트 팔려고요, 부동산 매도용이요",
            "사는 사람은 이지은이에요",
            "920315-2345672",
            "서울 관악구 관악로 1",
            "네",
        ],
    )
    assert state.status == "confirmed"
    assert state.fields == {
        "applicant_name": "김영호",
        "applicant_rrn": "680412-1234561",
        "purpose_kind": "real-estate-sale",
        "buyer_name": "이지은",
        "buyer_rrn": "920315-2345672",
        "buyer_address": {"address": "서울특별시 관악구 관악로 1"},
    }
    assert "확인해 주세요" in replies[-2] and "600원" in replies[-1]
    submission = state.submission(catalogue())
    assert submission["form_id"] == "seal-certificate" and submission["fee_krw"] == 600


def test_a_bad_value_is_named_and_asked_again_and_nothing_is_lost(engine: Dialogue) -> None:
    state, replies = talk(engine, ["기초연금 신청이요", "김순자", "580230-2123456"])
    assert state.fields == {"applicant_name": "김순자"}
    assert state.pending == "applicant_rrn"
    assert "있는 날짜가 아니에요" in replies[-1] and "주민등록번호" in replies[-1]
    state, replies = talk(
        engine,
        [
            "기초연금 신청이요",
            "김순자",
            "580312-2123456",
            "수원시 장안구 정조로 940",
            "010-12-3456",
        ],
    )
    assert state.pending == "phone" and "address" in state.fields
    assert "전화번호: '010-12-3456'" in replies[-1]  # said what was wrong, and asked again


def test_corrections_replace_a_value_in_any_state_but_the_final_ones(engine: Dialogue) -> None:
    state, _ = talk(
        engine,
        [
            "등본 좀 뽑으려구요",
            "최수민",
            "020915-4213578",
            "세 통이요",
            "아니요 필요 없어요",
            "학교 입학 서류로 내요",
            "아 잠깐만요 두 통이면 돼요",
        ],
    )
    assert state.fields["copies"] == 2 and state.status == "confirming"
    state, _ = talk(
        engine,
        [
            "I need a seal certificate",
            "Yoon Jae",
            "750101-1122336",
            "general",
            "actually no, I'm selling my flat so it's for a real estate sale",
        ],
        "en",
    )
    assert state.fields["purpose_kind"] == "real-estate-sale"
    assert state.pending == "buyer_name"  # the sale's conditional fields are asked now
    # Changing back to general use drops the buyer's fields.
    state, _ = talk(
        engine,
        [
            "인감증명서요",
            "오세훈",
            "710101-1212121",
            "부동산 매도용이요",
            "매수자는 정다은입니다",
            "아니 일반용으로 바꿔 주세요",
        ],
    )
    assert state.fields["purpose_kind"] == "general" and "buyer_name" not in state.fields


def test_skip_for_an_optional_field_and_not_for_a_required_one(engine: Dialogue) -> None:
    turns = [
        "장애인 등록 신청하려고요",
        "이현수",
        "780101-1234567",
        "성남시 중원구 산성대로 100",
        "010-1234-0000",
        "청각 장애예요",
    ]
    state, replies = talk(engine, [*turns, "없어요"])
    assert state.status == "confirming" and "guardian_name" in state.skipped
    state, replies = talk(engine, ["장애인 등록 신청하려고요", "skip"])
    # "skip" is English: the answer follows the citizen's language.
    assert state.pending == "applicant_name" and "is required" in replies[-1]
    state, replies = talk(engine, ["장애인 등록 신청하려고요", "건너뛸게요"])
    assert state.pending == "applicant_name" and "필요한 항목" in replies[-1]


def test_conditional_fields_follow_the_answers(engine: Dialogue) -> None:
    state, _ = talk(
        engine,
        [
            "기초연금 신청하러 왔어요",
            "김순자",
            "580312-2123456",
            "수원시 장안구 정조로 940",
            "010-2121-3434",
            "남편 있어요",
        ],
    )
    assert state.pending == "spouse_name"
    state, _ = talk(
        engine,
        [
            "기초연금 신청하러 왔어요",
            "김순자",
            "580312-2123456",
            "수원시 장안구 정조로 940",
            "010-2121-3434",
            "혼자 살아요",
        ],
    )
    assert state.fields["married"] is False and state.pending == "bank_name"


def test_a_question_gets_the_explanation_and_the_question_again(engine: Dialogue) -> None:
    state, replies = talk(engine, ["등본 떼러 왔는데요", "최수민", "020915-4213578"])
    state, reply = engine.take_turn(state, "what does 초본 mean?")
    assert "abstract" in reply.text and state.pending == "copies"
    assert reply.text.endswith("How many copies do you need?")
    state, replies = talk(engine, ["초본이 뭐예요?"])
    assert state.form_id is None and "한 사람" in replies[0]


def test_the_language_follows_the_citizen_and_easy_korean_on_request(engine: Dialogue) -> None:
    state, replies = talk(
        engine, ["건축물대장이요", "Can we speak English? My name is Ivan Petrov"]
    )
    assert state.lang == "en" and state.fields["applicant_name"] == "Ivan Petrov"
    assert replies[-1].startswith("Noted: Ivan Petrov") and "phone" in replies[-1]
    state, replies = talk(engine, ["장애인 등록이요", "쉬운 말로 해 주세요"])
    assert state.easy and replies[-1].endswith("이름을 말해 주세요.")


def test_cancel_erases_what_was_given(engine: Dialogue) -> None:
    state, _ = talk(
        engine, ["주민등록등본 발급해 주세요", "강민호", "790221-1834562", "취소할게요"]
    )
    assert state.status == "cancelled" and state.fields == {}
    state, reply = engine.take_turn(state, "강민호")
    assert state.status == "cancelled" and "새로" in reply.text


def test_a_city_said_first_is_used_for_the_address_asked_later(engine: Dialogue) -> None:
    state, _ = talk(
        engine,
        [
            "전입신고 하려고요",
            "최강",
            "900909-1999888",
            "서울 노원구 동일로 1414",
            "수원 팔달구",
            "정조로 825 1202호",
        ],
    )
    assert state.fields["new_address"] == {
        "address": "경기도 수원시 팔달구 정조로 825, 1202호",
        "jurisdiction_id": "suwon.gg.kr",
    }


def test_a_late_move_in_report_is_accepted_with_a_warning(engine: Dialogue) -> None:
    state, replies = talk(
        engine,
        [
            "전입신고요",
            "한지우",
            "000707-4123456",
            "화성시 동탄대로 600",
            "성남시 분당구 불정로 90",
            "11월 10일에 이사했어요",
        ],
    )
    assert state.fields["move_date"] == "2026-11-10"
    assert "13일 늦었어요" in replies[-1] and "신고는 그대로 받아요" in replies[-1]


def test_replies_and_logs_never_show_a_whole_rrn(
    engine: Dialogue, caplog: pytest.LogCaptureFixture
) -> None:
    state, replies = talk(
        engine, ["초본 두 통이요", "정하늘", "주민등록번호는 011130-3456782입니다"]
    )
    assert state.fields["applicant_rrn"] == "011130-3456782"
    assert "011130-3******" in replies[-1] and "3456782" not in " ".join(replies)


@settings(max_examples=60, deadline=None, suppress_health_check=list(HealthCheck))
@given(
    texts=st.lists(st.text(min_size=1, max_size=80), min_size=1, max_size=4),
    lang=st.sampled_from(["ko", "en"]),
)
def test_any_text_gets_an_answer(engine: Dialogue, texts: list[str], lang: str) -> None:
    state = start(lang, TODAY)
    for opening in ("전입신고요", "seal certificate"):
        state, _ = engine.take_turn(start(lang, TODAY), opening)
        for text in texts:
            state, reply = engine.take_turn(state, text)
            assert reply.text
            assert state.status in ("collecting", "confirming", "confirmed", "cancelled")


def test_the_masking_logger_masks_rrns_in_messages_and_arguments(
    caplog: pytest.LogCaptureFixture,
) -> None:
    from gyeonggi.common.observability import _PersonalDataFilter

    record = logging.LogRecord(
        "t", logging.INFO, __file__, 1, "got %s and 9001011234567", ("900101-1234567",), None
    )
    assert _PersonalDataFilter().filter(record)
    assert record.getMessage() == "got 900101-1****** and 900101-1******"


def test_an_exception_logged_with_an_rrn_in_its_message_is_masked(
    capsys: pytest.CaptureFixture[str],
) -> None:
    from gyeonggi.common.observability import observability

    logger, _, _ = observability("unit-test-masking")
    error = ValueError("bad number 900101-1234567")
    try:
        raise error
    except ValueError:
        logger.exception("failed on %s", "9001011234567")
    out = capsys.readouterr().out
    assert "900101-1******" in out and "1234567" not in out.replace("900101-1******", "")
    assert str(error) == "bad number 900101-1234567"  # the caller's exception is untouched
