"""Per-till limits: API Gateway's usage plan throttles each till by its API key, which the authorizer gives.

The API takes its keys from the authorizer (`usageIdentifierKey`), every route the authorizer guards
requires one, and the plan's rate and burst are the template's parameters. The tills' keys are the
operator tool's (apply-config), never the stack's functions': no function may touch API Gateway.
"""

from __future__ import annotations

import json
from typing import Any

import pytest

from .cfn import SAM_API, referenced_ids, resources_of_type

pytestmark = pytest.mark.infra

API_ID = "PointsApi"
USAGE_PLAN = "AWS::ApiGateway::UsagePlan"
HTTP_METHODS = {"get", "put", "post", "delete", "options", "head", "patch", "x-amazon-apigateway-any-method"}
CAPILLARY_RATE_PER_MINUTE = 1000


def _rest_api(transformed: dict[str, Any]) -> dict[str, Any]:
    apis = resources_of_type(transformed, "AWS::ApiGateway::RestApi")
    assert set(apis) == {API_ID}
    properties: dict[str, Any] = apis[API_ID]["Properties"]
    return properties


def _usage_plans(transformed: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return resources_of_type(transformed, USAGE_PLAN)


def test_the_api_takes_its_keys_from_the_authorizer(transformed: dict[str, Any]) -> None:
    assert _rest_api(transformed)["ApiKeySourceType"] == "AUTHORIZER"


def test_every_route_behind_the_authorizer_requires_the_api_key_and_no_open_one(
    transformed: dict[str, Any],
) -> None:
    # An open route (no authorizer) cannot require a key: nothing would supply it, so it could never pass.
    body = _rest_api(transformed)["Body"]
    schemes = body["components"]["securitySchemes"]
    key_schemes = {
        name
        for name, scheme in schemes.items()
        if scheme.get("type") == "apiKey" and "x-amazon-apigateway-authorizer" not in scheme
    }
    assert len(key_schemes) == 1
    operations = [
        (path, method, operation)
        for path, item in body["paths"].items()
        for method, operation in item.items()
        if method in HTTP_METHODS
    ]
    assert operations
    for path, method, operation in operations:
        named = {name for requirement in operation.get("security", []) for name in requirement}
        authorized = any(schemes[name].get("x-amazon-apigateway-authtype") == "custom" for name in named)
        assert bool(named & key_schemes) == authorized, f"{method.upper()} {path}: {sorted(named)}"


def test_one_usage_plan_throttles_the_apis_stage_by_the_templates_parameters(
    template: dict[str, Any], transformed: dict[str, Any]
) -> None:
    plans = _usage_plans(transformed)
    assert len(plans) == 1
    ((plan_id, plan),) = plans.items()
    (stage,) = plan["Properties"]["ApiStages"]
    assert referenced_ids(stage["ApiId"]) == {API_ID}
    stages = resources_of_type(transformed, "AWS::ApiGateway::Stage")
    assert referenced_ids(stage["Stage"]) == set(stages) == {f"{API_ID}Stage"}
    # No quota: a till is limited by its rate alone (Capillary's limit is per minute).
    assert "Quota" not in plan["Properties"]
    # The SAM template names the parameters; the transform resolves them to their defaults.
    sam_plan = resources_of_type(template, SAM_API)[API_ID]["Properties"]["Auth"]["UsagePlan"]
    assert sam_plan["CreateUsagePlan"] == "PER_API"
    assert sam_plan["Throttle"] == {
        "RateLimit": {"Ref": "TillRateLimit"},
        "BurstLimit": {"Ref": "TillBurstLimit"},
    }
    throttle = plan["Properties"]["Throttle"]
    assert throttle["RateLimit"] * 60 == pytest.approx(CAPILLARY_RATE_PER_MINUTE, rel=0.001)
    assert throttle["BurstLimit"] == 50
    assert plan_id == f"{API_ID}UsagePlan"


def test_the_rate_and_burst_are_parameters_with_bounds(template: dict[str, Any]) -> None:
    parameters = template["Parameters"]
    rate, burst = parameters["TillRateLimit"], parameters["TillBurstLimit"]
    assert (rate["Type"], rate["Default"]) == ("Number", 16.67)
    assert (burst["Type"], burst["Default"]) == ("Number", 50)
    assert 0 < rate["MinValue"] <= rate["Default"] <= rate["MaxValue"]
    assert 1 <= burst["MinValue"] <= burst["Default"] <= burst["MaxValue"]


def test_the_usage_plan_id_is_an_output(transformed: dict[str, Any]) -> None:
    # `points-admin --stack-name` reads it to register each till's key in the plan.
    output = transformed["Outputs"]["UsagePlanId"]
    assert output["Value"] == {"Ref": f"{API_ID}UsagePlan"}
    assert f"{API_ID}UsagePlan" in _usage_plans(transformed)


def test_a_key_not_in_the_plan_is_answered_in_the_capillary_envelope(transformed: dict[str, Any]) -> None:
    responses = _rest_api(transformed)["Body"]["x-amazon-apigateway-gateway-responses"]
    invalid = responses["INVALID_API_KEY"]
    assert int(invalid["statusCode"]) == 403
    assert invalid["responseParameters"] == {"gatewayresponse.header.X-Cap-RequestID": "context.requestId"}
    document = json.loads(invalid["responseTemplates"]["application/json"])
    status = {"success": "false", "code": 403, "message": "Not authorized. Access is denied!"}
    assert document == {
        "response": {"status": status},
        "warnings": [],
        "errors": [{"status": False, "code": 403, "message": status["message"]}],
    }
    assert "<code>403</code>" in invalid["responseTemplates"]["application/xml"]
    # What a throttled till gets: 429 with Retry-After, in the same envelope.
    throttled = responses["THROTTLED"]
    assert int(throttled["statusCode"]) == 429
    assert throttled["responseParameters"]["gatewayresponse.header.Retry-After"] == "'1'"
    assert json.loads(throttled["responseTemplates"]["application/json"])["errors"][0]["code"] == 429


def _statements(transformed: dict[str, Any]) -> list[dict[str, Any]]:
    found = []
    for role in resources_of_type(transformed, "AWS::IAM::Role").values():
        for policy in role["Properties"].get("Policies", []):
            statements = policy["PolicyDocument"]["Statement"]
            found.extend(statements if isinstance(statements, list) else [statements])
    return found


def test_no_function_may_touch_api_gateway(transformed: dict[str, Any]) -> None:
    # The tills' keys are created by the operator (apply-config), with the operator's own permissions.
    for statement in _statements(transformed):
        actions = statement.get("Action", [])
        for action in actions if isinstance(actions, list) else [actions]:
            assert not str(action).lower().startswith("apigateway:"), statement
