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
