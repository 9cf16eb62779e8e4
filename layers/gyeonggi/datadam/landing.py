"""The S3 landing prefix: ``landing/{dataset}/{file}.csv|.jsonl`` in the Data Dam's bucket.

An outside system (or ``gyeonggi datadam import``) puts a file there; the bucket notifies the
import queue and the import function loads it (``imports``). The file stays where it is, for
the record and to be fixed when rows were rejected.
"""

from __future__ import annotations

import json
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from typing import Any
from urllib.parse import unquote_plus

from gyeonggi.common.errors import InvalidInput

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
        A body that is not an S3 notification. S3's ``s3:TestEvent`` yields nothing.
    """
    try:
        event = json.loads(body)
    except (ValueError, RecursionError):
        raise InvalidInput("body is not JSON", field="body") from None
    if not isinstance(event, Mapping):
        raise InvalidInput("body is not an S3 notification", field="body")
    if event.get("Event") == "s3:TestEvent":
        return
    records = event.get("Records")
    if not isinstance(records, list):
        raise InvalidInput("body is not an S3 notification (no Records)", field="body")
    for record in records:
        s3: Any = record.get("s3") if isinstance(record, Mapping) else None
        try:
            key = unquote_plus(s3["object"]["key"])
            found = LandedFile(s3["bucket"]["name"], key, int(s3["object"].get("size", 0)))
        except (KeyError, TypeError, ValueError):
            raise InvalidInput("an S3 record without bucket and key", field="body") from None
        if not key.startswith(PREFIX) or key.count("/") < 2:
            raise InvalidInput(f"{key}: not under {PREFIX}{{dataset}}/", field="key")
        yield found
