"""Powertools Logger, Tracer and Metrics, set up in one neutral place.

Service name, namespace and log level come from the standard Powertools variables that the
template sets (``POWERTOOLS_SERVICE_NAME``, ``POWERTOOLS_METRICS_NAMESPACE``,
``POWERTOOLS_LOG_LEVEL``); handlers ask for the three objects and decorate with them.
"""

from __future__ import annotations

import copy
import logging
import os
import sys
import warnings
from typing import Any

from aws_lambda_powertools import Logger, Metrics, Tracer
from aws_lambda_powertools.metrics.provider.cloudwatch_emf.cloudwatch import (
    AmazonCloudWatchEMFProvider,
)

from gyeonggi.common.privacy import PERSONAL_FIELDS, mask_personal_data, mask_rrns

# A function that had nothing to count in one invocation is normal, not worth a warning.
warnings.filterwarnings("ignore", message="No application metrics to publish")

_STANDARD_ATTRS = frozenset(vars(logging.LogRecord("", 0, "", 0, "", None, None))) | {
    "message",
    "asctime",
}


class _PersonalDataFilter(logging.Filter):
    """Erase personal fields from a record's message and extra keys before it is written."""

    def filter(self, record: logging.LogRecord) -> bool:
        if isinstance(record.msg, dict | list):
            record.msg = mask_personal_data(record.msg)
        elif isinstance(record.msg, str):
            # A resident registration number in a message (or an exception's text) is masked
            # wherever it is: the forms dialogue handles them.
            record.msg = mask_rrns(record.msg)
        if record.args:
            record.msg, record.args = mask_rrns(record.getMessage()), None
        if record.exc_info and record.exc_info[1] is not None:
            record.exc_info = (record.exc_info[0], _masked(record.exc_info[1]), record.exc_info[2])
            if record.exc_text:
                record.exc_text = mask_rrns(record.exc_text)
        for key, value in list(vars(record).items()):
            if key in _STANDARD_ATTRS:
                continue
            if key in PERSONAL_FIELDS:
                setattr(record, key, "*****")
            elif isinstance(value, dict | list):
                setattr(record, key, mask_personal_data(value))
            elif isinstance(value, str):
                setattr(record, key, mask_rrns(value))
        return True


def _masked(exc: BaseException) -> BaseException:
    """``exc`` with any resident registration number in its arguments masked: Powertools writes
    the exception's text and value into the log line. A copy when the exception allows one."""
    if not any(isinstance(a, str) and mask_rrns(a) != a for a in exc.args):
        return exc
    try:
        masked = copy.copy(exc)
    except Exception:  # an exception that cannot be copied is masked in place
        masked = exc
    masked.args = tuple(mask_rrns(a) if isinstance(a, str) else a for a in exc.args)
    return masked


class _CurrentStdout:
    """Writes to whatever ``sys.stdout`` is now, not what it was at cold start.

    In Lambda that is the same stream; the local cloud's runner swaps it per invocation to keep
    each invocation's log lines apart.
    """

    def write(self, text: str) -> int:
        return sys.stdout.write(text)

    def flush(self) -> None:
        sys.stdout.flush()


def observability(service: str | None = None) -> tuple[Logger, Tracer, Metrics]:
    """Return the (logger, tracer, metrics) triple for one function.

    The logger masks personal data before a record is written, so a log line can never carry
    what the restricted contact store keeps.
    """
    kwargs: dict[str, Any] = {"service": service} if service else {}
    name = service or os.environ.get("POWERTOOLS_SERVICE_NAME") or "service_undefined"
    # A second Logger of one service (the local cloud loading a function again in the same
    # process) skips Powertools' set-up and must find its formatter on the first one's handler.
    handler = getattr(logging.getLogger(name), "powertools_handler", None)
    logger = Logger(**kwargs, logger_handler=handler or logging.StreamHandler(_CurrentStdout()))
    logger.addFilter(_PersonalDataFilter())
    # Only boto calls are traced: patching every supported library costs cold-start time
    # (requests, httpx...) that these functions never use.
    # Metrics of its own: Powertools shares one metric set among every Metrics() of a process,
    # which two functions sharing a process (the local cloud) would flush for each other.
    metrics = Metrics(**kwargs, provider=AmazonCloudWatchEMFProvider(**kwargs))
    return logger, Tracer(**kwargs, patch_modules=["botocore"]), metrics
