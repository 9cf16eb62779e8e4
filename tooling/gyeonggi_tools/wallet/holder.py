"""A holder's wallet on this machine: its key, its credentials, OpenID4VCI in, OpenID4VP out.

What a tester or a kiosk uses in place of a phone wallet (``gyeonggi wallet accept | list |
present``), written against the specifications rather than this project's issuer and
verifier, so that it talks to any conformant one:

- **The wallet file** holds a P-256 private key (PKCS #8 PEM) and the credentials, as JSON. It
  is created with mode ``0600`` and replaced atomically (a temporary file in the same folder,
  written, flushed, renamed), so a crash never leaves half a wallet; a file others may read is
  refused, as ``ssh`` refuses such a key.
- **Accepting an offer** (OpenID4VCI 1.0, pre-authorized code flow): the offer by value or by
  reference; the issuer's metadata (``/.well-known/openid-credential-issuer`` inserted before
  the path) and its authorization server's (RFC 8414); the token request with the
  pre-authorized code and the ``tx_code`` the person types; a ``c_nonce`` from the nonce
  endpoint; a proof JWT (``typ`` ``openid4vci-proof+jwt``, the public key in ``jwk``, ``aud``
  the issuer, ``nonce``, ``iat``); the credential request. The credential is verified with the
  issuer's keys (its JWT VC Issuer Metadata) and must be bound to this wallet's key.
- **Presenting** (OpenID4VP 1.0): the request object from ``request_uri``, checked as a wallet
  must (``typ`` ``oauth-authz-req+jwt``, ES256, the ``x509_hash`` client id against the leaf
  certificate, the chain against the verifier trust anchors configured here, the signature,
  ``response_mode`` ``direct_post``, ``client_id`` identical in the URI and the object); for
  each DCQL credential query, a stored credential that meets it, disclosing only the claims
  the query asks for (the first ``claim_sets`` option it can meet) plus a KB-JWT with the
  request's ``nonce`` and ``aud`` = the full client id; ``vp_token`` posted to ``response_uri``
  as a form with ``state``. A query no stored credential meets is answered
  ``error=access_denied``.

Nothing here follows an HTTP redirect (OpenID4VP 1.0, 14.10).
"""

from __future__ import annotations

import base64
import contextlib
import hashlib
import itertools
import json
import os
import secrets
import stat
import tempfile
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlencode, urlsplit, urlunsplit

from gyeonggi.common.errors import DomainError, InvalidInput
from gyeonggi.wallet.web_fetch import Fetched, FetchFailed, check_url, fetch

WALLET_FORMAT = "gyeonggi-wallet/1"
OFFER_SCHEME = "openid-credential-offer"
VP_SCHEME = "openid4vp"
PRE_AUTHORIZED_GRANT = "urn:ietf:params:oauth:grant-type:pre-authorized_code"
PROOF_TYP = "openid4vci-proof+jwt"
REQUEST_OBJECT_TYP = "oauth-authz-req+jwt"
STATIC_AUDIENCE = "https://self-issued.me/v2"
#: Environment variable naming the wallet file, and the default.
WALLET_ENV = "GYEONGGI_WALLET"
DEFAULT_WALLET = Path.home() / ".gyeonggi" / "wallet.json"
#: Environment variable naming PEM files of the verifier trust anchors (``os.pathsep`` apart).
ANCHORS_ENV = "GYEONGGI_WALLET_VERIFIER_ANCHORS"

Fetcher = Callable[..., Fetched]


class HolderError(DomainError):
    """Something the holder cannot do, with what the other side said (an OAuth error code)."""

    code = "holder_error"

    def __init__(self, message: str, *, error: str | None = None) -> None:
        super().__init__(message)
        self.error = error


# ---------------------------------------------------------------------- the wallet file


@dataclass
class StoredCredential:
    """One credential the wallet holds.

    ``claims`` is the processed payload (every claim, as verified when it was accepted): the
    holder's own view, used to match DCQL queries without verifying again.
    """

    id: str
    issuer: str
    vct: str
    credential: str
    claims: dict[str, Any]
    credential_configuration_id: str
    accepted_at: str
    expires_at: str | None

    def to_json(self) -> dict[str, Any]:
        return dict(vars(self))

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> StoredCredential:
        return cls(**{k: data[k] for k in cls.__dataclass_fields__ if k in data})


@dataclass
class HolderWallet:
    """The wallet file: the holder's key and credentials.

    Use :meth:`open` (creates the file on first use) and :meth:`save` after a change.
    """

    path: Path
    key_pem: bytes
    credentials: list[StoredCredential] = field(default_factory=list)

    @classmethod
    def default_path(cls, given: str | Path | None = None) -> Path:
        """``given``, else ``$GYEONGGI_WALLET``, else ``~/.gyeonggi/wallet.json``."""
        return Path(given or os.environ.get(WALLET_ENV) or DEFAULT_WALLET).expanduser()

    @classmethod
    def open(cls, path: Path, *, create: bool = True) -> HolderWallet:
        """The wallet at ``path``; a new one (with a new key) if there is none and ``create``.

        Raises
        ------
        HolderError
            The file is readable or writable by others than its owner, or is not a wallet.
        """
        if not path.exists():
            if not create:
                raise HolderError(f"no wallet at {path}")
            from gyeonggi.wallet.jose import LocalSigner

            wallet = cls(path, LocalSigner.generate().private_pem())
            wallet.save()
            return wallet
        mode = stat.S_IMODE(path.stat().st_mode)
        if mode & 0o077:
            raise HolderError(
                f"{path} may be read by others (mode {mode:o}): it holds a private key; "
                f"chmod 600 {path}"
            )
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
            if data.get("format") != WALLET_FORMAT:
                raise ValueError(data.get("format"))
            return cls(
                path,
                data["key"]["pem"].encode("ascii"),
                [StoredCredential.from_json(c) for c in data.get("credentials", [])],
            )
        except (ValueError, KeyError, TypeError, AttributeError):
            raise HolderError(f"{path} is not a wallet file ({WALLET_FORMAT})") from None

    def save(self) -> None:
        """Write the wallet atomically, mode ``0600`` from its first byte."""
        self.path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
        data = {
            "format": WALLET_FORMAT,
            "key": {"pem": self.key_pem.decode("ascii")},
            "credentials": [c.to_json() for c in self.credentials],
        }
        # mkstemp creates the file with mode 0600 (O_EXCL): never visible with wider rights.
        handle, temporary = tempfile.mkstemp(prefix=".wallet-", dir=self.path.parent)
        try:
            with os.fdopen(handle, "w", encoding="utf-8") as out:
                json.dump(data, out, ensure_ascii=False, indent=2)
                out.flush()
                os.fsync(out.fileno())
            os.chmod(temporary, 0o600)
            os.replace(temporary, self.path)
        except BaseException:
            with contextlib.suppress(FileNotFoundError):
                os.unlink(temporary)
            raise

    @property
    def signer(self) -> Any:
        """The holder's key as the core's ``LocalSigner``."""
        from gyeonggi.wallet.jose import LocalSigner

        return LocalSigner.from_pem(self.key_pem)

    def add(self, credential: StoredCredential) -> None:
        self.credentials.append(credential)


# ---------------------------------------------------------------------- shared HTTP helpers


def well_known_url(identifier: str, suffix: str) -> str:
    """``/.well-known/<suffix>`` inserted between the host and the path (RFC 8414, 3.1;
    OpenID4VCI 1.0, 12.2.2)."""
    parts = urlsplit(identifier)
    path = parts.path.rstrip("/")
    return urlunsplit((parts.scheme, parts.netloc, f"/.well-known/{suffix}{path}", "", ""))


def _json_answer(answer: Fetched, what: str) -> dict[str, Any]:
    if not answer.ok:
        error = _oauth_error(answer)
        raise HolderError(f"{what} answered {answer.status}{error[1]}", error=error[0])
    data = answer.json()
    if not isinstance(data, dict):
        raise HolderError(f"{what} did not answer a JSON object")
    return data


def _oauth_error(answer: Fetched) -> tuple[str | None, str]:
    try:
        data = answer.json()
    except FetchFailed:
        return None, ""
    if isinstance(data, dict) and isinstance(data.get("error"), str):
        description = data.get("error_description")
        text = f": {data['error']}" + (f" ({description})" if isinstance(description, str) else "")
        return data["error"], text
    return None, ""


def _get_json(fetcher: Fetcher, url: str, what: str) -> dict[str, Any]:
    return _json_answer(fetcher(url, accept="application/json"), what)


# ---------------------------------------------------------------------- OpenID4VCI: accept


@dataclass(frozen=True)
class CredentialOffer:
    """The parameters of a credential offer (OpenID4VCI 1.0, 4.1.1), pre-authorized grant."""

    credential_issuer: str
    credential_configuration_ids: tuple[str, ...]
    pre_authorized_code: str
    tx_code: dict[str, Any] | None
    authorization_server: str | None


def read_offer(uri: str, fetcher: Fetcher = fetch) -> CredentialOffer:
    """The offer in an ``openid-credential-offer://`` URI, by value or by reference.

    Raises
    ------
    HolderError
        Not an offer URI, both or neither of ``credential_offer`` and ``credential_offer_uri``,
        or an offer without the pre-authorized code grant.
    """
    parts = urlsplit(uri.strip())
    if parts.scheme != OFFER_SCHEME:
        raise HolderError(f"not a credential offer URI ({OFFER_SCHEME}://...)")
    query = parse_qs(parts.query, keep_blank_values=True)
    by_value, by_reference = query.get("credential_offer"), query.get("credential_offer_uri")
    if bool(by_value) == bool(by_reference):
        raise HolderError("an offer has exactly one of credential_offer and credential_offer_uri")
    if by_value:
        try:
            offer = json.loads(by_value[0])
        except ValueError:
            raise HolderError("credential_offer is not JSON") from None
    else:
        assert by_reference is not None
        answer = fetcher(check_url(by_reference[0], "credential_offer_uri"))
        offer = _json_answer(answer, "the credential offer URI")
    return _parse_offer(offer)


def _parse_offer(offer: Any) -> CredentialOffer:
    if not isinstance(offer, dict):
        raise HolderError("the credential offer is not a JSON object")
    issuer = offer.get("credential_issuer")
    ids = offer.get("credential_configuration_ids")
    grant = (offer.get("grants") or {}).get(PRE_AUTHORIZED_GRANT)
    if not isinstance(issuer, str) or not isinstance(ids, list) or not ids:
        raise HolderError("the offer lacks credential_issuer or credential_configuration_ids")
    if not all(isinstance(i, str) for i in ids):
        raise HolderError("credential_configuration_ids are not strings")
    if not isinstance(grant, dict) or not isinstance(grant.get("pre-authorized_code"), str):
        raise HolderError("the offer has no pre-authorized code grant (the only flow supported)")
    tx_code = grant.get("tx_code")
    if tx_code is not None and not isinstance(tx_code, dict):
        raise HolderError("tx_code in the offer is not an object")
    server = grant.get("authorization_server")
    return CredentialOffer(
        check_url(issuer, "credential_issuer"),
        tuple(ids),
        grant["pre-authorized_code"],
        tx_code,
        server if isinstance(server, str) else None,
    )


def accept_offer(
    uri: str,
    wallet: HolderWallet,
    *,
    tx_code: str | None = None,
    ask_tx_code: Callable[[Mapping[str, Any]], str] | None = None,
    now: Callable[[], datetime] | None = None,
    fetcher: Fetcher = fetch,
) -> list[StoredCredential]:
    """Run the pre-authorized code flow for every credential offered; store and return them.

    Parameters
    ----------
    tx_code
        The transaction code, when given on the command line.
    ask_tx_code
        Asks the person for it (given the offer's ``tx_code`` object) when the offer needs one
        and ``tx_code`` is ``None``.

    Raises
    ------
    HolderError
        Whatever step failed, with the OAuth error the server answered.
    """
    from gyeonggi.common.clock import now as utc_now

    clock = now or utc_now
    offer = read_offer(uri, fetcher)
    issuer_metadata = _get_json(
        fetcher,
        well_known_url(offer.credential_issuer, "openid-credential-issuer"),
        "the issuer's metadata",
    )
    if issuer_metadata.get("credential_issuer") != offer.credential_issuer:
        # OpenID4VCI 1.0, 12.2.4: otherwise the metadata must not be used.
        raise HolderError("the issuer's metadata names another credential_issuer")
    configurations = issuer_metadata.get("credential_configurations_supported") or {}
    credential_endpoint = check_url(
        str(issuer_metadata.get("credential_endpoint")), "credential_endpoint"
    )
    nonce_endpoint = issuer_metadata.get("nonce_endpoint")
    token_endpoint = _token_endpoint(offer, issuer_metadata, fetcher)
    code = tx_code
    if offer.tx_code is not None and code is None:
        if ask_tx_code is None:
            raise HolderError("the offer needs a transaction code (tx_code)")
        code = ask_tx_code(offer.tx_code)
    if offer.tx_code is not None:
        code = _checked_tx_code(code or "", offer.tx_code)
    form = {"grant_type": PRE_AUTHORIZED_GRANT, "pre-authorized_code": offer.pre_authorized_code}
    if offer.tx_code is not None and code is not None:
        form["tx_code"] = code
    token = _json_answer(
        fetcher(
            token_endpoint,
            method="POST",
            data=urlencode(form).encode(),
            content_type="application/x-www-form-urlencoded",
        ),
        "the token endpoint",
    )
    access_token, token_type = token.get("access_token"), str(token.get("token_type", ""))
    if not isinstance(access_token, str) or token_type.lower() != "bearer":
        raise HolderError("the token endpoint gave no bearer access token (DPoP is not supported)")
    identifiers = _credential_identifiers(token)
    accepted: list[StoredCredential] = []
    for configuration_id in offer.credential_configuration_ids:
        configuration = configurations.get(configuration_id)
        if not isinstance(configuration, dict) or configuration.get("format") != "dc+sd-jwt":
            raise HolderError(f"{configuration_id}: not an SD-JWT VC (dc+sd-jwt) this wallet takes")
        _check_proof_alg(configuration_id, configuration)
        request: dict[str, Any] = (
            {"credential_identifier": identifiers[configuration_id][0]}
            if configuration_id in identifiers
            else {"credential_configuration_id": configuration_id}
        )
        credential = _request_credential(
            wallet,
            request,
            issuer=offer.credential_issuer,
            credential_endpoint=credential_endpoint,
            nonce_endpoint=nonce_endpoint if isinstance(nonce_endpoint, str) else None,
            authorization=f"Bearer {access_token}",
            now=clock(),
            fetcher=fetcher,
        )
        stored = _verified_for_holder(
            credential, wallet, configuration_id, offer.credential_issuer, clock(), fetcher
        )
        wallet.add(stored)
        accepted.append(stored)
    wallet.save()
    return accepted


def _token_endpoint(offer: CredentialOffer, metadata: Mapping[str, Any], fetcher: Fetcher) -> str:
    servers = metadata.get("authorization_servers") or [offer.credential_issuer]
    if not isinstance(servers, list) or not all(isinstance(s, str) for s in servers):
        raise HolderError("authorization_servers in the issuer's metadata is not a list of URLs")
    server = servers[0]
    if offer.authorization_server is not None:
        if offer.authorization_server not in servers:
            raise HolderError("the offer's authorization_server is not one of the issuer's")
        server = offer.authorization_server
    as_metadata = _get_json(
        fetcher,
        well_known_url(server, "oauth-authorization-server"),
        "the authorization server's metadata",
    )
    if as_metadata.get("issuer") != server:
        raise HolderError("the authorization server's metadata names another issuer")
    return check_url(str(as_metadata.get("token_endpoint")), "token_endpoint")


def _checked_tx_code(code: str, spec: Mapping[str, Any]) -> str:
    code = code.strip()
    if not code:
        raise HolderError("the transaction code is empty")
    if spec.get("input_mode", "numeric") == "numeric" and not code.isdigit():
        raise HolderError("the transaction code is digits only")
    length = spec.get("length")
    if isinstance(length, int) and len(code) != length:
        raise HolderError(f"the transaction code has {length} characters")
    return code


def _credential_identifiers(token: Mapping[str, Any]) -> dict[str, list[str]]:
    found: dict[str, list[str]] = {}
    for detail in token.get("authorization_details") or []:
        if isinstance(detail, dict) and detail.get("type") == "openid_credential":
            ids = detail.get("credential_identifiers")
            config = detail.get("credential_configuration_id")
            if isinstance(config, str) and isinstance(ids, list) and ids:
                found[config] = [str(i) for i in ids]
    return found


def _check_proof_alg(configuration_id: str, configuration: Mapping[str, Any]) -> None:
    proof_types = configuration.get("proof_types_supported")
    if proof_types is None:
        return
    jwt_proof = proof_types.get("jwt") if isinstance(proof_types, dict) else None
    algs = (
        jwt_proof.get("proof_signing_alg_values_supported") if isinstance(jwt_proof, dict) else None
    )
    if not isinstance(algs, list) or "ES256" not in algs:
        raise HolderError(f"{configuration_id}: the issuer takes no ES256 jwt proof")


def _request_credential(
    wallet: HolderWallet,
    request: dict[str, Any],
    *,
    issuer: str,
    credential_endpoint: str,
    nonce_endpoint: str | None,
    authorization: str,
    now: datetime,
    fetcher: Fetcher,
) -> str:
    from gyeonggi.wallet.jose import sign_jws

    signer = wallet.signer
    for attempt in range(2):  # a second time only after invalid_nonce, with a fresh c_nonce
        claims: dict[str, Any] = {"aud": issuer, "iat": int(now.timestamp())}
        if nonce_endpoint is not None:
            answer = _json_answer(
                fetcher(check_url(nonce_endpoint, "nonce_endpoint"), method="POST", data=b""),
                "the nonce endpoint",
            )
            if not isinstance(answer.get("c_nonce"), str):
                raise HolderError("the nonce endpoint gave no c_nonce")
            claims["nonce"] = answer["c_nonce"]
        header = {"typ": PROOF_TYP, "jwk": signer.public_jwk()}
        header["jwk"].pop("kid", None)
        proof = sign_jws(header, claims, signer)
        answer_raw = fetcher(
            credential_endpoint,
            method="POST",
            data=json.dumps({**request, "proofs": {"jwt": [proof]}}).encode(),
            content_type="application/json",
            headers={"Authorization": authorization},
        )
        if not answer_raw.ok and attempt == 0 and _oauth_error(answer_raw)[0] == "invalid_nonce":
            continue
        answer = _json_answer(answer_raw, "the credential endpoint")
        credentials = answer.get("credentials")
        if "transaction_id" in answer:
            raise HolderError("the issuer deferred the credential (not supported here)")
        if (
            not isinstance(credentials, list)
            or not credentials
            or not isinstance(credentials[0], dict)
            or not isinstance(credentials[0].get("credential"), str)
        ):
            raise HolderError("the credential endpoint gave no credential")
        return str(credentials[0]["credential"])
    raise HolderError("the issuer refused two fresh nonces", error="invalid_nonce")


def _verified_for_holder(
    credential: str,
    wallet: HolderWallet,
    configuration_id: str,
    issuer: str,
    now: datetime,
    fetcher: Fetcher,
) -> StoredCredential:
    from gyeonggi.wallet.credential import verify_issued_credential
    from gyeonggi.wallet.errors import VerificationFailed
    from gyeonggi.wallet.issuer_trust import IssuerTrust

    trust = IssuerTrust(frozenset({issuer}), fetcher=fetcher)
    try:
        verified = verify_issued_credential(credential, issuer_jwks=trust, now=now)
    except VerificationFailed as failed:
        raise HolderError(f"the credential does not verify: {failed.reason}") from None
    except DomainError as failed:
        raise HolderError(f"the credential cannot be verified: {failed.message}") from None
    own = wallet.signer.public_jwk()
    if (verified.holder_jwk.get("x"), verified.holder_jwk.get("y")) != (own["x"], own["y"]):
        raise HolderError("the credential is bound to another key than this wallet's")
    return StoredCredential(
        id="c-" + secrets.token_hex(4),
        issuer=verified.issuer,
        vct=verified.vct,
        credential=credential,
        claims=verified.claims,
        credential_configuration_id=configuration_id,
        accepted_at=now.isoformat(),
        expires_at=verified.expires_at.isoformat() if verified.expires_at else None,
    )


# ---------------------------------------------------------------------- OpenID4VP: present


@dataclass(frozen=True)
class AuthorizationRequest:
    """A verified request object's parameters (what the wallet acts on)."""

    client_id: str
    response_uri: str
    nonce: str
    state: str | None
    dcql_query: dict[str, Any]
    purpose: str | None
    verifier_subject: str


@dataclass(frozen=True)
class PresentationPlan:
    """What would be sent: per credential query, the stored credential and the claim paths
    disclosed (never values: the person is asked to consent to this)."""

    request: AuthorizationRequest
    selections: tuple[tuple[str, StoredCredential, tuple[tuple[Any, ...], ...]], ...]
    unmet: tuple[str, ...]


def load_trust_anchors(paths: Sequence[str | Path] = ()) -> list[Any]:
    """Verifier trust anchors (X.509, PEM) from ``paths`` and the variable
    ``$GYEONGGI_WALLET_VERIFIER_ANCHORS``."""
    from cryptography import x509

    files = [Path(p) for p in paths]
    files += [Path(p) for p in os.environ.get(ANCHORS_ENV, "").split(os.pathsep) if p]
    anchors = []
    for path in files:
        try:
            anchors += x509.load_pem_x509_certificates(path.read_bytes())
        except (OSError, ValueError):
            raise HolderError(f"{path}: not a PEM certificate file") from None
    return anchors


def read_authorization_request(
    source: str | Mapping[str, Any],
    *,
    anchors: Sequence[Any],
    now: datetime,
    fetcher: Fetcher = fetch,
) -> AuthorizationRequest:
    """The request behind an ``openid4vp://`` URI (or its parameters as JSON), verified.

    ``source`` holds ``client_id`` and ``request_uri`` (fetched with GET) or ``request`` (the
    request object by value). The verifier's ``POST /verifier/requests`` answer is such JSON.

    Raises
    ------
    HolderError
        The request cannot be fetched, is not signed as its client id prefix demands, is not
        from a trusted verifier, or asks for what this wallet does not do.
    """
    params = _request_parameters(source)
    client_id = params.get("client_id")
    if not isinstance(client_id, str) or not client_id:
        raise HolderError("the request names no client_id")
    if isinstance(params.get("request"), str):
        token = params["request"]
    elif isinstance(params.get("request_uri"), str):
        method = params.get("request_uri_method", "get")
        if method not in ("get", "post"):
            raise HolderError(
                "request_uri_method is neither get nor post", error="invalid_request_uri_method"
            )
        answer = fetcher(
            check_url(params["request_uri"], "request_uri"),
            accept="application/oauth-authz-req+jwt",
        )
        if not answer.ok:
            raise HolderError(f"the request URI answered {answer.status}{_oauth_error(answer)[1]}")
        token = answer.text().strip()
    else:
        raise HolderError(
            "the request has neither request_uri nor request (unsigned requests are refused)"
        )
    claims, subject = _verify_request_object(token, client_id, anchors, now)
    return _checked_request(claims, client_id, subject, now)


def _request_parameters(source: str | Mapping[str, Any]) -> dict[str, Any]:
    if isinstance(source, Mapping):
        params = dict(source)
        uri = params.get("request_uri")
        if isinstance(uri, str) and uri.startswith(f"{VP_SCHEME}://"):
            return _request_parameters(uri)
        return params
    parts = urlsplit(source.strip())
    if parts.scheme != VP_SCHEME:
        raise HolderError(f"not an OpenID4VP request URI ({VP_SCHEME}://...)")
    query = parse_qs(parts.query, keep_blank_values=True)
    return {name: values[-1] for name, values in query.items()}


def _verify_request_object(
    token: str, client_id: str, anchors: Sequence[Any], now: datetime
) -> tuple[dict[str, Any], str]:
    from cryptography import x509
    from cryptography.hazmat.primitives import serialization

    from gyeonggi.common.errors import InvalidInput as _Invalid
    from gyeonggi.wallet.errors import VerificationFailed
    from gyeonggi.wallet.jose import public_key_jwk, unverified_header, verify_jws

    prefix, _, identifier = client_id.partition(":")
    if prefix != "x509_hash" or not identifier:
        raise HolderError(
            f"client id prefix {prefix!r} is not supported (this wallet takes x509_hash)",
            error="invalid_request",
        )
    try:
        header = unverified_header(token)
    except (VerificationFailed, _Invalid):
        raise HolderError("the request object is not a compact JWS") from None
    x5c = header.get("x5c")
    if not isinstance(x5c, list) or not x5c or not all(isinstance(c, str) for c in x5c):
        raise HolderError("the request object has no x5c chain", error="invalid_request")
    try:
        chain = [x509.load_der_x509_certificate(base64.b64decode(c, validate=True)) for c in x5c]
    except ValueError:
        raise HolderError("the request object's x5c is not a certificate chain") from None
    leaf_der = chain[0].public_bytes(serialization.Encoding.DER)
    digest = base64.urlsafe_b64encode(hashlib.sha256(leaf_der).digest()).rstrip(b"=").decode()
    if digest != identifier:
        raise HolderError(
            "the client id is not the hash of the signing certificate", error="invalid_request"
        )
    _check_chain(chain, anchors, now)
    spki = (
        chain[0]
        .public_key()
        .public_bytes(serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo)
    )
    try:
        _, claims = verify_jws(token, public_key_jwk(spki), typ=REQUEST_OBJECT_TYP)
    except (VerificationFailed, _Invalid) as failed:
        reason = getattr(failed, "reason", failed.code)
        raise HolderError(
            f"the request object does not verify: {reason}", error="invalid_request"
        ) from None
    return claims, chain[0].subject.rfc4514_string()


def _check_chain(chain: Sequence[Any], anchors: Sequence[Any], now: datetime) -> None:
    """Each certificate valid now and issued by the next; the last one an anchor or issued by
    one."""
    if not anchors:
        raise HolderError(
            "no verifier trust anchors are configured (--trust-anchor or "
            f"${ANCHORS_ENV}): the verifier cannot be authenticated"
        )
    for certificate in chain:
        if not certificate.not_valid_before_utc <= now < certificate.not_valid_after_utc:
            raise HolderError("a certificate of the verifier's chain is not valid now")
    for child, parent in itertools.pairwise(chain):
        if not _issued_by(child, parent):
            raise HolderError("the verifier's certificate chain is broken")
    last = chain[-1]
    if any(last == anchor or _issued_by(last, anchor) for anchor in anchors):
        return
    raise HolderError(
        "the verifier's certificate is not from a trusted authority", error="invalid_client"
    )


def _issued_by(child: Any, parent: Any) -> bool:
    try:
        child.verify_directly_issued_by(parent)
    except (ValueError, TypeError, Exception):  # InvalidSignature, wrong issuer name, key type
        return False
    return True


def _checked_request(
    claims: Mapping[str, Any], client_id: str, subject: str, now: datetime
) -> AuthorizationRequest:
    if claims.get("client_id") != client_id:
        # OpenID4VP 1.0, 5.10.1: identical, prefix included.
        raise HolderError(
            "client_id differs between the URI and the request object", error="invalid_request"
        )
    if claims.get("response_type") != "vp_token":
        raise HolderError("response_type is not vp_token", error="invalid_request")
    if claims.get("response_mode") != "direct_post":
        raise HolderError(
            "response_mode is not direct_post (the only one supported)", error="invalid_request"
        )
    if "redirect_uri" in claims:
        raise HolderError("redirect_uri with direct_post", error="invalid_request")
    if "transaction_data" in claims:
        raise HolderError("transaction_data is not supported", error="invalid_transaction_data")
    if "scope" in claims and "dcql_query" in claims:
        raise HolderError("both scope and dcql_query", error="invalid_request")
    aud = claims.get("aud")
    if aud is not None and aud != STATIC_AUDIENCE and aud != [STATIC_AUDIENCE]:
        raise HolderError("the request object is for another wallet (aud)", error="invalid_request")
    expires = claims.get("exp")
    if isinstance(expires, int | float) and expires <= now.timestamp():
        raise HolderError("the request object has expired", error="invalid_request")
    nonce, response_uri, query = (
        claims.get("nonce"),
        claims.get("response_uri"),
        claims.get("dcql_query"),
    )
    if not isinstance(nonce, str) or not nonce:
        raise HolderError("the request has no nonce", error="invalid_request")
    if not isinstance(response_uri, str):
        raise HolderError("the request has no response_uri", error="invalid_request")
    if not isinstance(query, dict):
        raise HolderError("the request has no dcql_query", error="invalid_request")
    state = claims.get("state")
    purpose = claims.get("purpose")
    return AuthorizationRequest(
        client_id=client_id,
        response_uri=check_url(response_uri, "response_uri"),
        nonce=nonce,
        state=state if isinstance(state, str) else None,
        dcql_query=query,
        purpose=purpose if isinstance(purpose, str) else None,
        verifier_subject=subject,
    )


def plan_presentation(request: AuthorizationRequest, wallet: HolderWallet) -> PresentationPlan:
    """Which stored credential answers each credential query, and what of it is disclosed.

    Only the credential queries the request needs: all of them, or with ``credential_sets``
    the first option of each required set that the wallet can meet (optional sets are left
    out: least disclosure).
    """
    from gyeonggi.wallet.dcql import DcqlQuery, matches, parse_dcql, paths_to_disclose

    try:
        query = parse_dcql(request.dcql_query)
    except InvalidInput as exc:
        raise HolderError(
            f"the DCQL query is not valid: {exc.message}", error="invalid_request"
        ) from None
    candidates: dict[str, tuple[StoredCredential, tuple[tuple[Any, ...], ...]]] = {}
    for credential_query in query.credentials:
        single = DcqlQuery((credential_query,))
        for stored in wallet.credentials:
            if matches(single, stored.vct, stored.claims) == credential_query.id:
                paths = paths_to_disclose(query, credential_query.id, stored.claims) or set()
                candidates[credential_query.id] = (stored, tuple(sorted(paths, key=repr)))
                break
    wanted: list[str] = []
    unmet: list[str] = []
    if query.credential_sets is None:
        wanted = [c.id for c in query.credentials]
        unmet = [i for i in wanted if i not in candidates]
    else:
        for credential_set in query.credential_sets:
            option = next((o for o in credential_set.options if set(o) <= set(candidates)), None)
            if option is not None and credential_set.required:
                wanted += [i for i in option if i not in wanted]
            elif option is None and credential_set.required:
                unmet += list(credential_set.options[0])
    selections = tuple((i, *candidates[i]) for i in wanted if i in candidates)
    return PresentationPlan(request, selections, tuple(unmet))


@dataclass(frozen=True)
class PresentationSent:
    """What the verifier answered to the posted ``vp_token`` (or the error response)."""

    status: int
    body: Any
    sent_error: str | None = None

    @property
    def accepted(self) -> bool:
        return 200 <= self.status < 300 and self.sent_error is None


def send_presentation(
    plan: PresentationPlan,
    wallet: HolderWallet,
    *,
    now: datetime,
    fetcher: Fetcher = fetch,
    mutate: Callable[[str, str], str] | None = None,
) -> PresentationSent:
    """Post the ``vp_token`` of ``plan`` to the response URI (``direct_post``); a plan with
    unmet queries posts ``error=access_denied`` instead (the wallet must not answer part of a
    request).

    ``mutate`` lets tests damage one presentation ``(query_id, presentation) -> presentation``
    before it is sent.
    """
    from gyeonggi.wallet.sd_jwt import present

    request = plan.request
    form: dict[str, str] = {}
    if plan.unmet:
        form["error"] = "access_denied"
        form["error_description"] = "the wallet holds no credential that meets the request"
    else:
        vp_token: dict[str, list[str]] = {}
        signer = wallet.signer
        for query_id, stored, paths in plan.selections:
            presentation = present(
                stored.credential,
                disclose=set(paths),
                holder=signer,
                nonce=request.nonce,
                audience=request.client_id,
                now=now,
            )
            if mutate is not None:
                presentation = mutate(query_id, presentation)
            vp_token.setdefault(query_id, []).append(presentation)
        form["vp_token"] = json.dumps(vp_token, separators=(",", ":"))
    if request.state is not None:
        form["state"] = request.state
    answer = fetcher(
        request.response_uri,
        method="POST",
        data=urlencode(form).encode(),
        content_type="application/x-www-form-urlencoded",
    )
    try:
        body: Any = answer.json()
    except FetchFailed:
        body = answer.body.decode("utf-8", "replace")
    return PresentationSent(answer.status, body, form.get("error"))


def present_request(
    source: str | Mapping[str, Any],
    wallet: HolderWallet,
    *,
    anchors: Sequence[Any],
    consent: Callable[[PresentationPlan], bool],
    now: Callable[[], datetime] | None = None,
    fetcher: Fetcher = fetch,
) -> PresentationSent:
    """Fetch and check the request, plan, ask for consent, send.

    A refusal of consent is sent as ``error=access_denied``.
    """
    from gyeonggi.common.clock import now as utc_now

    clock = now or utc_now
    request = read_authorization_request(source, anchors=anchors, now=clock(), fetcher=fetcher)
    plan = plan_presentation(request, wallet)
    if not plan.unmet and not consent(plan):
        plan = PresentationPlan(request, (), ("consent refused",))
    return send_presentation(plan, wallet, now=clock(), fetcher=fetcher)


def describe_plan(plan: PresentationPlan) -> str:
    """The plan as the person reads it before consenting: who asks, why, which claims."""
    request = plan.request
    lines = [f"Verifier: {request.verifier_subject} ({request.client_id})"]
    if request.purpose:
        lines.append(f"Purpose: {request.purpose}")
    for query_id, stored, paths in plan.selections:
        shown = ", ".join(".".join(str(p) for p in path) for path in paths) or "(no claims)"
        lines.append(f"  {query_id}: {stored.vct} from {stored.issuer}: {shown}")
    for query_id in plan.unmet:
        lines.append(f"  {query_id}: no credential in this wallet meets it")
    return "\n".join(lines)


def expires_soon(stored: StoredCredential, now: datetime, within: timedelta) -> bool:
    """Whether ``stored`` expires within ``within`` of ``now`` (for ``list``)."""
    if stored.expires_at is None:
        return False
    return datetime.fromisoformat(stored.expires_at) - now < within
