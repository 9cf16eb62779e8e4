"""The Data Dam in the local cloud: moto's server for Glue and S3 over HTTP, and a test helper.

pyarrow's S3 client is C++ and talks HTTP: moto's in-process mock (which patches botocore)
never sees it, so the lake needs moto's server. ``ThreadedMotoServer`` in the same process
serves the *same* backends as ``mock_aws`` (moto keeps them in module-level state): a bucket or
Glue table created by an in-process boto3 call is there over HTTP and the reverse (measured, and
checked by ``tests/localcloud/test_datadam_server.py``). The local cloud therefore starts one
server on 127.0.0.1 when the template has a Data Dam and points the ingestion functions at it
(``DATADAM_GLUE_ENDPOINT``, ``DATADAM_S3_ENDPOINT``).

For tests (the query side's too): :func:`lake_server` starts a server with a fresh bucket and
database and yields a :class:`LakeEndpoint`; :func:`write_records` lands records of a dataset
through the same path as the ingestion functions (privacy policy, typing, key dedupe).
"""

from __future__ import annotations

import logging
import os
import uuid
from collections.abc import Iterable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from gyeonggi.complaints.privacy import Pseudonymizer
from gyeonggi.datadam.datasets import NAMESPACE, dataset
from gyeonggi.datadam.records import prepare

if TYPE_CHECKING:
    from gyeonggi.datadam.lake import Lake, LakeSettings, WriteResult

REGION = "ap-northeast-2"
_TEST_CREDENTIALS = {
    "AWS_ACCESS_KEY_ID": "testing",
    "AWS_SECRET_ACCESS_KEY": "testing",
    "AWS_DEFAULT_REGION": REGION,
}


@dataclass(frozen=True)
class LakeEndpoint:
    """A lake served by moto's server on 127.0.0.1."""

    endpoint: str
    bucket: str
    database: str = NAMESPACE
    region: str = REGION
    pseudonym_key_id: str | None = None

    @classmethod
    def of_cloud(cls, cloud: Any) -> LakeEndpoint:
        """The Data Dam of a running ``LocalCloud`` (its bucket, Glue database and server)."""
        if cloud.datadam_endpoint is None:
            raise RuntimeError("this local cloud has no Data Dam")
        return cls(
            cloud.datadam_endpoint,
            cloud.physical_id("DataDamBucket"),
            cloud.physical_id("DataDamDatabase"),
            REGION,
            cloud.physical_id("PseudonymKey"),
        )

    def environment(self) -> dict[str, str]:
        """The variables an ingestion function reads (``LakeSettings``)."""
        return {
            "DATADAM_BUCKET": self.bucket,
            "DATADAM_DATABASE": self.database,
            "DATADAM_GLUE_ENDPOINT": self.endpoint,
            "DATADAM_S3_ENDPOINT": self.endpoint,
        }

    def settings(self) -> LakeSettings:
        from gyeonggi.datadam.lake import LakeSettings

        return LakeSettings.from_env({**self.environment(), "AWS_DEFAULT_REGION": self.region})

    def lake(self) -> Lake:
        """A writer and reader of this lake."""
        from gyeonggi.datadam.lake import Lake

        return Lake.from_settings(self.settings())

    def client(self, service: str) -> Any:
        """A boto3 client of the server (glue, s3, kms...)."""
        import boto3

        return boto3.client(  # type: ignore[call-overload]
            service, endpoint_url=self.endpoint, region_name=self.region
        )

    def resource(self, service: str) -> Any:
        """A boto3 resource of the server (dynamodb...)."""
        import boto3

        return boto3.resource(  # type: ignore[call-overload]
            service, endpoint_url=self.endpoint, region_name=self.region
        )

    def pseudonymizer(self) -> Pseudonymizer:
        """The KMS-HMAC pseudonymiser of this lake's key (made by :func:`lake_server`)."""
        if self.pseudonym_key_id is None:
            raise RuntimeError("this endpoint has no pseudonym key")
        return Pseudonymizer(self.pseudonym_key_id, kms=self.client("kms"))

    def metadata_location(self, dataset_id: str) -> str:
        """The Glue table's current Iceberg metadata (what DuckDB's ``iceberg_scan`` reads)."""
        table = self.client("glue").get_table(DatabaseName=self.database, Name=dataset_id)
        return str(table["Table"]["Parameters"]["metadata_location"])


def start_server(port: int = 0) -> tuple[Any, str]:
    """A moto server on 127.0.0.1 (``port`` 0: a free one) and its endpoint URL."""
    from moto.server import ThreadedMotoServer

    # werkzeug logs every request at INFO: a write is dozens of them.
    logging.getLogger("werkzeug").setLevel(logging.WARNING)
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=port)
    server.start()
    host, bound = server.get_host_and_port()
    return server, f"http://{host}:{bound}"


def provision(endpoint: str, *, bucket: str, region: str = REGION) -> str:
    """Create the lake's bucket and an HMAC key for pseudonyms; returns the key id."""
    import boto3

    s3 = boto3.client("s3", endpoint_url=endpoint, region_name=region)
    s3.create_bucket(
        Bucket=bucket,
        CreateBucketConfiguration={"LocationConstraint": region},  # type: ignore[typeddict-item]
    )
    kms = boto3.client("kms", endpoint_url=endpoint, region_name=region)
    key = kms.create_key(KeySpec="HMAC_256", KeyUsage="GENERATE_VERIFY_MAC")
    return str(key["KeyMetadata"]["KeyId"])


@contextmanager
def lake_server() -> Iterator[LakeEndpoint]:
    """A moto server with a new bucket, database name and pseudonym key, for one test.

    The names are new each time because moto's state is per process, shared with any other
    server or mock in it: nothing is reset, nothing of another test's is seen.
    """
    saved = {k: os.environ.get(k) for k in _TEST_CREDENTIALS}
    for k, v in _TEST_CREDENTIALS.items():
        os.environ.setdefault(k, v)
    server, endpoint = start_server()
    try:
        suffix = uuid.uuid4().hex[:10]
        bucket = f"datadam-test-{suffix}"
        key_id = provision(endpoint, bucket=bucket)
        yield LakeEndpoint(endpoint, bucket, f"{NAMESPACE}_{suffix}", REGION, key_id)
    finally:
        server.stop()
        for k, before in saved.items():
            if before is None:
                os.environ.pop(k, None)
            else:
                os.environ[k] = before


def write_records(
    where: LakeEndpoint | Lake,
    dataset_id: str,
    records: Iterable[Mapping[str, Any]],
    *,
    batch_id: str | None = None,
    pseudonymizer: Any = None,
) -> WriteResult:
    """Land ``records`` (as a source gives them) in ``dataset_id``, as the ingestion does.

    Raises
    ------
    RecordError
        For the first record that cannot land.
    """
    from gyeonggi.datadam.lake import Lake

    ds = dataset(dataset_id)
    if isinstance(where, LakeEndpoint):
        lake = where.lake()
        pseudonymizer = pseudonymizer or (where.pseudonymizer() if where.pseudonym_key_id else None)
    else:
        lake = where
    assert isinstance(lake, Lake)
    rows = [prepare(ds, r, pseudonyms=pseudonymizer) for r in records]
    return lake.write(ds, rows, batch_id=batch_id or uuid.uuid4().hex, source="test helper")
