"""The triage workflow's task: classify a complaint, find its case, decide where it goes.

The model ships inside this function's package (``model/model.json``, written by
``gyeonggi complaints train``), so a deployment carries the model its code was tested with and
no step after ``sam deploy`` has to upload it. It is loaded once per execution environment, on
the first invocation, with the standard-library runtime: no numpy or scikit-learn here.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from gyeonggi.common.aws import DynamoTable
from gyeonggi.common.config import Settings
from gyeonggi.common.observability import observability
from gyeonggi.complaints.classifier.model import ComplaintClassifier
from gyeonggi.complaints.counts import korean_day, record_count
from gyeonggi.complaints.triage import (
    CaseStore,
    ComplaintFacts,
    routed_event,
    routing_record,
    triage,
)

logger, tracer, metrics = observability()


class TriageSettings(Settings):
    cases_table: str
    complaint_counts_table: str


MODEL_FILE = Path(__file__).parent / "model" / "model.json"


class _Model:
    """The packaged classifier, read on first use and kept for the environment's life."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._classifier: ComplaintClassifier | None = None

    def get(self) -> ComplaintClassifier:
        if self._classifier is None:
            self._classifier = ComplaintClassifier.load(self.path)
            logger.info("model loaded", extra={"model_version": self._classifier.version})
        return self._classifier


settings = TriageSettings.from_env()
cases = CaseStore(settings.cases_table)
model = _Model(MODEL_FILE)
counts = DynamoTable(settings.complaint_counts_table)


@logger.inject_lambda_context
@tracer.capture_lambda_handler
@metrics.log_metrics
def handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    complaint = ComplaintFacts.from_event(event)
    logger.append_keys(service_request_id=complaint.service_request_id)
    recent = cases.recent(
        complaint.jurisdiction_id, complaint.service_code, complaint.requested_datetime
    )
    result = triage(complaint, model.get().classify(complaint.description), recent)
    cases.save(result)
    # The daily count the forecasts and surge alerts read; a retried triage counts once.
    record_count(
        counts.table,
        complaint.jurisdiction_id,
        complaint.service_code,
        korean_day(complaint.requested_datetime),
        request_id=complaint.service_request_id,
    )
    metrics.add_metric(name="ComplaintsTriaged", unit="Count", value=1)
    if result.flagged:
        metrics.add_metric(name="ServiceCodeDisagreements", unit="Count", value=1)
    logger.info(
        "triaged",
        extra={
            "urgency": result.urgency,
            "case_id": result.case.case_id,
            "flagged": result.flagged,
        },
    )
    return {
        "service_request_id": complaint.service_request_id,
        "department": result.department,
        "urgency": result.urgency,
        "record": routing_record(result),
        "event": routed_event(result, complaint),
    }
