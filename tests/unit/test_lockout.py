"""The lockout's pure rules: when a till is locked, when a count locks it, how long its record is kept."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from points_core.domain.lockout import (
    DEFAULT_POLICY,
    Lockout,
    LockoutPolicy,
    epoch,
    kept_until,
    window_cutoff,
)

NOW = datetime(2026, 11, 22, 12, 0, tzinfo=UTC)


def test_the_default_is_ten_failures_in_fifteen_minutes_then_fifteen_minutes() -> None:
    assert LockoutPolicy(10, timedelta(minutes=15), timedelta(minutes=15)) == DEFAULT_POLICY


def test_locked_until_the_second_the_lock_ends() -> None:
    lockout = Lockout(failures=10, window_start=epoch(NOW), locked_until=epoch(NOW) + 900)
    assert lockout.locked(NOW)
    assert lockout.locked(NOW + timedelta(seconds=899))
    assert not lockout.locked(NOW + timedelta(seconds=900))
    assert lockout.until() == NOW + timedelta(minutes=15)
    assert not Lockout().locked(NOW)


def test_the_count_that_reaches_the_limit_locks() -> None:
    assert not Lockout(failures=9).reached(DEFAULT_POLICY)
    assert Lockout(failures=10).reached(DEFAULT_POLICY)
    assert Lockout(failures=11).reached(DEFAULT_POLICY)


def test_a_record_is_kept_for_its_window_and_a_lock_begun_at_its_end() -> None:
    assert window_cutoff(NOW, DEFAULT_POLICY) == epoch(NOW) - 900
    assert kept_until(NOW, DEFAULT_POLICY) == epoch(NOW) + 1800


@pytest.mark.parametrize(
    "policy",
    [
        (0, timedelta(minutes=1), timedelta(minutes=1)),
        (1, timedelta(0), timedelta(minutes=1)),
        (1, timedelta(minutes=1), timedelta(0)),
    ],
)
def test_a_policy_needs_a_limit_a_window_and_a_lock(policy: tuple[int, timedelta, timedelta]) -> None:
    with pytest.raises(ValueError):
        LockoutPolicy(*policy)
