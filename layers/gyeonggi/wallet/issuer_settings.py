"""The wallet issuer's configuration and the URLs it answers on.

The Credential Issuer Identifier is configured (``CREDENTIAL_ISSUER``), never taken from a
request's ``Host``: everything the issuer signs or publishes names it, and a wallet compares it
character for character (OpenID4VCI 1.0 section 12.2.1). In AWS it is ``https://`` + the
custom domain mapped to the API stage at its root (template parameter ``WalletIssuerDomain``),
so that ``/.well-known/...`` sits at the host's root as the specs require; the local cloud sets
it to its API server's ``http://127.0.0.1:<port>``, the one place ``http`` is accepted.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal
from urllib.parse import urlsplit

from pydantic import field_validator, model_validator

from gyeonggi.auth.tokens import AuthSettings

#: Hosts on which a plain ``http`` identifier is accepted: the local cloud's, never a network's.
LOOPBACK_HOSTS = frozenset({"127.0.0.1", "localhost", "::1"})


def issuer_identifier(value: str) -> str:
    """``value`` if it is a Credential Issuer Identifier: an ``https`` URL with a host and no
    query or fragment (``http`` only on a loopback host), without a trailing ``/``.

    Raises
    ------
    ValueError
        Saying what is wrong (pydantic reports it under the variable's name).
    """
    if not value:
        raise ValueError(
            "is empty: the issuer identifier is https:// + the custom domain of the API "
            "(deploy with the WalletIssuerDomain parameter)"
        )
    parts = urlsplit(value)
    loopback = parts.hostname in LOOPBACK_HOSTS
    if parts.scheme != "https" and not (parts.scheme == "http" and loopback):
        raise ValueError(f"{value!r} must be an https URL (http only on a loopback host)")
    if not parts.hostname or parts.query or parts.fragment or "?" in value or "#" in value:
        raise ValueError(f"{value!r} must have a host and no query or fragment")
    if value.endswith("/"):
        raise ValueError(f"{value!r} must not end with '/'")
    return value


class WalletIssuerSettings(AuthSettings):
    """Environment of ``WalletIssuerFunction`` (template.yaml, section ``wallet: issuer``)."""

    credential_issuer: str
    wallet_enrolments_table: str
    wallet_grants_table: str
    wallet_status_lists_table: str
    #: The KMS key that signs credentials and status lists now.
    wallet_signing_key_id: str
    #: Keys that signed before a rotation, comma-separated: published in the JWKS, never used.
    wallet_previous_signing_key_ids: str = ""
    #: How the ``tx_code`` reaches the person: ``sms`` (SNS), or ``answer`` (in the enrolment's
    #: answer, for a stack without SMS: the local cloud, a test stack; never ``prod``).
    tx_code_delivery: Literal["sms", "answer"]
    stage: str = "dev"

    @field_validator("credential_issuer")
    @classmethod
    def _identifier(cls, value: str) -> str:
        identifier = issuer_identifier(value.strip())
        if urlsplit(identifier).path:
            # Wallets look for /.well-known/<name>/<path> (inserted before the path); this API
            # serves /.well-known/<name> at the root of the domain its stage is mapped to.
            raise ValueError(
                f"{identifier!r} has a path: the issuer is the root of its custom domain"
            )
        return identifier

    @model_validator(mode="after")
    def _sms_in_prod(self) -> WalletIssuerSettings:
        if self.stage == "prod" and self.tx_code_delivery != "sms":
            raise ValueError(
                "TX_CODE_DELIVERY must be sms in prod: a code shown to whoever enrols protects "
                "nothing"
            )
        return self

    @property
    def previous_key_ids(self) -> tuple[str, ...]:
        """The keys of :attr:`wallet_previous_signing_key_ids`, in order, blanks dropped."""
        return tuple(
            k.strip() for k in self.wallet_previous_signing_key_ids.split(",") if k.strip()
        )


#: The one credential configuration this issuer offers (OpenID4VCI 12.2.4).
RESIDENT_CONFIGURATION_ID = "gyeonggi_resident"


@dataclass(frozen=True)
class IssuerEndpoints:
    """Every URL of the issuer, derived from its identifier only."""

    issuer: str

    @property
    def token(self) -> str:
        return f"{self.issuer}/wallet/token"

    @property
    def nonce(self) -> str:
        return f"{self.issuer}/wallet/nonce"

    @property
    def credential(self) -> str:
        return f"{self.issuer}/wallet/credential"

    def offer(self, offer_id: str) -> str:
        """Where the credential offer ``offer_id`` is served by reference."""
        return f"{self.issuer}/wallet/offers/{offer_id}"

    def status_list(self, list_id: str) -> str:
        """The ``uri`` of status list ``list_id`` (its token's ``sub``)."""
        return f"{self.issuer}/wallet/status-lists/{list_id}"

    def well_known(self, suffix: str) -> str:
        """``/.well-known/<suffix>`` inserted between host and path (RFC 8414 section 3)."""
        parts = urlsplit(self.issuer)
        return f"{parts.scheme}://{parts.netloc}/.well-known/{suffix}{parts.path}"
