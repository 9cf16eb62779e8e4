"""Receipts: a complaint posted and not yet stored is readable by id at once, and by nobody
who could not read the stored one; the receipt holds nothing personal.

The store behaviour runs on the in-memory fake and on ``ReceiptStore`` over moto (its table
from template.yaml) alike. The reads through HTTP are tests/integration/test_open311_receipts.py.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

import boto3
import pytest
from moto import mock_aws

from gyeonggi.auth import Principal
from gyeonggi.common.errors import Forbidden, NotFound
from gyeonggi.complaints import open311
from gyeonggi.complaints.access import read_complaint
from gyeonggi.complaints.intake import IntakeQueue
from gyeonggi.complaints.models import CitizenSegment, Complaint, IntakeMessage, to_item
from gyeonggi.complaints.queries import find_request, find_requests, parse_request_query
from gyeonggi.complaints.receipts import LIFETIME, NOTICE, Receipt, ReceiptStore, owner_digest
from tests.fakes.aws import FakeSqs
from tests.fakes.complaints import FakeReceipts
from tests.unit.conftest import table_from_template

# Reads ask the real clock whether a receipt has expired: these receipts are made now.
T0 = datetime.now(UTC).replace(microsecond=0)
POSTED = "GG-20261124-0000000A"
STORED = "GG-20261124-0000000B"
PERSONAL = {
    "email": "minji@example.kr",
    "phone": "010-1234-5678",
    "first_name": "Minji",
    "last_name": "Kim",
    "device_id": "device-42",
    "citizen": {"birth_year": 1990, "gender": "female", "consent_analytics": True},
}


def _message(
    rid: str = POSTED, channel: str = "api", account: str | None = "citizen-1", **changes: Any
) -> IntakeMessage:
    submission = {
        "jurisdiction_id": "suwon.gg.kr",
        "service_code": "road-damage",
        "description": "팔달문 앞 포트홀",
        "lat": 37.28,
        "long": 127.01,
        "attributes": {"pothole_size": "large"},
        **PERSONAL,
        **({"account_id": account} if account else {}),
        **changes,
    }
    return IntakeMessage.model_validate(
        {
            "service_request_id": rid,
            "submitted_at": T0,
            "channel": channel,
            "submission": submission,
        }
    )


def _complaint(rid: str = STORED, jurisdiction: str = "suwon.gg.kr") -> Complaint:
    return Complaint(
        service_request_id=rid,
        jurisdiction_id=jurisdiction,
        service_code="waste",
        description="쓰레기",
        agency_responsible="environment",
        address_string="수원시",
        channel="api",
        requested_datetime=T0,
        updated_datetime=T0,
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

    def newest_in_jurisdiction(self, *args: Any, **kwargs: Any) -> list[Complaint]:
        raise AssertionError("a read by id reads no index")

    newest_with_status = newest_in_jurisdiction


class NoContacts:
    def get_contact(self, service_request_id: str) -> None:
        return None

    def requests_of_account(
        self, account_id: str, limit: int, after: str | None = None
    ) -> tuple[list[str], str | None]:
        return [], None


# ------------------------------------------------------------------ the receipt


def test_a_receipt_holds_what_open311_shows_and_nothing_personal() -> None:
    receipt = Receipt.of(_message())
    shown = to_item(receipt)
    assert shown["status"] == "open" and shown["requested_datetime"] == shown["updated_datetime"]
    assert Receipt.model_validate(to_item(receipt) | {"expires_at": 0}).requested_datetime == T0
    assert shown["agency_responsible"] == "road-management"
    assert shown["attributes"] == {"pothole_size": "large"}
    dumped = json.dumps(shown, ensure_ascii=False) + str(receipt.owner)
    for value in ("minji@example.kr", "010-1234-5678", "Minji", "Kim", "device-42", "1990"):
        assert value not in dumped
    assert "citizen-1" not in dumped  # only its digest, and never in an answer
    assert "owner" not in shown and "expires_at" not in shown and "citizen" not in shown
    assert receipt.owner == owner_digest("citizen-1")
    assert receipt.expires_at == int((T0 + LIFETIME).timestamp())


def test_only_a_signed_in_filing_has_an_owner() -> None:
    assert Receipt.of(_message()).filed_by("citizen-1")
    assert not Receipt.of(_message()).filed_by("citizen-2")
    # An Open311 client may send any account_id: it makes nobody the owner.
    assert Receipt.of(_message(channel="open311")).owner is None
    assert not Receipt.of(_message(channel="open311")).filed_by("citizen-1")
    assert Receipt.of(_message(account=None)).owner is None


def test_the_receipt_is_written_before_the_message_is_sent() -> None:
    order: list[str] = []

    class Receipts(FakeReceipts):
        def put(self, receipt: Receipt) -> None:
            order.append("receipt")
            super().put(receipt)

    class Sqs(FakeSqs):
        def send_message(self, **kwargs: Any) -> dict[str, Any]:
            order.append("message")
            return super().send_message(**kwargs)

    receipts = Receipts()
    queue = IntakeQueue("https://sqs/intake", sqs=Sqs(), receipts=receipts)
    message = queue.submit(_message().submission, channel="api", now=T0)
    assert order == ["receipt", "message"]
    assert receipts.get(message.service_request_id, now=T0) == Receipt.of(message)


def test_no_message_is_sent_when_the_receipt_cannot_be_written() -> None:
    class Broken(FakeReceipts):
        def put(self, receipt: Receipt) -> None:
            raise RuntimeError("table unavailable")

    sqs = FakeSqs()
    with pytest.raises(RuntimeError):
        IntakeQueue("q", sqs=sqs, receipts=Broken()).submit(_message().submission, "api", T0)
    assert sqs.messages == []  # no complaint the client was never told about


# ------------------------------------------------------------------ the store, fake and real


@pytest.fixture(params=["fake", "dynamodb"])
def receipts(request: pytest.FixtureRequest) -> Iterator[FakeReceipts | ReceiptStore]:
    if request.param == "fake":
        yield FakeReceipts()
        return
    request.getfixturevalue("lambda_environment")
    with mock_aws():
        dynamodb = boto3.resource("dynamodb", region_name="ap-northeast-2")
        table_from_template(dynamodb, "ComplaintReceiptsTable", "receipts")
        yield ReceiptStore("receipts", dynamodb=dynamodb)


def test_the_store_answers_unexpired_receipts_by_id_in_the_order_asked(
    receipts: FakeReceipts | ReceiptStore,
) -> None:
    first, second = Receipt.of(_message()), Receipt.of(_message(rid=STORED, channel="open311"))
    receipts.put(first)
    receipts.put(second)
    assert receipts.get(POSTED, now=T0) == first  # owner and expiry come back too
    assert receipts.get("GG-20261124-FFFFFFFF", now=T0) is None
    assert receipts.get_many([STORED, "GG-20261124-FFFFFFFF", POSTED], now=T0) == [second, first]
    later = T0 + LIFETIME
    assert receipts.get(POSTED, now=later) is None
    assert receipts.get_many([POSTED, STORED], now=later) == []


# ------------------------------------------------------------------ Open311 reads by id


def test_get_request_answers_the_receipt_until_the_complaint_is_stored() -> None:
    receipt = Receipt.of(_message())
    complaints, receipts = Complaints(_complaint()), FakeReceipts(receipt)
    found = find_request(POSTED, None, complaints, receipts)
    assert found == receipt
    assert find_request(POSTED, "suwon.gg.kr", complaints, receipts) == receipt
    with pytest.raises(NotFound):
        find_request(POSTED, "osan.gg.kr", complaints, receipts)
    # Stored, the complaint wins and the receipt is not even read.
    complaints.by_id[POSTED] = _complaint(POSTED)
    receipts.asked.clear()
    assert isinstance(find_request(POSTED, None, complaints, receipts), Complaint)
    assert receipts.asked == []
    with pytest.raises(NotFound):
        find_request("GG-20261124-FFFFFFFF", None, complaints, receipts)


def test_the_open311_view_of_a_receipt_is_a_stored_one_with_the_post_notice() -> None:
    view = open311.service_request(Receipt.of(_message()))
    assert view["status"] == "open" and view["service_notice"] == NOTICE
    assert (
        view["service_name"] == "Road damage and potholes"
        and view["jurisdiction_id"] == "suwon.gg.kr"
    )
    assert set(view) == set(open311.service_request(_complaint()))
    assert open311.service_request(_complaint())["service_notice"] is None
    assert open311.post_response(POSTED)[0]["service_notice"] == NOTICE


def test_the_id_filter_fills_in_received_requests_and_lists_do_not() -> None:
    complaints = Complaints(_complaint())
    receipts = FakeReceipts(Receipt.of(_message()))
    query = parse_request_query({"service_request_id": f"{POSTED},{STORED}"}, T0)
    found = find_requests(query, complaints, receipts)
    assert [(c.service_request_id, type(c).__name__) for c in found] == [
        (POSTED, "Receipt"),
        (STORED, "Complaint"),
    ]
    receipts.asked.clear()
    assert find_requests(
        parse_request_query({"service_request_id": STORED}, T0), complaints, receipts
    )
    assert receipts.asked == []  # all stored: no receipt read


# ------------------------------------------------------------------ the native read


def _who(*roles: str, sub: str = "citizen-1", **scope: Any) -> Principal:
    return Principal(sub, frozenset(roles), {}, **scope)


@pytest.mark.parametrize(
    ("who", "answer"),
    [
        (_who("citizen"), "owner"),
        (_who("citizen", sub="citizen-2"), NotFound),
        (
            _who("civil-servant", sub="officer", jurisdictions=frozenset({"suwon.gg.kr"})),
            "jurisdiction",
        ),
        (_who("civil-servant", "province", sub="officer"), "jurisdiction"),
        (_who("civil-servant", sub="officer", jurisdictions=frozenset({"osan.gg.kr"})), Forbidden),
        (_who("operator", sub="officer"), NotFound),
    ],
)
def test_a_received_complaint_is_read_by_whoever_may_read_the_stored_one(
    who: Principal, answer: str | type[Exception]
) -> None:
    stores = (Complaints(), NoContacts(), FakeReceipts(Receipt.of(_message())))
    if isinstance(answer, str):
        readable = read_complaint(who, POSTED, *stores)
        assert readable.reason == answer and readable.contact is None and not readable.stored
    else:
        with pytest.raises(answer):
            read_complaint(who, POSTED, *stores)


def test_an_open311_receipt_belongs_to_no_citizen() -> None:
    stores = (Complaints(), NoContacts(), FakeReceipts(Receipt.of(_message(channel="open311"))))
    with pytest.raises(NotFound):
        read_complaint(_who("citizen"), POSTED, *stores)


def test_an_expired_receipt_is_not_found_again() -> None:
    expired = Receipt.of(_message()).model_copy(update={"expires_at": int(T0.timestamp())})
    with pytest.raises(NotFound):
        read_complaint(_who("citizen"), POSTED, Complaints(), NoContacts(), FakeReceipts(expired))
