"""The registry's cameras in DynamoDB (``CctvCamerasTable``).

One item per camera, keyed by ``camera_id``; the ``cameras_by_jurisdiction`` index (key
``jurisdiction``, sort ``camera_id``) lists a city's cameras in id order. Operators' writes are
conditional on the version read (:meth:`CameraStore.save`), and write only what a person may
change, so an import that ran meanwhile is neither lost nor overwritten.

An import (:meth:`CameraStore.write_rows`) writes the public data's fields of each camera and
nothing an operator set (masks, minimum fire size, complex, model, status, control centre), in
transactions of whole rows: a row's cameras are written together or not at all. Every write sets
the values the file gives, so running the same file again changes nothing but the version and
``updated_at``: an import that stopped half-way is completed by running it again.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from datetime import datetime
from typing import Any

from gyeonggi.cctv.models import (
    CLEARABLE,
    PATCHABLE,
    Camera,
    camera_id,
)
from gyeonggi.cctv.standard_data import Row
from gyeonggi.common.aws import DynamoTable, from_dynamo, to_dynamo
from gyeonggi.common.errors import Conflict, NotFound
from gyeonggi.safety.camera_calibration import CameraCalibration

#: The public data's fields: an import writes these, and only these, of an existing camera.
IMPORTED = (
    "jurisdiction",
    "managing_agency",
    "agency_phone",
    "road_address",
    "lot_address",
    "latitude",
    "longitude",
    "purpose",
    "purpose_label",
    "direction",
    "pixels",
    "installed",
    "retention_days",
    "org_code",
    "data_date",
    "source_refreshed_at",
    "source_modified_at",
)
#: What an import sets only on a camera it creates (an operator's afterwards).
IMPORT_DEFAULTS = ("control_centre", "ptz", "status", "masks")
#: DynamoDB's limit of items in one transaction.
TRANSACTION_ITEMS = 100


def to_item(camera: Camera) -> dict[str, Any]:
    data = camera.model_dump(mode="json", exclude_none=True)
    return dict(to_dynamo(data))


def from_item(item: Mapping[str, Any]) -> Camera:
    return Camera.model_validate(from_dynamo(dict(item)))


class CameraStore(DynamoTable):
    """``CctvCamerasTable``: the cameras (:class:`~gyeonggi.cctv.ports.CameraRecords`)."""

    INDEX = "cameras_by_jurisdiction"

    # ------------------------------------------------------------------ reads

    def get(self, camera_id: str) -> Camera:
        """Raises ``NotFound`` for an unknown id."""
        item = self.table.get_item(Key={"camera_id": camera_id}).get("Item")
        if item is None:
            raise NotFound(f"camera {camera_id} is not in the registry")
        return from_item(item)

    def get_many(self, camera_ids: Iterable[str]) -> dict[str, Camera]:
        """The cameras of ``camera_ids`` that exist, by id (batches of 100)."""
        return {
            str(item["camera_id"]): from_item(item)
            for item in self._batch_get(sorted(set(camera_ids)))
        }

    def settings(self, camera_id: str) -> CameraCalibration | None:
        """The analysis's calibration of the camera (masks, minimum fire size); ``None`` when
        it is not in the registry. The CCTV function's
        :class:`~gyeonggi.safety.camera_calibration.CameraSettingsSource`: one read of two
        attributes per segment."""
        item = self.table.get_item(
            Key={"camera_id": camera_id},
            ProjectionExpression="camera_id, masks, min_fire_px",
        ).get("Item")
        if item is None:
            return None
        data = from_dynamo(dict(item))
        return CameraCalibration(masks=data.get("masks"), min_fire_px=data.get("min_fire_px"))

    def page(
        self, jurisdiction: str, limit: int, after: str | None = None
    ) -> tuple[list[Camera], str | None]:
        """Up to ``limit`` cameras of ``jurisdiction`` in id order after ``after``; the last id
        when there may be more."""
        kwargs: dict[str, Any] = {
            "IndexName": self.INDEX,
            "KeyConditionExpression": "jurisdiction = :j",
            "ExpressionAttributeValues": {":j": jurisdiction},
            "Limit": limit,
        }
        if after is not None:
            kwargs["ExclusiveStartKey"] = {"jurisdiction": jurisdiction, "camera_id": after}
        page = self.table.query(**kwargs)
        cameras = [from_item(i) for i in page.get("Items", [])]
        more = "LastEvaluatedKey" in page and bool(cameras)
        return cameras, (cameras[-1].camera_id if more else None)

    def in_jurisdiction(self, jurisdiction: str) -> Iterator[Camera]:
        after: str | None = None
        while True:
            cameras, after = self.page(jurisdiction, 500, after)
            yield from cameras
            if after is None:
                return

    def everything(self) -> Iterator[Camera]:
        """Every camera (a scan: for the export, never on a request path)."""
        kwargs: dict[str, Any] = {}
        while True:
            page = self.table.scan(**kwargs)
            for item in page.get("Items", []):
                yield from_item(item)
            if "LastEvaluatedKey" not in page:
                return
            kwargs["ExclusiveStartKey"] = page["LastEvaluatedKey"]

    # ------------------------------------------------------------------ operators' writes

    def create(self, camera: Camera) -> Camera:
        """Store a new camera (version 1); raises ``Conflict`` when the id exists."""
        stored = camera.model_copy(update={"version": 1})
        item = to_item(stored)
        try:
            self.table.put_item(Item=item, ConditionExpression="attribute_not_exists(camera_id)")
        except self.table.meta.client.exceptions.ConditionalCheckFailedException:
            raise Conflict(f"camera {camera.camera_id} is already in the registry") from None
        return stored

    def save(self, camera: Camera) -> Camera:
        """Write what an operator may change over the version read; returns the stored camera.

        Raises
        ------
        Conflict
            The camera changed since it was read (an operator or an import).
        """
        stored = camera.model_copy(update={"version": camera.version + 1})
        data = to_item(stored)
        names, values, sets, removes = {}, {":v": camera.version}, [], []
        for n, name in enumerate(sorted(PATCHABLE | {"updated_at", "version"})):
            names[f"#f{n}"] = name
            if name in data:
                values[f":f{n}"] = data[name]
                sets.append(f"#f{n} = :f{n}")
            elif name in CLEARABLE:
                removes.append(f"#f{n}")
        expression = "SET " + ", ".join(sets) + (" REMOVE " + ", ".join(removes) if removes else "")
        try:
            self.table.update_item(
                Key={"camera_id": camera.camera_id},
                UpdateExpression=expression,
                ConditionExpression="version = :v",
                ExpressionAttributeNames=names,
                ExpressionAttributeValues=values,
            )
        except self.table.meta.client.exceptions.ConditionalCheckFailedException:
            raise Conflict(f"camera {camera.camera_id} changed meanwhile") from None
        return stored

    def update(
        self, camera_id: str, change: Callable[[Camera], Camera], attempts: int = 5
    ) -> Camera:
        """Apply ``change`` to the camera as stored, retrying a write that lost a race;
        ``change`` returning its argument writes nothing."""
        for attempt in range(attempts):
            camera = self.get(camera_id)
            changed = change(camera)
            if changed is camera:
                return camera
            try:
                return self.save(changed)
            except Conflict:
                if attempt == attempts - 1:
                    raise
        raise AssertionError("unreachable")

    # ------------------------------------------------------------------ imports

    def row_sizes(self, management_numbers: Iterable[str]) -> dict[str, int]:
        """How many cameras each row had when last written (its first camera says)."""
        ids = [camera_id(n, 1) for n in set(management_numbers)]
        sizes = {}
        for item in self._batch_get(ids, projection="camera_id, management_number, row_size"):
            sizes[str(item["management_number"])] = int(item.get("row_size", 1))
        return sizes

    def write_rows(
        self, rows: list[Row] | tuple[Row, ...], previous: dict[str, int], now: datetime
    ) -> int:
        """Write ``rows`` in transactions of whole rows; returns the transactions made.

        ``previous`` (:meth:`row_sizes`) says how many cameras each row had: cameras past a
        row's new ``카메라대수`` are taken out of service, not deleted (their views stay
        audited).
        """
        batches: list[list[dict[str, Any]]] = [[]]
        for row in rows:
            actions = self._row_actions(row, previous.get(row.management_number, 0), now)
            if len(batches[-1]) + len(actions) > TRANSACTION_ITEMS:
                batches.append([])
            batches[-1].extend(actions)
        client = self.table.meta.client
        made = 0
        for actions in batches:
            if not actions:
                continue
            # The same actions retried within ten minutes are not applied twice.
            token = hashlib.sha256(json.dumps(actions, default=str).encode()).hexdigest()[:36]
            client.transact_write_items(TransactItems=actions, ClientRequestToken=token)
            made += 1
        return made

    def _row_actions(self, row: Row, previous: int, now: datetime) -> list[dict[str, Any]]:
        fields = row.fields.model_dump(mode="json")
        stamp = now.isoformat()
        actions = []
        for index in range(1, row.cameras + 1):
            values: dict[str, Any] = {
                ":number": row.management_number,
                ":index": index,
                ":size": row.cameras,
                ":listed": not row.deleted,
                ":now": stamp,
                ":zero": 0,
                ":one": 1,
            }
            names: dict[str, str] = {}
            sets = [
                "management_number = :number",
                "#index = :index",
                "row_size = :size",
                "in_service = :listed",
                "updated_at = :now",
                "created_at = if_not_exists(created_at, :now)",
                "version = if_not_exists(version, :zero) + :one",
            ]
            names["#index"] = "index"
            removes = []
            for n, name in enumerate(IMPORTED):
                names[f"#i{n}"] = name
                if fields.get(name) is None:
                    removes.append(f"#i{n}")
                else:
                    values[f":i{n}"] = to_dynamo(fields[name])
                    sets.append(f"#i{n} = :i{n}")
            for n, name in enumerate(IMPORT_DEFAULTS):
                names[f"#d{n}"] = name
                values[f":d{n}"] = to_dynamo(fields[name] if name != "masks" else [])
                sets.append(f"#d{n} = if_not_exists(#d{n}, :d{n})")
            expression = "SET " + ", ".join(sets)
            if removes:
                expression += " REMOVE " + ", ".join(removes)
            actions.append(
                {
                    "Update": {
                        "TableName": self.table_name,
                        "Key": {"camera_id": camera_id(row.management_number, index)},
                        "UpdateExpression": expression,
                        "ExpressionAttributeNames": names,
                        "ExpressionAttributeValues": values,
                    }
                }
            )
        for index in range(row.cameras + 1, previous + 1):
            actions.append(
                {
                    "Update": {
                        "TableName": self.table_name,
                        "Key": {"camera_id": camera_id(row.management_number, index)},
                        "UpdateExpression": "SET in_service = :no, row_size = :size, "
                        "updated_at = :now, version = version + :one",
                        "ConditionExpression": "attribute_exists(camera_id)",
                        "ExpressionAttributeValues": {
                            ":no": False,
                            ":size": row.cameras,
                            ":now": stamp,
                            ":one": 1,
                        },
                    }
                }
            )
        return actions

    # ------------------------------------------------------------------ helpers

    def _batch_get(self, ids: Sequence[str], projection: str | None = None) -> Iterator[Any]:
        client = self.table.meta.client
        for start in range(0, len(ids), 100):
            request: dict[str, Any] = {"Keys": [{"camera_id": i} for i in ids[start : start + 100]]}
            if projection:
                request["ProjectionExpression"] = projection
            pending: dict[str, Any] = {self.table_name: request}
            # Unprocessed keys (throttling) are asked again, a bounded number of times.
            for _ in range(8):
                answer = client.batch_get_item(RequestItems=pending)
                yield from answer.get("Responses", {}).get(self.table_name, [])
                pending = answer.get("UnprocessedKeys") or {}
                if not pending:
                    break
            else:
                raise RuntimeError("DynamoDB kept keys unprocessed; try again")
