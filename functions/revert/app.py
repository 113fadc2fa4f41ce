"""POST /v2/points/reverse and POST /v1.1/points/revert: give redeemed points back to the allocations they
came from, with their original expiry, atomically; partly or fully (reverse), or all that was redeemed on a
bill (revert)."""

from __future__ import annotations

from typing import Annotated

from aws_lambda_powertools.event_handler import Response
from aws_lambda_powertools.event_handler.openapi.params import Body

from points_core.api.idempotency import replayable
from points_core.api.negotiation import check_format
from points_core.api.openapi import documented_responses
from points_core.api.parameters import Format, IdempotencyKey
from points_core.api.resolver import caller, create_app, lambda_entry, route
from points_core.api.responses import Answer, http_status, worth_keeping
from points_core.aws.clock import utc_now
from points_core.aws.observability import metrics
from points_core.capillary import views
from points_core.capillary.bodies import ReverseBody, RevertBody, require_items
from points_core.capillary.responses import ReverseResponse, RevertEnvelope, V2ErrorEnvelope
from points_core.services.reversal import ReverseRequest, RevertItem, reverse, revert

app = create_app(failure_payload=views.revert_failure)


@route(
    app,
    "POST",
    "/v2/points/reverse",
    summary="Reverse a redemption, fully or partly",
    description=(
        "By redemptionId or externalReferenceNumber; identifier must name the redemption's customer. "
        "pointsToBeReversed (absent: everything not reversed yet) goes back to the allocations it was drawn "
        "from, last drawn first, with their original expiry; the part whose allocation has expired since is "
        "reported in pointsReversedDetails.expired and not credited. Partial reversals repeat until nothing "
        "is left. Errors: 3801 more than is left, 3802 nothing left, 3803 unknown or another customer's "
        "redemption, 3804 a reversal's id, 4101 reversal disabled, 4102 zero, negative or not a number, "
        "878 more than 3 decimals, 802 malformed identifier, 8015 unknown customer: HTTP 200 with errors[] "
        "(or 400 where the org sets v2_error_http_status: 400). An Idempotency-Key header replays the first "
        "answer (422 for another body, 409 while in flight)."
    ),
    responses=documented_responses(
        ReverseResponse,
        "Reversed; or refused, with errors[] (the codes above)",
        {
            400: "Refused, where the org sets v2_error_http_status: 400",
            409: "Others kept changing this customer's points: retry (521)",
        },
        errors=V2ErrorEnvelope,
        replayable=True,
    ),
)
def reverse_points(
    request: Annotated[ReverseBody, Body(description="What to reverse")],
    idempotency_key: IdempotencyKey = None,
) -> Response[str]:
    who = caller(app)
    metrics.add_metric(name="ReverseRequests", unit="Count", value=1)
    asked = ReverseRequest(
        identifier_type=request.identifier.identifier_type,
        identifier_value=request.identifier.value,
        redemption_id=request.redemptionId or "",
        external_reference_number=request.externalReferenceNumber or "",
        points=request.pointsToBeReversed,
    )

    def answer() -> Answer:
        outcome = reverse(who, asked, utc_now)
        if outcome.success:
            payload = views.reverse(outcome, who.org_id, request.identifier.type, request.identifier.value)
        else:
            payload = views.v2_failure(outcome.status)
        status = http_status(outcome, v2_refusal=outcome.refusal_http_status)
        return Answer(status, payload, keep=worth_keeping([outcome]))

    return replayable(app, who.org_id, idempotency_key, answer)


@route(
    app,
    "POST",
    "/v1.1/points/revert",
    summary="Revert what was redeemed on a bill",
    description=(
        "Legacy revert by transaction_number and customer: everything the customer redeemed on the bill and "
        "has not been reversed yet goes back to its allocations, with their original expiry (expired parts "
        "are reported, not credited). points_redeemed, when given, must equal what was redeemed on the bill "
        "(810). Item codes: 811 unknown or blank transaction number, 812 already reverted, 814 nothing of "
        "this customer's redeemed on it, 816 unknown customer, 905 reversal disabled for the org. Each item "
        "is one transaction; an Idempotency-Key header replays the first answer."
    ),
    responses=documented_responses(RevertEnvelope, "Processed (see each item_status)", replayable=True),
)
def revert_bill(
    request: Annotated[RevertBody, Body(description="One bill to revert, or a list of up to 20")],
    format: Format = None,
    idempotency_key: IdempotencyKey = None,
) -> Response[str]:
    check_format(format)
    who = caller(app)
    metrics.add_metric(name="RevertRequests", unit="Count", value=1)
    require_items(request, "root.revert")
    items = [
        RevertItem(
            identifiers=item.customer.identifiers(),
            transaction_number=item.transaction_number or "",
            points=item.points_redeemed,
        )
        for item in request.items
    ]

    def answer() -> Answer:
        outcomes = [revert(who, item, utc_now) for item in items]
        payload = views.revert(outcomes)
        return Answer(http_status(*outcomes), payload, keep=worth_keeping(outcomes))

    return replayable(app, who.org_id, idempotency_key, answer)


lambda_handler = lambda_entry(app)
