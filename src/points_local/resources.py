"""Create the template's DynamoDB tables, SNS topics, Secrets Manager secrets and API Gateway usage plans,
named by their logical ids.

Works with any boto3 client (the local moto server or `moto.mock_aws`), so tests and the local stack
build the same shapes from the same template.
"""

from __future__ import annotations

import json
import secrets
import string
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Final

from points_local.template import (
    API_TYPE,
    SECRET_TYPE,
    TABLE_TYPE,
    Resolver,
    as_text,
    resources_of_type,
    topics,
    usage_plan,
)

_TABLE_SETTINGS = ("AttributeDefinitions", "KeySchema", "BillingMode")
_INDEX_SETTINGS = ("IndexName", "KeySchema", "Projection")
# Secrets Manager's defaults for GenerateSecretString; its punctuation is ASCII's.
_DEFAULT_PASSWORD_LENGTH: Final = 32
_CHARACTER_TYPES: Final = (
    ("ExcludeLowercase", string.ascii_lowercase),
    ("ExcludeUppercase", string.ascii_uppercase),
    ("ExcludeNumbers", string.digits),
    ("ExcludePunctuation", string.punctuation),
)


@dataclass
class CreatedResources:
    """What `!Ref` and `!GetAtt` give for each created resource."""

    refs: dict[str, str] = field(default_factory=dict)
    attributes: dict[str, dict[str, str]] = field(default_factory=dict)


def _throughput(settings: Mapping[str, Any]) -> dict[str, Any]:
    # Capacities that come from a parameter are strings; the DynamoDB API wants integers.
    throughput = settings.get("ProvisionedThroughput")
    return (
        {"ProvisionedThroughput": {name: int(units) for name, units in throughput.items()}}
        if throughput
        else {}
    )


def create_table_request(logical_id: str, properties: Mapping[str, Any]) -> dict[str, Any]:
    """The CreateTable call for a resolved `AWS::DynamoDB::Table`, named by its logical id.

    Only what changes behaviour is kept: keys, billing, capacity and indexes (encryption and
    point-in-time recovery do not matter locally).
    """
    request: dict[str, Any] = {"TableName": logical_id}
    request.update({name: properties[name] for name in _TABLE_SETTINGS if name in properties})
    request.update(_throughput(properties))
    for indexes_name in ("GlobalSecondaryIndexes", "LocalSecondaryIndexes"):
        if properties.get(indexes_name):
            request[indexes_name] = [
                {
                    **{name: index[name] for name in _INDEX_SETTINGS if name in index},
                    **_throughput(index),
                }
                for index in properties[indexes_name]
            ]
    return request


def create_tables(
    dynamodb: Any, template: Mapping[str, Any], resolver: Resolver | None = None
) -> CreatedResources:
    """Create every `AWS::DynamoDB::Table` of the template, with its TTL setting."""
    created = CreatedResources()
    for logical_id, properties in (resolver or Resolver(template)).resolved_resources(TABLE_TYPE).items():
        description = dynamodb.create_table(**create_table_request(logical_id, properties))[
            "TableDescription"
        ]
        ttl = properties.get("TimeToLiveSpecification") or {}
        if str(ttl.get("Enabled", False)).lower() == "true":
            dynamodb.update_time_to_live(
                TableName=logical_id,
                TimeToLiveSpecification={"Enabled": True, "AttributeName": ttl["AttributeName"]},
            )
        created.refs[logical_id] = logical_id
        created.attributes[logical_id] = {"Arn": description["TableArn"]}
    return created


def create_topics(sns: Any, template: Mapping[str, Any]) -> CreatedResources:
    """Create every `AWS::SNS::Topic` of the template; `!Ref` of a topic is its ARN."""
    created = CreatedResources()
    for logical_id in topics(template):
        arn = sns.create_topic(Name=logical_id)["TopicArn"]
        created.refs[logical_id] = arn
        created.attributes[logical_id] = {"TopicArn": arn, "TopicName": logical_id}
    return created


def _flag(options: Mapping[str, Any], name: str, default: bool) -> bool:
    # A boolean, or its text when it comes from a parameter.
    return as_text(options.get(name, default)).lower() == "true"


def generate_secret_string(options: Mapping[str, Any]) -> str:
    """A fresh random value as `GenerateSecretString` describes it, drawn with `secrets`.

    With `SecretStringTemplate`, the value is that JSON object with the password under `GenerateStringKey`.
    """
    length = int(options.get("PasswordLength", _DEFAULT_PASSWORD_LENGTH))
    excluded = set(as_text(options.get("ExcludeCharacters", "")))
    types = [
        "".join(character for character in characters if character not in excluded)
        for name, characters in _CHARACTER_TYPES
        if not _flag(options, name, default=False)
    ]
    types = [characters for characters in types if characters]
    alphabet = "".join(types) + (" " if _flag(options, "IncludeSpace", default=False) else "")
    required = types if _flag(options, "RequireEachIncludedType", default=True) else []
    if not alphabet or length < max(len(required), 1):
        raise ValueError(f"GenerateSecretString {dict(options)} cannot produce a value")
    while True:
        password = "".join(secrets.choice(alphabet) for _ in range(length))
        if all(set(password) & set(characters) for characters in required):
            break
    if "SecretStringTemplate" not in options:
        return password
    document = json.loads(as_text(options["SecretStringTemplate"]))
    document[as_text(options["GenerateStringKey"])] = password
    return json.dumps(document)


def create_secrets(
    secretsmanager: Any, template: Mapping[str, Any], resolver: Resolver | None = None
) -> CreatedResources:
    """Create every `AWS::SecretsManager::Secret`; `!Ref` of a secret is its ARN (with its random suffix)."""
    created = CreatedResources()
    for logical_id, properties in (resolver or Resolver(template)).resolved_resources(SECRET_TYPE).items():
        request = {"Name": logical_id}
        if "SecretString" in properties and "GenerateSecretString" in properties:
            raise ValueError(f"{logical_id}: SecretString and GenerateSecretString exclude each other")
        if "SecretString" in properties:
            request["SecretString"] = as_text(properties["SecretString"])
        elif "GenerateSecretString" in properties:
            request["SecretString"] = generate_secret_string(properties["GenerateSecretString"])
        arn = secretsmanager.create_secret(**request)["ARN"]
        created.refs[logical_id] = arn
        created.attributes[logical_id] = {"Id": arn}
    return created


def create_usage_plans(
    apigateway: Any, template: Mapping[str, Any], resolver: Resolver | None = None
) -> CreatedResources:
    """Create the usage plan of every API that has one (SAM's `Auth.UsagePlan`), named by the logical id SAM
    gives it, with its throttle; `!Ref` of a plan is its id. The API keys in it are the operator tool's."""
    created = CreatedResources()
    for api_id in resources_of_type(template, API_TYPE):
        plan = usage_plan(template, api_id, resolver)
        if plan is None or plan.logical_id in created.refs:
            continue
        request: dict[str, Any] = {"name": plan.logical_id}
        if plan.rate_limit is not None and plan.burst_limit is not None:
            request["throttle"] = {"rateLimit": plan.rate_limit, "burstLimit": plan.burst_limit}
        created.refs[plan.logical_id] = str(apigateway.create_usage_plan(**request)["id"])
    return created


# Finding what a stack with the same template created in an AWS already running (`invoke --endpoint-url`):
# each returns what `create_*` gave for the resources that exist there, and leaves out the others.


def find_tables(dynamodb: Any, template: Mapping[str, Any]) -> CreatedResources:
    """The template's tables that exist, named by their logical ids."""
    found = CreatedResources()
    for logical_id in resources_of_type(template, TABLE_TYPE):
        try:
            description = dynamodb.describe_table(TableName=logical_id)["Table"]
        except dynamodb.exceptions.ResourceNotFoundException:
            continue
        found.refs[logical_id] = logical_id
        found.attributes[logical_id] = {"Arn": description["TableArn"]}
    return found


def find_topics(sns: Any, template: Mapping[str, Any]) -> CreatedResources:
    """The template's topics that exist, by name (their logical ids)."""
    arns = {
        topic["TopicArn"].rsplit(":", 1)[-1]: topic["TopicArn"]
        for page in sns.get_paginator("list_topics").paginate()
        for topic in page.get("Topics", [])
    }
    found = CreatedResources()
    for logical_id in topics(template):
        if logical_id in arns:
            found.refs[logical_id] = arns[logical_id]
            found.attributes[logical_id] = {"TopicArn": arns[logical_id], "TopicName": logical_id}
    return found


def find_secrets(secretsmanager: Any, template: Mapping[str, Any]) -> CreatedResources:
    """The template's secrets that exist, by name (their logical ids), with their ARNs."""
    found = CreatedResources()
    for logical_id in resources_of_type(template, SECRET_TYPE):
        try:
            arn = secretsmanager.describe_secret(SecretId=logical_id)["ARN"]
        except secretsmanager.exceptions.ResourceNotFoundException:
            continue
        found.refs[logical_id] = arn
        found.attributes[logical_id] = {"Id": arn}
    return found


def find_usage_plans(
    apigateway: Any, template: Mapping[str, Any], resolver: Resolver | None = None
) -> CreatedResources:
    """The template's usage plans that exist, by name (the logical ids SAM gives them), with their ids."""
    ids = {
        plan["name"]: str(plan["id"])
        for page in apigateway.get_paginator("get_usage_plans").paginate()
        for plan in page.get("items", [])
    }
    found = CreatedResources()
    for api_id in resources_of_type(template, API_TYPE):
        plan = usage_plan(template, api_id, resolver)
        if plan is not None and plan.logical_id in ids:
            found.refs[plan.logical_id] = ids[plan.logical_id]
    return found
