"""One behaviour, two stores: the in-memory fake and ``PresentationRequestStore`` on moto.

The verifier's guarantees rest on the store's conditional write: one answer per request (the
nonce used once), none after the request's lifetime. Every test runs on both, the table made
from ``PresentationRequestsTable`` in template.yaml.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta
from typing import Any

import boto3
import pytest
from moto import mock_aws

from gyeonggi.common.errors import Conflict, NotFound
from gyeonggi.wallet.presentation_requests import (
    AlreadyAnswered,
    Outcome,
    PresentationRequest,
    PresentationRequests,
    PresentationRequestStore,
    RequestExpired,
    RequestStatus,
    VerifiedCredentialClaims,
    is_request_id,
    new_nonce,
    new_request_id,
)
from localcloud.template import load_template
from tests.conftest import ROOT
from tests.fakes.wallet_verifier import NOW, FakePresentationRequests
from tests.unit.conftest import table_from_template

RETENTION = timedelta(hours=1)


@pytest.fixture(params=["fake", "dynamodb"])
def store(
    request: pytest.FixtureRequest, lambda_environment: None
) -> Iterator[PresentationRequests]:
    if request.param == "fake":
        yield FakePresentationRequests()
        return
    with mock_aws():
        dynamodb = boto3.resource("dynamodb", region_name="ap-northeast-2")
        table_from_template(dynamodb, "PresentationRequestsTable", "presentation-requests")
        yield PresentationRequestStore("presentation-requests", dynamodb=dynamodb)


def a_request(**changes: Any) -> PresentationRequest:
    request_id = new_request_id()
    values: dict[str, Any] = {
        "request_id": request_id,
        "nonce": new_nonce(),
        "client_id": "x509_hash:abc",
        "request_uri": f"https://api.test/verifier/request-objects/{request_id}",
        "response_uri": "https://api.test/verifier/responses",
        "dcql_query": {
            "credentials": [
                {
                    "id": "resident",
                    "format": "dc+sd-jwt",
                    "meta": {"vct_values": ["https://i.test/v"]},
                }
            ]
        },
        "purpose": "나이 확인",
        "created_by": "official-1",
        "created_at": NOW,
        "expires_at": NOW + timedelta(minutes=10),
    }
    values.update(changes)
    return PresentationRequest(**values)


VERIFIED = Outcome(
    True,
    (
        VerifiedCredentialClaims(
            "resident", "https://i.test", "https://i.test/v", {"age_equal_or_over": {"19": True}}
        ),
    ),
    discarded_claims=1,
)


def test_a_created_request_reads_back_as_written(store: PresentationRequests) -> None:
    request = a_request()
    store.create(request, keep_until=request.expires_at + RETENTION)
    assert store.get(request.request_id) == request
    assert store.get(request.request_id).status(NOW) is RequestStatus.PENDING
    without_purpose = a_request(purpose=None)
    store.create(without_purpose, keep_until=NOW + RETENTION)
    assert store.get(without_purpose.request_id).purpose is None


def test_an_id_is_created_once_and_an_unknown_one_is_not_found(store: PresentationRequests) -> None:
    request = a_request()
    store.create(request, keep_until=NOW + RETENTION)
    with pytest.raises(Conflict):
        store.create(request, keep_until=NOW + RETENTION)
    with pytest.raises(NotFound):
        store.get(new_request_id())
    with pytest.raises(NotFound):
        store.answer(new_request_id(), VERIFIED, at=NOW, keep_until=NOW + RETENTION)


def test_a_request_takes_one_answer(store: PresentationRequests) -> None:
    request = a_request()
    store.create(request, keep_until=request.expires_at + RETENTION)
    answered = store.answer(
        request.request_id, VERIFIED, at=NOW + timedelta(minutes=1), keep_until=NOW + RETENTION
    )
    assert answered.outcome == VERIFIED
    assert answered.answered_at == NOW + timedelta(minutes=1)
    assert store.get(request.request_id) == answered
    assert answered.status(NOW) is RequestStatus.VERIFIED
    failed = Outcome.failed("kb_nonce", "the KB-JWT's nonce is not this transaction's")
    with pytest.raises(AlreadyAnswered):
        store.answer(
            request.request_id, failed, at=NOW + timedelta(minutes=2), keep_until=NOW + RETENTION
        )
    assert store.get(request.request_id).outcome == VERIFIED


def test_a_failed_outcome_reads_back_with_its_reason(store: PresentationRequests) -> None:
    request = a_request()
    store.create(request, keep_until=NOW + RETENTION)
    failed = Outcome.failed("revoked", "the credential has been revoked")
    store.answer(request.request_id, failed, at=NOW, keep_until=NOW + RETENTION)
    stored = store.get(request.request_id)
    assert stored.outcome == failed and stored.status(NOW) is RequestStatus.FAILED


def test_no_answer_at_or_after_the_requests_expiry(store: PresentationRequests) -> None:
    request = a_request()
    store.create(request, keep_until=request.expires_at + RETENTION)
    with pytest.raises(RequestExpired):
        store.answer(
            request.request_id, VERIFIED, at=request.expires_at, keep_until=NOW + RETENTION
        )
    assert store.get(request.request_id).status(request.expires_at) is RequestStatus.EXPIRED
    assert store.get(request.request_id).outcome is None


def test_the_ttl_attribute_follows_the_answer() -> None:
    with mock_aws():
        dynamodb = boto3.resource("dynamodb", region_name="ap-northeast-2")
        table_from_template(dynamodb, "PresentationRequestsTable", "requests")
        store = PresentationRequestStore("requests", dynamodb=dynamodb)
        request = a_request()
        store.create(request, keep_until=request.expires_at + RETENTION)
        table = dynamodb.Table("requests")
        item = table.get_item(Key={"request_id": request.request_id})["Item"]
        assert item["ttl"] == int((request.expires_at + RETENTION).timestamp())
        store.answer(request.request_id, VERIFIED, at=NOW, keep_until=NOW + RETENTION)
        item = table.get_item(Key={"request_id": request.request_id})["Item"]
        assert item["ttl"] == int((NOW + RETENTION).timestamp())
    properties = load_template(ROOT / "template.yaml")["Resources"]["PresentationRequestsTable"]
    assert properties["Properties"]["TimeToLiveSpecification"] == {
        "AttributeName": "ttl",
        "Enabled": True,
    }


def test_request_ids_and_nonces_are_random_and_url_safe() -> None:
    ids = {new_request_id() for _ in range(200)}
    assert len(ids) == 200 and all(is_request_id(i) for i in ids)
    assert not is_request_id("short") and not is_request_id("A" * 21 + "/")
    nonce = new_nonce()
    assert len(nonce) == 43 and set(nonce) <= set(
        "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"
    )
