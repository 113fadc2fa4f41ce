"""The OpenAPI declarations of the responses a route gives, in the envelope it gives them in."""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools.event_handler.openapi.types import OpenAPIResponse
from pydantic import BaseModel

from points_core.capillary.responses import ErrorEnvelope, GatewayErrorEnvelope

KEY_IN_FLIGHT = "A request with this Idempotency-Key is still in progress: retry (Retry-After)"
KEY_REUSED = "This Idempotency-Key was used with another request"


def documented_responses(
    envelope: type[BaseModel],
    ok: str,
    more: dict[int, str] | None = None,
    *,
    errors: type[BaseModel] | None = None,
    replayable: bool = False,
) -> dict[int, OpenAPIResponse]:
    """The OpenAPI responses of a route. v1.1 (`errors` None): its own envelope for 200, 500 and each status
    in `more`, the request-level envelope for 400, 401 and the Idempotency-Key's 409. v2: `envelope` for
    200, `errors` for the others. `replayable`: the route takes an Idempotency-Key. (Its 422, a key reused
    with another request, is written by the document's generator, `points_local.openapi`: Powertools writes
    its own 422 over any a route declares.)"""

    def answer(description: str, model: type[BaseModel]) -> OpenAPIResponse:
        return {"description": description, "content": {"application/json": {"model": model}}}

    failure = errors or envelope
    request_failure = errors or ErrorEnvelope
    # The gateway answers for the whole API: on v2, in both envelopes at once.
    gateway = GatewayErrorEnvelope if errors else ErrorEnvelope
    responses: dict[int, OpenAPIResponse] = {
        # A v2 refusal answers 200 too (the org may choose 400): with the errors envelope.
        200: answer(ok, envelope | errors) if errors else answer(ok, envelope),  # type: ignore[arg-type]
        400: answer("Invalid input", request_failure),
        401: answer("Authentication failed", gateway),
        # The usage plan's answers, by the till's API key (every route behind the authorizer requires it).
        403: answer(
            "Not authorized: the till's API key is not in the usage plan (run apply-config)", gateway
        ),
        429: answer("Rate limit exceeded: the till's usage plan (Retry-After)", gateway),
        500: answer("Unexpected failure (889)", failure),
    }
    if replayable:
        responses[409] = answer(KEY_IN_FLIGHT, request_failure)
    for status, text in (more or {}).items():
        if status in responses:
            # Both answers can come: the route's own refusal and the one this status already names.
            known: Any = responses[status].get("content", {}).get("application/json", {}).get("model")
            both: Any = failure if known is failure else failure | known
            responses[status] = answer(f"{text}; or: {responses[status]['description']}", both)
        else:
            responses[status] = answer(text, failure)
    return dict(sorted(responses.items()))
