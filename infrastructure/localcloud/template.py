"""Reading template.yaml and preparing it as ``sam package`` would, then transforming it.

aws-sam-translator only takes ``s3://`` locations, so every local ``CodeUri``, ``ContentUri`` and
``DefinitionUri`` is zipped (or, for a definition, uploaded as is) into a deployment bucket of
the local cloud first, exactly as ``sam package`` does against AWS.
"""

from __future__ import annotations

import hashlib
import io
import json
import os
import zipfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

_LOCAL_URIS = {
    "AWS::Serverless::Function": "CodeUri",
    "AWS::Serverless::LayerVersion": "ContentUri",
    "AWS::Serverless::StateMachine": "DefinitionUri",
}
_SKIP_DIRS = {"__pycache__", ".pytest_cache", ".mypy_cache", ".chalice"}


def load_template(path: Path) -> dict[str, Any]:
    """Parse a CloudFormation/SAM YAML template, short intrinsics (``!Ref``...) included.

    A small loader of our own: cfn-lint ships one, but importing it costs more than the rest
    of a local deployment's start-up (the contract tests still lint with cfn-lint).
    """
    import yaml

    class _Loader(yaml.SafeLoader):
        pass

    def _intrinsic(loader: yaml.SafeLoader, suffix: str, node: yaml.Node) -> dict[str, Any]:
        name = suffix if suffix in ("Ref", "Condition") else f"Fn::{suffix}"
        value: Any
        if isinstance(node, yaml.ScalarNode):
            value = loader.construct_scalar(node)
            if name == "Fn::GetAtt":
                value = str(value).split(".", 1)
        elif isinstance(node, yaml.SequenceNode):
            value = loader.construct_sequence(node, deep=True)
        else:
            value = loader.construct_mapping(node, deep=True)
        return {name: value}

    _Loader.add_multi_constructor("!", _intrinsic)
    # CloudFormation reads dates and times as strings (e.g. AWSTemplateFormatVersion).
    _Loader.yaml_implicit_resolvers = {
        key: [(tag, regexp) for tag, regexp in resolvers if tag != "tag:yaml.org,2002:timestamp"]
        for key, resolvers in yaml.SafeLoader.yaml_implicit_resolvers.items()
    }
    try:
        template = yaml.load(path.read_text(encoding="utf-8"), Loader=_Loader)
    except yaml.YAMLError as exc:
        raise ValueError(f"{path}: {exc}") from None
    if not isinstance(template, dict) or "Resources" not in template:
        raise ValueError(f"{path}: not a CloudFormation template (no Resources)")
    return template


@dataclass(frozen=True)
class Artifact:
    """One packaged piece of code or definition."""

    logical_id: str
    source: Path
    bucket: str
    key: str


def _zip_dir(source: Path) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as zf:
        for path in sorted(source.rglob("*")):
            if path.is_file() and not (_SKIP_DIRS & set(path.relative_to(source).parts)):
                # Fixed timestamps keep the zip, and so its hash, stable across runs.
                info = zipfile.ZipInfo(
                    str(path.relative_to(source)), date_time=(2020, 1, 1, 0, 0, 0)
                )
                info.external_attr = 0o644 << 16
                zf.writestr(info, path.read_bytes())
    return buffer.getvalue()


def package(
    template: dict[str, Any], root: Path, s3: Any, bucket: str
) -> tuple[dict[str, Any], dict[str, Artifact]]:
    """Upload local code and definitions to ``bucket``; return the rewritten template.

    Returns
    -------
    (template, artifacts)
        The template with ``s3://`` locations, and what was uploaded for each resource.
    """
    packaged = json.loads(json.dumps(template))
    artifacts: dict[str, Artifact] = {}
    for logical_id, resource in packaged.get("Resources", {}).items():
        prop = _LOCAL_URIS.get(resource.get("Type", ""))
        props = resource.get("Properties", {})
        uri = props.get(prop) if prop else None
        if not isinstance(uri, str) or uri.startswith("s3://"):
            continue
        source = (root / uri).resolve()
        if not source.exists():
            raise FileNotFoundError(f"{logical_id}.{prop}: {uri} does not exist under {root}")
        body = _zip_dir(source) if source.is_dir() else source.read_bytes()
        key = f"{logical_id}/{hashlib.sha256(body).hexdigest()[:16]}"
        key += ".zip" if source.is_dir() else source.suffix
        s3.put_object(Bucket=bucket, Key=key, Body=body)
        props[prop] = f"s3://{bucket}/{key}"
        artifacts[logical_id] = Artifact(logical_id, source, bucket, key)
    return packaged, artifacts


def transform(
    template: dict[str, Any],
    parameters: dict[str, Any],
    region: str,
    cache_dir: Path | None = None,
) -> dict[str, Any]:
    """Expand ``AWS::Serverless::*`` into plain CloudFormation with aws-sam-translator.

    With ``cache_dir``, the result is kept under a hash of the packaged template (whose code
    locations carry content hashes), the parameters and the translator's version, so an
    unchanged stack starts without importing the translator at all.
    """
    if cache_dir is not None:
        from importlib.metadata import version

        key = hashlib.sha256(
            json.dumps(
                [template, parameters, region, version("aws-sam-translator")], sort_keys=True
            ).encode()
        ).hexdigest()[:24]
        cached = cache_dir / f"transformed-{key}.json"
        if cached.exists():
            result: dict[str, Any] = json.loads(cached.read_text(encoding="utf-8"))
            return result
        result = transform(template, parameters, region)
        cache_dir.mkdir(parents=True, exist_ok=True)
        cached.write_text(json.dumps(result), encoding="utf-8")
        return result
    from samtranslator.translator.managed_policy_translator import ManagedPolicyLoader
    from samtranslator.translator.transform import transform as sam_transform

    class _NoManagedPolicyNames(ManagedPolicyLoader):
        # The template names managed policies by ARN only; nothing to look up.
        def __init__(self) -> None:
            pass

        def load(self) -> dict[str, str]:
            return {}

    os.environ.setdefault("AWS_DEFAULT_REGION", region)
    return sam_transform(template, parameters, _NoManagedPolicyNames())


def parameter_values(template: dict[str, Any], overrides: dict[str, Any]) -> dict[str, Any]:
    """Defaults from the template's ``Parameters`` with ``overrides`` applied; checks them."""
    values: dict[str, Any] = {}
    for name, spec in template.get("Parameters", {}).items():
        if name in overrides:
            value = overrides[name]
        elif "Default" in spec:
            value = spec["Default"]
        else:
            raise ValueError(f"parameter {name} has no default and no value was given")
        allowed = spec.get("AllowedValues")
        if allowed and value not in allowed and str(value) not in map(str, allowed):
            raise ValueError(f"parameter {name}={value!r} is not one of {allowed}")
        values[name] = value
    unknown = set(overrides) - set(values)
    if unknown:
        raise ValueError(f"unknown parameters: {', '.join(sorted(unknown))}")
    return values
