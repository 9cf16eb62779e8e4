"""The alarm path (functions/sensor_telemetry) and the anomaly path, against moto.

State-store concurrency, clock-skew rejection, the evidence message shape, per-complex
configuration from SSM, anomaly scoring on synthetic series, and the import budget of the
alarm function checked in a fresh interpreter.
"""

from __future__ import annotations

import importlib
import itertools
import json
import os
import subprocess
import sys
from collections.abc import Iterator, Sequence
from datetime import UTC, datetime, timedelta
from pathlib import Path
from types import ModuleType
from typing import Any

import boto3
import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from moto import mock_aws

from gyeonggi.safety.alarm_configs import ComplexAlarmConfigs
from gyeonggi.safety.alarm_evidence import alarm_evidence, evidence_severity
from gyeonggi.safety.alarm_path import AlarmPath, StateNotLoaded, StateNotSaved
from gyeonggi.safety.alarms import AlarmConfig, AlarmConfigError, AlarmEvent, Reading, evaluate
from gyeonggi.safety.anomalies import (
    Z_FLAG,
    AnomalyState,
    Point,
    robust_z,
    score_sensor,
    stuck_while_neighbours_vary,
)
from gyeonggi.safety.evidence import Evidence, EvidenceNotAccepted, EvidenceQueue
from gyeonggi.safety.heartbeats import ComplexRegister, HeartbeatSweep, HeartbeatWatch
from gyeonggi.safety.sensor_state import AlarmStateStore
from gyeonggi.safety.telemetry import parse_telemetry
from tests.conftest import load_event, rule_message
from tests.fakes.safety import FakeAlarmConfigs, FakeAlarmStates, FakeComplexRegistry
from tests.unit.conftest import LambdaContext

ROOT = Path(__file__).resolve().parents[2]
TABLE = "sensor-state"
COMPLEXES = "safety-complexes"
NOW = datetime.now(UTC).replace(microsecond=0)


def _create_table(resource: Any) -> None:
    resource.create_table(
        TableName=TABLE,
        AttributeDefinitions=[
            {"AttributeName": "sensor_key", "AttributeType": "S"},
            {"AttributeName": "complex_id", "AttributeType": "S"},
        ],
        KeySchema=[{"AttributeName": "sensor_key", "KeyType": "HASH"}],
        GlobalSecondaryIndexes=[
            {
                "IndexName": "sensors_by_complex",
                "KeySchema": [{"AttributeName": "complex_id", "KeyType": "HASH"}],
                "Projection": {"ProjectionType": "ALL"},
            }
        ],
        BillingMode="PAY_PER_REQUEST",
    )


@pytest.fixture
def aws(monkeypatch: pytest.MonkeyPatch, lambda_environment: None) -> Iterator[dict[str, Any]]:
    with mock_aws():
        resource = boto3.resource("dynamodb")
        _create_table(resource)
        resource.create_table(
            TableName=COMPLEXES,
            AttributeDefinitions=[{"AttributeName": "complex_id", "AttributeType": "S"}],
            KeySchema=[{"AttributeName": "complex_id", "KeyType": "HASH"}],
            BillingMode="PAY_PER_REQUEST",
        )
        sqs = boto3.client("sqs")
        urls = {n: sqs.create_queue(QueueName=n)["QueueUrl"] for n in ("evidence", "dlq")}
        monkeypatch.setenv("SENSOR_STATE_TABLE", TABLE)
        monkeypatch.setenv("SAFETY_COMPLEXES_TABLE", COMPLEXES)
        monkeypatch.setenv("TELEMETRY_DLQ_URL", urls["dlq"])
        monkeypatch.setenv("SAFETY_EVIDENCE_QUEUE_URL", urls["evidence"])
        yield {"dynamodb": resource, "sqs": sqs, "urls": urls}


CTX = LambdaContext()


def _drain(aws: dict[str, Any], queue: str) -> list[dict[str, Any]]:
    out: list[dict[str, Any]] = []
    while True:
        msgs = aws["sqs"].receive_message(QueueUrl=aws["urls"][queue], MaxNumberOfMessages=10)
        if not msgs.get("Messages"):
            return out
        for m in msgs["Messages"]:
            out.append(json.loads(m["Body"]))
            aws["sqs"].delete_message(QueueUrl=aws["urls"][queue], ReceiptHandle=m["ReceiptHandle"])


def _module(name: str) -> ModuleType:
    # Imported once (Powertools' logger does not survive a reload); moto's patch applies to
    # clients made under an earlier mock too, and the names and URLs are the same each time.
    # A service of its own: two Powertools loggers of one service share a logging.Logger, and
    # the local cloud loads these modules under their real service names.
    previous = os.environ.get("POWERTOOLS_SERVICE_NAME")
    os.environ["POWERTOOLS_SERVICE_NAME"] = f"unit-test-{name}"
    try:
        module = importlib.import_module(f"functions.{name}.app")
    finally:
        if previous is None:
            os.environ.pop("POWERTOOLS_SERVICE_NAME", None)
        else:
            os.environ["POWERTOOLS_SERVICE_NAME"] = previous
    if hasattr(module, "complexes"):
        module.complexes._known.clear()
    if hasattr(module, "configs"):
        module.configs._cache.clear()
    return module


def _reading(value: float, ts: datetime, sensor: str = "gas-1", kind: str = "lel") -> dict:
    unit = {"lel": "%LEL", "co": "ppm"}[kind]
    return {
        "kind": kind,
        "value": value,
        "unit": unit,
        "ts": ts.isoformat(),
        "complex_id": "banwol",
        "sensor_id": sensor,
    }


def test_gas_ramp_sends_low_then_high_evidence_and_keeps_state(aws: dict[str, Any]) -> None:
    app = _module("sensor_telemetry")
    start = NOW - timedelta(minutes=5)
    kinds = []
    for i, value in enumerate((2.0, 8.0, 12.0, 16.0, 22.0)):
        result = app.handler(rule_message(_reading(value, start + timedelta(seconds=10 * i))), CTX)
        assert result["accepted"] is True
        kinds += result["events"]
    assert "threshold_low" in kinds and "threshold_high" in kinds
    evidence = {m["kind"]: m for m in _drain(aws, "evidence")}
    high = evidence["threshold_high"]
    assert set(high) == {
        "source", "complex_id", "sensor_id", "kind", "severity", "gas", "value", "limit",
        "ts", "detail",
    }  # fmt: skip
    assert high["source"] == "sensor" and high["severity"] == "alarm" and high["limit"] == 20
    assert evidence["threshold_low"]["severity"] == "warning"
    assert len(high["detail"]["evidence_id"]) == 32
    item = aws["dynamodb"].Table(TABLE).get_item(Key={"sensor_key": "banwol#gas-1"})["Item"]
    assert item["version"] == 5 and item["level"] == 2 and item["last_seen"] > 0


def test_duplicate_reading_changes_nothing(aws: dict[str, Any]) -> None:
    app = _module("sensor_telemetry")
    event = rule_message(_reading(15.0, NOW))
    app.handler(event, CTX)
    assert app.handler(event, CTX)["stale"] is True
    assert [m["kind"] for m in _drain(aws, "evidence")] == ["threshold_low"]


def test_clock_skew_is_rejected_to_the_dead_letter_queue(aws: dict[str, Any]) -> None:
    app = _module("sensor_telemetry")
    result = app.handler(rule_message(_reading(30.0, NOW + timedelta(minutes=10))), CTX)
    assert result["accepted"] is False and "clock skew" in result["reason"]
    (dead,) = _drain(aws, "dlq")
    assert dead["reason"].startswith("ts:") and dead["payload"]["sensor_id"] == "gas-1"
    assert _drain(aws, "evidence") == []
    # four minutes ahead is within the tolerance
    assert (
        app.handler(rule_message(_reading(1.0, NOW + timedelta(minutes=4))), CTX)["accepted"]
        is True
    )


def test_sample_clock_skew_event_is_rejected(aws: dict[str, Any]) -> None:
    app = _module("sensor_telemetry")
    result = app.handler(load_event("sensor_telemetry/iot_rule_clock_skew.json"), CTX)
    assert result["accepted"] is False and result["reason"].startswith("ts:")


def test_conflicting_write_is_retried_once_on_fresh_state(aws: dict[str, Any]) -> None:
    app = _module("sensor_telemetry")
    app.handler(rule_message(_reading(5.0, NOW - timedelta(seconds=30))), CTX)
    real_save = app.store.save
    calls = []

    def racing_save(reading: Any, state: Any, **kw: Any) -> bool:
        calls.append(kw["expected_version"])
        if len(calls) == 1:  # another invocation writes between our read and our write
            other = Reading("banwol", "gas-1", "lel", 6.0, "%LEL", NOW - timedelta(seconds=20))
            stored = app.store.load("banwol#gas-1")
            new, _ = evaluate(stored.state, other, AlarmConfig())
            assert real_save(
                other, new, expected_version=stored.version, received_ms=1, interval_s=10
            )
        return bool(real_save(reading, state, **kw))

    app.store.save = racing_save
    assert app.handler(rule_message(_reading(7.0, NOW - timedelta(seconds=10))), CTX)["accepted"]
    assert calls == [1, 2]
    item = aws["dynamodb"].Table(TABLE).get_item(Key={"sensor_key": "banwol#gas-1"})["Item"]
    assert item["version"] == 3 and item["value"] == 7


def test_store_refuses_a_stale_version(aws: dict[str, Any]) -> None:
    store = AlarmStateStore(TABLE, aws["dynamodb"])
    r = Reading("banwol", "s", "co", 1.0, "ppm", NOW)
    state, _ = evaluate(None, r, AlarmConfig())
    assert store.save(r, state, expected_version=0, received_ms=1, interval_s=60)
    assert not store.save(r, state, expected_version=0, received_ms=1, interval_s=60)
    assert store.load("banwol#s").version == 1


def test_complex_config_from_ssm_with_ttl_and_defaults(aws: dict[str, Any]) -> None:
    ssm = boto3.client("ssm")
    ssm.put_parameter(
        Name="/gyeonggi/safety/complexes/sihwa/alarms",
        Value=json.dumps({"kinds": {"co": {"low": 20, "high": 40}}}),
        Type="String",
    )
    ssm.put_parameter(
        Name="/gyeonggi/safety/complexes/broken/alarms", Value='{"kinds": 1}', Type="String"
    )
    clock = [0.0]
    invalid: list[str] = []
    configs = ComplexAlarmConfigs(
        ttl_s=60, ssm=ssm, clock=lambda: clock[0], on_invalid=lambda c, r: invalid.append(c)
    )
    assert configs.get("sihwa").limits["co"].low == 20
    assert configs.get("banwol").limits["co"].low == 35  # absent: industry default
    assert configs.get("broken").limits["co"].low == 35 and invalid == ["broken"]
    ssm.put_parameter(
        Name="/gyeonggi/safety/complexes/sihwa/alarms",
        Value=json.dumps({"kinds": {"co": {"low": 25, "high": 40}}}),
        Type="String",
        Overwrite=True,
    )
    assert configs.get("sihwa").limits["co"].low == 20  # cached
    clock[0] = 61
    assert configs.get("sihwa").limits["co"].low == 25


def test_put_validates_before_storing_and_the_alarm_path_sees_it(aws: dict[str, Any]) -> None:
    ssm = boto3.client("ssm")
    configs = ComplexAlarmConfigs(ttl_s=60, ssm=ssm)
    assert configs.get("sihwa").limits["co"].high == 70  # cached: the default
    with pytest.raises(AlarmConfigError, match="low"):
        configs.put("sihwa", {"kinds": {"co": {"low": 80, "high": 60}}})
    with pytest.raises(AlarmConfigError, match="complex id"):
        configs.put("../other", {})
    assert ssm.describe_parameters()["Parameters"] == []  # nothing invalid was written
    configs.put("sihwa", {"kinds": {"co": {"low": 30, "high": 60}}})
    assert configs.get("sihwa").limits["co"].high == 60  # its own cache entry was dropped
    stored = ssm.get_parameter(Name="/gyeonggi/safety/complexes/sihwa/alarms")["Parameter"]
    assert json.loads(stored["Value"]) == {"kinds": {"co": {"high": 60, "low": 30}}}


def test_alarms_command_checks_puts_and_shows(
    aws: dict[str, Any], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    from gyeonggi_tools.cli import main

    good, bad = tmp_path / "good.json", tmp_path / "bad.json"
    good.write_text('{"kinds": {"h2s": {"low": 5, "high": 10}}, "clear_ratio": 0.8}')
    bad.write_text('{"kinds": {"h2s": {"low": "five"}}}')
    assert main(["safety", "alarms", "check", str(bad)]) == 2
    assert "kinds.h2s.low" in capsys.readouterr().err
    assert main(["safety", "alarms", "put", "banwol", str(good)]) == 0
    stored = json.loads(capsys.readouterr().out)
    assert stored["kinds"]["h2s"]["low"] == 5 and stored["clear_ratio"] == 0.8
    assert stored["kinds"]["co"]["high"] == 70  # the rest stays at the industry defaults
    assert main(["safety", "alarms", "show", "banwol"]) == 0
    assert json.loads(capsys.readouterr().out) == stored
    assert main(["safety", "alarms", "check", str(tmp_path / "missing.json")]) == 2
    assert "no such file" in capsys.readouterr().err


def test_evidence_severity_scale() -> None:
    def event(kind: Any, severity: Any, gas: str) -> AlarmEvent:
        return AlarmEvent(kind, severity, gas, 1.0, 1.0, NOW, "c", "s")

    assert evidence_severity(event("threshold_high", "critical", "co")) == "alarm"
    assert evidence_severity(event("threshold_high", "critical", "flame")) == "critical"
    assert evidence_severity(event("threshold_low", "warning", "co")) == "warning"
    cleared = alarm_evidence(event("cleared", "info", "co"), received_at=NOW)
    assert cleared.severity == "warning" and cleared.detail
    assert cleared.detail["alarm_severity"] == "info"


def test_alarm_function_imports_no_numpy_sklearn_or_cv2() -> None:
    code = (
        "import sys, functions.sensor_telemetry.app as app\n"
        "heavy = sorted(m for m in ('numpy', 'sklearn', 'cv2', 'pandas') if m in sys.modules)\n"
        "print(heavy)"
    )
    env = {
        **{k: v for k, v in os.environ.items() if not k.startswith(("AWS_", "POWERTOOLS_"))},
        "PYTHONPATH": os.pathsep.join([str(ROOT), str(ROOT / "layers")]),
        "AWS_DEFAULT_REGION": "ap-northeast-2",
        "SENSOR_STATE_TABLE": "t",
        "SAFETY_COMPLEXES_TABLE": "c",
        "TELEMETRY_DLQ_URL": "https://sqs.invalid/dlq",
        "SAFETY_EVIDENCE_QUEUE_URL": "https://sqs.invalid/evidence",
    }
    out = subprocess.run(
        [sys.executable, "-c", code], env=env, cwd=ROOT, capture_output=True, text=True, check=True
    )
    assert out.stdout.strip() == "[]", out.stdout + out.stderr


# ------------------------------------------------------------------ anomaly path


def test_robust_z_flags_a_spike_not_the_noise() -> None:
    rng = np.random.default_rng(1)
    history = list(1.0 + rng.normal(0, 0.2, 32))
    values = [1.1, 0.9, 5.0, 1.0]
    z = robust_z(history, values, floor=0.2)
    assert abs(z[0]) < 3 and abs(z[1]) < 3 and z[2] > Z_FLAG and abs(z[3]) < 3
    assert np.isnan(robust_z([1.0] * 3, [9.0], floor=0.2)[0])  # too little history


def test_score_sensor_reports_a_run_once_and_rearms() -> None:
    rng = np.random.default_rng(2)
    base = 1.0 + rng.normal(0, 0.1, 40)
    series = [*base, 8.0, 8.2, 1.0, 1.05, 9.0]
    points = [Point(1000 * (i + 1), float(v)) for i, v in enumerate(series)]
    state, found = score_sensor(AnomalyState(), "lel", points)
    assert [a.value for a in found] == [8.0, 9.0]
    assert len(state.history) == 32 and state.last_ts_ms == points[-1].ts_ms
    again, repeat = score_sensor(state, "lel", points)  # redelivery: nothing new
    assert repeat == [] and again is state


def test_level_shift_becomes_the_new_normal() -> None:
    series = [1.0 + 0.01 * (i % 5) for i in range(32)] + [5.0 + 0.01 * (i % 5) for i in range(40)]
    points = [Point(i + 1, v) for i, v in enumerate(series)]
    state, found = score_sensor(AnomalyState(), "lel", points)
    assert len(found) == 1 and not state.flagged


def test_stuck_while_neighbours_vary() -> None:
    series = {
        ("c", "co", "a"): [3.0, 3.2, 2.9, 3.1, 3.3],
        ("c", "co", "b"): [2.0, 2.4, 2.1, 2.2, 2.0],
        ("c", "co", "stuck"): [4.0] * 5,
        ("c", "co", "clean-air"): [0.0] * 5,  # 0 ppm is exempt
        ("d", "co", "alone"): [4.0] * 5,  # no neighbours to compare with
    }
    assert stuck_while_neighbours_vary(series) == [("c", "co", "stuck", 4.0, ["a", "b"])]


def test_anomaly_function_sample_batch(aws: dict[str, Any]) -> None:
    app = _module("sensor_anomalies")
    event = load_event("sensor_anomalies/sqs_batch.json")
    assert app.handler(event, CTX) == {"batchItemFailures": []}
    evidence = _drain(aws, "evidence")
    kinds = sorted((m["kind"], m["sensor_id"]) for m in evidence)
    assert kinds == [("anomaly", "lel-0101"), ("fault_stuck", "lel-0104")]
    anomaly = next(m for m in evidence if m["kind"] == "anomaly")
    assert anomaly["severity"] == "warning" and anomaly["detail"]["z"] >= Z_FLAG
    assert app.handler(event, CTX) == {"batchItemFailures": []}  # redelivered: no new anomaly
    assert [m["kind"] for m in _drain(aws, "evidence")] == ["fault_stuck"]


def test_anomaly_batch_skips_a_body_too_deep_or_too_long_to_parse(aws: dict[str, Any]) -> None:
    # Such a record once raised RecursionError or ValueError past the skip and failed the batch.
    app = _module("sensor_anomalies")
    event = load_event("sensor_anomalies/sqs_batch.json")
    first = event["Records"][0]
    bad = ["[" * 50_000 + "]" * 50_000, '{"value": ' + "9" * 5000 + "}", '{"value": NaN}']
    extra = [{**first, "messageId": f"bad-{i}", "body": body} for i, body in enumerate(bad)]
    event = {**event, "Records": [*event["Records"], *extra]}
    assert app.handler(event, CTX) == {"batchItemFailures": []}
    kinds = sorted((m["kind"], m["sensor_id"]) for m in _drain(aws, "evidence"))
    assert kinds == [("anomaly", "lel-0101"), ("fault_stuck", "lel-0104")]


def test_anomaly_function_reports_only_the_failed_sensor(aws: dict[str, Any]) -> None:
    app = _module("sensor_anomalies")
    event = load_event("sensor_anomalies/sqs_batch.json")
    real = app.batch.states.save

    def failing(key: str, state: Any) -> None:
        if key.endswith("lel-0102"):
            raise RuntimeError("throttled")
        real(key, state)

    app.batch.states.save = failing
    failures = app.handler(event, CTX)["batchItemFailures"]
    bodies = {r["messageId"]: json.loads(r["body"]) for r in event["Records"][:-1]}  # ids in clear
    assert failures and {bodies[f["itemIdentifier"]]["sensor_id"] for f in failures} == {"lel-0102"}


# ------------------------------------------------------------------ heartbeat sweep


def _sensor(table: Any, complex_id: str, sensor: str, silent_s: float, **extra: Any) -> None:
    table.put_item(
        Item={"sensor_key": f"{complex_id}#{sensor}", "complex_id": complex_id,
              "sensor_id": sensor, "kind": "co", "interval_s": 60,
              "last_seen": round((NOW.timestamp() - silent_s) * 1000), **extra}
    )  # fmt: skip


def _sweep(aws: dict[str, Any], send: Any = None) -> HeartbeatSweep:
    queue = EvidenceQueue(aws["urls"]["evidence"], aws["sqs"])
    return HeartbeatSweep(
        ComplexRegister(COMPLEXES, aws["dynamodb"]),
        HeartbeatWatch(TABLE, aws["dynamodb"]),
        send or queue.send,
    )


def test_missed_heartbeat_reported_once(aws: dict[str, Any]) -> None:
    table = aws["dynamodb"].Table(TABLE)
    _sensor(table, "c", "quiet", 200)  # 3 x 60 s is the limit
    _sensor(table, "c", "live", 100)
    watch = HeartbeatWatch(TABLE, aws["dynamodb"])
    silence = watch.silence("c", NOW)
    assert silence.sensors == 2 and not silence.dark
    (silent,) = silence.new
    assert silent["sensor_id"] == "quiet"
    assert watch.mark_reported(silent)
    assert watch.silence("c", NOW).new == []


def test_mark_reported_loses_to_a_sensor_that_spoke_again(aws: dict[str, Any]) -> None:
    table = aws["dynamodb"].Table(TABLE)
    _sensor(table, "c", "quiet", 200)
    watch = HeartbeatWatch(TABLE, aws["dynamodb"])
    (silent,) = watch.silence("c", NOW).new
    _sensor(table, "c", "quiet", 1)
    assert not watch.mark_reported(silent)


def test_register_is_idempotent_and_written_once_per_container(aws: dict[str, Any]) -> None:
    register = ComplexRegister(COMPLEXES, aws["dynamodb"])
    register.ensure("banwol", NOW)
    register.ensure("banwol", NOW + timedelta(hours=1))
    # A second container (a new register) keeps the first date.
    ComplexRegister(COMPLEXES, aws["dynamodb"]).ensure("banwol", NOW + timedelta(hours=2))
    register.ensure("sihwa", NOW)
    assert sorted(register.complex_ids()) == ["banwol", "sihwa"]
    item = aws["dynamodb"].Table(COMPLEXES).get_item(Key={"complex_id": "banwol"})["Item"]
    assert item["first_seen"] == NOW.isoformat()


def test_alarm_function_registers_the_complex_it_hears_from(aws: dict[str, Any]) -> None:
    app = _module("sensor_telemetry")
    app.handler(rule_message(_reading(2.0, NOW - timedelta(seconds=5))), CTX)
    assert list(app.complexes.complex_ids()) == ["banwol"]


def test_alarm_is_not_held_back_by_a_failing_register(
    aws: dict[str, Any], monkeypatch: pytest.MonkeyPatch
) -> None:
    app = _module("sensor_telemetry")

    def broken(complex_id: str, now: datetime) -> None:
        raise RuntimeError("throttled")

    monkeypatch.setattr(app.complexes, "ensure", broken)
    result = app.handler(rule_message(_reading(25.0, NOW - timedelta(seconds=5))), CTX)
    assert result["accepted"] is True and "threshold_high" in result["events"]
    assert any(m["kind"] == "threshold_high" for m in _drain(aws, "evidence"))


def test_sweep_finds_a_silent_complex_that_sends_nothing(aws: dict[str, Any]) -> None:
    """The case a batch-driven check cannot see: every sensor of a complex has gone quiet."""
    table = aws["dynamodb"].Table(TABLE)
    register = ComplexRegister(COMPLEXES, aws["dynamodb"])
    for complex_id in ("dark", "fine"):
        register.ensure(complex_id, NOW)
    _sensor(table, "dark", "co-1", 400)
    _sensor(table, "dark", "co-2", 250)
    _sensor(table, "fine", "co-1", 30)
    sweep = _sweep(aws)
    outcome = sweep.run(NOW)
    assert (outcome.complexes, outcome.missed, outcome.dark, outcome.failed) == (2, 2, ["dark"], [])
    evidence = _drain(aws, "evidence")
    kinds = sorted((m["sensor_id"], m["kind"], m["severity"]) for m in evidence)
    assert kinds == [
        ("*", "fault_complex_silent", "alarm"),
        ("co-1", "fault_heartbeat", "warning"),
        ("co-2", "fault_heartbeat", "warning"),
    ]
    assert all(m["complex_id"] == "dark" for m in evidence)
    # Reported once: the next minute's sweep says nothing until a sensor speaks and falls
    # silent again.
    assert sweep.run(NOW + timedelta(minutes=1)).missed == 0
    assert _drain(aws, "evidence") == []


def test_one_silent_sensor_does_not_make_a_complex_dark(aws: dict[str, Any]) -> None:
    table = aws["dynamodb"].Table(TABLE)
    ComplexRegister(COMPLEXES, aws["dynamodb"]).ensure("c", NOW)
    _sensor(table, "c", "quiet", 400)
    _sensor(table, "c", "live", 10)
    assert _sweep(aws).run(NOW).dark == []
    assert [m["kind"] for m in _drain(aws, "evidence")] == ["fault_heartbeat"]


def test_unsent_evidence_is_not_marked_and_is_repeated(aws: dict[str, Any]) -> None:
    """Evidence before the mark: a failed send leaves the silence to the next sweep."""
    table = aws["dynamodb"].Table(TABLE)
    register = ComplexRegister(COMPLEXES, aws["dynamodb"])
    for complex_id in ("a", "b"):
        register.ensure(complex_id, NOW)
        _sensor(table, complex_id, "quiet", 400)
        _sensor(table, complex_id, "live", 10)
    queue = EvidenceQueue(aws["urls"]["evidence"], aws["sqs"])

    def send_but_not_for_a(evidence: Sequence[Evidence], /) -> int:
        if evidence[0].complex_id == "a":
            raise EvidenceNotAccepted("throttled")
        return queue.send(evidence)

    outcome = _sweep(aws, send_but_not_for_a).run(NOW)
    assert outcome.failed == ["a"] and outcome.missed == 1  # b was still checked
    again = _sweep(aws).run(NOW)
    assert (again.failed, again.missed) == ([], 1)
    assert sorted(m["complex_id"] for m in _drain(aws, "evidence")) == ["a", "b"]


def test_sweep_function_fails_loudly_when_a_complex_was_not_checked(
    aws: dict[str, Any], monkeypatch: pytest.MonkeyPatch
) -> None:
    app = _module("heartbeat_sweep")
    event = load_event("heartbeat_sweep/scheduled_event.json")
    app.sweep.register.ensure("banwol", NOW)
    _sensor(aws["dynamodb"].Table(TABLE), "banwol", "lel-1", 600)
    assert app.handler(event, CTX)["missed"] == 1

    def broken(complex_id: str, now: datetime) -> Any:
        raise RuntimeError("throttled")

    monkeypatch.setattr(app.sweep.watch, "silence", broken)
    with pytest.raises(app.SweepIncomplete, match="banwol"):
        app.handler(event, CTX)


# ------------------------------------------------------------------ the alarm path on fakes


def test_alarm_path_sends_evidence_before_it_writes_the_state() -> None:
    states, complexes = FakeAlarmStates(), FakeComplexRegistry()
    seen_by_send: list[int] = []

    def send(evidence: Sequence[Evidence], /) -> int:
        seen_by_send.append(states.load("banwol#co-1").version)
        return len(evidence)

    path = AlarmPath(states, FakeAlarmConfigs(), send, complexes)
    reading = parse_telemetry(_reading(80.0, NOW, sensor="co-1", kind="co"))
    outcome = path.handle(reading, NOW)
    assert [e.kind for e in outcome.events] == ["threshold_high"]
    assert seen_by_send == [0] and states.load("banwol#co-1").version == 1
    assert complexes.first_seen == {"banwol": NOW}
    assert path.handle(reading, NOW).stale  # a redelivery changes nothing


# ------------------------------------------------------------------ failing state stores


class _BrokenStates(FakeAlarmStates):
    """A state store whose reads or writes fail as DynamoDB can (throttled, a bad item)."""

    def __init__(self, *, load: bool = False, save: bool = False) -> None:
        super().__init__()
        self.fail_load, self.fail_save = load, save

    def load(self, sensor_key: str) -> Any:
        if self.fail_load:
            raise RuntimeError("ProvisionedThroughputExceededException")
        return super().load(sensor_key)

    def save(self, reading: Any, state: Any, **kwargs: Any) -> bool:
        if self.fail_save:
            raise RuntimeError("ValidationException: item too large")
        return super().save(reading, state, **kwargs)


def _collecting() -> tuple[list[Evidence], Any]:
    sent: list[Evidence] = []

    def send(evidence: Sequence[Evidence], /) -> int:
        sent.extend(evidence)
        return len(evidence)

    return sent, send


def test_a_state_write_that_fails_costs_no_alarm_and_says_why() -> None:
    # Given a store that refuses every write (not a version conflict)
    states, (sent, send) = _BrokenStates(save=True), _collecting()
    path = AlarmPath(states, FakeAlarmConfigs(), send)
    reading = parse_telemetry(_reading(900.0, NOW, sensor="co-1", kind="co"))
    # When a reading far above the CO alarm level arrives, and Lambda tries it three times
    for _ in range(3):
        with pytest.raises(StateNotSaved, match=r"banwol#co-1: .*ValidationException"):
            path.handle(reading, NOW)
    # Then its alarm went out every time, with one id the incident function keeps once
    assert {e.kind for e in sent} == {"threshold_high"}
    assert len({e.detail["evidence_id"] for e in sent if e.detail}) == 1


def test_a_state_that_cannot_be_read_is_judged_without_it_and_nothing_is_written() -> None:
    states, (sent, send) = _BrokenStates(load=True), _collecting()
    path = AlarmPath(states, FakeAlarmConfigs(), send)
    reading = parse_telemetry(_reading(900.0, NOW, sensor="co-2", kind="co"))
    with pytest.raises(StateNotLoaded, match="judged without it, 1 event"):
        path.handle(reading, NOW)
    assert [e.kind for e in sent] == ["threshold_high"]
    states.fail_load = False
    assert states.load("banwol#co-2").version == 0  # nothing written over the unread state


def test_the_function_fails_the_invocation_after_the_evidence_went_out(
    aws: dict[str, Any], monkeypatch: pytest.MonkeyPatch
) -> None:
    app = _module("sensor_telemetry")

    def broken(*args: Any, **kwargs: Any) -> bool:
        raise RuntimeError("ValidationException")

    monkeypatch.setattr(app.store, "save", broken)
    with pytest.raises(StateNotSaved):
        app.handler(rule_message(_reading(900.0, NOW, sensor="co-3", kind="co")), CTX)
    assert [m["kind"] for m in _drain(aws, "evidence")] == ["threshold_high"]


# ------------------------------------------------------------------ what the rule hands on


@pytest.mark.parametrize(
    ("payload", "reason"),
    [
        (b"[1, 2]", "payload: a JSON array, not an object"),
        (b'"co 41 ppm"', "payload: a JSON string, not an object"),
        (b"41", "payload: a JSON number, not an object"),
        (b"null", "payload: a JSON null, not an object"),
        (b"\x00\x01\x02binary", "payload: not JSON"),
        (b"\xff\xfe{}", "payload: not UTF-8 text (byte 0xff at offset 0)"),
        (b'{"kind": "co", "value": 4', "payload: not JSON (Expecting"),
        (b"", "payload: not JSON"),
        (b'{"firmware": "\\ud800"}', "payload: text with an unpaired UTF-16 surrogate escape"),
        (b"[" * 100_000 + b"]" * 100_000, "payload: JSON nested too deeply"),
    ],
    ids=["array", "string", "number", "null", "binary", "not-utf8", "truncated", "empty",
         "lone-surrogate", "deep"],
)  # fmt: skip
def test_a_payload_that_is_no_json_object_is_rejected_with_the_reason_and_its_bytes(
    aws: dict[str, Any], payload: bytes, reason: str
) -> None:
    app = _module("sensor_telemetry")
    message = rule_message(payload, "banwol", "gas-9")
    result = app.handler(message, CTX)
    assert result["accepted"] is False and result["reason"].startswith(reason)
    (dead,) = _drain(aws, "dlq")
    assert dead["reason"] == result["reason"]
    assert dead["payload"] == message  # the bytes exactly as published, base64


def test_the_topic_names_the_sensor_whatever_the_payload_claims(aws: dict[str, Any]) -> None:
    app = _module("sensor_telemetry")
    spoofed = _reading(2.0, NOW, sensor="gas-7") | {"complex_id": "other", "sensor_id": "x"}
    result = app.handler(rule_message(spoofed, "banwol", "gas-7"), CTX)
    assert result["sensor_key"] == "banwol#gas-7"


def test_a_bare_nan_or_an_integer_past_float_range_is_a_fault(aws: dict[str, Any]) -> None:
    app = _module("sensor_telemetry")
    for n, text in enumerate((b"NaN", b"-Infinity", b"1e400", b"1" + b"0" * 400)):
        body = b'{"kind": "co", "unit": "ppm", "ts": "%s", "value": %s}' % (
            NOW.isoformat().encode(),
            text,
        )
        result = app.handler(rule_message(body, "banwol", f"co-nan-{n}"), CTX)
        assert result == {
            "accepted": True,
            "sensor_key": f"banwol#co-nan-{n}",
            "events": ["fault_out_of_range"],
        }
    item = aws["dynamodb"].Table(TABLE).get_item(Key={"sensor_key": "banwol#co-nan-0"})["Item"]
    assert "value" not in item and "fault_out_of_range" in item["active"]


_NUMBERS = st.one_of(
    st.floats(allow_nan=True, allow_infinity=True),
    st.integers(-(10**400), 10**400),
    st.sampled_from(["NaN", "Infinity", "-inf", "1e309", "1e-400", " 12 ", "0x10", "", "high"]),
    st.floats(min_value=-1e-300, max_value=1e-300),
    st.none(),
    st.booleans(),
)


_EXAMPLES = itertools.count()


@given(
    value=_NUMBERS,
    battery=st.one_of(st.none(), _NUMBERS),
    kind=st.sampled_from(["co", "temperature", "flame"]),
)
@settings(
    max_examples=40,
    deadline=None,
    derandomize=True,
    database=None,
    # One moto account for every example: each writes its own sensor's item.
    suppress_health_check=[HealthCheck.function_scoped_fixture],
)
def test_any_value_is_accepted_or_rejected_and_the_state_write_never_fails(
    aws: dict[str, Any], value: Any, battery: Any, kind: str
) -> None:
    # DynamoDB (boto3's serializer) refuses NaN, infinity and magnitudes past 1e126 or below
    # 1e-130: whatever a device sends, the write must be one it takes.
    app = _module("sensor_telemetry")
    unit = {"co": "ppm", "temperature": "C", "flame": "bool"}[kind]
    reading = {"kind": kind, "value": value, "unit": unit, "ts": NOW.isoformat()}
    if battery is not None:
        reading["battery"] = battery
    body = json.dumps(reading, allow_nan=True).encode()
    sensor = f"any-{next(_EXAMPLES)}"
    result = app.handler(rule_message(body, "banwol", sensor), CTX)  # never raises
    if result["accepted"]:
        item = aws["dynamodb"].Table(TABLE).get_item(Key={"sensor_key": f"banwol#{sensor}"})
        assert item["Item"]["version"] == 1
    else:
        assert result["reason"]


def test_the_anomaly_path_skips_readings_no_transducer_gives(aws: dict[str, Any]) -> None:
    app = _module("sensor_anomalies")
    records = []
    for n, value in enumerate(("NaN", "1e300", "-1e300", "Infinity")):
        body = b'{"kind": "co", "unit": "ppm", "ts": "%s", "value": %s}' % (
            (NOW - timedelta(seconds=n)).isoformat().encode(),
            value.encode(),
        )
        message = rule_message(body, "banwol", "co-broken")
        records.append({"messageId": f"m{n}", "body": json.dumps(message)})
    assert app.handler({"Records": records}, CTX) == {"batchItemFailures": []}
    assert (
        not aws["dynamodb"]
        .Table(TABLE)
        .get_item(Key={"sensor_key": "banwol#co-broken"})
        .get("Item")
    )
