"""The LocalStack probe against a stand-in health endpoint, and the template LocalStack gets.

The stand-in is a stdlib HTTP server on 127.0.0.1 that answers ``/_localstack/health`` the way
LocalStack does (a ``services`` map, a version, an edition); nothing leaves the machine.
"""

from __future__ import annotations

import json
import os
import socket
import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest

from localcloud.intrinsics import references
from localcloud.localstack import (
    OPTIONAL_SERVICES,
    inactive_resources,
    is_localstack_running,
    without_resources,
)
from localcloud.template import load_template, package, parameter_values, transform

ROOT = Path(__file__).resolve().parents[2]

HEALTH = {
    "services": {"cloudformation": "available", "lambda": "running", "iot": "disabled"},
    "edition": "community",
    "version": "4.9.2",
}


class _Server:
    """Answers every GET with ``answers[path]`` (status, body) and 404 otherwise."""

    def __init__(self, answers: dict[str, tuple[int, bytes]], delay: float = 0.0) -> None:
        server = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                time.sleep(delay)
                status, body = server.answers.get(self.path, (404, b"{}"))
                try:
                    self.send_response(status)
                    self.send_header("Content-Type", "application/json")
                    self.send_header("Content-Length", str(len(body)))
                    self.end_headers()
                    self.wfile.write(body)
                except (BrokenPipeError, ConnectionResetError):
                    pass  # the client gave up waiting, which is what the timeout test wants

            def log_message(self, format: str, *args: Any) -> None:
                pass

        self.answers = answers
        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.httpd.daemon_threads = True
        # A short poll interval keeps shutdown (and so each test) quick.
        self.thread = threading.Thread(
            target=self.httpd.serve_forever, kwargs={"poll_interval": 0.02}, daemon=True
        )

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.httpd.server_address[1]}"

    def __enter__(self) -> _Server:
        self.thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()
        self.thread.join(5)


@pytest.fixture
def localstack() -> Iterator[_Server]:
    with _Server({"/_localstack/health": (200, json.dumps(HEALTH).encode())}) as server:
        yield server


def test_a_localstack_health_answer_means_running(localstack: _Server) -> None:
    running, detail = is_localstack_running(localstack.url)
    assert running
    assert "4.9.2" in detail and "community" in detail
    assert "2 of 3 services" in detail


def test_the_endpoint_path_is_replaced_by_the_health_path(localstack: _Server) -> None:
    assert is_localstack_running(localstack.url + "/some/path?x=1")[0]


def test_a_closed_port_means_not_running() -> None:
    # Bind and close: the port was free a moment ago and nothing listens on it now.
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    running, detail = is_localstack_running(f"http://127.0.0.1:{port}", timeout=0.5)
    assert not running
    assert "nothing answers" in detail


@pytest.mark.parametrize(
    ("answer", "expected"),
    [
        ((200, b'{"status": "ok"}'), "not LocalStack's health endpoint"),
        ((200, b"<html>hello</html>"), "did not answer JSON"),
        ((500, b"{}"), "answered HTTP 500"),
    ],
)
def test_other_servers_are_not_localstack(answer: tuple[int, bytes], expected: str) -> None:
    with _Server({"/_localstack/health": answer}) as server:
        running, detail = is_localstack_running(server.url)
    assert not running
    assert expected in detail


def test_a_slow_answer_times_out() -> None:
    with _Server({"/_localstack/health": (200, json.dumps(HEALTH).encode())}, 1.0) as server:
        started = time.monotonic()
        running, _ = is_localstack_running(server.url, timeout=0.2)
    assert not running
    assert time.monotonic() - started < 1.0


@pytest.mark.parametrize(
    "endpoint", ["http://192.0.2.10:4566", "http://localhost.localstack.cloud:4566", "ftp://x"]
)
def test_only_loopback_http_endpoints_are_probed(endpoint: str) -> None:
    running, detail = is_localstack_running(endpoint)
    assert not running
    assert "loopback" in detail or "not an http" in detail


# ------------------------------------------------------------------ the template LocalStack gets


class _NoS3:
    def put_object(self, **kwargs: Any) -> None:
        pass


def test_unavailable_services_are_left_out_and_the_rest_still_transforms() -> None:
    # Given the real template, without Cognito and IoT Core (not in every LocalStack plan)
    source = load_template(ROOT / "template.yaml")
    types = [t for service in OPTIONAL_SERVICES.values() for t in service]

    # When
    pruned, removed = without_resources(source, types)

    # Then the resources, the permission for the rule and the outputs naming them are gone
    assert {
        "UserPool",
        "UserPoolClient",
        "TelemetryRule",
        "TelemetryRulePermission",
        "SensorGatewayPolicy",
        "IncidentFailureQueueAlarm",
        "ApiWebAcl",
        "ApiWebAclAssociation",
    } <= set(removed)
    assert not {spec["Type"] for spec in pruned["Resources"].values()} & set(types)
    assert not references(pruned["Resources"]) & set(removed)
    assert "UserPoolId" not in pruned["Outputs"] and "ApiUrl" in pruned["Outputs"]
    assert "SensorGatewayPolicyName" not in pruned["Outputs"]
    # ...references elsewhere became unreachable placeholders, not dangling names
    env = pruned["Resources"]["ApiFunction"]["Properties"]["Environment"]["Variables"]
    assert env["AUTH_ISSUER"].endswith(".invalid")
    assert env["AUTH_JWKS_URL"]["Fn::Sub"].endswith(".invalid/.well-known/jwks.json")
    # ...the original is untouched, and what is left is still a valid SAM template
    assert "UserPool" in source["Resources"]
    packaged, _ = package(pruned, ROOT, _NoS3(), "bucket")
    saved = os.environ.get("AWS_DEFAULT_REGION")
    try:
        cfn = transform(packaged, parameter_values(pruned, {}), "ap-northeast-2")
    finally:
        if saved is None:
            os.environ.pop("AWS_DEFAULT_REGION", None)
    assert "ApiFunction" in cfn["Resources"] and "TelemetryFunction" in cfn["Resources"]


def test_nothing_is_left_out_when_every_service_is_there() -> None:
    source = load_template(ROOT / "template.yaml")
    pruned, removed = without_resources(source, [])
    assert removed == [] and pruned == source


def test_resources_whose_condition_is_false_are_left_out_with_their_outputs() -> None:
    # Given the wallet's custom domain, which exists only when a domain is given, and refers to
    # the stage SAM generates (which LocalStack cannot resolve before its transform)
    source = {
        "Parameters": {"Domain": {"Type": "String", "Default": ""}},
        "Conditions": {"HasDomain": {"Fn::Not": [{"Fn::Equals": [{"Ref": "Domain"}, ""]}]}},
        "Resources": {
            "Api": {"Type": "AWS::Serverless::Api", "Properties": {}},
            "Mapping": {
                "Type": "AWS::ApiGateway::BasePathMapping",
                "Condition": "HasDomain",
                "Properties": {"Stage": {"Ref": "Api.Stage"}, "DomainName": {"Ref": "Domain"}},
            },
        },
        "Outputs": {"MappingId": {"Value": {"Ref": "Mapping"}}},
    }
    # When no domain is given, it is inactive, and leaving it out takes its output along
    assert inactive_resources(source, {}) == ["Mapping"]
    pruned, removed = without_resources(source, [], inactive_resources(source, {}))
    assert removed == ["Mapping"]
    assert set(pruned["Resources"]) == {"Api"} and "MappingId" not in pruned["Outputs"]
    # With a domain it stays
    assert inactive_resources(source, {"Domain": "wallet.gg.go.kr"}) == []
