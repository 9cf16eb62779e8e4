"""CloudFormation intrinsic functions, resolved against what the local deployer created.

Covers what SAM's transform and this project's template produce: ``Ref``, ``Fn::GetAtt``,
``Fn::Sub``, ``Fn::Join``, ``Fn::Select``, ``Fn::Split``, ``Fn::If`` with conditions,
``Fn::FindInMap``, ``Fn::GetAZs`` and ``Fn::Base64``. Anything else is an error that names it.
"""

from __future__ import annotations

import base64
import re
from collections.abc import Callable, Mapping
from typing import Any

NO_VALUE = object()  # AWS::NoValue: the property is removed

_SUB_VAR = re.compile(r"\$\{([^}!][^}]*)\}")


class TemplateError(Exception):
    """The template asks for something the local cloud cannot resolve or create."""


class Resolver:
    """Resolve intrinsics; ``ref`` and ``get_att`` look up resources created so far."""

    def __init__(
        self,
        *,
        parameters: Mapping[str, Any],
        pseudo: Mapping[str, Any],
        ref: Callable[[str], Any],
        get_att: Callable[[str, str], Any],
        conditions: Mapping[str, Any] | None = None,
        mappings: Mapping[str, Any] | None = None,
    ) -> None:
        self.parameters = parameters
        self.pseudo = pseudo
        self._ref = ref
        self._get_att = get_att
        self._conditions_src = dict(conditions or {})
        self._conditions: dict[str, bool] = {}
        self.mappings = mappings or {}

    # -- public
    def resolve(self, value: Any) -> Any:
        """Return ``value`` with every intrinsic replaced by its value."""
        if isinstance(value, list):
            out = [self.resolve(v) for v in value]
            return [v for v in out if v is not NO_VALUE]
        if isinstance(value, dict):
            if len(value) == 1:
                ((key, arg),) = value.items()
                if key == "Ref":
                    return self.ref(arg)
                if key.startswith("Fn::") or key == "Condition":
                    return self._function(key, arg)
            out_d = {k: self.resolve(v) for k, v in value.items()}
            return {k: v for k, v in out_d.items() if v is not NO_VALUE}
        return value

    def condition(self, name: str) -> bool:
        """The truth of a named condition of the template."""
        if name not in self._conditions:
            if name not in self._conditions_src:
                raise TemplateError(f"condition {name!r} is not defined")
            self._conditions[name] = bool(self._eval_condition(self._conditions_src[name]))
        return self._conditions[name]

    def ref(self, name: str) -> Any:
        if name == "AWS::NoValue":
            return NO_VALUE
        if name in self.pseudo:
            return self.pseudo[name]
        if name in self.parameters:
            return self.parameters[name]
        return self._ref(name)

    # -- functions
    def _function(self, key: str, arg: Any) -> Any:
        if key == "Fn::GetAtt":
            if isinstance(arg, str):
                arg = arg.split(".", 1)
            logical, attribute = self.resolve(arg)
            return self._get_att(logical, attribute)
        if key == "Fn::Sub":
            return self._sub(arg)
        if key == "Fn::Join":
            sep, items = arg
            return self.resolve(sep).join(str(i) for i in self.resolve(items))
        if key == "Fn::Select":
            index, items = self.resolve(arg)
            return items[int(index)]
        if key == "Fn::Split":
            sep, text = self.resolve(arg)
            return text.split(sep)
        if key == "Fn::If":
            name, then, otherwise = arg
            return self.resolve(then if self.condition(name) else otherwise)
        if key == "Fn::FindInMap":
            m, top, second = self.resolve(arg)
            return self.mappings[m][top][second]
        if key == "Fn::GetAZs":
            region = self.resolve(arg) or self.pseudo["AWS::Region"]
            return [f"{region}{zone}" for zone in "abc"]
        if key == "Fn::Base64":
            return base64.b64encode(str(self.resolve(arg)).encode()).decode()
        if key in {"Fn::Equals", "Fn::Not", "Fn::And", "Fn::Or", "Condition"}:
            return self._eval_condition({key: arg})
        raise TemplateError(f"intrinsic function {key} is not supported by the local cloud")

    def _sub(self, arg: Any) -> str:
        if isinstance(arg, list):
            text, variables = arg[0], {k: self.resolve(v) for k, v in arg[1].items()}
        else:
            text, variables = arg, {}

        def replace(match: re.Match[str]) -> str:
            name = match.group(1)
            if name in variables:
                return str(variables[name])
            if "." in name and not name.startswith("AWS::"):
                logical, attribute = name.split(".", 1)
                return str(self._get_att(logical, attribute))
            return str(self.ref(name))

        # ${!Literal} stays as ${Literal}, as CloudFormation does.
        return _SUB_VAR.sub(replace, text).replace("${!", "${")

    def _eval_condition(self, value: Any) -> Any:
        if isinstance(value, dict) and len(value) == 1:
            ((key, arg),) = value.items()
            if key == "Fn::Equals":
                a, b = (self.resolve(x) for x in arg)
                return str(a) == str(b)
            if key == "Fn::Not":
                return not self._eval_condition(arg[0])
            if key == "Fn::And":
                return all(self._eval_condition(x) for x in arg)
            if key == "Fn::Or":
                return any(self._eval_condition(x) for x in arg)
            if key == "Condition":
                return self.condition(arg)
        return self.resolve(value)


def references(value: Any) -> set[str]:
    """Logical names a piece of template refers to (to order the deployment)."""
    found: set[str] = set()
    if isinstance(value, list):
        for v in value:
            found |= references(v)
    elif isinstance(value, dict):
        for key, arg in value.items():
            if key == "Ref" and isinstance(arg, str):
                found.add(arg)
            elif key == "Fn::GetAtt":
                found.add(arg.split(".", 1)[0] if isinstance(arg, str) else arg[0])
            elif key == "Fn::Sub":
                text = arg[0] if isinstance(arg, list) else arg
                for name in _SUB_VAR.findall(text):
                    found.add(name.split(".", 1)[0])
                if isinstance(arg, list):
                    found |= references(arg[1])
            else:
                found |= references(arg)
    return {name for name in found if not name.startswith("AWS::")}
