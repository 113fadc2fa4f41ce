"""Tables, topics and secrets are created from the template's own definitions."""

from __future__ import annotations

import json
import string
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import boto3
import pytest
from moto import mock_aws

from points_local.resources import (
    create_secrets,
    create_table_request,
    create_tables,
    create_topics,
    generate_secret_string,
)
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


SECRETS = """\
Parameters:
  ApiKey: {Type: String, Default: key-123}
Resources:
  SigningSecret:
    Type: AWS::SecretsManager::Secret
    Properties:
      Description: signs things
      GenerateSecretString: {PasswordLength: 64, ExcludePunctuation: true, ExcludeCharacters: "0O1lI"}
  ApiKeySecret:
    Type: AWS::SecretsManager::Secret
    Properties:
      SecretString: !Sub "${ApiKey}"
"""


def test_secrets_are_created_and_refs_to_them_give_their_arn(tmp_path: Path) -> None:
    # Given
    (tmp_path / "template.yaml").write_text(SECRETS)
    template = load_template(tmp_path / "template.yaml")

    with mock_aws():
        secretsmanager = boto3.client("secretsmanager", region_name=REGION)

        # When
        created = create_secrets(secretsmanager, template)

        # Then: named by logical id; the ARN is moto's own (with its random suffix)
        for name in ("SigningSecret", "ApiKeySecret"):
            described = secretsmanager.describe_secret(SecretId=name)
            assert created.refs[name] == created.attributes[name]["Id"] == described["ARN"]
        signing = secretsmanager.get_secret_value(SecretId=created.refs["SigningSecret"])["SecretString"]
        api_key = secretsmanager.get_secret_value(SecretId=created.refs["ApiKeySecret"])["SecretString"]

    assert api_key == "key-123"
    assert len(signing) == 64
    assert set(signing) <= set(string.ascii_letters + string.digits) - set("0O1lI")


def test_a_secret_cannot_have_both_a_value_and_a_generator(tmp_path: Path) -> None:
    template = {
        "Resources": {
            "Both": {
                "Type": "AWS::SecretsManager::Secret",
                "Properties": {"SecretString": "x", "GenerateSecretString": {}},
            }
        }
    }

    with mock_aws(), pytest.raises(ValueError, match="exclude each other"):
        create_secrets(boto3.client("secretsmanager", region_name=REGION), template)


def test_generated_values_are_fresh_and_follow_secrets_manager_defaults() -> None:
    # Secrets Manager's defaults: 32 characters, at least one of each type
    values = {generate_secret_string({}) for _ in range(20)}

    assert len(values) == 20
    for value in values:
        assert len(value) == 32
        for characters in (string.ascii_lowercase, string.ascii_uppercase, string.digits, string.punctuation):
            assert set(value) & set(characters), value


@pytest.mark.parametrize(
    ("options", "alphabet"),
    [
        ({"ExcludeNumbers": True, "ExcludePunctuation": "true"}, string.ascii_letters),
        ({"ExcludeLowercase": True, "ExcludeUppercase": True, "ExcludePunctuation": True}, string.digits),
        ({"ExcludeCharacters": string.punctuation + string.ascii_letters}, string.digits),
        (
            {"ExcludePunctuation": True, "ExcludeLowercase": True, "IncludeSpace": True},
            string.ascii_uppercase + string.digits + " ",
        ),
    ],
)
def test_generated_values_use_only_the_allowed_characters(options: dict[str, Any], alphabet: str) -> None:
    value = generate_secret_string({"PasswordLength": 200, **options})

    assert len(value) == 200
    assert set(value) <= set(alphabet)


def test_a_generated_value_can_fill_a_json_template() -> None:
    value = generate_secret_string(
        {"SecretStringTemplate": '{"username": "app"}', "GenerateStringKey": "password", "PasswordLength": 12}
    )

    document = json.loads(value)
    assert document["username"] == "app"
    assert len(document["password"]) == 12


@pytest.mark.parametrize(
    "options",
    [
        {"ExcludeCharacters": string.ascii_letters + string.digits + string.punctuation},
        {"PasswordLength": 3},  # too short for one character of each of the four types
    ],
)
def test_impossible_generator_options_are_refused(options: dict[str, Any]) -> None:
    with pytest.raises(ValueError, match="cannot produce a value"):
        generate_secret_string(options)
