"""What keeps the deployed stack operable: state that survives a stack deletion or a replacement.

Each check iterates over everything of a kind in the transformed template (every stateful resource), so
resources added later are covered without touching this file.
"""

from __future__ import annotations

import json
import re
from typing import Any

import pytest

from .cfn import resources_of_type

pytestmark = pytest.mark.infra

# Resource types that hold data (or a secret, or logs) which a stack deletion or a replacement would destroy.
# A new stateful type the template starts using belongs here.
STATEFUL_TYPES = frozenset(
    {
        "AWS::DynamoDB::Table",
        "AWS::DynamoDB::GlobalTable",
        "AWS::SecretsManager::Secret",
        "AWS::KMS::Key",
        "AWS::Logs::LogGroup",
        "AWS::S3::Bucket",
        "AWS::SQS::Queue",
        "AWS::Kinesis::Stream",
        "AWS::Cognito::UserPool",
        "AWS::RDS::DBInstance",
        "AWS::RDS::DBCluster",
        "AWS::EFS::FileSystem",
    }
)
# Not here: AWS::SNS::Topic. A topic stores no messages; its subscriptions are the operator's, made outside
# the stack, and would not follow a replaced topic to its new ARN any better if the old one were retained.


def _stateful(transformed: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {
        logical_id: resource
        for logical_id, resource in transformed["Resources"].items()
        if resource["Type"] in STATEFUL_TYPES
    }


def test_every_stateful_resource_is_retained_on_delete_and_on_replacement(
    transformed: dict[str, Any],
) -> None:
    stateful = _stateful(transformed)
    assert {"AWS::DynamoDB::Table", "AWS::SecretsManager::Secret"} <= {r["Type"] for r in stateful.values()}
    not_retained = {
        logical_id: (resource.get("DeletionPolicy"), resource.get("UpdateReplacePolicy"))
        for logical_id, resource in stateful.items()
        if (resource.get("DeletionPolicy"), resource.get("UpdateReplacePolicy")) != ("Retain", "Retain")
    }
    assert not_retained == {}, "give these DeletionPolicy: Retain and UpdateReplacePolicy: Retain"


# --- logs -------------------------------------------------------------------------------------------------

LOG_GROUP = "AWS::Logs::LogGroup"
RETENTION_PARAMETER = "LogRetentionDays"
# CloudWatch Logs' retention values.
RETENTION_DAYS = frozenset(
    {1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827, 2192, 2557, 2922, 3288, 3653}
)
# Every field of the access log is one of these `$context` variables. None reads a header (User-Agent, the
# Authorization, Idempotency-Key), the query string (mobile, email, validation_code) or the request path with
# its values: `resourcePath` is the route's template. Add a variable here only if it cannot carry either.
ACCESS_LOG_VARIABLES = frozenset(
    {
        "requestId",
        "extendedRequestId",
        "requestTime",
        "requestTimeEpoch",
        "identity.sourceIp",
        "protocol",
        "stage",
        "httpMethod",
        "resourcePath",
        "status",
        "responseLength",
        "responseLatency",
        "error.responseType",
        "error.message",
        "authorizer.org_id",
        "authorizer.principalId",
        "authorizer.status",
        "authorizer.latency",
        "authorizer.error",
        "authorizer.requestId",
        "integration.status",
        "integration.latency",
        "integration.error",
        "integration.requestId",
    }
)
# What an operator needs of every request: who, when, which route, the outcome, where the time went, and
# which of the authorizer or the integration failed.
ACCESS_LOG_REQUIRED = frozenset(
    {
        "requestId",
        "identity.sourceIp",
        "requestTime",
        "httpMethod",
        "resourcePath",
        "status",
        "responseLatency",
        "integration.error",
        "authorizer.error",
    }
)
_CONTEXT_VARIABLE = re.compile(r"\$context\.([A-Za-z0-9_.]+)")


def _log_groups(transformed: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return resources_of_type(transformed, LOG_GROUP)


def test_every_log_group_keeps_logs_for_the_retention_parameter(
    template: dict[str, Any], transformed: dict[str, Any]
) -> None:
    parameter = template["Parameters"][RETENTION_PARAMETER]
    assert int(parameter["Default"]) in RETENTION_DAYS
    assert {int(days) for days in parameter["AllowedValues"]} <= RETENTION_DAYS
    groups = _log_groups(transformed)
    assert groups
    for group_id, group in groups.items():
        assert group["Properties"].get("RetentionInDays") == {"Ref": RETENTION_PARAMETER}, group_id


def test_every_function_logs_to_a_log_group_of_the_stack(transformed: dict[str, Any]) -> None:
    # Lambda writes to /aws/lambda/<function name> (no LoggingConfig), creating it without a retention unless
    # the stack made it first.
    named = {
        json.dumps(group["Properties"].get("LogGroupName"), sort_keys=True)
        for group in _log_groups(transformed).values()
    }
    for function_id, function in resources_of_type(transformed, "AWS::Lambda::Function").items():
        assert "LogGroup" not in function["Properties"].get("LoggingConfig", {}), function_id
        expected = {"Fn::Sub": f"/aws/lambda/${{{function_id}}}"}
        assert json.dumps(expected, sort_keys=True) in named, f"{function_id} has no log group of the stack"


def _stages(transformed: dict[str, Any]) -> dict[str, dict[str, Any]]:
    stages = resources_of_type(transformed, "AWS::ApiGateway::Stage")
    assert stages
    return stages


def test_every_stage_writes_its_access_log_to_a_log_group_of_the_stack(transformed: dict[str, Any]) -> None:
    groups = _log_groups(transformed)
    for stage_id, stage in _stages(transformed).items():
        setting = stage["Properties"].get("AccessLogSetting")
        assert setting, f"{stage_id} has no access log"
        destination = setting["DestinationArn"]
        assert isinstance(destination, dict) and list(destination) == ["Fn::GetAtt"], destination
        group_id, attribute = destination["Fn::GetAtt"]
        assert (group_id in groups, attribute) == (True, "Arn"), destination


def test_the_access_log_is_flat_json_of_context_variables_that_carry_no_customer_data(
    transformed: dict[str, Any],
) -> None:
    for stage_id, stage in _stages(transformed).items():
        text = stage["Properties"]["AccessLogSetting"]["Format"]
        assert "\n" not in text, stage_id
        # Every value is quoted, so the line stays JSON when API Gateway writes "-" for a missing value.
        document = json.loads(_CONTEXT_VARIABLE.sub("-", text))
        assert all(value == "-" for value in document.values()), document
        fields = json.loads(text)
        variables = [_CONTEXT_VARIABLE.fullmatch(value) for value in fields.values()]
        assert all(variables), f"{stage_id}: each field is exactly one $context variable: {fields}"
        used = {match[1] for match in variables if match}
        assert len(used) == len(fields), f"{stage_id}: a variable is logged twice"
        assert used <= ACCESS_LOG_VARIABLES, f"{stage_id} logs {sorted(used - ACCESS_LOG_VARIABLES)}"
        assert used >= ACCESS_LOG_REQUIRED, f"{stage_id} does not log {sorted(ACCESS_LOG_REQUIRED - used)}"


# --- concurrency ------------------------------------------------------------------------------------------

AUTHORIZER = "AuthorizerFunction"
# Lambda's default concurrency quota for an account, and what it must leave unreserved.
ACCOUNT_CONCURRENCY = 1000
MINIMUM_UNRESERVED = 100


def _reserved(template: dict[str, Any], transformed: dict[str, Any]) -> dict[str, int]:
    """Each function's reserved concurrency, with the parameters' defaults."""
    reserved = {}
    for function_id, function in resources_of_type(transformed, "AWS::Lambda::Function").items():
        value = function["Properties"].get("ReservedConcurrentExecutions")
        assert value is not None, f"{function_id} has no reserved concurrency"
        if isinstance(value, dict):
            assert list(value) == ["Ref"], f"{function_id}: {value}"
            value = template["Parameters"][value["Ref"]]["Default"]
        reserved[function_id] = int(value)
    return reserved


def test_every_function_has_its_own_reserved_concurrency(
    template: dict[str, Any], transformed: dict[str, Any]
) -> None:
    reserved = _reserved(template, transformed)
    assert all(value >= 1 for value in reserved.values()), reserved
    # The authorizer runs for every request the authorizer cache cannot answer: its own limit.
    authorizer = transformed["Resources"][AUTHORIZER]["Properties"]["ReservedConcurrentExecutions"]
    assert authorizer == {"Ref": "AuthorizerReservedConcurrency"}


def test_the_default_reservations_fit_the_default_account_quota(
    template: dict[str, Any], transformed: dict[str, Any]
) -> None:
    reserved = _reserved(template, transformed)
    assert sum(reserved.values()) <= ACCOUNT_CONCURRENCY - MINIMUM_UNRESERVED, reserved
