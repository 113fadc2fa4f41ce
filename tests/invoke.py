"""Calling a function's handler as Lambda does: with an event and a context, in-process."""

from __future__ import annotations

import importlib
import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from decimal import Decimal
from types import ModuleType
from typing import Any

from tests.factories import api_event
from tests.http_json import parsed


@dataclass
class LambdaContext:
    function_name: str = "test-function"
    function_version: str = "$LATEST"
    memory_limit_in_mb: int = 512
    invoked_function_arn: str = "arn:aws:lambda:eu-west-1:123456789012:function:test-function"
    aws_request_id: str = "00000000-0000-0000-0000-000000000000"
    log_group_name: str = "/aws/lambda/test-function"
    log_stream_name: str = "test"

    def get_remaining_time_in_millis(self) -> int:
        return 10_000


def function_module(name: str) -> ModuleType:
    """A function's `app` module, as template.yaml's CodeUri + Handler name it."""
    return importlib.import_module(f"functions.{name}.app")


def invoke(function: str, event: dict[str, Any]) -> Any:
    """What a function's handler returns for `event`, called as Lambda calls it."""
    return function_module(function).lambda_handler(event, LambdaContext())


@dataclass(frozen=True)
class ApiAnswer:
    """A function's answer to an API Gateway proxy event."""

    status: int
    body: Any
    """The JSON body, numbers with a fraction as Decimal; or an XML body's document element."""
    text: str
    """The body as sent, for byte-for-byte comparisons."""
    headers: dict[str, list[str]]
    """Every value of each response header (multiValueHeaders)."""
    event: dict[str, Any] = field(repr=False)
    """The request event it answered."""

    def header(self, name: str) -> str:
        """The last value of a response header."""
        return self.headers[name][-1]


def call_api(
    function: str,
    method: str,
    path: str,
    query: Mapping[str, str | list[str]] | None = None,
    *,
    body: Any = None,
    authorizer: dict[str, str] | None = None,
    headers: Mapping[str, str | None] | None = None,
) -> ApiAnswer:
    """Invoke `function` (its folder under functions/) with the proxy event of this request; a `body` that is
    not a string is sent as its JSON."""
    text = body if body is None or isinstance(body, str) else json.dumps(body)
    event = api_event(method, path, query, body=text, authorizer=authorizer, headers=headers)
    response = invoke(function, event)
    return ApiAnswer(
        status=response["statusCode"],
        body=parsed(response["body"], _content_type(response), Decimal),
        text=response["body"],
        headers=response.get("multiValueHeaders", {}),
        event=event,
    )


def _content_type(response: dict[str, Any]) -> str | None:
    multi = (response.get("multiValueHeaders") or {}).get("Content-Type")
    return multi[-1] if multi else (response.get("headers") or {}).get("Content-Type")
