"""S3 event notifications, as a queue receives them: which objects they announce.

One reading for every consumer (the Data Dam's landing prefix and its CCTV analysis results):
S3's own ``s3:TestEvent`` announces nothing, and a record without a bucket and key is malformed,
an ``InvalidInput`` the consumer fails the message for.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any
from urllib.parse import unquote_plus

from gyeonggi.common.errors import InvalidInput


@dataclass(frozen=True)
class NotifiedObject:
    """An object a notification announces (the key decoded as S3 encodes it)."""

    bucket: str
    key: str
    size: int


def notified_objects(event: Any) -> list[NotifiedObject]:
    """The objects of a decoded notification, in order.

    Raises
    ------
    InvalidInput
        Not an S3 notification, or a record without bucket and key.
    """
    if not isinstance(event, Mapping):
        raise InvalidInput("body is not an S3 notification", field="body")
    if event.get("Event") == "s3:TestEvent":
        return []
    records = event.get("Records")
    if not isinstance(records, list):
        raise InvalidInput("body is not an S3 notification (no Records)", field="body")
    found = []
    for record in records:
        s3: Any = record.get("s3") if isinstance(record, Mapping) else None
        try:
            key = unquote_plus(s3["object"]["key"])
            found.append(
                NotifiedObject(s3["bucket"]["name"], key, int(s3["object"].get("size", 0)))
            )
        except (KeyError, TypeError, ValueError):
            raise InvalidInput("an S3 record without bucket and key", field="body") from None
    return found
