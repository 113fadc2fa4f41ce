"""Customers, their per-program wallets and the point allocations a wallet holds."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from decimal import Decimal
from enum import StrEnum
from typing import Annotated, Any

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field, model_validator

Points = Annotated[Decimal, Field(ge=0, allow_inf_nan=False, decimal_places=3)]


class Enrolment(StrEnum):
    LOYALTY = "loyalty"
    CAMPAIGN = "campaign"
    """Known to the org through a campaign only, not a loyalty member (686)."""
    UNREGISTERED = "unregistered"
    """A customer record that is not registered into the loyalty program (881)."""


class CustomerProfile(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    customer_id: Annotated[str, Field(pattern=r"^[0-9]{1,19}$")]
    mobile: str = ""
    email: str = ""
    external_id: str = ""
    card_number: str = ""
    card_external_id: str = ""
    first_name: str = ""
    last_name: str = ""
    enrolment: Enrolment = Enrolment.LOYALTY
    fraud_status: str = ""
    lifetime_purchases: Annotated[Decimal, Field(ge=0, allow_inf_nan=False)] = Decimal(0)


@dataclass(frozen=True, slots=True)
class Contact:
    """Who a customer is and where a validation code can reach them (a profile's or an identifier item's)."""

    customer_id: str
    mobile: str
    email: str
    external_id: str


class Allocation(BaseModel):
    """Points awarded once, as a wallet held them inline before wallets held buckets. Read from a wallet
    stored in that shape only, and turned into buckets on the way in (`Wallet`): the ledger keeps every
    award."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    allocation_id: Annotated[str, Field(min_length=1, max_length=128)]
    points: Points
    remaining: Points
    awarded_at: AwareDatetime
    expires_at: AwareDatetime | None = None

    def is_live(self, now: datetime) -> bool:
        return self.remaining > 0 and (self.expires_at is None or self.expires_at > now)


class Bucket(BaseModel):
    """A wallet's points that expire at one moment (None: never). Allocations with the same expiry are
    interchangeable for earliest expiry first and for reversal, so a wallet keeps one bucket per expiry; the
    ledger keeps every award."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    expires_at: AwareDatetime | None = None
    points: Annotated[Decimal, Field(gt=0, allow_inf_nan=False, decimal_places=3)]

    def is_live(self, now: datetime) -> bool:
        return self.expires_at is None or self.expires_at > now

    @property
    def order(self) -> tuple[bool, datetime]:
        """Earliest expiry first, never last."""
        return (self.expires_at is None, self.expires_at or _EPOCH)


class Page(BaseModel):
    """Buckets of a wallet that expire later than those its head holds, stored apart so that reading and
    writing the head costs the same whatever the history. Pages follow one another by their `upper` bound
    (their key): a page holds the buckets expiring before its `upper` and from the previous page's on (the
    first page: from the head's `paged_from`), soonest first; the last page has no bound. `version` guards
    each write."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    program_id: int
    upper: AwareDatetime | None = None
    version: Annotated[int, Field(ge=0)] = 0
    buckets: tuple[Bucket, ...] = ()
    known_from: AwareDatetime | None = Field(default=None, exclude=True)
    """In memory: set when the page was read as the one holding this expiry (its range is known from there
    on); None when read with every page before it (its whole range is known)."""

    @property
    def points(self) -> Decimal:
        return sum((bucket.points for bucket in self.buckets), Decimal(0))

    @property
    def order(self) -> tuple[bool, datetime]:
        return (self.upper is None, self.upper or _EPOCH)

    def holds(self, expires_at: datetime) -> bool:
        """Whether `expires_at` is known to be in this page's range."""
        below_upper = self.upper is None or expires_at < self.upper
        return below_upper and (self.known_from is None or expires_at >= self.known_from)


class Wallet(BaseModel):
    """One customer's points in one program: the head item. It holds the soonest-expiring buckets (and the
    never-expiring one), and of the buckets kept in pages only their total (`paged_points`) and a moment no
    paged bucket expires before (`paged_from`): so the balance is exact from the head alone until
    `paged_from` is reached, whatever the customer's history.

    In memory only: `pages`, the pages read with the head (sorted by bound), of which the first `prefix` are
    the wallet's first pages, read in order from the start; and `prunable`."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    program_id: int
    version: Annotated[int, Field(ge=0)] = 0
    tier: str | None = None
    lifetime_points: Points = Decimal(0)
    buckets: tuple[Bucket, ...] = ()
    paged_points: Points = Decimal(0)
    paged_from: AwareDatetime | None = None
    pages: tuple[Page, ...] = Field(default=(), exclude=True)
    prefix: int = Field(default=0, exclude=True)
    prunable: int | None = Field(default=None, ge=0, exclude=True)
    """In memory: how many more pages holding only expired buckets the changes of this wallet may delete
    before it is written (None: a wallet as read, `ledger.PRUNE_MAX`; 0: none, and the expired ones stay for
    later writes). Changes chained before one write (a revert of a bill's redemptions) share it."""

    @model_validator(mode="before")
    @classmethod
    def _from_allocations(cls, data: Any) -> Any:
        """A wallet stored with its allocations inline (before buckets) is read as buckets: each expiry's
        remaining points. Its next write stores it as buckets."""
        if not isinstance(data, dict) or "allocations" not in data:
            return data
        data = dict(data)
        allocations = [Allocation.model_validate(item) for item in data.pop("allocations") or ()]
        by_expiry: dict[datetime | None, Decimal] = {}
        for allocation in allocations:
            if allocation.remaining > 0:
                held = by_expiry.get(allocation.expires_at, Decimal(0))
                by_expiry[allocation.expires_at] = held + allocation.remaining
        buckets = [Bucket(expires_at=expiry, points=points) for expiry, points in by_expiry.items()]
        data["buckets"] = tuple(sorted(buckets, key=lambda bucket: bucket.order))
        return data

    @property
    def has_pages(self) -> bool:
        return self.paged_points > 0

    def page_prefix(self) -> tuple[Page, ...]:
        return self.pages[: self.prefix]

    def unread_points(self) -> Decimal:
        """Paged points in pages not read with the head."""
        return self.paged_points - sum((page.points for page in self.pages), Decimal(0))

    def unread_from(self) -> datetime | None:
        """No bucket in the pages not read before the prefix's end expires before this (None: no bound
        known, or no page left unread)."""
        prefix = self.page_prefix()
        return prefix[-1].upper if prefix else self.paged_from

    def known_balance_is_exact(self, now: datetime) -> bool:
        """Whether the head and the pages read tell the balance at `now`: every bucket not read is live then.
        (A page read out of order only holds buckets later than the prefix's end: it changes nothing here.)"""
        if self.unread_points() <= 0:
            return True
        start = self.unread_from()
        return start is not None and start > now

    def page_holding(self, expires_at: datetime) -> Page | None:
        """The page read that holds `expires_at`, if one does."""
        for page in self.pages:
            if page.upper is None or expires_at < page.upper:
                return page if page.holds(expires_at) else None
        return None

    def live_buckets(self, now: datetime) -> list[Bucket]:
        """The live buckets known (head and pages read), earliest expiry first."""
        known = [*self.buckets, *(bucket for page in self.pages for bucket in page.buckets)]
        return sorted((bucket for bucket in known if bucket.is_live(now)), key=lambda bucket: bucket.order)

    def balance(self, now: datetime) -> Decimal:
        """The live points. `PagesNeeded` when the paged points have started expiring and the pages that
        tell how many are left were not read."""
        if not self.known_balance_is_exact(now):
            raise PagesNeeded("the wallet's paged points have started expiring: read its pages first")
        known = sum((bucket.points for bucket in self.live_buckets(now)), Decimal(0))
        return known + self.unread_points()


class PagesNeeded(RuntimeError):
    """An answer or a change needs pages of the wallet that were not read with it."""


_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
