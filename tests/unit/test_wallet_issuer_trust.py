"""Trust in issuers (their JWT VC Issuer Metadata, cached) and status lists (cached for their
``ttl``), and the bounded fetch both use."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from datetime import timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest

from gyeonggi.common.errors import InvalidInput
from gyeonggi.wallet.errors import VerificationFailed
from gyeonggi.wallet.issuer_trust import IssuerTrust, metadata_url, parse_trusted_issuers
from gyeonggi.wallet.jose import LocalSigner
from gyeonggi.wallet.presentation_requests import PresentationRejected
from gyeonggi.wallet.status_checks import StatusListCache
from gyeonggi.wallet.web_fetch import Fetched, FetchFailed, check_url, fetch
from tests.fakes.wallet_verifier import NOW, TestIssuer, Web, json_answer


@pytest.mark.parametrize(
    ("issuer", "url"),
    [
        ("https://issuer.test", "https://issuer.test/.well-known/jwt-vc-issuer"),
        ("https://issuer.test/", "https://issuer.test/.well-known/jwt-vc-issuer"),
        ("https://api.test/dev/wallet", "https://api.test/.well-known/jwt-vc-issuer/dev/wallet"),
        ("http://127.0.0.1:8000/wallet", "http://127.0.0.1:8000/.well-known/jwt-vc-issuer/wallet"),
    ],
)
def test_the_metadata_url_inserts_the_well_known_part_before_the_path(
    issuer: str, url: str
) -> None:
    assert metadata_url(issuer) == url


def test_trusted_issuers_are_read_from_spaces_or_commas() -> None:
    assert parse_trusted_issuers(" https://a.test, https://b.test/x  https://c.test ") == {
        "https://a.test",
        "https://b.test/x",
        "https://c.test",
    }
    assert parse_trusted_issuers("") == frozenset()


class Clock:
    def __init__(self) -> None:
        self.t = 0.0

    def __call__(self) -> float:
        return self.t


def trust_for(issuer: TestIssuer, web: Web, clock: Clock) -> IssuerTrust:
    issuer.serve(web)
    return IssuerTrust(frozenset({issuer.identifier}), fetcher=web, clock=clock)


def test_keys_come_from_the_metadata_and_are_cached() -> None:
    issuer, web, clock = TestIssuer(), Web(), Clock()
    trust = trust_for(issuer, web, clock)
    kid = issuer.signer.kid
    key = trust(issuer.identifier, kid)
    assert key["x"] == issuer.signer.public_jwk()["x"] and key["kid"] == kid
    trust(issuer.identifier, kid)
    assert web.count(issuer.metadata_url) == 1
    clock.t = 301
    trust(issuer.identifier, kid)
    assert web.count(issuer.metadata_url) == 2


def test_an_untrusted_issuer_is_refused_before_any_fetch() -> None:
    issuer, web, clock = TestIssuer(), Web(), Clock()
    trust = trust_for(issuer, web, clock)
    with pytest.raises(PresentationRejected) as caught:
        trust("https://elsewhere.test", issuer.signer.kid)
    assert caught.value.reason == "issuer_untrusted"
    assert web.calls == []


def test_an_unknown_kid_refetches_at_most_every_30_seconds() -> None:
    issuer, web, clock = TestIssuer(), Web(), Clock()
    trust = trust_for(issuer, web, clock)
    trust(issuer.identifier, issuer.signer.kid)
    for t in (1, 10, 31, 40, 50):
        clock.t = t
        with pytest.raises(VerificationFailed) as caught:
            trust(issuer.identifier, "rotated-kid")
        assert caught.value.reason == "issuer_key"
    # Fetched at 0, refetched at 31 (the first unknown kid 30 s after the last fetch).
    assert web.count(issuer.metadata_url) == 2
    # The issuer rotates: the new key is found on the next refetch.
    issuer.signer = LocalSigner.generate()
    clock.t = 62
    assert trust(issuer.identifier, issuer.signer.kid)["kid"] == issuer.signer.kid


def test_metadata_of_another_issuer_or_without_keys_is_not_used() -> None:
    issuer, web, clock = TestIssuer(), Web(), Clock()
    trust = IssuerTrust(frozenset({issuer.identifier}), fetcher=web, clock=clock)
    metadata: Any
    for metadata in (
        {"issuer": "https://evil.test", "jwks": issuer.metadata()["jwks"]},
        {"issuer": issuer.identifier},
        {"issuer": issuer.identifier, "jwks": {"keys": []}},
        [],
    ):
        web.route(issuer.metadata_url, json_answer(metadata))
        clock.t += 31
        with pytest.raises(PresentationRejected) as caught:
            trust(issuer.identifier, issuer.signer.kid)
        assert caught.value.reason == "issuer_metadata_unavailable"


def test_keys_may_be_at_a_jwks_uri() -> None:
    issuer, web, clock = TestIssuer(), Web(), Clock()
    web.route(
        issuer.metadata_url,
        json_answer({"issuer": issuer.identifier, "jwks_uri": "https://issuer.test/jwks.json"}),
    )
    web.route("https://issuer.test/jwks.json", json_answer(issuer.metadata()["jwks"]))
    trust = IssuerTrust(frozenset({issuer.identifier}), fetcher=web, clock=clock)
    assert trust(issuer.identifier, issuer.signer.kid)["kid"] == issuer.signer.kid


def test_known_keys_keep_answering_for_a_while_when_the_metadata_is_down() -> None:
    issuer, web, clock = TestIssuer(), Web(), Clock()
    trust = trust_for(issuer, web, clock)
    trust(issuer.identifier, issuer.signer.kid)
    web.route(issuer.metadata_url, json_answer({}, 503))
    clock.t = 600
    assert trust(issuer.identifier, issuer.signer.kid)
    clock.t = 3601
    with pytest.raises(PresentationRejected):
        trust(issuer.identifier, issuer.signer.kid)


# ------------------------------------------------------------------ status lists


def test_a_status_list_is_verified_and_read() -> None:
    issuer, web = TestIssuer(), Web()
    trust = trust_for(issuer, web, Clock())
    issuer.statuses[3], issuer.statuses[4] = 1, 2
    status = StatusListCache(trust, fetcher=web, clock=lambda: NOW)
    assert [status(issuer.status_uri, i) for i in (0, 3, 4)] == [0, 1, 2]
    assert status.fetches == 1


def test_a_status_list_signed_by_an_untrusted_key_is_refused() -> None:
    issuer, web = TestIssuer(), Web()
    trust = trust_for(issuer, web, Clock())
    impostor = TestIssuer(signer=LocalSigner.generate())
    forged = Fetched(200, "application/statuslist+jwt", impostor.status_token().encode())
    web.route(issuer.status_uri, forged)
    status = StatusListCache(trust, fetcher=web, clock=lambda: NOW)
    with pytest.raises(VerificationFailed) as caught:
        status(issuer.status_uri, 0)
    assert caught.value.reason.startswith("status_list_")


def test_the_cache_holds_a_bounded_number_of_lists() -> None:
    issuer, web = TestIssuer(), Web()
    trust = trust_for(issuer, web, Clock())
    status = StatusListCache(trust, fetcher=web, clock=lambda: NOW, max_entries=1)
    status(issuer.status_uri, 0)
    assert len(status._lists) == 1


def test_a_token_is_cached_until_its_expiry_when_its_ttl_is_longer() -> None:
    now = [NOW]
    issuer, web = TestIssuer(ttl=timedelta(hours=5), clock=lambda: now[0]), Web()
    trust = trust_for(issuer, web, Clock())
    status = StatusListCache(trust, fetcher=web, clock=lambda: now[0])
    status(issuer.status_uri, 0)
    now[0] = NOW + timedelta(minutes=59)
    status(issuer.status_uri, 0)
    assert status.fetches == 1
    now[0] = NOW + timedelta(hours=1)  # the token's exp (lifetime one hour)
    status(issuer.status_uri, 0)
    assert status.fetches == 2


# ------------------------------------------------------------------ the fetch itself


@pytest.mark.parametrize(
    "url",
    [
        "http://issuer.test/x",
        "ftp://issuer.test/x",
        "file:///etc/passwd",
        "https://user:pw@issuer.test/",
        "https:///nohost",
        "https://issuer.test:port/",
        "javascript:alert(1)",
    ],
)
def test_only_https_or_loopback_http_is_fetched(url: str) -> None:
    with pytest.raises(InvalidInput):
        check_url(url)


class _Server:
    def __init__(self, answers: dict[str, tuple[int, dict[str, str], bytes]]) -> None:
        outer = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                status, headers, body = answers.get(self.path, (404, {}, b""))
                if status == 0:  # stall: never answer within the client's timeout
                    outer.stalled.wait(5)
                    return
                self.send_response(status)
                for name, value in headers.items():
                    self.send_header(name, value)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *args: Any) -> None:
                pass

        self.stalled = threading.Event()
        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.httpd.daemon_threads = True
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)
        self.url = f"http://127.0.0.1:{self.httpd.server_address[1]}"

    def __enter__(self) -> _Server:
        self.thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stalled.set()
        self.httpd.shutdown()
        self.httpd.server_close()


@pytest.fixture
def server() -> Iterator[_Server]:
    answers = {
        "/ok": (
            200,
            {"Content-Type": "application/json; charset=utf-8"},
            json.dumps({"a": 1}).encode(),
        ),
        "/moved": (302, {"Location": "/ok"}, b""),
        "/big": (200, {}, b"x" * 2000),
        "/error": (400, {"Content-Type": "application/json"}, b'{"error":"invalid_grant"}'),
        "/stall": (0, {}, b""),
    }
    with _Server(answers) as running:
        yield running


def test_fetch_reads_answers_and_errors_but_no_redirect_nor_too_much(server: _Server) -> None:
    ok = fetch(server.url + "/ok")
    assert (ok.status, ok.media_type, ok.json()) == (200, "application/json", {"a": 1})
    error = fetch(server.url + "/error")
    assert (error.ok, error.json()) == (False, {"error": "invalid_grant"})
    with pytest.raises(FetchFailed, match="redirect"):
        fetch(server.url + "/moved")
    with pytest.raises(FetchFailed, match="larger"):
        fetch(server.url + "/big", limit=1000)
    with pytest.raises(FetchFailed):
        fetch(server.url + "/stall", timeout=0.2)
