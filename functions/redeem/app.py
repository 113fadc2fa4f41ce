"""POST /v1.1/points/redeem: debit points, earliest expiry first, consuming the validation code, atomically
and once per `external_reference_number`."""

from __future__ import annotations

from dataclasses import replace
from typing import Annotated

from aws_lambda_powertools.event_handler import Response
from aws_lambda_powertools.event_handler.openapi.params import Body, Query

from points_core.api.idempotency import replayable, withheld
from points_core.api.negotiation import check_format
from points_core.api.openapi import documented_responses
from points_core.api.parameters import (
    Format,
    GroupParameters,
    IdempotencyKey,
    OptionalText,
    ProgramId,
    ValidationTypeParam,
    parse_validation_type,
    truthy,
)
from points_core.api.resolver import caller, create_app, lambda_entry, route
from points_core.api.responses import Answer, http_status, worth_keeping
from points_core.aws.clock import utc_now
from points_core.aws.observability import metrics
from points_core.capillary import views
from points_core.capillary.bodies import BodyItem, RedeemBody, require_items
from points_core.capillary.responses import RedeemEnvelope
from points_core.domain.models import Caller
from points_core.services.redemption import RedeemItem, RedeemOptions, RedeemOutcome, redeem_item

app = create_app(failure_payload=views.redeem_failure)


@route(
    app,
    "POST",
    "/v1.1/points/redeem",
    summary="Redeem points",
    description=(
        "Each item is processed on its own and atomically: the same rules as isredeemable, the validation "
        "code (consumed), redemption_time (YYYY-MM-DD HH:MM:SS, org time), then an earliest-expiry-first "
        "debit. A reused external_reference_number answers 744 with the original; an Idempotency-Key header "
        "replays the first answer (422 for another body, 409 while in flight)."
    ),
    responses=documented_responses(RedeemEnvelope, "Processed (see each item_status)", replayable=True),
)
def redeem(
    request: Annotated[RedeemBody, Body(description="One redemption, or a list of up to 20")],
    group: Annotated[GroupParameters, Query()],
    program_id: ProgramId = None,
    skip_validation: Annotated[
        OptionalText, Query(description="true: no validation code (org permitting)")
    ] = None,
    validation_type: ValidationTypeParam = None,
    format: Format = None,
    idempotency_key: IdempotencyKey = None,
) -> Response[str]:
    check_format(format)
    options = RedeemOptions(
        program_id=program_id,
        skip_validation=truthy(skip_validation),
        validation_type=parse_validation_type(validation_type),
        group=group.as_request(),
    )
    who = caller(app)
    metrics.add_metric(name="RedeemRequests", unit="Count", value=1)
    require_items(request)

    def answer() -> Answer:
        outcomes = process(who, request, options)
        payload = views.redeem([_code_withheld(index, outcome) for index, outcome in enumerate(outcomes)])
        return Answer(http_status(*outcomes), payload, keep=worth_keeping(outcomes))

    # With an Idempotency-Key, a retry replays the first answer (same bytes) instead of running again; the
    # codes the answer echoes are put back from the request, never kept.
    codes = [body.validation_code or "" for body in request.items]
    return replayable(app, who.org_id, idempotency_key, answer, codes)


def _code_withheld(index: int, outcome: RedeemOutcome) -> RedeemOutcome:
    """The outcome as the view sees it: the item's validation code named, not given (see `replayable`)."""
    return replace(outcome, item=replace(outcome.item, validation_code=withheld(index)))


def process(who: Caller, request: RedeemBody, options: RedeemOptions) -> list[RedeemOutcome]:
    return [redeem_item(who, _item(body), options, utc_now) for body in request.items]


def _item(body: BodyItem) -> RedeemItem:
    return RedeemItem(
        identifiers=body.customer.identifiers(),
        points=body.points_redeemed,
        transaction_number=body.transaction_number or "",
        external_reference_number=body.external_reference_number or "",
        validation_code=body.validation_code or "",
        redemption_time=body.redemption_time,
        notes=body.notes or "",
        till_id=body.till_id or "",
        purpose=body.redemption_purpose or "",
        custom_fields=body.custom_fields.as_tuple() if body.custom_fields else (),
        group_redemption=truthy(body.group_redemption),
    )


lambda_handler = lambda_entry(app)
