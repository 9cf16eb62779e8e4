"""Load a (simulated) complaint count history into the counts table of a running local cloud.

    from localcloud.seed_volumes import seed_volumes
    seed_volumes(cloud)                      # three simulated years, all 465 series
    seed_volumes(cloud, generate(...))       # any History

The history is simulated (``gyeonggi_tools.complaints.simulated_history``); zero days are not
written, as ``record_count`` would never have created them.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from gyeonggi.complaints.counts import series_key
from gyeonggi.complaints.series import History
from gyeonggi_tools.complaints.simulated_history import generate


def seed_volumes(
    cloud_or_dynamodb: Any,
    history: History | None = None,
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
        Default: ``generate()``, three simulated years of all 31 x 15 series (about 500,000
        items; takes minutes in moto, so tests pass a small history).

    Returns
    -------
    int
        The number of items written.
    """
    if history is None:
        history = generate()
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
