"""Bounded HTTP for the verifier and the holder: issuer metadata, status lists, OpenID4VC calls.

Every request has a timeout and a size limit, follows no redirect (OpenID4VP 1.0, 14.10: a
redirect is an error for the requests a wallet or verifier makes directly), and goes only to
``https`` URLs, or to ``http`` on this machine's loopback (the local cloud and tests).
Standard library only: the verifier function's cold start does not pay for an HTTP library.
"""

from __future__ import annotations

import http.client
import ipaddress
import json
import urllib.error
import urllib.request
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

from gyeonggi.common.errors import DomainError, InvalidInput

#: Seconds a fetch may take (connect and each read), so a slow server cannot hold a Lambda.
DEFAULT_TIMEOUT = 3.0
#: Bytes read at most: metadata and status lists are a few KB.
DEFAULT_LIMIT = 256 * 1024


class FetchFailed(DomainError):
    """The URL could not be fetched: network, timeout, a redirect, or a body too large."""

    code = "fetch_failed"


@dataclass(frozen=True)
class Fetched:
    """An HTTP answer: status, media type (lower case, no parameters) and body."""

    status: int
    media_type: str
    body: bytes

    @property
    def ok(self) -> bool:
        return 200 <= self.status < 300

    def json(self) -> Any:
        """The body as a JSON value.

        Raises
        ------
        FetchFailed
            It is not JSON.
        """
        try:
            return json.loads(self.body.decode("utf-8"))
        except (UnicodeDecodeError, ValueError):
            raise FetchFailed("the answer is not JSON") from None

    def text(self) -> str:
        try:
            return self.body.decode("utf-8")
        except UnicodeDecodeError:
            raise FetchFailed("the answer is not UTF-8 text") from None


def _is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def check_url(url: str, what: str = "URL") -> str:
    """``url`` itself if it may be fetched: ``https``, or ``http`` to loopback.

    Raises
    ------
    InvalidInput
        Any other scheme, no host, or user information in it.
    """
    try:
        parts = urlsplit(url)
        host = parts.hostname or ""
        parts.port  # noqa: B018 - a port that is not a number raises here
    except ValueError:
        raise InvalidInput(f"{what}: is not a URL") from None
    if parts.username is not None or parts.password is not None or not host:
        raise InvalidInput(f"{what}: must be an https URL with a host and no user information")
    if parts.scheme == "https" or (parts.scheme == "http" and _is_loopback(host)):
        return url
    raise InvalidInput(f"{what}: must use https")


class _NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args: Any, **kwargs: Any) -> None:
        return None  # urllib then raises HTTPError with the 3xx status


_OPENER = urllib.request.build_opener(_NoRedirect)


def fetch(
    url: str,
    *,
    method: str = "GET",
    accept: str = "application/json",
    data: bytes | None = None,
    content_type: str | None = None,
    headers: dict[str, str] | None = None,
    timeout: float = DEFAULT_TIMEOUT,
    limit: int = DEFAULT_LIMIT,
) -> Fetched:
    """One HTTP request. A 4xx or 5xx answer is returned (callers read OAuth errors from it);
    a 3xx is a failure.

    Raises
    ------
    InvalidInput
        ``url`` is not one :func:`check_url` allows.
    FetchFailed
        No answer in ``timeout``, a network error, a redirect, or a body over ``limit``.
    """
    check_url(url)
    # No User-Agent naming the library (OpenID4VP 1.0, 15.9: nothing that fingerprints).
    sent = {"Accept": accept, "User-Agent": "gyeonggi", **(headers or {})}
    if content_type:
        sent["Content-Type"] = content_type
    request = urllib.request.Request(url, data=data, method=method, headers=sent)
    try:
        with _OPENER.open(request, timeout=timeout) as answer:
            return _read(answer, answer.status, limit)
    except urllib.error.HTTPError as exc:
        if 300 <= exc.code < 400:
            raise FetchFailed(
                f"{url} answered a redirect ({exc.code}), which is not followed"
            ) from None
        with exc:
            return _read(exc, exc.code, limit)
    except (urllib.error.URLError, http.client.HTTPException, OSError, ValueError) as exc:
        raise FetchFailed(f"{url} could not be fetched: {type(exc).__name__}") from None


def _read(answer: Any, status: int, limit: int) -> Fetched:
    body = answer.read(limit + 1)
    if len(body) > limit:
        raise FetchFailed(f"the answer is larger than {limit:,} bytes")
    media = str(answer.headers.get("Content-Type") or "").split(";")[0].strip().lower()
    return Fetched(status, media, body)
