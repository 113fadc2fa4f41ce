"""Redemptions: what was taken from which allocation, so a reversal can put it back with its expiry."""

from __future__ import annotations

from decimal import Decimal
from typing import Annotated

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field

from points_core.models.customer import Points


class Draw(BaseModel):
    """Points taken from one allocation by a redemption."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    allocation_id: str
    points: Annotated[Decimal, Field(gt=0, allow_inf_nan=False, decimal_places=3)]
    awarded_at: AwareDatetime
    expires_at: AwareDatetime | None = None
    allocation_points: Points
    """What the allocation was awarded with, to re-create it if it was pruned when spent."""
