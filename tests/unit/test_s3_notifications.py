"""S3 event notifications read once for every consumer (gyeonggi.common.s3_notifications)."""

from __future__ import annotations

import json
from typing import Any

import pytest

from gyeonggi.common.errors import InvalidInput
from gyeonggi.common.s3_notifications import NotifiedObject, notified_objects
from gyeonggi.datadam.landing import landed_files


def _note(key: str, bucket: str = "b", size: Any = 12) -> dict[str, Any]:
    return {"s3": {"bucket": {"name": bucket}, "object": {"key": key, "size": size}}}


def test_objects_come_in_order_with_their_keys_decoded_as_s3_encodes_them() -> None:
    event = {"Records": [_note("landing/x/%ED%95%9C+%EA%B8%80.csv"), _note("a/b.json", size=3)]}
    assert notified_objects(event) == [
        NotifiedObject("b", "landing/x/한 글.csv", 12),
        NotifiedObject("b", "a/b.json", 3),
    ]


def test_s3s_test_event_announces_nothing() -> None:
    assert notified_objects({"Service": "Amazon S3", "Event": "s3:TestEvent"}) == []


@pytest.mark.parametrize(
    "event",
    [
        ["not", "an", "object"],
        {"Records": "none"},
        {"Records": [{"s3": {"bucket": {"name": "b"}}}]},
        {"Records": [_note("k", size="big")]},
        {"Records": [7]},
    ],
)
def test_anything_else_is_malformed_with_a_reason(event: Any) -> None:
    with pytest.raises(InvalidInput, match="S3"):
        notified_objects(event)


def test_the_landing_prefix_takes_only_files_under_a_dataset() -> None:
    ok = json.dumps({"Records": [_note("landing/resident_population/2026.csv")]})
    assert [f.dataset_id for f in landed_files(ok)] == ["resident_population"]
    with pytest.raises(InvalidInput, match="not under landing/"):
        list(landed_files(json.dumps({"Records": [_note("elsewhere/x.csv")]})))
    with pytest.raises(InvalidInput, match="not JSON"):
        list(landed_files("{"))
