"""A camera's health, checked on the clock (:class:`OfflineSweep`), and where a finding goes
(:func:`finding`); the per-segment checks are :mod:`gyeonggi.cctv.segment_watch`.

A camera that stops sending cannot trigger anything itself, so a sweep on the clock (as the
sensors' heartbeat sweep, docs/SENSORS.md) finds cameras silent for longer than
``offline_after`` and reports each silence once.

Where a finding goes:

- a camera watching an industrial complex (``complex_id`` set): evidence for the incident
  workflow, ``camera_offline`` (``warning``: most silences are a network or a power fault, as a
  sensor's missed heartbeat) or ``camera_tampered`` (``alarm``: a covered or turned camera at a
  plant is blind to a fire, and sabotage is likelier than chance), with the camera as source;
- any other camera: an operations alarm. Each finding is counted in a CloudWatch metric
  (``CamerasWentOffline``, ``CamerasTampered``) and logged with the camera, its jurisdiction
  and what was found; an alarm on each metric pages ``OpsAlertsTopic`` (template.yaml). Chosen
  over a message to the topic per camera: at 10,000 cameras a control centre's network outage
  silences hundreds at once, and the alarm pages once for it (an alarm acts when its state
  changes), where a message each would bury the operators; the registry's list
  (``GET /cctv/cameras``) shows each city's operators which cameras and since when. The
  functions need no SNS permission either: the metrics are log lines (embedded metric format).

Neither a camera coming back nor a view restored sends evidence: a camera's ``cleared`` would
clear every kind from that source, a fire included, so the operator declares all-clear. Both
are logged and counted (``CamerasBackOnline``, ``CameraViewsRestored``).

Standard library and boto3 only (no numpy): the sweep's function ships without it.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from gyeonggi.cctv.health import CameraHealth
from gyeonggi.cctv.models import Camera
from gyeonggi.cctv.ports import CameraRecords, HealthRecords
from gyeonggi.safety.evidence import Evidence, EvidenceSender, evidence_id

log = logging.getLogger(__name__)

#: A camera silent this long is offline (six segments of 10 s lost, and a margin).
DEFAULT_OFFLINE_AFTER = timedelta(minutes=3)


@dataclass(frozen=True)
class Finding:
    """A camera found offline or tampered with, and where the finding went."""

    camera_id: str
    jurisdiction: str
    kind: str  # camera_offline, camera_tampered
    detail: dict[str, Any]
    evidence: Evidence | None = None

    def to_log(self) -> dict[str, Any]:
        return {
            "camera_id": self.camera_id,
            "jurisdiction": self.jurisdiction,
            "kind": self.kind,
            "to": "incident" if self.evidence is not None else "operations",
            **self.detail,
        }


def finding(
    camera: Camera, kind: str, ts: datetime, detail: dict[str, Any], severity: str
) -> Finding:
    """The finding, as evidence when the camera watches an industrial complex."""
    evidence = None
    if camera.complex_id is not None:
        evidence = Evidence(
            source="camera",
            complex_id=camera.complex_id,
            source_id=camera.camera_id,
            kind=kind,
            severity="alarm" if severity == "alarm" else "warning",
            ts=ts,
            detail={
                "evidence_id": evidence_id(camera.camera_id, kind, ts.isoformat()),
                "jurisdiction": camera.jurisdiction,
                **detail,
            },
        )
    return Finding(camera.camera_id, camera.jurisdiction, kind, detail, evidence)


@dataclass
class SweepOutcome:
    """What a sweep found, for metrics and the log."""

    cameras: int = 0
    silent: int = 0
    findings: list[Finding] = field(default_factory=list)

    @property
    def to_incidents(self) -> int:
        return sum(1 for f in self.findings if f.evidence is not None)

    @property
    def to_operations(self) -> int:
        return sum(1 for f in self.findings if f.evidence is None)


class OfflineSweep:
    """On the clock: cameras silent for longer than ``offline_after``, each silence once.

    Evidence goes out before the silences are marked reported, so a failure between the two
    repeats a report on the next sweep and never loses one (the evidence id makes the repeat
    harmless to the incident function). Cameras not watched (out of service, in maintenance,
    decommissioned) or not in the registry are marked without a report: their silence is
    expected, and they are not looked up again until they send.
    """

    def __init__(
        self,
        cameras: CameraRecords,
        health: HealthRecords,
        send_evidence: EvidenceSender,
        offline_after: timedelta = DEFAULT_OFFLINE_AFTER,
    ) -> None:
        self.cameras = cameras
        self.health = health
        self.send_evidence = send_evidence
        self.offline_after = offline_after

    def run(self, now: datetime) -> SweepOutcome:
        outcome = SweepOutcome()
        silent: list[CameraHealth] = []
        for health in self.health.scan():
            outcome.cameras += 1
            if health.silent(now, self.offline_after) and not health.reported_offline:
                silent.append(health)
        outcome.silent = len(silent)
        known = self.cameras.get_many(h.camera_id for h in silent)
        for health in silent:
            camera = known.get(health.camera_id)
            if camera is None or not camera.watched or health.last_segment_at is None:
                continue
            silent_s = (now - health.last_segment_at).total_seconds()
            detail = {
                "check": "offline",
                "last_segment_at": health.last_segment_at.isoformat(),
                "last_segment_key": health.last_segment_key,
                "silent_s": round(silent_s, 1),
                "offline_after_s": self.offline_after.total_seconds(),
            }
            outcome.findings.append(
                finding(camera, "camera_offline", health.last_segment_at, detail, "warning")
            )
        evidence = [f.evidence for f in outcome.findings if f.evidence is not None]
        if evidence:
            self.send_evidence(evidence)
        for found in outcome.findings:
            log.warning("camera offline", extra=found.to_log())
        for health in silent:
            assert health.last_segment_at is not None
            self.health.mark_offline(health.camera_id, health.last_segment_at)
        return outcome
