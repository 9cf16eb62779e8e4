"""gyeonggi.complaints.access with in-memory stores: who reads which complaint, and the list
of a citizen's own (the HTTP matrix is tests/integration/test_need_to_know.py)."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest

from gyeonggi.auth import Principal
from gyeonggi.common.errors import Forbidden, InvalidInput, NotFound
from gyeonggi.complaints.access import (
    MAX_PAGE,
    own_complaints,
    parse_page,
    read_complaint,
)
from gyeonggi.complaints.models import CitizenSegment, Complaint, Contact
from tests.fakes.complaints import FakeReceipts

NOW = datetime(2026, 11, 24, 9, 0, tzinfo=UTC)


def _complaint(rid: str, channel: str = "api", jurisdiction: str = "suwon.gg.kr") -> Complaint:
    return Complaint(
        service_request_id=rid,
        jurisdiction_id=jurisdiction,
        service_code="waste",
        description="쓰레기",
        agency_responsible="environment",
        address_string="수원시",
        channel=channel,  # type: ignore[arg-type]
        requested_datetime=NOW,
        updated_datetime=NOW,
        citizen=CitizenSegment(age_band="unknown", gender="undisclosed", consent_analytics=False),
    )


class Complaints:
    def __init__(self, *complaints: Complaint) -> None:
        self.by_id = {c.service_request_id: c for c in complaints}

    def get(self, service_request_id: str, jurisdiction_id: str | None = None) -> Complaint:
        if service_request_id not in self.by_id:
            raise NotFound(f"service request {service_request_id} not found")
        return self.by_id[service_request_id]

    def get_many(self, ids: tuple[str, ...] | list[str]) -> list[Complaint]:
        return [self.by_id[i] for i in ids if i in self.by_id]


class Contacts:
    def __init__(self, *contacts: Contact) -> None:
        self.by_id = {c.service_request_id: c for c in contacts}
        self.asked: list[tuple[str, int, str | None]] = []

    def get_contact(self, service_request_id: str) -> Contact | None:
        return self.by_id.get(service_request_id)

    def requests_of_account(
        self, account_id: str, limit: int, after: str | None = None
    ) -> tuple[list[str], str | None]:
        self.asked.append((account_id, limit, after))
        ids = sorted(
            (c.service_request_id for c in self.by_id.values() if c.account_id == account_id),
            reverse=True,
        )
        if after:
            ids = [i for i in ids if i < after]
        page = ids[:limit]
        return page, (page[-1] if len(ids) > limit else None)


def _who(*roles: str, sub: str = "citizen-1", **scope: Any) -> Principal:
    return Principal(sub, frozenset(roles), {}, **scope)


A = "GG-20261124-0000000A"
B = "GG-20261124-0000000B"
C = "GG-20261125-0000000C"
STORES = (
    Complaints(_complaint(A), _complaint(B, channel="open311"), _complaint(C, "api", "osan.gg.kr")),
    Contacts(
        Contact(service_request_id=A, account_id="citizen-1", email="a@example.org"),
        Contact(service_request_id=B, account_id="citizen-1"),  # named by an Open311 client
        Contact(service_request_id=C, account_id="citizen-1"),
    ),
    FakeReceipts(),  # nothing waits to be stored here: tests/unit/test_complaint_receipts.py
)


def test_owner_reads_their_complaint_with_its_contact() -> None:
    readable = read_complaint(_who("citizen"), A, *STORES)
    assert readable.reason == "owner" and readable.contact and readable.contact.email


def test_an_open311_account_id_is_no_ownership() -> None:
    with pytest.raises(NotFound):
        read_complaint(_who("citizen"), B, *STORES)


def test_another_citizen_gets_404_and_a_missing_one_too() -> None:
    with pytest.raises(NotFound):
        read_complaint(_who("citizen", sub="citizen-2"), A, *STORES)
    with pytest.raises(NotFound):
        read_complaint(_who("citizen"), "GG-20990101-DEADBEEF", *STORES)


def test_a_servant_who_is_also_the_citizen_reads_their_own_anywhere() -> None:
    both = _who("citizen", "civil-servant", jurisdictions=frozenset({"osan.gg.kr"}))
    assert read_complaint(both, A, *STORES).reason == "owner"
    assert read_complaint(both, C, *STORES).reason == "jurisdiction"
    stranger = _who("citizen", "civil-servant", sub="citizen-2")
    with pytest.raises(Forbidden):  # a servant is told the scope is the reason
        read_complaint(stranger, A, *STORES)


def test_own_list_leaves_out_open311_filings_and_pages() -> None:
    complaints, contacts, _ = STORES
    page = own_complaints(_who("citizen"), 2, None, complaints, contacts)
    assert [c.service_request_id for c in page.complaints] == [C]  # B came through Open311
    assert page.after == B
    rest = own_complaints(_who("citizen"), 2, page.after, complaints, contacts)
    assert [c.service_request_id for c in rest.complaints] == [A] and rest.after is None
    assert contacts.asked[-1] == ("citizen-1", 2, B)


@pytest.mark.parametrize(
    ("params", "expected"),
    [
        ({}, (20, None)),
        ({"limit": "1"}, (1, None)),
        ({"limit": str(MAX_PAGE), "after": A}, (MAX_PAGE, A)),
    ],
)
def test_page_parameters(params: dict[str, str], expected: tuple[int, str | None]) -> None:
    assert parse_page(params) == expected


@pytest.mark.parametrize(
    "params",
    [
        {"limit": "0"},
        {"limit": str(MAX_PAGE + 1)},
        {"limit": ""},
        {"limit": "-1"},
        {"limit": "1.5"},
        {"limit": "٣"},  # a digit, but not an ASCII one
        {"limit": "9" * 5000},
        {"after": ""},
        {"after": "GG-20261124-0000000a"},
        {"after": A + "\n"},
    ],
)
def test_bad_page_parameters_are_400_naming_them(params: dict[str, str]) -> None:
    with pytest.raises(InvalidInput) as info:
        parse_page(params)
    assert info.value.field in params
