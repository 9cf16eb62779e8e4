"""What operators watch of the intake chain: queue depths, dead letters, failed executions."""

from __future__ import annotations

from typing import Any


def _depth(sqs: Any, queue_url: str) -> dict[str, int]:
    attrs = sqs.get_queue_attributes(
        QueueUrl=queue_url,
        AttributeNames=["ApproximateNumberOfMessages", "ApproximateNumberOfMessagesNotVisible"],
    )["Attributes"]
    return {
        "waiting": int(attrs.get("ApproximateNumberOfMessages", 0)),
        "in_flight": int(attrs.get("ApproximateNumberOfMessagesNotVisible", 0)),
    }


def intake_status(
    *,
    intake_queue_url: str,
    dead_letter_queue_url: str,
    failure_queue_url: str,
    sqs: Any | None = None,
) -> dict[str, Any]:
    """Depths of the intake queue, its dead-letter queue and the workflow's failure queue.

    Anything but zero on the last two needs a person: a malformed message or a failed execution.
    """
    if sqs is None:
        import boto3

        sqs = boto3.client("sqs")
    queues = {
        "intake": _depth(sqs, intake_queue_url),
        "dead_letter": _depth(sqs, dead_letter_queue_url),
        "workflow_failures": _depth(sqs, failure_queue_url),
    }
    attention = queues["dead_letter"]["waiting"] + queues["workflow_failures"]["waiting"]
    return {"queues": queues, "needs_attention": attention > 0}
