"""In-memory stand-ins for the complaint stores the API's reads take."""

from __future__ import annotations

from datetime import datetime

from gyeonggi.complaints.receipts import Receipt, ReceiptReader, ReceiptWriter


class FakeReceipts:
    """``ReceiptStore`` in memory: unexpired receipts by id, in the order asked.

    ``tests/unit/test_complaint_receipts.py`` runs it and the real store on the same tests.
    """

    def __init__(self, *receipts: Receipt) -> None:
        self.by_id = {r.service_request_id: r for r in receipts}
        self.asked: list[str] = []

    def put(self, receipt: Receipt) -> None:
        self.by_id[receipt.service_request_id] = receipt

    def get(self, service_request_id: str, now: datetime | None = None) -> Receipt | None:
        self.asked.append(service_request_id)
        found = self.by_id.get(service_request_id)
        return None if found is None or found.expired(now) else found

    def get_many(
        self, ids: tuple[str, ...] | list[str], now: datetime | None = None
    ) -> list[Receipt]:
        self.asked.extend(ids)
        found = (self.by_id.get(i) for i in dict.fromkeys(ids))
        return [r for r in found if r is not None and not r.expired(now)]


_reader: ReceiptReader = FakeReceipts()
_writer: ReceiptWriter = FakeReceipts()
