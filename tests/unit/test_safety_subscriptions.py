"""Incident alert subscriptions: filter policies by complex, severity and level, against moto."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import boto3
import pytest
from moto import mock_aws

from gyeonggi.common.errors import InvalidInput
from gyeonggi.safety.incident_workflow import IncidentAlerts
from gyeonggi_tools.safety.subscriptions import AlertSubscriptions, filter_policy

REGION = "ap-northeast-2"


@pytest.fixture
def topic(monkeypatch: pytest.MonkeyPatch) -> Iterator[tuple[str, Any, Any]]:
    monkeypatch.setenv("AWS_DEFAULT_REGION", REGION)
    for key in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY"):
        monkeypatch.setenv(key, "testing")
    with mock_aws():
        sns, sqs = boto3.client("sns"), boto3.client("sqs")
        yield sns.create_topic(Name="incident-alerts")["TopicArn"], sns, sqs


def _queue(sqs: Any, name: str) -> tuple[str, str]:
    url = sqs.create_queue(QueueName=name)["QueueUrl"]
    arn = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])["Attributes"]
    return url, arn["QueueArn"]


def _heard(sqs: Any, url: str) -> list[tuple[str, str, str]]:
    got = sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10).get("Messages", [])
    alerts = [json.loads(json.loads(m["Body"])["Message"]) for m in got]
    return sorted((a["complex_id"], a["severity"], str(a["level"])) for a in alerts)


def _alert(complex_id: str, severity: str, level: int) -> dict[str, Any]:
    return {"event_type": "IncidentAlert", "incident_id": f"inc-{complex_id}-{severity}-{level}",
            "complex_id": complex_id, "severity": severity, "level": level}  # fmt: skip


def test_policies_name_what_they_let_through() -> None:
    assert filter_policy() == {
        "severity": ["warning", "alarm", "critical"],
        "level": ["1", "2", "3"],
    }
    assert filter_policy(["sihwa", "banwol", "sihwa"], "alarm", 2) == {
        "severity": ["alarm", "critical"],
        "level": ["2", "3"],
        "complex_id": ["banwol", "sihwa"],
    }
    with pytest.raises(InvalidInput, match="severity"):
        filter_policy(min_severity="panic")
    with pytest.raises(InvalidInput, match="level"):
        filter_policy(min_level=4)
    with pytest.raises(InvalidInput, match="complex id"):
        filter_policy(["a b"])


def test_each_subscriber_hears_only_its_complexes_severities_and_levels(
    topic: tuple[str, Any, Any],
) -> None:
    arn, sns, sqs = topic
    manager_url, manager = _queue(sqs, "sihwa-manager")
    duty_url, duty = _queue(sqs, "duty-officer")
    subscriptions = AlertSubscriptions(arn, sns)
    subscriptions.subscribe("sqs", manager, filter_policy(["sihwa"]))
    subscriptions.subscribe("sqs", duty, filter_policy(min_severity="critical"))
    alerts = IncidentAlerts(arn, sns)
    for alert in (
        _alert("sihwa", "warning", 1),
        _alert("sihwa", "critical", 2),
        _alert("banwol", "alarm", 1),
        _alert("banwol", "critical", 3),
    ):
        alerts.publish(alert)
    assert _heard(sqs, manager_url) == [("sihwa", "critical", "2"), ("sihwa", "warning", "1")]
    assert _heard(sqs, duty_url) == [("banwol", "critical", "3"), ("sihwa", "critical", "2")]


def test_endpoints_are_checked_before_sns_is_asked(topic: tuple[str, Any, Any]) -> None:
    arn, sns, _ = topic
    subscriptions = AlertSubscriptions(arn, sns)
    with pytest.raises(InvalidInput, match="not an endpoint for sms"):
        subscriptions.subscribe("sms", "010-1234-5678", filter_policy())
    with pytest.raises(InvalidInput, match="protocol"):
        subscriptions.subscribe("pager", "x", filter_policy())
    assert sns.list_subscriptions()["Subscriptions"] == []


def test_subscribe_command(topic: tuple[str, Any, Any], capsys: pytest.CaptureFixture[str]) -> None:
    from gyeonggi_tools.cli import main

    arn, sns, _ = topic
    argv = ["safety", "subscribe", "email", "safety@sihwa.example.kr", "--complex", "sihwa",
            "--min-severity", "alarm", "--topic-arn", arn]  # fmt: skip
    assert main(argv) == 0
    printed = json.loads(capsys.readouterr().out)
    assert printed["filter_policy"]["complex_id"] == ["sihwa"]
    (sub,) = sns.list_subscriptions_by_topic(TopicArn=arn)["Subscriptions"]
    assert sub["Endpoint"] == "safety@sihwa.example.kr"
    assert main(["safety", "subscribe", "email", "not-an-address", "--topic-arn", arn]) == 2
    assert "not an endpoint for email" in capsys.readouterr().err
