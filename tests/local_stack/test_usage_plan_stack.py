"""The project's template on the local stack, its till limit turned down (a token every 2 seconds, a burst of
2): the authorizer's `usageIdentifierKey` is the till's key, which apply-config put in the stack's usage plan
(moto's API Gateway) and in the till's login, and the gateway throttles each till by it."""

from __future__ import annotations

import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

import boto3
import pytest

from points_admin.cli import main as admin
from points_core.repositories import keys
from points_local.stack import LocalStack
from tests.conftest import TEMPLATE
from tests.factories import basic_auth
from tests.http_json import Reply, send

pytestmark = pytest.mark.e2e

SECONDS_PER_TOKEN = 2
LIMITS = {"LogLevel": "WARNING", "TillRateLimit": str(1 / SECONDS_PER_TOKEN), "TillBurstLimit": "2"}
IS_REDEEMABLE = "/v1.1/points/isredeemable"
QUERY = {"format": "json", "mobile": "919000000001", "points": "1"}
PASSWORDS = {"demo.till": "demo-till-password", "demo.kiosk": "demo-kiosk-password"}
LIMITS_ORG = """
org_id: 100952
name: Limits tests
country_code: "91"
programs:
  - program_id: 1
    points_currency_ratio: "1"
stores:
  - store_id: "1"
    program_id: 1
tills:
  - username: limits.till
    password: limits-till-password
    store_id: "1"
"""


@pytest.fixture(scope="module")
def stack() -> Iterator[LocalStack]:
    # One worker per function: the authorizer keeps the tills it verified, so only a till's first request
    # costs the slow hash, and three requests take well under the 2 seconds a token takes.
    with LocalStack(TEMPLATE, workers_per_function=1, parameter_overrides=LIMITS) as stack:
        yield stack


def _aws(stack: LocalStack, service: str) -> Any:
    return boto3.client(service, endpoint_url=stack.aws_endpoint_url, region_name=stack.region)


def _get(stack: LocalStack, till: str, password: str | None = None) -> Reply:
    request = urllib.request.Request(
        f"{stack.api_url}{IS_REDEEMABLE}?{urlencode(QUERY)}",
        headers={
            "Authorization": basic_auth(till, password or PASSWORDS[till]),
            "Accept": "application/json",
        },
    )
    return send(request)


def _login_key(stack: LocalStack, username: str) -> str:
    item = _aws(stack, "dynamodb").get_item(TableName="ConfigTable", Key=keys.till_login(username))["Item"]
    return str(item["api_key"]["S"])


def test_the_authorizer_gives_the_demo_tills_key_which_is_in_the_stacks_usage_plan(stack: LocalStack) -> None:
    key = _login_key(stack, "demo.till")
    event = {
        "type": "REQUEST",
        "methodArn": "arn:aws:execute-api:eu-west-1:123456789012:api/prod/GET/v1.1/points/isredeemable",
        "headers": {"Authorization": basic_auth("demo.till", PASSWORDS["demo.till"])},
        "requestContext": {"requestId": "r-1", "stage": "prod"},
    }

    output = stack.invoke("AuthorizerFunction", event).payload

    assert output["usageIdentifierKey"] == key
    assert stack.usage_plan_id is not None
    plan = _aws(stack, "apigateway").get_usage_plan(usagePlanId=stack.usage_plan_id)
    assert (plan["name"], plan["throttle"]) == ("PointsApiUsagePlan", {"rateLimit": 0.5, "burstLimit": 2})
    in_plan = _aws(stack, "apigateway").get_usage_plan_keys(usagePlanId=stack.usage_plan_id)["items"]
    assert {item["name"]: item["value"] for item in in_plan}[f"{stack.usage_plan_id}/demo.till"] == key


def test_a_till_past_its_limit_is_429_another_is_not_and_after_the_refill_it_passes(
    stack: LocalStack,
) -> None:
    # Given the functions and the authorizer warm (by the kiosk, whose bucket is its own)
    assert _get(stack, "demo.kiosk").status == 200

    # When the demo till sends three requests at once, then the kiosk one, then the demo till after a token
    statuses = [_get(stack, "demo.till").status for _ in range(2)]
    throttled = _get(stack, "demo.till")
    kiosk = _get(stack, "demo.kiosk")
    time.sleep(SECONDS_PER_TOKEN + 0.2)
    refilled = _get(stack, "demo.till")

    # Then
    assert statuses == [200, 200]
    assert throttled.status == 429
    assert throttled.headers["Retry-After"] == "1"
    assert throttled.body == {
        "response": {"status": {"success": "false", "code": 429, "message": "Rate limit exceeded"}},
        "warnings": [],
        "errors": [{"status": False, "code": 429, "message": "Rate limit exceeded"}],
    }
    assert kiosk.status == 200
    assert refilled.status == 200


def test_a_tills_key_out_of_the_plan_is_403_until_apply_config_puts_it_back(
    stack: LocalStack, tmp_path: Path
) -> None:
    # Given a till applied with --local (the plan found by its name), its key then taken out of the plan
    org_file = tmp_path / "org.yaml"
    org_file.write_text(LIMITS_ORG)
    options = ["--local", "--endpoint-url", stack.aws_endpoint_url]
    assert admin([*options, "apply-config", str(org_file)]) == 0
    apigateway = _aws(stack, "apigateway")
    assert stack.usage_plan_id is not None
    (key,) = [
        item
        for item in apigateway.get_usage_plan_keys(usagePlanId=stack.usage_plan_id)["items"]
        if item["name"] == f"{stack.usage_plan_id}/limits.till"
    ]
    apigateway.delete_usage_plan_key(usagePlanId=stack.usage_plan_id, keyId=key["id"])

    # When it calls, then again once the file is applied again
    refused = _get(stack, "limits.till", "limits-till-password")
    assert admin([*options, "apply-config", str(org_file)]) == 0
    allowed = _get(stack, "limits.till", "limits-till-password")

    # Then
    assert refused.status == 403
    assert refused.body["errors"] == [
        {"status": False, "code": 403, "message": "Not authorized. Access is denied!"}
    ]
    assert refused.headers["X-Cap-RequestID"]
    assert allowed.status == 200
    assert _login_key(stack, "limits.till") == key["value"]
