"""The device simulator's scenarios, bounds and run loop, with an injected publish and clock."""

from __future__ import annotations

import json
import re
from collections import Counter
from datetime import UTC, datetime
from typing import Any

import pytest

from gyeonggi.common.errors import InvalidInput
from gyeonggi.safety.telemetry import parse_telemetry
from gyeonggi_tools import cli
from gyeonggi_tools.safety.simulator import (
    ALARM_LEVELS,
    MAX_MESSAGES,
    ONSET_S,
    RANGES,
    SCENARIOS,
    Scenario,
    fleet,
    plan_run,
    simulate,
)

T0 = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)


class FakeTime:
    """A clock that only moves when the simulator sleeps, so runs take no real time."""

    def __init__(self) -> None:
        self.now = 100.0

    def clock(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.now += seconds


class Recorder:
    def __init__(self, fail_every: int = 0) -> None:
        self.messages: list[tuple[str, dict[str, Any], int]] = []
        self.fail_every = fail_every
        self.calls = 0

    def __call__(self, topic: str, payload: bytes, qos: int) -> None:
        self.calls += 1
        if self.fail_every and self.calls % self.fail_every == 0:
            raise ConnectionError("broker went away")
        self.messages.append((topic, json.loads(payload), qos))


def run(**kwargs: Any) -> tuple[Any, Recorder]:
    fake, recorder = FakeTime(), kwargs.pop("recorder", Recorder())
    kwargs.setdefault("seed", 1)
    summary = simulate(
        kwargs.pop("complex_id", "siheung-sihwa"),
        publish=recorder,
        clock=fake.clock,
        sleep=fake.sleep,
        start_time=T0,
        **kwargs,
    )
    return summary, recorder


def series(story: Scenario, sensor_id: str, seconds: float, step: float = 1.0) -> list[float]:
    index = next(i for i, s in enumerate(story.sensors) if s.sensor_id == sensor_id)
    out = []
    for n in range(int(seconds / step) + 1):
        reading = story.reading(index, n * step, T0)
        if reading is not None:
            out.append(reading["value"])
    return out


# -- the fleet and its payloads ---------------------------------------------------------------


def test_fleet_is_a_realistic_mix_dominated_by_gas_sensors() -> None:
    kinds = Counter(s.kind for s in fleet(20))
    assert set(kinds) == set(RANGES)  # every kind appears in a fleet of 20
    assert kinds["lel"] + kinds["co"] + kinds["h2s"] >= 10
    assert kinds["nh3"] + kinds["cl2"] < kinds["lel"]
    ids = [s.sensor_id for s in fleet(20)]
    assert len(set(ids)) == 20
    assert ids[:3] == ["lel-001", "co-002", "h2s-003"]


@pytest.mark.parametrize("scenario", SCENARIOS)
def test_every_scenario_publishes_payloads_the_telemetry_parser_accepts(scenario: str) -> None:
    summary, rec = run(sensors=20, rate=1.0, duration=90, scenario=scenario)
    assert summary.errors == 0
    assert summary.sent == len(rec.messages) > 0
    for topic, payload, qos in rec.messages:
        prefix, area, complex_id, sensor_id, leaf = topic.split("/")
        assert (prefix, area, leaf, qos) == ("gyeonggi", "safety", "telemetry", 1)
        # What the IoT rule does: complex and sensor come from the topic, not the device.
        reading = parse_telemetry({**payload, "complex_id": complex_id, "sensor_id": sensor_id})
        assert reading.complex_id == "siheung-sihwa"
        assert reading.kind == sensor_id.split("-")[0]
        assert reading.firmware and reading.battery is not None
    # Device time advances with simulated time, one reading per sensor per tick.
    first, last = rec.messages[0][1]["ts"], rec.messages[-1][1]["ts"]
    assert first == "2026-03-02T09:00:00.000Z"
    assert last == "2026-03-02T09:01:29.000Z"


def test_normal_readings_stay_near_clean_air_baselines_and_batteries_drain() -> None:
    story = Scenario("normal", fleet(20), seed=7)
    for sensor in story.sensors:
        values = series(story, sensor.sensor_id, 300)
        if sensor.kind == "lel":
            assert all(0 <= v <= 2.5 for v in values)
        elif sensor.kind == "co":
            assert all(0 <= v <= 6 for v in values)
        elif sensor.kind == "flame":
            assert set(values) == {0}
        elif sensor.kind == "temperature":
            assert all(15 <= v <= 30 for v in values)
        elif sensor.kind in ALARM_LEVELS:
            assert max(values) < ALARM_LEVELS[sensor.kind][0] / 2
    start, later = story.battery(0, 0), story.battery(0, 3600)
    assert 0 < start - later < 5  # slow: a few percent an hour


def test_gas_leak_ramps_one_lel_sensor_over_both_alarm_levels_within_a_minute() -> None:
    story = Scenario("gas-leak", fleet(20), seed=3)
    assert story.role_ids() == {"leak": "lel-001"}
    values = series(story, "lel-001", ONSET_S + 70)
    assert max(values[: int(ONSET_S)]) < 2.5  # a clean baseline before the leak
    crossed_low = next(t for t, v in enumerate(values) if v >= 10)
    crossed_high = next(t for t, v in enumerate(values) if v >= 20)
    assert ONSET_S < crossed_low < crossed_high <= ONSET_S + 60
    assert values[-1] >= 30
    # Neighbours rise a little, never to an alarm; far sensors do not move.
    near = series(story, "h2s-003", ONSET_S + 70)
    assert near[-1] - near[0] > 0.5 and max(near) < ALARM_LEVELS["h2s"][0]
    near_lel = series(story, "lel-005", ONSET_S + 70)
    assert max(near_lel) < ALARM_LEVELS["lel"][0]
    far = series(story, "lel-017", ONSET_S + 70)
    assert max(far) < 2.5


def test_gas_leak_without_lel_sensors_uses_the_first_gas_sensor() -> None:
    story = Scenario("gas-leak", fleet(20)[1:2], seed=1)  # only co-002
    assert story.role_ids() == {"leak": "co-002"}
    values = series(story, "co-002", ONSET_S + 60)
    assert max(values) > ALARM_LEVELS["co"][1]


def test_sensor_fault_scenario_has_the_four_fault_shapes() -> None:
    story = Scenario("sensor-fault", fleet(20), seed=5)
    roles = story.role_ids()
    assert roles == {
        "stuck": "lel-001",
        "out-of-range": "co-002",
        "low-battery": "h2s-003",
        "missed-heartbeat": "lel-005",
    }
    stuck = series(story, "lel-001", 60)
    assert len(set(stuck)) == 1
    assert len(set(series(story, "lel-009", 60))) > 1  # a healthy sensor is noisy
    low, high = RANGES["co"]
    assert all(v < low or v > high for v in series(story, "co-002", 60))
    assert story.battery(2, 0) < 10
    silent = [story.reading(4, t, T0) for t in range(20)]
    assert all(r is not None for r in silent[: int(ONSET_S)])
    assert all(r is None for r in silent[int(ONSET_S) :])


def test_sensor_fault_skips_the_silent_sensor_in_a_run() -> None:
    summary, rec = run(sensors=5, rate=2.0, duration=10, scenario="sensor-fault")
    silent_ticks = int((10 - ONSET_S) * 2)
    assert summary.skipped == silent_ticks
    assert summary.sent == 5 * 20 - silent_ticks
    assert all("lel-005" not in topic for topic, *_ in rec.messages[-4:])


def test_fire_sets_flames_and_raises_smoke_and_temperature_fast() -> None:
    story = Scenario("fire", fleet(20), seed=2)
    assert set(series(story, "flame-004", ONSET_S - 1)) == {0}
    assert story.value(3, ONSET_S + 1) == 1
    smoke = series(story, "smoke-006", ONSET_S + 30)
    assert smoke[-1] > 10 and smoke[int(ONSET_S) - 1] < 1
    temp = series(story, "temperature-008", ONSET_S + 60)
    before, after_30s = temp[int(ONSET_S)], temp[int(ONSET_S) + 30]
    assert after_30s - before > 25  # far beyond a heat detector's 8.3 C/min rate-of-rise
    assert temp[-1] > 57  # a fixed-temperature heat detector's alarm point


def test_readings_are_deterministic_with_a_seed_and_vary_without() -> None:
    a = run(sensors=10, rate=4.0, duration=20, scenario="gas-leak", seed=42)[1].messages
    b = run(sensors=10, rate=4.0, duration=20, scenario="gas-leak", seed=42)[1].messages
    c = run(sensors=10, rate=4.0, duration=20, scenario="gas-leak", seed=43)[1].messages
    assert a == b
    assert a != c
    # A bigger fleet does not change the readings of the sensors already in it.
    d = run(sensors=12, rate=4.0, duration=20, scenario="normal", seed=42)[1].messages
    e = run(sensors=10, rate=4.0, duration=20, scenario="normal", seed=42)[1].messages
    assert [m for m in d if int(m[0].split("/")[3][-3:]) <= 10] == e


# -- bounds ------------------------------------------------------------------------------------


def test_count_and_duration_stop_the_run_whichever_comes_first() -> None:
    summary, rec = run(sensors=4, rate=10.0, duration=60, count=25)
    assert (summary.sent, summary.stopped_by) == (25, "count")
    assert len(rec.messages) == 25
    summary, _ = run(sensors=4, rate=10.0, duration=2, count=1000)
    assert (summary.sent, summary.stopped_by) == (80, "duration")
    assert summary.elapsed_s == pytest.approx(1.9)
    summary, _ = run(sensors=3, rate=1.0, duration=None, count=7)
    assert (summary.sent, summary.stopped_by) == (7, "count")


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"duration": None, "count": None}, "a run needs a bound"),
        ({"duration": 3601}, "at most 3600 s (1 hour)"),
        ({"duration": 0}, "duration: must be above 0"),
        ({"duration": None, "count": MAX_MESSAGES + 1}, "count: must be 1 to 1,000,000"),
        ({"sensors": 1000, "rate": 10.0, "duration": 3600}, "over the 1,000,000 limit"),
        ({"sensors": 1, "rate": 0.1, "duration": None, "count": 1000}, "over the 1 hour limit"),
        ({"sensors": 0}, "sensors: must be 1 to"),
        ({"rate": 0.0}, "rate: must be above 0"),
        ({"rate": float("nan")}, "rate: must be above 0"),
    ],
)
def test_unbounded_or_oversized_runs_are_refused(kwargs: dict[str, Any], message: str) -> None:
    args: dict[str, Any] = {"sensors": 20, "rate": 1.0, "duration": 30.0, "count": None}
    args.update(kwargs)
    with pytest.raises(InvalidInput, match=re.escape(message)):
        plan_run(**args)
    with pytest.raises(InvalidInput, match=re.escape(message)):
        run(**args)


def test_a_large_count_bounded_by_duration_is_accepted() -> None:
    plan = plan_run(20, 1.0, 30.0, MAX_MESSAGES)
    assert (plan.ticks, plan.max_messages, plan.duration_s) == (30, 600, 30.0)


def test_unknown_scenario_and_qos_2_are_refused() -> None:
    with pytest.raises(InvalidInput, match="scenario: 'flood' is not one of"):
        run(duration=1, scenario="flood")
    with pytest.raises(InvalidInput, match="qos: must be 0 or 1"):
        run(duration=1, qos=2)


def test_failed_publishes_are_counted_not_fatal_and_progress_is_reported() -> None:
    reports: list[Any] = []
    summary, rec = run(
        sensors=5, rate=10.0, duration=3, recorder=Recorder(fail_every=10), progress=reports.append
    )
    assert (summary.sent, summary.errors) == (135, 15)
    assert len(rec.messages) == 135
    assert len(reports) == 2  # at about 1 s and 2 s of a 3 s run
    assert reports[-1].sent <= summary.sent and reports[-1].errors > 0
    assert reports[0].rate == pytest.approx(45, rel=0.2)
    assert "errors" in reports[0].format()
    text = summary.format()
    assert "sent 135, errors 15" in text and "by kind:" in text


# -- the command line --------------------------------------------------------------------------


def test_cli_parses_simulate_and_refuses_bad_runs(capsys: pytest.CaptureFixture[str]) -> None:
    argv = "devices simulate --complex siheung-sihwa --sensors 20 --rate 1.0 --duration 30"
    args = cli.build_parser().parse_args([*argv.split(), "--scenario", "gas-leak"])
    assert (args.group, args.command, args.complex_id, args.scenario) == (
        "devices",
        "simulate",
        "siheung-sihwa",
        "gas-leak",
    )
    assert cli.main(["devices", "simulate", "--complex", "x"]) == 2
    assert "give --duration SECONDS or --count MESSAGES" in capsys.readouterr().err
    assert cli.main(["devices", "simulate", "--complex", "x", "--duration", "7200"]) == 2
    assert "1 hour" in capsys.readouterr().err
    assert cli.main(["devices", "simulate", "--complex", "x", "--count", "1", "--cert", "c"]) == 2
    assert "--endpoint, --cert, --key and --ca go together" in capsys.readouterr().err
