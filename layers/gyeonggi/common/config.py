"""Configuration parsed once, at cold start, into typed models.

A function declares a ``Settings`` subclass naming the environment variables it needs; a missing
one fails the cold start with that variable's name instead of a ``None`` deep inside a handler.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from typing import Any, TypeVar

from pydantic import BaseModel, ConfigDict, ValidationError

from gyeonggi.common.errors import DomainError

S = TypeVar("S", bound="Settings")


class ConfigurationError(DomainError):
    """The function's environment lacks a variable it needs, or holds a bad value."""

    code = "configuration_error"


class Settings(BaseModel):
    """Base of every function's settings; field names are the upper-cased variable names."""

    model_config = ConfigDict(frozen=True, extra="ignore")

    @classmethod
    def from_env(cls: type[S], environ: Mapping[str, str] | None = None) -> S:
        """Read the settings from ``environ`` (default: the process environment).

        Raises
        ------
        ConfigurationError
            Naming every missing or invalid variable.
        """
        env = os.environ if environ is None else environ
        values: dict[str, Any] = {}
        for name in cls.model_fields:
            key = name.upper()
            if key in env:
                values[name] = env[key]
        try:
            return cls.model_validate(values)
        except ValidationError as exc:
            problems = []
            for err in exc.errors():
                var = str(err["loc"][0]).upper() if err["loc"] else "?"
                reason = "is not set" if err["type"] == "missing" else err["msg"]
                problems.append(f"{var} {reason}")
            raise ConfigurationError(f"{cls.__name__}: " + "; ".join(problems)) from None
