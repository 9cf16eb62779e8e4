"""docs/openapi.yaml, run against the local API server by schemathesis (property-based).

For the public Open311 GETs and the Open311 POST (with a real API key put into each generated
body), every generated request must be answered without a 5xx, with a documented status code
and content type, and with a body that matches the documented schema. Examples per operation
are few and there is no deadline, so the whole run stays within seconds.

Needs ``schemathesis`` (a development dependency); skipped with the reason when it is missing.
"""

from __future__ import annotations

from typing import Any

import pytest

from localcloud.cloud import LocalCloud
from tests.conftest import ROOT

schemathesis = pytest.importorskip(
    "schemathesis", reason="schemathesis is not installed (pip install 'schemathesis>=4.0,<5')"
)
from hypothesis import HealthCheck, given, settings  # noqa: E402  (schemathesis brings hypothesis)
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
    selected = loaded.include(path_regex="^/open311/v2/")
    return {op.label: op for op in (r.ok() for r in selected.get_all_operations())}


OPERATIONS = _operations()


@pytest.mark.parametrize("label", sorted(OPERATIONS))
def test_open311_answers_as_documented(label: str, cloud: LocalCloud, api_key: str) -> None:
    operation = OPERATIONS[label]

    # schemathesis's pytest plugin does not run with this pytest; plain Hypothesis does.
    @settings(
        max_examples=8,
        deadline=None,
        derandomize=True,
        database=None,
        suppress_health_check=list(HealthCheck),
    )
    @given(case=operation.as_strategy())
    def check(case: Any) -> None:
        if case.method == "POST" and isinstance(case.body, dict):
            # A valid key, so the generated complaint itself is what gets judged (400 or 201).
            case.body["api_key"] = api_key
        case.call_and_validate(base_url=cloud.api.url, checks=CHECKS)

    check()
