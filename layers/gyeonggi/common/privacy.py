"""Personal data never leaves the restricted store: masking rules for logs and analytics.

Uses Powertools data masking (``DataMasking.erase``) with one list of JSONPath expressions that
name every field holding a person's contact details or identity.
"""

from __future__ import annotations

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


@cache
def _masker() -> DataMasking:
    return DataMasking(raise_on_missing_field=False)


def mask_personal_data(data: dict[str, Any] | list[Any]) -> Any:
    """Return a copy of ``data`` with every personal field replaced by ``*****``."""
    with warnings.catch_warnings():
        # Powertools warns for every path absent from this record; absence is the usual case.
        warnings.simplefilter("ignore", UserWarning)
        return _masker().erase(data, fields=_PATHS)
