"""Proactive notices: each privacy rule of gyeonggi.complaints.notices, proven."""

from __future__ import annotations

import io
import json
import logging
from datetime import UTC, date, datetime
from typing import Any

from gyeonggi.common.observability import observability
from gyeonggi.complaints.notices import (
    ALL_GENDERS,
    K,
    Notice,
    NoticePublisher,
    Segment,
    consenting_people,
    k_anonymous_segments,
    plan_notices,
    run_notices,
)

WHEN = "2024-10-15T01:00:00+00:00"


def _complaint(
    n: int,
    jid: str = "gapyeong.gg.kr",
    band: str = "70+",
    gender: str = "female",
    service: str = "welfare",
    consent: bool = True,
) -> dict[str, Any]:
    return {
        "service_request_id": f"GG-20241015-{n:08X}",
        "jurisdiction_id": jid,
        "service_code": service,
        "description": "난방비가 너무 많이 나와요",
        "address_string": "가평군 가평읍 12-3",
        "requested_datetime": WHEN,
        "citizen": {
            "pseudonym": f"p_person{n:04d}xxxxxxxxxxxxxxxxxxxxxxxx",
            "age_band": band,
            "gender": gender,
            "consent_analytics": consent,
        },
    }


def _people(start: int, count: int, **kw: Any) -> list[dict[str, Any]]:
    return [_complaint(n, **kw) for n in range(start, start + count)]


class Recorder(NoticePublisher):
    def __init__(self) -> None:
        super().__init__("arn:aws:sns:ap-northeast-2:123456789012:notices")
        self.bodies: list[dict[str, Any]] = []

    def publish(self, notice: Notice) -> None:
        self.bodies.append(notice.body())


def test_only_consenting_citizens_with_a_pseudonym_are_counted() -> None:
    records = _people(0, 5) + _people(100, 20, consent=False)
    records.append(
        {**_complaint(999), "citizen": {**_complaint(999)["citizen"], "pseudonym": None}}
    )
    cells = consenting_people(records)
    assert {k: len(v) for k, v in cells.items()} == {("gapyeong.gg.kr", "70+", "female"): 5}


def test_people_are_counted_once_however_many_complaints_they_file() -> None:
    records = [_complaint(1) for _ in range(50)]
    segments, suppressed = k_anonymous_segments(consenting_people(records))
    assert segments == {} and suppressed == 1


def test_cells_of_k_or_more_are_published_as_they_are() -> None:
    records = _people(0, 5, gender="female") + _people(10, 6, gender="male")
    segments, suppressed = k_anonymous_segments(consenting_people(records))
    assert set(segments) == {
        Segment("gapyeong.gg.kr", "70+", "female"),
        Segment("gapyeong.gg.kr", "70+", "male"),
    }
    assert suppressed == 0


def test_a_small_gender_cell_merges_the_genders_of_its_age_band() -> None:
    records = _people(0, 6, gender="female") + _people(10, 2, gender="male")
    segments, _ = k_anonymous_segments(consenting_people(records))
    assert list(segments) == [Segment("gapyeong.gg.kr", "70+", ALL_GENDERS)]
    assert len(segments[Segment("gapyeong.gg.kr", "70+", ALL_GENDERS)]) == 8


def test_a_small_age_band_widens_to_its_wider_band() -> None:
    records = _people(0, 3, band="70+") + _people(10, 9, band="60-69", gender="male")
    segments, _ = k_anonymous_segments(consenting_people(records))
    assert list(segments) == [Segment("gapyeong.gg.kr", "60+", ALL_GENDERS)]
    assert len(segments[Segment("gapyeong.gg.kr", "60+", ALL_GENDERS)]) == 12


def test_a_group_too_small_even_when_widened_is_suppressed() -> None:
    records = _people(0, 2, band="20-29") + _people(10, 2, band="30-39", gender="male")
    segments, suppressed = k_anonymous_segments(consenting_people(records))
    assert segments == {} and suppressed == 4


def test_every_published_segment_has_k_people_and_segments_do_not_overlap() -> None:
    import random

    rng = random.Random(7)
    bands = ["0-19", "20-29", "30-39", "40-49", "50-59", "60-69", "70+", "unknown"]
    genders = ["female", "male", "other", "undisclosed"]
    records = [
        _complaint(
            rng.randrange(400),
            jid=rng.choice(["gapyeong.gg.kr", "suwon.gg.kr", "yeoncheon.gg.kr"]),
            band=rng.choice(bands),
            gender=rng.choice(genders),
            consent=rng.random() < 0.8,
        )
        for _ in range(600)
    ]
    # A pseudonym belongs to one person: keep each pseudonym's first demographics.
    first: dict[str, dict[str, Any]] = {}
    for r in records:
        first.setdefault(r["citizen"]["pseudonym"], r)
    records = [first[r["citizen"]["pseudonym"]] for r in records]
    segments, suppressed = k_anonymous_segments(consenting_people(records))
    seen: set[str] = set()
    for people in segments.values():
        assert len(people) >= K
        assert not seen & set(people)
        seen |= set(people)
    consenting = {r["citizen"]["pseudonym"] for r in records if r["citizen"]["consent_analytics"]}
    assert len(seen) + suppressed == len(consenting)


def test_seniors_get_heating_support_before_winter_and_elevated_services_show() -> None:
    records = _people(0, 8, service="welfare") + _people(20, 8, jid="suwon.gg.kr", band="30-39")
    records += _people(40, 30, jid="suwon.gg.kr", band="30-39", service="noise")
    segments, _ = k_anonymous_segments(consenting_people(records))
    notices = plan_notices(segments, date(2024, 11, 1))
    by_segment = {(n.segment.jurisdiction_id, n.segment.age_band, n.service_code) for n in notices}
    assert ("gapyeong.gg.kr", "70+", "welfare") in by_segment
    seniors = next(
        n for n in notices if n.segment.age_band == "70+" and n.service_code == "welfare"
    )
    assert "season:heating-support" in seniors.reasons and "elevated" in seniors.reasons
    assert all(n.month == "2024-11" for n in notices)


def test_a_service_is_elevated_only_when_k_people_of_the_segment_asked_for_it() -> None:
    records = _people(0, 10, band="40-49", service="noise")
    records += _people(50, 4, band="40-49", service="animal")  # same people? no: 4 others
    records += _people(100, 200, jid="suwon.gg.kr", band="40-49", service="noise")
    segments, _ = k_anonymous_segments(consenting_people(records))
    notices = plan_notices(segments, date(2024, 5, 1))
    assert not any(n.service_code == "animal" and "elevated" in n.reasons for n in notices)


def test_notices_and_logs_carry_no_pseudonym_count_or_personal_data(
    capsys: Any,
) -> None:
    records = _people(0, 12) + _people(50, 7, band="60-69", gender="male", service="water-sewer")
    pseudonyms = {r["citizen"]["pseudonym"] for r in records}
    recorder = Recorder()
    run = run_notices(
        records,
        date(2024, 11, 1),
        recorder,
        since=datetime(2024, 1, 1, tzinfo=UTC),
        until=datetime(2024, 11, 1, tzinfo=UTC),
    )
    assert run.notices == len(recorder.bodies) > 0
    logger, _, _ = observability("notices-test")
    stream = io.StringIO()
    logger.addHandler(logging.StreamHandler(stream))
    logger.info("notices published", extra={"run": vars(run)})
    text = json.dumps(recorder.bodies, ensure_ascii=False) + capsys.readouterr().out
    text += stream.getvalue()
    for p in pseudonyms:
        assert p not in text
    for personal in (
        "가평군 가평읍",
        "난방비가 너무",
        "service_request_id",
        "GG-2024",
        '"pseudonym"',
    ):
        assert personal not in text
    for body in recorder.bodies:
        assert set(body) == {
            "type",
            "version",
            "notice_id",
            "month",
            "segment",
            "service_code",
            "department",
            "reasons",
            "title_en",
            "title_ko",
        }
        assert set(body["segment"]) == {"jurisdiction_id", "age_band", "gender"}


def test_the_window_excludes_old_complaints() -> None:
    old = [{**r, "requested_datetime": "2023-01-01T00:00:00+00:00"} for r in _people(0, 10)]
    cells = consenting_people(old, since=datetime(2024, 1, 1, tzinfo=UTC))
    assert cells == {}
