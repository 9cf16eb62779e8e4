"""Separating personal data from a complaint before anything else sees it.

Contact details go to the restricted store; the citizen is replaced by a keyed pseudonym (an
HMAC computed inside KMS, so the key never leaves it) plus age band and gender.
"""

from __future__ import annotations

import base64
from datetime import date
from typing import Any, Protocol

from gyeonggi.common.aws import AwsClient
from gyeonggi.complaints.models import (
    AgeBand,
    CitizenSegment,
    Complaint,
    Contact,
    IntakeMessage,
    as_submitted,
)


class ContactWriter(Protocol):
    def put_contact(self, contact: Contact) -> None: ...


def age_band(birth_year: int | None, today: date) -> AgeBand:
    """The ten-year band of an age, open-ended at 70; ``unknown`` without a birth year."""
    if birth_year is None or birth_year > today.year:
        return "unknown"
    age = today.year - birth_year
    if age < 20:
        return "0-19"
    if age >= 70:
        return "70+"
    low = age // 10 * 10
    return f"{low}-{low + 9}"  # type: ignore[return-value,unused-ignore]


class Pseudonymizer:
    """Stable pseudonyms by HMAC-SHA-256 in KMS over a normalised identifier."""

    kms = AwsClient("kms")

    def __init__(self, key_id: str, kms: Any | None = None) -> None:
        self.key_id = key_id
        if kms is not None:
            self.kms = kms

    def pseudonym(self, identifier: str) -> str:
        """``p_`` and 32 url-safe characters; the same identifier always gives the same one."""
        normalised = identifier.strip().lower().encode()
        mac = self.kms.generate_mac(
            KeyId=self.key_id, MacAlgorithm="HMAC_SHA_256", Message=normalised
        )["Mac"]
        return "p_" + base64.urlsafe_b64encode(mac[:24]).decode()


def _identifier(contact: Contact) -> str | None:
    # Account first: it is the most stable; e-mail and phone change less often than devices.
    for value in (contact.account_id, contact.email, contact.phone, contact.device_id):
        if value:
            return value
    return None


def separate(
    message: IntakeMessage, contacts: ContactWriter, pseudonymizer: Pseudonymizer
) -> Complaint:
    """Store the contact details and return the complaint without them.

    Idempotent: a redelivered message writes the same contact and yields the same complaint.
    """
    sub = message.submission
    contact = Contact(
        service_request_id=message.service_request_id,
        email=sub.email,
        phone=sub.phone,
        first_name=sub.first_name,
        last_name=sub.last_name,
        device_id=sub.device_id,
        account_id=sub.account_id,
    )
    if not contact.is_empty():
        contacts.put_contact(contact)
    identifier = _identifier(contact)
    return Complaint(
        **as_submitted(message),
        citizen=CitizenSegment(
            pseudonym=pseudonymizer.pseudonym(identifier) if identifier else None,
            age_band=age_band(sub.citizen.birth_year, message.submitted_at.date()),
            gender=sub.citizen.gender,
            consent_analytics=sub.citizen.consent_analytics,
        ),
    )
