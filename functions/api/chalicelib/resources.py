"""The API's settings, and the stores, queue and workflow its routes use.

Each is made on first use and kept for the container's life, so the cold start makes none of
them.
"""

from __future__ import annotations

from functools import cache

from gyeonggi.auth import ApiKeyStore, AuthSettings, TokenVerifier
from gyeonggi.complaints.dashboard import VolumeReader
from gyeonggi.complaints.intake import IntakeQueue
from gyeonggi.complaints.receipts import ReceiptStore
from gyeonggi.complaints.store import ComplaintStore, ContactStore
from gyeonggi.complaints.updates import UpdateStore
from gyeonggi.safety.incident_store import IncidentStore
from gyeonggi.safety.incident_workflow import IncidentWorkflow


class ApiSettings(AuthSettings):
    complaints_table: str
    contacts_table: str
    api_keys_table: str
    intake_queue_url: str
    intake_dlq_url: str
    intake_failure_queue_url: str
    complaint_updates_table: str
    complaint_receipts_table: str
    complaint_counts_table: str
    complaint_forecasts_table: str
    incidents_table: str


@cache
def settings() -> ApiSettings:
    return ApiSettings.from_env()


@cache
def verifier() -> TokenVerifier:
    return TokenVerifier.from_settings(settings())


@cache
def complaints() -> ComplaintStore:
    return ComplaintStore(settings().complaints_table)


@cache
def contacts() -> ContactStore:
    return ContactStore(settings().contacts_table)


@cache
def api_keys() -> ApiKeyStore:
    return ApiKeyStore(settings().api_keys_table)


@cache
def receipts() -> ReceiptStore:
    return ReceiptStore(settings().complaint_receipts_table)


@cache
def intake() -> IntakeQueue:
    return IntakeQueue(settings().intake_queue_url, receipts=receipts())


@cache
def updates() -> UpdateStore:
    s = settings()
    return UpdateStore(s.complaint_updates_table, s.complaints_table)


@cache
def volumes() -> VolumeReader:
    s = settings()
    return VolumeReader(s.complaint_counts_table, s.complaint_forecasts_table)


@cache
def incidents() -> IncidentStore:
    return IncidentStore(settings().incidents_table)


@cache
def incident_workflow() -> IncidentWorkflow:
    return IncidentWorkflow()
