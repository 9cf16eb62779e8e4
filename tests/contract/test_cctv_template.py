"""The CCTV registry's template, document and code agree (issue 12, section 2).

- the bucket's lifecycle rules are the retention classes of ``gyeonggi.cctv.retention``, and the
  analysis is notified of uploads under every class root;
- only the registry function and the analysis function may read the bucket's video; only the
  registry's answers reach people (its links), after an audit;
- the ``cctv`` operations of docs/openapi.yaml are the registry function's routes, all for
  operators, and its API events in the template;
- the operations alarms count the metrics the code emits, under the functions' service names;
- every class root's keys read the same in the analysis and in the registry (keyframes too).
"""

from __future__ import annotations

import ast
from functools import cache
from pathlib import Path
from typing import Any

import pytest
import yaml

from gyeonggi.cctv import retention
from gyeonggi.cctv.audit import AuditLog
from gyeonggi.cctv.videos import VideoObject, keyframe_key
from localcloud.template import load_template

ROOT = Path(__file__).resolve().parents[2]
REGISTRY_SOURCE = ROOT / "functions" / "cctv_registry" / "app.py"


@cache
def _resources() -> dict[str, Any]:
    resources: dict[str, Any] = load_template(ROOT / "template.yaml")["Resources"]
    return resources


def _statements(logical_id: str) -> list[dict[str, Any]]:
    policies = _resources()[logical_id]["Properties"].get("Policies", [])
    return [s for p in policies if isinstance(p, dict) for s in p.get("Statement", [])]


def _text(value: Any) -> str:
    """A resource string, ``Fn::Sub``'s template as written."""
    if isinstance(value, dict) and "Fn::Sub" in value:
        sub = value["Fn::Sub"]
        return str(sub if isinstance(sub, str) else sub[0])
    return str(value)


def test_segments_and_keyframes_expire_by_their_class_and_reference_frames_after_a_month() -> None:
    rules = _resources()["CctvBucket"]["Properties"]["LifecycleConfiguration"]["Rules"]
    expiring = [r for r in rules if r["Id"].startswith(("expire-segments-", "expire-keyframes-"))]
    assert expiring == retention.lifecycle_rules()
    prefixes = [r["Prefix"] for r in expiring]
    # disjoint: one rule per object, so no class is cut short by another's expiry
    assert not any(a != b and b.startswith(a) for a in prefixes for b in prefixes)
    assert "cctv/" in prefixes and retention.class_root(retention.DEFAULT_DAYS) == "cctv"
    # a keyframe (a frame of the video) is kept exactly as long as the segment it comes from
    for days in retention.CLASSES:
        segment = f"{retention.class_root(days)}/suwon.gg.kr/cam-01/20261207T010000Z.mp4"
        covering = [r for r in expiring if keyframe_key(segment).startswith(r["Prefix"])]
        assert [r["Id"] for r in covering] == [f"expire-keyframes-{days}d"]
        assert covering[0]["ExpirationInDays"] == max(1, days - 1)
    reference = next(r for r in rules if r["Id"] == "expire-reference-frames")
    assert reference["Prefix"] == "reference/" and reference["ExpirationInDays"] == 30
    assert {r["Id"] for r in rules} == {r["Id"] for r in expiring} | {"expire-reference-frames"}


def test_the_analysis_hears_of_uploads_under_every_class_root() -> None:
    events = _resources()["CctvAnalysisFunction"]["Properties"]["Events"]
    rules = events["SegmentUploaded"]["Properties"]["Filter"]["S3Key"]["Rules"]
    assert rules == [{"Name": "prefix", "Value": retention.ROOT_PREFIX}]
    for days in retention.CLASSES:
        assert retention.class_root(days).startswith(retention.ROOT_PREFIX)


def _bucket_reads(logical_id: str) -> set[str]:
    """The CCTV bucket's key patterns a function may ``s3:GetObject``."""
    found = set()
    for statement in _statements(logical_id):
        actions = statement.get("Action", [])
        actions = [actions] if isinstance(actions, str) else actions
        if statement.get("Effect") != "Allow" or not {"s3:GetObject", "s3:*"} & set(actions):
            continue
        resources = statement.get("Resource", [])
        for resource in resources if isinstance(resources, list) else [resources]:
            text = _text(resource)
            if "-cctv-${AWS::AccountId}-${AWS::Region}" in text or "CctvBucket" in text:
                found.add(text.split("${AWS::Region}", 1)[-1])
    return found


def test_only_the_registry_and_the_analysis_may_read_the_video() -> None:
    functions = [
        logical
        for logical, spec in _resources().items()
        if spec["Type"] == "AWS::Serverless::Function"
    ]
    readers = {f: _bucket_reads(f) for f in functions if _bucket_reads(f)}
    assert readers == {
        # segments of every retention class, and keyframes: what links show
        "CctvRegistryFunction": {"/cctv*", "/keyframes/*"},
        # segments to analyse, and its reference frames
        "CctvAnalysisFunction": {"/cctv*", "/reference/*"},
        # the analysis results only (no video, no keyframe): camera_detections in the Data Dam
        "DataDamEventsFunction": {"/analysis/*.json"},
    }


def test_the_audit_is_written_never_changed_and_expires_by_ttl() -> None:
    audit = _resources()["CctvAuditTable"]["Properties"]
    assert audit["TimeToLiveSpecification"] == {"AttributeName": "expires_at", "Enabled": True}
    assert _resources()["CctvAuditTable"]["DeletionPolicy"] == "Retain"
    for logical, spec in _resources().items():
        if spec["Type"] != "AWS::Serverless::Function":
            continue
        for statement in _statements(logical):
            resources = statement.get("Resource", [])
            resources = resources if isinstance(resources, list) else [resources]
            if not any("CctvAuditTable" in str(r) for r in resources):
                continue
            actions = statement["Action"]
            actions = [actions] if isinstance(actions, str) else actions
            assert logical == "CctvRegistryFunction"
            assert set(actions) <= {"dynamodb:PutItem", "dynamodb:Query"}
    assert AuditLog.INDEX in {i["IndexName"] for i in audit["GlobalSecondaryIndexes"]}


def _registry_routes() -> dict[tuple[str, str], bool]:
    """(method, path) -> whether the view asks for an operator, from the function's source."""
    tree = ast.parse(REGISTRY_SOURCE.read_text(encoding="utf-8"))
    routes = {}
    for node in tree.body:
        if not isinstance(node, ast.FunctionDef):
            continue
        for decorator in node.decorator_list:
            if (
                isinstance(decorator, ast.Call)
                and isinstance(decorator.func, ast.Attribute)
                and decorator.func.attr in ("get", "post", "patch", "put", "delete")
            ):
                path = ast.literal_eval(decorator.args[0]).replace("<", "{").replace(">", "}")
                calls = {
                    c.func.id
                    for c in ast.walk(node)
                    if isinstance(c, ast.Call) and isinstance(c.func, ast.Name)
                }
                routes[(decorator.func.attr, path)] = "_operator" in calls
    return routes


def test_the_cctv_operations_are_the_registry_functions_routes_and_events() -> None:
    document = yaml.safe_load((ROOT / "docs" / "openapi.yaml").read_text(encoding="utf-8"))
    documented = {
        (method, path): operation
        for path, item in document["paths"].items()
        for method, operation in item.items()
        if isinstance(operation, dict) and "cctv" in operation.get("tags", [])
    }
    routes = _registry_routes()
    assert set(documented) == set(routes)
    assert all(routes.values()), "every route asks for an operator's token"
    for key, operation in documented.items():
        assert operation["security"] == [{"bearerAuth": ["operator"]}], key
        assert {"401", "403", "500", "503"} <= set(operation["responses"]), key
    events = _resources()["CctvRegistryFunction"]["Properties"]["Events"]
    wired = {(e["Properties"]["Method"], e["Properties"]["Path"]) for e in events.values()}
    assert wired == set(routes)
    assert all(path.startswith("/cctv/") for _, path in routes)


@pytest.mark.parametrize(
    ("alarm", "function", "source"),
    [
        (
            "CamerasWentOfflineAlarm",
            "CctvHealthSweepFunction",
            "functions/cctv_health_sweep/app.py",
        ),
        ("CamerasTamperedAlarm", "CctvAnalysisFunction", "layers/gyeonggi/cctv/segment_watch.py"),
    ],
)
def test_the_operations_alarms_count_what_the_code_emits(
    alarm: str, function: str, source: str
) -> None:
    spec = _resources()[alarm]["Properties"]
    service = _resources()[function]["Properties"]["Environment"]["Variables"][
        "POWERTOOLS_SERVICE_NAME"
    ]
    assert spec["Namespace"] == "DigitalGyeonggi"
    assert spec["Dimensions"] == [{"Name": "service", "Value": service}]
    assert spec["AlarmActions"] == [{"Ref": "OpsAlertsTopic"}]
    assert f'"{spec["MetricName"]}"' in (ROOT / source).read_text(encoding="utf-8")


def test_the_registry_and_the_sweep_agree_on_when_a_camera_is_offline() -> None:
    values = {
        _resources()[f]["Properties"]["Environment"]["Variables"]["CAMERA_OFFLINE_AFTER_SECONDS"]
        for f in ("CctvRegistryFunction", "CctvHealthSweepFunction")
    }
    assert len(values) == 1


@pytest.mark.parametrize("days", retention.CLASSES)
def test_every_class_roots_keys_read_alike_in_the_analysis_and_the_registry(days: int) -> None:
    from gyeonggi.safety.cameras import Segment, analysis_key

    key = f"{retention.class_root(days)}/suwon.gg.kr/cam-01/20261207T010000Z.mp4"
    segment = Segment.parse(key)
    video = VideoObject.parse(key)
    assert video is not None and video.kind == "segment"
    assert (segment.camera_id, segment.jurisdiction, segment.start) == (
        video.camera_id,
        video.jurisdiction,
        video.start,
    )
    frame = VideoObject.parse(keyframe_key(key))
    assert frame is not None and frame.kind == "keyframe"
    assert (frame.camera_id, frame.start) == (video.camera_id, video.start)
    assert analysis_key(key, ".json").startswith("analysis/suwon.gg.kr/cam-01/")
    assert key.startswith(retention.segment_prefix(days, "suwon.gg.kr", "cam-01"))


def test_the_request_examples_are_bodies_the_registry_takes() -> None:
    from gyeonggi.cctv.models import PATCHABLE, Camera, NewCamera
    from gyeonggi.cctv.registry import REASON_CHARS
    from tests.unit.cctv_support import camera

    document = yaml.safe_load((ROOT / "docs" / "openapi.yaml").read_text(encoding="utf-8"))
    checked = 0
    for path, item in document["paths"].items():
        for method, operation in item.items():
            if not isinstance(operation, dict) or "cctv" not in operation.get("tags", []):
                continue
            content = operation.get("requestBody", {}).get("content", {})
            for example in content.get("application/json", {}).get("examples", {}).values():
                body = example["value"]
                if (method, path) == ("post", "/cctv/cameras"):
                    NewCamera.model_validate(body)
                elif method == "patch":
                    assert set(body) <= PATCHABLE | {"reset_reference"}
                    Camera.model_validate({**camera().model_dump(), **body})
                else:
                    assert set(body) == {"key", "reason"}
                    assert VideoObject.parse(body["key"]) is not None
                    assert REASON_CHARS[0] <= len(body["reason"]) <= REASON_CHARS[1]
                checked += 1
    assert checked >= 4


def test_the_registrys_answers_match_their_documented_schemas() -> None:
    from datetime import timedelta

    from gyeonggi.cctv.audit import ViewRecord, view_id
    from gyeonggi.cctv.health import CameraHealth
    from gyeonggi.cctv.registry import CameraRegistry
    from tests.contract.test_openapi import _validator
    from tests.unit.cctv_support import NOW, camera

    registry = CameraRegistry(None, None, None, None, timedelta(minutes=3))  # type: ignore[arg-type]
    masked = camera(masks=[[[0.1, 0.1], [0.5, 0.1], [0.5, 0.5]]], min_fire_px=12, model="X")
    seen = CameraHealth(
        masked.camera_id,
        last_segment_at=NOW,
        last_segment_key="cctv/suwon.gg.kr/x/20261207T010000Z.mp4",
        tamper_kind="moved",
        tamper_since=NOW,
    )
    record = ViewRecord(
        view_id=view_id(NOW),
        jurisdiction="suwon.gg.kr",
        camera_id=masked.camera_id,
        viewer="operator-1",
        reason="민원 확인 요청",
        object_key="cctv/suwon.gg.kr/x/20261207T010000Z.mp4",
        object_kind="segment",
        at=NOW,
        link_expires_at=NOW + timedelta(minutes=5),
        viewer_roles=("operator",),
    )
    for schema, answer in (
        ("CctvCamera", registry.view(masked, seen, NOW + timedelta(minutes=10))),
        ("CctvCamera", registry.view(camera(), CameraHealth(masked.camera_id), NOW)),
        ("CctvAuditPage", {"views": [record.to_json()], "next": None}),
    ):
        errors = list(_validator({"$ref": f"#/components/schemas/{schema}"}).iter_errors(answer))
        assert not errors, [e.message for e in errors]
