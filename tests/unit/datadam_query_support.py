"""A small lake for the query side's tests: moto's server on 127.0.0.1, Glue + S3 over HTTP,
Iceberg tables made with pyiceberg from the catalogue's datasets, and the engines pointed at it.

pyarrow's S3 client and DuckDB's httpfs talk HTTP, so the in-process mock will not do: the
server is the same moto, reached over loopback.
"""

from __future__ import annotations

import os
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

import boto3

from gyeonggi.datadam.datasets import NAMESPACE, Dataset
from gyeonggi.datadam.duckdb_engine import DuckDbEngine
from gyeonggi.datadam.tables import TableLocator

REGION = "ap-northeast-2"
WAREHOUSE_BUCKET = "datadam-test"
RESULTS_BUCKET = "datadam-results-test"
_CREDENTIALS = {
    "AWS_ACCESS_KEY_ID": "testing",
    "AWS_SECRET_ACCESS_KEY": "testing",
    "AWS_DEFAULT_REGION": REGION,
}


@dataclass
class QueryLake:
    endpoint: str
    catalog: Any

    def client(self, service: str) -> Any:
        return boto3.client(service, endpoint_url=self.endpoint, region_name=REGION)

    def locator(self) -> TableLocator:
        return TableLocator(NAMESPACE, glue=self.client("glue"), s3=self.client("s3"))

    def engine(self) -> DuckDbEngine:
        return DuckDbEngine(
            self.locator(),
            RESULTS_BUCKET,
            s3_endpoint=self.endpoint,
            s3=self.client("s3"),
            credentials=("testing", "testing", None),
            region=REGION,
        )

    def create(self, dataset: Dataset) -> Any:
        """The dataset's table, partitioned by day and jurisdiction as the lake's writer does."""
        from pyiceberg.partitioning import PartitionField, PartitionSpec
        from pyiceberg.schema import Schema
        from pyiceberg.transforms import DayTransform, IdentityTransform
        from pyiceberg.types import (
            BooleanType,
            DateType,
            DoubleType,
            LongType,
            NestedField,
            StringType,
            TimestamptzType,
        )

        types = {
            "string": StringType(),
            "long": LongType(),
            "double": DoubleType(),
            "boolean": BooleanType(),
            "date": DateType(),
            "timestamp": TimestamptzType(),
        }
        fields = [
            NestedField(i, c.name, types[c.type], required=False)
            for i, c in enumerate(dataset.columns, start=1)
        ]
        ids = {c.name: i for i, c in enumerate(dataset.columns, start=1)}
        partitions = [PartitionField(ids[dataset.day_column], 1000, DayTransform(), "day_part")]
        if dataset.jurisdiction_column:
            partitions.append(
                PartitionField(
                    ids[dataset.jurisdiction_column], 1001, IdentityTransform(), "jurisdiction"
                )
            )
        return self.catalog.create_table(
            dataset.table, Schema(*fields), partition_spec=PartitionSpec(*partitions)
        )

    def append(self, dataset: Dataset, rows: Sequence[dict[str, Any]]) -> None:
        """Append ``rows`` (dicts by column name) to the dataset's table, creating it if need be."""
        import pyarrow as pa

        try:
            table = self.catalog.load_table(dataset.table)
        except Exception:
            table = self.create(dataset)
        schema = table.schema().as_arrow()
        columns = {f.name: [row.get(f.name) for row in rows] for f in schema}
        table.append(pa.Table.from_pydict(columns, schema=schema))


@contextmanager
def query_lake() -> Iterator[QueryLake]:
    """A moto server with the warehouse and results buckets and the Glue database."""
    from moto.server import ThreadedMotoServer
    from pyiceberg.catalog.glue import GlueCatalog

    saved = {k: os.environ.get(k) for k in _CREDENTIALS}
    os.environ.update(_CREDENTIALS)
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    try:
        host, port = server.get_host_and_port()
        endpoint = f"http://{host}:{port}"
        s3 = boto3.client("s3", endpoint_url=endpoint, region_name=REGION)
        for bucket in (WAREHOUSE_BUCKET, RESULTS_BUCKET):
            s3.create_bucket(
                Bucket=bucket, CreateBucketConfiguration={"LocationConstraint": REGION}
            )
        catalog = GlueCatalog(
            "datadam",
            **{
                "glue.endpoint": endpoint,
                "glue.region": REGION,
                "s3.endpoint": endpoint,
                "s3.region": REGION,
                "s3.access-key-id": "testing",
                "s3.secret-access-key": "testing",
                "warehouse": f"s3://{WAREHOUSE_BUCKET}/warehouse/",
            },
        )
        catalog.create_namespace(NAMESPACE)
        yield QueryLake(endpoint, catalog)
    finally:
        server.stop()
        for key, value in saved.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value
