"""The IoT topic-rule bridge, with fake Lambda and SQS clients and no MQTT."""

from __future__ import annotations

import base64
import copy
import json
import logging
from typing import Any

import pytest

from localcloud.iot_bridge import TopicRuleBridge, UnsupportedTopicRule
from tests.fakes.aws import FakeLambda, FakeSqs

FUNCTION_ARN = "arn:aws:lambda:ap-northeast-2:123456789012:function:telemetry"
ALARM_ARN = "arn:aws:lambda:ap-northeast-2:123456789012:function:alarm"
DLQ_URL = "https://sqs.ap-northeast-2.amazonaws.com/123456789012/telemetry-dlq"
QUEUE_URL = "https://sqs.ap-northeast-2.amazonaws.com/123456789012/readings"
TOPIC = "gyeonggi/safety/banwol/gas-017/telemetry"

# A rule that reads the payload's fields (the template's TelemetryRule before it selected
# encode(*, 'base64')), intrinsics resolved: most tests are about routing JSON objects.
TELEMETRY_RULE: dict[str, Any] = {
    "Description": "Sensor telemetry from industrial complexes to the telemetry function.",
    "AwsIotSqlVersion": "2016-03-23",
    "RuleDisabled": False,
    "Sql": (
        "SELECT *, topic(3) AS complex_id, topic(4) AS sensor_id "
        "FROM 'gyeonggi/safety/+/+/telemetry'"
    ),
    "Actions": [{"Lambda": {"FunctionArn": FUNCTION_ARN}}],
    "ErrorAction": {
        "Sqs": {
            "QueueUrl": DLQ_URL,
            "RoleArn": "arn:aws:iam::123456789012:role/rule-error",
            "UseBase64": False,
        }
    },
}


def rule(**changes: Any) -> dict[str, Any]:
    payload = copy.deepcopy(TELEMETRY_RULE)
    payload.update(changes)
    return payload


def bridge(
    *rules: tuple[str, dict[str, Any]], lam: FakeLambda | None = None, sqs: FakeSqs | None = None
) -> TopicRuleBridge:
    return TopicRuleBridge(
        list(rules) or [("TelemetryRule", rule())],
        lambda_client=lam if lam is not None else FakeLambda(),
        sqs_client=sqs if sqs is not None else FakeSqs(),
    )


# -- routing ---------------------------------------------------------------------------------


def test_lambda_action_gets_the_rule_output_asynchronously() -> None:
    lam, sqs = FakeLambda(), FakeSqs()
    b = bridge(lam=lam, sqs=sqs)
    matched = b.publish_local(TOPIC, b'{"gas": "CO", "value": 41.5, "unit": "ppm"}')
    assert matched == ["TelemetryRule"]
    assert len(lam.calls) == 1
    call = lam.calls[0]
    assert call["FunctionName"] == FUNCTION_ARN
    assert call["InvocationType"] == "Event"
    assert json.loads(call["Payload"]) == {
        "gas": "CO",
        "value": 41.5,
        "unit": "ppm",
        "complex_id": "banwol",
        "sensor_id": "gas-017",
    }
    assert sqs.messages == []  # no failure, so no error action
    assert b.stats == {
        "received": 1,
        "matched": 1,
        "dispatched": 1,
        "failed": 0,
        "error_actions": 0,
        "parse_errors": 0,
    }


def test_messages_on_other_topics_are_not_routed() -> None:
    lam = FakeLambda()
    b = bridge(lam=lam)
    assert b.publish_local("gyeonggi/safety/banwol/gas-017/status", b"{}") == []
    assert b.publish_local("gyeonggi/safety/banwol/telemetry", b"{}") == []
    assert lam.calls == []
    assert b.stats["received"] == 2
    assert b.stats["matched"] == 0


def test_publish_local_accepts_text_and_mappings() -> None:
    lam = FakeLambda()
    b = bridge(lam=lam)
    b.publish_local(TOPIC, '{"value": 1, "note": "가스 누출"}')
    b.publish_local(TOPIC, {"value": 2})
    assert [e["value"] for e in lam.events()] == [1, 2]
    assert lam.events()[0]["note"] == "가스 누출"


def test_sqs_action_and_base64_option() -> None:
    sqs = FakeSqs()
    plain = rule(
        Sql="SELECT value, topic(3) AS complex_id FROM 'gyeonggi/safety/+/+/telemetry'",
        Actions=[{"Sqs": {"QueueUrl": QUEUE_URL, "RoleArn": "r", "UseBase64": False}}],
    )
    encoded = rule(Actions=[{"Sqs": {"QueueUrl": DLQ_URL, "RoleArn": "r", "UseBase64": "true"}}])
    b = bridge(("Plain", plain), ("Encoded", encoded), sqs=sqs)
    assert b.publish_local(TOPIC, b'{"value": 3, "x": 1}') == ["Plain", "Encoded"]
    assert json.loads(sqs.bodies(QUEUE_URL)[0]) == {"value": 3, "complex_id": "banwol"}
    decoded = json.loads(base64.b64decode(sqs.bodies(DLQ_URL)[0]))
    assert decoded["complex_id"] == "banwol" and decoded["x"] == 1


def test_several_rules_and_actions_with_where() -> None:
    lam, sqs = FakeLambda(), FakeSqs()
    alarm = rule(
        Sql="SELECT *, topic(3) AS complex_id FROM 'gyeonggi/safety/+/+/telemetry' "
        "WHERE gas = 'CO' AND value >= 35",
        Actions=[
            {"Lambda": {"FunctionArn": ALARM_ARN}},
            {"Sqs": {"QueueUrl": QUEUE_URL, "RoleArn": "r"}},
        ],
    )
    b = bridge(("TelemetryRule", rule()), ("CoAlarm", alarm), lam=lam, sqs=sqs)
    assert b.publish_local(TOPIC, {"gas": "CO", "value": 12}) == ["TelemetryRule"]
    assert b.publish_local(TOPIC, {"gas": "CO", "value": 70}) == ["TelemetryRule", "CoAlarm"]
    assert b.publish_local(TOPIC, {"gas": "H2S", "value": 70}) == ["TelemetryRule"]
    assert b.publish_local(TOPIC, {"gas": "CO"}) == ["TelemetryRule"]  # missing value
    assert len(lam.events(FUNCTION_ARN)) == 4
    assert [e["value"] for e in lam.events(ALARM_ARN)] == [70]
    assert len(sqs.bodies(QUEUE_URL)) == 1
    assert b.stats["matched"] == 5
    assert b.stats["dispatched"] == 6


@pytest.mark.parametrize(
    "payload", [b"\x00\x01 raw frame", b"[1, 2]", b'"text"', b"42", b'{"v": 4', b"\xff{}"]
)
def test_a_select_reading_fields_of_no_json_object_is_a_parse_error_as_in_aws(
    caplog: pytest.LogCaptureFixture, payload: bytes
) -> None:
    # AWS IoT counts a ParseError and runs neither the actions nor the error action (which
    # covers failed actions only): the message is gone, which is why the template's rule
    # selects encode(*, 'base64').
    lam, sqs = FakeLambda(), FakeSqs()
    b = bridge(lam=lam, sqs=sqs)
    with caplog.at_level(logging.WARNING, logger="localcloud.iot_bridge"):
        assert b.publish_local(TOPIC, payload) == []
    assert lam.calls == [] and sqs.messages == []
    assert b.stats["parse_errors"] == 1 and b.stats["error_actions"] == 0
    assert "ParseError" in caplog.text


# The template's TelemetryRule: the payload as bytes (base64) and the topic's ids.
ENCODED_RULE = rule(
    Sql="SELECT encode(*, 'base64') AS payload, topic(3) AS complex_id, topic(4) AS sensor_id "
    "FROM 'gyeonggi/safety/+/+/telemetry'"
)


@pytest.mark.parametrize(
    "payload",
    [b'{"kind": "co", "value": 41}', b"\x00\x01 raw frame", b"[1, 2]", b"42", b"\xff\xfe", b""],
)
def test_the_template_rule_hands_every_payload_on_as_published(payload: bytes) -> None:
    lam = FakeLambda()
    b = bridge(("TelemetryRule", ENCODED_RULE), lam=lam)
    assert b.publish_local(TOPIC, payload) == ["TelemetryRule"]
    (event,) = lam.events()
    assert event == {
        "payload": base64.b64encode(payload).decode(),
        "complex_id": "banwol",
        "sensor_id": "gas-017",
    }
    assert b.stats["parse_errors"] == 0


def test_select_star_passes_bytes_on_and_a_lambda_action_refuses_them() -> None:
    # SELECT * alone hands a payload that is no JSON object on as bytes; a Lambda action takes
    # JSON only, so it fails and the error action gets IoT Core's record with the reason.
    lam, sqs = FakeLambda(), FakeSqs()
    star = rule(Sql="SELECT * FROM 'gyeonggi/safety/+/+/telemetry'")
    b = bridge(("Star", star), lam=lam, sqs=sqs)
    assert b.publish_local(TOPIC, b"\x00\x01 raw frame") == ["Star"]
    assert lam.calls == []
    record = json.loads(sqs.bodies(DLQ_URL)[0])
    assert base64.b64decode(record["base64OriginalPayload"]) == b"\x00\x01 raw frame"
    (failure,) = record["failures"]
    assert failure["failedAction"] == "LambdaAction"
    assert "not JSON" in failure["errorMessage"]
    # A JSON array or number is JSON: the function gets it as it is.
    assert b.publish_local(TOPIC, b"[1, 2]") == ["Star"]
    assert lam.events() == [[1, 2]]


def test_select_star_bytes_reach_sqs_as_text_or_base64() -> None:
    sqs = FakeSqs()
    star = "SELECT * FROM 'gyeonggi/safety/+/+/telemetry'"
    plain = rule(Sql=star, Actions=[{"Sqs": {"QueueUrl": QUEUE_URL, "RoleArn": "r"}}])
    encoded = rule(
        Sql=star, Actions=[{"Sqs": {"QueueUrl": QUEUE_URL, "RoleArn": "r", "UseBase64": True}}]
    )
    b = bridge(("Plain", plain), ("Encoded", encoded), sqs=sqs)
    b.publish_local(TOPIC, b"not json")
    b.publish_local(TOPIC, b"\xff\xfe")
    assert sqs.bodies(QUEUE_URL) == ["not json", "bm90IGpzb24=", "//4="]
    (failure,) = json.loads(sqs.bodies(DLQ_URL)[0])["failures"]
    assert "not UTF-8" in failure["errorMessage"]  # the plain action cannot carry 0xff


def test_a_rule_that_does_not_read_the_payload_works_on_binary() -> None:
    lam = FakeLambda()
    ping = rule(Sql="SELECT topic(3) AS complex_id FROM 'gyeonggi/safety/+/+/telemetry'")
    b = bridge(("Ping", ping), lam=lam)
    assert b.publish_local(TOPIC, b"\xff\xfe") == ["Ping"]
    assert lam.events() == [{"complex_id": "banwol"}]


def test_clientid_reaches_the_sql() -> None:
    lam = FakeLambda()
    with_id = rule(Sql="SELECT clientid() AS device FROM 'gyeonggi/safety/+/+/telemetry'")
    b = bridge(("WithId", with_id), lam=lam)
    b.publish_local(TOPIC, b"{}", client_id="gas-017")
    assert lam.events() == [{"device": "gas-017"}]


# -- failures and the error action -----------------------------------------------------------


def test_error_action_receives_the_failure_record_when_lambda_raises() -> None:
    lam = FakeLambda(fail={FUNCTION_ARN: RuntimeError("throttled")})
    sqs = FakeSqs()
    b = bridge(lam=lam, sqs=sqs)
    raw = b'{"gas": "CO", "value": 41.5}'
    assert b.publish_local(TOPIC, raw, client_id="gas-017") == ["TelemetryRule"]
    assert len(sqs.messages) == 1
    assert sqs.messages[0]["QueueUrl"] == DLQ_URL
    record = json.loads(sqs.messages[0]["MessageBody"])
    assert set(record) == {
        "ruleName",
        "topic",
        "cloudwatchTraceId",
        "clientId",
        "base64OriginalPayload",
        "failures",
    }
    assert record["ruleName"] == "TelemetryRule"
    assert record["topic"] == TOPIC
    assert record["clientId"] == "gas-017"
    assert base64.b64decode(record["base64OriginalPayload"]) == raw
    assert len(record["cloudwatchTraceId"]) == 36
    assert record["failures"] == [
        {
            "failedAction": "LambdaAction",
            "failedResource": FUNCTION_ARN,
            "errorMessage": "RuntimeError: throttled",
        }
    ]
    assert b.stats["failed"] == 1
    assert b.stats["dispatched"] == 0
    assert b.stats["error_actions"] == 1


def test_function_error_in_the_response_counts_as_a_failure() -> None:
    lam = FakeLambda(fail={FUNCTION_ARN: "FunctionError"})
    sqs = FakeSqs()
    b = bridge(lam=lam, sqs=sqs)
    b.publish_local(TOPIC, b'{"value": 1}')
    (failure,) = json.loads(sqs.bodies(DLQ_URL)[0])["failures"]
    assert failure["failedAction"] == "LambdaAction"
    assert "Unhandled" in failure["errorMessage"]
    assert "sensor table missing" in failure["errorMessage"]


def test_one_error_record_lists_every_failed_action() -> None:
    lam = FakeLambda(fail={FUNCTION_ARN: RuntimeError("a")})
    sqs = FakeSqs(fail=True)
    error_lambda = rule(
        Actions=[
            {"Lambda": {"FunctionArn": FUNCTION_ARN}},
            {"Sqs": {"QueueUrl": QUEUE_URL, "RoleArn": "r"}},
            {"Lambda": {"FunctionArn": ALARM_ARN}},
        ],
        ErrorAction={"Lambda": {"FunctionArn": ALARM_ARN}},
    )
    b = bridge(("Multi", error_lambda), lam=lam, sqs=sqs)
    b.publish_local(TOPIC, b"{}")
    error_calls = [c for c in lam.calls if c["FunctionName"] == ALARM_ARN]
    assert len(error_calls) == 2  # the third action, then the error action
    record = json.loads(error_calls[1]["Payload"])
    assert [f["failedAction"] for f in record["failures"]] == ["LambdaAction", "SqsAction"]
    assert record["failures"][1]["failedResource"] == QUEUE_URL
    assert b.stats["dispatched"] == 1
    assert b.stats["failed"] == 2
    assert b.stats["error_actions"] == 1


def test_a_failing_error_action_is_counted_and_logged(caplog: pytest.LogCaptureFixture) -> None:
    lam = FakeLambda(fail={FUNCTION_ARN: RuntimeError("down")})
    b = bridge(lam=lam, sqs=FakeSqs(fail=True))
    with caplog.at_level(logging.ERROR, logger="localcloud.iot_bridge"):
        b.publish_local(TOPIC, b"{}")
    assert b.stats["failed"] == 2
    assert b.stats["error_actions"] == 0
    assert "error action" in caplog.text


def test_failure_without_error_action_is_only_counted() -> None:
    lam = FakeLambda(fail={FUNCTION_ARN: RuntimeError("down")})
    sqs = FakeSqs()
    no_error_action = rule()
    del no_error_action["ErrorAction"]
    b = bridge(("Bare", no_error_action), lam=lam, sqs=sqs)
    b.publish_local(TOPIC, b"{}")
    assert sqs.messages == []
    assert b.stats["failed"] == 1


# -- rules that are disabled or not supported ------------------------------------------------


@pytest.mark.parametrize("disabled", [True, "true", "TRUE"])
def test_disabled_rules_are_ignored(disabled: Any) -> None:
    lam = FakeLambda()
    b = bridge(("Off", rule(RuleDisabled=disabled)), ("On", rule()), lam=lam)
    assert b.rule_names == ["Off", "On"]
    assert b.publish_local(TOPIC, b"{}") == ["On"]
    assert len(lam.calls) == 1


def test_topic_filters_are_the_enabled_rules_distinct_filters() -> None:
    other = rule(Sql="SELECT * FROM 'gyeonggi/safety/+/+/status'")
    b = bridge(
        ("A", rule()),
        ("B", rule()),
        ("C", other),
        ("D", rule(Sql="SELECT * FROM 'x/#'", RuleDisabled="true")),
    )
    assert b.topic_filters == ["gyeonggi/safety/+/+/telemetry", "gyeonggi/safety/+/+/status"]


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"Actions": [{"Kinesis": {"StreamName": "s", "RoleArn": "r"}}]}, "'Kinesis'"),
        ({"Actions": [{"Republish": {"Topic": "t", "RoleArn": "r"}}]}, "'Republish'"),
        ({"ErrorAction": {"S3": {"BucketName": "b", "Key": "k", "RoleArn": "r"}}}, "'S3'"),
        ({"Actions": [{"Lambda": {}}]}, "FunctionArn"),
        ({"Actions": [{"Lambda": {"FunctionArn": {"Fn::GetAtt": ["F", "Arn"]}}}]}, "FunctionArn"),
        ({"Actions": [{"Sqs": {"RoleArn": "r"}}]}, "QueueUrl"),
        ({"Actions": [{"Lambda": {"FunctionArn": "a"}, "Sqs": {"QueueUrl": "u"}}]}, "one action"),
        ({"Actions": {"Lambda": {"FunctionArn": "a"}}}, "Actions must be a list"),
        ({"Sql": "SELECT md5(a) AS h FROM 'x'"}, "md5()"),
        ({"Sql": None}, "Sql must be a string"),
        ({"AwsIotSqlVersion": "beta"}, "AwsIotSqlVersion 'beta'"),
        ({"RuleDisabled": "maybe"}, "RuleDisabled must be a boolean"),
    ],
)
def test_unsupported_rules_fail_at_construction_naming_the_rule(
    changes: dict[str, Any], message: str
) -> None:
    with pytest.raises(UnsupportedTopicRule) as info:
        bridge(("BadRule", rule(**changes)))
    assert "BadRule" in str(info.value)
    assert message in str(info.value)


def test_missing_clients_fail_at_construction() -> None:
    with pytest.raises(UnsupportedTopicRule, match="lambda_client"):
        TopicRuleBridge([("TelemetryRule", rule())], sqs_client=FakeSqs())
    with pytest.raises(UnsupportedTopicRule, match="sqs_client"):
        TopicRuleBridge([("TelemetryRule", rule())], lambda_client=FakeLambda())


def test_duplicate_rule_names_fail() -> None:
    with pytest.raises(UnsupportedTopicRule, match="duplicate"):
        bridge(("Same", rule()), ("Same", rule()))


def test_sql_version_defaults_like_cloudformation() -> None:
    payload = rule()
    del payload["AwsIotSqlVersion"]  # CloudFormation's default, 2015-10-08, is accepted
    assert bridge(("Old", payload)).rule_names == ["Old"]


def test_stop_without_start_is_harmless_and_idempotent() -> None:
    b = bridge()
    b.stop()
    b.stop()
    with pytest.raises(RuntimeError, match="only once"):
        b.start("127.0.0.1", 1)
