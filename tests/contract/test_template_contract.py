"""Contract tests: template.yaml, the code, the state machines and the API description agree.

These tests read files and never deploy anything; together they take a few seconds. Each one
collects *every* problem it finds and fails with the whole list, so one run says everything that
is missing.

Conventions the tests hold the repository to
--------------------------------------------
- A function's ``CodeUri`` is ``functions/<dir>/``; the folder has the module its ``Handler``
  names (``app.handler`` -> ``functions/<dir>/app.py`` defining ``handler``, checked with ``ast``,
  never imported).
- A function's sample events are ``events/<dir>/*.json`` (``sam local invoke -e`` takes them).
- A sample event counts as *used by a test* when a test module outside ``tests/contract``
  contains a string literal equal to, or ending in ``/`` followed by, the event's path relative
  to ``events/`` -- ``"<dir>/<file>.json"``, the argument ``tests.conftest.load_event`` takes.
  So ``load_event("api/x.json")``, ``EVENTS / "api/x.json"`` and ``"events/api/x.json"`` all count;
  a path assembled from pieces (``EVENTS / "api" / "x.json"``, f-strings) does not, on purpose:
  the literal is what a reader greps for.
- Every Task state has ``Retry`` and a ``Catch`` that includes ``States.ALL`` (a failure is
  recorded, never just dropped). A state may be exempted only by an entry in
  ``_NO_CATCH_BY_DESIGN`` that says why; there are none today.
- IAM: no role or policy may grant DynamoDB, SQS, SNS or S3 actions on ``"*"`` (or on an ARN
  whose resource part is only a wildcard). The few account-level listing actions, which cannot
  be scoped, are the only exceptions (``_ACCOUNT_LEVEL_ACTIONS``).
"""

from __future__ import annotations

import ast
import json
import os
import re
from collections.abc import Iterator
from functools import cache
from pathlib import Path
from typing import Any

import yaml

from localcloud.template import Artifact, load_template, package, parameter_values, transform

ROOT = Path(__file__).resolve().parents[2]
TEMPLATE = ROOT / "template.yaml"
OPENAPI = ROOT / "docs" / "openapi.yaml"
EVENTS = ROOT / "events"
FUNCTIONS = ROOT / "functions"
STATE_MACHINES = ROOT / "statemachines"
TESTS = ROOT / "tests"
REGION = "ap-northeast-2"

HTTP_METHODS = frozenset({"get", "put", "post", "delete", "options", "head", "patch", "trace"})
_PLACEHOLDER = re.compile(r"\$\{([^}]*)\}")

#: (state machine file, state path) -> why that Task state has no Catch. Empty on purpose.
_NO_CATCH_BY_DESIGN: dict[tuple[str, str], str] = {}

_SCOPED_SERVICES = ("dynamodb", "sqs", "sns", "s3")
#: Actions that act on the account, not on a table, queue, topic or bucket: "*" is their only
#: possible resource.
_ACCOUNT_LEVEL_ACTIONS = frozenset(
    {
        "dynamodb:listtables",
        "dynamodb:describelimits",
        "dynamodb:describeendpoints",
        "sqs:listqueues",
        "sns:listtopics",
        "sns:listsubscriptions",
        "s3:listallmybuckets",
    }
)
# An ARN of one of those services whose resource part is nothing but a wildcard
# ("arn:aws:sqs:*:*:*", "arn:${AWS::Partition}:dynamodb:...:table/*", "arn:aws:s3:::*").
_WILDCARD_ARN = re.compile(
    r"^arn:[^:]*:(dynamodb|sqs|sns|s3):[^:]*:[^:]*:(table/)?\*(/\*)?$", re.IGNORECASE
)


# ------------------------------------------------------------------ shared, computed once


class _RecordingS3:
    """Stands in for S3 when packaging: ``localcloud.template.package`` only calls put_object."""

    def __init__(self) -> None:
        self.uploads: dict[str, int] = {}

    def put_object(self, *, Bucket: str, Key: str, Body: bytes) -> None:
        self.uploads[f"s3://{Bucket}/{Key}"] = len(Body)


@cache
def _source() -> dict[str, Any]:
    return load_template(TEMPLATE)


@cache
def _packaged() -> tuple[dict[str, Any], dict[str, Artifact], dict[str, int]]:
    s3 = _RecordingS3()
    template, artifacts = package(_source(), ROOT, s3, "contract-test-artifacts")
    return template, artifacts, s3.uploads


@cache
def _transformed() -> dict[str, Any]:
    # aws-sam-translator reads the region from the environment; leave the process as it was.
    saved = os.environ.get("AWS_DEFAULT_REGION")
    try:
        return transform(_packaged()[0], parameter_values(_source(), {}), REGION)
    finally:
        if saved is None:
            os.environ.pop("AWS_DEFAULT_REGION", None)
        else:
            os.environ["AWS_DEFAULT_REGION"] = saved


def _of_type(template: dict[str, Any], resource_type: str) -> dict[str, dict[str, Any]]:
    return {
        logical_id: spec
        for logical_id, spec in template.get("Resources", {}).items()
        if spec.get("Type") == resource_type
    }


def _properties(spec: dict[str, Any]) -> dict[str, Any]:
    props = spec.get("Properties", {})
    return props if isinstance(props, dict) else {}


def _function_property(spec: dict[str, Any], name: str) -> Any:
    """A function's property, or the template's ``Globals.Function`` default for it."""
    props = _properties(spec)
    if name in props:
        return props[name]
    return _source().get("Globals", {}).get("Function", {}).get(name)


def _function_dir(code_uri: Any) -> str | None:
    """``functions/<dir>/`` -> ``<dir>``; anything else breaks the convention."""
    if not isinstance(code_uri, str):
        return None
    parts = Path(code_uri).parts
    return parts[1] if len(parts) == 2 and parts[0] == "functions" else None


def _referenced_logical_id(value: Any) -> str | None:
    """The logical id a ``Ref`` or ``Fn::GetAtt`` points to, if ``value`` is one."""
    if isinstance(value, dict) and len(value) == 1:
        if "Ref" in value and isinstance(value["Ref"], str):
            return value["Ref"]
        att = value.get("Fn::GetAtt")
        if isinstance(att, list) and att and isinstance(att[0], str):
            return att[0]
        if isinstance(att, str):
            return att.split(".", 1)[0]
    return None


def _as_list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else [value]


# ------------------------------------------------------------------ the template itself


def test_template_passes_cfn_lint_without_errors_or_warnings() -> None:
    from cfnlint.api import ManualArgs, lint_file

    matches = lint_file(TEMPLATE, ManualArgs(regions=[REGION]))
    assert not matches, "cfn-lint:\n" + "\n".join(
        f"  {m.rule.id} line {m.linenumber}: {m.message}" for m in matches
    )


def test_template_packages_and_transforms_with_aws_sam_translator() -> None:
    _, artifacts, uploads = _packaged()
    local = {
        logical_id
        for logical_id, spec in _source()["Resources"].items()
        if spec["Type"].startswith("AWS::Serverless::")
        and any(
            isinstance(_properties(spec).get(p), str)
            and not _properties(spec)[p].startswith("s3://")
            for p in ("CodeUri", "ContentUri", "DefinitionUri")
        )
    }
    assert set(artifacts) == local, "every local CodeUri/ContentUri/DefinitionUri is packaged"
    assert len(uploads) == len(artifacts)

    transformed = _transformed()
    left = sorted(
        f"{logical_id} ({spec['Type']})"
        for logical_id, spec in transformed["Resources"].items()
        if spec["Type"].startswith("AWS::Serverless::")
    )
    assert not left, f"not transformed: {left}"
    assert "Transform" not in transformed
    for logical_id in _of_type(_source(), "AWS::Serverless::Function"):
        assert _of_type(transformed, "AWS::Lambda::Function").get(logical_id), logical_id


# ------------------------------------------------------------------ functions, folders, events


def _module_defines(path: Path, name: str) -> bool:
    """Whether the module at ``path`` binds ``name`` at top level (def, class, =, import)."""
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    for node in tree.body:
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef):
            if node.name == name:
                return True
        elif isinstance(node, ast.Assign):
            if any(isinstance(t, ast.Name) and t.id == name for t in node.targets):
                return True
        elif isinstance(node, ast.AnnAssign):
            target = node.target
            if isinstance(target, ast.Name) and target.id == name and node.value is not None:
                return True
        elif isinstance(node, ast.Import | ast.ImportFrom) and any(
            (alias.asname or alias.name.split(".")[0]) == name for alias in node.names
        ):
            return True
    return False


@cache
def _test_string_literals() -> dict[Path, frozenset[str]]:
    """Every string literal of every test module outside ``tests/contract``."""
    literals: dict[Path, frozenset[str]] = {}
    for path in sorted(TESTS.rglob("*.py")):
        if (TESTS / "contract") in path.parents:
            continue
        tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
        literals[path] = frozenset(
            node.value
            for node in ast.walk(tree)
            if isinstance(node, ast.Constant) and isinstance(node.value, str)
        )
    return literals


def _tests_using(event: Path) -> list[Path]:
    relative = event.relative_to(EVENTS).as_posix()
    return [
        path
        for path, strings in _test_string_literals().items()
        if any(s == relative or s.endswith("/" + relative) for s in strings)
    ]


def _function_dirs() -> dict[str, str]:
    """Logical id -> folder under functions/ (or a problem description)."""
    return {
        logical_id: _function_dir(_function_property(spec, "CodeUri")) or ""
        for logical_id, spec in _of_type(_source(), "AWS::Serverless::Function").items()
    }


def test_every_function_has_its_folder_handler_sample_events_and_a_test() -> None:
    problems: list[str] = []
    for logical_id, spec in _of_type(_source(), "AWS::Serverless::Function").items():
        code_uri = _function_property(spec, "CodeUri")
        folder = _function_dir(code_uri)
        if folder is None:
            problems.append(f"{logical_id}: CodeUri {code_uri!r} is not functions/<dir>/")
            continue
        if not (FUNCTIONS / folder).is_dir():
            problems.append(f"{logical_id}: functions/{folder}/ does not exist")
            continue
        if not (FUNCTIONS / folder / "app.py").is_file():
            problems.append(f"{logical_id}: functions/{folder}/app.py does not exist")
        handler = _function_property(spec, "Handler")
        if not isinstance(handler, str) or "." not in handler:
            problems.append(f"{logical_id}: Handler {handler!r} is not module.attribute")
        else:
            module, _, attribute = handler.rpartition(".")
            source = FUNCTIONS / folder / (module.replace(".", "/") + ".py")
            if not source.is_file():
                if source != FUNCTIONS / folder / "app.py":  # reported above
                    problems.append(f"{logical_id}: {source.relative_to(ROOT)} does not exist")
            elif not _module_defines(source, attribute):
                problems.append(
                    f"{logical_id}: {source.relative_to(ROOT)} defines no top-level {attribute!r}"
                )
        events = sorted((EVENTS / folder).glob("*.json"))
        if not events:
            problems.append(f"{logical_id}: no sample event in events/{folder}/*.json")
        elif not any(_tests_using(e) for e in events):
            problems.append(
                f"{logical_id}: no test loads any of events/{folder}/*.json "
                f'(write e.g. load_event("{folder}/{events[0].name}") in a test)'
            )
    assert not problems, "functions:\n  " + "\n  ".join(problems)


def _settings_classes() -> dict[str, tuple[list[str], dict[str, bool]]]:
    """Every class in layers/ and functions/: name -> (base names, {field: required})."""
    classes: dict[str, tuple[list[str], dict[str, bool]]] = {}
    for path in [*(ROOT / "layers").rglob("*.py"), *FUNCTIONS.rglob("*.py")]:
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.ClassDef):
                fields = {
                    stmt.target.id: stmt.value is None
                    for stmt in node.body
                    if isinstance(stmt, ast.AnnAssign) and isinstance(stmt.target, ast.Name)
                }
                bases = [b.id for b in node.bases if isinstance(b, ast.Name)]
                classes[node.name] = (bases, fields)
    return classes


def _required_variables(
    name: str, classes: dict[str, tuple[list[str], dict[str, bool]]]
) -> set[str]:
    bases, fields = classes[name]
    required = {field.upper() for field, needed in fields.items() if needed}
    for base in bases:
        if base in classes and base != "Settings":
            required |= _required_variables(base, classes)
    return required


def _is_settings(name: str, classes: dict[str, tuple[list[str], dict[str, bool]]]) -> bool:
    bases = classes.get(name, ([], {}))[0]
    return "Settings" in bases or any(_is_settings(b, classes) for b in bases if b != name)


def test_every_variable_a_function_requires_is_declared_for_it() -> None:
    """A function's ``Settings`` (its own, or one from the layer it names) read only variables
    the template gives that function; the local runner relies on it (keys one function sets
    stay in the process for the next, so an undeclared read would pass locally)."""
    classes = _settings_classes()
    settings = {name for name in classes if _is_settings(name, classes)}
    globals_ = set(
        _source().get("Globals", {}).get("Function", {}).get("Environment", {}).get("Variables", {})
    )
    problems: list[str] = []
    for logical_id, spec in _of_type(_source(), "AWS::Serverless::Function").items():
        folder = _function_dirs()[logical_id]
        declared = globals_ | set(
            (_properties(spec).get("Environment") or {}).get("Variables") or {}
        )
        names: set[str] = set()
        for path in (FUNCTIONS / folder).rglob("*.py"):
            tree = ast.parse(path.read_text(encoding="utf-8"))
            names |= {n.id for n in ast.walk(tree) if isinstance(n, ast.Name)}
            names |= {n.name for n in ast.walk(tree) if isinstance(n, ast.ClassDef)}
        used = names & settings
        if not used:
            problems.append(f"{logical_id}: uses no Settings class")
        for name in sorted(used):
            for variable in sorted(_required_variables(name, classes) - declared):
                problems.append(f"{logical_id}: {name} needs {variable}, not in its Environment")
    assert not problems, "\n".join(problems)


def test_every_function_folder_and_events_folder_belongs_to_a_function() -> None:
    declared = set(_function_dirs().values())
    folders = {p.parent.name for p in FUNCTIONS.glob("*/app.py")}
    event_folders = {p.name for p in EVENTS.iterdir() if p.is_dir()} if EVENTS.is_dir() else set()
    problems = [f"functions/{f}/ is not the CodeUri of any function" for f in folders - declared]
    problems += [f"events/{f}/ is not the folder of any function" for f in event_folders - declared]
    assert not problems, "\n".join(sorted(problems))


def test_every_sample_event_is_json_and_used_by_a_test() -> None:
    problems: list[str] = []
    for event in sorted(EVENTS.rglob("*.json")):
        name = event.relative_to(ROOT).as_posix()
        try:
            if not isinstance(json.loads(event.read_text(encoding="utf-8")), dict):
                problems.append(f"{name}: not a JSON object")
        except ValueError as exc:
            problems.append(f"{name}: not JSON ({exc})")
        if not _tests_using(event):
            problems.append(f"{name}: no test loads it")
    assert not problems, "sample events:\n  " + "\n  ".join(problems)


# ------------------------------------------------------------------ state machines


def _state_machine_files() -> list[Path]:
    return sorted(STATE_MACHINES.glob("*.asl.json"))


def _definition_uris() -> dict[str, tuple[Any, dict[str, Any]]]:
    """Logical id -> (DefinitionUri, DefinitionSubstitutions) of every state machine."""
    return {
        logical_id: (
            _properties(spec).get("DefinitionUri"),
            _properties(spec).get("DefinitionSubstitutions") or {},
        )
        for logical_id, spec in _of_type(_source(), "AWS::Serverless::StateMachine").items()
    }


def test_every_state_machine_file_is_deployed_and_every_definition_exists() -> None:
    files = {p.relative_to(ROOT).as_posix() for p in _state_machine_files()}
    uris = _definition_uris()
    referenced = {uri for uri, _ in uris.values() if isinstance(uri, str)}
    problems = [f"{f} is not the DefinitionUri of any state machine" for f in files - referenced]
    for logical_id, (uri, _) in uris.items():
        if not isinstance(uri, str):
            problems.append(f"{logical_id}: DefinitionUri must be a file in statemachines/")
        elif uri not in files:
            problems.append(f"{logical_id}: DefinitionUri {uri} is not statemachines/*.asl.json")
    assert not problems, "\n".join(sorted(problems))


def test_state_machines_pass_statelint() -> None:
    from statelint.linter import Linter

    # The files keep their ${Placeholders}: statelint accepts them where a resource is expected.
    problems = [
        f"{path.relative_to(ROOT)}: {problem}"
        for path in _state_machine_files()
        for problem in Linter.validate(str(path))
    ]
    assert not problems, "statelint:\n  " + "\n  ".join(problems)


def test_placeholders_and_definition_substitutions_match() -> None:
    problems: list[str] = []
    for logical_id, (uri, substitutions) in _definition_uris().items():
        if not isinstance(uri, str) or not (ROOT / uri).is_file():
            continue  # reported by the test above
        used = set(_PLACEHOLDER.findall((ROOT / uri).read_text(encoding="utf-8")))
        given = set(substitutions)
        if used - given:
            problems.append(f"{logical_id}: no DefinitionSubstitutions for {sorted(used - given)}")
        if given - used:
            problems.append(f"{logical_id}: {uri} never uses {sorted(given - used)}")
    assert not problems, "\n".join(problems)


def _task_states(states: dict[str, Any], prefix: str = "") -> Iterator[tuple[str, dict[str, Any]]]:
    """Every Task state, including those inside Parallel branches and Map processors."""
    for name, state in states.items():
        path = f"{prefix}{name}"
        if state.get("Type") == "Task":
            yield path, state
        for i, branch in enumerate(state.get("Branches", [])):
            yield from _task_states(branch.get("States", {}), f"{path}.Branches[{i}].")
        for key in ("ItemProcessor", "Iterator"):
            if isinstance(state.get(key), dict):
                yield from _task_states(state[key].get("States", {}), f"{path}.{key}.")


def test_every_task_state_retries_and_catches_everything() -> None:
    problems: list[str] = []
    for path in _state_machine_files():
        definition = json.loads(path.read_text(encoding="utf-8"))
        for state_path, state in _task_states(definition.get("States", {})):
            where = f"{path.name}: {state_path}"
            if not state.get("Retry"):
                problems.append(f"{where} has no Retry")
            if (path.name, state_path) in _NO_CATCH_BY_DESIGN:
                continue
            catchers = state.get("Catch") or []
            if not catchers:
                problems.append(f"{where} has no Catch")
            elif not any("States.ALL" in c.get("ErrorEquals", []) for c in catchers):
                problems.append(f"{where}: no Catch covers States.ALL")
    assert not problems, "\n".join(problems)


# ------------------------------------------------------------------ queues, encryption, IAM


def test_every_sqs_event_source_has_a_redrive_policy_to_a_dead_letter_queue() -> None:
    transformed = _transformed()
    queues = _of_type(transformed, "AWS::SQS::Queue")
    problems: list[str] = []
    for logical_id, spec in _of_type(transformed, "AWS::Lambda::EventSourceMapping").items():
        source_arn = _properties(spec).get("EventSourceArn")
        queue_id = _referenced_logical_id(source_arn)
        if queue_id not in queues:
            if queue_id in transformed["Resources"]:
                continue  # a stream or another source that is not a queue
            problems.append(f"{logical_id}: event source {source_arn!r} is not a queue here")
            continue
        redrive = _properties(queues[queue_id]).get("RedrivePolicy")
        if not isinstance(redrive, dict):
            problems.append(f"{queue_id} feeds {logical_id} but has no RedrivePolicy")
            continue
        target = _referenced_logical_id(redrive.get("deadLetterTargetArn"))
        if target not in queues:
            problems.append(f"{queue_id}: deadLetterTargetArn is not a queue of this template")
        if not redrive.get("maxReceiveCount"):
            problems.append(f"{queue_id}: RedrivePolicy has no maxReceiveCount")
    assert not problems, "\n".join(problems)


def test_every_dead_letter_and_failure_queue_pages_the_operators() -> None:
    """Work that did not happen waits in these queues; an alarm must say so at once."""
    transformed = _transformed()
    queues = _of_type(transformed, "AWS::SQS::Queue")
    waiting = {q for q in queues if q.endswith(("DeadLetterQueue", "FailureQueue"))}
    # Every queue something dead-letters into counts, whatever its name.
    for spec in [*queues.values(), *_of_type(transformed, "AWS::Lambda::Function").values()]:
        props = _properties(spec)
        targets = (
            props.get("RedrivePolicy", {}).get("deadLetterTargetArn"),
            props.get("DeadLetterConfig", {}).get("TargetArn"),
        )
        waiting |= {t for t in map(_referenced_logical_id, targets) if t in queues}
    # So do asynchronous invocations' on-failure destinations and topic rules' error actions.
    for spec in _of_type(transformed, "AWS::Lambda::EventInvokeConfig").values():
        failure = _properties(spec).get("DestinationConfig", {}).get("OnFailure", {})
        waiting |= {t for t in [_referenced_logical_id(failure.get("Destination"))] if t in queues}
    for spec in _of_type(transformed, "AWS::IoT::TopicRule").values():
        error_action = _properties(spec).get("TopicRulePayload", {}).get("ErrorAction", {})
        url = error_action.get("Sqs", {}).get("QueueUrl")
        waiting |= {t for t in [_referenced_logical_id(url)] if t in queues}
    watched: dict[str, list[Any]] = {}
    for spec in _of_type(transformed, "AWS::CloudWatch::Alarm").values():
        props = _properties(spec)
        if props.get("Namespace") != "AWS/SQS":
            continue
        for dimension in props.get("Dimensions", []):
            if dimension.get("Name") == "QueueName":
                queue = _referenced_logical_id(dimension.get("Value"))
                watched[str(queue)] = props.get("AlarmActions", [])
    problems = [f"{q}: no alarm on its depth" for q in sorted(waiting - set(watched))]
    problems += [
        f"{q}: its alarm does not notify OpsAlertsTopic"
        for q, actions in sorted(watched.items())
        if "OpsAlertsTopic" not in {_referenced_logical_id(a) for a in actions}
    ]
    assert len(waiting) >= 10 and not problems, "\n".join(problems)


def _truthy(value: Any) -> bool:
    return value is True or str(value).lower() == "true"


def test_every_table_queue_topic_and_bucket_is_encrypted_at_rest() -> None:
    checks = {
        "AWS::DynamoDB::Table": (
            "SSESpecification.SSEEnabled",
            lambda p: _truthy((p.get("SSESpecification") or {}).get("SSEEnabled")),
        ),
        "AWS::SQS::Queue": (
            "KmsMasterKeyId or SqsManagedSseEnabled",
            lambda p: bool(p.get("KmsMasterKeyId")) or _truthy(p.get("SqsManagedSseEnabled")),
        ),
        "AWS::SNS::Topic": ("KmsMasterKeyId", lambda p: bool(p.get("KmsMasterKeyId"))),
        "AWS::S3::Bucket": (
            "BucketEncryption",
            lambda p: bool(
                (p.get("BucketEncryption") or {}).get("ServerSideEncryptionConfiguration")
            ),
        ),
    }
    problems = [
        f"{logical_id} ({resource_type}) needs {needs}"
        for resource_type, (needs, encrypted) in checks.items()
        for logical_id, spec in _of_type(_transformed(), resource_type).items()
        if not encrypted(_properties(spec))
    ]
    assert not problems, "not encrypted at rest:\n  " + "\n  ".join(problems)


#: What API Gateway answers itself that must have Open311's shape, and the status of each.
_GATEWAY_RESPONSES = {
    "MISSING_AUTHENTICATION_TOKEN": "404",
    "DEFAULT_4XX": None,
    "DEFAULT_5XX": None,
}


def test_api_gateway_answers_in_open311_shape_with_the_status_it_names() -> None:
    problems = []
    for logical_id, spec in _of_type(_transformed(), "AWS::ApiGateway::RestApi").items():
        declared = (
            _properties(spec).get("Body", {}).get("x-amazon-apigateway-gateway-responses", {})
        )
        for response_type, status in _GATEWAY_RESPONSES.items():
            if response_type not in declared:
                problems.append(f"{logical_id}: no {response_type} gateway response")
            elif status and declared[response_type].get("statusCode") != status:
                problems.append(f"{logical_id}: {response_type} must answer {status}")
        for response_type, response in declared.items():
            where = f"{logical_id} {response_type}"
            try:
                body = json.loads(response["responseTemplates"]["application/json"])
                (error,) = body
                code, description = error["code"], error["description"]
            except (KeyError, TypeError, ValueError) as exc:
                problems.append(f"{where}: not an Open311 error body in JSON ({exc!r})")
                continue
            # Templates are not VTL: the body's code is fixed, so the status must be too.
            if str(code) != response.get("statusCode") or not description:
                problems.append(f"{where}: code {code} with status {response.get('statusCode')}")
    assert not problems, "\n".join(problems)


def _policy_documents(transformed: dict[str, Any]) -> Iterator[tuple[str, dict[str, Any]]]:
    for logical_id, spec in transformed["Resources"].items():
        props = _properties(spec)
        if spec["Type"] == "AWS::IAM::Role":
            for policy in props.get("Policies", []):
                yield f"{logical_id}/{policy.get('PolicyName')}", policy.get("PolicyDocument", {})
        elif spec["Type"] in ("AWS::IAM::Policy", "AWS::IAM::ManagedPolicy"):
            yield logical_id, props.get("PolicyDocument", {})


def _unscoped(resource: Any) -> bool:
    if isinstance(resource, dict) and "Fn::Sub" in resource:
        sub = resource["Fn::Sub"]
        resource = sub[0] if isinstance(sub, list) else sub
    if not isinstance(resource, str):
        return False  # Ref / GetAtt name one resource
    # ${AWS::Partition} and friends hold colons; any substituted name counts as a name.
    resource = _PLACEHOLDER.sub("x", resource.strip())
    return resource == "*" or bool(_WILDCARD_ARN.match(resource))


def _data_plane(action: Any) -> bool:
    if not isinstance(action, str):
        return False
    lowered = action.lower()
    if lowered == "*":
        return True
    service = lowered.split(":", 1)[0]
    return service in _SCOPED_SERVICES and lowered not in _ACCOUNT_LEVEL_ACTIONS


def _denies_every_topic(document: dict[str, Any]) -> bool:
    """Whether ``document`` denies ``sns:Publish`` on every topic: then an Allow of it on
    ``"*"`` can only send SMS to phone numbers, which have no ARN to name (the wallet's
    tx_code)."""
    for statement in _as_list(document.get("Statement", [])):
        if (
            isinstance(statement, dict)
            and statement.get("Effect") == "Deny"
            and "sns:publish" in [str(a).lower() for a in _as_list(statement.get("Action", []))]
            and any(_unscoped(r) for r in _as_list(statement.get("Resource", [])))
        ):
            return True
    return False


def test_no_policy_grants_data_plane_actions_on_every_resource() -> None:
    problems: list[str] = []
    for where, document in _policy_documents(_transformed()):
        sms_only = _denies_every_topic(document)
        for statement in _as_list(document.get("Statement", [])):
            if not isinstance(statement, dict) or statement.get("Effect") != "Allow":
                continue
            actions = [a for a in _as_list(statement.get("Action", [])) if _data_plane(a)]
            if sms_only:
                actions = [a for a in actions if str(a).lower() != "sns:publish"]
            if not actions:
                continue
            if "NotResource" in statement:
                problems.append(f"{where}: {actions} with NotResource")
            elif any(_unscoped(r) for r in _as_list(statement.get("Resource", []))):
                problems.append(f"{where}: {actions} on an unscoped resource")
    assert not problems, "IAM not scoped:\n  " + "\n  ".join(problems)


# ------------------------------------------------------------------ routes vs docs/openapi.yaml


def _template_routes() -> set[tuple[str, str]]:
    routes: set[tuple[str, str]] = set()
    for spec in _of_type(_source(), "AWS::Serverless::Function").values():
        for event in (_properties(spec).get("Events") or {}).values():
            if event.get("Type") in ("Api", "HttpApi"):
                props = event.get("Properties", {})
                routes.add((str(props["Method"]).lower(), str(props["Path"])))
    return routes


def test_template_routes_and_openapi_operations_are_the_same() -> None:
    assert OPENAPI.is_file(), f"{OPENAPI.relative_to(ROOT)} is missing"
    document = yaml.safe_load(OPENAPI.read_text(encoding="utf-8"))
    documented = {
        (method, path)
        for path, item in (document.get("paths") or {}).items()
        for method in item
        if method in HTTP_METHODS
    }
    routes = _template_routes()
    problems = [
        f"{m.upper()} {p}: in template.yaml, not in docs/openapi.yaml"
        for m, p in sorted(routes - documented)
    ]
    problems += [
        f"{m.upper()} {p}: in docs/openapi.yaml, not a route of template.yaml"
        for m, p in sorted(documented - routes)
    ]
    assert not problems, "\n".join(problems)


def test_the_alarm_path_reserves_concurrency_only_when_asked() -> None:
    """0 (the default) must leave the property out: a reservation of 0 throttles every call."""
    from localcloud.intrinsics import Resolver

    source = _source()
    spec = _function_property(
        _of_type(source, "AWS::Serverless::Function")["TelemetryFunction"],
        "ReservedConcurrentExecutions",
    )
    resolved = {}
    for value in (0, 300):
        resolver = Resolver(
            parameters=parameter_values(source, {"AlarmPathReservedConcurrency": value}),
            pseudo={},
            ref=lambda name: name,
            get_att=lambda name, attribute: name,
            conditions=source.get("Conditions"),
        )
        resolved[value] = resolver.resolve({"ReservedConcurrentExecutions": spec})
    assert resolved == {0: {}, 300: {"ReservedConcurrentExecutions": 300}}


def test_the_incident_function_knows_its_queues_last_receive_and_dead_letter_queue() -> None:
    """It pages evidence on the last receive before SQS would dead-letter it unseen: the count
    and the queue it is given must be the evidence queue's own redrive policy."""
    source = _source()
    fn = _of_type(source, "AWS::Serverless::Function")["IncidentFunction"]
    env = _properties(fn)["Environment"]["Variables"]
    (event,) = _properties(fn)["Events"].values()
    queue = _referenced_logical_id(event["Properties"]["Queue"])
    redrive = _properties(_of_type(source, "AWS::SQS::Queue")[str(queue)])["RedrivePolicy"]
    assert int(env["EVIDENCE_MAX_RECEIVES"]) == int(redrive["maxReceiveCount"])
    assert _referenced_logical_id(env["EVIDENCE_DLQ_URL"]) == _referenced_logical_id(
        redrive["deadLetterTargetArn"]
    )


def test_only_the_wallet_issuer_may_sign_with_the_wallet_key() -> None:
    """kms:Sign is granted by one IAM policy (the wallet issuer's role, on its key only) and
    the key policy lets only principals tagged as this stack's wallet signer use it: the tag
    the function (and SAM, on its role) carries."""
    transformed = _transformed()
    signers: dict[str, list[str]] = {}
    for where, document in _policy_documents(transformed):
        for statement in _as_list(document.get("Statement", [])):
            if not isinstance(statement, dict) or statement.get("Effect") != "Allow":
                continue
            actions = [str(a).lower() for a in _as_list(statement.get("Action", []))]
            if "kms:sign" in actions or "kms:*" in actions:
                key = statement["Resource"]["Fn::GetAtt"][0]
                signers.setdefault(key, []).append(where)
    # Each signing key has one signer: the issuer's credentials key, the verifier's request key.
    assert signers == {
        "WalletSigningKey": ["WalletIssuerFunctionRole/WalletIssuerFunctionRolePolicy0"],
        "WalletVerifierKey": ["WalletVerifierFunctionRole/WalletVerifierFunctionRolePolicy0"],
    }

    key = _properties(_of_type(transformed, "AWS::KMS::Key")["WalletSigningKey"])
    assert (key["KeySpec"], key["KeyUsage"]) == ("ECC_NIST_P256", "SIGN_VERIFY")
    grants = [
        s
        for s in key["KeyPolicy"]["Statement"]
        if any(str(a).lower() in ("kms:sign", "kms:*") for a in _as_list(s["Action"]))
    ]
    (grant,) = grants
    (tag,) = grant["Condition"]["StringEquals"].items()
    role = _properties(transformed["Resources"]["WalletIssuerFunctionRole"])
    tags = {t["Key"]: t["Value"] for t in role["Tags"]}
    assert tag[0] == "aws:PrincipalTag/gyeonggi-wallet-signer"
    assert tags["gyeonggi-wallet-signer"] == tag[1] == {"Ref": "AWS::StackName"}


def test_the_wallet_issuer_identifier_is_configured_from_its_domain_never_a_request() -> None:
    """``CREDENTIAL_ISSUER`` is https:// + the WalletIssuerDomain parameter (empty without one,
    and the function refuses to start); the custom domain maps the stage at its root."""
    source = _source()
    fn = _of_type(source, "AWS::Serverless::Function")["WalletIssuerFunction"]
    assert _properties(fn)["Environment"]["Variables"]["CREDENTIAL_ISSUER"] == {
        "Fn::If": ["HasWalletDomain", {"Fn::Sub": "https://${WalletIssuerDomain}"}, ""]
    }
    mapping = _properties(source["Resources"]["WalletBasePathMapping"])
    assert "BasePath" not in mapping  # the stage at the domain's root: /.well-known/ is there
    assert source["Resources"]["WalletDomainName"]["Condition"] == "CreateWalletDomain"


# ------------------------------------------------------------------ wallet: verifier


def _role_statements(transformed: dict[str, Any], role: str) -> list[dict[str, Any]]:
    return [
        statement
        for where, document in _policy_documents(transformed)
        if where.startswith(f"{role}/")
        for statement in _as_list(document.get("Statement", []))
        if isinstance(statement, dict)
    ]


def _grants(statements: list[dict[str, Any]]) -> set[tuple[str, str]]:
    """(action, resource as text) of every Allow statement."""
    return {
        (str(action), json.dumps(statement["Resource"], sort_keys=True))
        for statement in statements
        if statement.get("Effect") == "Allow"
        for action in _as_list(statement.get("Action", []))
    }


def _att(logical_id: str) -> str:
    return json.dumps({"Fn::GetAtt": [logical_id, "Arn"]})


def test_the_wallet_verifier_and_identity_check_hold_only_what_they_use() -> None:
    transformed = _transformed()
    verifier = _grants(_role_statements(transformed, "WalletVerifierFunctionRole"))
    parameter = json.dumps(
        {
            "Fn::Sub": "arn:${AWS::Partition}:ssm:${AWS::Region}:${AWS::AccountId}:"
            "parameter/${AWS::StackName}/wallet/verifier-certificate-chain"
        }
    )
    assert verifier == {
        ("dynamodb:PutItem", _att("PresentationRequestsTable")),
        ("dynamodb:GetItem", _att("PresentationRequestsTable")),
        ("dynamodb:UpdateItem", _att("PresentationRequestsTable")),
        ("kms:Decrypt", _att("DataKey")),
        ("kms:GenerateDataKey", _att("DataKey")),
        ("kms:Sign", _att("WalletVerifierKey")),
        ("kms:GetPublicKey", _att("WalletVerifierKey")),
        ("ssm:GetParameter", parameter),
    }
    check = _grants(_role_statements(transformed, "IdentityCheckFunctionRole"))
    assert check == {
        ("dynamodb:GetItem", _att("PresentationRequestsTable")),
        ("kms:Decrypt", _att("DataKey")),
    }
    # The parameter the function reads is the one its policy names.
    source = _source()["Resources"]
    variables = _properties(source["WalletVerifierFunction"])["Environment"]["Variables"]
    assert variables["VERIFIER_CERTIFICATE_PARAMETER"] == {
        "Fn::Sub": "/${AWS::StackName}/wallet/verifier-certificate-chain"
    }


def test_the_presentation_requests_table_expires_items_and_is_encrypted_with_the_data_key() -> None:
    table = _properties(_source()["Resources"]["PresentationRequestsTable"])
    assert table["TimeToLiveSpecification"] == {"AttributeName": "ttl", "Enabled": True}
    assert table["SSESpecification"]["KMSMasterKeyId"] == {"Ref": "DataKey"}
    key = _properties(_source()["Resources"]["WalletVerifierKey"])
    assert (key["KeySpec"], key["KeyUsage"]) == ("ECC_NIST_P256", "SIGN_VERIFY")


def test_the_verifiers_routes_are_its_own_function_and_png_is_binary() -> None:
    routes = {
        (str(e["Properties"]["Method"]), str(e["Properties"]["Path"]))
        for e in (
            _properties(_source()["Resources"]["WalletVerifierFunction"]).get("Events") or {}
        ).values()
    }
    assert routes == {
        ("post", "/verifier/requests"),
        ("get", "/verifier/requests/{request_id}"),
        ("get", "/verifier/requests/{request_id}/qr.png"),
        ("get", "/verifier/request-objects/{request_id}"),
        ("post", "/verifier/responses"),
    }
    api = _properties(_source()["Resources"]["GyeonggiApi"])
    assert "image~1png" in api["BinaryMediaTypes"]
