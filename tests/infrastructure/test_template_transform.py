"""The SAM transform of template.yaml succeeds offline, and the CloudFormation it produces is what we mean.

Checks iterate over everything of a kind (every function, route, schedule, table, gateway response), so
functions, routes and tables added later are covered without touching this file, except FUNCTION_ACCESS
below: everything each function's role may do is declared there, and a function missing from it fails.
"""

from __future__ import annotations

import importlib
import json
import re
import xml.etree.ElementTree as ET
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
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


@dataclass(frozen=True)
class Access:
    """What one function's role allows, exactly: any grant more, or less, is a failure."""

    resources: Mapping[str, frozenset[str]]
    """A resource of this stack by logical id ("<Table>/index/<IndexName>" for an index) -> actions on it."""
    sms: bool = False
    """sns:Publish to phone numbers, granted as `NotResource: arn:aws:sns:*:*:*`: allowed on everything except
    SNS's own resources (topics, endpoints), so no topic beyond those in `resources`."""


def allow(*actions: str) -> frozenset[str]:
    return frozenset(actions)


# Issuing and sending validation codes: the secret they derive from, the email topic (and SMS).
SEND_CODES = {"OtpSecret": allow("secretsmanager:GetSecretValue"), "EmailCodesTopic": allow("sns:Publish")}

# The single place that says what each function may touch. Add new functions here.
FUNCTION_ACCESS: dict[str, Access] = {
    # Logins, lockouts, OAuth clients (LeadingKeys: see test_login_functions_touch_only_login_items), the key.
    "AuthorizerFunction": Access(
        {
            "ConfigTable": allow("dynamodb:BatchGetItem", "dynamodb:UpdateItem"),
            "OAuthSigningSecret": allow("secretsmanager:GetSecretValue"),
        }
    ),
    "IsRedeemableFunction": Access(
        {
            "ConfigTable": allow("dynamodb:GetItem"),
            "CustomersTable": allow("dynamodb:GetItem", "dynamodb:BatchGetItem"),
            "OtpTable": allow("dynamodb:UpdateItem"),
            **SEND_CODES,
        },
        sms=True,
    ),
    "ValidationCodeFunction": Access(
        {
            "ConfigTable": allow("dynamodb:GetItem"),
            "CustomersTable": allow("dynamodb:GetItem"),
            "OtpTable": allow("dynamodb:UpdateItem"),
            **SEND_CODES,
        },
        sms=True,
    ),
    "RedeemFunction": Access(
        {
            "ConfigTable": allow("dynamodb:GetItem"),
            "CustomersTable": allow("dynamodb:GetItem", "dynamodb:BatchGetItem", "dynamodb:PutItem"),
            "OtpTable": allow("dynamodb:UpdateItem"),
            "RedemptionsTable": allow("dynamodb:BatchGetItem", "dynamodb:PutItem"),
            "LedgerTable": allow("dynamodb:PutItem"),
            "OtpSecret": allow("secretsmanager:GetSecretValue"),
            "IdempotencyTable": allow(
                "dynamodb:GetItem", "dynamodb:PutItem", "dynamodb:UpdateItem", "dynamodb:DeleteItem"
            ),
        }
    ),
    "RevertFunction": Access(
        {
            "ConfigTable": allow("dynamodb:GetItem"),
            "CustomersTable": allow("dynamodb:GetItem", "dynamodb:BatchGetItem", "dynamodb:PutItem"),
            "RedemptionsTable": allow(
                "dynamodb:BatchGetItem", "dynamodb:Query", "dynamodb:UpdateItem", "dynamodb:PutItem"
            ),
            "LedgerTable": allow("dynamodb:PutItem"),
            "IdempotencyTable": allow(
                "dynamodb:GetItem", "dynamodb:PutItem", "dynamodb:UpdateItem", "dynamodb:DeleteItem"
            ),
        }
    ),
    "OtpCleanupFunction": Access(
        {"OtpTable/index/by_expiry": allow("dynamodb:Query"), "OtpTable": allow("dynamodb:DeleteItem")}
    ),
    # OAuth clients and lockouts only (see test_login_functions_touch_only_login_items), the signing key.
    "OauthTokenFunction": Access(
        {
            "ConfigTable": allow("dynamodb:GetItem", "dynamodb:UpdateItem"),
            "OAuthSigningSecret": allow("secretsmanager:GetSecretValue"),
        }
    ),
}
# The routes open to anyone (no authorizer): only getting an OAuth token, whose body is the credential.
OPEN_ROUTES = {
    ("/v3/oauth/token/generate", "post"),
    ("/v3/oauth/token/generate", "x-amazon-apigateway-any-method"),
}

# The resource type each service's actions may name.
SERVICE_RESOURCE_TYPES = {
    "dynamodb": DYNAMODB_TABLE,
    "secretsmanager": "AWS::SecretsManager::Secret",
    "sns": "AWS::SNS::Topic",
}
# `Ref` gives these resources' ARN (a table's gives its name, which a policy cannot use).
RESOURCE_TYPES_WHOSE_REF_IS_THE_ARN = frozenset({"AWS::SecretsManager::Secret", "AWS::SNS::Topic"})
# The only DynamoDB actions that apply to an index.
DYNAMODB_INDEX_ACTIONS = frozenset({"dynamodb:Query", "dynamodb:Scan"})
SMS_NOT_RESOURCE = "arn:aws:sns:*:*:*"
_INDEX_ARN = re.compile(r"\$\{(?P<table>\w+)\.Arn\}/index/(?P<index>[\w.-]+)")
ALLOWED_MANAGED_POLICIES = frozenset(
    {MANAGED_POLICIES["AWSLambdaBasicExecutionRole"], MANAGED_POLICIES["AWSXrayWriteOnlyAccess"]}
)

REQUIRED_GATEWAY_RESPONSES = {
    "UNAUTHORIZED": 401,
    "ACCESS_DENIED": 403,
    "THROTTLED": 429,
    "MISSING_AUTHENTICATION_TOKEN": 404,
    "DEFAULT_4XX": None,
    "DEFAULT_5XX": None,
}
# Every gateway response carries API Gateway's request id as X-Cap-RequestID, like the functions' answers.
REQUEST_ID_HEADER = "gatewayresponse.header.X-Cap-RequestID"
OTP_TABLE = "OtpTable"
OTP_TTL_ATTRIBUTE = "expires_at"
ANY_METHOD = "x-amazon-apigateway-any-method"
# SAM's security scheme for a route that requires an API key (Auth.ApiKeyRequired).
API_KEY_SCHEME = "api_key"
HTTP_METHODS = {"get", "put", "post", "delete", "options", "head", "patch", ANY_METHOD}

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
            if (path, method) in OPEN_ROUTES:
                assert requirements in ([], [{"NONE": []}]), f"{where} must be open: {requirements}"
                continue
            assert requirements, f"{where} is open (no security requirement)"
            assert any(
                schemes.get(name, {}).get("x-amazon-apigateway-authtype") == "custom"
                for requirement in requirements
                for name in requirement
            ), f"{where} is not behind the authorizer"
            for requirement in requirements:
                assert requirement, f"{where} allows anonymous access (empty security requirement)"
                for name in requirement:
                    scheme = schemes.get(name)
                    assert scheme is not None, f"{where} uses an undefined security scheme {name}"
                    if name == API_KEY_SCHEME:
                        continue  # the till's API key, beside the authorizer (test_template_limits.py)
                    assert scheme.get("x-amazon-apigateway-authtype") == "custom", where
                    assert scheme["x-amazon-apigateway-authorizer"]["type"] == "request", where
    # Methods declared as resources (not in a body) must use the custom authorizer too.
    for method_id, method in _resources(transformed, "AWS::ApiGateway::Method").items():
        assert method["Properties"].get("AuthorizationType") == "CUSTOM", method_id
        assert method["Properties"].get("AuthorizerId"), method_id


def _integrated_functions(transformed: dict[str, Any]) -> dict[tuple[str, str], set[str]]:
    """(path, METHOD) of every API operation -> the functions its integration invokes."""
    functions = set(_resources(transformed, "AWS::Lambda::Function"))
    return {
        (path, "ANY" if method == ANY_METHOD else method.upper()): referenced_ids(
            operation.get("x-amazon-apigateway-integration", {}).get("uri")
        )
        & functions
        for body in _rest_api_bodies(transformed).values()
        for path, method, operation in _operations(body)
    }


def test_the_api_routes_are_exactly_the_api_events(
    template: dict[str, Any], transformed: dict[str, Any]
) -> None:
    # Every route is checked above for the authorizer: no other event type may become one.
    expected = {
        (path, method): {function_id}
        for function_id, function in resources_of_type(template, SAM_FUNCTION).items()
        for path, method, _ in api_routes(function)
    }

    assert _integrated_functions(transformed) == expected


def test_each_function_is_routed_exactly_the_routes_its_resolver_answers(template: dict[str, Any]) -> None:
    # A route the resolver answers but the template does not route (as `.xml` twins once were) is a 404 in
    # API Gateway; a route the template sends to a function that does not answer it, the function's 404.
    # Each path the function answers is routed in ANY method too, for its 405 (with Allow) to the others.
    for function_id, function in resources_of_type(template, SAM_FUNCTION).items():
        routes = {(path, method) for path, method, _ in api_routes(function)}
        if not routes:
            continue
        properties = function["Properties"]
        module = ".".join((*Path(properties["CodeUri"]).parts, properties["Handler"].rsplit(".", 1)[0]))
        app = importlib.import_module(module).app
        answered = {(route.path, route.method) for route in app._static_routes + app._dynamic_routes}
        routed = {(path, method) for path, method in routes if method != "ANY"}
        assert routed == answered, function_id
        assert {path for path, method in routes if method == "ANY"} == {path for path, _ in answered}


def _schedule_events(template: dict[str, Any]) -> Iterator[tuple[str, str, dict[str, Any]]]:
    """(function id, event id, event properties) of every `Type: Schedule` event."""
    for function_id, function in resources_of_type(template, SAM_FUNCTION).items():
        for event_id, event in (function["Properties"].get("Events") or {}).items():
            if event.get("Type") == "Schedule":
                yield function_id, event_id, event["Properties"]


def test_schedules_invoke_their_function_through_their_own_rule(
    template: dict[str, Any], transformed: dict[str, Any]
) -> None:
    resources = transformed["Resources"]
    permissions = _resources(transformed, "AWS::Lambda::Permission")
    for function_id, event_id, properties in _schedule_events(template):
        rule_id = f"{function_id}{event_id}"
        rule = resources.get(rule_id, {})
        assert rule.get("Type") == "AWS::Events::Rule", f"{function_id}.{event_id} made no rule {rule_id}"
        assert rule["Properties"]["ScheduleExpression"] == properties["Schedule"]
        (target,) = rule["Properties"]["Targets"]
        assert referenced_ids(target["Arn"]) == {function_id}
        # EventBridge may invoke the function for this rule only (without SourceArn: for any rule).
        (permission,) = [
            permission["Properties"]
            for permission in permissions.values()
            if rule_id in referenced_ids(permission["Properties"].get("SourceArn"))
        ]
        assert permission["Principal"] == "events.amazonaws.com"
        assert permission["SourceArn"] == {"Fn::GetAtt": [rule_id, "Arn"]}
        assert referenced_ids(permission["FunctionName"]) == {function_id}


def test_the_authorizer_is_called_for_every_request_and_keeps_what_it_verified(
    transformed: dict[str, Any],
) -> None:
    # A request carries Authorization (Basic) or X-CAP-API-OAUTH-TOKEN: with an identity source API Gateway
    # would answer 401 without calling the authorizer when that header is absent, so there is none, and no
    # API Gateway cache (which needs one); the authorizer keeps verified tills AuthorizerCacheSeconds.
    functions = _resources(transformed, "AWS::Lambda::Function")
    for api_id, body in _rest_api_bodies(transformed).items():
        schemes = _security_schemes(body)
        assert schemes, f"{api_id} defines no authorizer"
        for name, scheme in schemes.items():
            if "x-amazon-apigateway-authorizer" not in scheme:
                continue  # an API key scheme
            authorizer = scheme["x-amazon-apigateway-authorizer"]
            assert "identitySource" not in authorizer, name
            assert int(authorizer["authorizerResultTtlInSeconds"]) == 0, name
            targets = referenced_ids(authorizer["authorizerUri"]) & set(functions)
            assert targets == {"AuthorizerFunction"}, f"{name} invokes {targets}"
    for authorizer_id, authorizer in _resources(transformed, "AWS::ApiGateway::Authorizer").items():
        assert authorizer["Properties"]["Type"] == "REQUEST", authorizer_id
        assert "IdentitySource" not in authorizer["Properties"]
        assert int(authorizer["Properties"]["AuthorizerResultTtlInSeconds"]) == 0
    variables = functions["AuthorizerFunction"]["Properties"]["Environment"]["Variables"]
    assert variables["AUTHORIZER_CACHE_SECONDS"] == {"Ref": "AuthorizerCacheSeconds"}


def _gateway_responses(transformed: dict[str, Any], api_id: str, body: dict[str, Any]) -> dict[str, Any]:
    responses = {
        name: {
            "statusCode": r.get("statusCode"),
            "templates": r.get("responseTemplates", {}),
            "parameters": r.get("responseParameters", {}),
        }
        for name, r in body.get("x-amazon-apigateway-gateway-responses", {}).items()
    }
    for response in _resources(transformed, "AWS::ApiGateway::GatewayResponse").values():
        props = response["Properties"]
        if api_id in referenced_ids(props.get("RestApiId")):
            responses[props["ResponseType"]] = {
                "statusCode": props.get("StatusCode"),
                "templates": props.get("ResponseTemplates", {}),
                "parameters": props.get("ResponseParameters", {}),
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
            # Gateway responses are the API's, for v1.1 and v2 routes alike: both envelopes, one message.
            assert list(document) == ["response", "warnings", "errors"], name
            assert list(document["response"]) == ["status"], name
            status_block = document["response"]["status"]
            assert set(status_block) == {"success", "code", "message"}, name
            assert status_block["success"] == "false", name
            assert isinstance(status_block["code"], int), name
            assert isinstance(status_block["message"], str), name
            assert status_block["message"], name
            if response["statusCode"] is not None:
                assert status_block["code"] == int(response["statusCode"]), name
            assert document["warnings"] == [], name
            v2_error = {"status": False, "code": status_block["code"], "message": status_block["message"]}
            assert document["errors"] == [v2_error], name
            if name == "DEFAULT_4XX":
                assert 400 <= status_block["code"] < 500
            if name == "DEFAULT_5XX":
                assert 500 <= status_block["code"] < 600


def test_gateway_responses_offer_the_same_envelope_as_xml(transformed: dict[str, Any]) -> None:
    # API Gateway chooses a gateway response's template by the request's Accept header.
    for api_id, body in _rest_api_bodies(transformed).items():
        for name, response in _gateway_responses(transformed, api_id, body).items():
            xml_text = response["templates"].get("application/xml")
            assert xml_text, f"{name} has no application/xml template"
            assert xml_text.startswith('<?xml version="1.0" encoding="UTF-8"?>'), name
            document = ET.fromstring(xml_text.encode())
            assert document.tag == "response", name
            assert [child.tag for child in document] == ["status"], name
            status_block = json.loads(response["templates"]["application/json"])["response"]["status"]
            assert [child.tag for child in document[0]] == list(status_block), name
            assert [child.text for child in document[0]] == [str(value) for value in status_block.values()], (
                name
            )


def test_gateway_responses_carry_the_request_id(transformed: dict[str, Any]) -> None:
    for api_id, body in _rest_api_bodies(transformed).items():
        for name, response in _gateway_responses(transformed, api_id, body).items():
            assert response["parameters"].get(REQUEST_ID_HEADER) == "context.requestId", name


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


def _granted_resource(resources: dict[str, Any], resource: Any) -> str:
    """The logical id a policy Resource names ("<Table>/index/<IndexName>" for an index of a table)."""
    if isinstance(resource, dict) and list(resource) == ["Ref"]:
        target = resource["Ref"]
        assert resources.get(target, {}).get("Type") in RESOURCE_TYPES_WHOSE_REF_IS_THE_ARN, (
            f"Resource {resource}: Ref of {target} is not an ARN"
        )
        return str(target)
    if isinstance(resource, dict) and list(resource) == ["Fn::GetAtt"] and resource["Fn::GetAtt"][1] == "Arn":
        return str(resource["Fn::GetAtt"][0])
    if isinstance(resource, dict) and list(resource) == ["Fn::Sub"] and isinstance(resource["Fn::Sub"], str):
        index = _INDEX_ARN.fullmatch(resource["Fn::Sub"])
        if index:
            return f"{index['table']}/index/{index['index']}"
    raise AssertionError(
        f"Resource {resource!r} is neither a resource of this stack nor an index of its tables"
    )


def _index_names(table: dict[str, Any]) -> set[str]:
    properties = table["Properties"]
    indexes = properties.get("GlobalSecondaryIndexes", []) + properties.get("LocalSecondaryIndexes", [])
    return {index["IndexName"] for index in indexes}


def _is_sms_publish(statement: dict[str, Any]) -> bool:
    """The one NotResource allowed: sns:Publish on every resource but SNS's own, i.e. to phone numbers."""
    return (
        statement.get("Effect") == "Allow"
        and set(as_list(statement["Action"])) == {"sns:Publish"}
        and as_list(statement["NotResource"]) == [SMS_NOT_RESOURCE]
        and "Resource" not in statement
    )


@pytest.mark.parametrize("function_id", FUNCTION_IDS)
def test_function_role_is_least_privilege(function_id: str, transformed: dict[str, Any]) -> None:
    access = FUNCTION_ACCESS.get(function_id)
    assert access is not None, f"declare what {function_id} may do in FUNCTION_ACCESS"
    resources = transformed["Resources"]
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

    granted: dict[str, set[str]] = {}
    sms = False
    for statement in _role_statements(transformed, role_id):
        assert "NotAction" not in statement, statement
        if "NotResource" in statement:
            assert _is_sms_publish(statement), f"{function_id}: NotResource is only for SMS: {statement}"
            sms = True
            continue
        if statement.get("Effect") != "Allow":
            continue
        actions = set(as_list(statement["Action"]))
        assert not any("*" in action for action in actions), f"wildcard action in {statement}"
        for resource in as_list(statement["Resource"]):
            target = _granted_resource(resources, resource)
            table, _, index = target.partition("/index/")
            resource_type = resources.get(table, {}).get("Type")
            for action in actions:
                service = action.split(":", 1)[0]
                assert SERVICE_RESOURCE_TYPES.get(service) == resource_type, (
                    f"{function_id}: {action} on {target}, a {resource_type}"
                )
            if index:
                assert index in _index_names(resources[table]), f"{function_id}: {table} has no index {index}"
                assert actions <= DYNAMODB_INDEX_ACTIONS, f"{function_id}: {actions} on the index {target}"
            granted.setdefault(target, set()).update(actions)

    declared = {target: set(actions) for target, actions in access.resources.items()}
    assert granted == declared, f"{function_id} role grants {granted}, FUNCTION_ACCESS says {declared}"
    assert sms == access.sms, f"{function_id}: SMS publish granted {sms}, FUNCTION_ACCESS says {access.sms}"


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


def test_config_table_expires_lockout_records(transformed: dict[str, Any]) -> None:
    ttl = transformed["Resources"]["ConfigTable"]["Properties"].get("TimeToLiveSpecification", {})
    assert ttl == {"AttributeName": "expires_at", "Enabled": True}


# What the login functions may touch in the Config table, by partition key: never an org's configuration.
LOGIN_LEADING_KEYS = {
    "AuthorizerFunction": {
        "dynamodb:BatchGetItem": {"LOGIN#*", "LOCKOUT#*", "OAUTH#*"},
        "dynamodb:UpdateItem": {"LOCKOUT#*"},
    },
    "OauthTokenFunction": {
        "dynamodb:GetItem": {"OAUTH#*", "LOCKOUT#*"},
        "dynamodb:UpdateItem": {"LOCKOUT#*"},
    },
}


@pytest.mark.parametrize("function_id", sorted(LOGIN_LEADING_KEYS))
def test_login_functions_touch_only_login_items(function_id: str, transformed: dict[str, Any]) -> None:
    role = transformed["Resources"][function_id]["Properties"]["Role"]["Fn::GetAtt"][0]
    leading: dict[str, set[str]] = {}
    for statement in _role_statements(transformed, role):
        if not any(action.startswith("dynamodb:") for action in as_list(statement["Action"])):
            continue
        condition = statement.get("Condition", {}).get("ForAllValues:StringLike", {})
        assert set(statement.get("Condition", {})) == {"ForAllValues:StringLike"}, statement
        for action in as_list(statement["Action"]):
            assert action not in leading, f"{action} granted twice"
            leading[action] = set(as_list(condition["dynamodb:LeadingKeys"]))
    assert leading == LOGIN_LEADING_KEYS[function_id]


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
