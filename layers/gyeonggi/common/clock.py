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


def now() -> datetime:
    """The current time, aware, in UTC."""
    return datetime.now(UTC)


def aware(moment: datetime, assume: tzinfo = UTC) -> datetime:
    """``moment`` itself if it has a zone, else the same wall time in ``assume``."""
    return moment if moment.tzinfo else moment.replace(tzinfo=assume)


def parse_iso(text: str, assume: tzinfo = UTC) -> datetime:
    """An ISO 8601 timestamp (``Z`` or an offset, or none: then ``assume``).

    Raises
    ------
    ValueError
        When ``text`` is not an ISO 8601 timestamp.
    """
    return aware(datetime.fromisoformat(text), assume)


def from_epoch_ms(ms: float) -> datetime:
    """Epoch milliseconds (as sensors and the sensor table keep them) as an aware UTC time."""
    return datetime.fromtimestamp(ms / 1000, UTC)


def to_epoch_ms(moment: datetime) -> int:
    """Epoch milliseconds of ``moment`` (a naive one taken as UTC)."""
    return round(aware(moment).timestamp() * 1000)
