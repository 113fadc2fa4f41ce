"""The body of POST /v1.1/points/redeem: `{"root": {"redeem": {...} | [{...}, ...]}}`. The resolver reads it
with exact decimals (never floats) and validates it against these models; a structural problem is a
request-level 400 that names the field."""

from __future__ import annotations

from decimal import Decimal
from typing import Annotated, Any

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field

from points_core.errors import InvalidInput
from points_core.models import CustomField

MAX_ITEMS = 20


def _text(value: Any) -> Any:
    """Clients send numbers or strings for the same field: keep the exact text of a number."""
    if isinstance(value, bool):
        return value
    if isinstance(value, int | Decimal):
        return str(value)
    return value


Text = Annotated[str | None, BeforeValidator(_text)]


class _Lenient(BaseModel):
    model_config = ConfigDict(extra="ignore", frozen=True)


class BodyCustomer(_Lenient):
    mobile: Text = None
    email: Text = None
    external_id: Text = None
    id: Text = None
    user_id: Text = None
    card_number: Text = None
    card_external_id: Text = None

    def identifiers(self) -> dict[str, str | None]:
        values = self.model_dump(exclude={"user_id"})
        values["id"] = self.id or self.user_id
        return values


class BodyCustomFields(_Lenient):
    field: list[CustomField] | CustomField = Field(default_factory=list)

    def as_tuple(self) -> tuple[CustomField, ...]:
        return tuple(self.field) if isinstance(self.field, list) else (self.field,)


class BodyItem(_Lenient):
    points_redeemed: Text = None
    customer: BodyCustomer = BodyCustomer()
    transaction_number: Text = None
    external_reference_number: Text = None
    validation_code: Text = None
    redemption_time: Text = None
    notes: Text = None
    till_id: Text = None
    redemption_purpose: Text = None
    custom_fields: BodyCustomFields | None = None


class RedeemRoot(BaseModel):
    redeem: BodyItem | list[BodyItem]


class RedeemBody(BaseModel):
    root: RedeemRoot

    @property
    def items(self) -> list[BodyItem]:
        return self.root.redeem if isinstance(self.root.redeem, list) else [self.root.redeem]

    @property
    def single(self) -> bool:
        return not isinstance(self.root.redeem, list)


def require_items(body: RedeemBody) -> RedeemBody:
    if not body.items or len(body.items) > MAX_ITEMS:
        raise InvalidInput(f"root.redeem: between 1 and {MAX_ITEMS} items")
    return body
