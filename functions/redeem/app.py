"""POST /v1.1/points/redeem: debit points, earliest expiry first, consuming the validation code, atomically
and once per `external_reference_number`."""

from __future__ import annotations

from datetime import UTC, datetime
from http import HTTPStatus
from typing import Annotated

from aws_lambda_powertools.event_handler import Response
from aws_lambda_powertools.event_handler.openapi.params import Body, Query

from points_core.api.resolver import (
    Answer,
    caller,
    create_app,
    documented_responses,
    lambda_entry,
    replayable,
    require_json_format,
    truthy,
    worth_keeping,
)
from points_core.aws.observability import metrics
from points_core.capillary import views
from points_core.capillary.bodies import RedeemBody, require_items
from points_core.capillary.responses import RedeemEnvelope
from points_core.domain.models import Caller
from points_core.services.redeemability import parse_validation_type
from points_core.services.redemption import ItemOutcome, RedeemItem, RedeemOptions, redeem_item

app = create_app(failure_payload=views.redeem_failure)

OptionalText = str | None


def _now() -> datetime:
    return datetime.now(UTC)


@app.post(
    "/v1.1/points/redeem",
    summary="Redeem points",
    description=(
        "Each item is processed on its own and atomically: the same rules as isredeemable, the validation "
        "code (consumed), redemption_time (YYYY-MM-DD HH:MM:SS, org time), then an earliest-expiry-first "
        "debit. A reused external_reference_number answers 744 with the original; an Idempotency-Key header "
        "replays the first answer (422 for another body, 409 while in flight)."
    ),
    tags=["points v1.1"],
    responses=documented_responses(RedeemEnvelope, "Processed (see each item_status)"),
)
@app.post("/v1.1/points/redeem.json", include_in_schema=False)
def redeem(
    request: Annotated[RedeemBody, Body(description="One redemption, or a list of up to 20")],
    program_id: Annotated[
        OptionalText, Query(description="Program; default: the till's store mapping")
    ] = None,
    skip_validation: Annotated[
        OptionalText, Query(description="true: no validation code (org permitting)")
    ] = None,
    validation_type: Annotated[OptionalText, Query(description="SMS (default), MISSED_CALL, INVALID")] = None,
    format: Annotated[OptionalText, Query(description="json (default)")] = None,
) -> Response[str]:
    require_json_format(format)
    options = RedeemOptions(
        program_id=program_id,
        skip_validation=truthy(skip_validation),
        validation_type=parse_validation_type(validation_type),
    )
    who = caller(app)
    metrics.add_metric(name="RedeemRequests", unit="Count", value=1)
    require_items(request)

    def answer() -> Answer:
        outcomes = process(who, request, options)
        return Answer(
            HTTPStatus.OK, views.redeem(outcomes, single=request.single), keep=worth_keeping(outcomes)
        )

    # With an Idempotency-Key, a retry replays the first answer (same bytes) instead of running again.
    return replayable(app, who.org_id, answer)


def process(who: Caller, body: RedeemBody, options: RedeemOptions) -> list[ItemOutcome]:
    return [
        redeem_item(
            who,
            RedeemItem(
                identifiers=item.customer.identifiers(),
                points=item.points_redeemed,
                transaction_number=item.transaction_number or "",
                external_reference_number=item.external_reference_number or "",
                validation_code=item.validation_code or "",
                redemption_time=item.redemption_time,
                notes=item.notes or "",
                till_id=item.till_id or "",
                purpose=item.redemption_purpose or "",
                custom_fields=item.custom_fields.as_tuple() if item.custom_fields else (),
            ),
            options,
            _now,
        )
        for item in body.items
    ]


lambda_handler = lambda_entry(app)
