"""The second target: template.yaml deployed as a real CloudFormation stack into LocalStack.

For testers with Docker. LocalStack runs the SAM transform, CloudFormation, Lambda (each
function in a container of the official ``python3.12`` image), SQS with event source mappings,
Step Functions with its service integrations, DynamoDB, SNS, KMS and API Gateway (REST) -- so,
unlike the embedded cloud, nothing here is emulated by this project: the stack is deployed as
``sam deploy`` would deploy it. ``docs/LOCALSTACK.md`` walks through it.

What this module does, in order (:func:`deploy_to_localstack`):

1. asks ``/_localstack/health`` which services run, and refuses to go on without the ones the
   stack cannot do without (``REQUIRED_SERVICES``);
2. removes the resources whose service the LocalStack in front of it lacks (``OPTIONAL_SERVICES``,
   see below) and puts a placeholder where the rest of the template referred to them;
3. builds the code as ``sam build`` would, under ``.aws-sam/localstack/``: the layer gets its
   dependencies (``layers/requirements.txt``) under ``python/``, each function its own
   (``functions/<dir>/requirements.txt``), installed by pip as wheels for Linux and the host's
   CPU. Each function's package *also* carries the layer's content, because LocalStack's free
   plan creates layers but does not apply them to functions;
4. uploads the artifacts with :func:`localcloud.template.package` into a bucket of LocalStack's
   S3 and creates the stack from the packaged template (LocalStack transforms it), then waits
   for ``CREATE_COMPLETE`` within a time limit and returns outputs and physical ids.

What works there and what does not
-----------------------------------
- Works: the Open311 API-key route through API Gateway (``POST /open311/v2/requests.json``),
  the intake queue -> intake function -> Step Functions -> privacy function -> DynamoDB / SNS
  chain, the redrive of malformed messages to the dead-letter queue, ``GET`` of a stored
  request. These are what ``tests/localstack`` exercises.
- Cognito (``cognito-idp``) is not part of every LocalStack plan. Without it the user pool, its
  client and groups are left out, and the API function's ``AUTH_ISSUER``, ``AUTH_AUDIENCE`` and
  ``AUTH_JWKS_URL`` get unreachable placeholder URLs: bearer-token routes then answer ``401``
  without a token and ``503`` (the issuer's keys cannot be fetched) with one. The tests
  therefore use only the API-key route and the queue; tokens are covered by the embedded cloud.
- IoT Core (``iot``) is a paid LocalStack feature. Without it the telemetry topic rule and the
  permission that lets it invoke the function are left out; the telemetry function is still
  deployed and can be invoked directly. MQTT is covered by the embedded cloud.
- AWS WAF (``wafv2``) is a paid LocalStack feature. Without it the web ACL and its association
  with the API stage are left out: the API answers without the rate rule per client address,
  which the embedded cloud's tests check as deployed (not as enforced).
- Lambda functions declare ``arm64``. On an x86-64 host start LocalStack with
  ``LAMBDA_IGNORE_ARCHITECTURE=1`` so they run natively (the wheels are built for the host).
- IAM policies are created; whether LocalStack enforces them depends on its configuration
  (``ENFORCE_IAM``), off by default.
"""

from __future__ import annotations

import argparse
import contextlib
import copy
import ipaddress
import json
import os
import re
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Iterable, Sequence
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit, urlunsplit

from localcloud.intrinsics import Resolver, references
from localcloud.packaging import BuildError, build_packages, inline_layers
from localcloud.template import load_template, package, parameter_values

DEFAULT_ENDPOINT = "http://localhost:4566"
DEFAULT_REGION = "ap-northeast-2"
DEFAULT_STACK = "gyeonggi"
CAPABILITIES = ["CAPABILITY_IAM", "CAPABILITY_AUTO_EXPAND"]

#: Services the stack cannot be deployed without.
REQUIRED_SERVICES = (
    "cloudformation",
    "s3",
    "iam",
    "kms",
    "lambda",
    "sqs",
    "sns",
    "dynamodb",
    # The Data Dam's stream event source mappings (tables' StreamSpecification).
    "dynamodbstreams",
    "stepfunctions",
    "logs",
    "apigateway",
)
#: Services a LocalStack may lack, and the resource types left out when it does.
OPTIONAL_SERVICES: dict[str, tuple[str, ...]] = {
    "cognito-idp": (
        "AWS::Cognito::UserPool",
        "AWS::Cognito::UserPoolClient",
        "AWS::Cognito::UserPoolGroup",
    ),
    "iot": ("AWS::IoT::TopicRule", "AWS::IoT::Policy"),
    "cloudwatch": ("AWS::CloudWatch::Alarm",),
    # AWS WAF is not in LocalStack's free plan: the API then has no rate rule in front of it.
    "wafv2": ("AWS::WAFv2::WebACL", "AWS::WAFv2::WebACLAssociation"),
    # Glue and Athena are not in LocalStack's free plan either: the Data Dam's functions deploy
    # there, with no catalogue to write to or query (the local cloud runs the Data Dam on moto).
    "glue": ("AWS::Glue::Database",),
    "athena": ("AWS::Athena::WorkGroup",),
}
#: Resources that exist only for another one: left out with it.
_ONLY_FOR_ANOTHER = frozenset({"AWS::Lambda::Permission"})
_READY = frozenset({"available", "running"})
_SUB_NAME = re.compile(r"\$\{([^}!][^}]*)\}")
_MAX_TEMPLATE_BODY = 51_200  # CloudFormation's limit; larger templates go through S3
_IN_PROGRESS = re.compile(r"_IN_PROGRESS$")


class LocalStackError(RuntimeError):
    """LocalStack is missing, lacks a service, or the stack did not reach CREATE_COMPLETE."""


# ------------------------------------------------------------------ probing


def _is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def localstack_health(endpoint_url: str = DEFAULT_ENDPOINT, timeout: float = 1.0) -> dict[str, Any]:
    """Return LocalStack's ``/_localstack/health`` document.

    Only loopback endpoints (``localhost``, ``127.0.0.0/8``, ``::1``) are probed: the tests that
    call this must not reach beyond the machine, and a LocalStack elsewhere is not "local".
    Proxy variables are ignored for the same reason.

    Raises
    ------
    LocalStackError
        Saying why nothing usable answered.
    """
    parts = urlsplit(endpoint_url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise LocalStackError(f"{endpoint_url!r} is not an http(s) URL")
    if not _is_loopback(parts.hostname):
        raise LocalStackError(
            f"{parts.hostname} is not a loopback address; only a LocalStack on this machine "
            "is probed (use http://localhost:4566 or http://127.0.0.1:4566)"
        )
    url = urlunsplit((parts.scheme, parts.netloc, "/_localstack/health", "", ""))
    opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))
    try:
        with opener.open(url, timeout=timeout) as response:
            raw = response.read(1_000_000)
    except urllib.error.HTTPError as exc:
        raise LocalStackError(f"{url} answered HTTP {exc.code}") from None
    except (urllib.error.URLError, OSError) as exc:
        reason = getattr(exc, "reason", exc)
        raise LocalStackError(f"nothing answers at {url}: {reason}") from None
    try:
        health = json.loads(raw)
    except ValueError:
        raise LocalStackError(f"{url} did not answer JSON; is this LocalStack?") from None
    if not isinstance(health, dict) or not isinstance(health.get("services"), dict):
        raise LocalStackError(f"{url} is not LocalStack's health endpoint (no 'services')")
    return health


def is_localstack_running(
    endpoint_url: str = DEFAULT_ENDPOINT, timeout: float = 1.0
) -> tuple[bool, str]:
    """Whether a LocalStack answers at ``endpoint_url``, and a sentence saying what was found.

    Parameters
    ----------
    endpoint_url
        LocalStack's edge endpoint; only loopback addresses are probed.
    timeout
        Seconds to wait for the health endpoint.

    Returns
    -------
    (running, detail)
        ``detail`` names the version and edition, or why the answer is no.
    """
    try:
        health = localstack_health(endpoint_url, timeout)
    except LocalStackError as exc:
        return False, str(exc)
    services = health["services"]
    ready = sum(1 for status in services.values() if status in _READY)
    version = health.get("version", "of unknown version")
    edition = health.get("edition", "unknown edition")
    return True, (
        f"LocalStack {version} ({edition}) at {endpoint_url}: "
        f"{ready} of {len(services)} services available"
    )


# ------------------------------------------------------------------ the template LocalStack gets


def _placeholder(logical_id: str) -> str:
    # A URL that can never resolve: code that reads it as an issuer or key-set URL fails with
    # "unavailable" instead of silently trusting something.
    return f"https://{logical_id.lower()}.not-deployed.invalid"


def _replace_references(value: Any, removed: frozenset[str]) -> Any:
    if isinstance(value, list):
        return [_replace_references(v, removed) for v in value]
    if not isinstance(value, dict):
        return value
    if len(value) == 1:
        key, arg = next(iter(value.items()))
        if key == "Ref" and arg in removed:
            return _placeholder(arg)
        if key == "Fn::GetAtt":
            name = arg.split(".", 1)[0] if isinstance(arg, str) else arg[0]
            if name in removed:
                return _placeholder(name)
        if key == "Fn::Sub":
            text, variables = (arg[0], arg[1]) if isinstance(arg, list) else (arg, None)

            def swap(match: re.Match[str]) -> str:
                name = match.group(1).split(".", 1)[0]
                return _placeholder(name) if name in removed else match.group(0)

            text = _SUB_NAME.sub(swap, text)
            if variables is None:
                return {"Fn::Sub": text}
            return {"Fn::Sub": [text, _replace_references(variables, removed)]}
    return {k: _replace_references(v, removed) for k, v in value.items()}


def inactive_resources(template: dict[str, Any], parameters: dict[str, Any]) -> list[str]:
    """Logical ids of the resources whose ``Condition`` is false for ``parameters``.

    CloudFormation never creates them, but LocalStack checks the references of every resource
    before its SAM transform, and some only SAM resolves (``!Ref GyeonggiApi.Stage`` in the
    wallet's custom domain mapping, which exists only with ``WalletIssuerDomain``).
    """
    values = parameter_values(template, parameters)
    resolver = Resolver(
        parameters=values,
        pseudo={"AWS::Region": DEFAULT_REGION, "AWS::Partition": "aws"},
        ref=lambda name: values[name],
        get_att=lambda name, attribute: f"{name}.{attribute}",
        conditions=template.get("Conditions"),
    )
    return sorted(
        name
        for name, spec in template.get("Resources", {}).items()
        if "Condition" in spec and not resolver.condition(spec["Condition"])
    )


def without_resources(
    template: dict[str, Any], resource_types: Iterable[str], names: Iterable[str] = ()
) -> tuple[dict[str, Any], list[str]]:
    """A copy of ``template`` without resources of ``resource_types``, nor those ``names``.

    Resources that exist only for a removed one (a ``Lambda::Permission`` naming it) go too, as
    do outputs that refer to one; every other reference becomes a placeholder URL on the
    ``.invalid`` domain (RFC 2606), so a function reading it fails visibly.

    Returns
    -------
    (template, removed)
        The new template and the logical ids removed, sorted.
    """
    types = frozenset(resource_types)
    result = copy.deepcopy(template)
    resources: dict[str, Any] = result.get("Resources", {})
    removed = {name for name, spec in resources.items() if spec.get("Type") in types}
    removed |= set(names) & resources.keys()
    grew = bool(removed)
    while grew:
        dependants = {
            name
            for name, spec in resources.items()
            if name not in removed
            and spec.get("Type") in _ONLY_FOR_ANOTHER
            and references(spec.get("Properties", {})) & removed
        }
        grew = bool(dependants)
        removed |= dependants
    gone = frozenset(removed)
    kept: dict[str, Any] = {}
    for name, spec in resources.items():
        if name in gone:
            continue
        spec = _replace_references(spec, gone)
        depends = spec.get("DependsOn")
        if depends is not None:
            listed = [depends] if isinstance(depends, str) else list(depends)
            kept_depends = [d for d in listed if d not in gone]
            if not kept_depends:
                del spec["DependsOn"]
            elif len(kept_depends) < len(listed):
                spec["DependsOn"] = kept_depends
        kept[name] = spec
    result["Resources"] = kept
    if "Outputs" in result:
        result["Outputs"] = {
            name: output
            for name, output in result["Outputs"].items()
            if not references(output) & gone
        }
    return result, sorted(gone)


# ------------------------------------------------------------------ deploying


def _session(region: str) -> Any:
    import boto3

    # LocalStack accepts any credentials; fixed ones keep a real profile out of it.
    return boto3.session.Session(
        aws_access_key_id="test", aws_secret_access_key="test", region_name=region
    )


def localstack_client(
    service: str, endpoint_url: str = DEFAULT_ENDPOINT, region: str = DEFAULT_REGION
) -> Any:
    """A boto3 client of the LocalStack at ``endpoint_url`` (path-style S3 addressing)."""
    from botocore.config import Config

    # Virtual-host addressing would need <bucket>.localhost to resolve.
    config = Config(s3={"addressing_style": "path"}, retries={"max_attempts": 5})
    return _session(region).client(service, endpoint_url=endpoint_url, config=config)


def localstack_resource(
    service: str, endpoint_url: str = DEFAULT_ENDPOINT, region: str = DEFAULT_REGION
) -> Any:
    """A boto3 resource of the LocalStack at ``endpoint_url`` (for the domain's stores)."""
    return _session(region).resource(service, endpoint_url=endpoint_url)


def _stack_status(cfn: Any, stack_name: str) -> str | None:
    """The stack's status, or ``None`` when there is no such (undeleted) stack."""
    # Listing avoids telling "no such stack" apart by the text of a ValidationError.
    for page in cfn.get_paginator("describe_stacks").paginate():
        for stack in page["Stacks"]:
            if stack["StackName"] == stack_name and stack["StackStatus"] != "DELETE_COMPLETE":
                return str(stack["StackStatus"])
    return None


def _wait_for_stack(cfn: Any, stack_name: str, timeout: float) -> str | None:
    """Poll until the stack is in no ``*_IN_PROGRESS`` state; ``None`` once it is gone."""
    deadline = time.monotonic() + timeout
    while True:
        status = _stack_status(cfn, stack_name)
        if status is None or not _IN_PROGRESS.search(status):
            return status
        if time.monotonic() >= deadline:
            raise LocalStackError(f"stack {stack_name} still {status} after {timeout:.0f} s")
        time.sleep(2)


def _failures(cfn: Any, stack_name: str) -> list[str]:
    events = cfn.describe_stack_events(StackName=stack_name)["StackEvents"]
    return [
        f"{e['LogicalResourceId']} ({e['ResourceType']}): {e.get('ResourceStatusReason', '?')}"
        for e in events
        if str(e.get("ResourceStatus", "")).endswith("_FAILED")
    ]


def _delete_bucket(s3: Any, bucket: str) -> None:
    """Empty a (versioned) bucket, every version and delete marker, then delete it."""
    try:
        for page in s3.get_paginator("list_object_versions").paginate(Bucket=bucket):
            doomed = [
                {"Key": v["Key"], "VersionId": v["VersionId"]}
                for v in [*page.get("Versions", []), *page.get("DeleteMarkers", [])]
            ]
            if doomed:
                s3.delete_objects(Bucket=bucket, Delete={"Objects": doomed, "Quiet": True})
        s3.delete_bucket(Bucket=bucket)
    except s3.exceptions.NoSuchBucket:
        return


def probe_dynamodb(endpoint_url: str, region: str = DEFAULT_REGION, timeout: float = 10.0) -> None:
    """One real DynamoDB call, so a missing backend fails now rather than mid-deployment.

    LocalStack reports ``dynamodb`` available before its backend (DynamoDB Local, a download)
    exists; CloudFormation then retries each table for minutes.

    Raises
    ------
    LocalStackError
        When the call fails or does not answer within ``timeout`` seconds.
    """
    from botocore.config import Config
    from botocore.exceptions import BotoCoreError, ClientError

    config = Config(connect_timeout=timeout, read_timeout=timeout, retries={"max_attempts": 1})
    client = _session(region).client("dynamodb", endpoint_url=endpoint_url, config=config)
    try:
        client.list_tables(Limit=1)
    except (BotoCoreError, ClientError) as exc:
        raise LocalStackError(
            f"LocalStack at {endpoint_url} lists dynamodb but a call failed ({exc}); a host-mode "
            "LocalStack needs PROVIDER_OVERRIDE_DYNAMODB=moto (docs/LOCALSTACK.md)"
        ) from None


def delete_stack(
    stack_name: str = DEFAULT_STACK,
    endpoint_url: str = DEFAULT_ENDPOINT,
    region: str = DEFAULT_REGION,
    timeout: float = 300.0,
) -> None:
    """Delete the stack if it exists and wait until it is gone, its buckets with it.

    The stack's buckets are emptied (every version and delete marker) and deleted first: they
    are retained by CloudFormation, and the CCTV bucket's name, derived from the stack's, would
    stop the next deployment of the same stack. Retained tables stay (their names are
    generated, so they collide with nothing) until LocalStack restarts.
    """
    cfn = localstack_client("cloudformation", endpoint_url, region)
    if _wait_for_stack(cfn, stack_name, timeout) is None:
        return
    s3 = localstack_client("s3", endpoint_url, region)
    for page in cfn.get_paginator("list_stack_resources").paginate(StackName=stack_name):
        for resource in page["StackResourceSummaries"]:
            if resource["ResourceType"] == "AWS::S3::Bucket" and resource.get("PhysicalResourceId"):
                _delete_bucket(s3, resource["PhysicalResourceId"])
    cfn.delete_stack(StackName=stack_name)
    status = _wait_for_stack(cfn, stack_name, timeout)
    if status is not None:
        raise LocalStackError(f"stack {stack_name} ended {status} instead of being deleted")


def deploy_to_localstack(
    root: Path,
    endpoint_url: str = DEFAULT_ENDPOINT,
    stack_name: str = DEFAULT_STACK,
    region: str = DEFAULT_REGION,
    *,
    parameters: dict[str, str] | None = None,
    leave_out: Sequence[str] | None = None,
    architecture: str | None = None,
    timeout: float = 600.0,
    log: Callable[[str], None] = lambda line: None,
) -> dict[str, Any]:
    """Build, package and deploy ``root/template.yaml`` as a stack in LocalStack.

    An existing stack of that name is deleted first, so every deployment starts clean.

    Parameters
    ----------
    root
        The checkout (where ``template.yaml`` is).
    endpoint_url
        LocalStack's edge endpoint (loopback only).
    stack_name, region
        Where the stack goes.
    parameters
        Template parameter overrides (``{"Stage": "dev"}``).
    leave_out
        Optional services (keys of ``OPTIONAL_SERVICES``) whose resources are left out;
        by default, those the health endpoint does not report as available.
    architecture
        Wheels for ``x86_64`` or ``arm64``; the host's by default.
    timeout
        Seconds to wait for the stack to be created (the build is not counted).
    log
        Called with one line per step (the CLI prints them).

    Returns
    -------
    dict
        ``stack_name``, ``stack_id``, ``status``, ``region``, ``endpoint_url``, ``outputs``
        (name -> value), ``resources`` (logical id -> physical id), ``resource_types``
        (logical id -> type), ``left_out`` (logical ids), ``bucket`` and ``seconds``.

    Raises
    ------
    LocalStackError
        No LocalStack, a required service missing, a build failure, or a stack that did not
        reach ``CREATE_COMPLETE`` (with the failed resources and their reasons).
    """
    started = time.monotonic()
    root = root.resolve()
    health = localstack_health(endpoint_url, timeout=5.0)
    services: dict[str, Any] = health["services"]
    missing = [s for s in REQUIRED_SERVICES if services.get(s) not in _READY]
    if missing:
        raise LocalStackError(f"LocalStack at {endpoint_url} lacks {', '.join(missing)}")
    probe_dynamodb(endpoint_url, region)
    if leave_out is None:
        leave_out = [s for s in OPTIONAL_SERVICES if services.get(s) not in _READY]
    unknown = set(leave_out) - set(OPTIONAL_SERVICES)
    if unknown:
        raise ValueError(f"only {sorted(OPTIONAL_SERVICES)} can be left out, not {unknown}")
    types = [t for service in leave_out for t in OPTIONAL_SERVICES[service]]

    source = load_template(root / "template.yaml")
    inactive = inactive_resources(source, dict(parameters or {}))
    template, left_out = without_resources(source, types, inactive)
    if left_out:
        log(
            f"left out ({', '.join(leave_out) or 'nothing'} unavailable; "
            f"{len(inactive)} whose condition is false): {', '.join(left_out)}"
        )
    log("building functions and layer (pip, wheels for Linux)")
    build_dir = root / ".aws-sam" / "localstack"
    try:
        build = build_packages(root, template, build_dir, architecture=architecture)
    except BuildError as exc:
        raise LocalStackError(str(exc)) from None
    # LocalStack's free plan creates layers but does not apply them to functions.
    inline_layers(build)

    s3 = localstack_client("s3", endpoint_url, region)
    bucket = f"{stack_name}-deployment-artifacts".lower()
    # A bucket left by an earlier deployment is reused.
    with contextlib.suppress(s3.exceptions.BucketAlreadyOwnedByYou):
        s3.create_bucket(Bucket=bucket, CreateBucketConfiguration={"LocationConstraint": region})
    log(f"packaging into s3://{bucket}")
    packaged, _ = package(template, build_dir, s3, bucket)

    cfn = localstack_client("cloudformation", endpoint_url, region)
    delete_stack(stack_name, endpoint_url, region, timeout)
    args: dict[str, Any] = {
        "StackName": stack_name,
        "Capabilities": CAPABILITIES,
        "Parameters": [
            {"ParameterKey": k, "ParameterValue": str(v)} for k, v in (parameters or {}).items()
        ],
        # Keep a failed stack for inspection; the next deployment deletes it.
        "OnFailure": "DO_NOTHING",
    }
    body = json.dumps(packaged)
    if len(body.encode()) <= _MAX_TEMPLATE_BODY:
        args["TemplateBody"] = body
    else:
        key = f"templates/{stack_name}.json"
        s3.put_object(Bucket=bucket, Key=key, Body=body.encode())
        args["TemplateURL"] = f"{endpoint_url.rstrip('/')}/{bucket}/{key}"
    log(f"creating stack {stack_name} (LocalStack runs the SAM transform)")
    stack_id = cfn.create_stack(**args)["StackId"]
    status = _wait_for_stack(cfn, stack_name, timeout)
    if status != "CREATE_COMPLETE":
        reasons = "\n  ".join(_failures(cfn, stack_name)) or "(no failed resource reported)"
        raise LocalStackError(f"stack {stack_name} ended {status}:\n  {reasons}")
    stack = cfn.describe_stacks(StackName=stack_name)["Stacks"][0]
    resources = [
        r
        for r in cfn.describe_stack_resources(StackName=stack_name)["StackResources"]
        if r.get("LogicalResourceId")
    ]
    return {
        "stack_name": stack_name,
        "stack_id": stack_id,
        "status": status,
        "region": region,
        "endpoint_url": endpoint_url,
        "outputs": {o["OutputKey"]: o.get("OutputValue") for o in stack.get("Outputs", [])},
        "resources": {r["LogicalResourceId"]: r.get("PhysicalResourceId") for r in resources},
        "resource_types": {r["LogicalResourceId"]: r["ResourceType"] for r in resources},
        "left_out": left_out,
        "bucket": bucket,
        "seconds": round(time.monotonic() - started, 1),
    }


# ------------------------------------------------------------------ command line


def _default_root() -> Path:
    here = Path.cwd()
    if (here / "template.yaml").is_file():
        return here
    return Path(__file__).resolve().parents[2]  # infrastructure/localcloud/ -> the checkout


def main(argv: Sequence[str] | None = None) -> int:
    """``python -m localcloud.localstack status|deploy|delete|test``."""
    parser = argparse.ArgumentParser(
        prog="python -m localcloud.localstack",
        description="Deploy Digital Gyeonggi into LocalStack (see docs/LOCALSTACK.md).",
    )
    parser.add_argument("command", choices=["status", "deploy", "delete", "test"])
    parser.add_argument("--endpoint", default=DEFAULT_ENDPOINT, help="LocalStack edge URL")
    parser.add_argument("--stack-name", default=DEFAULT_STACK)
    parser.add_argument("--region", default=DEFAULT_REGION)
    parser.add_argument("--root", type=Path, default=None, help="the checkout")
    parser.add_argument("pytest_args", nargs="*", help="extra pytest arguments (test)")
    args = parser.parse_args(argv)
    root = (args.root or _default_root()).resolve()

    running, detail = is_localstack_running(args.endpoint, timeout=2.0)
    print(detail, file=sys.stderr)
    if args.command == "status" or not running:
        return 0 if running else 1
    if args.command == "test":
        env = {**os.environ, "LOCALSTACK_ENDPOINT": args.endpoint}
        command = [sys.executable, "-m", "pytest", "-m", "localstack", "tests/localstack"]
        return subprocess.run([*command, *args.pytest_args], cwd=root, env=env).returncode
    try:
        if args.command == "delete":
            delete_stack(args.stack_name, args.endpoint, args.region)
            print(f"stack {args.stack_name} deleted", file=sys.stderr)
            return 0
        result = deploy_to_localstack(
            root,
            args.endpoint,
            args.stack_name,
            args.region,
            log=lambda line: print(line, file=sys.stderr, flush=True),
        )
    except LocalStackError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    print(json.dumps(result, indent=2, sort_keys=True))
    return 0


if __name__ == "__main__":
    sys.exit(main())
