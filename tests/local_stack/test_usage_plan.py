"""The local gateway's usage plan, from a template with a tiny throttle (1 request a second, a burst of 2):
each API key (the authorizer's `usageIdentifierKey`) has its own token bucket, as in API Gateway; past it
429 with Retry-After in the template's envelope; a key not in the plan is 403. Functions are callables."""

from __future__ import annotations

import json
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import pytest

from points_local.gateway import Gateway, HttpRequest, HttpResponse, rest_api_id
from points_local.template import UsagePlanSpec, api_routes, load_template, rest_api, usage_plan
from tests.local_stack.test_gateway import Functions

REGION = "eu-west-1"
API_ARN = f"arn:aws:execute-api:{REGION}:123456789012:{rest_api_id('Api')}/prod"
THROTTLED_BODY = {
    "response": {"status": {"success": "false", "code": 429, "message": "Rate limit exceeded"}},
    "warnings": [],
    "errors": [{"status": False, "code": 429, "message": "Rate limit exceeded"}],
}
TEMPLATE = """\
AWSTemplateFormatVersion: "2010-09-09"
Transform: AWS::Serverless-2016-10-31
Parameters:
  TillRateLimit:
    Type: Number
    Default: 1
  TillBurstLimit:
    Type: Number
    Default: 2
Resources:
  Api:
    Type: AWS::Serverless::Api
    Properties:
      StageName: prod
      ApiKeySourceType: {source}
      Auth:
        DefaultAuthorizer: Guard
        ApiKeyRequired: true
        UsagePlan:
          CreateUsagePlan: PER_API
          Throttle:
            RateLimit: !Ref TillRateLimit
            BurstLimit: !Ref TillBurstLimit
        Authorizers:
          Guard:
            FunctionArn: !GetAtt AuthFunction.Arn
            FunctionPayloadType: REQUEST
            Identity:
              ReauthorizeEvery: 0
      GatewayResponses:
        THROTTLED:
          StatusCode: 429
          ResponseParameters:
            Headers:
              Retry-After: "'1'"
              X-Cap-RequestID: context.requestId
          ResponseTemplates:
            application/json: '{throttled}'
        INVALID_API_KEY:
          StatusCode: 403
          ResponseTemplates:
            application/json: '{{"errors":[{{"code":403}}]}}'
  AuthFunction:
    Type: AWS::Serverless::Function
    Properties:
      CodeUri: auth/
      Handler: app.handler
  ItemFunction:
    Type: AWS::Serverless::Function
    Properties:
      CodeUri: items/
      Handler: app.handler
      Events:
        Item:
          Type: Api
          Properties:
            RestApiId: !Ref Api
            Path: /item
            Method: GET
        Health:
          Type: Api
          Properties:
            RestApiId: !Ref Api
            Path: /health
            Method: GET
            Auth:
              Authorizer: NONE
              ApiKeyRequired: false
"""
# The tills' keys in the usage plan, by the Authorization token each till sends.
KEYS = {"till-a": "key-of-till-a-0123456789", "till-b": "key-of-till-b-0123456789"}


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


class PlanKeys:
    def __init__(self, *values: str) -> None:
        self.values = set(values)

    def is_valid(self, value: str) -> bool:
        return value in self.values


def _authorizer(event: Mapping[str, Any]) -> Any:
    token = event["headers"]["Authorization"]
    output = {
        "principalId": token,
        "policyDocument": {
            "Version": "2012-10-17",
            "Statement": [{"Effect": "Allow", "Action": "execute-api:Invoke", "Resource": f"{API_ARN}/*"}],
        },
    }
    if not token.startswith("keyless"):
        output["usageIdentifierKey"] = KEYS.get(token, "key-in-no-plan-0123456789")
    return output


def _template(tmp_path: Path, source: str = "AUTHORIZER") -> dict[str, Any]:
    path = tmp_path / "template.yaml"
    path.write_text(TEMPLATE.format(source=source, throttled=json.dumps(THROTTLED_BODY)))
    return load_template(path)


def _gateway(tmp_path: Path, source: str = "AUTHORIZER") -> tuple[Gateway, Functions, Clock]:
    functions = Functions(
        {"AuthFunction": _authorizer, "ItemFunction": lambda event: {"statusCode": 200, "body": "{}"}}
    )
    clock = Clock()
    api = rest_api(_template(tmp_path, source))
    gateway = Gateway(
        api, functions.invoke, region=REGION, api_keys=PlanKeys(*KEYS.values()), monotonic=clock
    )
    return gateway, functions, clock


def _get(gateway: Gateway, till: str | None, path: str = "/item", **headers: str) -> HttpResponse:
    sent = [("Host", "127.0.0.1:3000"), *headers.items()]
    if till is not None:
        sent.append(("Authorization", till))
    return gateway.handle(HttpRequest("GET", path, sent, b"", "127.0.0.9", 3000))


def _header(response: HttpResponse, name: str) -> list[str]:
    return [value for header, value in response.headers if header.lower() == name.lower()]


def test_the_template_gives_the_plan_and_which_routes_require_a_key(tmp_path: Path) -> None:
    template = _template(tmp_path)

    assert usage_plan(template, "Api") == UsagePlanSpec("ApiUsagePlan", rate_limit=1.0, burst_limit=2)
    assert {route.event_id: route.api_key_required for route in api_routes(template)} == {
        "Item": True,
        "Health": False,
    }
    assert rest_api(template).api_key_source == "AUTHORIZER"


def test_the_third_immediate_request_of_a_till_is_429_with_retry_after_in_the_envelope(
    tmp_path: Path,
) -> None:
    gateway, functions, _ = _gateway(tmp_path)

    statuses = [_get(gateway, "till-a").status for _ in range(2)]
    throttled = _get(gateway, "till-a")

    assert statuses == [200, 200]
    assert throttled.status == 429
    assert _header(throttled, "Retry-After") == ["1"]
    assert json.loads(throttled.body) == THROTTLED_BODY
    assert _header(throttled, "X-Cap-RequestID") == _header(throttled, "x-amzn-RequestId")
    # The function never saw the throttled request; the authorizer did, as API Gateway calls it first.
    assert (functions.calls("ItemFunction"), functions.calls("AuthFunction")) == (2, 3)


def test_another_till_is_not_affected(tmp_path: Path) -> None:
    gateway, _, _ = _gateway(tmp_path)
    assert [_get(gateway, "till-a").status for _ in range(3)] == [200, 200, 429]

    assert [_get(gateway, "till-b").status for _ in range(3)] == [200, 200, 429]


def test_after_the_refill_the_till_passes_again(tmp_path: Path) -> None:
    gateway, _, clock = _gateway(tmp_path)
    assert [_get(gateway, "till-a").status for _ in range(3)] == [200, 200, 429]

    clock.now += 0.5
    half_a_token = _get(gateway, "till-a").status
    clock.now += 0.5
    one_token = [_get(gateway, "till-a").status for _ in range(2)]
    clock.now += 60
    full_bucket = [_get(gateway, "till-a").status for _ in range(3)]

    assert half_a_token == 429
    assert one_token == [200, 429]
    assert full_bucket == [200, 200, 429]  # never more than the burst, however long it waited


@pytest.mark.parametrize("till", ["someone-else", "keyless-till"])
def test_a_key_not_in_the_plan_or_none_is_403_before_the_function(tmp_path: Path, till: str) -> None:
    gateway, functions, _ = _gateway(tmp_path)

    refused = _get(gateway, till)

    assert refused.status == 403
    assert json.loads(refused.body) == {"errors": [{"code": 403}]}
    assert functions.calls("ItemFunction") == 0


def test_a_route_that_requires_no_key_is_not_throttled(tmp_path: Path) -> None:
    gateway, _, _ = _gateway(tmp_path)
    assert [_get(gateway, None, "/health").status for _ in range(5)] == [200] * 5


def test_without_the_plans_keys_every_keyed_request_is_403(tmp_path: Path) -> None:
    functions = Functions({"AuthFunction": _authorizer, "ItemFunction": lambda event: {"statusCode": 200}})
    gateway = Gateway(rest_api(_template(tmp_path)), functions.invoke, region=REGION)

    assert _get(gateway, "till-a").status == 403


def test_with_the_header_as_key_source_the_x_api_key_header_is_the_key(tmp_path: Path) -> None:
    gateway, _, _ = _gateway(tmp_path, source="HEADER")

    with_key = [_get(gateway, "till-x", **{"X-API-Key": KEYS["till-b"]}).status for _ in range(3)]
    without = _get(gateway, "till-a")

    assert with_key == [200, 200, 429]
    assert without.status == 403  # the authorizer's key does not count


def test_a_quota_is_refused_as_it_is_not_enforced_locally(tmp_path: Path) -> None:
    path = tmp_path / "template.yaml"
    text = TEMPLATE.format(source="AUTHORIZER", throttled="{}")
    path.write_text(
        text.replace(
            "          Throttle:\n", "          Quota: {Limit: 5, Period: DAY}\n          Throttle:\n"
        )
    )

    with pytest.raises(ValueError, match=r"Quota: quotas are not enforced locally"):
        rest_api(load_template(path))
