"""`Idempotency-Key` (Stripe's semantics) with Powertools' idempotency utility: the same key and the same
request replay the first response; the same key with another request is HTTP 422; while the first is still
in flight, HTTP 409. Keys are scoped by org and kept for 24 hours.

The persistence layer creates its DynamoDB client in its constructor, so it is built on first use, never at
import time. What is stored is the rendered response (status, content type and exact text, JSON or XML), so
a replay is the same bytes, decimals included.

Nothing stored for a key holds a validation code. The answer echoes each code the request gave; the route
names them in the payload by `withheld(index)`, never by value, and the text kept has a placeholder in
their place that no rendering can write (a NUL: JSON escapes one, XML replaces it). Every answer, the first
and each replay, is the kept text with the request's own codes put back, rendered as the renderer writes a
string: a replay's request is, by the fingerprint, the same request, so it gives the same codes, item for
item, and the replay is the first answer byte for byte. The fingerprint of a request that gives a code is
keyed with a server secret: a plain digest of a body that holds a 6-digit code would give the code to
whoever reads the table and tries them all. Any other request's is a plain digest, so a route that gives no
code (revert, reverse) never needs the secret, which its function may not read.
"""

from __future__ import annotations

import hashlib
import hmac
import re
import secrets
from collections.abc import Callable, Sequence
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
from points_core.aws.secrets import otp_secret
from points_core.aws.settings import get_settings
from points_core.capillary.formats import WireFormat, render
from points_core.capillary.json_renderer import JSON_CONTENT_TYPE
from points_core.domain.errors import InvalidInput

MAX_KEY_LENGTH = 255
KEEP_SECONDS = 24 * 60 * 60

# In a payload, per container: a random part keeps a caller's text from ever looking like one.
_MARKER = f"__withheld_{secrets.token_hex(8)}_"
_MARKER_PATTERN = re.compile(rf"{_MARKER}([0-9]+)__")
# In the text kept, read by any container: a NUL never comes out of either renderer.
_PLACEHOLDER_PATTERN = re.compile("\x00([0-9]+)\x00")
_FINGERPRINT_KEY_LABEL = b"points idempotency fingerprint"


def withheld(index: int) -> str:
    """What a payload says in place of the `index`-th withheld value of the request (see `replayable`)."""
    return f"{_MARKER}{index}__"


def _placeholders(text: str) -> str:
    return _MARKER_PATTERN.sub(lambda found: f"\x00{found[1]}\x00", text)


def _as_rendered(value: str, wire_format: WireFormat) -> str:
    """`value` as the renderer writes a string: each writes one the same way wherever it stands."""
    _, frame = render({"response": _MARKER}, wire_format)
    before, _, after = frame.partition(_MARKER)
    _, text = render({"response": value}, wire_format)
    return text[len(before) : len(text) - len(after)]


def _put_back(text: str, values: Sequence[str], wire_format: WireFormat) -> str:
    return _PLACEHOLDER_PATTERN.sub(lambda found: _as_rendered(values[int(found[1])], wire_format), text)


def _fingerprint(request: str, *, keyed: bool) -> str:
    """The request's digest; `keyed`, with a key derived from the server secret."""
    if not keyed:
        return hashlib.sha256(request.encode()).hexdigest()
    key = hmac.new(otp_secret(), _FINGERPRINT_KEY_LABEL, hashlib.sha256).digest()
    return hmac.new(key, request.encode(), hashlib.sha256).hexdigest()


@cache
def _persistence() -> DynamoDBPersistenceLayer:
    return DynamoDBPersistenceLayer(
        table_name=get_settings().idempotency_table, boto3_client=dynamodb_client()
    )


def once(
    key: str,
    org_id: int,
    body: str,
    context: LambdaContext,
    compute: Callable[[], dict[str, Any]],
    *,
    secret_bearing: bool = False,
) -> dict[str, Any]:
    """`compute()` the first time this key is seen with this body; its stored result afterwards.
    `secret_bearing`: the body holds a validation code, so its fingerprint is keyed."""
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

    return run(request={"key": f"{org_id}:{key}", "body": _fingerprint(body, keyed=secret_bearing)})


class _NotKept(Exception):
    def __init__(self, rendered: dict[str, Any]) -> None:
        super().__init__("not kept")
        self.rendered = rendered


def replayable(
    app: APIGatewayRestResolver,
    org_id: int,
    key: str | None,
    compute: Callable[[], Answer],
    withheld_values: Sequence[str] = (),
) -> Response[str]:
    """The response `compute()` gives; with an `Idempotency-Key`, the first kept response for that key,
    replayed byte for byte. The key is checked against the method, path, query string, answer format and
    body: the same key on another endpoint or with another request is HTTP 422. `withheld_values` are what
    the request gave that must never be kept (its validation codes, by item), each named in the payload by
    `withheld(index)`: the answer has them put back, the kept text never holds them."""
    event = app.current_event
    wire_format = response_format(event)

    def rendered() -> dict[str, Any]:
        answer = compute()
        content_type, body = render(answer.payload, wire_format)
        response = {
            "status_code": int(answer.status_code),
            "content_type": content_type,
            "body": _placeholders(body),
        }
        if not answer.keep:
            raise _NotKept(response)  # the idempotency utility forgets the key when the function raises
        return response

    try:
        if key is None:
            stored = rendered()
        else:
            query = sorted((event.multi_value_query_string_parameters or {}).items())
            request = f"{event.http_method} {event.path}\n{query}\n{wire_format}\n{event.body or ''}"
            bearing = any(withheld_values)
            stored = once(key, org_id, request, app.lambda_context, rendered, secret_bearing=bearing)
    except _NotKept as not_kept:
        stored = not_kept.rendered
    # Answers stored before XML was offered are JSON.
    content_type = stored.get("content_type", JSON_CONTENT_TYPE)
    return Response(
        stored["status_code"], content_type, _put_back(stored["body"], withheld_values, wire_format)
    )
