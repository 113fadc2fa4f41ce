"""Customers, their per-program wallets and the point allocations a wallet holds."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from enum import StrEnum
from typing import Annotated

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field, model_validator

# Far below DynamoDB's 400 KB item limit for a wallet item with its allocations inline.
MAX_LIVE_ALLOCATIONS = 1500

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
    """Points awarded once, drawn down by redemptions; expired points are never redeemable."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    allocation_id: Annotated[str, Field(min_length=1, max_length=128)]
    points: Points
    remaining: Points
    awarded_at: AwareDatetime
    expires_at: AwareDatetime | None = None

    @model_validator(mode="after")
    def _remaining_within_points(self) -> Allocation:
        if self.remaining > self.points:
            raise ValueError("remaining is more than the points awarded")
        return self

    def is_live(self, now: datetime) -> bool:
        return self.remaining > 0 and (self.expires_at is None or self.expires_at > now)


class Wallet(BaseModel):
    """One customer's points in one program."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    program_id: int
    version: Annotated[int, Field(ge=0)] = 0
    tier: str | None = None
    lifetime_points: Points = Decimal(0)
    allocations: tuple[Allocation, ...] = ()

    def live_allocations(self, now: datetime) -> list[Allocation]:
        """Redeemable allocations, earliest expiry first (no expiry last), then earlier award, then id."""
        live = [allocation for allocation in self.allocations if allocation.is_live(now)]
        return sorted(
            live,
            key=lambda a: (
                a.expires_at is None,
                a.expires_at or a.awarded_at,
                a.awarded_at,
                a.allocation_id,
            ),
        )

    def balance(self, now: datetime) -> Decimal:
        return sum((allocation.remaining for allocation in self.live_allocations(now)), Decimal(0))
