"""How an incident is shown: to operators through the API, and to whoever is paged.

:func:`view` leaves out the task token and the bookkeeping; :func:`alert_of` is the
notification's body (and the state machine's ``$.alert``); :func:`parse_status` reads the
list's ``status`` filter and :func:`parse_note` an operator's answer.
"""

from __future__ import annotations

from typing import Any

from gyeonggi.common.errors import InvalidInput
from gyeonggi.common.text import check_text
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
    """The ``status`` query parameter: ``open`` (when absent) or ``closed``.

    Raises
    ------
    InvalidInput
        For any other value; ``status=`` too: an empty value is a mistake, not the default.
    """
    if value is None:
        return OPEN_STATUS
    if value not in (OPEN_STATUS, CLOSED_STATUS):
        raise InvalidInput(f"status: {value!r} is not open or closed", field="status")
    return value


#: The longest note an operator's answer carries.
MAX_NOTE = 2000


def parse_note(body: Any) -> str | None:
    """The optional ``note`` of an operator's answer (``{"note": "..."}``; ``None`` for none).

    Raises
    ------
    InvalidInput
        When the body is not an object, or the note is not readable text of at most
        :data:`MAX_NOTE` characters.
    """
    if not isinstance(body, dict):
        raise InvalidInput("body: must be a JSON object")
    note = body.get("note")
    if note is None:
        return None
    problem = f"must be text of at most {MAX_NOTE} characters"
    if isinstance(note, str) and len(note) <= MAX_NOTE:
        try:
            return check_text(note, multiline=True)
        except ValueError as exc:
            problem = str(exc)
    raise InvalidInput(f"note: {problem}", field="note")
