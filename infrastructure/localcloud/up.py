"""``gyeonggi local up``: the stack served on 127.0.0.1 until SIGINT or SIGTERM."""

from __future__ import annotations

import faulthandler
import json
import logging
import signal
import sys
import threading
import time
from pathlib import Path
from types import FrameType
from typing import Any

from gyeonggi.common.config import ConfigurationError
from localcloud.cloud import LocalCloud

_RUNNING = "running.json"
_SHUTDOWN_SECONDS = 15


def serve(
    root: Path, state_dir: Path, *, api_port: int, mqtt_port: int, moto_port: int, time_scale: float
) -> int:
    """Start everything, print where it is, block until a signal, then stop cleanly."""
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(message)s")
    for chatty in ("werkzeug", "botocore", "moto"):
        logging.getLogger(chatty).setLevel(logging.WARNING)
    stop = threading.Event()

    def on_signal(signum: int, frame: FrameType | None) -> None:
        print(f"\n{signal.Signals(signum).name}: shutting down", flush=True)
        stop.set()

    signal.signal(signal.SIGINT, on_signal)
    signal.signal(signal.SIGTERM, on_signal)
    cloud = LocalCloud(
        root,
        state_dir=state_dir,
        time_scale=time_scale,
        server=True,
        moto_port=moto_port,
        api_port=api_port,
        mqtt_port=mqtt_port,
    )
    try:
        cloud.start()
    except OSError as exc:
        print(f"error: cannot start the local cloud: {exc}", file=sys.stderr)
        return 1
    try:
        api_key = cloud.issue_api_key("local up")
        running = {
            "endpoint_url": cloud.endpoint_url,
            "api_url": cloud.api.url,
            "mqtt": f"mqtt://{cloud.broker.host}:{cloud.broker.port}" if cloud.broker else None,
            "region": cloud.stack.region,
            "resources": {k: r.physical_id for k, r in cloud.stack.resources.items()},
        }
        (state_dir / _RUNNING).write_text(json.dumps(running, indent=2))
        print(cloud.banner())
        print(f"\n  Open311 API key:  {api_key}")
        print("  citizen token:    gyeonggi auth token citizen")
        print(
            f"  AWS CLI:          aws --endpoint-url {cloud.endpoint_url} --region "
            f"{cloud.stack.region} sqs list-queues"
        )
        print("\nReady. Ctrl-C stops everything.", flush=True)
        # Waking now and then is what lets the handler run: a process-directed SIGINT may be
        # delivered to any of the cloud's threads, and a main thread blocked on a lock without a
        # timeout would then never look at the pending signal (a rare hang seen in CI).
        while not stop.wait(timeout=0.25):
            pass
    finally:
        (state_dir / _RUNNING).unlink(missing_ok=True)
        # A watchdog: should shutting down ever hang, say where (every thread's stack) and
        # exit rather than leave a half-stopped cloud holding its ports.
        faulthandler.dump_traceback_later(_SHUTDOWN_SECONDS, exit=True)
        t0 = time.monotonic()
        cloud.stop()
        faulthandler.cancel_dump_traceback_later()
    print(f"stopped in {time.monotonic() - t0:.1f} s", flush=True)
    return 0


def _running(state_dir: Path, service: str) -> tuple[dict[str, Any], Any]:
    """What a running ``local up`` wrote about itself, and a client of its AWS endpoint."""
    import boto3

    path = state_dir / _RUNNING
    if not path.exists():
        raise ConfigurationError("no local cloud is running: start `gyeonggi local up` first")
    running = json.loads(path.read_text())
    client = boto3.client(service, **_endpoint(running))  # type: ignore[call-overload,unused-ignore]
    return running, client


def _endpoint(running: dict[str, Any]) -> dict[str, Any]:
    """boto3's arguments for the running ``local up``'s AWS endpoint."""
    return {
        "endpoint_url": running["endpoint_url"],
        "region_name": running["region"],
        "aws_access_key_id": "testing",
        "aws_secret_access_key": "testing",
    }


def running_endpoint(state_dir: Path) -> str:
    """The running ``local up``'s AWS endpoint URL (moto's server; the Data Dam's too)."""
    running, _ = _running(state_dir, "sts")
    return str(running["endpoint_url"])


def running_client(state_dir: Path, service: str) -> Any:
    """A boto3 client of a running ``local up``'s AWS endpoint (for commands run beside it)."""
    return _running(state_dir, service)[1]


def running_dynamodb(state_dir: Path) -> Any:
    """A boto3 DynamoDB resource of a running ``local up`` (what the stores take)."""
    import boto3

    running, _ = _running(state_dir, "sts")
    return boto3.resource("dynamodb", **_endpoint(running))


def running_resource(state_dir: Path, logical_id: str) -> str:
    """The physical id (name, URL or ARN) of a resource of the running ``local up``."""
    running, _ = _running(state_dir, "sts")
    physical = running["resources"].get(logical_id)
    if physical is None:
        raise ConfigurationError(f"no resource {logical_id} in the running stack")
    return str(physical)


def running_api_url(state_dir: Path) -> str:
    """The base URL of the running ``local up``'s HTTP API."""
    running, _ = _running(state_dir, "sts")
    return str(running["api_url"])


def issue_api_key(state_dir: Path, owner: str) -> str:
    """Issue a key against a running ``local up`` (whose moto server other processes reach)."""
    from gyeonggi.auth.apikeys import ApiKeyStore

    running, dynamodb = _running(state_dir, "dynamodb")
    store = ApiKeyStore(running["resources"]["ApiKeysTable"], dynamodb=dynamodb)
    return store.issue(owner).key


def invoke_running(state_dir: Path, logical_id: str, event_file: Path | None) -> int:
    """Invoke a function of a running ``local up`` by logical id; print what it returned.

    This is how scheduled functions (EventBridge schedules do not fire locally) are run by hand.
    """
    try:
        running, client = _running(state_dir, "lambda")
    except ConfigurationError as exc:
        print(f"error: {exc.message}", file=sys.stderr)
        return 2
    name = running["resources"].get(logical_id)
    if name is None:
        print(f"error: no resource {logical_id} in the running stack", file=sys.stderr)
        return 2
    event = event_file.read_bytes() if event_file else b"{}"
    response = client.invoke(FunctionName=name, Payload=event)
    print(response["Payload"].read().decode())
    return 1 if response.get("FunctionError") else 0
