"""GET /v1.1/points/isredeemable: can a customer redeem N points (or N of currency) from a program?"""

from __future__ import annotations

from typing import Annotated

from aws_lambda_powertools.event_handler import Response
from aws_lambda_powertools.event_handler.openapi.params import Query

from points_core.api.negotiation import check_format
from points_core.api.openapi import documented_responses
from points_core.api.parameters import (
    CustomerIdentifiers,
    Format,
    GroupParameters,
    OptionalText,
    ProgramId,
    ValidationTypeParam,
    parse_validation_type,
    truthy,
)
from points_core.api.resolver import caller, create_app, lambda_entry, route
from points_core.api.responses import answered
from points_core.aws.clock import utc_now
from points_core.aws.observability import metrics
from points_core.capillary import views
from points_core.capillary.responses import IsRedeemableEnvelope
from points_core.services.redeemability import RedeemableQuery, check_redeemable

app = create_app(failure_payload=views.is_redeemable_failure)


@route(
    app,
    "GET",
    "/v1.1/points/isredeemable",
    summary="Check whether a customer can redeem points",
    description=(
        "Applies the org's redemption rules in order (customer, enrolment, fraud, program, points format, "
        "multiples, minimum, maximum, balance of the selected program, lifetime points, lifetime purchases); "
        "the first failing rule answers in `item_status` with HTTP 200 and `status.code` 500."
    ),
    responses=documented_responses(
        IsRedeemableEnvelope, "Checked (see item_status)", {429: "issue_otp refused by the send limit"}
    ),
)
def is_redeemable(
    customer: Annotated[CustomerIdentifiers, Query()],
    group: Annotated[GroupParameters, Query()],
    points: Annotated[OptionalText, Query(description="Points to check (at most 3 decimals)")] = None,
    program_id: ProgramId = None,
    currency_input: Annotated[OptionalText, Query(description="true: the amount is base currency")] = None,
    currency_value: Annotated[
        OptionalText, Query(description="Currency amount when currency_input=true")
    ] = None,
    issue_otp: Annotated[
        OptionalText, Query(description="true: send a validation code if redeemable")
    ] = None,
    validation_code: Annotated[OptionalText, Query(description="Check this code too (not consumed)")] = None,
    skip_validation: Annotated[OptionalText, Query(description="true: do not check validation_code")] = None,
    validation_type: ValidationTypeParam = None,
    format: Format = None,
) -> Response[str]:
    check_format(format)
    query = RedeemableQuery(
        identifiers=customer.as_identifiers(),
        points=points,
        program_id=program_id,
        currency_input=truthy(currency_input),
        currency_value=currency_value,
        issue_otp=truthy(issue_otp),
        validation_code=validation_code,
        skip_validation=truthy(skip_validation),
        validation_type=parse_validation_type(validation_type),
        group=group.as_request(),
    )
    outcome = check_redeemable(caller(app), query, utc_now())
    metrics.add_metric(
        name="RedemptionChecksPassed" if outcome.success else "RedemptionChecksRejected",
        unit="Count",
        value=1,
    )
    return answered(app, views.is_redeemable(outcome), outcome, outcome.retry_after)


lambda_handler = lambda_entry(app)
