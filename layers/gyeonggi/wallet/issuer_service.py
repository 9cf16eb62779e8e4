"""The wallet issuer, put together: what ``functions/wallet_issuer`` calls.

:class:`WalletIssuer` builds every service of the issuer from :class:`WalletIssuerSettings`
(stores, KMS keys, the SMS sender), or from the collaborators a test passes. It also holds the
administrative side of section 4 of the issue: revoking, suspending and reinstating an
enrolment's credentials, and serving each status list as a signed ``statuslist+jwt``.

Who may change a status: a civil servant whose jurisdictions include the person's (the city or
county that enrolled them, which learns of a move, a death, a lost phone), or one in the
``province`` group. It is an administrative act on personal data, like reading a complaint's
contacts; operators (safety and platform) may not. An enrolment outside the caller's scope is
``404``: unlike a complaint, that a person enrolled is itself personal data.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from typing import Any

from gyeonggi.auth.tokens import Principal
from gyeonggi.common.clock import now as clock_now
from gyeonggi.common.errors import NotFound
from gyeonggi.wallet.enrolments import (
    STATUS_NAMES,
    Enrolment,
    EnrolmentStore,
    check_enrolment_id,
    next_status,
    update_enrolment,
)
from gyeonggi.wallet.grants import GrantStore
from gyeonggi.wallet.issuance import CredentialService, NonceService, TokenService
from gyeonggi.wallet.issuer_errors import DocumentNotFound
from gyeonggi.wallet.issuer_ports import (
    EnrolmentRecords,
    GrantRecords,
    SigningKeySet,
    StatusListRecords,
    TxCodeSender,
)
from gyeonggi.wallet.issuer_settings import IssuerEndpoints, WalletIssuerSettings
from gyeonggi.wallet.metadata import (
    authorization_server_metadata,
    credential_issuer_metadata,
    jwt_vc_issuer_metadata,
)
from gyeonggi.wallet.offers import OfferService, tx_code_sender
from gyeonggi.wallet.signing_keys import KmsSigningKeys
from gyeonggi.wallet.status_list import encode_status_list, status_list_token
from gyeonggi.wallet.status_registry import BITS, StatusListStore, StatusRegistry

#: How long a verifier may cache a status list before fetching it again: a revocation shows
#: within this.
STATUS_LIST_TTL = timedelta(minutes=5)
#: How long a status list token is valid (its ``exp``).
STATUS_LIST_LIFETIME = timedelta(hours=24)
_LIST_ID_DIGITS = 9


class StatusService:
    """Revoke, suspend and reinstate enrolments; serve the status lists."""

    def __init__(
        self,
        endpoints: IssuerEndpoints,
        enrolments: EnrolmentRecords,
        registry: StatusRegistry,
        keys: SigningKeySet,
        clock: Callable[[], datetime],
    ) -> None:
        self.endpoints = endpoints
        self.enrolments = enrolments
        self.registry = registry
        self.keys = keys
        self.clock = clock

    def change(self, official: Principal, enrolment_id: str, action: str) -> dict[str, Any]:
        """Apply ``action`` (``revoke``, ``suspend``, ``reinstate``) to the enrolment and every
        credential issued for it.

        The enrolment changes first, so that no credential is issued for it from then on; then
        each credential's entry. A failure half-way is repaired by repeating the act, which is
        harmless.

        Raises
        ------
        NotFound
            An unknown enrolment, or one outside the official's jurisdictions.
        Conflict
            Suspending or reinstating a revoked enrolment.
        """
        check_enrolment_id(enrolment_id)
        enrolment = self.enrolments.get(enrolment_id)
        if not official.may_access(enrolment.jurisdiction):
            raise NotFound(f"no enrolment {enrolment_id} in your jurisdictions")

        def change(current: Enrolment) -> Enrolment:
            status = next_status(current.status, action)
            return current if status == current.status else replace(current, status=status)

        updated = update_enrolment(self.enrolments, enrolment_id, change)
        for reference in updated.credentials:
            self.registry.set_status(reference, updated.status)
        return {
            "enrolment_id": updated.enrolment_id,
            "status": STATUS_NAMES[updated.status],
            "credentials": len(updated.credentials),
        }

    def list_token(self, list_id: str) -> str:
        """The status list ``list_id`` as a signed ``statuslist+jwt`` (``sub`` its URI).

        Raises
        ------
        DocumentNotFound
            No such list.
        """
        if not list_id.isascii() or not list_id.isdigit() or len(list_id) > _LIST_ID_DIGITS:
            raise DocumentNotFound("no such status list")
        try:
            entries = self.registry.entries(list_id)
        except NotFound:
            raise DocumentNotFound("no such status list") from None
        return status_list_token(
            self.endpoints.status_list(list_id),
            encode_status_list(entries, bits=BITS),
            BITS,
            signer=self.keys.signer(),
            now=self.clock(),
            ttl=STATUS_LIST_TTL,
            lifetime=STATUS_LIST_LIFETIME,
            issuer=self.endpoints.issuer,
        )


@dataclass
class WalletIssuer:
    """Every service of the issuer, sharing one set of stores and keys."""

    endpoints: IssuerEndpoints
    offers: OfferService
    tokens: TokenService
    nonces: NonceService
    credentials: CredentialService
    statuses: StatusService
    keys: SigningKeySet

    @classmethod
    def build(
        cls,
        endpoints: IssuerEndpoints,
        *,
        enrolments: EnrolmentRecords,
        grants: GrantRecords,
        status_lists: StatusListRecords,
        keys: SigningKeySet,
        tx_codes: TxCodeSender,
        clock: Callable[[], datetime] = clock_now,
        random_index: Callable[[int], int] | None = None,
    ) -> WalletIssuer:
        """The issuer over the given collaborators (tests pass fakes)."""
        registry = (
            StatusRegistry(status_lists, random_index)
            if random_index
            else StatusRegistry(status_lists)
        )
        return cls(
            endpoints=endpoints,
            offers=OfferService(endpoints, enrolments, grants, tx_codes, clock),
            tokens=TokenService(grants, clock),
            nonces=NonceService(grants, clock),
            credentials=CredentialService(endpoints, grants, enrolments, registry, keys, clock),
            statuses=StatusService(endpoints, enrolments, registry, keys, clock),
            keys=keys,
        )

    @classmethod
    def from_settings(cls, settings: WalletIssuerSettings) -> WalletIssuer:
        """The deployed issuer: DynamoDB tables, KMS keys and SNS made on first use."""
        return cls.build(
            IssuerEndpoints(settings.credential_issuer),
            enrolments=EnrolmentStore(settings.wallet_enrolments_table),
            grants=GrantStore(settings.wallet_grants_table),
            status_lists=StatusListStore(settings.wallet_status_lists_table),
            keys=KmsSigningKeys(settings.wallet_signing_key_id, settings.previous_key_ids),
            tx_codes=tx_code_sender(settings.tx_code_delivery),
        )

    # -- the published documents
    def credential_issuer_metadata(self) -> dict[str, Any]:
        return credential_issuer_metadata(self.endpoints)

    def authorization_server_metadata(self) -> dict[str, Any]:
        return authorization_server_metadata(self.endpoints)

    def jwt_vc_issuer_metadata(self) -> dict[str, Any]:
        return jwt_vc_issuer_metadata(self.endpoints, self.keys.jwks())
