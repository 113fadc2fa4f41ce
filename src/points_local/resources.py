"""Create the template's DynamoDB tables and SNS topics, named by their logical ids.

Works with any boto3 client (the local moto server or `moto.mock_aws`), so tests and the local stack
build the same shapes from the same template.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from points_local.template import Resolver, tables, topics

_TABLE_SETTINGS = ("AttributeDefinitions", "KeySchema", "BillingMode")
_INDEX_SETTINGS = ("IndexName", "KeySchema", "Projection")


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
    resolver = resolver or Resolver(template)
    created = CreatedResources()
    for logical_id, raw_properties in tables(template).items():
        properties = resolver.resolve(raw_properties)
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
