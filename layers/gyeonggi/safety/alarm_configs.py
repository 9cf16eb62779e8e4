"""Each industrial complex's alarm configuration, from SSM, cached per container.

Standard library plus boto3 (made lazily) only: the sensor function reads it per reading.
"""

from __future__ import annotations

import json
import re
import time
from collections.abc import Callable, Mapping
from typing import Any

from gyeonggi.common.aws import AwsClient
from gyeonggi.safety.alarms import AlarmConfig, AlarmConfigError

#: What a complex id may be: a segment of the MQTT topic, and safe in an SSM parameter name.
_COMPLEX_ID = re.compile(r"[A-Za-z0-9_-]{1,64}")


class ComplexAlarmConfigs:
    """Each complex's :class:`AlarmConfig` from SSM ``/gyeonggi/safety/complexes/<id>/alarms``.

    Cached per complex for ``ttl_s`` seconds (absent parameters too, so a complex without
    overrides costs one SSM call per TTL, not per reading). An invalid parameter falls back to
    the industry defaults and is reported through ``on_invalid``: alarms must keep firing
    while someone fixes a typo in the configuration.
    """

    ssm = AwsClient("ssm")
    PATH = "/gyeonggi/safety/complexes/{complex_id}/alarms"

    def __init__(
        self,
        ttl_s: float = 60.0,
        ssm: Any | None = None,
        clock: Callable[[], float] = time.monotonic,
        on_invalid: Callable[[str, str], None] | None = None,
    ) -> None:
        self.ttl_s = ttl_s
        self.clock = clock
        self.on_invalid = on_invalid
        self._cache: dict[str, tuple[float, AlarmConfig]] = {}
        if ssm is not None:
            self.ssm = ssm

    def get(self, complex_id: str) -> AlarmConfig:
        now = self.clock()
        hit = self._cache.get(complex_id)
        if hit and hit[0] > now:
            return hit[1]
        config = self._fetch(complex_id)
        self._cache[complex_id] = (now + self.ttl_s, config)
        return config

    def put(self, complex_id: str, overrides: Mapping[str, Any]) -> AlarmConfig:
        """Validate a complex's overrides and store them (a new SSM parameter version).

        Only a configuration that :meth:`AlarmConfig.from_mapping` accepts is written, so the
        fallback in :meth:`get` stays for accidents, not for the normal way of editing.

        Raises
        ------
        AlarmConfigError
            When the overrides are invalid, or ``complex_id`` is not a complex id.
        """
        if not _COMPLEX_ID.fullmatch(complex_id):
            raise AlarmConfigError(
                "complex id: 1-64 letters, digits, '_' or '-' (as in the MQTT topic)",
                field="complex_id",
            )
        config = AlarmConfig.from_mapping(overrides)
        self.ssm.put_parameter(
            Name=self.PATH.format(complex_id=complex_id),
            Value=json.dumps(overrides, ensure_ascii=False, sort_keys=True),
            Type="String",
            Overwrite=True,
            Description=f"Alarm overrides of industrial complex {complex_id}",
        )
        self._cache.pop(complex_id, None)
        return config

    def _fetch(self, complex_id: str) -> AlarmConfig:
        name = self.PATH.format(complex_id=complex_id)
        try:
            value = self.ssm.get_parameter(Name=name)["Parameter"]["Value"]
        except self.ssm.exceptions.ParameterNotFound:
            return AlarmConfig()
        try:
            overrides = json.loads(value)
            if not isinstance(overrides, Mapping):
                raise AlarmConfigError("must be a JSON object", field="config")
            return AlarmConfig.from_mapping(overrides)
        except (ValueError, AlarmConfigError) as exc:
            if self.on_invalid:
                self.on_invalid(complex_id, str(exc))
            return AlarmConfig()
