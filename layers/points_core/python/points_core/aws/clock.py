"""The clock: where the functions read the time. Everything below them is given it (the domain never reads
it), so tests and the benchmark can move time without sleeping."""

from __future__ import annotations

from datetime import UTC, datetime


def utc_now() -> datetime:
    return datetime.now(UTC)
