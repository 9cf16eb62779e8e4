"""The sensor alarm path and the anomaly path.

- handler latency (p50/p99) for one telemetry reading: through the local cloud's Lambda invoke
  (moto behind it), and the handler alone under moto in this process;
- end to end in the local cloud: MQTT publish -> topic rule -> telemetry function -> evidence
  seen on SafetyEvidenceQueue (or in the batch its consumer was given, when one exists);
- anomaly batch throughput (readings/s) of the anomaly function's scoring, 100-reading batches;
- cold start of the sensor function in fresh interpreters: the import (goal under 0.3 s), then
  the first reading (which pays for boto3 and the lazily made clients) and a warm one.
"""

from __future__ import annotations

import base64
import contextlib
import io
import json
import logging
import os
import subprocess
import sys
import tempfile
import textwrap
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from benchmarks import ROOT, Options, clean_environment, goal, median, ms, percentile, table

_MARK = "BENCH-RESULT "
_READING = {"kind": "co", "unit": "ppm", "complex_id": "bench", "battery": 90}


def _reading(sensor: str, i: int, value: float) -> dict[str, Any]:
    ts = datetime.now(UTC) - timedelta(seconds=600 - i * 0.01)
    return {**_READING, "sensor_id": sensor, "value": value, "ts": ts.isoformat()}


def _message(sensor: str, i: int, value: float) -> dict[str, Any]:
    """What the telemetry topic rule invokes the function with for ``_reading``'s payload:
    the bytes as published (base64) and the topic's ids."""
    reading = _reading(sensor, i, value)
    ids = {k: reading.pop(k) for k in ("complex_id", "sensor_id")}
    return {"payload": base64.b64encode(json.dumps(reading).encode()).decode(), **ids}


# Child of the cold-start measurement: argv = code dir, module, first reading, second reading.
# Imports the handler module as Lambda's init would, then handles two readings against the
# local cloud's AWS endpoint; the first pays for boto3 and the clients the module makes lazily.
_COLD_CHILD = textwrap.dedent(
    f"""
    import importlib, json, sys, time
    sys.path.insert(0, sys.argv[1])
    t0 = time.perf_counter()
    app = importlib.import_module(sys.argv[2])
    t1 = time.perf_counter()

    class Context:
        function_name = "bench"
        memory_limit_in_mb = 512
        invoked_function_arn = "arn:aws:lambda:ap-northeast-2:123456789012:function:bench"
        aws_request_id = "bench"

    first = app.handler(json.loads(sys.argv[3]), Context())
    t2 = time.perf_counter()
    app.handler(json.loads(sys.argv[4]), Context())
    t3 = time.perf_counter()
    print({_MARK!r} + json.dumps({{"import": t1 - t0, "first": t2 - t1, "warm": t3 - t2,
                                  "events": first.get("events")}}))
    """
)


def _cold_start(options: Options) -> dict[bool, dict[str, list[float]]]:
    """Fresh processes of the sensor function: import, first reading, a warm reading.

    Each child gets the function's cold-start environment (as the cold-import benchmark builds
    it, Lambda runtime variables included) with the real resource names of a local cloud that
    serves the AWS APIs on 127.0.0.1, and ``AWS_ENDPOINT_URL`` pointing there. The first
    reading crosses CO's high level, so it sends evidence: a cold start to a real alarm.
    """
    from benchmarks.cold_import import functions
    from localcloud.cloud import LocalCloud

    (fn,) = [f for f in functions() if f.logical_id == "TelemetryFunction"]
    # The local cloud's AWS endpoint logs every request; the figures are what is wanted here.
    logging.getLogger("werkzeug").setLevel(logging.ERROR)
    out: dict[bool, dict[str, list[float]]] = {
        tracing: {"import": [], "first": [], "warm": []} for tracing in (False, True)
    }
    with (
        tempfile.TemporaryDirectory() as tmp,
        LocalCloud(ROOT, state_dir=Path(tmp), server=True) as cloud,
    ):
        deployed = cloud.client("lambda").get_function_configuration(
            FunctionName=cloud.physical_id("TelemetryFunction")
        )["Environment"]["Variables"]
        deadline = time.monotonic() + options.time_limit
        for i in range(options.imports):
            for tracing in (False, True):
                if time.monotonic() > deadline:
                    break
                env = {**fn.environment, **deployed, "AWS_ENDPOINT_URL": str(cloud.endpoint_url)}
                if not tracing:
                    env["POWERTOOLS_TRACE_DISABLED"] = "true"
                sensor = f"cold-{i}-{int(tracing)}"
                readings = [json.dumps(_message(sensor, k, v)) for k, v in ((0, 80.0), (1, 81.0))]
                proc = subprocess.run(
                    [sys.executable, "-c", _COLD_CHILD, str(fn.code_dir), fn.module, *readings],
                    cwd=fn.code_dir,
                    env=clean_environment(env),
                    capture_output=True,
                    text=True,
                    timeout=options.time_limit,
                    check=False,
                )
                lines = [x for x in proc.stdout.splitlines() if x.startswith(_MARK)]
                if proc.returncode != 0 or not lines:
                    raise RuntimeError(f"cold start failed: {proc.stderr.strip()[-600:]}")
                result = json.loads(lines[-1][len(_MARK) :])
                if "threshold_high" not in (result["events"] or []):
                    raise RuntimeError(f"the first reading raised no alarm: {result}")
                for key in ("import", "first", "warm"):
                    out[tracing][key].append(float(result[key]))
    return out


def _anomaly_throughput(options: Options) -> float:
    import numpy as np

    from gyeonggi.safety.anomalies import AnomalyState, Point, score_sensor

    rng = np.random.default_rng(0)
    sensors = 20
    readings = 0
    started = time.perf_counter()
    deadline = time.monotonic() + options.time_limit / 4
    states = {s: AnomalyState() for s in range(sensors)}
    t = 0
    while readings < 200_000 and time.monotonic() < deadline:
        # One batch of 100 readings: 5 per sensor, as the ESM would hand it over.
        for s in range(sensors):
            points = [Point(t + k + 1, float(v)) for k, v in enumerate(rng.normal(5, 0.5, 5))]
            states[s], _ = score_sensor(states[s], "co", points)
        t += 5
        readings += 100
    return readings / (time.perf_counter() - started)


def _in_cloud(options: Options) -> tuple[list[float], list[float], list[float]]:
    import paho.mqtt.client as mqtt
    from paho.mqtt.enums import CallbackAPIVersion

    from localcloud.cloud import LocalCloud

    invokes: list[float] = []
    e2e: list[float] = []
    to_sns: list[float] = []
    with (
        tempfile.TemporaryDirectory() as tmp,
        LocalCloud(ROOT, state_dir=Path(tmp), api_port=0, mqtt_port=0, time_scale=0.01) as cloud,
    ):
        n = min(options.requests, 200)
        for i in range(options.warmup + n):
            started = time.perf_counter()
            cloud.invoke("TelemetryFunction", _message("invoke", i, 1.0 + (i % 3) * 0.1))
            if i >= options.warmup:
                invokes.append(time.perf_counter() - started)

        client = mqtt.Client(CallbackAPIVersion.VERSION2, client_id="bench-device")
        client.connect(cloud.broker.host, cloud.broker.port, keepalive=10)
        client.loop_start()
        lam = cloud.client("lambda")
        sqs = cloud.client("sqs")
        arn = sqs.get_queue_attributes(
            QueueUrl=cloud.physical_id("SafetyEvidenceQueue"), AttributeNames=["QueueArn"]
        )["Attributes"]["QueueArn"]
        consumers = [
            m["FunctionArn"].split(":")[-1]
            for m in lam.list_event_source_mappings(EventSourceArn=arn)["EventSourceMappings"]
        ]

        def seen(marker: str) -> bool:
            if consumers:
                return any(
                    marker in json.dumps(c.event)
                    for fn in consumers
                    for c in cloud.runner.calls(fn)
                )
            got = sqs.receive_message(
                QueueUrl=cloud.physical_id("SafetyEvidenceQueue"),
                MaxNumberOfMessages=10,
                VisibilityTimeout=0,
            ).get("Messages", [])
            return any(marker in m["Body"] for m in got)

        # The operators' side: a queue subscribed to the incident alerts topic.
        tap = sqs.create_queue(QueueName="bench-incident-alerts")["QueueUrl"]
        tap_arn = sqs.get_queue_attributes(QueueUrl=tap, AttributeNames=["QueueArn"])["Attributes"][
            "QueueArn"
        ]
        cloud.client("sns").subscribe(
            TopicArn=cloud.physical_id("IncidentAlertsTopic"), Protocol="sqs", Endpoint=tap_arn
        )
        notified: set[str] = set()

        def alerted(complex_id: str) -> bool:
            for m in sqs.receive_message(QueueUrl=tap, MaxNumberOfMessages=10).get("Messages", []):
                notified.update(c for c in (f"bench-{j}" for j in range(20)) if c in m["Body"])
                sqs.delete_message(QueueUrl=tap, ReceiptHandle=m["ReceiptHandle"])
            return complex_id in notified

        deadline = time.monotonic() + options.time_limit
        for i in range(20):
            # A complex of its own per reading, so each one opens an incident and notifies.
            sensor, complex_id = f"e2e-{i}", f"bench-{i}"
            body = json.dumps(_reading(sensor, 0, 80.0)).encode()  # over CO high: evidence
            started = time.perf_counter()
            client.publish(f"gyeonggi/safety/{complex_id}/{sensor}/telemetry", body, qos=1)
            while not seen(sensor) and time.monotonic() < deadline:
                time.sleep(0.002)
            e2e.append(time.perf_counter() - started)
            while not alerted(complex_id) and time.monotonic() < deadline:
                time.sleep(0.002)
            to_sns.append(time.perf_counter() - started)
        client.loop_stop()
        client.disconnect()
    return invokes, e2e, to_sns


def _handler_alone(options: Options) -> list[float]:
    import boto3
    from moto import mock_aws

    os.environ.update(
        {
            "AWS_ACCESS_KEY_ID": "testing",
            "AWS_SECRET_ACCESS_KEY": "testing",
            "AWS_DEFAULT_REGION": "ap-northeast-2",
            "POWERTOOLS_TRACE_DISABLED": "true",
            "POWERTOOLS_METRICS_NAMESPACE": "Bench",
            "POWERTOOLS_SERVICE_NAME": "sensor-telemetry-bench",
        }
    )
    out = []
    with mock_aws():
        boto3.client("dynamodb").create_table(
            TableName="bench-state",
            AttributeDefinitions=[{"AttributeName": "sensor_key", "AttributeType": "S"}],
            KeySchema=[{"AttributeName": "sensor_key", "KeyType": "HASH"}],
            BillingMode="PAY_PER_REQUEST",
        )
        boto3.client("dynamodb").create_table(
            TableName="bench-complexes",
            AttributeDefinitions=[{"AttributeName": "complex_id", "AttributeType": "S"}],
            KeySchema=[{"AttributeName": "complex_id", "KeyType": "HASH"}],
            BillingMode="PAY_PER_REQUEST",
        )
        sqs = boto3.client("sqs")
        os.environ["SENSOR_STATE_TABLE"] = "bench-state"
        os.environ["SAFETY_COMPLEXES_TABLE"] = "bench-complexes"
        os.environ["TELEMETRY_DLQ_URL"] = sqs.create_queue(QueueName="d")["QueueUrl"]
        os.environ["SAFETY_EVIDENCE_QUEUE_URL"] = sqs.create_queue(QueueName="e")["QueueUrl"]
        sys.path[:0] = [str(ROOT), str(ROOT / "layers")]
        import functions.sensor_telemetry.app as app

        class Ctx:
            function_name = "bench"
            memory_limit_in_mb = 512
            invoked_function_arn = "arn:aws:lambda:ap-northeast-2:123456789012:function:bench"
            aws_request_id = "bench"

        n = min(options.requests, 500)
        for i in range(options.warmup + n):
            started = time.perf_counter()
            app.handler(_message("alone", i, 1.0 + (i % 3) * 0.1), Ctx())
            if i >= options.warmup:
                out.append(time.perf_counter() - started)
    return out


def _dynamodb_size(value: Any) -> int:
    """An attribute value's size as DynamoDB bills it (its documented rules): strings and
    binaries by their bytes, numbers about one byte per two significant digits plus one, lists
    and maps 3 bytes plus one a member (and a map member's name)."""
    from decimal import Decimal

    if isinstance(value, str):
        return len(value.encode())
    if isinstance(value, bytes | bytearray):
        return len(value)
    if value is None or isinstance(value, bool):
        return 1
    if isinstance(value, int | float | Decimal):
        digits = Decimal(str(value)).normalize().as_tuple().digits
        return (len(digits) + 1) // 2 + 1
    if isinstance(value, list):
        return 3 + sum(_dynamodb_size(v) + 1 for v in value)
    if isinstance(value, dict):
        return 3 + sum(len(k.encode()) + _dynamodb_size(v) + 1 for k, v in value.items())
    if hasattr(value, "value"):  # boto3's Binary
        return len(value.value)
    raise TypeError(f"no DynamoDB size for {type(value).__name__}")


def _sensor_item(options: Options) -> dict[str, int]:
    """The stored item of a CO sensor after 8 h of readings every 10 s (exposure windows full)
    and an anomaly batch: its size as stored now (v2: packed exposure sums, no duplicated
    fields) and as the previous format stored it (v1: sums as number pairs, the sensor's
    identity inside ``state`` too, ``received_at`` text), in one run."""
    import random

    import boto3
    from moto import mock_aws

    from gyeonggi.common.aws import to_dynamo
    from gyeonggi.safety.alarms import AlarmConfig, evaluate
    from gyeonggi.safety.anomalies import AnomalyState, AnomalyStateStore
    from gyeonggi.safety.sensor_state import AlarmStateStore
    from gyeonggi.safety.telemetry import parse_telemetry

    rng = random.Random(7)
    start = datetime(2026, 11, 24, tzinfo=UTC)
    state, reading = None, None
    for i in range(8 * 360 + 30):
        reading = parse_telemetry(
            {**_READING, "sensor_id": "co-0007", "firmware": "2.4.1",
             "value": round(8 + 4 * rng.random(), 2),
             "ts": (start + timedelta(seconds=10 * i)).isoformat()}
        )  # fmt: skip
        state, _ = evaluate(state, reading, AlarmConfig())
    assert state is not None and reading is not None
    sizes = {}
    with mock_aws():
        dynamodb = boto3.resource("dynamodb", region_name="ap-northeast-2")
        dynamodb.create_table(
            TableName="bench-item",
            AttributeDefinitions=[{"AttributeName": "sensor_key", "AttributeType": "S"}],
            KeySchema=[{"AttributeName": "sensor_key", "KeyType": "HASH"}],
            BillingMode="PAY_PER_REQUEST",
        )
        store = AlarmStateStore("bench-item", dynamodb=dynamodb)
        store.save(reading, state, expected_version=0, received_ms=1, interval_s=10.0)
        history = [round(8 + 4 * rng.random(), 2) for _ in range(32)]
        key = "bench#co-0007"
        AnomalyStateStore("bench-item", dynamodb=dynamodb).save(key, AnomalyState(history, 1))
        item = store.table.get_item(Key={"sensor_key": key})["Item"]
        sizes["v2"] = sum(len(k) + _dynamodb_size(v) for k, v in item.items())
        pairs = {
            **state.to_dict(),
            "v": 1,
            "stel": [[k, v] for k, v in sorted(state.stel_buckets.items())],
            "twa": [[k, v] for k, v in sorted(state.twa_buckets.items())],
        }
        # v1 also kept the receive time as text beside ``last_seen``.
        legacy = {
            **item,
            "state": to_dynamo(pairs),
            "received_at": start.isoformat(timespec="microseconds"),
        }
        sizes["v1"] = sum(len(k) + _dynamodb_size(v) for k, v in legacy.items())
    return sizes


def run(options: Options) -> str:
    # The Powertools metrics of the in-process handler print to stdout: not into the report.
    with contextlib.redirect_stdout(io.StringIO()):
        alone = _handler_alone(options)
    invokes, e2e, to_sns = _in_cloud(options)
    throughput = _anomaly_throughput(options)
    with contextlib.redirect_stdout(io.StringIO()):  # moto's server announces itself there
        cold = _cold_start(options)
    rows = [
        ("handler alone (moto, in process)", ms(percentile(alone, 50)), ms(percentile(alone, 99))),
        (
            "Lambda invoke in the local cloud",
            ms(percentile(invokes, 50)),
            ms(percentile(invokes, 99)),
        ),
        (
            "MQTT publish -> evidence (local cloud)",
            ms(percentile(e2e, 50)),
            ms(percentile(e2e, 99)),
        ),
        (
            "MQTT publish -> SNS incident notification (local cloud)",
            ms(percentile(to_sns, 50)),
            ms(percentile(to_sns, 99)),
        ),
    ]
    cold_rows = [
        (
            "tracer on (as in AWS)" if tracing else "tracer off",
            *(ms(median(cold[tracing][k])) for k in ("import", "first", "warm")),
            ms(
                median(
                    [
                        a + b
                        for a, b in zip(
                            cold[tracing]["import"], cold[tracing]["first"], strict=True
                        )
                    ]
                )
            ),
        )
        for tracing in (False, True)
    ]
    imported = median(cold[True]["import"])
    item = _sensor_item(options)
    # A write is billed per started KB of the item; the heartbeat index adds one unit when a
    # projected attribute changes, two (a delete and a put) when its key does: v1 keyed the
    # index on last_seen, which every reading changes. The anomaly path writes the same item
    # (SET anomaly, not projected) once per sensor per batch: about once per reading, since a
    # 100-reading batch of a 100,000-sensor province rarely holds one sensor twice.
    units = {v: -(-size // 1024) for v, size in item.items()}
    index_units = {"v1": 2, "v2": 1}
    item_rows = [
        (
            label,
            f"{item[v]:,} B",
            str(units[v]),
            str(index_units[v]),
            str(units[v]),
            f"{(2 * units[v] + index_units[v]) * 10_000:,}",
        )
        for v, label in (
            ("v1", "before: sums as number pairs, index keyed on last_seen"),
            ("v2", "now: sums packed, last_seen projected"),
        )
    ]
    return "\n\n".join(
        [
            "## Alarm path",
            table(["one telemetry reading", "p50", "p99"], rows, right=(1, 2)),
            f"Anomaly scoring throughput: **{throughput:,.0f} readings/s** (batches of 100).",
            f"Cold start of the sensor function, median of {len(cold[True]['import'])} fresh "
            "processes against the local cloud's AWS endpoint on 127.0.0.1 (the first reading "
            "crosses CO's high level and sends evidence; it pays for boto3 and the clients the "
            "module makes on first use):",
            table(
                ["", "import", "first reading", "warm reading", "import + first reading"],
                cold_rows,
                right=range(1, 5),
            ),
            f"Cold import, tracer on, under 300 ms: {goal(imported < 0.3)} ({ms(imported)}).",
            "The sensor's DynamoDB item after 8 h of CO readings every 10 s and an anomaly "
            "batch, and the write units (WU) each reading costs: the alarm path's write and the "
            "heartbeat index's, then the anomaly path's write of the same item; at the design "
            "scale of 10,000 readings/s:",
            table(
                ["sensor item", "size", "alarm WU", "index WU", "anomaly WU", "WU/s"],
                item_rows,
                right=(1, 2, 3, 4, 5),
            ),
        ]
    )
