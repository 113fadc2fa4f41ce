"""Debiting, crediting and awarding a wallet, pure; and where its buckets live afterwards.

A wallet keeps one bucket per expiry. Its head item holds the soonest-expiring buckets (at most `HEAD_MAX`)
and the never-expiring one; the others sit in pages, ordered by their `upper` bound. The head knows the
pages' total and a moment none of them expires before (`paged_from`), so the balance is exact from the head
alone until that moment.

A debit draws earliest expiry first, skips expired buckets and records every draw. A reversal gives draws back
last drawn first, each to the bucket of its own expiry; what has expired since is reported, not credited.
After any change, `arrange` puts the buckets where they belong: the first pages read give up their expired
buckets and, to a head below `HEAD_KEEP`, their soonest ones; a head past `HEAD_MAX` spills its latest buckets
into a new page ahead of the others; a page past `PAGE_MAX` splits; an empty page goes, but at most
`PRUNE_MAX` pages that held only expired buckets go in one write (the rest wait for the next). Only pages that
were read are changed. A change needs pages only when it draws past the head, gives back or awards points that
expire later than the head's buckets, or finds the head's `paged_from` passed.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from decimal import Decimal

from points_core.domain.errors import InsufficientPoints
from points_core.domain.models import Bucket, Page, PagesNeeded, Wallet
from points_core.domain.models.redemption import Draw, Redemption
from points_core.domain.models.reversal import Credit

HEAD_MAX = 64
"""Finite-expiry buckets a head may hold (about 1 KB): reading it stays within one 4 KB read unit and writing
it within two 1 KB write units, whatever the history."""
HEAD_KEEP = 32
"""What a spill leaves in the head, and what the first page refills a low head to."""
PAGE_MAX = 400
"""Buckets a page may hold (about 8 KB) before it splits in two."""
MAX_DRAWS = 5000
"""The most buckets (distinct expiries) one redemption may draw from: its record and its ledger entry list
every draw (about 55 bytes each), and a DynamoDB item holds at most 400 KB."""
MAX_PAGE_WRITES = 80
"""The most pages one change may write or delete: a transaction holds 100 items, the head and a redemption's
own records among them."""
PRUNE_MAX = 32
"""The most pages holding only expired buckets one write deletes. A wallet left untouched while many of its
pages expire (a dormant customer with years of distinct expiries) is pruned over several writes, so that no
change is ever refused for its expired pages; a change whose own writes leave no room prunes none."""

HEAD = ""
"""The source key of the head's buckets (a page's is its `upper_key`)."""


class TooManyDraws(ValueError):
    """A redemption would draw from more than `MAX_DRAWS` buckets."""


@dataclass(frozen=True, slots=True)
class Layout:
    """A wallet after a change: the head to write (the version after the one read; its `pages` as they are
    after the change), the pages to write (each at the version after the one read; a new one at 1) and the
    pages to delete (as read)."""

    wallet: Wallet
    puts: tuple[Page, ...] = ()
    deletes: tuple[Page, ...] = ()
    read_versions: Mapping[str, int] = field(default_factory=dict)
    """Page key → the version it was read at, for each page in `puts` that already exists."""


def upper_key(page: Page) -> str:
    """A page's bound as it sorts in its key: fixed-width UTC ISO-8601, `~` (after every digit) for none."""
    return "~" if page.upper is None else page.upper.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def debit(wallet: Wallet, points: Decimal, now: datetime) -> tuple[Layout, tuple[Draw, ...]]:
    """The wallet after taking `points`, and the draws. `PagesNeeded` when the head and the first pages read
    do not hold them but pages not read may; `InsufficientPoints` when the wallet does not hold them."""
    if not wallet.known_balance_is_exact(now):
        raise PagesNeeded("the wallet's paged points have started expiring: read its first pages")
    # Paged points outside the first pages read: a page read out of order (to give points back) is not among
    # the sources, so its points count as not read here.
    unread = wallet.paged_points - sum((page.points for page in wallet.page_prefix()), Decimal(0))
    sources: list[tuple[str, Bucket]] = [(HEAD, bucket) for bucket in wallet.buckets]
    sources += [(upper_key(page), bucket) for page in wallet.page_prefix() for bucket in page.buckets]
    if unread > 0:  # the never-expiring points come after every page, read or not
        sources = [(source, bucket) for source, bucket in sources if bucket.expires_at is not None]
    sources.sort(key=lambda source: source[1].order)
    left: dict[str, list[Bucket]] = {HEAD: [], **{upper_key(page): [] for page in wallet.page_prefix()}}
    draws: list[Draw] = []
    remaining = points
    for source, bucket in sources:
        if not bucket.is_live(now):
            continue
        take = min(bucket.points, remaining)
        if take > 0:
            draws.append(Draw(expires_at=bucket.expires_at, points=take))
            remaining -= take
        if bucket.points > take:
            left[source].append(bucket.model_copy(update={"points": bucket.points - take}))
    if remaining > 0:
        if unread > 0:
            raise PagesNeeded(f"{remaining} points more than the head and the first pages read hold")
        raise InsufficientPoints(f"{remaining} points short")
    if len(draws) > MAX_DRAWS:
        raise TooManyDraws(f"the redemption would draw from {len(draws)} expiry dates")
    head = left.pop(HEAD)
    if unread > 0:
        head += [bucket for bucket in wallet.buckets if bucket.expires_at is None]
    layout = arrange(wallet, head, now, left)
    if _page_writes(layout) > MAX_PAGE_WRITES:  # without deleting expired pages, if that is what it took
        layout = arrange(without_pruning(wallet), head, now, left)
    if _page_writes(layout) > MAX_PAGE_WRITES:
        raise TooManyDraws(f"the redemption would change {len(layout.puts) + len(layout.deletes)} pages")
    return layout, tuple(draws)


def _page_writes(layout: Layout) -> int:
    return len(layout.puts) + len(layout.deletes)


def without_pruning(wallet: Wallet) -> Wallet:
    """`wallet` for a change that deletes no page for having expired (its transaction has no room left)."""
    return wallet.model_copy(update={"prunable": 0})


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


def credits_for(redemption: Redemption, points: Decimal, now: datetime) -> tuple[Credit, ...]:
    """What giving `points` of `redemption` back credits, draw by draw, last drawn first; a draw whose expiry
    has passed is reported (`expired`) and credited to nobody."""
    if not 0 < points <= redemption.outstanding:
        raise ValueError(f"{points} is not within the {redemption.outstanding} points left to reverse")
    credits: list[Credit] = []
    remaining = points
    for draw, reversible in undo_order(redemption):
        if remaining <= 0:
            break
        take = min(reversible, remaining)
        remaining -= take
        expired = draw.expires_at is not None and draw.expires_at <= now
        credits.append(
            Credit(
                allocation_id=draw.allocation_id,
                customer_id=draw.customer_id,
                program_id=draw.program_id,
                points=take,
                expires_at=draw.expires_at,
                expired=expired,
            )
        )
    return tuple(credits)


def credit(
    wallet: Wallet, redemption: Redemption, points: Decimal, now: datetime
) -> tuple[Layout, tuple[Credit, ...]]:
    """The wallet after giving `points` of `redemption` back, and the credits: each draw's points go back to
    the bucket of its own expiry. `PagesNeeded` when one belongs in a page that was not read."""
    if wallet.program_id != redemption.program_id:
        raise ValueError("the wallet is not the redemption's program")
    credits = credits_for(redemption, points, now)
    return give_back(wallet, credits, now), credits


def give_back(wallet: Wallet, credits: Iterable[Credit], now: datetime) -> Layout:
    """The wallet with these credits (of its own draws) back in the buckets of their expiry; expired ones
    are reported by the caller, not credited. `PagesNeeded` as for `add`."""
    given = [Bucket(expires_at=c.expires_at, points=c.points) for c in credits if not c.expired]
    return add(wallet, given, now)


def pages_to_hold(wallet: Wallet, expiries: Iterable[datetime | None], now: datetime) -> list[datetime]:
    """The expiries among `expiries` that belong in pages not read yet (read the page holding each first)."""
    wanted: list[datetime] = []
    for expires_at in expiries:
        if expires_at is None or expires_at <= now or not _in_pages(wallet, expires_at):
            continue
        if wallet.page_holding(expires_at) is None:
            wanted.append(expires_at)
    return wanted


def add(wallet: Wallet, buckets: Iterable[Bucket], now: datetime) -> Layout:
    """The wallet with `buckets` added where they belong (awards, or a reversal's credits); expired ones are
    dropped. `PagesNeeded` when one belongs in a page that was not read."""
    head = list(wallet.buckets)
    pages: dict[str, list[Bucket]] = {}
    for bucket in buckets:
        if not bucket.is_live(now):
            continue
        if bucket.expires_at is None or not _in_pages(wallet, bucket.expires_at):
            head.append(bucket)
            continue
        page = wallet.page_holding(bucket.expires_at)
        if page is None:
            raise PagesNeeded(f"points expiring at {bucket.expires_at.isoformat()} belong in a page not read")
        pages.setdefault(upper_key(page), list(page.buckets)).append(bucket)
    return arrange(wallet, head, now, pages)


def _in_pages(wallet: Wallet, expires_at: datetime) -> bool:
    """Whether a bucket expiring then belongs in a page rather than in the head."""
    return wallet.has_pages and wallet.paged_from is not None and expires_at >= wallet.paged_from


def merged(buckets: Iterable[Bucket], now: datetime) -> list[Bucket]:
    """One live bucket per expiry, earliest first, never last."""
    by_expiry: dict[datetime | None, Decimal] = {}
    for bucket in buckets:
        if bucket.is_live(now):
            by_expiry[bucket.expires_at] = by_expiry.get(bucket.expires_at, Decimal(0)) + bucket.points
    kept = [Bucket(expires_at=expiry, points=points) for expiry, points in by_expiry.items() if points > 0]
    return sorted(kept, key=lambda bucket: bucket.order)


def arrange(
    wallet: Wallet, head: Iterable[Bucket], now: datetime, pages: Mapping[str, Iterable[Bucket]] | None = None
) -> Layout:
    """The layout after a change: `head`, the head's buckets after it; `pages`, the buckets after it of each
    read page that changed (by key)."""
    read = {upper_key(page): page for page in wallet.pages}
    contents = {key: merged(page.buckets, now) for key, page in read.items()}
    for key, buckets in (pages or {}).items():
        contents[key] = merged(buckets, now)
    held = merged(head, now)
    never = [bucket for bucket in held if bucket.expires_at is None]
    finite = [bucket for bucket in held if bucket.expires_at is not None]
    paged_from = wallet.paged_from

    # The first pages, when read: they lose what expired and refill a low head; `paged_from` becomes exact.
    # Pages that held nothing live go, up to the wallet's `prunable`: the first one past it is kept as it is,
    # with every page after it (no live bucket comes before it, so the head has none to hold either).
    budget = PRUNE_MAX if wallet.prunable is None else wallet.prunable
    pruned = 0
    for page in wallet.page_prefix():
        key = upper_key(page)
        if not contents[key] and page.buckets and not merged(page.buckets, now):
            if pruned >= budget:
                _keep_from(page, read, contents, now)
                paged_from = page.buckets[0].expires_at
                break
            pruned += 1
        room = max(HEAD_KEEP - len(finite), 0)
        finite += contents[key][:room]
        contents[key] = contents[key][room:]
        if contents[key]:
            paged_from = contents[key][0].expires_at
            break
        paged_from = page.upper  # emptied: the next page holds nothing before this bound

    # A head past HEAD_MAX spills its latest buckets into a new page ahead of every other.
    spilled: list[Page] = []
    if len(finite) > HEAD_MAX:
        anything_paged = any(contents.values()) or wallet.unread_points() > 0
        bound = paged_from if anything_paged else None
        spilled = _split(Page(program_id=wallet.program_id, upper=bound, buckets=tuple(finite[HEAD_KEEP:])))
        finite = finite[:HEAD_KEEP]
        paged_from = spilled[0].buckets[0].expires_at

    after: dict[str, Page] = {}
    first = {upper_key(page) for page in spilled}  # pages known to be the wallet's first, in order
    prefix_keys = {upper_key(page) for page in wallet.page_prefix()}
    for key, page in read.items():
        buckets = tuple(contents[key])
        if not buckets:
            continue
        derived = [page] if buckets == page.buckets else _split(page.model_copy(update={"buckets": buckets}))
        after.update({upper_key(p): p for p in derived})
        if key in prefix_keys:
            first.update(upper_key(p) for p in derived)
    after.update({upper_key(p): p for p in spilled})

    kept = sorted(after.values(), key=lambda p: p.order)
    prefix = 0
    while prefix < len(kept) and upper_key(kept[prefix]) in first:
        prefix += 1
    paged_points = wallet.unread_points() + sum((p.points for p in kept), Decimal(0))
    final = wallet.model_copy(
        update={
            "version": wallet.version + 1,
            "buckets": (*finite, *never),
            "paged_points": paged_points,
            "paged_from": paged_from if paged_points > 0 else None,
            "pages": tuple(kept),
            "prefix": prefix,
            "prunable": budget - pruned,
        }
    )
    return changes(wallet, final)


def _keep_from(
    first: Page, read: Mapping[str, Page], contents: dict[str, list[Bucket]], now: datetime
) -> None:
    """Past the pruning budget: `first` and every read page after it whose live buckets the change leaves as
    they were stay as stored, expired buckets and all (no write); the next writes prune them."""
    for key, page in read.items():
        if page.order >= first.order and contents[key] == merged(page.buckets, now):
            contents[key] = list(page.buckets)


def changes(read: Wallet, final: Wallet) -> Layout:
    """What writing `final` over the wallet as `read` takes: each page of `final` whose buckets differ from
    the page of its key as read (or that is new), and each page read that `final` no longer has. Several
    changes of one wallet (a revert of a bill's redemptions) so become one write."""
    before = {upper_key(page): page for page in read.pages}
    puts: list[Page] = []
    versions: dict[str, int] = {}
    pages: list[Page] = []
    for page in final.pages:
        key = upper_key(page)
        old = before.get(key)
        if old is not None and old.buckets == page.buckets:
            pages.append(old)
            continue
        written = page.model_copy(update={"version": old.version + 1 if old else 1, "known_from": None})
        if old is not None:
            versions[key] = old.version
        puts.append(written)
        pages.append(written)
    kept = {upper_key(page) for page in final.pages}
    deletes = tuple(page for key, page in before.items() if key not in kept)
    wallet = final.model_copy(update={"version": read.version + 1, "pages": tuple(pages)})
    return Layout(wallet, tuple(puts), deletes, versions)


def _split(page: Page) -> list[Page]:
    """A page past PAGE_MAX as pages of at most PAGE_MAX // 2 buckets, of even sizes (401 buckets: 134, 134,
    133): the last keeps the page's bound (its key), each earlier one is bounded by the next one's first
    expiry."""
    if len(page.buckets) <= PAGE_MAX:
        return [page]
    count = -(-len(page.buckets) // (PAGE_MAX // 2))  # pages of at most PAGE_MAX // 2, as even as can be
    size = -(-len(page.buckets) // count)
    chunks = [page.buckets[start : start + size] for start in range(0, len(page.buckets), size)]
    pages = [
        Page(program_id=page.program_id, upper=chunks[index + 1][0].expires_at, buckets=chunk)
        for index, chunk in enumerate(chunks[:-1])
    ]
    pages.append(page.model_copy(update={"buckets": chunks[-1]}))
    return pages
