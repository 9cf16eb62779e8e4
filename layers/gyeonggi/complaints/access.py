"""Who may see which complaint: need to know, as the Personal Information Protection Act asks.

- A civil servant reads a complaint with its contact details, and updates it, only in the
  jurisdictions of their account (:meth:`Principal.may_access`); the ``province`` group sees all.
  Outside them the answer is 403, not 404: the complaint itself (without contacts) is public
  through Open311 ``GET requests/{id}``, so hiding its existence would hide nothing, and a 403
  tells the official to ask the right city or county.
- A citizen reads and lists only the complaints they filed through the native API while signed
  in: the contact store's ``account_id`` is their token's ``sub`` (set by the API, never by the
  body). An Open311 client may send any ``account_id``, so those complaints belong to no citizen
  here. Anything else is 404 to a citizen: their complaints are their namespace.
- A complaint received and not yet stored is read from its receipt by the same rules: the
  civil servants of its jurisdiction and the citizen who filed it (the receipt's owner digest)
  see it, without contact details, which are being moved to the restricted store.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Protocol

from gyeonggi.auth import CITIZEN, CIVIL_SERVANT, Principal
from gyeonggi.common.errors import InvalidInput, NotFound
from gyeonggi.common.numbers import whole_number
from gyeonggi.complaints.models import Complaint, Contact
from gyeonggi.complaints.receipts import Receipt, ReceiptReader

DEFAULT_PAGE = 20
MAX_PAGE = 50
_REQUEST_ID = re.compile(r"GG-[0-9]{8}-[0-9A-F]{8}")


class ComplaintReader(Protocol):
    def get(self, service_request_id: str, jurisdiction_id: str | None = None) -> Complaint: ...

    def get_many(self, ids: tuple[str, ...] | list[str]) -> list[Complaint]: ...


class ContactReader(Protocol):
    def get_contact(self, service_request_id: str) -> Contact | None: ...

    def requests_of_account(
        self, account_id: str, limit: int, after: str | None = None
    ) -> tuple[list[str], str | None]: ...


@dataclass(frozen=True)
class Readable:
    """A complaint as its reader may see it, and why they may."""

    complaint: Complaint | Receipt
    contact: Contact | None
    reason: str  # "jurisdiction" (a civil servant's) or "owner" (the citizen's own)

    @property
    def stored(self) -> bool:
        """False while only the receipt exists (and so no contact details can be read)."""
        return isinstance(self.complaint, Complaint)


def owns(complaint: Complaint, contact: Contact | None, principal: Principal) -> bool:
    """Whether ``principal`` filed ``complaint`` through the native API, signed in."""
    return (
        principal.has_any_role(CITIZEN)
        and complaint.channel == "api"
        and contact is not None
        and contact.account_id == principal.subject
    )


def read_complaint(
    principal: Principal,
    service_request_id: str,
    complaints: ComplaintReader,
    contacts: ContactReader,
    receipts: ReceiptReader,
) -> Readable:
    """The complaint and its contact details, if ``principal`` may see them; a complaint not
    stored yet from its receipt, without contact details.

    Raises
    ------
    NotFound
        No such complaint (nor receipt), or a citizen asks for one that is not theirs.
    Forbidden
        A civil servant asks for one outside their jurisdictions (and it is not their own).
    """
    try:
        complaint = complaints.get(service_request_id)
    except NotFound:
        receipt = receipts.get(service_request_id)
        if receipt is None:
            raise
        return _read_receipt(principal, receipt)
    servant = principal.has_any_role(CIVIL_SERVANT)
    if servant and principal.may_access(complaint.jurisdiction_id):
        return Readable(complaint, contacts.get_contact(service_request_id), "jurisdiction")
    contact = contacts.get_contact(service_request_id) if principal.has_any_role(CITIZEN) else None
    if owns(complaint, contact, principal):
        return Readable(complaint, contact, "owner")
    if servant:
        principal.require_jurisdiction(complaint.jurisdiction_id)
    raise NotFound(f"service request {service_request_id} not found")


def _read_receipt(principal: Principal, receipt: Receipt) -> Readable:
    # The rules of read_complaint, on what the receipt knows: its jurisdiction and owner.
    servant = principal.has_any_role(CIVIL_SERVANT)
    if servant and principal.may_access(receipt.jurisdiction_id):
        return Readable(receipt, None, "jurisdiction")
    if principal.has_any_role(CITIZEN) and receipt.filed_by(principal.subject):
        return Readable(receipt, None, "owner")
    if servant:
        principal.require_jurisdiction(receipt.jurisdiction_id)
    raise NotFound(f"service request {receipt.service_request_id} not found")


@dataclass(frozen=True)
class Page:
    """One page of a citizen's own complaints, newest first."""

    complaints: list[Complaint]
    after: str | None  # the ``after`` of the next page, None on the last


def parse_page(params: Mapping[str, str]) -> tuple[int, str | None]:
    """``limit`` (1 to ``MAX_PAGE``, default ``DEFAULT_PAGE``) and ``after`` (a request id).

    Raises
    ------
    InvalidInput
        Naming the parameter that is wrong.
    """
    raw_limit = params.get("limit")
    limit = DEFAULT_PAGE if raw_limit is None else whole_number(raw_limit, "limit", 1, MAX_PAGE)
    after = params.get("after")
    if after is not None and not _REQUEST_ID.fullmatch(after):
        raise InvalidInput(
            "after: must be a service_request_id (GG-YYYYMMDD-XXXXXXXX)", field="after"
        )
    return limit, after


def own_complaints(
    principal: Principal,
    limit: int,
    after: str | None,
    complaints: ComplaintReader,
    contacts: ContactReader,
) -> Page:
    """The complaints ``principal`` filed through the native API, ``limit`` at most a page.

    One index query and one batch read per page. A page may hold fewer than ``limit`` when
    some of the account's requests are not stored yet or came through Open311; ``after`` says
    whether to go on.
    """
    ids, next_after = contacts.requests_of_account(principal.subject, limit, after)
    found = [c for c in complaints.get_many(ids) if c.channel == "api"]
    return Page(found, next_after)
