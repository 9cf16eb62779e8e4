"""A generated bilingual corpus of civil complaints, for training the classifier.

**Every text here is generated, not collected.** No public data set ships Korean civil complaint
texts with service and urgency labels, so this module writes them: per-service phrase
vocabularies (Korean and English) for each urgency, places from the 31 cities and counties,
sentence templates of one to four sentences, and the noise real complaints carry -- Korean jamo
and syllable slips, dropped spaces, English misspellings, chat slang (ㅠㅠ, ㅋㅋ, 넘, asap, pls)
and code-switching between scripts. Some phrases are deliberately confusable across services
(construction noise vs illegal building work, rubbish smells vs odour/air pollution, road damage
vs safety hazards), so the classifier has to weigh the whole text.

Generation is deterministic: the same ``seed`` and ``per_service`` give the same examples in the
same order (``random.Random(seed)``; no set or dict ordering is relied upon beyond insertion
order).
"""

from __future__ import annotations

import random
from dataclasses import dataclass

from gyeonggi.complaints.jurisdictions import JURISDICTIONS
from gyeonggi.complaints.services import SERVICES

URGENCIES: tuple[str, ...] = ("emergency", "high", "normal", "low")
"""Urgency labels, most urgent first."""

LANGUAGES: tuple[str, ...] = ("ko", "en", "mixed")


@dataclass(frozen=True, slots=True)
class Example:
    """One generated complaint with its labels."""

    text: str
    service_code: str
    urgency: str
    language: str


# ---------------------------------------------------------------------- vocabularies
# Per service and language: urgency -> issue clauses. A service without a pool for an urgency
# never produces that urgency (no rubbish complaint is an emergency unless something burns).
_P = dict[str, tuple[str, ...]]


@dataclass(frozen=True, slots=True)
class _Vocab:
    ko: _P
    en: _P
    ko_spots: tuple[str, ...]
    en_spots: tuple[str, ...]
    ko_details: tuple[str, ...]
    en_details: tuple[str, ...]
    mix: tuple[tuple[str, str], ...]  # Korean word -> English word, for code-switching
    weights: tuple[int, int, int, int]  # emergency, high, normal, low


_V: dict[str, _Vocab] = {
    "illegal-parking": _Vocab(
        ko={
            "high": (
                "소방차 전용구역에 차가 불법주차되어 있어요",
                "소화전 앞에 차를 대놔서 불나면 큰일나요",
                "장애인 주차구역에 일반차량이 계속 주차해요",
                "어린이보호구역 횡단보도 위에 차가 서 있어서 애들이 안 보여요",
            ),
            "normal": (
                "불법주차 차량 때문에 차가 못 지나가요",
                "인도 위에 차가 올라와서 주차돼 있어요",
                "골목에 이중주차가 심해서 출차를 못 해요",
                "버스정류장 앞에 불법 주정차가 매일 있어요",
                "주차금지 구역인데 트럭이 며칠째 세워져 있어요",
            ),
            "low": (
                "주차 단속 시간이 언제인지 궁금합니다",
                "거주자 우선주차 구역 신청 방법 문의드려요",
                "장기 방치 차량인지 확인 좀 해 주세요",
            ),
        },
        en={
            "high": (
                "a car is parked in the fire lane",
                "someone parked right in front of the fire hydrant",
                "cars keep parking in the disabled parking spaces",
                "a van is parked on the school zone crosswalk and kids cannot be seen",
            ),
            "normal": (
                "an illegally parked car is blocking the road",
                "cars parked on the sidewalk again",
                "double parking in the alley, I cannot get my car out",
                "illegal parking at the bus stop every morning",
                "a truck has been parked in a no parking zone for days",
            ),
            "low": (
                "when do you do parking enforcement here",
                "how do I apply for a resident parking permit",
                "could you check if this car is abandoned",
            ),
        },
        ko_spots=("아파트 정문 앞", "초등학교 앞", "먹자골목", "상가 앞 도로", "지하철역 3번 출구"),
        en_spots=("the apartment gate", "the elementary school", "the market street", "exit 3"),
        ko_details=("차 번호는 사진으로 찍어뒀어요", "밤마다 같은 차예요", "견인 부탁드려요"),
        en_details=("I took a photo of the plate", "same car every night", "please tow it"),
        mix=(("불법주차", "illegal parking"), ("차", "car"), ("견인", "tow")),
        weights=(0, 3, 6, 2),
    ),
    "road-damage": _Vocab(
        ko={
            "emergency": (
                "도로 한가운데 싱크홀이 생겼어요 차가 빠질 것 같아요",
                "도로가 갑자기 꺼져서 큰 구멍이 났어요",
                "지반 침하로 도로가 내려앉고 있어요",
            ),
            "high": (
                "큰 포트홀 때문에 차 타이어가 터졌어요",
                "도로 파임이 깊어서 오토바이가 넘어졌어요",
                "맨홀 주변 도로가 움푹 패여서 위험해요",
            ),
            "normal": (
                "도로에 포트홀이 생겼어요",
                "아스팔트가 갈라지고 울퉁불퉁해요",
                "보도블럭이 깨져서 들떠 있어요",
                "차선이 다 지워져서 안 보여요",
                "과속방지턱이 부서졌어요",
            ),
            "low": (
                "도로 재포장 공사 일정이 궁금해요",
                "보도블럭 색이 바래서 교체 요청드려요",
            ),
        },
        en={
            "emergency": (
                "a sinkhole opened in the middle of the road",
                "the road surface suddenly collapsed into a big hole",
                "the road is sinking, cars could fall in",
            ),
            "high": (
                "a huge pothole burst my tyre",
                "deep pothole, a scooter rider fell over",
                "the asphalt around the manhole has caved in",
            ),
            "normal": (
                "there is a pothole on the road",
                "cracked asphalt and a bumpy road surface",
                "broken paving stones on the sidewalk",
                "the lane markings have worn off",
                "the speed bump is broken",
            ),
            "low": (
                "when will this road be resurfaced",
                "the paving blocks are faded, please replace them some time",
            ),
        },
        ko_spots=("사거리", "버스정류장 옆 도로", "아파트 진입로", "국도 3호선", "시장 앞 인도"),
        en_spots=("the intersection", "the road by the bus stop", "the main road", "route 3"),
        ko_details=(
            "비 온 뒤로 더 커졌어요",
            "밤에는 안 보여서 위험해요",
            "차들이 피하느라 급정거해요",
        ),
        en_details=(
            "it got bigger after the rain",
            "hard to see at night",
            "cars swerve around it",
        ),
        mix=(("포트홀", "pothole"), ("도로", "road"), ("싱크홀", "sinkhole")),
        weights=(2, 3, 6, 1),
    ),
    "streetlight": _Vocab(
        ko={
            "emergency": (
                "가로등 기둥이 쓰러져서 전선에서 불꽃이 튀어요",
                "가로등이 넘어져서 전선이 길에 늘어져 있어요",
            ),
            "high": (
                "가로등이 기울어져서 곧 쓰러질 것 같아요",
                "골목 가로등이 다 꺼져서 밤에 너무 무서워요",
                "가로등 덮개가 떨어져서 전선이 보여요",
            ),
            "normal": (
                "가로등이 꺼져 있어요",
                "가로등 불이 계속 깜빡거려요",
                "보안등이 고장 났어요",
                "가로등이 낮에도 켜져 있어요",
                "가로등 전구가 나갔어요",
            ),
            "low": (
                "가로등 밝기를 조금 줄여 주실 수 있나요",
                "가로등을 하나 더 설치해 주셨으면 해요",
            ),
        },
        en={
            "emergency": (
                "a streetlight pole fell over and the wires are sparking",
                "the lamp post is down and cables are lying on the street",
            ),
            "high": (
                "the streetlight pole is leaning and about to fall",
                "all the lights in the alley are out, it is scary at night",
                "the cover of the lamp post is off and wires are showing",
            ),
            "normal": (
                "the streetlight is out",
                "the streetlight keeps flickering",
                "the security light is broken",
                "the streetlight stays on during the day",
                "the street lamp bulb is dead",
            ),
            "low": (
                "could you dim the streetlight a bit",
                "we would like one more streetlight here",
            ),
        },
        ko_spots=("공원 산책로", "골목길", "버스정류장", "아파트 후문", "육교 위"),
        en_spots=("the park path", "the alley", "the bus stop", "the back gate", "the footbridge"),
        ko_details=("밤에 너무 어두워요", "여성들이 혼자 다니기 무서워해요", "일주일째 그대로예요"),
        en_details=("it is pitch dark at night", "people feel unsafe walking alone", "for a week"),
        mix=(("가로등", "streetlight"), ("불", "light"), ("전구", "bulb")),
        weights=(1, 3, 6, 2),
    ),
    "noise": _Vocab(
        ko={
            "high": (
                "새벽 내내 공사장 소음 때문에 한숨도 못 잤어요",
                "매일 밤 오토바이 폭주 소음이 너무 심해요",
            ),
            "normal": (
                "층간소음이 너무 심해요",
                "밤늦게까지 술집 음악 소리가 시끄러워요",
                "새벽 공사 소음 때문에 잠을 못 자요",
                "확성기 소리가 너무 커요",
                "옆 건물 에어컨 실외기 소음이 심해요",
                "개 짖는 소리가 밤새 나요",
            ),
            "low": (
                "소음 측정 신청은 어떻게 하나요",
                "공사 소음 허용 시간이 언제까지인지 알고 싶어요",
            ),
        },
        en={
            "high": (
                "construction noise all night, nobody could sleep",
                "motorbikes racing and roaring every night",
            ),
            "normal": (
                "the noise from upstairs is unbearable",
                "loud music from the bar until late",
                "construction noise at dawn wakes us up",
                "the loudspeaker is way too loud",
                "the air conditioner units next door are very noisy",
                "dogs barking all night",
            ),
            "low": (
                "how do I request a noise measurement",
                "what are the allowed hours for construction noise",
            ),
        },
        ko_spots=("아파트 단지", "주택가", "상가 건물", "공사 현장 옆", "원룸촌"),
        en_spots=("our apartment complex", "the residential area", "the shopping block"),
        ko_details=("아기가 자꾸 깨요", "새벽 2시까지 계속돼요", "시험 기간인데 공부를 못 해요"),
        en_details=("the baby keeps waking up", "it goes on until 2 am", "I cannot study"),
        mix=(("소음", "noise"), ("시끄러워요", "so loud"), ("공사", "construction")),
        weights=(0, 2, 7, 2),
    ),
    "odor-air": _Vocab(
        ko={
            "emergency": (
                "공장에서 유독가스 같은 냄새가 나서 눈이 따갑고 숨쉬기 힘들어요",
                "화학약품 냄새가 진동하고 사람들이 어지러워해요",
            ),
            "high": (
                "공장 굴뚝에서 검은 연기가 계속 나와요",
                "축사 악취 때문에 창문을 못 열어요",
            ),
            "normal": (
                "공장 악취가 심해요",
                "하수구 냄새 말고 타는 냄새가 동네에 퍼져요",
                "미세먼지가 공사장에서 날려요",
                "음식점 배기구 연기와 냄새가 집으로 들어와요",
                "퇴비 냄새가 마을 전체에 나요",
            ),
            "low": (
                "우리 동네 대기질 측정 결과를 알고 싶어요",
                "악취 관련 규정이 궁금합니다",
            ),
        },
        en={
            "emergency": (
                "a toxic chemical smell from the factory, eyes burning and hard to breathe",
                "strong chemical fumes and people are feeling dizzy",
            ),
            "high": (
                "black smoke keeps coming out of the factory chimney",
                "the livestock farm stink is so bad we cannot open windows",
            ),
            "normal": (
                "bad odour from the factory",
                "a burning smell spreads over the neighbourhood",
                "dust blowing from the construction site",
                "restaurant exhaust smoke and smell come into my flat",
                "manure smell over the whole village",
            ),
            "low": (
                "where can I see air quality readings for my area",
                "what are the rules on odour emissions",
            ),
        },
        ko_spots=("산업단지 근처", "공단 옆 마을", "축사 근처", "아파트 단지", "하천 주변"),
        en_spots=("the industrial complex", "the village by the plant", "the pig farm"),
        ko_details=("저녁만 되면 더 심해요", "아이들이 기침을 해요", "빨래를 못 널어요"),
        en_details=("worse every evening", "the kids are coughing", "cannot dry laundry outside"),
        mix=(("악취", "odor"), ("냄새", "smell"), ("연기", "smoke")),
        weights=(1, 3, 6, 2),
    ),
    "waste": _Vocab(
        ko={
            "emergency": ("쓰레기 더미에서 불이 나고 연기가 올라와요",),
            "high": (
                "무단투기 쓰레기에서 썩은 냄새가 나고 벌레가 들끓어요",
                "음식물 쓰레기가 일주일째 수거가 안 돼서 넘쳐요",
            ),
            "normal": (
                "쓰레기 무단투기가 심해요",
                "대형폐기물이 길에 버려져 있어요",
                "쓰레기 수거가 안 됐어요",
                "재활용 쓰레기가 분리수거장에 넘쳐나요",
                "누가 공터에 건축 폐기물을 버렸어요",
            ),
            "low": (
                "대형폐기물 스티커는 어디서 사나요",
                "음식물 쓰레기 수거 요일이 궁금해요",
                "종량제 봉투 판매처 알려주세요",
            ),
        },
        en={
            "emergency": ("the rubbish pile is on fire and smoke is rising",),
            "high": (
                "dumped garbage is rotting, stinks and full of flies",
                "food waste not collected for a week and overflowing",
            ),
            "normal": (
                "illegal dumping of trash again",
                "bulky waste left on the street",
                "the garbage was not picked up",
                "recycling bins are overflowing",
                "someone dumped construction debris on the empty lot",
            ),
            "low": (
                "where can I buy a bulky waste sticker",
                "which day is food waste collected",
                "where are the official trash bags sold",
            ),
        },
        ko_spots=("원룸 골목", "분리수거장", "공터", "전봇대 밑", "빌라 앞"),
        en_spots=("the studio flats alley", "the recycling area", "the empty lot", "the villa"),
        ko_details=(
            "고양이들이 다 뜯어놨어요",
            "CCTV 좀 달아주세요",
            "냄새 때문에 지나가기 힘들어요",
        ),
        en_details=("cats tore the bags open", "please install CCTV", "hard to walk past"),
        mix=(("쓰레기", "trash"), ("무단투기", "dumping"), ("수거", "pickup")),
        weights=(1, 2, 7, 3),
    ),
    "water-sewer": _Vocab(
        ko={
            "emergency": (
                "상수도관이 터져서 도로가 물바다예요",
                "하수가 역류해서 집 안으로 물이 차오르고 있어요",
            ),
            "high": (
                "맨홀 뚜껑이 없어져서 사람이 빠질 것 같아요",
                "하루 종일 수돗물이 안 나와요",
                "수돗물에서 녹물이 나와요",
            ),
            "normal": (
                "하수구가 막혀서 물이 안 빠져요",
                "하수구에서 냄새가 올라와요",
                "도로 옆 배수구가 막혔어요",
                "수도 계량기에서 물이 새요",
                "빗물받이가 낙엽으로 막혔어요",
            ),
            "low": (
                "수도요금이 갑자기 많이 나왔는데 확인 부탁드려요",
                "수도 이전 신청은 어떻게 하나요",
            ),
        },
        en={
            "emergency": (
                "a water main burst and the street is flooding",
                "sewage is backing up and flooding into the house",
            ),
            "high": (
                "the manhole cover is missing, someone could fall in",
                "no tap water all day",
                "rusty brown water coming from the tap",
            ),
            "normal": (
                "the drain is clogged and water does not go down",
                "sewer smell coming up from the drain",
                "the storm drain by the road is blocked",
                "the water meter is leaking",
                "the gutter grate is blocked with leaves",
            ),
            "low": (
                "my water bill is suddenly high, please check",
                "how do I transfer my water service",
            ),
        },
        ko_spots=("주택가 골목", "지하 주차장 입구", "아파트 단지 안", "상가 앞", "빌라 1층"),
        en_spots=("the residential alley", "the car park entrance", "the apartment block"),
        ko_details=("비만 오면 이래요", "물이 발목까지 찼어요", "어제부터 그래요"),
        en_details=("it happens whenever it rains", "water up to the ankles", "since yesterday"),
        mix=(("하수구", "drain"), ("수도", "water"), ("맨홀", "manhole")),
        weights=(2, 3, 6, 2),
    ),
    "parks-trees": _Vocab(
        ko={
            "emergency": (
                "큰 나무가 쓰러져서 전깃줄에 걸려 있어요",
                "태풍에 가로수가 부러져서 도로를 막고 곧 떨어질 것 같아요",
            ),
            "high": (
                "가로수 가지가 부러져서 매달려 있어요",
                "놀이터 그네 줄이 끊어져서 아이가 다칠 뻔했어요",
            ),
            "normal": (
                "공원 벤치가 부서졌어요",
                "가로수 가지치기가 필요해요",
                "공원 화장실이 너무 더러워요",
                "놀이터 미끄럼틀이 녹슬었어요",
                "공원 잔디가 다 말라 죽었어요",
                "은행나무 열매 냄새 때문에 청소 부탁드려요",
            ),
            "low": (
                "공원에 나무를 더 심어 주셨으면 좋겠어요",
                "공원 운동기구 사용법 안내판이 있었으면 해요",
            ),
        },
        en={
            "emergency": (
                "a big tree fell and is hanging on the power lines",
                "the typhoon snapped a street tree, it blocks the road and may fall",
            ),
            "high": (
                "a broken branch is hanging from the street tree",
                "the swing chain at the playground snapped, a kid almost got hurt",
            ),
            "normal": (
                "the park bench is broken",
                "the street trees need pruning",
                "the park toilet is filthy",
                "the playground slide is rusty",
                "the grass in the park is all dead",
                "ginkgo fruit on the pavement, please clean up",
            ),
            "low": (
                "please plant more trees in the park",
                "a sign explaining the exercise machines would be nice",
            ),
        },
        ko_spots=("근린공원", "어린이 놀이터", "하천 산책로", "가로수길", "체육공원"),
        en_spots=("the neighbourhood park", "the playground", "the riverside trail"),
        ko_details=("아이들이 많이 노는 곳이에요", "산책하는 사람이 많아요", "사진 첨부합니다"),
        en_details=("lots of kids play here", "many people walk here", "photo attached"),
        mix=(("공원", "park"), ("나무", "tree"), ("놀이터", "playground")),
        weights=(1, 2, 7, 2),
    ),
    "illegal-building": _Vocab(
        ko={
            "emergency": ("불법 증축한 건물 벽에 금이 가고 무너지고 있어요",),
            "high": (
                "허가 없이 옥상에 구조물을 올려서 무너질까 봐 불안해요",
                "불법 가설 건축물 공사 중에 자재가 길로 떨어져요",
            ),
            "normal": (
                "옆집이 허가 없이 증축 공사를 하고 있어요",
                "불법 건축물이 주차장에 지어졌어요",
                "무허가로 용도변경을 해서 영업하고 있어요",
                "베란다를 불법으로 확장했어요",
                "주말마다 무허가 공사를 해요",
                "불법 컨테이너 가건물이 설치됐어요",
            ),
            "low": (
                "건축 허가가 났는지 확인하고 싶어요",
                "불법 건축물 신고 절차가 궁금합니다",
            ),
        },
        en={
            "emergency": ("the illegally extended building has cracks and is collapsing",),
            "high": (
                "an unpermitted structure on the roof looks like it will collapse",
                "materials fall onto the street from illegal construction work",
            ),
            "normal": (
                "my neighbour is building an extension without a permit",
                "an illegal structure was built on the car park",
                "they changed the building use without permission",
                "the balcony was illegally extended",
                "unpermitted construction work every weekend",
                "an illegal container shed was put up",
            ),
            "low": (
                "I want to check whether this building has a permit",
                "how do I report an illegal building",
            ),
        },
        ko_spots=("다세대 주택", "상가 건물 옥상", "빌라 뒤편", "개발제한구역 안", "단독주택"),
        en_spots=("the multi-family house", "the rooftop", "behind the villa", "the green belt"),
        ko_details=("공사 소음도 심해요", "허가 표지판이 없어요", "몇 달째 계속 짓고 있어요"),
        en_details=(
            "very noisy too",
            "no permit sign posted",
            "they have been building for months",
        ),
        mix=(("불법", "illegal"), ("건축", "building"), ("공사", "construction")),
        weights=(1, 2, 7, 2),
    ),
    "animal": _Vocab(
        ko={
            "emergency": ("큰 개가 목줄 없이 돌아다니면서 사람을 물었어요",),
            "high": (
                "멧돼지가 마을에 내려왔어요",
                "도로에 로드킬 당한 고라니가 있어서 차들이 위험해요",
                "들개 무리가 아이들을 쫓아다녀요",
            ),
            "normal": (
                "유기견이 며칠째 동네를 돌아다녀요",
                "길고양이가 다쳐서 움직이지 못해요",
                "비둘기 떼 때문에 배설물이 심해요",
                "옆집 개가 방치돼서 굶고 있는 것 같아요",
                "죽은 고양이 사체 처리 부탁드려요",
            ),
            "low": (
                "반려동물 등록은 어디서 하나요",
                "길고양이 중성화 사업 신청하고 싶어요",
            ),
        },
        en={
            "emergency": ("a big dog without a leash is roaming and bit someone",),
            "high": (
                "a wild boar came down into the village",
                "a dead water deer on the road, cars are swerving",
                "a pack of stray dogs is chasing children",
            ),
            "normal": (
                "a stray dog has been wandering around for days",
                "an injured street cat cannot move",
                "pigeon droppings everywhere",
                "the neighbour's dog is neglected and starving",
                "please remove a dead cat",
            ),
            "low": (
                "where do I register my pet",
                "I want to apply for the stray cat neutering programme",
            ),
        },
        ko_spots=("아파트 놀이터", "산 밑 마을", "하천변", "시장 골목", "초등학교 뒤"),
        en_spots=("the playground", "the village below the hill", "the riverbank"),
        ko_details=("아이들이 무서워해요", "사진 찍어뒀어요", "밤에 특히 많아요"),
        en_details=("the children are scared", "I took pictures", "mostly at night"),
        mix=(("개", "dog"), ("고양이", "cat"), ("유기견", "stray dog")),
        weights=(1, 3, 6, 2),
    ),
    "public-transit": _Vocab(
        ko={
            "high": (
                "버스 기사가 난폭운전을 해서 승객이 넘어졌어요",
                "버스가 문을 연 채로 출발했어요",
            ),
            "normal": (
                "버스가 정류장을 그냥 지나쳤어요",
                "버스 배차간격이 너무 길어요",
                "버스 도착 안내 전광판이 고장났어요",
                "마을버스가 시간표대로 안 와요",
                "광역버스가 만차라서 못 탔어요",
                "기사님이 불친절해요",
            ),
            "low": (
                "버스 노선 신설을 건의합니다",
                "정류장에 의자를 설치해 주세요",
                "교통카드 환승 규정이 궁금해요",
            ),
        },
        en={
            "high": (
                "the bus driver drove recklessly and a passenger fell",
                "the bus started moving with the door open",
            ),
            "normal": (
                "the bus skipped our stop",
                "the bus interval is far too long",
                "the bus arrival display is broken",
                "the village bus never keeps to the timetable",
                "the express bus to Seoul was full and I could not get on",
                "the driver was rude",
            ),
            "low": (
                "please add a new bus route",
                "please put benches at the bus stop",
                "how do transfers work with the transit card",
            ),
        },
        ko_spots=("버스정류장", "환승센터", "지하철역 앞 정류장", "터미널"),
        en_spots=("the bus stop", "the transfer centre", "the station bus stop", "the terminal"),
        ko_details=("출근 시간에 특히 심해요", "30분이나 기다렸어요", "버스 번호는 7-2번이에요"),
        en_details=("worst at rush hour", "I waited 30 minutes", "it was bus number 7-2"),
        mix=(("버스", "bus"), ("정류장", "bus stop"), ("기사", "driver")),
        weights=(0, 2, 7, 3),
    ),
    "welfare": _Vocab(
        ko={
            "high": (
                "혼자 사는 어르신이 며칠째 연락이 안 돼요",
                "난방비가 없어서 보일러를 못 틀고 있어요",
                "당장 먹을 것이 없어서 긴급지원이 필요해요",
            ),
            "normal": (
                "기초연금 신청하고 싶어요",
                "장애인 활동지원 서비스 문의드려요",
                "긴급복지 지원 대상인지 알고 싶어요",
                "어르신 돌봄 서비스 신청 방법 알려주세요",
                "한부모 가정 지원금 문의합니다",
            ),
            "low": (
                "복지관 프로그램 일정이 궁금해요",
                "아동수당 지급일이 언제인가요",
                "노인 일자리 사업 모집 기간 알려주세요",
            ),
        },
        en={
            "high": (
                "an elderly neighbour living alone has not answered for days",
                "we cannot afford heating and the boiler is off",
                "no food at home, we need emergency support",
            ),
            "normal": (
                "I want to apply for the basic pension",
                "question about disability support services",
                "am I eligible for emergency welfare support",
                "how do I apply for elderly care services",
                "question about single parent family benefits",
            ),
            "low": (
                "what is the schedule of the welfare centre programmes",
                "when is the child allowance paid",
                "when is the senior jobs programme recruiting",
            ),
        },
        ko_spots=("주민센터", "행정복지센터", "복지관", "임대아파트"),
        en_spots=("the community centre", "the welfare centre", "the rental apartment"),
        ko_details=("거동이 불편하세요", "전화로는 안내를 못 받았어요", "서류가 뭐가 필요한가요"),
        en_details=("they have trouble walking", "nobody answered the phone", "what documents"),
        mix=(("복지", "welfare"), ("지원", "support"), ("신청", "apply")),
        weights=(0, 2, 6, 3),
    ),
    "safety-hazard": _Vocab(
        ko={
            "emergency": (
                "가스 냄새가 심하게 나요 가스가 새는 것 같아요",
                "전선이 끊어져서 피복이 벗겨진 채로 늘어져 있어요",
                "축대가 무너지고 있어요",
                "건물 외벽이 떨어져 나가고 있어요",
                "전기 배전함에서 연기가 나고 불이 붙을 것 같아요",
                "공사장 크레인이 기울어져 있어요",
            ),
            "high": (
                "간판이 떨어질 것 같이 흔들려요",
                "공사장 가림막이 쓰러져 있어요",
                "계단 난간이 부서져서 떨어질 위험이 있어요",
                "빙판길인데 제설이 안 됐어요",
            ),
            "normal": (
                "보행로에 안전 펜스가 없어서 위험해요",
                "어린이보호구역 표지판이 없어졌어요",
                "교차로 CCTV가 고장났어요",
                "방범용 반사경이 깨졌어요",
            ),
            "low": (
                "재난 대피소 위치를 알고 싶어요",
                "안전 점검 신청은 어떻게 하나요",
            ),
        },
        en={
            "emergency": (
                "strong gas smell, I think gas is leaking",
                "a power line snapped and exposed live wires are hanging down",
                "the retaining wall is collapsing",
                "pieces of the building facade are falling off",
                "the electrical box is smoking and about to catch fire",
                "the tower crane at the construction site is tilting",
            ),
            "high": (
                "a shop sign is shaking and about to fall",
                "the construction site fence has fallen over",
                "the stair railing is broken and someone could fall",
                "icy road and no snow removal",
            ),
            "normal": (
                "no safety fence along the walkway",
                "the school zone sign is missing",
                "the CCTV at the intersection is broken",
                "the traffic mirror is cracked",
            ),
            "low": (
                "where is the nearest disaster shelter",
                "how do I request a safety inspection",
            ),
        },
        ko_spots=("상가 건물 앞", "공사 현장 옆 인도", "주택가 골목", "재래시장", "육교 계단"),
        en_spots=("the shopping block", "the sidewalk by the site", "the alley", "the footbridge"),
        ko_details=("사람들이 많이 지나다녀요", "빨리 와 주세요", "아이들 통학로예요"),
        en_details=("lots of people pass by", "please come quickly", "it is a school route"),
        mix=(("가스", "gas"), ("전선", "wire"), ("위험", "danger")),
        weights=(5, 3, 3, 1),
    ),
    "certificate-admin": _Vocab(
        ko={
            "normal": (
                "무인 민원발급기가 고장났어요",
                "정부24에서 등본 발급이 안 돼요",
                "전입신고 처리가 아직 안 됐어요",
                "민원실 대기가 너무 길어요",
                "인감증명서 발급하려는데 오류가 나요",
            ),
            "low": (
                "주민등록등본 발급 방법을 알려주세요",
                "여권 재발급 서류가 뭐가 필요한가요",
                "가족관계증명서 온라인 발급 가능한가요",
                "민원실 운영시간이 궁금해요",
                "인감증명 대리 발급 되나요",
            ),
        },
        en={
            "normal": (
                "the certificate kiosk is out of order",
                "I cannot print my resident registration on Gov24",
                "my move-in report has not been processed yet",
                "the wait at the civil service counter is too long",
                "error when issuing a seal certificate",
            ),
            "low": (
                "how do I get a copy of my resident registration",
                "what documents do I need to renew my passport",
                "can I get a family relation certificate online",
                "what are the opening hours of the civil affairs office",
                "can someone else pick up my seal certificate",
            ),
        },
        ko_spots=("시청 민원실", "행정복지센터", "구청", "주민센터"),
        en_spots=("city hall", "the community service centre", "the district office"),
        ko_details=("급하게 필요해요", "회사에 내야 해요", "외국인도 되나요"),
        en_details=("I need it soon", "my employer needs it", "does this work for foreigners"),
        mix=(("등본", "certificate"), ("발급", "issue"), ("민원", "civil service")),
        weights=(0, 0, 5, 6),
    ),
    "tax": _Vocab(
        ko={
            "normal": (
                "재산세가 잘못 부과된 것 같아요",
                "자동차세 고지서가 두 번 나왔어요",
                "지방세 납부했는데 체납으로 나와요",
                "취득세 감면 신청했는데 반영이 안 됐어요",
            ),
            "low": (
                "재산세 납부 기한이 언제인가요",
                "자동차세 연납 신청 방법 알려주세요",
                "지방소득세 신고 방법이 궁금해요",
                "위택스에서 카드 납부 되나요",
            ),
        },
        en={
            "normal": (
                "I think my property tax was assessed wrongly",
                "I got the car tax bill twice",
                "I paid local tax but it shows as overdue",
                "my acquisition tax reduction was not applied",
            ),
            "low": (
                "when is the property tax due",
                "how do I pay the annual car tax in advance",
                "how do I file local income tax",
                "can I pay by card on Wetax",
            ),
        },
        ko_spots=("시청 세무과", "구청", "위택스"),
        en_spots=("the tax office", "the district office", "Wetax"),
        ko_details=("고지서 사진 첨부해요", "확인 부탁드려요", "가산세는 어떻게 되나요"),
        en_details=("bill photo attached", "please confirm", "what about the late fee"),
        mix=(("세금", "tax"), ("고지서", "bill"), ("재산세", "property tax")),
        weights=(0, 0, 5, 6),
    ),
}

# Generic pieces: where, how long, what the citizen asks for, what urgency sounds like.
_DONGS = (
    "매탄동",
    "정자동",
    "중앙동",
    "상동",
    "호계동",
    "일산동",
    "신곡동",
    "고잔동",
    "비전동",
    "영통동",
    "동탄",
    "운정동",
    "장기동",
    "별내동",
    "미사동",
)
_DONGS_EN = ("Maetan-dong", "Jeongja-dong", "Jungang-dong", "Sang-dong", "Dongtan", "Unjeong")

_KO_OPEN = ("안녕하세요.", "수고 많으십니다.", "민원 넣습니다.", "", "", "", "저기요", "")
_EN_OPEN = ("Hello,", "Hi.", "Dear officer,", "", "", "", "")
_KO_ASK = (
    "빨리 처리해 주세요",
    "확인 부탁드립니다",
    "조치 부탁드려요",
    "해결해 주세요",
    "처리 좀 해주세요",
    "빠른 조치 바랍니다",
)
_EN_ASK = (
    "please fix it",
    "please check",
    "please do something",
    "pls fix asap",
    "could someone look at it",
    "thank you",
)
_KO_URGENT = {
    "emergency": (
        "지금 당장 와 주세요!!",
        "사람 다칠 것 같아요",
        "너무 위험해요 빨리요",
        "119도 불렀어요",
    ),
    "high": ("오늘 안에 처리 부탁드려요", "점점 심해지고 있어요", "아이들이 다닐까 봐 걱정돼요"),
    "normal": ("몇 번이나 신고했는데 그대로예요", "불편합니다", ""),
    "low": ("급한 건 아니에요", "시간 되실 때 봐주세요", "그냥 문의드려요"),
}
_EN_URGENT = {
    "emergency": ("send someone NOW!!", "someone is going to get hurt", "very dangerous, hurry"),
    "high": ("please handle it today", "it is getting worse", "worried about the kids"),
    "normal": ("I reported this before and nothing changed", "very annoying", ""),
    "low": ("not urgent", "whenever you have time", "just asking"),
}
_KO_DURATION = ("일주일째예요", "벌써 3일째예요", "어제부터 이래요", "한 달도 넘었어요")
_EN_DURATION = ("for a week now", "since last Monday", "for three days", "for over a month")
_KO_SLANG = ("ㅠㅠ", "ㅠㅠㅠ", "ㅋㅋ", "진짜", "ㄹㅇ", "하..", "넘", "너무너무")
_EN_SLANG = ("pls", "plz", "asap", "omg", "thx", "smh", "!!!")


# ---------------------------------------------------------------------- noise
_HANGUL_BASE, _HANGUL_LAST = 0xAC00, 0xD7A3
_VOWEL_SLIPS = {1: 5, 5: 1, 0: 4, 4: 0, 13: 18, 18: 13}  # ㅐ<->ㅔ, ㅏ<->ㅓ, ㅜ<->ㅡ


def _jamo_typo(word: str, rng: random.Random) -> str:
    """One slip in a Hangul syllable: a vowel confused, a final consonant dropped or added."""
    positions = [i for i, ch in enumerate(word) if _HANGUL_BASE <= ord(ch) <= _HANGUL_LAST]
    if not positions:
        return word
    i = rng.choice(positions)
    code = ord(word[i]) - _HANGUL_BASE
    initial, medial, final = code // 588, (code % 588) // 28, code % 28
    kind = rng.random()
    if kind < 0.4 and medial in _VOWEL_SLIPS:
        medial = _VOWEL_SLIPS[medial]
    elif final:
        final = 0
    else:
        final = rng.choice((4, 8, 16, 21))  # ㄴ ㄹ ㅁ ㅇ: the usual fat-finger finals
    return word[:i] + chr(_HANGUL_BASE + initial * 588 + medial * 28 + final) + word[i + 1 :]


def _latin_typo(word: str, rng: random.Random) -> str:
    if len(word) < 4 or not word.isascii():
        return word
    i = rng.randrange(1, len(word) - 2)
    kind = rng.random()
    if kind < 0.4:
        return word[:i] + word[i + 1] + word[i] + word[i + 2 :]  # swapped letters
    if kind < 0.7:
        return word[:i] + word[i + 1 :]  # dropped letter
    return word[:i] + word[i] + word[i:]  # doubled letter


def _add_noise(text: str, rng: random.Random) -> str:
    words = text.split(" ")
    for _ in range(rng.choice((0, 1, 1, 2, 3))):
        j = rng.randrange(len(words))
        words[j] = _latin_typo(words[j], rng) if words[j].isascii() else _jamo_typo(words[j], rng)
    # Dropped spaces: Korean users often type clauses without spacing.
    if len(words) > 3 and rng.random() < 0.35:
        j = rng.randrange(len(words) - 1)
        words[j : j + 2] = [words[j] + words[j + 1]]
    out = " ".join(words)
    if rng.random() < 0.3:
        out = out.replace("너무", "넘").replace("please", "pls")
    return out


# ---------------------------------------------------------------------- assembly
def _place(rng: random.Random, korean: bool) -> str:
    j = rng.choice(JURISDICTIONS)
    if korean:
        return f"{j.name_ko} {rng.choice(_DONGS)}" if rng.random() < 0.7 else j.name_ko
    return f"{rng.choice(_DONGS_EN)}, {j.name_en}" if rng.random() < 0.4 else j.name_en


def _code_switch(text: str, vocab: _Vocab, rng: random.Random) -> str:
    # Only whole words or word starts: "수도" must not turn "상수도관" into "상water관".
    words = text.split(" ")
    for ko, en in vocab.mix:
        for i, word in enumerate(words):
            if word.startswith(ko) and rng.random() < 0.6:
                words[i] = en + word[len(ko) :]
                break
    return " ".join(words)


def _sentence_ko(vocab: _Vocab, urgency: str, rng: random.Random) -> list[str]:
    issue = rng.choice(vocab.ko[urgency])
    spot = rng.choice(vocab.ko_spots)
    form = rng.random()
    if form < 0.4:
        first = f"{_place(rng, True)} {spot} {issue}"
    elif form < 0.7:
        first = f"{spot} {issue}"
    else:
        first = f"{issue}. 위치는 {_place(rng, True)} {spot}이에요"
    parts = [rng.choice(_KO_OPEN), first + "."]
    if rng.random() < 0.5:
        parts.append(rng.choice(vocab.ko_details) + ".")
    if rng.random() < 0.3:
        parts.append(rng.choice(_KO_DURATION) + ".")
    if rng.random() < 0.6:
        parts.append(rng.choice(_KO_URGENT[urgency]))
    if rng.random() < 0.6:
        parts.append(rng.choice(_KO_ASK) + ".")
    if rng.random() < 0.3:
        parts.append(rng.choice(_KO_SLANG))
    return parts


def _sentence_en(vocab: _Vocab, urgency: str, rng: random.Random) -> list[str]:
    issue = rng.choice(vocab.en[urgency])
    spot = rng.choice(vocab.en_spots)
    form = rng.random()
    if form < 0.4:
        first = f"{issue[0].upper()}{issue[1:]} near {spot} in {_place(rng, False)}"
    elif form < 0.7:
        first = f"{_place(rng, False)}: {issue} at {spot}"
    else:
        first = issue
    parts = [rng.choice(_EN_OPEN), first + "."]
    if rng.random() < 0.5:
        parts.append(rng.choice(vocab.en_details) + ".")
    if rng.random() < 0.3:
        parts.append(rng.choice(_EN_DURATION) + ".")
    if rng.random() < 0.6:
        parts.append(rng.choice(_EN_URGENT[urgency]))
    if rng.random() < 0.6:
        parts.append(rng.choice(_EN_ASK) + ".")
    if rng.random() < 0.25:
        parts.append(rng.choice(_EN_SLANG))
    return parts


def _compose(vocab: _Vocab, urgency: str, language: str, rng: random.Random) -> str:
    if language == "ko":
        parts = _sentence_ko(vocab, urgency, rng)
    elif language == "en":
        parts = _sentence_en(vocab, urgency, rng)
    else:
        # Mixed script: a Korean complaint with English words and an English ask, or the
        # other way round -- both are common in messages from younger residents.
        if rng.random() < 0.7:
            parts = _sentence_ko(vocab, urgency, rng)
            parts = [_code_switch(p, vocab, rng) for p in parts]
            parts.append(rng.choice(_EN_ASK + _EN_SLANG))
        else:
            parts = _sentence_en(vocab, urgency, rng)
            parts.append(rng.choice(_KO_ASK + _KO_SLANG))
    text = " ".join(p for p in parts if p)
    # Short ones: a hurried message keeps only the issue clause (still at least five words
    # with its place); long ones repeat a detail, as exasperated residents do.
    if rng.random() < 0.15:
        text = parts[1]
    return _add_noise(text, rng) if rng.random() < 0.45 else text


def generate(seed: int = 20261124, per_service: int = 240) -> list[Example]:
    """Generate ``per_service`` labelled complaints for each of the 15 services.

    Parameters
    ----------
    seed
        Seed of the generator; equal seeds give equal corpora.
    per_service
        Examples per service code (languages: about 45 % Korean, 30 % English, 25 % mixed).

    Returns
    -------
    list[Example]
        Texts with their ``service_code``, ``urgency`` and ``language``.
    """
    rng = random.Random(seed)
    examples: list[Example] = []
    for service in SERVICES:
        vocab = _V[service.code]
        urgencies = [u for u, w in zip(URGENCIES, vocab.weights, strict=True) if w]
        weights = [w for w in vocab.weights if w]
        for _ in range(per_service):
            urgency = rng.choices(urgencies, weights)[0]
            language = rng.choices(LANGUAGES, (45, 30, 25))[0]
            text = _compose(vocab, urgency, language, rng)
            examples.append(Example(text, service.code, urgency, language))
    rng.shuffle(examples)
    return examples
