"""The registry's use cases, as the API's routes call them: list, create, read and change
cameras; list a camera's segments; view a segment or keyframe (a short-lived link, audited);
read the audit.

Every use case checks the caller's scope first (:mod:`gyeonggi.cctv.access`) and takes its
stores as ports (:mod:`gyeonggi.cctv.ports`). Lists are paged by an opaque ``next`` cursor
(base64url JSON this module wrote and checks again: a cursor naming a jurisdiction outside the
caller's scope is refused like the jurisdiction itself). Across several jurisdictions, a list is
in jurisdiction order, then camera id (cameras) or newest first (views).
"""

from __future__ import annotations

import base64
import binascii
import json
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from pydantic import ValidationError

from gyeonggi.auth import Principal
from gyeonggi.cctv import access
from gyeonggi.cctv.audit import AuditPosition, ViewRecord, view_id
from gyeonggi.cctv.health import CameraHealth
from gyeonggi.cctv.models import (
    CAMERA_ID,
    CLEARABLE,
    PATCHABLE,
    PURPOSE_LABELS,
    Camera,
    NewCamera,
    camera_id,
    default_agency,
    default_control_centre,
    invalid,
    new_management_number,
)
from gyeonggi.cctv.ports import CameraRecords, HealthRecords, VideoFiles, ViewAudit
from gyeonggi.cctv.videos import VideoObject
from gyeonggi.common.clock import parse_iso
from gyeonggi.common.errors import InvalidInput, NotFound
from gyeonggi.common.numbers import whole_number
from gyeonggi.common.text import check_text
from gyeonggi.complaints.jurisdictions import known

DEFAULT_PAGE = 50
MAX_PAGE = 100
#: How long a view's link works (PIPA: as short as the viewing needs).
LINK_LIFETIME = timedelta(minutes=5)
#: A reason is text an auditor can read: this many characters at least, this many at most.
REASON_CHARS = (4, 500)


@dataclass(frozen=True)
class Link:
    """A view's answer: the link, until when it works, and the audit record written for it."""

    url: str
    expires_at: datetime
    record: ViewRecord

    def to_json(self) -> dict[str, Any]:
        return {
            "url": self.url,
            "expires_at": self.expires_at.isoformat(),
            "key": self.record.object_key,
            "kind": self.record.object_kind,
            "view_id": self.record.view_id,
        }


class CameraRegistry:
    """The use cases over the registry's stores.

    Parameters
    ----------
    offline_after
        A camera silent longer than this is offline (the health sweep's threshold too).
    """

    def __init__(
        self,
        cameras: CameraRecords,
        health: HealthRecords,
        audit: ViewAudit,
        videos: VideoFiles,
        offline_after: timedelta,
        link_lifetime: timedelta = LINK_LIFETIME,
    ) -> None:
        self.cameras = cameras
        self.health = health
        self.audit = audit
        self.videos = videos
        self.offline_after = offline_after
        self.link_lifetime = link_lifetime

    # ------------------------------------------------------------------ cameras

    def list(
        self, principal: Principal, params: Mapping[str, str], now: datetime
    ) -> dict[str, Any]:
        """``GET /cctv/cameras``: the caller's cameras, a page at a time."""
        jurisdictions = _jurisdictions(principal, params.get("jurisdiction"))
        limit = _limit(params)
        cursor = _cursor(params.get("after"), ("j", "a"))
        if cursor is not None:
            if cursor["j"] not in jurisdictions or not CAMERA_ID.fullmatch(str(cursor["a"])):
                raise _bad_cursor()
            jurisdictions = jurisdictions[jurisdictions.index(cursor["j"]) :]
        after = None if cursor is None else str(cursor["a"])
        found: list[Camera] = []
        following: dict[str, Any] | None = None
        for jurisdiction in jurisdictions:
            page, last = self.cameras.page(jurisdiction, limit - len(found), after)
            found += page
            after = None
            if len(found) >= limit:
                # More may follow in this jurisdiction (``last``) or the next ones.
                if last is not None or jurisdiction != jurisdictions[-1]:
                    following = {"j": jurisdiction, "a": found[-1].camera_id}
                break
        health = self.health.get_many(c.camera_id for c in found)
        return {
            "cameras": [self.view(c, health[c.camera_id], now) for c in found],
            "next": None if following is None else _encode(following),
        }

    def create(self, principal: Principal, body: Any, now: datetime) -> dict[str, Any]:
        """``POST /cctv/cameras``: a camera the public data does not list (yet)."""
        try:
            new = NewCamera.model_validate(_object(body))
        except ValidationError as exc:
            raise invalid(exc) from None
        access.require_jurisdiction(principal, new.jurisdiction)
        number = new.management_number or new_management_number()
        fields = new.model_dump(exclude={"management_number"})
        fields.update(
            control_centre=new.control_centre or default_control_centre(new.jurisdiction),
            managing_agency=new.managing_agency or default_agency(new.jurisdiction),
            purpose_label=new.purpose_label or PURPOSE_LABELS[new.purpose],
            data_date=new.data_date or now.date(),
        )
        try:
            camera = Camera.model_validate(
                {
                    **fields,
                    "camera_id": camera_id(number, 1),
                    "management_number": number,
                    "index": 1,
                    "created_at": now,
                    "updated_at": now,
                }
            )
        except ValidationError as exc:
            raise invalid(exc) from None
        stored = self.cameras.create(camera)
        return self.view(stored, CameraHealth(stored.camera_id), now)

    def read(self, principal: Principal, camera_id: str, now: datetime) -> dict[str, Any]:
        """``GET /cctv/cameras/{id}``: the camera, its settings and its health."""
        camera = self._camera(principal, camera_id)
        return self.view(camera, self.health.get(camera_id), now)

    def patch(
        self, principal: Principal, camera_id: str, body: Any, now: datetime
    ) -> dict[str, Any]:
        """``PATCH /cctv/cameras/{id}``: change what is said about a camera.

        Fields left out stay as they are; ``null`` clears one that may be empty (masks, minimum
        fire size, complex, model...). ``"reset_reference": true`` forgets the reference frame
        of the tamper checks (after re-aiming the camera): its next segment's view becomes the
        reference. Moving a camera to another jurisdiction needs both in the caller's scope.
        """
        changes = dict(_object(body))
        reset = changes.pop("reset_reference", False)
        if not isinstance(reset, bool):
            raise InvalidInput("reset_reference: must be true or false", field="reset_reference")
        for name, value in changes.items():
            if name not in PATCHABLE:
                raise InvalidInput(f"{name}: is not a field a PATCH may change", field=name)
            if value is None and name not in CLEARABLE:
                raise InvalidInput(f"{name}: cannot be null", field=name)
        self._camera(principal, camera_id)

        def change(camera: Camera) -> Camera:
            access.require_camera(principal, camera)
            if not changes:
                return camera
            merged = {**camera.model_dump(), **changes, "updated_at": now}
            try:
                changed = Camera.model_validate(merged)
            except ValidationError as exc:
                raise invalid(exc) from None
            access.require_jurisdiction(principal, changed.jurisdiction)
            return camera if changed == camera.model_copy(update={"updated_at": now}) else changed

        stored = self.cameras.update(camera_id, change)
        if reset:
            self.videos.forget_reference(camera_id)
            self.health.set_reference_time(camera_id, None)
        return self.view(stored, self.health.get(camera_id), now)

    def view(self, camera: Camera, health: CameraHealth, now: datetime) -> dict[str, Any]:
        """A camera as the API shows it."""
        return {
            **camera.model_dump(mode="json"),
            "segment_prefix": camera.segment_prefix,
            "retention_class_days": camera.retention_class,
            "health": health.view(now, self.offline_after),
        }

    # ------------------------------------------------------------------ video

    def segments(
        self, principal: Principal, camera_id: str, params: Mapping[str, str]
    ) -> dict[str, Any]:
        """``GET /cctv/cameras/{id}/segments``: its segments, oldest first from ``from``."""
        # The query first: a malformed one is a 400 whether or not the camera exists.
        limit = _limit(params)
        since = _time(params["from"], "from") if "from" in params else None
        start_after = params.get("after")
        if start_after is not None and not 0 < len(start_after) <= 512:
            raise InvalidInput("after: must be a segment key this list gave", field="after")
        camera = self._camera(principal, camera_id)
        prefix = camera.segment_prefix
        if start_after is not None and not start_after.startswith(prefix):
            raise InvalidInput("after: must be a segment key this list gave", field="after")
        if start_after is None and since is not None:
            # Just before ``{since}Z.mp4``: a segment starting at that second is listed.
            start_after = prefix + since.strftime("%Y%m%dT%H%M%S")
        segments, more = self.videos.segments(prefix, limit, start_after)
        return {
            "camera_id": camera_id,
            "prefix": prefix,
            "segments": [s.to_json() for s in segments],
            "next": segments[-1].key if more and segments else None,
        }

    def view_video(
        self,
        principal: Principal,
        camera_id: str,
        body: Any,
        now: datetime,
        *,
        source_ip: str | None = None,
        request_id: str | None = None,
    ) -> Link:
        """``POST /cctv/cameras/{id}/view``: a link to one segment or keyframe, for minutes.

        The audit record (who, which camera and file, when, why) is written first: no link
        without it. The reason is required.

        Raises
        ------
        InvalidInput
            No reason, or a key that is not one of this camera's segments or keyframes.
        NotFound
            No such camera or file.
        """
        data = _object(body)
        reason = data.get("reason")
        if not isinstance(reason, str):
            raise InvalidInput("reason: why you view this video is required", field="reason")
        reason = reason.strip()
        try:
            check_text(reason, multiline=True)
        except ValueError as exc:
            raise InvalidInput(f"reason: {exc}", field="reason") from None
        low, high = REASON_CHARS
        if not low <= len(reason) <= high:
            raise InvalidInput(
                f"reason: must be {low} to {high} characters, a reason an auditor can read",
                field="reason",
            )
        unknown = set(data) - {"reason", "key"}
        if unknown:
            name = sorted(unknown)[0]
            raise InvalidInput(f"{name}: is not a field of a view", field=name)
        key = data.get("key")
        if not isinstance(key, str):
            raise InvalidInput("key: the segment or keyframe to view is required", field="key")
        camera = self._camera(principal, camera_id)
        video = VideoObject.parse(key)
        if video is None or video.camera_id != camera.camera_id:
            raise InvalidInput(
                f"key: must be a segment or keyframe of camera {camera_id}", field="key"
            )
        access.require_jurisdiction(principal, video.jurisdiction)
        if not self.videos.exists(key):
            raise NotFound(f"{key} is not in the bucket (expired, or never uploaded)")
        expires = now + self.link_lifetime
        record = ViewRecord(
            view_id=view_id(now),
            jurisdiction=camera.jurisdiction,
            camera_id=camera.camera_id,
            viewer=principal.subject,
            reason=reason,
            object_key=key,
            object_kind=video.kind,
            at=now,
            link_expires_at=expires,
            viewer_roles=tuple(sorted(principal.roles)),
            source_ip=source_ip,
            request_id=request_id,
        )
        self.audit.record(record)
        return Link(self.videos.link(key, self.link_lifetime), expires, record)

    # ------------------------------------------------------------------ audit

    def audit_page(self, principal: Principal, params: Mapping[str, str]) -> dict[str, Any]:
        """``GET /cctv/audit``: views of the caller's cameras, newest first."""
        scope = _jurisdictions(principal, params.get("jurisdiction"))
        limit = _limit(params)
        since = _time(params["from"], "from") if "from" in params else None
        until = _time(params["to"], "to") if "to" in params else None
        cursor = _cursor(params.get("after"), ("j", "v", "c"))
        after = None
        if cursor is not None:
            after = AuditPosition(str(cursor["j"]), str(cursor["v"]), str(cursor["c"]))
            if after.jurisdiction not in scope:
                raise _bad_cursor()
        camera = params.get("camera_id")
        records: list[ViewRecord] = []
        more = False
        if camera is not None:
            self._camera(principal, camera)
            records, more = self.audit.page_for_camera(
                camera, limit, since=since, until=until, after=after
            )
        else:
            if after is not None:
                scope = scope[scope.index(after.jurisdiction) :]
            for jurisdiction in scope:
                page, more = self.audit.page(
                    jurisdiction, limit - len(records), since=since, until=until, after=after
                )
                records += page
                after = None
                if len(records) >= limit:
                    more = more or jurisdiction != scope[-1]
                    break
        following = None
        if more and records:
            last = records[-1].position
            following = _encode({"j": last.jurisdiction, "v": last.view_id, "c": last.camera_id})
        return {"views": [r.to_json() for r in records], "next": following}

    # ------------------------------------------------------------------ helpers

    def _camera(self, principal: Principal, camera_id: str) -> Camera:
        access.scope(principal)  # no scope: 403 before anything is read
        if not CAMERA_ID.fullmatch(camera_id):
            raise InvalidInput(
                "camera_id: must be letters, digits, '.', '_' or '-', at most 64",
                field="camera_id",
            )
        camera = self.cameras.get(camera_id)
        access.require_camera(principal, camera)
        return camera


def _object(body: Any) -> Mapping[str, Any]:
    if not isinstance(body, dict):
        raise InvalidInput("body: must be a JSON object")
    return body


def _jurisdictions(principal: Principal, given: str | None) -> tuple[str, ...]:
    scope = access.scope(principal)
    if given is None:
        return scope
    jurisdiction = known(given)
    assert jurisdiction is not None
    access.require_jurisdiction(principal, jurisdiction)
    return (jurisdiction,)


def _limit(params: Mapping[str, str]) -> int:
    raw = params.get("limit")
    return DEFAULT_PAGE if raw is None else whole_number(raw, "limit", 1, MAX_PAGE)


def _time(text: str, name: str) -> datetime:
    try:
        return parse_iso(text)
    except ValueError:
        raise InvalidInput(
            f"{name}: must be an ISO 8601 time, e.g. 2026-12-07T09:00:00+09:00", field=name
        ) from None


def _encode(data: dict[str, Any]) -> str:
    raw = json.dumps(data, separators=(",", ":"), ensure_ascii=True).encode()
    return base64.urlsafe_b64encode(raw).decode("ascii").rstrip("=")


def _cursor(text: str | None, fields: tuple[str, ...]) -> dict[str, Any] | None:
    if text is None:
        return None
    if len(text) > 512:
        raise _bad_cursor()
    try:
        data = json.loads(base64.urlsafe_b64decode(text + "=" * (-len(text) % 4)))
    except (ValueError, binascii.Error):
        raise _bad_cursor() from None
    if not isinstance(data, dict) or set(data) != set(fields):
        raise _bad_cursor()
    if not all(isinstance(data[f], str) and 0 < len(data[f]) <= 128 for f in fields):
        raise _bad_cursor()
    return data


def _bad_cursor() -> InvalidInput:
    return InvalidInput("after: is not a cursor this list gave", field="after")
