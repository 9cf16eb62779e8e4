"""The intake workflow's first task: separate a complaint's personal data.

Returns the pseudonymized complaint, and the same record in DynamoDB's typed form so the next
state can store it with a direct PutItem integration.
"""

from __future__ import annotations

from typing import Any

from gyeonggi.common.config import Settings
from gyeonggi.common.observability import observability
from gyeonggi.complaints.intake import parse_intake_message
from gyeonggi.complaints.models import to_item
from gyeonggi.complaints.privacy import Pseudonymizer, separate
from gyeonggi.complaints.store import ContactStore, typed_item

logger, tracer, metrics = observability()


class PrivacySettings(Settings):
    contacts_table: str
    pseudonym_key_id: str


settings = PrivacySettings.from_env()
contacts = ContactStore(settings.contacts_table)
pseudonymizer = Pseudonymizer(settings.pseudonym_key_id)


@logger.inject_lambda_context
@tracer.capture_lambda_handler
@metrics.log_metrics
def handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    complaint = separate(parse_intake_message(event), contacts, pseudonymizer)
    logger.info(
        "personal data separated", extra={"service_request_id": complaint.service_request_id}
    )
    return {"complaint": to_item(complaint), "item": typed_item(complaint)}
