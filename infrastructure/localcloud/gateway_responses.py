"""API Gateway's own answers (gateway responses), as the deployed API declares them.

API Gateway answers some requests itself, without calling a function: a path or method no route
has (``MISSING_AUTHENTICATION_TOKEN``), a function that failed or answered a malformed proxy
response (an integration failure), and more. An API may customise each response type's status,
headers and body; SAM writes a ``GatewayResponses`` property into the API's body as
``x-amazon-apigateway-gateway-responses``. This module reads that same definition from the
deployed body, so that the local API server answers as AWS would and the two cannot drift.

As in API Gateway: a type the API customises answers as customised; otherwise the API's
``DEFAULT_4XX`` or ``DEFAULT_5XX`` (by the type's own status) applies; otherwise API Gateway's
built-in answer, ``{"message": ...}``. Templates are not VTL in API Gateway either; the body is
sent as written (no ``$context`` variable is substituted locally).
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

EXTENSION = "x-amazon-apigateway-gateway-responses"
_HEADER = "gatewayresponse.header."
_JSON = "application/json"

#: API Gateway's built-in status and message of the response types the local server produces.
BUILT_IN: dict[str, tuple[int, str]] = {
    # An unknown path, or a method the path does not have.
    "MISSING_AUTHENTICATION_TOKEN": (403, "Missing Authentication Token"),
    # The function raised, timed out, or answered something that is not a proxy response.
    "INTEGRATION_FAILURE": (502, "Internal server error"),
    # A body past the payload limit (10 MB for REST APIs).
    "REQUEST_TOO_LARGE": (413, "Request Too Long"),
}

Answer = tuple[int, list[tuple[str, str]], bytes]


@dataclass(frozen=True)
class GatewayResponses:
    """The gateway responses an API customises, by response type."""

    customised: Mapping[str, Mapping[str, Any]] = field(default_factory=dict)

    @classmethod
    def from_body(cls, body: Mapping[str, Any]) -> GatewayResponses:
        """The customisations in an OpenAPI body (none when it declares none)."""
        return cls(dict(body.get(EXTENSION) or {}))

    def answer(self, response_type: str) -> Answer:
        """Status, headers and body of ``response_type`` (a key of :data:`BUILT_IN`)."""
        status, message = BUILT_IN[response_type]
        family = "DEFAULT_4XX" if status < 500 else "DEFAULT_5XX"
        spec = self.customised.get(response_type) or self.customised.get(family)
        built_in = json.dumps({"message": message}).encode()
        if spec is None:
            return status, [("Content-Type", _JSON)], built_in
        templates: Mapping[str, str] = spec.get("responseTemplates") or {}
        content_type = _JSON if _JSON in templates else next(iter(templates), _JSON)
        body = templates[content_type].encode() if templates else built_in
        headers = [("Content-Type", content_type)]
        for name, value in (spec.get("responseParameters") or {}).items():
            # Static values only ('...'); values mapped from the request are not emulated.
            if name.startswith(_HEADER) and value.startswith("'") and value.endswith("'"):
                headers.append((name.removeprefix(_HEADER), value[1:-1]))
        return int(spec.get("statusCode") or status), headers, body
