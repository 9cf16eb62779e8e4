"""Where a command finds the stack's resources: a running ``gyeonggi local up`` (``--local``) or
a deployed CloudFormation stack (``--stack NAME``), whose outputs name a resource by its logical
id and ``Name``, ``Url`` or ``Arn`` (see template.yaml's Outputs)."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any


def stack_outputs(stack: str) -> dict[str, str]:
    """A deployed stack's outputs, by key."""
    import boto3

    described = boto3.client("cloudformation").describe_stacks(StackName=stack)["Stacks"][0]
    return {o["OutputKey"]: o["OutputValue"] for o in described.get("Outputs", [])}


@dataclass(frozen=True)
class WorkflowResources:
    """What a redrive needs: the clients, and a workflow's failure queue, table and machine.

    ``dynamodb`` is None in AWS, where the stores make their own resource.
    """

    sqs: Any
    sfn: Any
    dynamodb: Any | None
    queue_url: str
    table: str
    machine: str


def workflow_resources(
    local: bool, stack: str | None, state_dir: Path, *, queue: str, table: str, machine: str
) -> WorkflowResources:
    """The resources of a workflow, given the logical ids of its queue, table and machine."""
    if local:
        from localcloud.up import running_client, running_dynamodb, running_resource

        return WorkflowResources(
            sqs=running_client(state_dir, "sqs"),
            sfn=running_client(state_dir, "stepfunctions"),
            dynamodb=running_dynamodb(state_dir),
            queue_url=running_resource(state_dir, queue),
            table=running_resource(state_dir, table),
            machine=running_resource(state_dir, machine),
        )
    import boto3

    outputs = stack_outputs(str(stack))
    return WorkflowResources(
        sqs=boto3.client("sqs"),
        sfn=boto3.client("stepfunctions"),
        dynamodb=None,
        queue_url=outputs[f"{queue}Url"],
        table=outputs[f"{table}Name"],
        machine=outputs[f"{machine}Arn"],
    )
