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
    is_group_redemption: Flag | None = Field(
        default=None,
        description='"true" when checked against a UserGroup2 group\'s pooled points; else absent',
    )


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


class _ItemCustomer(_Wire):
    """Who an item of a multi-item answer was for: the customer's identifiers, or what the request gave."""

    mobile: str
    email: str
    external_id: str
    user_id: str | None


class Redeemed(_ItemCustomer):
    redemption_id: str | None = None
    points_redeemed: str = Field(description="A string, as Capillary sends it")
    redemption_purpose: str = ""
    redeemed_value: Number
    redeemed_local_value: Number | None = None
    balance: Number | None = Field(
        default=None, description="Balance after the debit (and on 744, after the original)"
    )
    is_group_redemption: Flag | None = Field(
        default=None, description='"true" when drawn from a UserGroup2 group\'s pooled points; else absent'
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


class ReversalDone(_Wire):
    """One redemption given back by a revert."""

    redemption_id: str
    reversal_id: str
    points_reversed: Number = Field(description="Credited plus expired")
    points_credited: Number
    points_expired: Number


class ReversalsDone(_Wire):
    reversal: list[ReversalDone]


class PointsReversedDetails(_Wire):
    available: Number = Field(description="Credited back to the balance, with the original expiry")
    expired: Number = Field(description="Whose allocation has expired since: reported, not credited")


class Reverted(_ItemCustomer):
    transaction_number: str
    points_reverted: str = Field(description="A string, as points_redeemed in the redeem response")
    points_reverted_details: PointsReversedDetails
    balance: Number | None = Field(
        default=None, description="Balance after, when the bill's redemptions were in one program"
    )
    reversals: ReversalsDone
    item_status: StatusBlock


class RevertResponses(_Wire):
    points: Reverted | list[Reverted] = Field(description="An object for one item, a list for several")


class RevertResponse(_Wire):
    status: StatusBlock
    responses: RevertResponses


class RevertEnvelope(_Wire):
    response: RevertResponse


class ReverseIdentifierEcho(_Wire):
    type: str
    value: str


class CrossMemberReversal(_Wire):
    """What a reversal of a group redemption gave one member back, for one expiry."""

    memberId: int
    pointsRestored: Number = Field(description="Credited back, with the original expiry")
    pointsExpiredByReversal: Number = Field(description="Expired since the redemption: not credited")
    expiryBatchDate: str | None = Field(description="The points' expiry, ISO-8601 (null: never)")
    status: Literal["REVERSED", "EXPIRED"]


class ReverseResponse(_Wire):
    """`POST /v2/points/reverse` succeeded (HTTP 200)."""

    orgId: int
    identifier: ReverseIdentifierEcho
    customerId: int
    redemptionId: str
    reversalId: str
    pointsToBeReversed: Number
    pointsReversed: Number = Field(description="Credited plus expired")
    pointsReversedDetails: PointsReversedDetails
    crossMemberReversalBreakup: list[CrossMemberReversal] | None = Field(
        default=None, description="Per member and expiry, only for a group redemption's reversal"
    )
    warnings: list[V2Message]


class V2Message(_Wire):
    """An entry of a v2 `errors` (status false) or `warnings` list."""

    status: bool
    code: int
    message: str


class V2ErrorEnvelope(_Wire):
    """A v2 error: HTTP 400 for what the request asked, 409 when others kept changing the customer (521),
    500 for an unexpected failure (889), 401 when authentication failed."""

    warnings: list[V2Message]
    errors: list[V2Message]


class ErrorResponse(_Wire):
    status: StatusBlock


class ErrorEnvelope(_Wire):
    """A request-level error (400, 401, 403, 404, 429, 5xx from the gateway)."""

    response: ErrorResponse


class GatewayErrorEnvelope(_Wire):
    """API Gateway's own answers (401, 403, 404, 429, 5xx) belong to the whole API, so they carry v1.1's
    `response.status` and v2's `warnings`/`errors` (one entry, the same code and message) at once."""

    response: ErrorResponse
    warnings: list[V2Message]
    errors: list[V2Message]
