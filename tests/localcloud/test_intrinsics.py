"""The local deployer's CloudFormation intrinsics."""

from __future__ import annotations

from typing import Any

import pytest

from localcloud.intrinsics import Resolver, TemplateError, references

ATTRS = {("Queue", "Arn"): "arn:aws:sqs:ap-northeast-2:123456789012:q", ("Fn", "Arn"): "arn:fn"}


def resolver(conditions: dict[str, Any] | None = None) -> Resolver:
    def get_att(name: str, attr: str) -> Any:
        return ATTRS[(name, attr)]

    return Resolver(
        parameters={"Stage": "dev"},
        pseudo={"AWS::Region": "ap-northeast-2", "AWS::AccountId": "123456789012"},
        ref=lambda name: {"Queue": "https://q", "Table": "t-1"}[name],
        get_att=get_att,
        conditions=conditions or {"IsProd": {"Fn::Equals": [{"Ref": "Stage"}, "prod"]}},
        mappings={"Sizes": {"dev": {"Memory": 256}}},
    )


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ({"Ref": "Stage"}, "dev"),
        ({"Ref": "Table"}, "t-1"),
        ({"Fn::GetAtt": ["Queue", "Arn"]}, ATTRS[("Queue", "Arn")]),
        ({"Fn::GetAtt": "Fn.Arn"}, "arn:fn"),
        ({"Fn::Sub": "gyeonggi-${Stage}-${AWS::Region}"}, "gyeonggi-dev-ap-northeast-2"),
        ({"Fn::Sub": "${Queue.Arn}/x"}, ATTRS[("Queue", "Arn")] + "/x"),
        ({"Fn::Sub": ["${a}-${Stage}", {"a": {"Ref": "Table"}}]}, "t-1-dev"),
        ({"Fn::Sub": "${!Literal}"}, "${Literal}"),
        ({"Fn::Join": ["/", ["a", {"Ref": "Stage"}]]}, "a/dev"),
        ({"Fn::Select": [1, {"Fn::Split": [",", "x,y,z"]}]}, "y"),
        ({"Fn::If": ["IsProd", "big", "small"]}, "small"),
        ({"Fn::FindInMap": ["Sizes", {"Ref": "Stage"}, "Memory"]}, 256),
        ({"Fn::Base64": "hi"}, "aGk="),
        ({"Fn::GetAZs": ""}, ["ap-northeast-2a", "ap-northeast-2b", "ap-northeast-2c"]),
    ],
)
def test_resolves(value: Any, expected: Any) -> None:
    assert resolver().resolve(value) == expected


def test_no_value_removes_the_property() -> None:
    value = {
        "A": 1,
        "B": {"Fn::If": ["IsProd", 2, {"Ref": "AWS::NoValue"}]},
        "C": [{"Ref": "AWS::NoValue"}, 3],
    }
    assert resolver().resolve(value) == {"A": 1, "C": [3]}


def test_unknown_function_and_condition_are_named() -> None:
    with pytest.raises(TemplateError, match="Fn::Transform"):
        resolver().resolve({"Fn::Transform": {}})
    with pytest.raises(TemplateError, match="condition 'Nope'"):
        resolver().condition("Nope")


def test_references_find_every_dependency() -> None:
    props = {
        "A": {"Ref": "Table"},
        "B": {"Fn::GetAtt": ["Queue", "Arn"]},
        "C": {"Fn::Sub": "${Fn.Arn}:${AWS::Region}:${Bucket}"},
        "D": {"Fn::Sub": ["${x}", {"x": {"Ref": "Topic"}}]},
    }
    assert references(props) >= {"Table", "Queue", "Fn", "Bucket", "Topic"}
    assert "AWS::Region" not in references(props)
