"""The safety evidence queue: sensor alarms, anomalies and camera detections for incidents.

Every producer sends through :class:`EvidenceQueue`, so batching and the "raise when SQS did
not take a message" rule live in one place (a raise makes the producer's delivery retry; the
evidence ids make repeats harmless to the incident function).
"""

from __future__ import annotations

import json
from typing import Any

from gyeonggi.common.aws import AwsClient


class EvidenceNotAccepted(RuntimeError):
    """SQS refused one or more evidence messages."""


class EvidenceQueue:
    """``SafetyEvidenceQueue``: one JSON message per piece of evidence."""

    sqs = AwsClient("sqs")

    def __init__(self, queue_url: str, sqs: Any | None = None) -> None:
        self.queue_url = queue_url
        if sqs is not None:
            self.sqs = sqs

    def send(self, messages: list[dict[str, Any]]) -> int:
        """Send ``messages`` in batches of ten; returns how many were sent.

        Raises
        ------
        EvidenceNotAccepted
            When SQS reports a failed entry.
        """
        for start in range(0, len(messages), 10):
            chunk = messages[start : start + 10]
            response = self.sqs.send_message_batch(
                QueueUrl=self.queue_url,
                Entries=[
                    {"Id": str(i), "MessageBody": json.dumps(m, ensure_ascii=False)}
                    for i, m in enumerate(chunk)
                ],
            )
            if response.get("Failed"):
                raise EvidenceNotAccepted(f"evidence not accepted by SQS: {response['Failed']}")
        return len(messages)
