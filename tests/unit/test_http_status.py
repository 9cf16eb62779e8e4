"""One table of HTTP statuses for the domain's errors, shared by every HTTP entry point."""

from __future__ import annotations

from gyeonggi.auth import KeySetUnavailable
from gyeonggi.common.errors import (
    Conflict,
    ContentTooLarge,
    DomainError,
    InvalidInput,
    NotFound,
    http_status,
)
from gyeonggi.wallet.offers import TxCodeNotSent
from gyeonggi.wallet.presentation_requests import AlreadyAnswered, RequestExpired


def test_a_subclass_is_answered_with_its_own_status_not_its_bases() -> None:
    assert http_status(ContentTooLarge("too big")) == 413
    assert http_status(InvalidInput("bad")) == 400
    assert http_status(AlreadyAnswered("twice")) == 409


def test_what_we_could_not_reach_is_503_worth_a_retry() -> None:
    assert http_status(KeySetUnavailable("no keys")) == 503
    assert http_status(TxCodeNotSent("no sms")) == 503


def test_an_entry_points_own_statuses_come_first() -> None:
    assert http_status(RequestExpired("late")) is None
    assert http_status(RequestExpired("late"), {RequestExpired: 410}) == 410
    assert http_status(NotFound("none"), {Conflict: 409}) == 404


def test_an_unmapped_domain_error_has_no_status_so_the_entry_point_logs_it() -> None:
    assert http_status(DomainError("a bug")) is None
