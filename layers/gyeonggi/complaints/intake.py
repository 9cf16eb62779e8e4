"""The front door: turn a submission into an intake message and put it on the queue."""

from __future__ import annotations

import json
import secrets
from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Any, Literal

from pydantic import ValidationError

from gyeonggi.common import clock
from gyeonggi.common.aws import AwsClient
from gyeonggi.common.errors import InvalidInput
from gyeonggi.common.numbers import decimal_number
from gyeonggi.complaints.jurisdictions import UnknownJurisdiction
from gyeonggi.complaints.models import ComplaintSubmission, IntakeMessage, to_item
from gyeonggi.complaints.receipts import Receipt, ReceiptWriter

#: Open311 form fields that are not complaint data.
_TRANSPORT_FIELDS = frozenset({"api_key"})
#: Form fields the model takes as numbers (a form carries only text).
_NUMBER_FIELDS = frozenset({"lat", "long"})


def new_request_id(now: datetime | None = None) -> str:
    """A request id that sorts by day and cannot be guessed: ``GG-20261124-9F3A01C2``."""
    day = (now or clock.now()).strftime("%Y%m%d")
    return f"GG-{day}-{secrets.token_hex(4).upper()}"


def submission_from_form(form: Mapping[str, Sequence[str]]) -> ComplaintSubmission:
    """Read an Open311 ``application/x-www-form-urlencoded`` POST into a submission.

    ``attribute[code]=value`` fields become ``attributes``; a repeated attribute becomes a list
    (the spec's multivaluelist). ``lat`` and ``long`` are numbers as JSON writes them: not
    ``1_0``, `` 1``, ``nan`` or ``0x1``, which Python's ``float()`` would read. A field given
    empty is wrong, as in JSON, not absent.

    Raises
    ------
    UnknownJurisdiction
        ``jurisdiction_id`` is well formed but none of the 31 (``404``).
    InvalidInput
        Naming the first field that is wrong otherwise.
    """
    data: dict[str, Any] = {}
    attributes: dict[str, str | list[str]] = {}
    for key, values in form.items():
        if key in _TRANSPORT_FIELDS:
            continue
        if key.startswith("attribute[") and key.endswith("]"):
            code = key[len("attribute[") : -1]
            attributes[code] = list(values) if len(values) > 1 else values[0]
            continue
        if len(values) != 1:
            raise InvalidInput(f"{key}: must be given once", field=key)
        if key in _NUMBER_FIELDS:
            data[key] = decimal_number(values[0], key)
            continue
        data[key] = values[0]
    if attributes:
        data["attributes"] = attributes
    return parse_submission(data)


def parse_submission(data: Any) -> ComplaintSubmission:
    """Validate a submission from JSON-like data.

    Raises
    ------
    UnknownJurisdiction
        ``jurisdiction_id`` is well formed but none of the 31 (GeoReport v2 answers 404).
    InvalidInput
        Naming the first field that is wrong otherwise.
    """
    try:
        return ComplaintSubmission.model_validate(data)
    except ValidationError as exc:
        error = invalid_input(exc)
        if exc.errors()[0]["type"] == UnknownJurisdiction.code:
            raise UnknownJurisdiction(error.message, field=error.field) from None
        raise error from None


def parse_intake_message(data: str | bytes | Any) -> IntakeMessage:
    """Validate an intake message from the queue (JSON text) or a workflow input (a dict).

    Raises
    ------
    InvalidInput
        When the message is not JSON or not an intake message; the queue then retries it and,
        after ``maxReceiveCount`` receives, moves it to the dead-letter queue.
    """
    try:
        if isinstance(data, str | bytes):
            return IntakeMessage.model_validate_json(data)
        return IntakeMessage.model_validate(data)
    except ValidationError as exc:
        raise invalid_input(exc) from None


def invalid_input(exc: ValidationError) -> InvalidInput:
    """Turn a pydantic error into one ``InvalidInput`` naming the offending field."""
    err = exc.errors()[0]
    field = ".".join(str(part) for part in err["loc"]) or None
    if err["type"] == "missing":
        message = "is required"
    elif err["type"] == "extra_forbidden":
        message = "is not a field of this request"
    else:
        message = err["msg"].removeprefix("Value error, ")
    return InvalidInput(f"{field}: {message}" if field else message, field=field)


class IntakeQueue:
    """The SQS queue between the API and the intake workflow.

    Parameters
    ----------
    queue_url
        The intake queue.
    sqs
        A boto3 SQS client; made on first use when omitted.
    receipts
        Where each complaint's receipt is recorded before it is enqueued, so that its id is
        readable from the moment the caller has it (:mod:`gyeonggi.complaints.receipts`);
        the API always gives one.
    """

    sqs = AwsClient("sqs")

    def __init__(
        self, queue_url: str, sqs: Any | None = None, receipts: ReceiptWriter | None = None
    ) -> None:
        self.queue_url = queue_url
        self.receipts = receipts
        if sqs is not None:
            self.sqs = sqs

    def submit(
        self,
        submission: ComplaintSubmission,
        channel: Literal["open311", "api"],
        now: datetime | None = None,
    ) -> IntakeMessage:
        """Assign a request id, record the receipt and enqueue the complaint; the caller
        answers 201 with the id."""
        now = now or clock.now()
        message = IntakeMessage(
            service_request_id=new_request_id(now),
            submitted_at=now,
            channel=channel,
            submission=submission,
        )
        if self.receipts is not None:
            # Before the message: the workflow may store the complaint before this returns,
            # but nobody can ask for the id before the receipt exists. Should the send fail,
            # the caller gets a 500 without the id, and the receipt expires unread.
            self.receipts.put(Receipt.of(message))
        self.sqs.send_message(
            QueueUrl=self.queue_url,
            MessageBody=json.dumps(to_item(message), ensure_ascii=False),
            MessageAttributes={
                "type": {"DataType": "String", "StringValue": message.type},
                "service_code": {"DataType": "String", "StringValue": submission.service_code},
            },
        )
        return message


def receipt(service_request_id: str) -> dict[str, Any]:
    """The native API's answer to a submission: its id, and where to follow it, natively and
    in Open311 (``links.self`` is also the answer's ``Location``)."""
    return {
        "service_request_id": service_request_id,
        "status": "received",
        "links": {
            "self": f"/complaints/{service_request_id}",
            "open311": f"/open311/v2/requests/{service_request_id}.json",
        },
    }
