"""The local API Gateway: routes from the template's API body, proxy events, answers."""

from __future__ import annotations

import base64
import http.client
import io
import socket
from collections.abc import Iterator
from email.message import Message
from typing import Any

import pytest

from localcloud import api_server
from localcloud.api_server import (
    MAX_PAYLOAD_BYTES,
    ApiServer,
    Refused,
    Route,
    proxy_event,
    read_body,
    routes_from_body,
)
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


# ------------------------------------------------------------------ bodies and framing


def test_a_text_body_that_is_not_utf8_travels_as_binary() -> None:
    route = Route.create("POST", "/complaints", FN)
    headers = {"Content-Type": "application/json"}
    event = proxy_event(route, "dev", "POST", "/complaints", headers, b'{"a": "\xff"}', {}, "x")
    assert event["isBase64Encoded"] is True
    assert base64.b64decode(event["body"]) == b'{"a": "\xff"}'
    event = proxy_event(route, "dev", "POST", "/complaints", headers, b"{}", {}, "x")
    assert (event["body"], event["isBase64Encoded"]) == ("{}", False)


def _headers(*fields: tuple[str, str]) -> Message:
    message = Message()
    for name, value in fields:
        message[name] = value
    return message


@pytest.mark.parametrize(
    ("fields", "sent", "body"),
    [
        ((), b"", b""),
        ((("Content-Length", "3"),), b"abcdef", b"abc"),
        ((("Content-Length", "0"),), b"", b""),
        ((("Transfer-Encoding", "chunked"),), b"3\r\nabc\r\n2;x=y\r\nde\r\n0\r\n\r\n", b"abcde"),
        ((("Transfer-Encoding", "Chunked"),), b"0\r\nTrailer: 1\r\n\r\n", b""),
    ],
)
def test_bodies_are_read_as_their_framing_says(
    fields: tuple[tuple[str, str], ...], sent: bytes, body: bytes
) -> None:
    assert read_body(_headers(*fields), io.BytesIO(sent)) == body


@pytest.mark.parametrize(
    ("fields", "sent", "status"),
    [
        ((("Content-Length", "abc"),), b"", 400),
        ((("Content-Length", "-5"),), b"", 400),
        ((("Content-Length", "1e3"),), b"", 400),
        ((("Content-Length", "5"), ("Content-Length", "6")), b"12345", 400),
        ((("Content-Length", "10"),), b"short", 400),
        ((("Content-Length", str(MAX_PAYLOAD_BYTES + 1)),), b"", 413),
        ((("Transfer-Encoding", "gzip"),), b"", 400),
        ((("Transfer-Encoding", "chunked"), ("Content-Length", "3")), b"0\r\n\r\n", 400),
        ((("Transfer-Encoding", "chunked"),), b"zz\r\n", 400),
        ((("Transfer-Encoding", "chunked"),), b"3\r\nabcXY", 400),
        ((("Transfer-Encoding", "chunked"),), b"3\r\nab", 400),
        ((("Transfer-Encoding", "chunked"),), b"", 400),
        ((("Transfer-Encoding", "chunked"),), b"FFFFFFF\r\n", 413),
    ],
)
def test_broken_or_oversized_framing_is_refused_with_the_gateways_status(
    fields: tuple[tuple[str, str], ...], sent: bytes, status: int
) -> None:
    with pytest.raises(Refused) as caught:
        read_body(_headers(*fields), io.BytesIO(sent))
    assert caught.value.status == status


def _exchange(server: ApiServer, request: bytes) -> http.client.HTTPResponse:
    host, port = server.httpd.server_address[:2]
    sock = socket.create_connection((str(host), port), timeout=10)
    sock.sendall(request)
    sock.shutdown(socket.SHUT_WR)
    response = http.client.HTTPResponse(sock)
    response.begin()
    response.read()
    sock.close()
    return response


@pytest.fixture
def serving() -> Iterator[tuple[ApiServer, FakeLambda]]:
    fake = FakeLambda({"statusCode": 200, "body": "{}"})
    server = ApiServer(routes_from_body(_body(("/things/{id}", "post"))), fake, stage="dev", port=0)
    server.start()
    try:
        yield server, fake
    finally:
        server.stop()


@pytest.mark.parametrize(
    ("framing", "status"),
    [
        (b"Content-Length: abc\r\n", 400),
        (b"Content-Length: -5\r\n", 400),
        (b"Content-Length: 99999999999\r\n", 413),
        (b"Transfer-Encoding: chunked\r\nContent-Length: 3\r\n", 400),
    ],
)
def test_the_server_answers_broken_framing_and_closes(
    serving: tuple[ApiServer, FakeLambda], framing: bytes, status: int
) -> None:
    server, fake = serving
    request = b"POST /things/1 HTTP/1.1\r\nHost: x\r\n" + framing + b"\r\n{}"
    response = _exchange(server, request)
    assert response.status == status
    assert response.getheader("Connection") == "close"
    assert fake.calls == []  # refused before any function


def test_the_server_reads_a_chunked_body_and_passes_bytes_that_are_not_utf8_as_binary(
    serving: tuple[ApiServer, FakeLambda],
) -> None:
    server, fake = serving
    request = (
        b"POST /things/1 HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
        b"Transfer-Encoding: chunked\r\n\r\n2\r\n\xff\xfe\r\n0\r\n\r\n"
    )
    assert _exchange(server, request).status == 200
    (event,) = fake.events()
    assert event["isBase64Encoded"] is True and base64.b64decode(event["body"]) == b"\xff\xfe"


def test_a_fault_of_the_server_itself_is_a_502_not_a_dropped_connection() -> None:
    fake = FakeLambda(fail={FN: RuntimeError("the Lambda API is down")})
    server = ApiServer(routes_from_body(_body(("/things/{id}", "get"))), fake, stage="dev", port=0)
    server.start()
    try:
        response = _exchange(server, b"GET /things/1 HTTP/1.1\r\nHost: x\r\n\r\n")
    finally:
        server.stop()
    assert response.status == 502


def test_a_client_that_stalls_mid_body_is_answered_408(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(api_server, "_CLIENT_TIMEOUT", 0.3)
    fake = FakeLambda({"statusCode": 200, "body": "{}"})
    server = ApiServer(routes_from_body(_body(("/things/{id}", "post"))), fake, stage="dev", port=0)
    server.start()
    host, port = server.httpd.server_address[:2]
    try:
        with socket.create_connection((str(host), port), timeout=10) as sock:
            # Two of the ten bytes promised, and then nothing (the write side stays open).
            sock.sendall(b"POST /things/1 HTTP/1.1\r\nHost: x\r\nContent-Length: 10\r\n\r\n{}")
            response = http.client.HTTPResponse(sock)
            response.begin()
    finally:
        server.stop()
    assert response.status == 408 and fake.calls == []
