"""Gas and fire alarm domain: thresholds with hysteresis, exposure windows, rise, faults."""

from __future__ import annotations

import json
import math
import subprocess
import sys
from collections.abc import Iterable
from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from gyeonggi.common.aws import to_dynamo
from gyeonggi.common.errors import InvalidInput
from gyeonggi.safety.alarms import (
    DEFAULT_LIMITS,
    AlarmConfig,
    AlarmConfigError,
    AlarmEvent,
    Reading,
    SensorState,
    evaluate,
    heartbeat_missed,
)

T0 = datetime(2024, 7, 18, 9, 0, tzinfo=UTC)
CONFIG = AlarmConfig()
UNITS = {k: v.unit for k, v in DEFAULT_LIMITS.items()}


def reading(kind: str, value: float, seconds: float = 0, battery: float | None = 80.0) -> Reading:
    return Reading(
        "ansan-sihwa", "s-01", kind, value, UNITS[kind], T0 + timedelta(seconds=seconds), battery
    )


def run(
    kind: str,
    values: Iterable[float],
    every_s: float = 10,
    state: SensorState | None = None,
    start_s: float = 0,
    config: AlarmConfig = CONFIG,
) -> tuple[SensorState | None, list[AlarmEvent]]:
    """Feed values ``every_s`` seconds apart; return the final state and every event."""
    events: list[AlarmEvent] = []
    for i, value in enumerate(values):
        state, new = evaluate(state, reading(kind, value, start_s + i * every_s), config)
        events += new
    return state, events


def kinds(events: Iterable[AlarmEvent]) -> list[str]:
    return [e.kind if e.kind != "cleared" else f"cleared:{e.clears}" for e in events]


# --- thresholds -------------------------------------------------------------------------------

GASES = [("lel", 10, 20), ("co", 35, 70), ("h2s", 10, 20), ("nh3", 25, 50), ("cl2", 0.5, 1.0)]


@pytest.mark.parametrize(("gas", "low", "high"), GASES)
def test_each_gas_alarms_at_its_levels_and_not_below(gas: str, low: float, high: float) -> None:
    # Rise slowly (two minutes a step) so only the thresholds speak, not the rate of rise.
    _, below = run(gas, [low * 0.95], every_s=120)
    assert kinds(below) == []
    _, at_low = run(gas, [low], every_s=120)
    assert kinds(at_low) == ["threshold_low"]
    assert at_low[0].severity == "warning" and at_low[0].limit == low and at_low[0].gas == gas
    _, at_high = run(gas, [low, high], every_s=120)
    assert kinds(at_high) == ["threshold_low", "threshold_high"]
    assert at_high[1].severity == "critical" and at_high[1].limit == high
    # Straight to the high level: one event, not a low one first.
    state, above = run(gas, [high * 1.5], every_s=60)
    assert kinds(above)[0] == "threshold_high"
    assert state is not None and state.level == 2


@pytest.mark.parametrize(("gas", "low", "high"), GASES)
def test_hysteresis_a_hovering_value_does_not_flap(gas: str, low: float, high: float) -> None:
    hover = [low, low * 0.97, low * 1.01, low * 0.92, low, low * 0.91]
    state, events = run(gas, hover, every_s=60)
    assert kinds(events) == ["threshold_low"]
    # Clearly below (under 90 % of the level): cleared once, with severity info.
    state, events = run(gas, [low * 0.85], state=state, start_s=600)
    assert kinds(events) == ["cleared:threshold_low"]
    assert events[0].severity == "info"
    assert state is not None and state.level == 0


def test_high_steps_down_to_low_then_clears() -> None:
    state, events = run("co", [80, 68, 64, 40, 33, 31], every_s=60)
    # 68 is within the hysteresis of 70 (>= 63): still high; 40 is the low level; 31 < 31.5.
    assert kinds(events) == ["threshold_high", "cleared:threshold_high", "cleared:threshold_low"]
    assert [e.severity for e in events] == ["critical", "warning", "info"]
    assert [e.value for e in events] == [80, 40, 31]
    assert state is not None and state.level == 0


def test_flame_is_a_boolean_high_alarm() -> None:
    _, events = run("flame", [0, 0, 1, 1, 0])
    assert kinds(events) == ["threshold_high", "cleared:threshold_high"]
    assert events[0].severity == "critical"


def test_smoke_and_fixed_temperature_levels() -> None:
    _, smoke = run("smoke", [1.0, 3.0, 8.0], every_s=60)
    assert kinds(smoke) == ["threshold_low", "threshold_high"]
    # NFPA 72 ordinary class: 57 °C; heated slowly so the rate-of-rise stays quiet.
    _, heat = run("temperature", [40, 44, 45, 50, 56, 57], every_s=60)
    assert kinds(heat) == ["threshold_low", "threshold_high"]


# --- exposure windows -------------------------------------------------------------------------


def test_stel_co_150_ppm_for_15_min_is_under_the_200_ppm_limit() -> None:
    _, events = run("co", [150] * 91, every_s=10)  # 0..900 s
    assert "stel_exceeded" not in kinds(events)
    assert kinds(events) == ["threshold_high"]


def test_stel_co_250_ppm_exceeds_after_12_minutes_and_reports_the_average() -> None:
    _, events = run("co", [250] * 91, every_s=10)
    stel = [e for e in events if e.kind == "stel_exceeded"]
    assert len(stel) == 1
    # 250 x t / 900 s > 200 once t > 720 s: the first reading after that is at 730 s.
    assert stel[0].ts == T0 + timedelta(seconds=730)
    assert stel[0].value == pytest.approx(250 * 730 / 900)
    assert stel[0].limit == 200 and stel[0].severity == "critical"


def test_stel_short_spike_averaged_over_15_min() -> None:
    # 5 min at 500 ppm then clean air: STEL 500 x 300 / 900 = 166.7 ppm, not exceeded.
    _, events = run("co", [500] * 30 + [0] * 61, every_s=10)
    assert "stel_exceeded" not in kinds(events)
    # 7 min at 500 ppm: 233 ppm, exceeded; then it clears once the spike leaves the window.
    _, events = run("co", [500] * 42 + [0] * 120, every_s=10)
    assert kinds(events).count("stel_exceeded") == 1
    assert "cleared:stel_exceeded" in kinds(events)


def test_twa_co_32_ppm_exceeds_30_after_7_5_hours_without_any_threshold() -> None:
    # A live sensor wobbles (31/33, mean 32); a constant 32 for hours would be a stuck fault.
    state, events = run("co", [31, 33] * (4 * 60) + [31], every_s=60)
    assert kinds(events) == ["twa_exceeded"]
    # 32 x t / 8 h > 30 once t > 7.5 h.
    crossed = events[0].ts - T0
    assert timedelta(hours=7.5) < crossed <= timedelta(hours=7.5, minutes=2)
    assert events[0].severity == "warning" and events[0].limit == 30
    # Bounded memory: 5-minute buckets over 8 h, 1-minute buckets over 15 min.
    assert state is not None
    assert len(state.twa_buckets) <= 97 and len(state.stel_buckets) <= 16


def test_exposure_gap_beyond_hold_counts_as_no_exposure() -> None:
    # Two readings 2 h apart at 250 ppm: only the first 5 min (max hold) are integrated.
    state, _ = run("co", [250, 250], every_s=7200)
    assert state is not None
    assert sum(state.twa_buckets.values()) == pytest.approx(250 * 300_000)


def test_lel_has_no_exposure_window() -> None:
    state, _ = run("lel", [5] * 100, every_s=60)
    assert state is not None and state.stel_buckets == {} and state.twa_buckets == {}


# --- rate of rise -----------------------------------------------------------------------------


def test_lel_rising_5_within_60_s_is_a_pre_alarm() -> None:
    _, events = run("lel", [1, 2, 3, 4, 5, 6.5], every_s=10)
    assert kinds(events) == ["rate_of_rise"]
    assert events[0].severity == "warning" and events[0].limit == 5


def test_slow_lel_rise_is_not_a_pre_alarm_and_a_plateau_clears_it() -> None:
    _, slow = run("lel", [1, 2, 3, 4, 5, 6, 7, 8], every_s=30)
    assert kinds(slow) == []
    _, events = run("lel", [1, 7, 7, 7, 7, 7, 7, 7, 7, 7], every_s=10)
    assert kinds(events) == ["rate_of_rise", "cleared:rate_of_rise"]


def test_temperature_rate_of_rise_is_a_heat_alarm() -> None:
    _, events = run("temperature", [20, 22, 25, 29.0], every_s=20)
    assert kinds(events) == ["rate_of_rise"]
    assert events[0].severity == "critical"


# --- faults -----------------------------------------------------------------------------------


def test_stuck_value_needs_both_samples_and_duration() -> None:
    # 40 identical samples in 40 s: many samples, too short.
    _, fast = run("co", [12] * 40, every_s=1)
    assert "fault_stuck" not in kinds(fast)
    # 31 identical samples a minute apart: stuck, then cleared when the value moves.
    _, events = run("co", [12] * 31 + [13], every_s=60)
    assert kinds(events) == ["fault_stuck", "cleared:fault_stuck"]
    assert events[0].ts == T0 + timedelta(minutes=30)


def test_zero_in_clean_air_and_a_flame_detector_are_never_stuck() -> None:
    _, clean = run("co", [0] * 100, every_s=60)
    _, flame = run("flame", [0] * 100, every_s=60)
    assert kinds(clean) == [] and kinds(flame) == []


def test_out_of_range_negative_keeps_a_standing_alarm() -> None:
    state, events = run("h2s", [25, -3, 25], every_s=60)
    assert kinds(events) == ["threshold_high", "fault_out_of_range", "cleared:fault_out_of_range"]
    assert events[1].limit == 0
    assert state is not None and state.level == 2


def test_over_range_is_a_fault_and_an_alarm() -> None:
    _, events = run("co", [1500])
    assert sorted(kinds(events)) == ["fault_out_of_range", "threshold_high"]


def test_low_battery_with_hysteresis() -> None:
    state = None
    seen: list[str] = []
    for i, battery in enumerate([50, 14, 16, 14.5, 19, 20]):
        state, events = evaluate(state, reading("co", 0, i * 60, battery=battery), CONFIG)
        seen += kinds(events)
    assert seen == ["fault_low_battery", "cleared:fault_low_battery"]


def test_missed_heartbeat() -> None:
    assert not heartbeat_missed(T0, T0 + timedelta(seconds=30), expected_interval_s=10)
    assert heartbeat_missed(T0, T0 + timedelta(seconds=31), expected_interval_s=10)
    assert not heartbeat_missed(None, T0, expected_interval_s=10)
    naive = T0.replace(tzinfo=None)
    assert heartbeat_missed(naive, T0 + timedelta(minutes=5), expected_interval_s=60)


# --- ordering, state --------------------------------------------------------------------------


def test_out_of_order_and_duplicate_readings_are_ignored() -> None:
    state, _ = run("co", [10, 20], every_s=60)
    assert state is not None
    for late in (reading("co", 500, 0), reading("co", 500, 60)):
        again, events = evaluate(state, late, CONFIG)
        assert events == [] and again is state
    assert state.level == 0


def test_evaluate_does_not_mutate_the_given_state() -> None:
    state, _ = run("co", [40], every_s=60)
    assert state is not None
    before = state.to_dict()
    evaluate(state, reading("co", 80, 60), CONFIG)
    assert state.to_dict() == before


def test_state_round_trips_through_its_stored_form() -> None:
    from boto3.dynamodb.types import Binary

    from gyeonggi.common.aws import from_dynamo, to_dynamo

    state, _ = run("co", [250] * 50 + [12] * 5, every_s=10)
    assert state is not None
    stored = to_dynamo(state.to_dict())
    # DynamoDB hands numbers back as Decimal and the packed sums as a Binary.
    for key in ("stel", "twa"):
        stored[key] = {**stored[key], "sums": Binary(stored[key]["sums"])}
    back = SensorState.from_dict(from_dynamo(stored))
    assert back is not None
    assert back.twa_buckets.keys() == state.twa_buckets.keys()
    for bucket, total in state.twa_buckets.items():
        assert back.twa_buckets[bucket] == pytest.approx(total, rel=1e-6)  # float32
    assert (back.level, back.active, back.last_ts_ms) == (
        state.level,
        state.active,
        state.last_ts_ms,
    )
    # Evaluation continues with the same events from the restored state.
    assert (
        evaluate(back, reading("co", 300, 600), CONFIG)[1]
        == evaluate(state, reading("co", 300, 600), CONFIG)[1]
    )
    assert SensorState.from_dict({**state.to_dict(), "v": 99}) is None


def test_a_state_stored_before_packing_is_still_read() -> None:
    """Version 1 kept exposure sums as [index, sum] pairs; a deploy must not reset 8 h of
    exposure, so it is read as it is and written packed next time."""
    state, _ = run("co", [40] * 30, every_s=60)
    assert state is not None
    v1 = {
        **state.to_dict(),
        "v": 1,
        "stel": [[k, v] for k, v in sorted(state.stel_buckets.items())],
        "twa": [[k, v] for k, v in sorted(state.twa_buckets.items())],
    }
    assert SensorState.from_dict(json.loads(json.dumps(v1))) == state


def test_packed_sums_keep_a_missing_bucket_missing() -> None:
    from gyeonggi.safety.alarms import _pack_sums, _unpack_sums

    sums = {100: 3_000_000.0, 102: 12.5}
    packed = _pack_sums(sums)
    assert packed is not None and len(packed["sums"]) == 3 * 4
    assert _unpack_sums(packed) == sums
    assert _pack_sums({}) is None and _unpack_sums(None) == {}


def test_events_serialise_and_unknown_kind_is_rejected() -> None:
    _, events = run("co", [80])
    assert json.loads(json.dumps(events[0].to_dict()))["ts"] == T0.isoformat()
    with pytest.raises(InvalidInput):
        evaluate(None, Reading("c", "s", "radon", 1, "Bq", T0), CONFIG)


def test_accepts_the_telemetry_model_structurally() -> None:
    from gyeonggi.safety.telemetry import Telemetry

    t = Telemetry(complex_id="c", sensor_id="s", kind="co", value=80, unit="ppm", ts=T0)
    _, events = evaluate(None, t, CONFIG)
    assert kinds(events) == ["threshold_high"]


# --- configuration ----------------------------------------------------------------------------


def test_config_overrides() -> None:
    config = AlarmConfig.from_mapping(
        {"kinds": {"h2s": {"low": 5, "high": 10, "twa": 1, "stel": 5}}, "clear_ratio": 0.8}
    )
    assert config.limits["h2s"].low == 5 and config.limits["co"].low == 35
    _, events = run("h2s", [5, 4.5, 3.9], every_s=60, config=config)
    assert kinds(events) == ["threshold_low", "cleared:threshold_low"]
    assert AlarmConfig.from_mapping(None) == AlarmConfig()


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        ({"kinds": {"radon": {"high": 1}}}, "unknown sensor kind"),
        ({"kinds": {"co": {"low": 70, "high": 70}}}, "must be below high"),
        ({"kinds": {"co": {"low": 80}}}, "must be below high"),
        ({"kinds": {"co": {"twa": 300}}}, "must be below stel"),
        ({"kinds": {"co": {"colour": 1}}}, "unknown setting"),
        ({"kinds": {"co": {"high": "70"}}}, "finite number"),
        ({"kinds": {"co": {"high": True}}}, "finite number"),
        ({"kinds": {"co": {"range_max": -1}}}, "range_min must be below"),
        ({"clear_ratio": 1.2}, "clear_ratio"),
        ({"battery_low_pct": 30}, "battery_low_pct"),
        ({"stuck_samples": 2.5}, "whole number"),
        ({"siren": "loud"}, "unknown alarm setting"),
    ],
)
def test_config_validation_errors(overrides: dict, message: str) -> None:
    with pytest.raises(AlarmConfigError, match=message):
        AlarmConfig.from_mapping(overrides)


# --- the alarm path stays light ---------------------------------------------------------------


def test_alarm_module_imports_nothing_heavy() -> None:
    code = (
        "import gyeonggi.safety.alarms, sys; print(sorted(m for m in sys.modules "
        "if m.split('.')[0] in {'numpy','sklearn','cv2','pydantic'}))"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, timeout=60
    )
    assert out.stdout.strip() == "[]"


# --- readings no transducer gives: fail safe --------------------------------------------------

BROKEN_VALUES = [
    float("inf"),
    float("-inf"),
    float("nan"),
    1e300,
    DEFAULT_LIMITS["co"].range_max * 2.5,
]


@pytest.mark.parametrize("value", BROKEN_VALUES, ids=repr)
def test_a_non_finite_or_absurd_value_is_a_fault_never_a_threshold_alarm(value: float) -> None:
    state, events = run("co", [value])
    assert kinds(events) == ["fault_out_of_range"]
    assert events[0].severity == "warning"
    # The event carries no number that JSON or DynamoDB would refuse.
    assert events[0].value is None or math.isfinite(events[0].value)
    json.dumps(events[0].to_dict(), allow_nan=False)
    assert state is not None
    to_dynamo(state.to_dict())  # the state write cannot fail on it


@pytest.mark.parametrize("value", BROKEN_VALUES, ids=repr)
def test_a_broken_reading_neither_clears_a_standing_alarm_nor_enters_the_averages(
    value: float,
) -> None:
    # Given a sensor in high alarm
    state, events = run("co", [80, 80])
    assert "threshold_high" in kinds(events)
    assert state is not None
    stel_before = dict(state.stel_buckets)
    # When it sends a reading no transducer gives
    state, events = run("co", [value], state=state, start_s=20)
    # Then the alarm stands, nothing clears, and no exposure of that value is counted
    assert kinds(events) == ["fault_out_of_range"]
    assert state is not None and state.level == 2
    assert all(math.isfinite(v) for v in state.stel_buckets.values())
    assert set(state.stel_buckets) >= set(stel_before)


def test_a_detector_pinned_at_full_scale_is_still_in_alarm() -> None:
    full_scale = DEFAULT_LIMITS["co"].range_max
    _, events = run("co", [full_scale * 1.2])
    assert "threshold_high" in kinds(events)


@given(st.one_of(st.floats(allow_nan=True, allow_infinity=True), st.integers(-(10**400), 10**400)))
@settings(max_examples=300, deadline=None)
def test_any_number_either_alarms_within_range_or_is_a_fault_and_the_state_stays_storable(
    raw: float | int,
) -> None:
    try:
        value = float(raw)
    except OverflowError:
        value = math.inf if raw > 0 else -math.inf
    state, events = run("co", [value])
    assert state is not None
    to_dynamo(state.to_dict())
    for event in events:
        json.dumps(event.to_dict(), allow_nan=False)
    limits = DEFAULT_LIMITS["co"]
    if not math.isfinite(value) or value > limits.range_max * 2 or value < limits.range_min:
        assert not {"threshold_low", "threshold_high"} & set(kinds(events))
        assert "fault_out_of_range" in kinds(events)
