"""OpenID4VP 1.0 DCQL (section 6) for ``dc+sd-jwt`` credentials: parse, select, match.

:func:`parse_dcql` validates a query as the verifier sends it and as the wallet receives it,
and refuses, naming the place, what it does not support (other formats, ``trusted_authorities``)
rather than quietly answering something else. Unknown properties are ignored, as section 6
requires.

Claims path pointers (section 7) are tuples of keys, array indexes and ``None`` (every element
of an array). The holder asks :func:`paths_to_disclose` which claims to reveal; the verifier asks
:func:`matches` which credential query a verified credential satisfies. A verifier never relies
on the wallet having applied ``values`` (section 6.4.1): :func:`matches` checks them itself.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from gyeonggi.common.errors import InvalidInput
from gyeonggi.wallet.sd_jwt import ClaimPath

FORMAT = "dc+sd-jwt"

# Bounds on one query, far above any real one: a query arrives from outside (a verifier's
# request object, a service's POST) and its processing must stay cheap.
MAX_CREDENTIALS = 16
MAX_CLAIMS = 64
MAX_PATH_LENGTH = 16
MAX_VALUES = 64
MAX_OPTIONS = 16
MAX_STRING = 1024

_ID = re.compile(r"[A-Za-z0-9_-]+")

ClaimValue = str | int | bool


@dataclass(frozen=True, slots=True)
class ClaimsQuery:
    """One claim asked for (section 6.3)."""

    path: ClaimPath
    id: str | None = None
    values: tuple[ClaimValue, ...] | None = None


@dataclass(frozen=True, slots=True)
class CredentialQuery:
    """One credential asked for (section 6.1), of format ``dc+sd-jwt``."""

    id: str
    vct_values: tuple[str, ...]
    claims: tuple[ClaimsQuery, ...] | None = None
    claim_sets: tuple[tuple[str, ...], ...] | None = None
    multiple: bool = False
    require_cryptographic_holder_binding: bool = True
    format: str = FORMAT

    def claim(self, claim_id: str) -> ClaimsQuery:
        """The claims query with id ``claim_id`` (parsing guarantees it exists)."""
        for claim in self.claims or ():
            if claim.id == claim_id:
                return claim
        raise KeyError(claim_id)


@dataclass(frozen=True, slots=True)
class CredentialSetQuery:
    """Alternatives of credentials for one purpose (section 6.2)."""

    options: tuple[tuple[str, ...], ...]
    required: bool = True


@dataclass(frozen=True, slots=True)
class DcqlQuery:
    """A parsed DCQL query."""

    credentials: tuple[CredentialQuery, ...]
    credential_sets: tuple[CredentialSetQuery, ...] | None = None

    def credential(self, credential_id: str) -> CredentialQuery:
        """The credential query with id ``credential_id``.

        Raises
        ------
        InvalidInput
            When the query has none with that id.
        """
        for credential in self.credentials:
            if credential.id == credential_id:
                return credential
        raise InvalidInput(f"the DCQL query has no credential query {credential_id!r}")

    def as_json(self) -> dict[str, Any]:
        """The query as JSON data again (for a request object)."""

        def claim(c: ClaimsQuery) -> dict[str, Any]:
            out: dict[str, Any] = {"path": list(c.path)}
            if c.id is not None:
                out["id"] = c.id
            if c.values is not None:
                out["values"] = list(c.values)
            return out

        def credential(c: CredentialQuery) -> dict[str, Any]:
            out: dict[str, Any] = {
                "id": c.id,
                "format": c.format,
                "meta": {"vct_values": list(c.vct_values)},
            }
            if c.multiple:
                out["multiple"] = True
            if not c.require_cryptographic_holder_binding:
                out["require_cryptographic_holder_binding"] = False
            if c.claims is not None:
                out["claims"] = [claim(x) for x in c.claims]
            if c.claim_sets is not None:
                out["claim_sets"] = [list(s) for s in c.claim_sets]
            return out

        result: dict[str, Any] = {"credentials": [credential(c) for c in self.credentials]}
        if self.credential_sets is not None:
            result["credential_sets"] = [
                {"options": [list(o) for o in s.options], "required": s.required}
                for s in self.credential_sets
            ]
        return result


# --- parsing --------------------------------------------------------------------------------


def _refuse(where: str, problem: str) -> InvalidInput:
    return InvalidInput(f"dcql_query.{where}: {problem}", field="dcql_query")


def _array(value: Any, where: str, limit: int) -> list[Any]:
    if not isinstance(value, list) or not value:
        raise _refuse(where, "must be a non-empty array")
    if len(value) > limit:
        raise _refuse(where, f"has more than {limit} entries")
    return value


def _object(value: Any, where: str) -> Mapping[str, Any]:
    if not isinstance(value, dict):
        raise _refuse(where, "must be an object")
    return value


def _identifier(value: Any, where: str) -> str:
    if not isinstance(value, str) or len(value) > MAX_STRING or not _ID.fullmatch(value):
        raise _refuse(where, "must be a non-empty string of letters, digits, _ and -")
    return value


def _boolean(value: Any, where: str, default: bool) -> bool:
    if value is None:
        return default
    if not isinstance(value, bool):
        raise _refuse(where, "must be true or false")
    return value


def _path(value: Any, where: str) -> ClaimPath:
    components = _array(value, where, MAX_PATH_LENGTH)
    path: list[str | int | None] = []
    for i, component in enumerate(components):
        key = isinstance(component, str) and len(component) <= MAX_STRING
        index = isinstance(component, int) and not isinstance(component, bool) and component >= 0
        if not (component is None or key or index):
            raise _refuse(f"{where}[{i}]", "must be a string, null or a non-negative integer")
        path.append(component)
    return tuple(path)


def _values(value: Any, where: str) -> tuple[ClaimValue, ...]:
    values = _array(value, where, MAX_VALUES)
    for i, item in enumerate(values):
        if isinstance(item, str) and len(item) <= MAX_STRING:
            continue
        if isinstance(item, int):  # bool is an int too: true and false are accepted
            continue
        raise _refuse(f"{where}[{i}]", "must be a string, an integer or a boolean")
    return tuple(values)


def _claims(value: Any, where: str) -> tuple[ClaimsQuery, ...]:
    entries = _array(value, where, MAX_CLAIMS)
    claims: list[ClaimsQuery] = []
    ids: set[str] = set()
    paths: set[ClaimPath] = set()
    for i, raw in enumerate(entries):
        at = f"{where}[{i}]"
        entry = _object(raw, at)
        claim_id = None
        if "id" in entry:
            claim_id = _identifier(entry["id"], f"{at}.id")
            if claim_id in ids:
                raise _refuse(f"{at}.id", f"{claim_id!r} is used twice")
            ids.add(claim_id)
        if "path" not in entry:
            raise _refuse(at, "has no path")
        path = _path(entry["path"], f"{at}.path")
        if path in paths:
            # Section 6.1: a verifier must not point to the same claim twice.
            raise _refuse(f"{at}.path", "names a claim an earlier entry already names")
        paths.add(path)
        values = _values(entry["values"], f"{at}.values") if "values" in entry else None
        claims.append(ClaimsQuery(path=path, id=claim_id, values=values))
    return tuple(claims)


def _claim_sets(
    value: Any, where: str, claims: tuple[ClaimsQuery, ...]
) -> tuple[tuple[str, ...], ...]:
    known = {c.id for c in claims}
    sets: list[tuple[str, ...]] = []
    for i, option in enumerate(_array(value, where, MAX_OPTIONS)):
        ids = _array(option, f"{where}[{i}]", MAX_CLAIMS)
        for j, claim_id in enumerate(ids):
            if not isinstance(claim_id, str) or claim_id not in known:
                raise _refuse(f"{where}[{i}][{j}]", "names no claim of this credential query")
        sets.append(tuple(ids))
    return tuple(sets)


def _credential(raw: Any, where: str) -> CredentialQuery:
    entry = _object(raw, where)
    credential_id = _identifier(entry.get("id"), f"{where}.id")
    if entry.get("format") != FORMAT:
        raise _refuse(f"{where}.format", f"only {FORMAT!r} credentials are supported")
    if "trusted_authorities" in entry:
        raise _refuse(f"{where}.trusted_authorities", "is not supported by this service")
    meta = _object(entry.get("meta"), f"{where}.meta")
    vct_values = _array(meta.get("vct_values"), f"{where}.meta.vct_values", MAX_VALUES)
    for i, vct in enumerate(vct_values):
        if not isinstance(vct, str) or not vct or len(vct) > MAX_STRING:
            raise _refuse(f"{where}.meta.vct_values[{i}]", "must be a non-empty string")
    claims = _claims(entry["claims"], f"{where}.claims") if "claims" in entry else None
    claim_sets = None
    if "claim_sets" in entry:
        if claims is None:
            raise _refuse(f"{where}.claim_sets", "is not allowed without claims")
        if any(c.id is None for c in claims):
            raise _refuse(f"{where}.claims", "every claim needs an id when claim_sets is present")
        claim_sets = _claim_sets(entry["claim_sets"], f"{where}.claim_sets", claims)
    return CredentialQuery(
        id=credential_id,
        vct_values=tuple(vct_values),
        claims=claims,
        claim_sets=claim_sets,
        multiple=_boolean(entry.get("multiple"), f"{where}.multiple", False),
        require_cryptographic_holder_binding=_boolean(
            entry.get("require_cryptographic_holder_binding"),
            f"{where}.require_cryptographic_holder_binding",
            True,
        ),
    )


def _credential_sets(value: Any, known: set[str]) -> tuple[CredentialSetQuery, ...]:
    sets: list[CredentialSetQuery] = []
    for i, raw in enumerate(_array(value, "credential_sets", MAX_OPTIONS)):
        at = f"credential_sets[{i}]"
        entry = _object(raw, at)
        options: list[tuple[str, ...]] = []
        for j, option in enumerate(_array(entry.get("options"), f"{at}.options", MAX_OPTIONS)):
            ids = _array(option, f"{at}.options[{j}]", MAX_CREDENTIALS)
            for k, credential_id in enumerate(ids):
                if not isinstance(credential_id, str) or credential_id not in known:
                    raise _refuse(f"{at}.options[{j}][{k}]", "names no credential query")
            options.append(tuple(ids))
        sets.append(
            CredentialSetQuery(
                tuple(options), _boolean(entry.get("required"), f"{at}.required", True)
            )
        )
    return tuple(sets)


def parse_dcql(query: Any) -> DcqlQuery:
    """A DCQL query (decoded JSON), validated.

    Raises
    ------
    InvalidInput
        Naming the first thing wrong (``dcql_query.credentials[0].meta.vct_values: ...``), or
        unsupported: a format other than ``dc+sd-jwt``, ``trusted_authorities``.
    """
    if not isinstance(query, dict):
        raise InvalidInput("dcql_query must be a JSON object", field="dcql_query")
    entry: Mapping[str, Any] = query
    raw_credentials = _array(entry.get("credentials"), "credentials", MAX_CREDENTIALS)
    credentials = tuple(_credential(c, f"credentials[{i}]") for i, c in enumerate(raw_credentials))
    ids = [c.id for c in credentials]
    if len(set(ids)) != len(ids):
        raise _refuse("credentials", "two credential queries have the same id")
    credential_sets = None
    if "credential_sets" in entry:
        credential_sets = _credential_sets(entry["credential_sets"], set(ids))
    return DcqlQuery(credentials, credential_sets)


# --- claims path pointers -------------------------------------------------------------------


def resolve_path(claims: Any, path: ClaimPath) -> list[Any] | None:
    """The claims ``path`` selects in ``claims`` (section 7.1.1), or ``None``: nothing
    selected, or processing stopped on an element of the wrong kind."""
    selection = [claims]
    for component in path:
        if isinstance(component, str):
            if not all(isinstance(e, dict) for e in selection):
                return None
            selection = [e[component] for e in selection if component in e]
        elif component is None:
            if not all(isinstance(e, list) for e in selection):
                return None
            selection = [item for e in selection for item in e]
        else:
            if not all(isinstance(e, list) for e in selection):
                return None
            selection = [e[component] for e in selection if component < len(e)]
        if not selection:
            return None
    return selection


def _value_matches(found: Any, values: Sequence[ClaimValue]) -> bool:
    # Type and value both (section 6.3): true is not 1, "19" is not 19.
    return any(type(found) is type(v) and found == v for v in values)


def _satisfied(claims: Mapping[str, Any], claim: ClaimsQuery) -> bool:
    selected = resolve_path(claims, claim.path)
    if selected is None:
        return False
    if claim.values is None:
        return True
    values = claim.values
    return any(_value_matches(item, values) for item in selected)


def _chosen_claims(
    credential: CredentialQuery, claims: Mapping[str, Any]
) -> tuple[ClaimsQuery, ...] | None:
    # Section 6.4.1: no claims, nothing selectively disclosable; claims without claim_sets,
    # all of them; with claim_sets, the first option that can be met.
    if credential.claims is None:
        return ()
    if credential.claim_sets is None:
        options: list[tuple[ClaimsQuery, ...]] = [credential.claims]
    else:
        options = [tuple(credential.claim(i) for i in s) for s in credential.claim_sets]
    for option in options:
        if all(_satisfied(claims, c) for c in option):
            return option
    return None


def requested_paths(query: DcqlQuery, credential_id: str | None = None) -> set[ClaimPath]:
    """Every claim path the query names, for one credential query or all of them.

    With ``claim_sets`` this is the union of every option's claims: what the verifier may
    receive. A wallet discloses only one option's: :func:`paths_to_disclose`.

    Raises
    ------
    InvalidInput
        When ``credential_id`` names no credential query.
    """
    credentials = query.credentials if credential_id is None else (query.credential(credential_id),)
    return {claim.path for credential in credentials for claim in credential.claims or ()}


def paths_to_disclose(
    query: DcqlQuery, credential_id: str, claims: Mapping[str, Any]
) -> set[ClaimPath] | None:
    """What a wallet reveals of a credential with ``claims`` (its processed payload, every
    disclosure applied) for the credential query ``credential_id``: the claims asked for, or
    the first ``claim_sets`` option it can meet; ``None`` when it cannot meet the query (then it
    must not return the credential).

    Raises
    ------
    InvalidInput
        When ``credential_id`` names no credential query.
    """
    chosen = _chosen_claims(query.credential(credential_id), claims)
    return None if chosen is None else {c.path for c in chosen}


def matches(query: DcqlQuery, vct: str, claims: Mapping[str, Any]) -> str | None:
    """The id of the first credential query that a credential of type ``vct`` with ``claims``
    satisfies (type in ``vct_values``, every claim asked for present with an accepted value),
    or ``None``."""
    for credential in query.credentials:
        if vct in credential.vct_values and _chosen_claims(credential, claims) is not None:
            return credential.id
    return None


def credential_sets_met(query: DcqlQuery, returned: set[str]) -> bool:
    """Whether credentials answering the queries ``returned`` meet the query's
    ``credential_sets`` (every required set has an option wholly returned); without
    ``credential_sets``, whether every credential query was answered (section 6.4.2)."""
    if query.credential_sets is None:
        return all(c.id in returned for c in query.credentials)
    return all(
        any(set(option) <= returned for option in s.options)
        for s in query.credential_sets
        if s.required
    )
