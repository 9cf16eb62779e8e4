"""In-memory fakes of the wallet issuer's ports (:mod:`gyeonggi.wallet.issuer_ports`).

Each keeps its DynamoDB twin's conditional writes, under a lock so that threads racing on a
fake see what they would see racing on DynamoDB (one winner per condition);
``tests/unit/test_wallet_store_contracts.py`` runs each fake and its twin through the same
tests. The assignments at the end make mypy check every fake against its Protocol.
"""

from __future__ import annotations

import threading
import zlib
from dataclasses import replace
from datetime import datetime
from typing import Any

from gyeonggi.common.errors import Conflict, NotFound
from gyeonggi.wallet.enrolments import VALID, Enrolment, StatusReference
from gyeonggi.wallet.grants import AccessToken, PreAuthorizedCode, digest, epoch
from gyeonggi.wallet.issuer_ports import (
    EnrolmentRecords,
    GrantRecords,
    SigningKeySet,
    StatusListRecords,
    TxCodeSender,
)
from gyeonggi.wallet.jose import LocalSigner, Signer
from gyeonggi.wallet.status_registry import FILL_LIMIT, StatusListState, packed_zeros


class FakeEnrolments:
    """:class:`gyeonggi.wallet.enrolments.EnrolmentStore` in a dict."""

    def __init__(self) -> None:
        self.items: dict[str, Enrolment] = {}
        self.lock = threading.Lock()

    def create(self, enrolment: Enrolment) -> Enrolment:
        with self.lock:
            if enrolment.enrolment_id in self.items:
                raise Conflict(f"enrolment {enrolment.enrolment_id} exists")
            # The table's record has no phone number (ResidentDetails.stored()).
            details = enrolment.details.model_copy(update={"phone_number": None})
            self.items[enrolment.enrolment_id] = replace(enrolment, details=details, version=1)
            return self.items[enrolment.enrolment_id]

    def get(self, enrolment_id: str) -> Enrolment:
        with self.lock:
            if enrolment_id not in self.items:
                raise NotFound(f"no enrolment {enrolment_id}")
            return self.items[enrolment_id]

    def add_credential(self, enrolment_id: str, reference: StatusReference) -> Enrolment:
        with self.lock:
            stored = self.items.get(enrolment_id)
            if stored is None or stored.status != VALID:
                raise Conflict(f"enrolment {enrolment_id} is not valid")
            self.items[enrolment_id] = replace(
                stored, credentials=(*stored.credentials, reference), version=stored.version + 1
            )
            return self.items[enrolment_id]

    def save(self, enrolment: Enrolment) -> Enrolment:
        with self.lock:
            stored = self.items.get(enrolment.enrolment_id)
            if stored is None or stored.version != enrolment.version:
                raise Conflict(f"enrolment {enrolment.enrolment_id} changed meanwhile")
            self.items[enrolment.enrolment_id] = replace(enrolment, version=enrolment.version + 1)
            return self.items[enrolment.enrolment_id]


class FakeGrants:
    """:class:`gyeonggi.wallet.grants.GrantStore` in dicts keyed as the table is."""

    def __init__(self) -> None:
        self.codes: dict[str, PreAuthorizedCode] = {}
        self.offers: dict[str, tuple[dict[str, Any], int]] = {}
        self.tokens: dict[str, AccessToken] = {}
        self.nonces: dict[str, int] = {}
        self.lock = threading.Lock()

    def put_offer(self, offer_id: str, offer: dict[str, Any], code: PreAuthorizedCode) -> None:
        with self.lock:
            if code.code_digest in self.codes or offer_id in self.offers:
                raise Conflict("the code or the offer exists")
            self.codes[code.code_digest] = code
            self.offers[offer_id] = (offer, code.expires_at)

    def get_offer(self, offer_id: str, now: datetime) -> dict[str, Any] | None:
        found = self.offers.get(offer_id)
        if found is None or found[1] <= epoch(now):
            return None
        return found[0]

    def get_code(self, code: str, now: datetime) -> PreAuthorizedCode | None:
        stored = self.codes.get(digest(code))
        if stored is None or stored.expires_at <= epoch(now):
            return None
        return stored

    def _live(self, code: str, now: datetime) -> PreAuthorizedCode | None:
        stored = self.codes.get(digest(code))
        return stored if stored is not None and stored.live(now) else None

    def spend_attempt(self, code: str, now: datetime) -> int | None:
        with self.lock:
            stored = self._live(code, now)
            if stored is None:
                return None
            self.codes[stored.code_digest] = replace(stored, attempts_left=stored.attempts_left - 1)
            return stored.attempts_left - 1

    def redeem(self, code: str, now: datetime) -> bool:
        with self.lock:
            stored = self._live(code, now)
            if stored is None:
                return False
            self.codes[stored.code_digest] = replace(stored, used=True)
            return True

    def put_token(self, token: str, grant: AccessToken) -> None:
        with self.lock:
            self.tokens[digest(token)] = grant

    def get_token(self, token: str, now: datetime) -> AccessToken | None:
        grant = self.tokens.get(digest(token))
        if grant is None or grant.expires_at <= epoch(now):
            return None
        return grant

    def put_nonce(self, nonce: str, expires_at: int) -> None:
        with self.lock:
            self.nonces[digest(nonce)] = expires_at

    def consume_nonce(self, nonce: str, now: datetime) -> bool:
        with self.lock:
            expires_at = self.nonces.get(digest(nonce))
            if expires_at is None or expires_at <= epoch(now):
                return False
            del self.nonces[digest(nonce)]
            return True


class FakeStatusLists:
    """:class:`gyeonggi.wallet.status_registry.StatusListStore` in dicts."""

    def __init__(self, size: int = 1 << 17, fill_limit: float = FILL_LIMIT) -> None:
        self.size = size
        self.limit = max(1, int(size * fill_limit))
        self.pointer: str | None = None
        self.allocated: dict[str, dict[int, str]] = {}
        self.packed: dict[str, tuple[bytes, int]] = {}
        self.lock = threading.Lock()

    def open_list(self) -> str | None:
        return self.pointer

    def start_list(self, after: str | None) -> None:
        with self.lock:
            if self.pointer != after:
                return  # another writer opened one meanwhile
            list_id = "1" if after is None else str(int(after) + 1)
            if list_id in self.packed:
                return
            self.allocated[list_id] = {}
            # Stored compressed, as the table stores it.
            self.packed[list_id] = (zlib.compress(packed_zeros(self.size)), 1)
            self.pointer = list_id

    def claim(self, list_id: str, idx: int, enrolment_id: str, now: datetime) -> str:
        with self.lock:
            entries = self.allocated[list_id]
            if idx in entries:
                return "taken"
            if len(entries) >= self.limit:
                return "full"
            entries[idx] = enrolment_id
            return "ok"

    def is_allocated(self, list_id: str, idx: int) -> bool:
        return idx in self.allocated.get(list_id, {})

    def read(self, list_id: str) -> StatusListState:
        with self.lock:
            if list_id not in self.packed:
                raise NotFound(f"no status list {list_id}")
            compressed, version = self.packed[list_id]
            return StatusListState(list_id, self.size, zlib.decompress(compressed), version)

    def write(self, state: StatusListState, packed: bytes) -> None:
        with self.lock:
            if self.packed[state.list_id][1] != state.version:
                raise Conflict(f"status list {state.list_id} changed meanwhile")
            self.packed[state.list_id] = (zlib.compress(packed), state.version + 1)


class LocalKeys:
    """Signing keys in this process: a current one and previous ones, as KMS would hold them."""

    def __init__(self, current: LocalSigner | None = None, previous: tuple[Signer, ...] = ()):
        self.current = current or LocalSigner.generate()
        self.previous = previous

    def signer(self) -> Signer:
        return self.current

    def jwks(self) -> dict[str, list[dict[str, str]]]:
        return {
            "keys": [
                {**s.public_jwk(), "alg": "ES256", "use": "sig"}
                for s in (self.current, *self.previous)
            ]
        }


class RecordedTxCodes:
    """Records what an SMS sender would send."""

    delivery = "sms"

    def __init__(self) -> None:
        self.sent: list[tuple[str | None, str]] = []

    def send(self, phone_number: str | None, tx_code: str) -> None:
        self.sent.append((phone_number, tx_code))


# mypy checks each fake against the port the services take it as.
_enrolments: EnrolmentRecords = FakeEnrolments()
_grants: GrantRecords = FakeGrants()
_lists: StatusListRecords = FakeStatusLists()
_keys: SigningKeySet = LocalKeys()
_tx: TxCodeSender = RecordedTxCodes()
