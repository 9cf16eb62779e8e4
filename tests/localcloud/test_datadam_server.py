"""moto's server and its in-process mock share one state: what the local cloud relies on to
serve the Data Dam to pyarrow (HTTP only) while everything else is intercepted in-process."""

from __future__ import annotations

import os
from collections.abc import Iterator
from typing import Any

import boto3
import pyarrow.fs as pafs
import pytest
from moto import mock_aws

from localcloud.datadam import REGION, start_server


@pytest.fixture
def mocked_and_served(monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    for key, value in {
        "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": "testing",
        "AWS_DEFAULT_REGION": REGION,
    }.items():
        monkeypatch.setenv(key, value)
    with mock_aws():
        server, endpoint = start_server()
        try:
            yield endpoint
        finally:
            server.stop()


def test_the_server_and_the_in_process_mock_see_the_same_buckets_and_tables(
    mocked_and_served: str,
) -> None:
    endpoint = mocked_and_served
    # In-process (intercepted by the mock), then seen over HTTP by pyarrow's C++ S3 client
    s3: Any = boto3.client("s3", region_name=REGION)
    s3.create_bucket(Bucket="shared", CreateBucketConfiguration={"LocationConstraint": REGION})
    s3.put_object(Bucket="shared", Key="a/in-process.txt", Body=b"mocked")
    fs = pafs.S3FileSystem(
        endpoint_override=endpoint.removeprefix("http://"),
        scheme="http",
        access_key=os.environ["AWS_ACCESS_KEY_ID"],
        secret_key=os.environ["AWS_SECRET_ACCESS_KEY"],
        region=REGION,
    )
    with fs.open_input_stream("shared/a/in-process.txt") as f:
        assert f.read() == b"mocked"
    # Over HTTP (pyarrow), then seen in-process
    with fs.open_output_stream("shared/b/over-http.txt") as f:
        f.write(b"served")
    assert s3.get_object(Bucket="shared", Key="b/over-http.txt")["Body"].read() == b"served"
    # Glue: a database made over HTTP is there in-process
    http_glue = boto3.client("glue", region_name=REGION, endpoint_url=endpoint)
    http_glue.create_database(DatabaseInput={"Name": "shared_db"})
    names = [
        d["Name"] for d in boto3.client("glue", region_name=REGION).get_databases()["DatabaseList"]
    ]
    assert "shared_db" in names
