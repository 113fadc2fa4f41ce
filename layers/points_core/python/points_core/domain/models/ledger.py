"""Ledger entries: the append-only history that explains every wallet change."""

from __future__ import annotations

from decimal import Decimal
from enum import StrEnum
from typing import Annotated

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field


class EntryKind(StrEnum):
    AWARD = "award"
    """Points brought in by the data import."""
    GOODWILL = "goodwill"
    """Points granted by member care, with a reason."""


class AwardEntry(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    kind: EntryKind
    program_id: int
    allocation_id: Annotated[str, Field(min_length=1, max_length=128)]
    points: Annotated[Decimal, Field(gt=0, allow_inf_nan=False, decimal_places=3)]
    awarded_at: AwareDatetime
    expires_at: AwareDatetime | None = None
    reason: str = ""
    recorded_at: AwareDatetime
