"""Rendered forms in the forms bucket: written with SSE-KMS, read through presigned links.

The rendering function writes (:meth:`S3Documents.put`); the submissions API gives a reader a
short-lived presigned ``GET`` (:meth:`S3Documents.link`), signed by that function's role, the
only one allowed to read the bucket. A presigned link is a bearer credential for its lifetime:
the API decides who gets one and for how long (docs/FORMS.md, "Who sees what").
"""

from __future__ import annotations

from typing import Any

from gyeonggi.common.aws import AwsClient


class S3Documents:
    """Rendered forms in the forms bucket: written with SSE-KMS, read through presigned links.

    Parameters
    ----------
    bucket
        The forms bucket.
    kms_key_id
        The key objects are encrypted with (the stack's ``DataKey``); the bucket's default
        encryption names it too, this makes every write say so.
    """

    s3 = AwsClient("s3")

    def __init__(
        self,
        bucket: str,
        kms_key_id: str | None = None,
        s3: Any | None = None,
        presigner: Any | None = None,
    ) -> None:
        self.bucket = bucket
        self.kms_key_id = kms_key_id
        if s3 is not None:
            self.s3 = s3
        self._presigner = presigner

    def put(self, key: str, body: bytes, content_type: str) -> None:
        extra: dict[str, Any] = {"ServerSideEncryption": "aws:kms"}
        if self.kms_key_id:
            extra["SSEKMSKeyId"] = self.kms_key_id
        self.s3.put_object(
            Bucket=self.bucket,
            Key=key,
            Body=body,
            ContentType=content_type,
            # A form is a personal document: no shared cache keeps it.
            CacheControl="private, no-store",
            **extra,
        )

    def link(self, key: str, expires_in: int, filename: str) -> str:
        """A presigned ``GET`` of ``key`` for ``expires_in`` seconds, shown inline."""
        if self._presigner is None:
            self._presigner = presigning_client()
        return str(
            self._presigner.generate_presigned_url(
                "get_object",
                Params={
                    "Bucket": self.bucket,
                    "Key": key,
                    "ResponseContentDisposition": f'inline; filename="{filename}"',
                    "ResponseCacheControl": "private, no-store",
                },
                ExpiresIn=expires_in,
            )
        )


def presigning_client() -> Any:
    """An S3 client for presigning: SigV4 (objects under SSE-KMS need it) and the regional
    virtual-host endpoint (the global one may redirect a new bucket's requests, and a redirect
    breaks the signature). Presigning is local computation: no request is made."""
    import boto3
    from botocore.config import Config

    return boto3.client(
        "s3", config=Config(signature_version="s3v4", s3={"addressing_style": "virtual"})
    )
