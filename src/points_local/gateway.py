"""The local API Gateway: REST API routing, the Lambda REQUEST authorizer, API keys and the usage plan's
throttle, proxy events and gateway responses.

`Gateway.handle` turns one HTTP request into what API Gateway would answer, given a way to invoke
functions; `GatewayServer` puts it on a loopback port.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import json
import logging
import re
import socket
import sys
import threading
import time
import uuid
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, Protocol
from urllib.parse import parse_qsl, urlsplit

from points_local.functions import InvocationResult, PoolStopped
from points_local.template import (
    ACCOUNT_ID,
    ApiSpec,
    AuthorizerSpec,
    ContextVariable,
    GatewayResponse,
    Route,
    UsagePlanSpec,
    as_text,
)

logger = logging.getLogger("points_local.gateway")

Invoke = Callable[[str, Mapping[str, Any]], InvocationResult]

# API Gateway's own status and `$context.error.message` for the response types the local gateway produces.
_RESPONSE_TYPES: Mapping[str, tuple[int, str | None]] = {
    "ACCESS_DENIED": (403, "User is not authorized to access this resource"),
    "AUTHORIZER_CONFIGURATION_ERROR": (500, None),
    "AUTHORIZER_FAILURE": (500, None),
    "INTEGRATION_TIMEOUT": (504, "Endpoint request timed out"),
    "INVALID_API_KEY": (403, "Forbidden"),
    "MISSING_AUTHENTICATION_TOKEN": (403, "Missing Authentication Token"),
    "THROTTLED": (429, "Too Many Requests"),
    "UNAUTHORIZED": (401, "Unauthorized"),
}
# What API Gateway answers when a Lambda proxy integration fails or returns a malformed response.
_INTEGRATION_ERROR_STATUS = 502
_INTEGRATION_ERROR_MESSAGE = "Internal server error"
# API Gateway's body when a response type has no template of its own.
_DEFAULT_TEMPLATE = '{"message":$context.error.messageString}'
_DEFAULT_CONTENT_TYPE = "application/json"
# `$context.<variable>` in a gateway response template (simple substitution, no VTL).
_CONTEXT_REFERENCE = re.compile(r"\$context\.([A-Za-z]+(?:\.[A-Za-z]+)*)")
# The message a Lambda authorizer raises to have API Gateway answer 401.
_UNAUTHORIZED_ERROR = "Unauthorized"
_PROXY_RESPONSE_KEYS = frozenset({"statusCode", "headers", "multiValueHeaders", "body", "isBase64Encoded"})
_SURROGATE = re.compile("[\ud800-\udfff]")
# Authorizer results for distinct identities are kept until this many, then expired ones are dropped.
_AUTHORIZER_CACHE_SWEEP_SIZE = 1024
# Where a client gives its API key when the API's key source is HEADER.
_API_KEY_HEADER = "x-api-key"


class ApiKeys(Protocol):
    """The API keys of the API's usage plan (API Gateway's control plane)."""

    def is_valid(self, value: str) -> bool:
        """Whether `value` is the value of an enabled API key in the usage plan."""
        ...


@dataclass(frozen=True)
class HttpRequest:
    method: str
    target: str  # path and query string, as on the request line
    headers: list[tuple[str, str]]
    body: bytes
    source_ip: str
    server_port: int


@dataclass(frozen=True)
class HttpResponse:
    status: int
    headers: list[tuple[str, str]]
    body: bytes


class _Rejection(Exception):
    """Ends a request with a gateway response."""

    def __init__(self, response_type: str, message: str | None = None) -> None:
        super().__init__(response_type)
        self.response_type = response_type
        self.message = message


@dataclass(frozen=True)
class _Matched:
    route: Route
    path_parameters: dict[str, str]


def _segments(path: str) -> list[str]:
    return [] if path == "/" else path[1:].split("/")


def _match(template: list[str], actual: list[str]) -> tuple[tuple[int, ...], dict[str, str]] | None:
    """Path parameters and a rank (literal < {param} < {greedy+}, position by position) if `actual` fits."""
    rank: list[int] = []
    parameters: dict[str, str] = {}
    for position, segment in enumerate(template):
        if segment.startswith("{") and segment.endswith("+}"):
            rest = actual[position:]
            if not rest or not any(rest):
                return None
            parameters[segment[1:-2]] = "/".join(rest)
            return (*rank, 2), parameters
        if position >= len(actual):
            return None
        if segment.startswith("{") and segment.endswith("}"):
            if not actual[position]:
                return None
            parameters[segment[1:-1]] = actual[position]
            rank.append(1)
        elif segment == actual[position]:
            rank.append(0)
        else:
            return None
    if len(actual) != len(template):
        return None
    return tuple(rank), parameters


class _RouteTable:
    """API Gateway picks the most specific resource first and only then looks for the method."""

    def __init__(self, routes: tuple[Route, ...]) -> None:
        self._resources: dict[str, dict[str, Route]] = {}
        for route in routes:
            self._resources.setdefault(route.path, {})[route.method] = route

    def find(self, method: str, path: str) -> _Matched:
        actual = _segments(path)
        candidates = []
        for resource_path, methods in self._resources.items():
            matched = _match(_segments(resource_path), actual)
            if matched is not None:
                candidates.append((matched[0], matched[1], methods))
        if not candidates:
            raise _Rejection("MISSING_AUTHENTICATION_TOKEN")
        _, parameters, methods = min(candidates, key=lambda candidate: candidate[0])
        route = methods.get(method) or methods.get("ANY")
        if route is None:
            raise _Rejection("MISSING_AUTHENTICATION_TOKEN")
        return _Matched(route, parameters)


def _action_matches(pattern: str) -> bool:
    return re.fullmatch(_wildcard(pattern.lower()), "execute-api:invoke") is not None


def _wildcard(pattern: str) -> str:
    return ".*".join(".".join(re.escape(part) for part in piece.split("?")) for piece in pattern.split("*"))


def _as_list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else [value]


def policy_decision(policy: Any, method_arn: str) -> str:
    """The decision on `execute-api:Invoke` for `method_arn`: "Allow", "Deny" (explicit) or "" (none)."""
    if not isinstance(policy, dict) or not isinstance(policy.get("Statement"), (list, dict)):
        raise _Rejection("AUTHORIZER_CONFIGURATION_ERROR")
    decision = ""
    for statement in _as_list(policy["Statement"]):
        if not isinstance(statement, dict):
            raise _Rejection("AUTHORIZER_CONFIGURATION_ERROR")
        actions = [str(action) for action in _as_list(statement.get("Action", []))]
        resources = [str(resource) for resource in _as_list(statement.get("Resource", []))]
        if not any(_action_matches(action) for action in actions):
            continue
        if not any(re.fullmatch(_wildcard(resource), method_arn) for resource in resources):
            continue
        if statement.get("Effect") == "Deny":
            return "Deny"
        if statement.get("Effect") == "Allow":
            decision = "Allow"
    return decision


def _multi(pairs: list[tuple[str, str]]) -> dict[str, list[str]] | None:
    grouped: dict[str, list[str]] = {}
    for name, value in pairs:
        grouped.setdefault(name, []).append(value)
    return grouped or None


def _last(grouped: dict[str, list[str]] | None) -> dict[str, str] | None:
    return {name: values[-1] for name, values in grouped.items()} if grouped else None


class _Throttle:
    """A usage plan's throttle, as API Gateway applies it: a token bucket per API key, `burst_limit` tokens
    deep and full at first, refilled at `rate_limit` tokens a second; a request takes one or is refused."""

    def __init__(self, plan: UsagePlanSpec, monotonic: Callable[[], float] = time.monotonic) -> None:
        self._rate = plan.rate_limit
        self._burst = float(plan.burst_limit or 0)
        self._monotonic = monotonic
        self._buckets: dict[str, tuple[float, float]] = {}  # key -> (tokens, when counted)
        self._lock = threading.Lock()

    def admits(self, key: str) -> bool:
        if self._rate is None:
            return True
        now = self._monotonic()
        with self._lock:
            tokens, counted = self._buckets.get(key, (self._burst, now))
            tokens = min(self._burst, tokens + (now - counted) * self._rate)
            admitted = tokens >= 1
            self._buckets[key] = (tokens - 1 if admitted else tokens, now)
        return admitted


class _AuthorizerCache:
    """API Gateway's authorizer cache: output per identity, its policy re-evaluated for each method ARN."""

    def __init__(self) -> None:
        self._entries: dict[tuple[str, ...], tuple[float, dict[str, Any]]] = {}
        self._lock = threading.Lock()

    def get(self, key: tuple[str, ...]) -> dict[str, Any] | None:
        with self._lock:
            entry = self._entries.get(key)
        if entry is None or entry[0] <= time.monotonic():
            return None
        return entry[1]

    def put(self, key: tuple[str, ...], output: dict[str, Any], ttl_seconds: int) -> None:
        now = time.monotonic()
        with self._lock:
            if len(self._entries) >= _AUTHORIZER_CACHE_SWEEP_SIZE:
                self._entries = {cached: entry for cached, entry in self._entries.items() if entry[0] > now}
            self._entries[key] = (now + ttl_seconds, output)


def accepted_media_types(accept: str) -> list[str]:
    """The media types an `Accept` header value names, most preferred first: by q-value, then as listed.

    Only the media type counts (lower case, parameters other than q dropped); q=0, or a q that is not a
    number from 0 to 1, leaves the entry out.
    """
    ranked: list[tuple[float, str]] = []
    for entry in accept.split(","):
        media_type, *parameters = (part.strip() for part in entry.split(";"))
        quality = 1.0
        for parameter in parameters:
            key, _, value = parameter.partition("=")
            if key.strip().lower() == "q":
                try:
                    quality = float(value)
                except ValueError:
                    quality = 0.0
        if media_type and 0 < quality <= 1:
            ranked.append((quality, media_type.lower()))
    ranked.sort(key=lambda item: -item[0])  # stable: equal q-values keep the order they were listed in
    return [media_type for _, media_type in ranked]


def gateway_response_content_type(templates: Mapping[str, str], accept: str) -> str | None:
    """The template a gateway response answers with, by its content type (None when there is none).

    As API Gateway selects a response mapping template: the first media type the `Accept` header lists
    (q-values respected) that has a template, else application/json when it has one, else the first
    template. Wildcards (`*/*`, `application/*`) name no template.
    """
    by_media_type = {content_type.split(";")[0].strip().lower(): content_type for content_type in templates}
    for media_type in accepted_media_types(accept):
        if media_type in by_media_type:
            return by_media_type[media_type]
    return by_media_type.get(_DEFAULT_CONTENT_TYPE, next(iter(templates), None))


def rest_api_id(logical_id: str) -> str:
    """A stable, API Gateway-shaped id (10 lowercase characters) for an API: what `!Ref` of it gives."""
    return hashlib.sha256(logical_id.encode()).hexdigest()[:10]


class Gateway:
    """What API Gateway does between the client and the functions, for one REST API."""

    def __init__(
        self,
        api: ApiSpec,
        invoke: Invoke,
        *,
        region: str,
        api_keys: ApiKeys | None = None,
        monotonic: Callable[[], float] = time.monotonic,
    ) -> None:
        """`api_keys` are the usage plan's keys: without them, a route that requires a key refuses every
        request (403), as API Gateway does for a key in no usage plan."""
        self.api = api
        self.region = region
        self.rest_api_id = rest_api_id(api.logical_id)
        self._invoke = invoke
        self._routes = _RouteTable(api.routes)
        self._authorizer_cache = _AuthorizerCache()
        self._api_keys = api_keys
        self._throttle = None if api.usage_plan is None else _Throttle(api.usage_plan, monotonic)

    def handle(self, request: HttpRequest) -> HttpResponse:
        request_id = str(uuid.uuid4())
        accept = ", ".join(value for name, value in request.headers if name.lower() == "accept")
        try:
            return self._handle(request, request_id, accept)
        except _Rejection as rejection:
            return self.gateway_response(
                rejection.response_type, request_id, rejection.message, accept=accept
            )
        except PoolStopped:  # a request on a kept-alive connection while the stack shuts down
            return self._integration_error(request_id, accept)

    def gateway_response(
        self,
        response_type: str,
        request_id: str,
        message: str | None = None,
        status: int | None = None,
        *,
        accept: str = "",
    ) -> HttpResponse:
        """A response of one type, customised by the API's GatewayResponses as API Gateway does it.

        An unconfigured type falls back to DEFAULT_4XX or DEFAULT_5XX; a status code set on those applies
        to every response of their family that does not set its own, and their headers to every response of
        their family that does not set a header of the same name. The body template is chosen by the
        request's `accept` header (see `gateway_response_content_type`); header values mapped from
        `context.<variable>` and `$context.<variable>` in the template are this request's.
        """
        default_status, default_message = _RESPONSE_TYPES.get(response_type, (status or 500, None))
        status = status or default_status
        message = default_message if message is None else message
        empty = GatewayResponse(status_code=None, headers={}, templates={})
        family = self.api.gateway_responses.get("DEFAULT_5XX" if status >= 500 else "DEFAULT_4XX", empty)
        specific = self.api.gateway_responses.get(response_type, empty)
        status = specific.status_code or family.status_code or status
        templates = specific.templates or family.templates
        context = {
            "apiId": self.rest_api_id,
            "error.message": "" if message is None else message,
            "error.messageString": json.dumps(message),
            "error.responseType": response_type,
            "extendedRequestId": request_id,
            "requestId": request_id,
            "stage": self.api.stage,
        }
        # Header names are case-insensitive: a type's own header replaces its family's of the same name.
        mapped = {name.lower(): (name, value) for name, value in family.headers.items()}
        mapped |= {name.lower(): (name, value) for name, value in specific.headers.items()}
        headers = [
            (name, context[value.name] if isinstance(value, ContextVariable) else value)
            for name, value in mapped.values()
        ]
        content_type = gateway_response_content_type(templates, accept)
        body = _CONTEXT_REFERENCE.sub(
            lambda match: context.get(match.group(1), match.group(0)),
            _DEFAULT_TEMPLATE if content_type is None else templates[content_type],
        )
        return HttpResponse(
            status,
            [
                ("Content-Type", content_type or _DEFAULT_CONTENT_TYPE),
                *headers,
                ("x-amzn-RequestId", request_id),
            ],
            body.encode(),
        )

    def _handle(self, request: HttpRequest, request_id: str, accept: str) -> HttpResponse:
        target = urlsplit(request.target)
        path = target.path or "/"
        matched = self._routes.find(request.method, path)
        event = self._proxy_event(request, matched, path, target.query, request_id)
        usage_identifier_key = None
        if matched.route.authorizer is not None:
            authorizer = self.api.authorizers[matched.route.authorizer]
            event["requestContext"]["authorizer"], usage_identifier_key = self._authorize(authorizer, event)
        if matched.route.api_key_required:
            self._meter(event, usage_identifier_key)
        result = self._invoke(matched.route.function_id, event)
        return self._integration_response(matched.route, result, request_id, accept)

    def _proxy_event(
        self, request: HttpRequest, matched: _Matched, path: str, query: str, request_id: str
    ) -> dict[str, Any]:
        """An API Gateway REST proxy (payload v1) event; `path` and path parameters stay percent-encoded."""
        headers = list(request.headers)
        forwarded = [value for name, value in headers if name.lower() == "x-forwarded-for"]
        headers = [(name, value) for name, value in headers if name.lower() != "x-forwarded-for"]
        headers.append(("X-Forwarded-For", ", ".join([*forwarded, request.source_ip])))
        headers.append(("X-Forwarded-Port", str(request.server_port)))
        headers.append(("X-Forwarded-Proto", "http"))
        multi_headers = _multi(headers)
        multi_query = _multi(parse_qsl(query, keep_blank_values=True))
        user_agent = next((value for name, value in headers if name.lower() == "user-agent"), None)
        host = next((value for name, value in headers if name.lower() == "host"), "")
        now = datetime.now(UTC)
        return {
            "resource": matched.route.path,
            "path": path,
            "httpMethod": request.method,
            "headers": _last(multi_headers),
            "multiValueHeaders": multi_headers,
            "queryStringParameters": _last(multi_query),
            "multiValueQueryStringParameters": multi_query,
            "pathParameters": matched.path_parameters or None,
            "stageVariables": dict(self.api.stage_variables) if self.api.stage_variables else None,
            "requestContext": {
                "resourceId": hashlib.sha256(matched.route.path.encode()).hexdigest()[:6],
                "resourcePath": matched.route.path,
                "httpMethod": request.method,
                "extendedRequestId": request_id,
                "requestTime": now.strftime("%d/%b/%Y:%H:%M:%S +0000"),
                "path": f"/{self.api.stage}{path}",
                "accountId": ACCOUNT_ID,
                "protocol": "HTTP/1.1",
                "stage": self.api.stage,
                "domainPrefix": host.split(".")[0],
                "requestTimeEpoch": int(now.timestamp() * 1000),
                "requestId": request_id,
                "identity": {
                    "cognitoIdentityPoolId": None,
                    "accountId": None,
                    "cognitoIdentityId": None,
                    "caller": None,
                    "sourceIp": request.source_ip,
                    "principalOrgId": None,
                    "accessKey": None,
                    "cognitoAuthenticationType": None,
                    "cognitoAuthenticationProvider": None,
                    "userArn": None,
                    "userAgent": user_agent,
                    "user": None,
                },
                "domainName": host,
                "apiId": self.rest_api_id,
            },
            "body": request.body.decode("utf-8", errors="replace") if request.body else None,
            "isBase64Encoded": False,
        }

    def _meter(self, event: dict[str, Any], usage_identifier_key: str | None) -> None:
        """A route that requires an API key: the key (the authorizer's, or the X-API-Key header's, by the
        API's key source) must be an enabled key of the usage plan (else 403), within its throttle (else 429).
        """
        if self.api.api_key_source == "AUTHORIZER":
            key = usage_identifier_key
        else:
            headers = {name.lower(): value for name, value in (event["headers"] or {}).items()}
            key = headers.get(_API_KEY_HEADER)
        if not key or self._api_keys is None or not self._api_keys.is_valid(key):
            raise _Rejection("INVALID_API_KEY")
        if self._throttle is not None and not self._throttle.admits(key):
            raise _Rejection("THROTTLED")

    def _authorize(
        self, authorizer: AuthorizerSpec, event: dict[str, Any]
    ) -> tuple[dict[str, Any], str | None]:
        """The `requestContext.authorizer` for an allowed request, and the authorizer's `usageIdentifierKey`
        (None when it gave none); raises _Rejection otherwise."""
        headers = {name.lower(): value for name, value in (event["headers"] or {}).items()}
        query = event["queryStringParameters"] or {}
        identity = [headers.get(name.lower(), "") for name in authorizer.identity_headers]
        identity += [query.get(name, "") for name in authorizer.identity_query_strings]
        if not all(identity):
            raise _Rejection("UNAUTHORIZED")  # API Gateway does not call the authorizer without its identity
        method_arn = (
            f"arn:aws:execute-api:{self.region}:{ACCOUNT_ID}:{self.rest_api_id}/{self.api.stage}/"
            f"{event['httpMethod']}/{event['path'].removeprefix('/')}"
        )
        cache_key = (authorizer.name, *identity)
        output = self._authorizer_cache.get(cache_key) if authorizer.ttl_seconds > 0 else None
        latency_ms = 0
        if output is None:
            authorizer_event = {
                key: value for key, value in event.items() if key not in {"body", "isBase64Encoded"}
            }
            result = self._invoke(
                authorizer.function_id, {"type": "REQUEST", "methodArn": method_arn, **authorizer_event}
            )
            latency_ms = round(result.duration_ms)
            output = self._authorizer_output(authorizer, result)
            if authorizer.ttl_seconds > 0:
                self._authorizer_cache.put(cache_key, output, authorizer.ttl_seconds)
        decision = policy_decision(output["policyDocument"], method_arn)
        if decision == "Deny":
            raise _Rejection(
                "ACCESS_DENIED", "User is not authorized to access this resource with an explicit deny"
            )
        if decision != "Allow":
            raise _Rejection("ACCESS_DENIED")
        # A REST API hands the authorizer's context to the integration with every value as a string.
        context = {
            name: as_text(value) for name, value in (output.get("context") or {}).items() if value is not None
        }
        authorizer_context = {
            **context,
            "principalId": output["principalId"],
            "integrationLatency": latency_ms,
        }
        return authorizer_context, output.get("usageIdentifierKey")

    @staticmethod
    def _authorizer_output(authorizer: AuthorizerSpec, result: InvocationResult) -> dict[str, Any]:
        if result.error is not None:
            if result.error.get("errorMessage") == _UNAUTHORIZED_ERROR:
                raise _Rejection("UNAUTHORIZED")
            logger.warning("authorizer %s failed: %s", authorizer.name, result.error.get("errorMessage"))
            raise _Rejection("AUTHORIZER_FAILURE")
        output = result.payload
        context = output.get("context") if isinstance(output, dict) else None
        if (
            not isinstance(output, dict)
            or "principalId" not in output
            or "policyDocument" not in output
            or (context is not None and not isinstance(context, dict))
            or any(isinstance(value, (dict, list)) for value in (context or {}).values())
            or not isinstance(output.get("usageIdentifierKey", ""), str)
        ):
            logger.warning("authorizer %s returned an invalid result: %r", authorizer.name, output)
            raise _Rejection("AUTHORIZER_CONFIGURATION_ERROR")
        return output

    def _integration_response(
        self, route: Route, result: InvocationResult, request_id: str, accept: str
    ) -> HttpResponse:
        if result.timed_out:
            logger.warning("%s timed out", route.function_id)
            return self.gateway_response("INTEGRATION_TIMEOUT", request_id, accept=accept)
        if result.error is not None:
            logger.warning("%s failed: %s", route.function_id, result.error.get("errorMessage"))
            return self._integration_error(request_id, accept)
        try:
            return self._proxy_response(result.payload, request_id)
        except (TypeError, ValueError, binascii.Error) as error:
            logger.warning("%s returned a malformed Lambda proxy response: %s", route.function_id, error)
            return self._integration_error(request_id, accept)

    def _integration_error(self, request_id: str, accept: str) -> HttpResponse:
        return self.gateway_response(
            "DEFAULT_5XX",
            request_id,
            _INTEGRATION_ERROR_MESSAGE,
            status=_INTEGRATION_ERROR_STATUS,
            accept=accept,
        )

    @staticmethod
    def _proxy_response(payload: Any, request_id: str) -> HttpResponse:
        if not isinstance(payload, dict):
            raise TypeError(f"expected an object, got {type(payload).__name__}")
        unknown = set(payload) - _PROXY_RESPONSE_KEYS
        if unknown:
            raise ValueError(f"unexpected keys {sorted(unknown)}")
        status = payload.get("statusCode")
        if isinstance(status, bool) or not isinstance(status, (int, str)) or not 100 <= int(status) <= 599:
            raise ValueError(f"invalid statusCode {status!r}")
        body = payload.get("body")
        if body is not None and not isinstance(body, str):
            raise TypeError("body must be a string")
        content = (
            base64.b64decode(body or "", validate=True)
            if payload.get("isBase64Encoded")
            else _utf8(body or "")
        )
        # As API Gateway merges them: multiValueHeaders win for a name given in both.
        multi = {
            name: [as_text(value) for value in values]
            for name, values in (payload.get("multiValueHeaders") or {}).items()
        }
        single = {
            name: as_text(value)
            for name, value in (payload.get("headers") or {}).items()
            if name not in multi
        }
        headers = [(name, value) for name, value in single.items()]
        headers += [(name, value) for name, values in multi.items() for value in values]
        if not any(name.lower() == "content-type" for name, _ in headers):
            headers.append(("Content-Type", "application/json"))
        headers.append(("x-amzn-RequestId", request_id))
        return HttpResponse(int(status), headers, content)


def _utf8(text: str) -> bytes:
    """A proxy body as UTF-8. A lone surrogate (a JSON "\\ud800" escape in the function's response, which
    Lambda takes) is sent as U+FFFD: the function answered, so no 502 stands in for its answer."""
    return _SURROGATE.sub("\ufffd", text).encode()


class _RequestHandler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server: GatewayServer

    def _serve(self) -> None:
        started = time.perf_counter()
        if "chunked" in self.headers.get("Transfer-Encoding", "").lower():
            self.send_error(411, "chunked request bodies are not supported: send a Content-Length")
            return
        try:
            length = int(self.headers.get("Content-Length") or 0)
        except ValueError:
            self.send_error(400, "invalid Content-Length")
            return
        request = HttpRequest(
            method=self.command,
            target=self.path,
            headers=list(self.headers.items()),
            body=self.rfile.read(length) if length > 0 else b"",
            source_ip=self.client_address[0],
            server_port=self.server.server_address[1],
        )
        response = self.server.respond(request)
        self.send_response(response.status)
        for name, value in response.headers:
            self.send_header(name, value)
        self.send_header("Content-Length", str(len(response.body)))
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(response.body)
        logger.info(
            "%s %s %d %.1f ms",
            self.command,
            loggable_path(self.path),
            response.status,
            (time.perf_counter() - started) * 1000,
        )

    def __getattr__(self, name: str) -> Any:
        """Every method reaches the gateway, as every method reaches API Gateway (TRACE, CONNECT, PROPFIND,
        anything): where a resource does not take it, the gateway answers its MISSING_AUTHENTICATION_TOKEN
        response, never http.server's HTML 501. (`BaseHTTPRequestHandler` looks up `do_<METHOD>`.)"""
        if name.startswith("do_"):
            return self._serve
        raise AttributeError(name)

    def log_request(self, code: int | str = "-", size: int | str = "-") -> None:
        """`_serve` logs each request once it is answered."""

    def log_message(self, format: str, *args: Any) -> None:
        logger.warning("%s: %s", self.client_address[0], format % args)


def loggable_path(path: str) -> str:
    """The path with query parameter names only: values carry mobile numbers, emails and validation codes,
    which no log line may hold."""
    route, _, query = path.partition("?")
    names = [pair.split("=", 1)[0] for pair in query.split("&") if pair]
    return f"{route}?{'&'.join(names)}" if names else route


class GatewayServer(ThreadingHTTPServer):
    """The gateway on a loopback port, one thread per connection, served from a background thread.

    `local_routes` answers the requests that are the local stack's own (None for any other), before the
    gateway sees them.
    """

    daemon_threads = True
    # Many clients connect at once in the benchmarks; the default backlog of 5 would drop connections.
    request_queue_size = 128

    def __init__(
        self,
        gateway: Gateway,
        host: str,
        port: int,
        local_routes: Callable[[HttpRequest], HttpResponse | None],
    ) -> None:
        self.address_family = socket.AF_INET6 if ":" in host else socket.AF_INET
        super().__init__((host, port), _RequestHandler)
        self.gateway = gateway
        self._local_routes = local_routes
        self._thread = threading.Thread(target=self.serve_forever, name="points-local-gateway", daemon=True)

    @property
    def port(self) -> int:
        return int(self.server_address[1])

    def respond(self, request: HttpRequest) -> HttpResponse:
        local = self._local_routes(request)
        return local if local is not None else self.gateway.handle(request)

    def start(self) -> None:
        self._thread.start()

    def handle_error(self, request: Any, client_address: Any) -> None:
        if isinstance(sys.exc_info()[1], ConnectionError):
            return  # the client went away before its answer was written
        logger.exception("error while serving %s", client_address)

    def stop(self) -> None:
        self.shutdown()
        self.server_close()
        self._thread.join()
