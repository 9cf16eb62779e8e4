"""A camera's health: the per-segment watch (alive; tampered with, once a minute) and the sweep
for silent cameras, each finding once, as evidence for an industrial complex's camera and as an
operations metric for the others. On the fakes of the registry's ports.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import numpy as np
import pytest

from gyeonggi.cctv import tamper
from gyeonggi.cctv.health_checks import OfflineSweep
from gyeonggi.cctv.references import REFRESH_AFTER
from gyeonggi.cctv.segment_watch import SegmentWatch
from gyeonggi.safety.evidence import Evidence
from tests.fakes.cctv import FakeCameraStore, FakeHealthStore, FakeReferenceFrames
from tests.unit.cctv_support import NOW, camera
from tests.unit.test_cctv_tamper import covered, synthetic_scene

CAMERA = "202637400000800001-01"


@dataclass(frozen=True)
class Segment:
    key: str
    jurisdiction: str
    camera_id: str
    start: datetime


def segment(seconds: int, camera_id: str = CAMERA, jurisdiction: str = "suwon.gg.kr") -> Segment:
    start = NOW + timedelta(seconds=seconds)
    name = start.strftime("%Y%m%dT%H%M%SZ")
    return Segment(f"cctv/{jurisdiction}/{camera_id}/{name}.mp4", jurisdiction, camera_id, start)


class Watch:
    """A :class:`SegmentWatch` on fakes, with its evidence, counts and the frames it decodes."""

    def __init__(self, **camera_fields: Any) -> None:
        self.cameras = FakeCameraStore()
        self.cameras.create(camera(**camera_fields))
        self.health = FakeHealthStore()
        self.references = FakeReferenceFrames()
        self.evidence: list[Evidence] = []
        self.counts: dict[str, int] = {}
        self.frames: list[np.ndarray] = [synthetic_scene(s) for s in range(3)]
        self.decoded = 0
        self.now = NOW
        self.watch = SegmentWatch(
            self.cameras,
            self.health,
            self.references,
            self.send,
            self.decode,
            clock=lambda: self.now,
            count=self.count,
        )

    def send(self, evidence: Sequence[Evidence]) -> int:
        self.evidence += evidence
        return len(evidence)

    def decode(self, path: str) -> list[np.ndarray]:
        self.decoded += 1
        return self.frames

    def count(self, name: str, value: int) -> None:
        self.counts[name] = self.counts.get(name, 0) + value

    def observe(self, seconds: int, camera_id: str = CAMERA) -> None:
        self.now = NOW + timedelta(seconds=seconds + 2)
        self.watch.observe("bucket", segment(seconds, camera_id), "/tmp/segment.mp4")


def test_each_segment_records_the_camera_alive_and_the_first_view_becomes_its_reference() -> None:
    watch = Watch()
    watch.observe(0)
    health = watch.health.get(CAMERA)
    assert health.last_segment_start == NOW and health.last_segment_key == segment(0).key
    assert CAMERA in watch.references.frames and health.reference_at == NOW
    # the next segments of the same minute are not decoded again
    watch.observe(10)
    watch.observe(50)
    assert watch.decoded == 1 and watch.health.get(CAMERA).last_segment_start == NOW + timedelta(
        seconds=50
    )
    watch.observe(60)
    assert watch.decoded == 2 and watch.evidence == [] and watch.counts == {}


@pytest.mark.parametrize("industrial", [True, False])
def test_a_covered_view_is_reported_once_and_its_restoration_is_counted(industrial: bool) -> None:
    watch = Watch(complex_id="suwon-tech" if industrial else None)
    watch.observe(0)
    watch.frames = [covered(f) for f in watch.frames]
    watch.observe(60)
    watch.observe(120)  # still covered: already reported
    health = watch.health.get(CAMERA)
    assert health.tamper_kind == "covered" and health.tamper_since == NOW + timedelta(seconds=60)
    if industrial:
        assert len(watch.evidence) == 1
        evidence = watch.evidence[0]
        assert (evidence.source, evidence.complex_id, evidence.source_id) == (
            "camera",
            "suwon-tech",
            CAMERA,
        )
        assert (evidence.kind, evidence.severity) == ("camera_tampered", "alarm")
        assert evidence.detail is not None and evidence.detail["check"] == "covered"
        assert watch.counts == {"CameraTamperedEvidence": 1}
    else:
        assert watch.evidence == [] and watch.counts == {"CamerasTampered": 1}
    # When the view is back
    watch.frames = [synthetic_scene(s) for s in range(3)]
    watch.observe(180)
    assert watch.health.get(CAMERA).tamper_kind is None
    assert watch.counts["CameraViewsRestored"] == 1


def test_a_tampered_view_never_becomes_the_reference_and_a_stale_one_is_refreshed() -> None:
    watch = Watch()
    watch.observe(0)
    first = watch.references.frames[CAMERA]
    watch.frames = [covered(f) for f in watch.frames]
    later = int((REFRESH_AFTER + timedelta(days=1)).total_seconds())
    watch.observe(later)
    assert watch.references.frames[CAMERA] is first
    watch.frames = [synthetic_scene(s + 10) for s in range(3)]
    watch.observe(later + 60)
    assert watch.references.frames[CAMERA] is not first
    assert watch.health.get(CAMERA).reference_at == NOW + timedelta(seconds=later + 60)


def test_a_camera_covered_from_its_first_segment_is_reported_without_a_reference() -> None:
    watch = Watch(complex_id="suwon-tech")
    watch.frames = [covered(f) for f in watch.frames]
    watch.observe(0)
    assert [e.kind for e in watch.evidence] == ["camera_tampered"]
    assert CAMERA not in watch.references.frames


def test_cameras_not_watched_or_not_registered_are_only_recorded_alive() -> None:
    watch = Watch(status="maintenance")
    watch.frames = [covered(f) for f in watch.frames]
    watch.observe(0)
    watch.observe(0, camera_id="unknown-01")
    assert watch.decoded == 0 and watch.evidence == []
    assert watch.counts == {"CctvSegmentsUnregistered": 1}
    assert watch.health.get("unknown-01").last_segment_key is not None


def test_a_segment_outside_its_cameras_prefix_is_counted_but_checked() -> None:
    watch = Watch(retention_days=7)  # its prefix is cctv-7d/...
    watch.observe(0)
    assert watch.counts == {"CctvSegmentsOutsidePrefix": 1} and watch.decoded == 1


def test_a_camera_reported_offline_that_sends_again_is_counted_back() -> None:
    watch = Watch()
    watch.observe(0)
    last = watch.health.get(CAMERA).last_segment_at
    assert last is not None and watch.health.mark_offline(CAMERA, last)
    watch.observe(600)
    assert watch.counts == {"CamerasBackOnline": 1}


def test_a_failing_store_costs_the_analysis_nothing(monkeypatch: pytest.MonkeyPatch) -> None:
    watch = Watch()

    def broken(*args: object) -> object:
        raise RuntimeError("DynamoDB is down")

    monkeypatch.setattr(watch.health, "seen", broken)
    watch.observe(0)  # does not raise
    assert watch.counts == {"CctvHealthNotRecorded": 1}


# ------------------------------------------------------------------ the sweep


class Sweep:
    def __init__(self) -> None:
        self.cameras = FakeCameraStore()
        self.health = FakeHealthStore()
        self.evidence: list[Evidence] = []
        self.fail = False
        self.sweep = OfflineSweep(self.cameras, self.health, self.send, timedelta(minutes=3))

    def send(self, evidence: Sequence[Evidence]) -> int:
        if self.fail:
            raise RuntimeError("SQS is down")
        self.evidence += evidence
        return len(evidence)

    def camera(self, number: str, seconds: int = 0, **fields: Any) -> str:
        registered = self.cameras.create(camera(number=number, **fields))
        key = segment(0, registered.camera_id).key
        at = NOW + timedelta(seconds=seconds)
        self.health.seen(registered.camera_id, "suwon.gg.kr", key, at, at)
        return registered.camera_id


def test_the_sweep_reports_each_silence_once_to_incidents_or_operations() -> None:
    sweep = Sweep()
    plant = sweep.camera("GG01", complex_id="suwon-tech")
    street = sweep.camera("GG02")
    alive = sweep.camera("GG03", seconds=200)
    resting = sweep.camera("GG04", status="maintenance")
    gone = sweep.camera("GG05")
    sweep.cameras.cameras[gone] = sweep.cameras.cameras[gone].model_copy(
        update={"in_service": False}
    )
    outcome = sweep.sweep.run(NOW + timedelta(minutes=4))
    assert (outcome.cameras, outcome.silent) == (5, 4)
    assert {f.camera_id for f in outcome.findings} == {plant, street}
    assert (outcome.to_incidents, outcome.to_operations) == (1, 1)
    [evidence] = sweep.evidence
    assert (evidence.kind, evidence.severity, evidence.complex_id) == (
        "camera_offline",
        "warning",
        "suwon-tech",
    )
    assert evidence.detail is not None and evidence.detail["silent_s"] == 240.0
    assert all(sweep.health.get(c).reported_offline for c in (plant, street, resting, gone))
    assert not sweep.health.get(alive).reported_offline
    # the next sweep finds nothing new
    again = sweep.sweep.run(NOW + timedelta(minutes=5))
    assert again.findings == [] and len(sweep.evidence) == 1


def test_evidence_that_could_not_be_sent_is_sent_by_the_next_sweep() -> None:
    sweep = Sweep()
    plant = sweep.camera("GG01", complex_id="suwon-tech")
    sweep.fail = True
    with pytest.raises(RuntimeError):
        sweep.sweep.run(NOW + timedelta(minutes=4))
    assert not sweep.health.get(plant).reported_offline
    sweep.fail = False
    sweep.sweep.run(NOW + timedelta(minutes=5))
    assert [e.source_id for e in sweep.evidence] == [plant]


def test_a_camera_never_seen_is_not_offline_and_unregistered_ones_are_not_reported() -> None:
    sweep = Sweep()
    sweep.cameras.create(camera(number="GG09"))  # registered, never sent
    sweep.health.seen("stray-01", "suwon.gg.kr", "k", NOW, NOW)  # sends, unregistered
    outcome = sweep.sweep.run(NOW + timedelta(hours=1))
    assert outcome.findings == [] and outcome.silent == 1


def test_tamper_statistics_are_in_the_evidence() -> None:
    watch = Watch(complex_id="suwon-tech")
    watch.observe(0)
    watch.frames = [np.fliplr(f) for f in watch.frames]
    watch.observe(60)
    [evidence] = watch.evidence
    assert evidence.detail is not None
    assert evidence.detail["check"] == "moved" and evidence.detail["similarity"] < tamper.SAME_VIEW


# ------------------------------------------------------------------ the sweep's function (moto)


def test_the_sweep_function_reports_an_industrial_cameras_silence_as_evidence(
    monkeypatch: pytest.MonkeyPatch, lambda_environment: None
) -> None:
    import importlib
    import json

    import boto3
    from moto import mock_aws

    from gyeonggi.cctv.health import HealthStore
    from gyeonggi.cctv.store import CameraStore
    from gyeonggi.common import clock
    from tests.conftest import load_event
    from tests.unit.conftest import LambdaContext, table_from_template

    with mock_aws():
        dynamodb = boto3.resource("dynamodb")
        table_from_template(dynamodb, "CctvCamerasTable", "cameras")
        table_from_template(dynamodb, "CctvHealthTable", "health")
        queue = boto3.client("sqs").create_queue(QueueName="evidence")["QueueUrl"]
        for key, value in {
            "CCTV_CAMERAS_TABLE": "cameras",
            "CCTV_HEALTH_TABLE": "health",
            "SAFETY_EVIDENCE_QUEUE_URL": queue,
            "CAMERA_OFFLINE_AFTER_SECONDS": "180",
            "POWERTOOLS_SERVICE_NAME": "unit-test-cctv-sweep",
        }.items():
            monkeypatch.setenv(key, value)
        cameras = CameraStore("cameras", dynamodb=dynamodb)
        cameras.create(camera(number="GG01", complex_id="suwon-tech"))
        cameras.create(camera(number="GG02"))
        long_ago = clock.now() - timedelta(minutes=10)
        for camera_id in ("GG01-01", "GG02-01"):
            HealthStore("health", dynamodb=dynamodb).seen(
                camera_id, "suwon.gg.kr", f"cctv/suwon.gg.kr/{camera_id}/x.mp4", long_ago, long_ago
            )
        app = importlib.import_module("functions.cctv_health_sweep.app")
        out = app.handler(load_event("cctv_health_sweep/scheduled_event.json"), LambdaContext())
        assert (out["to_incidents"], out["to_operations"]) == (1, 1)
        assert sorted(out["offline"]) == ["GG01-01", "GG02-01"]
        messages = boto3.client("sqs").receive_message(QueueUrl=queue, MaxNumberOfMessages=10)
        [body] = [json.loads(m["Body"]) for m in messages["Messages"]]
        assert (body["kind"], body["complex_id"], body["camera_id"]) == (
            "camera_offline",
            "suwon-tech",
            "GG01-01",
        )
        again = app.handler(load_event("cctv_health_sweep/scheduled_event.json"), LambdaContext())
        assert again["offline"] == []
