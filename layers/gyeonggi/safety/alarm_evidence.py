"""The evidence of an alarm event: its severity on the incidents' scale, and its message.

Standard library only, like the rest of the alarm path.
"""

from __future__ import annotations

from datetime import datetime

from gyeonggi.common.clock import aware
from gyeonggi.safety.alarms import AlarmEvent
from gyeonggi.safety.evidence import Evidence, Severity, evidence_id

#: Kinds whose alarms mean fire: a critical event of theirs is critical evidence.
FIRE_KINDS = frozenset({"flame", "smoke", "temperature"})


def evidence_severity(event: AlarmEvent) -> Severity:
    """Map an alarm event's severity to the incident workflow's scale.

    ``critical`` from :mod:`alarms` is a set point or exposure limit crossed: for fire kinds
    that is ``critical`` (a fire spreads in minutes), for gases ``alarm``. Everything else
    (pre-alarms, faults, clearings) is ``warning``; a clearing says what it clears in
    ``detail.clears``.
    """
    if event.severity == "critical":
        return "critical" if event.gas in FIRE_KINDS else "alarm"
    return "warning"


def alarm_evidence(event: AlarmEvent, *, received_at: datetime) -> Evidence:
    """The evidence of one alarm event."""
    return Evidence(
        source="sensor",
        complex_id=event.complex_id,
        source_id=event.sensor_id,
        kind=event.kind,
        severity=evidence_severity(event),
        ts=aware(event.ts),
        gas=event.gas,
        value=event.value,
        limit=event.limit,
        detail={
            # The device's own timestamp text, as before: the id must not change on redeploy.
            "evidence_id": evidence_id(
                event.complex_id, event.sensor_id, event.kind, event.clears, event.ts.isoformat()
            ),
            "alarm_severity": event.severity,
            "clears": event.clears,
            "received_at": received_at.isoformat(),
        },
    )
