"""The local API Gateway: routes from the template's API body, proxy events, answers."""

from __future__ import annotations

import base64
from typing import Any

from localcloud.api_server import ApiServer, Route, proxy_event, routes_from_body
from localcloud.gateway_responses import EXTENSION, GatewayResponses
from tests.fakes.aws import FakeLambda

FN = "arn:aws:lambda:ap-northeast-2:123456789012:function:api"


def _body(*paths: tuple[str, str]) -> dict[str, Any]:
    uri = {"Fn::Sub": "ignored"}  # unresolved integrations are skipped
    out: dict[str, Any] = {
        "paths": {"/skip": {"get": {"x-amazon-apigateway-integration": {"uri": uri}}}}
    }
    for path, method in paths:
        out["paths"].setdefault(path, {})[method] = {
            "x-amazon-apigateway-integration": {
                "type": "aws_proxy",
                "uri": "arn:aws:apigateway:ap-northeast-2:lambda:path/2015-03-31/functions/"
                f"{FN}/invocations",
            }
        }
    return out


def test_routes_match_literal_before_parameter() -> None:
    routes = routes_from_body(
        _body(("/requests/{request_file}", "get"), ("/requests/discovery.json", "get"))
    )
    assert [r.resource for r in routes] == ["/requests/discovery.json", "/requests/{request_file}"]
    match = routes[1].pattern.match("/requests/GG-1.json")
    assert match is not None and match.groupdict() == {"request_file": "GG-1.json"}
    assert not routes[1].pattern.match("/requests/a/b")


def test_greedy_parameter() -> None:
    route = Route.create("ANY", "/files/{proxy+}", FN)
    match = route.pattern.match("/files/a/b/c")
    assert match is not None and match.groupdict() == {"proxy": "a/b/c"}


def test_proxy_event_has_the_rest_v1_shape() -> None:
    route = Route.create("POST", "/open311/v2/requests.json", FN)
    event = proxy_event(
        route,
        "dev",
        "POST",
        "/open311/v2/requests.json?a=1&a=2",
        {"Content-Type": "application/x-www-form-urlencoded"},
        b"x=1",
        {},
        "127.0.0.1",
    )
    assert event["resource"] == "/open311/v2/requests.json"
    assert event["queryStringParameters"] == {"a": "2"}
    assert event["multiValueQueryStringParameters"] == {"a": ["1", "2"]}
    assert event["body"] == "x=1" and event["isBase64Encoded"] is False
    assert event["requestContext"]["stage"] == "dev"
    assert event["pathParameters"] is None


def test_binary_bodies_are_base64() -> None:
    route = Route.create("POST", "/media", FN)
    event = proxy_event(
        route, "dev", "POST", "/media", {"Content-Type": "image/jpeg"}, b"\xff\xd8", {}, "127.0.0.1"
    )
    assert event["isBase64Encoded"] is True and base64.b64decode(event["body"]) == b"\xff\xd8"


def _server(fake: FakeLambda, body: dict[str, Any] | None = None) -> ApiServer:
    body = body or _body(("/things/{id}", "get"))
    server = ApiServer(
        routes_from_body(body),
        fake,
        stage="dev",
        port=0,
        gateway_responses=GatewayResponses.from_body(body),
    )
    server.httpd.server_close()  # dispatch() is enough; no socket needed
    return server


def test_dispatch_maps_the_proxy_response() -> None:
    fake = FakeLambda({"statusCode": 201, "headers": {"Location": "/things/1"}, "body": "{}"})
    status, headers, body = _server(fake).dispatch("GET", "/things/1", {}, b"", "127.0.0.1")
    assert status == 201 and ("Location", "/things/1") in headers and body == b"{}"
    assert fake.events()[0]["pathParameters"] == {"id": "1"}


def test_without_gateway_responses_unknown_routes_are_api_gateways_403() -> None:
    server = _server(FakeLambda({}))
    for method, path in (("GET", "/nothing"), ("DELETE", "/things/1")):
        status, headers, body = server.dispatch(method, path, {}, b"", "127.0.0.1")
        assert (status, body) == (403, b'{"message": "Missing Authentication Token"}')
        assert ("Content-Type", "application/json") in headers


def test_function_error_or_malformed_response_is_502() -> None:
    assert _server(FakeLambda({}, error=True)).dispatch("GET", "/things/1", {}, b"", "x")[0] == 502
    assert (
        _server(FakeLambda({"body": "no status"})).dispatch("GET", "/things/1", {}, b"", "x")[0]
        == 502
    )


NOT_FOUND = '[{"code":404,"description":"no such resource"}]'
FAILED = '[{"code":502,"description":"failed"}]'
CUSTOMISED = {
    "MISSING_AUTHENTICATION_TOKEN": {
        "statusCode": "404",
        "responseTemplates": {"application/json": NOT_FOUND},
        "responseParameters": {
            "gatewayresponse.header.Cache-Control": "'no-store'",
            "gatewayresponse.header.X-Echo": "method.request.header.x-echo",  # not emulated
        },
    },
    "DEFAULT_5XX": {"statusCode": "502", "responseTemplates": {"application/json": FAILED}},
}


def test_unknown_routes_and_failed_functions_answer_as_the_api_customises_them() -> None:
    body = _body(("/things/{id}", "get")) | {EXTENSION: CUSTOMISED}
    server = _server(FakeLambda({}, error=True), body)
    for method, path in (("GET", "/nothing"), ("GET", "/things"), ("POST", "/things/1")):
        status, headers, raw = server.dispatch(method, path, {}, b"", "127.0.0.1")
        assert (status, raw.decode()) == (404, NOT_FOUND)
        assert headers == [("Content-Type", "application/json"), ("Cache-Control", "no-store")]
    # A failed function: no INTEGRATION_FAILURE of its own here, so DEFAULT_5XX answers.
    assert server.dispatch("GET", "/things/1", {}, b"", "x")[::2] == (502, FAILED.encode())


def test_a_type_left_alone_takes_its_familys_default_and_keeps_the_status_it_names() -> None:
    family = {"DEFAULT_4XX": {"responseTemplates": {"application/json": "[]"}}}
    assert GatewayResponses(family).answer("MISSING_AUTHENTICATION_TOKEN")[::2] == (403, b"[]")
    assert GatewayResponses(family).answer("INTEGRATION_FAILURE")[0] == 502
