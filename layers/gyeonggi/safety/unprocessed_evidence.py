"""Evidence the incident function cannot process still reaches a person: a direct page.

The incident function takes evidence off ``SafetyEvidenceQueue``; a record that fails is
received again and, after the queue's ``maxReceiveCount`` receives, moved to its dead-letter
queue. Left at that, an alarm the function cannot process would page only the platform's
operators (the queue's CloudWatch alarm), never the complex's safety staff. So a record is
*paged directly* when

- it can never be processed: ``InvalidInput`` (not JSON, not evidence), where no retry helps,
  so on its first receive; or
- it failed on its last receive (``ApproximateReceiveCount`` at least the queue's
  ``maxReceiveCount``, which the template passes as ``EVIDENCE_MAX_RECEIVES``), whatever the
  error (the incidents table, Step Functions or SNS failing, a conflict that kept losing).

Paging publishes the raw evidence and the reason to ``IncidentAlertsTopic`` with
``event_type`` ``EvidenceUnprocessed`` and the attributes subscriptions filter on
(:mod:`gyeonggi_tools.safety.subscriptions`):

- ``complex_id``: the evidence's, when it names one (from the text of a message cut short, when
  it is there: the page then reaches that complex's staff as well); otherwise left out, so only
  the subscriptions for every complex (the province's duty officers) hear it, since nobody can
  tell whose it is. Either way those subscriptions hear it;
- ``severity``: the evidence's, when it has a valid one; otherwise ``critical``: an alarm we
  cannot read is taken at its worst;
- ``level``: ``3``. Nobody can acknowledge a direct page and no workflow escalates it, so it
  reaches at once everyone an unacknowledged incident would reach by escalating.

Then the message is put on the dead-letter queue with the reason (message attributes), for
the operators to fix and redrive, and the record is reported done, so it is paged once and
not again on each receive. Why a page and not an incident marked degraded: the failures that
bring us here are mostly the incident's own machinery (its table, its workflow), and a page
needs nothing but SNS. If the page fails too, the record fails as before and SQS moves it to
the dead-letter queue after its last receive; the queue's alarm pages the operators. A page
that went out before the dead-letter write failed is repeated on the next receive: a
duplicate page, never a lost one.

Standard library plus boto3 (made lazily) only, like the rest of the incident function's
domain.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from typing import Any

from gyeonggi.common.aws import AwsClient
from gyeonggi.common.errors import InvalidInput
from gyeonggi.safety.evidence import MAX_ID_CHARS, SEVERITY_RANK
from gyeonggi.safety.ports import AlertPublisher, EvidenceDeadLetters

#: The alert's ``event_type``: not an incident alert (there is no incident to acknowledge).
UNPROCESSED = "EvidenceUnprocessed"
#: The escalation level of a direct page: the last one, see the module's docstring.
PAGE_LEVEL = 3
#: Characters of the raw evidence a page carries. JSON escapes at most six bytes a character,
#: so the page stays under SNS's 256 KB whatever the message held (evidence is under 1 KB).
MAX_EVIDENCE_CHARS = 32_000
#: The complex id in the text of a message that is no longer JSON (cut short, say).
_COMPLEX_ID_IN_TEXT = re.compile(r'"complex_id"\s*:\s*"([^"\\]{1,' + str(MAX_ID_CHARS) + '})"')


@dataclass(frozen=True, slots=True)
class Unprocessed:
    """One evidence message the incident function could not process."""

    body: str
    reason: str
    error: str
    receive_count: int
    message_id: str

    def page(self) -> dict[str, Any]:
        """The alert: raw evidence, reason, and the attributes subscriptions filter on."""
        data = _json_object(self.body)
        complex_id = data.get("complex_id")
        if not data and (found := _COMPLEX_ID_IN_TEXT.search(self.body[:MAX_EVIDENCE_CHARS])):
            complex_id = found.group(1)
        severity = data.get("severity")
        truncated = len(self.body) > MAX_EVIDENCE_CHARS
        return {
            "event_type": UNPROCESSED,
            # Any id a subscription might name: one that none does still reaches the
            # subscriptions for every complex, which a missing attribute reaches too.
            "complex_id": complex_id
            if isinstance(complex_id, str) and 0 < len(complex_id.strip()) <= MAX_ID_CHARS
            else None,
            "severity": severity
            if isinstance(severity, str) and severity in SEVERITY_RANK
            else "critical",
            "level": PAGE_LEVEL,
            "reason": self.reason,
            "error": self.error,
            "evidence": self.body[:MAX_EVIDENCE_CHARS],
            "evidence_truncated": truncated,
            "message_id": self.message_id,
            "receive_count": self.receive_count,
            "note": "Not an incident: nothing to acknowledge. The evidence could not open or "
            "join one; act on it directly.",
        }


def _json_object(body: str) -> dict[str, Any]:
    try:
        data = json.loads(body)
    except (ValueError, RecursionError):
        return {}
    return data if isinstance(data, dict) else {}


class UnprocessedEvidence:
    """Pages evidence the incident function cannot process, then dead-letters it.

    Parameters
    ----------
    alerts
        The incident alerts topic.
    dead_letters
        The evidence queue's dead-letter queue.
    max_receives
        The evidence queue's ``maxReceiveCount``: a failure on that receive is the last.
    """

    def __init__(
        self, alerts: AlertPublisher, dead_letters: EvidenceDeadLetters, max_receives: int
    ) -> None:
        self.alerts = alerts
        self.dead_letters = dead_letters
        self.max_receives = max_receives

    def last_chance(self, error: Exception, receive_count: int) -> bool:
        """Whether no later receive can process the record: page now or never."""
        return isinstance(error, InvalidInput) or receive_count >= self.max_receives

    def take(
        self, body: str, error: Exception, *, receive_count: int, message_id: str
    ) -> Unprocessed | None:
        """Page and dead-letter a record on its last chance; ``None`` when a retry may do.

        Returns
        -------
        Unprocessed or None
            What was paged (the record is done: report it processed), or ``None`` (let the
            record fail and be received again).

        Raises
        ------
        Exception
            Whatever the topic or the queue raised: the record then fails as it would have.
        """
        if not self.last_chance(error, receive_count):
            return None
        reason = getattr(error, "message", None) or str(error) or type(error).__name__
        unprocessed = Unprocessed(body, reason, type(error).__name__, receive_count, message_id)
        self.alerts.publish(unprocessed.page())
        self.dead_letters.keep(body, reason=reason, error=unprocessed.error, paged=True)
        return unprocessed


class EvidenceDeadLetterQueue:
    """``SafetyEvidenceDeadLetterQueue``, written to directly: the raw message, unchanged (so
    a redrive to the evidence queue sends it again as it was), and the reason beside it."""

    sqs = AwsClient("sqs")

    def __init__(self, queue_url: str, sqs: Any | None = None) -> None:
        self.queue_url = queue_url
        if sqs is not None:
            self.sqs = sqs

    def keep(self, body: str, *, reason: str, error: str, paged: bool) -> None:
        attributes = {"reason": reason[:1000], "error": error, "paged": str(paged).lower()}
        self.sqs.send_message(
            QueueUrl=self.queue_url,
            MessageBody=body,
            MessageAttributes={
                name: {"DataType": "String", "StringValue": value or "-"}
                for name, value in attributes.items()
            },
        )
