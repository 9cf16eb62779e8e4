"""Artifacts the stack expects to find in its buckets, put there after a local deploy.

In AWS the release pipeline uploads the trained classifier to the model bucket; here
``seed_models`` does it from the checkout, for every function whose environment names a
``MODEL_BUCKET`` and ``MODEL_KEY``.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

MODEL_FILE = Path("models") / "complaint-classifier" / "model.json"


def seed_models(cloud: Any, model_file: Path | None = None) -> list[str]:
    """Upload the committed classifier model to the keys the deployed functions read.

    Parameters
    ----------
    cloud
        A started ``LocalCloud``.
    model_file
        The model to upload (default: ``models/complaint-classifier/model.json`` of the
        checkout).

    Returns
    -------
    list[str]
        The ``s3://bucket/key`` locations written (each once, however many functions read it).
    """
    lambda_client, s3 = cloud.client("lambda"), cloud.client("s3")
    body: bytes | None = None  # read only when some function needs a model
    written: list[str] = []
    for resource in cloud.stack.of_type("AWS::Lambda::Function"):
        config = lambda_client.get_function_configuration(FunctionName=resource.physical_id)
        variables = config.get("Environment", {}).get("Variables", {})
        bucket, key = variables.get("MODEL_BUCKET"), variables.get("MODEL_KEY")
        if not bucket or not key or f"s3://{bucket}/{key}" in written:
            continue
        if body is None:
            body = (model_file or cloud.root / MODEL_FILE).read_bytes()
        s3.put_object(Bucket=bucket, Key=key, Body=body, ContentType="application/json")
        written.append(f"s3://{bucket}/{key}")
    return written
