"""The query side's view of a test lake: the lake's own moto server and writer
(``localcloud.datadam``: Glue + S3 over HTTP on 127.0.0.1, records landed through the privacy
policy and the Iceberg writer the ingestion functions use), plus a results bucket and the
engines pointed at it.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

from gyeonggi.datadam.datasets import Dataset
from gyeonggi.datadam.duckdb_engine import DuckDbEngine
from gyeonggi.datadam.tables import TableLocator
from localcloud.datadam import REGION, LakeEndpoint, lake_server, write_records


@dataclass
class QueryLake:
    where: LakeEndpoint
    results_bucket: str

    @property
    def endpoint(self) -> str:
        return self.where.endpoint

    @property
    def database(self) -> str:
        return self.where.database

    def client(self, service: str) -> Any:
        return self.where.client(service)

    def locator(self) -> TableLocator:
        return TableLocator(self.database, glue=self.client("glue"), s3=self.client("s3"))

    def engine(self) -> DuckDbEngine:
        return DuckDbEngine(
            self.locator(),
            self.results_bucket,
            s3_endpoint=self.endpoint,
            s3=self.client("s3"),
            credentials=("testing", "testing", None),
            region=REGION,
        )

    def append(self, dataset: Dataset, rows: Sequence[dict[str, Any]]) -> None:
        """Land ``rows`` in the dataset's table as the ingestion does (one commit)."""
        write_records(self.where, dataset.id, rows)

    def environment(self) -> dict[str, str]:
        """What the API function reads to query this lake with DuckDB."""
        return {
            **self.where.environment(),
            "DATADAM_QUERY_ENGINE": "duckdb",
            "DATADAM_RESULTS_BUCKET": self.results_bucket,
        }


@contextmanager
def query_lake() -> Iterator[QueryLake]:
    """A fresh lake (new bucket and Glue database) with a results bucket beside it."""
    with lake_server() as where:
        results = f"{where.bucket}-results"
        where.client("s3").create_bucket(
            Bucket=results, CreateBucketConfiguration={"LocationConstraint": REGION}
        )
        yield QueryLake(where, results)
