"""The local AWS IoT SQL subset: parsing, topic matching, evaluation, and what it refuses."""

from __future__ import annotations

import base64
import json
import time

import pytest

from localcloud.iot_sql import (
    UNDEFINED,
    UnsupportedIotSql,
    decode_payload,
    parse_iot_sql,
    topic_matches,
    validate_topic_filter,
)

TELEMETRY_SQL = (
    "SELECT encode(*, 'base64') AS payload, topic(3) AS complex_id, topic(4) AS sensor_id "
    "FROM 'gyeonggi/safety/+/+/telemetry'"
)
TOPIC = "gyeonggi/safety/banwol/gas-017/telemetry"


def run(sql: str, payload: object, topic: str = "t/x") -> dict | None:
    body = payload if isinstance(payload, bytes) else json.dumps(payload).encode()
    out = parse_iot_sql(sql).evaluate(topic, body, timestamp_ms=1_700_000_000_000)
    assert not isinstance(out, bytes)  # these tests send JSON objects
    return out


def where(condition: str, payload: object) -> bool:
    """Whether a WHERE condition passes for one payload."""
    return run(f"SELECT * FROM 't/x' WHERE {condition}", payload) is not None


# -- parsing ---------------------------------------------------------------------------------


def test_parses_the_project_telemetry_rule() -> None:
    query = parse_iot_sql(TELEMETRY_SQL)
    assert query.topic_filter == "gyeonggi/safety/+/+/telemetry"
    assert query.where is None
    assert [item.key for item in query.items] == ["payload", "complex_id", "sensor_id"]
    # It reads the payload as bytes: any payload evaluates, JSON or not.
    assert not query.reads_payload and not query.needs_object
    for raw in (b'{"v": 1}', b"\xff\xfe binary", b"[1]", b""):
        assert query.evaluate(TOPIC, raw) == {
            "payload": base64.b64encode(raw).decode(),
            "complex_id": "banwol",
            "sensor_id": "gas-017",
        }


def test_keywords_are_case_insensitive_and_whitespace_free_form() -> None:
    query = parse_iot_sql("select\n  a as b\nfrom\t'x/#'   where a > 1 and not a = 3")
    assert query.topic_filter == "x/#"
    assert query.evaluate("x/y", b'{"a": 2}') == {"b": 2}


def test_from_accepts_double_quoted_filters_and_sql_keeps_its_text() -> None:
    sql = 'SELECT a FROM "x/+"'
    query = parse_iot_sql(sql)
    assert query.sql == sql
    assert query.topic_filter == "x/+"


# -- topics ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("topic_filter", "topic", "expected"),
    [
        ("a/b/c", "a/b/c", True),
        ("a/b/c", "a/b", False),
        ("a/b/c", "a/b/c/d", False),
        ("a/+/c", "a/x/c", True),
        ("a/+/c", "a//c", True),  # '+' matches an empty level
        ("a/+/c", "a/x/y/c", False),
        ("a/+", "a", False),
        ("+/+", "a/b", True),
        ("a/#", "a", True),  # '#' includes the parent level
        ("a/#", "a/b/c/d", True),
        ("a/#", "b/a", False),
        ("#", "anything/at/all", True),
        ("#", "$aws/things/x", False),  # wildcards never match '$' topics at the first level
        ("+/things/x", "$aws/things/x", False),
        ("$aws/things/+", "$aws/things/x", True),
        ("gyeonggi/safety/+/+/telemetry", TOPIC, True),
        ("gyeonggi/safety/+/+/telemetry", "gyeonggi/safety/banwol/telemetry", False),
        ("a/b", "A/b", False),  # case-sensitive
        ("a/+", "a/+", False),  # a topic name cannot contain wildcards
    ],
)
def test_topic_matching(topic_filter: str, topic: str, expected: bool) -> None:
    assert topic_matches(topic_filter, topic) is expected
    query = parse_iot_sql(f"SELECT * FROM '{topic_filter}'")
    assert query.matches_topic(topic) is expected


@pytest.mark.parametrize("bad", ["", "a/#/b", "a/b#", "a/+b", "#/a", "a/\x00"])
def test_invalid_topic_filters_are_refused(bad: str) -> None:
    with pytest.raises(UnsupportedIotSql):
        validate_topic_filter(bad)


def test_evaluate_returns_none_when_the_topic_does_not_match() -> None:
    assert parse_iot_sql(TELEMETRY_SQL).evaluate("gyeonggi/other", b'{"value": 1}') is None


# -- SELECT ----------------------------------------------------------------------------------


def test_select_star_with_topic_segments() -> None:
    sql = (
        "SELECT *, topic(3) AS complex_id, topic(4) AS sensor_id "
        "FROM 'gyeonggi/safety/+/+/telemetry'"
    )
    out = parse_iot_sql(sql).evaluate(TOPIC, b'{"gas": "CO", "value": 41.5}')
    assert out == {"gas": "CO", "value": 41.5, "complex_id": "banwol", "sensor_id": "gas-017"}


def test_topic_function_whole_topic_and_out_of_range_segment() -> None:
    out = run("SELECT topic() AS t, topic(1) AS first, topic(9) AS missing FROM 'a/#'", {}, "a/b")
    assert out == {"t": "a/b", "first": "a"}  # Undefined keys are left out


def test_aliases_and_plain_field_keys() -> None:
    out = run(
        "SELECT value AS reading, unit, site.name FROM 't/x'",
        {"value": 3, "unit": "ppm", "site": {"name": "Banwol"}},
    )
    assert out == {"reading": 3, "unit": "ppm", "name": "Banwol"}


def test_nested_fields() -> None:
    payload = {"a": {"b": {"c": [1, 2]}, "n": None}}
    out = run("SELECT a.b.c AS c, a.n AS n, a.b.zz AS zz, a.b.c.d AS deeper FROM 't/x'", payload)
    assert out == {"c": [1, 2], "n": None}  # null is kept, missing paths are Undefined


def test_literals_in_select() -> None:
    sql = (
        "SELECT 'ko' AS lang, \"x\" AS dq, 7 AS i, -2.5 AS d, 10.0 AS whole, true AS t, "
        "FALSE AS f FROM 't/x'"
    )
    out = run(sql, {})
    assert out == {"lang": "ko", "dq": "x", "i": 7, "d": -2.5, "whole": 10, "t": True, "f": False}
    assert isinstance(out["whole"], int)  # SQL 2016-03-23: whole decimals are Int


def test_string_escapes() -> None:
    out = run(r"SELECT 'it\'s' AS a, 'line\nnext' AS b FROM 't/x'", {})
    assert out == {"a": "it's", "b": "line\nnext"}


def test_later_items_override_star_keys() -> None:
    out = run("SELECT *, 'fixed' AS unit FROM 't/x'", {"unit": "ppm", "v": 1})
    assert out == {"unit": "fixed", "v": 1}


def test_timestamp_and_clientid() -> None:
    query = parse_iot_sql("SELECT timestamp() AS ts, clientid() AS cid FROM 't/x'")
    assert query.evaluate("t/x", b"{}", timestamp_ms=123, client_id="dev-1") == {
        "ts": 123,
        "cid": "dev-1",
    }
    before = time.time_ns() // 1_000_000
    out = query.evaluate("t/x", b"{}")
    assert isinstance(out, dict) and before <= out["ts"] <= time.time_ns() // 1_000_000
    assert out["cid"] == ""


def test_whole_number_decimals_in_payloads_become_ints() -> None:
    assert decode_payload(b'{"v": 10.0, "w": 10.5, "n": [2.0]}') == {"v": 10, "w": 10.5, "n": [2]}


# -- payloads that are not JSON objects ------------------------------------------------------


@pytest.mark.parametrize(
    "payload", [b"\xff\xfe binary", b"not json", b"[1, 2]", b"42", b"", b'{"v": NaN}']
)
def test_non_object_payloads_give_nothing_when_the_payload_is_read(payload: bytes) -> None:
    assert decode_payload(payload) is None
    # SELECT * alone passes the bytes on (what an action makes of them is the action's) ...
    assert parse_iot_sql("SELECT * FROM 't/x'").evaluate("t/x", payload) == payload
    assert parse_iot_sql("SELECT * FROM 't/x' WHERE a = 1").evaluate("t/x", payload) is None
    # ... a SELECT reading fields, or adding keys to *, cannot be evaluated (AWS's ParseError).
    for sql in ("SELECT a FROM 't/x'", "SELECT *, topic(1) AS t FROM 't/x'"):
        query = parse_iot_sql(sql)
        assert query.needs_object and query.evaluate("t/x", payload) is None
    # A query that never reads the payload still works.
    query = parse_iot_sql("SELECT topic() AS t FROM 't/x' WHERE topic(1) = 't'")
    assert not query.reads_payload
    assert query.evaluate("t/x", payload) == {"t": "t/x"}


# -- WHERE -----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("condition", "payload", "expected"),
    [
        ("value > 0", {"value": 1}, True),
        ("value > 0", {"value": 0}, False),
        ("value > 0", {"value": -0.5}, False),
        ("value > 0", {}, False),  # missing -> Undefined -> not true
        ("value > 0", {"value": None}, False),
        ("value > 0", {"value": "5"}, True),  # numeric strings are converted for ordering
        ("value > 0", {"value": "5e1"}, True),
        ("value > 0", {"value": "high"}, False),
        ("value > 0", {"value": True}, False),  # booleans do not convert to numbers
        ("value >= 35", {"value": 35}, True),
        ("value < 35", {"value": 35}, False),
        ("value <= 35.0", {"value": 35}, True),
        ("value = 35", {"value": 35.0}, True),
        ("gas = 'CO'", {"gas": "CO"}, True),
        ("gas = 'CO'", {"gas": "co"}, False),  # case-sensitive
        ("gas = 'CO'", {}, False),
        ("gas <> 'CO'", {"gas": "H2S"}, True),
        ("gas != 'CO'", {"gas": "CO"}, False),
        ("gas <> 'CO'", {}, False),  # Undefined, not true
        ("value = '5'", {"value": 5}, False),  # mixed types compare as Undefined
        ("value <> '5'", {"value": 5}, False),
        ("ok = true", {"ok": True}, True),
        ("ok = true", {"ok": 1}, False),
        ("tags = tags", {"tags": ["a", 1]}, True),
        ("a.b = 1", {"a": {"b": 1}}, True),
        ("a.b = 1", {"a": 1}, False),
        ("ok", {"ok": True}, True),
        ("ok", {"ok": "TRUE"}, True),  # "true"/"false" strings act as booleans
        ("ok", {"ok": 1}, False),
    ],
)
def test_comparisons(condition: str, payload: dict, expected: bool) -> None:
    assert where(condition, payload) is expected


@pytest.mark.parametrize(
    ("condition", "payload", "expected"),
    [
        ("a > 1 AND b > 1", {"a": 2, "b": 2}, True),
        ("a > 1 AND b > 1", {"a": 2, "b": 0}, False),
        ("a > 1 AND b > 1", {"a": 2}, False),
        ("a > 1 OR b > 1", {"a": 0, "b": 2}, True),
        ("a > 1 OR b > 1", {"a": 0, "b": 0}, False),
        # AWS: an operand that is not a boolean makes AND/OR Undefined, even "true OR missing".
        ("a > 1 OR b > 1", {"a": 2}, False),
        ("NOT a > 1", {"a": 0}, True),
        ("NOT a > 1", {"a": 2}, False),
        ("NOT a > 1", {}, False),  # NOT Undefined is Undefined
        ("NOT NOT a > 1", {"a": 2}, True),
        ("a = 1 OR a = 2 AND b = 3", {"a": 1, "b": 0}, True),  # AND binds tighter than OR
        ("(a = 1 OR a = 2) AND b = 3", {"a": 1, "b": 0}, False),
        ("NOT (a = 1 OR a = 2)", {"a": 3}, True),
        ("(((a = 1)))", {"a": 1}, True),
    ],
)
def test_logic(condition: str, payload: dict, expected: bool) -> None:
    assert where(condition, payload) is expected


@pytest.mark.parametrize(
    ("condition", "present", "null", "missing"),
    [
        ("v IS NULL", False, True, False),
        ("v IS NOT NULL", True, False, False),
        ("v IS UNDEFINED", False, False, True),
        ("v IS NOT UNDEFINED", True, True, False),
        ("isUndefined(v)", False, False, True),
        ("NOT isUndefined(v)", True, True, False),
        ("isNull(v)", False, True, False),
        ("isundefined(v) = false", True, True, False),
    ],
)
def test_null_and_undefined_tests(condition: str, present: bool, null: bool, missing: bool) -> None:
    assert where(condition, {"v": 0}) is present
    assert where(condition, {"v": None}) is null
    assert where(condition, {}) is missing


def test_where_with_topic_and_clientid() -> None:
    sql = "SELECT * FROM 'gyeonggi/safety/+/+/telemetry' WHERE topic(3) = 'banwol'"
    query = parse_iot_sql(sql)
    assert query.evaluate(TOPIC, b"{}") == {}
    assert query.evaluate(TOPIC.replace("banwol", "sihwa"), b"{}") is None
    query = parse_iot_sql("SELECT * FROM 'a' WHERE clientid() = 'dev-1'")
    assert query.evaluate("a", b"{}", client_id="dev-1") == {}
    assert query.evaluate("a", b"{}") is None


def test_where_cannot_see_select_aliases() -> None:
    assert run("SELECT value AS v FROM 't/x' WHERE v > 1", {"value": 5}) is None


def test_undefined_is_a_singleton_without_truth_value() -> None:
    assert repr(UNDEFINED) == "Undefined"
    with pytest.raises(TypeError):
        bool(UNDEFINED)


# -- what is refused, at parse time ----------------------------------------------------------


@pytest.mark.parametrize(
    ("sql", "named"),
    [
        ("SELECT md5(deviceid) AS h FROM 'a'", "md5()"),
        ("SELECT get(a, 0) AS x FROM 'a'", "get()"),
        ("SELECT newuuid() AS id FROM 'a'", "newuuid()"),
        ("SELECT encode(a, 'base64') AS data FROM 'a'", "encode(*, 'base64')"),
        ("SELECT encode(*, 'hex') AS data FROM 'a'", "encode(*, 'base64')"),
        ("SELECT * FROM 'a' WHERE abs(v) > 1", "abs()"),
        ("SELECT VALUE color FROM 'a'", "SELECT VALUE"),
        ("SELECT (SELECT v FROM e) AS s FROM 'a'", "nested SELECT"),
        ("SELECT * FROM 'a' WHERE v IN (1, 2)", "IN operator"),
        ("SELECT * FROM 'a' WHERE v LIKE 'x%'", "LIKE operator"),
        ("SELECT * FROM 'a' WHERE v BETWEEN 1 AND 2", "BETWEEN operator"),
        ("SELECT CASE v WHEN 1 THEN 'a' END AS c FROM 'a'", "CASE"),
        ("SET @x = 1 SELECT * FROM 'a'", "SET clause"),
        ("SELECT v + 1 AS w FROM 'a'", "arithmetic operator '+'"),
        ("SELECT * FROM 'a' WHERE v * 2 > 1", "arithmetic operator '*'"),
        ("SELECT * FROM 'a' WHERE v > 10 / 2", "arithmetic operator '/'"),
        ("SELECT * FROM 'a' WHERE timestamp() % 12 = 0", "arithmetic operator '%'"),
        ("SELECT * FROM 'a' WHERE -v < 0", "unary minus"),
        ("SELECT a || b AS c FROM 'a'", "'||'"),
        ("SELECT [a, b] AS pair FROM 'a'", "array literals"),
        ("SELECT {'k': a} AS o FROM 'a'", "object literals"),
        ("SELECT * FROM 'a' WHERE e[0] = 1", "array indexing"),
        ("SELECT * FROM 'a' WHERE v = NULL", "NULL literal"),
        ("SELECT NULL AS n FROM 'a'", "NULL literal"),
        ("SELECT * FROM 'a' WHERE 1 < v < 3", "chained comparisons"),
        ("SELECT topic(3) FROM 'a'", "needs an AS alias"),
        ("SELECT 'x' FROM 'a'", "needs an AS alias"),
        ("SELECT a AS b.c FROM 'a'", "dotted alias"),
        ("SELECT topic(x) AS t FROM 'a'", "positive integer"),
        ("SELECT topic(0) AS t FROM 'a'", "positive integer"),
        ("SELECT topic(1, 2) AS t FROM 'a'", "expected ')'"),
        ("SELECT timestamp(1) AS t FROM 'a'", "takes no arguments"),
        ("SELECT isUndefined() AS t FROM 'a'", "exactly one argument"),
        ("SELECT * FROM a/b", "quoted topic filter"),
        ("SELECT * FROM 'a/#/b'", "'#' must be"),
        ("SELECT * FROM 'a' ORDER BY v", "ORDER BY"),
        ("SELECT * FROM 'a' WHERE", "expected a value"),
        ("SELECT FROM 'a'", "unexpected keyword FROM"),
        ("SELECT * 'a'", "expected ',' or FROM"),
        ("SELECT a b FROM 'a'", "expected ',' or FROM"),
        ("SELECT * FROM 'a", "unterminated string"),
        ("SELECT * FROM 'a' WHERE v ~ 1", "unexpected character '~'"),
        ("SELECT * FROM 'a' WHERE v IS 3", "expected NULL or UNDEFINED"),
        ("SELECT * FROM 'a' WHERE a.1 = 2", "get()"),
        ("SELECT a.b() AS x FROM 'a'", "method-style call"),
        ("", "empty"),
        ("   ", "empty"),
        ("DELETE FROM 'a'", "expected SELECT"),
    ],
)
def test_unsupported_constructs_are_refused_with_a_helpful_message(sql: str, named: str) -> None:
    with pytest.raises(UnsupportedIotSql) as info:
        parse_iot_sql(sql)
    assert named in str(info.value)


def test_errors_point_at_the_position() -> None:
    with pytest.raises(UnsupportedIotSql, match=r"at position 7 in \"SELECT md5"):
        parse_iot_sql("SELECT md5(x) AS h FROM 'a'")


def test_unsupported_iot_sql_is_a_value_error() -> None:
    assert issubclass(UnsupportedIotSql, ValueError)
