"""docs/openapi.yaml, run against the local API server by schemathesis (property-based).

Every operation of the document is called with requests that conform to it (``positive``) and
with requests that do not (``negative``: wrong types, missing or extra fields, values out of
range), each carrying a valid credential for the operation (a bearer token of a province-wide
role it accepts, or a real Open311 API key put into the body), so that the generated input,
not the lack of a token, is what gets judged. No answer may be a 5xx or a dropped connection;
every answer must have a documented status code and content type, and a body that matches the
documented schema.

Examples per operation are few, derandomized and without a deadline, so the whole run costs
seconds and the same each time; ``tests/integration/test_api_raw_http.py`` covers what
schemathesis cannot send (bytes that are not UTF-8, broken framing, deep nesting).

Needs ``schemathesis`` (a development dependency); skipped with the reason when it is missing.
"""

from __future__ import annotations

from typing import Any

import pytest

from localcloud.cloud import LocalCloud
from tests.conftest import ROOT
from tests.integration.conftest import role_for

schemathesis = pytest.importorskip(
    "schemathesis", reason="schemathesis is not installed (pip install 'schemathesis>=4.0,<5')"
)
from hypothesis import HealthCheck, given, settings  # noqa: E402  (schemathesis brings hypothesis)
from schemathesis import GenerationMode  # noqa: E402
from schemathesis.checks import (  # noqa: E402
    content_type_conformance,
    not_a_server_error,
    response_schema_conformance,
    status_code_conformance,
)

pytestmark = pytest.mark.integration

CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_schema_conformance,
]


def _operations() -> dict[str, Any]:
    loaded = schemathesis.openapi.from_path(ROOT / "docs" / "openapi.yaml")
    return {op.label: op for op in (r.ok() for r in loaded.get_all_operations())}


OPERATIONS = _operations()


def _cases() -> list[tuple[str, GenerationMode]]:
    """Every operation positively; negatively those with something to get wrong."""
    cases = []
    for label, operation in sorted(OPERATIONS.items()):
        cases.append((label, GenerationMode.POSITIVE))
        parts = (operation.path_parameters, operation.query, operation.headers, operation.body)
        if any(len(part) for part in parts):
            cases.append((label, GenerationMode.NEGATIVE))
    return cases


@pytest.mark.parametrize(("label", "mode"), _cases(), ids=lambda v: str(getattr(v, "value", v)))
def test_every_operation_answers_as_documented(
    label: str, mode: GenerationMode, cloud: LocalCloud, api_key: str, tokens: dict[str, str]
) -> None:
    operation = OPERATIONS[label]
    role = role_for(operation.definition.raw.get("security", []))

    # schemathesis's pytest plugin does not run with this pytest; plain Hypothesis does.
    @settings(
        max_examples=6,
        deadline=None,
        derandomize=True,
        database=None,
        suppress_health_check=list(HealthCheck),
    )
    @given(case=operation.as_strategy(generation_mode=mode))
    def check(case: Any) -> None:
        if role is not None:
            case.headers = {**(case.headers or {}), "Authorization": f"Bearer {tokens[role]}"}
        if case.method == "POST" and "/open311/" in case.path and isinstance(case.body, dict):
            # A valid key, so the generated complaint itself is what gets judged (400 or 201).
            case.body["api_key"] = api_key
        case.call_and_validate(base_url=cloud.api.url, checks=CHECKS)

    check()
