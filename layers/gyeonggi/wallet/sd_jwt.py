"""RFC 9901 SD-JWT, format-generic: disclosures, processing, presentation and key binding.

The SD-JWT VC rules (which claims may be disclosable, ``vct``, validity, status) live in
:mod:`gyeonggi.wallet.credential`; this module knows only RFC 9901:

- issuing: :class:`DisclosureBuilder` makes salted disclosures (128-bit salts from
  :mod:`secrets`), decoy digests and sorted ``_sd`` arrays; :func:`issue_sd_jwt` signs;
- processing (section 7.1, step 3 to 5): :func:`process` puts every disclosure back where its
  digest is and rejects each malformation with its own reason;
- presenting (section 7.2): :func:`present` keeps only the disclosures of the chosen claim
  paths and the disclosures they sit in, then appends a KB-JWT whose ``sd_hash`` covers exactly
  the presented ``<JWT>~<D1>~...~<Dn>~``;
- key binding (section 7.3): :func:`verify_key_binding`.

Digests are always taken over the base64url text exactly as received, never over a decoded and
re-encoded form (section 4.2.3): the issuer signed that text.
"""

from __future__ import annotations

import hashlib
import hmac
import re
import secrets
from collections.abc import Callable, Collection, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from gyeonggi.common.errors import InvalidInput
from gyeonggi.wallet.errors import VerificationFailed
from gyeonggi.wallet.jose import (
    MAX_TOKEN_CHARS,
    Signer,
    b64url_decode,
    b64url_encode,
    check_header,
    encode_jws,
    json_dumps,
    json_loads,
    parse_jws,
    sign_jws,
    verify_signature,
)

#: The one digest algorithm (``_sd_alg``) issued and accepted: RFC 9901's mandatory one.
SD_ALG = "sha-256"
KB_TYP = "kb+jwt"
SD_KEY = "_sd"
SD_ALG_KEY = "_sd_alg"
ELEMENT_KEY = "..."

#: Salt entropy: RFC 9901 section 9.3 recommends at least 128 bits.
SALT_BYTES = 16
#: More disclosures than any credential here has by far; a bound on the work one input costs.
MAX_DISCLOSURES = 512
#: How far in the future a KB-JWT's ``iat`` may be, for clocks that disagree a little.
CLOCK_SKEW = timedelta(seconds=60)

# Base64url of exactly 32 bytes: 43 characters, the last carrying 4 bits and two zero bits.
_DIGEST = re.compile(r"[A-Za-z0-9_-]{42}[AEIMQUYcgkosw048]")

#: A claim path as DCQL and SD-JWT VC write one: keys, array indexes, and ``None`` for "every
#: element of the array here" (only in paths that select, never in a disclosure's own path).
ClaimPath = tuple[str | int | None, ...]


def digest(text: str) -> str:
    """The base64url SHA-256 digest of the US-ASCII bytes of ``text`` (a disclosure, or the
    presented SD-JWT for ``sd_hash``)."""
    return b64url_encode(hashlib.sha256(text.encode("ascii")).digest())


def new_salt() -> str:
    """128 bits from :mod:`secrets`, base64url."""
    return b64url_encode(secrets.token_bytes(SALT_BYTES))


def decoy_digest() -> str:
    """A digest of nothing anyone holds: the hash of fresh random bytes (section 4.2.5)."""
    return digest(b64url_encode(secrets.token_bytes(SALT_BYTES)))


# --- issuing --------------------------------------------------------------------------------


class DisclosureBuilder:
    """Collects the disclosures of one SD-JWT while its payload is built.

    ``conceal_object`` and ``conceal_element`` return what goes into the payload (an object with
    an ``_sd`` array, an ``{"...": digest}`` placeholder) and keep the disclosures for
    :func:`issue_sd_jwt`. Values may themselves have been built here: that is a recursive
    disclosure (section 4.2.6).
    """

    def __init__(self) -> None:
        self.disclosures: list[str] = []

    def _add(self, content: list[Any]) -> str:
        disclosure = b64url_encode(json_dumps(content))
        self.disclosures.append(disclosure)
        return digest(disclosure)

    def conceal_object(
        self, plain: Mapping[str, Any], concealed: Mapping[str, Any], *, decoys: int = 0
    ) -> dict[str, Any]:
        """An object with ``plain`` in clear and each of ``concealed`` selectively disclosable.

        ``_sd`` holds the digests and ``decoys`` decoy digests, sorted: random digests in sorted
        order say nothing of the claims' order, nor of which are decoys.

        Raises
        ------
        InvalidInput
            When a name is in both, or is ``_sd`` or ``...``.
        """
        both = set(plain) & set(concealed)
        if both:
            raise InvalidInput(f"claims both plain and concealed: {sorted(both)}")
        reserved = {SD_KEY, ELEMENT_KEY} & (set(plain) | set(concealed))
        if reserved:
            raise InvalidInput(f"reserved claim names: {sorted(reserved)}")
        digests = [self._add([new_salt(), name, value]) for name, value in concealed.items()]
        digests.extend(decoy_digest() for _ in range(decoys))
        result = dict(plain)
        if digests:
            result[SD_KEY] = sorted(digests)
        return result

    def conceal_element(self, value: Any) -> dict[str, str]:
        """The placeholder of a selectively disclosable array element."""
        return {ELEMENT_KEY: self._add([new_salt(), value])}

    @staticmethod
    def decoy_element() -> dict[str, str]:
        """A placeholder that stands for no element."""
        return {ELEMENT_KEY: decoy_digest()}


def issue_sd_jwt(
    payload: Mapping[str, Any], disclosures: Sequence[str], *, signer: Signer, typ: str
) -> str:
    """Sign ``payload`` (with ``_sd_alg: sha-256`` added) and append ``disclosures``:
    ``<Issuer-signed JWT>~<D1>~...~<Dn>~``."""
    body = {**payload, SD_ALG_KEY: SD_ALG}
    issuer_jwt = sign_jws({"typ": typ}, body, signer)
    return issuer_jwt + "~" + "".join(d + "~" for d in disclosures)


# --- parsing and processing -----------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class SdJwtParts:
    """An SD-JWT or SD-JWT+KB split at its tildes, as received."""

    issuer_jwt: str
    disclosures: tuple[str, ...]
    kb_jwt: str | None
    presented: str
    """Exactly the received ``<JWT>~<D1>~...~<Dn>~``: what ``sd_hash`` is computed over."""


def split_sd_jwt(serialized: str) -> SdJwtParts:
    """Separate the Issuer-signed JWT, the disclosures and the KB-JWT (section 4).

    Raises
    ------
    VerificationFailed
        ``malformed``: no tilde, an empty disclosure (``~~``), more than
        :data:`MAX_DISCLOSURES`, or longer than :data:`~gyeonggi.wallet.jose.MAX_TOKEN_CHARS`.
    """
    if not isinstance(serialized, str) or "~" not in serialized:
        raise VerificationFailed("malformed")
    if len(serialized) > MAX_TOKEN_CHARS:
        raise VerificationFailed("malformed", "the SD-JWT is too long")
    if not serialized.isascii():
        # Every part is base64url; digests are over US-ASCII bytes (section 4.2.3).
        raise VerificationFailed("malformed")
    parts = serialized.split("~")
    if len(parts) - 2 > MAX_DISCLOSURES:
        raise VerificationFailed("malformed", "the SD-JWT has too many disclosures")
    issuer_jwt, disclosures, last = parts[0], tuple(parts[1:-1]), parts[-1]
    if not issuer_jwt or not all(disclosures):
        raise VerificationFailed("malformed")
    presented = serialized[: len(serialized) - len(last)]
    return SdJwtParts(issuer_jwt, disclosures, last or None, presented)


@dataclass(frozen=True, slots=True)
class Processed:
    """The Processed SD-JWT Payload, and where each disclosure went."""

    payload: dict[str, Any]
    paths: dict[str, tuple[str | int, ...]]
    """Each received disclosure -> the claim path it was inserted at."""


def _decode_disclosure(disclosure: str) -> list[Any]:
    try:
        content = json_loads(b64url_decode(disclosure))
    except ValueError:
        raise VerificationFailed("disclosure_malformed") from None
    if not isinstance(content, list) or not content or not isinstance(content[0], str):
        # The salt is first and must be a string (4.2.1); the length is checked where the
        # digest is found, since it depends on the place (object property or array element).
        raise VerificationFailed("disclosure_malformed")
    return content


def _valid_digest(value: Any) -> str:
    if not isinstance(value, str) or not _DIGEST.fullmatch(value):
        raise VerificationFailed("disclosure_digest")
    return value


class _Processor:
    """One run of section 7.1, steps 3 to 5."""

    def __init__(self, disclosures: Sequence[str]) -> None:
        self.by_digest: dict[str, tuple[str, list[Any]]] = {}
        for disclosure in disclosures:
            d = digest(disclosure)
            if d in self.by_digest:
                # Same text, same digest: the holder sent it twice (section 4, "MUST NOT").
                raise VerificationFailed("disclosure_duplicate")
            self.by_digest[d] = (disclosure, _decode_disclosure(disclosure))
        self.seen: set[str] = set()
        self.paths: dict[str, tuple[str | int, ...]] = {}

    def _embedded(self, value: Any) -> tuple[str, list[Any]] | None:
        d = _valid_digest(value)
        if d in self.seen:
            raise VerificationFailed("digest_duplicate")
        self.seen.add(d)
        return self.by_digest.get(d)

    def walk(self, value: Any, path: tuple[str | int, ...]) -> Any:
        if isinstance(value, dict):
            return self._object(value, path)
        if isinstance(value, list):
            return self._array(value, path)
        return value

    def _object(self, obj: dict[str, Any], path: tuple[str | int, ...]) -> dict[str, Any]:
        if ELEMENT_KEY in obj:
            # "..." only ever conveys an array element's digest (section 4.1, rule 7).
            raise VerificationFailed("reserved_claim")
        if SD_ALG_KEY in obj and path:
            raise VerificationFailed("sd_alg", "_sd_alg appears below the top level")
        digests = obj.get(SD_KEY, [])
        if not isinstance(digests, list):
            raise VerificationFailed("disclosure_digest")
        out = {
            name: self.walk(item, (*path, name)) if isinstance(item, dict | list) else item
            for name, item in obj.items()
            if name not in (SD_KEY, SD_ALG_KEY)
        }
        for embedded in digests:
            found = self._embedded(embedded)
            if found is None:
                continue  # a decoy, or a claim the holder did not disclose
            disclosure, content = found
            if len(content) != 3:
                raise VerificationFailed("disclosure_length")
            name = content[1]
            if not isinstance(name, str):
                raise VerificationFailed("disclosure_malformed")
            if name in (SD_KEY, ELEMENT_KEY):
                raise VerificationFailed("disclosure_claim_name")
            if name == SD_ALG_KEY:
                raise VerificationFailed("sd_alg", "_sd_alg arrived in a disclosure")
            if name in out:
                raise VerificationFailed("disclosure_claim_exists")
            claim_path = (*path, name)
            self.paths[disclosure] = claim_path
            out[name] = self.walk(content[2], claim_path)
        return out

    def _array(self, array: list[Any], path: tuple[str | int, ...]) -> list[Any]:
        out: list[Any] = []
        for element in array:
            if isinstance(element, dict) and ELEMENT_KEY in element:
                if len(element) != 1:
                    raise VerificationFailed("array_placeholder")
                found = self._embedded(element[ELEMENT_KEY])
                if found is None:
                    continue  # removed (section 7.1, step 3.4)
                disclosure, content = found
                if len(content) != 2:
                    raise VerificationFailed("disclosure_length")
                element_path = (*path, len(out))
                self.paths[disclosure] = element_path
                out.append(self.walk(content[1], element_path))
            else:
                out.append(self.walk(element, (*path, len(out))))
        return out


def process(payload: Mapping[str, Any], disclosures: Sequence[str]) -> Processed:
    """Section 7.1, steps 3 to 5: insert each disclosure where its digest is, remove ``_sd``,
    ``_sd_alg`` and undisclosed array elements.

    Parameters
    ----------
    payload
        The Issuer-signed JWT's payload (already verified, or the holder's own credential).
    disclosures
        The disclosures exactly as received.

    Raises
    ------
    VerificationFailed
        ``disclosure_malformed``, ``disclosure_length``, ``disclosure_claim_name``,
        ``disclosure_claim_exists``, ``disclosure_duplicate``, ``disclosure_unreferenced``,
        ``disclosure_digest``, ``digest_duplicate``, ``array_placeholder``, ``reserved_claim``
        or ``sd_alg``.
    """
    processor = _Processor(disclosures)
    try:
        result = processor.walk(dict(payload), ())
    except RecursionError:
        raise VerificationFailed("malformed", "the SD-JWT nests too deeply") from None
    if len(processor.paths) != len(processor.by_digest):
        raise VerificationFailed("disclosure_unreferenced")
    return Processed(result, processor.paths)


def check_sd_alg(payload: Mapping[str, Any]) -> None:
    """``_sd_alg``, absent (then SHA-256, section 4.1.1) or ``sha-256``.

    Raises
    ------
    VerificationFailed
        ``sd_alg``.
    """
    if payload.get(SD_ALG_KEY, SD_ALG) != SD_ALG:
        raise VerificationFailed("sd_alg")


# --- the holder -----------------------------------------------------------------------------


def _covers(selected: ClaimPath, path: tuple[str | int, ...]) -> bool:
    # True when one path lies on the other's way: the claim asked for is inside this
    # disclosure's claim (disclose the container), or this claim is inside the one asked for.
    return all(
        s == p or (s is None and isinstance(p, int)) for s, p in zip(selected, path, strict=False)
    )


def _wanted(
    disclose: Callable[[tuple[str | int, ...]], bool] | Collection[ClaimPath],
) -> Callable[[tuple[str | int, ...]], bool]:
    if callable(disclose):
        chosen = disclose
        # A claim chosen brings everything inside it.
        return lambda path: any(chosen(path[:i]) for i in range(1, len(path) + 1))
    selection = [tuple(p) for p in disclose]
    return lambda path: any(_covers(s, path) for s in selection)


def _holder_parts(sd_jwt: str) -> tuple[SdJwtParts, Processed]:
    parts = split_sd_jwt(sd_jwt)
    if parts.kb_jwt is not None:
        # Section 7.2: an issuer hands out an SD-JWT, never an SD-JWT+KB.
        raise VerificationFailed("kb_unexpected")
    jws = parse_jws(parts.issuer_jwt)
    return parts, process(jws.payload, parts.disclosures)


def present(
    sd_jwt: str,
    *,
    disclose: Callable[[tuple[str | int, ...]], bool] | Collection[ClaimPath],
    holder: Signer,
    nonce: str,
    audience: str,
    now: datetime,
) -> str:
    """An SD-JWT+KB revealing only the chosen claims (RFC 9901 section 7.2).

    Parameters
    ----------
    sd_jwt
        The credential as issued (``<JWT>~<D1>~...~<Dn>~``).
    disclose
        The claim paths to reveal (DCQL's, ``None`` for every array element), or a predicate
        over a disclosure's claim path. A chosen claim brings the claims inside it; each
        disclosure kept brings the disclosures it sits in, so that it connects to the payload.
    holder
        The key of the credential's ``cnf.jwk``.
    nonce, audience
        The verifier's nonce and its client identifier (KB-JWT ``nonce`` and ``aud``).
    now
        The KB-JWT's ``iat``.

    Raises
    ------
    VerificationFailed
        When ``sd_jwt`` is not an issued SD-JWT whose disclosures all fit it.
    """
    parts, processed = _holder_parts(sd_jwt)
    wanted = _wanted(disclose)
    chosen_paths = {path for path in processed.paths.values() if wanted(path)}
    # The disclosures the chosen ones sit in (recursive disclosures, section 4.2.6).
    chosen_paths |= {
        path
        for path in processed.paths.values()
        if any(len(path) < len(c) and c[: len(path)] == path for c in chosen_paths)
    }
    kept = [d for d in parts.disclosures if processed.paths[d] in chosen_paths]
    presented = parts.issuer_jwt + "~" + "".join(d + "~" for d in kept)
    kb_payload = {
        "iat": int(now.timestamp()),
        "aud": audience,
        "nonce": nonce,
        "sd_hash": digest(presented),
    }
    return presented + encode_jws({"typ": KB_TYP}, kb_payload, holder)


def holder_claims(sd_jwt: str) -> dict[str, Any]:
    """The holder's view of an issued SD-JWT as one object: the Processed SD-JWT Payload with
    every disclosure applied (what DCQL's ``matches`` and ``paths_to_disclose`` take).

    The signature is not checked here: the holder checked it on receipt.

    Raises
    ------
    VerificationFailed
        When ``sd_jwt`` is not an issued SD-JWT whose disclosures all fit it.
    """
    _, processed = _holder_parts(sd_jwt)
    return processed.payload


def claim_paths(sd_jwt: str) -> dict[tuple[str | int, ...], Any]:
    """The holder's view of an issued SD-JWT: every claim path (objects, their members, array
    elements, at every depth) with its value, as if every disclosure were disclosed.

    The signature is not checked here: the holder checked it on receipt.

    Raises
    ------
    VerificationFailed
        When ``sd_jwt`` is not an issued SD-JWT whose disclosures all fit it.
    """
    _, processed = _holder_parts(sd_jwt)
    flat: dict[tuple[str | int, ...], Any] = {}

    def visit(value: Any, path: tuple[str | int, ...]) -> None:
        if path:
            flat[path] = value
        if isinstance(value, dict):
            for name, item in value.items():
                visit(item, (*path, name))
        elif isinstance(value, list):
            for index, item in enumerate(value):
                visit(item, (*path, index))

    visit(processed.payload, ())
    return flat


def disclosable_paths(sd_jwt: str) -> set[tuple[str | int, ...]]:
    """The claim paths of an issued SD-JWT that are selectively disclosable (have a
    disclosure); everything else is always shown.

    Raises
    ------
    VerificationFailed
        When ``sd_jwt`` is not an issued SD-JWT whose disclosures all fit it.
    """
    _, processed = _holder_parts(sd_jwt)
    return set(processed.paths.values())


# --- the verifier ---------------------------------------------------------------------------


def _number(value: Any) -> float | None:
    # JSON numbers only: True is an int to Python, not a time to JWT.
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    return float(value)


def verify_key_binding(
    parts: SdJwtParts,
    holder_jwk: Mapping[str, Any],
    *,
    nonce: str,
    audience: str,
    now: datetime,
    max_age: timedelta,
) -> dict[str, Any]:
    """Section 7.3, step 5: the KB-JWT is the holder's, for this verifier and transaction,
    fresh, and bound to exactly the presented SD-JWT. Returns its payload.

    Parameters
    ----------
    parts
        The presentation, split.
    holder_jwk
        The credential's ``cnf.jwk`` (the only key a KB-JWT is checked with).
    nonce, audience
        This transaction's nonce and this verifier's client identifier.
    now, max_age
        The KB-JWT's ``iat`` must be within ``max_age`` before ``now`` and at most
        :data:`CLOCK_SKEW` after it.

    Raises
    ------
    VerificationFailed
        ``kb_missing``, ``kb_malformed``, ``kb_alg``, ``kb_crit``, ``kb_typ``, ``kb_key``,
        ``kb_signature``, ``kb_nonce``, ``kb_aud``, ``kb_iat``, ``kb_stale``, ``kb_future`` or
        ``sd_hash``.
    """
    if parts.kb_jwt is None:
        raise VerificationFailed("kb_missing")
    try:
        jws = parse_jws(parts.kb_jwt)
        check_header(jws.header, KB_TYP)
        verify_signature(jws, holder_jwk)
    except VerificationFailed as failure:
        raise failure.with_prefix("kb_") from None
    claims = jws.payload
    found_nonce = claims.get("nonce")
    if not isinstance(found_nonce, str) or not hmac.compare_digest(
        found_nonce.encode("utf-8"), nonce.encode("utf-8")
    ):
        raise VerificationFailed("kb_nonce")
    # A single string (section 4.3): an array naming this verifier among others is refused.
    if claims.get("aud") != audience or not isinstance(claims.get("aud"), str):
        raise VerificationFailed("kb_aud")
    issued = _number(claims.get("iat"))
    if issued is None:
        raise VerificationFailed("kb_iat")
    moment = now.timestamp()
    if issued > moment + CLOCK_SKEW.total_seconds():
        raise VerificationFailed("kb_future")
    if issued < moment - max_age.total_seconds():
        raise VerificationFailed("kb_stale")
    expires = _number(claims.get("exp")) if "exp" in claims else None
    if "exp" in claims and (expires is None or expires <= moment):
        raise VerificationFailed("kb_stale", "the KB-JWT has expired")
    sd_hash = claims.get("sd_hash")
    if not isinstance(sd_hash, str) or not hmac.compare_digest(
        sd_hash.encode("utf-8"), digest(parts.presented).encode("ascii")
    ):
        raise VerificationFailed("sd_hash")
    return claims
