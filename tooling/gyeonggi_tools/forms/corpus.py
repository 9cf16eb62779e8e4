"""The generated (synthetic) dialogues the two models are trained on, and the generated test
set (reported apart from the hand-written one, never as the measure).

**Nothing here was said by a citizen.** No public data set holds Korean petition-form dialogues,
so this module writes them, deterministically from a seed: openings that name a form in many
ways (or none), answers to each question in Korean and English (bare, in a sentence, several
fields at once), corrections, "skip", questions about words, switches of language and the
confirmation, with the fictitious people of :mod:`.people`. Each turn keeps the character spans
of its values, from which the slot tagger's labels are made.
"""

from __future__ import annotations

import random
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import Any

from gyeonggi.forms.catalogue import Catalogue, Form, FormField, catalogue
from gyeonggi.forms.dates import parse_date
from gyeonggi.forms.problems import InvalidValue
from gyeonggi.forms.validation import find_choices, validate
from gyeonggi_tools.forms.people import Faker, copula, topic, with_ro

Piece = str | tuple[str, str]  # plain text, or (slot, text of the value)

# ---------------------------------------------------------------------------- words

ROLE_WORDS: dict[str, dict[str, tuple[list[str], list[str]]]] = {
    # form -> slot -> (Korean role words, English role words)
    "seal-certificate": {
        "other": (
            ["매수인", "매수자", "사는 분", "사는 사람", "구매자"],
            ["the buyer", "buyer", "the purchaser"],
        )
    },
    "basic-pension": {
        "other": (
            ["배우자", "남편", "아내", "집사람", "바깥양반"],
            ["my wife", "my husband", "my spouse", "spouse"],
        )
    },
    "disability-registration": {
        "other": (
            ["보호자", "보호자분", "우리 보호자"],
            ["my guardian", "guardian", "the guardian"],
        )
    },
    "family-relation-certificate": {"other": (["대상자", "그분"], ["the person", "their"])},
    "move-in-report": {
        "other": (
            ["세대주", "세대주 되시는 분", "집주인 세대주"],
            ["the head of household", "the householder", "the head"],
        )
    },
}

OPENINGS: dict[str, tuple[list[str], list[str]]] = {
    "resident-registration-copy": (
        [
            "주민등록등본",
            "주민등록초본",
            "등본",
            "초본",
            "등초본",
            "주민등록 등본",
            "주민등록표 초본",
        ],
        [
            "a resident registration copy",
            "a copy of my resident registration",
            "my resident register abstract",
            "a resident registration abstract",
            "a certified copy of my resident registration",
            "a deungbon",
            "a chobon",
        ],
    ),
    "move-in-report": (
        ["전입신고", "전입 신고", "이사 신고", "주소 이전 신고"],
        [
            "a move-in report",
            "to report my move",
            "to change my address",
            "to register my new address",
        ],
    ),
    "family-relation-certificate": (
        ["가족관계증명서", "기본증명서", "혼인관계증명서", "입양관계증명서", "가족관계 증명서"],
        [
            "a family relation certificate",
            "a family relationship certificate",
            "a basic certificate",
            "a marriage certificate",
            "an adoption certificate",
        ],
    ),
    "building-register-copy": (
        ["건축물대장", "건축물 대장", "건물대장", "집합건축물대장", "일반건축물대장"],
        [
            "a building register",
            "a copy of the building register",
            "the building ledger",
            "a building record",
        ],
    ),
    "basic-pension": (
        ["기초연금", "기초연금 신청", "노령연금", "어르신 연금"],
        [
            "the basic pension",
            "a basic pension",
            "the old-age pension",
            "the basic old-age pension",
        ],
    ),
    "disability-registration": (
        ["장애인 등록", "장애인등록", "장애 등록", "장애 판정 신청"],
        ["disability registration", "to register a disability", "a disability card"],
    ),
    "seal-certificate": (
        ["인감증명서", "인감 증명서", "인감증명", "부동산 매도용 인감"],
        [
            "a seal certificate",
            "an ingam certificate",
            "my personal seal certificate",
            "a seal impression certificate",
        ],
    ),
}
KO_VERBS = [
    "떼려고요",
    "떼러 왔어요",
    "발급받고 싶어요",
    "신청하려고요",
    "필요해요",
    "하려고 하는데요",
    "하고 싶어요",
    "좀 해 주세요",
    "신청할게요",
    "어떻게 해요?",
    "떼 주세요",
    "하러 왔는데요",
    "해야 돼요",
]
EN_FRAMES = [
    "I need {x}",
    "I'd like {x}",
    "I want {x}",
    "Can I get {x}?",
    "I'm here for {x}",
    "Could you help me with {x}?",
    "I would like to apply for {x}",
    "Hi, {x} please",
    "I have to get {x}",
    "How do I get {x}?",
]
#: Role words that also say the relation (family relation certificate: whose certificate).
RELATION_WORDS: dict[str, tuple[list[str], list[str]]] = {
    "parent": (
        ["아버지", "어머니", "아빠", "엄마"],
        ["my father", "my mother", "my dad", "my mom"],
    ),
    "child": (["아들", "딸"], ["my son", "my daughter"]),
    "spouse": (["남편", "아내", "집사람"], ["my husband", "my wife"]),
    "sibling": (["형", "누나", "동생", "언니", "오빠"], ["my brother", "my sister"]),
}
# Openings that name no form but mean one.
IMPLICIT: dict[str, tuple[list[str], list[str]]] = {
    "resident-registration-copy": (
        [
            "은행에 낼 서류 떼야 해요 주민등록 거",
            "회사에 주민등록 서류 내야 해요",
            "우리 집 세대 서류 떼야 해요",
        ],
        ["I need proof of my address for the bank", "my employer wants my resident record"],
    ),
    "move-in-report": (
        [
            "이사 왔는데 주소 옮기려고요",
            "새 집으로 이사했어요",
            "이사했는데 신고해야 하죠",
            "이사해서 주소 바꾸려고요",
        ],
        [
            "I just moved here",
            "I moved house and need to tell the office",
            "we moved last week, what do I file?",
        ],
    ),
    "family-relation-certificate": (
        ["가족 관계 서류 필요해요", "부모님이랑 관계 증명하는 서류요"],
        ["I need a paper that shows who my family is", "proof of my marriage"],
    ),
    "building-register-copy": (
        ["건물 서류 떼고 싶어요", "우리 건물 면적 나오는 서류요"],
        ["I need the official record of my building", "papers on my apartment building"],
    ),
    "basic-pension": (
        [
            "65세 됐는데 연금 받을 수 있어요?",
            "어머니 노후 연금 신청하려고요",
            "나라에서 주는 어르신 연금이요",
        ],
        ["I turned 65, can I get the pension?", "pension for seniors", "my pension application"],
    ),
    "disability-registration": (
        ["장애 판정 받으려고요", "아이 자폐 등록하려고요", "눈이 안 보여서 등록하려고요"],
        ["I want my son's hearing loss registered", "register my disability please"],
    ),
    "seal-certificate": (
        ["집 팔려고 인감 떼야 해요", "도장 증명서 필요해요", "아파트 매도하는데 필요한 서류요"],
        ["I'm selling my flat and need the seal paper", "I need to prove my seal for a loan"],
    ),
}
NONE_KO = [
    "안녕하세요",
    "도와주세요",
    "뭐 할 수 있어요?",
    "감사합니다",
    "잠깐만요",
    "음",
    "여기 화장실 어디예요?",
    "도로에 구멍이 났어요",
    "몇 시까지 해요?",
    "주차 어디에 해요?",
    "상담 좀 받고 싶어요",
    "네",
    "아니요",
    "수수료 얼마예요?",
    "사진 어디서 찍어요?",
    "오늘 날씨 좋네요",
    "담당자 바꿔 주세요",
]
NONE_EN = [
    "hello",
    "hi there",
    "help",
    "what can you do?",
    "thanks",
    "wait a moment",
    "um",
    "where is the toilet?",
    "there is a pothole on my street",
    "what time do you close?",
    "can I talk to someone?",
    "yes",
    "no",
    "how much does it cost?",
    "nice weather today",
]

VALUE_FRAMES: dict[str, tuple[list[str], list[str]]] = {
    # slot kind -> (Korean frames, English frames); {v} the value, {r} the role word, {c} the
    # copula, {t} the topic particle
    "name.self": (
        [
            "{v}",
            "{v}{c}",
            "{v}입니다",
            "제 이름은 {v}{c}",
            "저는 {v}입니다",
            "이름은 {v}요",
            "성함은 {v}{c}",
            "신청인은 {v}{c}",
            "{v}라고 합니다",
            "제 이름 {v}",
            "{v} 씨요",
        ],
        [
            "{v}",
            "My name is {v}",
            "I'm {v}",
            "It's {v}",
            "Name is {v}",
            "{v}, that's me",
            "This is {v}",
            "the applicant is {v}",
        ],
    ),
    "name.other": (
        [
            "{v}",
            "{v}{c}",
            "{r} 이름은 {v}{c}",
            "{r}{t} {v}{c}",
            "{r} 성함은 {v}입니다",
            "{r}는 {v}라고 해요",
            "{v}요",
        ],
        ["{v}", "{r} is {v}", "{r}'s name is {v}", "It's {v}", "{v}, {r}"],
    ),
    "rrn.self": (
        [
            "{v}",
            "{v}{c}",
            "주민번호는 {v}{c}",
            "주민등록번호 {v}입니다",
            "제 주민번호 {v}요",
            "번호는 {v}{c}",
        ],
        [
            "{v}",
            "My registration number is {v}",
            "RRN {v}",
            "my resident number is {v}",
            "It's {v}",
        ],
    ),
    "rrn.other": (
        ["{v}", "{r} 주민번호는 {v}{c}", "{r} 주민등록번호는 {v}입니다", "{v}요"],
        ["{v}", "{r}'s number is {v}", "{r}'s registration number is {v}", "It's {v}"],
    ),
    "phone.self": (
        [
            "{v}",
            "{v}{c}",
            "전화번호는 {v}{c}",
            "연락처 {v}입니다",
            "휴대폰 {v}요",
            "제 번호는 {v}{c}",
            "{v}로 연락 주세요",
        ],
        [
            "{v}",
            "My phone is {v}",
            "call me on {v}",
            "you can reach me at {v}",
            "my number is {v}",
            "phone: {v}",
        ],
    ),
    "phone.other": (
        ["{v}", "{r} 연락처는 {v}{c}", "{r} 번호는 {v}입니다", "{v}요"],
        ["{v}", "{r}'s number is {v}", "{r}'s phone is {v}", "It's {v}"],
    ),
    "addr.main": (
        ["{v}", "{v}{c}", "주소는 {v}{c}", "{v}에 살아요", "지금 {v}에 살고 있어요", "{v}입니다"],
        ["{v}", "I live at {v}", "My address is {v}", "It's {v}", "the address is {v}"],
    ),
    "addr.building": (
        ["{v}", "{v}{c}", "건물 주소는 {v}{c}", "{v}에 있는 건물이에요", "{v} 건물이요"],
        ["{v}", "The building is at {v}", "It's {v}", "the building's address is {v}"],
    ),
    "addr.prev": (
        [
            "{v}",
            "{v}{c}",
            "전 주소는 {v}{c}",
            "{v}에서 이사 왔어요",
            "원래 {v}에 살았어요",
            "이전 주소 {v}입니다",
        ],
        ["{v}", "I moved from {v}", "My old address was {v}", "previously {v}", "It was {v}"],
    ),
    "addr.new": (
        [
            "{v}",
            "{v}{c}",
            "새 주소는 {v}{c}",
            "{ro} 이사했어요",
            "지금은 {v}에 살아요",
            "이사 온 곳은 {v}{c}",
        ],
        ["{v}", "I moved to {v}", "The new address is {v}", "now at {v}", "It's {v}"],
    ),
    "addr.other": (
        ["{v}", "{r} 주소는 {v}{c}", "{r}{t} {v}에 살아요", "{v}{c}"],
        ["{v}", "{r} lives at {v}", "{r}'s address is {v}", "It's {v}"],
    ),
    "date": (
        ["{v}", "{v}요", "{v}에 이사했어요", "이사한 날은 {v}{c}", "{v}에 들어왔어요"],
        ["{v}", "I moved in {v}", "We moved {v}", "moved in on {v}", "It was {v}"],
    ),
    "count": (
        ["{v}", "{v} 주세요", "{v} 필요해요", "{v}만요", "{v}요", "{v} 부탁해요"],
        ["{v}", "I need {v}", "{v}, please", "just {v}", "{v} would be fine"],
    ),
    "account": (
        ["{v}", "{v}{c}", "계좌번호는 {v}{c}", "계좌는 {v}입니다", "{v}요"],
        ["{v}", "The account number is {v}", "account {v}", "It's {v}"],
    ),
    "unit": (["{v}", "{v}{c}", "{v}요"], ["{v}", "unit {v}", "It's {v}"]),
}
COUNT_KO = [
    "한 통",
    "두 통",
    "세 통",
    "네 통",
    "1통",
    "2통",
    "3통",
    "한 부",
    "두 부",
    "세 부",
    "2부",
    "한 장",
    "두 장",
    "다섯 통",
]
COUNT_EN = [
    "one copy",
    "two copies",
    "three copies",
    "a copy",
    "2 copies",
    "4 copies",
    "five copies",
]
COUNT_BARE = ["1", "2", "3", "하나", "두", "two", "three", "1", "2"]
DATE_KO = [
    "어제",
    "그저께",
    "지난주 금요일",
    "지난주 월요일",
    "이번 주 월요일",
    "사흘 전",
    "이틀 전",
    "{m}월 {d}일",
    "{m}월 {d}일",
    "{y}년 {m}월 {d}일",
    "{y}-{mm}-{dd}",
    "지난달 {d}일",
    "일주일 전",
]
DATE_EN = [
    "yesterday",
    "last Friday",
    "last Monday",
    "{mon} {d}",
    "{d} {mon}",
    "3 days ago",
    "two days ago",
    "a week ago",
    "{y}-{mm}-{dd}",
    "on Saturday",
]
MONTHS = [
    "January",
    "February",
    "March",
    "April",
    "May",
    "June",
    "July",
    "August",
    "September",
    "October",
    "November",
    "December",
]
CORRECTION_KO = [
    "아니, ",
    "아니요 ",
    "잠깐만요, ",
    "아 잘못 말했어요. ",
    "정정할게요. ",
    "다시 말할게요, ",
]
CORRECTION_EN = ["Actually, ", "No, ", "Sorry, ", "Wait, ", "I mean ", "Correction: "]
YES_KO = ["네", "네 맞아요", "예", "맞습니다", "네 그렇게 해 주세요", "좋아요", "응 맞아"]
YES_EN = ["yes", "yes, that's right", "yep", "correct", "that's all correct", "yes please", "ok"]
NO_KO = ["아니요", "아뇨", "아니요 없어요", "안 넣어도 돼요"]
NO_EN = ["no", "nope", "no thanks", "not needed"]
SKIP_KO = ["없어요", "없음", "건너뛸게요", "넘어가 주세요", "보호자는 없어요"]
SKIP_EN = ["none", "skip", "no one", "skip that", "I don't have one"]
CANCEL_KO = ["취소할게요", "그만할래요", "취소해 주세요", "안 할래요"]
CANCEL_EN = ["cancel", "never mind", "stop, I'll come back later", "forget it"]


def _fill(frame: str, value: str, role: str = "") -> list[Piece]:
    """A frame with its value as a tagged piece (the slot is filled in by the caller)."""
    frame = frame.replace("{c}", copula(value)).replace("{t}", topic(role) if role else "는")
    frame = frame.replace("{r}", role)
    if "{ro}" in frame:
        ro = with_ro(value)
        head, tail = frame.split("{ro}")
        return [head, ("", value), ro[len(value) :] + tail]
    head, _, tail = frame.partition("{v}")
    return [head, ("", value), tail]


@dataclass
class Turn:
    text: str
    lang: str
    form_id: str | None
    pending: str | None  # the pending field's slot (the tagger's context)
    spans: list[tuple[str, int, int]] = field(default_factory=list)


@dataclass
class Generated:
    """One generated dialogue in the converse format, with what it should end with."""

    id: str
    lang: str
    turns: list[Turn]
    form_id: str | None
    fields: dict[str, Any]
    state: str

    def converse_input(self) -> dict[str, Any]:
        return {"id": self.id, "lang": self.lang, "turns": [t.text for t in self.turns]}

    def expected(self) -> dict[str, Any]:
        return {"id": self.id, "form_id": self.form_id, "fields": self.fields, "state": self.state}


def join(pieces: list[Piece]) -> tuple[str, list[tuple[str, int, int]]]:
    text = ""
    spans = []
    for p in pieces:
        if isinstance(p, tuple):
            slot, value = p
            spans.append((slot, len(text), len(text) + len(value)))
            text += value
        else:
            text += p
    return text, spans


class Generator:
    """Writes dialogues for every form, deterministically from ``seed``."""

    def __init__(self, seed: int, today: date, cat: Catalogue | None = None) -> None:
        self.rng = random.Random(seed)
        self.fake = Faker(self.rng)
        self.today = today
        self.catalogue = cat or catalogue()
        self.current: dict[str, Any] = {}

    # ------------------------------------------------------------------ values

    def raw_value(self, form: Form, f: FormField, lang: str) -> tuple[str | None, str]:
        """A value for ``f`` as said (the text to tag, or None for a choice said in words) and
        the text of the answer."""
        r, fake = self.rng, self.fake
        if f.type == "name":
            return (v := fake.name(lang)), v
        if f.type == "rrn":
            if f.name in ("applicant_rrn",) and form.id == "basic-pension":
                v = fake.rrn(self.today, 64, 95)
            else:
                v = fake.rrn(self.today, 1 if f.slot == "rrn.other" else 17, 90)
            return v, v
        if f.type == "phone":
            v = fake.phone(landline=r.random() < 0.15)
            return v, v
        if f.type == "address":
            v, _ = fake.address(
                lang,
                gyeonggi=0.55 if f.name == "previous_address" else 0.85,
                detail=f.name != "building_address" or r.random() < 0.2,
            )
            return v, v
        if f.type == "date":
            return (v := self._date(lang)), v
        if f.type == "count":
            if lang == "en":
                v = r.choice(COUNT_EN + COUNT_BARE[-3:])
            else:
                v = r.choice(COUNT_KO + COUNT_BARE[:5])
            return v, v
        if f.type == "account":
            return (v := fake.account()), v
        if f.type == "text":
            return (v := fake.unit()), v
        return None, ""

    def _date(self, lang: str) -> str:
        r = self.rng
        for _ in range(20):
            day = self.today - timedelta(days=r.randint(1, 40))
            frame = r.choice(DATE_EN if lang == "en" else DATE_KO)
            said = frame.format(
                y=day.year,
                m=day.month,
                d=day.day,
                mm=f"{day.month:02d}",
                dd=f"{day.day:02d}",
                mon=MONTHS[day.month - 1],
            )
            try:  # "지난달 31일" in a month of 30 days: draw again
                parse_date(said, self.today)
            except InvalidValue:
                continue
            return said
        return self.today.isoformat()

    def choice_words(self, f: FormField, lang: str) -> tuple[str, str]:
        """A choice (its id) and words that name it."""
        c = self.rng.choice(f.choices)
        if f.type == "boolean":
            raise AssertionError
        words = [c.label.en, *c.synonyms_en] if lang == "en" else [c.label.ko, *c.synonyms_ko]
        return c.id, self.rng.choice(words)

    # ------------------------------------------------------------------ utterances

    def answer_pieces(
        self,
        form: Form,
        f: FormField,
        lang: str,
        value: str,
        bare: bool = False,
        explicit: bool = False,
    ) -> list[Piece]:
        """An answer for ``f`` with ``value`` in it, as pieces (the value tagged)."""
        r = self.rng
        slot = self.slot_of(form, f)
        frames_key = "addr.building" if f.name == "building_address" else slot
        ko, en = VALUE_FRAMES[frames_key]
        frames = en if lang == "en" else ko
        if bare:
            frames = frames[:1]
        elif explicit:
            # A correction out of turn names what it corrects ("아니, 주소는 ...").
            frames = [
                fr
                for fr in frames
                if "{r}" in fr
                or any(
                    w in fr
                    for w in (
                        "이름",
                        "성함",
                        "주소",
                        "번호",
                        "주민",
                        "연락",
                        "전화",
                        "이사",
                        "name",
                        "address",
                        "number",
                        "phone",
                        "moved",
                        "live",
                        "registration",
                        "account",
                        "계좌",
                        "신청인",
                        "I'm",
                        "call",
                        "reach",
                        "RRN",
                        "need",
                        "주세요",
                        "필요",
                    )
                )
            ] or frames
        role_ko, role_en = ROLE_WORDS.get(form.id, {}).get("other", ([""], [""]))
        relation = (
            self.current.get("subject_relation")
            if form.id == "family-relation-certificate"
            else None
        )
        if relation in RELATION_WORDS and r.random() < 0.6:
            role_ko, role_en = RELATION_WORDS[str(relation)]
        role = r.choice(role_en if lang == "en" else role_ko) if slot.endswith("other") else ""
        pieces = _fill(r.choice(frames), value, role)
        return [(slot, p[1]) if isinstance(p, tuple) else p for p in pieces]

    def slot_of(self, form: Form, f: FormField) -> str:
        return f.slot or f.type

    def choice_answer(self, f: FormField, lang: str) -> tuple[Any, list[Piece]]:
        r = self.rng
        if f.type == "boolean":
            yes = r.random() < 0.5
            if f.name == "married":
                words = (
                    (
                        ["네 있어요", "결혼했어요", "기혼이에요", "네"]
                        if yes
                        else ["아니요", "미혼이에요", "혼자예요", "사별했어요", "없어요"]
                    )
                    if lang == "ko"
                    else (
                        ["yes", "I'm married", "yes, married"]
                        if yes
                        else ["no", "I'm single", "not married", "I'm a widow"]
                    )
                )
            elif f.name == "include_address_history":
                words = (
                    (
                        ["네 넣어 주세요", "네", "포함해 주세요", "주소 변동도 넣어 주세요"]
                        if yes
                        else ["아니요", "빼 주세요", "필요 없어요"]
                    )
                    if lang == "ko"
                    else (
                        ["yes", "yes, include it", "with address history please"]
                        if yes
                        else ["no", "no thanks", "without the history"]
                    )
                )
            else:
                words = (YES_KO if yes else NO_KO) if lang == "ko" else (YES_EN if yes else NO_EN)
            return yes, [r.choice(words)]
        cid, word = self.choice_words(f, lang)
        tails_ko = ["", "요", "으로 주세요", "이요", "으로 해 주세요", "입니다"]
        tails_en = ["", " please", ", please", " I think"]
        if lang == "ko":
            tail = r.choice(tails_ko)
            if tail.startswith("으로") and not (word[-1:] and "가" <= word[-1] <= "힣"):
                tail = ""
            elif tail.startswith("으로") and word.endswith("로"):
                tail = tail[2:]
            elif tail.startswith("으로"):
                tail = with_ro(word)[len(word) :] + tail[2:]
            elif tail == "이요":
                tail = "이요" if (copula(word) == "이에요") else "요"
            return cid, [word + tail]
        return cid, [word + r.choice(tails_en)]

    # ------------------------------------------------------------------ dialogues

    def next_field(self, form: Form, values: dict[str, Any], skipped: set[str]) -> FormField | None:
        for f in form.fields:
            if f.name in values or f.name in skipped or not f.applies(values):
                continue
            if f.required or f.ask:
                return f
        return None

    def opening(self, form: Form, lang: str) -> list[Piece]:
        r = self.rng
        ko, en = OPENINGS[form.id]
        if r.random() < 0.18:
            iko, ien = IMPLICIT[form.id]
            return [r.choice(ien if lang == "en" else iko)]
        if lang == "en":
            return [r.choice(EN_FRAMES).format(x=r.choice(en))]
        alias = r.choice(ko)
        return [alias + r.choice(["", " ", " "]) + r.choice(KO_VERBS)]

    def dialogue(self, ident: str, form: Form, lang: str) -> Generated:
        r = self.rng
        turns: list[Turn] = []
        values: dict[str, Any] = {}
        self.current = values
        skipped: set[str] = set()
        raw: dict[str, Any] = {}

        def add(pieces: list[Piece], pending: FormField | None, tlang: str) -> None:
            text, spans = join(pieces)
            turns.append(
                Turn(
                    text,
                    tlang,
                    form.id,
                    self.slot_of(form, pending) if pending else None,
                    [s for s in spans if s[0]],
                )
            )

        def set_value(f: FormField, said: Any) -> None:
            values[f.name] = validate(f, said, self.today).value
            raw[f.name] = said
            for g in form.fields:
                if g.name in values and not g.applies(values):
                    del values[g.name]

        # Opening, sometimes with a value or two in it. A form's name may already say a choice
        # ("초본" is the abstract): the engine takes it, so the dialogue does too.
        opening: list[Piece] = self.opening(form, lang)
        pieces: list[Piece]
        opening_text, _ = join(opening)
        for f in form.fields:
            if f.type == "choice" and (f.required or f.ask):
                ids = {cid for cid, _, _ in find_choices(f, opening_text)}
                if len(ids) == 1:
                    set_value(f, ids.pop())
        extra_fields = [
            f
            for f in form.fields
            if f.applies(values)
            and f.type in ("count", "choice", "date")
            and f.core
            and f.name not in values
        ]
        if extra_fields and r.random() < 0.45:
            first = r.choice(extra_fields)
            if first.type in ("choice",):
                cid, said_pieces = self.choice_answer(first, lang)
                opening = [*opening, ". " if lang == "en" else " ", *said_pieces]
                set_value(first, cid)
            else:
                said, _ = self.raw_value(form, first, lang)
                assert said is not None
                opening = [
                    *opening,
                    ". " if lang == "en" else " ",
                    *self.answer_pieces(form, first, lang, said),
                ]
                set_value(first, said)
        add(opening, None, lang)
        cur_lang = lang
        guard = 0
        while guard < 30:
            guard += 1
            asked = self.next_field(form, values, skipped)
            if asked is None:
                break
            f = asked
            if r.random() < 0.05:  # a language switch mid-way
                cur_lang = "en" if cur_lang == "ko" else "ko"
            if r.random() < 0.05 and form.glossary:
                term = r.choice(r.choice(form.glossary).terms)
                q = (
                    f"{term}이 뭐예요?"
                    if cur_lang == "ko" and not term.isascii()
                    else f"what does {term} mean?"
                )
                add([q], f, cur_lang)
                continue
            if not f.required and r.random() < 0.5:
                add([r.choice(SKIP_EN if cur_lang == "en" else SKIP_KO)], f, cur_lang)
                skipped.add(f.name)
                continue
            if f.type in ("choice", "boolean"):
                cid, pieces = self.choice_answer(f, cur_lang)
                set_value(f, cid)
            else:
                said, _ = self.raw_value(form, f, cur_lang)
                assert said is not None
                pieces = self.answer_pieces(form, f, cur_lang, said, bare=r.random() < 0.35)
                set_value(f, said)
            # Sometimes the next field too, in the same breath.
            nxt = self.next_field(form, values, skipped)
            if nxt is not None and nxt.type not in ("choice", "boolean") and r.random() < 0.25:
                said2, _ = self.raw_value(form, nxt, cur_lang)
                assert said2 is not None
                sep = (
                    r.choice([", ", " 그리고 ", ". ", " "])
                    if cur_lang == "ko"
                    else r.choice([", ", " and ", ". "])
                )
                pieces = [*pieces, sep, *self.answer_pieces(form, nxt, cur_lang, said2)]
                set_value(nxt, said2)
            add(pieces, f, cur_lang)
            # Now and then a correction of something already given.
            if r.random() < 0.08:
                options = [
                    g
                    for g in form.fields
                    if g.name in values and g.type in ("name", "address", "count", "phone", "date")
                ]
                if options:
                    g = r.choice(options)
                    said3, _ = self.raw_value(form, g, cur_lang)
                    assert said3 is not None
                    lead = r.choice(CORRECTION_EN if cur_lang == "en" else CORRECTION_KO)
                    pieces = [lead, *self.answer_pieces(form, g, cur_lang, said3, explicit=True)]
                    set_value(g, said3)
                    nxt2 = self.next_field(form, values, skipped)
                    add(pieces, nxt2, cur_lang)
        state = "confirming"
        roll = r.random()
        if roll < 0.85:
            add([r.choice(YES_EN if cur_lang == "en" else YES_KO)], None, cur_lang)
            state = "confirmed"
        elif roll < 0.92:
            add([r.choice(CANCEL_EN if cur_lang == "en" else CANCEL_KO)], None, cur_lang)
            state, values = "cancelled", {}
        return Generated(ident, lang, turns, form.id, values, state)

    def dialogues(self, count: int) -> Iterator[Generated]:
        forms = list(self.catalogue)
        for i in range(count):
            form = forms[i % len(forms)]
            lang = "en" if self.rng.random() < 0.4 else "ko"
            yield self.dialogue(f"gen-{i:05d}", form, lang)

    def classification(self, count_per_form: int) -> list[tuple[str, str]]:
        """(text, label) pairs for the form classifier: openings, and ``none``."""
        out = []
        for form in self.catalogue:
            for _ in range(count_per_form):
                lang = "en" if self.rng.random() < 0.4 else "ko"
                text, _ = join(self.opening(form, lang))
                out.append((text, form.id))
        for _ in range(count_per_form * 2):
            lang = "en" if self.rng.random() < 0.4 else "ko"
            out.append((self.rng.choice(NONE_EN if lang == "en" else NONE_KO), "none"))
        return out
