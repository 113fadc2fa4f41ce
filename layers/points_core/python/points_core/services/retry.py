"""Optimistic writes: a transaction refused because something changed since it was read is tried again from a
fresh read, with jittered backoff, a bounded number of times."""

from __future__ import annotations

import random
import time
from collections.abc import Callable
from typing import TypeVar

from points_core.aws.observability import logger
from points_core.domain.errors import GaveUp, NotRecorded, Refusal

MAX_ATTEMPTS = 6

T = TypeVar("T")


def retrying(attempt: Callable[[int], T], what: str) -> T:
    """`attempt(n)` until it returns; a refusal (`NotRecorded`) tries again, after a jittered pause unless
    only a freshly drawn id collided. `GaveUp` after `MAX_ATTEMPTS`."""
    for number in range(MAX_ATTEMPTS):
        try:
            return attempt(number)
        except NotRecorded as refused:
            logger.info(f"{what} not recorded, retrying", extra={"reasons": sorted(refused.refusals)})
            if refused.refusals <= {Refusal.ID_TAKEN}:
                continue
            time.sleep(random.uniform(0, 0.02 * 2**number))  # noqa: S311 - jitter, not security
    raise GaveUp(what)
