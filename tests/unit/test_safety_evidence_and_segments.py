"""The one evidence model and queue every safety producer uses, and what a CCTV key says."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from gyeonggi.common.errors import InvalidInput
from gyeonggi.safety.alarm_evidence import alarm_evidence
from gyeonggi.safety.alarms import AlarmEvent
from gyeonggi.safety.anomalies import Anomaly, anomaly_evidence, stuck_evidence
from gyeonggi.safety.cameras import Segment, analysis_key
from gyeonggi.safety.evidence import Evidence, EvidenceNotAccepted, EvidenceQueue, parse_evidence
from gyeonggi.safety.heartbeats import Silence, dark_complex_evidence, heartbeat_evidence
from gyeonggi.safety.video import SecondScore, VideoAnalysis
from tests.fakes.aws import FakeSqs
from tests.unit.conftest import EVIDENCE_T0, gas_evidence

T0 = EVIDENCE_T0
T0_MS = round(T0.timestamp() * 1000)


def _smoke(n: int) -> Evidence:
    return Evidence("camera", "banwol", "cam-1", "smoke", "alarm", T0 + timedelta(seconds=n))


def test_evidence_goes_in_batches_of_ten() -> None:
    sqs = FakeSqs()
    sent = EvidenceQueue("q", sqs=sqs).send([_smoke(i) for i in range(23)])
    assert sent == 23
    assert [len(b) for b in sqs.batches] == [10, 10, 3]
    assert sqs.batches[0][0] == {
        "source": "camera",
        "complex_id": "banwol",
        "camera_id": "cam-1",
        "kind": "smoke",
        "severity": "alarm",
        "ts": T0.isoformat(),
    }
    assert EvidenceQueue("q", sqs=sqs).send([]) == 0


def test_evidence_refused_by_sqs_raises_so_the_delivery_is_retried() -> None:
    with pytest.raises(EvidenceNotAccepted, match="KMS"):
        EvidenceQueue("q", sqs=FakeSqs(fail=True)).send([_smoke(0)])


def _every_producer() -> dict[str, Evidence]:
    silent = {
        "sensor_key": "banwol#co-1",
        "complex_id": "banwol",
        "sensor_id": "co-1",
        "kind": "co",
        "interval_s": 60,
        "last_seen": T0_MS - 600_000,
    }
    second = SecondScore(0, fire=0.9, smoke=0.1, fire_boxes=[(1, 2, 3, 4)])
    analysis = VideoAnalysis(
        25.0, 64, 48, 25, 25, [second], fire=True, first_fire_second=0, fire_boxes=[(1, 2, 3, 4)]
    )
    segment = Segment.parse("cctv/banwol/cam-1/20261124T133000Z.mp4")
    event = AlarmEvent("threshold_high", "critical", "co", 82.0, 70.0, T0, "banwol", "co-1")
    return {
        "alarm path": alarm_evidence(event, received_at=T0),
        "anomaly": anomaly_evidence("banwol", "co-1", "co", Anomaly(T0_MS, 9.0, 7.5, 1, 0.1, 32)),
        "stuck": stuck_evidence("banwol", "co", "co-1", 0.5, ["co-2", "co-3"], T0_MS),
        "silent sensor": heartbeat_evidence(silent, T0),
        "dark complex": dark_complex_evidence("banwol", Silence(1, [silent]), T0),
        "camera": segment.evidence(analysis, "keyframes/cctv/banwol/cam-1/20261124T133000Z.jpg")[0],
    }


@pytest.mark.parametrize("producer", list(_every_producer()))
def test_every_producers_evidence_reads_back_as_it_was_made(producer: str) -> None:
    made = _every_producer()[producer]
    message = json.loads(json.dumps(made.to_message()))
    assert parse_evidence(message) == made
    # absent fields are left out, never sent as null
    assert None not in message.values()


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"detail": ["not", "an", "object"]}, "detail"),
        ({"gas": 7}, "gas"),
        ({"ts": None}, "ts"),
    ],
)
def test_evidence_the_model_cannot_hold_names_the_field(
    changes: dict[str, Any], field: str
) -> None:
    with pytest.raises(InvalidInput) as raised:
        parse_evidence(gas_evidence(**changes))
    assert raised.value.field == field


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
