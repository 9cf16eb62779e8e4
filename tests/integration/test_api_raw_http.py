"""What schemathesis cannot send, sent over a raw socket to the local API server (property-based).

Every route of docs/openapi.yaml, with a valid credential for it, gets bodies of random bytes,
bytes that are not UTF-8, JSON nested far too deep, numbers of thousands of digits, ``NaN``,
forms with broken percent-encoding; query strings and headers of any printable bytes; and
broken framing (a ``Content-Length`` that is not a number, two of them, chunks that are not
chunks). Each request must get a whole HTTP answer below 500, never a dropped connection, and
the server must log no fault of its own. Before issue 9 these were 500s (``RecursionError``,
``ValueError`` past 4,300 digits) or connections closed without an answer.

Examples are few, derandomized and without a deadline: the three properties cost seconds.
"""

from __future__ import annotations

import http.client
import json
import logging
import socket
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote, urlsplit

import pytest
import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from localcloud.cloud import LocalCloud
from tests.conftest import ROOT
from tests.integration.conftest import role_for

pytestmark = pytest.mark.integration

EXAMPLES = settings(
    max_examples=40,
    deadline=None,
    derandomize=True,
    database=None,
    suppress_health_check=list(HealthCheck),
)
# Path parameters filled with values of the right shape, so a request reaches the view.
_SAMPLES = {
    "service_file": "noise.json",
    "request_file": "GG-20261124-0000000A.xml",
    "service_request_id": "GG-20261124-0000000A",
    "incident_id": "inc-20261124T223000-0a1b2c3d4e5f",
    "offer_id": "Gkurxf5T0Y-mnPFCHqWOMi",
    "list_id": "1",
    "enrolment_id": "en-0123456789abcdef01234567",
    "request_id": "Xq3fK9mB2pLs7TvW1nYc0g",
    "session_id": "FS-3q2Zt0m1YkQwP8cV5rBn2A",
    "camera_id": "202637400000800001-01",
    "submission_id": "FA-3q2Zt0m1YkQwP8cV5rBn2A",
    "query_id": "0f4a9e4e-1c1e-4b5b-9d51-3f2f8a1e7c11",
    "file": "complaint_daily_counts.csv",
}


@dataclass(frozen=True)
class Route:
    method: str
    path: str
    role: str | None
    query: tuple[str, ...] = ()

    def __str__(self) -> str:
        return f"{self.method} {self.path}"


def _routes() -> list[Route]:
    """Every operation of the document, its path filled in, with its query parameters."""
    document = yaml.safe_load((ROOT / "docs" / "openapi.yaml").read_text(encoding="utf-8"))

    def resolve(node: dict[str, Any]) -> dict[str, Any]:
        while "$ref" in node:
            target: Any = document
            for part in node["$ref"].removeprefix("#/").split("/"):
                target = target[part]
            node = target
        return node

    routes = []
    for template, item in document["paths"].items():
        path = template.format(**_SAMPLES)
        for method, operation in item.items():
            if method not in ("get", "post", "patch"):
                continue
            parameters = [resolve(p) for p in operation.get("parameters", [])]
            query = tuple(p["name"] for p in parameters if p["in"] == "query")
            role = role_for(operation.get("security", []))
            routes.append(Route(method.upper(), path, role, query))
    return routes


ROUTES = _routes()
WITH_BODY = [r for r in ROUTES if r.method in ("POST", "PATCH")]


@dataclass
class Answer:
    status: int
    body: bytes


def exchange(url: str, request: bytes, timeout: float = 20) -> Answer:
    """Send ``request`` as it is, end the sending side, and read one whole HTTP answer.

    Raises
    ------
    http.client.RemoteDisconnected
        When the server closed the connection without an answer (the fault looked for).
    """
    host, port = urlsplit(url).hostname, urlsplit(url).port
    with socket.create_connection((host, port), timeout=timeout) as sock:
        sock.sendall(request)
        # The end of what is sent is the end of the request: a short body is seen as short at
        # once, rather than after the server's wait for the rest.
        sock.shutdown(socket.SHUT_WR)
        response = http.client.HTTPResponse(sock)
        response.begin()
        return Answer(response.status, response.read())


def raw_request(
    route: Route,
    token: str | None,
    *,
    query: str = "",
    headers: Sequence[tuple[str, str]] = (),
    body: bytes = b"",
    framing: list[tuple[str, str]] | None = None,
) -> bytes:
    """One HTTP/1.1 request, byte for byte: ``framing`` replaces the ``Content-Length`` that
    ``body`` would have."""
    lines = [f"{route.method} {route.path}{'?' + query if query else ''} HTTP/1.1", "Host: test"]
    if token:
        lines.append(f"Authorization: Bearer {token}")
    lines += [f"{name}: {value}" for name, value in headers]
    framing = [("Content-Length", str(len(body)))] if framing is None else framing
    lines += [f"{name}: {value}" for name, value in framing]
    return ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1") + body


@pytest.fixture
def no_server_faults(caplog: pytest.LogCaptureFixture, capsys: pytest.CaptureFixture[str]) -> Any:
    """Fails the test when the API server logs a fault of its own or a handler thread dies."""
    caplog.set_level(logging.ERROR, logger="localcloud.api")
    yield
    faults = [r.getMessage() for r in caplog.records if r.name == "localcloud.api"]
    assert not faults, faults
    assert "Exception occurred during processing of request" not in capsys.readouterr().err


def _check(answer: Answer) -> None:
    assert answer.status < 500, (answer.status, answer.body[:300])


# ------------------------------------------------------------------ strategies

_NOT_UTF8 = [b"\xff", b"\xfe\xff", b"\xc3", b"\xc3\x28", b"\xed\xa0\x80", b"\xf4\x90\x80\x80"]
_CONTENT_TYPES = [
    "application/json",
    "application/x-www-form-urlencoded",
    "text/plain",
    "application/octet-stream",
    "application/json; charset=latin-1",
    "multipart/form-data; boundary=x",
    "",
]
_FIELDS = [
    "description",
    "lat",
    "long",
    "jurisdiction_id",
    "service_code",
    "address_string",
    "first_name",
    "email",
    "note",
    "status",
    "status_notes",
    "attribute[size]",
    "api_key",
]


def _json_values() -> st.SearchStrategy[Any]:
    scalars = st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=20)
    return st.recursive(
        scalars,
        lambda children: (
            st.lists(children, max_size=4)
            | st.dictionaries(st.sampled_from(_FIELDS) | st.text(max_size=8), children, max_size=4)
        ),
        max_leaves=12,
    )


@st.composite
def _deep(draw: st.DrawFn) -> bytes:
    depth = draw(st.integers(17, 20_000))
    opener, closer = draw(st.sampled_from([(b"[", b"]"), (b'{"a":', b"}"), (b'{"citizen":', b"}")]))
    return opener * depth + b"1" + closer * depth


@st.composite
def _huge_number(draw: st.DrawFn) -> bytes:
    digits = draw(st.integers(41, 6_000))
    number = draw(
        st.sampled_from([b"9" * digits, b"-" + b"1" * digits, b"1e999", b"NaN", b"-Infinity"])
    )
    where = draw(st.sampled_from([b'{"citizen": {"birth_year": %s}}', b'{"lat": %s}', b"[%s]"]))
    return where % number


@st.composite
def _not_utf8(draw: st.DrawFn) -> bytes:
    before = draw(st.text(max_size=30)).encode()
    return before + draw(st.sampled_from(_NOT_UTF8)) + draw(st.binary(max_size=10))


def _form() -> st.SearchStrategy[bytes]:
    value = st.text(max_size=20).map(lambda t: quote(t, safe="")) | st.sampled_from(
        ["%", "%zz", "%ff", "%ED%A0%80", "1_0", " 1", "nan", "inf", "0x1f", "\u200b", "%E2%80%8B"]
    )
    pair = st.tuples(st.sampled_from(_FIELDS), value).map(lambda p: f"{p[0]}={p[1]}")
    return st.lists(pair, max_size=6).map(lambda pairs: "&".join(pairs).encode())


BODIES = st.one_of(
    st.binary(max_size=300),
    _not_utf8(),
    _deep(),
    _huge_number(),
    _json_values().map(lambda v: json.dumps(v).encode()),
    _form(),
)


# Each a class of query value that once got a 500 or was taken for something else.
_QUERY_VALUES = {
    "empty": [""],
    "dates at the ends of time": [
        "0001-01-01",
        "9999-12-31",
        "9999-12-31T23:59:59-23:59",
        "0001-01-01T00:00:00+23:59",
        "1899-12-31",
    ],
    "numbers Python reads and JSON does not": [
        "1_0",
        "%201",
        "%2B1",
        "%D9%A1",
        "nan",
        "inf",
        "0x1f",
        "1e3",
        "9" * 5000,
    ],
    "bad percent-encoding": ["%", "%zz", "%ff", "%ED%A0%80", "%00", "%E2%80%8B"],
}


_ANY_VALUE = st.text(max_size=20).map(lambda t: quote(t, safe=""))


@st.composite
def _queries(draw: st.DrawFn, route: Route, name: str) -> list[str]:
    """Query strings with ``name``: one with a value of each class above, one with any text;
    each with up to two more of the route's parameters."""
    values = [draw(st.sampled_from(_QUERY_VALUES[kind])) for kind in sorted(_QUERY_VALUES)]
    values.append(draw(_ANY_VALUE))
    names = st.sampled_from([*route.query, "unknown"])
    queries = []
    for value in values:
        others = draw(st.lists(st.tuples(names, _ANY_VALUE), max_size=2))
        pairs = draw(st.permutations([(name, value), *others]))
        queries.append("&".join(f"{n}={v}" for n, v in pairs))
    return queries


# Header values as HTTP carries them: visible Latin-1, no line breaks.
_HEADER_TEXT = st.text(
    st.characters(min_codepoint=0x20, max_codepoint=0xFF, exclude_characters="\x7f"), max_size=40
)
HEADERS = st.lists(
    st.tuples(
        st.sampled_from(
            [
                "Accept-Language",
                "Content-Type",
                "Authorization",
                "X-Forwarded-Proto",
                "Host",
                "Accept",
                "Expect",
                "X-Whatever",
            ]
        ),
        _HEADER_TEXT,
    ),
    max_size=4,
)
FRAMING = st.sampled_from(
    [
        [("Content-Length", "abc")],
        [("Content-Length", "-5")],
        [("Content-Length", "1e3")],
        [("Content-Length", "5"), ("Content-Length", "6")],
        [("Content-Length", "99999")],  # more than is sent: the body ends early
        [("Content-Length", str(10 * 1024 * 1024 + 1))],
        [("Transfer-Encoding", "chunked")],
        [("Transfer-Encoding", "gzip")],
        [("Transfer-Encoding", "chunked"), ("Content-Length", "3")],
    ]
)


# ------------------------------------------------------------------ properties


@pytest.mark.parametrize("route", WITH_BODY, ids=str)
def test_any_body_is_answered_below_500(
    route: Route, cloud: LocalCloud, tokens: dict[str, str], no_server_faults: None
) -> None:
    token = tokens[route.role] if route.role else None

    @EXAMPLES
    @given(st.sampled_from(_CONTENT_TYPES), BODIES)
    def check(content_type: str, body: bytes) -> None:
        headers = [("Content-Type", content_type)] if content_type else []
        _check(exchange(cloud.api.url, raw_request(route, token, headers=headers, body=body)))

    check()


@pytest.mark.parametrize(
    ("route", "name"),
    [(route, name) for route in ROUTES for name in (*route.query, "unknown")],
    ids=lambda v: str(v),
)
def test_any_query_value_and_headers_are_answered_below_500(
    route: Route, name: str, cloud: LocalCloud, tokens: dict[str, str], no_server_faults: None
) -> None:
    token = tokens[route.role] if route.role else None

    @settings(EXAMPLES, max_examples=2)
    @given(_queries(route, name), HEADERS)
    def check(queries: list[str], headers: list[tuple[str, str]]) -> None:
        for query in queries:
            request = raw_request(route, token, query=query, headers=headers)
            _check(exchange(cloud.api.url, request))

    check()


def test_broken_framing_is_answered_not_dropped(
    cloud: LocalCloud, tokens: dict[str, str], no_server_faults: None
) -> None:
    @settings(EXAMPLES, max_examples=20)
    @given(st.sampled_from(ROUTES), FRAMING, st.binary(max_size=40))
    def check(route: Route, framing: list[tuple[str, str]], body: bytes) -> None:
        token = tokens[route.role] if route.role else None
        request = raw_request(route, token, body=body, framing=framing)
        answer = exchange(cloud.api.url, request)
        assert answer.status in (400, 413), (answer.status, answer.body[:300])

    check()


# ------------------------------------------------------------------ the cases of the issue


@pytest.mark.parametrize(
    ("body", "expected"),
    [
        (b'{"a":' * 5000 + b"1" + b"}" * 5000, "nests deeper than 16 levels"),
        (b'{"citizen": {"birth_year": ' + b"9" * 5000 + b"}}", "a number of 5,000 characters"),
        (b'{"lat": NaN}', "NaN is not a JSON number"),
        (b'{"description": "\\ud800"}', "lone surrogate"),
        (b'{"description": "\xff"}', "is not UTF-8"),
        (b"{" + b" " * (128 * 1024) + b"}", "at most 131,072 are read"),
    ],
)
def test_the_bodies_of_issue_9_are_4xx_naming_what_is_wrong(
    cloud: LocalCloud, tokens: dict[str, str], body: bytes, expected: str
) -> None:
    route = Route("POST", "/complaints", "citizen")
    json_type = [("Content-Type", "application/json")]
    answer = exchange(
        cloud.api.url, raw_request(route, tokens["citizen"], headers=json_type, body=body)
    )
    assert answer.status in (400, 413)
    assert expected in json.loads(answer.body)[0]["description"]


@pytest.mark.parametrize(
    ("route", "name"),
    [(route, name) for route in ROUTES for name in route.query],
    ids=lambda v: str(v),
)
def test_an_empty_query_value_is_a_400_naming_it_never_the_default(
    route: Route, name: str, cloud: LocalCloud, tokens: dict[str, str]
) -> None:
    token = tokens[route.role] if route.role else None
    answer = exchange(cloud.api.url, raw_request(route, token, query=f"{name}="))
    assert answer.status == 400, (answer.status, answer.body[:300])


@pytest.mark.parametrize(
    ("path", "query", "name"),
    [
        ("/open311/v2/requests.json", "start_date=9999-12-31", "start_date"),
        ("/open311/v2/requests.xml", "end_date=0001-01-01", "end_date"),
        ("/open311/v2/servicerequestupdates.json", "end_date=0001-01-01", "end_date"),
        (
            "/open311/v2/servicerequestupdates.json",
            "start_date=9999-12-31T23:59:59-23:59",
            "start_date",
        ),
        ("/open311/v2/requests.json", "page=1_0", "page"),
        ("/open311/v2/requests.json", "page_size=%2010", "page_size"),
    ],
)
def test_the_queries_of_issue_9_are_400_naming_the_parameter(
    cloud: LocalCloud, path: str, query: str, name: str
) -> None:
    answer = exchange(cloud.api.url, raw_request(Route("GET", path, None), None, query=query))
    assert answer.status == 400
    assert name in answer.body.decode()
