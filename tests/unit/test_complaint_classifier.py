"""The complaint classifier: generated corpus, runtime parity with scikit-learn, CLI."""

from __future__ import annotations

import io
import json
import subprocess
import sys
from collections import Counter
from pathlib import Path

import pytest

from gyeonggi.complaints.classifier.model import (
    ComplaintClassifier,
    char_wb_ngrams,
    default_model_path,
    emergency_rule,
)
from gyeonggi.complaints.services import SERVICES
from gyeonggi_tools.complaints.classifier import corpus
from gyeonggi_tools.complaints.commands import cli_classify
from tests.conftest import ROOT

MODEL = ROOT / "functions" / "complaint_triage" / "model" / "model.json"
SEED = 20261124

HAND = [
    ("illegal-parking", "아파트 앞 소방차 진입로에 SUV가 또 불법주차ㅠㅠ 견인해주세요"),
    (
        "illegal-parking",
        "Someone keeps parking his truck on the sidewalk outside our building in Bucheon",
    ),
    ("illegal-parking", "정류장 앞에 차들이 주정차해서 bus가 못 서요 pls"),
    ("road-damage", "성남시 정자동 사거리에 포트홀이 엄청 커요 타이어 터질뻔"),
    ("road-damage", "Huge pothole on the road near Suwon station, my car almost got damaged"),
    ("road-damage", "인도 보도블럭이 다 깨져서 할머니가 넘어지셨어요"),
    ("streetlight", "우리 골목 가로등이 일주일째 꺼져있어요 넘 어두워요"),
    ("streetlight", "the street light in front of my house keeps flickering all night"),
    ("streetlight", "공원 가는 길 보안등 고장났어요ㅠ"),
    ("noise", "윗집 층간소음 때문에 미치겠어요 밤 12시에 뛰어다녀요"),
    ("noise", "The karaoke bar downstairs is blasting music until 3am every night"),
    ("noise", "새벽 5시부터 공사장 소음 ㅠㅠ 잠을 못자요"),
    ("odor-air", "공단에서 이상한 악취가 저녁마다 나요 창문을 못 열겠어요"),
    ("odor-air", "There is a terrible smell coming from the factory near our apartment in Siheung"),
    ("odor-air", "축사 냄새가 너무 심해요 마을 전체가 냄새"),
    ("waste", "원룸 골목에 쓰레기 무단투기 장난 아니에요 cctv 달아주세요"),
    ("waste", "People keep dumping furniture and trash bags next to the recycling area"),
    ("waste", "음식물쓰레기 수거가 안되서 냄새나요"),
    ("water-sewer", "하수구가 막혀서 비만 오면 골목이 물바다"),
    ("water-sewer", "No water coming from the tap since this morning in our building"),
    ("water-sewer", "맨홀 뚜껑이 없어졌어요 사람 빠지겠어요"),
    ("parks-trees", "근린공원 벤치 다 부서졌어요 애들 다칠까봐 걱정"),
    (
        "parks-trees",
        "The branches of the street trees are blocking the road signs, please prune them",
    ),
    ("parks-trees", "놀이터 미끄럼틀 녹슬고 깨졌어요"),
    ("illegal-building", "옆 건물이 허가도 없이 옥상에 증축하고 있어요"),
    ("illegal-building", "My neighbour built an illegal extension on his house without any permit"),
    ("illegal-building", "개발제한구역에 불법 창고를 지었어요"),
    ("animal", "유기견 두마리가 동네 돌아다녀요 무서워요"),
    ("animal", "A wild boar was seen near the elementary school in Yongin this morning"),
    ("animal", "길고양이 다쳐서 피흘리고 있어요 도와주세요"),
    ("public-transit", "7-2번 버스가 정류장 그냥 지나감;; 30분 기다림"),
    ("public-transit", "The bus driver was driving really dangerously and rude to passengers"),
    ("public-transit", "마을버스 배차간격 넘 길어요"),
    ("welfare", "혼자 사시는 할머니 난방비 지원 받을 수 있나요"),
    ("welfare", "How can my elderly mother apply for the basic pension?"),
    ("welfare", "긴급복지 지원 신청하고 싶습니다 형편이 어려워요"),
    ("safety-hazard", "건물 간판이 바람에 흔들려서 떨어질거 같아요"),
    ("safety-hazard", "Strong gas smell in the hallway of our building!!"),
    ("safety-hazard", "공사장 가림막 쓰러져서 인도 막고있어요 위험"),
    ("certificate-admin", "주민센터 무인발급기 고장났어요 등본 못뽑음"),
    ("certificate-admin", "How do I get a resident registration certificate online?"),
    ("certificate-admin", "여권 재발급 하려면 뭐 가져가야해요?"),
    ("tax", "자동차세 고지서가 두번 왔어요 확인좀"),
    ("tax", "I think my property tax bill is wrong, it doubled this year"),
    ("tax", "재산세 납부기한 언제까지에요?"),
]


@pytest.fixture(scope="module")
def classifier() -> ComplaintClassifier:
    return ComplaintClassifier.load(MODEL)


# ------------------------------------------------------------------ the corpus


def test_corpus_is_deterministic_and_covers_every_service_and_language() -> None:
    first, again = corpus.generate(seed=7, per_service=60), corpus.generate(seed=7, per_service=60)
    assert first == again
    assert first != corpus.generate(seed=8, per_service=60)
    services = Counter(e.service_code for e in first)
    assert set(services) == {s.code for s in SERVICES}
    assert set(services.values()) == {60}
    assert {e.language for e in first} == {"ko", "en", "mixed"}
    assert {e.urgency for e in first} == set(corpus.URGENCIES)
    lengths = [len(e.text.split()) for e in first]
    assert min(lengths) <= 6 and max(lengths) >= 25


def test_corpus_has_noise_slang_and_places() -> None:
    texts = " ".join(e.text for e in corpus.generate(seed=SEED))
    for token in ("ㅠㅠ", "asap", "pls", "넘", "수원시", "Gapyeong"):
        assert token in texts, token


# ------------------------------------------------------------------ runtime vs scikit-learn


def test_char_wb_ngrams_match_scikit_learn() -> None:
    from sklearn.feature_extraction.text import CountVectorizer

    text = "a 가로등이  꺼졌어요 pothole!!  x"
    analyzer = CountVectorizer(analyzer="char_wb", ngram_range=(1, 4)).build_analyzer()
    assert char_wb_ngrams(text.lower(), 1, 4) == analyzer(text)


def test_runtime_agrees_with_scikit_learn_on_the_held_out_split(
    classifier: ComplaintClassifier,
) -> None:
    from gyeonggi_tools.complaints.classifier.training import train

    trained = train(SEED)
    service_p = trained.service.predict_proba(trained.test_texts)
    urgency_p = trained.urgency.predict_proba(trained.test_texts)
    agree, worst = 0, 0.0
    for i, text in enumerate(trained.test_texts):
        service, urgency = classifier.probabilities(text)
        expected_s = dict(zip(trained.service.classes_, service_p[i], strict=True))
        expected_u = dict(zip(trained.urgency.classes_, urgency_p[i], strict=True))
        agree += max(service, key=service.__getitem__) == max(
            expected_s, key=expected_s.__getitem__
        )
        agree += max(urgency, key=urgency.__getitem__) == max(
            expected_u, key=expected_u.__getitem__
        )
        worst = max(worst, *(abs(service[k] - expected_s[k]) for k in service))
        worst = max(worst, *(abs(urgency[k] - expected_u[k]) for k in urgency))
    assert agree / (2 * len(trained.test_texts)) >= 0.995
    assert worst < 1e-3


def test_runtime_imports_neither_numpy_nor_scikit_learn() -> None:
    code = (
        "import sys, json\n"
        "from gyeonggi.complaints.classifier.model import ComplaintClassifier\n"
        f"c = ComplaintClassifier.load({str(MODEL)!r})\n"
        "c.classify('가로등이 꺼졌어요')\n"
        "print(json.dumps(sorted(m for m in sys.modules if m.split('.')[0] in "
        "('numpy', 'sklearn', 'scipy'))))\n"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=60, check=True
    )
    assert json.loads(out.stdout) == []


# ------------------------------------------------------------------ realistic texts


def test_hand_written_complaints_are_classified(classifier: ComplaintClassifier) -> None:
    # Written by hand, not generated: typos, slang, mixed script, other phrasings.
    wrong = [
        (code, t, classifier.classify(t).service_code)
        for code, t in HAND
        if classifier.classify(t).service_code != code
    ]
    assert len(wrong) <= len(HAND) * 0.15, wrong
    per_service = Counter(code for code, _, _ in wrong)
    assert max(per_service.values(), default=0) <= 1, wrong


@pytest.mark.parametrize(
    "text",
    [
        "1층 복도에서 가스냄새가 나요 빨리요",
        "Strong gas smell in the basement, I think it is leaking",
        "도로 한복판에 싱크홀 생겼어요!!",
        "전선이 끊어져서 불꽃이 튀고 있어요",
        "the old retaining wall behind our villa is collapsing",
        "공장에서 유독가스 냄새 ㅠㅠ 숨쉬기 힘들어요",
    ],
)
def test_emergencies_are_recognised(classifier: ComplaintClassifier, text: str) -> None:
    assert classifier.classify(text).urgency == "emergency"


def test_everyday_complaints_are_not_emergencies(classifier: ComplaintClassifier) -> None:
    for text in (
        "재산세 납부기한 언제까지에요?",
        "the bus skipped our stop",
        "공원 벤치가 낡았어요",
    ):
        assert classifier.classify(text).urgency in ("low", "normal"), text
    assert emergency_rule("fire lane blocked by a car") is None


def test_classification_carries_department_and_version(classifier: ComplaintClassifier) -> None:
    result = classifier.classify("버스가 정류장을 그냥 지나쳤어요")
    assert result.department == "transit-policy"
    assert result.model_version == classifier.version
    assert 0 < result.confidence <= 1


def test_committed_model_is_small_and_self_describing() -> None:
    assert MODEL.stat().st_size < 3_000_000
    document = json.loads(MODEL.read_bytes())
    metrics = json.loads((MODEL.parent / "metrics.json").read_text())
    assert document["version"] == metrics["version"]
    assert "generated" in document["corpus"]
    assert default_model_path() == MODEL


# ------------------------------------------------------------------ the CLI


def test_cli_classify_writes_one_line_per_input_and_errors_for_bad_lines() -> None:
    stdin = io.StringIO(
        '{"text": "가로등이 꺼졌어요"}\n'
        "\n"
        "{not json\n"
        '{"text": ""}\n'
        '["text"]\n'
        '{"text": "illegal dumping of trash behind the villa"}\n'
    )
    stdout = io.StringIO()
    assert cli_classify(stdin, stdout, model_path=MODEL) == 1
    lines = [json.loads(line) for line in stdout.getvalue().splitlines()]
    assert len(lines) == 5
    assert lines[0]["service_code"] == "streetlight"
    assert set(lines[0]) >= {"service_code", "confidence", "department", "urgency"}
    assert [line.get("line") for line in lines[1:4]] == [3, 4, 5]
    assert all("error" in line for line in lines[1:4])
    assert lines[4]["service_code"] == "waste"


def test_cli_classify_all_good_is_zero_and_missing_model_is_two(tmp_path: Path) -> None:
    assert cli_classify(io.StringIO('{"text": "pothole"}\n'), io.StringIO(), MODEL) == 0
    out = io.StringIO()
    assert cli_classify(io.StringIO(""), out, tmp_path / "none.json") == 2
    assert "error" in json.loads(out.getvalue())


def test_gyeonggi_complaints_classify_command() -> None:
    proc = subprocess.run(
        [sys.executable, "-m", "gyeonggi_tools", "complaints", "classify", "--model", str(MODEL)],
        input='{"text": "층간소음 때문에 못 살겠어요 ㅠㅠ"}\n{"oops": 1}\n',
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert proc.returncode == 1, proc.stderr
    assert "Traceback" not in proc.stderr
    first, second = (json.loads(line) for line in proc.stdout.splitlines())
    assert first["service_code"] == "noise"
    assert "error" in second
