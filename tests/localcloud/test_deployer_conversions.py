"""CloudFormation's spelling of S3 lifecycle rules and WAF rules, turned into the APIs' own.

The template's properties reach moto through these; a key the conversion does not know must
fail the deployment naming it, never be dropped silently.
"""

from __future__ import annotations

from typing import Any

import pytest

from localcloud.deployer import s3_lifecycle_configuration, wafv2_rules
from localcloud.intrinsics import TemplateError


def test_lifecycle_rules_are_spelt_as_the_s3_api_spells_them() -> None:
    cfn = {
        "Rules": [
            {
                "Id": "expire-raw-segments",
                "Status": "Enabled",
                "Prefix": "cctv/",
                "ExpirationInDays": "30",
                "NoncurrentVersionExpiration": {"NoncurrentDays": 7},
            },
            {"Status": "Disabled", "ExpirationInDays": 730},
        ]
    }
    assert s3_lifecycle_configuration(cfn) == {
        "Rules": [
            {
                "ID": "expire-raw-segments",
                "Status": "Enabled",
                "Filter": {"Prefix": "cctv/"},
                "Expiration": {"Days": 30},
                "NoncurrentVersionExpiration": {"NoncurrentDays": 7},
            },
            # No prefix is the whole bucket.
            {"Status": "Disabled", "Filter": {"Prefix": ""}, "Expiration": {"Days": 730}},
        ]
    }


@pytest.mark.parametrize(
    "key", ["Transitions", "ExpiredObjectDeleteMarker", "TagFilters", "ObjectSizeGreaterThan"]
)
def test_a_lifecycle_key_the_local_cloud_does_not_convert_fails_naming_it(key: str) -> None:
    with pytest.raises(TemplateError, match=key):
        s3_lifecycle_configuration({"Rules": [{"Status": "Enabled", key: 1}]})


def test_waf_rule_numbers_from_parameters_become_integers_and_the_input_is_left_alone() -> None:
    # CloudFormation passes every parameter as a string; the WAF API wants integers.
    rules: list[dict[str, Any]] = [
        {
            "Name": "requests-per-client-address",
            "Priority": "0",
            "Statement": {
                "RateBasedStatement": {
                    "AggregateKeyType": "IP",
                    "Limit": "2000",
                    "EvaluationWindowSec": "300",
                }
            },
        },
        {"Name": "other", "Priority": 1, "Statement": {"ByteMatchStatement": {"x": "1"}}},
    ]
    converted = wafv2_rules(rules)
    rate = converted[0]["Statement"]["RateBasedStatement"]
    assert (converted[0]["Priority"], rate["Limit"], rate["EvaluationWindowSec"]) == (0, 2000, 300)
    assert converted[1]["Statement"] == {"ByteMatchStatement": {"x": "1"}}
    assert rules[0]["Priority"] == "0"


def test_a_comma_delimited_list_parameter_is_a_list_to_the_intrinsics() -> None:
    from localcloud.deployer import typed_parameters
    from localcloud.intrinsics import Resolver

    template = {
        "Parameters": {
            "Keys": {"Type": "CommaDelimitedList", "Default": ""},
            "Name": {"Type": "String"},
        }
    }
    resolve = Resolver(
        parameters=typed_parameters(template, {"Keys": "arn:a, arn:b", "Name": "x,y"}),
        pseudo={},
        ref=lambda name: name,
        get_att=lambda name, attribute: name,
    ).resolve
    assert resolve({"Ref": "Keys"}) == ["arn:a", "arn:b"]
    assert resolve({"Fn::Join": [",", {"Ref": "Keys"}]}) == "arn:a,arn:b"
    assert resolve({"Ref": "Name"}) == "x,y"  # a String stays one string
    empty = typed_parameters(template, {"Keys": "", "Name": ""})
    assert empty["Keys"] == [""]  # as CloudFormation: an empty list parameter is one empty item
