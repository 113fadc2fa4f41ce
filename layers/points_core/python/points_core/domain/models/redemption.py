"""Redemptions: what was taken from which allocation, so a reversal can put it back with its expiry."""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from decimal import Decimal
from typing import TYPE_CHECKING, Annotated

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field

from points_core.domain.models.customer import Points

if TYPE_CHECKING:
    from points_core.domain.models.reversal import Credit


class Draw(BaseModel):
    """Points taken from the bucket of one expiry by a redemption: a reversal gives them back to it."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    points: Annotated[Decimal, Field(gt=0, allow_inf_nan=False, decimal_places=3)]
    expires_at: AwareDatetime | None = None
    customer_id: str = ""
    """The member drawn from, when not the redemption's customer (a UserGroup2 group redemption)."""
    program_id: int | None = None
    """The program drawn from, when not the redemption's program (`group_redemption=true`)."""
    allocation_id: str = ""
    """Recorded by redemptions made before wallets held buckets (one allocation a draw), with the next two."""
    awarded_at: AwareDatetime | None = None
    allocation_points: Points | None = None


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
    """The till of record: the authenticated till that redeemed, whatever the body said."""
    attributed_till_id: str = ""
    """The body's `till_id`, kept only when it names a till of the same org (a POS redeeming on another
    till's behalf); an attribution, never the till of record."""
    store_id: str = ""
    transaction_number: str = ""
    external_reference_number: str = ""
    notes: str = ""
    purpose: str = ""
    custom_fields: tuple[CustomField, ...] = ()
    validated: bool
    """A validation code was checked and consumed (else validation was skipped, as the org allows)."""
    group_id: str = ""
    """The UserGroup2 group redeemed for (its members' points pooled when `cross_member`)."""
    cross_member: bool = False
    """Drawn from the group's members' pooled points (`is_group_redemption`)."""
    program_group: str = ""
    """The program group whose programs' points were pooled (`group_redemption=true`)."""
    reversed_points: Points = Decimal(0)
    """Reversed so far, credited or expired; never more than `points`."""

    @property
    def outstanding(self) -> Decimal:
        """What a reversal can still give back."""
        return self.points - self.reversed_points

    def wallet_of(self, draw: Draw | Credit) -> tuple[str, int]:
        """The (customer, program) whose wallet a draw was taken from (and its credit goes back to)."""
        return draw.customer_id or self.customer_id, draw.program_id or self.program_id

    @property
    def pooled(self) -> bool:
        """Drawn from more wallets than the customer's own in the program (or may have been)."""
        return self.cross_member or bool(self.program_group)

    @property
    def summary_id(self) -> int:
        """Capillary's numeric `points_redemption_summary_id`: the id read in base 62, unique as the id is."""
        return int_base62(self.redemption_id)


@dataclass(frozen=True, slots=True)
class UsedReference:
    """The marker of a used `external_reference_number`: what a 744 answers, and where a reverse by reference
    finds the redemption and its wallet."""

    redemption_id: str
    customer_id: str
    balance_after: Decimal
    program_id: int | None = None
    """Absent on markers written before reversals needed it."""


@dataclass(frozen=True, slots=True)
class BillEntry:
    """One redemption recorded on a bill (`transaction_number`), for the revert by bill."""

    redemption_id: str
    customer_id: str
    program_id: int | None
    """Absent on entries written before reversals needed it."""
    points: Decimal


BASE62 = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
RECORD_ID_LENGTH = 6


def new_record_id() -> str:
    """A fresh redemption or reversal id: the two share one namespace, as Capillary's redemption summaries."""
    return "".join(secrets.choice(BASE62) for _ in range(RECORD_ID_LENGTH))


def int_base62(text: str) -> int:
    number = 0
    for character in text:
        number = number * 62 + BASE62.index(character)
    return number
