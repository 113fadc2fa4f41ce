"""moto's DynamoDB serialized, as DynamoDB's per-request atomicity requires; and restored afterwards."""

from __future__ import annotations

from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import boto3
import pytest
from botocore.exceptions import ClientError
from moto import mock_aws
from moto.dynamodb.models import DynamoDBBackend

from points_local import atomic_dynamodb


@pytest.fixture
def client() -> Iterator[Any]:
    """moto in-process, serialized, with one table `t` (pk, sk)."""
    with mock_aws():
        atomic_dynamodb.install()
        try:
            client = boto3.client("dynamodb", region_name="eu-west-1")
            client.create_table(
                TableName="t",
                BillingMode="PAY_PER_REQUEST",
                KeySchema=[
                    {"AttributeName": "pk", "KeyType": "HASH"},
                    {"AttributeName": "sk", "KeyType": "RANGE"},
                ],
                AttributeDefinitions=[
                    {"AttributeName": "pk", "AttributeType": "S"},
                    {"AttributeName": "sk", "AttributeType": "S"},
                ],
            )
            yield client
        finally:
            atomic_dynamodb.uninstall()


def test_install_wraps_the_data_operations_once_and_uninstall_restores_them() -> None:
    original = DynamoDBBackend.update_item
    atomic_dynamodb.install()
    wrapped = DynamoDBBackend.update_item
    atomic_dynamodb.install()
    try:
        assert wrapped is not original
        assert DynamoDBBackend.update_item is wrapped
        assert wrapped.__wrapped__ is original  # type: ignore[attr-defined]
    finally:
        atomic_dynamodb.uninstall()
    assert DynamoDBBackend.update_item is original


def test_a_refused_transaction_leaves_every_item_as_it_was(client: Any) -> None:
    client.put_item(TableName="t", Item={"pk": {"S": "a"}, "sk": {"S": "1"}, "n": {"N": "5"}})
    client.put_item(TableName="t", Item={"pk": {"S": "b"}, "sk": {"S": "1"}, "n": {"N": "5"}})
    with pytest.raises(ClientError, match="TransactionCanceled"):
        client.transact_write_items(
            TransactItems=[
                {"Put": {"TableName": "t", "Item": {"pk": {"S": "new"}, "sk": {"S": "1"}}}},
                {
                    "Update": {
                        "TableName": "t",
                        "Key": {"pk": {"S": "a"}, "sk": {"S": "1"}},
                        "UpdateExpression": "SET n = :zero",
                        "ExpressionAttributeValues": {":zero": {"N": "0"}},
                    }
                },
                {
                    "ConditionCheck": {
                        "TableName": "t",
                        "Key": {"pk": {"S": "b"}, "sk": {"S": "1"}},
                        "ConditionExpression": "n = :six",
                        "ExpressionAttributeValues": {":six": {"N": "6"}},
                    }
                },
            ]
        )
    items = sorted(client.scan(TableName="t")["Items"], key=lambda item: item["pk"]["S"])
    assert items == [
        {"pk": {"S": "a"}, "sk": {"S": "1"}, "n": {"N": "5"}},
        {"pk": {"S": "b"}, "sk": {"S": "1"}, "n": {"N": "5"}},
    ]


def test_concurrent_updates_each_see_the_true_old_image(client: Any) -> None:
    """moto's handler reads the old image in a call of its own before the write: unserialized, two updates
    could both return the same old counter (a validation code was once issued twice this way)."""

    def increment(_: int) -> int:
        response = client.update_item(
            TableName="t",
            Key={"pk": {"S": "c"}, "sk": {"S": "1"}},
            UpdateExpression="ADD n :one",
            ExpressionAttributeValues={":one": {"N": "1"}},
            ReturnValues="ALL_OLD",
        )
        return int(response.get("Attributes", {}).get("n", {"N": "0"})["N"])

    with ThreadPoolExecutor(8) as pool:
        old_values = list(pool.map(increment, range(64)))
    assert sorted(old_values) == list(range(64))
