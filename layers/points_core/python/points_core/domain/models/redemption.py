"""Redemptions: what was taken from which allocation, so a reversal can put it back with its expiry."""

from __future__ import annotations

from decimal import Decimal
from typing import Annotated

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field

from points_core.domain.models.customer import Points


class Draw(BaseModel):
    """Points taken from one allocation by a redemption."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    allocation_id: str
    points: Annotated[Decimal, Field(gt=0, allow_inf_nan=False, decimal_places=3)]
    awarded_at: AwareDatetime
    expires_at: AwareDatetime | None = None
    allocation_points: Points
    """What the allocation was awarded with, to re-create it if it was pruned when spent."""


class CustomField(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    name: Annotated[str, Field(min_length=1, max_length=100)]
    value: Annotated[str, Field(max_length=1000)] = ""


class Redemption(BaseModel):
    """One redemption as recorded: enough to answer a retry (744) and to reverse it onto its allocations."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    redemption_id: Annotated[str, Field(pattern=r"^[0-9A-Za-z]{6}$")]
    customer_id: str
    program_id: int
    points: Annotated[Decimal, Field(gt=0, allow_inf_nan=False)]
    value: Decimal
    local_value: Decimal
    balance_after: Decimal
    draws: tuple[Draw, ...]
    redeemed_at: AwareDatetime
    recorded_at: AwareDatetime
    till_id: str
    store_id: str = ""
    transaction_number: str = ""
    external_reference_number: str = ""
    notes: str = ""
    purpose: str = ""
    custom_fields: tuple[CustomField, ...] = ()
    validated: bool
    """A validation code was checked and consumed (else validation was skipped, as the org allows)."""
    reversed_points: Points = Decimal(0)
    """Reversed so far, credited or expired; never more than `points`."""

    @property
    def outstanding(self) -> Decimal:
        """What a reversal can still give back."""
        return self.points - self.reversed_points

    @property
    def summary_id(self) -> int:
        """Capillary's numeric `points_redemption_summary_id`: the id read in base 62, unique as the id is."""
        return int_base62(self.redemption_id)


BASE62 = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"


def int_base62(text: str) -> int:
    number = 0
    for character in text:
        number = number * 62 + BASE62.index(character)
    return number
