"""A record made fit for a dataset: privacy policy applied, projected on the columns, typed.

Every path into the lake (the ingestion functions, the batch import, the test helper) goes
through :func:`prepare`, so no record lands without its dataset's privacy policy, and a value of
the wrong type is refused with the column's name instead of failing the whole write in pyarrow.
"""

from __future__ import annotations

import contextlib
import math
from collections.abc import Mapping
from datetime import UTC, date, datetime
from typing import Any

from gyeonggi.common.clock import KST
from gyeonggi.common.errors import InvalidInput
from gyeonggi.datadam.datasets import Column, Dataset
from gyeonggi.datadam.privacy import Pseudonyms, apply_policy

#: The longest string a column takes; longer is a mistake upstream, not data to keep.
MAX_STRING = 4096
_LONG_MIN, _LONG_MAX = -(2**63), 2**63 - 1


class RecordError(InvalidInput):
    """A record that cannot land in its dataset; ``field`` names the column at fault."""

    code = "bad_record"


def _timestamp(value: Any) -> datetime:
    if isinstance(value, datetime):
        moment = value
    elif isinstance(value, str):
        moment = datetime.fromisoformat(value.replace("Z", "+00:00"))
    elif isinstance(value, int | float) and not isinstance(value, bool) and math.isfinite(value):
        # Epoch milliseconds, as devices and DynamoDB items carry them.
        moment = datetime.fromtimestamp(value / 1000, UTC)
    else:
        raise ValueError("is not a time (ISO 8601 or epoch milliseconds)")
    if moment.tzinfo is None:
        raise ValueError("has no time zone")
    return moment.astimezone(UTC)


def _date(value: Any) -> date:
    if isinstance(value, datetime):
        return value.astimezone(KST).date() if value.tzinfo else value.date()
    if isinstance(value, date):
        return value
    if isinstance(value, str) and len(value) == 10:
        return date.fromisoformat(value)
    if isinstance(value, str):
        return _timestamp(value).astimezone(KST).date()
    raise ValueError("is not a date (YYYY-MM-DD)")


def _long(value: Any) -> int:
    if isinstance(value, bool):
        raise ValueError("is a boolean, not an integer")
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    if isinstance(value, str) and value.strip().lstrip("-").isdigit():
        value = int(value.strip())
    if not isinstance(value, int):
        raise ValueError("is not an integer")
    if not _LONG_MIN <= value <= _LONG_MAX:
        raise ValueError("is out of range")
    return value


def _double(value: Any) -> float:
    if isinstance(value, bool):
        raise ValueError("is a boolean, not a number")
    if isinstance(value, str):
        value = float(value.strip())
    if not isinstance(value, int | float) or not math.isfinite(value):
        raise ValueError("is not a finite number")
    return float(value)


def _boolean(value: Any) -> bool:
    if isinstance(value, bool):
        return value
    if isinstance(value, str) and value.strip().lower() in ("true", "false"):
        return value.strip().lower() == "true"
    raise ValueError("is not true or false")


def _string(value: Any) -> str:
    if isinstance(value, bool) or not isinstance(value, str | int | float):
        raise ValueError("is not text")
    text = str(value)
    if len(text) > MAX_STRING:
        raise ValueError(f"is longer than {MAX_STRING} characters")
    return text


_CONVERT = {
    "string": _string,
    "long": _long,
    "double": _double,
    "boolean": _boolean,
    "date": _date,
    "timestamp": _timestamp,
}


def coerce(column: Column, value: Any) -> Any:
    """``value`` as the Python value of ``column``'s type; ``None`` stays ``None``.

    Raises
    ------
    RecordError
        Naming the column when the value has the wrong type or a required one is missing.
    """
    if value is None or value == "":
        if column.required:
            raise RecordError(f"{column.name} is required", field=column.name)
        return None
    try:
        return _CONVERT[column.type](value)
    except (ValueError, TypeError, OverflowError) as exc:
        reason = str(exc) if str(exc).startswith("is ") else f"is not a {column.type}"
        raise RecordError(f"{column.name} {reason}", field=column.name) from None


def prepare(
    dataset: Dataset,
    record: Mapping[str, Any],
    *,
    pseudonyms: Pseudonyms | None,
) -> dict[str, Any]:
    """The row ``record`` becomes in ``dataset``: privacy applied, then every column typed.

    A ``day`` column left empty is filled from the first timestamp column (its day in Korea),
    since a source rarely carries both.

    Raises
    ------
    RecordError
        The first column at fault.
    """
    if not isinstance(record, Mapping):
        raise RecordError("a record must be an object")
    first_time = next((c for c in dataset.columns if c.type == "timestamp"), None)
    as_of = date.today()
    if first_time is not None and record.get(first_time.name) not in (None, ""):
        # A bad time: the column's own check below names the problem.
        with contextlib.suppress(ValueError, TypeError):
            as_of = _date(record[first_time.name])
    safe = apply_policy(record, dataset.privacy, pseudonyms=pseudonyms, as_of=as_of)
    day = dataset.column(dataset.day_column)
    if day.type == "date" and safe.get(day.name) in (None, "") and first_time is not None:
        safe[day.name] = safe.get(first_time.name)
    return {c.name: coerce(c, safe.get(c.name)) for c in dataset.columns}


def key_of(dataset: Dataset, row: Mapping[str, Any]) -> tuple[Any, ...]:
    """A prepared row's identity in its dataset."""
    return tuple(row[k] for k in dataset.key_columns)
