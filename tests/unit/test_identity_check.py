"""The identity-check task: the verified claims, or the typed error a workflow catches.

The error's class name is what Step Functions matches (the Lambda error type); its message is
JSON with the request id and, for a failed check, the reason code.
"""

from __future__ import annotations

import importlib
import json
from collections.abc import Iterator
from datetime import timedelta
from types import ModuleType
from typing import Any

import boto3
import pytest
from moto import mock_aws

from gyeonggi.wallet.identity_check import (
    ERRORS,
    IdentityCheckError,
    IdentityCheckExpired,
    IdentityCheckFailed,
    IdentityCheckInvalidInput,
    IdentityCheckNotFound,
    IdentityCheckPending,
    check_identity,
)
from gyeonggi.wallet.presentation_requests import (
    Outcome,
    PresentationRequestStore,
    VerifiedCredentialClaims,
)
from tests.conftest import load_event
from tests.fakes.wallet_verifier import NOW, FakePresentationRequests
from tests.unit.conftest import LambdaContext, table_from_template
from tests.unit.test_wallet_presentation_requests import a_request

RETENTION = timedelta(hours=1)
ADULT = Outcome(
    True,
    (
        VerifiedCredentialClaims(
            "resident", "https://i.test", "https://i.test/v", {"age_equal_or_over": {"19": True}}
        ),
    ),
)


def test_a_verified_request_returns_its_claims() -> None:
    store = FakePresentationRequests()
    request = a_request()
    store.create(request, keep_until=NOW + RETENTION)
    store.answer(request.request_id, ADULT, at=NOW, keep_until=NOW + RETENTION)
    result = check_identity({"request_id": request.request_id}, store, NOW)
    assert result == {
        "request_id": request.request_id,
        "status": "verified",
        "verified_at": NOW.isoformat(),
        "credentials": {
            "resident": [
                {
                    "issuer": "https://i.test",
                    "vct": "https://i.test/v",
                    "claims": {"age_equal_or_over": {"19": True}},
                }
            ]
        },
    }


def test_each_other_state_is_its_own_error() -> None:
    store = FakePresentationRequests()
    pending, expired, failed = a_request(), a_request(), a_request()
    for request in (pending, expired, failed):
        store.create(request, keep_until=NOW + RETENTION)
    store.answer(
        failed.request_id,
        Outcome.failed("revoked", "the credential has been revoked"),
        at=NOW,
        keep_until=NOW + RETENTION,
    )
    with pytest.raises(IdentityCheckPending):
        check_identity({"request_id": pending.request_id}, store, NOW)
    with pytest.raises(IdentityCheckExpired):
        check_identity({"request_id": expired.request_id}, store, expired.expires_at)
    with pytest.raises(IdentityCheckFailed) as caught:
        check_identity({"request_id": failed.request_id}, store, NOW)
    assert json.loads(caught.value.message) == {
        "request_id": failed.request_id,
        "message": "the credential has been revoked",
        "reason": "revoked",
    }
    with pytest.raises(IdentityCheckNotFound):
        check_identity({"request_id": "A" * 22}, store, NOW)
    with pytest.raises(IdentityCheckNotFound):
        check_identity({"request_id": "../x"}, store, NOW)
    bad: Any
    for bad in ({}, {"request_id": 7}, [], "id", {"request_id": ""}):
        with pytest.raises(IdentityCheckInvalidInput):
            check_identity(bad, store, NOW)


def test_the_documented_error_names_are_the_classes() -> None:
    classes = {cls.__name__ for cls in IdentityCheckError.__subclasses__()}
    assert classes == set(ERRORS)


@pytest.fixture
def handler_module(
    lambda_environment: None, monkeypatch: pytest.MonkeyPatch
) -> Iterator[tuple[ModuleType, PresentationRequestStore]]:
    with mock_aws():
        dynamodb = boto3.resource("dynamodb", region_name="ap-northeast-2")
        table_from_template(dynamodb, "PresentationRequestsTable", "presentation-requests")
        monkeypatch.setenv("PRESENTATION_REQUESTS_TABLE", "presentation-requests")
        monkeypatch.setenv("POWERTOOLS_SERVICE_NAME", "unit-test-identity-check")
        module = importlib.import_module("functions.identity_check.app")
        store = PresentationRequestStore("presentation-requests", dynamodb=dynamodb)
        monkeypatch.setattr(module, "store", store)
        yield module, store


def test_the_handler_with_the_sample_events(
    handler_module: tuple[ModuleType, PresentationRequestStore],
    capsys: pytest.CaptureFixture[str],
) -> None:
    module, store = handler_module
    event = load_event("identity_check/check.json")
    with pytest.raises(IdentityCheckNotFound):
        module.handler(event, LambdaContext())
    request = a_request(request_id=event["request_id"], expires_at=NOW + timedelta(days=3650))
    store.create(request, keep_until=NOW + RETENTION)
    with pytest.raises(IdentityCheckPending):
        module.handler(event, LambdaContext())
    store.answer(request.request_id, ADULT, at=NOW, keep_until=NOW + RETENTION)
    result = module.handler(event, LambdaContext())
    assert result["credentials"]["resident"][0]["claims"] == {"age_equal_or_over": {"19": True}}
    with pytest.raises(IdentityCheckInvalidInput):
        module.handler(load_event("identity_check/invalid_input.json"), LambdaContext())
    logs = capsys.readouterr().out
    assert "identity check passed" in logs and "IdentityCheckPending" in logs
    assert "age_equal_or_over" not in logs
