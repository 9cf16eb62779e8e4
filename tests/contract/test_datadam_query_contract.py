"""The Data Dam's query side as the template, the document and the code must agree on it:
the function's routes and roles are the documented operations, the documented request examples
are queries the checker accepts, and the IAM of the functions that query is read-only on the
lake, the workgroup enforces its results location and encryption."""

from __future__ import annotations

import ast
from typing import Any

from gyeonggi.datadam.queries import QueryService, parse_request
from localcloud.template import load_template
from tests.conftest import ROOT
from tests.contract.test_openapi import _document, _examples, _operations

APP = ROOT / "functions" / "datadam_api" / "app.py"
TEMPLATE = load_template(ROOT / "template.yaml")
RESOURCES: dict[str, Any] = TEMPLATE["Resources"]
QUERYING = ("DatadamApiFunction", "ComplaintVolumesFunction", "ProactiveNoticesFunction")


def _routes() -> dict[tuple[str, str], frozenset[str]]:
    """(method, path) -> roles of every view of the function (``_analyst()``: analyst)."""
    tree = ast.parse(APP.read_text(encoding="utf-8"))
    routes = {}
    for node in tree.body:
        if not isinstance(node, ast.FunctionDef):
            continue
        for decorator in node.decorator_list:
            if (
                isinstance(decorator, ast.Call)
                and isinstance(decorator.func, ast.Attribute)
                and decorator.func.attr in ("get", "post")
            ):
                path = ast.literal_eval(decorator.args[0]).replace("<", "{").replace(">", "}")
                analyst = any(
                    isinstance(c, ast.Call)
                    and isinstance(c.func, ast.Name)
                    and c.func.id == "_analyst"
                    for c in ast.walk(node)
                )
                routes[(decorator.func.attr, path)] = frozenset({"analyst"} if analyst else ())
    return routes


def test_the_datadam_operations_are_the_functions_routes_with_their_roles() -> None:
    routes = _routes()
    documented = {(m, p): op for m, p, op in _operations() if "datadam" in op.get("tags", [])}
    assert set(documented) == set(routes)
    for key, operation in documented.items():
        security = operation.get("security", _document().get("security", []))
        roles = {r for requirement in security for listed in requirement.values() for r in listed}
        assert roles == routes[key], key
        if roles:
            assert "401" in operation["responses"] and "403" in operation["responses"], key
        else:
            assert security == [], f"{key}: the function asks no token, the document must not"


def test_the_documented_queries_are_accepted_by_the_checker() -> None:
    service = QueryService(engine=None)  # type: ignore[arg-type]
    checked = 0
    for where, _, _, value in _examples():
        if where.startswith("POST /datadam/queries ") and " request " in where:
            request = parse_request(value)
            assert service.statement(request.sql).datasets, where
            checked += 1
    assert checked >= 1


def _statements(logical_id: str) -> list[dict[str, Any]]:
    out = []
    for policy in RESOURCES[logical_id]["Properties"].get("Policies", []):
        if isinstance(policy, dict) and "Statement" in policy:
            out.extend(policy["Statement"])
    return out


def _actions(statement: dict[str, Any]) -> list[str]:
    actions = statement["Action"]
    return [actions] if isinstance(actions, str) else list(actions)


def test_the_querying_functions_only_read_the_lake() -> None:
    for logical_id in QUERYING:
        statements = _statements(logical_id)
        actions = {a for s in statements for a in _actions(s)}
        assert {"athena:StartQueryExecution", "glue:GetTable", "s3:GetObject"} <= actions
        assert not {a for a in actions if a.startswith("glue:") and not a.startswith("glue:Get")}
        for statement in statements:
            resource = str(statement["Resource"])
            if "DataDamBucket" in resource:
                assert set(_actions(statement)) <= {
                    "s3:GetObject",
                    "s3:ListBucket",
                    "s3:GetBucketLocation",
                }, logical_id
            if any(a.startswith("athena:") for a in _actions(statement)):
                assert "workgroup/${DatadamWorkGroup}" in resource, logical_id


def test_the_workgroup_enforces_its_encrypted_results_and_a_scan_cutoff() -> None:
    config = RESOURCES["DatadamWorkGroup"]["Properties"]["WorkGroupConfiguration"]
    assert config["EnforceWorkGroupConfiguration"] is True
    assert config["BytesScannedCutoffPerQuery"] <= 10**10
    assert config["ResultConfiguration"]["EncryptionConfiguration"]["EncryptionOption"] == "SSE_KMS"
    assert "DatadamResultsBucket" in str(config["ResultConfiguration"]["OutputLocation"])
    rules = RESOURCES["DatadamResultsBucket"]["Properties"]["LifecycleConfiguration"]["Rules"]
    assert any(r.get("ExpirationInDays") for r in rules)


def test_the_api_function_queries_athena_in_aws_within_api_gateways_timeout() -> None:
    function = RESOURCES["DatadamApiFunction"]["Properties"]
    variables = function["Environment"]["Variables"]
    assert variables["DATADAM_QUERY_ENGINE"] == "athena"
    assert float(variables["DATADAM_TIME_LIMIT_SECONDS"]) < function["Timeout"] < 29
    requirements = (ROOT / "functions/datadam_api/requirements.txt").read_text()
    # The request path reads Glue and the Iceberg metadata with boto3: no pyiceberg, no pyarrow.
    assert "pyiceberg" not in requirements and "pyarrow" not in requirements
    assert "duckdb" not in requirements
