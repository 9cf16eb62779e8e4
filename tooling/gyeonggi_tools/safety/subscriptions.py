"""Who hears which incident alerts: SNS subscriptions with filter policies.

There is one IncidentAlertsTopic. Every alert carries the message attributes ``event_type``,
``complex_id``, ``severity`` and ``level`` (see
:class:`gyeonggi.safety.incident_workflow.IncidentAlerts`), so "a topic per complex and
severity" is a subscription with a filter policy: a complex's safety manager hears its own
complex from the first level, the province's duty officer hears every complex's critical
incidents and everything that reached level 2. New complexes need no new topic, and no alert is
ever published twice.
"""

from __future__ import annotations

import json
import re
from collections.abc import Sequence
from typing import Any

from gyeonggi.common.aws import AwsClient
from gyeonggi.common.errors import InvalidInput

SEVERITIES = ("warning", "alarm", "critical")
LEVELS = (1, 2, 3)
#: What an endpoint of each protocol looks like (SNS would refuse the rest, less clearly).
_ENDPOINTS = {
    "email": re.compile(r"[^@\s]+@[^@\s]+\.[^@\s]+"),
    "email-json": re.compile(r"[^@\s]+@[^@\s]+\.[^@\s]+"),
    "sms": re.compile(r"\+[1-9][0-9]{6,14}"),
    "https": re.compile(r"https://\S+"),
    "sqs": re.compile(r"arn:aws[a-z-]*:sqs:[a-z0-9-]+:[0-9]{12}:\S+"),
    "lambda": re.compile(r"arn:aws[a-z-]*:lambda:[a-z0-9-]+:[0-9]{12}:function:\S+"),
}
_COMPLEX_ID = re.compile(r"[A-Za-z0-9_-]{1,64}")


def filter_policy(
    complexes: Sequence[str] = (),
    min_severity: str = "warning",
    min_level: int = 1,
) -> dict[str, list[str]]:
    """The filter policy for alerts of ``complexes`` (all when empty) at or above a severity
    and an escalation level.

    Raises
    ------
    InvalidInput
        An unknown severity or level, or a complex id that no topic could carry.
    """
    if min_severity not in SEVERITIES:
        raise InvalidInput(f"severity: one of {', '.join(SEVERITIES)}", field="severity")
    if min_level not in LEVELS:
        raise InvalidInput("level: 1, 2 or 3", field="level")
    for complex_id in complexes:
        if not _COMPLEX_ID.fullmatch(complex_id):
            raise InvalidInput(f"complex id {complex_id!r}: 1-64 letters, digits, '_' or '-'")
    policy = {
        "severity": list(SEVERITIES[SEVERITIES.index(min_severity) :]),
        # ``level`` is a String attribute: the levels are listed, not compared.
        "level": [str(level) for level in LEVELS if level >= min_level],
    }
    if complexes:
        policy["complex_id"] = sorted(set(complexes))
    return policy


class AlertSubscriptions:
    """Subscribe endpoints to the incident alerts topic with a filter policy."""

    sns = AwsClient("sns")

    def __init__(self, topic_arn: str, sns: Any | None = None) -> None:
        self.topic_arn = topic_arn
        if sns is not None:
            self.sns = sns

    def subscribe(self, protocol: str, endpoint: str, policy: dict[str, list[str]]) -> str:
        """Returns the subscription ARN (``pending confirmation`` for email until confirmed)."""
        pattern = _ENDPOINTS.get(protocol)
        if pattern is None:
            raise InvalidInput(f"protocol: one of {', '.join(_ENDPOINTS)}", field="protocol")
        if not pattern.fullmatch(endpoint):
            raise InvalidInput(f"{endpoint!r} is not an endpoint for {protocol}", field="endpoint")
        answer = self.sns.subscribe(
            TopicArn=self.topic_arn,
            Protocol=protocol,
            Endpoint=endpoint,
            Attributes={
                "FilterPolicy": json.dumps(policy),
                "FilterPolicyScope": "MessageAttributes",
            },
            ReturnSubscriptionArn=True,
        )
        return str(answer["SubscriptionArn"])
