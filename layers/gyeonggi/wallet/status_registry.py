"""The issuer's Token Status Lists: entries allocated at random, never twice, and their status.

Every credential gets its own entry (``status.status_list {idx, uri}``), chosen uniformly at
random among the free entries of the open list, so that an index says nothing about when or to
whom a credential was issued, and two credentials never share one (the draft's "double
allocation", which would let a revocation hit someone else). A list has a fixed size
(:data:`LIST_SIZE`, 2^17 entries, 32 KiB at 2 bits) and takes allocations until
:data:`FILL_LIMIT` of it is used: past that, finding a free entry at random takes ever more
tries, so a new list is opened. The unused quarter stays 0 and looks like any valid entry.

``WalletStatusListsTable`` (key ``list_id`` + ``entry``) holds, per list:

- ``list``: its size, fill limit and the count allocated (conditional on the limit);
- ``statuses``: the 2-bit entries, packed as the draft packs them (least significant bits
  first) and ZLIB-compressed, with a ``version``: every change is written on the version read,
  so two officials changing two entries at once never lose either change;
- ``idx#<n>``: one item per allocated entry, written only if absent: the allocation itself;

and ``("current", "pointer")`` names the list open for allocation. An allocation is one
transaction: the entry's item (absent before) and the list's count (below its limit).
"""

from __future__ import annotations

import secrets
import zlib
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from gyeonggi.common.aws import DynamoTable
from gyeonggi.common.errors import Conflict, NotFound
from gyeonggi.wallet.enrolments import REVOKED, StatusReference

BITS = 2
#: Entries per list: 2^17 (the draft's size comparison uses lists of this order).
LIST_SIZE = 1 << 17
#: Allocations a list takes: three quarters; past that, random probing costs more than a new list.
FILL_LIMIT = 3 / 4
#: Random tries for a free entry before giving up (at 3/4 full, 40 misses in a row: 1e-5).
MAX_PROBES = 40

_POINTER = {"list_id": "current", "entry": "pointer"}


class StatusListsFull(Exception):
    """No free entry was found in :data:`MAX_PROBES` tries (a bug or a broken limit)."""


# ------------------------------------------------------------------ packing


def packed_zeros(size: int) -> bytes:
    """A list of ``size`` entries, all VALID, packed."""
    return bytes((size * BITS + 7) // 8)


def get_entry(packed: bytes | bytearray, idx: int) -> int:
    """Entry ``idx`` of a packed list (the draft's order: least significant bits first)."""
    per_byte = 8 // BITS
    return (packed[idx // per_byte] >> ((idx % per_byte) * BITS)) & ((1 << BITS) - 1)


def set_entry(packed: bytearray, idx: int, status: int) -> None:
    """Set entry ``idx`` of a packed list in place."""
    per_byte = 8 // BITS
    shift = (idx % per_byte) * BITS
    mask = ((1 << BITS) - 1) << shift
    packed[idx // per_byte] = (packed[idx // per_byte] & ~mask) | (status << shift)


def unpacked(packed: bytes, size: int) -> list[int]:
    """Every entry of a packed list, in order."""
    per_byte = 8 // BITS
    mask = (1 << BITS) - 1
    out = [(byte >> (i * BITS)) & mask for byte in packed for i in range(per_byte)]
    return out[:size]


# ------------------------------------------------------------------ the store


@dataclass(frozen=True)
class StatusListState:
    """A list's entries as stored, and the version they were read at."""

    list_id: str
    size: int
    packed: bytes
    version: int


def _cancellation_codes(exc: Exception) -> list[str]:
    reasons = getattr(exc, "response", {}).get("CancellationReasons", [])
    return [str(r.get("Code", "")) for r in reasons]


def _condition_failed(exc: Exception) -> bool:
    code = getattr(exc, "response", {}).get("Error", {}).get("Code", "")
    return code in ("ConditionalCheckFailedException", "TransactionCanceledException")


class StatusListStore(DynamoTable):
    """``WalletStatusListsTable``. ``size`` and ``limit`` apply to lists it opens."""

    def __init__(
        self,
        table_name: str,
        dynamodb: Any | None = None,
        *,
        size: int = LIST_SIZE,
        fill_limit: float = FILL_LIMIT,
    ) -> None:
        super().__init__(table_name, dynamodb)
        self.size = size
        self.limit = max(1, int(size * fill_limit))

    def open_list(self) -> str | None:
        """The id of the list open for allocation, if any."""
        item = self.table.get_item(Key=_POINTER, ConsistentRead=True).get("Item")
        return None if item is None else str(item["open_list"])

    def start_list(self, after: str | None) -> None:
        """Open the list after ``after`` (the first, ``"1"``, for ``None``) and point at it,
        unless another writer did meanwhile (then nothing changes)."""
        list_id = "1" if after is None else str(int(after) + 1)
        pointer: dict[str, Any] = {
            "TableName": self.table_name,
            "Item": {"list_id": "current", "entry": "pointer", "open_list": list_id},
        }
        if after is None:
            pointer["ConditionExpression"] = "attribute_not_exists(list_id)"
        else:
            pointer["ConditionExpression"] = "open_list = :after"
            pointer["ExpressionAttributeValues"] = {":after": after}
        absent = "attribute_not_exists(list_id)"
        try:
            self.table.meta.client.transact_write_items(
                TransactItems=[
                    {"Put": pointer},
                    {
                        "Put": {
                            "TableName": self.table_name,
                            "Item": {
                                "list_id": list_id,
                                "entry": "list",
                                "size": self.size,
                                "limit": self.limit,
                                "allocated": 0,
                            },
                            "ConditionExpression": absent,
                        }
                    },
                    {
                        "Put": {
                            "TableName": self.table_name,
                            "Item": {
                                "list_id": list_id,
                                "entry": "statuses",
                                "size": self.size,
                                "lst": zlib.compress(packed_zeros(self.size), 9),
                                "version": 1,
                            },
                            "ConditionExpression": absent,
                        }
                    },
                ]
            )
        except Exception as exc:
            if not _condition_failed(exc):
                raise

    def claim(self, list_id: str, idx: int, enrolment_id: str, now: datetime) -> str:
        """Allocate entry ``idx`` of ``list_id``: ``"ok"``, ``"taken"`` (the entry is someone
        else's) or ``"full"`` (the list reached its limit)."""
        try:
            self.table.meta.client.transact_write_items(
                TransactItems=[
                    {
                        "Put": {
                            "TableName": self.table_name,
                            "Item": {
                                "list_id": list_id,
                                "entry": f"idx#{idx}",
                                "enrolment_id": enrolment_id,
                                "allocated_at": now.isoformat(),
                            },
                            "ConditionExpression": "attribute_not_exists(list_id)",
                        }
                    },
                    {
                        "Update": {
                            "TableName": self.table_name,
                            "Key": {"list_id": list_id, "entry": "list"},
                            "UpdateExpression": "SET allocated = allocated + :one",
                            "ConditionExpression": "allocated < #limit",
                            "ExpressionAttributeNames": {"#limit": "limit"},
                            "ExpressionAttributeValues": {":one": 1},
                        }
                    },
                ]
            )
        except Exception as exc:
            codes = _cancellation_codes(exc)
            if not codes:
                raise
            if codes[0] == "ConditionalCheckFailed":
                return "taken"
            if len(codes) > 1 and codes[1] == "ConditionalCheckFailed":
                return "full"
            raise
        return "ok"

    def is_allocated(self, list_id: str, idx: int) -> bool:
        item = self.table.get_item(
            Key={"list_id": list_id, "entry": f"idx#{idx}"}, ConsistentRead=True
        ).get("Item")
        return item is not None

    def read(self, list_id: str) -> StatusListState:
        """The list's entries. Raises :class:`NotFound` for a list never opened."""
        item = self.table.get_item(
            Key={"list_id": list_id, "entry": "statuses"}, ConsistentRead=True
        ).get("Item")
        if item is None:
            raise NotFound(f"no status list {list_id}")
        return StatusListState(
            list_id=list_id,
            size=int(item["size"]),
            packed=zlib.decompress(bytes(item["lst"])),
            version=int(item["version"]),
        )

    def write(self, state: StatusListState, packed: bytes) -> None:
        """Store ``packed`` over the version ``state`` was read at.

        Raises
        ------
        Conflict
            Another change was written meanwhile.
        """
        try:
            self.table.update_item(
                Key={"list_id": state.list_id, "entry": "statuses"},
                UpdateExpression="SET lst = :lst, #v = :next",
                ConditionExpression="#v = :v",
                ExpressionAttributeNames={"#v": "version"},
                ExpressionAttributeValues={
                    ":lst": zlib.compress(packed, 9),
                    ":v": state.version,
                    ":next": state.version + 1,
                },
            )
        except Exception as exc:
            if _condition_failed(exc):
                raise Conflict(f"status list {state.list_id} changed meanwhile") from exc
            raise


# ------------------------------------------------------------------ the rules


class StatusRegistry:
    """Allocation and status changes over a :class:`StatusListStore` (or its fake).

    Parameters
    ----------
    store
        Where the lists are (a ``StatusListRecords`` port).
    random_index
        ``random_index(n)`` picks an entry in ``range(n)``; :func:`secrets.randbelow` unless a
        test needs collisions on purpose.
    """

    def __init__(self, store: Any, random_index: Callable[[int], int] = secrets.randbelow) -> None:
        self.store = store
        self.random_index = random_index

    def allocate(self, enrolment_id: str, now: datetime) -> StatusReference:
        """A free entry of the open list (opening one when there is none or it is full).

        Raises
        ------
        StatusListsFull
            No free entry in :data:`MAX_PROBES` tries.
        """
        for _ in range(MAX_PROBES):
            list_id = self.store.open_list()
            if list_id is None:
                self.store.start_list(None)
                continue
            idx = self.random_index(self.store.size)
            outcome = self.store.claim(list_id, idx, enrolment_id, now)
            if outcome == "ok":
                return StatusReference(list_id, idx)
            if outcome == "full":
                self.store.start_list(list_id)
        raise StatusListsFull(f"no free status entry in {MAX_PROBES} tries")

    def set_status(self, reference: StatusReference, status: int, attempts: int = 8) -> int:
        """Set an allocated entry to ``status`` (a revoked one stays revoked); returns what it
        is now. Retries when another change got in between its read and its write.

        Raises
        ------
        NotFound
            The entry was never allocated.
        Conflict
            Every attempt lost to a concurrent change.
        """
        if not self.store.is_allocated(reference.list_id, reference.idx):
            raise NotFound(f"status entry {reference.list_id}/{reference.idx} was never issued")
        for attempt in range(attempts):
            state = self.store.read(reference.list_id)
            current = get_entry(state.packed, reference.idx)
            if current in (status, REVOKED):
                return current
            packed = bytearray(state.packed)
            set_entry(packed, reference.idx, status)
            try:
                self.store.write(state, bytes(packed))
            except Conflict:
                if attempt == attempts - 1:
                    raise
                continue
            return status
        raise AssertionError("unreachable")

    def status_of(self, reference: StatusReference) -> int:
        """The entry's status now."""
        return get_entry(self.store.read(reference.list_id).packed, reference.idx)

    def entries(self, list_id: str) -> list[int]:
        """Every entry of a list, for its token. Raises :class:`NotFound` for an unknown one."""
        state = self.store.read(list_id)
        return unpacked(state.packed, state.size)
