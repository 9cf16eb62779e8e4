"""``docs/openapi.yaml`` is valid OpenAPI 3.1 and says what the code does.

What is compared with what:

- the document against the OpenAPI 3.1 schema (``openapi-spec-validator``);
- the ``jurisdiction_id`` and ``service_code`` enums against lists generated here from
  ``gyeonggi.complaints.jurisdictions`` and ``gyeonggi.complaints.services``;
- ``ComplaintFields`` and ``CitizenProfile`` (property names, required fields, JSON types,
  bounds, enums, the e-mail and phone patterns) against the pydantic models' own JSON schema;
- the location rule (lat and long together, or address_string) against the model's validator,
  on a handful of cases;
- every request and response example against its schema (JSON Schema 2020-12), and every
  request example against the parsing the API itself does;
- the operations, their request content types and their roles against the Chalice routes of
  ``functions/api/`` (``app.py`` and the Blueprints of ``chalicelib/``) and of
  ``functions/forms_dialogue/app.py``, and the route table of
  ``functions/wallet_verifier/app.py``, read with ``ast`` (importing a handler would start
  Powertools).
"""

from __future__ import annotations

import ast
import copy
from collections.abc import Iterator
from datetime import date
from functools import cache
from pathlib import Path
from typing import Any

import pytest
import yaml
from jsonschema import Draft202012Validator
from referencing import Registry, Resource
from referencing.jsonschema import DRAFT202012

from gyeonggi.common.errors import InvalidInput
from gyeonggi.complaints import models
from gyeonggi.complaints.intake import parse_submission, submission_from_form
from gyeonggi.complaints.jurisdictions import JURISDICTIONS
from gyeonggi.complaints.models import CitizenProfile, ComplaintSubmission
from gyeonggi.complaints.services import SERVICES
from gyeonggi.complaints.updates import parse_update
from gyeonggi.forms.sessions import Preferences, StartRequest, message_text
from gyeonggi.forms.submission_access import parse_decision
from gyeonggi.wallet.enrolments import ResidentDetails
from gyeonggi.wallet.verifier_service import parse_request_body

ROOT = Path(__file__).resolve().parents[2]
OPENAPI = ROOT / "docs" / "openapi.yaml"
# The Chalice apps API Gateway routes to: the API function and the forms functions.
API_SOURCES = sorted(
    [
        *(ROOT / "functions" / "api").rglob("*.py"),
        ROOT / "functions" / "forms_dialogue" / "app.py",
        ROOT / "functions" / "form_submissions" / "app.py",
    ]
)
VERIFIER_SOURCE = ROOT / "functions" / "wallet_verifier" / "app.py"
HTTP_METHODS = frozenset({"get", "put", "post", "delete", "options", "head", "patch", "trace"})
_BASE = "urn:gyeonggi:openapi"
_COMPARED = (
    "minimum",
    "maximum",
    "exclusiveMinimum",
    "exclusiveMaximum",
    "minLength",
    "maxLength",
    "pattern",
    "enum",
)


@cache
def _document() -> dict[str, Any]:
    document: dict[str, Any] = yaml.safe_load(OPENAPI.read_text(encoding="utf-8"))
    return document


def _pointer(ref: str) -> Any:
    assert ref.startswith("#/"), f"only local references are used here, not {ref}"
    node: Any = _document()
    for part in ref[2:].split("/"):
        node = node[part.replace("~1", "/").replace("~0", "~")]
    return node


def _resolve(node: Any) -> Any:
    while isinstance(node, dict) and "$ref" in node:
        node = _pointer(node["$ref"])
    return node


def _schema(name: str) -> dict[str, Any]:
    schema: dict[str, Any] = _document()["components"]["schemas"][name]
    return schema


def _absolute_refs(node: Any) -> Any:
    """Point ``#/...`` references at the document registered under ``_BASE``."""
    if isinstance(node, dict):
        return {
            k: (_BASE + v if k == "$ref" and v.startswith("#") else _absolute_refs(v))
            for k, v in node.items()
        }
    if isinstance(node, list):
        return [_absolute_refs(v) for v in node]
    return node


def _validator(schema: dict[str, Any]) -> Draft202012Validator:
    resource = Resource.from_contents(_document(), default_specification=DRAFT202012)
    registry: Registry[Any] = Registry().with_resource(_BASE, resource)
    return Draft202012Validator(
        _absolute_refs(schema),
        registry=registry,
        format_checker=Draft202012Validator.FORMAT_CHECKER,
    )


def _operations() -> Iterator[tuple[str, str, dict[str, Any]]]:
    for path, item in _document()["paths"].items():
        for method, operation in item.items():
            if method in HTTP_METHODS:
                yield method, path, operation


# ------------------------------------------------------------------ the document


def test_document_is_valid_openapi_3_1() -> None:
    from openapi_spec_validator import OpenAPIV31SpecValidator, validate

    assert _document()["openapi"].startswith("3.1.")
    validate(_document(), cls=OpenAPIV31SpecValidator)


def test_enums_are_the_jurisdictions_and_services_of_the_code() -> None:
    generated = {
        "JurisdictionId": [j.id for j in JURISDICTIONS],
        "ServiceCode": [s.code for s in SERVICES],
    }
    assert len(generated["JurisdictionId"]) == 31
    for name, expected in generated.items():
        documented = _schema(name)["enum"]
        assert documented == expected, (
            f"components.schemas.{name}.enum: missing {sorted(set(expected) - set(documented))}, "
            f"unknown to the code {sorted(set(documented) - set(expected))} (or in another "
            f"order); the code's list, in order: {expected}"
        )


# ------------------------------------------------------------------ schemas vs pydantic models


def _summary(prop: dict[str, Any]) -> tuple[frozenset[str], dict[str, Any]]:
    """JSON types and constraints of a property, whether optional (anyOf / type list) or not."""
    types: set[str] = set()
    constraints: dict[str, Any] = {}
    for branch in prop.get("anyOf", [prop]):
        if "$ref" in branch:
            branch = _resolve(branch) if branch["$ref"].startswith("#/components") else {}
            types.add("object")
        kind = branch.get("type")
        types.update(kind if isinstance(kind, list) else [kind] if kind else [])
        constraints.update({k: branch[k] for k in _COMPARED if k in branch})
    return frozenset(types), constraints


@pytest.mark.parametrize(
    ("schema_name", "model"),
    [("ComplaintFields", ComplaintSubmission), ("CitizenProfile", CitizenProfile)],
)
def test_request_schema_matches_the_pydantic_model(schema_name: str, model: Any) -> None:
    documented = _schema(schema_name)
    expected = model.model_json_schema()
    assert set(documented["properties"]) == set(expected["properties"])
    assert set(documented.get("required", [])) == set(expected.get("required", []))
    problems = []
    for name, prop in expected["properties"].items():
        want_types, want = _summary(prop)
        got_types, got = _summary(_resolve(documented["properties"][name]))
        if want_types != got_types:
            problems.append(f"{name}: types {sorted(got_types)}, model {sorted(want_types)}")
        # The model checks jurisdictions, services, e-mail... in validators its JSON schema
        # does not show; those are compared separately. What the model does show must match.
        for key, value in want.items():
            if got.get(key) != value:
                problems.append(f"{name}.{key}: {got.get(key)!r}, model {value!r}")
    assert not problems, "\n".join(problems)


def test_patterns_are_the_models_regular_expressions() -> None:
    fields = _schema("ComplaintFields")["properties"]
    assert fields["email"]["pattern"] == models._EMAIL.pattern
    assert fields["phone"]["pattern"] == models._PHONE.pattern


_REQUIRED = {"jurisdiction_id": "suwon.gg.kr", "service_code": "noise", "description": "소음"}


@pytest.mark.parametrize(
    "location",
    [
        {"lat": 37.28, "long": 127.01},
        {"address_string": "수원시 팔달구 정조로 825"},
        {"lat": 37.28, "long": 127.01, "address_string": "수원시"},
        {"lat": None, "long": None, "address_string": "수원시"},
        {"lat": 37.28},
        {"long": 127.01, "address_string": "수원시"},
        {"lat": None, "long": None},
        {"lat": 91, "long": 127.01},
        {},
    ],
)
def test_location_rule_agrees_with_the_model(location: dict[str, Any]) -> None:
    submission = {**_REQUIRED, **location}
    schema_accepts = _validator(_schema("ComplaintSubmission")).is_valid(submission)
    try:
        parse_submission(submission)
        model_accepts = True
    except InvalidInput:
        model_accepts = False
    assert schema_accepts == model_accepts


# ------------------------------------------------------------------ examples


def _examples() -> Iterator[tuple[str, str, dict[str, Any], Any]]:
    """(where, media type, schema, value) of every request and response example."""
    for method, path, operation in _operations():
        body = _resolve(operation.get("requestBody", {}))
        for media, content in body.get("content", {}).items():
            for name, example in content.get("examples", {}).items():
                where = f"{method.upper()} {path} request {media} {name}"
                yield where, media, content["schema"], _resolve(example)["value"]
        for status, response in operation.get("responses", {}).items():
            for media, content in _resolve(response).get("content", {}).items():
                for name, example in content.get("examples", {}).items():
                    where = f"{method.upper()} {path} {status} {name}"
                    yield where, media, content["schema"], _resolve(example)["value"]


def test_every_example_matches_its_schema() -> None:
    problems = [
        f"{where}: {error.message} at {list(error.absolute_path)}"
        for where, _, schema, value in _examples()
        for error in _validator(schema).iter_errors(value)
    ]
    assert not problems, "\n".join(problems)


def _as_form(value: dict[str, Any]) -> dict[str, list[str]]:
    return {
        key: [str(v) for v in item] if isinstance(item, list) else [str(item)]
        for key, item in value.items()
    }


def test_request_examples_are_accepted_by_the_api_parsing() -> None:
    checked = 0
    for where, media, _, value in _examples():
        if " request " not in where:
            continue
        body = copy.deepcopy(value)
        # Form dialogues parse their own bodies (gyeonggi.forms.sessions).
        if where.startswith("POST /forms/sessions/{session_id}/messages "):
            message_text(body)
            checked += 1
            continue
        if where.startswith("POST /forms/sessions "):
            StartRequest.parse(body)
            checked += 1
            continue
        if where.startswith("PATCH /forms/sessions/{session_id} "):
            Preferences.parse(body)
            checked += 1
            continue
        if where.startswith("POST /forms/submissions/{submission_id}/decision "):
            parse_decision(body)
            checked += 1
            continue
        if where.startswith("POST /wallet/enrolments "):
            ResidentDetails.parse(body, today=date(2026, 12, 1))
            checked += 1
            continue
        if where.startswith(("POST /wallet/token ", "POST /wallet/credential ")):
            continue  # the codes and proofs of an example redeem nothing: the unit tests do
        # A status update is not a complaint: the handler parses it with its own model.
        if where.startswith("POST /complaints/{service_request_id}/updates "):
            parse_update(body)
            checked += 1
            continue
        # The wallet verifier's: a presentation request, or the wallet's form (its parts are
        # checked by the verifier's own tests).
        if where.startswith("POST /verifier/requests "):
            parse_request_body(body)
            checked += 1
            continue
        if where.startswith("POST /verifier/responses "):
            assert set(body) <= {"vp_token", "state", "error", "error_description"}, where
            continue
        # The CCTV registry's bodies: tests/contract/test_cctv_template.py parses them.
        if where.startswith(("POST /cctv/", "PATCH /cctv/")):
            continue
        # Analysts' queries: tests/contract/test_datadam_query_contract.py checks their SQL.
        if where.startswith("POST /datadam/"):
            continue
        # The handler takes api_key out of the body (and checks it) before parsing the rest.
        if media == "application/x-www-form-urlencoded":
            form = _as_form(body)
            assert form.pop("api_key", None), f"{where}: no api_key"
            submission_from_form(form)
        else:
            if "/open311/" in where:
                assert body.pop("api_key", None), f"{where}: no api_key"
            parse_submission(body)
        checked += 1
    assert checked >= 3


# ------------------------------------------------------------------ operations vs the Chalice app


def _calls(node: ast.AST, name: str) -> Iterator[ast.Call]:
    """Calls of ``name`` or of ``<module>.name`` under ``node``."""
    for call in ast.walk(node):
        if isinstance(call, ast.Call) and (
            (isinstance(call.func, ast.Name) and call.func.id == name)
            or (isinstance(call.func, ast.Attribute) and call.func.attr == name)
        ):
            yield call


def _chalice_routes() -> dict[tuple[str, str], tuple[frozenset[str], frozenset[str]]]:
    """(method, path) -> (content types, roles) of every ``.route`` view of the API function."""
    routes = {}
    for source in API_SOURCES:
        tree = ast.parse(source.read_text(encoding="utf-8"))
        for node in tree.body:
            if not isinstance(node, ast.FunctionDef):
                continue
            for decorator in node.decorator_list:
                if not (
                    isinstance(decorator, ast.Call)
                    and isinstance(decorator.func, ast.Attribute)
                    and decorator.func.attr == "route"
                ):
                    continue
                path = ast.literal_eval(decorator.args[0])
                options = {
                    k.arg: ast.literal_eval(k.value)
                    for k in decorator.keywords
                    if k.arg and k.arg != "content_types"
                }
                roles = frozenset(
                    ast.literal_eval(arg) for call in _calls(node, "principal") for arg in call.args
                )
                # The view names what it reads with accepted(...); Chalice lets every usual type
                # through so that a 415 has Open311's shape.
                accepted = [
                    ast.literal_eval(arg) for call in _calls(node, "accepted") for arg in call.args
                ]
                content_types = frozenset(accepted or ["application/json"])
                for method in options.get("methods", ["GET"]):
                    routes[(method.lower(), path)] = (content_types, roles)
    return routes


def _verifier_routes() -> dict[tuple[str, str], tuple[frozenset[str], frozenset[str]]]:
    """(method, path) -> (content types, roles) of the wallet verifier's route table."""
    tree = ast.parse(VERIFIER_SOURCE.read_text(encoding="utf-8"))
    constants: dict[str, Any] = {}
    views: dict[str, ast.FunctionDef] = {}
    table: ast.Dict | None = None
    for node in tree.body:
        if isinstance(node, ast.FunctionDef):
            views[node.name] = node
        target: ast.expr | None = None
        value: ast.expr | None = None
        if isinstance(node, ast.AnnAssign):
            target, value = node.target, node.value
        elif isinstance(node, ast.Assign) and len(node.targets) == 1:
            target, value = node.targets[0], node.value
        if not isinstance(target, ast.Name) or value is None:
            continue
        if target.id == "_ROUTES" and isinstance(value, ast.Dict):
            table = value
        elif target.id == "ROLES":
            constants["ROLES"] = ast.literal_eval(value)
    assert table is not None, "no _ROUTES in the verifier function"
    routes = {}
    for key, value in zip(table.keys, table.values, strict=True):
        method, path = ast.literal_eval(key)  # type: ignore[arg-type]
        view = views[value.elts[0].id]  # type: ignore[attr-defined]
        requires = list(_calls(view, "require"))
        roles = frozenset(constants["ROLES"]) if requires else frozenset()
        types = [ast.literal_eval(c.args[1]) for c in _calls(view, "_require_type")]
        routes[(method.lower(), path)] = (frozenset(types or ["application/json"]), roles)
    return routes


#: Tags of operations another function than the API's serves (read below with their own rules).
_OTHER_FUNCTIONS = {"wallet-issuer", "cctv", "datadam"}


def _api_operations() -> Iterator[tuple[str, str, dict[str, Any]]]:
    for method, path, operation in _operations():
        if not _OTHER_FUNCTIONS & set(operation.get("tags", [])):
            yield method, path, operation


def test_operations_are_the_chalice_routes_with_their_content_types_and_roles() -> None:
    routes = {**_chalice_routes(), **_verifier_routes()}
    documented = {(m, p): op for m, p, op in _api_operations()}
    assert set(documented) == set(routes), "documented operations differ from the app's routes"
    problems = []
    for key, operation in documented.items():
        content_types, roles = routes[key]
        where = f"{key[0].upper()} {key[1]}"
        body = _resolve(operation.get("requestBody", {}))
        if body and set(body["content"]) != content_types:
            documented_types = sorted(body["content"])
            problems.append(f"{where}: content {documented_types}, app {sorted(content_types)}")
        security = operation.get("security", _document().get("security", []))
        documented_roles = {
            role for requirement in security for listed in requirement.values() for role in listed
        }
        if documented_roles != roles:
            problems.append(f"{where}: roles {sorted(documented_roles)}, app {sorted(roles)}")
        if not roles and security:
            problems.append(f"{where}: the app asks no token, the document does")
        if roles and "401" not in operation["responses"]:
            problems.append(f"{where}: needs a token but documents no 401")
    assert not problems, "\n".join(problems)


# ------------------------------------------------------------------ the wallet issuer function

WALLET_ISSUER = ROOT / "functions" / "wallet_issuer" / "app.py"


def _resolver_routes(source: Path) -> dict[tuple[str, str], frozenset[str]]:
    """(method, path) -> roles of every ``@app.get/post(...)`` view of a Powertools resolver
    app; a view that calls ``_official()`` (directly or through a helper) takes civil servants."""
    tree = ast.parse(source.read_text(encoding="utf-8"))
    functions = {n.name: n for n in tree.body if isinstance(n, ast.FunctionDef)}

    def officials(node: ast.FunctionDef, seen: frozenset[str] = frozenset()) -> bool:
        for call in ast.walk(node):
            if isinstance(call, ast.Call) and isinstance(call.func, ast.Name):
                name = call.func.id
                if name == "_official":
                    return True
                if (
                    name in functions
                    and name not in seen
                    and officials(functions[name], seen | {name})
                ):
                    return True
        return False

    routes = {}
    for node in functions.values():
        for decorator in node.decorator_list:
            if (
                isinstance(decorator, ast.Call)
                and isinstance(decorator.func, ast.Attribute)
                and decorator.func.attr in ("get", "post")
            ):
                path = ast.literal_eval(decorator.args[0]).replace("<", "{").replace(">", "}")
                roles = frozenset({"civil-servant"}) if officials(node) else frozenset()
                routes[(decorator.func.attr, path)] = roles
    return routes


def test_wallet_issuer_operations_are_its_functions_routes_with_their_roles() -> None:
    routes = _resolver_routes(WALLET_ISSUER)
    documented = {(m, p): op for m, p, op in _operations() if "wallet-issuer" in op.get("tags", [])}
    assert set(documented) == set(routes)
    problems = []
    for key, operation in documented.items():
        where = f"{key[0].upper()} {key[1]}"
        security = operation.get("security", _document().get("security", []))
        roles = {
            role for requirement in security for listed in requirement.values() for role in listed
        }
        if roles != routes[key]:
            problems.append(f"{where}: roles {sorted(roles)}, function {sorted(routes[key])}")
        if security and "401" not in operation["responses"]:
            problems.append(f"{where}: needs a token but documents no 401")
    assert not problems, "\n".join(problems)
