"""Latency of the Open311 API function, in-process: handler alone, Lambda invoke, and HTTP.

One ``LocalCloud`` (moto in-process, the local API server on a free port of 127.0.0.1) serves
three ways of reaching the same handler with the same API Gateway proxy events (built by the
local API server's own ``proxy_event``):

- **handler alone**: ``module.handler(event, context)`` on the module the runner loaded, inside
  the runner's own per-invocation environment; what the function itself costs;
- **Lambda invoke**: ``lambda.invoke`` through boto3 into moto, which calls the runner
  (serialisation, moto's bookkeeping, the runner's environment swap and log capture);
- **HTTP**: ``urllib`` to the local API server, which builds the event and invokes as above
  (a new TCP connection per request, as simple clients do).

Requests: ``POST /open311/v2/requests.json`` (a valid form with an API key issued by the local
cloud: key lookup in DynamoDB, validation, one SQS message) and ``GET
/open311/v2/requests/{id}.json`` of a complaint that went through the whole intake chain once.
The SQS pollers are stopped after that one complaint, so that the rest of the chain does not
compete for the runner's lock: these are the API function's figures, not the chain's. Every 10
requests the intake queue is drained, untimed: moto's SendMessage computes the queue's attributes
over every message in it (O(queue length)), so a backlog would slow the POSTs down by itself.
"""

from __future__ import annotations

import contextlib
import io
import json
import logging
import tempfile
import time
import urllib.error
import urllib.request
import uuid
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

from benchmarks import ACCOUNT_ID, REGION, ROOT, Options, median, ms, percentile, table

FUNCTION = "ApiFunction"
POST_RESOURCE = "/open311/v2/requests.json"
GET_RESOURCE = "/open311/v2/requests/{request_file}"
FORM = {
    "jurisdiction_id": "suwon.gg.kr",
    "service_code": "road-damage",
    "lat": "37.2636",
    "long": "127.0286",
    "description": "팔달문 앞 포트홀 / pothole by Paldalmun (benchmark)",
    "email": "citizen@example.kr",
    "first_name": "Minji",
    "last_name": "Kim",
    "phone": "010-1234-5678",
    "attribute[pothole_size]": "large",
}
_NO_PROXY = urllib.request.build_opener(urllib.request.ProxyHandler({}))


@dataclass
class Series:
    """The latencies of one scenario."""

    name: str
    samples: list[float] = field(default_factory=list)
    statuses: Counter[int] = field(default_factory=Counter)
    expected: int = 200
    stopped_early: bool = False

    def row(self) -> list[object]:
        s = self.samples
        unexpected = sum(n for code, n in self.statuses.items() if code != self.expected)
        return [
            self.name,
            len(s) if not self.stopped_early else f"{len(s)} (time limit)",
            ms(percentile(s, 50)),
            ms(percentile(s, 90)),
            ms(percentile(s, 99)),
            ms(max(s) if s else float("nan")),
            ", ".join(f"{code} x{n}" for code, n in sorted(self.statuses.items()))
            + (f" (**{unexpected} unexpected**)" if unexpected else ""),
        ]


DRAIN_EVERY = 10


def _loop(
    series: Series,
    call: Callable[[], tuple[float, int]],
    options: Options,
    tidy: Callable[[], None],
) -> Series:
    """Warm up, then measure, within ``options.time_limit`` seconds whatever happens; ``tidy``
    runs untimed every ``DRAIN_EVERY`` requests."""
    deadline = time.monotonic() + options.time_limit
    for i in range(options.warmup):
        if time.monotonic() > deadline:
            break
        call()
        if i % DRAIN_EVERY == DRAIN_EVERY - 1:
            tidy()
    tidy()
    for i in range(options.requests):
        if time.monotonic() > deadline:
            series.stopped_early = True
            break
        seconds, status = call()
        series.samples.append(seconds)
        series.statuses[status] += 1
        if i % DRAIN_EVERY == DRAIN_EVERY - 1:
            tidy()
    tidy()
    return series


@contextlib.contextmanager
def _quiet() -> Iterator[None]:
    """Keep the local cloud's INFO lines (one per request) out of the report."""
    root = logging.getLogger()
    level = root.level
    root.setLevel(logging.WARNING)
    try:
        yield
    finally:
        root.setLevel(level)


class Bench:
    """The three ways to the API handler, over one started local cloud."""

    def __init__(self, cloud: Any) -> None:
        from moto.awslambda.models import lambda_backends

        from localcloud.api_server import proxy_event

        self.cloud = cloud
        self.proxy_event = proxy_event
        self.function_name = cloud.physical_id(FUNCTION)
        self.routes = {(r.method, r.resource): r for r in cloud.api.routes}
        self.stage = cloud.api.stage
        self.url = cloud.api.url
        self.host = self.url.split("//", 1)[1]
        self.api_key = cloud.issue_api_key("benchmarks")
        self.lambda_client = cloud.client("lambda")
        self.moto_function = lambda_backends[ACCOUNT_ID][REGION].get_function(self.function_name)
        self.request_id = ""

    # -- requests
    def post_body(self) -> bytes:
        return urlencode({**FORM, "api_key": self.api_key}).encode()

    def event(self, method: str) -> dict[str, Any]:
        headers = {"Host": self.host, "User-Agent": "gyeonggi-benchmarks", "Accept": "*/*"}
        if method == "POST":
            body = self.post_body()
            headers["Content-Type"] = "application/x-www-form-urlencoded"
            headers["Content-Length"] = str(len(body))
            route = self.routes[("POST", POST_RESOURCE)]
            return self.proxy_event(
                route, self.stage, "POST", POST_RESOURCE, headers, body, {}, "127.0.0.1"
            )
        route = self.routes[("GET", GET_RESOURCE)]
        file = f"{self.request_id}.json"
        path = GET_RESOURCE.replace("{request_file}", file)
        return self.proxy_event(
            route, self.stage, "GET", path, headers, b"", {"request_file": file}, "127.0.0.1"
        )

    # -- the three ways
    def invoke(self, method: str) -> tuple[float, int, dict[str, Any]]:
        payload = json.dumps(self.event(method)).encode()
        started = time.perf_counter()
        response = self.lambda_client.invoke(FunctionName=self.function_name, Payload=payload)
        answer = json.loads(response["Payload"].read() or b"null")
        elapsed = time.perf_counter() - started
        status = 599 if response.get("FunctionError") else int(answer.get("statusCode", 0))
        return elapsed, status, answer

    @contextlib.contextmanager
    def handler_alone(self) -> Iterator[Callable[[str], tuple[float, int]]]:
        """Calls of the loaded module's handler inside the runner's environment for it."""
        from localcloud.runner import LambdaContext

        runner = self.cloud.runner
        local = runner.functions[self.function_name]
        module = runner._modules[self.function_name]
        timeout = float(self.moto_function.timeout or 3)

        def call(method: str) -> tuple[float, int]:
            event = self.event(method)
            deadline = time.monotonic() + timeout
            context = LambdaContext(self.moto_function, str(uuid.uuid4()), deadline)
            with contextlib.redirect_stdout(io.StringIO()):
                started = time.perf_counter()
                answer = module.handler(event, context)
                elapsed = time.perf_counter() - started
            return elapsed, int(answer.get("statusCode", 0))

        with runner.lock(local), runner._environment(self.moto_function, local):
            yield call

    def http(self, method: str) -> tuple[float, int]:
        if method == "POST":
            request = urllib.request.Request(
                self.url + POST_RESOURCE,
                data=self.post_body(),
                headers={"Content-Type": "application/x-www-form-urlencoded"},
                method="POST",
            )
        else:
            request = urllib.request.Request(
                f"{self.url}/open311/v2/requests/{self.request_id}.json", method="GET"
            )
        started = time.perf_counter()
        try:
            with _NO_PROXY.open(request, timeout=10) as response:
                response.read()
                status = int(response.status)
        except urllib.error.HTTPError as exc:
            exc.read()
            status = int(exc.code)
        return time.perf_counter() - started, status

    def drain(self) -> None:
        """Receive and delete what the POSTs queued (untimed): moto's SendMessage computes the
        queue's attributes over every message, so a growing queue would slow the POSTs down."""
        sqs = self.cloud.client("sqs")
        url = self.cloud.physical_id("IntakeQueue")
        for _ in range(1000):
            messages = sqs.receive_message(
                QueueUrl=url, MaxNumberOfMessages=10, WaitTimeSeconds=0
            ).get("Messages", [])
            if not messages:
                return
            sqs.delete_message_batch(
                QueueUrl=url,
                Entries=[
                    {"Id": str(i), "ReceiptHandle": m["ReceiptHandle"]}
                    for i, m in enumerate(messages)
                ],
            )


def _scenarios(bench: Bench, method: str, expected: int, options: Options) -> list[Series]:
    """The three ways to the handler for one method (and, for POST, a growing backlog)."""
    out = []
    with bench.handler_alone() as call:

        def alone() -> tuple[float, int]:
            return call(method)

        out.append(
            _loop(
                Series(f"{method}: handler alone", expected=expected), alone, options, bench.drain
            )
        )

    def via_invoke() -> tuple[float, int]:
        seconds, status, _ = bench.invoke(method)
        return seconds, status

    out.append(
        _loop(
            Series(f"{method}: Lambda invoke (moto)", expected=expected),
            via_invoke,
            options,
            bench.drain,
        )
    )

    def via_http() -> tuple[float, int]:
        return bench.http(method)

    out.append(
        _loop(
            Series(f"{method}: HTTP via local API server", expected=expected),
            via_http,
            options,
            bench.drain,
        )
    )
    if method == "POST":
        # The same as the first row but with a growing backlog, as when the consumer is down.
        with bench.handler_alone() as call:

            def backlog() -> tuple[float, int]:
                return call(method)

            out.append(
                _loop(
                    Series("POST: handler alone, queue never drained", expected=expected),
                    backlog,
                    options,
                    lambda: None,
                )
            )
        bench.drain()
    return out


def _stored(cloud: Any, request_id: str) -> bool:
    item = cloud.client("dynamodb").get_item(
        TableName=cloud.physical_id("ComplaintsTable"),
        Key={"service_request_id": {"S": request_id}},
    )
    return "Item" in item


def run(options: Options) -> str:
    """Run the API latency benchmark; returns its Markdown section."""
    from localcloud.cloud import LocalCloud

    notes: list[str] = []
    results: list[Series] = []
    with tempfile.TemporaryDirectory(prefix="bench-api-") as tmp, _quiet():
        cloud = LocalCloud(ROOT, state_dir=Path(tmp), api_port=0)
        cloud.start()
        try:
            bench = Bench(cloud)
            # The first invoke loads the module: the function's cold start in the local cloud.
            cold_s, status, answer = bench.invoke("POST")
            if status != 201:
                raise RuntimeError(f"the first POST answered {status}: {answer}")
            bench.request_id = json.loads(answer["body"])[0]["service_request_id"]
            try:
                cloud.wait_for(
                    lambda: _stored(cloud, bench.request_id),
                    timeout=min(30.0, options.time_limit),
                    what="the first complaint to be stored",
                )
            except TimeoutError as exc:
                # Still 200: the receipt answers (a missed read of the complaint, then the receipt).
                notes.append(f"- {exc}: GET answers from the complaint's receipt (two reads).")
            get_expected = 200
            for poller in cloud.pollers:
                poller.stop()
            cloud.pollers = []

            for method, expected in (("POST", 201), ("GET", get_expected)):
                results += _scenarios(bench, method, expected, options)
        finally:
            cloud.stop()

    by_name = {s.name: s for s in results}
    ratio_rows = []
    for method in ("POST", "GET"):
        alone = median(by_name[f"{method}: handler alone"].samples)
        for way in ("Lambda invoke (moto)", "HTTP via local API server"):
            other = by_name[f"{method}: {way}"].samples
            ratio_rows.append(
                [
                    f"{method}: {way} / handler alone",
                    f"{median(other) / alone:.1f}x" if alone else "n/a",
                    ms(median(other) - alone),
                ]
            )
    out = [
        "## Open311 API latency, in-process (handler alone, Lambda invoke, HTTP)",
        "",
        f"{options.requests} measured requests per scenario after {options.warmup} warm-up "
        f"ones, each scenario stopped after {options.time_limit:.0f} s whatever happens; "
        "sequential (one request at a time). The first invoke of the function, which loads "
        f"its module in the local cloud, took {ms(cold_s)} (boto3, Powertools and pydantic "
        "were already imported by the local cloud: not a real cold start, see cold_import).",
        "",
        table(
            ["scenario", "requests", "p50", "p90", "p99", "max", "statuses"],
            [s.row() for s in results],
            right=range(1, 6),
        ),
        "",
        "What each layer adds (medians):",
        "",
        table(["ratio", "median ratio", "added per request"], ratio_rows, right=(1, 2)),
        *(["", *notes] if notes else []),
    ]
    return "\n".join(out)
