"""Daily complaint counts per series (jurisdiction x service), and their CSV format.

The CSV format, shared with ``gyeonggi complaints forecast``, is one row per series and day::

    date,jurisdiction_id,service_code,count
    2024-07-17,suwon.gg.kr,water-sewer,41

A day missing for a series means no complaint that day (zero), as the counts table only holds
days on which something was counted.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import date, timedelta
from pathlib import Path
from typing import TextIO

import numpy as np

from gyeonggi.common.errors import InvalidInput
from gyeonggi.complaints.jurisdictions import BY_ID as JURISDICTIONS
from gyeonggi.complaints.services import BY_CODE as SERVICES

CSV_COLUMNS = ("date", "jurisdiction_id", "service_code", "count")


@dataclass(frozen=True)
class History:
    """Daily counts of a set of series over consecutive days.

    Attributes
    ----------
    start
        The first day.
    series
        ``(jurisdiction_id, service_code)`` of each row of ``counts``.
    counts
        Integer array of shape ``(len(series), n_days)``.
    """

    start: date
    series: tuple[tuple[str, str], ...]
    counts: np.ndarray = field(repr=False)

    @property
    def n_days(self) -> int:
        return int(self.counts.shape[1])

    @property
    def end(self) -> date:
        """The last day (inclusive)."""
        return self.start + timedelta(days=self.n_days - 1)

    @property
    def days(self) -> np.ndarray:
        """The days as ``datetime64[D]``."""
        return np.datetime64(self.start, "D") + np.arange(self.n_days)

    def rows(self) -> Iterator[tuple[date, str, str, int]]:
        """``(date, jurisdiction_id, service_code, count)`` for every series and day."""
        for i, (jid, code) in enumerate(self.series):
            for d in range(self.n_days):
                yield self.start + timedelta(days=d), jid, code, int(self.counts[i, d])

    def until(self, last: date) -> History:
        """The history up to and including ``last``."""
        n = (last - self.start).days + 1
        return History(self.start, self.series, self.counts[:, : max(0, n)])


def write_csv(history: History, target: Path | TextIO) -> None:
    """Write ``history`` as ``date,jurisdiction_id,service_code,count`` rows (every day)."""
    if isinstance(target, Path):
        with target.open("w", encoding="utf-8", newline="") as fh:
            write_csv(history, fh)
        return
    writer = csv.writer(target, lineterminator="\n")
    writer.writerow(CSV_COLUMNS)
    day_text = [(history.start + timedelta(days=d)).isoformat() for d in range(history.n_days)]
    for i, (jid, code) in enumerate(history.series):
        counts = history.counts[i].tolist()
        writer.writerows(
            zip(day_text, [jid] * len(counts), [code] * len(counts), counts, strict=True)
        )


class HistoryError(InvalidInput):
    """A history file that cannot be read; the message names the line and the problem."""


def read_csv(source: Path | TextIO | str, *, known_only: bool = True) -> History:
    """Read a history CSV into a ``History`` (missing days of a series count as zero).

    Parameters
    ----------
    source
        A path, an open text file, or the CSV text itself.
    known_only
        Reject jurisdictions and services this server does not know (catches typos).

    Raises
    ------
    HistoryError
        On a missing file or column, a bad date, a count that is not a non-negative integer,
        an unknown jurisdiction or service, a repeated row, or no rows at all.
    """
    if isinstance(source, Path):
        try:
            with source.open(encoding="utf-8", newline="") as fh:
                return read_csv(fh, known_only=known_only)
        except FileNotFoundError:
            raise HistoryError(f"{source}: no such file") from None
        except UnicodeDecodeError:
            raise HistoryError(f"{source}: not UTF-8 text") from None
    if isinstance(source, str):
        source = io.StringIO(source)
    reader = csv.reader(source)
    header = next(reader, None)
    if header is None:
        raise HistoryError("the history is empty: expected a header " + ",".join(CSV_COLUMNS))
    header = [h.strip().lstrip("\ufeff") for h in header]
    missing = [c for c in CSV_COLUMNS if c not in header]
    if missing:
        raise HistoryError(
            f"line 1: missing column(s) {', '.join(missing)}; expected " + ",".join(CSV_COLUMNS)
        )
    col = {c: header.index(c) for c in CSV_COLUMNS}
    width = max(col.values()) + 1

    parsed_days: dict[str, int] = {}  # date text -> ordinal, parsed once per distinct date
    values: dict[tuple[str, str], dict[int, int]] = {}
    for line_no, row in enumerate(reader, start=2):
        if not row or all(not cell.strip() for cell in row):
            continue
        if len(row) < width:
            raise HistoryError(f"line {line_no}: expected {len(header)} fields, got {len(row)}")
        text = row[col["date"]].strip()
        ordinal = parsed_days.get(text)
        if ordinal is None:
            try:
                ordinal = date.fromisoformat(text).toordinal()
            except ValueError:
                raise HistoryError(
                    f"line {line_no}: date {text!r} is not a date (YYYY-MM-DD)"
                ) from None
            if len(text) != 10:
                raise HistoryError(f"line {line_no}: date {text!r} is not YYYY-MM-DD")
            parsed_days[text] = ordinal
        jid = row[col["jurisdiction_id"]].strip()
        code = row[col["service_code"]].strip()
        if known_only and jid not in JURISDICTIONS:
            raise HistoryError(f"line {line_no}: unknown jurisdiction_id {jid!r}")
        if known_only and code not in SERVICES:
            raise HistoryError(f"line {line_no}: unknown service_code {code!r}")
        raw = row[col["count"]].strip()
        try:
            count = int(raw)
        except ValueError:
            raise HistoryError(f"line {line_no}: count {raw!r} is not a whole number") from None
        if count < 0:
            raise HistoryError(f"line {line_no}: count {count} is negative")
        days = values.setdefault((jid, code), {})
        if ordinal in days:
            raise HistoryError(f"line {line_no}: a second row for {jid} {code} on {text}")
        days[ordinal] = count
    if not values:
        raise HistoryError("the history has a header but no rows")

    first = min(min(d) for d in values.values())
    last = max(max(d) for d in values.values())
    series = tuple(sorted(values))
    counts = np.zeros((len(series), last - first + 1), dtype=np.int64)
    for i, key in enumerate(series):
        days = values[key]
        idx = np.fromiter(days.keys(), dtype=np.int64, count=len(days)) - first
        counts[i, idx] = np.fromiter(days.values(), dtype=np.int64, count=len(days))
    return History(date.fromordinal(first), series, counts)
