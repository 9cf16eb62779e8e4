"""Open311 GeoReport v2 representations of this server's data."""

from __future__ import annotations

from typing import Any

from gyeonggi.complaints.models import Complaint
from gyeonggi.complaints.services import BY_CODE as SERVICES


def _iso(dt: Any) -> str:
    return dt.isoformat(timespec="seconds")


def service_request(complaint: Complaint) -> dict[str, Any]:
    """One element of the ``GET requests`` answer; contact details are never part of it."""
    return {
        "service_request_id": complaint.service_request_id,
        "status": complaint.status,
        "status_notes": complaint.status_notes,
        "service_name": SERVICES[complaint.service_code].name_en,
        "service_code": complaint.service_code,
        "description": complaint.description,
        "agency_responsible": complaint.agency_responsible,
        "service_notice": None,
        "requested_datetime": _iso(complaint.requested_datetime),
        "updated_datetime": _iso(complaint.updated_datetime),
        "expected_datetime": None,
        "address": complaint.address_string,
        "address_id": None,
        "zipcode": None,
        "lat": complaint.lat,
        "long": complaint.long,
        "media_url": complaint.media_url,
        "jurisdiction_id": complaint.jurisdiction_id,
    }


def post_response(service_request_id: str) -> list[dict[str, Any]]:
    """The ``POST requests`` answer: the id is known at once, processing is asynchronous."""
    return [
        {
            "service_request_id": service_request_id,
            "service_notice": "Received; it is being classified and routed to the department.",
            "account_id": None,
        }
    ]


def errors(status: int, *descriptions: str) -> list[dict[str, Any]]:
    """The spec's error body: a list of ``{code, description}``."""
    return [{"code": status, "description": d} for d in descriptions]
