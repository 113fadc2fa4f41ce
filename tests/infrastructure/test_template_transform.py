"""The SAM transform of template.yaml succeeds offline, and the CloudFormation it produces is what we mean.

Checks iterate over everything of a kind (every function, route, table, gateway response), so functions,
routes and tables added later are covered without touching this file, except FUNCTION_ACCESS below: each
function's data access is declared there, and a function missing from it fails.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

import pytest

from .cfn import (
    DYNAMODB_TABLE,
    MANAGED_POLICIES,
    SAM_FUNCTION,
    api_routes,
    as_list,
    load_template,
    referenced_ids,
    resources_of_type,
)

pytestmark = pytest.mark.infra

READ = "read"
WRITE = "write"


@dataclass(frozen=True)
class Access:
    """What one function's role may do. Everything not listed here is a failure."""

    tables: dict[str, str]
    """DynamoDB table logical id -> READ or WRITE (WRITE includes READ)."""
    other_actions: frozenset[str] = field(default_factory=frozenset)
    """Non-DynamoDB actions, on resources of this stack (e.g. sns:Publish on the email topic)."""
    unscoped_actions: frozenset[str] = field(default_factory=frozenset)
    """Actions AWS cannot scope to a resource, so allowed on Resource "*" (e.g. SMS sns:Publish)."""


# The single place that says which function touches which table. Add new functions here.
FUNCTION_ACCESS: dict[str, Access] = {
    "AuthorizerFunction": Access(tables={"ConfigTable": READ}),
    "IsRedeemableFunction": Access(tables={"ConfigTable": READ, "CustomersTable": READ}),
}

DYNAMODB_READ_ACTIONS = frozenset(
    {"dynamodb:GetItem", "dynamodb:BatchGetItem", "dynamodb:Query", "dynamodb:DescribeTable"}
)
DYNAMODB_WRITE_ACTIONS = frozenset(
    {
        "dynamodb:PutItem",
        "dynamodb:UpdateItem",
        "dynamodb:DeleteItem",
        "dynamodb:BatchWriteItem",
        "dynamodb:ConditionCheckItem",
    }
)
ALLOWED_MANAGED_POLICIES = frozenset(
    {MANAGED_POLICIES["AWSLambdaBasicExecutionRole"], MANAGED_POLICIES["AWSXrayWriteOnlyAccess"]}
)

REQUIRED_GATEWAY_RESPONSES = {
    "UNAUTHORIZED": 401,
    "ACCESS_DENIED": 403,
    "DEFAULT_4XX": None,
    "DEFAULT_5XX": None,
}
OTP_TABLE = "OtpTable"
OTP_TTL_ATTRIBUTE = "expires_at"
HTTP_METHODS = {"get", "put", "post", "delete", "options", "head", "patch", "x-amazon-apigateway-any-method"}

FUNCTION_IDS = sorted(resources_of_type(load_template(), SAM_FUNCTION))


def _resources(cfn: dict[str, Any], resource_type: str) -> dict[str, dict[str, Any]]:
    return resources_of_type(cfn, resource_type)


def _rest_api_bodies(transformed: dict[str, Any]) -> dict[str, dict[str, Any]]:
    apis = _resources(transformed, "AWS::ApiGateway::RestApi")
    assert apis, "no REST API in the template"
    bodies = {}
    for api_id, api in apis.items():
        body = api["Properties"].get("Body")
        assert isinstance(body, dict), (
            f"{api_id}: expected an inline OpenAPI body (DefinitionUri is not checked)"
        )
        bodies[api_id] = body
    return bodies


def _security_schemes(body: dict[str, Any]) -> dict[str, Any]:
    return body.get("components", {}).get("securitySchemes") or body.get("securityDefinitions") or {}


def _operations(body: dict[str, Any]) -> list[tuple[str, str, dict[str, Any]]]:
    return [
        (path, method, operation)
        for path, item in body.get("paths", {}).items()
        for method, operation in item.items()
        if method.lower() in HTTP_METHODS
    ]


# --- the transform ------------------------------------------------------------------------------------


def test_transform_produces_cloudformation(template: dict[str, Any], transformed: dict[str, Any]) -> None:
    assert "Transform" not in transformed
    leftovers = [
        lid for lid, res in transformed["Resources"].items() if res["Type"].startswith("AWS::Serverless::")
    ]
    assert leftovers == []
    assert len(_resources(transformed, "AWS::Lambda::Function")) == len(FUNCTION_IDS) > 0


def test_function_access_mapping_names_exactly_the_template_functions() -> None:
    missing = sorted(set(FUNCTION_IDS) - set(FUNCTION_ACCESS))
    stale = sorted(set(FUNCTION_ACCESS) - set(FUNCTION_IDS))
    assert not missing, f"declare the table access of {missing} in FUNCTION_ACCESS"
    assert not stale, f"FUNCTION_ACCESS names functions that are not in the template: {stale}"


# --- API: every route behind the authorizer, Capillary-shaped gateway errors ----------------------------


def test_every_route_requires_the_lambda_request_authorizer(transformed: dict[str, Any]) -> None:
    for api_id, body in _rest_api_bodies(transformed).items():
        schemes = _security_schemes(body)
        operations = _operations(body)
        assert operations, f"{api_id} has no routes"
        for path, method, operation in operations:
            where = f"{api_id} {method.upper()} {path}"
            requirements = operation.get("security", body.get("security"))
            assert requirements, f"{where} is open (no security requirement)"
            for requirement in requirements:
                assert requirement, f"{where} allows anonymous access (empty security requirement)"
                for name in requirement:
                    scheme = schemes.get(name)
                    assert scheme is not None, f"{where} uses an undefined security scheme {name}"
                    assert scheme.get("x-amazon-apigateway-authtype") == "custom", where
                    assert scheme["x-amazon-apigateway-authorizer"]["type"] == "request", where
    # Methods declared as resources (not in a body) must use the custom authorizer too.
    for method_id, method in _resources(transformed, "AWS::ApiGateway::Method").items():
        assert method["Properties"].get("AuthorizationType") == "CUSTOM", method_id
        assert method["Properties"].get("AuthorizerId"), method_id


def test_every_api_event_of_the_template_is_a_route(
    template: dict[str, Any], transformed: dict[str, Any]
) -> None:
    routes = {
        (path, method.upper())
        for body in _rest_api_bodies(transformed).values()
        for path, method, _ in _operations(body)
    }
    for function_id, function in resources_of_type(template, SAM_FUNCTION).items():
        for path, method, _ in api_routes(function):
            assert (path, method) in routes, f"{function_id}: {method} {path} is not in the API definition"


def test_authorizer_reads_the_authorization_header_and_is_cached(transformed: dict[str, Any]) -> None:
    functions = _resources(transformed, "AWS::Lambda::Function")
    for api_id, body in _rest_api_bodies(transformed).items():
        schemes = _security_schemes(body)
        assert schemes, f"{api_id} defines no authorizer"
        for name, scheme in schemes.items():
            authorizer = scheme["x-amazon-apigateway-authorizer"]
            assert authorizer["identitySource"] == "method.request.header.Authorization", name
            assert int(authorizer["authorizerResultTtlInSeconds"]) > 0, name
            targets = referenced_ids(authorizer["authorizerUri"]) & set(functions)
            assert targets == {"AuthorizerFunction"}, f"{name} invokes {targets}"
    for authorizer_id, authorizer in _resources(transformed, "AWS::ApiGateway::Authorizer").items():
        assert authorizer["Properties"]["Type"] == "REQUEST", authorizer_id
        assert authorizer["Properties"]["IdentitySource"] == "method.request.header.Authorization"
        assert int(authorizer["Properties"].get("AuthorizerResultTtlInSeconds", 300)) > 0


def _gateway_responses(transformed: dict[str, Any], api_id: str, body: dict[str, Any]) -> dict[str, Any]:
    responses = {
        name: {"statusCode": r.get("statusCode"), "templates": r.get("responseTemplates", {})}
        for name, r in body.get("x-amazon-apigateway-gateway-responses", {}).items()
    }
    for response in _resources(transformed, "AWS::ApiGateway::GatewayResponse").values():
        props = response["Properties"]
        if api_id in referenced_ids(props.get("RestApiId")):
            responses[props["ResponseType"]] = {
                "statusCode": props.get("StatusCode"),
                "templates": props.get("ResponseTemplates", {}),
            }
    return responses


def test_gateway_responses_use_the_capillary_envelope(transformed: dict[str, Any]) -> None:
    for api_id, body in _rest_api_bodies(transformed).items():
        responses = _gateway_responses(transformed, api_id, body)
        for name, status in REQUIRED_GATEWAY_RESPONSES.items():
            assert name in responses, f"{api_id} lacks the {name} gateway response"
            if status is not None:
                assert str(responses[name]["statusCode"]) == str(status), name
        for name, response in responses.items():
            template_text = response["templates"].get("application/json")
            assert template_text, f"{name} has no application/json template"
            document = json.loads(template_text)
            assert list(document) == ["response"], name
            assert list(document["response"]) == ["status"], name
            status_block = document["response"]["status"]
            assert set(status_block) == {"success", "code", "message"}, name
            assert status_block["success"] == "false", name
            assert isinstance(status_block["code"], int), name
            assert isinstance(status_block["message"], str), name
            assert status_block["message"], name
            if response["statusCode"] is not None:
                assert status_block["code"] == int(response["statusCode"]), name
            if name == "DEFAULT_4XX":
                assert 400 <= status_block["code"] < 500
            if name == "DEFAULT_5XX":
                assert 500 <= status_block["code"] < 600


def test_only_the_declared_stage_is_deployed(transformed: dict[str, Any]) -> None:
    # Without OpenApiVersion, SAM's deployment also creates an implicit stage named "Stage".
    for deployment_id, deployment in _resources(transformed, "AWS::ApiGateway::Deployment").items():
        assert "StageName" not in deployment["Properties"], deployment_id
    stages = _resources(transformed, "AWS::ApiGateway::Stage")
    assert stages
    for stage_id, stage in stages.items():
        assert stage["Properties"].get("TracingEnabled") is True, stage_id


# --- functions --------------------------------------------------------------------------------------------


def _points_core_layer_id(transformed: dict[str, Any]) -> str:
    layers = [
        lid
        for lid, layer in _resources(transformed, "AWS::Lambda::LayerVersion").items()
        if layer["Properties"].get("LayerName") == "PointsCoreLayer"
    ]
    assert len(layers) == 1, layers
    return layers[0]


@pytest.mark.parametrize("function_id", FUNCTION_IDS)
def test_function_runtime_tracing_and_layers(function_id: str, transformed: dict[str, Any]) -> None:
    props = transformed["Resources"][function_id]["Properties"]
    assert props["Runtime"] == "python3.13"
    assert props["Architectures"] == ["arm64"]
    assert props.get("TracingConfig", {}).get("Mode") == "Active"
    layers = props.get("Layers", [])
    assert {"Ref": _points_core_layer_id(transformed)} in layers
    assert {"Ref": "PowertoolsLayerArn"} in layers


def test_layers_match_the_function_runtime(template: dict[str, Any], transformed: dict[str, Any]) -> None:
    layer = transformed["Resources"][_points_core_layer_id(transformed)]["Properties"]
    assert "python3.13" in layer["CompatibleRuntimes"]
    assert layer["CompatibleArchitectures"] == ["arm64"]
    default = template["Parameters"]["PowertoolsLayerArn"]["Default"]
    assert default.startswith("/aws/service/powertools/python/arm64/python3.13/"), default


# --- least privilege ------------------------------------------------------------------------------------


def _role_statements(transformed: dict[str, Any], role_id: str) -> list[dict[str, Any]]:
    role = transformed["Resources"][role_id]["Properties"]
    statements = [
        statement
        for policy in role.get("Policies", [])
        for statement in as_list(policy["PolicyDocument"]["Statement"])
    ]
    for policy in _resources(transformed, "AWS::IAM::Policy").values():
        if any(role_id in referenced_ids(r) for r in policy["Properties"].get("Roles", [])):
            statements += as_list(policy["Properties"]["PolicyDocument"]["Statement"])
    return statements


@pytest.mark.parametrize("function_id", FUNCTION_IDS)
def test_function_role_is_least_privilege(function_id: str, transformed: dict[str, Any]) -> None:
    access = FUNCTION_ACCESS.get(function_id)
    assert access is not None, f"declare the table access of {function_id} in FUNCTION_ACCESS"
    resources = transformed["Resources"]
    tables = set(_resources(transformed, DYNAMODB_TABLE))
    role = resources[function_id]["Properties"]["Role"]
    assert isinstance(role, dict) and "Fn::GetAtt" in role, (
        f"{function_id}: role must be defined in this stack"
    )
    role_id = role["Fn::GetAtt"][0]
    assert resources[role_id]["Type"] == "AWS::IAM::Role"

    extra_managed = (
        set(resources[role_id]["Properties"].get("ManagedPolicyArns", [])) - ALLOWED_MANAGED_POLICIES
    )
    assert not extra_managed, f"unexpected managed policies {extra_managed}"

    seen_tables: set[str] = set()
    for statement in _role_statements(transformed, role_id):
        assert "NotAction" not in statement and "NotResource" not in statement, statement
        if statement.get("Effect") != "Allow":
            continue
        actions = set(as_list(statement["Action"]))
        statement_resources = as_list(statement["Resource"])
        assert not any("*" in action for action in actions), f"wildcard action in {statement}"
        referenced_tables = set().union(*(referenced_ids(r) for r in statement_resources)) & tables
        seen_tables |= referenced_tables

        dynamodb_actions = {a for a in actions if a.startswith("dynamodb:")}
        if dynamodb_actions:
            assert actions == dynamodb_actions, f"mixes DynamoDB and other actions: {statement}"
            for resource in statement_resources:
                assert referenced_ids(resource) & tables, f"DynamoDB beyond this stack's tables: {resource}"
            for table in referenced_tables:
                level = access.tables.get(table)
                assert level is not None, f"{function_id} may not touch {table}"
                allowed = DYNAMODB_READ_ACTIONS | (DYNAMODB_WRITE_ACTIONS if level == WRITE else frozenset())
                assert dynamodb_actions <= allowed, f"{function_id} on {table}: {dynamodb_actions - allowed}"
        else:
            unexpected = actions - access.other_actions - access.unscoped_actions
            assert not unexpected, f"{function_id}: unexpected actions {unexpected}"

        if "*" in statement_resources:
            assert actions <= access.unscoped_actions, f"{function_id}: Resource '*' for {actions}"

    assert seen_tables == set(access.tables), (
        f"{function_id} role covers {sorted(seen_tables)}, FUNCTION_ACCESS says {sorted(access.tables)}"
    )


# --- data -----------------------------------------------------------------------------------------------


def test_tables_are_on_demand_with_pitr_and_encryption(transformed: dict[str, Any]) -> None:
    tables = _resources(transformed, DYNAMODB_TABLE)
    assert OTP_TABLE in tables
    for table_id, table in tables.items():
        props = table["Properties"]
        assert props.get("BillingMode") == "PAY_PER_REQUEST", table_id
        pitr = props.get("PointInTimeRecoverySpecification", {})
        assert pitr.get("PointInTimeRecoveryEnabled") is True, table_id
        assert props.get("SSESpecification", {}).get("SSEEnabled") is True, table_id


def test_otp_table_expires_items(transformed: dict[str, Any]) -> None:
    ttl = transformed["Resources"][OTP_TABLE]["Properties"].get("TimeToLiveSpecification", {})
    assert ttl == {"AttributeName": OTP_TTL_ATTRIBUTE, "Enabled": True}


def test_outputs_give_the_api_url_and_every_table_name(transformed: dict[str, Any]) -> None:
    outputs = transformed.get("Outputs", {})
    assert "ApiUrl" in outputs
    assert {"PointsApi", "StageName"} <= referenced_ids(outputs["ApiUrl"]["Value"])
    output_refs = [output["Value"] for output in outputs.values()]
    for table_id in _resources(transformed, DYNAMODB_TABLE):
        assert {"Ref": table_id} in output_refs, f"no output gives the name of {table_id}"
