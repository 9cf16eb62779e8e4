"""Load a complaint count history into the counts table of a running local cloud.

    from localcloud.seed_volumes import seed_volumes
    seed_volumes(cloud, generate(...))       # any History, e.g. a simulated one

The histories loaded are simulated (``gyeonggi_tools.complaints.simulated_history``, which the
caller brings: the local cloud does not import the tools). Zero days are not written, as
``record_count`` would never have created them.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from gyeonggi.complaints.counts import series_key
from gyeonggi.complaints.series import History


def seed_volumes(
    cloud_or_dynamodb: Any,
    history: History,
    *,
    table_name: str | None = None,
) -> int:
    """Write every non-zero day of ``history`` to ``ComplaintCountsTable``.

    Parameters
    ----------
    cloud_or_dynamodb
        A started ``LocalCloud`` (the table is found by its logical id), or a boto3 DynamoDB
        resource together with ``table_name``.
    history
        The counts to write. Three simulated years of all 31 x 15 series are about 500,000
        items and take minutes in moto, so tests pass a small history.

    Returns
    -------
    int
        The number of items written.
    """
    if hasattr(cloud_or_dynamodb, "physical_id"):
        import boto3

        table_name = table_name or cloud_or_dynamodb.physical_id("ComplaintCountsTable")
        dynamodb = boto3.resource(
            "dynamodb",
            region_name=cloud_or_dynamodb.client("dynamodb").meta.region_name,
            endpoint_url=cloud_or_dynamodb.endpoint_url,
        )
    else:
        dynamodb = cloud_or_dynamodb
    if not table_name:
        raise ValueError("table_name is needed with a DynamoDB resource")
    table = dynamodb.Table(table_name)
    written = 0
    with table.batch_writer() as batch:
        for i, (jid, code) in enumerate(history.series):
            key = series_key(jid, code)
            for d in history.counts[i].nonzero()[0]:
                batch.put_item(
                    Item={
                        "series": key,
                        "day": (history.start + timedelta(days=int(d))).isoformat(),
                        "count": int(history.counts[i, d]),
                        "jurisdiction_id": jid,
                        "service_code": code,
                    }
                )
                written += 1
    return written
