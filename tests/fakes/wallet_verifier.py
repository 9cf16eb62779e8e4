"""Test doubles of the wallet verifier: its request store, the web, an issuer to trust.

- :class:`FakePresentationRequests` is the in-memory twin of ``PresentationRequestStore``
  (``tests/unit/test_wallet_presentation_requests.py`` runs one suite against both).
- :class:`Web` stands for the network: URL -> handler, every call recorded. The verifier's
  metadata and status-list fetches and the holder's OpenID4VCI/VP calls go through it in unit
  tests.
- :class:`TestIssuer` is test scaffolding, not the province's issuer: an SD-JWT VC issuer made
  from the core (``issue_resident_credential``, ``status_list_token``) with a key generated per
  test, serving its JWT VC Issuer Metadata and a status list through a :class:`Web` (or any
  HTTP server built on :meth:`TestIssuer.answer`).
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from datetime import UTC, date, datetime, timedelta
from typing import Any
from urllib.parse import urlsplit

from gyeonggi.common.errors import Conflict, NotFound
from gyeonggi.wallet.credential import ResidentClaims, issue_resident_credential, resident_vct
from gyeonggi.wallet.jose import LocalSigner
from gyeonggi.wallet.presentation_requests import (
    AlreadyAnswered,
    Outcome,
    PresentationRequest,
    PresentationRequests,
    RequestExpired,
)
from gyeonggi.wallet.status_list import encode_status_list, status_list_token
from gyeonggi.wallet.web_fetch import Fetched, check_url

# ---------------------------------------------------------------------- the request store


class FakePresentationRequests:
    """Presentation requests in a dict, with the DynamoDB store's conditions."""

    def __init__(self) -> None:
        self.items: dict[str, tuple[PresentationRequest, datetime]] = {}

    def create(self, request: PresentationRequest, *, keep_until: datetime) -> None:
        if request.request_id in self.items:
            raise Conflict(f"presentation request {request.request_id} exists")
        self.items[request.request_id] = (request, keep_until)

    def get(self, request_id: str) -> PresentationRequest:
        if request_id not in self.items:
            raise NotFound(f"no presentation request {request_id}")
        return self.items[request_id][0]

    def answer(
        self, request_id: str, outcome: Outcome, *, at: datetime, keep_until: datetime
    ) -> PresentationRequest:
        if request_id not in self.items:
            raise NotFound(f"no presentation request {request_id}")
        request, _ = self.items[request_id]
        if request.answered_at is not None:
            raise AlreadyAnswered(f"presentation request {request_id} has been answered already")
        # The store keeps whole seconds, as DynamoDB's epoch numbers do.
        second = at.replace(microsecond=0)
        if not request.expires_at > second:
            raise RequestExpired(f"presentation request {request_id} has expired")
        answered = replace(request, outcome=outcome, answered_at=second)
        self.items[request_id] = (answered, keep_until)
        return answered


_: type[PresentationRequests] = FakePresentationRequests  # the fake meets the port


# ---------------------------------------------------------------------- the web

Handler = Callable[[str, bytes | None, dict[str, str]], Fetched]


@dataclass
class Web:
    """A stand-in for the network: each URL answered by a handler; calls are recorded."""

    routes: dict[str, Handler] = field(default_factory=dict)
    calls: list[tuple[str, str]] = field(default_factory=list)

    def route(self, url: str, handler: Handler | Fetched) -> None:
        self.routes[url] = handler if callable(handler) else (lambda *_: handler)

    def __call__(
        self,
        url: str,
        *,
        method: str = "GET",
        accept: str = "application/json",
        data: bytes | None = None,
        content_type: str | None = None,
        headers: dict[str, str] | None = None,
        timeout: float = 3.0,
        limit: int = 256 * 1024,
    ) -> Fetched:
        check_url(url)
        self.calls.append((method, url))
        handler = self.routes.get(url.split("?")[0])
        if handler is None:
            return Fetched(404, "application/json", b'{"error":"not_found"}')
        sent = {**(headers or {}), "Accept": accept}
        if content_type:
            sent["Content-Type"] = content_type
        return handler(method, data, sent)

    def count(self, url: str) -> int:
        return sum(1 for _, called in self.calls if called == url)


def json_answer(body: Any, status: int = 200) -> Fetched:
    return Fetched(status, "application/json", json.dumps(body).encode())


# ---------------------------------------------------------------------- an issuer to trust

#: The instant the wallet tests happen at: 1 December 2026, 12:00 in Korea.
NOW = datetime(2026, 12, 1, 3, 0, tzinfo=UTC)


def resident(**changes: Any) -> ResidentClaims:
    """홍길동 of Suwon, born 5 May 2000 (over 19, not 65), with ``changes``."""
    values: dict[str, Any] = {
        "given_name": "길동",
        "family_name": "홍",
        "birthdate": date(2000, 5, 5),
        "jurisdiction": "suwon.gg.kr",
        "address": "경기도 수원시 팔달구 효원로 1",
        "resident_since": date(2010, 3, 2),
    }
    values.update(changes)
    return ResidentClaims(**values)


@dataclass
class TestIssuer:
    """Test scaffolding: an SD-JWT VC issuer with a status list, keys made per test."""

    __test__ = False  # not a test class, whatever pytest thinks of its name

    identifier: str = "https://issuer.test/gyeonggi"
    signer: LocalSigner = field(default_factory=LocalSigner.generate)
    statuses: list[int] = field(default_factory=lambda: [0] * 64)
    ttl: timedelta = timedelta(minutes=5)
    next_index: int = 0
    clock: Callable[[], datetime] = lambda: NOW

    @property
    def vct(self) -> str:
        return resident_vct(self.identifier)

    @property
    def status_uri(self) -> str:
        return self.identifier + "/status-lists/1"

    @property
    def metadata_url(self) -> str:
        parts = urlsplit(self.identifier)
        return f"{parts.scheme}://{parts.netloc}/.well-known/jwt-vc-issuer{parts.path}"

    def issue(
        self,
        holder_jwk: dict[str, str],
        *,
        claims: ResidentClaims | None = None,
        now: datetime | None = None,
        lifetime: timedelta = timedelta(days=365),
        with_status: bool = True,
    ) -> tuple[str, int]:
        """A resident credential for ``holder_jwk`` and its status index."""
        index = self.next_index
        self.next_index += 1
        status = {"status_list": {"idx": index, "uri": self.status_uri}} if with_status else None
        credential = issue_resident_credential(
            claims or resident(),
            issuer=self.identifier,
            holder_jwk=holder_jwk,
            status=status,
            signer=self.signer,
            now=now or self.clock(),
            lifetime=lifetime,
        )
        return credential, index

    def metadata(self) -> dict[str, Any]:
        return {"issuer": self.identifier, "jwks": {"keys": [self.signer.public_jwk()]}}

    def status_token(self) -> str:
        return status_list_token(
            self.status_uri,
            encode_status_list(self.statuses, 2),
            2,
            signer=self.signer,
            now=self.clock(),
            ttl=self.ttl,
            lifetime=timedelta(hours=1),
            issuer=self.identifier,
        )

    def answer(self, path: str) -> tuple[int, str, bytes]:
        """What the issuer serves at ``path`` (status, media type, body), for any server."""
        if path == urlsplit(self.metadata_url).path:
            return 200, "application/json", json.dumps(self.metadata()).encode()
        if path == urlsplit(self.status_uri).path:
            return 200, "application/statuslist+jwt", self.status_token().encode()
        return 404, "application/json", b"{}"

    def serve(self, web: Web) -> None:
        for url in (self.metadata_url, self.status_uri):
            web.route(url, lambda *_, u=url: Fetched(*self.answer(urlsplit(u).path)))


# ---------------------------------------------------------------------- the verifier's identity


@dataclass
class StaticChain:
    """A certificate chain source holding one PEM text (the SSM parameter's stand-in)."""

    pem: str
    reads: int = 0

    def chain_pem(self) -> str:
        self.reads += 1
        return self.pem


def spki_der(jwk: dict[str, str]) -> bytes:
    """The DER SubjectPublicKeyInfo of a P-256 public JWK (what KMS GetPublicKey returns)."""
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric import ec

    from gyeonggi.wallet.jose import b64url_decode

    numbers = ec.EllipticCurvePublicNumbers(
        int.from_bytes(b64url_decode(jwk["x"]), "big"),
        int.from_bytes(b64url_decode(jwk["y"]), "big"),
        ec.SECP256R1(),
    )
    return numbers.public_key().public_bytes(
        serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
    )


@dataclass(frozen=True)
class VerifierIdentity:
    """A request-signing key, its leaf certificate and the CA that issued it."""

    signer: LocalSigner
    leaf_pem: str
    ca_pem: bytes


def verifier_identity(now: datetime = NOW) -> VerifierIdentity:
    """A key certified by a development CA (as the local cloud makes one)."""
    from localcloud.wallet_verifier import issue_verifier_certificate

    signer = LocalSigner.generate()
    ca_pem, leaf_pem = issue_verifier_certificate(spki_der(signer.public_jwk()), now)
    return VerifierIdentity(signer, leaf_pem.decode("ascii"), ca_pem)


# ---------------------------------------------------------------------- an OpenID4VCI issuer

PRE_AUTHORIZED = "urn:ietf:params:oauth:grant-type:pre-authorized_code"


@dataclass
class OpenId4VciTestIssuer(TestIssuer):
    """Test scaffolding for the holder's OpenID4VCI client: the pre-authorized code flow's
    endpoints (metadata, AS metadata, token, nonce, credential) as the spec describes them,
    answered through a :class:`Web`. Not the province's issuer (that is the issuer branch's)."""

    __test__ = False

    configuration_id: str = "gyeonggi_resident"
    codes: dict[str, str] = field(default_factory=dict)  # pre-authorized code -> tx_code
    tokens: set[str] = field(default_factory=set)
    nonces: set[str] = field(default_factory=set)
    claims: ResidentClaims = field(default_factory=resident)

    def url(self, path: str) -> str:
        return self.identifier + path

    def offer(self, tx_code: str | None = "493536") -> dict[str, Any]:
        import secrets

        code = secrets.token_urlsafe(16)
        self.codes[code] = tx_code or ""
        grant: dict[str, Any] = {"pre-authorized_code": code}
        if tx_code is not None:
            grant["tx_code"] = {"length": len(tx_code), "input_mode": "numeric"}
        return {
            "credential_issuer": self.identifier,
            "credential_configuration_ids": [self.configuration_id],
            "grants": {PRE_AUTHORIZED: grant},
        }

    def serve(self, web: Web) -> None:
        super().serve(web)
        parts = urlsplit(self.identifier)
        origin = f"{parts.scheme}://{parts.netloc}"
        metadata = {
            "credential_issuer": self.identifier,
            "credential_endpoint": self.url("/credential"),
            "nonce_endpoint": self.url("/nonce"),
            "credential_configurations_supported": {
                self.configuration_id: {
                    "format": "dc+sd-jwt",
                    "vct": self.vct,
                    "cryptographic_binding_methods_supported": ["jwk"],
                    "credential_signing_alg_values_supported": ["ES256"],
                    "proof_types_supported": {
                        "jwt": {"proof_signing_alg_values_supported": ["ES256"]}
                    },
                }
            },
        }
        web.route(
            f"{origin}/.well-known/openid-credential-issuer{parts.path}", json_answer(metadata)
        )
        web.route(
            f"{origin}/.well-known/oauth-authorization-server{parts.path}",
            json_answer({"issuer": self.identifier, "token_endpoint": self.url("/token")}),
        )
        web.route(self.url("/token"), self._token)
        web.route(self.url("/nonce"), self._nonce)
        web.route(self.url("/credential"), self._credential)

    def _token(self, method: str, data: bytes | None, headers: dict[str, str]) -> Fetched:
        import secrets
        from urllib.parse import parse_qs

        form = {k: v[0] for k, v in parse_qs((data or b"").decode()).items()}
        if form.get("grant_type") != PRE_AUTHORIZED:
            return json_answer({"error": "unsupported_grant_type"}, 400)
        code = form.get("pre-authorized_code", "")
        if code not in self.codes:
            return json_answer({"error": "invalid_grant"}, 400)
        expected = self.codes[code]
        if expected and "tx_code" not in form:
            return json_answer({"error": "invalid_request"}, 400)
        if form.get("tx_code", "") != expected:
            return json_answer({"error": "invalid_grant"}, 400)
        del self.codes[code]  # single use
        token = secrets.token_urlsafe(16)
        self.tokens.add(token)
        return json_answer({"access_token": token, "token_type": "Bearer", "expires_in": 300})

    def _nonce(self, method: str, data: bytes | None, headers: dict[str, str]) -> Fetched:
        import secrets

        nonce = secrets.token_urlsafe(16)
        self.nonces.add(nonce)
        return json_answer({"c_nonce": nonce})

    def _credential(self, method: str, data: bytes | None, headers: dict[str, str]) -> Fetched:
        from gyeonggi.wallet.errors import VerificationFailed
        from gyeonggi.wallet.jose import unverified_header, verify_jws

        token = headers.get("Authorization", "").removeprefix("Bearer ")
        if token not in self.tokens:
            return json_answer({"error": "invalid_token"}, 401)
        request = json.loads(data or b"{}")
        if request.get("credential_configuration_id") != self.configuration_id:
            return json_answer({"error": "unknown_credential_configuration"}, 400)
        try:
            (proof,) = request["proofs"]["jwt"]
            jwk = unverified_header(proof)["jwk"]
            _, claims = verify_jws(proof, jwk, typ="openid4vci-proof+jwt")
        except (KeyError, ValueError, TypeError, VerificationFailed):
            return json_answer({"error": "invalid_proof"}, 400)
        if claims.get("aud") != self.identifier:
            return json_answer({"error": "invalid_proof"}, 400)
        if claims.get("nonce") not in self.nonces:
            return json_answer({"error": "invalid_nonce"}, 400)
        self.nonces.discard(claims["nonce"])
        credential, _ = self.issue(jwk, claims=self.claims)
        return json_answer({"credentials": [{"credential": credential}]})


class WebServer:
    """A :class:`Web` served over real HTTP on 127.0.0.1 (test scaffolding for the tiers that
    run the verifier in the local cloud: its function fetches issuer metadata and status lists
    over the network, as in AWS)."""

    def __init__(self, web: Web) -> None:
        import threading
        from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

        server = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def _serve(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                data = self.rfile.read(length) if length else None
                answer = web(
                    server.url + self.path,
                    method=self.command,
                    accept=self.headers.get("Accept", "*/*"),
                    data=data,
                    content_type=self.headers.get("Content-Type"),
                    headers={k: v for k, v in self.headers.items() if k == "Authorization"},
                )
                self.send_response(answer.status)
                self.send_header("Content-Type", answer.media_type or "application/octet-stream")
                self.send_header("Content-Length", str(len(answer.body)))
                self.end_headers()
                self.wfile.write(answer.body)

            do_GET = do_POST = _serve

            def log_message(self, *args: Any) -> None:
                pass

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.httpd.daemon_threads = True
        self.url = f"http://127.0.0.1:{self.httpd.server_address[1]}"
        self._thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)

    def __enter__(self) -> WebServer:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()
