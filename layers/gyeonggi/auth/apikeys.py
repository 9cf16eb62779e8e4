"""API keys for Open311 client apps (the ``api_key`` form field of GeoReport v2 POST requests).

The province issues one key per client app. The key is shown once, at issue time; the table
keeps only its SHA-256 hash (partition key ``key_hash``), so a leaked table grants nothing. A key
has 256 random bits, so a plain, unsalted hash is enough: there is nothing to brute-force.

Item layout (table partition key ``key_hash`` (S), no sort key, no index)::

    key_hash          S  hex SHA-256 of the key
    key_id            S  "ak_" + first 16 hex digits of key_hash: safe to log and to show
    owner             S  the client app or organisation the key was issued to
    jurisdiction_ids  L  of S; empty means every jurisdiction
    created_at        S  ISO 8601, UTC
    revoked_at        S  ISO 8601, UTC; absent while the key is valid
"""

from __future__ import annotations

import hashlib
import hmac
import re
import secrets
import threading
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from gyeonggi.common.config import Settings
from gyeonggi.common.errors import Forbidden, InvalidInput, NotFound

KEY_PREFIX = "gg_"
_KEY_ID_PREFIX = "ak_"
_KEY_ID_RE = re.compile(r"^ak_[0-9a-f]{16}$")
# A real key is 3 + 43 characters; anything far longer is rejected before hashing or reading.
_MAX_KEY_LENGTH = 128


def hash_key(key: str) -> str:
    """Return the hex SHA-256 of ``key``, the only form in which a key is stored."""
    return hashlib.sha256(key.encode("utf-8")).hexdigest()


def key_id_for(key_hash: str) -> str:
    """Return the public id of the key whose hash is ``key_hash``."""
    return _KEY_ID_PREFIX + key_hash[:16]


@dataclass(frozen=True)
class ApiKeyRecord:
    """What the store knows about a key (never the key itself).

    Attributes
    ----------
    key_id
        Public id, safe to log; pass it to :meth:`ApiKeyStore.revoke`.
    owner
        Whom the key was issued to.
    jurisdiction_ids
        The jurisdictions the key may post to; empty means all of them.
    created_at, revoked_at
        When the key was issued and, if it was, revoked.
    """

    key_id: str
    owner: str
    jurisdiction_ids: tuple[str, ...]
    created_at: datetime
    revoked_at: datetime | None = None

    @property
    def revoked(self) -> bool:
        """Whether the key has been revoked."""
        return self.revoked_at is not None

    def allows(self, jurisdiction_id: str) -> bool:
        """Return whether the key may act in ``jurisdiction_id``."""
        return not self.jurisdiction_ids or jurisdiction_id in self.jurisdiction_ids

    def require_jurisdiction(self, jurisdiction_id: str) -> None:
        """Raise :class:`Forbidden` unless the key may act in ``jurisdiction_id``."""
        if not self.allows(jurisdiction_id):
            raise Forbidden(
                "api_key is not valid for this jurisdiction_id", field="jurisdiction_id"
            )


@dataclass(frozen=True)
class IssuedKey:
    """A newly issued key: the only moment the plaintext exists outside the client."""

    key: str = field(repr=False)
    record: ApiKeyRecord

    @property
    def key_id(self) -> str:
        """The public id of the key."""
        return self.record.key_id


class ApiKeySettings(Settings):
    """Environment of a function that checks API keys: ``API_KEYS_TABLE``."""

    api_keys_table: str


def _iso(moment: datetime) -> str:
    return moment.astimezone(UTC).isoformat(timespec="seconds")


def _record(item: Mapping[str, Any]) -> ApiKeyRecord:
    revoked = item.get("revoked_at", {}).get("S")
    return ApiKeyRecord(
        key_id=item["key_id"]["S"],
        owner=item["owner"]["S"],
        jurisdiction_ids=tuple(v["S"] for v in item.get("jurisdiction_ids", {}).get("L", [])),
        created_at=datetime.fromisoformat(item["created_at"]["S"]),
        revoked_at=datetime.fromisoformat(revoked) if revoked else None,
    )


class ApiKeyStore:
    """Issue, verify and revoke Open311 API keys in one DynamoDB table.

    Parameters
    ----------
    table_name
        The table (partition key ``key_hash`` (S)).
    dynamodb
        A boto3 DynamoDB *client*; created on first use when omitted, so importing and
        constructing cost nothing at cold start.
    """

    def __init__(self, table_name: str, dynamodb: Any | None = None) -> None:
        if not table_name:
            raise InvalidInput("ApiKeyStore needs a table name")
        self.table_name = table_name
        self._dynamodb = dynamodb
        self._lock = threading.Lock()

    @classmethod
    def from_settings(cls, settings: ApiKeySettings, dynamodb: Any | None = None) -> ApiKeyStore:
        """Build a store from a function's :class:`ApiKeySettings`."""
        return cls(settings.api_keys_table, dynamodb)

    @property
    def dynamodb(self) -> Any:
        """The DynamoDB client, created lazily (boto3 is imported only here)."""
        if self._dynamodb is None:
            with self._lock:
                if self._dynamodb is None:
                    import boto3

                    self._dynamodb = boto3.client("dynamodb")
        return self._dynamodb

    def issue(self, owner: str, *, jurisdiction_ids: list[str] | None = None) -> IssuedKey:
        """Create a key for ``owner`` and store its hash.

        Parameters
        ----------
        owner
            The client app or organisation receiving the key.
        jurisdiction_ids
            Restrict the key to these jurisdictions; ``None`` or empty allows all.

        Returns
        -------
        IssuedKey
            The plaintext key (show it once; it cannot be recovered) and its record.

        Raises
        ------
        InvalidInput
            An empty owner or jurisdiction id.
        """
        owner = (owner or "").strip()
        if not owner:
            raise InvalidInput("owner must not be empty", field="owner")
        jurisdictions = tuple(dict.fromkeys(j.strip() for j in jurisdiction_ids or []))
        if any(not j for j in jurisdictions):
            raise InvalidInput("jurisdiction ids must not be empty", field="jurisdiction_ids")

        key = KEY_PREFIX + secrets.token_urlsafe(32)
        key_hash = hash_key(key)
        record = ApiKeyRecord(
            key_id=key_id_for(key_hash),
            owner=owner,
            jurisdiction_ids=jurisdictions,
            created_at=datetime.now(UTC).replace(microsecond=0),
        )
        self.dynamodb.put_item(
            TableName=self.table_name,
            Item={
                "key_hash": {"S": key_hash},
                "key_id": {"S": record.key_id},
                "owner": {"S": owner},
                "jurisdiction_ids": {"L": [{"S": j} for j in jurisdictions]},
                "created_at": {"S": _iso(record.created_at)},
            },
            # 256 random bits never collide, but never overwrite a stored key either way.
            ConditionExpression="attribute_not_exists(key_hash)",
        )
        return IssuedKey(key=key, record=record)

    def verify(self, key: object) -> ApiKeyRecord:
        """Check an ``api_key`` value and return its record.

        Parameters
        ----------
        key
            The ``api_key`` form field or JSON property as received (``None`` when absent).

        Returns
        -------
        ApiKeyRecord
            The record of a valid, unrevoked key.

        Raises
        ------
        InvalidInput
            When a JSON body's ``api_key`` is not a string.
        Forbidden
            ``api_key is missing``, ``api_key is not valid`` or ``api_key was revoked``.
            GeoReport v2 answers ``403`` for a key that is missing or not valid: the key names
            a client app and grants it the right to post, it authenticates nobody (so no
            ``401`` and its ``WWW-Authenticate`` challenge).
        """
        if key is not None and not isinstance(key, str):
            # A JSON body may hold anything: a number or a list is no key, and no 500 either.
            raise InvalidInput("api_key: must be a string", field="api_key")
        if key is None or not key.strip():
            raise Forbidden("api_key is missing", field="api_key")
        # Obvious garbage costs no read (and no read capacity).
        if not key.startswith(KEY_PREFIX) or len(key) > _MAX_KEY_LENGTH:
            raise Forbidden("api_key is not valid", field="api_key")
        key_hash = hash_key(key)
        response = self.dynamodb.get_item(
            TableName=self.table_name,
            Key={"key_hash": {"S": key_hash}},
        )
        item = response.get("Item")
        stored = item.get("key_hash", {}).get("S", "") if item else ""
        if not item or not hmac.compare_digest(stored.encode(), key_hash.encode()):
            raise Forbidden("api_key is not valid", field="api_key")
        record = _record(item)
        if record.revoked:
            raise Forbidden("api_key was revoked", field="api_key")
        return record

    def revoke(self, key_id: str) -> ApiKeyRecord:
        """Revoke the key with public id ``key_id``; revoking twice keeps the first time.

        The table has no index on ``key_id``, so this scans it: fine for an operator action on a
        table holding one item per client app.

        Returns
        -------
        ApiKeyRecord
            The record, now revoked.

        Raises
        ------
        InvalidInput
            ``key_id`` is not of the form ``ak_`` + 16 hex digits.
        NotFound
            No key has that id.
        """
        if not isinstance(key_id, str) or not _KEY_ID_RE.match(key_id):
            raise InvalidInput("key_id is not a valid API key id", field="key_id")
        key_hash = self._find_hash(key_id)
        if key_hash is None:
            raise NotFound(f"no API key with id {key_id}")
        response = self.dynamodb.update_item(
            TableName=self.table_name,
            Key={"key_hash": {"S": key_hash}},
            UpdateExpression="SET revoked_at = if_not_exists(revoked_at, :now)",
            ConditionExpression="attribute_exists(key_hash)",
            ExpressionAttributeValues={":now": {"S": _iso(datetime.now(UTC))}},
            ReturnValues="ALL_NEW",
        )
        return _record(response["Attributes"])

    def _find_hash(self, key_id: str) -> str | None:
        paginator = self.dynamodb.get_paginator("scan")
        pages = paginator.paginate(
            TableName=self.table_name,
            FilterExpression="key_id = :id",
            ExpressionAttributeValues={":id": {"S": key_id}},
            ProjectionExpression="key_hash, key_id",
        )
        for page in pages:
            for item in page.get("Items", []):
                if hmac.compare_digest(item["key_id"]["S"].encode(), key_id.encode()):
                    return str(item["key_hash"]["S"])
        return None
