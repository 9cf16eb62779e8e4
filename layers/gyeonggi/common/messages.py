"""Queue message bodies: JSON text in, a clear ``InvalidInput`` when it is not JSON.

A queue consumer that raises ``InvalidInput`` fails that record alone (partial batch response);
after the queue's ``maxReceiveCount`` receives, the message waits on its dead-letter queue.
"""

from __future__ import annotations

import json
from typing import Any

from gyeonggi.common.errors import InvalidInput


def json_body(body: str | bytes) -> Any:
    """The decoded body of one message.

    Raises
    ------
    InvalidInput
        When the body is not JSON (the reason names where it stopped making sense).
    """
    try:
        return json.loads(body)
    except ValueError as exc:
        raise InvalidInput(f"the message body is not JSON: {exc}") from None
    except RecursionError:
        raise InvalidInput("the message body is JSON nested too deeply") from None


def require_encodable(data: Any, what: str, field: str | None = None) -> None:
    """Refuse decoded JSON that cannot be written back as UTF-8 JSON.

    JSON escapes can spell an unpaired UTF-16 surrogate (``"\\ud800"``), which Python decodes
    but no store or queue can encode; a write of it would fail however often it was retried.

    Raises
    ------
    InvalidInput
        ``what`` holds such text, or is nested deeper than the encoder goes.
    """
    try:
        json.dumps(data, ensure_ascii=False).encode("utf-8")
    except UnicodeEncodeError:
        raise InvalidInput(
            f"{what}: text with an unpaired UTF-16 surrogate escape", field=field
        ) from None
    except RecursionError:
        raise InvalidInput(f"{what}: JSON nested too deeply", field=field) from None
