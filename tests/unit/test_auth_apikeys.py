"""ApiKeyStore against moto's DynamoDB: issue, verify, revoke, and what is stored."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import boto3
import pytest
from moto import mock_aws

from gyeonggi.auth import KEY_PREFIX, ApiKeySettings, ApiKeyStore, hash_key
from gyeonggi.common.errors import Forbidden, InvalidInput, NotFound

TABLE = "gyeonggi-api-keys"


@pytest.fixture
def dynamodb(monkeypatch: pytest.MonkeyPatch) -> Iterator[Any]:
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    monkeypatch.setenv("AWS_SESSION_TOKEN", "testing")
    monkeypatch.setenv("AWS_DEFAULT_REGION", "ap-northeast-2")
    monkeypatch.delenv("AWS_PROFILE", raising=False)
    with mock_aws():
        client = boto3.client("dynamodb")
        client.create_table(
            TableName=TABLE,
            AttributeDefinitions=[{"AttributeName": "key_hash", "AttributeType": "S"}],
            KeySchema=[{"AttributeName": "key_hash", "KeyType": "HASH"}],
            BillingMode="PAY_PER_REQUEST",
        )
        yield client


@pytest.fixture
def store(dynamodb: Any) -> ApiKeyStore:
    return ApiKeyStore(TABLE, dynamodb)


def _items(dynamodb: Any) -> list[dict[str, Any]]:
    return list(dynamodb.scan(TableName=TABLE)["Items"])


def test_issue_and_verify(store: ApiKeyStore) -> None:
    issued = store.issue("FixMyStreet Suwon", jurisdiction_ids=["suwon", "yongin"])
    assert issued.key.startswith(KEY_PREFIX)
    assert len(issued.key) == len(KEY_PREFIX) + 43
    assert issued.key not in repr(issued)

    record = store.verify(issued.key)
    assert record == issued.record
    assert record.owner == "FixMyStreet Suwon"
    assert record.jurisdiction_ids == ("suwon", "yongin")
    assert record.key_id.startswith("ak_")
    assert not record.revoked
    assert record.allows("suwon")
    assert not record.allows("goyang")
    with pytest.raises(Forbidden):
        record.require_jurisdiction("goyang")


def test_keys_are_unique_and_unrestricted_by_default(store: ApiKeyStore) -> None:
    first, second = store.issue("app one"), store.issue("app two")
    assert first.key != second.key
    assert first.key_id != second.key_id
    assert store.verify(second.key).owner == "app two"
    assert store.verify(first.key).allows("any-jurisdiction")


def test_plaintext_key_is_not_stored(store: ApiKeyStore, dynamodb: Any) -> None:
    issued = store.issue("SeeClickFix", jurisdiction_ids=["goyang"])
    (item,) = _items(dynamodb)
    dumped = json.dumps(item)
    secret_part = issued.key.removeprefix(KEY_PREFIX)
    assert issued.key not in dumped
    assert secret_part not in dumped
    assert item["key_hash"]["S"] == hash_key(issued.key)
    assert set(item) == {"key_hash", "key_id", "owner", "jurisdiction_ids", "created_at"}


@pytest.mark.parametrize("key", [None, "", "   "])
def test_missing_key(store: ApiKeyStore, key: str | None) -> None:
    with pytest.raises(Forbidden, match="api_key is missing") as info:
        store.verify(key)
    assert info.value.field == "api_key"


@pytest.mark.parametrize("key", [5, 1.5, True, ["gg_x"], {"key": "gg_x"}])
def test_a_key_that_is_not_a_string_is_invalid_input_not_a_crash(
    store: ApiKeyStore, key: object
) -> None:
    # A JSON body's api_key can be any JSON value.
    with pytest.raises(InvalidInput, match="api_key: must be a string") as info:
        store.verify(key)
    assert info.value.field == "api_key"


@pytest.mark.parametrize(
    "key",
    ["gg_" + "A" * 43, "not-even-prefixed", "gg_" + "x" * 500],
)
def test_unknown_key(store: ApiKeyStore, key: str) -> None:
    store.issue("some app")
    with pytest.raises(Forbidden, match="api_key is not valid"):
        store.verify(key)


def test_almost_right_key_is_not_valid(store: ApiKeyStore) -> None:
    issued = store.issue("some app")
    last = issued.key[-1]
    altered = issued.key[:-1] + ("B" if last != "B" else "C")
    with pytest.raises(Forbidden, match="api_key is not valid"):
        store.verify(altered)


def test_revoke(store: ApiKeyStore) -> None:
    kept, revoked = store.issue("good app"), store.issue("bad app")
    record = store.revoke(revoked.key_id)
    assert record.revoked
    assert record.key_id == revoked.key_id
    with pytest.raises(Forbidden, match="api_key was revoked"):
        store.verify(revoked.key)
    # Revoking again is harmless and keeps the first revocation time.
    assert store.revoke(revoked.key_id).revoked_at == record.revoked_at
    assert store.verify(kept.key).owner == "good app"


def test_revoke_unknown_or_malformed_id(store: ApiKeyStore) -> None:
    store.issue("some app")
    with pytest.raises(NotFound):
        store.revoke("ak_0123456789abcdef")
    with pytest.raises(InvalidInput):
        store.revoke("gg_not-an-id")


def test_issue_validates_input(store: ApiKeyStore) -> None:
    with pytest.raises(InvalidInput):
        store.issue("  ")
    with pytest.raises(InvalidInput):
        store.issue("app", jurisdiction_ids=["suwon", " "])


def test_client_is_created_lazily_from_settings(dynamodb: Any) -> None:
    store = ApiKeyStore.from_settings(ApiKeySettings.from_env({"API_KEYS_TABLE": TABLE}))
    assert store._dynamodb is None
    issued = store.issue("lazy app")
    assert store._dynamodb is not None
    assert store.verify(issued.key).owner == "lazy app"
