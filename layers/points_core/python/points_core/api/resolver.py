"""What every HTTP function shares: the resolver, the one mapping of errors to HTTP, the caller from the
authorizer context, JSON responses, and the Lambda entry-point decorator stack."""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence
from decimal import Decimal
from functools import partial
from http import HTTPStatus
from typing import Any, NamedTuple, Protocol

from aws_lambda_powertools.event_handler import APIGatewayRestResolver, Response
from aws_lambda_powertools.event_handler.openapi.exceptions import RequestValidationError
from aws_lambda_powertools.event_handler.openapi.types import OpenAPIResponse
from aws_lambda_powertools.logging import correlation_paths
from aws_lambda_powertools.utilities.idempotency.exceptions import (
    IdempotencyAlreadyInProgressError,
    IdempotencyValidationError,
)
from aws_lambda_powertools.utilities.typing import LambdaContext
from pydantic import BaseModel, Field, ValidationError

from points_core.api.idempotency import KEY_HEADER, once
from points_core.aws.observability import logger, metrics, tracer
from points_core.capillary.envelope import dumps, v2_errors, v11
from points_core.capillary.responses import ErrorEnvelope
from points_core.domain.codes import Item, RequestStatus, Status
from points_core.domain.errors import InvalidInput
from points_core.domain.models import Caller

JSON_CONTENT_TYPE = "application/json; charset=utf-8"
SUPPORTED_FORMATS = ("json",)
V2_PREFIX = "/v2/"


class CustomerIdentifiers(BaseModel):
    """The customer identifier query parameters every v1.1 points GET accepts; empty values are absent."""

    mobile: str | None = Field(default=None, description="Mobile number, with or without country code")
    email: str | None = Field(default=None, description="Email address")
    external_id: str | None = Field(default=None, description="The org's customer id")
    id: str | None = Field(default=None, description="Customer id")
    user_id: str | None = Field(default=None, description="Customer id (older clients' name for id)")
    card_number: str | None = Field(default=None, description="Loyalty card number")
    card_external_id: str | None = Field(default=None, description="Loyalty card external id")

    def as_identifiers(self) -> dict[str, str | None]:
        values = self.model_dump(exclude={"user_id"})
        values["id"] = self.id or self.user_id
        return values


class Unauthenticated(Exception):
    """The request reached a function without an authorizer context (it did not come through the gateway)."""


def documented_responses(
    envelope: type[BaseModel],
    ok: str,
    more: dict[int, str] | None = None,
    *,
    errors: type[BaseModel] | None = None,
) -> dict[int, OpenAPIResponse]:
    """The OpenAPI responses of a route. v1.1 (`errors` None): its own envelope for 200, 500 and each status
    in `more`, the request-level envelope for 400 and 401. v2: `envelope` for 200, `errors` for the others."""

    def answer(description: str, model: type[BaseModel]) -> OpenAPIResponse:
        return {"description": description, "content": {"application/json": {"model": model}}}

    failure = errors or envelope
    responses: dict[int, OpenAPIResponse] = {
        200: answer(ok, envelope),
        400: answer("Invalid input", errors or ErrorEnvelope),
        401: answer("Authentication failed", errors or ErrorEnvelope),
        500: answer("Unexpected failure (889)", failure),
    }
    responses.update({status: answer(text, failure) for status, text in (more or {}).items()})
    return dict(sorted(responses.items()))


def require_json_format(format_param: str | None) -> None:
    """`format=json` is the default; the XML rendering is not offered yet, and says so."""
    if (
        format_param is not None
        and format_param.strip()
        and format_param.strip().lower() not in SUPPORTED_FORMATS
    ):
        raise InvalidInput(f"format={format_param.strip()} is not supported, use format=json")


def truthy(value: str | None) -> bool:
    """Capillary booleans: only `true` (any case) or `1` is true; anything else, including junk, is false."""
    return value is not None and value.strip().lower() in ("true", "1")


def json_response(
    payload: Any, status_code: int = HTTPStatus.OK, headers: dict[str, str] | None = None
) -> Response[str]:
    return Response(
        status_code=status_code, content_type=JSON_CONTENT_TYPE, body=dumps(payload), headers=headers
    )


def create_app(*, failure_payload: Callable[[Status], dict[str, Any]]) -> APIGatewayRestResolver:
    """A resolver whose errors all answer in the Capillary envelope: v1.1's, or v2's (`errors[]`) on a /v2/
    route. `failure_payload` renders a v1.1 endpoint's own item shape for an unexpected failure, so even a 500
    looks like the endpoint's normal response."""
    # Request bodies are read with exact decimals: points never pass through a float.
    app = APIGatewayRestResolver(
        enable_validation=True, json_body_deserializer=partial(json.loads, parse_float=Decimal)
    )

    def answer(status: Status, http_status: int, headers: dict[str, str] | None = None) -> Response[str]:
        """A request-level failure in the envelope of the route's API version."""
        v2 = app.current_event.path.startswith(V2_PREFIX)
        return json_response(v2_errors(status) if v2 else v11(status, success=False), http_status, headers)

    def bad_request(reason: str) -> Response[str]:
        metrics.add_metric(name="InvalidRequests", unit="Count", value=1)
        status = Status(RequestStatus.INVALID_INPUT.code, f"{RequestStatus.INVALID_INPUT.message}: {reason}")
        return answer(status, HTTPStatus.BAD_REQUEST)

    @app.exception_handler(InvalidInput)
    def invalid_input(error: InvalidInput) -> Response[str]:
        return bad_request(str(error))

    @app.exception_handler(RequestValidationError)
    def invalid_request(error: RequestValidationError) -> Response[str]:
        details = error.errors()
        if any(detail.get("type") == "json_invalid" for detail in details):
            return bad_request("the body is not JSON")
        return bad_request("; ".join(sorted({_reason(detail) for detail in details})) or "invalid request")

    @app.exception_handler(IdempotencyValidationError)
    def key_reused(_: IdempotencyValidationError) -> Response[str]:
        metrics.add_metric(name="IdempotencyKeyReused", unit="Count", value=1)
        return answer(RequestStatus.IDEMPOTENCY_KEY_REUSED, HTTPStatus.UNPROCESSABLE_ENTITY)

    @app.exception_handler(IdempotencyAlreadyInProgressError)
    def key_in_flight(_: IdempotencyAlreadyInProgressError) -> Response[str]:
        metrics.add_metric(name="IdempotencyKeyInFlight", unit="Count", value=1)
        return answer(RequestStatus.IDEMPOTENCY_KEY_IN_FLIGHT, HTTPStatus.CONFLICT, {"Retry-After": "1"})

    @app.exception_handler(Unauthenticated)
    def unauthenticated(_: Unauthenticated) -> Response[str]:
        metrics.add_metric(name="UnauthenticatedRequests", unit="Count", value=1)
        return answer(RequestStatus.UNAUTHORIZED, HTTPStatus.UNAUTHORIZED)

    @app.exception_handler(Exception)
    def unexpected(error: Exception) -> Response[str]:
        logger.exception("unexpected failure", extra={"error_type": type(error).__name__})
        metrics.add_metric(name="UnexpectedFailures", unit="Count", value=1)
        if app.current_event.path.startswith(V2_PREFIX):
            return answer(Item.PROCESSING_FAILED, HTTPStatus.INTERNAL_SERVER_ERROR)
        return json_response(failure_payload(Item.PROCESSING_FAILED), HTTPStatus.INTERNAL_SERVER_ERROR)

    @app.not_found
    def not_found(_: Exception) -> Response[str]:
        metrics.add_metric(name="InvalidRequests", unit="Count", value=1)
        return answer(RequestStatus.INCORRECT_RESOURCE, HTTPStatus.NOT_FOUND)

    return app


def _reason(detail: Any) -> str:
    """One validation error in words, naming the field: missing, invalid, or the rule it broke."""
    field = ".".join(str(part) for part in detail.get("loc", ())[1:])
    rule = str(detail.get("msg", "")).removeprefix("Value error, ")
    if not field:
        return rule  # a rule over the whole body
    if detail.get("type") == "missing":
        return f"{field} is required"
    if detail.get("type") == "value_error":
        return f"invalid {field}: {rule}"
    return f"invalid {field}"


def caller(app: APIGatewayRestResolver) -> Caller:
    context = app.current_event.request_context.authorizer.raw_event or {}
    try:
        return Caller.model_validate({name: context.get(name) for name in ("org_id", "till_id", "store_id")})
    except ValidationError:
        raise Unauthenticated from None


def lambda_entry(app: APIGatewayRestResolver) -> Callable[[dict[str, Any], LambdaContext], dict[str, Any]]:
    """The decorator stack of every HTTP entry point: correlation id from the API Gateway request, metrics
    flushed per invocation, a trace segment without the response (it holds customer data)."""

    @logger.inject_lambda_context(correlation_id_path=correlation_paths.API_GATEWAY_REST, clear_state=True)
    @metrics.log_metrics
    @tracer.capture_lambda_handler(capture_response=False)
    def handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
        response = app.resolve(event, context)
        # Capillary answers every call with a request tracking id; ours is API Gateway's request id.
        request_id = (event.get("requestContext") or {}).get("requestId") or context.aws_request_id
        response.setdefault("multiValueHeaders", {})["X-Cap-RequestID"] = [request_id]
        return response

    return handler


class Answer(NamedTuple):
    status_code: int
    payload: Any
    keep: bool = True
    """False when the request changed nothing and a retry may succeed (others were changing the same
    customer): such an answer is not kept for its Idempotency-Key, so a retry with the key runs again (as
    Stripe does)."""


class ItemResult(Protocol):
    @property
    def status(self) -> Status: ...

    @property
    def success(self) -> bool: ...


def worth_keeping(items: Sequence[ItemResult]) -> bool:
    """A multi-item answer is kept for its Idempotency-Key unless nothing succeeded and an item gave up
    because others kept changing its customer (521): then nothing was written, and a retry may succeed."""
    return any(item.success for item in items) or all(
        item.status != RequestStatus.CUSTOMER_LOCKED for item in items
    )


class _NotKept(Exception):
    def __init__(self, rendered: dict[str, Any]) -> None:
        super().__init__("not kept")
        self.rendered = rendered


def replayable(app: APIGatewayRestResolver, org_id: int, compute: Callable[[], Answer]) -> Response[str]:
    """The response `compute()` gives; with an `Idempotency-Key` header, the first kept response for that key,
    replayed byte for byte. The key is checked against the path and body: the same key on another endpoint or
    with another body is HTTP 422."""

    def rendered() -> dict[str, Any]:
        answer = compute()
        response = {"status_code": int(answer.status_code), "body": dumps(answer.payload)}
        if not answer.keep:
            raise _NotKept(response)  # the idempotency utility forgets the key when the function raises
        return response

    event = app.current_event
    key = event.headers.get(KEY_HEADER)
    try:
        if key is None:
            stored = rendered()
        else:
            stored = once(
                key,
                org_id,
                f"{event.http_method} {event.path}\n{event.body or ''}",
                app.lambda_context,
                rendered,
            )
    except _NotKept as not_kept:
        stored = not_kept.rendered
    return Response(stored["status_code"], JSON_CONTENT_TYPE, stored["body"])
