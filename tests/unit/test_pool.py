"""The walk across a group's wallets (domain/pool.py), pure: the order, the pages it asks for, the limits."""

from __future__ import annotations

from datetime import datetime, timedelta
from decimal import Decimal

import pytest

from points_core.domain.errors import InsufficientPoints
from points_core.domain.ledger import debit
from points_core.domain.models import Bucket, Page, PagesNeeded, Wallet
from points_core.domain.pool import (
    MAX_WALLETS_DRAWN,
    PoolPagesNeeded,
    Source,
    TooManyWallets,
    pooled_balance,
    pooled_debit,
    pooled_draws,
)
from tests.factories import NOW


def day(n: float) -> datetime:
    return NOW + timedelta(days=n)


def held(*buckets: tuple[float | None, int], program_id: int = 973, **fields: object) -> Wallet:
    return Wallet(
        program_id=program_id,
        version=1,
        buckets=tuple(
            Bucket(expires_at=None if at is None else day(at), points=Decimal(points))
            for at, points in buckets
        ),
        **fields,  # type: ignore[arg-type]
    )


def walk(pool: dict[Source, Wallet], points: int) -> list[tuple[str, float | None, int]]:
    return [
        (
            source.customer_id,
            None if draw.expires_at is None else (draw.expires_at - NOW).days,
            int(draw.points),
        )
        for source, draw in pooled_draws(pool, Decimal(points), NOW)
    ]


def test_earliest_expiry_first_across_members_ties_to_the_lower_customer_id() -> None:
    pool = {
        Source.of("30", 973): held((5, 10), (9, 10), (None, 10)),
        Source.of("4", 973): held((9, 10), (2, 10)),
        Source.of("100", 973): held((5, 10), (-1, 50)),  # an expired bucket is nobody's
    }

    # Then
    assert walk(pool, 55) == [
        ("4", 2, 10),
        ("30", 5, 10),
        ("100", 5, 10),
        ("4", 9, 10),
        ("30", 9, 10),
        ("30", None, 5),
    ]
    assert pooled_balance(pool, NOW) == 60
    with pytest.raises(InsufficientPoints):
        walk(pool, 61)


def test_each_wallets_part_is_its_own_debit() -> None:
    pool = {Source.of("1", 973): held((3, 10), (8, 10)), Source.of("2", 973): held((5, 10))}

    # When
    layouts, draws = pooled_debit(pool, Decimal(25), NOW)

    # Then: the first wallet gives its day-3 bucket and half its day-8 one, the second all it has
    assert layouts[Source.of("1", 973)].wallet.balance(NOW) == 5
    assert layouts[Source.of("2", 973)].wallet.balance(NOW) == 0
    assert [layouts[s].wallet.version for s in layouts] == [2, 2]
    assert sum((d.points for _, d in draws), Decimal(0)) == 25


def test_a_wallets_unread_pages_are_asked_for_before_the_walk_passes_their_start() -> None:
    # Given: member 2's head holds day 1; its pages hold 30 points from day 4 on (not read)
    paged = held((1, 10), paged_points=Decimal(30), paged_from=day(4))
    pool = {Source.of("1", 973): held((3, 10), (6, 10)), Source.of("2", 973): paged}

    # Then: 20 points (days 1 and 3) need no page; 21 would take day 6, past day 4: member 2's pages first
    assert walk(pool, 20) == [("2", 1, 10), ("1", 3, 10)]
    with pytest.raises(PoolPagesNeeded) as needed:
        walk(pool, 21)
    assert needed.value.source == Source.of("2", 973)

    # And once read, the walk goes on through them
    page = Page(
        program_id=973, upper=None, version=1, buckets=(Bucket(expires_at=day(4), points=Decimal(30)),)
    )
    read = paged.model_copy(update={"pages": (page,), "prefix": 1})
    assert walk({**pool, Source.of("2", 973): read}, 45) == [("2", 1, 10), ("1", 3, 10), ("2", 4, 25)]


def test_never_expiring_points_come_after_every_members_unread_pages() -> None:
    paged = held((1, 10), paged_points=Decimal(30), paged_from=day(40))
    pool = {Source.of("1", 973): held((None, 100)), Source.of("2", 973): paged}

    with pytest.raises(PoolPagesNeeded):
        walk(pool, 20)


def test_past_the_most_wallets_one_redemption_draws_from() -> None:
    pool = {Source.of(str(n), 973): held((n + 1, 1)) for n in range(MAX_WALLETS_DRAWN + 1)}

    # Then
    assert len(pooled_debit(pool, Decimal(MAX_WALLETS_DRAWN), NOW)[0]) == MAX_WALLETS_DRAWN
    with pytest.raises(TooManyWallets):
        pooled_debit(pool, Decimal(MAX_WALLETS_DRAWN + 1), NOW)


def test_a_debit_with_a_page_read_out_of_order_still_asks_for_the_pages_before_it() -> None:
    # Given: a head (day 1, and never), 40 paged points from day 10 on, of which only the page holding day 50
    # was read (as a reversal reads it): the 20 points of the pages before it are not read
    out_of_order = Page(
        program_id=973,
        upper=None,
        version=1,
        buckets=(Bucket(expires_at=day(50), points=Decimal(20)),),
        known_from=day(50),
    )
    wallet = held((1, 10), (None, 100), paged_points=Decimal(40), paged_from=day(10)).model_copy(
        update={"pages": (out_of_order,), "prefix": 0}
    )

    # Then: 20 points may not come from the never-expiring bucket while paged points expire before it
    with pytest.raises(PagesNeeded):
        debit(wallet, Decimal(20), NOW)
