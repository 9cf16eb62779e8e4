"""The sensor alarm path and the anomaly path.

- handler latency (p50/p99) for one telemetry reading: through the local cloud's Lambda invoke
  (moto behind it), and the handler alone under moto in this process;
- end to end in the local cloud: MQTT publish -> topic rule -> telemetry function -> evidence
  seen on SafetyEvidenceQueue (or in the batch its consumer was given, when one exists);
- anomaly batch throughput (readings/s) of the anomaly function's scoring, 100-reading batches;
- cold import of the sensor function in fresh interpreters (goal under 0.3 s).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from benchmarks import ROOT, Options, clean_environment, goal, median, ms, percentile, table

_READING = {"kind": "co", "unit": "ppm", "complex_id": "bench", "battery": 90}


def _reading(sensor: str, i: int, value: float) -> dict[str, Any]:
    ts = datetime.now(UTC) - timedelta(seconds=600 - i * 0.01)
    return {**_READING, "sensor_id": sensor, "value": value, "ts": ts.isoformat()}


def _cold_import(options: Options) -> list[float]:
    code = (
        "import time; t = time.perf_counter(); import functions.sensor_telemetry.app; "
        "print(time.perf_counter() - t)"
    )
    env = clean_environment(
        {
            "PYTHONPATH": os.pathsep.join([str(ROOT), str(ROOT / "layers")]),
            "AWS_DEFAULT_REGION": "ap-northeast-2",
            "SENSOR_STATE_TABLE": "t",
            "TELEMETRY_DLQ_URL": "https://sqs.invalid/dlq",
            "SAFETY_EVIDENCE_QUEUE_URL": "https://sqs.invalid/evidence",
        }
    )
    out = []
    for _ in range(options.imports):
        res = subprocess.run(
            [sys.executable, "-c", code], env=env, cwd=ROOT, capture_output=True, text=True
        )
        out.append(float(res.stdout.strip() or "nan"))
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
            cloud.invoke("TelemetryFunction", _reading("invoke", i, 1.0 + (i % 3) * 0.1))
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
        sqs = boto3.client("sqs")
        os.environ["SENSOR_STATE_TABLE"] = "bench-state"
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
            app.handler(_reading("alone", i, 1.0 + (i % 3) * 0.1), Ctx())
            if i >= options.warmup:
                out.append(time.perf_counter() - started)
    return out


def run(options: Options) -> str:
    imports = _cold_import(options)
    alone = _handler_alone(options)
    invokes, e2e, to_sns = _in_cloud(options)
    throughput = _anomaly_throughput(options)
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
    cold = median(imports)
    return "\n\n".join(
        [
            "## Alarm path",
            table(["one telemetry reading", "p50", "p99"], rows, right=(1, 2)),
            f"Anomaly scoring throughput: **{throughput:,.0f} readings/s** (batches of 100).",
            f"Cold import of the sensor function: median {ms(cold)} over {len(imports)} "
            f"processes (goal < 300 ms: {goal(cold < 0.3)}).",
        ]
    )
