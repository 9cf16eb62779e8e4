"""Personal data is separated before a complaint is stored or published."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any

from gyeonggi.common.privacy import mask_personal_data
from gyeonggi.complaints.models import Contact, IntakeMessage, to_item
from gyeonggi.complaints.privacy import Pseudonymizer, separate
from gyeonggi.complaints.store import typed_item


class FakeKms:
    """HMAC in place of KMS GenerateMac: same contract, key held here."""

    def __init__(self, key: bytes = b"k" * 32) -> None:
        self.key = key
        self.calls = 0

    def generate_mac(self, *, KeyId: str, MacAlgorithm: str, Message: bytes) -> dict[str, Any]:
        import hashlib
        import hmac

        assert MacAlgorithm == "HMAC_SHA_256"
        self.calls += 1
        return {"Mac": hmac.new(self.key, Message, hashlib.sha256).digest()}


class FakeContacts:
    def __init__(self) -> None:
        self.stored: list[Contact] = []

    def put_contact(self, contact: Contact) -> None:
        self.stored.append(contact)


def _message(**submission: Any) -> IntakeMessage:
    return IntakeMessage.model_validate(
        {
            "service_request_id": "GG-20261124-0A1B2C3D",
            "submitted_at": datetime(2026, 11, 24, 9, 0, tzinfo=UTC),
            "channel": "open311",
            "submission": {
                "jurisdiction_id": "ansan.gg.kr",
                "service_code": "odor-air",
                "lat": 37.3,
                "long": 126.8,
                "description": "화학 냄새가 납니다",
                **submission,
            },
        }
    )


def test_contact_goes_to_the_store_and_nowhere_else() -> None:
    contacts = FakeContacts()
    complaint = separate(
        _message(
            email="Citizen@Example.kr",
            phone="010-1111-2222",
            first_name="Jiho",
            citizen={"birth_year": 1990, "gender": "male"},
        ),
        contacts,
        Pseudonymizer("key", kms=FakeKms()),
    )
    assert contacts.stored[0].email == "Citizen@Example.kr"
    text = json.dumps(to_item(complaint), ensure_ascii=False)
    for personal in ("Citizen@Example.kr", "010-1111-2222", "Jiho", "1990"):
        assert personal not in text
    assert complaint.citizen.age_band == "30-39"
    assert complaint.agency_responsible == "environmental-policy"


def test_pseudonym_is_stable_case_insensitive_and_keyed() -> None:
    kms = FakeKms()
    one = separate(_message(email="a@b.kr"), FakeContacts(), Pseudonymizer("k", kms=kms))
    two = separate(_message(email=" A@B.KR "), FakeContacts(), Pseudonymizer("k", kms=kms))
    other_key = separate(
        _message(email="a@b.kr"), FakeContacts(), Pseudonymizer("k", kms=FakeKms(b"x" * 32))
    )
    assert one.citizen.pseudonym == two.citizen.pseudonym
    assert one.citizen.pseudonym != other_key.citizen.pseudonym
    assert one.citizen.pseudonym and one.citizen.pseudonym.startswith("p_")


def test_anonymous_complaint_has_no_pseudonym_and_writes_no_contact() -> None:
    contacts, kms = FakeContacts(), FakeKms()
    complaint = separate(_message(), contacts, Pseudonymizer("k", kms=kms))
    assert complaint.citizen.pseudonym is None
    assert contacts.stored == [] and kms.calls == 0


def test_typed_item_is_dynamodb_json_with_exact_numbers() -> None:
    complaint = separate(_message(), FakeContacts(), Pseudonymizer("k", kms=FakeKms()))
    item = typed_item(complaint)
    assert item["lat"] == {"N": "37.3"}
    assert item["service_request_id"] == {"S": "GG-20261124-0A1B2C3D"}
    assert item["citizen"]["M"]["age_band"] == {"S": "unknown"}


def test_masking_erases_personal_fields_at_any_depth() -> None:
    data = {"email": "a@b.kr", "nested": [{"phone": "010"}], "service_code": "noise"}
    assert mask_personal_data(data) == {
        "email": "*****",
        "nested": [{"phone": "*****"}],
        "service_code": "noise",
    }
