"""The API Gateway of the local cloud: HTTP on 127.0.0.1, REST proxy events to Lambda.

Routes come from the deployed ``AWS::ApiGateway::RestApi`` body (the paths SAM generated from
the functions' ``Api`` events), so the local server answers exactly the routes AWS would, and
invokes the same function through the Lambda API, which runs its handler in-process. What API
Gateway answers itself (an unknown route, a failed function) comes from the same body's gateway
responses (:mod:`localcloud.gateway_responses`).
"""

from __future__ import annotations

import base64
import contextlib
import json
import logging
import re
import socket
import threading
import time
import uuid
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlsplit

from localcloud.gateway_responses import GatewayResponses

log = logging.getLogger("localcloud.api")

_FUNCTION_IN_URI = re.compile(r"functions/(?P<arn>arn:aws:lambda:[^/]+)/invocations")
_TEXT_TYPES = ("text/", "application/json", "application/xml", "application/x-www-form-urlencoded")
#: API Gateway's payload limit (REST APIs): a larger request is answered 413 before any function.
MAX_PAYLOAD_BYTES = 10 * 1024 * 1024
# A chunk-size line is hex digits and extensions; a longer one is not HTTP.
_MAX_CHUNK_LINE = 1024
_JSON = "application/json"
_CLIENT_TIMEOUT = 30.0
_DRAIN_SECONDS = 1.0


@dataclass(frozen=True)
class Route:
    """One method on one resource path, and the function that serves it."""

    method: str
    resource: str
    function_arn: str
    pattern: re.Pattern[str]

    @classmethod
    def create(cls, method: str, resource: str, function_arn: str) -> Route:
        regex = ""
        for part in resource.strip("/").split("/"):
            if part.startswith("{") and part.endswith("+}"):
                regex += f"/(?P<{part[1:-2]}>.+)"
            elif part.startswith("{") and part.endswith("}"):
                regex += f"/(?P<{part[1:-1]}>[^/]+)"
            elif part:
                regex += "/" + re.escape(part)
        return cls(method.upper(), resource, function_arn, re.compile(f"^{regex or '/'}$"))


def routes_from_body(body: dict[str, Any]) -> list[Route]:
    """Routes of an OpenAPI body whose integrations are Lambda proxy (``aws_proxy``)."""
    routes = []
    for path, methods in body.get("paths", {}).items():
        for method, spec in methods.items():
            integration = spec.get("x-amazon-apigateway-integration", {})
            match = _FUNCTION_IN_URI.search(str(integration.get("uri", "")))
            if integration.get("type") == "aws_proxy" and match:
                routes.append(Route.create(method, path, match.group("arn")))
    # Literal segments win over parameters, as in API Gateway.
    routes.sort(key=lambda r: (r.resource.count("{"), -len(r.resource)))
    return routes


def proxy_event(
    route: Route,
    stage: str,
    method: str,
    raw_path: str,
    headers: dict[str, str],
    body: bytes,
    path_parameters: dict[str, str],
    source_ip: str,
) -> dict[str, Any]:
    """An API Gateway REST (v1) proxy event, as a Lambda proxy integration receives it."""
    url = urlsplit(raw_path)
    multi_query = parse_qs(url.query, keep_blank_values=True)
    content_type = headers.get("Content-Type", headers.get("content-type", ""))
    # Bytes that are not UTF-8 cannot travel as the event's text: they go as binary does, base64
    # with isBase64Encoded, and the function judges them (the API answers 400).
    is_text = not body or (content_type.startswith(_TEXT_TYPES) and _is_utf8(body))
    return {
        "resource": route.resource,
        "path": url.path,
        "httpMethod": method,
        "headers": headers or None,
        "multiValueHeaders": {k: [v] for k, v in headers.items()} or None,
        "queryStringParameters": {k: v[-1] for k, v in multi_query.items()} or None,
        "multiValueQueryStringParameters": multi_query or None,
        "pathParameters": path_parameters or None,
        "stageVariables": None,
        "requestContext": {
            "resourcePath": route.resource,
            "httpMethod": method,
            "path": f"/{stage}{url.path}",
            "stage": stage,
            "requestId": str(uuid.uuid4()),
            "requestTimeEpoch": int(time.time() * 1000),
            "protocol": "HTTP/1.1",
            "identity": {"sourceIp": source_ip, "userAgent": headers.get("User-Agent")},
            "accountId": "123456789012",
            "apiId": "local",
        },
        "body": (body.decode("utf-8") if is_text else base64.b64encode(body).decode())
        if body
        else None,
        "isBase64Encoded": bool(body) and not is_text,
    }


def _is_utf8(body: bytes) -> bool:
    try:
        body.decode("utf-8")
    except UnicodeDecodeError:
        return False
    return True


class Refused(Exception):
    """A request the gateway answers itself, before any function: its framing is wrong or it is
    too large."""

    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.message = message


def read_body(headers: Any, rfile: Any, limit: int = MAX_PAYLOAD_BYTES) -> bytes:
    """The request body as ``Content-Length`` or chunked ``Transfer-Encoding`` frames it.

    Raises
    ------
    Refused
        ``400`` for a ``Content-Length`` that is not one non-negative number, both headers at
        once, a transfer coding other than chunked or a malformed chunk, or a body that ends
        early; ``413`` past ``limit`` (read no further).
    """
    lengths = headers.get_all("Content-Length") or []
    coding = ",".join(headers.get_all("Transfer-Encoding") or []).strip().lower()
    if coding:
        # RFC 9112 6.3: both at once is how requests are smuggled; refuse rather than guess.
        if lengths:
            raise Refused(400, "Content-Length and Transfer-Encoding together")
        if coding != "chunked":
            raise Refused(400, f"Transfer-Encoding {coding} is not supported")
        return _read_chunked(rfile, limit)
    if not lengths:
        return b""
    if len(set(lengths)) != 1 or not re.fullmatch(r"[0-9]{1,19}", lengths[0].strip()):
        raise Refused(400, "Content-Length must be one non-negative whole number")
    length = int(lengths[0])
    if length > limit:
        raise Refused(413, "Request Too Long")
    body = rfile.read(length) if length else b""
    if len(body) != length:
        raise Refused(400, "the body ended before Content-Length")
    return bytes(body)


def _read_chunked(rfile: Any, limit: int) -> bytes:
    body = bytearray()
    # Every chunk adds at least one byte; a zero-size chunk ends the loop.
    for _ in range(limit + 1):
        line = rfile.readline(_MAX_CHUNK_LINE + 1)
        size_text = line.split(b";", 1)[0].strip()
        if len(line) > _MAX_CHUNK_LINE or not re.fullmatch(rb"[0-9a-fA-F]{1,8}", size_text):
            raise Refused(400, "malformed chunk size")
        size = int(size_text, 16)
        if size == 0:
            break
        if len(body) + size > limit:
            raise Refused(413, "Request Too Long")
        chunk = rfile.read(size)
        if len(chunk) != size or rfile.read(2) != b"\r\n":
            raise Refused(400, "malformed chunk")
        body += chunk
    # Trailer fields, then the empty line that ends the message.
    for _ in range(100):
        line = rfile.readline(_MAX_CHUNK_LINE + 1)
        if line in (b"\r\n", b"\n", b""):
            return bytes(body)
    raise Refused(400, "too many trailer fields")


class ApiServer:
    """A threaded HTTP server turning requests into proxy events for the routes' functions."""

    def __init__(
        self,
        routes: list[Route],
        lambda_client: Any,
        *,
        stage: str,
        host: str = "127.0.0.1",
        port: int = 8000,
        gateway_responses: GatewayResponses | None = None,
    ) -> None:
        self.routes = routes
        self.lambda_client = lambda_client
        self.stage = stage
        self.gateway_responses = gateway_responses or GatewayResponses()
        handler = self._handler_class()
        self.httpd = ThreadingHTTPServer((host, port), handler)
        self.httpd.daemon_threads = True
        self._thread = threading.Thread(
            # A short poll interval lets shutdown() return at once.
            target=lambda: self.httpd.serve_forever(poll_interval=0.05),
            name="api-server",
            daemon=True,
        )

    @property
    def url(self) -> str:
        host, port = self.httpd.server_address[:2]
        return f"http://{host!s}:{port}"

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()
        self._thread.join(5)

    def dispatch(
        self, method: str, raw_path: str, headers: dict[str, str], body: bytes, source_ip: str
    ) -> tuple[int, list[tuple[str, str]], bytes]:
        """Route one request; returns status, headers and body as API Gateway would."""
        path = urlsplit(raw_path).path
        for route in self.routes:
            match = route.pattern.match(path)
            if match and route.method in (method, "ANY"):
                event = proxy_event(
                    route, self.stage, method, raw_path, headers, body, match.groupdict(), source_ip
                )
                return self._invoke(route, event)
        # Unknown resources and methods are API Gateway's own answer, as the API customises it.
        return self.gateway_responses.answer("MISSING_AUTHENTICATION_TOKEN")

    def _invoke(
        self, route: Route, event: dict[str, Any]
    ) -> tuple[int, list[tuple[str, str]], bytes]:
        response = self.lambda_client.invoke(
            FunctionName=route.function_arn, Payload=json.dumps(event).encode()
        )
        payload = response["Payload"].read()
        if response.get("FunctionError"):
            log.error("%s %s failed: %s", event["httpMethod"], event["path"], payload[:500])
            return self.gateway_responses.answer("INTEGRATION_FAILURE")
        try:
            result = json.loads(payload)
            status = int(result["statusCode"])
        except (ValueError, KeyError, TypeError):
            log.error("malformed proxy response from %s: %s", route.function_arn, payload[:500])
            return self.gateway_responses.answer("INTEGRATION_FAILURE")
        headers = [(k, str(v)) for k, v in (result.get("headers") or {}).items()]
        for name, values in (result.get("multiValueHeaders") or {}).items():
            headers += [(name, str(v)) for v in values if (name, str(v)) not in headers]
        body = result.get("body") or ""
        raw = base64.b64decode(body) if result.get("isBase64Encoded") else body.encode("utf-8")
        return status, headers, raw

    def _handler_class(self) -> type[BaseHTTPRequestHandler]:
        server = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"
            # Seconds a client may stall mid-request before it is answered 408 (or, between
            # requests, the connection closed): no thread waits for ever.
            timeout = _CLIENT_TIMEOUT

            def _serve(self) -> None:
                # Every request gets an answer: a framing fault is the gateway's 400 or 413, and
                # a fault of this server a logged 502, never a dropped connection.
                try:
                    body = read_body(self.headers, self.rfile)
                except ConnectionError:
                    self.close_connection = True  # the client left: nobody to answer
                    return
                except (Refused, TimeoutError) as exc:
                    refused = exc if isinstance(exc, Refused) else Refused(408, "Request Timeout")
                    # Where the next request starts is unknown now: answer, then close.
                    self.close_connection = True
                    if refused.status == 413:
                        self._answer(*server.gateway_responses.answer("REQUEST_TOO_LARGE"))
                    else:
                        message = json.dumps({"message": refused.message}).encode()
                        self._answer(refused.status, [("Content-Type", _JSON)], message)
                    self._drain()
                    return
                try:
                    headers = {k: v for k, v in self.headers.items()}
                    status, out_headers, out = server.dispatch(
                        self.command, self.path, headers, body, self.client_address[0]
                    )
                except Exception:
                    log.exception("%s %s failed in the local API server", self.command, self.path)
                    # What API Gateway answers when the integration fails.
                    status, out_headers, out = server.gateway_responses.answer(
                        "INTEGRATION_FAILURE"
                    )
                self._answer(status, out_headers, out)

            def _answer(self, status: int, out_headers: list[tuple[str, str]], out: bytes) -> None:
                self.send_response(status)
                for name, value in out_headers:
                    if name.lower() not in {"content-length", "connection"}:
                        self.send_header(name, value)
                self.send_header("Content-Length", str(len(out)))
                if self.close_connection:
                    self.send_header("Connection", "close")
                self.end_headers()
                if self.command != "HEAD":
                    self.wfile.write(out)

            def _drain(self) -> None:
                # The client may still be sending what was refused. Closing a socket with
                # unread data resets the connection, which can destroy the answer before the
                # client reads it: so stop writing, and read what comes for a moment.
                with contextlib.suppress(OSError):
                    self.wfile.flush()
                    self.connection.shutdown(socket.SHUT_WR)
                    self.connection.settimeout(_DRAIN_SECONDS)
                    deadline = time.monotonic() + _DRAIN_SECONDS
                    while time.monotonic() < deadline and self.connection.recv(65536):
                        pass

            do_GET = do_POST = do_PUT = do_PATCH = do_DELETE = do_OPTIONS = do_HEAD = _serve

            def log_message(self, format: str, *args: Any) -> None:
                log.info("%s %s", self.address_string(), format % args)

        return Handler
