"""``GET requests`` and ``GET servicerequestupdates``: parsing the filters, planning the reads.

Every read is a DynamoDB ``Query`` on an index whose sort key is a time, bounded by the date
window and by the number of records a page needs; nothing on the request path scans a table.

- With ``jurisdiction_id``: the ``by-jurisdiction`` index (``jurisdiction_id``,
  ``requested_datetime``), ``status`` and ``service_code`` as filters.
- Province-wide: the ``by-status`` index (``status``, ``requested_datetime``), one query per
  status asked for (both by default), merged newest first.
- ``service_request_id``: one ``BatchGetItem``; it overrides every other filter, as the spec says.

Reads by id (``GET requests/{id}``, the ``service_request_id`` filter) also answer a complaint
received and not yet stored, from its receipt (:mod:`gyeonggi.complaints.receipts`): the id a
``POST`` gave is never unknown. Lists by date, status, service or jurisdiction show stored
complaints only: they are read from indexes that lag the table anyway, and a list that misses
a complaint for a second promised nothing about it.
"""

from __future__ import annotations

import heapq
import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any, Protocol

from gyeonggi.common import clock
from gyeonggi.common.errors import InvalidInput, NotFound
from gyeonggi.common.numbers import whole_number
from gyeonggi.complaints.jurisdictions import known
from gyeonggi.complaints.models import Complaint
from gyeonggi.complaints.receipts import Receipt, ReceiptReader
from gyeonggi.complaints.services import BY_CODE as SERVICES

#: The spec: a date range "may not span more than 90 days"; also the default window.
MAX_SPAN = timedelta(days=90)
#: The spec's default cap on records, and this server's largest page.
MAX_PAGE_SIZE = 1000
#: Deep pages are read through; beyond this, narrow the dates instead.
MAX_DEPTH = 10_000
MAX_IDS = 100  # one BatchGetItem
STATUSES = ("open", "closed")
_REQUEST_ID = re.compile(r"^GG-[0-9]{8}-[0-9A-F]{8}$")


@dataclass(frozen=True)
class Window:
    """A time window and a page of what falls in it, newest first."""

    start: datetime
    end: datetime
    page: int = 1
    page_size: int = MAX_PAGE_SIZE

    @property
    def needed(self) -> int:
        """How many records must be read, newest first, to cut this page."""
        return self.page * self.page_size

    def cut(self, records: list[Any]) -> list[Any]:
        """This page of ``records`` (already newest first)."""
        first = (self.page - 1) * self.page_size
        return records[first : first + self.page_size]


@dataclass(frozen=True)
class RequestQuery:
    """The filters of ``GET requests``, validated."""

    window: Window
    service_request_ids: tuple[str, ...] = ()
    service_codes: tuple[str, ...] = ()
    statuses: tuple[str, ...] = ()
    jurisdiction_id: str | None = None


def _list(params: Mapping[str, str], name: str) -> tuple[str, ...]:
    raw = params.get(name)
    if raw is None:
        return ()
    items = tuple(dict.fromkeys(p.strip() for p in raw.split(",")))
    if not items or any(not p for p in items):
        raise InvalidInput(f"{name}: must be a comma-separated list without blanks", field=name)
    return items


def _moment(params: Mapping[str, str], name: str) -> datetime | None:
    raw = params.get(name)
    if raw is None:
        return None
    try:
        # Dates without an offset are Korean time, the province's.
        moment = clock.parse_iso(raw.strip(), assume=clock.KST)
    except ValueError:
        # Bounded years too: the window below shifts zones and adds 90 days.
        raise InvalidInput(
            f"{name}: must be an ISO 8601 date or date-time from {clock.EARLIEST.year} to "
            f"{clock.LATEST.year - 1}, e.g. 2026-11-01T00:00:00+09:00",
            field=name,
        ) from None
    return moment


def _int(params: Mapping[str, str], name: str, default: int, low: int, high: int) -> int:
    raw = params.get(name)
    return default if raw is None else whole_number(raw, name, low, high)


def parse_window(params: Mapping[str, str], now: datetime | None = None) -> Window:
    """Read ``start_date``, ``end_date``, ``page`` and ``page_size``.

    Without dates the window is the last 90 days; with one date, 90 days from (or up to) it.

    Raises
    ------
    InvalidInput
        Naming the parameter: not a date, ``end_date`` before ``start_date``, a span of more
        than 90 days, a page out of range, or a page deeper than 10,000 records.
    """
    now = now or clock.now()
    start, end = _moment(params, "start_date"), _moment(params, "end_date")
    if start is None and end is None:
        end = now
    if start is None:
        assert end is not None
        start = end - MAX_SPAN
    if end is None:
        end = start + MAX_SPAN
    if end < start:
        raise InvalidInput("end_date: must not be before start_date", field="end_date")
    if end - start > MAX_SPAN:
        days = (end - start) / timedelta(days=1)
        raise InvalidInput(
            f"end_date: start_date to end_date spans {days:.1f} days; at most 90 are allowed",
            field="end_date",
        )
    page = _int(params, "page", 1, 1, MAX_DEPTH)
    page_size = _int(params, "page_size", MAX_PAGE_SIZE, 1, MAX_PAGE_SIZE)
    if page * page_size > MAX_DEPTH:
        raise InvalidInput(
            f"page: page x page_size may reach at most record {MAX_DEPTH}; narrow the dates",
            field="page",
        )
    return Window(start.astimezone(UTC), end.astimezone(UTC), page, page_size)


def parse_request_query(params: Mapping[str, str], now: datetime | None = None) -> RequestQuery:
    """Validate the query string of ``GET requests``.

    Raises
    ------
    InvalidInput
        Naming the first parameter that is wrong.
    """
    ids = _list(params, "service_request_id")
    if len(ids) > MAX_IDS:
        raise InvalidInput(
            f"service_request_id: at most {MAX_IDS} ids at once", field="service_request_id"
        )
    for rid in ids:
        if not _REQUEST_ID.match(rid):
            raise InvalidInput(
                f"service_request_id: {rid!r} is not a request id (GG-YYYYMMDD-XXXXXXXX)",
                field="service_request_id",
            )
    codes = _list(params, "service_code")
    for code in codes:
        if code not in SERVICES:
            raise InvalidInput(
                f"service_code: {code!r} is not a service_code of this server",
                field="service_code",
            )
    statuses = _list(params, "status")
    for status in statuses:
        if status not in STATUSES:
            raise InvalidInput(f"status: {status!r} is not open or closed", field="status")
    return RequestQuery(
        window=parse_window(params, now),
        service_request_ids=ids,
        service_codes=codes,
        statuses=statuses,
        jurisdiction_id=known(params.get("jurisdiction_id")),
    )


class ComplaintReader(Protocol):
    """What the planner needs of the complaints store (``ComplaintStore`` has it)."""

    def get(self, service_request_id: str, jurisdiction_id: str | None = None) -> Complaint: ...

    def get_many(self, ids: tuple[str, ...]) -> list[Complaint]: ...

    def newest_in_jurisdiction(
        self,
        jurisdiction_id: str,
        start: datetime,
        end: datetime,
        limit: int,
        *,
        statuses: tuple[str, ...] = (),
        service_codes: tuple[str, ...] = (),
    ) -> list[Complaint]: ...

    def newest_with_status(
        self,
        status: str,
        start: datetime,
        end: datetime,
        limit: int,
        *,
        service_codes: tuple[str, ...] = (),
    ) -> list[Complaint]: ...


def find_request(
    service_request_id: str,
    jurisdiction_id: str | None,
    store: ComplaintReader,
    receipts: ReceiptReader,
) -> Complaint | Receipt:
    """``GET requests/{id}``: the stored complaint, else its receipt while it has one.

    Raises
    ------
    NotFound
        Neither exists, or, asked for in ``jurisdiction_id``, it belongs to another one.
    """
    found: Complaint | Receipt | None
    try:
        found = store.get(service_request_id)
    except NotFound:
        found = receipts.get(service_request_id)
        if found is None:
            raise
    if jurisdiction_id and found.jurisdiction_id != jurisdiction_id:
        raise NotFound(f"service request {service_request_id} not found in {jurisdiction_id}")
    return found


def find_requests(
    query: RequestQuery, store: ComplaintReader, receipts: ReceiptReader
) -> list[Complaint | Receipt]:
    """The complaints ``query`` asks for, newest first, cut to its page; asked for by id, those
    not stored yet from their receipts."""
    if query.service_request_ids:
        ids = query.service_request_ids
        stored: list[Complaint | Receipt] = list(store.get_many(ids))
        missing = [i for i in ids if i not in {c.service_request_id for c in stored}]
        received = {r.service_request_id: r for r in receipts.get_many(missing)} if missing else {}
        by_id = {c.service_request_id: c for c in stored} | received
        return [by_id[i] for i in ids if i in by_id]
    window = query.window
    if query.jurisdiction_id:
        found = store.newest_in_jurisdiction(
            query.jurisdiction_id,
            window.start,
            window.end,
            window.needed,
            statuses=query.statuses,
            service_codes=query.service_codes,
        )
        return window.cut(found)
    streams = [
        store.newest_with_status(
            status, window.start, window.end, window.needed, service_codes=query.service_codes
        )
        for status in query.statuses or STATUSES
    ]
    merged = heapq.merge(*streams, key=lambda c: c.requested_datetime, reverse=True)
    return window.cut(list(merged)[: window.needed])
