"""The stores and gateways the wallet issuer's services take, as ``typing.Protocol`` ports.

The services are typed with these, not with the AWS-backed classes, so mypy holds the
in-memory fakes of ``tests/fakes/wallet_issuer.py`` to the same surface, and
``tests/unit/test_wallet_store_contracts.py`` runs one suite on each fake and its DynamoDB
store (tables built from template.yaml).

- :class:`EnrolmentRecords`: :class:`.enrolments.EnrolmentStore`
- :class:`GrantRecords`: :class:`.grants.GrantStore`
- :class:`StatusListRecords`: :class:`.status_registry.StatusListStore`
- :class:`SigningKeySet`: :class:`.signing_keys.KmsSigningKeys`
- :class:`TxCodeSender`: :class:`.offers.SmsTxCodes`, :class:`.offers.AnswerTxCodes`
"""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING, Any, Protocol

if TYPE_CHECKING:
    from gyeonggi.wallet.enrolments import Enrolment, StatusReference
    from gyeonggi.wallet.grants import AccessToken, PreAuthorizedCode
    from gyeonggi.wallet.jose import Signer
    from gyeonggi.wallet.status_registry import StatusListState


class EnrolmentRecords(Protocol):
    """Enrolments, every write conditional."""

    def create(self, enrolment: Enrolment) -> Enrolment:
        """Store a new one (version 1); ``Conflict`` if the id exists."""
        ...

    def get(self, enrolment_id: str) -> Enrolment:
        """``NotFound`` for an unknown id."""
        ...

    def add_credential(self, enrolment_id: str, reference: StatusReference) -> Enrolment:
        """Append a credential's status entry while the enrolment is valid; ``Conflict``
        otherwise."""
        ...

    def save(self, enrolment: Enrolment) -> Enrolment:
        """Write over the version read; ``Conflict`` when it changed meanwhile."""
        ...


class GrantRecords(Protocol):
    """Pre-authorized codes, offers by reference, access tokens and nonces, all expiring."""

    def put_offer(self, offer_id: str, offer: dict[str, Any], code: PreAuthorizedCode) -> None: ...

    def get_offer(self, offer_id: str, now: datetime) -> dict[str, Any] | None: ...

    def get_code(self, code: str, now: datetime) -> PreAuthorizedCode | None: ...

    def spend_attempt(self, code: str, now: datetime) -> int | None: ...

    def redeem(self, code: str, now: datetime) -> bool: ...

    def put_token(self, token: str, grant: AccessToken) -> None: ...

    def get_token(self, token: str, now: datetime) -> AccessToken | None: ...

    def put_nonce(self, nonce: str, expires_at: int) -> None: ...

    def consume_nonce(self, nonce: str, now: datetime) -> bool: ...


class StatusListRecords(Protocol):
    """Status lists: the open one, allocations, and versioned entries."""

    size: int

    def open_list(self) -> str | None: ...

    def start_list(self, after: str | None) -> None: ...

    def claim(self, list_id: str, idx: int, enrolment_id: str, now: datetime) -> str: ...

    def is_allocated(self, list_id: str, idx: int) -> bool: ...

    def read(self, list_id: str) -> StatusListState: ...

    def write(self, state: StatusListState, packed: bytes) -> None: ...


class SigningKeySet(Protocol):
    """The current signer and the published keys."""

    def signer(self) -> Signer: ...

    def jwks(self) -> dict[str, list[dict[str, str]]]: ...


class TxCodeSender(Protocol):
    """Delivers a tx_code out of band."""

    #: ``sms`` or ``answer``: whether the enrolment's answer carries the code.
    delivery: str

    def send(self, phone_number: str | None, tx_code: str) -> None:
        """Send ``tx_code``; ``InvalidInput`` when there is nowhere to send it."""
        ...
