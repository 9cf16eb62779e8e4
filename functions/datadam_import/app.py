"""The Data Dam's batch import: files landed in ``landing/{dataset}/`` -> Iceberg tables.

The bucket notifies ``DataDamImportQueue`` of each file; this function validates it row by row
and loads it (``gyeonggi.datadam.imports``): good rows in one commit, bad rows to
``import_rejects`` with the reason. A file refused as a whole (not CSV or JSON Lines, a header
outside the schema, too large) is recorded as a reject too and not retried: trying again would
not fix it. A message that is no S3 notification fails alone and is dead-lettered after three
receives; one redelivered imports nothing twice.
"""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools.utilities.batch import (
    BatchProcessor,
    EventType,
    process_partial_response,
)
from aws_lambda_powertools.utilities.data_classes.sqs_event import SQSRecord

from gyeonggi.common.aws import AwsClient
from gyeonggi.common.config import Settings
from gyeonggi.common.errors import InvalidInput
from gyeonggi.common.observability import observability
from gyeonggi.complaints.privacy import Pseudonymizer
from gyeonggi.datadam.imports import MAX_BYTES, format_of, import_file, reject_file
from gyeonggi.datadam.lake import Lake, LakeSettings
from gyeonggi.datadam.landing import LandedFile, landed_files

logger, tracer, metrics = observability()


class PseudonymSettings(Settings):
    pseudonym_key_id: str


class _S3:
    client = AwsClient("s3")


lake = Lake.from_settings(LakeSettings.from_env())
pseudonymizer = Pseudonymizer(PseudonymSettings.from_env().pseudonym_key_id)
s3 = _S3()
processor = BatchProcessor(event_type=EventType.SQS)


def _import(landed: LandedFile) -> dict[str, Any]:
    body = s3.client.get_object(Bucket=landed.bucket, Key=landed.key)["Body"]
    data = body.read(MAX_BYTES + 1)
    try:
        result = import_file(
            lake,
            landed.dataset_id,
            data,
            source=landed.key,
            fmt=format_of(landed.key),
            pseudonyms=pseudonymizer,
        )
    except InvalidInput as exc:
        logger.warning("file refused", extra={"key": landed.key, "reason": exc.message})
        metrics.add_metric(name="DataDamFilesRefused", unit="Count", value=1)
        return reject_file(
            lake, landed.dataset_id, data, source=landed.key, reason=exc.message
        ).summary()
    metrics.add_metric(name="DataDamRowsImported", unit="Count", value=result.loaded)
    metrics.add_metric(name="DataDamRowsRejected", unit="Count", value=len(result.rejects))
    summary = result.summary()
    logger.info("file imported", extra={k: v for k, v in summary.items() if k != "rejects"})
    return summary


@tracer.capture_method
def record_handler(record: SQSRecord) -> list[dict[str, Any]]:
    return [_import(f) for f in landed_files(record.body)]


@logger.inject_lambda_context
@tracer.capture_lambda_handler
@metrics.log_metrics
def handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    return dict(
        process_partial_response(
            event=event, record_handler=record_handler, processor=processor, context=context
        )
    )
