"""`Idempotency-Key` (Stripe's semantics) with Powertools' idempotency utility: the same key and the same body
replay the first response; the same key with another body is HTTP 422; while the first is still in flight,
HTTP 409. Keys are scoped by org and kept for 24 hours.

The persistence layer creates its DynamoDB client in its constructor, so it is built on first use, never at
import time. What is stored is the rendered response (status and exact JSON text), so a replay is the same
bytes, decimals included.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from functools import cache
from typing import Any

from aws_lambda_powertools.utilities.idempotency import (
    DynamoDBPersistenceLayer,
    IdempotencyConfig,
    idempotent_function,
)
from aws_lambda_powertools.utilities.typing import LambdaContext

from points_core.aws.clients import dynamodb_client
from points_core.aws.settings import get_settings
from points_core.domain.errors import InvalidInput

KEY_HEADER = "Idempotency-Key"
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
        raise InvalidInput(f"{KEY_HEADER}: 1 to {MAX_KEY_LENGTH} printable characters")
    config = IdempotencyConfig(
        event_key_jmespath="key", payload_validation_jmespath="body", expires_after_seconds=KEEP_SECONDS
    )
    config.register_lambda_context(context)

    @idempotent_function(data_keyword_argument="request", persistence_store=_persistence(), config=config)
    def run(request: dict[str, str]) -> dict[str, Any]:
        return compute()

    return run(request={"key": f"{org_id}:{key}", "body": hashlib.sha256(body.encode()).hexdigest()})
