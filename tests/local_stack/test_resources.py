"""Tables and topics are created from the template's own definitions."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import boto3
import pytest
from moto import mock_aws

from points_local.resources import create_table_request, create_tables, create_topics
from points_local.template import Resolver, load_template, tables

ROOT = Path(__file__).resolve().parents[2]
REGION = "eu-west-1"

TEMPLATE = """\
Parameters:
  Capacity: {Type: Number, Default: 2}
Resources:
  OrdersTable:
    Type: AWS::DynamoDB::Table
    Properties:
      BillingMode: PROVISIONED
      ProvisionedThroughput: {ReadCapacityUnits: !Ref Capacity, WriteCapacityUnits: 1}
      AttributeDefinitions:
        - {AttributeName: pk, AttributeType: S}
        - {AttributeName: sk, AttributeType: S}
        - {AttributeName: status, AttributeType: S}
        - {AttributeName: placed_at, AttributeType: N}
      KeySchema:
        - {AttributeName: pk, KeyType: HASH}
        - {AttributeName: sk, KeyType: RANGE}
      GlobalSecondaryIndexes:
        - IndexName: by-status
          KeySchema: [{AttributeName: status, KeyType: HASH}]
          Projection: {ProjectionType: KEYS_ONLY}
          ProvisionedThroughput: {ReadCapacityUnits: 1, WriteCapacityUnits: 1}
          ContributorInsightsSpecification: {Enabled: true}
      LocalSecondaryIndexes:
        - IndexName: by-time
          KeySchema: [{AttributeName: pk, KeyType: HASH}, {AttributeName: placed_at, KeyType: RANGE}]
          Projection: {ProjectionType: ALL}
      TimeToLiveSpecification: {AttributeName: expires_at, Enabled: true}
      SSESpecification: {SSEEnabled: true}
  CodesTable:
    Type: AWS::DynamoDB::Table
    Properties:
      BillingMode: PAY_PER_REQUEST
      AttributeDefinitions: [{AttributeName: pk, AttributeType: S}]
      KeySchema: [{AttributeName: pk, KeyType: HASH}]
  NewsTopic:
    Type: AWS::SNS::Topic
    Properties: {DisplayName: News}
"""


@pytest.fixture
def clients() -> Iterator[tuple[Any, Any]]:
    with mock_aws():
        yield boto3.client("dynamodb", region_name=REGION), boto3.client("sns", region_name=REGION)


def test_a_table_is_created_as_the_template_defines_it(tmp_path: Path, clients: tuple[Any, Any]) -> None:
    # Given
    (tmp_path / "template.yaml").write_text(TEMPLATE)
    template = load_template(tmp_path / "template.yaml")
    dynamodb, _ = clients

    # When
    created = create_tables(dynamodb, template)

    # Then
    assert created.refs == {"OrdersTable": "OrdersTable", "CodesTable": "CodesTable"}
    table = dynamodb.describe_table(TableName="OrdersTable")["Table"]
    assert table["KeySchema"] == [
        {"AttributeName": "pk", "KeyType": "HASH"},
        {"AttributeName": "sk", "KeyType": "RANGE"},
    ]
    assert table["ProvisionedThroughput"]["ReadCapacityUnits"] == 2
    (index,) = table["GlobalSecondaryIndexes"]
    assert (index["IndexName"], index["KeySchema"]) == (
        "by-status",
        [{"AttributeName": "status", "KeyType": "HASH"}],
    )
    (local_index,) = table["LocalSecondaryIndexes"]
    assert local_index["IndexName"] == "by-time"
    ttl = dynamodb.describe_time_to_live(TableName="OrdersTable")["TimeToLiveDescription"]
    assert ttl == {"TimeToLiveStatus": "ENABLED", "AttributeName": "expires_at"}
    assert created.attributes["OrdersTable"]["Arn"] == table["TableArn"]
    codes = dynamodb.describe_table(TableName="CodesTable")["Table"]
    assert codes["BillingModeSummary"]["BillingMode"] == "PAY_PER_REQUEST"
    assert (
        dynamodb.describe_time_to_live(TableName="CodesTable")["TimeToLiveDescription"]["TimeToLiveStatus"]
        == "DISABLED"
    )


def test_settings_that_do_not_change_behaviour_are_left_out() -> None:
    request = create_table_request(
        "T",
        {
            "KeySchema": [],
            "SSESpecification": {"SSEEnabled": True},
            "GlobalSecondaryIndexes": [
                {"IndexName": "i", "ContributorInsightsSpecification": {"Enabled": True}}
            ],
        },
    )

    assert request == {"TableName": "T", "KeySchema": [], "GlobalSecondaryIndexes": [{"IndexName": "i"}]}


def test_a_topic_is_created_and_refs_to_it_give_its_arn(tmp_path: Path, clients: tuple[Any, Any]) -> None:
    (tmp_path / "template.yaml").write_text(TEMPLATE)
    _, sns = clients

    created = create_topics(sns, load_template(tmp_path / "template.yaml"))

    assert created.refs == {"NewsTopic": f"arn:aws:sns:{REGION}:123456789012:NewsTopic"}
    assert [topic["TopicArn"] for topic in sns.list_topics()["Topics"]] == [created.refs["NewsTopic"]]


def test_the_project_tables_match_the_template(clients: tuple[Any, Any]) -> None:
    # Given
    template = load_template(ROOT / "template.yaml")
    dynamodb, _ = clients

    # When
    create_tables(dynamodb, template, Resolver(template))

    # Then
    for name, properties in tables(template).items():
        table = dynamodb.describe_table(TableName=name)["Table"]
        assert table["KeySchema"] == properties["KeySchema"]
        ttl = properties.get("TimeToLiveSpecification")
        description = dynamodb.describe_time_to_live(TableName=name)["TimeToLiveDescription"]
        assert description.get("AttributeName") == (ttl["AttributeName"] if ttl else None)
