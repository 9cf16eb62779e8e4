"""Issuance of a petition form in the local cloud (issue 11, section 4), end to end: a session
confirmed over HTTP, the ``form-issuance`` state machine executed by moto, the citizen's wallet
(the holder code, in-process) answering the presentation request the workflow made, the PDF
stored encrypted and downloaded through its presigned link, the civil servants' queue and a
decision the citizen sees; then what fails: no wallet answer, a refused presentation, a name
that does not match, a render that cannot write (recorded with its step, then redriven once
fixed)."""

from __future__ import annotations

import shutil
import subprocess
from collections.abc import Callable, Iterator
from typing import Any

import pytest

from gyeonggi.forms.issuance import IssuanceWorkflow
from gyeonggi.forms.submissions import DynamoSubmissionStore
from gyeonggi_tools.forms.redrive import redrive_queue
from gyeonggi_tools.wallet.holder import (
    HolderWallet,
    PresentationPlan,
    accept_offer,
    load_trust_anchors,
    present_request,
)
from localcloud.cloud import LocalCloud
from tests.integration.conftest import Http, messages_on, scaled_time

pytestmark = pytest.mark.integration

SEAL_TURNS = ("김하늘", "900101-1234568", "일반용이요")


@pytest.fixture(scope="module")
def wallet(cloud: LocalCloud, http: Http, tmp_path_factory: pytest.TempPathFactory) -> HolderWallet:
    """김하늘's wallet, holding the province's resident credential (enrolled at the counter)."""
    officer = cloud.mint_token("civil-servant", jurisdictions=["suwon.gg.kr"])
    enrolled = http.request(
        "POST",
        "/wallet/enrolments",
        json_body={
            "given_name": "하늘",
            "family_name": "김",
            "birthdate": "1990-01-01",
            "jurisdiction": "suwon.gg.kr",
            "address": "경기도 수원시 팔달구 효원로 1",
            "resident_since": "2015-04-01",
        },
        token=officer,
    )
    assert enrolled.status == 201, enrolled
    holder = HolderWallet.open(tmp_path_factory.mktemp("wallet") / "wallet.json")
    accept_offer(enrolled.body["credential_offer_uri"], holder, tx_code=enrolled.body["tx_code"])
    return holder


def _confirm(http: Http, token: str, turns: tuple[str, ...] = SEAL_TURNS) -> str:
    """A seal certificate said and confirmed over HTTP; the submission's id."""
    started = http.request(
        "POST",
        "/forms/sessions",
        token=token,
        json_body={"lang": "ko", "text": "인감증명서 떼러 왔어요"},
    )
    assert started.status == 201, started.body
    sid = started.body["session_id"]
    for text in (*turns, "네"):
        answer = http.request(
            "POST", f"/forms/sessions/{sid}/messages", token=token, json_body={"text": text}
        )
        assert answer.status == 200, answer.body
    assert answer.body["state"] == "confirmed", answer.body
    submission_id: str = answer.body["submission"]["submission_id"]
    assert answer.body["submission"]["links"]["self"] == f"/forms/submissions/{submission_id}"
    return submission_id


def _view_until(
    cloud: LocalCloud,
    http: Http,
    token: str,
    submission_id: str,
    until: Callable[[dict[str, Any]], bool],
    timeout: float = 30,
) -> dict[str, Any]:
    def probe() -> dict[str, Any] | None:
        answer = http.request("GET", f"/forms/submissions/{submission_id}", token=token)
        assert answer.status == 200, answer.body
        return answer.body if until(answer.body) else None

    return cloud.wait_for(probe, timeout, interval=0.1, what=f"submission {submission_id}")


def _waiting_for_wallet(body: dict[str, Any]) -> bool:
    return body["identity_request"] is not None


def _yes(plan: PresentationPlan) -> bool:
    return True


def _present(
    cloud: LocalCloud, wallet: HolderWallet, body: dict[str, Any], *, consent: bool = True
) -> Any:
    assert cloud.wallet_verifier is not None
    anchors = load_trust_anchors([cloud.wallet_verifier.ca_path])
    return present_request(
        body["identity_request"]["request_uri"],
        wallet,
        anchors=anchors,
        consent=_yes if consent else (lambda plan: False),
    )


def _download(url: str) -> bytes:
    import requests  # moto answers presigned URLs in-process through it

    answer = requests.get(url, timeout=30)
    assert answer.status_code == 200, answer.text[:300]
    assert answer.headers["Content-Type"].startswith("application/")
    return answer.content


def _text(pdf: bytes) -> str:
    pdftotext = shutil.which("pdftotext")
    if pdftotext is None:
        pytest.skip("poppler-utils is not installed")
    return subprocess.run(
        [pdftotext, "-enc", "UTF-8", "-", "-"], input=pdf, capture_output=True, check=True
    ).stdout.decode("utf-8")


@pytest.fixture
def patient(cloud: LocalCloud) -> Iterator[None]:
    # The identity check polls every 10 s, 60 times: 0.5 s a poll here, so a loaded machine's
    # wallet has half a minute to answer.
    with scaled_time(cloud, 0.05):
        yield


def test_a_confirmed_form_is_verified_by_the_wallet_rendered_queued_and_decided(
    cloud: LocalCloud, http: Http, wallet: HolderWallet, patient: None
) -> None:
    citizen = cloud.mint_token("citizen", subject="citizen-issuance-it")
    submission_id = _confirm(http, citizen)

    # The workflow asks the citizen's wallet for exactly what this form needs.
    waiting = _view_until(cloud, http, citizen, submission_id, _waiting_for_wallet)
    request = waiting["identity_request"]
    assert waiting["state"] == "awaiting_identity"
    assert request["claims"] == ["family_name", "given_name", "birthdate", "jurisdiction"]
    assert request["request_uri"].startswith("openid4vp://")
    assert request["qr_code"].startswith("data:image/png;base64,")
    sent = _present(cloud, wallet, waiting)
    assert sent.accepted, sent

    # Verified, rendered, on Suwon's queue; the citizen gets their copy, masked.
    done = _view_until(cloud, http, citizen, submission_id, lambda b: b["state"] == "submitted")
    assert done["identity"]["matched"] == ["applicant_name", "applicant_rrn"]
    assert done["identity_request"] is None and done["fields"]["applicant_rrn"] == "900101-1******"
    citizen_text = _text(_download(done["document"]["pdf"]))
    assert "900101-1******" in citizen_text and "900101-1234568" not in citizen_text
    assert "인감증명서 발급 신청" in citizen_text

    # A civil servant of Suwon lists it and reads the official copy, RRN whole.
    officer = cloud.mint_token(
        "civil-servant", subject="officer-suwon-it", jurisdictions=["suwon.gg.kr"]
    )
    listed = http.request("GET", "/forms/submissions", token=officer)
    assert listed.status == 200
    assert submission_id in [s["submission_id"] for s in listed.body["submissions"]]
    official = http.request("GET", f"/forms/submissions/{submission_id}", token=officer)
    assert official.status == 200 and official.body["jurisdiction_id"] == "suwon.gg.kr"
    assert "900101-1234568" in _text(_download(official.body["documents"]["pdf"]))
    assert b'"applicant_rrn": "900101-1234568"' in _download(official.body["documents"]["json"])

    # Another city's civil servant sees nothing of it.
    osan = cloud.mint_token("civil-servant", jurisdictions=["osan.gg.kr"])
    assert http.request("GET", f"/forms/submissions/{submission_id}", token=osan).status == 404
    listed = http.request("GET", "/forms/submissions", token=osan)
    assert submission_id not in [s["submission_id"] for s in listed.body["submissions"]]

    # Rejected with a reason, once; the citizen reads it.
    decided = http.request(
        "POST",
        f"/forms/submissions/{submission_id}/decision",
        token=officer,
        json_body={
            "decision": "rejected",
            "reason": "인감이 등록되어 있지 않습니다. 먼저 인감 신고를 해 주세요.",
        },
    )
    assert decided.status == 200 and decided.body["state"] == "rejected"
    again = http.request(
        "POST",
        f"/forms/submissions/{submission_id}/decision",
        token=officer,
        json_body={"decision": "approved"},
    )
    assert again.status == 409
    seen = http.request("GET", f"/forms/submissions/{submission_id}", token=citizen).body
    assert seen["decision"]["decision"] == "rejected" and "인감 신고" in seen["decision"]["reason"]
    assert "decided_by" not in seen["decision"]


def _failed_view(cloud: LocalCloud, http: Http, token: str, submission_id: str) -> dict[str, Any]:
    return _view_until(cloud, http, token, submission_id, lambda b: b["state"] == "failed")


def test_nobody_presenting_in_time_is_a_recorded_identity_failure(
    cloud: LocalCloud, http: Http
) -> None:
    citizen = cloud.mint_token("citizen", subject="citizen-who-walked-away")
    with scaled_time(cloud, 0.001):  # the ten minutes of polling in 0.6 s
        submission_id = _confirm(http, citizen)
        failed = _failed_view(cloud, http, citizen, submission_id)
    assert failed["failure"] == {
        "kind": "identity",
        "step": "check_identity",
        "reason": "not_presented",
    }
    assert cloud.wait_for_execution("FormIssuanceStateMachine", submission_id)["status"] == "FAILED"
    # The person's side: recorded on the submission, not on the operators' failure queue.
    assert messages_on(cloud, "FormIssuanceFailureQueue", submission_id) == []


def test_a_refused_presentation_and_a_name_that_does_not_match_are_recorded_with_why(
    cloud: LocalCloud, http: Http, wallet: HolderWallet, patient: None
) -> None:
    citizen = cloud.mint_token("citizen", subject="citizen-who-refused")
    refused = _confirm(http, citizen)
    waiting = _view_until(cloud, http, citizen, refused, _waiting_for_wallet)
    _present(cloud, wallet, waiting, consent=False)  # error=access_denied
    failed = _failed_view(cloud, http, citizen, refused)
    assert failed["failure"] == {
        "kind": "identity",
        "step": "check_identity",
        "reason": "wallet_error",
    }

    # Someone else's name on the form, 김하늘's wallet presented: never overwritten.
    other = _confirm(http, citizen, ("이영희", "900101-2234561", "일반용이요"))
    waiting = _view_until(cloud, http, citizen, other, _waiting_for_wallet)
    assert _present(cloud, wallet, waiting).accepted
    failed = _failed_view(cloud, http, citizen, other)
    assert failed["failure"] == {"kind": "identity", "step": "reconcile", "reason": "name_mismatch"}
    assert failed["fields"]["applicant_name"] == "이영희"


def test_a_render_that_cannot_write_fails_with_its_step_and_the_redrive_completes_it(
    cloud: LocalCloud, http: Http, wallet: HolderWallet, patient: None
) -> None:
    # Given: the render function writing to a bucket that is not there
    saved = cloud.set_function_environment(
        "FormRenderFunction", FORMS_BUCKET="no-such-forms-bucket"
    )
    try:
        citizen = cloud.mint_token("citizen", subject="citizen-of-a-broken-day")
        submission_id = _confirm(http, citizen)
        waiting = _view_until(cloud, http, citizen, submission_id, _waiting_for_wallet)
        assert _present(cloud, wallet, waiting).accepted
        failed = _failed_view(cloud, http, citizen, submission_id)
    finally:
        cloud.set_function_environment("FormRenderFunction", **saved)
    # Then: failed at the render, kept on the failure queue for the operators
    assert failed["failure"] == {"kind": "error", "step": "render", "reason": None}
    table = DynamoSubmissionStore(
        cloud.physical_id("FormSubmissionsTable"), dynamodb=_dynamodb(cloud)
    )
    stored = table.get(submission_id)
    assert stored.failure is not None and stored.failure.error == "NoSuchBucket"
    assert messages_on(cloud, "FormIssuanceFailureQueue", submission_id)

    # When: fixed, the redrive restarts it at the render
    workflow = IssuanceWorkflow(
        cloud.physical_id("FormIssuanceStateMachine"),
        cloud.physical_id("FormIssuanceFailureQueue"),
        sfn=cloud.client("stepfunctions"),
        sqs=cloud.client("sqs"),
    )
    results = redrive_queue(
        cloud.client("sqs"), cloud.physical_id("FormIssuanceFailureQueue"), table, workflow, _now()
    )
    mine = [r for r in results if r.submission_id == submission_id]
    assert [r.outcome for r in mine] == ["restarted"]
    assert mine[0].detail == f"{submission_id}-r1 from render"
    # Then: it completes without asking the wallet again, and is on the queue
    ended = cloud.wait_for_execution("FormIssuanceStateMachine", f"{submission_id}-r1", 30)
    assert ended["status"] == "SUCCEEDED"
    done = http.request("GET", f"/forms/submissions/{submission_id}", token=citizen).body
    assert done["state"] == "submitted" and done["document"]["pdf"]
    assert messages_on(cloud, "FormIssuanceFailureQueue", submission_id) == []


def _dynamodb(cloud: LocalCloud) -> Any:
    import boto3

    return boto3.resource("dynamodb", region_name="ap-northeast-2")


def _now() -> Any:
    from gyeonggi.common.clock import now

    return now()


def test_the_forms_bucket_is_encrypted_versioned_private_and_tls_only(cloud: LocalCloud) -> None:
    s3 = cloud.client("s3")
    bucket = cloud.physical_id("FormsBucket")
    rule = s3.get_bucket_encryption(Bucket=bucket)["ServerSideEncryptionConfiguration"]["Rules"][0]
    assert rule["ApplyServerSideEncryptionByDefault"]["SSEAlgorithm"] == "aws:kms"
    assert s3.get_bucket_versioning(Bucket=bucket)["Status"] == "Enabled"
    blocked = s3.get_public_access_block(Bucket=bucket)["PublicAccessBlockConfiguration"]
    assert all(blocked.values())
    policy = s3.get_bucket_policy(Bucket=bucket)["Policy"]
    assert "aws:SecureTransport" in policy and "aws:kms" in policy
