"""The triage chain on LocalStack, with the model the triage function's package ships.

ComplaintReceived on SNS -> TriageQueue (filter policy) -> starter function -> triage state
machine -> classification (the packaged model), case, routing record on the complaint.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from gyeonggi.complaints.intake import IntakeQueue, parse_submission
from localcloud.cloud import wait_for
from tests.localstack.conftest import wait_for_execution

pytestmark = pytest.mark.localstack


def test_a_complaint_is_classified_with_the_packaged_model_and_routed(
    stack: dict[str, Any], aws: Callable[[str], Any]
) -> None:
    # Given a complaint about a dark street, filed under the wrong service
    submission = parse_submission(
        {
            "jurisdiction_id": "suwon.gg.kr",
            "service_code": "streetlight",
            "description": "우리 골목 가로등이 일주일째 꺼져 있어요 밤에 넘 어두워요",
            "lat": 37.2636,
            "long": 127.0286,
        }
    )
    message = IntakeQueue(stack["resources"]["IntakeQueue"], sqs=aws("sqs")).submit(
        submission, channel="api"
    )
    rid = message.service_request_id

    # When intake and then triage have run
    intake = wait_for_execution(aws, stack, "ComplaintIntakeStateMachine", rid)
    assert intake["status"] == "SUCCEEDED", intake.get("cause")
    triage = wait_for_execution(aws, stack, "ComplaintTriageStateMachine", rid, timeout=180)

    # Then the complaint carries the department, urgency and the model's version
    assert triage["status"] == "SUCCEEDED", triage.get("cause")

    def routed() -> dict[str, Any] | None:
        item = (
            aws("dynamodb")
            .get_item(
                TableName=stack["resources"]["ComplaintsTable"],
                Key={"service_request_id": {"S": rid}},
                ConsistentRead=True,
            )
            .get("Item")
        )
        return item if item and "department" in item else None

    item = wait_for(routed, 30, interval=1, what="the routing record")
    assert item["department"] == {"S": "road-management"}
    classification = item["classification"]["M"]
    assert classification["service_code"] == {"S": "streetlight"}
    assert classification["model_version"]["S"].startswith("cc1-")
    assert item["case_id"]["S"].startswith("CASE-")
