"""Time: Korean Standard Time, event times as messages and devices carry them, and ``now``.

Standard library only: the alarm path imports it, and its cold start must stay small.

Every stored or sent time is an aware datetime. A time without a zone is taken as UTC unless
the caller says otherwise (a citizen's date filter means Korean time): a device clock without
a zone is far more often UTC than the function's local time.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone, tzinfo

#: Korean Standard Time (UTC+9, no daylight saving): the day a complaint is counted on.
KST = timezone(timedelta(hours=9), "KST")

#: The times this system reads, from its callers or its stores. ``datetime`` ends at the years
#: 1 and 9999, so a time near either end overflows when a zone is applied or a window of days
#: is added to it (an ``OverflowError``, not a ``ValueError``); within these bounds every such
#: step stays representable, and the year keeps four digits (the stores compare times as text).
EARLIEST = datetime(1900, 1, 1, tzinfo=UTC)
LATEST = datetime(3000, 1, 1, tzinfo=UTC)


def now() -> datetime:
    """The current time, aware, in UTC."""
    return datetime.now(UTC)


def aware(moment: datetime, assume: tzinfo = UTC) -> datetime:
    """``moment`` itself if it has a zone, else the same wall time in ``assume``."""
    return moment if moment.tzinfo else moment.replace(tzinfo=assume)


def parse_iso(text: str, assume: tzinfo = UTC) -> datetime:
    """An ISO 8601 timestamp (``Z`` or an offset, or none: then ``assume``), from
    :data:`EARLIEST` (inclusive) to :data:`LATEST` (exclusive).

    Raises
    ------
    ValueError
        When ``text`` is not an ISO 8601 timestamp, or is outside those years.
    """
    moment = aware(datetime.fromisoformat(text), assume)
    if not in_range(moment):
        last = LATEST.year - 1
        raise ValueError(f"{text!r} is outside the years {EARLIEST.year} to {last} (UTC)")
    return moment


def in_range(moment: datetime) -> bool:
    """Whether ``moment`` (a naive one taken as UTC) is from :data:`EARLIEST` to before
    :data:`LATEST`."""
    # Aware comparison subtracts the offsets without building a shifted datetime, so it cannot
    # overflow even at the year 1 or 9999.
    return EARLIEST <= aware(moment) < LATEST


def from_epoch_ms(ms: float) -> datetime:
    """Epoch milliseconds (as sensors and the sensor table keep them) as an aware UTC time."""
    return datetime.fromtimestamp(ms / 1000, UTC)


def to_epoch_ms(moment: datetime) -> int:
    """Epoch milliseconds of ``moment`` (a naive one taken as UTC)."""
    return round(aware(moment).timestamp() * 1000)
