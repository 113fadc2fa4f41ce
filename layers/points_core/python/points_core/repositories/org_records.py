"""Items of the Config table that live outside any org's partition (a till's login, an OAuth client, both
found by what a caller sends before any org is known), each with the org's own record of it in the org's
partition: written and removed together, in one transaction, and never over another org's item."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from points_core.repositories import keys
from points_core.repositories.codec import to_item

_SAME_ORG = "attribute_not_exists(pk) OR org_id = :org"


def _same_org(org_id: int) -> dict[str, Any]:
    return {"ConditionExpression": _SAME_ORG, "ExpressionAttributeValues": {":org": {"N": str(org_id)}}}


def put_with_org_record(
    client: Any,
    table: str,
    org_id: int,
    item: tuple[Mapping[str, Any], dict[str, Any]],
    record: tuple[Mapping[str, Any], dict[str, Any]],
) -> None:
    """Write `item` (values, key) and the org's `record` of it; refused if the item is another org's."""
    client.transact_write_items(
        TransactItems=[
            {"Put": {"TableName": table, "Item": to_item(dict(item[0]), item[1]), **_same_org(org_id)}},
            {"Put": {"TableName": table, "Item": to_item(dict(record[0]), record[1])}},
        ]
    )


def delete_with_org_record(
    client: Any, table: str, org_id: int, item_key: dict[str, Any], record_key: dict[str, Any]
) -> None:
    """Remove an item of this org and the org's record of it."""
    client.transact_write_items(
        TransactItems=[
            {"Delete": {"TableName": table, "Key": item_key, **_same_org(org_id)}},
            {"Delete": {"TableName": table, "Key": record_key}},
        ]
    )


def org_record_names(client: Any, table: str, org_id: int, prefix: str) -> list[str]:
    """The names of the org's records under `prefix` (its tills' usernames, its OAuth clients' keys)."""
    names: list[str] = []
    for page in client.get_paginator("query").paginate(
        TableName=table,
        KeyConditionExpression="pk = :pk AND begins_with(sk, :prefix)",
        ExpressionAttributeValues={":pk": {"S": keys.org_partition(org_id)}, ":prefix": {"S": prefix}},
        ProjectionExpression="sk",
    ):
        names.extend(item["sk"]["S"].removeprefix(prefix) for item in page["Items"])
    return names
