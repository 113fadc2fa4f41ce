"""What a route answers: the HTTP status of an outcome (decided here, nowhere else) and the response, rendered
in the format the request asked for."""

from __future__ import annotations

from collections.abc import Sequence
from http import HTTPStatus
from typing import Any, NamedTuple, Protocol

from aws_lambda_powertools.event_handler import APIGatewayRestResolver, Response

from points_core.api.negotiation import response_format
from points_core.capillary.formats import render
from points_core.domain.codes import Otp, RequestStatus, Status


class Outcome(Protocol):
    """What a use case came to: its code, and whether it succeeded."""

    @property
    def status(self) -> Status: ...

    @property
    def success(self) -> bool: ...


def http_status(*outcomes: Outcome, v2_refusal: int | None = None) -> HTTPStatus:
    """v1.1 answers HTTP 200 with each outcome in its `item_status` (as Capillary's clients expect), except a
    send limit: 429. v2 (`v2_refusal` given: the org's choice) answers 200 when it succeeded, 409 when others
    kept changing the customer's points (521: retry), and `v2_refusal` for any other refusal: 200 by default
    (real clients, Capillary's own dataflow among them, read `errors[]` only from a 2xx) or 400."""
    if any(outcome.status == Otp.RATE_LIMITED for outcome in outcomes):
        return HTTPStatus.TOO_MANY_REQUESTS
    if v2_refusal is None or all(outcome.success for outcome in outcomes):
        return HTTPStatus.OK
    if any(outcome.status == RequestStatus.CUSTOMER_LOCKED for outcome in outcomes):
        return HTTPStatus.CONFLICT
    return HTTPStatus(v2_refusal)


def respond(
    app: APIGatewayRestResolver,
    payload: Any,
    status_code: int = HTTPStatus.OK,
    headers: dict[str, str] | None = None,
) -> Response[str]:
    """The payload in the format the current request is answered in (JSON or XML)."""
    content_type, body = render(payload, response_format(app.current_event))
    return Response(status_code=status_code, content_type=content_type, body=body, headers=headers)


def answered(
    app: APIGatewayRestResolver, payload: Any, outcome: Outcome, retry_after: int | None = None
) -> Response[str]:
    """A GET's answer, with `Retry-After` when a limit refused it."""
    headers = {"Retry-After": str(retry_after)} if retry_after is not None else None
    return respond(app, payload, http_status(outcome), headers)


class Answer(NamedTuple):
    status_code: int
    payload: Any
    keep: bool = True
    """False when the request changed nothing and a retry may succeed (others were changing the same
    customer): such an answer is not kept for its Idempotency-Key, so a retry with the key runs again (as
    Stripe does)."""


def worth_keeping(items: Sequence[Outcome]) -> bool:
    """An answer is kept for its Idempotency-Key unless nothing succeeded and an item gave up because others
    kept changing its customer (521): then nothing was written, and a retry may succeed."""
    return any(item.success for item in items) or all(
        item.status != RequestStatus.CUSTOMER_LOCKED for item in items
    )
