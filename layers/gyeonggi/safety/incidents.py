"""Safety incidents: evidence from sensors and cameras, correlated per industrial complex.

The pure part (no AWS, no clock) is :func:`parse_evidence`, :func:`decide` and
:func:`apply_evidence`; :class:`IncidentStore` keeps incidents in DynamoDB and
:class:`IncidentWorkflow` talks to the ``safety-alert`` state machine.

Rules
-----
- Evidence of a complex joins that complex's open incident when its timestamp is within
  ``CORRELATION_WINDOW`` (10 min) of the incident's latest evidence; otherwise it opens a new
  incident. A fire seldom announces itself by one detector only, so 10 min covers the gas
  sensor, the heat detector and the camera of one event without merging separate events.
- Evidence is a duplicate -- ignored -- when the same source id already reported the same
  kind at the same ``ts`` (an SQS redelivery or a device re-publishing).
- Severity is the highest severity of the incident's evidence and never goes down while the
  incident is open (an operator must not see "warning" after "alarm" for the same hazard).
  A gas alarm (sensor, ``alarm`` or above) plus a camera's smoke or fire in the same complex
  raises it to ``critical``: two independent channels agree on a real release and fire.
- ``cleared`` evidence clears its source; when every source that reported is cleared the
  incident is all-clear and the workflow closes it. A clear never opens an incident: it joins
  the open incident its source belongs to, however long the hazard lasted, and is otherwise
  ignored (a sensor back to normal after an operator closed the incident pages nobody).
- An operator's acknowledgement or all-clear is written on the incident before its task token
  is answered (:func:`answer`). A wait that timed out meanwhile no longer takes the token, so
  the workflow's next step reads the answer from the incident instead: an answer is never lost
  to an escalation. Once the workflow has ended unacknowledged, an acknowledgement is only
  recorded and an all-clear closes the incident here.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime, timedelta
from typing import Any, Literal

from gyeonggi.common.aws import AwsClient, DynamoTable, from_dynamo, to_dynamo
from gyeonggi.common.errors import Conflict, InvalidInput, NotFound

CORRELATION_WINDOW = timedelta(minutes=10)
SEVERITIES = ("warning", "alarm", "critical")
SEVERITY_RANK = {name: rank for rank, name in enumerate(SEVERITIES)}
SOURCES = {"sensor": "sensor_id", "camera": "camera_id"}
CAMERA_HAZARDS = frozenset({"smoke", "fire"})
# States of an incident's workflow, as the API shows them.
State = Literal[
    "notifying", "awaiting_ack", "escalating", "acknowledged", "unacknowledged", "closed"
]
OPEN_STATUS = "open"
CLOSED_STATUS = "closed"
# Items that point at a complex's open incident share the table; their key is prefixed.
_POINTER = "complex#"


@dataclass(frozen=True, slots=True)
class Evidence:
    """One sensor alarm or camera detection from the evidence queue."""

    source: str
    complex_id: str
    source_id: str
    kind: str
    severity: str
    ts: datetime
    gas: str | None = None
    value: float | None = None
    limit: float | None = None
    detail: Any = None

    @property
    def source_key(self) -> str:
        """``sensor:<id>`` or ``camera:<id>``: one source whatever its kinds."""
        return f"{self.source}:{self.source_id}"

    @property
    def dedupe_key(self) -> str:
        return f"{self.source_key}|{self.kind}|{self.ts.isoformat()}"

    @property
    def cleared(self) -> bool:
        return self.kind == "cleared"

    def as_dict(self) -> dict[str, Any]:
        """The evidence as the timeline keeps it."""
        data: dict[str, Any] = {
            "source": self.source,
            SOURCES[self.source]: self.source_id,
            "kind": self.kind,
            "severity": self.severity,
            "ts": self.ts.isoformat(),
        }
        for name in ("gas", "value", "limit", "detail"):
            if getattr(self, name) is not None:
                data[name] = getattr(self, name)
        return data


def parse_evidence(data: Any) -> Evidence:
    """Read one evidence message.

    Raises
    ------
    InvalidInput
        Naming the first missing or malformed field.
    """
    if not isinstance(data, dict):
        raise InvalidInput("the evidence must be a JSON object")
    source = data.get("source")
    if source not in SOURCES:
        raise InvalidInput("source must be sensor or camera", field="source")
    id_field = SOURCES[source]
    for name in ("complex_id", id_field, "kind"):
        if not isinstance(data.get(name), str) or not data[name].strip():
            raise InvalidInput(f"{name} is missing", field=name)
    severity = data.get("severity")
    if severity not in SEVERITY_RANK:
        raise InvalidInput("severity must be warning, alarm or critical", field="severity")
    try:
        ts = datetime.fromisoformat(str(data.get("ts")))
    except ValueError:
        raise InvalidInput("ts is not an ISO 8601 timestamp", field="ts") from None
    if ts.tzinfo is None:
        # A device clock without a zone is taken as UTC rather than the function's local time.
        ts = ts.replace(tzinfo=UTC)
    numbers: dict[str, float | None] = {}
    for name in ("value", "limit"):
        raw = data.get(name)
        if raw is not None and (isinstance(raw, bool) or not isinstance(raw, int | float)):
            raise InvalidInput(f"{name} must be a number", field=name)
        numbers[name] = None if raw is None else float(raw)
    gas = data.get("gas")
    return Evidence(
        source=source,
        complex_id=data["complex_id"],
        source_id=data[id_field],
        kind=data["kind"],
        severity=severity,
        ts=ts,
        gas=gas if isinstance(gas, str) else None,
        value=numbers["value"],
        limit=numbers["limit"],
        detail=data.get("detail"),
    )


@dataclass(frozen=True, slots=True)
class Incident:
    """An incident of one complex, as stored."""

    incident_id: str
    complex_id: str
    opened_at: datetime
    last_evidence_at: datetime
    severity: str
    state: str = "notifying"
    status: str = OPEN_STATUS
    level: int = 1
    # source key -> "active" | "cleared"
    sources: dict[str, str] = field(default_factory=dict)
    # source keys that raised a gas alarm / a camera hazard (for the critical rule)
    gas_alarms: tuple[str, ...] = ()
    camera_hazards: tuple[str, ...] = ()
    evidence_keys: tuple[str, ...] = ()
    timeline: tuple[dict[str, Any], ...] = ()
    all_clear: bool = False
    execution_arn: str | None = None
    task_token: str | None = None
    # The workflow ended without an acknowledgement: nothing will answer a token any more.
    workflow_ended: bool = False
    version: int = 0

    @property
    def is_open(self) -> bool:
        return self.status == OPEN_STATUS


def new_incident_id(at: datetime) -> str:
    """Sortable by time and a valid Step Functions execution name (it names the execution)."""
    return f"inc-{at.astimezone(UTC):%Y%m%dT%H%M%S}-{uuid.uuid4().hex[:12]}"


def decide(current: Incident | None, evidence: Evidence) -> Literal["join", "open", "ignore"]:
    """Join the complex's open incident, open a new one, or ignore a clear.

    An incident whose workflow ended unacknowledged pages nobody any more: new hazard evidence
    opens a new incident (its workflow pages from level 1) instead of joining it silently. The
    old one stays listed, unacknowledged, until an operator declares its all-clear.
    """
    if current is None or not current.is_open:
        return "ignore" if evidence.cleared else "open"
    if evidence.dedupe_key in current.evidence_keys:
        return "join"  # a repeat: joining finds the duplicate and changes nothing
    if evidence.cleared:
        return "join" if evidence.source_key in current.sources else "ignore"
    if current.workflow_ended:
        return "open"
    if abs(evidence.ts - current.last_evidence_at) <= CORRELATION_WINDOW:
        return "join"
    return "open"


def _is_gas_alarm(evidence: Evidence) -> bool:
    return (
        evidence.source == "sensor"
        and not evidence.kind.startswith("fault")
        and not evidence.cleared
        and SEVERITY_RANK[evidence.severity] >= SEVERITY_RANK["alarm"]
        and (evidence.gas is not None or evidence.kind in ("threshold_high", "stel_exceeded"))
    )


def _is_camera_hazard(evidence: Evidence) -> bool:
    return evidence.source == "camera" and evidence.kind in CAMERA_HAZARDS


def severity_of(incident: Incident) -> str:
    """The critical rule on top of the incident's recorded severity."""
    gas = any(incident.sources.get(k) == "active" for k in incident.gas_alarms)
    smoke = any(incident.sources.get(k) == "active" for k in incident.camera_hazards)
    if gas and smoke:
        return "critical"
    return incident.severity


@dataclass(frozen=True, slots=True)
class Applied:
    """What one piece of evidence did to an incident."""

    incident: Incident
    duplicate: bool = False
    severity_raised: bool = False
    became_all_clear: bool = False


def open_incident(evidence: Evidence, incident_id: str, now: datetime) -> Incident:
    """A new incident started by ``evidence`` (not yet stored)."""
    empty = Incident(
        incident_id=incident_id,
        complex_id=evidence.complex_id,
        opened_at=now,
        last_evidence_at=evidence.ts,
        severity=evidence.severity,
        timeline=({"at": now.isoformat(), "event": "opened"},),
    )
    return apply_evidence(empty, evidence, now).incident


def apply_evidence(incident: Incident, evidence: Evidence, now: datetime) -> Applied:
    """Add ``evidence`` to ``incident``'s timeline and recompute severity and all-clear."""
    if evidence.dedupe_key in incident.evidence_keys:
        return Applied(incident, duplicate=True)
    sources = dict(incident.sources)
    sources[evidence.source_key] = "cleared" if evidence.cleared else "active"
    gas = incident.gas_alarms
    if _is_gas_alarm(evidence) and evidence.source_key not in gas:
        gas = (*gas, evidence.source_key)
    hazards = incident.camera_hazards
    if _is_camera_hazard(evidence) and evidence.source_key not in hazards:
        hazards = (*hazards, evidence.source_key)
    before = SEVERITY_RANK[incident.severity]
    recorded = incident.severity
    if not evidence.cleared and SEVERITY_RANK[evidence.severity] > before:
        recorded = evidence.severity
    timeline: list[dict[str, Any]] = [
        {"at": now.isoformat(), "event": "evidence", "evidence": evidence.as_dict()}
    ]
    updated = replace(
        incident,
        last_evidence_at=max(incident.last_evidence_at, evidence.ts),
        severity=recorded,
        sources=sources,
        gas_alarms=gas,
        camera_hazards=hazards,
        evidence_keys=(*incident.evidence_keys, evidence.dedupe_key),
    )
    severity = max(severity_of(updated), recorded, key=SEVERITY_RANK.__getitem__)
    raised = SEVERITY_RANK[severity] > before
    if raised:
        timeline.append({"at": now.isoformat(), "event": "severity_raised", "severity": severity})
    all_clear = bool(sources) and all(v == "cleared" for v in sources.values())
    became = all_clear and not incident.all_clear
    if became:
        timeline.append({"at": now.isoformat(), "event": "all_clear", "by": "evidence"})
    final = replace(
        updated,
        severity=severity,
        all_clear=all_clear,
        timeline=(*incident.timeline, *timeline),
    )
    return Applied(final, severity_raised=raised and incident.version > 0, became_all_clear=became)


def alert_of(incident: Incident, level: int | None = None) -> dict[str, Any]:
    """The notification's body (and the state machine's ``$.alert``)."""
    return {
        "event_type": "IncidentAlert",
        "incident_id": incident.incident_id,
        "complex_id": incident.complex_id,
        "severity": incident.severity,
        "level": incident.level if level is None else level,
        "opened_at": incident.opened_at.isoformat(),
    }


def view(incident: Incident) -> dict[str, Any]:
    """An incident as the API shows it (no task token, no bookkeeping)."""
    return {
        "incident_id": incident.incident_id,
        "complex_id": incident.complex_id,
        "severity": incident.severity,
        "state": incident.state,
        "status": incident.status,
        "level": incident.level,
        "opened_at": incident.opened_at.isoformat(),
        "last_evidence_at": incident.last_evidence_at.isoformat(),
        "sources": incident.sources,
        "timeline": list(incident.timeline),
    }


# ---------------------------------------------------------------------------- storage


def _to_item(incident: Incident) -> dict[str, Any]:
    item: dict[str, Any] = {
        "incident_id": incident.incident_id,
        "complex_id": incident.complex_id,
        "opened_at": incident.opened_at.isoformat(),
        "last_evidence_at": incident.last_evidence_at.isoformat(),
        "severity": incident.severity,
        "state": incident.state,
        "status": incident.status,
        "level": incident.level,
        "sources": incident.sources,
        "gas_alarms": list(incident.gas_alarms),
        "camera_hazards": list(incident.camera_hazards),
        "evidence_keys": list(incident.evidence_keys),
        "timeline": list(incident.timeline),
        "all_clear": incident.all_clear,
        "workflow_ended": incident.workflow_ended,
        "version": incident.version,
    }
    if incident.execution_arn:
        item["execution_arn"] = incident.execution_arn
    if incident.task_token:
        item["task_token"] = incident.task_token
    return to_dynamo(item)


def _from_item(raw: dict[str, Any]) -> Incident:
    item = from_dynamo(raw)
    return Incident(
        incident_id=item["incident_id"],
        complex_id=item["complex_id"],
        opened_at=datetime.fromisoformat(item["opened_at"]),
        last_evidence_at=datetime.fromisoformat(item["last_evidence_at"]),
        severity=item["severity"],
        state=item["state"],
        status=item["status"],
        level=int(item.get("level", 1)),
        sources=dict(item.get("sources", {})),
        gas_alarms=tuple(item.get("gas_alarms", ())),
        camera_hazards=tuple(item.get("camera_hazards", ())),
        evidence_keys=tuple(item.get("evidence_keys", ())),
        timeline=tuple(item.get("timeline", ())),
        all_clear=bool(item.get("all_clear", False)),
        execution_arn=item.get("execution_arn"),
        task_token=item.get("task_token"),
        workflow_ended=bool(item.get("workflow_ended", False)),
        version=int(item.get("version", 0)),
    )


def _condition_failed(exc: Exception) -> bool:
    code = getattr(exc, "response", {}).get("Error", {}).get("Code", "")
    return code in ("ConditionalCheckFailedException", "TransactionCanceledException")


class IncidentStore(DynamoTable):
    """Incidents (``incident_id``) and one pointer per complex to its open incident.

    Every write is conditional on the version read, so two functions working on the same
    incident never overwrite each other's timeline: the loser raises and its message is
    redelivered.
    """

    def get(self, incident_id: str) -> Incident:
        """Raises :class:`NotFound` for an unknown id (or a pointer's key)."""
        if incident_id.startswith(_POINTER):
            raise NotFound(f"incident {incident_id} does not exist")
        item = self.table.get_item(Key={"incident_id": incident_id}, ConsistentRead=True).get(
            "Item"
        )
        if item is None:
            raise NotFound(f"incident {incident_id} does not exist")
        return _from_item(item)

    def open_for(self, complex_id: str) -> Incident | None:
        """The complex's open incident, if any."""
        pointer = self.table.get_item(
            Key={"incident_id": _POINTER + complex_id}, ConsistentRead=True
        ).get("Item")
        if pointer is None:
            return None
        try:
            return self.get(str(pointer["open_incident"]))
        except NotFound:
            return None

    def create(self, incident: Incident, replacing: str | None) -> None:
        """Store a new incident and point the complex at it.

        Raises
        ------
        Conflict
            Another consumer opened an incident for the complex first.
        """
        client = self.table.meta.client
        pointer_condition = (
            "attribute_not_exists(incident_id)"
            if replacing is None
            else "attribute_not_exists(incident_id) OR open_incident = :old"
        )
        pointer: dict[str, Any] = {
            "TableName": self.table_name,
            "Item": {
                "incident_id": _POINTER + incident.complex_id,
                "open_incident": incident.incident_id,
            },
            "ConditionExpression": pointer_condition,
        }
        if replacing is not None:
            pointer["ExpressionAttributeValues"] = {":old": replacing}
        try:
            client.transact_write_items(
                TransactItems=[
                    {"Put": pointer},
                    {
                        "Put": {
                            "TableName": self.table_name,
                            "Item": _to_item(replace(incident, version=1)),
                            "ConditionExpression": "attribute_not_exists(incident_id)",
                        }
                    },
                ]
            )
        except Exception as exc:
            if _condition_failed(exc):
                raise Conflict(f"complex {incident.complex_id} got an incident meanwhile") from exc
            raise

    def save(self, incident: Incident) -> Incident:
        """Write ``incident`` over the version it was read at; returns the stored one.

        Raises
        ------
        Conflict
            The incident changed since it was read.
        """
        stored = replace(incident, version=incident.version + 1)
        try:
            self.table.put_item(
                Item=_to_item(stored),
                ConditionExpression="#v = :v",
                ExpressionAttributeNames={"#v": "version"},
                ExpressionAttributeValues={":v": incident.version},
            )
        except Exception as exc:
            if _condition_failed(exc):
                raise Conflict(f"incident {incident.incident_id} changed meanwhile") from exc
            raise
        return stored

    def release(self, incident: Incident) -> None:
        """Forget the complex's pointer if it still points at ``incident`` (it closed)."""
        try:
            self.table.delete_item(
                Key={"incident_id": _POINTER + incident.complex_id},
                ConditionExpression="open_incident = :id",
                ExpressionAttributeValues={":id": incident.incident_id},
            )
        except Exception as exc:
            if not _condition_failed(exc):
                raise

    def list(self, status: str, limit: int = 100) -> list[Incident]:
        """Incidents of one status, newest first (the ``by-status`` index)."""
        from boto3.dynamodb.conditions import Key

        answer = self.table.query(
            IndexName="by-status",
            KeyConditionExpression=Key("status").eq(status),
            ScanIndexForward=False,
            Limit=limit,
        )
        return [_from_item(item) for item in answer.get("Items", [])]

    def update(
        self, incident_id: str, change: Callable[[Incident], Incident], attempts: int = 5
    ) -> Incident:
        """Apply ``change`` with optimistic retries; returns the incident as stored.

        ``change`` returning its argument itself writes nothing. A :class:`Conflict` raised by
        ``change`` is its verdict on the incident and is not retried; only a write that lost
        to a concurrent one is.
        """
        for attempt in range(attempts):
            incident = self.get(incident_id)
            changed = change(incident)
            if changed is incident:
                return incident
            try:
                return self.save(changed)
            except Conflict:
                if attempt == attempts - 1:
                    raise
        raise AssertionError("unreachable")


def record(incident: Incident, event: str, now: datetime, **details: Any) -> Incident:
    """``incident`` with one more timeline entry."""
    entry = {"at": now.isoformat(), "event": event, **details}
    return replace(incident, timeline=(*incident.timeline, entry))


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
        self.sns.publish(
            TopicArn=self.topic_arn,
            Message=json.dumps(alert, ensure_ascii=False),
            MessageAttributes={
                name: {"DataType": "String", "StringValue": str(alert[name])}
                for name in ("event_type", "complex_id", "severity", "level")
            },
        )


@dataclass(frozen=True, slots=True)
class Ingested:
    """What happened to one piece of evidence (``ignored``: a clear with no incident to join)."""

    incident_id: str | None
    outcome: Literal["opened", "joined", "duplicate", "ignored"]
    severity: str


def ingest(
    evidence: Evidence,
    store: IncidentStore,
    workflow: IncidentWorkflow,
    alerts: IncidentAlerts,
    now: datetime,
) -> Ingested:
    """Open or join the complex's incident with ``evidence``.

    The incident is stored before its execution starts, and an incident found without an
    execution gets one: a crash between the two cannot leave an incident nobody is alerted
    about (the message is redelivered and the repeat starts the execution). All-clear evidence
    takes the task token off the incident in the same conditional write and answers it after,
    as an operator's answer does: a write that loses a race never leaves a token answered for
    an all-clear that was not stored.

    Raises
    ------
    Conflict
        A concurrent consumer changed the incident; the message should be retried.
    """
    current = store.open_for(evidence.complex_id)
    decision = decide(current, evidence)
    if decision == "ignore":
        return Ingested(None, "ignored", evidence.severity)
    if current is None or decision == "open":
        incident = open_incident(evidence, new_incident_id(now), now)
        store.create(incident, replacing=None if current is None else current.incident_id)
        incident = replace(incident, version=1)
        outcome: Literal["opened", "joined", "duplicate"] = "opened"
    else:
        applied = apply_evidence(current, evidence, now)
        incident, outcome = applied.incident, "duplicate" if applied.duplicate else "joined"
        if not applied.duplicate:
            if applied.severity_raised:
                # Operators hear at once that the hazard is worse, not at the next escalation;
                # published before the write so a failed publish retries the whole message.
                alerts.publish({**alert_of(incident), "event_type": "IncidentSeverityRaised"})
            token = None
            if applied.became_all_clear:
                incident, token = _all_clear_by_evidence(incident, now)
            incident = store.save(incident)
            if not incident.is_open:
                store.release(incident)
            if token is not None:
                # ``False``: the wait ended meanwhile; the next step reads the all-clear.
                workflow.answer(token, "all_clear", by="evidence")
    if incident.execution_arn is None:
        arn = workflow.start(incident)
        incident = store.update(incident.incident_id, lambda i: replace(i, execution_arn=arn))
    return Ingested(incident.incident_id, outcome, incident.severity)


def _all_clear_by_evidence(incident: Incident, now: datetime) -> tuple[Incident, str | None]:
    """The all-clear incident to store, and the task token to answer once it is stored."""
    if incident.workflow_ended:
        # Nothing waits for a token any more: the evidence closes the incident itself.
        return closed(incident, now, "all_clear"), None
    # No token: between two waits; the next step sees ``all_clear`` on the incident.
    return replace(incident, task_token=None), incident.task_token


def closed(incident: Incident, now: datetime, outcome: str | None) -> Incident:
    """``incident`` closed; the caller releases the complex's pointer once it is stored."""
    incident = record(incident, "closed", now, outcome=outcome)
    return replace(incident, state="closed", status=CLOSED_STATUS, task_token=None)


# ---------------------------------------------------------------------------- operators

Answer = Literal["acknowledged", "all_clear"]


@dataclass(frozen=True, slots=True)
class Answered:
    """What became of an operator's answer, with the incident as stored afterwards.

    ``delivered``: the waiting step took it. ``deferred``: no wait could take it at that
    moment (one had just timed out, or the workflow was between two waits); the workflow's
    next step reads it from the incident. ``recorded``: the workflow had ended unacknowledged,
    so an acknowledgement is on the timeline only. ``closed``: all-clear for such an incident
    closed it.
    """

    incident: Incident
    outcome: Literal["delivered", "deferred", "recorded", "closed"]


def answer(
    store: IncidentStore,
    workflow: IncidentWorkflow,
    incident_id: str,
    outcome: Answer,
    *,
    by: str,
    note: str | None,
    now: datetime,
) -> Answered:
    """Record an operator's acknowledgement or all-clear, then answer the stored token.

    The answer is written first, with the token taken off the incident in the same
    conditional write: two operators answering at once get one answer and one
    :class:`Conflict`, never two answers to one token, and an answer that misses its wait
    (it timed out a moment before) stays on the incident for the workflow's next step.

    Raises
    ------
    NotFound
        No such incident.
    Conflict
        The incident is closed, or already has this answer.
    """
    taken: list[str] = []

    def change(incident: Incident) -> Incident:
        taken.clear()
        if not incident.is_open:
            raise Conflict(f"incident {incident_id} is closed")
        if outcome == "acknowledged" and incident.state == "acknowledged":
            raise Conflict(f"incident {incident_id} is already acknowledged")
        if outcome == "all_clear" and incident.all_clear and not incident.workflow_ended:
            raise Conflict(f"incident {incident_id} is already all-clear; it is closing")
        entry = {"by": by, "note": note} if note else {"by": by}
        changed = record(incident, outcome, now, level=incident.level, **entry)
        if outcome == "acknowledged":
            changed = replace(changed, state="acknowledged")
        else:
            changed = replace(changed, all_clear=True)
        if changed.workflow_ended:
            return closed(changed, now, outcome) if outcome == "all_clear" else changed
        if changed.task_token:
            taken.append(changed.task_token)
            changed = replace(changed, task_token=None)
        return changed

    incident = store.update(incident_id, change)
    if not incident.is_open:
        store.release(incident)
        return Answered(incident, "closed")
    if incident.workflow_ended:
        return Answered(incident, "recorded")
    if taken and workflow.answer(taken[0], outcome, by=by):
        return Answered(incident, "delivered")
    return Answered(incident, "deferred")


def now_utc() -> datetime:
    return datetime.now(UTC)


def parse_status(value: str | None) -> str:
    """The ``status`` query parameter: ``open`` (default) or ``closed``."""
    if value in (None, ""):
        return OPEN_STATUS
    if value not in (OPEN_STATUS, CLOSED_STATUS):
        raise InvalidInput("status must be open or closed", field="status")
    return str(value)
