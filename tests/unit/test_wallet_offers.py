"""Enrolment and credential offers (OpenID4VCI 1.0 section 4): who may enrol whom, what is
checked and kept, the offer in every form a wallet takes, and how the tx_code travels."""

from __future__ import annotations

import base64
import json
from typing import Any
from urllib.parse import parse_qs, urlsplit

import boto3
import pytest
from moto import mock_aws

from gyeonggi.common.errors import Forbidden, InvalidInput
from gyeonggi.wallet.enrolments import VALID
from gyeonggi.wallet.issuer_errors import DocumentNotFound
from gyeonggi.wallet.offers import (
    CODE_LIFETIME,
    PRE_AUTHORIZED_GRANT,
    SmsTxCodes,
    TxCodeNotSent,
    qr_png,
)
from tests.fakes.wallet_issuer import RecordedTxCodes
from tests.unit.wallet_issuer_support import ISSUER, T0, Setup, official, person


def test_an_offer_is_the_specs_object_with_a_pre_authorized_code_and_a_numeric_tx_code() -> None:
    setup = Setup()
    made = setup.enrol()
    assert made.offer["credential_issuer"] == ISSUER
    assert made.offer["credential_configuration_ids"] == ["gyeonggi_resident"]
    (grant_type,) = made.offer["grants"]
    assert grant_type == PRE_AUTHORIZED_GRANT
    grant = made.offer["grants"][grant_type]
    assert len(grant["pre-authorized_code"]) >= 43  # 256 random bits
    assert grant["tx_code"]["input_mode"] == "numeric"
    assert grant["tx_code"]["length"] == 6 == len(made.tx_code)
    assert made.tx_code.isdigit()
    assert len(grant["tx_code"]["description"]) <= 300
    assert made.expires_at == T0 + CODE_LIFETIME
    # The code is stored only as a digest, the tx_code only bound to it.
    assert grant["pre-authorized_code"] not in json.dumps([repr(c) for c in setup.grants.codes])


def test_the_answer_gives_the_offer_by_value_by_reference_and_as_a_qr_code() -> None:
    setup = Setup()
    made = setup.enrol()
    answer = made.answer()
    assert answer["credential_offer"] == made.offer

    by_value = urlsplit(answer["credential_offer_uri"])
    assert (by_value.scheme, by_value.netloc, by_value.path) == ("openid-credential-offer", "", "")
    (offer_json,) = parse_qs(by_value.query)["credential_offer"]
    assert json.loads(offer_json) == made.offer

    by_reference = urlsplit(answer["credential_offer_by_reference"])
    (url,) = parse_qs(by_reference.query)["credential_offer_uri"]
    assert url == answer["offer_url"] and url.startswith(ISSUER + "/wallet/offers/")
    offer_id = url.rsplit("/", 1)[1]
    assert setup.issuer.offers.offer(offer_id) == made.offer

    assert answer["qr_code"].startswith("data:image/png;base64,")
    png = base64.b64decode(answer["qr_code"].split(",", 1)[1])
    assert _decode_qr(png) == answer["credential_offer_by_reference"]
    # The local delivery: the code is in the answer.
    assert answer["tx_code_delivery"] == "answer" and answer["tx_code"] == made.tx_code


def _decode_qr(png: bytes) -> str:
    cv2 = pytest.importorskip("cv2")
    import numpy as np

    image = cv2.imdecode(np.frombuffer(png, dtype=np.uint8), cv2.IMREAD_GRAYSCALE)
    text, _, _ = cv2.QRCodeDetector().detectAndDecode(image)
    return str(text)


def test_a_qr_code_is_a_png() -> None:
    assert qr_png("openid-credential-offer://?x=1").startswith(b"\x89PNG\r\n\x1a\n")


def test_an_offer_by_reference_expires_with_its_code_and_unknown_ones_are_404() -> None:
    setup = Setup()
    made = setup.enrol()
    offer_id = made.offer_url.rsplit("/", 1)[1]
    with pytest.raises(DocumentNotFound):
        setup.issuer.offers.offer("unknown")
    with pytest.raises(DocumentNotFound):
        setup.issuer.offers.offer("x" * 500)
    setup.clock.advance(seconds=CODE_LIFETIME.total_seconds())
    with pytest.raises(DocumentNotFound):
        setup.issuer.offers.offer(offer_id)


def test_by_sms_the_code_goes_to_the_phone_and_never_into_the_answer() -> None:
    sms = RecordedTxCodes()
    setup = Setup(tx_codes=sms)
    made = setup.enrol()
    assert sms.sent == [("+821012345678", made.tx_code)]
    answer = made.answer()
    assert "tx_code" not in answer and answer["tx_code_delivery"] == "sms"
    assert "SMS" in made.offer["grants"][PRE_AUTHORIZED_GRANT]["tx_code"]["description"]
    with pytest.raises(InvalidInput, match="phone_number"):
        setup.enrol(phone_number=None)


def test_the_enrolment_keeps_who_the_person_is_and_who_enrolled_them_not_the_phone() -> None:
    setup = Setup()
    made = setup.enrol()
    stored = setup.enrolments.get(made.enrolment_id)
    assert stored.status == VALID and stored.credentials == ()
    assert stored.enrolled_by == "official-1" and stored.enrolled_at == T0
    assert stored.details.stored() == {
        "given_name": "길동",
        "family_name": "홍",
        "birthdate": "2000-05-05",
        "jurisdiction": "suwon.gg.kr",
        "address": "경기도 수원시 팔달구 효원로 1",
        "resident_since": "2010-03-02",
    }


def test_an_official_enrols_only_residents_of_their_jurisdictions() -> None:
    setup = Setup()
    with pytest.raises(Forbidden):
        setup.issuer.offers.enrol(official("osan.gg.kr"), person())
    with pytest.raises(Forbidden):
        setup.issuer.offers.enrol(official(), person())
    assert setup.issuer.offers.enrol(official(province=True), person()).enrolment_id
    assert not setup.grants.codes or len(setup.enrolments.items) == 1


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"given_name": None}, "given_name: is required"),
        ({"given_name": "\u200b"}, "given_name"),
        ({"family_name": 7}, "family_name"),
        ({"birthdate": "2000-5-5"}, "birthdate: must be a date written YYYY-MM-DD"),
        ({"birthdate": "2000-02-30"}, "birthdate"),
        ({"birthdate": "1899-12-31"}, "birthdate"),
        ({"birthdate": "2027-01-01"}, "birthdate: is in the future"),
        ({"resident_since": "1999-01-01"}, "resident_since: is before the birthdate"),
        ({"resident_since": "2027-01-01"}, "resident_since: is in the future"),
        ({"jurisdiction": "seoul.go.kr"}, "jurisdiction: must be one of the 31"),
        ({"address": "a\nb"}, "address"),
        ({"address": "x" * 301}, "address"),
        ({"phone_number": "010-1234-5678"}, "phone_number: must be an E.164 number"),
        ({"nickname": "길동이"}, "nickname: is not a field of an enrolment"),
    ],
)
def test_an_enrolment_names_the_field_that_is_wrong(changes: dict[str, Any], field: str) -> None:
    setup = Setup()
    with pytest.raises(InvalidInput, match=field):
        setup.enrol(**changes)
    assert not setup.enrolments.items


def test_a_body_that_is_no_object_is_refused() -> None:
    setup = Setup()
    with pytest.raises(InvalidInput, match="object"):
        setup.issuer.offers.enrol(official("suwon.gg.kr"), ["not", "an", "object"])


# ------------------------------------------------------------------ SMS through SNS (moto)


def test_the_sms_sender_publishes_to_the_phone_number(lambda_environment: None) -> None:
    with mock_aws():
        from moto.core import DEFAULT_ACCOUNT_ID
        from moto.sns.models import sns_backends

        sns = boto3.client("sns", region_name="ap-northeast-2")
        SmsTxCodes(sns).send("+821012345678", "123456")
        backend = sns_backends[DEFAULT_ACCOUNT_ID]["ap-northeast-2"]
        ((_, (number, message)),) = backend.sms_messages.items()
        assert number == "+821012345678" and "123456" in message
        with pytest.raises(InvalidInput, match="phone_number"):
            SmsTxCodes(sns).send(None, "123456")


def test_an_sms_sns_refuses_is_tx_code_not_sent() -> None:
    class Refusing:
        def publish(self, **_: Any) -> None:
            raise RuntimeError("throttled")

    with pytest.raises(TxCodeNotSent):
        SmsTxCodes(Refusing()).send("+821012345678", "123456")
