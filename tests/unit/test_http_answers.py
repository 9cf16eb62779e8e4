"""The error answers every HTTP function gives (gyeonggi.common.http)."""

from __future__ import annotations

import base64
from typing import Any

import pytest

from gyeonggi.common.errors import (
    Conflict,
    DomainError,
    InvalidInput,
    Unauthenticated,
    Unavailable,
    UnsupportedFormat,
)
from gyeonggi.common.http import answering, error_answer, json_request_body


class Recorder:
    """Stands in for Powertools' Logger and Metrics: what was logged and counted."""

    def __init__(self) -> None:
        self.logged: list[tuple[str, str]] = []
        self.counted: list[str] = []

    def exception(self, msg: str, **_: Any) -> None:
        self.logged.append(("exception", msg))

    def error(self, msg: str, **_: Any) -> None:
        self.logged.append(("error", msg))

    def add_metric(self, name: str, **_: Any) -> None:
        self.counted.append(name)


def _answer(exc: BaseException) -> tuple[Any, Recorder]:
    seen = Recorder()
    return error_answer(exc, seen, seen), seen  # type: ignore[arg-type]


def test_a_domain_error_keeps_its_status_and_message_and_is_not_logged_as_a_fault() -> None:
    answer, seen = _answer(Conflict("already decided"))
    assert (answer.status, answer.body) == (409, [{"code": 409, "description": "already decided"}])
    assert dict(answer.headers) == {}
    assert seen.counted == ["Http409"] and seen.logged == []


def test_a_401_challenges_for_a_bearer_token() -> None:
    answer, _ = _answer(Unauthenticated("no token"))
    assert answer.status == 401
    assert answer.headers["WWW-Authenticate"] == 'Bearer realm="gyeonggi"'


def test_an_unavailable_dependency_is_a_503_that_is_logged() -> None:
    answer, seen = _answer(Unavailable("the registry did not answer"))
    assert answer.status == 503 and answer.description == "the registry did not answer"
    assert seen.logged == [("error", "dependency unavailable")]


@pytest.mark.parametrize("exc", [KeyError("secret detail"), DomainError("unmapped")])
def test_anything_unmapped_is_a_500_that_shows_nothing_and_is_logged(exc: Exception) -> None:
    answer, seen = _answer(exc)
    assert answer.status == 500
    assert "secret" not in answer.description and "unmapped" not in answer.description
    assert [kind for kind, _ in seen.logged] == ["exception"] and seen.counted == ["Http500"]


def test_answering_turns_what_a_view_raises_into_the_frameworks_response() -> None:
    seen = Recorder()
    answer = answering(lambda e: (e.status, e.description), seen, seen)  # type: ignore[arg-type]

    @answer
    def view(value: str) -> tuple[int, str]:
        if not value:
            raise InvalidInput("value is empty")
        return 200, value

    assert view(value="x") == (200, "x")
    assert view(value="") == (400, "value is empty")


def test_a_json_body_is_read_plain_or_base64_and_other_types_are_refused() -> None:
    assert json_request_body(None, '{"a": 1}', base64_encoded=False) == {"a": 1}
    encoded = base64.b64encode('{"이름": "홍"}'.encode()).decode()
    assert json_request_body("application/json; charset=utf-8", encoded, base64_encoded=True) == {
        "이름": "홍"
    }
    with pytest.raises(UnsupportedFormat, match="text/csv"):
        json_request_body("text/csv", "a,b", base64_encoded=False)
    with pytest.raises(InvalidInput):
        json_request_body("application/json", "{not json", base64_encoded=False)
