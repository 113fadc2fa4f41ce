"""Locking a till out after repeated wrong passwords (or OAuth secrets).

A window opens at a failure when none is open; the failures in it are counted, and the one that reaches
`max_failures` locks the till for `lock`. A locked till is refused before its password is checked. Attempts
while locked are not counted and never extend the lock, so a lock ends `lock` after it began whatever is sent
meanwhile; past the lock, the count starts again (a failure while the window is still open, which only a lock
shorter than the window allows, counts on and locks again at once).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta


@dataclass(frozen=True, slots=True)
class LockoutPolicy:
    max_failures: int
    window: timedelta
    lock: timedelta

    def __post_init__(self) -> None:
        if self.max_failures < 1 or self.window <= timedelta(0) or self.lock <= timedelta(0):
            raise ValueError("a lockout needs at least one failure, a window and a lock")

    @property
    def window_seconds(self) -> int:
        return int(self.window.total_seconds())

    @property
    def lock_seconds(self) -> int:
        return int(self.lock.total_seconds())


DEFAULT_POLICY = LockoutPolicy(max_failures=10, window=timedelta(minutes=15), lock=timedelta(minutes=15))


def epoch(moment: datetime) -> int:
    return int(moment.timestamp())


@dataclass(frozen=True, slots=True)
class Lockout:
    """A till's failures in its open window (epoch seconds), and until when it is locked (if it was)."""

    failures: int = 0
    window_start: int | None = None
    locked_until: int | None = None

    def locked(self, now: datetime) -> bool:
        return self.locked_until is not None and epoch(now) < self.locked_until

    def reached(self, policy: LockoutPolicy) -> bool:
        """Whether this count (just made) locks the till."""
        return self.failures >= policy.max_failures

    def until(self) -> datetime | None:
        return datetime.fromtimestamp(self.locked_until, UTC) if self.locked_until is not None else None


def window_cutoff(now: datetime, policy: LockoutPolicy) -> int:
    """A window that started at or before this moment is over."""
    return epoch(now) - policy.window_seconds


def kept_until(now: datetime, policy: LockoutPolicy) -> int:
    """When a lockout record counted now is of no more use: its window closed and a lock begun at its end
    is over (the TTL of the record)."""
    return epoch(now) + policy.window_seconds + policy.lock_seconds
