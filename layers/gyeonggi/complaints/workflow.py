"""Starting the complaint-intake state machine, exactly once per request id."""

from __future__ import annotations

import json
from typing import Any

from gyeonggi.common.aws import AwsClient
from gyeonggi.complaints.models import IntakeMessage, to_item


class IntakeWorkflow:
    """The ``complaint-intake`` Step Functions state machine."""

    sfn = AwsClient("stepfunctions")

    def __init__(self, state_machine_arn: str, sfn: Any | None = None) -> None:
        self.state_machine_arn = state_machine_arn
        if sfn is not None:
            self.sfn = sfn

    def start(self, message: IntakeMessage) -> str:
        """Start the execution named after the request id and return its ARN.

        This is what makes a redelivered message harmless. A Standard state machine starts a
        name once: a second start while that execution runs, with the same input, returns it;
        after it has finished (for 90 days) or with other input, the call fails with
        ``ExecutionAlreadyExists``, taken here as done, so the message is not retried.
        """
        try:
            response = self.sfn.start_execution(
                stateMachineArn=self.state_machine_arn,
                name=message.service_request_id,
                input=json.dumps(to_item(message), ensure_ascii=False),
            )
        except self.sfn.exceptions.ExecutionAlreadyExists:
            return self.execution_arn(message.service_request_id)
        return str(response["executionArn"])

    def execution_arn(self, name: str) -> str:
        """The ARN an execution of this state machine with ``name`` has."""
        prefix = self.state_machine_arn.replace(":stateMachine:", ":execution:", 1)
        return f"{prefix}:{name}"
