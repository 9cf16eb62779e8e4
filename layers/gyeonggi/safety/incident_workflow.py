"""The incident's messengers: the ``safety-alert`` state machine and the alerts topic.

:class:`IncidentWorkflow` starts an incident's execution and answers its task tokens;
:class:`IncidentAlerts` publishes alerts with the attributes subscriptions filter on
(``complex_id``, ``severity``, ``level``; see :mod:`gyeonggi_tools.safety.subscriptions`).
"""

from __future__ import annotations

import json
from typing import Any

from gyeonggi.common.aws import AwsClient
from gyeonggi.safety.incident_rules import Incident
from gyeonggi.safety.incident_view import alert_of


class IncidentWorkflow:
    """Starts ``safety-alert`` executions and answers their task tokens."""

    sfn = AwsClient("stepfunctions")

    def __init__(self, state_machine_arn: str = "", sfn: Any | None = None) -> None:
        self.state_machine_arn = state_machine_arn
        if sfn is not None:
            self.sfn = sfn

    def start(self, incident: Incident, name: str | None = None) -> str:
        """Start the incident's execution (named after it, or ``name``); a repeat finds the
        same one."""
        name = name or incident.incident_id
        payload = json.dumps({"incident_id": incident.incident_id, "alert": alert_of(incident)})
        try:
            answer = self.sfn.start_execution(
                stateMachineArn=self.state_machine_arn, name=name, input=payload
            )
            return str(answer["executionArn"])
        except self.sfn.exceptions.ExecutionAlreadyExists:
            prefix = self.state_machine_arn.replace(":stateMachine:", ":execution:")
            return f"{prefix}:{name}"

    def answer(self, token: str, outcome: str, **details: Any) -> bool:
        """Complete a waiting task; ``False`` when the wait is over (timed out or done)."""
        try:
            self.sfn.send_task_success(
                taskToken=token, output=json.dumps({"outcome": outcome, **details})
            )
        except (
            self.sfn.exceptions.TaskTimedOut,
            self.sfn.exceptions.InvalidToken,
            self.sfn.exceptions.TaskDoesNotExist,
        ):
            return False
        return True


class IncidentAlerts:
    """Publishes alerts to the incident alerts topic, with attributes to filter on."""

    sns = AwsClient("sns")

    def __init__(self, topic_arn: str, sns: Any | None = None) -> None:
        self.topic_arn = topic_arn
        if sns is not None:
            self.sns = sns

    def publish(self, alert: dict[str, Any]) -> None:
        """Publish ``alert`` with its filter attributes; one it has no value for is left out
        (a subscription filtering on it then does not match: a page of unknown complex
        reaches the subscriptions for every complex only)."""
        self.sns.publish(
            TopicArn=self.topic_arn,
            Message=json.dumps(alert, ensure_ascii=False),
            MessageAttributes={
                name: {"DataType": "String", "StringValue": str(alert[name])}
                for name in ("event_type", "complex_id", "severity", "level")
                if alert.get(name) is not None
            },
        )
