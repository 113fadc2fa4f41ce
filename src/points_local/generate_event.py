"""`points-local generate-event`: an event for `points-local invoke`, as `sam local generate-event` prints.

    points-local generate-event apigateway aws-proxy --method GET --path /v1.1/points/isredeemable \\
        --query 'format=json&mobile=919000000001&points=100' | points-local invoke IsRedeemableFunction -e -

- `apigateway aws-proxy`: the REST proxy event the local gateway sends a function, for the template's route
  that serves the method and path: its resource and path parameters, the stage, the demo till's Basic
  credentials (`--user`, `--no-auth`) and, behind the authorizer, the `requestContext.authorizer` the
  authorizer gives for them (the demo org, till and store; `--org-id`, `--till-id`, `--store-id`).
- `apigateway authorizer` (also `request-authorizer`, SAM's name for it): the REQUEST authorizer event the
  gateway sends the authorizer for that request (SAM's `authorizer` is a TOKEN event; the template's
  authorizer is a REQUEST one).
- `schedule` (also `cloudwatch scheduled-event`, SAM's spelling): what the template's schedule sends its
  function, EventBridge's scheduled event (or the rule's constant Input).

Unlike SAM's, a body is sent as text (`isBase64Encoded` false), as API Gateway and the local gateway pass a
JSON or XML body.
"""

from __future__ import annotations

import argparse
import base64
import hashlib
import json
import os
import re
import sys
import uuid
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Final
from urllib.parse import parse_qsl

from points_local.schedules import eventbridge_event
from points_local.template import (
    ACCOUNT_ID,
    DEFAULT_REGION,
    Resolver,
    Route,
    ScheduleSpec,
    api_routes,
    load_template,
    rest_api,
    schedules,
)

PROG: Final = "points-local generate-event"
DEFAULT_TEMPLATE: Final = "template.yaml"
# The demo org (demo/org.yaml) and its till demo.till; what the till sends as its password is the MD5 of
# demo-till-password (Capillary's convention). tests/local_stack/test_generate_event.py checks they agree.
DEMO_ORG_ID: Final = "100737"
DEMO_TILL: Final = "demo.till"
DEMO_TILL_SENDS: Final = "66ec77491ae1b96f2325d8fd3ea002d3"
DEMO_STORE_ID: Final = "501"
DEFAULT_METHOD: Final = "GET"
DEFAULT_PATH: Final = "/v1.1/points/isredeemable"
# The API id the events name (no function reads it), the one of the sample events in events/.
API_ID: Final = "a1b2c3d4e5"
SOURCE_IP: Final = "127.0.0.1"
USER_AGENT: Final = "points-local generate-event"
EXIT_USAGE: Final = 2


class EventError(Exception):
    """The options do not make an event."""


@dataclass(frozen=True)
class Template:
    """What the events need from the template: its routes, its stage and its schedules."""

    routes: tuple[Route, ...] = ()
    stage: str = "prod"
    schedules: tuple[ScheduleSpec, ...] = ()
    found: bool = False


def read_template(path: str | None) -> Template:
    """The template at `path`; without one, template.yaml if it is there, else nothing (generic events)."""
    if path is None and not Path(DEFAULT_TEMPLATE).is_file():
        return Template()
    try:
        template = load_template(path or DEFAULT_TEMPLATE)
        resolver = Resolver(template)
        api = rest_api(template, resolver)
        return Template(tuple(api_routes(template)), api.stage, tuple(schedules(template, resolver)), True)
    except (OSError, ValueError, KeyError) as error:
        raise EventError(f"cannot read {path or DEFAULT_TEMPLATE}: {error}") from None


def _route_pattern(route_path: str) -> tuple[re.Pattern[str], list[str]]:
    """A route's path as a regular expression (`{name}` one segment, `{name+}` the rest) and its names."""
    names: list[str] = []
    pattern = ""
    for part in re.split(r"(\{[^}]+\})", route_path):
        variable = re.fullmatch(r"\{([^}]+?)(\+?)\}", part)
        if variable is None:
            pattern += re.escape(part)
            continue
        names.append(variable[1] + variable[2])
        pattern += "(.+)" if variable[2] else "([^/]+)"
    return re.compile(pattern), names


def find_route(
    routes: Sequence[Route], method: str, path: str, resource: str | None = None
) -> tuple[Route, dict[str, str]] | None:
    """The route API Gateway would pick for the request (the method's own before ANY, then the one with fewer
    variables), with its path parameters; `resource` names the route's path instead of matching `path`."""
    found = []
    for route in routes:
        if route.method not in (method, "ANY"):
            continue
        if resource is not None and route.path != resource:
            continue
        pattern, names = _route_pattern(route.path)
        match = pattern.fullmatch(path)
        if match is None and resource is None:
            continue
        parameters = dict(zip(names, match.groups(), strict=True)) if match else {}
        found.append((route.method == "ANY", len(names), route, parameters))
    if not found:
        return None
    _, _, route, parameters = min(found, key=lambda candidate: candidate[:2])
    return route, parameters


@dataclass
class Request:
    """One HTTP request to the API, as the options describe it."""

    method: str
    path: str
    resource: str
    path_parameters: dict[str, str]
    query: list[tuple[str, str]]
    headers: list[tuple[str, str]]
    body: str | None = None
    authorizer_context: dict[str, str] | None = None
    stage: str = "prod"
    region: str = DEFAULT_REGION
    account_id: str = ACCOUNT_ID
    request_id: str = field(default_factory=lambda: str(uuid.uuid4()))


def _multi(pairs: Sequence[tuple[str, str]]) -> dict[str, list[str]]:
    multi: dict[str, list[str]] = {}
    for name, value in pairs:
        multi.setdefault(name, []).append(value)
    return multi


def proxy_event(request: Request) -> dict[str, Any]:
    """An API Gateway REST proxy (payload v1) event, in the shape the local gateway gives it."""
    multi_headers = _multi(request.headers)
    multi_query = _multi(request.query)
    host = next((value for name, value in request.headers if name.lower() == "host"), "")
    now = datetime.now(UTC)
    context: dict[str, Any] = {
        "resourceId": hashlib.sha256(request.resource.encode()).hexdigest()[:6],
        "resourcePath": request.resource,
        "httpMethod": request.method,
        "extendedRequestId": request.request_id,
        "requestTime": now.strftime("%d/%b/%Y:%H:%M:%S +0000"),
        "path": f"/{request.stage}{request.path}",
        "accountId": request.account_id,
        "protocol": "HTTP/1.1",
        "stage": request.stage,
        "domainPrefix": API_ID,
        "requestTimeEpoch": int(now.timestamp() * 1000),
        "requestId": request.request_id,
        "identity": {
            "cognitoIdentityPoolId": None,
            "accountId": None,
            "cognitoIdentityId": None,
            "caller": None,
            "sourceIp": SOURCE_IP,
            "principalOrgId": None,
            "accessKey": None,
            "cognitoAuthenticationType": None,
            "cognitoAuthenticationProvider": None,
            "userArn": None,
            "userAgent": USER_AGENT,
            "user": None,
        },
        "domainName": host,
        "apiId": API_ID,
    }
    if request.authorizer_context is not None:
        # As the gateway passes it on: the authorizer's context as strings, its principal, its latency.
        context["authorizer"] = {
            **request.authorizer_context,
            "principalId": request.authorizer_context.get("till_id", ""),
            "integrationLatency": 0,
        }
    return {
        "resource": request.resource,
        "path": request.path,
        "httpMethod": request.method,
        "headers": {name: values[-1] for name, values in multi_headers.items()},
        "multiValueHeaders": multi_headers,
        "queryStringParameters": {name: values[-1] for name, values in multi_query.items()} or None,
        "multiValueQueryStringParameters": multi_query or None,
        "pathParameters": request.path_parameters or None,
        "stageVariables": None,
        "requestContext": context,
        "body": request.body,
        "isBase64Encoded": False,
    }


def authorizer_event(request: Request) -> dict[str, Any]:
    """The REQUEST authorizer event for the request: the proxy event without its body, and the method ARN."""
    event = proxy_event(request)
    method_arn = (
        f"arn:aws:execute-api:{request.region}:{request.account_id}:{API_ID}/{request.stage}/"
        f"{request.method}/{request.path.removeprefix('/')}"
    )
    del event["body"], event["isBase64Encoded"]
    event["requestContext"].pop("authorizer", None)
    return {"type": "REQUEST", "methodArn": method_arn, **event}


def scheduled_event_for(
    template: Template, function_id: str | None, rule: str | None, region: str, account_id: str
) -> Any:
    """What the schedule sends (the function's, else the template's first): EventBridge's scheduled event,
    or the rule's constant Input; `rule` names another rule."""
    chosen = [spec for spec in template.schedules if function_id in (None, spec.function_id)]
    if function_id is not None and not chosen:
        raise EventError(f"{function_id} has no schedule in the template")
    if chosen and chosen[0].input is not None and rule is None:
        return chosen[0].input
    rule_name = rule or (chosen[0].rule_name if chosen else "ExampleRule")
    return eventbridge_event(rule_name, region, account_id, datetime.now(UTC))


def _header(text: str) -> tuple[str, str]:
    name, colon, value = text.partition(":")
    if not colon or not name.strip():
        raise argparse.ArgumentTypeError(f"{text!r} is not NAME: VALUE")
    return name.strip(), value.strip()


def _query_object(text: str) -> list[tuple[str, str]]:
    try:
        document = json.loads(text)
    except json.JSONDecodeError as error:
        raise argparse.ArgumentTypeError(f"not JSON: {error}") from None
    if not isinstance(document, dict):
        raise argparse.ArgumentTypeError('expected a JSON object, e.g. {"format": "json"}')
    pairs = []
    for name, value in document.items():
        for item in value if isinstance(value, list) else [value]:
            pairs.append((str(name), str(item)))
    return pairs


def _add_request_options(parser: argparse.ArgumentParser, *, proxy: bool) -> None:
    parser.add_argument("--method", default=DEFAULT_METHOD, help=f"HTTP method (default {DEFAULT_METHOD})")
    parser.add_argument("--path", default=DEFAULT_PATH, help=f"request path (default {DEFAULT_PATH})")
    parser.add_argument(
        "--query", default="", metavar="QUERY", help="query string, e.g. 'format=json&mobile=919000000001'"
    )
    parser.add_argument(
        "--querystringparameters",
        type=_query_object,
        default=[],
        metavar="JSON",
        help='query string parameters as a JSON object, as SAM takes them, e.g. \'{"format": "json"}\'',
    )
    parser.add_argument(
        "--header",
        action="append",
        type=_header,
        default=[],
        metavar="'NAME: VALUE'",
        help="a request header (again for more), e.g. 'Idempotency-Key: 7b1c0f3e'",
    )
    parser.add_argument(
        "--resource", help="the route's path in the template (default: that of the route serving --path)"
    )
    parser.add_argument("--stage", help="stage name (default: the template's, prod)")
    parser.add_argument("--account-id", default=ACCOUNT_ID, help=f"AWS account id (default {ACCOUNT_ID})")
    parser.add_argument("--region", default=DEFAULT_REGION, help=f"AWS region (default {DEFAULT_REGION})")
    parser.add_argument(
        "--user",
        metavar="USER:PASSWORD",
        help=f"Basic credentials, as curl -u takes them (a till sends its password's MD5; default the demo "
        f"till, {DEMO_TILL}:{DEMO_TILL_SENDS}, on routes behind the authorizer)",
    )
    parser.add_argument("--no-auth", action="store_true", help="no Authorization header")
    if proxy:
        parser.add_argument(
            "--body", help="request body, as text (Content-Type application/json unless given)"
        )
        parser.add_argument(
            "--org-id",
            default=DEMO_ORG_ID,
            help=f"the authorizer context's org_id, behind the authorizer (default {DEMO_ORG_ID})",
        )
        parser.add_argument(
            "--till-id", help="the authorizer context's till_id (default: --user's, demo.till)"
        )
        parser.add_argument(
            "--store-id",
            default=DEMO_STORE_ID,
            help=f"the authorizer context's store_id (default {DEMO_STORE_ID})",
        )
    parser.add_argument("--template", help=f"SAM template (default {DEFAULT_TEMPLATE}, when it is there)")


def _add_schedule_options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--function", metavar="FUNCTION", help="the function whose schedule (default: the first)"
    )
    parser.add_argument("--rule", help="the rule's name in the event (default: the schedule's)")
    parser.add_argument("--account-id", default=ACCOUNT_ID, help=f"AWS account id (default {ACCOUNT_ID})")
    parser.add_argument("--region", default=DEFAULT_REGION, help=f"AWS region (default {DEFAULT_REGION})")
    parser.add_argument("--template", help=f"SAM template (default {DEFAULT_TEMPLATE}, when it is there)")


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog=PROG,
        description="Print an event for `points-local invoke` on stdout, as `sam local generate-event` does.",
    )
    sources = parser.add_subparsers(dest="source", required=True, metavar="SOURCE")
    apigateway = sources.add_parser("apigateway", help="API Gateway (REST) events")
    kinds = apigateway.add_subparsers(dest="kind", required=True, metavar="EVENT")
    proxy = kinds.add_parser(
        "aws-proxy",
        help="the proxy event a function behind the API receives",
        description="The REST proxy event the local gateway sends the function of the template's route for "
        "the method and path: behind the authorizer, with the demo till's credentials and the authorizer "
        "context (org, till, store) the functions read.",
    )
    _add_request_options(proxy, proxy=True)
    proxy.set_defaults(build=_proxy)
    authorizer = kinds.add_parser(
        "authorizer",
        aliases=["request-authorizer"],
        help="the REQUEST event the authorizer receives",
        description="The REQUEST authorizer event the local gateway sends the authorizer for the request, "
        "with the demo till's Basic credentials.",
    )
    _add_request_options(authorizer, proxy=False)
    authorizer.set_defaults(build=_authorizer)
    for schedule_parser in (
        sources.add_parser("schedule", help="the EventBridge scheduled event a Schedule function receives"),
        sources.add_parser("cloudwatch", help="SAM's spelling: cloudwatch scheduled-event")
        .add_subparsers(dest="kind", required=True, metavar="EVENT")
        .add_parser("scheduled-event", help="the EventBridge scheduled event a Schedule function receives"),
    ):
        _add_schedule_options(schedule_parser)
        schedule_parser.set_defaults(build=_schedule)
    return parser


def _request(arguments: argparse.Namespace, template: Template, *, proxy: bool) -> Request:
    method = arguments.method.upper()
    path = "/" + arguments.path.lstrip("/")
    found = find_route(template.routes, method, path, arguments.resource)
    if found is None and template.found:
        print(f"{PROG}: no route of the template serves {method} {path}", file=sys.stderr)
    route, path_parameters = found or (None, {})
    guarded = route is None or route.authorizer is not None
    query = parse_qsl(arguments.query.removeprefix("?"), keep_blank_values=True)
    query += arguments.querystringparameters
    headers = [
        ("Accept", "application/json"),
        ("Host", f"{API_ID}.execute-api.{arguments.region}.amazonaws.com"),
    ]
    user = arguments.user or (f"{DEMO_TILL}:{DEMO_TILL_SENDS}" if guarded or not proxy else None)
    if user is not None and ":" not in user:
        raise EventError(f"--user {user!r} is not USER:PASSWORD")
    if user is not None and not arguments.no_auth:
        headers.append(("Authorization", "Basic " + base64.b64encode(user.encode()).decode()))
    body = arguments.body if proxy else None
    given = {name.lower() for name, _ in arguments.header}
    if body is not None and "content-type" not in given:
        headers.append(("Content-Type", "application/json"))
    headers += [("User-Agent", USER_AGENT), ("X-Forwarded-For", SOURCE_IP), ("X-Forwarded-Port", "443")]
    headers.append(("X-Forwarded-Proto", "https"))
    # A header given replaces the one of that name made above.
    headers = [(name, value) for name, value in headers if name.lower() not in given] + arguments.header
    context = None
    if proxy and guarded:
        till = arguments.till_id or (user.partition(":")[0] if user else DEMO_TILL)
        context = {"org_id": arguments.org_id, "till_id": till, "store_id": arguments.store_id}
    return Request(
        method=method,
        path=path,
        resource=arguments.resource or (route.path if route else path),
        path_parameters=path_parameters,
        query=query,
        headers=headers,
        body=body,
        authorizer_context=context,
        stage=arguments.stage or template.stage,
        region=arguments.region,
        account_id=arguments.account_id,
    )


def _proxy(arguments: argparse.Namespace, template: Template) -> Any:
    return proxy_event(_request(arguments, template, proxy=True))


def _authorizer(arguments: argparse.Namespace, template: Template) -> Any:
    return authorizer_event(_request(arguments, template, proxy=False))


def _schedule(arguments: argparse.Namespace, template: Template) -> Any:
    return scheduled_event_for(
        template, arguments.function, arguments.rule, arguments.region, arguments.account_id
    )


def main(argv: list[str] | None = None) -> int:
    arguments = build_parser().parse_args(argv)
    try:
        event = arguments.build(arguments, read_template(arguments.template))
    except EventError as error:
        print(f"{PROG}: {error}", file=sys.stderr)
        return EXIT_USAGE
    try:
        print(json.dumps(event, indent=2, ensure_ascii=False), flush=True)
    except BrokenPipeError:  # `| head`: the reader has gone, as it meant to; nothing to flush at exit
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
    return 0
