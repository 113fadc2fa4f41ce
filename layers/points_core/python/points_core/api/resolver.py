"""What every HTTP function shares: the resolver with the one mapping of errors to HTTP (each answered in the
format the request asked for, JSON or XML), the caller from the authorizer context, and the Lambda
entry-point decorator stack."""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping, Sequence
from decimal import Decimal
from functools import partial
from http import HTTPStatus
from typing import Any, TypeVar

from aws_lambda_powertools.event_handler import APIGatewayRestResolver, Response
from aws_lambda_powertools.event_handler.middlewares.openapi_validation import (
    OpenAPIRequestValidationMiddleware,
)
from aws_lambda_powertools.event_handler.openapi.exceptions import RequestValidationError
from aws_lambda_powertools.logging import correlation_paths
from aws_lambda_powertools.utilities.idempotency.exceptions import (
    IdempotencyAlreadyInProgressError,
    IdempotencyValidationError,
)
from aws_lambda_powertools.utilities.typing import LambdaContext
from pydantic import ValidationError

from points_core.api.negotiation import V2_PREFIX, V3_PREFIX, V11_PREFIX, read_body
from points_core.api.responses import respond
from points_core.aws.observability import logger, metrics, tracer
from points_core.capillary.envelope import v2_errors, v3_errors, v11
from points_core.domain.codes import Item, RequestStatus, Status
from points_core.domain.errors import InvalidInput, MissingAuthorizerContext, UnsupportedMediaType
from points_core.domain.models import Caller

Handler = TypeVar("Handler", bound=Callable[..., Any])

_REQUEST_FAILURES: dict[type[Exception], tuple[str, Status, HTTPStatus, dict[str, str] | None]] = {
    IdempotencyValidationError: (
        "IdempotencyKeyReused",
        RequestStatus.IDEMPOTENCY_KEY_REUSED,
        HTTPStatus.UNPROCESSABLE_ENTITY,
        None,
    ),
    IdempotencyAlreadyInProgressError: (
        "IdempotencyKeyInFlight",
        RequestStatus.IDEMPOTENCY_KEY_IN_FLIGHT,
        HTTPStatus.CONFLICT,
        {"Retry-After": "1"},
    ),
    MissingAuthorizerContext: (
        "UnauthenticatedRequests",
        RequestStatus.UNAUTHORIZED,
        HTTPStatus.UNAUTHORIZED,
        None,
    ),
}
"""Request-level failures of a known kind: the metric counted, the status answered, HTTP status, headers."""


def create_app(*, failure_payload: Callable[[Status], dict[str, Any]]) -> APIGatewayRestResolver:
    """A resolver whose errors all answer in the Capillary envelope: v1.1's, or v2's (`errors[]`) on a /v2/
    route. `failure_payload` renders a v1.1 endpoint's own item shape for an unexpected failure, so even a 500
    looks like the endpoint's normal response."""
    # Request bodies are read with exact decimals: points never pass through a float.
    app = APIGatewayRestResolver(
        enable_validation=True, json_body_deserializer=partial(json.loads, parse_float=Decimal)
    )
    app._request_validation_middleware = _RequestValidation()

    def answer(status: Status, http_status: int, headers: dict[str, str] | None = None) -> Response[str]:
        """A request-level failure in the envelope of the route's API version."""
        path = app.current_event.path
        if path.startswith(V3_PREFIX):
            payload = v3_errors(status)
        elif path.startswith(V2_PREFIX):
            payload = v2_errors(status)
        else:
            payload = v11(status, success=False)
        return respond(app, payload, http_status, headers)

    def bad_request(reason: str, kind: Status = RequestStatus.INVALID_INPUT) -> Response[str]:
        """Input refused as such: 400 (or 415 for the media type), the reason in the message."""
        metrics.add_metric(name="InvalidRequests", unit="Count", value=1)
        return answer(Status(kind.code, f"{kind.message}: {reason}"), kind.code)

    app.exception_handler(InvalidInput)(lambda error: bad_request(str(error)))
    app.exception_handler(RequestValidationError)(lambda error: bad_request(_reasons(error)))
    app.exception_handler(UnsupportedMediaType)(
        lambda error: bad_request(str(error), RequestStatus.UNSUPPORTED_MEDIA_TYPE)
    )

    @app.exception_handler(list(_REQUEST_FAILURES))
    def request_failure(error: Exception) -> Response[str]:
        kind = next(kind for kind in _REQUEST_FAILURES if isinstance(error, kind))
        metric, status, http_status, headers = _REQUEST_FAILURES[kind]
        metrics.add_metric(name=metric, unit="Count", value=1)
        return answer(status, http_status, headers)

    @app.exception_handler(Exception)
    def unexpected(error: Exception) -> Response[str]:
        logger.exception("unexpected failure", extra={"error_type": type(error).__name__})
        metrics.add_metric(name="UnexpectedFailures", unit="Count", value=1)
        if app.current_event.path.startswith((V2_PREFIX, V3_PREFIX)):
            return answer(Item.PROCESSING_FAILED, HTTPStatus.INTERNAL_SERVER_ERROR)
        return respond(app, failure_payload(Item.PROCESSING_FAILED), HTTPStatus.INTERNAL_SERVER_ERROR)

    @app.not_found
    def not_found(_: Exception) -> Response[str]:
        metrics.add_metric(name="InvalidRequests", unit="Count", value=1)
        allowed = methods_answered(app, app.current_event.path)
        if allowed:
            # A path of this function in another method (template.yaml routes each path's ANY here too).
            allow = {"Allow": ", ".join(allowed)}
            return answer(RequestStatus.INCORRECT_METHOD, HTTPStatus.METHOD_NOT_ALLOWED, allow)
        return answer(RequestStatus.INCORRECT_RESOURCE, HTTPStatus.NOT_FOUND)

    return app


def route(
    app: APIGatewayRestResolver, method: str, path: str, **openapi: Any
) -> Callable[[Handler], Handler]:
    """Register a route, documented once under its API version's tag; a v1.1 route also answers at its `.json`
    and `.xml` twins (the method suffix names the format, as in Capillary's `/points/isredeemable.json`)."""
    tags = {V11_PREFIX: "points v1.1", V2_PREFIX: "points v2", V3_PREFIX: "oauth v3"}
    tag = next((name for prefix, name in tags.items() if path.startswith(prefix)), "points v2")

    def register(function: Handler) -> Handler:
        app.route(path, method, tags=[tag], **openapi)(function)
        if path.startswith(V11_PREFIX):
            for suffix in (".json", ".xml"):
                app.route(f"{path}{suffix}", method, include_in_schema=False)(function)
        return function

    return register


def methods_answered(app: APIGatewayRestResolver, path: str) -> list[str]:
    """The methods the resolver answers at `path`, sorted (none: not one of its paths)."""
    routes = app._static_routes + app._dynamic_routes
    return sorted({route.method.upper() for route in routes if route.rule.match(path)})


class _RequestValidation(OpenAPIRequestValidationMiddleware):
    """Powertools' request validation, with the body read as Capillary's clients send it: JSON or XML, the
    media type matched without regard to case or parameters, anything else 415 (Powertools reads only a
    lowercase `application/json` and answers anything else itself, outside the envelope). A repeated query
    parameter is refused first (400)."""

    def handler(self, app: Any, next_middleware: Any) -> Any:
        # Before Powertools reads any parameter: it keeps one value of a repeated one, or fails on the list.
        _refuse_repeated(app.current_event.multi_value_query_string_parameters)
        return super().handler(app, next_middleware)

    def _get_body(self, app: Any) -> Any:
        return read_body(app.current_event)


def _refuse_repeated(multi_value: Mapping[str, Sequence[str]] | None) -> None:
    """A query parameter given more than once is invalid input (400) naming it, whichever it is: API
    Gateway's single-value map keeps its last value while a model reads the first, so no one value is surely
    the one the client meant (`mobile=1&mobile=2` would check one customer and answer for another)."""
    repeated = sorted(name for name, values in (multi_value or {}).items() if len(values) > 1)
    if repeated:
        raise InvalidInput(f"{repeated[0][:100]} is given more than once")


def _reasons(error: RequestValidationError) -> str:
    details = error.errors()
    kept = [detail for detail in details if not (_other_member(detail) and _explained(detail, details))]
    return "; ".join(sorted({_reason(detail) for detail in kept})) or "invalid request"


# What Pydantic reports for a value of another type altogether (an object for a list, or the reverse).
_NOT_THIS_TYPE = frozenset({"model_type", "model_attributes_type", "dict_type", "list_type"})


def _is_member(part: Any) -> bool:
    """A union member's tag in an error location (`BodyItem`, `list[BodyItem]`), not a field name: no body
    field of ours is capitalized or has brackets."""
    return isinstance(part, str) and (part[:1].isupper() or "[" in part)


def _other_member(detail: Any) -> bool:
    """The value is not of this union member at all (an object where the member is a list, or the reverse)."""
    loc = detail.get("loc", ())
    return detail.get("type") in _NOT_THIS_TYPE and bool(loc) and _is_member(loc[-1])


def _explained(detail: Any, details: Sequence[Any]) -> bool:
    """Another error inside the same union says what is wrong with the member the value is: `root.redeem`
    is one item or a list, and only the one sent is reported."""
    union = tuple(detail["loc"][:-1])
    return any(
        tuple(other.get("loc", ()))[: len(union)] == union and not _other_member(other) for other in details
    )


def _reason(detail: Any) -> str:
    """One validation error in words, naming the field: missing, invalid, too long, or the rule it broke."""
    field = ".".join(str(part) for part in detail.get("loc", ())[1:] if not _is_member(part))
    rule = str(detail.get("msg", "")).removeprefix("Value error, ")
    if not field:
        return rule  # a rule over the whole body
    kind = detail.get("type")
    if kind == "missing":
        return f"{field} is required"
    if kind == "value_error":
        return f"invalid {field}: {rule}"
    bound = (detail.get("ctx") or {}).get("max_length")
    if kind in ("string_too_long", "too_long") and isinstance(bound, int):
        unit = "characters" if kind == "string_too_long" else "items"
        return f"invalid {field}: at most {bound:,} {unit}"
    return f"invalid {field}"


def caller(app: APIGatewayRestResolver) -> Caller:
    """The till the authorizer recognised; its org and till are appended to every log line from here on."""
    context = app.current_event.request_context.authorizer.raw_event or {}
    try:
        who = Caller.model_validate({name: context.get(name) for name in ("org_id", "till_id", "store_id")})
    except ValidationError:
        raise MissingAuthorizerContext from None
    logger.append_keys(org_id=who.org_id, till_id=who.till_id)
    return who


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
