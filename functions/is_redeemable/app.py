"""GET /v1.1/points/isredeemable: can a customer redeem N points (or N of currency) from a program?"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated

from aws_lambda_powertools.event_handler import Response
from aws_lambda_powertools.event_handler.openapi.params import Query

from points_core import views
from points_core.api import caller, create_app, json_response, lambda_entry, require_json_format, truthy
from points_core.observability import metrics
from points_core.services.redeemability import RedeemableQuery, check_redeemable
from points_core.wire import ErrorEnvelope, IsRedeemableEnvelope

app = create_app(failure_payload=views.is_redeemable_failure)

OptionalText = str | None


@app.get(
    "/v1.1/points/isredeemable",
    summary="Check whether a customer can redeem points",
    description=(
        "Applies the org's redemption rules in order (customer, enrolment, fraud, program, points format, "
        "multiples, minimum, maximum, balance of the selected program, lifetime points, lifetime purchases); "
        "the first failing rule answers in `item_status` with HTTP 200 and `status.code` 500."
    ),
    tags=["points v1.1"],
    responses={
        200: {
            "description": "Checked (see item_status)",
            "content": {"application/json": {"model": IsRedeemableEnvelope}},
        },
        400: {"description": "Invalid input", "content": {"application/json": {"model": ErrorEnvelope}}},
        401: {
            "description": "Authentication failed",
            "content": {"application/json": {"model": ErrorEnvelope}},
        },
        500: {
            "description": "Unexpected failure (889)",
            "content": {"application/json": {"model": IsRedeemableEnvelope}},
        },
    },
)
@app.get("/v1.1/points/isredeemable.json", include_in_schema=False)
def is_redeemable(
    points: Annotated[OptionalText, Query(description="Points to check (at most 3 decimals)")] = None,
    mobile: Annotated[OptionalText, Query(description="Mobile number, with or without country code")] = None,
    email: Annotated[OptionalText, Query(description="Email address")] = None,
    external_id: Annotated[OptionalText, Query(description="The org's customer id")] = None,
    id: Annotated[OptionalText, Query(description="Customer id")] = None,
    user_id: Annotated[OptionalText, Query(description="Customer id (older clients' name for id)")] = None,
    card_number: Annotated[OptionalText, Query(description="Loyalty card number")] = None,
    card_external_id: Annotated[OptionalText, Query(description="Loyalty card external id")] = None,
    program_id: Annotated[
        OptionalText, Query(description="Program; default: the till's store mapping")
    ] = None,
    currency_input: Annotated[OptionalText, Query(description="true: the amount is base currency")] = None,
    currency_value: Annotated[
        OptionalText, Query(description="Currency amount when currency_input=true")
    ] = None,
    format: Annotated[OptionalText, Query(description="json (default)")] = None,
) -> Response[str]:
    require_json_format(format)
    query = RedeemableQuery(
        identifiers={
            "id": id or user_id,
            "mobile": mobile,
            "email": email,
            "external_id": external_id,
            "card_number": card_number,
            "card_external_id": card_external_id,
        },
        points=points,
        program_id=program_id,
        currency_input=truthy(currency_input),
        currency_value=currency_value,
    )
    outcome = check_redeemable(caller(app), query, datetime.now(UTC))
    metrics.add_metric(
        name="RedemptionChecksPassed" if outcome.decision.redeemable else "RedemptionChecksRejected",
        unit="Count",
        value=1,
    )
    return json_response(views.is_redeemable(outcome))


lambda_handler = lambda_entry(app)
