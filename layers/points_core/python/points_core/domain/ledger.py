"""Debiting and crediting a wallet, pure.

A debit draws earliest expiry first (ties: earlier award, then allocation id), skips expired allocations and
records every draw. A reversal gives draws back to the same allocations, last drawn first, with their
original expiry; what has expired since is reported, not credited."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal

from points_core.domain.errors import InsufficientPoints, StaleRead
from points_core.domain.models import Allocation, Wallet
from points_core.domain.models.redemption import Draw, Redemption
from points_core.domain.models.reversal import Credit


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


def undo_order(redemption: Redemption) -> list[tuple[Draw, Decimal]]:
    """The draws not reversed yet and how much of each, in the order a reversal gives them back: the last
    drawn first. Reversing part of a redemption so leaves exactly what redeeming the rest would have drawn,
    and what is still reversible follows from `reversed_points` alone."""
    already = redemption.reversed_points
    left: list[tuple[Draw, Decimal]] = []
    for draw in reversed(redemption.draws):
        undone = min(draw.points, already)
        already -= undone
        if draw.points > undone:
            left.append((draw, draw.points - undone))
    return left


def credit(
    wallet: Wallet, redemption: Redemption, points: Decimal, now: datetime
) -> tuple[Wallet, tuple[Credit, ...]]:
    """The wallet after giving `points` of `redemption` back (next version) and the credits.

    Each draw's points go back to its allocation with the allocation's own expiry; an allocation that was
    pruned when it was spent is re-created from the draw. Points whose allocation has expired since are
    reported (`expired`) and credited to nobody. `StaleRead` when an allocation would end up holding more than
    it was awarded.
    """
    if not 0 < points <= redemption.outstanding:
        raise ValueError(f"{points} is not within the {redemption.outstanding} points left to reverse")
    if wallet.program_id != redemption.program_id:
        raise ValueError("the wallet is not the redemption's program")
    allocations = {allocation.allocation_id: allocation for allocation in wallet.allocations}
    order = list(allocations)
    credits: list[Credit] = []
    remaining = points
    for draw, reversible in undo_order(redemption):
        if remaining <= 0:
            break
        take = min(reversible, remaining)
        remaining -= take
        expired = draw.expires_at is not None and draw.expires_at <= now
        credits.append(
            Credit(allocation_id=draw.allocation_id, points=take, expires_at=draw.expires_at, expired=expired)
        )
        if expired:
            continue
        existing = allocations.get(draw.allocation_id)
        if existing is None:
            order.append(draw.allocation_id)
            existing = Allocation(
                allocation_id=draw.allocation_id,
                points=draw.allocation_points,
                remaining=Decimal(0),
                awarded_at=draw.awarded_at,
                expires_at=draw.expires_at,
            )
        if existing.remaining + take > existing.points:
            # Only a wallet read after a reversal its redemption was read before can look like this.
            raise StaleRead(f"allocation {draw.allocation_id} would hold more than it was awarded")
        allocations[draw.allocation_id] = existing.model_copy(update={"remaining": existing.remaining + take})
    updated = wallet.model_copy(
        update={"version": wallet.version + 1, "allocations": tuple(allocations[key] for key in order)}
    )
    return updated, tuple(credits)
