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
    """Parse a CloudFormation/SAM YAML template, short intrinsics (``!Ref``...) included."""
    from cfnlint.decode import decode_str

    template, errors = decode_str(path.read_text(encoding="utf-8"))
    if errors or template is None:
        raise ValueError(f"{path}: " + "; ".join(str(e) for e in errors or ["empty template"]))
    # cfn-lint's nodes carry line numbers; plain JSON types are easier to transform and copy.
    return json.loads(json.dumps(template))


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


def transform(template: dict[str, Any], parameters: dict[str, Any], region: str) -> dict[str, Any]:
    """Expand ``AWS::Serverless::*`` into plain CloudFormation with aws-sam-translator."""
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
