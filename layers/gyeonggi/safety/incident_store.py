"""Incidents in DynamoDB (``IncidentsTable``), written only on the version that was read.

One item per incident (``incident_id``), and one pointer item per complex (key
``complex#<complex_id>``) naming its open incident, so the incident function finds a
complex's open incident with one consistent read and two consumers cannot both open one.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace
from typing import Any

from gyeonggi.common.aws import DynamoTable, from_dynamo, to_dynamo
from gyeonggi.common.clock import parse_iso
from gyeonggi.common.errors import Conflict, NotFound
from gyeonggi.safety.incident_rules import Incident

# Items that point at a complex's open incident share the table; their key is prefixed.
_POINTER = "complex#"


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
        opened_at=parse_iso(item["opened_at"]),
        last_evidence_at=parse_iso(item["last_evidence_at"]),
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


class OptimisticUpdates:
    """``update`` over a store's ``get`` and version-conditioned ``save``.

    Shared by :class:`IncidentStore` and the tests' in-memory store, so both retry alike.
    """

    def get(self, incident_id: str) -> Incident:
        raise NotImplementedError

    def save(self, incident: Incident) -> Incident:
        raise NotImplementedError

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


class IncidentStore(OptimisticUpdates, DynamoTable):
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
