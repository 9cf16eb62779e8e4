"""``gyeonggi forms redrive``: which submissions restart, from which step, under which name;
messages kept or deleted; the sweep of the table; the command line against a fake stack."""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import replace
from datetime import timedelta
from typing import Any

import boto3
import pytest
from moto import mock_aws

from gyeonggi.forms.submissions import Failure, FailureKind, IdentityRequest, Submission
from gyeonggi_tools.forms.redrive import (
    STALE_AFTER,
    Redriven,
    redrive_queue,
    restart,
    submission_of,
    sweep,
)
from gyeonggi_tools.forms.samples import SAMPLE_TIME, sample_submission
from tests.fakes.forms import FakeSubmissionStore, FakeWorkflow

NOW = SAMPLE_TIME + timedelta(hours=1)


def _failed(n: int, step: str, kind: FailureKind = "error", **changes: Any) -> Submission:
    base = sample_submission("seal-certificate")
    sid = f"FA-redrive{n:015d}"
    failure = Failure(step, kind, "X", "not_presented" if kind == "identity" else None, "m", NOW)
    defaults: dict[str, Any] = {
        "submission_id": sid,
        "session_id": "FS-" + sid[3:],
        "state": "failed",
        "failure": replace(failure, execution=sid),
        "execution": sid,
    }
    return replace(base, **{**defaults, **changes})


def _store(*submissions: Submission) -> FakeSubmissionStore:
    store = FakeSubmissionStore()
    for s in submissions:
        store.create(s)
    return store


def test_a_failed_render_restarts_at_the_render_as_its_first_redrive() -> None:
    submission = _failed(1, "render")
    store, workflow = _store(submission), FakeWorkflow()
    result = restart(store, workflow, submission.submission_id, NOW)
    name = f"{submission.submission_id}-r1"
    assert result == Redriven(submission.submission_id, "restarted", f"{name} from render")
    assert workflow.executions[name] == {
        "submission_id": submission.submission_id,
        "resume_from": "render",
    }
    assert store.get(submission.submission_id).redrives == 1
    # The next one (that failed again) is r2, and an old failure's name counts too.
    again = replace(store.get(submission.submission_id), execution=name)
    store.items[again.submission_id]["execution"] = name
    assert restart(store, workflow, again.submission_id, NOW).detail.startswith(
        f"{submission.submission_id}-r2"
    )


def test_a_failed_check_resumes_at_the_check_with_its_request() -> None:
    request = IdentityRequest("r" * 22, "openid4vp://?x", NOW, "E", ("family_name",))
    submission = _failed(2, "check_identity", identity_request=request)
    workflow = FakeWorkflow()
    restart(_store(submission), workflow, submission.submission_id, NOW)
    (payload,) = workflow.executions.values()
    assert payload == {
        "submission_id": submission.submission_id,
        "resume_from": "check_identity",
        "request_id": "r" * 22,
    }


def test_the_persons_failure_waits_unless_asked_and_then_asks_the_wallet_again() -> None:
    submission = _failed(3, "check_identity", "identity", expires_at=NOW + timedelta(days=30))
    store, workflow = _store(submission), FakeWorkflow()
    assert restart(store, workflow, submission.submission_id, NOW).outcome == "identity"
    assert workflow.executions == {}
    result = restart(store, workflow, submission.submission_id, NOW, include_identity=True)
    assert result.outcome == "restarted" and result.detail.endswith("from request_identity")
    assert store.get(submission.submission_id).expires_at is None  # not deleted meanwhile


def test_nothing_is_doubled_or_moved_back() -> None:
    queued = replace(sample_submission("seal-certificate"), state="submitted", queued_at=NOW)
    running = _failed(4, "render", state="rendered", failure=None, execution="FA-x")
    workflow = FakeWorkflow()
    workflow.statuses["FA-x"] = "RUNNING"
    store = _store(queued, running)
    assert restart(store, workflow, queued.submission_id, NOW).outcome == "not_failed"
    assert restart(store, workflow, running.submission_id, NOW).outcome == "running"
    workflow.statuses["FA-x"] = "SUCCEEDED"
    assert restart(store, workflow, running.submission_id, NOW).outcome == "not_failed"
    assert workflow.executions == {}


def test_a_redrive_that_stopped_before_recording_is_finished_by_the_next() -> None:
    submission = _failed(5, "queue")
    store, workflow = _store(submission), FakeWorkflow()
    name = f"{submission.submission_id}-r1"
    workflow.start(name, {"submission_id": submission.submission_id, "resume_from": "queue"})
    result = restart(store, workflow, submission.submission_id, NOW)
    assert result.detail.startswith(name) and len(workflow.executions) == 1
    assert store.get(submission.submission_id).redrives == 1


class _Queue:
    """The failure queue: messages received, and deleted by receipt handle."""

    def __init__(self, bodies: list[str]) -> None:
        self.messages = [{"Body": b, "ReceiptHandle": str(i)} for i, b in enumerate(bodies)]
        self.deleted: list[str] = []

    def receive_message(self, **kwargs: Any) -> dict[str, Any]:
        waiting = [m for m in self.messages if m["ReceiptHandle"] not in self.deleted]
        handed, self.messages = (
            waiting[: kwargs["MaxNumberOfMessages"]],
            waiting[kwargs["MaxNumberOfMessages"] :],
        )
        return {"Messages": handed}

    def delete_message(self, **kwargs: Any) -> None:
        self.deleted.append(kwargs["ReceiptHandle"])


def _message(submission_id: str, step: str = "render", kind: str = "error") -> str:
    return json.dumps(
        {
            "submission_id": submission_id,
            "step": step,
            "kind": kind,
            "error": {"Error": "NoSuchBucket", "Cause": "{}"},
            "execution": submission_id,
        }
    )


def test_queue_messages_are_deleted_once_handled_and_kept_otherwise() -> None:
    failed = _failed(6, "render")
    # The workflow could not mark this one failed: the message says where it stopped.
    unmarked = _failed(7, "render", state="identity_verified", failure=None)
    store = _store(failed, unmarked)
    queue = _Queue(
        [
            _message(failed.submission_id),
            _message(unmarked.submission_id),
            _message("FA-" + "0" * 22),  # unknown: waits for a person
            "not json",
        ]
    )
    workflow = FakeWorkflow()
    results = redrive_queue(queue, "url", store, workflow, NOW)
    assert [r.outcome for r in results] == ["restarted", "restarted", "left", "left"]
    assert sorted(queue.deleted) == ["0", "1"]
    assert workflow.executions[f"{unmarked.submission_id}-r1"]["resume_from"] == "render"


def test_a_message_names_its_submission_and_its_failure() -> None:
    sid, failure = submission_of(_message("FA-x", "check_identity", "identity"), NOW)
    assert sid == "FA-x" and failure is not None and failure.kind == "identity"
    assert submission_of(json.dumps({"submission_id": "FA-y"}), NOW) == ("FA-y", None)
    for body in ("[]", "{}", "x"):
        with pytest.raises(ValueError):
            submission_of(body, NOW)


def test_the_sweep_finds_what_the_queue_missed() -> None:
    system = _failed(8, "render")
    person = _failed(9, "check_identity", "identity")
    never = replace(
        sample_submission("seal-certificate", verified=False),
        submission_id="FA-" + "n" * 22,
        session_id="FS-" + "n" * 22,
        updated_at=NOW - STALE_AFTER,
    )
    starting = replace(
        never,
        submission_id="FA-" + "s" * 22,
        session_id="FS-" + "s" * 22,
        updated_at=NOW - timedelta(minutes=1),
    )
    store, workflow = _store(system, person, never, starting), FakeWorkflow()
    results = sweep(store, workflow, NOW, done=frozenset())
    assert {r.submission_id: r.outcome for r in results} == {
        system.submission_id: "restarted",
        never.submission_id: "restarted",
    }
    assert workflow.executions[f"{never.submission_id}-r1"]["resume_from"] == "request_identity"
    # Asked to, the person's too; and what was just handled is not handled twice.
    again = sweep(
        store,
        FakeWorkflow(),
        NOW,
        include_identity=True,
        done=frozenset({system.submission_id, never.submission_id}),
    )
    assert [r.submission_id for r in again] == [person.submission_id]


@pytest.fixture
def aws(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    for key, value in {
        "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": "testing",
        "AWS_DEFAULT_REGION": "ap-northeast-2",
    }.items():
        monkeypatch.setenv(key, value)
    with mock_aws():
        yield


def test_the_command_redrives_a_deployed_stack_by_its_outputs(
    aws: None, capsys: pytest.CaptureFixture[str]
) -> None:
    from gyeonggi.forms.submissions import DynamoSubmissionStore
    from gyeonggi_tools.cli import main
    from tests.unit.conftest import table_from_template

    dynamodb = boto3.resource("dynamodb", region_name="ap-northeast-2")
    table_from_template(dynamodb, "FormSubmissionsTable", "subs")
    sqs = boto3.client("sqs", region_name="ap-northeast-2")
    queue = sqs.create_queue(QueueName="form-failures")["QueueUrl"]
    sfn = boto3.client("stepfunctions", region_name="ap-northeast-2")
    machine = sfn.create_state_machine(
        name="form-issuance",
        definition=json.dumps({"StartAt": "S", "States": {"S": {"Type": "Succeed"}}}),
        roleArn="arn:aws:iam::123456789012:role/sfn",
    )["stateMachineArn"]
    store = DynamoSubmissionStore("subs", dynamodb=dynamodb)
    failed = _failed(10, "render")
    store.create(failed)
    sqs.send_message(QueueUrl=queue, MessageBody=_message(failed.submission_id))
    outputs = {
        "FormIssuanceFailureQueueUrl": queue,
        "FormSubmissionsTableName": "subs",
        "FormIssuanceStateMachineArn": machine,
    }
    cfn = boto3.client("cloudformation", region_name="ap-northeast-2")
    cfn.create_stack(
        StackName="gg",
        TemplateBody=json.dumps(
            {
                "Resources": {"Q": {"Type": "AWS::SQS::Queue"}},
                "Outputs": {k: {"Value": v} for k, v in outputs.items()},
            }
        ),
    )
    assert main(["forms", "redrive", "--stack", "gg"]) == 0
    lines = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    assert lines == [
        {
            "submission_id": failed.submission_id,
            "outcome": "restarted",
            "detail": f"{failed.submission_id}-r1 from render",
        }
    ]
    assert (
        sqs.get_queue_attributes(QueueUrl=queue, AttributeNames=["ApproximateNumberOfMessages"])[
            "Attributes"
        ]["ApproximateNumberOfMessages"]
        == "0"
    )
    assert main(["forms", "redrive", "--stack", "gg", "--submission", "FA-" + "0" * 22]) == 1
