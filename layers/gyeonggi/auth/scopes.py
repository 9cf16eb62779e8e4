"""Need-to-know scopes carried in a token: which cities and counties, which complexes.

The Personal Information Protection Act limits access to personal data to those who handle the
case, so a role alone grants nothing: a civil servant also needs the jurisdictions they serve
(Cognito custom attribute ``custom:jurisdictions``), an operator the industrial complexes they
watch (``custom:complexes``). Both are one string of ids separated by commas or spaces (Cognito
custom attributes are strings); the app client may read them but not write them, so nobody widens
their own scope. Members of the ``province`` group see every jurisdiction and every complex.

A claim that is missing or empty grants nothing (fail closed). A claim that is not a string,
longer than Cognito allows, or holds something that cannot be an id is malformed: the token is
refused, as a malformed roles claim is. A well-formed id that names nothing here grants nothing.
"""

from __future__ import annotations

import re
from typing import Any

from gyeonggi.common.errors import Unauthenticated

PROVINCE = "province"
JURISDICTIONS_CLAIM = "custom:jurisdictions"
COMPLEXES_CLAIM = "custom:complexes"
#: Cognito's limit on a custom string attribute.
MAX_SCOPE_CLAIM_LENGTH = 2048
#: More ids than the province has cities and complexes is a fault of the issuer, not a scope.
MAX_SCOPE_IDS = 200
# Jurisdiction ids (``suwon.gg.kr``) and complex ids (``banwol``, alarm_configs' pattern).
_ID = re.compile(r"[A-Za-z0-9_.-]{1,64}")
_SEPARATORS = re.compile(r"[,\s]+")


def parse_scope_claim(raw: Any, claim: str) -> frozenset[str]:
    """The ids of one scope claim, duplicates counted once.

    Parameters
    ----------
    raw
        The claim's value: ``None`` (absent), or a string of ids separated by commas and/or
        whitespace.
    claim
        The claim's name, for the error message.

    Raises
    ------
    Unauthenticated
        The value is not a string, is too long, has too many ids or an id that is not one.
    """
    if raw is None:
        return frozenset()
    if not isinstance(raw, str):
        raise Unauthenticated(f"token's {claim} claim is malformed (must be a string)")
    if len(raw) > MAX_SCOPE_CLAIM_LENGTH:
        raise Unauthenticated(f"token's {claim} claim is too long")
    ids = [part for part in _SEPARATORS.split(raw) if part]
    if len(ids) > MAX_SCOPE_IDS:
        raise Unauthenticated(f"token's {claim} claim names too many ids")
    if not all(_ID.fullmatch(i) for i in ids):
        raise Unauthenticated(f"token's {claim} claim holds a value that is not an id")
    return frozenset(ids)
