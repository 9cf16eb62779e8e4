"""The token endpoint (OpenID4VCI 1.0 section 6, RFC 6749 5.2): pre-authorized code + tx_code.

Every refusal is the spec's error code (each a 400, mapped by the function): a code that is
unknown, expired, used or spent and a wrong tx_code are ``invalid_grant``; a missing code or
tx_code, or a parameter given twice, ``invalid_request``.
"""

from __future__ import annotations

import json
import threading

import pytest

from gyeonggi.wallet.grants import TX_CODE_ATTEMPTS, digest
from gyeonggi.wallet.issuance import ACCESS_TOKEN_LIFETIME
from gyeonggi.wallet.issuer_errors import (
    InvalidAuthorizationDetails,
    InvalidGrant,
    InvalidRequest,
    UnsupportedGrantType,
)
from gyeonggi.wallet.offers import CODE_LIFETIME
from tests.unit.wallet_issuer_support import Setup


def test_a_code_and_its_tx_code_give_a_short_lived_bearer_token_bound_to_the_enrolment() -> None:
    setup = Setup()
    made = setup.enrol()
    answer = setup.issuer.tokens.exchange(setup.token_form(made))
    assert answer["token_type"] == "Bearer"
    assert answer["expires_in"] == int(ACCESS_TOKEN_LIFETIME.total_seconds()) == 300
    assert "authorization_details" not in answer
    grant = setup.grants.tokens[digest(answer["access_token"])]
    assert grant.enrolment_id == made.enrolment_id
    assert grant.configuration_ids == ("gyeonggi_resident",)
    assert grant.client_id is None
    # Only digests are stored: neither the code nor the token could be replayed from the table.
    assert answer["access_token"] not in json.dumps([str(v) for v in setup.grants.tokens.values()])


def test_a_code_is_single_use() -> None:
    setup = Setup()
    made = setup.enrol()
    setup.issuer.tokens.exchange(setup.token_form(made))
    with pytest.raises(InvalidGrant, match="used"):
        setup.issuer.tokens.exchange(setup.token_form(made))


def test_a_code_expires() -> None:
    setup = Setup()
    made = setup.enrol()
    setup.clock.advance(seconds=CODE_LIFETIME.total_seconds())
    with pytest.raises(InvalidGrant, match="expired"):
        setup.issuer.tokens.exchange(setup.token_form(made))


def test_an_unknown_code_is_invalid_grant() -> None:
    setup = Setup()
    made = setup.enrol()
    with pytest.raises(InvalidGrant):
        setup.issuer.tokens.exchange(setup.token_form(made, **{"pre-authorized_code": "nope"}))


def test_a_missing_code_or_grant_type_is_invalid_request_and_another_grant_unsupported() -> None:
    setup = Setup()
    made = setup.enrol()
    with pytest.raises(InvalidRequest, match="pre-authorized_code"):
        setup.issuer.tokens.exchange(setup.token_form(made, **{"pre-authorized_code": None}))
    with pytest.raises(InvalidRequest, match="grant_type"):
        setup.issuer.tokens.exchange(setup.token_form(made, grant_type=None))
    with pytest.raises(UnsupportedGrantType):
        setup.issuer.tokens.exchange(setup.token_form(made, grant_type="authorization_code"))


def test_a_missing_tx_code_is_invalid_request_and_costs_no_attempt() -> None:
    setup = Setup()
    made = setup.enrol()
    for empty in (None, ""):  # an empty parameter counts as absent (RFC 6749 3.1)
        with pytest.raises(InvalidRequest, match="tx_code"):
            setup.issuer.tokens.exchange(setup.token_form(made, tx_code=empty))
    assert setup.issuer.tokens.exchange(setup.token_form(made))["access_token"]


def test_a_wrong_tx_code_is_invalid_grant_and_the_attempts_are_limited() -> None:
    setup = Setup()
    made = setup.enrol()
    wrong = f"{(int(made.tx_code) + 1) % 10**6:06d}"
    for left in range(TX_CODE_ATTEMPTS - 1, 0, -1):
        with pytest.raises(InvalidGrant, match=f"{left} attempts left"):
            setup.issuer.tokens.exchange(setup.token_form(made, tx_code=wrong))
    with pytest.raises(InvalidGrant, match="spent"):
        setup.issuer.tokens.exchange(setup.token_form(made, tx_code=wrong))
    # Spent: the right code no longer helps.
    with pytest.raises(InvalidGrant):
        setup.issuer.tokens.exchange(setup.token_form(made))


def test_a_parameter_given_twice_is_invalid_request() -> None:
    setup = Setup()
    made = setup.enrol()
    form = setup.token_form(made)
    form["tx_code"] = [made.tx_code, made.tx_code]
    with pytest.raises(InvalidRequest, match="more than once"):
        setup.issuer.tokens.exchange(form)


def test_a_tx_code_of_another_offer_does_not_redeem_this_one() -> None:
    setup = Setup()
    first, second = setup.enrol(), setup.enrol()
    if first.tx_code == second.tx_code:  # one chance in a million
        pytest.skip("the two offers drew the same tx_code")
    with pytest.raises(InvalidGrant):
        setup.issuer.tokens.exchange(setup.token_form(first, tx_code=second.tx_code))


def test_authorization_details_give_credential_identifiers() -> None:
    setup = Setup()
    made = setup.enrol()
    details = json.dumps(
        [{"type": "openid_credential", "credential_configuration_id": "gyeonggi_resident"}]
    )
    answer = setup.issuer.tokens.exchange(setup.token_form(made, authorization_details=details))
    assert answer["authorization_details"] == [
        {
            "type": "openid_credential",
            "credential_configuration_id": "gyeonggi_resident",
            "credential_identifiers": ["gyeonggi_resident"],
        }
    ]
    grant = setup.grants.tokens[digest(answer["access_token"])]
    assert grant.credential_identifiers == ("gyeonggi_resident",)


@pytest.mark.parametrize(
    "details",
    [
        "not json",
        "[]",
        '{"type": "openid_credential"}',
        '[{"type": "something_else", "credential_configuration_id": "gyeonggi_resident"}]',
        '[{"type": "openid_credential", "credential_configuration_id": "mdl"}]',
    ],
)
def test_authorization_details_that_ask_for_what_was_not_offered_are_refused(
    details: str,
) -> None:
    setup = Setup()
    made = setup.enrol()
    with pytest.raises(InvalidAuthorizationDetails):
        setup.issuer.tokens.exchange(setup.token_form(made, authorization_details=details))
    # Refused before redemption: the code still works.
    assert setup.issuer.tokens.exchange(setup.token_form(made))["access_token"]


def test_of_requests_racing_with_one_code_exactly_one_gets_a_token() -> None:
    setup = Setup()
    made = setup.enrol()
    form = setup.token_form(made)
    won: list[str] = []
    lost: list[Exception] = []
    start = threading.Barrier(8)

    def redeem() -> None:
        start.wait()
        try:
            won.append(setup.issuer.tokens.exchange(form)["access_token"])
        except InvalidGrant as exc:
            lost.append(exc)

    threads = [threading.Thread(target=redeem) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(10)
    assert len(won) == 1 and len(lost) == 7
