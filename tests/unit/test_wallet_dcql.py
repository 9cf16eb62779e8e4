"""OpenID4VP 1.0 DCQL: the specification's example queries, what is refused, path processing,
and matching for the wallet and the verifier."""

from __future__ import annotations

import copy
from typing import Any

import pytest

from gyeonggi.common.errors import InvalidInput
from gyeonggi.wallet.dcql import (
    ClaimsQuery,
    credential_sets_met,
    matches,
    parse_dcql,
    paths_to_disclose,
    requested_paths,
    resolve_path,
)

IDENTITY = "https://credentials.example.com/identity_credential"

# OpenID4VP 1.0 (github.com/openid/OpenID4VP, 1.0/examples/query_lang/, data copied): the
# examples of sections 6.5 and appendix D.
SIMPLE: dict[str, Any] = {
    "credentials": [
        {
            "id": "my_credential",
            "format": "dc+sd-jwt",
            "meta": {"vct_values": [IDENTITY]},
            "claims": [
                {"path": ["family_name"]},
                {"path": ["given_name"]},
                {"path": ["address", "street_address"]},
            ],
        }
    ]
}
CLAIMS_ALTERNATIVES: dict[str, Any] = {
    "credentials": [
        {
            "id": "pid",
            "format": "dc+sd-jwt",
            "meta": {"vct_values": [IDENTITY]},
            "claims": [
                {"id": "a", "path": ["family_name"]},
                {"id": "b", "path": ["postal_code"]},
                {"id": "c", "path": ["locality"]},
                {"id": "d", "path": ["region"]},
                {"id": "e", "path": ["date_of_birth"]},
            ],
            "claim_sets": [["a", "c", "d", "e"], ["a", "b", "e"]],
        }
    ]
}
VALUE_MATCHING: dict[str, Any] = {
    "credentials": [
        {
            "id": "my_credential",
            "format": "dc+sd-jwt",
            "meta": {"vct_values": [IDENTITY]},
            "claims": [
                {"path": ["family_name"], "values": ["Doe"]},
                {"path": ["given_name"]},
                {"path": ["address", "street_address"]},
                {"path": ["postal_code"], "values": ["90210", "90211"]},
            ],
        }
    ]
}
CREDENTIALS_ALTERNATIVES: dict[str, Any] = {
    "credentials": [
        {
            "id": "pid",
            "format": "dc+sd-jwt",
            "meta": {"vct_values": [IDENTITY]},
            "claims": [
                {"path": ["given_name"]},
                {"path": ["family_name"]},
                {"path": ["address", "street_address"]},
            ],
        },
        {
            "id": "other_pid",
            "format": "dc+sd-jwt",
            "meta": {"vct_values": ["https://othercredentials.example/pid"]},
            "claims": [
                {"path": ["given_name"]},
                {"path": ["family_name"]},
                {"path": ["address", "street_address"]},
            ],
        },
        {
            "id": "pid_reduced_cred_1",
            "format": "dc+sd-jwt",
            "meta": {"vct_values": ["https://credentials.example.com/reduced_identity_credential"]},
            "claims": [{"path": ["family_name"]}, {"path": ["given_name"]}],
        },
        {
            "id": "pid_reduced_cred_2",
            "format": "dc+sd-jwt",
            "meta": {"vct_values": ["https://cred.example/residence_credential"]},
            "claims": [{"path": ["postal_code"]}, {"path": ["locality"]}, {"path": ["region"]}],
        },
        {
            "id": "nice_to_have",
            "format": "dc+sd-jwt",
            "meta": {"vct_values": ["https://company.example/company_rewards"]},
            "claims": [{"path": ["rewards_number"]}],
        },
    ],
    "credential_sets": [
        {"options": [["pid"], ["other_pid"], ["pid_reduced_cred_1", "pid_reduced_cred_2"]]},
        {"required": False, "options": [["nice_to_have"]]},
    ],
}
# Section 7's example credential (claims path pointers).
ARTHUR: dict[str, Any] = {
    "name": "Arthur Dent",
    "address": {
        "street_address": "42 Market Street",
        "locality": "Milliways",
        "postal_code": "12345",
    },
    "degrees": [
        {"type": "Bachelor of Science", "university": "University of Betelgeuse"},
        {"type": "Master of Science", "university": "University of Betelgeuse"},
    ],
    "nationalities": ["British", "Betelgeusian"],
}
RESIDENT = "https://wallet.gg.go.kr/credentials/gyeonggi-resident"


def _refused(query: Any) -> str:
    with pytest.raises(InvalidInput) as refused:
        parse_dcql(query)
    return refused.value.message


def _with(query: dict[str, Any], *, credential: int = 0, **changes: Any) -> dict[str, Any]:
    changed = copy.deepcopy(query)
    entry = changed["credentials"][credential]
    for key, value in changes.items():
        if value is None:
            entry.pop(key, None)
        else:
            entry[key] = value
    return changed


# --- parsing --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "query", [SIMPLE, CLAIMS_ALTERNATIVES, VALUE_MATCHING, CREDENTIALS_ALTERNATIVES]
)
def test_the_specifications_examples_parse_and_write_back(query: dict[str, Any]) -> None:
    parsed = parse_dcql(query)
    assert parse_dcql(parsed.as_json()) == parsed


def test_parsed_values() -> None:
    parsed = parse_dcql(CLAIMS_ALTERNATIVES)
    (pid,) = parsed.credentials
    assert pid.id == "pid" and pid.vct_values == (IDENTITY,)
    assert pid.claim_sets == (("a", "c", "d", "e"), ("a", "b", "e"))
    assert pid.claim("b") == ClaimsQuery(path=("postal_code",), id="b")
    assert pid.require_cryptographic_holder_binding and not pid.multiple
    sets = parse_dcql(CREDENTIALS_ALTERNATIVES).credential_sets
    assert sets is not None and [s.required for s in sets] == [True, False]


def test_unknown_properties_are_ignored() -> None:
    query = _with(SIMPLE, purpose="age check", meta={"vct_values": [IDENTITY], "x": 1})
    query["future_extension"] = {"x": 1}
    assert parse_dcql(query) == parse_dcql(SIMPLE)


def test_other_formats_are_refused_by_name() -> None:
    # Appendix D's multi_credentials example asks for an mdoc as well: not supported here.
    mdoc = {
        "id": "mdl",
        "format": "mso_mdoc",
        "meta": {"doctype_value": "org.iso.7367.1.mVRC"},
        "claims": [{"path": ["org.iso.7367.1", "vehicle_holder"]}],
    }
    query = copy.deepcopy(SIMPLE)
    query["credentials"].append(mdoc)
    assert "credentials[1].format" in _refused(query)
    assert "dc+sd-jwt" in _refused(query)


@pytest.mark.parametrize(
    ("query", "where"),
    [
        (None, "JSON object"),
        ({}, "credentials"),
        ({"credentials": []}, "credentials"),
        (_with(SIMPLE, id="has space"), "credentials[0].id"),
        (_with(SIMPLE, id=""), "credentials[0].id"),
        (_with(SIMPLE, meta=None), "credentials[0].meta"),
        (_with(SIMPLE, meta={}), "vct_values"),
        (_with(SIMPLE, meta={"vct_values": []}), "vct_values"),
        (_with(SIMPLE, meta={"vct_values": [7]}), "vct_values[0]"),
        (_with(SIMPLE, claims=[]), "claims"),
        (_with(SIMPLE, claims=[{"id": "a"}]), "claims[0]"),
        (_with(SIMPLE, claims=[{"path": []}]), "claims[0].path"),
        (_with(SIMPLE, claims=[{"path": ["a", -1]}]), "claims[0].path[1]"),
        (_with(SIMPLE, claims=[{"path": ["a", True]}]), "claims[0].path[1]"),
        (_with(SIMPLE, claims=[{"path": ["a", 1.5]}]), "claims[0].path[1]"),
        (_with(SIMPLE, claims=[{"path": ["a"], "values": []}]), "values"),
        (_with(SIMPLE, claims=[{"path": ["a"], "values": [1.5]}]), "values[0]"),
        (_with(SIMPLE, claims=[{"path": ["a"], "values": [{"x": 1}]}]), "values[0]"),
        (_with(SIMPLE, claims=[{"path": ["a"]}, {"path": ["a"]}]), "claims[1].path"),
        (_with(SIMPLE, claims=[{"id": "x", "path": ["a"]}, {"id": "x", "path": ["b"]}]), "id"),
        (_with(SIMPLE, claims=None, claim_sets=[["a"]]), "claim_sets"),
        (_with(SIMPLE, claim_sets=[["a"]]), "every claim needs an id"),
        (_with(CLAIMS_ALTERNATIVES, claim_sets=[["a", "z"]]), "claim_sets[0][1]"),
        (_with(CLAIMS_ALTERNATIVES, claim_sets=[[]]), "claim_sets[0]"),
        (_with(SIMPLE, multiple="yes"), "multiple"),
        (_with(SIMPLE, require_cryptographic_holder_binding=1), "holder_binding"),
        (_with(SIMPLE, trusted_authorities=[{"type": "aki", "values": ["x"]}]), "trusted"),
        ({"credentials": SIMPLE["credentials"] * 2}, "same id"),
        ({**SIMPLE, "credential_sets": []}, "credential_sets"),
        ({**SIMPLE, "credential_sets": [{"options": [["nope"]]}]}, "options[0][0]"),
        (
            {**SIMPLE, "credential_sets": [{"options": [["my_credential"]], "required": 1}]},
            "required",
        ),
        (_with(SIMPLE, claims=[{"path": [f"p{i}"]} for i in range(65)]), "more than 64"),
    ],
)
def test_invalid_queries_are_refused_naming_the_place(query: Any, where: str) -> None:
    assert where in _refused(query)


# --- claims path pointers (section 7) -------------------------------------------------------


@pytest.mark.parametrize(
    ("path", "selected"),
    [
        (("name",), ["Arthur Dent"]),
        (("address",), [ARTHUR["address"]]),
        (("address", "street_address"), ["42 Market Street"]),
        (("degrees", None, "type"), ["Bachelor of Science", "Master of Science"]),
        (("nationalities", 1), ["Betelgeusian"]),
        (("nationalities", 2), None),  # no such index: nothing selected
        (("nickname",), None),
        (("name", "first"), None),  # a string is not an object: an error
        (("address", 0), None),  # an object is not an array: an error
        (("name", None), None),
    ],
)
def test_the_specifications_path_examples(path: Any, selected: list[Any] | None) -> None:
    assert resolve_path(ARTHUR, path) == selected


# --- the wallet and the verifier ------------------------------------------------------------


def test_requested_paths() -> None:
    assert requested_paths(parse_dcql(SIMPLE)) == {
        ("family_name",),
        ("given_name",),
        ("address", "street_address"),
    }
    alternatives = parse_dcql(CLAIMS_ALTERNATIVES)
    assert len(requested_paths(alternatives, "pid")) == 5  # every option's claims
    with pytest.raises(InvalidInput):
        requested_paths(alternatives, "nope")


def test_the_wallet_discloses_the_first_option_it_can_meet() -> None:
    query = parse_dcql(CLAIMS_ALTERNATIVES)
    full = {"family_name": "Doe", "postal_code": "1", "locality": "x", "region": "y",
            "date_of_birth": "2000-01-01"}  # fmt: skip
    assert paths_to_disclose(query, "pid", full) == {
        ("family_name",), ("locality",), ("region",), ("date_of_birth",)
    }  # fmt: skip
    no_locality = {k: v for k, v in full.items() if k != "locality"}
    assert paths_to_disclose(query, "pid", no_locality) == {
        ("family_name",), ("postal_code",), ("date_of_birth",)
    }  # fmt: skip
    assert paths_to_disclose(query, "pid", {"family_name": "Doe"}) is None


def test_no_claims_asked_means_nothing_selectively_disclosable() -> None:
    query = parse_dcql(_with(SIMPLE, claims=None))
    assert paths_to_disclose(query, "my_credential", {}) == set()
    assert matches(query, IDENTITY, {}) == "my_credential"


def test_values_match_type_and_value() -> None:
    over_19 = {
        "credentials": [
            {
                "id": "adult",
                "format": "dc+sd-jwt",
                "meta": {"vct_values": [RESIDENT]},
                "claims": [{"path": ["age_equal_or_over", "19"], "values": [True]}],
            }
        ]
    }
    query = parse_dcql(over_19)
    assert matches(query, RESIDENT, {"age_equal_or_over": {"19": True}}) == "adult"
    for claims in (
        {"age_equal_or_over": {"19": False}},
        {"age_equal_or_over": {"19": 1}},  # 1 is not true
        {"age_equal_or_over": {"14": True}},
        {},
    ):
        assert matches(query, RESIDENT, claims) is None
    numbers = parse_dcql(_with(SIMPLE, claims=[{"path": ["n"], "values": [19]}]))
    assert matches(numbers, IDENTITY, {"n": 19}) == "my_credential"
    assert matches(numbers, IDENTITY, {"n": "19"}) is None
    assert matches(numbers, IDENTITY, {"n": True}) is None


def test_matches_checks_the_type() -> None:
    query = parse_dcql(SIMPLE)
    claims = {"family_name": "Doe", "given_name": "J", "address": {"street_address": "x"}}
    assert matches(query, IDENTITY, claims) == "my_credential"
    assert matches(query, RESIDENT, claims) is None


def test_matches_with_values_and_wildcards() -> None:
    query = parse_dcql(VALUE_MATCHING)
    claims = {
        "family_name": "Doe",
        "given_name": "J",
        "address": {"street_address": "x"},
        "postal_code": "90211",
    }
    assert matches(query, IDENTITY, claims) == "my_credential"
    assert matches(query, IDENTITY, {**claims, "postal_code": "10001"}) is None
    wildcard = parse_dcql(
        _with(SIMPLE, claims=[{"path": ["degrees", None, "type"], "values": ["Master of Science"]}])
    )
    assert matches(wildcard, IDENTITY, ARTHUR) == "my_credential"


def test_credential_sets() -> None:
    query = parse_dcql(CREDENTIALS_ALTERNATIVES)
    assert credential_sets_met(query, {"pid"})
    assert credential_sets_met(query, {"other_pid", "nice_to_have"})
    assert credential_sets_met(query, {"pid_reduced_cred_1", "pid_reduced_cred_2"})
    assert not credential_sets_met(query, {"pid_reduced_cred_1"})
    assert not credential_sets_met(query, {"nice_to_have"})
    simple = parse_dcql(SIMPLE)
    assert credential_sets_met(simple, {"my_credential"}) and not credential_sets_met(simple, set())
