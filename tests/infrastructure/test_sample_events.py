"""events/ holds one sample event per function (for `sam local invoke`), true to the template's wiring.

Named events/<snake_case of the logical id without "Function">.json:
IsRedeemableFunction -> is_redeemable.json, AuthorizerFunction -> authorizer.json.
A function behind the API gets a REST proxy event, the authorizer a REQUEST authorizer event, and a function
with a `Type: Schedule` event EventBridge's scheduled event.
"""

from __future__ import annotations

import base64
import hashlib
import json
import re
import uuid
from datetime import datetime
from typing import Any

import pytest

from tests.factories import SCHEDULED_EVENT_KEYS

from .cfn import SAM_API, SAM_FUNCTION, api_routes, event_file_for, load_template, resources_of_type

TEMPLATE = load_template()
FUNCTIONS = resources_of_type(TEMPLATE, SAM_FUNCTION)

# The demo till the local stack loads; the sample authorizer event logs in with it.
DEMO_TILL_USERNAME = "demo.till"
DEMO_TILL_PASSWORD = "demo-till-password"  # demo data, public on purpose
AUTHORIZER_CONTEXT_KEYS = {"org_id", "till_id", "store_id"}
# Routes without an authorizer (`Auth: Authorizer: NONE`).
OPEN_ROUTES = {
    (path, method)
    for function in FUNCTIONS.values()
    for path, method, properties in api_routes(function)
    if (properties.get("Auth") or {}).get("Authorizer") == "NONE"
}


def _authorizers() -> dict[str, dict[str, Any]]:
    """Function logical id -> its authorizer definition, for every Lambda authorizer of every API."""
    found = {}
    for api in resources_of_type(TEMPLATE, SAM_API).values():
        for authorizer in (api["Properties"].get("Auth", {}).get("Authorizers") or {}).values():
            arn = authorizer.get("FunctionArn", {})
            if isinstance(arn, dict) and "Fn::GetAtt" in arn:
                found[arn["Fn::GetAtt"][0]] = authorizer
    return found


def _all_routes() -> set[tuple[str, str]]:
    return {(path, method) for function in FUNCTIONS.values() for path, method, _ in api_routes(function)}


def _load(function_id: str) -> dict[str, Any]:
    path = event_file_for(function_id)
    assert path.is_file(), f"{function_id} has no sample event: create {path.relative_to(path.parents[1])}"
    event = json.loads(path.read_text(encoding="utf-8"))
    assert isinstance(event, dict), path
    return event


def _assert_multi_value_consistent(event: dict[str, Any], single: str, multi: str) -> None:
    singles, multis = event.get(single) or {}, event.get(multi) or {}
    assert set(singles) == set(multis), f"{single} and {multi} name different keys"
    for key, value in singles.items():
        assert multis[key][-1] == value, f"{multi}[{key}] disagrees with {single}"


def test_there_are_functions() -> None:
    assert FUNCTIONS


@pytest.mark.parametrize("function_id", sorted(FUNCTIONS))
def test_sample_event_matches_how_the_function_is_invoked(function_id: str) -> None:
    event = _load(function_id)
    function = FUNCTIONS[function_id]
    event_types = {e.get("Type") for e in (function["Properties"].get("Events") or {}).values()}
    if "Api" in event_types:
        _assert_proxy_event_for(function_id, event)
    if function_id in _authorizers():
        _assert_authorizer_event(_authorizers()[function_id], event)
    if "Schedule" in event_types:
        _assert_scheduled_event(event)


def _assert_proxy_event_for(function_id: str, event: dict[str, Any]) -> None:
    assert "type" not in event, "an API function needs a REST proxy (v1) event, not an authorizer event"
    route = (event.get("resource"), event.get("httpMethod"))
    routes = {(path, method) for path, method, _ in api_routes(FUNCTIONS[function_id])}
    assert route in routes, f"{route} is not a route of {function_id}"
    resource = route[0]
    assert resource is not None
    if "{" not in resource:
        assert event["path"] == resource
    context = event["requestContext"]
    assert (context["resourcePath"], context["httpMethod"]) == route
    assert context["path"] == f"/{context['stage']}{event['path']}"
    _assert_multi_value_consistent(event, "headers", "multiValueHeaders")
    _assert_multi_value_consistent(event, "queryStringParameters", "multiValueQueryStringParameters")
    if (route[0], route[1]) in OPEN_ROUTES:
        assert "authorizer" not in context, "an open route is reached without an authorizer"
        return
    # Every other route sits behind the till authorizer, whose context the function reads (strings).
    authorizer = context.get("authorizer") or {}
    assert set(authorizer) >= AUTHORIZER_CONTEXT_KEYS, f"authorizer context lacks {AUTHORIZER_CONTEXT_KEYS}"
    assert all(isinstance(authorizer[key], str) for key in AUTHORIZER_CONTEXT_KEYS)


def _assert_scheduled_event(event: dict[str, Any]) -> None:
    """What an EventBridge rule with a schedule expression (and no Input) sends."""
    assert set(event) == SCHEDULED_EVENT_KEYS, "not an EventBridge scheduled event"
    assert event["version"] == "0"
    uuid.UUID(event["id"])
    assert (event["detail-type"], event["source"], event["detail"]) == ("Scheduled Event", "aws.events", {})
    assert re.fullmatch(r"\d{12}", event["account"]), event["account"]
    assert re.fullmatch(r"[a-z]{2}(-[a-z]+)+-\d", event["region"]), event["region"]
    # EventBridge writes the scheduled time to the second, in UTC.
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ", event["time"]), event["time"]
    datetime.fromisoformat(event["time"])
    (rule,) = event["resources"]
    rule_arn = rf"arn:aws:events:{event['region']}:{event['account']}:rule/[\w.-]{{1,64}}"
    assert re.fullmatch(rule_arn, rule), rule


def _assert_authorizer_event(authorizer: dict[str, Any], event: dict[str, Any]) -> None:
    assert authorizer.get("FunctionPayloadType") == "REQUEST"
    assert event["type"] == "REQUEST"
    match = re.fullmatch(
        r"arn:aws:execute-api:[a-z0-9-]+:\d{12}:(?P<api>\w+)/(?P<stage>\w+)/(?P<method>[A-Z]+)(?P<path>/\S*)",
        event["methodArn"],
    )
    assert match, event["methodArn"]
    route = (match["path"], match["method"])
    assert route in _all_routes(), f"methodArn names {route}, which no function serves"
    assert (event["resource"], event["httpMethod"]) == route
    assert event["requestContext"]["stage"] == match["stage"]
    assert event["requestContext"]["apiId"] == match["api"]
    for header in authorizer.get("Identity", {}).get("Headers", []):
        assert header in event["headers"], f"identity source header {header} missing"
    _assert_multi_value_consistent(event, "headers", "multiValueHeaders")


def test_authorizer_event_logs_in_as_the_demo_till() -> None:
    # Capillary convention: the Basic password is the lowercase hex MD5 of the real password.
    event = _load("AuthorizerFunction")
    scheme, _, encoded = event["headers"]["Authorization"].partition(" ")
    assert scheme == "Basic"
    username, _, password = base64.b64decode(encoded, validate=True).decode().partition(":")
    assert username == DEMO_TILL_USERNAME
    assert password == hashlib.md5(DEMO_TILL_PASSWORD.encode()).hexdigest()
