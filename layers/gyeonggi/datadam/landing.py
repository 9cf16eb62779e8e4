"""The S3 landing prefix: ``landing/{dataset}/{file}.csv|.jsonl`` in the Data Dam's bucket.

An outside system (or ``gyeonggi datadam import``) puts a file there; the bucket notifies the
import queue and the import function loads it (``imports``). The file stays where it is, for
the record and to be fixed when rows were rejected.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass

from gyeonggi.common.errors import InvalidInput
from gyeonggi.common.s3_notifications import notified_objects

PREFIX = "landing/"


@dataclass(frozen=True)
class LandedFile:
    """A file put in the landing prefix."""

    bucket: str
    key: str
    size: int

    @property
    def dataset_id(self) -> str:
        return self.key[len(PREFIX) :].split("/", 1)[0]


def landing_key(dataset_id: str, name: str) -> str:
    """Where a file for ``dataset_id`` is put."""
    return f"{PREFIX}{dataset_id}/{name.rsplit('/', 1)[-1]}"


def landed_files(body: str) -> Iterator[LandedFile]:
    """The files an S3 event notification (an SQS message's body) announces.

    Raises
    ------
    InvalidInput
        A body that is not an S3 notification, or a file outside the landing prefix. S3's
        ``s3:TestEvent`` yields nothing.
    """
    try:
        event = json.loads(body)
    except (ValueError, RecursionError):
        raise InvalidInput("body is not JSON", field="body") from None
    for found in notified_objects(event):
        if not found.key.startswith(PREFIX) or found.key.count("/") < 2:
            raise InvalidInput(f"{found.key}: not under {PREFIX}{{dataset}}/", field="key")
        yield LandedFile(found.bucket, found.key, found.size)
