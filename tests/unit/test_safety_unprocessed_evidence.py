"""Evidence the incident function cannot process is paged directly, then dead-lettered.

When (malformed at once; any other failure on the last receive), what the page says and
carries, who it reaches through the subscriptions' filter policies (moto's SNS applies them),
and what is left for the platform's operators.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import boto3
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from moto import mock_aws

from gyeonggi.common.errors import Conflict, InvalidInput
from gyeonggi.safety.incident_workflow import IncidentAlerts
from gyeonggi.safety.unprocessed_evidence import (
    MAX_EVIDENCE_CHARS,
    UNPROCESSED,
    EvidenceDeadLetterQueue,
    UnprocessedEvidence,
)
from gyeonggi_tools.safety.subscriptions import AlertSubscriptions, filter_policy
from tests.fakes.safety import FakeAlerts, FakeEvidenceDeadLetters

GAS = {
    "source": "sensor",
    "complex_id": "banwol",
    "sensor_id": "co-7",
    "kind": "threshold_high",
    "severity": "alarm",
    "ts": "2026-11-24T10:00:00+00:00",
}


def _service(max_receives: int = 3) -> tuple[UnprocessedEvidence, FakeAlerts, Any]:
    alerts, dead = FakeAlerts(), FakeEvidenceDeadLetters()
    return UnprocessedEvidence(alerts, dead, max_receives), alerts, dead


def test_malformed_evidence_is_paged_at_once_and_dead_lettered_with_the_reason() -> None:
    service, alerts, dead = _service()
    body = json.dumps({**GAS, "ts": "yesterday"})
    error = InvalidInput("ts is not an ISO 8601 timestamp", field="ts")
    taken = service.take(body, error, receive_count=1, message_id="m-1")
    assert taken is not None
    (page,) = alerts.published
    assert page["event_type"] == UNPROCESSED
    assert (page["complex_id"], page["severity"], page["level"]) == ("banwol", "alarm", 3)
    assert page["reason"] == "ts is not an ISO 8601 timestamp" and page["error"] == "InvalidInput"
    assert page["evidence"] == body and page["message_id"] == "m-1"
    assert dead.kept == [
        (
            body,
            {"reason": "ts is not an ISO 8601 timestamp", "error": "InvalidInput", "paged": True},
        )
    ]


@pytest.mark.parametrize(
    "body",
    [
        "not json {",
        "[1, 2]",
        json.dumps({**GAS, "complex_id": " ", "severity": "apocalyptic"}),
        json.dumps({**GAS, "complex_id": "x" * 257, "severity": None}),
        json.dumps({**GAS, "complex_id": ["banwol"], "severity": ["alarm"]}),
    ],
    ids=["not-json", "array", "blank-id-bad-severity", "long-id", "lists"],
)
def test_evidence_nobody_can_place_goes_to_everyone_at_the_highest_severity(body: str) -> None:
    service, alerts, _ = _service()
    service.take(body, InvalidInput("the evidence must be a JSON object"), receive_count=1,
                 message_id="m")  # fmt: skip
    (page,) = alerts.published
    assert page["complex_id"] is None  # no attribute: only subscriptions for every complex
    assert page["severity"] == "critical" and page["level"] == 3


_JSON = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=20),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=10), inner),
    max_leaves=10,
)


@given(
    body=st.one_of(
        st.text(max_size=200),
        st.builds(json.dumps, _JSON),
        st.builds(
            lambda extra: json.dumps({**GAS, **extra}),
            st.dictionaries(st.sampled_from(["complex_id", "severity", "source", "ts"]), _JSON),
        ),
    )
)
@settings(max_examples=150, deadline=None, derandomize=True, database=None)
def test_any_message_makes_a_page_with_attributes_a_subscription_can_match(body: str) -> None:
    service, alerts, dead = _service()
    service.take(body, InvalidInput("whatever it is"), receive_count=1, message_id="m")
    (page,) = alerts.published
    assert page["severity"] in ("warning", "alarm", "critical") and page["level"] == 3
    assert page["complex_id"] is None or 0 < len(page["complex_id"].strip()) <= 256
    assert len(json.dumps(page, ensure_ascii=False).encode()) < 256 * 1024
    assert dead.kept[0][0] == body


def test_a_message_cut_short_still_reaches_its_complex() -> None:
    service, alerts, _ = _service()
    body = json.dumps(GAS)[:60]  # '{"source": "sensor", "complex_id": "banwol", "sensor_id"...'
    service.take(body, InvalidInput("not JSON"), receive_count=1, message_id="m")
    (page,) = alerts.published
    assert (page["complex_id"], page["severity"]) == ("banwol", "critical")


def test_other_failures_are_retried_and_paged_on_the_last_receive_only() -> None:
    service, alerts, dead = _service(max_receives=3)
    body, error = json.dumps(GAS), Conflict("the incident changed meanwhile")
    assert service.take(body, error, receive_count=1, message_id="m") is None
    assert service.take(body, error, receive_count=2, message_id="m") is None
    assert alerts.published == [] and dead.kept == []
    assert service.take(body, error, receive_count=3, message_id="m") is not None
    (page,) = alerts.published
    assert page["error"] == "Conflict" and page["receive_count"] == 3
    assert page["severity"] == "alarm"  # the evidence's own, it could be read


def test_a_page_that_fails_fails_the_record_and_nothing_is_dead_lettered_by_hand() -> None:
    class DownAlerts:
        def publish(self, alert: dict[str, Any]) -> None:
            raise RuntimeError("SNS throttled")

    dead = FakeEvidenceDeadLetters()
    service = UnprocessedEvidence(DownAlerts(), dead, 3)
    with pytest.raises(RuntimeError, match="SNS throttled"):
        service.take("not json", InvalidInput("x"), receive_count=1, message_id="m")
    assert dead.kept == []  # the record fails; SQS dead-letters it after its last receive


def test_a_huge_message_is_truncated_and_the_page_stays_under_snss_limit() -> None:
    service, alerts, _ = _service()
    body = json.dumps({**GAS, "detail": {"blob": "\x00" * 300_000}})
    service.take(body, InvalidInput("detail too large"), receive_count=1, message_id="m")
    (page,) = alerts.published
    assert page["evidence_truncated"] is True and len(page["evidence"]) == MAX_EVIDENCE_CHARS
    assert len(json.dumps(page, ensure_ascii=False).encode()) < 256 * 1024


# ------------------------------------------------------------------ who is paged, through SNS


@pytest.fixture
def sns_and_queues() -> Iterator[tuple[IncidentAlerts, Any, dict[str, str]]]:
    """The alerts topic with the subscriptions of docs/INCIDENTS.md, each into a queue."""
    with mock_aws():
        region = "ap-northeast-2"
        sns, sqs = boto3.client("sns", region), boto3.client("sqs", region)
        topic = sns.create_topic(Name="incident-alerts")["TopicArn"]
        subscribers = {
            # banwol's safety manager: their complex, from the first level
            "banwol-manager": filter_policy(["banwol"]),
            # sihwa's: another complex
            "sihwa-manager": filter_policy(["siheung-sihwa"]),
            # the province's duty officer: every complex, critical only
            "province-critical": filter_policy(min_severity="critical"),
            # the province's director: every complex once escalated to level 3
            "province-level-3": filter_policy(min_level=3),
        }
        urls = {}
        for name, policy in subscribers.items():
            urls[name] = sqs.create_queue(QueueName=name)["QueueUrl"]
            arn = sqs.get_queue_attributes(QueueUrl=urls[name], AttributeNames=["QueueArn"])
            AlertSubscriptions(topic, sns).subscribe("sqs", arn["Attributes"]["QueueArn"], policy)
        yield IncidentAlerts(topic, sns), sqs, urls


def _reached(sqs: Any, urls: dict[str, str]) -> set[str]:
    return {
        name
        for name, url in urls.items()
        if sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10).get("Messages")
    }


def test_a_page_reaches_the_complex_and_everyone_an_escalation_would(
    sns_and_queues: tuple[IncidentAlerts, Any, dict[str, str]],
) -> None:
    alerts, sqs, urls = sns_and_queues
    service = UnprocessedEvidence(alerts, FakeEvidenceDeadLetters(), 3)
    service.take(json.dumps(GAS), Conflict("lost"), receive_count=3, message_id="m")
    # an alarm of banwol: its manager and, at level 3, the director; not sihwa's manager, and
    # not the duty officer who hears critical only
    assert _reached(sqs, urls) == {"banwol-manager", "province-level-3"}


def test_an_unreadable_page_reaches_only_whoever_watches_every_complex(
    sns_and_queues: tuple[IncidentAlerts, Any, dict[str, str]],
) -> None:
    alerts, sqs, urls = sns_and_queues
    service = UnprocessedEvidence(alerts, FakeEvidenceDeadLetters(), 3)
    service.take("\x00 not json", InvalidInput("not JSON"), receive_count=1, message_id="m")
    assert _reached(sqs, urls) == {"province-critical", "province-level-3"}


def test_the_dead_letter_queue_keeps_the_raw_message_and_why() -> None:
    with mock_aws():
        sqs = boto3.client("sqs", "ap-northeast-2")
        url = sqs.create_queue(QueueName="evidence-dlq")["QueueUrl"]
        EvidenceDeadLetterQueue(url, sqs).keep("raw {", reason="", error="InvalidInput", paged=True)
        (message,) = sqs.receive_message(QueueUrl=url, MessageAttributeNames=["All"])["Messages"]
        assert message["Body"] == "raw {"
        attributes = {k: v["StringValue"] for k, v in message["MessageAttributes"].items()}
        assert attributes == {"reason": "-", "error": "InvalidInput", "paged": "true"}
