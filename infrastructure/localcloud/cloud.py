"""The embedded local cloud: template.yaml deployed into moto, handlers run in this process.

``LocalCloud`` starts moto (in-process, or as a server on 127.0.0.1 for other programs), deploys
the stack from the template, patches Lambda invocation to run handlers here, polls SQS event
sources, and optionally serves the HTTP API and an MQTT broker bridged to the IoT topic rules.

    with LocalCloud(ROOT, api_port=8000) as cloud:
        cloud.client("sqs").send_message(...)
"""

from __future__ import annotations

import logging
import os
import shutil
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any, TypeVar

from localcloud import moto_fixes, timescale
from localcloud.deployer import ACCOUNT_ID, Deployer, Stack
from localcloud.event_sources import SqsMapping, SqsPoller
from localcloud.runner import InProcessRunner, LocalFunction
from localcloud.stream_sources import StreamMapping, StreamPoller

log = logging.getLogger("localcloud")
T = TypeVar("T")

REGION = "ap-northeast-2"
ISSUER_ENV = ("AUTH_ISSUER", "AUTH_JWKS_URL")
#: Variables that name this stack's own public URL (the wallet's Credential Issuer Identifier;
#: where wallets fetch the forms' presentation requests): in AWS a custom domain's or API
#: Gateway's, here the API server's, known once it listens.
API_URL_ENV = ("CREDENTIAL_ISSUER", "VERIFIER_BASE_URL")
#: Variables listing trusted credential issuers: left empty (the template's default), the local
#: cloud trusts its own issuer (the API server's URL), so the wallet works end to end here. A
#: function with one fetches from the stack's own API while it runs (issuer metadata, status
#: lists), so it runs outside the runner's lock (``LocalFunction.calls_local_api``).
OWN_ISSUER_TRUST_ENV = ("WALLET_TRUSTED_ISSUERS",)
#: Parameter values of the local cloud where it differs from AWS (applied only when the
#: template declares the parameter; the caller's values win): there is no SMS here, so the
#: wallet's tx_code comes back in the enrolment's answer.
LOCAL_PARAMETERS: dict[str, Any] = {"WalletTxCodeDelivery": "answer"}
#: The forecasting and notice functions read DynamoDB here: the volumes `local seed-volumes`
#: and the tests seed are counters, not lake tables (in AWS: the Data Dam, template.yaml).
AGGREGATE_SOURCES = {"COUNTS_SOURCE": "dynamodb", "NOTICES_SOURCE": "dynamodb"}

_AWS_ENV = {
    "AWS_ACCESS_KEY_ID": "testing",
    "AWS_SECRET_ACCESS_KEY": "testing",
    "AWS_SECURITY_TOKEN": "testing",
    "AWS_SESSION_TOKEN": "testing",
    "AWS_DEFAULT_REGION": REGION,
    "AWS_REGION": REGION,
    # X-Ray has no daemon here; Powertools' Tracer becomes a no-op.
    "POWERTOOLS_TRACE_DISABLED": "true",
}


def _import_step_functions_interpreter() -> None:
    """Import moto's ASL interpreter without moto's Batch backend.

    The interpreter imports ``moto.batch.utils`` for one enum, and ``moto.batch``'s package
    module drags in moto's whole EC2 backend: about 0.8 s of a 3 s start. A bare package
    module stands in while the interpreter loads; ``moto.batch.utils`` is the real file.
    """
    import importlib
    import sys
    import types

    if "moto.batch" in sys.modules:
        return
    import moto

    stub = types.ModuleType("moto.batch")
    stub.__path__ = [str(Path(moto.__file__).parent / "batch")]
    sys.modules["moto.batch"] = stub
    try:
        importlib.import_module(
            "moto.stepfunctions.parser.asl.component.state.exec.state_task.service."
            "state_task_service_batch"
        )
    finally:
        # The real package loads normally if anything asks for Batch later.
        if sys.modules.get("moto.batch") is stub:
            del sys.modules["moto.batch"]


def wait_for(
    probe: Callable[[], T | None],
    timeout: float = 10.0,
    interval: float = 0.05,
    what: str = "condition",
) -> T:
    """Poll ``probe`` until it returns something truthy, or raise ``TimeoutError``."""
    deadline = time.monotonic() + timeout
    while True:
        value = probe()
        if value:
            return value
        if time.monotonic() >= deadline:
            raise TimeoutError(f"{what} not reached within {timeout:.1f} s")
        time.sleep(interval)


class LocalCloud:
    """One deployment of the stack into the embedded cloud.

    Parameters
    ----------
    root
        The project checkout (where ``template.yaml`` is).
    state_dir
        Where keys, logs and state of this run go (default ``root/.local``).
    time_scale
        Factor for Step Functions waits, retries and SQS redelivery (1.0 is real time).
    server
        Serve the AWS APIs on ``127.0.0.1:moto_port`` for other processes (``aws --endpoint-url``);
        otherwise they are intercepted in-process, which is faster.
    api_port, mqtt_port
        Serve the HTTP API / run an MQTT broker bridged to the topic rules on these ports
        (0 picks a free port, ``None`` does not start them).
    """

    def __init__(
        self,
        root: Path,
        *,
        state_dir: Path | None = None,
        stack_name: str = "gyeonggi",
        parameters: dict[str, Any] | None = None,
        time_scale: float = 0.01,
        server: bool = False,
        moto_port: int = 0,
        api_port: int | None = None,
        mqtt_port: int | None = None,
    ) -> None:
        self.root = root.resolve()
        self.state_dir = (state_dir or self.root / ".local").resolve()
        self.stack_name = stack_name
        self.parameters = parameters or {}
        self.time_scale = time_scale
        self.server = server
        self.moto_port = moto_port
        self.api_port = api_port
        self.mqtt_port = mqtt_port
        self.endpoint_url: str | None = None
        self.stack: Stack
        self.runner: InProcessRunner
        self.pollers: list[SqsPoller | StreamPoller] = []
        self.api: Any = None
        self.broker: Any = None
        self.bridge: Any = None
        self.issuer: Any = None
        #: The verifier's development CA and certificate (``localcloud.wallet_verifier``).
        self.wallet_verifier: Any = None
        self.timings: dict[str, float] = {}
        #: moto's server the Data Dam's functions reach Glue and S3 through (pyarrow's S3
        #: client speaks HTTP only); the same backends as the in-process mock.
        self.datadam_endpoint: str | None = None
        self._saved_env: dict[str, str] = {}
        self._mock: Any = None
        self._moto_server: Any = None
        self._session: Any = None
        self._clients: dict[str, Any] = {}
        self._api_url_functions: list[tuple[LocalFunction, list[str]]] = []
        self._trusting_functions: list[tuple[str, list[str]]] = []

    # ------------------------------------------------------------------ life cycle
    def __enter__(self) -> LocalCloud:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def start(self) -> LocalCloud:
        """Bring everything up; raises (after cleaning up) if any part cannot start."""
        t0 = time.perf_counter()
        try:
            self._start_moto()
            moto_fixes.install()
            _import_step_functions_interpreter()
            self.timings["moto"] = time.perf_counter() - t0
            if self.time_scale < 1:
                timescale.scale_time(self.time_scale)
            self.runner = InProcessRunner(
                base_environment={k: os.environ[k] for k in _AWS_ENV},
                log_dir=self.state_dir / "logs",
            )
            self.runner.install()
            import boto3

            # One session for the deployer, the pollers and the handlers' boto3.client() calls:
            # each service model is then parsed once, not once per session.
            boto3.setup_default_session()
            self._session = boto3.DEFAULT_SESSION
            deployer = Deployer(
                self._session,
                stack_name=self.stack_name,
                root=self.root,
                region=REGION,
                endpoint_url=None,
                cache_dir=self.state_dir / "cache",
            )
            self.stack = deployer.deploy(
                self.root / "template.yaml", self.parameters, local_defaults=LOCAL_PARAMETERS
            )
            self.timings["deploy"] = self.stack.seconds
            self._start_issuer()
            self._certify_wallet_verifier()
            self._serve_datadam()
            self._register_functions()
            self._start_pollers()
            if self.mqtt_port is not None:
                self._start_mqtt()
            if self.api_port is not None:
                self._start_api()
        except BaseException:
            self.stop()
            raise
        self.timings["total"] = time.perf_counter() - t0
        return self

    def stop(self) -> None:
        """Stop every thread and server and restore the process as it was. Idempotent."""
        for poller in self.pollers:
            poller.signal_stop()  # all at once: each may be in a one-second long poll
        for poller in self.pollers:
            poller.stop()
        self.pollers = []
        for part in ("api", "bridge", "broker"):
            thing = getattr(self, part)
            if thing is not None:
                try:
                    thing.stop()
                except Exception:
                    log.exception("stopping the %s failed", part)
                setattr(self, part, None)
        if hasattr(self, "runner"):
            self.runner.uninstall()
        timescale.reset()
        moto_fixes.uninstall()
        if self._moto_server is not None:
            self._moto_server.stop()
            self._moto_server = None
        if self._mock is not None:
            self._mock.stop()
            self._mock = None
        for key in [*_AWS_ENV, "AWS_ENDPOINT_URL", "MOTO_PORT"]:
            if key in self._saved_env:
                os.environ[key] = self._saved_env[key]
            else:
                os.environ.pop(key, None)
        self._saved_env = {}
        self._clients = {}

    # ------------------------------------------------------------------ helpers for users
    def client(self, service: str) -> Any:
        """A boto3 client of the local cloud."""
        if service not in self._clients:
            self._clients[service] = self._session.client(service, region_name=REGION)
        return self._clients[service]

    def physical_id(self, logical_id: str) -> str:
        return self.stack.physical_id(logical_id)

    def attribute(self, logical_id: str, name: str) -> Any:
        return self.stack.attribute(logical_id, name)

    def invoke(self, logical_id: str, event: Any) -> tuple[Any, bool]:
        """Invoke a function by logical id; returns ``(payload, errored)``."""
        import json

        response = self.client("lambda").invoke(
            FunctionName=self.physical_id(logical_id), Payload=json.dumps(event).encode()
        )
        return json.loads(response["Payload"].read() or b"null"), "FunctionError" in response

    def set_function_environment(self, logical_id: str, **variables: str) -> dict[str, str]:
        """Change some of a deployed function's variables, as ``update-function-configuration``
        does, and make its next invocation a cold start (its settings are read then).

        Returns the variables as they were, to restore them with the same call.
        """
        client = self.client("lambda")
        name = self.physical_id(logical_id)
        before = dict(
            client.get_function_configuration(FunctionName=name)
            .get("Environment", {})
            .get("Variables", {})
        )
        client.update_function_configuration(
            FunctionName=name, Environment={"Variables": {**before, **variables}}
        )
        self.runner.register(self.runner.functions[name])  # a new cold start, as in AWS
        return before

    wait_for = staticmethod(wait_for)

    def queue_depth(self, logical_id: str) -> int:
        """Messages waiting or in flight on a queue of the stack."""
        attrs = self.client("sqs").get_queue_attributes(
            QueueUrl=self.physical_id(logical_id),
            AttributeNames=["ApproximateNumberOfMessages", "ApproximateNumberOfMessagesNotVisible"],
        )["Attributes"]
        return int(attrs["ApproximateNumberOfMessages"]) + int(
            attrs["ApproximateNumberOfMessagesNotVisible"]
        )

    def executions(self, logical_id: str, status: str | None = None) -> list[dict[str, Any]]:
        """Executions of a state machine of the stack, newest first."""
        args: dict[str, Any] = {"stateMachineArn": self.physical_id(logical_id)}
        if status:
            args["statusFilter"] = status
        return list(self.client("stepfunctions").list_executions(**args)["executions"])

    def wait_for_execution(
        self, logical_id: str, name: str, timeout: float = 15.0
    ) -> dict[str, Any]:
        """Wait until the named execution has ended; returns ``describe_execution``."""
        arn = self.physical_id(logical_id).replace(":stateMachine:", ":execution:") + f":{name}"
        sfn = self.client("stepfunctions")

        def ended() -> dict[str, Any] | None:
            try:
                desc = sfn.describe_execution(executionArn=arn)
            except sfn.exceptions.ExecutionDoesNotExist:
                return None
            return desc if desc["status"] != "RUNNING" else None

        desc = self.wait_for(ended, timeout, what=f"execution {name} to end")
        if desc["status"] != "SUCCEEDED":
            # The status alone says nothing about which step failed, or why.
            log.warning("execution %s %s: %s", name, desc["status"], self._failures(arn))
        return desc

    def _failures(self, execution_arn: str) -> str:
        """The failed, timed-out and aborted events of an execution's history, in one line."""
        history = self.client("stepfunctions").get_execution_history(executionArn=execution_arn)
        found, state = [], "?"
        for event in history["events"]:
            entered = event.get("stateEnteredEventDetails")
            if entered:
                state = entered["name"]
            if event["type"].endswith(("Failed", "TimedOut", "Aborted")):
                details: dict[str, Any] = next(
                    (v for k, v in event.items() if k.endswith("EventDetails")), {}
                )
                error, cause = details.get("error", ""), str(details.get("cause", ""))[:300]
                found.append(f"{state}: {event['type']} {error} {cause}".strip())
        return "; ".join(found) or "no failed event in the history"

    def mint_token(
        self,
        *roles: str,
        subject: str | None = None,
        jurisdictions: Sequence[str] = (),
        complexes: Sequence[str] = (),
        province: bool = False,
    ) -> str:
        """A bearer token from the local issuer for the given roles and scopes."""
        return str(
            self.issuer.mint(
                list(roles),
                subject=subject,
                jurisdictions=jurisdictions,
                complexes=complexes,
                province=province,
            )
        )

    def issue_api_key(self, owner: str, jurisdiction_ids: list[str] | None = None) -> str:
        """A new Open311 API key stored (hashed) in the stack's API keys table."""
        from gyeonggi.auth.apikeys import ApiKeyStore

        store = ApiKeyStore(self.physical_id("ApiKeysTable"), dynamodb=self.client("dynamodb"))
        return store.issue(owner, jurisdiction_ids=jurisdiction_ids).key

    # ------------------------------------------------------------------ parts
    def _start_moto(self) -> None:
        for key, value in _AWS_ENV.items():
            if key in os.environ:
                self._saved_env[key] = os.environ[key]
            os.environ[key] = value
        for key in ("AWS_ENDPOINT_URL", "MOTO_PORT"):
            if key in os.environ:
                self._saved_env[key] = os.environ.pop(key)
        from moto.core.config import default_user_config

        config = {
            "stepfunctions": {"execute_state_machine": True},
            # "use_docker": False would switch moto to a canned-answer Lambda; the runner's
            # patch replaces the Docker path instead, so this stays as it is.
            "lambda": {"use_docker": True},
            "core": {"reset_boto3_session": True},
        }
        from moto import mock_aws

        # This process's own calls (the deployer, the pollers, the handlers, Step Functions'
        # service integrations) are intercepted in-process in either mode: over HTTP, a deploy
        # of this template is some 300 round trips through the server.
        self._mock = mock_aws(config=config)  # type: ignore[call-overload]
        self._mock.start()
        if self.server:
            from moto.server import ThreadedMotoServer

            # The same backends, served to other processes (`aws --endpoint-url`, the CLI).
            default_user_config["stepfunctions"]["execute_state_machine"] = True
            self._moto_server = ThreadedMotoServer(ip_address="127.0.0.1", port=self.moto_port)
            self._moto_server.start()
            host, port = self._moto_server.get_host_and_port()
            self.endpoint_url = f"http://{host}:{port}"

    def _serve_datadam(self) -> None:
        """Point the functions that write or query the Data Dam at moto's server (queries on
        DuckDB, ``gyeonggi.datadam.duckdb_engine``).

        pyarrow's S3 client is C++ and never passes through botocore, which the in-process mock
        patches; moto's server in this process serves the same backends over HTTP, so what the
        lake writes is what every other client of the local cloud reads.
        """
        from localcloud.datadam import start_server

        client = self.client("lambda")
        writers = []
        for resource in self.stack.of_type("AWS::Lambda::Function"):
            config = client.get_function_configuration(FunctionName=resource.physical_id)
            variables = config.get("Environment", {}).get("Variables", {})
            # Writers name the bucket; readers (the query API, forecasting, notices) the engine,
            # which is DuckDB here: Athena's SQL does not run in moto.
            if "DATADAM_BUCKET" in variables or "DATADAM_QUERY_ENGINE" in variables:
                local = {k: v for k, v in AGGREGATE_SOURCES.items() if k in variables}
                writers.append((resource.physical_id, {**variables, **local}))
        if not writers:
            return
        if self._moto_server is None:
            self._moto_server, self.datadam_endpoint = start_server()
        else:
            self.datadam_endpoint = self.endpoint_url
        assert self.datadam_endpoint is not None
        for name, variables in writers:
            client.update_function_configuration(
                FunctionName=name,
                Environment={
                    "Variables": {
                        **variables,
                        "DATADAM_GLUE_ENDPOINT": self.datadam_endpoint,
                        "DATADAM_S3_ENDPOINT": self.datadam_endpoint,
                        **(
                            {"DATADAM_QUERY_ENGINE": "duckdb"}
                            if "DATADAM_QUERY_ENGINE" in variables
                            else {}
                        ),
                    }
                },
            )

    def _start_issuer(self) -> None:
        from localcloud.issuer import LocalIssuer

        pools = self.stack.of_type("AWS::Cognito::UserPool")
        clients = self.stack.of_type("AWS::Cognito::UserPoolClient")
        if not pools:
            return
        issuer_url = f"http://127.0.0.1/local-issuer/{pools[0].physical_id}"
        audience = clients[0].physical_id if clients else "gyeonggi-local"
        self.issuer = LocalIssuer.create(self.state_dir, issuer_url, audience)

    def _certify_wallet_verifier(self) -> None:
        # The verifier's certificate, from a development CA (localcloud/wallet_verifier.py).
        if "WalletVerifierKey" not in self.stack.template.get("Resources", {}):
            return
        from localcloud.wallet_verifier import provision

        function = self.client("lambda").get_function_configuration(
            FunctionName=self.physical_id("WalletVerifierFunction")
        )
        parameter = function["Environment"]["Variables"]["VERIFIER_CERTIFICATE_PARAMETER"]
        self.wallet_verifier = provision(
            self.client("kms"),
            self.client("ssm"),
            self.physical_id("WalletVerifierKey"),
            parameter,
            self.state_dir,
        )

    def _register_functions(self) -> None:
        issuer_env = self.issuer.environment() if self.issuer else {}
        lambda_client = self.client("lambda")
        invoke_configs = self.stack.of_type("AWS::Lambda::EventInvokeConfig")
        retries = {
            r.properties["FunctionName"]: int(r.properties["MaximumRetryAttempts"])
            for r in invoke_configs
            if "MaximumRetryAttempts" in r.properties
        }
        on_failure = {
            r.properties["FunctionName"]: r.properties["DestinationConfig"]["OnFailure"][
                "Destination"
            ]
            for r in invoke_configs
            if "OnFailure" in r.properties.get("DestinationConfig", {})
        }
        for resource in self.stack.of_type("AWS::Lambda::Function"):
            artifact = self.stack.artifacts.get(resource.logical_id)
            if artifact is None:
                raise RuntimeError(f"{resource.logical_id} has no local code to run")
            env = lambda_client.get_function_configuration(FunctionName=resource.physical_id)
            variables = env.get("Environment", {}).get("Variables", {})
            # Functions that verify tokens trust the local issuer instead of Cognito.
            extra = issuer_env if any(k in variables for k in ISSUER_ENV) else {}
            # moto drops DeadLetterConfig; the runner honours it for asynchronous invokes.
            dead_letter = resource.properties.get("DeadLetterConfig", {}).get("TargetArn")
            local = LocalFunction(
                resource.physical_id,
                resource.logical_id,
                artifact.source,
                dict(extra),
                dead_letter_arn=dead_letter,
                on_failure_arn=on_failure.get(resource.physical_id),
                async_retries=retries.get(resource.physical_id, 2),
                calls_local_api=any(k in variables for k in OWN_ISSUER_TRUST_ENV),
            )
            self.runner.register(local)
            named = [k for k in API_URL_ENV if k in variables]
            trusting = [k for k in OWN_ISSUER_TRUST_ENV if not str(variables.get(k, "x")).strip()]
            if trusting:
                self._trusting_functions.append((resource.logical_id, trusting))
            if named:
                self._api_url_functions.append((local, named))
        self.runner.dead_letter_sender = self._send_dead_letter

    def _send_dead_letter(self, target_arn: str, body: str, attributes: dict[str, str]) -> None:
        if ":sqs:" not in target_arn:
            log.error("failure target %s is not a queue; event dropped", target_arn)
            return
        queue_name = target_arn.rsplit(":", 1)[-1]
        sqs = self.client("sqs")
        sqs.send_message(
            QueueUrl=sqs.get_queue_url(QueueName=queue_name)["QueueUrl"],
            MessageBody=body,
            MessageAttributes={
                k: {"DataType": "String", "StringValue": v} for k, v in attributes.items()
            },
        )

    def _start_pollers(self) -> None:
        sqs, lambda_client = self.client("sqs"), self.client("lambda")
        queues = {r.attributes["Arn"]: r for r in self.stack.of_type("AWS::SQS::Queue")}
        for esm in self.stack.of_type("AWS::Lambda::EventSourceMapping"):
            p = esm.properties
            if ":dynamodb:" in p["EventSourceArn"]:
                self._start_stream_poller(esm.physical_id, p)
                continue
            queue = queues.get(p["EventSourceArn"])
            if queue is None:
                continue
            mapping = SqsMapping(
                uuid=esm.physical_id,
                queue_url=queue.physical_id,
                queue_arn=queue.attributes["Arn"],
                function_name=p["FunctionName"],
                batch_size=int(p.get("BatchSize", 10)),
                batching_window_s=float(p.get("MaximumBatchingWindowInSeconds", 0)),
                report_failures="ReportBatchItemFailures" in p.get("FunctionResponseTypes", []),
                visibility_timeout_s=int(queue.properties.get("VisibilityTimeout", 30)),
            )
            poller = SqsPoller(mapping, sqs, lambda_client, REGION)
            poller.start()
            self.pollers.append(poller)

    def _start_stream_poller(self, uuid: str, p: dict[str, Any]) -> None:
        lambda_client = self.client("lambda")
        arn = lambda_client.get_function(FunctionName=p["FunctionName"])["Configuration"][
            "FunctionArn"
        ]
        poller = StreamPoller(
            StreamMapping.from_properties(uuid, p, arn),
            self.client("dynamodbstreams"),
            lambda_client,
            REGION,
            send_failure=lambda target, body: self._send_dead_letter(target, body, {}),
        )
        poller.start()
        self.pollers.append(poller)

    def _start_mqtt(self) -> None:
        from localcloud.iot_bridge import TopicRuleBridge
        from localcloud.mqtt_broker import start_broker

        self.broker = start_broker("127.0.0.1", self.mqtt_port or 0)
        rules = [
            (r.physical_id, r.properties["TopicRulePayload"])
            for r in self.stack.of_type("AWS::IoT::TopicRule")
        ]
        self.bridge = TopicRuleBridge(
            rules, lambda_client=self.client("lambda"), sqs_client=self.client("sqs")
        )
        self.bridge.start(self.broker.host, self.broker.port)

    def _start_api(self) -> None:
        from localcloud.api_server import ApiServer, routes_from_body
        from localcloud.gateway_responses import GatewayResponses

        routes = []
        customised: dict[str, Any] = {}
        for api in self.stack.of_type("AWS::ApiGateway::RestApi"):
            routes += routes_from_body(api.properties.get("Body", {}))
            customised |= GatewayResponses.from_body(api.properties.get("Body", {})).customised
        stage = str(
            self.stack.template.get("Parameters", {}).get("Stage", {}).get("Default", "dev")
        )
        stage = str(self.parameters.get("Stage", stage))
        self.api = ApiServer(
            routes,
            self.client("lambda"),
            stage=stage,
            port=self.api_port or 0,
            gateway_responses=GatewayResponses(customised),
        )
        self.api.start()
        # Before any request can reach them: each function's cold start reads its settings.
        for local, names in self._api_url_functions:
            local.extra_environment.update({name: self.api.url for name in names})
        # Deployed configuration, not the runner's overrides: a test may still trust others.
        for logical_id, names in self._trusting_functions:
            self.set_function_environment(logical_id, **{name: self.api.url for name in names})

    # ------------------------------------------------------------------ reporting
    def banner(self) -> str:
        """What is running where, and every resource that is emulated or left out."""
        lines = [
            f"Digital Gyeonggi local cloud: stack {self.stack_name} in {REGION} "
            f"(account {ACCOUNT_ID}), deployed in {self.stack.seconds:.2f} s"
        ]
        if self.endpoint_url:
            lines.append(f"  AWS APIs (moto):  {self.endpoint_url}")
        if self.api is not None:
            lines.append(f"  HTTP API:         {self.api.url}")
        if self.broker is not None:
            lines.append(
                f"  MQTT ({self.broker.kind}): mqtt://{self.broker.host}:{self.broker.port}"
            )
        if self.issuer is not None:
            lines.append(f"  token issuer:     {self.state_dir / 'issuer'} (keys new this run)")
        lines.append(f"  time scale:       {self.time_scale} (waits, retries, redelivery)")
        lines.append(f"  function logs:    {self.state_dir / 'logs'}")
        lines.append("  not as in AWS:")
        lines += [f"    {line}" for line in self.stack.report()]
        lines.append("    IAM policies are created but not enforced by moto")
        lines.append(
            "    bucket policy statements with a Condition are stored, not enforced "
            "(moto has no request keys to check them with)"
        )
        if self._api_url_functions and self.api is not None:
            names = ", ".join(sorted({n for _, ns in self._api_url_functions for n in ns}))
            lines.append(
                f"    {names}: the HTTP API's URL, plain http on loopback (AWS: https:// and "
                "the custom domain)"
            )
        return "\n".join(lines)

    def clean_state(self) -> None:
        """Remove this run's logs (keys are replaced at every start anyway)."""
        shutil.rmtree(self.state_dir / "logs", ignore_errors=True)
