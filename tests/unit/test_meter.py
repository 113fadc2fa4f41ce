"""The bench's meter: write capacity by DynamoDB's sizing rules, from the item before a call and after."""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Iterator
from typing import Any

import boto3
import pytest
from benchmarks.meter import WRITE_UNIT_BYTES, Meter, item_size
from moto import mock_aws

REGION = "eu-west-1"
TABLE = "MeterTable"
KB = 1024


@pytest.fixture
def client() -> Iterator[Any]:
    """A real boto3 DynamoDB client against moto, with one table keyed by `pk` and `sk`."""
    with mock_aws():
        client = boto3.client("dynamodb", region_name=REGION)
        client.create_table(
            TableName=TABLE,
            KeySchema=[
                {"AttributeName": "pk", "KeyType": "HASH"},
                {"AttributeName": "sk", "KeyType": "RANGE"},
            ],
            AttributeDefinitions=[
                {"AttributeName": "pk", "AttributeType": "S"},
                {"AttributeName": "sk", "AttributeType": "S"},
            ],
            BillingMode="PAY_PER_REQUEST",
        )
        yield client


def key(name: str) -> dict[str, Any]:
    return {"pk": {"S": name}, "sk": {"S": "item"}}


def sized(name: str, size: int) -> dict[str, Any]:
    """An item of `name`'s key that DynamoDB sizes at exactly `size` bytes (a padding string fills it)."""
    bare = {**key(name), "pad": {"S": ""}}
    item = {**key(name), "pad": {"S": "x" * (size - item_size(bare))}}
    assert item_size(item) == size
    return item


def units(*images: dict[str, Any]) -> int:
    """1 WCU per started KB of the largest image."""
    return math.ceil(max(item_size(image) for image in images) / WRITE_UNIT_BYTES)


def metered(client: Any) -> Meter:
    return Meter().attach(client)


def test_transactional_update_costs_two_units_per_started_kb_of_the_larger_image(client: Any) -> None:
    before = sized("wallet", 10 * KB - 100)
    client.put_item(TableName=TABLE, Item=before)
    meter = metered(client)
    update = {
        "TableName": TABLE,
        "Key": key("wallet"),
        "UpdateExpression": "SET version = :one",
        "ExpressionAttributeValues": {":one": {"N": "1"}},
    }
    client.transact_write_items(TransactItems=[{"Update": update}])
    after = {**before, "version": {"N": "1"}}
    assert meter.write_units == 2 * units(before, after) == 2 * 10


def test_transactional_put_of_a_new_item_costs_two_units_per_started_kb(client: Any) -> None:
    item = sized("new", 3 * KB)
    meter = metered(client)
    client.transact_write_items(TransactItems=[{"Put": {"TableName": TABLE, "Item": item}}])
    assert meter.write_units == 2 * units(item) == 2 * 3


def test_transactional_put_replacing_a_bigger_item_costs_the_bigger_item(client: Any) -> None:
    old = sized("replaced", 8 * KB)
    client.put_item(TableName=TABLE, Item=old)
    new = sized("replaced", 100)
    meter = metered(client)
    client.transact_write_items(TransactItems=[{"Put": {"TableName": TABLE, "Item": new}}])
    assert meter.write_units == 2 * units(old, new) == 2 * 8


def test_transactional_condition_check_costs_two_units_per_started_kb_of_the_checked_item(
    client: Any,
) -> None:
    # AWS, "Capacity management for transactions": two underlying operations (prepare, commit) of every item
    # of the transaction; the meter bills a write transaction's check as a transactional write of the item.
    checked = sized("checked", 4 * KB)
    client.put_item(TableName=TABLE, Item=checked)
    meter = metered(client)
    check = {"TableName": TABLE, "Key": key("checked"), "ConditionExpression": "attribute_exists(pk)"}
    client.transact_write_items(TransactItems=[{"ConditionCheck": check}])
    assert meter.write_units == 2 * units(checked) == 2 * 4


def test_transactional_delete_costs_the_deleted_item(client: Any) -> None:
    deleted = sized("deleted", 6 * KB - 1)
    client.put_item(TableName=TABLE, Item=deleted)
    meter = metered(client)
    client.transact_write_items(TransactItems=[{"Delete": {"TableName": TABLE, "Key": key("deleted")}}])
    assert meter.write_units == 2 * units(deleted) == 2 * 6


def test_update_without_return_values_costs_the_item(client: Any) -> None:
    before = sized("plain", 5 * KB - 10)
    client.put_item(TableName=TABLE, Item=before)
    meter = metered(client)
    client.update_item(
        TableName=TABLE,
        Key=key("plain"),
        UpdateExpression="SET version = :one",
        ExpressionAttributeValues={":one": {"N": "1"}},
    )
    after = {**before, "version": {"N": "1"}}
    assert meter.write_units == units(before, after) == 5


def test_update_growing_an_item_past_a_kb_costs_the_larger_image(client: Any) -> None:
    before = sized("growing", 900)
    client.put_item(TableName=TABLE, Item=before)
    meter = metered(client)
    growth = "y" * (1_100 - item_size(before) - len("extra"))
    client.update_item(
        TableName=TABLE,
        Key=key("growing"),
        UpdateExpression="SET extra = :growth",
        ExpressionAttributeValues={":growth": {"S": growth}},
        ReturnValues="ALL_OLD",  # the old image alone (900 B) would say 1 WCU
    )
    after = {**before, "extra": {"S": growth}}
    assert item_size(after) == 1_100
    assert meter.write_units == units(before, after) == 2


def test_delete_without_return_values_costs_the_deleted_item(client: Any) -> None:
    deleted = sized("gone", 5 * KB)
    client.put_item(TableName=TABLE, Item=deleted)
    meter = metered(client)
    client.delete_item(TableName=TABLE, Key=key("gone"))
    assert meter.write_units == units(deleted) == 5


def test_put_replacing_a_bigger_item_costs_the_bigger_item(client: Any) -> None:
    old = sized("shrunk", 5 * KB)
    client.put_item(TableName=TABLE, Item=old)
    new = sized("shrunk", 200)
    meter = metered(client)
    client.put_item(TableName=TABLE, Item=new)
    assert meter.write_units == units(old, new) == 5


def test_peeks_are_neither_calls_nor_reads(client: Any) -> None:
    client.put_item(TableName=TABLE, Item=sized("wallet", 2 * KB))
    meter = metered(client)
    update = {
        "TableName": TABLE,
        "Key": key("wallet"),
        "UpdateExpression": "SET version = :one",
        "ExpressionAttributeValues": {":one": {"N": "1"}},
    }
    client.transact_write_items(
        TransactItems=[{"Update": update}, {"Put": {"TableName": TABLE, "Item": sized("other", 500)}}]
    )
    client.delete_item(TableName=TABLE, Key=key("other"))
    assert meter.calls == Counter({"TransactWriteItems": 1, "DeleteItem": 1})
    assert meter.read_units == 0.0


def test_attaching_a_client_twice_meters_it_once(client: Any) -> None:
    # Given: one meter attached twice to the same client
    item = sized("wallet", 3 * KB - 100)
    client.put_item(TableName=TABLE, Item=item)
    meter = metered(client).attach(client)

    # When
    client.update_item(
        TableName=TABLE,
        Key=key("wallet"),
        UpdateExpression="SET version = :one",
        ExpressionAttributeValues={":one": {"N": "1"}},
    )

    # Then: counted once, and peeked once (a second registration would double both)
    assert meter.calls == {"UpdateItem": 1}
    assert meter.write_units == units(item, {**item, "version": {"N": "1"}}) == 3
