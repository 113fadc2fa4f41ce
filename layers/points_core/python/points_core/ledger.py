"""Debiting a wallet, pure: earliest expiry first (ties: earlier award, then allocation id), expired
allocations skipped, every draw recorded so it can be reversed onto the same allocation."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal

from points_core.models import Allocation, Wallet
from points_core.models.redemption import Draw


class InsufficientPoints(ValueError):
    pass


def debit(wallet: Wallet, points: Decimal, now: datetime) -> tuple[Wallet, tuple[Draw, ...]]:
    """The wallet after taking `points` (next version; spent and expired allocations pruned) and the draws."""
    remaining = points
    draws: list[Draw] = []
    drawn: dict[str, Decimal] = {}
    for allocation in wallet.live_allocations(now):
        if remaining <= 0:
            break
        take = min(allocation.remaining, remaining)
        draws.append(
            Draw(
                allocation_id=allocation.allocation_id,
                points=take,
                awarded_at=allocation.awarded_at,
                expires_at=allocation.expires_at,
                allocation_points=allocation.points,
            )
        )
        drawn[allocation.allocation_id] = take
        remaining -= take
    if remaining > 0:
        raise InsufficientPoints(f"{remaining} points short")
    kept: list[Allocation] = []
    for allocation in wallet.live_allocations(now):
        left = allocation.remaining - drawn.get(allocation.allocation_id, Decimal(0))
        if left > 0:
            kept.append(allocation.model_copy(update={"remaining": left}))
    updated = wallet.model_copy(update={"version": wallet.version + 1, "allocations": tuple(kept)})
    return updated, tuple(draws)
