"""`Idempotency-Key` (Stripe's semantics) with Powertools' idempotency utility: the same key and the same
request replay the first response; the same key with another request is HTTP 422; while the first is still
in flight, HTTP 409. Keys are scoped by org and kept for 24 hours.

The persistence layer creates its DynamoDB client in its constructor, so it is built on first use, never at
import time. What is stored is the rendered response (status, content type and exact text, JSON or XML), so
a replay is the same bytes, decimals included.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from functools import cache
from typing import Any

from aws_lambda_powertools.event_handler import APIGatewayRestResolver, Response
from aws_lambda_powertools.utilities.idempotency import (
    DynamoDBPersistenceLayer,
    IdempotencyConfig,
    idempotent_function,
)
from aws_lambda_powertools.utilities.typing import LambdaContext

from points_core.api.negotiation import response_format
from points_core.api.parameters import IDEMPOTENCY_KEY_HEADER
from points_core.api.responses import Answer
from points_core.aws.clients import dynamodb_client
from points_core.aws.settings import get_settings
from points_core.capillary.formats import render
from points_core.capillary.json_renderer import JSON_CONTENT_TYPE
from points_core.domain.errors import InvalidInput

MAX_KEY_LENGTH = 255
KEEP_SECONDS = 24 * 60 * 60


@cache
def _persistence() -> DynamoDBPersistenceLayer:
    return DynamoDBPersistenceLayer(
        table_name=get_settings().idempotency_table, boto3_client=dynamodb_client()
    )


def once(
    key: str, org_id: int, body: str, context: LambdaContext, compute: Callable[[], dict[str, Any]]
) -> dict[str, Any]:
    """`compute()` the first time this key is seen with this body; its stored result afterwards."""
    key = key.strip()
    if not key or len(key) > MAX_KEY_LENGTH or any(ord(char) < 32 for char in key):
        raise InvalidInput(f"{IDEMPOTENCY_KEY_HEADER}: 1 to {MAX_KEY_LENGTH} printable characters")
    config = IdempotencyConfig(
        event_key_jmespath="key", payload_validation_jmespath="body", expires_after_seconds=KEEP_SECONDS
    )
    config.register_lambda_context(context)

    @idempotent_function(data_keyword_argument="request", persistence_store=_persistence(), config=config)
    def run(request: dict[str, str]) -> dict[str, Any]:
        return compute()

    return run(request={"key": f"{org_id}:{key}", "body": hashlib.sha256(body.encode()).hexdigest()})


class _NotKept(Exception):
    def __init__(self, rendered: dict[str, Any]) -> None:
        super().__init__("not kept")
        self.rendered = rendered


def replayable(
    app: APIGatewayRestResolver, org_id: int, key: str | None, compute: Callable[[], Answer]
) -> Response[str]:
    """The response `compute()` gives; with an `Idempotency-Key`, the first kept response for that key,
    replayed byte for byte. The key is checked against the method, path, query string, answer format and
    body: the same key on another endpoint or with another request is HTTP 422."""
    event = app.current_event
    wire_format = response_format(event)

    def rendered() -> dict[str, Any]:
        answer = compute()
        content_type, body = render(answer.payload, wire_format)
        response = {"status_code": int(answer.status_code), "content_type": content_type, "body": body}
        if not answer.keep:
            raise _NotKept(response)  # the idempotency utility forgets the key when the function raises
        return response

    try:
        if key is None:
            stored = rendered()
        else:
            query = sorted((event.multi_value_query_string_parameters or {}).items())
            request = f"{event.http_method} {event.path}\n{query}\n{wire_format}\n{event.body or ''}"
            stored = once(key, org_id, request, app.lambda_context, rendered)
    except _NotKept as not_kept:
        stored = not_kept.rendered
    # Answers stored before XML was offered are JSON.
    return Response(stored["status_code"], stored.get("content_type", JSON_CONTENT_TYPE), stored["body"])
