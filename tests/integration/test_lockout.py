"""Lockout: repeated wrong passwords for one till lock it out for a while (default 10 failures in 15 minutes →
15 minutes), refused without checking the password; through the authorizer's handler, against moto."""

from __future__ import annotations

import base64
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime, timedelta
from typing import Any

import pytest

from points_core.domain import passwords
from points_core.domain.errors import Unauthenticated
from points_core.services.authentication import authenticate
from tests.conftest import Aws, clear_caches
from tests.factories import NOW, TILL, basic_auth, seed_org
from tests.invoke import function_module, invoke

METHOD_ARN = "arn:aws:execute-api:eu-west-1:123456789012:abc123/prod/GET/v1.1/points/isredeemable"
WRONG = basic_auth(password="not-the-password")


class Clock:
    """The authorizer's clock, moved by the test."""

    def __init__(self) -> None:
        self.now = NOW

    def __call__(self) -> datetime:
        return self.now

    def advance(self, **delta: float) -> None:
        self.now += timedelta(**delta)


@pytest.fixture
def clock(aws: Aws, monkeypatch: pytest.MonkeyPatch) -> Clock:
    # Every attempt checked: nothing kept of a success (a kept credential is let in, locked or not: see
    # test_authorizer_oauth.py).
    monkeypatch.setenv("AUTHORIZER_CACHE_SECONDS", "0")
    clear_caches()
    seed_org()
    clock = Clock()
    monkeypatch.setattr(function_module("authorizer"), "utc_now", clock)
    return clock


@pytest.fixture
def hashes(monkeypatch: pytest.MonkeyPatch) -> Iterator[list[str]]:
    """Every slow hash the password check computes (its input)."""
    computed: list[str] = []
    real = passwords._derive

    def counting(secret: str, *args: Any) -> bytes:
        computed.append(secret)
        return real(secret, *args)

    monkeypatch.setattr(passwords, "_derive", counting)
    yield computed


def allowed(authorization: str) -> bool:
    event = {
        "type": "REQUEST",
        "methodArn": METHOD_ARN,
        "httpMethod": "GET",
        "path": "/v1.1/points/isredeemable",
        "headers": {"Authorization": authorization},
        "requestContext": {"requestId": "r-1", "stage": "prod"},
    }
    try:
        invoke("authorizer", event)
    except Exception as refused:
        assert str(refused) == "Unauthorized"
        return False
    return True


def lockout_item(aws: Aws, subject: str = TILL) -> dict[str, Any]:
    item: dict[str, Any] = aws.dynamodb.get_item(
        TableName="ConfigTable", Key={"pk": {"S": f"LOCKOUT#{subject}"}, "sk": {"S": "LOCKOUT"}}
    ).get("Item", {})
    return item


def fail(times: int, authorization: str = WRONG) -> None:
    for _ in range(times):
        assert not allowed(authorization)


def test_ten_wrong_passwords_lock_the_till_out_for_fifteen_minutes(clock: Clock) -> None:
    # Given ten wrong passwords within 15 minutes
    for _ in range(10):
        assert not allowed(WRONG)
        clock.advance(minutes=1)
    # Then the right password is refused until the lock, begun at the tenth failure, ends
    assert not allowed(basic_auth())
    clock.advance(minutes=13, seconds=59)
    assert not allowed(basic_auth())
    clock.advance(seconds=2)
    assert allowed(basic_auth())


def test_nine_wrong_passwords_do_not_lock_and_a_closed_window_counts_again(clock: Clock) -> None:
    fail(9)
    assert allowed(basic_auth())
    # The window opened at the first failure; 15 minutes later a failure opens a new one.
    clock.advance(minutes=15)
    fail(9)
    assert allowed(basic_auth())
    fail(1)
    assert not allowed(basic_auth())


def test_a_success_does_not_reset_the_count(clock: Clock) -> None:
    # An attacker's guesses between a till's own logins still add up.
    fail(5)
    assert allowed(basic_auth())
    fail(5)
    assert not allowed(basic_auth())


def test_a_locked_till_is_refused_without_computing_the_slow_hash(clock: Clock, hashes: list[str]) -> None:
    fail(10)
    assert len(hashes) == 10
    assert not allowed(basic_auth())
    assert not allowed(WRONG)
    assert len(hashes) == 10


def test_attempts_while_locked_neither_count_nor_extend_the_lock(aws: Aws, clock: Clock) -> None:
    fail(10)
    locked = lockout_item(aws)
    for _ in range(14):
        clock.advance(minutes=1)
        fail(1)
    assert lockout_item(aws) == locked
    clock.advance(minutes=1)
    assert allowed(basic_auth())


def test_an_unknown_username_is_counted_and_locked_like_a_till(aws: Aws, clock: Clock) -> None:
    # What a till and a nonexistent username answer while locked, or not, is the same: no oracle.
    nobody = basic_auth("nobody")
    fail(10, nobody)
    assert lockout_item(aws, "nobody")["failures"] == {"N": "10"}
    assert lockout_item(aws, "nobody")["locked_until"]
    assert allowed(basic_auth())


def test_a_known_and_an_unknown_till_make_the_same_calls(clock: Clock, dynamodb_calls: list[str]) -> None:
    for authorization in (WRONG, basic_auth("nobody"), WRONG, basic_auth("nobody")):
        dynamodb_calls.clear()
        fail(1, authorization)
        first = ["BatchGetItem", "UpdateItem", "UpdateItem"]  # no window open: counting opens one
        later = ["BatchGetItem", "UpdateItem"]
        assert dynamodb_calls in (first, later)
    dynamodb_calls.clear()
    fail(1, WRONG)
    till_calls = list(dynamodb_calls)
    dynamodb_calls.clear()
    fail(1, basic_auth("nobody"))
    assert dynamodb_calls == till_calls == ["BatchGetItem", "UpdateItem"]


def test_the_lockout_record_expires_after_its_window_and_lock(aws: Aws, clock: Clock) -> None:
    fail(1)
    item = lockout_item(aws)
    assert int(item["expires_at"]["N"]) == int((NOW + timedelta(minutes=30)).timestamp())
    assert item["window_start"] == {"N": str(int(NOW.timestamp()))}
    # The login item itself never expires.
    login = aws.dynamodb.get_item(
        TableName="ConfigTable", Key={"pk": {"S": f"LOGIN#{TILL}"}, "sk": {"S": "TILL"}}
    )["Item"]
    assert "expires_at" not in login


def test_malformed_credentials_name_no_till_and_count_nothing(aws: Aws, clock: Clock) -> None:
    for authorization in ("", "Bearer x", "Basic !!!", "Basic " + base64.b64encode(TILL.encode()).decode()):
        assert not allowed(authorization)
    assert lockout_item(aws) == {}


def test_the_numbers_come_from_the_environment(
    aws: Aws, clock: Clock, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("LOCKOUT_MAX_FAILURES", "3")
    monkeypatch.setenv("LOCKOUT_WINDOW_MINUTES", "5")
    monkeypatch.setenv("LOCKOUT_MINUTES", "60")
    clear_caches()
    fail(2)
    clock.advance(minutes=5)  # the window of the first two closed
    fail(2)
    assert allowed(basic_auth())
    fail(1)
    assert not allowed(basic_auth())
    clock.advance(minutes=59, seconds=59)
    assert not allowed(basic_auth())
    clock.advance(seconds=1)
    assert allowed(basic_auth())


def _at_once(count: int, authorization: str, now: datetime) -> list[bool]:
    """`count` logins at once, each in a thread of its own. Through the service, not the handler: a Lambda
    container runs one invocation at a time, and Powertools' metrics, one per process, expect that."""

    def attempt(_: int) -> bool:
        try:
            authenticate(authorization, now)
        except Unauthenticated:
            return False
        return True

    with ThreadPoolExecutor(max_workers=count) as pool:
        return list(pool.map(attempt, range(count)))


def test_simultaneous_wrong_passwords_are_each_counted_once(
    aws: Aws, clock: Clock, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("LOCKOUT_MAX_FAILURES", "100")
    clear_caches()
    assert not any(_at_once(24, WRONG, clock.now))
    assert lockout_item(aws)["failures"] == {"N": "24"}
    assert "locked_until" not in lockout_item(aws)


def test_simultaneous_wrong_passwords_past_the_limit_lock_once(aws: Aws, clock: Clock) -> None:
    assert not any(_at_once(24, WRONG, clock.now))
    item = lockout_item(aws)
    # Those checked before the lock was set are counted; those after it were refused unchecked.
    assert 10 <= int(item["failures"]["N"]) <= 24
    assert item["locked_until"] == {"N": str(int((NOW + timedelta(minutes=15)).timestamp()))}
    assert not allowed(basic_auth())


def test_a_lock_is_one_tills_own(clock: Clock) -> None:
    seed_org(tills={TILL: "501", "other.till": "501"})
    fail(10)
    assert not allowed(basic_auth())
    assert allowed(basic_auth("other.till"))
