"""Fictitious people, numbers and places for the generated dialogues.

Everything here is made up: names drawn from common syllables, resident registration numbers
that are well formed (a real birth date, a valid century/sex digit) but belong to nobody,
010 mobile numbers and Gyeonggi landlines chosen at random, road names that exist in the
province with building numbers drawn at random.
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from datetime import date, timedelta

from gyeonggi.forms.rrn import check_digit

SURNAMES = (
    "김김김이이이박박최정강조윤장임한오서신권황안송류홍전고문양손배백허남심노하곽성차주우구민진나"
)
GIVEN = (
    "민서지현수준영하은도윤서연우진예린시우주원채은건우하윤지호수아유준다은은우지민태윤소율"
    "현우승민재원서진예준나연동현가은정훈미경영숙순자광수명희철수말순옥자경희상철"
)
EN_GIVEN = [
    "John",
    "Maria",
    "David",
    "Anna",
    "James",
    "Sarah",
    "Michael",
    "Emma",
    "Daniel",
    "Olivia",
    "Thomas",
    "Sophie",
    "Nguyen Van",
    "Tran Thi",
    "Aiko",
    "Wei",
    "Carlos",
    "Fatima",
    "Ivan",
    "Priya",
]
EN_FAMILY = [
    "Smith",
    "Garcia",
    "Brown",
    "Wilson",
    "Taylor",
    "Lee",
    "Park",
    "Kim",
    "Nguyen",
    "Tanaka",
    "Chen",
    "Lopez",
    "Petrov",
    "Sharma",
    "Martin",
    "Choi",
]
ROMAN = {
    "김": "Kim",
    "이": "Lee",
    "박": "Park",
    "최": "Choi",
    "정": "Jung",
    "강": "Kang",
    "조": "Cho",
    "윤": "Yoon",
    "장": "Jang",
    "임": "Lim",
    "한": "Han",
    "오": "Oh",
}
ROMAN_GIVEN = [
    "Minjun",
    "Seoyeon",
    "Jiho",
    "Haeun",
    "Doyun",
    "Jimin",
    "Yerin",
    "Sua",
    "Hyunwoo",
    "Eunji",
    "Taeyang",
    "Sora",
    "Junho",
    "Mina",
    "Seojun",
    "Yuna",
]

# Gyeonggi cities: (name, [districts], [roads])
GYEONGGI = [
    (
        "수원시",
        ["팔달구", "영통구", "장안구", "권선구"],
        [
            "효원로",
            "정조로",
            "매탄로",
            "중부대로",
            "경수대로",
            "인계로",
            "권광로",
            "창룡대로",
            "광교중앙로",
            "덕영대로",
        ],
    ),
    (
        "성남시",
        ["분당구", "수정구", "중원구"],
        ["불정로", "성남대로", "황새울로", "판교역로", "산성대로", "둔촌대로"],
    ),
    (
        "용인시",
        ["수지구", "기흥구", "처인구"],
        ["풍덕천로", "용구대로", "중부대로", "금령로", "신봉2로"],
    ),
    (
        "고양시",
        ["일산동구", "일산서구", "덕양구"],
        ["중앙로", "호수로", "고양대로", "일산로", "화정로"],
    ),
    ("화성시", [], ["시청로", "향남로", "동탄대로", "봉담로"]),
    ("부천시", [], ["길주로", "부천로", "소사로", "경인로"]),
    ("안산시", ["단원구", "상록구"], ["화랑로", "광덕대로", "중앙대로"]),
    ("안양시", ["동안구", "만안구"], ["시민대로", "평촌대로", "안양로"]),
    ("남양주시", [], ["경춘로", "다산중앙로", "진접로"]),
    ("의정부시", [], ["시민로", "평화로", "금오로"]),
    ("평택시", [], ["평택로", "중앙로", "경기대로"]),
    ("파주시", [], ["시청로", "문발로", "가람로"]),
    ("김포시", [], ["사우중로", "김포한강로", "봉화로"]),
    ("광명시", [], ["오리로", "광명로", "철산로"]),
    ("시흥시", [], ["시청로", "정왕대로", "배곧대로"]),
    ("군포시", [], ["청백리길", "군포로", "산본로"]),
    ("하남시", [], ["하남대로", "미사대로", "신장로"]),
    ("오산시", [], ["성호대로", "오산로"]),
    ("이천시", [], ["부악로", "중리천로"]),
    ("구리시", [], ["아차산로", "검배로"]),
    ("안성시", [], ["시청길", "중앙로"]),
    ("의왕시", [], ["시청로", "내손로"]),
    ("양주시", [], ["부흥로", "평화로"]),
    ("포천시", [], ["중앙로", "호국로"]),
    ("여주시", [], ["세종로", "여흥로"]),
    ("과천시", [], ["관문로", "별양로"]),
    ("동두천시", [], ["방죽로", "평화로"]),
    ("광주시", [], ["경안로", "행정타운로"]),
    ("양평군", [], ["양평로", "군청앞길"]),
    ("가평군", [], ["석봉로", "가화로"]),
    ("연천군", [], ["연천로", "현충로"]),
]
OTHER = [
    (
        "서울특별시",
        ["마포구", "강남구", "관악구", "노원구", "송파구", "종로구"],
        ["월드컵로", "테헤란로", "관악로", "동일로", "올림픽로", "종로"],
    ),
    ("인천광역시", ["남동구", "부평구", "연수구"], ["인주대로", "부평대로", "컨벤시아대로"]),
    ("부산광역시", ["해운대구", "부산진구"], ["해운대로", "중앙대로"]),
    ("대전광역시", ["서구", "유성구"], ["둔산로", "대학로"]),
    ("강원특별자치도", ["춘천시", "원주시"], ["중앙로", "시청로"]),
]
SHORT_PROVINCE = {
    "서울특별시": ["서울", "서울시", "서울특별시"],
    "인천광역시": ["인천", "인천광역시"],
    "부산광역시": ["부산", "부산광역시"],
    "대전광역시": ["대전", "대전광역시"],
    "강원특별자치도": ["강원도", "강원"],
}
APARTMENTS = [
    "현대아파트",
    "래미안",
    "자이아파트",
    "푸르지오",
    "e편한세상",
    "주공아파트",
    "힐스테이트",
    "한신아파트",
]
ROMAN_CITY = {
    "수원시": "Suwon-si",
    "성남시": "Seongnam-si",
    "용인시": "Yongin-si",
    "고양시": "Goyang-si",
    "화성시": "Hwaseong-si",
    "부천시": "Bucheon-si",
    "안산시": "Ansan-si",
    "안양시": "Anyang-si",
}
ROMAN_ROAD = {
    "효원로": "Hyowon-ro",
    "정조로": "Jeongjo-ro",
    "매탄로": "Maetan-ro",
    "중부대로": "Jungbu-daero",
    "불정로": "Buljeong-ro",
    "성남대로": "Seongnam-daero",
    "풍덕천로": "Pungdeokcheon-ro",
    "중앙로": "Jungang-ro",
    "호수로": "Hosu-ro",
    "시청로": "Sicheong-ro",
    "길주로": "Gilju-ro",
    "화랑로": "Hwarang-ro",
    "시민대로": "Simin-daero",
}
ROMAN_GU = {
    "팔달구": "Paldal-gu",
    "영통구": "Yeongtong-gu",
    "장안구": "Jangan-gu",
    "권선구": "Gwonseon-gu",
    "분당구": "Bundang-gu",
    "수정구": "Sujeong-gu",
    "중원구": "Jungwon-gu",
    "수지구": "Suji-gu",
    "기흥구": "Giheung-gu",
    "처인구": "Cheoin-gu",
    "일산동구": "Ilsandong-gu",
    "일산서구": "Ilsanseo-gu",
    "덕양구": "Deogyang-gu",
    "단원구": "Danwon-gu",
    "상록구": "Sangnok-gu",
    "동안구": "Dongan-gu",
    "만안구": "Manan-gu",
}


def has_batchim(word: str) -> bool:
    """Whether the last syllable of ``word`` ends in a consonant (이에요 vs 예요)."""
    last = word[-1]
    if "가" <= last <= "힣":
        return (ord(last) - 0xAC00) % 28 != 0
    return last.isdigit() and last in "013678"


def copula(word: str) -> str:
    return "이에요" if has_batchim(word) else "예요"


def topic(word: str) -> str:
    return "은" if has_batchim(word) else "는"


def with_ro(word: str) -> str:
    """``word`` + 으로/로 (로 after a vowel or ㄹ)."""
    last = word[-1]
    if "가" <= last <= "힣":
        jong = (ord(last) - 0xAC00) % 28
        return word + ("로" if jong in (0, 8) else "으로")
    return word + ("으로" if last in "0136" else "로")


@dataclass
class Faker:
    rng: random.Random

    def korean_name(self) -> str:
        r = self.rng
        given = "".join(r.choice(GIVEN) for _ in range(r.choice((2, 2, 2, 1))))
        if len(given) == 1:
            given += r.choice(GIVEN)
        return r.choice(SURNAMES) + given

    def english_name(self) -> str:
        r = self.rng
        if r.random() < 0.5:
            s = r.choice(list(ROMAN))
            given = r.choice(ROMAN_GIVEN)
            return f"{ROMAN[s]} {given}" if r.random() < 0.5 else f"{given} {ROMAN[s]}"
        return f"{r.choice(EN_GIVEN)} {r.choice(EN_FAMILY)}"

    def name(self, lang: str) -> str:
        if lang == "en" and self.rng.random() < 0.6:
            return self.english_name()
        return self.korean_name()

    def rrn(self, today: date, min_age: int = 0, max_age: int = 95) -> str:
        """A well-formed but fictitious resident registration number."""
        r = self.rng
        age_days = r.randint(min_age * 366 + 1, max_age * 365)
        born = today - timedelta(days=age_days)
        male = r.random() < 0.5
        s = ("3" if male else "4") if born.year >= 2000 else ("1" if male else "2")
        if r.random() < 0.03:
            s = str(int(s) + 4)  # a foreign resident's number
        digits = born.strftime("%y%m%d") + s + "".join(str(r.randint(0, 9)) for _ in range(5))
        last = check_digit(digits + "0") if r.random() < 0.6 else r.randint(0, 9)
        value = f"{digits[:6]}-{digits[6:]}{last}"
        fmt = r.random()
        if fmt < 0.2:
            return value.replace("-", "")
        if fmt < 0.27:
            return value.replace("-", " - ")
        return value

    def phone(self, landline: bool = False) -> str:
        r = self.rng
        if landline:
            area = r.choice(["031", "031", "02", "032"])
            mid = (
                str(r.randint(200, 999))
                if area == "02" or r.random() < 0.5
                else str(r.randint(2000, 9999))
            )
            body = (area, mid, f"{r.randint(0, 9999):04d}")
        else:
            # libphonenumber's metadata has no 010-5xxx block assigned: such a number is refused.
            body = (
                "010",
                f"{r.choice('2346789')}{r.randint(0, 999):03d}",
                f"{r.randint(0, 9999):04d}",
            )
        style = r.random()
        if style < 0.55:
            return "-".join(body)
        if style < 0.8:
            return "".join(body)
        if style < 0.92:
            return " ".join(body)
        return "+82 " + body[0][1:] + " " + " ".join(body[1:])

    def detail(self) -> str:
        r = self.rng
        kind = r.random()
        if kind < 0.45:
            return f"{r.randint(101, 120)}동 {r.randint(1, 25)}{r.randint(1, 4):02d}호"
        if kind < 0.65:
            flat = f"{r.randint(101, 115)}동 {r.randint(1, 20)}{r.randint(1, 4):02d}호"
            return f"{r.choice(APARTMENTS)} {flat}"
        if kind < 0.8:
            return f"{r.randint(2, 15)}층"
        if kind < 0.9:
            return f"{r.randint(101, 905)}호"
        return ""

    def address(
        self, lang: str = "ko", gyeonggi: float = 0.8, detail: bool = True
    ) -> tuple[str, str]:
        """A road-name address as a person might say it, and the city or county it is in."""
        r = self.rng
        english = lang == "en" and r.random() < 0.5
        if r.random() < gyeonggi:
            city, gus, roads = r.choice(
                GYEONGGI if not english else [g for g in GYEONGGI if g[0] in ROMAN_CITY]
            )
            province = r.choice(["경기도 ", "경기 ", "", "", ""])
        else:
            city, gus, roads = r.choice(OTHER)
            province = ""
            prov_short = r.choice(SHORT_PROVINCE[city])
            city_name = prov_short
            gu = r.choice(gus)
            road = r.choice(roads)
            number = self._number()
            text = f"{city_name} {gu} {road} {number}"
            d = self.detail() if detail else ""
            if d:
                text += r.choice([" ", ", "]) + d
            return text, city
        gu = r.choice(gus) if gus and r.random() < 0.85 else ""
        road = r.choice(roads)
        number = self._number(english)
        if english and road in ROMAN_ROAD:
            parts = [f"{number} {ROMAN_ROAD[road]}"]
            if gu in ROMAN_GU:
                parts.append(ROMAN_GU[gu])
            parts.append(ROMAN_CITY[city])
            if r.random() < 0.5:
                parts.append("Gyeonggi-do")
            text = ", ".join(parts)
            if detail and r.random() < 0.4:
                text = f"Apt {r.randint(101, 1504)}, " + text
            return text, city
        city_said = city if r.random() < 0.75 else city[:-1]
        text = " ".join(p for p in (province + city_said, gu, road, number) if p)
        d = self.detail() if detail else ""
        if d:
            text += r.choice([" ", ", ", ", "]) + d
        return text, city

    def _number(self, english: bool = False) -> str:
        r = self.rng
        n = str(r.randint(1, 1200)) if r.random() < 0.8 else str(r.randint(1, 99))
        if r.random() < 0.12:
            n += f"-{r.randint(1, 30)}"
        if r.random() < 0.1 and not english:
            # A side road ("효원로 12번길 34"): joined to the road by the caller's space.
            return f"{r.randint(1, 99)}번길 {n}"
        return n

    def account(self) -> str:
        r = self.rng
        groups = r.choice([(3, 2, 6), (3, 4, 4, 2), (6, 2, 6), (3, 6, 5), (4, 4, 4), (3, 3, 6)])
        parts = ["".join(str(r.randint(0, 9)) for _ in range(g)) for g in groups]
        if parts[0][0] == "0":
            parts[0] = "1" + parts[0][1:]
        style = r.random()
        if style < 0.6:
            return "-".join(parts)
        if style < 0.85:
            return "".join(parts)
        return " ".join(parts)

    def unit(self) -> str:
        r = self.rng
        return r.choice(
            [
                f"{r.randint(101, 120)}동 {r.randint(1, 25)}{r.randint(1, 4):02d}호",
                f"{r.randint(1, 25)}{r.randint(1, 4):02d}호",
                f"{r.randint(101, 120)}동 {r.randint(101, 2504)}호",
            ]
        )
