"""Log lines never carry personal data; settings and queue bodies fail with a clear reason."""

from __future__ import annotations

import io
import json
import sys

import pytest

from gyeonggi.common.config import ConfigurationError, Settings
from gyeonggi.common.observability import observability


def test_logger_masks_personal_fields_in_messages_and_extra_keys(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    out = io.StringIO()
    monkeypatch.setattr(sys, "stdout", out)  # the logger writes to the stdout of the moment
    logger, _, _ = observability("test")
    logger.info({"email": "a@b.kr", "service_code": "noise"})
    logger.info("contact", extra={"phone": "010-1234-5678", "detail": {"first_name": "Minji"}})
    lines = [json.loads(line) for line in out.getvalue().splitlines()]
    text = out.getvalue()
    assert "a@b.kr" not in text and "010-1234-5678" not in text and "Minji" not in text
    assert lines[0]["message"] == {"email": "*****", "service_code": "noise"}
    assert lines[1]["phone"] == "*****"


def test_a_list_in_a_message_or_an_extra_key_is_logged_masked(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Powertools' masking takes a dict or a JSON string only: a list of values or of records
    (the cameras a sweep found silent) is masked item by item, not an exception in the log call."""
    out = io.StringIO()
    monkeypatch.setattr(sys, "stdout", out)
    logger, _, _ = observability("test-lists")
    logger.info("cameras offline", extra={"camera_ids": ["cam-1", "cam-2"]})
    logger.info([{"phone": "010-1234-5678", "camera_id": "cam-3"}, "900101-1234567", 3])
    lines = [json.loads(line) for line in out.getvalue().splitlines()]
    assert lines[0]["camera_ids"] == ["cam-1", "cam-2"]
    assert lines[1]["message"] == [{"phone": "*****", "camera_id": "cam-3"}, "900101-1******", 3]
    assert "010-1234-5678" not in out.getvalue() and "1234567" not in out.getvalue()


def test_a_function_loaded_twice_in_one_process_still_logs(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """The local cloud may load one function twice in a process (two clouds in a benchmark):
    the second logger of a service shares the first's handler, formatter and masking."""
    out = io.StringIO()
    monkeypatch.setattr(sys, "stdout", out)
    first, _, _ = observability("twice-loaded")
    second, _, _ = observability("twice-loaded")
    second.append_keys(incident_id="inc-1")
    second.info("evidence taken", extra={"email": "a@b.kr"})
    first.info("still here")
    lines = [json.loads(line) for line in out.getvalue().splitlines()]
    assert [line["message"] for line in lines] == ["evidence taken", "still here"]
    assert lines[0]["incident_id"] == "inc-1" and lines[0]["email"] == "*****"


class _Needs(Settings):
    table_name: str
    batch_size: int = 10


def test_settings_name_every_missing_or_bad_variable() -> None:
    with pytest.raises(ConfigurationError, match="TABLE_NAME is not set"):
        _Needs.from_env({})
    with pytest.raises(ConfigurationError, match="BATCH_SIZE"):
        _Needs.from_env({"TABLE_NAME": "t", "BATCH_SIZE": "ten"})
    assert _Needs.from_env({"TABLE_NAME": "t"}).batch_size == 10


def test_a_queue_body_that_is_not_json_is_invalid_input_saying_where() -> None:
    from gyeonggi.common.errors import InvalidInput
    from gyeonggi.common.messages import json_body

    assert json_body('{"a": [1, 2]}') == {"a": [1, 2]}
    assert json_body(b"[]") == []
    with pytest.raises(InvalidInput, match="not JSON: Expecting property name"):
        json_body("{not json")
