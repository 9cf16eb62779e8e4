"""Runs Lambda handlers in this process, in place of moto's Docker-based invoke.

moto calls ``LambdaFunction._invoke_lambda(self, event)`` for direct invokes, SNS deliveries,
S3 notifications and Step Functions tasks; we replace it so the real handler code runs here,
with the function's own environment, handler string and timeout as deployed.

Invocations are serialised by one lock: functions share this process, and libraries keep
process-wide state that separate Lambda containers never share (boto3's default session,
Powertools' logger and metric registries). A function that calls the stack's own API and waits
for the answer (the wallet verifier fetching its issuer's keys and status lists) would wait for
ever behind that lock, so such a function (``LocalFunction.calls_local_api``) runs outside it,
one invocation at a time, while the others keep theirs. Each invocation sees its function's
environment in ``os.environ`` through a per-thread view (:class:`_ThreadEnviron`), so a function
running beside another never reads the other's variables.
"""

from __future__ import annotations

import contextlib
import importlib.util
import io
import json
import logging
import os
import sys
import threading
import time
import traceback
import uuid
from collections.abc import Iterator, Mapping, MutableMapping
from dataclasses import dataclass, field
from pathlib import Path
from types import ModuleType
from typing import Any

log = logging.getLogger("localcloud.runner")


class _ThreadEnviron(MutableMapping[str, str]):
    """``os.environ`` that shows a thread in an invocation its function's variables.

    Lambda gives each container an environment of its own; here every function shares one
    process. Swapping ``os.environ``'s contents for an invocation would show one function's
    variables to every other thread, so only one function could run at a time. This view is
    installed once in front of the process's environment: a thread in an invocation reads and
    writes its function's variables first and the process's after; every other thread (pollers,
    the HTTP server, the Step Functions interpreter) sees the process's environment unchanged.
    ``os.getenv`` reads through it too; a subprocess inherits the process's environment only.
    """

    def __init__(self, process: MutableMapping[str, str]) -> None:
        self.process = process
        self.local = threading.local()

    @classmethod
    def install(cls) -> _ThreadEnviron:
        current = os.environ
        if isinstance(current, cls):
            return current
        os.environ = view = cls(current)  # type: ignore[assignment]
        return view

    def _own(self) -> dict[str, str] | None:
        own: dict[str, str] | None = getattr(self.local, "env", None)
        return own

    def __getitem__(self, key: str) -> str:
        own = self._own()
        if own is not None and key in own:
            return own[key]
        return self.process[key]

    def __setitem__(self, key: str, value: str) -> None:
        own = self._own()
        if own is not None:
            own[key] = value
        else:
            self.process[key] = value

    def __delitem__(self, key: str) -> None:
        own = self._own()
        if own is not None and key in own:
            del own[key]
        else:
            del self.process[key]

    def __iter__(self) -> Iterator[str]:
        own = self._own() or {}
        yield from own
        yield from (key for key in list(self.process) if key not in own)

    def __len__(self) -> int:
        own = self._own() or {}
        return len(own) + sum(1 for key in list(self.process) if key not in own)

    def copy(self) -> dict[str, str]:
        """As ``os.environ.copy()``: a plain dict of what this thread sees."""
        return dict(self.items())


@dataclass
class LocalFunction:
    """Where a deployed function's code lives on this machine."""

    name: str
    logical_id: str
    source_dir: Path
    extra_environment: dict[str, str] = field(default_factory=dict)
    #: Where asynchronous invocations that failed every attempt go (``DeadLetterConfig``): the
    #: event, with the error in message attributes.
    dead_letter_arn: str | None = None
    #: The on-failure destination of asynchronous invocations (``EventInvokeConfig``): an
    #: invocation record with the event and the error in its body.
    on_failure_arn: str | None = None
    #: Lambda retries a failed asynchronous invocation twice by default.
    async_retries: int = 2
    #: The function calls the stack's own API and waits for it: it runs outside the lock that
    #: serialises the other invocations (the module's docstring says why).
    calls_local_api: bool = False


class _ThreadStdout(io.TextIOBase):
    """``sys.stdout`` that sends an invoking thread's writes to its invocation's buffer.

    Swapping ``sys.stdout`` itself for an invocation (``redirect_stdout``) is process-wide:
    whatever another thread printed meanwhile (``local up``'s banner, a poller, the HTTP server)
    would land in that function's log, and the function's lines in a terminal. This router is
    installed once in front of the stream of the moment; threads not in an invocation write
    through to it.
    """

    def __init__(self, fallback: Any) -> None:
        self.fallback = fallback
        self.local = threading.local()

    @classmethod
    def install(cls) -> _ThreadStdout:
        current = sys.stdout
        if isinstance(current, cls):
            return current
        # Another owner of sys.stdout (pytest's capture) may have replaced an earlier router.
        sys.stdout = router = cls(current)
        return router

    def _target(self) -> Any:
        return getattr(self.local, "buffer", None) or self.fallback

    def write(self, text: str) -> int:
        return int(self._target().write(text))

    def flush(self) -> None:
        self._target().flush()

    def isatty(self) -> bool:
        return bool(getattr(self.fallback, "isatty", lambda: False)())

    @property
    def encoding(self) -> str:  # type: ignore[override]
        return str(getattr(self.fallback, "encoding", "utf-8"))


@dataclass
class Invocation:
    """What one invocation did, for tests and the demo's report."""

    function: str
    request_id: str
    duration_ms: float  # the handler's time, as Lambda's Duration: the cold import excluded
    cold_start: bool
    errored: bool
    event: Any
    result: Any


class LambdaContext:
    """The parts of the Lambda context object that handlers and Powertools read."""

    def __init__(self, fn: Any, request_id: str, deadline: float) -> None:
        self.function_name = fn.function_name
        self.function_version = "$LATEST"
        self.invoked_function_arn = fn.function_arn
        self.memory_limit_in_mb = int(fn.memory_size or 128)
        self.aws_request_id = request_id
        self.log_group_name = f"/aws/lambda/{fn.function_name}"
        self.log_stream_name = f"{time.strftime('%Y/%m/%d')}/[$LATEST]{uuid.uuid4().hex}"
        self.identity = None
        self.client_context = None
        self._deadline = deadline

    def get_remaining_time_in_millis(self) -> int:
        return max(0, int((self._deadline - time.monotonic()) * 1000))


def _failure_record(
    fn: Any, request_id: str, attempts: int, event: str, error: dict[str, Any]
) -> dict[str, Any]:
    """Lambda's invocation record for an asynchronous invocation that failed every attempt
    (the Lambda developer guide, "Capturing records of Lambda asynchronous invocations")."""
    try:
        request_payload: Any = json.loads(event)
    except ValueError:
        request_payload = event
    return {
        "version": "1.0",
        "timestamp": time.strftime("%Y-%m-%dT%H:%M:%S.000Z", time.gmtime()),
        "requestContext": {
            "requestId": request_id,
            "functionArn": f"{fn.function_arn}:$LATEST",
            "condition": "RetriesExhausted",
            "approximateInvokeCount": attempts,
        },
        "requestPayload": request_payload,
        "responseContext": {
            "statusCode": 200,
            "executedVersion": "$LATEST",
            "functionError": "Unhandled",
        },
        "responsePayload": error,
    }


class InProcessRunner:
    """Loads each function's module once (its cold start) and calls its handler."""

    def __init__(self, base_environment: Mapping[str, str], log_dir: Path | None = None) -> None:
        self.base_environment = dict(base_environment)
        self.functions: dict[str, LocalFunction] = {}
        self.invocations: list[Invocation] = []
        self.log_dir = log_dir
        self._modules: dict[str, ModuleType] = {}
        #: Held by every invocation but those of functions that call the local API; reentrant,
        #: so a function that invokes another in its own thread goes on.
        self._lock = threading.RLock()
        #: One invocation of a function at a time, as one container takes one event at a time.
        self._function_locks: dict[str, threading.RLock] = {}
        #: Loading a module changes sys.path and sys.modules: one load at a time.
        self._load_lock = threading.RLock()
        self._original: Any = None
        self._original_invoke: Any = None
        #: Sends ``(target_arn, body, attributes)`` to a queue (a dead-letter queue, an
        #: on-failure destination); set by the cloud.
        self.dead_letter_sender: Any = None

    # -- wiring into moto
    def register(self, fn: LocalFunction) -> None:
        self.functions[fn.name] = fn
        self._modules.pop(fn.name, None)  # a redeploy is a new cold start

    def install(self) -> None:
        """Patch moto so every Lambda invocation comes here."""
        from moto.awslambda.models import LambdaFunction

        runner = self
        if self._original is None:
            self._original = LambdaFunction._invoke_lambda

        def _invoke_lambda(fn: Any, event: Any = None) -> tuple[str, bool, str]:
            return runner.invoke(fn, event)

        LambdaFunction._invoke_lambda = _invoke_lambda  # type: ignore[method-assign,assignment]

        if self._original_invoke is None:
            self._original_invoke = LambdaFunction.invoke
        original_invoke = self._original_invoke

        def invoke(fn: Any, body: Any, request_headers: Any, response_headers: Any) -> Any:
            headers = {str(k).lower(): v for k, v in dict(request_headers or {}).items()}
            # S3 notifications, SNS subscriptions and EventBridge targets reach moto's invoke
            # with no headers at all; in AWS they are asynchronous invocations, as is an API
            # call that asks for InvocationType=Event.
            if not headers or headers.get("x-amz-invocation-type") == "Event":
                runner.invoke_async(fn, body)
                return b""
            return original_invoke(fn, body, request_headers, response_headers)

        LambdaFunction.invoke = invoke  # type: ignore[method-assign,assignment]

    def uninstall(self) -> None:
        if self._original is not None:
            from moto.awslambda.models import LambdaFunction

            LambdaFunction._invoke_lambda = self._original  # type: ignore[method-assign]
            LambdaFunction.invoke = self._original_invoke  # type: ignore[method-assign]
            self._original = self._original_invoke = None

    # -- invocation
    def invoke(self, fn: Any, event: Any) -> tuple[str, bool, str]:
        """moto's contract: ``(payload, errored, logs)``."""
        local = self.functions.get(fn.function_name)
        if local is None:
            payload = {
                "errorMessage": f"{fn.function_name} has no local source",
                "errorType": "ResourceNotFound",
            }
            return json.dumps(payload), True, ""
        if isinstance(event, str | bytes):
            event = json.loads(event or "{}")
        request_id = str(uuid.uuid4())
        timeout = float(fn.timeout if fn.timeout is not None else 3)
        with self.lock(local), self._environment(fn, local), self._capture() as out:
            cold = fn.function_name not in self._modules
            start = time.monotonic()
            try:
                handler = self._handler(fn, local)
                # As in Lambda, the init phase (the cold import) does not count against the
                # function's timeout: the clock starts when the handler is called.
                start = time.monotonic()
                context = LambdaContext(fn, request_id, start + timeout)
                result = handler(event, context)
                errored = False
            except Exception as exc:  # a handler error is the function's answer, not ours
                result = {
                    "errorMessage": str(exc),
                    "errorType": type(exc).__name__,
                    "stackTrace": traceback.format_exception(exc)[-5:],
                }
                errored = True
            elapsed = time.monotonic() - start
            if elapsed > timeout and not errored:
                # AWS would have stopped the function; report it as Lambda does.
                result = {
                    "errorMessage": f"Task timed out after {timeout:.2f} seconds",
                    "errorType": "Sandbox.Timedout",
                }
                errored = True
        logs = out.getvalue()
        self._write_log(fn.function_name, logs)
        self.invocations.append(
            Invocation(fn.function_name, request_id, elapsed * 1000, cold, errored, event, result)
        )
        return json.dumps(result, default=str), errored, logs

    def invoke_async(self, fn: Any, body: Any) -> None:
        """An ``Event`` invocation: the caller is answered at once (202) and never sees the
        function's error; Lambda retries, then sends the event to the dead-letter queue and an
        invocation record to the on-failure destination (whichever are configured)."""
        local = self.functions.get(fn.function_name)
        attempts = 1 + (local.async_retries if local else 0)
        for _ in range(attempts):
            payload, errored, _logs = self.invoke(fn, body)
            if not errored:
                return
        log.warning("%s failed %d asynchronous attempts", fn.function_name, attempts)
        if local is None or self.dead_letter_sender is None:
            return
        error = json.loads(payload)
        event = body if isinstance(body, str) else json.dumps(body)
        request_id = self.invocations[-1].request_id
        if local.dead_letter_arn:
            self.dead_letter_sender(
                local.dead_letter_arn,
                event,
                {
                    "RequestID": request_id,
                    "ErrorCode": "200",
                    "ErrorMessage": str(error.get("errorMessage", ""))[:1000],
                },
            )
        if local.on_failure_arn:
            record = _failure_record(fn, request_id, attempts, event, error)
            self.dead_letter_sender(local.on_failure_arn, json.dumps(record, default=str), {})

    @contextlib.contextmanager
    def lock(self, local: LocalFunction) -> Iterator[None]:
        """What an invocation of ``local`` holds while it runs (the module's docstring)."""
        with self._load_lock:
            own = self._function_locks.setdefault(local.name, threading.RLock())
        if local.calls_local_api:
            with own:
                yield
        else:
            with self._lock, own:
                yield

    def _handler(self, fn: Any, local: LocalFunction) -> Any:
        module_path, _, attribute = fn.handler.rpartition(".")
        module = self._modules.get(fn.function_name)
        if module is None:
            with self._load_lock:
                module = self._load(local, module_path)
            self._modules[fn.function_name] = module
        try:
            return getattr(module, attribute)
        except AttributeError:
            raise RuntimeError(
                f"Handler {fn.handler!r} missing on module {module_path!r}"
            ) from None

    def _load(self, local: LocalFunction, module_path: str) -> ModuleType:
        path = local.source_dir / (module_path.replace(".", "/") + ".py")
        if not path.is_file():
            raise RuntimeError(f"Unable to import module {module_path!r}: no {path}")
        # A unique module name per function: every function's module is called ``app``.
        name = f"_lambda_{local.logical_id}_{module_path.replace('.', '_')}"
        spec = importlib.util.spec_from_file_location(name, path)
        assert spec and spec.loader
        module = importlib.util.module_from_spec(spec)
        # A package beside the handler (the API's ``chalicelib``) is imported by its plain
        # name; one left by an earlier cloud in this process would be reused with its state
        # (Chalice blueprints already registered, settings cached), so it is loaded afresh.
        prefix = os.path.join(str(local.source_dir), "")
        for loaded, mod in list(sys.modules.items()):
            if (getattr(mod, "__file__", None) or "").startswith(prefix):
                del sys.modules[loaded]
        sys.path.insert(0, str(local.source_dir))
        try:
            spec.loader.exec_module(module)
        finally:
            sys.path.remove(str(local.source_dir))
        return module

    @contextlib.contextmanager
    def _environment(self, fn: Any, local: LocalFunction) -> Iterator[None]:
        env = dict(self.base_environment)
        env.update({str(k): str(v) for k, v in (fn.environment_vars or {}).items()})
        env.update(local.extra_environment)
        env.update(
            {
                "AWS_LAMBDA_FUNCTION_NAME": fn.function_name,
                "AWS_LAMBDA_FUNCTION_MEMORY_SIZE": str(fn.memory_size),
                "AWS_LAMBDA_FUNCTION_VERSION": "$LATEST",
                "_HANDLER": fn.handler,
                "LAMBDA_TASK_ROOT": str(local.source_dir),
            }
        )
        view = _ThreadEnviron.install()
        # A function invoking another in the same thread gets its own variables, then its own back.
        outer = getattr(view.local, "env", None)
        view.local.env = env
        try:
            yield
        finally:
            view.local.env = outer

    @contextlib.contextmanager
    def _capture(self) -> Iterator[io.StringIO]:
        buffer = io.StringIO()
        router = _ThreadStdout.install()
        # A function invoking another in the same thread gets its own buffer, then its own back.
        outer = getattr(router.local, "buffer", None)
        router.local.buffer = buffer
        try:
            yield buffer
        finally:
            router.local.buffer = outer

    def _write_log(self, function_name: str, text: str) -> None:
        if self.log_dir is None or not text:
            return
        self.log_dir.mkdir(parents=True, exist_ok=True)
        with (self.log_dir / f"{function_name}.log").open("a", encoding="utf-8") as fh:
            fh.write(text if text.endswith("\n") else text + "\n")

    def calls(self, function_name: str) -> list[Invocation]:
        """Every invocation of one function so far."""
        return [i for i in self.invocations if i.function == function_name]
