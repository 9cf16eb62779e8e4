"""Whatever arrives, the wallet answers with a verdict: a verified credential, or
``VerificationFailed``/``InvalidInput`` with a reason. Never another exception (which the API
would turn into a 500, and a queue into retries).

Hypothesis over arbitrary text, arbitrary JSON signed by the trusted issuer (so every check past
the signature is reached), arbitrary disclosures, DCQL queries and status lists.
"""

from __future__ import annotations

import json
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from gyeonggi.common.errors import InvalidInput
from gyeonggi.wallet.credential import verify_presentation
from gyeonggi.wallet.dcql import matches, parse_dcql, paths_to_disclose
from gyeonggi.wallet.errors import VerificationFailed
from gyeonggi.wallet.jose import b64url_encode, encode_jws, sign_jws
from gyeonggi.wallet.sd_jwt import digest
from gyeonggi.wallet.status_list import decode_status_list
from tests.unit.wallet_support import AUDIENCE, NONCE, NOW, Wallet, vc_payload

EXAMPLES = settings(
    max_examples=100,
    deadline=None,
    derandomize=True,
    database=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
WALLET = Wallet()

scalars = (
    st.none()
    | st.booleans()
    | st.integers(min_value=-(2**63), max_value=2**63)
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.sampled_from(["_sd", "...", "sha-256", "", "19", "exp", "cnf", "jwk", "EC", "P-256"])
    | st.text(max_size=20)
)
json_values = st.recursive(
    scalars,
    lambda children: (
        st.lists(children, max_size=4)
        | st.dictionaries(
            st.sampled_from(["_sd", "...", "_sd_alg", "exp", "cnf", "jwk", "a", "b", "status"])
            | st.text(max_size=6),
            children,
            max_size=4,
        )
    ),
    max_leaves=12,
)


def _verdict(presentation: str) -> None:
    try:
        verify_presentation(
            presentation, issuer_jwks=WALLET.jwks, nonce=NONCE, audience=AUDIENCE, now=NOW
        )
    except VerificationFailed as failure:
        assert failure.reason and str(failure)


@EXAMPLES
@given(st.text(max_size=300))
def test_any_text_is_a_verdict(text: str) -> None:
    _verdict(text)


@EXAMPLES
@given(
    st.dictionaries(st.text(max_size=8), json_values, max_size=6),
    st.lists(st.lists(json_values, max_size=4), max_size=4),
    st.booleans(),
)
def test_any_signed_payload_and_disclosures_are_a_verdict(
    extra: dict[str, Any], contents: list[list[Any]], reference_them: bool
) -> None:
    # A payload the trusted issuer signed: the checks after the signature all get reached.
    disclosures = [b64url_encode(json.dumps(c).encode()) for c in contents]
    payload: dict[str, Any] = {**vc_payload(WALLET), **extra}
    if reference_them:
        payload["_sd"] = [digest(d) for d in disclosures]
    issuer_jwt = sign_jws({"typ": "dc+sd-jwt"}, payload, WALLET.issuer)
    presented = issuer_jwt + "~" + "".join(d + "~" for d in disclosures)
    kb = encode_jws(
        {"typ": "kb+jwt"},
        {
            "iat": int(NOW.timestamp()),
            "aud": AUDIENCE,
            "nonce": NONCE,
            "sd_hash": digest(presented),
        },
        WALLET.holder,
    )
    _verdict(presented + kb)


@EXAMPLES
@given(st.dictionaries(st.text(max_size=8), json_values, max_size=6))
def test_any_kb_jwt_payload_is_a_verdict(kb_payload: dict[str, Any]) -> None:
    credential = WALLET.issue()
    kb = encode_jws({"typ": "kb+jwt"}, kb_payload, WALLET.holder)
    _verdict(credential + kb)


@EXAMPLES
@given(json_values, st.dictionaries(st.text(max_size=6), json_values, max_size=4))
def test_any_dcql_query_is_parsed_or_refused(query: Any, claims: dict[str, Any]) -> None:
    candidates = [query, {"credentials": [query]}, {"credentials": [_credential_query(query)]}]
    for candidate in candidates:
        try:
            parsed = parse_dcql(candidate)
        except InvalidInput as refused:
            assert refused.message.startswith("dcql_query")
            continue
        for credential in parsed.credentials:
            paths_to_disclose(parsed, credential.id, claims)
            matches(parsed, credential.vct_values[0], claims)


def _credential_query(claims: Any) -> dict[str, Any]:
    return {
        "id": "q",
        "format": "dc+sd-jwt",
        "meta": {"vct_values": ["https://x"]},
        "claims": [{"path": claims}] if not isinstance(claims, list) else claims,
    }


@EXAMPLES
@given(st.text(max_size=200), st.sampled_from([0, 1, 2, 3, 4, 8, 16]))
def test_any_status_list_text_is_decoded_or_refused(lst: str, bits: int) -> None:
    try:
        decoded = decode_status_list(lst, bits)
    except VerificationFailed as failure:
        assert failure.reason == "status_list_malformed"
        return
    assert len(decoded) * bits == len(decoded.data) * 8
