"""The safety-alert workflow's steps: task tokens, levels and the timeline of an incident.

The state machine names the step (``action``); :mod:`gyeonggi.safety.incident_steps` runs it
on the incident and says what the state machine does next.
"""

from __future__ import annotations

from typing import Any

from gyeonggi.common import clock
from gyeonggi.common.config import Settings
from gyeonggi.common.observability import observability
from gyeonggi.safety.incident_steps import parse_step, run_step
from gyeonggi.safety.incident_store import IncidentStore
from gyeonggi.safety.incident_workflow import IncidentWorkflow

logger, tracer, metrics = observability()


class StepSettings(Settings):
    incidents_table: str


settings = StepSettings.from_env()
store = IncidentStore(settings.incidents_table)
workflow = IncidentWorkflow()


@logger.inject_lambda_context
@tracer.capture_lambda_handler
@metrics.log_metrics
def handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    request = parse_step(event)
    logger.append_keys(incident_id=request.incident_id, action=request.action)
    result = run_step(request, store, workflow, clock.now())
    for name in result.counts:
        metrics.add_metric(name=name, unit="Count", value=1)
    return result.output
