"""A credential's status from the issuer's Token Status List: fetched at its URI, verified,
cached for its ``ttl``.

``status_list.uri`` comes from a credential whose issuer signature has already been verified
(the core checks status last), so the URI is the issuer's to choose; it must still be ``https``
(or loopback, for the local cloud). The token is verified by the core's
``read_status_list_token`` (``typ`` ``statuslist+jwt``, ``sub`` equal to the URI, signed by a
trusted issuer's key, not expired) and kept until the earliest of its ``ttl``, its ``exp`` and
``max_cache``, in an LRU of at most ``max_entries`` lists. A list that cannot be fetched or
read makes the check fail (``status_unavailable``): a credential whose status is unknown is
not accepted.
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

from gyeonggi.common.clock import now as utc_now
from gyeonggi.common.errors import InvalidInput
from gyeonggi.wallet.presentation_requests import PresentationRejected
from gyeonggi.wallet.web_fetch import Fetched, FetchFailed, fetch

if TYPE_CHECKING:
    from gyeonggi.wallet.status_list import StatusList

#: The media type of a Status List Token in JWT form.
STATUS_LIST_MEDIA_TYPE = "application/statuslist+jwt"


@dataclass(frozen=True)
class _Cached:
    status_list: StatusList
    valid_until: datetime


@dataclass
class StatusListCache:
    """``(uri, idx) -> status`` (core's ``StatusOf``), one fetch per list and ``ttl``.

    Parameters
    ----------
    issuer_keys
        ``(iss, kid) -> jwk`` of the trusted issuers (the status list is signed by one).
    fetcher
        :func:`gyeonggi.wallet.web_fetch.fetch` or a test double.
    clock
        The current time (aware).
    """

    issuer_keys: Callable[[str, str], Mapping[str, Any]]
    fetcher: Callable[..., Fetched] = fetch
    clock: Callable[[], datetime] = utc_now
    max_entries: int = 64
    max_cache: timedelta = timedelta(hours=1)
    fetches: int = 0
    _lists: OrderedDict[str, _Cached] = field(default_factory=OrderedDict, repr=False)

    def __call__(self, uri: str, idx: int) -> int:
        now = self.clock()
        cached = self._lists.get(uri)
        if cached is None or now >= cached.valid_until:
            cached = self._load(uri, now)
        self._lists.move_to_end(uri)
        return cached.status_list.get(idx)

    def _load(self, uri: str, now: datetime) -> _Cached:
        from gyeonggi.wallet.status_list import read_status_list_token

        try:
            answer = self.fetcher(uri, accept=STATUS_LIST_MEDIA_TYPE)
            self.fetches += 1
            if not answer.ok:
                raise FetchFailed(f"the status list answered {answer.status}")
            token = answer.text().strip()
        except (FetchFailed, InvalidInput):
            self._lists.pop(uri, None)
            raise PresentationRejected("status_unavailable") from None
        read = read_status_list_token(token, uri=uri, issuer_jwks=self.issuer_keys, now=now)
        until = now + min(read.ttl, self.max_cache)
        if read.expires_at is not None:
            until = min(until, read.expires_at)
        cached = self._lists[uri] = _Cached(read.status_list, until)
        while len(self._lists) > self.max_entries:
            self._lists.popitem(last=False)
        return cached
