"""Simulated daily complaint counts per jurisdiction and service.

**The numbers this module produces are simulated, not real complaint statistics.** No public
source gives daily civil-complaint counts per city and service for Gyeonggi-do, so the project
generates a history with the structure such counts have, to develop, test and demonstrate the
forecasting and surge alerts:

- a level proportional to each city's or county's population (rounded real figures, 2024);
- a weekly pattern that depends on the service (certificates and taxes fall at weekends, noise
  rises);
- an annual pattern (winter: welfare, frozen pipes, streetlights, potholes after the thaw;
  summer: odours, animals, parks; the July-August monsoon: sewers and road damage; tax bills in
  June, July, September and December);
- Korean public holidays (``gyeonggi.complaints.calendar``, counted like a quiet Sunday);
- a trend (fast-growing new towns, digital channels adopted more each year);
- negative-binomial noise (a Poisson count whose rate is itself Gamma-distributed);
- a few injected surges with known dates (``DEFAULT_SURGES``), which tests and the demo look for.

The result is a ``gyeonggi.complaints.series.History``; ``series.write_csv`` writes it in the
CSV format ``gyeonggi complaints forecast`` reads.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any

import numpy as np

from gyeonggi.common.errors import InvalidInput
from gyeonggi.complaints.calendar import holiday_mask, weekday, year_fraction
from gyeonggi.complaints.jurisdictions import JURISDICTIONS as ALL_JURISDICTIONS
from gyeonggi.complaints.series import History
from gyeonggi.complaints.services import SERVICES as ALL_SERVICES

#: Residents in thousands, rounded (resident registration, 2024); about 13.6 million in all.
POPULATION_THOUSANDS: dict[str, int] = {
    "suwon.gg.kr": 1190,
    "seongnam.gg.kr": 910,
    "uijeongbu.gg.kr": 460,
    "anyang.gg.kr": 550,
    "bucheon.gg.kr": 780,
    "gwangmyeong.gg.kr": 280,
    "pyeongtaek.gg.kr": 590,
    "dongducheon.gg.kr": 90,
    "ansan.gg.kr": 630,
    "goyang.gg.kr": 1070,
    "gwacheon.gg.kr": 80,
    "guri.gg.kr": 190,
    "namyangju.gg.kr": 730,
    "osan.gg.kr": 230,
    "siheung.gg.kr": 520,
    "gunpo.gg.kr": 260,
    "uiwang.gg.kr": 160,
    "hanam.gg.kr": 330,
    "yongin.gg.kr": 1080,
    "paju.gg.kr": 500,
    "icheon.gg.kr": 220,
    "anseong.gg.kr": 190,
    "gimpo.gg.kr": 490,
    "hwaseong.gg.kr": 950,
    "gwangju.gg.kr": 390,
    "yangju.gg.kr": 250,
    "pocheon.gg.kr": 145,
    "yeoju.gg.kr": 113,
    "yeoncheon.gg.kr": 42,
    "gapyeong.gg.kr": 62,
    "yangpyeong.gg.kr": 123,
}

#: Complaints per 100,000 residents per day at the yearly mean: about 74 in all, so the
#: province sees roughly 10,000 a day, the volume MISSION.md designs for.
BASE_RATE_PER_100K: dict[str, float] = {
    "illegal-parking": 18.0,
    "road-damage": 5.0,
    "streetlight": 3.0,
    "noise": 8.0,
    "odor-air": 3.0,
    "waste": 8.0,
    "water-sewer": 3.0,
    "parks-trees": 2.5,
    "illegal-building": 2.0,
    "animal": 2.5,
    "public-transit": 4.0,
    "welfare": 3.0,
    "safety-hazard": 3.0,
    "certificate-admin": 5.0,
    "tax": 3.0,
}

# Monday .. Sunday multipliers. Offices close at weekends, so administrative requests fall;
# people are at home at weekends, so neighbours' noise and park use rise.
_OFFICE_WEEK = (1.30, 1.20, 1.15, 1.15, 1.10, 0.35, 0.25)
_DEFAULT_WEEK = (1.10, 1.05, 1.00, 1.00, 1.00, 0.90, 0.85)
WEEKLY: dict[str, tuple[float, ...]] = {
    "illegal-parking": (1.05, 1.00, 1.00, 1.00, 1.05, 1.10, 0.90),
    "noise": (0.85, 0.85, 0.90, 0.95, 1.10, 1.40, 1.30),
    "waste": (1.25, 1.00, 0.95, 0.95, 0.95, 0.90, 0.95),
    "parks-trees": (0.95, 0.95, 0.95, 0.95, 1.00, 1.15, 1.15),
    "animal": (0.95, 0.95, 0.95, 0.95, 1.00, 1.15, 1.15),
    "public-transit": (1.15, 1.05, 1.05, 1.05, 1.10, 0.85, 0.75),
    "welfare": _OFFICE_WEEK,
    "certificate-admin": _OFFICE_WEEK,
    "tax": _OFFICE_WEEK,
    "illegal-building": _OFFICE_WEEK,
}

# Annual components per service: ("cos", amplitude, peak day of year) is a smooth yearly wave;
# ("bump", amplitude, peak day of year, width in days) is a seasonal episode (monsoon, tax bills).
# They add up on the log scale.
_Component = tuple[Any, ...]
ANNUAL: dict[str, tuple[_Component, ...]] = {
    "welfare": (("cos", 0.35, 10),),  # heating costs in January
    "road-damage": (("cos", 0.30, 60), ("bump", 0.50, 206, 15)),  # thaw; monsoon potholes
    "streetlight": (("cos", 0.25, 355),),  # longest nights
    "odor-air": (("cos", 0.40, 201), ("bump", 0.30, 91, 15)),  # summer heat; yellow dust
    "animal": (("cos", 0.35, 213),),
    "parks-trees": (("cos", 0.35, 182), ("bump", 0.40, 244, 12)),  # growth; typhoons
    "water-sewer": (("cos", 0.15, 20), ("bump", 0.90, 206, 14)),  # frozen pipes; monsoon
    "noise": (("cos", 0.20, 217),),  # open windows in August
    "waste": (("cos", 0.10, 213),),
    "safety-hazard": (("bump", 0.40, 206, 20), ("bump", 0.20, 15, 20)),  # floods; ice
    "tax": (
        ("bump", 0.40, 171, 8),  # car tax, June
        ("bump", 0.50, 201, 8),  # property tax, July
        ("bump", 0.50, 263, 8),  # property tax, September
        ("bump", 0.40, 354, 8),  # car tax, December
    ),
    "certificate-admin": (("bump", 0.20, 51, 15),),  # moves before the school year
    "illegal-parking": (("cos", 0.05, 120),),
    "public-transit": (("bump", 0.30, 15, 20), ("bump", 0.15, 64, 10)),  # snow; March commute
    "illegal-building": (("cos", 0.10, 121),),
}

#: Yearly growth of complaint volume by jurisdiction (new towns grow fast, the north-east
#: shrinks); anything not listed grows with the province.
GROWTH: dict[str, float] = {
    "hwaseong.gg.kr": 0.05,
    "hanam.gg.kr": 0.05,
    "gimpo.gg.kr": 0.04,
    "pyeongtaek.gg.kr": 0.04,
    "yongin.gg.kr": 0.03,
    "paju.gg.kr": 0.03,
    "siheung.gg.kr": 0.03,
    "dongducheon.gg.kr": -0.01,
    "yeoncheon.gg.kr": -0.01,
    "gapyeong.gg.kr": 0.0,
}
_DEFAULT_GROWTH = 0.01
#: More of the same complaints arrive through digital channels every year.
DIGITAL_ADOPTION = 0.03

#: Negative-binomial dispersion: the rate varies by about 1/sqrt(30) ~ 18 % day to day beyond
#: Poisson noise (weather, news, one angry street).
DISPERSION = 30.0

_HOLIDAY_FACTOR = 0.9  # a holiday is a quiet Sunday


@dataclass(frozen=True)
class Surge:
    """An injected surge: ``factor`` times the usual volume for ``days`` days from ``start``."""

    jurisdiction_id: str
    service_code: str
    start: date
    days: int
    factor: float
    story: str = ""

    def covers(self, day: date) -> bool:
        return self.start <= day < self.start + timedelta(days=self.days)


#: The surges of the default simulated history (invented events, for tests and the demo).
DEFAULT_SURGES: tuple[Surge, ...] = (
    Surge("suwon.gg.kr", "water-sewer", date(2024, 7, 17), 3, 5.0, "monsoon downpour floods"),
    Surge("ansan.gg.kr", "odor-air", date(2024, 5, 21), 2, 6.0, "odour from an industrial site"),
    Surge("goyang.gg.kr", "road-damage", date(2024, 2, 13), 4, 4.0, "potholes after the thaw"),
    Surge("yongin.gg.kr", "noise", date(2024, 10, 5), 2, 4.0, "a festival's night concerts"),
    Surge("hwaseong.gg.kr", "public-transit", date(2024, 11, 28), 2, 5.0, "heavy snowfall"),
)


def _annual_log_multiplier(code: str, frac: np.ndarray) -> np.ndarray:
    out = np.zeros_like(frac)
    for comp in ANNUAL.get(code, ()):
        peak = comp[2] / 365.25
        if comp[0] == "cos":
            out += comp[1] * np.cos(2 * np.pi * (frac - peak))
        else:
            # Distance on the circle of the year, so a bump near 1 January wraps around.
            gap = (frac - peak + 0.5) % 1.0 - 0.5
            out += comp[1] * np.exp(-0.5 * (gap * 365.25 / comp[3]) ** 2)
    return out


def expected_rates(
    start: date,
    end: date,
    jurisdictions: Sequence[str] | None = None,
    services: Sequence[str] | None = None,
    surges: Iterable[Surge] = DEFAULT_SURGES,
) -> History:
    """The simulated mean rates (floats, no noise) that ``generate`` draws counts around."""
    jids = list(jurisdictions or [j.id for j in ALL_JURISDICTIONS])
    codes = list(services or [s.code for s in ALL_SERVICES])
    for jid in jids:
        if jid not in POPULATION_THOUSANDS:
            raise InvalidInput(f"unknown jurisdiction_id {jid!r}", field="jurisdiction_id")
    for code in codes:
        if code not in BASE_RATE_PER_100K:
            raise InvalidInput(f"unknown service_code {code!r}", field="service_code")
    n_days = (end - start).days + 1
    if n_days < 1:
        raise InvalidInput("end is before start")
    days = np.datetime64(start, "D") + np.arange(n_days)
    years = (days - np.datetime64("2022-01-01")).astype(np.float64) / 365.25
    dow = weekday(days)
    frac = year_fraction(days)
    holiday = holiday_mask(days)

    series = [(jid, code) for jid in jids for code in codes]
    rates = np.empty((len(series), n_days))
    index = {key: i for i, key in enumerate(series)}
    for code in codes:
        week = np.array(WEEKLY.get(code, _DEFAULT_WEEK))
        daily = week[dow]
        daily = np.where(holiday, week[6] * _HOLIDAY_FACTOR, daily)
        seasonal = daily * np.exp(_annual_log_multiplier(code, frac))
        for jid in jids:
            growth = GROWTH.get(jid, _DEFAULT_GROWTH) + DIGITAL_ADOPTION
            level = POPULATION_THOUSANDS[jid] / 100.0 * BASE_RATE_PER_100K[code]
            rates[index[(jid, code)]] = level * seasonal * np.exp(growth * years)
    for surge in surges:
        i = index.get((surge.jurisdiction_id, surge.service_code))
        if i is None:
            continue
        first = (surge.start - start).days
        lo, hi = max(0, first), min(n_days, first + surge.days)
        if lo < hi:
            rates[i, lo:hi] *= surge.factor
    return History(start, tuple(series), rates)


def generate(
    start: date = date(2022, 1, 1),
    end: date = date(2024, 12, 31),
    *,
    seed: int = 20261124,
    jurisdictions: Sequence[str] | None = None,
    services: Sequence[str] | None = None,
    surges: Iterable[Surge] = DEFAULT_SURGES,
    dispersion: float = DISPERSION,
) -> History:
    """A simulated history of daily complaint counts (see the module doc: not real data).

    Parameters
    ----------
    start, end
        First and last day (inclusive); the default is three years, 1,096 days.
    seed
        The same seed and arguments always give the same counts.
    jurisdictions, services
        Subsets of the 31 jurisdictions and 15 services (default: all, 465 series).
    surges
        Injected surges; ``DEFAULT_SURGES`` unless told otherwise (``()`` for none).
    dispersion
        Negative-binomial shape: smaller means noisier days.

    Returns
    -------
    History
        Counts of shape ``(n_series, n_days)``, series ordered jurisdiction-major.
    """
    mean = expected_rates(start, end, jurisdictions, services, surges)
    rng = np.random.default_rng(seed)
    # Gamma-Poisson mixture = negative binomial with mean `rate`, variance rate + rate^2/r.
    rate = mean.counts * rng.gamma(dispersion, 1.0 / dispersion, size=mean.counts.shape)
    counts = rng.poisson(rate).astype(np.int64)
    return History(mean.start, mean.series, counts)
