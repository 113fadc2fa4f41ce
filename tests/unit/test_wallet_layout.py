"""A wallet's head and pages, pure: against a reference that keeps every bucket in one list, any sequence of
awards, redemptions, reversals and time passing gives the same balances, the same draws (earliest expiry
first) and the same credits, and the layout keeps its bounds: a small head, pages in order, totals exact."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, invariant, precondition, rule

from points_core.domain import ledger
from points_core.domain.errors import InsufficientPoints
from points_core.domain.ledger import HEAD_MAX, PAGE_MAX, Layout, upper_key
from points_core.domain.models import Bucket, Draw, Page, PagesNeeded, Redemption, Wallet

START = datetime(2026, 1, 1, tzinfo=UTC)
PROGRAM = 973


@dataclass
class Store:
    """Pages as DynamoDB would hold them (by key), written only at the version read: what the repository
    does, in memory. Counts the pages read, to show when a change needed them."""

    head: Wallet = field(default_factory=lambda: Wallet(program_id=PROGRAM))
    pages: dict[str, Page] = field(default_factory=dict)
    page_reads: int = 0

    def ordered(self) -> list[Page]:
        return [self.pages[key] for key in sorted(self.pages)]

    def read_first(self, wallet: Wallet, now: datetime, need: Decimal = Decimal(0)) -> Wallet:
        """The first pages in order, until their and the head's expiring points hold `need` and the balance
        is known at `now` (what the repository's ordered Query does)."""
        read: list[Page] = []
        for page in self.ordered():
            known = wallet.model_copy(update={"pages": tuple(read), "prefix": len(read)})
            finite = [b for b in known.live_buckets(now) if b.expires_at is not None]
            if sum((b.points for b in finite), Decimal(0)) >= need and known.known_balance_is_exact(now):
                break
            self.page_reads += 1
            read.append(page)
        return wallet.model_copy(update={"pages": tuple(read), "prefix": len(read)})

    def read_holding(self, wallet: Wallet, expires_at: datetime) -> Wallet:
        """The page holding `expires_at` added to the pages read (the first page with a later bound)."""
        for page in self.ordered():
            if page.upper is None or page.upper > expires_at:
                for index, held in enumerate(wallet.pages):
                    if upper_key(held) == upper_key(page):  # read already: known from the lower expiry on
                        if held.holds(expires_at):
                            return wallet
                        pages = list(wallet.pages)
                        pages[index] = held.model_copy(update={"known_from": expires_at})
                        return wallet.model_copy(update={"pages": tuple(pages)})
                self.page_reads += 1
                known = page.model_copy(update={"known_from": expires_at})
                pages = sorted([*wallet.pages, known], key=lambda p: p.order)
                return wallet.model_copy(update={"pages": tuple(pages)})
        raise AssertionError("no page holds it")

    def write(self, layout: Layout, read_version: int) -> None:
        assert self.head.version == read_version, "the head changed since it was read"
        keys = [upper_key(p) for p in layout.puts] + [upper_key(p) for p in layout.deletes]
        assert len(keys) == len(set(keys)), "one transaction writes an item once"
        for page in layout.deletes:
            assert self.pages[upper_key(page)].version == page.version
            del self.pages[upper_key(page)]
        for page in layout.puts:
            key = upper_key(page)
            if key in layout.read_versions:
                assert self.pages[key].version == layout.read_versions[key]
            else:
                assert key not in self.pages, f"a new page over an existing one: {key}"
            self.pages[key] = page.model_copy(update={"known_from": None})
        self.head = layout.wallet.model_copy(update={"pages": (), "prefix": 0, "prunable": None})


def with_pages(store: Store, change, now: datetime, need: Decimal = Decimal(0)):  # type: ignore[no-untyped-def]
    """Run a change on the stored head, reading the first pages when it asks for them."""
    wallet = store.head
    if not wallet.known_balance_is_exact(now):
        wallet = store.read_first(wallet, now)
    try:
        return wallet, change(wallet)
    except PagesNeeded:
        wallet = store.read_first(wallet, now, need)
        return wallet, change(wallet)


def award(store: Store, buckets: list[Bucket], now: datetime) -> Layout:
    """Awards as the loading service makes them: the first pages read when the paged points have started
    expiring (so that the write prunes them), and the page holding each award's expiry."""
    wallet = store.head
    if not wallet.known_balance_is_exact(now):
        wallet = store.read_first(wallet, now)
    for expiry in ledger.pages_to_hold(wallet, [b.expires_at for b in buckets], now):
        wallet = store.read_holding(wallet, expiry)
    layout = ledger.add(wallet, buckets, now)
    store.write(layout, store.head.version)
    return layout


SMALL = {"HEAD_MAX": 6, "HEAD_KEEP": 3, "PAGE_MAX": 8, "MAX_DRAWS": 40, "PRUNE_MAX": 1}
"""Bounds small enough that a few awards spill, refill, split and empty pages (the layout does not depend on
their values)."""


class WalletMachine(RuleBasedStateMachine):
    def __init__(self) -> None:
        super().__init__()
        self.saved = {name: getattr(ledger, name) for name in SMALL}
        for name, value in SMALL.items():
            setattr(ledger, name, value)
        self.store = Store()
        self.reference: dict[datetime | None, Decimal] = {}
        self.now = START
        self.redemptions: list[Redemption] = []

    def live(self) -> list[tuple[datetime | None, Decimal]]:
        items = [(e, p) for e, p in self.reference.items() if p > 0 and (e is None or e > self.now)]
        return sorted(items, key=lambda item: (item[0] is None, item[0] or START))

    def balance(self) -> Decimal:
        return sum((p for _, p in self.live()), Decimal(0))

    def teardown(self) -> None:
        for name, value in self.saved.items():
            setattr(ledger, name, value)

    @rule(
        days=st.lists(st.one_of(st.none(), st.integers(-10, 120)), min_size=1, max_size=30),
        points=st.integers(1, 20),
    )
    def award(self, days: list[int | None], points: int) -> None:
        # Expiring some days from now (or before it: expired on arrival), so that pages keep coming and going
        buckets = [
            Bucket(expires_at=None if d is None else self.now + timedelta(days=d), points=Decimal(points))
            for d in days
        ]
        award(self.store, buckets, self.now)
        for bucket in buckets:
            if bucket.is_live(self.now):
                self.reference[bucket.expires_at] = (
                    self.reference.get(bucket.expires_at, Decimal(0)) + bucket.points
                )

    @rule(points=st.integers(1, 400))
    def redeem(self, points: int) -> None:
        amount = Decimal(points)
        expected = self.expected_draws(amount)
        try:
            wallet, (layout, draws) = with_pages(
                self.store, lambda w: ledger.debit(w, amount, self.now), self.now, amount
            )
        except InsufficientPoints:
            assert expected is None
            return
        except ledger.TooManyDraws:
            assert expected is not None and len(expected) > ledger.MAX_DRAWS
            return
        assert expected is not None
        assert [(d.expires_at, d.points) for d in draws] == expected
        self.store.write(layout, wallet.version)
        for expiry, taken in expected:
            self.reference[expiry] -= taken
        self.redemptions.append(redemption(draws, amount))

    def expected_draws(self, amount: Decimal) -> list[tuple[datetime | None, Decimal]] | None:
        if amount > self.balance():
            return None
        draws = []
        for expiry, held in self.live():
            if amount <= 0:
                break
            take = min(held, amount)
            draws.append((expiry, take))
            amount -= take
        return draws

    @precondition(lambda self: bool(self.redemptions))
    @rule(pick=st.integers(0, 10_000), share=st.sampled_from(["all", "half", "one"]))
    def reverse(self, pick: int, share: str) -> None:
        index = pick % len(self.redemptions)
        done = self.redemptions[index]
        if done.outstanding <= 0:
            return
        points = {"all": done.outstanding, "half": (done.outstanding / 2).quantize(Decimal(1)), "one": 1}[
            share
        ]
        points = max(Decimal(1), min(Decimal(points), done.outstanding))
        wallet = self.store.head
        if not wallet.known_balance_is_exact(self.now):  # what the reversal service reads first
            wallet = self.store.read_first(wallet, self.now)
        credits = ledger.credits_for(done, points, self.now)
        for expiry in ledger.pages_to_hold(
            wallet, [c.expires_at for c in credits if not c.expired], self.now
        ):
            wallet = self.store.read_holding(wallet, expiry)
        layout, given = ledger.credit(wallet, done, points, self.now)
        assert given == credits
        self.store.write(layout, wallet.version)
        for c in given:
            if not c.expired:
                self.reference[c.expires_at] = self.reference.get(c.expires_at, Decimal(0)) + c.points
        self.redemptions[index] = done.model_copy(update={"reversed_points": done.reversed_points + points})

    @rule(days=st.integers(1, 30))
    def time_passes(self, days: int) -> None:
        self.now += timedelta(days=days)

    @invariant()
    def balance_and_layout_hold(self) -> None:
        store = self.store
        wallet = store.head
        if not wallet.known_balance_is_exact(self.now):
            wallet = store.read_first(wallet, self.now)
        assert wallet.balance(self.now) == self.balance()
        check_layout(store)


def check_layout(store: Store) -> None:
    """The stored layout keeps its bounds: a small head, then pages in order, each within its bounds and
    after the head's `paged_from`, with the total the head says."""
    head = store.head
    finite = [b for b in head.buckets if b.expires_at is not None]
    assert len(finite) <= ledger.HEAD_MAX
    assert len({b.expires_at for b in head.buckets}) == len(head.buckets)
    assert head.paged_points == sum((p.points for p in store.pages.values()), Decimal(0))
    previous = head.paged_from
    for page in store.ordered():
        assert 0 < len(page.buckets) <= ledger.PAGE_MAX
        assert [b.order for b in page.buckets] == sorted(b.order for b in page.buckets)
        for bucket in page.buckets:
            assert bucket.expires_at is not None
            assert previous is not None and bucket.expires_at >= previous
            assert page.upper is None or bucket.expires_at < page.upper
        previous = page.upper
    if store.pages:
        assert head.paged_from is not None
        assert all(b.expires_at is None or b.expires_at < head.paged_from for b in head.buckets)
        assert store.ordered()[-1].upper is None


def redemption(draws: tuple[Draw, ...], points: Decimal) -> Redemption:
    return Redemption(
        redemption_id="R00001",
        customer_id="1",
        program_id=PROGRAM,
        points=points,
        value=points,
        local_value=points,
        balance_after=Decimal(0),
        draws=draws,
        redeemed_at=START,
        recorded_at=START,
        till_id="t",
        validated=False,
    )


WalletMachine.TestCase.settings = settings(
    max_examples=150, stateful_step_count=30, deadline=None, suppress_health_check=[HealthCheck.too_slow]
)
TestWalletLayout = WalletMachine.TestCase


def test_a_wallet_stored_with_allocations_reads_as_buckets() -> None:
    old = {
        "program_id": PROGRAM,
        "version": 7,
        "allocations": [
            {
                "allocation_id": "a",
                "points": "100",
                "remaining": "40",
                "awarded_at": START,
                "expires_at": None,
            },
            {
                "allocation_id": "b",
                "points": "10",
                "remaining": "10",
                "awarded_at": START,
                "expires_at": START + timedelta(days=5),
            },
            {
                "allocation_id": "c",
                "points": "5",
                "remaining": "5",
                "awarded_at": START + timedelta(days=1),
                "expires_at": START + timedelta(days=5),
            },
            {"allocation_id": "d", "points": "5", "remaining": "0", "awarded_at": START, "expires_at": None},
        ],
    }
    wallet = Wallet.model_validate(old)
    assert wallet.buckets == (
        Bucket(expires_at=START + timedelta(days=5), points=Decimal(15)),
        Bucket(expires_at=None, points=Decimal(40)),
    )
    assert wallet.version == 7
    assert "allocations" not in wallet.model_dump()


@pytest.mark.parametrize("count", [1, 65, 1_000, 20_000])
def test_a_long_history_keeps_a_small_head(count: int) -> None:
    store = Store()
    now = START
    for start in range(0, count, 99):
        buckets = [
            Bucket(expires_at=START + timedelta(hours=n + 1), points=Decimal(10))
            for n in range(start, min(start + 99, count))
        ]
        award(store, buckets, now)
    assert store.head.balance(now) == 10 * count
    assert len(store.head.buckets) <= HEAD_MAX
    assert all(len(page.buckets) <= PAGE_MAX for page in store.pages.values())
    # A redemption of the soonest points reads no page
    store.page_reads = 0
    _, (layout, draws) = with_pages(store, lambda w: ledger.debit(w, Decimal(10), now), now, Decimal(10))
    assert store.page_reads == 0
    assert draws == (Draw(expires_at=START + timedelta(hours=1), points=Decimal(10)),)
    assert (layout.puts, layout.deletes) == ((), ())


def expired_pages(store: Store, now: datetime) -> int:
    """Stored pages that hold only expired buckets."""
    return sum(1 for page in store.pages.values() if not any(b.is_live(now) for b in page.buckets))


def balance_known(store: Store, now: datetime) -> Decimal:
    """The balance at `now`, as a check reads it (the first pages too once the paged points expire)."""
    wallet = store.head
    if not wallet.known_balance_is_exact(now):
        wallet = store.read_first(wallet, now)
    return wallet.balance(now)


def hours(first: int, count: int, points: int = 10) -> list[Bucket]:
    """`count` buckets expiring an hour apart from `first` hours after START."""
    return [
        Bucket(expires_at=START + timedelta(hours=first + n), points=Decimal(points)) for n in range(count)
    ]


@pytest.fixture
def small(monkeypatch: pytest.MonkeyPatch) -> None:
    for name, value in SMALL.items():
        monkeypatch.setattr(ledger, name, value)


def test_a_wallet_that_only_earns_keeps_no_expired_page(small: None) -> None:
    # Given: a customer earning twice a day, each award expiring a year later, who never redeems
    store = Store()
    most_read = 0
    awarded: list[Bucket] = []
    for day in range(3 * 365):
        now = START + timedelta(days=day)
        store.page_reads = 0

        # When: three years of awards
        buckets = [Bucket(expires_at=now + timedelta(days=365, hours=h), points=Decimal(1)) for h in (0, 12)]
        award(store, buckets, now)
        awarded += buckets
        most_read = max(most_read, store.page_reads)

        # Then: each award leaves no expired page, and the balance is exact from the head alone
        assert expired_pages(store, now) == 0, f"day {day}"
        assert store.head.known_balance_is_exact(now)
        assert store.head.balance(now) == sum(b.points for b in awarded if b.is_live(now))
        check_layout(store)
    # Each award read at most the first page and the page holding its expiry, while a year of buckets sat in
    # pages: what an award costs did not grow with the years
    assert most_read <= 2
    assert len(store.pages) >= 2 * 365 // ledger.PAGE_MAX


def test_pages_that_expire_together_are_pruned_a_bounded_number_per_write(
    small: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Given: 240 expiries an hour apart (a head, then pages); 200 hours later, the first 200 have expired
    monkeypatch.setattr(ledger, "PRUNE_MAX", 3)
    store = Store()
    for first in range(1, 241, 20):
        award(store, hours(first, 20), START)
    later = START + timedelta(hours=200)
    start = expired_pages(store, later)
    assert start > 4 * ledger.PRUNE_MAX

    # When: redemptions of 10 points, one after another
    writes = 0
    left = start
    while left:
        wallet, (layout, draws) = with_pages(
            store, lambda w: ledger.debit(w, Decimal(10), later), later, Decimal(10)
        )
        store.write(layout, wallet.version)
        writes += 1

        # Then: each draws the soonest live points and deletes PRUNE_MAX expired pages (the last the rest),
        # writing a bounded number of pages however many expired
        assert draws == (Draw(expires_at=START + timedelta(hours=200 + writes), points=Decimal(10)),)
        assert expired_pages(store, later) == max(left - ledger.PRUNE_MAX, 0)
        assert len(layout.puts) + len(layout.deletes) <= ledger.PRUNE_MAX + 2
        assert balance_known(store, later) == 10 * (40 - writes)
        check_layout(store)
        left = expired_pages(store, later)
    assert writes == -(-start // ledger.PRUNE_MAX)

    # And: once none is left, the head alone tells the balance and a small redemption reads no page
    assert store.head.known_balance_is_exact(later)
    store.page_reads = 0
    _, (layout, _) = with_pages(store, lambda w: ledger.debit(w, Decimal(10), later), later, Decimal(10))
    assert store.page_reads == 0


def test_a_redemption_with_no_room_to_prune_leaves_the_expired_pages(
    small: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Given: 60 expiries an hour apart; 40 hours later, several pages hold only expired buckets
    store = Store()
    for first in range(1, 61, 20):
        award(store, hours(first, 20), START)
    later = START + timedelta(hours=40)
    expired = expired_pages(store, later)
    assert expired >= 2
    wallet = store.read_first(store.head, later, Decimal(10))

    # When: a redemption whose pages to prune would pass MAX_PAGE_WRITES
    monkeypatch.setattr(ledger, "PRUNE_MAX", 10)
    monkeypatch.setattr(ledger, "MAX_PAGE_WRITES", 1)
    layout, draws = ledger.debit(wallet, Decimal(10), later)

    # Then: it is made without deleting any, the draws the same; the expired pages wait for a later write
    assert draws == (Draw(expires_at=START + timedelta(hours=41), points=Decimal(10)),)
    assert layout.deletes == ()
    store.write(layout, wallet.version)
    assert expired_pages(store, later) == expired
    assert balance_known(store, later) == 10 * 19
    check_layout(store)
