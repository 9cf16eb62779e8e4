"""What the issuer's OAuth side keeps for minutes: pre-authorized codes, offers served by
reference, access tokens and ``c_nonce`` values, in ``WalletGrantsTable``.

Every item expires (``expires_at``, the table's TTL attribute); since DynamoDB deletes expired
items only eventually, every read and every condition also compares ``expires_at`` with now.
Codes, tokens and nonces are stored under the SHA-256 of their value, so the table never holds
one a caller could replay (the offer served by reference holds its code: it is the offer).
Single use is a conditional write: of two requests racing with one code or one nonce, exactly
one wins.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from gyeonggi.common.aws import DynamoTable

#: Attempts at the tx_code before the pre-authorized code is spent (OpenID4VCI 1.0 errata,
#: "Transaction Code Guessing": one in 200,000 for a 6-digit code).
TX_CODE_ATTEMPTS = 5


def digest(value: str) -> str:
    """The key a secret is stored under: hex SHA-256 of its UTF-8 bytes."""
    return hashlib.sha256(value.encode("utf-8")).hexdigest()


def tx_code_digest(code: str, tx_code: str) -> str:
    """The stored form of a tx_code: bound to its code, so equal tx_codes differ."""
    return digest(f"{code}\x00{tx_code}")


def epoch(moment: datetime) -> int:
    """Seconds since the epoch (DynamoDB TTL's unit)."""
    return int(moment.timestamp())


@dataclass(frozen=True)
class PreAuthorizedCode:
    """A pre-authorized code as stored: what it grants, and how it is protected."""

    code_digest: str
    enrolment_id: str
    configuration_ids: tuple[str, ...]
    tx_code_digest: str
    expires_at: int
    attempts_left: int = TX_CODE_ATTEMPTS
    used: bool = False

    def live(self, now: datetime) -> bool:
        """Whether it may still be redeemed at ``now``."""
        return not self.used and self.attempts_left > 0 and epoch(now) < self.expires_at


@dataclass(frozen=True)
class AccessToken:
    """An access token as stored: the enrolment it was granted for and what it covers."""

    token_digest: str
    enrolment_id: str
    configuration_ids: tuple[str, ...]
    expires_at: int
    #: ``credential_identifiers`` given in the token response (authorization_details), if any:
    #: the credential request must then use one of them.
    credential_identifiers: tuple[str, ...] | None = None
    #: The ``client_id`` the token request carried; ``None`` for anonymous access.
    client_id: str | None = None


def _condition_failed(exc: Exception) -> bool:
    code = getattr(exc, "response", {}).get("Error", {}).get("Code", "")
    return code in ("ConditionalCheckFailedException", "TransactionCanceledException")


class GrantStore(DynamoTable):
    """``WalletGrantsTable`` (key ``key``: ``code#``, ``offer#``, ``token#``, ``nonce#``)."""

    # -- offers and codes
    def put_offer(self, offer_id: str, offer: dict[str, Any], code: PreAuthorizedCode) -> None:
        """Store a new pre-authorized code and the offer that carries it, together."""
        client = self.table.meta.client
        client.transact_write_items(
            TransactItems=[
                {
                    "Put": {
                        "TableName": self.table_name,
                        "Item": _code_item(code),
                        "ConditionExpression": "attribute_not_exists(#k)",
                        "ExpressionAttributeNames": {"#k": "key"},
                    }
                },
                {
                    "Put": {
                        "TableName": self.table_name,
                        "Item": {
                            "key": f"offer#{offer_id}",
                            "offer": json.dumps(offer, ensure_ascii=False),
                            "expires_at": code.expires_at,
                        },
                        "ConditionExpression": "attribute_not_exists(#k)",
                        "ExpressionAttributeNames": {"#k": "key"},
                    }
                },
            ]
        )

    def get_offer(self, offer_id: str, now: datetime) -> dict[str, Any] | None:
        """The offer ``offer_id`` while its code may be redeemed, else ``None``."""
        item = self.table.get_item(Key={"key": f"offer#{offer_id}"}, ConsistentRead=True).get(
            "Item"
        )
        if item is None or int(item["expires_at"]) <= epoch(now):
            return None
        offer: dict[str, Any] = json.loads(str(item["offer"]))
        return offer

    def get_code(self, code: str, now: datetime) -> PreAuthorizedCode | None:
        """The stored code, if it exists and has not expired (used or spent ones included)."""
        item = self.table.get_item(Key={"key": f"code#{digest(code)}"}, ConsistentRead=True).get(
            "Item"
        )
        if item is None or int(item["expires_at"]) <= epoch(now):
            return None
        return PreAuthorizedCode(
            code_digest=digest(code),
            enrolment_id=str(item["enrolment_id"]),
            configuration_ids=tuple(item["configuration_ids"]),
            tx_code_digest=str(item["tx_code_digest"]),
            expires_at=int(item["expires_at"]),
            attempts_left=int(item["attempts_left"]),
            used=bool(item["used"]),
        )

    def spend_attempt(self, code: str, now: datetime) -> int | None:
        """Count one wrong tx_code against a live code; the attempts left after it, or ``None``
        when the code was not live any more."""
        try:
            answer = self.table.update_item(
                Key={"key": f"code#{digest(code)}"},
                UpdateExpression="SET attempts_left = attempts_left - :one",
                ConditionExpression="attribute_exists(#k) AND used = :false "
                "AND attempts_left > :zero AND expires_at > :now",
                ExpressionAttributeNames={"#k": "key"},
                ExpressionAttributeValues={
                    ":one": 1,
                    ":zero": 0,
                    ":false": False,
                    ":now": epoch(now),
                },
                ReturnValues="UPDATED_NEW",
            )
        except Exception as exc:
            if _condition_failed(exc):
                return None
            raise
        return int(answer["Attributes"]["attempts_left"])

    def redeem(self, code: str, now: datetime) -> bool:
        """Mark a live code used; ``False`` when it was not live (used, spent, expired, or
        redeemed by a concurrent request a moment before)."""
        try:
            self.table.update_item(
                Key={"key": f"code#{digest(code)}"},
                UpdateExpression="SET used = :true",
                ConditionExpression="attribute_exists(#k) AND used = :false "
                "AND attempts_left > :zero AND expires_at > :now",
                ExpressionAttributeNames={"#k": "key"},
                ExpressionAttributeValues={
                    ":true": True,
                    ":false": False,
                    ":zero": 0,
                    ":now": epoch(now),
                },
            )
        except Exception as exc:
            if _condition_failed(exc):
                return False
            raise
        return True

    # -- access tokens
    def put_token(self, token: str, grant: AccessToken) -> None:
        item: dict[str, Any] = {
            "key": f"token#{digest(token)}",
            "enrolment_id": grant.enrolment_id,
            "configuration_ids": list(grant.configuration_ids),
            "expires_at": grant.expires_at,
        }
        if grant.credential_identifiers is not None:
            item["credential_identifiers"] = list(grant.credential_identifiers)
        if grant.client_id is not None:
            item["client_id"] = grant.client_id
        self.table.put_item(
            Item=item,
            ConditionExpression="attribute_not_exists(#k)",
            ExpressionAttributeNames={"#k": "key"},
        )

    def get_token(self, token: str, now: datetime) -> AccessToken | None:
        """The grant of a live access token, else ``None``."""
        item = self.table.get_item(Key={"key": f"token#{digest(token)}"}, ConsistentRead=True).get(
            "Item"
        )
        if item is None or int(item["expires_at"]) <= epoch(now):
            return None
        identifiers = item.get("credential_identifiers")
        return AccessToken(
            token_digest=digest(token),
            enrolment_id=str(item["enrolment_id"]),
            configuration_ids=tuple(item["configuration_ids"]),
            expires_at=int(item["expires_at"]),
            credential_identifiers=tuple(identifiers) if identifiers is not None else None,
            client_id=item.get("client_id"),
        )

    # -- nonces
    def put_nonce(self, nonce: str, expires_at: int) -> None:
        self.table.put_item(Item={"key": f"nonce#{digest(nonce)}", "expires_at": expires_at})

    def consume_nonce(self, nonce: str, now: datetime) -> bool:
        """Delete a live ``c_nonce``; ``False`` when it is unknown, expired or used already."""
        try:
            self.table.delete_item(
                Key={"key": f"nonce#{digest(nonce)}"},
                ConditionExpression="attribute_exists(#k) AND expires_at > :now",
                ExpressionAttributeNames={"#k": "key"},
                ExpressionAttributeValues={":now": epoch(now)},
            )
        except Exception as exc:
            if _condition_failed(exc):
                return False
            raise
        return True


def _code_item(code: PreAuthorizedCode) -> dict[str, Any]:
    return {
        "key": f"code#{code.code_digest}",
        "enrolment_id": code.enrolment_id,
        "configuration_ids": list(code.configuration_ids),
        "tx_code_digest": code.tx_code_digest,
        "expires_at": code.expires_at,
        "attempts_left": code.attempts_left,
        "used": code.used,
    }
