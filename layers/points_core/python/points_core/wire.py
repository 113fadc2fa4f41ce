"""The wire shapes, as models: responses are built from these and rendered by `envelope.dumps`, and the
OpenAPI document is generated from them. Field order is the reference's key order."""

from __future__ import annotations

from decimal import Decimal
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, WithJsonSchema

Flag = Literal["true", "false"]
# Rendered as an exact JSON number by envelope.dumps, never as a string or a float.
Number = Annotated[Decimal, WithJsonSchema({"type": "number"})]


class _Wire(BaseModel):
    model_config = ConfigDict(frozen=True)


class StatusBlock(_Wire):
    success: Flag = Field(description='Capillary string boolean, "true" or "false"')
    code: int
    message: str


class Redeemable(_Wire):
    mobile: str
    email: str
    external_id: str
    points: Number = Field(description="Points requested (points needed, with currency_input)")
    is_redeemable: Flag
    points_redeem_value: Number = Field(description="Value in base currency (0 when not redeemable)")
    points_redeem_local_value: Number = Field(description="Value in local currency (0 when not redeemable)")
    input_type: Literal["points", "currency"]
    points_currency_ratio: str = Field(description='Value of one point, as a string ("0" when unknown)')
    item_status: StatusBlock


class RedeemablePoints(_Wire):
    redeemable: Redeemable


class IsRedeemableResponse(_Wire):
    status: StatusBlock
    points: RedeemablePoints


class IsRedeemableEnvelope(_Wire):
    response: IsRedeemableResponse


class IssuedCode(_Wire):
    """The code itself is never in a response: it goes to the customer only."""

    user_id: str
    mobile: str
    email: str
    external_id: str
    points: Number
    item_status: StatusBlock


class IssuedCodeHolder(_Wire):
    code: IssuedCode


class ValidationCodeResponse(_Wire):
    status: StatusBlock
    validation_code: IssuedCodeHolder


class ValidationCodeEnvelope(_Wire):
    response: ValidationCodeResponse


class Effect(_Wire):
    id: int
    case_value: Flag
    num_points: Number
    currency_value: Number
    validation_code: str
    points_redemption_summary_id: str
    redeemed_on_bill_number: str
    redeemed_on_bill_id: int
    type: Literal["points"]


class SideEffects(_Wire):
    effect: list[Effect]


class Redeemed(_Wire):
    mobile: str
    email: str
    external_id: str
    user_id: str | None
    redemption_id: str | None = None
    points_redeemed: str = Field(description="A string, as Capillary sends it")
    redemption_purpose: str = ""
    redeemed_value: Number
    redeemed_local_value: Number | None = None
    balance: Number | None = Field(
        default=None, description="Balance after the debit (and on 744, after the original)"
    )
    side_effects: SideEffects
    item_status: StatusBlock


class RedeemResponses(_Wire):
    points: Redeemed | list[Redeemed] = Field(description="An object for one item, a list for several")


class RedeemResponse(_Wire):
    status: StatusBlock
    responses: RedeemResponses


class RedeemEnvelope(_Wire):
    response: RedeemResponse


class ErrorResponse(_Wire):
    status: StatusBlock


class ErrorEnvelope(_Wire):
    """A request-level error (400, 401, 403, 404, 429, 5xx from the gateway)."""

    response: ErrorResponse
