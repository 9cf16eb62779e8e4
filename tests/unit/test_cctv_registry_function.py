"""The registry function's handler with the sample events of ``events/cctv_registry/``: who may
call which route for which jurisdiction (every role and scope on every route), the audit of
every view (never without a reason, always before the link), and the answers' shapes.

AWS is moto (the three tables from template.yaml, the bucket with a few fictitious segments);
tokens come from the local issuer.
"""

from __future__ import annotations

import base64
import importlib
import json
from collections.abc import Iterator
from dataclasses import dataclass
from types import ModuleType
from typing import Any
from urllib.parse import parse_qs, urlsplit

import boto3
import pytest
from moto import mock_aws

from gyeonggi.cctv.store import CameraStore
from localcloud.issuer import LocalIssuer
from tests.conftest import load_event
from tests.unit.cctv_support import camera
from tests.unit.conftest import LambdaContext, table_from_template

#: The sample events (events/cctv_registry/), for camera SUWON.
LIST = "cctv_registry/list_cameras.json"
CREATE = "cctv_registry/create_camera.json"
GET = "cctv_registry/get_camera.json"
PATCH_MASKS = "cctv_registry/patch_camera_masks.json"
VIEW_VIDEO = "cctv_registry/view_video.json"
VIEW_NO_REASON = "cctv_registry/view_without_reason.json"
AUDIT = "cctv_registry/read_audit.json"
BUCKET = "unit-cctv"
SUWON = "202637400000800001-01"
ANSAN = "202639300000800001-01"
SEGMENT = f"cctv/suwon.gg.kr/{SUWON}/20261207T010000Z.mp4"
KEYFRAME = f"keyframes/cctv/suwon.gg.kr/{SUWON}/20261207T010000Z.jpg"
ANSAN_SEGMENT = f"cctv/ansan.gg.kr/{ANSAN}/20261207T010000Z.mp4"


@dataclass
class Stack:
    app: ModuleType
    tokens: LocalIssuer
    dynamodb: Any

    def audit(self) -> list[dict[str, Any]]:
        items: list[dict[str, Any]] = self.dynamodb.Table("audit").scan()["Items"]
        return items


@pytest.fixture(scope="module")
def stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Stack]:
    state = tmp_path_factory.mktemp("cctv-registry-function")
    with pytest.MonkeyPatch.context() as patch, mock_aws():
        for key, value in {
            "AWS_ACCESS_KEY_ID": "testing",
            "AWS_SECRET_ACCESS_KEY": "testing",
            "AWS_SESSION_TOKEN": "testing",
            "AWS_DEFAULT_REGION": "ap-northeast-2",
            "POWERTOOLS_METRICS_NAMESPACE": "Test",
            "POWERTOOLS_TRACE_DISABLED": "true",
            "POWERTOOLS_SERVICE_NAME": "unit-test-cctv-registry",
        }.items():
            patch.setenv(key, value)
        dynamodb = boto3.resource("dynamodb", region_name="ap-northeast-2")
        for logical, name in (
            ("CctvCamerasTable", "cameras"),
            ("CctvHealthTable", "health"),
            ("CctvAuditTable", "audit"),
        ):
            table_from_template(dynamodb, logical, name)
        s3 = boto3.client("s3", region_name="ap-northeast-2")
        s3.create_bucket(
            Bucket=BUCKET, CreateBucketConfiguration={"LocationConstraint": "ap-northeast-2"}
        )
        for key in (SEGMENT, KEYFRAME, ANSAN_SEGMENT):
            s3.put_object(Bucket=BUCKET, Key=key, Body=b"fictitious video")
        store = CameraStore("cameras", dynamodb=dynamodb)
        store.create(camera())
        store.create(
            camera(
                "ansan.gg.kr",
                "202639300000800001",
                road_address="경기도 안산시 단원구 산단로 100",
                latitude=37.3195,
                longitude=126.7441,
            )
        )
        tokens = LocalIssuer.create(state, "http://127.0.0.1/local-issuer/unit", "unit-client")
        for key, value in {
            **tokens.environment(),
            "CCTV_CAMERAS_TABLE": "cameras",
            "CCTV_HEALTH_TABLE": "health",
            "CCTV_AUDIT_TABLE": "audit",
            "CCTV_BUCKET": BUCKET,
        }.items():
            patch.setenv(key, value)
        app = importlib.import_module("functions.cctv_registry.app")
        yield Stack(app, tokens, dynamodb)
        app.registry.cache_clear()
        app.verifier.cache_clear()


def call(
    stack: Stack,
    sample: str,
    token: str | None,
    *,
    camera_id: str | None = None,
    body: Any = ...,
    query: Any = ...,
) -> tuple[int, Any]:
    """The sample event, for ``camera_id`` and with ``body`` and ``query`` if given."""
    event: dict[str, Any] = load_event(sample)
    headers = {k: v for k, v in event["headers"].items() if k != "Authorization"}
    if token is not None:
        headers["Authorization"] = f"Bearer {token}"
    event = {**event, "headers": headers, "multiValueHeaders": None}
    if camera_id is not None:
        event["pathParameters"] = {"camera_id": camera_id}
        event["path"] = event["path"].replace(SUWON, camera_id)
    if body is not ...:
        event["body"] = json.dumps(body, ensure_ascii=False)
        event["headers"]["Content-Type"] = "application/json"
    if query is not ...:
        event["queryStringParameters"] = query
    answer = stack.app.handler(event, LambdaContext())
    return answer["statusCode"], json.loads(answer["body"])


NEW_CAMERA = {
    "jurisdiction": "suwon.gg.kr",
    "road_address": "경기도 수원시 영통구 광교중앙로 1",
    "latitude": 37.2880,
    "longitude": 127.0510,
    "purpose": "traffic",
}
PATCH = {"model": "XNO-6080R"}
VIEW = {"key": SEGMENT, "reason": "민원 확인을 위한 열람"}

#: The routes, as (name, sample event, body, query) for camera ``SUWON``.
ROUTES: dict[str, tuple[str, Any, Any]] = {
    "list": (LIST, ..., {}),
    "create": (CREATE, NEW_CAMERA, ...),
    "read": (GET, ..., ...),
    "patch": (PATCH_MASKS, PATCH, ...),
    "segments": (GET, ..., ...),
    "view": (VIEW_VIDEO, VIEW, ...),
    "audit": (AUDIT, ..., {}),
}
#: Who calls, as (roles, scope).
CALLERS: dict[str, tuple[list[str], dict[str, Any]]] = {
    "citizen": (["citizen"], {}),
    "civil-servant of suwon": (["civil-servant"], {"jurisdictions": ["suwon.gg.kr"]}),
    "civil-servant of the province": (["civil-servant"], {"province": True}),
    "kiosk": (["kiosk"], {}),
    "operator without scope": (["operator"], {}),
    "operator of a complex": (["operator"], {"complexes": ["banwol"]}),
    "operator of suwon": (["operator"], {"jurisdictions": ["suwon.gg.kr"]}),
    "operator of ansan": (["operator"], {"jurisdictions": ["ansan.gg.kr"]}),
    "operator of ansan and suwon": (
        ["operator"],
        {"jurisdictions": ["ansan.gg.kr", "suwon.gg.kr"]},
    ),
    "operator of the province": (["operator"], {"province": True}),
}
_OK = {
    "list": 200,
    "create": 201,
    "read": 200,
    "patch": 200,
    "segments": 200,
    "view": 200,
    "audit": 200,
}
_DENIED = dict.fromkeys(_OK, 403)
EXPECTED: dict[str, dict[str, int]] = {
    "citizen": _DENIED,
    "civil-servant of suwon": _DENIED,
    "civil-servant of the province": _DENIED,
    "kiosk": _DENIED,
    "operator without scope": _DENIED,
    "operator of a complex": _DENIED,
    "operator of suwon": _OK,
    # Their own list and audit, nobody else's camera, no camera in Suwon.
    "operator of ansan": {**_DENIED, "list": 200, "audit": 200},
    "operator of ansan and suwon": _OK,
    "operator of the province": _OK,
}


def token(stack: Stack, caller: str) -> str:
    roles, scope = CALLERS[caller]
    return stack.tokens.mint(roles, caller.replace(" ", "-"), **scope)


def route(stack: Stack, name: str, bearer: str | None) -> tuple[int, Any]:
    if name == "segments":
        return _segments(stack, bearer)
    sample, body, query = ROUTES[name]
    return call(stack, sample, bearer, body=body, query=query)


def _segments(stack: Stack, bearer: str | None) -> tuple[int, Any]:
    event: dict[str, Any] = load_event(GET)
    event["resource"] = event["requestContext"]["resourcePath"] = (
        "/cctv/cameras/{camera_id}/segments"
    )
    event["path"] += "/segments"
    event["headers"] = {k: v for k, v in event["headers"].items() if k != "Authorization"}
    event["multiValueHeaders"] = None
    if bearer:
        event["headers"]["Authorization"] = f"Bearer {bearer}"
    answer = stack.app.handler(event, LambdaContext())
    return answer["statusCode"], json.loads(answer["body"])


@pytest.mark.parametrize("name", sorted(ROUTES))
@pytest.mark.parametrize("caller", sorted(CALLERS))
def test_every_role_and_scope_on_every_route(stack: Stack, caller: str, name: str) -> None:
    status, body = route(stack, name, token(stack, caller))
    assert status == EXPECTED[caller][name], body
    if status == 403:
        assert body[0]["code"] == 403 and body[0]["description"]


@pytest.mark.parametrize("name", sorted(ROUTES))
def test_no_token_is_401_with_its_challenge(stack: Stack, name: str) -> None:
    event: dict[str, Any] = load_event(ROUTES[name][0])
    event["headers"] = {k: v for k, v in event["headers"].items() if k != "Authorization"}
    event["multiValueHeaders"] = None
    answer = stack.app.handler(event, LambdaContext())
    assert answer["statusCode"] == 401
    headers = answer.get("multiValueHeaders") or {}
    challenge = (answer.get("headers") or {}).get("WWW-Authenticate") or headers.get(
        "WWW-Authenticate", [""]
    )[0]
    assert challenge == 'Bearer realm="gyeonggi"'


def test_a_list_shows_only_the_callers_cameras(stack: Stack) -> None:
    lists = {
        caller: [
            c["camera_id"] for c in call(stack, LIST, token(stack, caller), query={})[1]["cameras"]
        ]
        for caller in ("operator of suwon", "operator of ansan", "operator of the province")
    }
    assert SUWON in lists["operator of suwon"] and ANSAN not in lists["operator of suwon"]
    assert lists["operator of ansan"] == [ANSAN]
    assert {SUWON, ANSAN} <= set(lists["operator of the province"])
    status, body = call(stack, LIST, token(stack, "operator of suwon"))  # ?jurisdiction=suwon
    assert status == 200 and all(c["jurisdiction"] == "suwon.gg.kr" for c in body["cameras"])
    status, body = call(
        stack,
        LIST,
        token(stack, "operator of suwon"),
        query={"jurisdiction": "ansan.gg.kr"},
    )
    assert status == 403 and "ansan.gg.kr is outside" in body[0]["description"]
    status, _ = call(
        stack,
        LIST,
        token(stack, "operator of suwon"),
        query={"jurisdiction": "seoul.go.kr"},
    )
    assert status == 404


def test_lists_page_with_a_cursor_that_keeps_to_the_callers_scope(stack: Stack) -> None:
    province = token(stack, "operator of the province")
    status, first = call(stack, LIST, province, query={"limit": "1"})
    assert status == 200 and len(first["cameras"]) == 1 and first["next"]
    seen = [first["cameras"][0]["camera_id"]]
    cursor = first["next"]
    for _ in range(20):
        status, page = call(stack, LIST, province, query={"limit": "1", "after": cursor})
        seen += [c["camera_id"] for c in page["cameras"]]
        cursor = page["next"]
        if cursor is None:
            break
    assert len(seen) == len(set(seen)) and {SUWON, ANSAN} <= set(seen)
    # A cursor naming Ansan is no key to Ansan for Suwon's operator
    raw = json.dumps({"j": "ansan.gg.kr", "a": ANSAN}).encode()
    ansan_cursor = base64.urlsafe_b64encode(raw).decode().rstrip("=")
    status, body = call(
        stack, LIST, token(stack, "operator of suwon"), query={"after": ansan_cursor}
    )
    assert status == 400 and body[0]["description"] == "after: is not a cursor this list gave"
    status, body = call(stack, LIST, province, query={"after": "not-a-cursor"})
    assert status == 400 and body[0]["description"].startswith("after:")


def test_a_camera_shows_its_settings_prefix_and_health(stack: Stack) -> None:
    status, body = call(stack, GET, token(stack, "operator of suwon"))
    assert status == 200
    assert body["segment_prefix"] == f"cctv/suwon.gg.kr/{SUWON}/"
    assert body["retention_class_days"] == 30
    assert body["health"] == {
        "state": "never_seen",
        "last_segment_at": None,
        "last_segment_key": None,
        "tampered": None,
    }
    status, body = call(stack, GET, token(stack, "operator of suwon"), camera_id="nope-01")
    assert status == 404
    status, body = call(stack, GET, token(stack, "operator of suwon"), camera_id="a/b")
    assert status == 404
    status, body = call(stack, GET, token(stack, "operator of suwon"), camera_id="a:b")
    assert status == 400 and body[0]["description"].startswith("camera_id:")


def test_masks_and_minimum_fire_size_are_validated_and_stored(stack: Stack) -> None:
    operator = token(stack, "operator of the province")
    status, body = call(stack, PATCH_MASKS, operator)
    assert status == 200 and body["min_fire_px"] == 8
    assert body["masks"] == [[[0.62, 0.05], [0.71, 0.05], [0.71, 0.4], [0.62, 0.4]]]
    settings = CameraStore("cameras", dynamodb=stack.dynamodb).settings(SUWON)
    assert settings is not None and settings.min_fire_px == 8 and len(settings.masks) == 1
    for bad, named in (
        ({"masks": [[[0, 0], [2, 0], [0, 1]]]}, "masks"),
        ({"masks": [[[0, 0], [1, 1]]]}, "masks"),
        ({"masks": [[[0, 0], [0.5, 0.5], [1, 1]]]}, "masks"),
        ({"min_fire_px": 0}, "min_fire_px"),
        ({"min_fire_px": "8"}, "min_fire_px"),
        ({"camera_id": "other-01"}, "camera_id"),
        ({"jurisdiction": None}, "jurisdiction"),
        ({"latitude": 35.1}, "latitude"),
        ({"reset_reference": "yes"}, "reset_reference"),
    ):
        status, answer = call(stack, PATCH_MASKS, operator, body=bad)
        assert status == 400 and answer[0]["description"].startswith(named), (bad, answer)
    status, body = call(stack, PATCH_MASKS, operator, body={"masks": None})
    assert status == 200 and body["masks"] == []


def test_an_operator_cannot_move_a_camera_out_of_their_jurisdictions(stack: Stack) -> None:
    status, _ = call(
        stack,
        PATCH_MASKS,
        token(stack, "operator of suwon"),
        body={"jurisdiction": "ansan.gg.kr"},
    )
    assert status == 403
    assert CameraStore("cameras", dynamodb=stack.dynamodb).get(SUWON).jurisdiction == "suwon.gg.kr"


def test_every_view_is_audited_before_its_link_and_never_without_a_reason(stack: Stack) -> None:
    operator = token(stack, "operator of suwon")
    before = len(stack.audit())
    for body in (
        {"key": SEGMENT},
        {"key": SEGMENT, "reason": "  "},
        {"key": SEGMENT, "reason": "ok"},
        {"key": SEGMENT, "reason": "\u200b\u200b\u200b\u200b\u200b"},
        {"key": SEGMENT, "reason": 42},
        {"reason": "민원 확인을 위한 열람"},
        {"key": ANSAN_SEGMENT, "reason": "민원 확인을 위한 열람"},
        {"key": SEGMENT.replace("010000Z", "020000Z"), "reason": "민원 확인을 위한 열람"},
        {"key": SEGMENT, "reason": "민원 확인을 위한 열람", "note": "x"},
    ):
        status, answer = call(stack, VIEW_VIDEO, operator, body=body)
        assert status in (400, 404), (body, answer)
    status, _ = call(stack, VIEW_NO_REASON, operator)
    assert status == 400
    assert len(stack.audit()) == before  # no link, no record
    # A view with a reason: the record first, then the link
    for key in (SEGMENT, KEYFRAME):
        status, link = call(stack, VIEW_VIDEO, operator, body={**VIEW, "key": key})
        assert status == 200 and link["key"] == key
        query = parse_qs(urlsplit(link["url"]).query)
        assert query["X-Amz-Expires"] == ["300"] and query["X-Amz-Algorithm"] == [
            "AWS4-HMAC-SHA256"
        ]
    records = sorted(stack.audit(), key=lambda r: r["view_id"])[-2:]
    assert [r["object_kind"] for r in records] == ["segment", "keyframe"]
    record = records[0]
    assert record["viewer"] == "operator-of-suwon" and record["viewer_roles"] == ["operator"]
    assert record["reason"] == VIEW["reason"] and record["camera_id"] == SUWON
    assert record["source_ip"] == "203.0.113.7" and int(record["expires_at"]) > 0


def test_a_view_whose_audit_cannot_be_written_gives_no_link(stack: Stack) -> None:
    registry = stack.app.registry()
    original = registry.audit

    class Failing:
        def record(self, view: Any) -> None:
            raise RuntimeError("the audit table is unavailable")

    registry.audit = Failing()
    try:
        status, body = call(stack, VIEW_VIDEO, token(stack, "operator of suwon"))
    finally:
        registry.audit = original
    assert status == 500 and "url" not in json.dumps(body)


def test_the_audit_shows_the_callers_views_newest_first(stack: Stack) -> None:
    suwon, ansan = token(stack, "operator of suwon"), token(stack, "operator of ansan")
    call(stack, VIEW_VIDEO, suwon)
    status, body = call(stack, AUDIT, suwon)
    assert status == 200 and body["views"] and all(v["camera_id"] == SUWON for v in body["views"])
    views = body["views"]
    assert [v["view_id"] for v in views] == sorted((v["view_id"] for v in views), reverse=True)
    assert {"viewer", "reason", "object_key", "at", "link_expires_at"} <= set(views[0])
    status, body = call(stack, AUDIT, ansan, query={})
    assert status == 200 and all(v["jurisdiction"] == "ansan.gg.kr" for v in body["views"])
    status, _ = call(stack, AUDIT, ansan)  # ?camera_id= a Suwon camera
    assert status == 403
    status, body = call(stack, AUDIT, suwon, query={"from": "yesterday"})
    assert status == 400 and body[0]["description"].startswith("from:")


def test_segments_list_with_their_keyframes(stack: Stack) -> None:
    status, body = _segments(stack, token(stack, "operator of suwon"))
    assert status == 200 and body["prefix"] == f"cctv/suwon.gg.kr/{SUWON}/"
    assert body["segments"] == [
        {"key": SEGMENT, "start": "2026-12-07T01:00:00+00:00", "size": 16, "keyframe_key": KEYFRAME}
    ]


def test_a_created_camera_is_its_rows_first_and_a_body_must_be_json(stack: Stack) -> None:
    status, body = call(stack, CREATE, token(stack, "operator of suwon"), body=NEW_CAMERA)
    assert status == 201
    assert body["camera_id"].startswith("GG") and body["camera_id"].endswith("-01")
    assert (
        body["purpose_label"] == "교통단속" and body["control_centre"] == "수원시 CCTV 통합관제센터"
    )
    event: dict[str, Any] = load_event(PATCH_MASKS)
    event["headers"] = {
        **event["headers"],
        "Content-Type": "text/plain",
        "Authorization": f"Bearer {token(stack, 'operator of suwon')}",
    }
    event["multiValueHeaders"] = None
    answer = stack.app.handler(event, LambdaContext())
    assert answer["statusCode"] == 415
