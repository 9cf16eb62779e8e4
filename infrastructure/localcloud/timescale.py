"""Shorter waits for local runs, without touching the state machine definitions.

moto executes ASL for real, so a ``Wait`` of 300 s or a ``Retry`` with ``IntervalSeconds: 2``
really sleeps. ``scale_time(0.01)`` makes the interpreter sleep 1 % of that, and lets a
``.waitForTaskToken`` task time out in 1 % of its ``TimeoutSeconds``; the definitions, the
execution history and every other behaviour stay as they are.

A plain task's ``TimeoutSeconds`` is not scaled: it guards against a hung call, and 1 % of a
30 s guard (0.3 s) timed out ordinary Lambda steps on a busy machine.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from typing import Any

_patched: list[tuple[Any, str, Any]] = []
_factor = 1.0
# Set while the current thread evaluates a ``.waitForTaskToken`` task's timeout.
_callback_wait = threading.local()


def factor() -> float:
    """The factor in force (1.0: real time)."""
    return _factor


class _ScaledTime:
    """Stands in for the ``time`` module inside the retrier: only ``sleep`` is scaled."""

    def __getattr__(self, name: str) -> Any:
        return getattr(time, name)

    @staticmethod
    def sleep(seconds: float) -> None:
        time.sleep(seconds * _factor)


def _patch(owner: Any, name: str, value: Any) -> None:
    _patched.append((owner, name, getattr(owner, name)))
    setattr(owner, name, value)


def scale_time(new_factor: float) -> None:
    """Scale the Step Functions interpreter's waits by ``new_factor`` (0 < factor <= 1)."""
    global _factor
    if not 0 < new_factor <= 1:
        raise ValueError("the time scale must be in (0, 1]")
    _factor = new_factor
    if _patched:
        return
    from moto.stepfunctions.parser.asl.component.common.retry import retrier_decl
    from moto.stepfunctions.parser.asl.component.state.exec import execute_state
    from moto.stepfunctions.parser.asl.component.state.wait.wait_function import wait_function

    _patch(retrier_decl, "time", _ScaledTime())

    original_wait: Callable[..., None] = wait_function.WaitFunction._wait_interval

    def _wait_interval(self: Any, env: Any, wait_seconds: int) -> None:
        original_wait(self, env, wait_seconds * _factor)

    _patch(wait_function.WaitFunction, "_wait_interval", _wait_interval)

    # A task's timeout is a wait on a threading.Event inside execute_state; scale it only for
    # a task-token wait (the acknowledgement windows), not for a plain task's guard.
    original_event = execute_state.threading.Event
    original_evaluate: Callable[..., None] = execute_state.ExecutionState._evaluate_with_timeout

    def _evaluate_with_timeout(self: Any, env: Any) -> None:
        resource = getattr(self, "resource", None)
        _callback_wait.active = getattr(resource, "condition", None) == "waitForTaskToken"
        try:
            original_evaluate(self, env)
        finally:
            _callback_wait.active = False

    _patch(execute_state.ExecutionState, "_evaluate_with_timeout", _evaluate_with_timeout)

    class _ScaledEvent(original_event):  # type: ignore[misc, valid-type]
        def wait(self, timeout: float | None = None) -> bool:
            if timeout is not None and getattr(_callback_wait, "active", False):
                timeout *= _factor
            return bool(super().wait(timeout))

    class _ThreadingShim:
        def __getattr__(self, name: str) -> Any:
            import threading

            return getattr(threading, name)

        Event = _ScaledEvent

    _patch(execute_state, "threading", _ThreadingShim())


def reset() -> None:
    """Back to real time."""
    global _factor
    while _patched:
        owner, name, value = _patched.pop()
        setattr(owner, name, value)
    _factor = 1.0
