"""Open311 GeoReport v2 representations of this server's data, in JSON and XML.

The functions here build the JSON structures of the spec (lists of flat objects, as GeoReport
v2 answers); :func:`render` turns one into the body and content type of the requested format,
XML going through :mod:`gyeonggi.complaints.open311_xml`. Names are localised with
:func:`locale_of` (``?locale=ko`` or ``Accept-Language``; English by default).
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from datetime import UTC, datetime
from typing import Any, Literal

from gyeonggi.common.errors import InvalidInput, NotFound
from gyeonggi.complaints.models import Complaint
from gyeonggi.complaints.open311_xml import to_xml
from gyeonggi.complaints.receipts import NOTICE as RECEIVED_NOTICE
from gyeonggi.complaints.receipts import Receipt
from gyeonggi.complaints.services import BY_CODE as SERVICES
from gyeonggi.complaints.services import SERVICES as CATALOGUE
from gyeonggi.complaints.services import Attribute, Locale, Service
from gyeonggi.complaints.updates import RequestUpdate

Format = Literal["json", "xml"]
FORMATS: tuple[Format, ...] = ("json", "xml")
CONTENT_TYPES: dict[Format, str] = {
    "json": "application/json; charset=utf-8",
    "xml": "text/xml; charset=utf-8",
}
SPECIFICATION = "http://wiki.open311.org/GeoReport_v2"
#: When this server's Open311 interface last changed (the spec's ``changeset``).
CHANGESET = "2026-11-24T00:00:00+09:00"
CONTACT = "Gyeonggi Province, Digital Administration Division (open311@gg.go.kr)"
KEY_SERVICE = (
    "API keys are issued per client app by the province (gyeonggi auth api-key); "
    "ask open311@gg.go.kr"
)


def _iso(dt: datetime) -> str:
    """ISO 8601 with seconds and an explicit offset; naive times are taken as UTC."""
    if dt.tzinfo is None:
        dt = dt.replace(tzinfo=UTC)
    return dt.isoformat(timespec="seconds")


def split_file(name: str, what: str) -> tuple[str, Format]:
    """Split ``<stem>.<format>`` as in ``requests/<id>.xml``.

    Raises
    ------
    NotFound
        Without a stem or with a format other than ``json`` and ``xml``.
    """
    stem, _, ext = name.rpartition(".")
    if not stem or ext not in FORMATS:
        raise NotFound(f"{name}: use /open311/v2/{what}/{{id}}.json or .xml")
    fmt: Format = "xml" if ext == "xml" else "json"
    return stem, fmt


def locale_of(query: str | None, accept_language: str | None) -> Locale:
    """The language of names and descriptions: ``?locale=`` first, then ``Accept-Language``.

    ``ko``/``ko-KR`` give Korean, ``en``/``en-*`` English; without either, English.

    Raises
    ------
    InvalidInput
        Naming ``locale`` when the query asks for a language this server does not have.
    """
    if query is not None:
        primary = query.strip().lower().replace("_", "-").split("-")[0]
        if primary not in ("en", "ko"):
            raise InvalidInput(f"locale: {query!r} is not served; use en or ko", field="locale")
        return "ko" if primary == "ko" else "en"
    ranked: list[tuple[float, int, str]] = []
    for position, part in enumerate((accept_language or "").split(",")):
        tag, _, params = part.strip().partition(";")
        weight = 1.0
        if params.strip().startswith("q="):
            try:
                weight = float(params.strip()[2:])
            except ValueError:
                weight = 0.0  # a malformed weight never wins
        primary = tag.strip().lower().split("-")[0]
        if primary in ("en", "ko") and weight > 0:
            ranked.append((-weight, position, primary))
    return "ko" if ranked and min(ranked)[2] == "ko" else "en"


def render(fmt: Format, kind: str, data: Any) -> tuple[str, str]:
    """The body and content type of document ``kind`` in format ``fmt``."""
    if fmt == "xml":
        return to_xml(kind, data), CONTENT_TYPES["xml"]
    return json.dumps(data, ensure_ascii=False), CONTENT_TYPES["json"]


# ------------------------------------------------------------------ documents


def discovery(base_url: str) -> dict[str, Any]:
    """The spec's service discovery document for this endpoint (production, both formats)."""
    return {
        "changeset": CHANGESET,
        "contact": CONTACT,
        "key_service": KEY_SERVICE,
        "endpoints": [
            {
                "specification": SPECIFICATION,
                "url": base_url.rstrip("/"),
                "changeset": CHANGESET,
                "type": "production",
                "formats": ["text/xml", "application/json"],
            }
        ],
    }


def service(item: Service, locale: Locale = "en") -> dict[str, Any]:
    """One element of ``GET services``; ``department`` is this server's extension."""
    return {
        "service_code": item.code,
        "service_name": item.name(locale),
        "description": item.description(locale),
        "metadata": item.metadata,
        "type": "realtime",
        "keywords": ", ".join(item.keywords(locale)),
        "group": item.group,
        "department": item.department,
    }


def services(
    locale: Locale = "en", catalogue: Iterable[Service] = CATALOGUE
) -> list[dict[str, Any]]:
    """The ``GET services`` answer: every service of the catalogue."""
    return [service(s, locale) for s in catalogue]


def _attribute(attribute: Attribute, locale: Locale) -> dict[str, Any]:
    return {
        "variable": attribute.variable,
        "code": attribute.code,
        "datatype": attribute.datatype,
        "required": attribute.required,
        "datatype_description": attribute.datatype_description,
        "order": attribute.order,
        "description": attribute.description(locale),
        "values": [{"key": v.key, "name": v.name(locale)} for v in attribute.values],
    }


def service_definition(item: Service, locale: Locale = "en") -> dict[str, Any]:
    """The ``GET services/{code}`` answer; a service without questions has no attributes."""
    return {
        "service_code": item.code,
        "attributes": [
            _attribute(a, locale) for a in sorted(item.attributes, key=lambda a: a.order)
        ],
    }


def find_service(code: str) -> Service:
    """The service with ``code``; raises ``NotFound`` naming it otherwise."""
    found = SERVICES.get(code)
    if found is None:
        raise NotFound(f"service_code {code} is not a service of this server")
    return found


def service_request(complaint: Complaint | Receipt, locale: Locale = "en") -> dict[str, Any]:
    """One element of the ``GET requests`` answer; contact details are never part of it.

    A complaint not stored yet is answered from its receipt, as it was submitted, with status
    ``open`` and the ``service_notice`` of the ``POST`` answer: the only difference a client
    sees.
    """
    received = isinstance(complaint, Receipt)
    return {
        "service_request_id": complaint.service_request_id,
        "status": complaint.status,
        "status_notes": complaint.status_notes,
        "service_name": SERVICES[complaint.service_code].name(locale),
        "service_code": complaint.service_code,
        "description": complaint.description,
        "agency_responsible": complaint.agency_responsible,
        "service_notice": RECEIVED_NOTICE if received else None,
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


def service_requests(
    complaints: Iterable[Complaint | Receipt], locale: Locale = "en"
) -> list[dict[str, Any]]:
    """The ``GET requests`` answer."""
    return [service_request(c, locale) for c in complaints]


def post_response(service_request_id: str) -> list[dict[str, Any]]:
    """The ``POST requests`` answer: the id is known at once, processing is asynchronous."""
    return [
        {
            "service_request_id": service_request_id,
            "service_notice": RECEIVED_NOTICE,
            "account_id": None,
        }
    ]


def request_update(update: RequestUpdate) -> dict[str, Any]:
    """One ``request_update`` of the ``servicerequestupdates`` extension (FixMyStreet's)."""
    return {
        "update_id": update.update_id,
        "service_request_id": update.service_request_id,
        "status": update.status,
        "updated_datetime": _iso(update.updated_datetime),
        "description": update.description,
        "media_url": update.media_url,
    }


def request_updates(updates: Iterable[RequestUpdate]) -> list[dict[str, Any]]:
    """The ``GET servicerequestupdates`` answer; who made an update is not part of it."""
    return [request_update(u) for u in updates]


def errors(status: int, *descriptions: str) -> list[dict[str, Any]]:
    """The spec's error body: a list of ``{code, description}``."""
    return [{"code": status, "description": d} for d in descriptions]
