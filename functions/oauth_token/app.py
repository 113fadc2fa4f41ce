"""POST /v3/oauth/token/generate: an access token for an OAuth client's key and secret (no other
credentials: the route is open in the API). The token goes in X-CAP-API-OAUTH-TOKEN on every other route."""

from __future__ import annotations

from http import HTTPStatus
from typing import Annotated

from aws_lambda_powertools.event_handler import Response
from aws_lambda_powertools.event_handler.openapi.params import Body

from points_core.api.resolver import create_app, lambda_entry, route
from points_core.api.responses import respond
from points_core.aws.clock import utc_now
from points_core.aws.observability import logger, metrics
from points_core.capillary.oauth import TokenEnvelope, TokenRequest, V3ErrorEnvelope, token_issued, v3_errors
from points_core.domain.codes import RequestStatus
from points_core.domain.errors import Unauthenticated
from points_core.services.oauth import generate_token

app = create_app(failure_payload=v3_errors)


def _answer(description: str, model: type[TokenEnvelope] | type[V3ErrorEnvelope]) -> dict[str, object]:
    return {"description": description, "content": {"application/json": {"model": model}}}


@route(
    app,
    "POST",
    "/v3/oauth/token/generate",
    summary="Get an OAuth access token",
    description=(
        "Capillary's token generation for an OAuth client (created with the operator tool): the key and "
        "secret give a JWT acting as the client's till, valid for the client's lifetime (at most 60 "
        "minutes). No other credentials. A wrong key or secret counts toward the till's lockout."
    ),
    responses={
        200: _answer("The token", TokenEnvelope),
        400: _answer("No key or secret in the body", V3ErrorEnvelope),
        401: _answer("Wrong key or secret, a disabled client, or its till locked out", V3ErrorEnvelope),
        500: _answer("Unexpected failure (889)", V3ErrorEnvelope),
    },
)
def token_generate(
    request: Annotated[TokenRequest, Body(description="The client's key and secret")],
) -> Response[str]:
    try:
        issued = generate_token(request.key, request.secret, utc_now())
    except Unauthenticated as failure:
        logger.info("token refused", extra={"reason": str(failure)})
        metrics.add_metric(name="TokenRefusals", unit="Count", value=1)
        return respond(app, v3_errors(RequestStatus.UNAUTHORIZED), HTTPStatus.UNAUTHORIZED)
    logger.append_keys(org_id=issued.client.org_id, till_id=issued.client.till_id)
    metrics.add_metric(name="TokensIssued", unit="Count", value=1)
    return respond(app, token_issued(issued))


lambda_handler = lambda_entry(app)
