"""Personal data never leaves the restricted store: masking rules for logs and analytics.

Uses Powertools data masking (``DataMasking.erase``) with one list of JSONPath expressions that
name every field holding a person's contact details or identity.
"""

from __future__ import annotations

import re
import warnings
from functools import cache
from typing import Any

from aws_lambda_powertools.utilities.data_masking import DataMasking

#: Field names that identify or reach a person. Anywhere they appear, they are erased.
PERSONAL_FIELDS = (
    "email",
    "phone",
    "first_name",
    "last_name",
    "address_string",
    "device_id",
    "account_id",
    "birth_date",
    "name",
    # The wallet's enrolments (gyeonggi.wallet.enrolments) and its transaction codes; its
    # claims (SD-JWT VC of a resident) and what carries them: the verifier logs outcomes and
    # reason codes only, and these names are erased should one ever be logged.
    "given_name",
    "family_name",
    "birthdate",
    "address",
    "resident_since",
    "phone_number",
    "tx_code",
    "claims",
    "vp_token",
)

_PATHS = [f"$..{field}" for field in PERSONAL_FIELDS]

# A resident registration number (주민등록번호) anywhere in text: six digits, an optional dash,
# seven digits, not inside a longer run of digits. Petition forms hold them; whatever carries
# one (a log line, a reply, an event) shows only the birth date and the seventh digit.
_RRN = re.compile(r"(?<![0-9])([0-9]{6})(\s*[-‐‑–—]?\s*)([0-9])[0-9]{6}(?![0-9])")


def mask_rrn(value: str) -> str:
    """One RRN as ``YYMMDD-N******`` (birth date and the century/sex digit only)."""
    digits = [c for c in value if c.isascii() and c.isdigit()]
    if len(digits) != 13:
        return "******-*******"
    return "".join(digits[:6]) + "-" + digits[6] + "******"


def mask_rrns(text: str) -> str:
    """``text`` with every resident registration number in it masked (``YYMMDD-N******``)."""
    return _RRN.sub(lambda m: f"{m.group(1)}-{m.group(3)}******", text)


def mask_rrns_in(data: Any) -> Any:
    """A copy of JSON-like ``data`` with every RRN in any string masked (keys too)."""
    if isinstance(data, str):
        return mask_rrns(data)
    if isinstance(data, dict):
        return {mask_rrns_in(k): mask_rrns_in(v) for k, v in data.items()}
    if isinstance(data, list | tuple):
        return [mask_rrns_in(v) for v in data]
    return data


@cache
def _masker() -> DataMasking:
    return DataMasking(raise_on_missing_field=False)


def mask_personal_data(data: dict[str, Any] | list[Any] | tuple[Any, ...]) -> Any:
    """Return a copy of ``data`` with every personal field replaced by ``*****``."""
    if isinstance(data, list | tuple):
        # Powertools' masking traverses a dict or a JSON string only; a list (a log's ``extra``
        # value such as the cameras of a sweep) is masked item by item.
        return [
            mask_personal_data(v) if isinstance(v, dict | list | tuple) else mask_rrns_in(v)
            for v in data
        ]
    with warnings.catch_warnings():
        # Powertools warns for every path absent from this record; absence is the usual case.
        warnings.simplefilter("ignore", UserWarning)
        erased = _masker().erase(data, fields=_PATHS)
    return mask_rrns_in(erased)
