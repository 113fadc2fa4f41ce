"""GET /v1.1/points/validationcode: send the customer a validation code (OTP) for redeeming points. The code
goes to the customer only, never into the response."""

from __future__ import annotations

from typing import Annotated

from aws_lambda_powertools.event_handler import Response
from aws_lambda_powertools.event_handler.openapi.params import Query

from points_core.api.negotiation import check_format
from points_core.api.openapi import documented_responses
from points_core.api.parameters import (
    CustomerIdentifiers,
    Format,
    OptionalText,
    ProgramId,
)
from points_core.api.resolver import caller, create_app, lambda_entry, route
from points_core.api.responses import answered
from points_core.aws.clock import utc_now
from points_core.aws.observability import metrics
from points_core.capillary import views
from points_core.capillary.responses import ValidationCodeEnvelope
from points_core.services.validation_codes import ValidationCodeRequest, issue_validation_code

app = create_app(failure_payload=views.validation_code_failure)


@route(
    app,
    "GET",
    "/v1.1/points/validationcode",
    summary="Send the customer a validation code",
    description=(
        "Issues a code bound to the customer, the program and the points, and sends it by SMS and/or email "
        "as the org configures. Asking again while it is valid re-sends the same code; each send counts "
        "toward the org's limit per window (429, HTTP 429 with Retry-After). A failed delivery answers 860."
    ),
    responses=documented_responses(
        ValidationCodeEnvelope, "Sent, or refused (see item_status)", {429: "Send limit reached"}
    ),
)
def validation_code(
    customer: Annotated[CustomerIdentifiers, Query()],
    points: Annotated[OptionalText, Query(description="Points the customer means to redeem")] = None,
    program_id: ProgramId = None,
    format: Format = None,
) -> Response[str]:
    check_format(format)
    request = ValidationCodeRequest(
        identifiers=customer.as_identifiers(), points=points, program_id=program_id
    )
    outcome = issue_validation_code(caller(app), request, utc_now())
    if not outcome.success:
        metrics.add_metric(name="ValidationCodesRefused", unit="Count", value=1)
    return answered(app, views.validation_code(outcome), outcome, outcome.retry_after)


lambda_handler = lambda_entry(app)
