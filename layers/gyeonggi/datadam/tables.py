"""Where a dataset's Iceberg table is, and what its current snapshot says, with plain boto3.

The request path reads the Glue table (``Parameters["metadata_location"]``, written by
pyiceberg's Glue catalog) and the Iceberg metadata JSON it names: no pyiceberg, no pyarrow, so
the API function stays small. The JSON is the table format's own (Iceberg spec, "Table
Metadata"): ``current-snapshot-id``, ``snapshots[].timestamp-ms`` and ``summary`` with
``total-records``, ``total-data-files`` and ``total-files-size``.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from gyeonggi.common.aws import AwsClient
from gyeonggi.common.errors import NotFound

#: An Iceberg metadata file larger than this is not one this lake writes (they hold a list of
#: snapshots: kilobytes to a few megabytes).
MAX_METADATA_BYTES = 32 * 1024 * 1024


class TableNotLanded(NotFound):
    """The dataset is catalogued but its table does not exist yet (nothing was written)."""

    code = "table_not_landed"


@dataclass(frozen=True)
class Snapshot:
    """The current state of a table: when it last changed and how much it holds."""

    snapshot_id: int | None
    committed_at: datetime | None
    records: int
    data_files: int
    bytes: int


def split_s3_uri(uri: str) -> tuple[str, str]:
    """``s3://bucket/key`` into ``(bucket, key)``."""
    scheme, _, rest = uri.partition("://")
    bucket, _, key = rest.partition("/")
    if scheme not in ("s3", "s3a") or not bucket or not key:
        raise ValueError(f"not an S3 object URI: {uri!r}")
    return bucket, key


class TableLocator:
    """Reads the Glue Data Catalog and the Iceberg metadata of the Data Dam's tables."""

    glue = AwsClient("glue")
    s3 = AwsClient("s3")

    def __init__(
        self,
        database: str,
        *,
        glue: Any | None = None,
        s3: Any | None = None,
        glue_endpoint: str | None = None,
        s3_endpoint: str | None = None,
    ) -> None:
        self.database = database
        # Endpoints are the local cloud's moto server; in AWS both are None (the regional ones).
        if glue is None and glue_endpoint:
            import boto3

            glue = boto3.client("glue", endpoint_url=glue_endpoint)
        if s3 is None and s3_endpoint:
            import boto3

            s3 = boto3.client("s3", endpoint_url=s3_endpoint)
        if glue is not None:
            self.glue = glue
        if s3 is not None:
            self.s3 = s3

    def metadata_location(self, dataset_id: str) -> str:
        """The S3 URI of the table's current Iceberg metadata JSON.

        Raises
        ------
        TableNotLanded
            Glue has no such table (yet), or it is not an Iceberg table.
        """
        try:
            table = self.glue.get_table(DatabaseName=self.database, Name=dataset_id)["Table"]
        except self.glue.exceptions.EntityNotFoundException:
            raise TableNotLanded(
                f"dataset {dataset_id}: no table in the lake yet (nothing has been written)"
            ) from None
        parameters = table.get("Parameters") or {}
        location = parameters.get("metadata_location")
        if str(parameters.get("table_type", "")).upper() != "ICEBERG" or not location:
            raise TableNotLanded(f"dataset {dataset_id}: the Glue table is not an Iceberg table")
        return str(location)

    def snapshot(self, dataset_id: str) -> Snapshot:
        """The table's current snapshot, from its metadata JSON."""
        bucket, key = split_s3_uri(self.metadata_location(dataset_id))
        body = self.s3.get_object(Bucket=bucket, Key=key, Range=f"bytes=0-{MAX_METADATA_BYTES}")
        return current_snapshot(json.loads(body["Body"].read()))


def current_snapshot(metadata: dict[str, Any]) -> Snapshot:
    """The current snapshot of Iceberg table metadata (format version 1 or 2)."""
    current = metadata.get("current-snapshot-id")
    if current in (None, -1):
        return Snapshot(None, None, 0, 0, 0)
    for snapshot in metadata.get("snapshots") or []:
        if snapshot.get("snapshot-id") == current:
            summary = snapshot.get("summary") or {}
            millis = snapshot.get("timestamp-ms")
            return Snapshot(
                int(current),
                datetime.fromtimestamp(millis / 1000, UTC) if millis is not None else None,
                int(summary.get("total-records", 0)),
                int(summary.get("total-data-files", 0)),
                int(summary.get("total-files-size", 0)),
            )
    return Snapshot(int(current), None, 0, 0, 0)
