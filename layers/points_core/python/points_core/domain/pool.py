"""A redemption from several wallets at once, pure: a UserGroup2 group's members (cross-member redemption),
the programs of a program group (`group_redemption=true`), or both.

The pool's points are drawn earliest expiry first across every wallet; ties go to the earlier award, then the
lower customer id, then the lower program id. A wallet keeps one bucket per expiry (allocations of one expiry
are interchangeable), so within one wallet there is no tie, and across wallets a bucket's award is not kept:
ties of one expiry go to the lower customer id, then program id (see docs/architecture.md).

Each wallet's part is a prefix of its own earliest-expiry-first order, so once the walk across the pool has
said how much each wallet gives, each wallet is debited on its own (`ledger.debit`) and its layout written
as for one customer.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal

from points_core.domain.errors import InsufficientPoints
from points_core.domain.ledger import MAX_DRAWS, Layout, TooManyDraws, debit
from points_core.domain.models import Bucket, Draw, PagesNeeded, Wallet

MAX_WALLETS_DRAWN = 40
"""The most wallets (members, or a member's programs) one redemption may draw from. It is one transaction of
at most 100 items: each wallet drawn from writes its head and a ledger entry (2 items), the redemption and
its markers and the code's consumption take 4 more, and 16 are left for pages a draw changes. Past it: 819
(`Item.TOO_MANY_MEMBERS`), and the points can be redeemed in parts."""


@dataclass(frozen=True, slots=True, order=True)
class Source:
    """One wallet of a pool: whose, and which program's. Orders by customer id as a number, then program."""

    customer_number: int
    program_id: int

    @property
    def customer_id(self) -> str:
        return str(self.customer_number)

    @classmethod
    def of(cls, customer_id: str, program_id: int) -> Source:
        return cls(int(customer_id), program_id)


class PoolPagesNeeded(PagesNeeded):
    """The walk across the pool needs the first pages of one wallet (`source`) read before it can go on."""

    def __init__(self, source: Source) -> None:
        super().__init__(f"the wallet of customer {source.customer_id} in program {source.program_id}")
        self.source = source


class TooManyWallets(TooManyDraws):
    """A redemption would draw from more than `MAX_WALLETS_DRAWN` wallets."""


def pooled_balance(wallets: Mapping[Source, Wallet], now: datetime) -> Decimal:
    return sum((wallet.balance(now) for wallet in wallets.values()), Decimal(0))


def pooled_lifetime_points(wallets: Mapping[Source, Wallet]) -> Decimal:
    return sum((wallet.lifetime_points for wallet in wallets.values()), Decimal(0))


def _visible(wallet: Wallet, now: datetime) -> tuple[list[Bucket], datetime | None, bool]:
    """The live buckets of a wallet known now (head and first pages read), the moment its buckets not read
    start from, and whether any are not read (then its never-expiring points come after them)."""
    known = [*wallet.buckets, *(bucket for page in wallet.page_prefix() for bucket in page.buckets)]
    beyond = wallet.paged_points - sum((page.points for page in wallet.page_prefix()), Decimal(0))
    if beyond > 0:
        known = [bucket for bucket in known if bucket.expires_at is not None]
    return [bucket for bucket in known if bucket.is_live(now)], wallet.unread_from(), beyond > 0


def pooled_draws(
    wallets: Mapping[Source, Wallet], points: Decimal, now: datetime
) -> tuple[tuple[Source, Draw], ...]:
    """The draws of `points` from the pool, in the order they are drawn. `PoolPagesNeeded` when a wallet's
    pages not read could hold points due before (or with) what the walk would take next; `InsufficientPoints`
    when the pool does not hold them."""
    entries: list[tuple[tuple[bool, datetime], Source, Bucket]] = []
    unread_from: dict[Source, datetime | None] = {}
    for source, wallet in sorted(wallets.items()):
        if not wallet.known_balance_is_exact(now):
            raise PoolPagesNeeded(source)
        buckets, start, beyond = _visible(wallet, now)
        if beyond:
            unread_from[source] = start
        entries.extend((bucket.order, source, bucket) for bucket in buckets)
    entries.sort(key=lambda entry: (entry[0], entry[1]))
    draws: list[tuple[Source, Draw]] = []
    remaining = points
    for _, source, bucket in entries:
        if remaining <= 0:
            break
        for other, start in unread_from.items():
            if bucket.expires_at is None or start is None or start <= bucket.expires_at:
                raise PoolPagesNeeded(other)
        take = min(bucket.points, remaining)
        draws.append((source, Draw(expires_at=bucket.expires_at, points=take)))
        remaining -= take
    if remaining > 0:
        if unread_from:
            raise PoolPagesNeeded(min(unread_from))
        raise InsufficientPoints(f"{remaining} points short")
    return tuple(draws)


def parts(draws: tuple[tuple[Source, Draw], ...]) -> dict[Source, Decimal]:
    """What each wallet gives, by wallet, in the order the wallets are first drawn from."""
    given: dict[Source, Decimal] = {}
    for source, draw in draws:
        given[source] = given.get(source, Decimal(0)) + draw.points
    return given


def pooled_debit(
    wallets: Mapping[Source, Wallet], points: Decimal, now: datetime
) -> tuple[dict[Source, Layout], tuple[tuple[Source, Draw], ...]]:
    """Each drawn wallet's layout after the debit, and the draws in order. `TooManyWallets` past
    `MAX_WALLETS_DRAWN`; `TooManyDraws` as for one wallet."""
    draws = pooled_draws(wallets, points, now)
    given = parts(draws)
    if len(draws) > MAX_DRAWS:
        raise TooManyDraws(f"the redemption would draw from {len(draws)} expiry dates")
    if len(given) > MAX_WALLETS_DRAWN:
        raise TooManyWallets(f"the redemption would draw from {len(given)} wallets")
    layouts: dict[Source, Layout] = {}
    for source, amount in given.items():
        layout, own = debit(wallets[source], amount, now)
        expected = tuple(draw for drawn_from, draw in draws if drawn_from == source)
        if own != expected:  # each part is a prefix of the wallet's own order: never
            raise AssertionError(f"the pool's draws from {source} are not the wallet's own order")
        layouts[source] = layout
    return layouts, draws
