"""Reversals: points of a redemption given back to the allocations they were drawn from, with their expiry."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from enum import StrEnum
from typing import Annotated

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field

from points_core.domain.models.customer import Points


class ReversalSource(StrEnum):
    REVERSE = "reverse"
    """POST /v2/points/reverse, by redemption id or external reference number."""
    REVERT = "revert"
    """POST /v1.1/points/revert, everything redeemed on a bill."""


class Credit(BaseModel):
    """Points of one draw given back: to the bucket of its expiry, or, when that has passed, to nobody."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    allocation_id: str = ""
    """The draw's allocation, for a redemption made before wallets held buckets."""
    customer_id: str = ""
    """The member given back to, when not the redemption's customer (its draw's)."""
    program_id: int | None = None
    """The program given back to, when not the redemption's program (its draw's)."""
    points: Annotated[Decimal, Field(gt=0, allow_inf_nan=False, decimal_places=3)]
    expires_at: AwareDatetime | None = None
    expired: bool
    """The allocation had expired by the time of the reversal: reported, not credited."""


class Reversal(BaseModel):
    """One reversal as recorded, beside the redemptions (Capillary's summary row of type reversal)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    reversal_id: Annotated[str, Field(pattern=r"^[0-9A-Za-z]{6}$")]
    redemption_id: str
    customer_id: str
    program_id: int
    points: Annotated[Decimal, Field(gt=0, allow_inf_nan=False, decimal_places=3)]
    """All that was reversed: what was credited plus what had expired."""
    available: Points
    expired: Points
    credits: tuple[Credit, ...]
    balance_after: Decimal
    reversed_at: AwareDatetime
    till_id: str
    store_id: str = ""
    source: ReversalSource
    transaction_number: str = ""


@dataclass(frozen=True, slots=True)
class ReversalRecord:
    """A reversal found where a redemption id was expected (3804)."""

    reversal_id: str
    customer_id: str
