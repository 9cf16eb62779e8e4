"""The in-process Lambda runner and the SQS poller's partial-batch rules."""

from __future__ import annotations

import json
import os
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest

from localcloud.event_sources import _reported_failures
from localcloud.runner import InProcessRunner, LocalFunction


def _fn(name: str, handler: str = "app.handler", timeout: int = 3, **env: str) -> SimpleNamespace:
    return SimpleNamespace(
        function_name=name,
        function_arn=f"arn:aws:lambda:ap-northeast-2:123456789012:function:{name}",
        handler=handler,
        timeout=timeout,
        memory_size=128,
        environment_vars=env,
    )


@pytest.fixture(autouse=True)
def _process_environment() -> Iterator[None]:
    """Each test's runners leave keys behind until shutdown; this module has no shutdown."""
    before = dict(os.environ)
    yield
    os.environ.clear()
    os.environ.update(before)


@pytest.fixture
def function_dir(tmp_path: Path) -> Path:
    (tmp_path / "app.py").write_text(
        "import os, time\n"
        "LOADS = 0\n"
        "LOADS += 1\n"
        "def handler(event, context):\n"
        "    print('log line', event.get('n'))\n"
        "    if event.get('boom'): raise ValueError('bad event')\n"
        "    if event.get('sleep'): time.sleep(event['sleep'])\n"
        "    return {'table': os.environ['TABLE'], 'loads': LOADS,\n"
        "            'remaining': context.get_remaining_time_in_millis() > 0}\n"
    )
    return tmp_path


def test_runs_with_the_function_environment_and_restores_it(function_dir: Path) -> None:
    os.environ["AWS_LAMBDA_FUNCTION_VERSION"] = "outer"
    runner = InProcessRunner({"AWS_REGION": "ap-northeast-2"})
    runner.register(LocalFunction("fn", "Fn", function_dir))
    payload, errored, logs = runner.invoke(_fn("fn", TABLE="complaints"), {"n": 1})
    assert not errored
    assert json.loads(payload) == {"table": "complaints", "loads": 1, "remaining": True}
    assert "log line 1" in logs
    # warm: the module is not loaded again
    payload, _, _ = runner.invoke(_fn("fn", TABLE="complaints"), {"n": 2})
    assert json.loads(payload)["loads"] == 1
    assert [i.cold_start for i in runner.calls("fn")] == [True, False]
    # The function's variables were its thread's view: the process's environment never changed
    assert os.environ["AWS_LAMBDA_FUNCTION_VERSION"] == "outer"
    assert "TABLE" not in os.environ
    payload, _, _ = runner.invoke(_fn("fn", TABLE="other"), {"n": 3})
    assert json.loads(payload)["table"] == "other"
    assert "TABLE" not in os.environ


def test_a_function_that_calls_the_local_api_runs_beside_another_with_its_own_environment(
    tmp_path: Path,
) -> None:
    # Given a function that waits until another function has run (as the wallet verifier waits
    # for the issuer's keys, served by another function over the local API)
    flag = tmp_path / "flag"
    (tmp_path / "app.py").write_text(
        "import os, pathlib, time\n"
        f"FLAG = pathlib.Path({str(flag)!r})\n"
        "def waiter(event, context):\n"
        "    table = os.environ['TABLE']\n"
        "    deadline = time.monotonic() + 5\n"
        "    while not FLAG.exists() and time.monotonic() < deadline:\n"
        "        time.sleep(0.01)\n"
        "    return {'table': table, 'after': os.environ['TABLE'], 'set': FLAG.exists()}\n"
        "def setter(event, context):\n"
        "    FLAG.write_text('x')\n"
        "    return {'table': os.environ['TABLE']}\n"
    )
    runner = InProcessRunner({})
    runner.register(LocalFunction("waiter", "Waiter", tmp_path, calls_local_api=True))
    runner.register(LocalFunction("setter", "Setter", tmp_path))
    results: dict[str, Any] = {}

    def wait() -> None:
        results["waiter"] = runner.invoke(_fn("waiter", "app.waiter", TABLE="w"), {})

    thread = threading.Thread(target=wait)
    thread.start()
    # When the other function is invoked from another thread meanwhile
    time.sleep(0.2)
    payload, errored, _ = runner.invoke(_fn("setter", "app.setter", TABLE="s"), {})
    thread.join(10)
    # Then it ran at once (the waiter saw its flag set), and neither saw the other's variables
    assert not errored and json.loads(payload) == {"table": "s"}
    waiter_payload, waiter_errored, _ = results["waiter"]
    assert not waiter_errored
    assert json.loads(waiter_payload) == {"table": "w", "after": "w", "set": True}


def test_one_function_takes_one_invocation_at_a_time(function_dir: Path) -> None:
    runner = InProcessRunner({})
    runner.register(LocalFunction("fn", "Fn", function_dir))
    spans: list[tuple[float, float]] = []

    def call(n: int) -> None:
        started = time.monotonic()
        runner.invoke(_fn("fn", TABLE="t"), {"n": n, "sleep": 0.2})
        spans.append((started, time.monotonic()))

    threads = [threading.Thread(target=call, args=(n,)) for n in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(10)
    # One container, one event at a time: the two handlers' 0.2 s never overlapped
    handler_times = sorted(i.duration_ms for i in runner.calls("fn"))
    assert len(handler_times) == 2 and all(t >= 190 for t in handler_times)
    assert max(end for _, end in spans) - min(start for start, _ in spans) >= 0.39


def test_invocations_never_pull_a_key_from_under_a_thread_iterating_the_environment(
    function_dir: Path,
) -> None:
    """urllib's proxy lookup (every new boto3 client) iterates os.environ; a key deleted
    meanwhile raises KeyError in that thread (a Step Functions task failed so in CI)."""
    runner = InProcessRunner({})
    runner.register(LocalFunction("fn", "Fn", function_dir))
    errors: list[KeyError] = []
    stop = threading.Event()

    def iterate() -> None:
        while not stop.is_set():
            try:
                for _ in os.environ.items():
                    pass
            except KeyError as exc:
                errors.append(exc)

    reader = threading.Thread(target=iterate)
    reader.start()
    try:
        deadline = time.monotonic() + 5
        for n in range(300):
            extra = {f"RUNNER_TEST_{i}": "x" for i in range(20)}
            fn = _fn("fn", TABLE="t")
            fn.environment_vars.update(extra)
            runner.invoke(fn, {"n": n})
            if time.monotonic() > deadline:
                break
    finally:
        stop.set()
        reader.join(5)
    assert errors == []


def test_a_package_beside_the_handler_is_fresh_for_each_runner(tmp_path: Path) -> None:
    """Like the API's ``chalicelib``: state kept in it must not leak from an earlier cloud."""
    package = tmp_path / "sidepkg_for_runner_test"
    package.mkdir()
    (package / "__init__.py").write_text("CALLS = []\n")
    (tmp_path / "app.py").write_text(
        "import sidepkg_for_runner_test as side\n"
        "def handler(event, context):\n"
        "    side.CALLS.append(1)\n"
        "    return len(side.CALLS)\n"
    )
    counts = []
    for _ in range(2):
        runner = InProcessRunner({})
        runner.register(LocalFunction("fn", "Fn", tmp_path))
        payload, errored, _ = runner.invoke(_fn("fn"), {})
        assert not errored
        counts.append(json.loads(payload))
    assert counts == [1, 1]


def test_another_thread_printing_during_an_invocation_stays_out_of_its_log(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """``local up`` prints its banner while the HTTP server may already invoke functions."""
    (tmp_path / "runner_test_gate.py").write_text(
        "import threading\ninside, release = threading.Event(), threading.Event()\n"
    )
    (tmp_path / "app.py").write_text(
        "from runner_test_gate import inside, release\n"
        "def handler(event, context):\n"
        "    print('function line')\n"
        "    inside.set()\n"
        "    release.wait(5)\n"
        "    return 'ok'\n"
    )
    runner = InProcessRunner({})
    runner.register(LocalFunction("fn", "Fn", tmp_path))
    logs: list[str] = []
    worker = threading.Thread(target=lambda: logs.append(runner.invoke(_fn("fn"), {})[2]))
    worker.start()
    deadline = time.monotonic() + 5
    while "runner_test_gate" not in sys.modules and time.monotonic() < deadline:
        time.sleep(0.01)
    module = sys.modules["runner_test_gate"]
    assert module.inside.wait(5)
    print("Ready.")  # the main thread, while the function runs in the worker
    module.release.set()
    worker.join(5)
    assert logs == ["function line\n"]
    assert capsys.readouterr().out == "Ready.\n"


def test_handler_error_is_the_function_error(function_dir: Path) -> None:
    runner = InProcessRunner({})
    runner.register(LocalFunction("fn", "Fn", function_dir))
    payload, errored, _ = runner.invoke(_fn("fn", TABLE="t"), {"boom": True})
    assert errored
    assert json.loads(payload)["errorType"] == "ValueError"


def test_timeout_is_reported_as_lambda_does(function_dir: Path) -> None:
    runner = InProcessRunner({})
    runner.register(LocalFunction("fn", "Fn", function_dir))
    payload, errored, _ = runner.invoke(_fn("fn", timeout=0, TABLE="t"), {"sleep": 0.01})
    assert errored and json.loads(payload)["errorType"] == "Sandbox.Timedout"


def test_a_slow_cold_import_does_not_count_against_the_timeout(tmp_path: Path) -> None:
    """Lambda's init phase is outside the function's timeout; only the handler's time counts."""
    (tmp_path / "app.py").write_text(
        "import time\ntime.sleep(0.3)\ndef handler(event, context):\n    return 'ok'\n"
    )
    runner = InProcessRunner({})
    runner.register(LocalFunction("fn", "Fn", tmp_path))
    fn = SimpleNamespace(**{**vars(_fn("fn")), "timeout": 0.2})
    payload, errored, _ = runner.invoke(fn, {})
    assert (json.loads(payload), errored) == ("ok", False)
    assert runner.calls("fn")[0].duration_ms < 200


def test_missing_handler_or_source_is_an_error(function_dir: Path) -> None:
    runner = InProcessRunner({})
    runner.register(LocalFunction("fn", "Fn", function_dir))
    payload, errored, _ = runner.invoke(_fn("fn", handler="app.nope"), {})
    assert errored and "Handler 'app.nope' missing" in json.loads(payload)["errorMessage"]
    payload, errored, _ = runner.invoke(_fn("unknown"), {})
    assert errored and "has no local source" in json.loads(payload)["errorMessage"]


IDS = {"a", "b", "c"}


@pytest.mark.parametrize(
    ("payload", "failed"),
    [
        (b'{"batchItemFailures": []}', set()),
        (b'{"batchItemFailures": [{"itemIdentifier": "b"}]}', {"b"}),
        (b"null", set()),
        (b"{}", set()),
        (b'{"batchItemFailures": [{"itemIdentifier": "zzz"}]}', IDS),  # unknown id: all fail
        (b'{"batchItemFailures": [{"itemIdentifier": ""}]}', IDS),
        (b'{"batchItemFailures": "b"}', IDS),
        (b"not json", IDS),
    ],
)
def test_partial_batch_response_rules(payload: bytes, failed: set[str]) -> None:
    assert _reported_failures(payload, IDS) == failed


def test_async_invocation_retries_then_dead_letters(function_dir: Path) -> None:
    runner = InProcessRunner({})
    runner.register(LocalFunction("fn", "Fn", function_dir, dead_letter_arn="arn:aws:sqs:r:1:dlq"))
    sent: list[tuple[str, str, dict[str, str]]] = []
    runner.dead_letter_sender = lambda arn, body, attrs: sent.append((arn, body, attrs))
    runner.invoke_async(_fn("fn", TABLE="t"), json.dumps({"boom": True}))
    assert len(runner.calls("fn")) == 3  # the first attempt and Lambda's two retries
    ((arn, body, attrs),) = sent
    assert arn == "arn:aws:sqs:r:1:dlq" and json.loads(body) == {"boom": True}
    assert attrs["ErrorMessage"] == "bad event"
    runner.invoke_async(_fn("fn", TABLE="t"), json.dumps({"n": 1}))
    assert len(sent) == 1 and len(runner.calls("fn")) == 4


def test_async_invocation_that_fails_every_attempt_sends_lambdas_record_on_failure(
    function_dir: Path,
) -> None:
    # An on-failure destination (EventInvokeConfig) gets the event with the error, not the
    # event alone as a dead-letter queue does.
    runner = InProcessRunner({})
    runner.register(
        LocalFunction("fn", "Fn", function_dir, on_failure_arn="arn:aws:sqs:r:1:failures")
    )
    sent: list[tuple[str, str, dict[str, str]]] = []
    runner.dead_letter_sender = lambda arn, body, attrs: sent.append((arn, body, attrs))
    runner.invoke_async(_fn("fn", TABLE="t"), json.dumps({"boom": True}))
    ((arn, body, attrs),) = sent
    record = json.loads(body)
    assert arn == "arn:aws:sqs:r:1:failures" and attrs == {}
    assert record["requestContext"]["condition"] == "RetriesExhausted"
    assert record["requestContext"]["approximateInvokeCount"] == 3
    assert record["requestContext"]["requestId"] == runner.calls("fn")[-1].request_id
    assert record["requestPayload"] == {"boom": True}
    assert record["responseContext"]["functionError"] == "Unhandled"
    assert record["responsePayload"]["errorMessage"] == "bad event"
    assert record["responsePayload"]["errorType"]


def test_other_functions_take_turns(tmp_path: Path) -> None:
    # Two functions that do not call the local API never run at once (shared process state)
    (tmp_path / "app.py").write_text(
        "import time\n"
        "def handler(event, context):\n"
        "    started = time.monotonic()\n"
        "    time.sleep(0.2)\n"
        "    return [started, time.monotonic()]\n"
    )
    runner = InProcessRunner({})
    for name in ("one", "two"):
        runner.register(LocalFunction(name, name.title(), tmp_path))
    spans: list[list[float]] = []

    def call(name: str) -> None:
        payload, errored, _ = runner.invoke(_fn(name), {})
        assert not errored
        spans.append(json.loads(payload))

    threads = [threading.Thread(target=call, args=(name,)) for name in ("one", "two")]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(10)
    first, second = sorted(spans)
    assert second[0] >= first[1]
