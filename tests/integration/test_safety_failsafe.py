"""The safety path fails safe, end to end in the local cloud (issue 9, section 1).

Arbitrary readings (wrong types, huge and non-finite magnitudes, strings for numbers, missing
fields, bad encodings, payloads that are no JSON object) go in where a device's message does:
the IoT rules bridge, which applies the template's topic rule and invokes the alarm path. Each
one is accepted, rejected with a reason (the telemetry dead-letter queue) or pages (its
evidence opens or joins an incident, or is paged directly); none is lost and none loops (one
invocation of the alarm path, each piece of evidence taken once). A state store that fails
costs no alarm and leaves its reason.
"""

from __future__ import annotations

import itertools
import json
import secrets
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from localcloud.cloud import LocalCloud
from tests.integration.conftest import TopicTap

pytestmark = pytest.mark.integration

RUN = secrets.token_hex(3)
#: A few complexes, so evidence both opens incidents and joins them.
COMPLEXES = [f"fs-{RUN}-{n}" for n in range(3)]
NOW = datetime.now(UTC).replace(microsecond=0)
_SENSORS = itertools.count()

# ------------------------------------------------------------------ what devices may send

_KINDS = {"co": "ppm", "lel": "%LEL", "h2s": "ppm", "temperature": "C", "flame": "bool"}
_NUMBERS = st.one_of(
    st.sampled_from([0, 4.5, 12, 40, 80, 150, 900, 1e-200, -3, 2e4]),
    st.floats(allow_nan=True, allow_infinity=True),
    st.integers(-(10**400), 10**400),
    st.sampled_from(["Infinity", "NaN", "-inf", "1e309", " 41 ", "0x10", "", "high"]),
)
_TIMESTAMPS = st.sampled_from(
    [
        NOW.isoformat(),
        (NOW - timedelta(seconds=30)).isoformat().replace("+00:00", "Z"),
        round(NOW.timestamp() * 1000),
        (NOW + timedelta(days=365)).isoformat(),  # a device clock a year ahead
        "2026-13-45T99:00:00Z",
        "",
    ]
)
#: What a damaged field may hold instead.
_ANYTHING = st.one_of(
    _NUMBERS,
    _TIMESTAMPS,
    st.text(max_size=40),
    st.booleans(),
    st.none(),
    st.lists(st.integers(), max_size=2),
    st.dictionaries(st.text(max_size=3), st.integers(), max_size=2),
)
_FIELDS = ["kind", "unit", "ts", "value", "battery", "firmware", "complex_id", "sensor_id"]


@st.composite
def _readings(draw: st.DrawFn) -> dict[str, Any]:
    """A reading as a device would send it, then damaged in up to two fields (dropped, or
    something else in their place): types, magnitudes, spellings, missing fields."""
    kind = draw(st.sampled_from(sorted(_KINDS)))
    reading: dict[str, Any] = {
        "kind": kind,
        "value": draw(_NUMBERS),
        "unit": _KINDS[kind],
        "ts": draw(_TIMESTAMPS),
    }
    if draw(st.booleans()):
        reading["battery"] = draw(st.one_of(st.integers(0, 100), _NUMBERS))
    for name in draw(st.lists(st.sampled_from(_FIELDS), max_size=2, unique=True)):
        if draw(st.booleans()):
            reading.pop(name, None)
        else:
            reading[name] = draw(_ANYTHING)  # complex_id, sensor_id: the topic's win
    return reading


def _encoded(reading: dict[str, Any], how: str) -> bytes:
    text = json.dumps(reading, allow_nan=True, ensure_ascii=False)  # NaN as devices write it
    if how == "utf-16":
        return text.encode("utf-16")
    if how == "latin-1":
        return text.encode("latin-1", "replace") + b"\xe9"
    if how == "cut":
        return text.encode()[: max(1, len(text) // 2)]
    return text.encode()


_PAYLOADS = st.one_of(
    st.tuples(_readings(), st.sampled_from(["utf-8"] * 6 + ["utf-16", "latin-1", "cut"]))
    .map(lambda pair: _encoded(*pair)),
    st.builds(lambda items: json.dumps(items).encode(), st.lists(st.integers(), max_size=3)),
    st.sampled_from([b'"co 41 ppm"', b"41", b"null", b"true", b"", b"\xef\xbb\xbf{}"]),
    st.binary(max_size=48),
)  # fmt: skip
_COMPLEX_LEVELS = st.one_of(st.sampled_from(COMPLEXES), st.sampled_from(["bad id", "x" * 65]))


# ------------------------------------------------------------------ what became of a reading


def _alarm_calls(cloud: LocalCloud, complex_level: str, sensor: str) -> list[Any]:
    fn = cloud.physical_id("TelemetryFunction")
    return [
        call
        for call in cloud.runner.calls(fn)
        if isinstance(call.event, dict)
        and call.event.get("sensor_id") == sensor
        and call.event.get("complex_id") == complex_level
    ]


def _evidence_taken(cloud: LocalCloud, sensor: str) -> dict[str, int]:
    """Each piece of the sensor's evidence (by id): how often the incident function took it
    without failing it (processed, or paged directly)."""
    taken: dict[str, int] = {}
    for call in cloud.runner.calls(cloud.physical_id("IncidentFunction")):
        result = call.result if isinstance(call.result, dict) else {}
        failed = {f["itemIdentifier"] for f in result.get("batchItemFailures", [])}
        for record in (call.event or {}).get("Records", []):
            if f'"sensor_id": "{sensor}"' not in record["body"]:
                continue
            key = json.loads(record["body"])["detail"]["evidence_id"]
            ok = not call.errored and record["messageId"] not in failed
            taken[key] = taken.get(key, 0) + ok
    return taken


def _take(cloud: LocalCloud, queue: str, marker: str) -> list[dict[str, Any]]:
    """Take the messages of ``queue`` whose body holds ``marker`` off it (this test's own),
    leaving the others there, visible: the shared queue does not grow with every example."""
    sqs, url = cloud.client("sqs"), cloud.physical_id(queue)
    mine: list[dict[str, Any]] = []
    seen: list[dict[str, Any]] = []
    for _ in range(100):  # at most 1,000 messages looked at
        batch = sqs.receive_message(
            QueueUrl=url, MaxNumberOfMessages=10, VisibilityTimeout=30, AttributeNames=["All"]
        ).get("Messages", [])
        if not batch:
            break
        for message in batch:
            (mine if marker in message["Body"] else seen).append(message)
    for message in mine:
        sqs.delete_message(QueueUrl=url, ReceiptHandle=message["ReceiptHandle"])
    for message in seen:
        sqs.change_message_visibility(
            QueueUrl=url, ReceiptHandle=message["ReceiptHandle"], VisibilityTimeout=0
        )
    return mine


def _incident_sources(cloud: LocalCloud, complex_id: str) -> set[str]:
    items = cloud.client("dynamodb").scan(
        TableName=cloud.physical_id("IncidentsTable"),
        FilterExpression="complex_id = :c",
        ExpressionAttributeValues={":c": {"S": complex_id}},
    )["Items"]
    return {key for item in items for key in item.get("sources", {}).get("M", {})}


@pytest.fixture(scope="module")
def direct_pages(cloud: LocalCloud) -> TopicTap:
    return TopicTap(cloud, "IncidentAlertsTopic", "EvidenceUnprocessed")


def test_any_reading_is_accepted_rejected_with_a_reason_or_pages_and_none_is_lost(
    cloud: LocalCloud, direct_pages: TopicTap
) -> None:
    outcomes: dict[str, int] = {}

    @given(payload=_PAYLOADS, complex_level=_COMPLEX_LEVELS)
    @settings(max_examples=40, deadline=None, derandomize=True, database=None)
    def one_reading(payload: bytes, complex_level: str) -> None:
        sensor = f"s-{RUN}-{next(_SENSORS)}"
        # When a device publishes it
        cloud.bridge.publish_local(f"gyeonggi/safety/{complex_level}/{sensor}/telemetry", payload)
        # Then the alarm path ran once (IoT invokes asynchronously; the local runner runs the
        # invocation and Lambda's retries before returning) and did not fail: no retry loop
        (call,) = _alarm_calls(cloud, complex_level, sensor)
        assert not call.errored, call.result
        result = call.result
        if not result["accepted"]:
            outcomes["rejected"] = outcomes.get("rejected", 0) + 1
            (dead,) = _take(cloud, "TelemetryDeadLetterQueue", f'"sensor_id": "{sensor}"')
            assert json.loads(dead["Body"])["reason"] == result["reason"] != ""
            return
        events = result.get("events", [])
        outcome = "evidence" if events else "accepted"
        outcomes[outcome] = outcomes.get(outcome, 0) + 1
        if not events:
            return

        # Every piece of evidence is taken exactly once by the incident function ...
        def all_taken() -> dict[str, int] | None:
            taken = _evidence_taken(cloud, sensor)
            return taken if len(taken) == len(events) and all(taken.values()) else None

        taken = cloud.wait_for(all_taken, timeout=10, what=f"the evidence of {sensor} taken")
        assert set(taken.values()) == {1}

        # ... and pages: it is on the complex's incident (whose workflow notifies), or paged
        def paged() -> bool:
            direct_pages.drain()
            return any(sensor in str(p.body.get("evidence")) for p in direct_pages.backlog)

        assert f"sensor:{sensor}" in _incident_sources(cloud, complex_level) or paged()

    one_reading()
    # The strategy reached every outcome, so the property was not held vacuously.
    assert set(outcomes) == {"rejected", "accepted", "evidence"}, outcomes


def test_a_state_store_that_fails_costs_no_alarm_and_leaves_its_reason(
    cloud: LocalCloud,
) -> None:
    # Given a sensor whose stored state cannot be read (a corrupt item: version is no number)
    complex_id, sensor = COMPLEXES[0], f"poisoned-{RUN}"
    cloud.client("dynamodb").put_item(
        TableName=cloud.physical_id("SensorStateTable"),
        Item={"sensor_key": {"S": f"{complex_id}#{sensor}"}, "version": {"S": "corrupt"}},
    )
    # When it reads 900 ppm CO
    reading = {"kind": "co", "value": 900, "unit": "ppm", "ts": NOW.isoformat()}
    topic = f"gyeonggi/safety/{complex_id}/{sensor}/telemetry"
    cloud.bridge.publish_local(topic, json.dumps(reading).encode())
    # Then Lambda tried three times, and no more ...
    calls = _alarm_calls(cloud, complex_id, sensor)
    assert len(calls) == 3 and all(c.errored for c in calls)
    # ... the alarm reached the complex's incident all the same (one evidence id, sent by each
    # attempt, taken every time: the incident keeps it once) ...
    cloud.wait_for(lambda: _evidence_taken(cloud, sensor), what="the evidence taken")
    assert len(_evidence_taken(cloud, sensor)) == 1
    assert f"sensor:{sensor}" in _incident_sources(cloud, complex_id)
    # ... and the on-failure destination says why, with the event
    (dead,) = cloud.wait_for(
        lambda: _take(cloud, "TelemetryDeadLetterQueue", f'"sensor_id": "{sensor}"'),
        what="the failure record",
    )
    record = json.loads(dead["Body"])
    assert record["requestContext"]["condition"] == "RetriesExhausted"
    assert record["requestContext"]["approximateInvokeCount"] == 3
    assert record["responsePayload"]["errorType"] == "StateNotLoaded"
    assert "judged without it, 1 event(s) sent" in record["responsePayload"]["errorMessage"]
    assert record["requestPayload"]["sensor_id"] == sensor
