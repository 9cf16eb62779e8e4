"""The rendering step: the completed form as PDF and JSON, stored encrypted (issue 11, 4).

``FormRenderFunction`` runs :func:`render_submission` for the ``form-issuance`` workflow: the
civil servant's PDF and JSON (RRNs in full) and the citizen's PDF (RRNs masked), see
:mod:`gyeonggi.forms.documents`, written to the forms bucket with SSE-KMS under the stack's
``DataKey``. Keys are fixed per submission, so a retried step overwrites the same objects
(the bucket is versioned: nothing is lost if it differs).

The objects are written through :class:`gyeonggi.forms.document_store.S3Documents`, which the
submissions API also uses for its short-lived presigned links.
"""

from __future__ import annotations

import json
from datetime import datetime
from pathlib import Path
from typing import Protocol

from gyeonggi.forms.catalogue import Catalogue
from gyeonggi.forms.documents import form_document, json_document
from gyeonggi.forms.issuance_steps import StepNotApplicable
from gyeonggi.forms.pdf import render_pdf
from gyeonggi.forms.submissions import Documents, Submission, SubmissionStore, update

PDF = "application/pdf"
JSON = "application/json; charset=utf-8"


class DocumentStore(Protocol):
    """Where rendered forms are kept (S3 in AWS; a dictionary in tests)."""

    def put(self, key: str, body: bytes, content_type: str) -> None:
        """Store ``body`` under ``key``, encrypted."""
        ...


def document_keys(submission: Submission) -> Documents:
    """Where a submission's documents go: one prefix per reader, for the bucket's lifecycle
    (the citizen's copy expires sooner) and for IAM (nothing reads ``citizen/`` but links)."""
    base = f"{submission.submission_id}/{submission.form_id}"
    return Documents(
        official_pdf=f"official/{base}.pdf",
        official_json=f"official/{base}.json",
        citizen_pdf=f"citizen/{base}.pdf",
        rendered_at=submission.updated_at,
    )


def render_submission(
    store: SubmissionStore,
    documents: DocumentStore,
    catalogue: Catalogue,
    submission_id: str,
    *,
    font: Path,
    now: datetime,
) -> Documents:
    """Render and store a verified submission's documents; the submission becomes
    ``rendered``.

    Raises
    ------
    StepNotApplicable
        Its identity is not verified, or it is already queued or decided.
    FontUnavailable
        The font is missing from the package.
    """
    submission = store.get(submission_id)
    _applies(submission)
    form = catalogue[submission.form_id]
    keys = document_keys(submission)
    official = render_pdf(form_document(form, submission, "official"), font)
    citizen = render_pdf(form_document(form, submission, "citizen"), font)
    data = json.dumps(json_document(form, submission), ensure_ascii=False, indent=2)
    documents.put(keys.official_pdf, official, PDF)
    documents.put(keys.official_json, data.encode("utf-8"), JSON)
    documents.put(keys.citizen_pdf, citizen, PDF)
    stored = Documents(keys.official_pdf, keys.official_json, keys.citizen_pdf, now)

    def change(latest: Submission) -> Submission:
        _applies(latest)
        return latest.moved("rendered", now, documents=stored, expires_at=None)

    update(store, submission_id, change)
    return stored


def _applies(submission: Submission) -> None:
    if submission.identity is None or submission.jurisdiction_id is None:
        raise StepNotApplicable(f"submission {submission.submission_id} is not verified yet")
    if submission.state not in ("identity_verified", "rendered", "failed"):
        raise StepNotApplicable(
            f"submission {submission.submission_id} is {submission.state}: render does not apply"
        )
