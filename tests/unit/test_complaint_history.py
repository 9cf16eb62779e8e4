"""The simulated complaint history: deterministic, shaped like real counts, CSV round trip."""

from __future__ import annotations

import io
from datetime import date

import numpy as np

from gyeonggi.complaints.calendar import holidays, weekday
from gyeonggi.complaints.series import History, read_csv, write_csv
from gyeonggi_tools.complaints.simulated_history import (
    DEFAULT_SURGES,
    POPULATION_THOUSANDS,
    expected_rates,
    generate,
)


def test_the_same_seed_gives_the_same_history_and_another_seed_another() -> None:
    a = generate(date(2024, 1, 1), date(2024, 3, 31), seed=1)
    b = generate(date(2024, 1, 1), date(2024, 3, 31), seed=1)
    c = generate(date(2024, 1, 1), date(2024, 3, 31), seed=2)
    assert np.array_equal(a.counts, b.counts)
    assert not np.array_equal(a.counts, c.counts)


def test_default_history_is_31_by_15_series_over_three_years() -> None:
    h = generate()
    assert h.counts.shape == (31 * 15, 1096)
    assert (h.start, h.end) == (date(2022, 1, 1), date(2024, 12, 31))
    assert h.counts.dtype.kind == "i" and h.counts.min() >= 0
    # About 10,000 complaints a day across the province.
    assert 8_000 < h.counts.sum(axis=0).mean() < 13_000
    assert len(POPULATION_THOUSANDS) == 31
    assert 13_000 < sum(POPULATION_THOUSANDS.values()) < 14_500


def _series(h: History, jid: str, code: str) -> np.ndarray:
    return h.counts[h.series.index((jid, code))]


def test_levels_follow_population_and_seasons_follow_the_service() -> None:
    h = expected_rates(date(2023, 1, 1), date(2023, 12, 31), surges=())
    suwon = _series(h, "suwon.gg.kr", "noise").mean()
    yeoncheon = _series(h, "yeoncheon.gg.kr", "noise").mean()
    assert suwon / yeoncheon > 20
    dow = weekday(h.days)
    noise = _series(h, "suwon.gg.kr", "noise")
    tax = _series(h, "suwon.gg.kr", "tax")
    assert noise[dow >= 5].mean() > noise[dow < 5].mean() * 1.2  # noise up at weekends
    assert tax[dow >= 5].mean() < tax[dow < 5].mean() * 0.5  # offices closed
    month = h.days.astype("datetime64[M]").astype(int) % 12 + 1
    welfare = _series(h, "suwon.gg.kr", "welfare")
    sewer = _series(h, "suwon.gg.kr", "water-sewer")
    assert welfare[np.isin(month, [12, 1, 2])].mean() > welfare[np.isin(month, [6, 7, 8])].mean()
    assert sewer[month == 7].mean() > 1.5 * sewer[month == 4].mean()  # monsoon


def test_holidays_include_seollal_and_chuseok_and_are_quiet() -> None:
    days = holidays(2024, 2024)
    assert {date(2024, 2, 10), date(2024, 9, 17), date(2024, 10, 9)} <= days
    h = expected_rates(date(2024, 9, 9), date(2024, 9, 20), ["suwon.gg.kr"], ["tax"], ())
    # Tuesday 17 September (Chuseok) against Tuesday 10 September.
    assert h.counts[0, 8] < 0.5 * h.counts[0, 1]


def test_injected_surges_are_where_they_say() -> None:
    surge = DEFAULT_SURGES[0]
    h = generate(surges=DEFAULT_SURGES)
    calm = generate(surges=())
    i = h.series.index((surge.jurisdiction_id, surge.service_code))
    d = (surge.start - h.start).days
    assert h.counts[i, d : d + surge.days].sum() > 3 * calm.counts[i, d : d + surge.days].sum()


def test_csv_round_trip() -> None:
    h = generate(date(2024, 1, 1), date(2024, 1, 31), jurisdictions=["osan.gg.kr"])
    buffer = io.StringIO()
    write_csv(h, buffer)
    text = buffer.getvalue()
    assert text.startswith("date,jurisdiction_id,service_code,count\n2024-01-01,osan.gg.kr,")
    back = read_csv(text)
    assert back.start == h.start and back.n_days == h.n_days
    assert sorted(back.series) == sorted(h.series)
    for i, key in enumerate(back.series):
        assert np.array_equal(back.counts[i], h.counts[h.series.index(key)])


def test_missing_days_are_zero() -> None:
    back = read_csv(
        "date,jurisdiction_id,service_code,count\n"
        "2024-01-01,osan.gg.kr,noise,3\n"
        "2024-01-04,osan.gg.kr,noise,2\n"
    )
    assert back.counts.tolist() == [[3, 0, 0, 2]]
