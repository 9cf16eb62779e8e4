"""The ``form-issuance`` workflow's steps and failures (the domain, with fakes), and its two
task functions with their sample events on moto: the identity request through the wallet
verifier's domain, the reconciliation, the queue, a failure recorded with its step and kind,
and where a redrive resumes."""

from __future__ import annotations

import importlib
import json
import os
from collections.abc import Iterator
from dataclasses import replace
from datetime import timedelta
from pathlib import Path
from types import ModuleType
from typing import Any

import boto3
import pytest
from moto import mock_aws

from gyeonggi.common.errors import InvalidInput
from gyeonggi.forms.catalogue import catalogue
from gyeonggi.forms.identity import IdentityMismatch
from gyeonggi.forms.issuance import failure_of, record_failure, resume_point
from gyeonggi.forms.issuance_steps import (
    CREATED_BY,
    IssuanceSteps,
    StepNotApplicable,
    parse_step,
    queue_submission,
    reconcile_identity,
    request_identity,
)
from gyeonggi.forms.rendering import document_keys
from gyeonggi.forms.submissions import (
    IDENTITY_FAILURE_RETENTION,
    DynamoSubmissionStore,
    Failure,
    Submission,
)
from gyeonggi.wallet.dcql import parse_dcql
from gyeonggi.wallet.presentation_requests import is_request_id
from gyeonggi.wallet.request_objects import RequestObjectSigner
from gyeonggi.wallet.verifier_service import Verifier
from gyeonggi_tools.forms.samples import SAMPLE_TIME, applicant_claims, sample_submission
from tests.conftest import load_event
from tests.fakes.forms import FakeSubmissionStore
from tests.fakes.wallet_verifier import FakePresentationRequests, StaticChain, verifier_identity
from tests.unit.conftest import LambdaContext, table_from_template

NOW = SAMPLE_TIME
ISSUER = "https://wallet.gg.example"
BASE = "https://api.gg.example/dev"


def _unused(*args: Any) -> Any:
    raise AssertionError("the issuance steps verify nothing")


@pytest.fixture
def verifier() -> tuple[Verifier, FakePresentationRequests]:
    identity = verifier_identity(NOW)
    requests = FakePresentationRequests()
    signer = RequestObjectSigner(identity.signer, StaticChain(identity.leaf_pem))
    return Verifier(requests, signer, _unused, _unused), requests


def _stored(form_id: str = "seal-certificate", **changes: Any) -> FakeSubmissionStore:
    store = FakeSubmissionStore()
    store.create(replace(sample_submission(form_id, verified=False), **changes))
    return store


def _id(form_id: str = "seal-certificate") -> str:
    return sample_submission(form_id, verified=False).submission_id


def _identity_output(form_id: str = "seal-certificate", **claims: Any) -> dict[str, Any]:
    return {
        "status": "verified",
        "verified_at": "2026-12-07T01:31:12+00:00",
        "credentials": {
            "resident": [
                {
                    "issuer": ISSUER,
                    "vct": f"{ISSUER}/credentials/gyeonggi-resident",
                    "claims": {**applicant_claims(form_id), **claims},
                }
            ]
        },
    }


# ------------------------------------------------------------------ the identity request


def test_the_request_asks_for_what_the_form_needs_and_the_submission_shows_it(
    verifier: tuple[Verifier, FakePresentationRequests],
) -> None:
    service, requests = verifier
    store = _stored()
    out = request_identity(
        store,
        service,
        catalogue(),
        _id(),
        execution="E1",
        issuers=(ISSUER,),
        base_url=BASE,
        now=NOW,
    )
    assert is_request_id(out["request_id"])
    request = requests.get(out["request_id"])
    assert (
        request.created_by == CREATED_BY
        and request.purpose == "인감증명서 발급 신청 신청 본인 확인"
    )
    assert request.request_uri == f"{BASE}/verifier/request-objects/{out['request_id']}"
    (query,) = parse_dcql(request.dcql_query).credentials
    assert [c.path for c in query.claims or ()] == [
        ("family_name",),
        ("given_name",),
        ("birthdate",),
        ("jurisdiction",),
    ]
    submission = store.get(_id())
    assert submission.state == "awaiting_identity" and submission.execution == "E1"
    assert submission.identity_request is not None
    assert submission.identity_request.request_uri.startswith("openid4vp://?client_id=x509_hash")
    assert submission.identity_request.claims == (
        "family_name",
        "given_name",
        "birthdate",
        "jurisdiction",
    )


def test_a_retried_request_step_reuses_its_request_and_a_redrive_makes_a_new_one(
    verifier: tuple[Verifier, FakePresentationRequests],
) -> None:
    service, requests = verifier
    store = _stored()

    def ask(execution: str) -> str:
        out = request_identity(
            store,
            service,
            catalogue(),
            _id(),
            execution=execution,
            issuers=(ISSUER,),
            base_url=BASE,
            now=NOW,
        )
        return str(out["request_id"])

    first = ask("E1")
    assert ask("E1") == first and len(requests.items) == 1
    with pytest.raises(StepNotApplicable):  # another execution while one waits
        ask("E2")
    failed = store.get(_id()).moved(
        "failed", NOW, failure=Failure("check_identity", "identity", "X", "not_presented", "", NOW)
    )
    store.save(failed)
    assert ask("E1-r1") != first and len(requests.items) == 2


# ------------------------------------------------------------------ reconciliation


def test_the_claims_verify_the_form_and_route_it() -> None:
    store = _stored(state="awaiting_identity")
    out = reconcile_identity(store, catalogue(), _id(), _identity_output(), now=NOW)
    assert out == {"submission_id": _id()}
    submission = store.get(_id())
    assert submission.state == "identity_verified" and submission.jurisdiction_id == "suwon.gg.kr"
    assert submission.identity is not None
    assert submission.identity.matched == ("applicant_name", "applicant_rrn")
    assert submission.identity.issuer == ISSUER
    # The step again (its answer was lost): nothing changes.
    version = store.get(_id()).version
    reconcile_identity(store, catalogue(), _id(), _identity_output(), now=NOW)
    assert store.get(_id()).version == version


def test_a_mismatch_writes_nothing_and_says_why() -> None:
    store = _stored(state="awaiting_identity")
    with pytest.raises(IdentityMismatch) as caught:
        reconcile_identity(
            store, catalogue(), _id(), _identity_output(birthdate="1991-01-01"), now=NOW
        )
    assert caught.value.reason == "birthdate_mismatch"
    assert store.get(_id()).state == "awaiting_identity"
    with pytest.raises(IdentityMismatch):
        reconcile_identity(store, catalogue(), _id(), {"credentials": {}}, now=NOW)


def test_a_submission_not_waiting_for_its_identity_is_not_reconciled() -> None:
    store = _stored(state="received")
    with pytest.raises(StepNotApplicable):
        reconcile_identity(store, catalogue(), _id(), _identity_output(), now=NOW)


# ------------------------------------------------------------------ the queue


def test_the_queue_takes_a_rendered_form_once() -> None:
    rendered = sample_submission("seal-certificate")
    store = FakeSubmissionStore()
    store.create(replace(rendered, state="rendered", documents=document_keys(rendered)))
    queue_submission(store, rendered.submission_id, now=NOW)
    queued = store.get(rendered.submission_id)
    assert queued.state == "submitted" and queued.queue == "suwon.gg.kr#submitted"
    assert queued.queued_at == NOW
    queue_submission(store, rendered.submission_id, now=NOW + timedelta(minutes=1))
    assert store.get(rendered.submission_id).queued_at == NOW
    unrendered = _stored(state="identity_verified")
    with pytest.raises(StepNotApplicable):
        queue_submission(unrendered, _id(), now=NOW)


# ------------------------------------------------------------------ failures


def _failure(step: str, kind: str, name: str, message: str) -> dict[str, Any]:
    cause = json.dumps({"errorMessage": message, "errorType": name, "stackTrace": []})
    return {
        "submission_id": _id(),
        "step": step,
        "kind": kind,
        "error": {"Error": name, "Cause": cause},
        "execution": "E1",
    }


@pytest.mark.parametrize(
    ("name", "message", "reason"),
    [
        (
            "IdentityCheckExpired",
            json.dumps({"request_id": "r", "message": "late"}),
            "not_presented",
        ),
        (
            "IdentityCheckPending",
            json.dumps({"request_id": "r", "message": "late"}),
            "not_presented",
        ),
        (
            "IdentityCheckFailed",
            json.dumps({"request_id": "r", "message": "no", "reason": "revoked"}),
            "revoked",
        ),
        (
            "IdentityCheckNotFound",
            json.dumps({"request_id": "r", "message": "?"}),
            "request_unknown",
        ),
        (
            "IdentityMismatch",
            json.dumps({"reason": "name_mismatch", "field": "applicant_name", "message": "x"}),
            "name_mismatch",
        ),
    ],
)
def test_an_identity_failure_is_recorded_with_its_reason_and_expires(
    name: str, message: str, reason: str
) -> None:
    store = _stored(state="awaiting_identity")
    failed = record_failure(store, _failure("check_identity", "identity", name, message), NOW)
    assert failed.state == "failed" and failed.failure is not None
    assert (failed.failure.kind, failed.failure.reason, failed.failure.error) == (
        "identity",
        reason,
        name,
    )
    assert failed.expires_at == NOW + IDENTITY_FAILURE_RETENTION
    assert resume_point(failed.failure) == "request_identity"


def test_a_system_failure_keeps_its_step_masks_rrns_and_never_expires() -> None:
    store = _stored(state="identity_verified")
    failed = record_failure(
        store,
        _failure("render", "error", "NoSuchBucket", "bucket gone while writing 900101-1234568"),
        NOW,
    )
    assert failed.failure is not None and failed.failure.reason is None
    assert failed.failure.message == "bucket gone while writing 900101-1******"
    assert failed.expires_at is None and failed.execution == "E1"
    assert resume_point(failed.failure) == "render"


def test_a_failure_after_the_form_was_queued_changes_nothing() -> None:
    store = _stored(state="submitted", jurisdiction_id="suwon.gg.kr", queued_at=NOW)
    kept = record_failure(store, _failure("queue", "error", "X", "late retry"), NOW)
    assert kept.state == "submitted" and kept.failure is None


@pytest.mark.parametrize(
    ("step", "kind", "resume"),
    [
        ("start", "error", "request_identity"),
        ("request_identity", "error", "request_identity"),
        ("check_identity", "error", "check_identity"),
        ("check_identity", "identity", "request_identity"),
        ("reconcile", "error", "check_identity"),
        ("reconcile", "identity", "request_identity"),
        ("render", "error", "render"),
        ("queue", "error", "queue"),
    ],
)
def test_a_redrive_resumes_where_it_can(step: str, kind: str, resume: str) -> None:
    failure = failure_of(_failure(step, kind, "X", "m"), NOW)
    assert resume_point(failure) == resume


@pytest.mark.parametrize(
    "data",
    [
        {"step": "nowhere", "kind": "error", "error": {}},
        {"step": "render", "kind": "other", "error": {}},
        {"step": "render", "kind": "error", "error": "x"},
    ],
)
def test_a_failure_that_is_not_the_workflows_is_refused(data: dict[str, Any]) -> None:
    with pytest.raises(InvalidInput):
        failure_of(data, NOW)


@pytest.mark.parametrize(
    "event",
    [
        None,
        {},
        {"step": "render", "submission_id": "x"},
        {"step": "queue"},
        {"step": "reconcile", "submission_id": "x"},
        {"step": "record_failure", "failure": {}},
    ],
)
def test_a_task_payload_that_is_not_the_workflows_is_refused(event: Any) -> None:
    with pytest.raises(InvalidInput):
        parse_step(event)


def test_the_steps_service_builds_the_requester_only_for_the_identity_request(
    verifier: tuple[Verifier, FakePresentationRequests],
) -> None:
    made: list[int] = []

    def requester() -> Verifier:
        made.append(1)
        return verifier[0]

    store = _stored(state="awaiting_identity")
    steps = IssuanceSteps(store, catalogue(), requester, issuers=(ISSUER,), base_url=BASE)
    steps.run(
        parse_step({"step": "reconcile", "submission_id": _id(), "identity": _identity_output()}),
        NOW,
    )
    assert made == []


# ------------------------------------------------------------------ the two task functions


@pytest.fixture(scope="module")
def functions(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, Any]]:
    """Both task functions over moto: the submissions table and the verifier's requests
    table from template.yaml, a verifier key certified as the local cloud certifies it."""
    from localcloud.wallet_verifier import provision

    saved = dict(os.environ)
    os.environ.update(
        {
            "AWS_ACCESS_KEY_ID": "testing",
            "AWS_SECRET_ACCESS_KEY": "testing",
            "AWS_SESSION_TOKEN": "testing",
            "AWS_DEFAULT_REGION": "ap-northeast-2",
            "POWERTOOLS_TRACE_DISABLED": "true",
            "POWERTOOLS_METRICS_NAMESPACE": "Test",
            "FORM_SUBMISSIONS_TABLE": "form-submissions",
            "PRESENTATION_REQUESTS_TABLE": "presentation-requests",
            "VERIFIER_CERTIFICATE_PARAMETER": "/gyeonggi/wallet/verifier-certificate-chain",
            "WALLET_TRUSTED_ISSUERS": ISSUER,
            "VERIFIER_BASE_URL": BASE + "/",
            "FORMS_BUCKET": "forms-bucket",
        }
    )
    try:
        with mock_aws():
            dynamodb = boto3.resource("dynamodb", region_name="ap-northeast-2")
            table_from_template(dynamodb, "FormSubmissionsTable", "form-submissions")
            table_from_template(dynamodb, "PresentationRequestsTable", "presentation-requests")
            kms = boto3.client("kms", region_name="ap-northeast-2")
            key = kms.create_key(KeySpec="ECC_NIST_P256", KeyUsage="SIGN_VERIFY")["KeyMetadata"]
            data_key = kms.create_key()["KeyMetadata"]["Arn"]
            ssm = boto3.client("ssm", region_name="ap-northeast-2")
            provision(
                kms,
                ssm,
                key["KeyId"],
                os.environ["VERIFIER_CERTIFICATE_PARAMETER"],
                tmp_path_factory.mktemp("verifier"),
            )
            s3 = boto3.client("s3", region_name="ap-northeast-2")
            s3.create_bucket(
                Bucket="forms-bucket",
                CreateBucketConfiguration={"LocationConstraint": "ap-northeast-2"},
            )
            os.environ["VERIFIER_KEY_ID"] = key["KeyId"]
            os.environ["FORMS_KMS_KEY_ID"] = data_key
            os.environ["POWERTOOLS_SERVICE_NAME"] = "unit-test-form-issuance"
            yield {
                "steps": importlib.import_module("functions.form_issuance_steps.app"),
                "render": importlib.import_module("functions.form_render.app"),
                "store": DynamoSubmissionStore("form-submissions", dynamodb=dynamodb),
                "dynamodb": dynamodb,
                "s3": s3,
            }
    finally:
        os.environ.clear()
        os.environ.update(saved)


def _invoke(module: ModuleType, event: Any) -> Any:
    return module.handler(event, LambdaContext())


def test_the_sample_events_run_the_workflow_steps_on_moto(functions: dict[str, Any]) -> None:
    store, steps, render = functions["store"], functions["steps"], functions["render"]
    submission: Submission = sample_submission("seal-certificate", verified=False)
    store.create(submission)
    # The identity request: a request the verifier serves, its URI on the submission.
    out = _invoke(steps, load_event("form_issuance_steps/request_identity.json"))
    request = (
        functions["dynamodb"]
        .Table("presentation-requests")
        .get_item(Key={"request_id": out["request_id"]})["Item"]
    )
    assert request["created_by"] == CREATED_BY
    assert request["request_uri"].startswith(BASE + "/verifier/request-objects/")
    assert store.get(submission.submission_id).state == "awaiting_identity"
    # The claims as the identity check hands them over.
    assert _invoke(steps, load_event("form_issuance_steps/reconcile.json")) == {
        "submission_id": submission.submission_id
    }
    # Rendered into the bucket, encrypted with the key named.
    rendered = _invoke(render, load_event("form_render/render.json"))
    assert rendered["submission_id"] == submission.submission_id
    documents = store.get(submission.submission_id).documents
    assert documents is not None
    head = functions["s3"].head_object(Bucket="forms-bucket", Key=documents.official_pdf)
    assert head["ServerSideEncryption"] == "aws:kms" and head["ContentType"] == "application/pdf"
    assert head["SSEKMSKeyId"] == os.environ["FORMS_KMS_KEY_ID"]
    # On the queue.
    _invoke(steps, load_event("form_issuance_steps/queue.json"))
    assert store.get(submission.submission_id).state == "submitted"


def test_the_sample_failures_are_recorded(functions: dict[str, Any]) -> None:
    store, steps = functions["store"], functions["steps"]
    submission = replace(
        sample_submission("seal-certificate", verified=False),
        submission_id="FA-" + "f" * 22,
        session_id="FS-" + "f" * 22,
        state="awaiting_identity",
    )
    store.create(submission)

    def failed(event: dict[str, Any]) -> Any:
        event["failure"]["submission_id"] = submission.submission_id
        return _invoke(steps, event)

    assert failed(load_event("form_issuance_steps/identity_not_presented.json")) == {
        "submission_id": submission.submission_id,
        "state": "failed",
    }
    failure = store.get(submission.submission_id).failure
    assert failure is not None and (failure.kind, failure.reason) == ("identity", "not_presented")
    failed(load_event("form_issuance_steps/record_failure.json"))
    failure = store.get(submission.submission_id).failure
    assert failure is not None and (failure.step, failure.error) == ("render", "NoSuchBucket")


def test_the_steps_function_raises_the_typed_errors_the_workflow_catches(
    functions: dict[str, Any],
) -> None:
    store, steps = functions["store"], functions["steps"]
    submission = replace(
        sample_submission("seal-certificate", verified=False),
        submission_id="FA-" + "m" * 22,
        session_id="FS-" + "m" * 22,
        state="awaiting_identity",
    )
    store.create(submission)
    event = load_event("form_issuance_steps/reconcile.json")
    event["submission_id"] = submission.submission_id
    event["identity"]["credentials"]["resident"][0]["claims"]["given_name"] = "하나"
    with pytest.raises(IdentityMismatch):
        _invoke(steps, event)
    with pytest.raises(InvalidInput):
        _invoke(steps, {"step": "nothing"})


def test_the_render_function_ships_its_font(functions: dict[str, Any]) -> None:
    render = functions["render"]
    assert Path(render.FONT).is_file() and (Path(render.FONT).parent / "OFL.txt").is_file()
    with pytest.raises(InvalidInput):
        _invoke(render, {})
