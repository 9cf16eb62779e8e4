"""The one evidence queue every safety producer uses, and what a CCTV segment key says."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any

import pytest

from gyeonggi.common.errors import InvalidInput
from gyeonggi.safety.cameras import Segment, analysis_key
from gyeonggi.safety.evidence import EvidenceNotAccepted, EvidenceQueue


class FakeSqs:
    def __init__(self, fail: bool = False) -> None:
        self.batches: list[list[dict[str, Any]]] = []
        self.fail = fail

    def send_message_batch(self, QueueUrl: str, Entries: list[dict[str, Any]]) -> dict[str, Any]:
        self.batches.append([json.loads(e["MessageBody"]) for e in Entries])
        return {"Failed": [{"Id": "0", "Code": "KMS"}]} if self.fail else {"Successful": []}


def test_evidence_goes_in_batches_of_ten() -> None:
    sqs = FakeSqs()
    sent = EvidenceQueue("q", sqs=sqs).send([{"n": i} for i in range(23)])
    assert sent == 23
    assert [len(b) for b in sqs.batches] == [10, 10, 3]
    assert EvidenceQueue("q", sqs=sqs).send([]) == 0


def test_evidence_refused_by_sqs_raises_so_the_delivery_is_retried() -> None:
    with pytest.raises(EvidenceNotAccepted, match="KMS"):
        EvidenceQueue("q", sqs=FakeSqs(fail=True)).send([{"kind": "fire"}])


def test_a_segment_key_names_jurisdiction_camera_and_start() -> None:
    segment = Segment.parse("cctv/suwon.gg.kr/cam-01/20261124T090000Z.mp4")
    assert (segment.jurisdiction, segment.camera_id, segment.extension) == (
        "suwon.gg.kr",
        "cam-01",
        ".mp4",
    )
    assert segment.start == datetime(2026, 11, 24, 9, tzinfo=UTC)
    assert analysis_key(segment.key, ".json") == "analysis/suwon.gg.kr/cam-01/20261124T090000Z.json"


@pytest.mark.parametrize(
    "key",
    [
        "cctv/suwon.gg.kr/cam-01/yesterday.mp4",
        "cctv/suwon.gg.kr/20261124T090000Z.mp4",
        "cctv/suwon.gg.kr/cam-01/20261124T090000Z.mov",
        "other/suwon.gg.kr/cam-01/20261124T090000Z.mp4",
    ],
)
def test_keys_that_are_not_segments_are_refused(key: str) -> None:
    with pytest.raises(InvalidInput, match="key is not cctv/"):
        Segment.parse(key)
