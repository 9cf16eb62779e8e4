"""The calendar complaint volumes follow: Korean public holidays, weekdays, the time of year.

Forecasting puts these in its design matrix (a holiday is counted like a quiet Sunday), and the
simulated history in ``gyeonggi_tools`` draws its counts with the same calendar.
"""

from __future__ import annotations

from datetime import date

import numpy as np

# Holidays whose date moves with the lunar calendar (Seollal, Buddha's Birthday, Chuseok),
# substitute holidays and election days, 2021-2027 (approximately as the government announced
# them). Years outside this list only get the fixed-date holidays.
_MOVING_HOLIDAYS: dict[int, tuple[str, ...]] = {
    2021: ("02-11", "02-12", "02-13", "05-19", "08-16", "09-20", "09-21", "09-22", "10-04"),
    2022: ("01-31", "02-01", "02-02", "05-08", "06-01", "09-09", "09-10", "09-11", "09-12"),
    2023: ("01-21", "01-22", "01-23", "01-24", "05-27", "05-29", "09-28", "09-29", "09-30"),
    2024: ("02-09", "02-10", "02-11", "02-12", "04-10", "05-06", "05-15", "09-16", "09-17"),
    2025: ("01-28", "01-29", "01-30", "03-03", "05-06", "06-03", "10-05", "10-06", "10-07"),
    2026: ("02-16", "02-17", "02-18", "03-02", "05-24", "05-25", "09-24", "09-25", "09-26"),
    2027: ("02-06", "02-07", "02-08", "02-09", "05-13", "08-16", "09-14", "09-15", "09-16"),
}
# New Year, Independence Movement Day, Children's Day, Memorial Day, Liberation Day, National
# Foundation Day, Hangul Day, Christmas.
_FIXED_HOLIDAYS = ("01-01", "03-01", "05-05", "06-06", "08-15", "10-03", "10-09", "12-25")


def holidays(first_year: int, last_year: int) -> frozenset[date]:
    """Korean public holidays in ``first_year..last_year`` (approximate, see the table above)."""
    days: set[date] = set()
    for year in range(first_year, last_year + 1):
        for md in (*_FIXED_HOLIDAYS, *_MOVING_HOLIDAYS.get(year, ())):
            days.add(date.fromisoformat(f"{year}-{md}"))
    return frozenset(days)


def holiday_mask(days: np.ndarray) -> np.ndarray:
    """Boolean array: which of ``days`` (``datetime64[D]``) are public holidays."""
    if days.size == 0:
        return np.zeros(0, dtype=bool)
    years = days.astype("datetime64[Y]").astype(int) + 1970
    known = np.array(sorted(holidays(int(years.min()), int(years.max()))), dtype="datetime64[D]")
    return np.isin(days, known)


def weekday(days: np.ndarray) -> np.ndarray:
    """Monday = 0 .. Sunday = 6 for ``datetime64[D]`` values (1970-01-01 was a Thursday)."""
    return (days.astype(np.int64) + 3) % 7


def year_fraction(days: np.ndarray) -> np.ndarray:
    """Day of year as a fraction of a year, 0 on 1 January."""
    start = days.astype("datetime64[Y]").astype("datetime64[D]")
    return (days - start).astype(np.float64) / 365.25
