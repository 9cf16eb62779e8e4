"""How an incident is shown: to operators through the API, and to whoever is paged.

:func:`view` leaves out the task token and the bookkeeping; :func:`alert_of` is the
notification's body (and the state machine's ``$.alert``); :func:`parse_status` reads the
list's ``status`` filter.
"""

from __future__ import annotations

from typing import Any

from gyeonggi.common.errors import InvalidInput
from gyeonggi.safety.incident_rules import CLOSED_STATUS, OPEN_STATUS, Incident


def view(incident: Incident) -> dict[str, Any]:
    """An incident as the API shows it (no task token, no bookkeeping)."""
    return {
        "incident_id": incident.incident_id,
        "complex_id": incident.complex_id,
        "severity": incident.severity,
        "state": incident.state,
        "status": incident.status,
        "level": incident.level,
        "opened_at": incident.opened_at.isoformat(),
        "last_evidence_at": incident.last_evidence_at.isoformat(),
        "sources": incident.sources,
        "timeline": list(incident.timeline),
    }


def alert_of(incident: Incident, level: int | None = None) -> dict[str, Any]:
    """The notification's body (and the state machine's ``$.alert``)."""
    return {
        "event_type": "IncidentAlert",
        "incident_id": incident.incident_id,
        "complex_id": incident.complex_id,
        "severity": incident.severity,
        "level": incident.level if level is None else level,
        "opened_at": incident.opened_at.isoformat(),
    }


def parse_status(value: str | None) -> str:
    """The ``status`` query parameter: ``open`` (default) or ``closed``."""
    if value in (None, ""):
        return OPEN_STATUS
    if value not in (OPEN_STATUS, CLOSED_STATUS):
        raise InvalidInput("status must be open or closed", field="status")
    return str(value)
