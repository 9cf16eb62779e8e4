"""The AWS IoT rules engine, locally: MQTT messages in, topic-rule actions out.

:class:`TopicRuleBridge` takes the stack's ``AWS::IoT::TopicRule`` resources (their
``TopicRulePayload`` with intrinsics resolved), subscribes to every enabled rule's topic filter
on the local broker, evaluates each message with :mod:`localcloud.iot_sql` and performs the
rule's actions the way IoT Core does:

* ``Lambda`` -> ``lambda_client.invoke(FunctionName=arn, InvocationType="Event", Payload=...)``
  (IoT invokes functions asynchronously);
* ``Sqs`` -> ``sqs_client.send_message(QueueUrl=url, MessageBody=...)``, base64-encoded when
  ``UseBase64`` is true.

A failed action (an exception, a ``FunctionError`` in the invoke response, or a payload the
action cannot carry: ``SELECT *`` passes a payload that is no JSON object on as bytes, and a
Lambda action takes JSON only) sends the rule's ``ErrorAction``, if any, the error record IoT
Core sends (developer guide, "Error handling (error action)"): ``ruleName``, ``topic``,
``cloudwatchTraceId``, ``clientId``, ``base64OriginalPayload`` and ``failures`` (one entry per
failed action with ``failedAction``, ``failedResource`` and ``errorMessage``), one record per
rule and message.

A rule whose SELECT reads fields of a payload that is no JSON object is not evaluated at all:
AWS counts it in the rule's ``ParseError`` metric and runs neither the actions nor the error
action (which covers failed actions only). The bridge does the same and counts it in
``stats["parse_errors"]``; a rule that must see every payload selects ``encode(*, 'base64')``.

Everything the emulation cannot honour (unsupported SQL, action types other than Lambda and SQS,
unknown SQL versions) raises :class:`UnsupportedTopicRule` from the constructor, naming the rule,
so that the local cloud fails at start-up rather than drop messages silently.

Threads: paho's network thread only queues messages; one worker thread evaluates the rules and
calls the actions in arrival order, so a slow handler never stalls the MQTT connection's
keep-alive. :meth:`TopicRuleBridge.publish_local` bypasses MQTT and the queue and runs the rules
in the caller's thread (unit tests, benchmarks).
"""

from __future__ import annotations

import base64
import json
import logging
import queue
import threading
import time
import uuid
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from types import TracebackType
from typing import Any, Final

import paho.mqtt.client as mqtt
from paho.mqtt.enums import CallbackAPIVersion

from .iot_sql import IotQuery, UnsupportedIotSql, decode_payload, parse_iot_sql

__all__ = ["TopicRuleBridge", "UnsupportedTopicRule"]

log = logging.getLogger(__name__)

SUPPORTED_SQL_VERSIONS: Final = ("2016-03-23", "2015-10-08")
# CloudFormation's default when AwsIotSqlVersion is absent.
DEFAULT_SQL_VERSION: Final = "2015-10-08"
_STOP: Final = object()


class UnsupportedTopicRule(ValueError):
    """A topic rule uses SQL, an action or a setting the local emulation does not implement."""


@dataclass(frozen=True, slots=True)
class _Action:
    kind: str  # "Lambda" or "Sqs"
    resource: str  # function ARN or queue URL
    use_base64: bool = False

    @property
    def failed_action_name(self) -> str:
        # The names IoT Core puts in the error record's failedAction.
        return "LambdaAction" if self.kind == "Lambda" else "SqsAction"


@dataclass(frozen=True, slots=True)
class _Rule:
    name: str
    query: IotQuery
    actions: tuple[_Action, ...]
    error_action: _Action | None
    disabled: bool


def _as_bool(value: Any, what: str, rule: str) -> bool:
    # Resolved CloudFormation values may be real booleans or the strings "true"/"false".
    if isinstance(value, bool):
        return value
    if isinstance(value, str) and value.lower() in ("true", "false"):
        return value.lower() == "true"
    raise UnsupportedTopicRule(f"topic rule {rule}: {what} must be a boolean, not {value!r}")


def _parse_action(spec: Any, rule: str, where: str) -> _Action:
    if not isinstance(spec, Mapping) or len(spec) != 1:
        raise UnsupportedTopicRule(
            f"topic rule {rule}: each entry of {where} must be a mapping with one action type, "
            f"got {spec!r}"
        )
    ((kind, props),) = spec.items()
    if not isinstance(props, Mapping):
        raise UnsupportedTopicRule(f"topic rule {rule}: {where} {kind} needs properties")
    if kind == "Lambda":
        arn = props.get("FunctionArn")
        if not isinstance(arn, str) or not arn:
            raise UnsupportedTopicRule(
                f"topic rule {rule}: {where} Lambda needs a resolved FunctionArn, got {arn!r}"
            )
        return _Action("Lambda", arn)
    if kind == "Sqs":
        url = props.get("QueueUrl")
        if not isinstance(url, str) or not url:
            raise UnsupportedTopicRule(
                f"topic rule {rule}: {where} Sqs needs a resolved QueueUrl, got {url!r}"
            )
        use_base64 = _as_bool(props.get("UseBase64", False), f"{where} Sqs UseBase64", rule)
        return _Action("Sqs", url, use_base64)
    raise UnsupportedTopicRule(
        f"topic rule {rule}: {where} type {kind!r} is not supported by the local IoT emulation "
        "(supported: Lambda, Sqs)"
    )


def _parse_rule(name: str, payload: Mapping[str, Any]) -> _Rule:
    if not isinstance(payload, Mapping):
        raise UnsupportedTopicRule(f"topic rule {name}: TopicRulePayload must be a mapping")
    version = payload.get("AwsIotSqlVersion", DEFAULT_SQL_VERSION)
    if version not in SUPPORTED_SQL_VERSIONS:
        raise UnsupportedTopicRule(
            f"topic rule {name}: AwsIotSqlVersion {version!r} is not supported locally "
            f"(supported: {', '.join(SUPPORTED_SQL_VERSIONS)})"
        )
    sql = payload.get("Sql")
    if not isinstance(sql, str):
        raise UnsupportedTopicRule(f"topic rule {name}: Sql must be a string, got {sql!r}")
    try:
        query = parse_iot_sql(sql)
    except UnsupportedIotSql as exc:
        raise UnsupportedTopicRule(f"topic rule {name}: {exc}") from exc
    actions_spec = payload.get("Actions", [])
    if not isinstance(actions_spec, list):
        raise UnsupportedTopicRule(f"topic rule {name}: Actions must be a list")
    actions = tuple(_parse_action(spec, name, "Actions") for spec in actions_spec)
    error_spec = payload.get("ErrorAction")
    error_action = None if error_spec is None else _parse_action(error_spec, name, "ErrorAction")
    disabled = _as_bool(payload.get("RuleDisabled", False), "RuleDisabled", name)
    return _Rule(name, query, actions, error_action, disabled)


class TopicRuleBridge:
    """Apply a stack's IoT topic rules to the messages on the local MQTT broker.

    Parameters
    ----------
    rules
        ``(rule name, TopicRulePayload)`` pairs, intrinsics already resolved.
    lambda_client
        A boto3 Lambda client (or a fake with ``invoke``); required if a rule has a Lambda
        action.
    sqs_client
        A boto3 SQS client (or a fake with ``send_message``); required if a rule has an SQS
        action.
    client_id
        The MQTT client id the bridge connects with; default: ``localcloud-iot-rules-`` and a
        random suffix, so that two bridges on one broker do not take over each other's session.
    qos
        The QoS of the bridge's subscriptions (1: the broker gets an acknowledgement for every
        message the bridge receives).
    max_queue
        Messages waiting for the worker before paho's thread blocks (back-pressure on the
        broker connection instead of unbounded memory).

    Raises
    ------
    UnsupportedTopicRule
        When a rule's SQL, action type, SQL version or settings are not supported locally, or a
        client its actions need is missing. The message names the rule.
    """

    def __init__(
        self,
        rules: Iterable[tuple[str, Mapping[str, Any]]],
        *,
        lambda_client: Any = None,
        sqs_client: Any = None,
        client_id: str | None = None,
        qos: int = 1,
        max_queue: int = 10_000,
    ) -> None:
        parsed = [_parse_rule(name, payload) for name, payload in rules]
        names = [rule.name for rule in parsed]
        duplicates = sorted({n for n in names if names.count(n) > 1})
        if duplicates:
            raise UnsupportedTopicRule(f"duplicate topic rule names: {', '.join(duplicates)}")
        for rule in parsed:
            for action in (*rule.actions, *([rule.error_action] if rule.error_action else [])):
                client = lambda_client if action.kind == "Lambda" else sqs_client
                if client is None:
                    raise UnsupportedTopicRule(
                        f"topic rule {rule.name}: a {action.kind} action needs "
                        f"{action.kind.lower()}_client"
                    )
        self._rules = tuple(parsed)
        self._enabled = tuple(rule for rule in parsed if not rule.disabled)
        for rule in parsed:
            if rule.disabled:
                log.info("topic rule %s is disabled (RuleDisabled): ignored", rule.name)
        self._lambda = lambda_client
        self._sqs = sqs_client
        self._client_id = client_id or f"localcloud-iot-rules-{uuid.uuid4().hex[:8]}"
        self._qos = qos
        self._counters = {
            "received": 0,
            "matched": 0,
            "dispatched": 0,
            "failed": 0,
            "error_actions": 0,
            "parse_errors": 0,
        }
        self._counter_lock = threading.Lock()
        self._queue: queue.Queue[Any] = queue.Queue(maxsize=max_queue)
        self._client: mqtt.Client | None = None
        self._worker: threading.Thread | None = None
        self._lifecycle_lock = threading.Lock()
        self._started = False
        self._stopped = False

    # -- introspection --------------------------------------------------------------------------

    @property
    def rule_names(self) -> list[str]:
        """The names of all rules, enabled or not, in the order given."""
        return [rule.name for rule in self._rules]

    @property
    def topic_filters(self) -> list[str]:
        """The distinct topic filters of the enabled rules (what the bridge subscribes to)."""
        return list(dict.fromkeys(rule.query.topic_filter for rule in self._enabled))

    @property
    def stats(self) -> dict[str, int]:
        """A snapshot of the counters.

        ``received``: messages seen (MQTT or :meth:`publish_local`); ``matched``: rule
        evaluations whose topic matched and WHERE held; ``dispatched``: actions that succeeded;
        ``failed``: actions that failed (exception or ``FunctionError``, error actions
        included); ``error_actions``: error records sent successfully; ``parse_errors``: rule
        evaluations skipped because the SELECT reads fields of a payload that is no JSON object
        (AWS's ``ParseError`` metric: no action, no error action).
        """
        with self._counter_lock:
            return dict(self._counters)

    def _count(self, name: str, amount: int = 1) -> None:
        with self._counter_lock:
            self._counters[name] += amount

    # -- rules ----------------------------------------------------------------------------------

    def publish_local(
        self,
        topic: str,
        payload: bytes | str | Mapping[str, Any],
        *,
        client_id: str = "",
    ) -> list[str]:
        """Apply the rules to one message in the calling thread, without MQTT.

        Parameters
        ----------
        topic
            The topic the message is "published" on.
        payload
            The payload: bytes or text as a device would send, or a mapping (sent as JSON).
        client_id
            What ``clientid()`` returns in the rules' SQL.

        Returns
        -------
        list of str
            The names of the rules whose topic matched and whose WHERE clause held.
        """
        if isinstance(payload, Mapping):
            payload = json.dumps(payload)
        raw = payload.encode("utf-8") if isinstance(payload, str) else bytes(payload)
        return self._process(topic, raw, client_id)

    def _process(self, topic: str, payload: bytes, client_id: str) -> list[str]:
        self._count("received")
        matched: list[str] = []
        document: dict[str, Any] | None = None
        decoded = False
        timestamp_ms = time.time_ns() // 1_000_000  # one timestamp() per message, as in AWS
        for rule in self._enabled:
            if not rule.query.matches_topic(topic):
                continue
            if not decoded:
                document, decoded = decode_payload(payload), True
            try:
                output = rule.query.evaluate_document(
                    topic, document, raw=payload, client_id=client_id, timestamp_ms=timestamp_ms
                )
            except Exception:
                log.exception("topic rule %s: evaluating a message on %s failed", rule.name, topic)
                self._count("failed")
                continue
            if output is None:
                if document is None and rule.query.needs_object:
                    self._count("parse_errors")
                    log.warning(
                        "topic rule %s: ParseError: the payload on %s is not a JSON object and "
                        "the SELECT reads its fields; no action runs, as in AWS IoT (%d bytes)",
                        rule.name,
                        topic,
                        len(payload),
                    )
                continue
            self._count("matched")
            matched.append(rule.name)
            self._run_actions(rule, topic, payload, client_id, output)
        return matched

    def _run_actions(
        self,
        rule: _Rule,
        topic: str,
        payload: bytes,
        client_id: str,
        output: dict[str, Any] | bytes,
    ) -> None:
        if isinstance(output, bytes):
            message = output  # SELECT * of a payload that is no JSON object: its bytes
        else:
            message = json.dumps(output, separators=(",", ":"), ensure_ascii=False).encode()
        failures: list[dict[str, str]] = []
        for action in rule.actions:
            error = self._perform(action, message)
            if error is None:
                self._count("dispatched")
                log.debug(
                    "topic rule %s: %s %s <- %s", rule.name, action.kind, action.resource, topic
                )
            else:
                self._count("failed")
                log.warning(
                    "topic rule %s: %s action on %s failed: %s",
                    rule.name,
                    action.kind,
                    action.resource,
                    error,
                )
                failures.append(
                    {
                        "failedAction": action.failed_action_name,
                        "failedResource": action.resource,
                        "errorMessage": error,
                    }
                )
        if failures and rule.error_action is not None:
            record = {
                "ruleName": rule.name,
                "topic": topic,
                "cloudwatchTraceId": str(uuid.uuid4()),
                "clientId": client_id,
                "base64OriginalPayload": base64.b64encode(payload).decode("ascii"),
                "failures": failures,
            }
            error = self._perform(rule.error_action, json.dumps(record).encode())
            if error is None:
                self._count("error_actions")
            else:
                self._count("failed")
                log.error(
                    "topic rule %s: the error action (%s %s) failed too: %s",
                    rule.name,
                    rule.error_action.kind,
                    rule.error_action.resource,
                    error,
                )

    def _perform(self, action: _Action, message: bytes) -> str | None:
        """Run one action; return ``None`` on success, else the error message."""
        try:
            if action.kind == "Lambda":
                try:
                    json.loads(message)
                except ValueError:
                    # Lambda's Invoke takes a JSON document; AWS IoT's Lambda action does not
                    # turn bytes into one (the developer guide's "Working with binary payloads").
                    return (
                        "the payload is not JSON, and a Lambda action takes JSON only (select "
                        "encode(*, 'base64') to pass bytes on)"
                    )
                response = self._lambda.invoke(
                    FunctionName=action.resource, InvocationType="Event", Payload=message
                )
                function_error = (response or {}).get("FunctionError")
                if function_error:
                    return f"Lambda function error ({function_error}): {_read_body(response)}"
                return None
            if action.use_base64:
                body = base64.b64encode(message).decode("ascii")
            else:
                try:
                    body = message.decode("utf-8")
                except UnicodeDecodeError:
                    return "the payload is not UTF-8 text (set UseBase64 to send bytes to SQS)"
            self._sqs.send_message(QueueUrl=action.resource, MessageBody=body)
            return None
        except Exception as exc:
            return f"{type(exc).__name__}: {exc}"

    # -- MQTT -----------------------------------------------------------------------------------

    def start(self, host: str = "127.0.0.1", port: int = 1883, *, timeout: float = 5.0) -> None:
        """Connect to the broker, subscribe to the enabled rules' filters and start routing.

        Returns once every subscription is acknowledged, so a message published afterwards is
        not missed.

        Parameters
        ----------
        host, port
            The broker's address.
        timeout
            Seconds to wait for the connection and the subscriptions.

        Raises
        ------
        RuntimeError
            When already started or stopped, or the broker refuses the connection or a
            subscription.
        TimeoutError
            When the broker does not answer in time.
        """
        with self._lifecycle_lock:
            if self._started or self._stopped:
                raise RuntimeError("a TopicRuleBridge can be started only once")
            self._started = True
        filters = self.topic_filters
        connected = threading.Event()
        subscribed = threading.Event()
        problem: list[str] = []
        pending: set[int] = set()
        pending_lock = threading.Lock()

        def on_connect(
            client: mqtt.Client, userdata: Any, flags: Any, reason: Any, properties: Any
        ) -> None:
            if reason.is_failure:
                problem.append(f"broker refused the connection: {reason}")
                connected.set()
                return
            connected.set()
            if not filters:
                subscribed.set()
                return
            # Subscribing here (not after connect()) also restores the filters on a reconnect.
            result, mid = client.subscribe([(f, self._qos) for f in filters])
            if result != mqtt.MQTT_ERR_SUCCESS or mid is None:
                problem.append(f"subscribe failed: {mqtt.error_string(result)}")
                subscribed.set()
                return
            # SUBACK is handled by this same network thread after we return: no race here.
            with pending_lock:
                pending.add(mid)

        def on_subscribe(
            client: mqtt.Client, userdata: Any, mid: int, reasons: Any, properties: Any
        ) -> None:
            refused = [f for f, r in zip(filters, reasons, strict=False) if r.is_failure]
            if refused:
                problem.append(f"broker refused the subscriptions {refused}")
            with pending_lock:
                pending.discard(mid)
                if not pending:
                    subscribed.set()

        def on_disconnect(
            client: mqtt.Client, userdata: Any, flags: Any, reason: Any, properties: Any
        ) -> None:
            if not self._stopped:
                log.warning("IoT rules bridge disconnected from the broker: %s", reason)

        client = mqtt.Client(
            CallbackAPIVersion.VERSION2,
            client_id=self._client_id,
            protocol=mqtt.MQTTv311,
            clean_session=True,
        )
        client.on_connect = on_connect
        client.on_subscribe = on_subscribe
        client.on_disconnect = on_disconnect
        client.on_message = self._on_message
        self._client = client
        self._worker = threading.Thread(target=self._work, name="iot-rules-bridge", daemon=True)
        self._worker.start()
        try:
            client.connect(host, port, keepalive=30)
        except OSError as exc:
            self.stop()
            raise RuntimeError(
                f"cannot connect to the MQTT broker at {host}:{port}: {exc}"
            ) from exc
        client.loop_start()
        deadline = time.monotonic() + timeout
        if not connected.wait(timeout) or not subscribed.wait(
            max(0.0, deadline - time.monotonic())
        ):
            self.stop()
            raise TimeoutError(f"the MQTT broker at {host}:{port} did not answer in {timeout} s")
        if problem:
            self.stop()
            raise RuntimeError("; ".join(problem))
        log.info(
            "IoT rules bridge on %s:%d: %d rule(s) on %s",
            host,
            port,
            len(self._enabled),
            ", ".join(filters) or "no topics",
        )

    def _on_message(self, client: mqtt.Client, userdata: Any, message: mqtt.MQTTMessage) -> None:
        # paho's network thread: queue only, so keep-alives and acknowledgements keep flowing.
        if message.retain:
            # A retained message replayed because we just subscribed: IoT rules act on
            # publications, not on replays, so a restarted bridge must not run them twice.
            log.debug("ignoring the retained message replayed on %s", message.topic)
            return
        # MQTT does not tell subscribers who published, so clientid() is "" here.
        self._queue.put((message.topic, bytes(message.payload), ""))

    def _work(self) -> None:
        while True:
            item = self._queue.get()
            try:
                if item is _STOP:
                    return
                topic, payload, client_id = item
                self._process(topic, payload, client_id)
            except Exception:
                log.exception("IoT rules bridge: unexpected error")
            finally:
                self._queue.task_done()

    def drain(self, timeout: float = 5.0) -> bool:
        """Wait until every message received so far has been processed.

        Parameters
        ----------
        timeout
            Seconds to wait at most.

        Returns
        -------
        bool
            True when the queue is empty and the worker idle, False on timeout.
        """
        deadline = time.monotonic() + timeout
        # Queue.join() has no timeout; poll its counter of unfinished tasks instead.
        while time.monotonic() < deadline:
            if self._queue.unfinished_tasks == 0:
                return True
            time.sleep(0.005)
        return self._queue.unfinished_tasks == 0

    def stop(self, timeout: float = 5.0) -> None:
        """Disconnect from the broker and stop the worker; calling it again does nothing.

        Messages already queued are processed first (within ``timeout``).

        Parameters
        ----------
        timeout
            Seconds to wait for the worker to finish the queue.
        """
        with self._lifecycle_lock:
            if self._stopped:
                return
            self._stopped = True
        client, self._client = self._client, None
        if client is not None:
            try:
                client.disconnect()
            finally:
                client.loop_stop()
        worker, self._worker = self._worker, None
        if worker is not None:
            try:
                self._queue.put(_STOP, timeout=timeout)
            except queue.Full:
                log.warning("IoT rules bridge queue still full after %.1f s", timeout)
            worker.join(timeout)
            if worker.is_alive():
                log.warning("IoT rules bridge worker still busy after %.1f s", timeout)
        log.info("IoT rules bridge stopped: %s", self.stats)

    def __enter__(self) -> TopicRuleBridge:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()


def _read_body(response: Mapping[str, Any]) -> str:
    body = response.get("Payload")
    if body is None:
        return ""
    raw = body.read() if hasattr(body, "read") else body
    text = raw.decode("utf-8", "replace") if isinstance(raw, bytes | bytearray) else str(raw)
    return text[:1000]
