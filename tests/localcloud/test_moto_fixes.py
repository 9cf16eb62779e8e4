"""The local cloud's corrections to moto: a bucket policy statement whose condition does not
hold applies to nothing (moto denies everything with it), and moto is restored afterwards."""

from __future__ import annotations

import json
from collections.abc import Iterator

import boto3
import pytest
from moto import mock_aws

from localcloud import moto_fixes

POLICY = {
    "Version": "2012-10-17",
    "Statement": [
        {
            "Sid": "TlsOnly",
            "Effect": "Deny",
            "Principal": "*",
            "Action": "s3:*",
            "Resource": ["arn:aws:s3:::forms-test", "arn:aws:s3:::forms-test/*"],
            "Condition": {"Bool": {"aws:SecureTransport": "false"}},
        },
        {
            "Sid": "NoDeletes",
            "Effect": "Deny",
            "Principal": "*",
            "Action": "s3:DeleteObject",
            "Resource": "arn:aws:s3:::forms-test/*",
        },
    ],
}


@pytest.fixture
def s3(monkeypatch: pytest.MonkeyPatch) -> Iterator[object]:
    for key, value in {
        "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": "testing",
        "AWS_DEFAULT_REGION": "ap-northeast-2",
    }.items():
        monkeypatch.setenv(key, value)
    with mock_aws():
        client = boto3.client("s3", region_name="ap-northeast-2")
        client.create_bucket(
            Bucket="forms-test", CreateBucketConfiguration={"LocationConstraint": "ap-northeast-2"}
        )
        client.put_bucket_policy(Bucket="forms-test", Policy=json.dumps(POLICY))
        yield client


def test_a_conditional_deny_applies_to_nothing_and_an_unconditional_one_still_denies(
    s3: object,
) -> None:
    from botocore.exceptions import ClientError

    client: object = s3
    with pytest.raises(ClientError):  # moto as it is: the TLS-only statement denies all
        client.put_object(Bucket="forms-test", Key="a", Body=b"x")  # type: ignore[attr-defined]
    moto_fixes.install()
    try:
        moto_fixes.install()  # idempotent
        client.put_object(Bucket="forms-test", Key="a", Body=b"x")  # type: ignore[attr-defined]
        with pytest.raises(ClientError):
            client.delete_object(Bucket="forms-test", Key="a")  # type: ignore[attr-defined]
    finally:
        moto_fixes.uninstall()
    with pytest.raises(ClientError):
        client.put_object(Bucket="forms-test", Key="b", Body=b"x")  # type: ignore[attr-defined]
