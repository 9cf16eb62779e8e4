"""Enrolment and credential offers (OpenID4VCI 1.0 section 4), pre-authorized code flow.

A civil servant who has checked a person's identity enrols them and gets a credential offer:
a pre-authorized code, short-lived (:data:`CODE_LIFETIME`) and single use, protected by a
6-digit ``tx_code`` delivered out of band. The offer is given every way a wallet takes it: the
object (``credential_offer``), by value as an ``openid-credential-offer://?credential_offer=``
URI, by reference (``credential_offer_uri``, served at ``/wallet/offers/{id}``), and a QR code
PNG of the by-reference URI (short enough for a small, easily scanned code).

The tx_code goes by SMS (SNS ``Publish`` to the enrolment's phone number) where the stack has
SMS; a stack without it (the local cloud, a test stack) gives it in the enrolment's answer,
which ``gyeonggi wallet enrol`` prints. Whoever sees the QR code over the person's shoulder
lacks the code; whoever guesses has :data:`~gyeonggi.wallet.grants.TX_CODE_ATTEMPTS` tries.
"""

from __future__ import annotations

import base64
import io
import json
import secrets
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any
from urllib.parse import quote

from gyeonggi.auth.tokens import Principal
from gyeonggi.common.aws import AwsClient
from gyeonggi.common.errors import InvalidInput, Unavailable
from gyeonggi.wallet.enrolments import Enrolment, ResidentDetails, new_enrolment_id
from gyeonggi.wallet.grants import PreAuthorizedCode, digest, epoch, tx_code_digest
from gyeonggi.wallet.issuer_errors import DocumentNotFound
from gyeonggi.wallet.issuer_ports import EnrolmentRecords, GrantRecords, TxCodeSender
from gyeonggi.wallet.issuer_settings import RESIDENT_CONFIGURATION_ID, IssuerEndpoints

PRE_AUTHORIZED_GRANT = "urn:ietf:params:oauth:grant-type:pre-authorized_code"
OFFER_SCHEME = "openid-credential-offer://"
#: How long an offer's code may be redeemed: the person scans it at the counter.
CODE_LIFETIME = timedelta(minutes=10)
TX_CODE_LENGTH = 6
_OFFER_ID_BYTES = 16


class TxCodeNotSent(Unavailable):
    """The SMS with the tx_code could not be sent (our side; the official may try again)."""

    code = "tx_code_not_sent"


def new_tx_code() -> str:
    """Six random decimal digits (``secrets``, never ``random``)."""
    return f"{secrets.randbelow(10**TX_CODE_LENGTH):0{TX_CODE_LENGTH}d}"


def offer_by_value_uri(offer: dict[str, Any]) -> str:
    """``openid-credential-offer://?credential_offer=<the offer as percent-encoded JSON>``."""
    text = json.dumps(offer, separators=(",", ":"), ensure_ascii=False)
    return f"{OFFER_SCHEME}?credential_offer={quote(text, safe='')}"


def offer_by_reference_uri(url: str) -> str:
    """``openid-credential-offer://?credential_offer_uri=<the offer's URL, percent-encoded>``."""
    return f"{OFFER_SCHEME}?credential_offer_uri={quote(url, safe='')}"


def qr_png(text: str) -> bytes:
    """A QR code of ``text`` as PNG (error correction M, 4 pixels a module, quiet zone 4).

    segno is pure Python with no dependency (no Pillow) and writes PNG itself; it is the wallet
    issuer function's own requirement, imported here only when a code is drawn.
    """
    import segno

    buffer = io.BytesIO()
    segno.make(text, error="m", micro=False).save(buffer, kind="png", scale=4, border=4)
    return buffer.getvalue()


def png_data_uri(png: bytes) -> str:
    return "data:image/png;base64," + base64.b64encode(png).decode("ascii")


# ------------------------------------------------------------------ tx_code delivery


class SmsTxCodes:
    """Sends the tx_code by SMS through SNS (``Publish`` with ``PhoneNumber``)."""

    delivery = "sms"
    sns = AwsClient("sns")

    def __init__(self, sns: Any | None = None) -> None:
        if sns is not None:
            self.sns = sns

    def send(self, phone_number: str | None, tx_code: str) -> None:
        """Raises :class:`InvalidInput` without a number, :class:`TxCodeNotSent` when SNS
        refuses."""
        if not phone_number:
            raise InvalidInput(
                "phone_number: is required: the transaction code is sent to it by SMS",
                field="phone_number",
            )
        message = (
            f"[경기도] 디지털 경기 지갑 발급 인증번호 {tx_code} "
            f"({int(CODE_LIFETIME.total_seconds() // 60)}분 안에 입력하세요)"
        )
        try:
            self.sns.publish(
                PhoneNumber=phone_number,
                Message=message,
                MessageAttributes={
                    "AWS.SNS.SMS.SMSType": {"DataType": "String", "StringValue": "Transactional"}
                },
            )
        except Exception as exc:
            raise TxCodeNotSent("the transaction code could not be sent by SMS; try again") from exc


class AnswerTxCodes:
    """Gives the tx_code back in the enrolment's answer (stacks without SMS; never prod)."""

    delivery = "answer"

    def send(self, phone_number: str | None, tx_code: str) -> None:
        """Nothing to send: the caller's answer carries the code."""


def tx_code_sender(delivery: str, sns: Any | None = None) -> TxCodeSender:
    """The sender for a deployment's ``TX_CODE_DELIVERY``."""
    return SmsTxCodes(sns) if delivery == "sms" else AnswerTxCodes()


# ------------------------------------------------------------------ the service


@dataclass(frozen=True)
class OfferMade:
    """An enrolment and its offer, as the enrolment route answers it."""

    enrolment_id: str
    offer: dict[str, Any]
    offer_url: str
    expires_at: datetime
    tx_code: str
    tx_code_delivery: str

    def answer(self) -> dict[str, Any]:
        """The JSON answer: every form of the offer, the QR code, and the tx_code only where
        the deployment delivers it that way."""
        by_reference = offer_by_reference_uri(self.offer_url)
        body: dict[str, Any] = {
            "enrolment_id": self.enrolment_id,
            "credential_offer": self.offer,
            "credential_offer_uri": offer_by_value_uri(self.offer),
            "credential_offer_by_reference": by_reference,
            "offer_url": self.offer_url,
            "qr_code": png_data_uri(qr_png(by_reference)),
            "expires_at": self.expires_at.isoformat(),
            "tx_code_delivery": self.tx_code_delivery,
        }
        if self.tx_code_delivery == "answer":
            body["tx_code"] = self.tx_code
        return body


class OfferService:
    """Enrols people (civil servants only) and serves their offers by reference."""

    def __init__(
        self,
        endpoints: IssuerEndpoints,
        enrolments: EnrolmentRecords,
        grants: GrantRecords,
        tx_codes: TxCodeSender,
        clock: Callable[[], datetime],
    ) -> None:
        self.endpoints = endpoints
        self.enrolments = enrolments
        self.grants = grants
        self.tx_codes = tx_codes
        self.clock = clock

    def enrol(self, official: Principal, body: Any) -> OfferMade:
        """Record who the person is and make their credential offer.

        Raises
        ------
        InvalidInput
            A field missing or wrong (a phone number missing where the code goes by SMS).
        Forbidden
            The person's jurisdiction is outside the official's.
        TxCodeNotSent
            SNS refused the SMS.
        """
        now = self.clock()
        details = ResidentDetails.parse(body, today=now.date())
        official.require_jurisdiction(details.jurisdiction)
        if self.tx_codes.delivery == "sms" and not details.phone_number:
            raise InvalidInput(
                "phone_number: is required: the transaction code is sent to it by SMS",
                field="phone_number",
            )
        enrolment = self.enrolments.create(
            Enrolment(
                enrolment_id=new_enrolment_id(),
                # The number is for this one SMS: the record does not keep it.
                details=details.model_copy(update={"phone_number": None}),
                enrolled_by=official.subject,
                enrolled_at=now,
            )
        )
        code = secrets.token_urlsafe(32)
        tx_code = new_tx_code()
        offer_id = secrets.token_urlsafe(_OFFER_ID_BYTES)
        expires_at = now + CODE_LIFETIME
        offer = {
            "credential_issuer": self.endpoints.issuer,
            "credential_configuration_ids": [RESIDENT_CONFIGURATION_ID],
            "grants": {
                PRE_AUTHORIZED_GRANT: {
                    "pre-authorized_code": code,
                    "tx_code": {
                        "input_mode": "numeric",
                        "length": TX_CODE_LENGTH,
                        "description": self._tx_code_description(),
                    },
                }
            },
        }
        self.grants.put_offer(
            offer_id,
            offer,
            PreAuthorizedCode(
                code_digest=digest(code),
                enrolment_id=enrolment.enrolment_id,
                configuration_ids=(RESIDENT_CONFIGURATION_ID,),
                tx_code_digest=tx_code_digest(code, tx_code),
                expires_at=epoch(expires_at),
            ),
        )
        self.tx_codes.send(details.phone_number, tx_code)
        return OfferMade(
            enrolment_id=enrolment.enrolment_id,
            offer=offer,
            offer_url=self.endpoints.offer(offer_id),
            expires_at=expires_at,
            tx_code=tx_code,
            tx_code_delivery=self.tx_codes.delivery,
        )

    def _tx_code_description(self) -> str:
        if self.tx_codes.delivery == "sms":
            return "Enter the 6-digit code sent to your phone by SMS (문자로 받은 인증번호 6자리)"
        return (
            "Enter the 6-digit code the official gives you (담당 공무원이 알려 준 인증번호 6자리)"
        )

    def offer(self, offer_id: str) -> dict[str, Any]:
        """The offer served by reference while its code may be redeemed.

        Raises
        ------
        DocumentNotFound
            Unknown or expired.
        """
        if len(offer_id) > 64:
            raise DocumentNotFound("no such credential offer")
        found = self.grants.get_offer(offer_id, self.clock())
        if found is None:
            raise DocumentNotFound("no such credential offer, or it has expired")
        return found
