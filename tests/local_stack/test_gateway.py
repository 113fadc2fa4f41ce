"""The gateway's API Gateway behaviour, with functions replaced by plain Python callables."""

from __future__ import annotations

import base64
import json
import xml.etree.ElementTree as ET
from collections.abc import Callable, Mapping
from functools import cache
from pathlib import Path
from typing import Any

import pytest

from points_local.functions import InvocationResult
from points_local.gateway import Gateway, HttpRequest, HttpResponse, policy_decision, rest_api_id
from points_local.template import (
    GATEWAY_RESPONSE_CONTEXT_VARIABLES,
    ApiSpec,
    AuthorizerSpec,
    ContextVariable,
    GatewayResponse,
    Route,
    gateway_responses,
    load_template,
)

ROOT = Path(__file__).resolve().parents[2]
REGION = "eu-west-1"
API_ARN = f"arn:aws:execute-api:{REGION}:123456789012:{rest_api_id('Api')}/prod"


def _policy(effect: str, resource: str, action: str = "execute-api:Invoke") -> dict[str, Any]:
    return {
        "Version": "2012-10-17",
        "Statement": [{"Effect": effect, "Action": action, "Resource": resource}],
    }


def _allow_all(event: Mapping[str, Any]) -> Any:
    return {"principalId": "me", "policyDocument": _policy("Allow", f"{API_ARN}/*"), "context": {"org": "o1"}}


def _echo(event: Mapping[str, Any]) -> Any:
    return {"statusCode": 200, "body": json.dumps(event)}


class Functions:
    """Stands in for the worker pools: each function is a callable returning the handler's result."""

    def __init__(self, handlers: Mapping[str, Callable[[Mapping[str, Any]], Any]]) -> None:
        self.handlers = dict(handlers)
        self.events: list[tuple[str, Mapping[str, Any]]] = []

    def invoke(self, function_id: str, event: Mapping[str, Any]) -> InvocationResult:
        self.events.append((function_id, event))
        outcome = self.handlers[function_id](json.loads(json.dumps(event)))
        if isinstance(outcome, InvocationResult):
            return outcome
        return InvocationResult("request-id", payload=outcome)

    def calls(self, function_id: str) -> int:
        return sum(1 for called, _ in self.events if called == function_id)


def _gateway(
    routes: list[tuple[str, str, str]],
    handlers: Mapping[str, Callable[[Mapping[str, Any]], Any]],
    *,
    responses: Mapping[str, GatewayResponse] | None = None,
    ttl_seconds: int = 300,
    identity_headers: tuple[str, ...] = ("Authorization",),
    identity_query_strings: tuple[str, ...] = (),
) -> tuple[Gateway, Functions]:
    """Routes as (method, path, function id); every route is guarded by the `Auth` authorizer function."""
    functions = Functions({"Auth": _allow_all, **handlers})
    api = ApiSpec(
        logical_id="Api",
        stage="prod",
        stage_variables=None,
        routes=tuple(
            Route("Api", function_id, f"E{index}", path, method, "Guard")
            for index, (method, path, function_id) in enumerate(routes)
        ),
        authorizers={
            "Guard": AuthorizerSpec("Guard", "Auth", identity_headers, identity_query_strings, ttl_seconds)
        },
        gateway_responses=dict(responses or {}),
    )
    return Gateway(api, functions.invoke, region=REGION), functions


def _request(
    gateway: Gateway,
    target: str,
    method: str = "GET",
    token: str | None = "t",
    body: bytes = b"",
    headers: list[tuple[str, str]] | None = None,
) -> HttpResponse:
    all_headers = [("Host", "127.0.0.1:3000"), *(headers or [])]
    if token is not None:
        all_headers.append(("Authorization", token))
    return gateway.handle(HttpRequest(method, target, all_headers, body, "127.0.0.9", 3000))


def _json(response: HttpResponse) -> Any:
    return json.loads(response.body)


def _header(response: HttpResponse, name: str) -> list[str]:
    return [value for header, value in response.headers if header.lower() == name.lower()]


def test_a_literal_resource_wins_over_a_path_parameter() -> None:
    gateway, _ = _gateway(
        [("GET", "/items/{id}", "Item"), ("GET", "/items/special", "Special")],
        {"Item": _echo, "Special": _echo},
    )

    special = _json(_request(gateway, "/items/special"))
    other = _json(_request(gateway, "/items/other"))

    assert (special["resource"], special["pathParameters"]) == ("/items/special", None)
    assert (other["resource"], other["pathParameters"]) == ("/items/{id}", {"id": "other"})


def test_a_greedy_parameter_takes_the_rest_of_the_path_for_any_method() -> None:
    gateway, _ = _gateway([("ANY", "/files/{path+}", "Files")], {"Files": _echo})

    event = _json(_request(gateway, "/files/a/b/c.txt", method="DELETE"))

    assert event["pathParameters"] == {"path": "a/b/c.txt"}
    assert event["httpMethod"] == "DELETE"
    assert _request(gateway, "/files").status == 403


def test_the_most_specific_resource_decides_even_without_the_method() -> None:
    # Given: /items/special only has POST; /items/{id} has GET
    gateway, functions = _gateway(
        [("GET", "/items/{id}", "Item"), ("POST", "/items/special", "Special")],
        {"Item": _echo, "Special": _echo},
    )

    # When
    response = _request(gateway, "/items/special")

    # Then: API Gateway's own MISSING_AUTHENTICATION_TOKEN, and no function ran
    assert response.status == 403
    assert _json(response) == {"message": "Missing Authentication Token"}
    assert functions.events == []


def test_a_status_code_on_default_4xx_applies_to_unconfigured_4xx_responses() -> None:
    responses = {
        "DEFAULT_4XX": GatewayResponse(
            400,
            {"X-Error": "yes"},
            {"application/json": '{"error":$context.error.messageString,"id":"$context.requestId"}'},
        )
    }
    gateway, _ = _gateway([("GET", "/a", "A")], {"A": _echo}, responses=responses)

    response = _request(gateway, "/nowhere")

    assert response.status == 400
    assert _header(response, "X-Error") == ["yes"]
    assert _json(response) == {
        "error": "Missing Authentication Token",
        "id": _header(response, "x-amzn-RequestId")[0],
    }


@cache
def _project_responses() -> Mapping[str, GatewayResponse]:
    """The gateway responses of the project's template.yaml, as the local stack reads them."""
    return gateway_responses(load_template(ROOT / "template.yaml"))


def _deny_all(event: Mapping[str, Any]) -> Any:
    return {"principalId": "me", "policyDocument": _policy("Deny", f"{API_ARN}/*")}


def _refusal(status: int, headers: list[tuple[str, str]] | None = None) -> HttpResponse:
    """The project's gateway answering on its own: 401 (no Authorization), 403 (a deny) or 404 (no route)."""
    authorizer = _deny_all if status == 403 else _allow_all
    gateway, functions = _gateway(
        [("GET", "/a", "A")], {"Auth": authorizer, "A": _echo}, responses=_project_responses()
    )
    if status == 401:
        response = _request(gateway, "/a", token=None, headers=headers)
    elif status == 403:
        response = _request(gateway, "/a", headers=headers)
    else:
        response = _request(gateway, "/nowhere", headers=headers)
    assert functions.calls("A") == 0
    return response


# The project's gateway responses a client meets: status and the envelope's message.
REFUSALS = [
    pytest.param(401, "Unauthorized. Authentication failed", id="401 without Authorization"),
    pytest.param(403, "Not authorized. Access is denied!", id="403 on a deny"),
    pytest.param(404, "Incorrect resource", id="404 on an unknown path"),
]


@pytest.mark.parametrize(("status", "message"), REFUSALS)
def test_the_gateways_own_answers_carry_its_request_id_as_x_cap_requestid(status: int, message: str) -> None:
    response = _refusal(status)

    assert response.status == status
    request_ids = _header(response, "x-amzn-RequestId")
    assert len(request_ids) == 1
    assert request_ids[0]
    assert _header(response, "X-Cap-RequestID") == request_ids


@pytest.mark.parametrize(("status", "message"), REFUSALS)
def test_with_accept_xml_the_gateways_own_answers_are_the_xml_envelope(status: int, message: str) -> None:
    # When
    response = _refusal(status, [("Accept", "application/xml")])

    # Then
    assert response.status == status
    assert _header(response, "Content-Type") == ["application/xml"]
    document = ET.fromstring(response.body)
    assert document.tag == "response"
    assert document.findtext("status/success") == "false"
    assert document.findtext("status/code") == str(status)
    assert document.findtext("status/message") == message
    assert _header(response, "X-Cap-RequestID") == _header(response, "x-amzn-RequestId")


@pytest.mark.parametrize("accept", [None, "application/json", "application/json; charset=utf-8", "*/*"])
@pytest.mark.parametrize(("status", "message"), REFUSALS)
def test_without_accept_or_with_json_the_gateways_own_answers_are_json(
    status: int, message: str, accept: str | None
) -> None:
    response = _refusal(status, None if accept is None else [("Accept", accept)])

    assert response.status == status
    assert _header(response, "Content-Type") == ["application/json"]
    # v1.1 clients read response.status, v2 clients errors[]: the gateway's answers are the whole API's.
    assert _json(response) == {
        "response": {"status": {"success": "false", "code": status, "message": message}},
        "warnings": [],
        "errors": [{"status": False, "code": status, "message": message}],
    }


NEGOTIATED = {"application/json": '{"t":"json"}', "application/xml": "<t>xml</t>", "text/plain": "plain"}


@pytest.mark.parametrize(
    ("accept", "content_type"),
    [
        pytest.param(["application/xml"], "application/xml", id="the one named"),
        pytest.param(["text/html, application/xml;q=0.9, */*;q=0.8"], "application/xml", id="a browser's"),
        pytest.param(["application/json;q=0.5, application/xml"], "application/xml", id="higher q first"),
        pytest.param(["text/plain, application/xml"], "text/plain", id="equal q: the first listed"),
        pytest.param(["application/xml;q=0, text/plain;q=0.1"], "text/plain", id="q=0 is refused"),
        pytest.param(["application/xml;q=0"], "application/json", id="nothing acceptable: json"),
        pytest.param(["APPLICATION/XML; charset=utf-8"], "application/xml", id="media type only, any case"),
        pytest.param(["text/csv", "text/plain"], "text/plain", id="several Accept headers"),
        pytest.param(["text/csv"], "application/json", id="no template for it: json"),
    ],
)
def test_a_gateway_response_template_is_chosen_by_the_accept_header(
    accept: list[str], content_type: str
) -> None:
    responses = {"DEFAULT_4XX": GatewayResponse(None, {}, NEGOTIATED)}
    gateway, _ = _gateway([("GET", "/a", "A")], {"A": _echo}, responses=responses)

    response = _request(gateway, "/nowhere", headers=[("Accept", value) for value in accept])

    assert _header(response, "Content-Type") == [content_type]
    assert response.body.decode() == NEGOTIATED[content_type]


@pytest.mark.parametrize("accept", [None, "text/csv"])
def test_without_a_json_template_the_first_template_answers(accept: str | None) -> None:
    templates = {"text/plain": "plain", "application/xml": "<t>xml</t>"}
    responses = {"DEFAULT_4XX": GatewayResponse(None, {}, templates)}
    gateway, _ = _gateway([("GET", "/a", "A")], {"A": _echo}, responses=responses)

    response = _request(gateway, "/nowhere", headers=None if accept is None else [("Accept", accept)])

    assert _header(response, "Content-Type") == ["text/plain"]
    assert response.body == b"plain"


def test_a_gateway_response_header_mapped_from_a_context_variable_is_evaluated() -> None:
    # Given: a header for every context variable the local gateway provides
    mapped = {f"X-{name}": ContextVariable(name) for name in GATEWAY_RESPONSE_CONTEXT_VARIABLES}
    responses = {"DEFAULT_4XX": GatewayResponse(None, {**mapped, "X-Literal": "text"}, {})}
    gateway, _ = _gateway([("GET", "/a", "A")], {"A": _echo}, responses=responses)

    # When
    response = _request(gateway, "/nowhere")

    # Then
    request_id = _header(response, "x-amzn-RequestId")[0]
    assert _header(response, "X-requestId") == [request_id]
    assert _header(response, "X-extendedRequestId") == [request_id]
    assert _header(response, "X-stage") == ["prod"]
    assert _header(response, "X-apiId") == [rest_api_id("Api")]
    assert _header(response, "X-Literal") == ["text"]
    assert all(_header(response, name) != [""] for name in mapped)


def test_a_response_types_header_replaces_its_familys_whatever_the_case() -> None:
    responses = {
        "DEFAULT_4XX": GatewayResponse(None, {"x-cap-requestid": "family", "X-Family": "yes"}, {}),
        "MISSING_AUTHENTICATION_TOKEN": GatewayResponse(
            404, {"X-Cap-RequestID": ContextVariable("requestId")}, {}
        ),
    }
    gateway, _ = _gateway([("GET", "/a", "A")], {"A": _echo}, responses=responses)

    response = _request(gateway, "/nowhere")

    assert response.status == 404
    assert _header(response, "X-Cap-RequestID") == _header(response, "x-amzn-RequestId")
    assert _header(response, "X-Family") == ["yes"]


def test_the_proxy_event_carries_the_request() -> None:
    # Given
    gateway, functions = _gateway([("POST", "/orders", "Orders")], {"Orders": _echo})

    # When
    _request(
        gateway,
        "/orders?a=1&a=2&b=x%26y",
        method="POST",
        body='{"n": "é"}'.encode(),
        headers=[("X-Multi", "1"), ("X-Multi", "2"), ("X-Forwarded-For", "10.0.0.1")],
    )

    # Then
    _, event = functions.events[-1]
    assert event["body"] == '{"n": "é"}'
    assert event["isBase64Encoded"] is False
    assert event["headers"]["X-Multi"] == "2"
    assert event["multiValueHeaders"]["X-Multi"] == ["1", "2"]
    assert event["headers"]["X-Forwarded-For"] == "10.0.0.1, 127.0.0.9"
    assert event["queryStringParameters"] == {"a": "2", "b": "x&y"}
    assert event["multiValueQueryStringParameters"] == {"a": ["1", "2"], "b": ["x&y"]}
    context = event["requestContext"]
    assert (context["resourcePath"], context["path"], context["stage"]) == ("/orders", "/prod/orders", "prod")
    assert context["apiId"] == rest_api_id("Api")
    assert context["accountId"] == "123456789012"
    assert context["identity"]["sourceIp"] == "127.0.0.9"
    assert context["requestId"] == context["extendedRequestId"]
    assert isinstance(context["requestTimeEpoch"], int)
    assert context["authorizer"] == {"org": "o1", "principalId": "me", "integrationLatency": 0}


def test_the_authorizer_gets_a_request_event_with_the_method_arn() -> None:
    gateway, functions = _gateway([("GET", "/items/{id}", "Item")], {"Item": _echo})

    _request(gateway, "/items/7?x=1", token="secret")

    function_id, event = functions.events[0]
    assert function_id == "Auth"
    assert event["type"] == "REQUEST"
    assert event["methodArn"] == f"{API_ARN}/GET/items/7"
    assert (event["resource"], event["path"], event["httpMethod"]) == ("/items/{id}", "/items/7", "GET")
    assert event["headers"]["Authorization"] == "secret"
    assert event["queryStringParameters"] == {"x": "1"}
    assert event["pathParameters"] == {"id": "7"}
    assert "body" not in event


def test_a_cached_policy_is_evaluated_again_for_each_method() -> None:
    # Given: the policy allows GET only
    def get_only(event: Mapping[str, Any]) -> Any:
        return {"principalId": "me", "policyDocument": _policy("Allow", f"{API_ARN}/GET/*")}

    gateway, functions = _gateway(
        [("GET", "/items/{id}", "Item"), ("POST", "/items/{id}", "Item")], {"Auth": get_only, "Item": _echo}
    )

    # When
    allowed = _request(gateway, "/items/1")
    denied = _request(gateway, "/items/1", method="POST")

    # Then
    assert (allowed.status, denied.status) == (200, 403)
    assert _json(denied) == {"message": "User is not authorized to access this resource"}
    assert functions.calls("Auth") == 1


def test_with_a_zero_ttl_the_authorizer_runs_for_every_request() -> None:
    gateway, functions = _gateway([("GET", "/a", "A")], {"A": _echo}, ttl_seconds=0)

    _request(gateway, "/a")
    _request(gateway, "/a")

    assert functions.calls("Auth") == 2


def test_identity_can_come_from_the_query_string() -> None:
    gateway, functions = _gateway(
        [("GET", "/a", "A")], {"A": _echo}, identity_headers=(), identity_query_strings=("key",)
    )

    missing = _request(gateway, "/a", token=None)
    present = _request(gateway, "/a?key=k1", token=None)

    assert (missing.status, present.status) == (401, 200)
    assert functions.calls("Auth") == 1


@pytest.mark.parametrize(
    "output",
    [
        {"policyDocument": _policy("Allow", "*")},
        {"principalId": "me"},
        {"principalId": "me", "policyDocument": {"Statement": "nope"}},
        {"principalId": "me", "policyDocument": _policy("Allow", "*"), "context": {"nested": {"a": 1}}},
        ["not", "an", "object"],
    ],
)
def test_an_invalid_authorizer_result_is_a_500(output: Any) -> None:
    gateway, functions = _gateway([("GET", "/a", "A")], {"Auth": lambda event: output, "A": _echo})

    response = _request(gateway, "/a")

    assert response.status == 500
    assert _json(response) == {"message": None}
    assert functions.calls("A") == 0


def test_an_authorizer_timeout_is_a_500() -> None:
    timed_out = InvocationResult("r", error={"errorMessage": "Task timed out"}, timed_out=True)
    gateway, _ = _gateway([("GET", "/a", "A")], {"Auth": lambda event: timed_out, "A": _echo})

    assert _request(gateway, "/a").status == 500


@pytest.mark.parametrize(
    ("statements", "decision"),
    [
        (
            [{"Effect": "Allow", "Action": "execute-api:Invoke", "Resource": f"{API_ARN}/GET/items/*"}],
            "Allow",
        ),
        ([{"Effect": "Allow", "Action": ["execute-api:*"], "Resource": ["arn:aws:execute-api:*"]}], "Allow"),
        ([{"Effect": "Allow", "Action": "*", "Resource": f"{API_ARN}/???/items/1"}], "Allow"),
        ([{"Effect": "Allow", "Action": "execute-api:Invoke", "Resource": f"{API_ARN}/POST/*"}], ""),
        ([{"Effect": "Allow", "Action": "s3:GetObject", "Resource": "*"}], ""),
        (
            [
                {"Effect": "Allow", "Action": "execute-api:Invoke", "Resource": "*"},
                {"Effect": "Deny", "Action": "execute-api:Invoke", "Resource": f"{API_ARN}/*/items/*"},
            ],
            "Deny",
        ),
        ({"Effect": "Allow", "Action": "execute-api:Invoke", "Resource": "*"}, "Allow"),
    ],
)
def test_policy_decision(statements: Any, decision: str) -> None:
    assert policy_decision({"Statement": statements}, f"{API_ARN}/GET/items/1") == decision


@pytest.mark.parametrize(
    "payload",
    [
        "not an object",
        {"body": "no status"},
        {"statusCode": 200, "body": {"not": "a string"}},
        {"statusCode": 200, "body": "", "cookies": ["a=1"]},
        {"statusCode": 200, "body": "***", "isBase64Encoded": True},
        {"statusCode": 42},
    ],
)
def test_a_malformed_proxy_response_is_a_502(payload: Any) -> None:
    responses = {"DEFAULT_5XX": GatewayResponse(None, {}, {"application/json": '{"error":"later"}'})}
    gateway, _ = _gateway([("GET", "/a", "A")], {"A": lambda event: payload}, responses=responses)

    response = _request(gateway, "/a")

    assert response.status == 502
    assert _json(response) == {"error": "later"}


def test_a_proxy_response_is_rendered_as_api_gateway_does() -> None:
    # Given
    payload = {
        "statusCode": "201",
        "headers": {"A": "1", "B": "single", "Flag": True},
        "multiValueHeaders": {"B": ["2", "3"]},
        "body": base64.b64encode(b"\x00\x01").decode(),
        "isBase64Encoded": True,
    }
    gateway, _ = _gateway([("GET", "/a", "A")], {"A": lambda event: payload})

    # When
    response = _request(gateway, "/a")

    # Then
    assert response.status == 201
    assert response.body == b"\x00\x01"
    assert _header(response, "A") == ["1"]
    assert _header(response, "B") == ["2", "3"]
    assert _header(response, "Flag") == ["true"]
    assert _header(response, "Content-Type") == ["application/json"]
    assert len(_header(response, "x-amzn-RequestId")) == 1


def test_the_access_log_names_query_parameters_without_their_values() -> None:
    from points_local.gateway import loggable_path

    path = "/v1.1/points/isredeemable?format=json&mobile=919000000001&validation_code=216085&flag"
    assert loggable_path(path) == "/v1.1/points/isredeemable?format&mobile&validation_code&flag"
    assert loggable_path("/v1.1/points/redeem") == "/v1.1/points/redeem"


def test_a_lone_surrogate_in_a_proxy_body_is_sent_as_a_replacement_not_a_502() -> None:
    gateway, _ = _gateway([("GET", "/a", "A")], {"A": lambda event: {"statusCode": 200, "body": "a\ud800b"}})

    response = _request(gateway, "/a")

    assert response.status == 200
    assert response.body == "a\ufffdb".encode()
