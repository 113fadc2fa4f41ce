"""The pieces every write shares, built in one place, and the one TransactWriteItems they go into.

Each piece is a transaction item with the refusal it stands for (a wallet's, head and pages, are
`repositories.wallets.layout_writes`): an insert of a new item (a record, a marker, a ledger entry: each only
if nothing is stored under its key), a conditional update. When DynamoDB cancels the transaction, its
`CancellationReasons` come back by position and become `NotRecorded` with the refusals of the items that
refused.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from botocore.exceptions import ClientError

from points_core.domain.errors import NotRecorded, Refusal
from points_core.repositories.codec import serialize, to_item

WriteItem = tuple[Refusal, dict[str, Any]]


def insert(table: str, key: dict[str, Any], values: Mapping[str, Any], refusal: Refusal) -> WriteItem:
    """A new item, written only if nothing is stored under `key` yet (else `refusal`)."""
    put = {
        "TableName": table,
        "Item": to_item(values, key),
        "ConditionExpression": "attribute_not_exists(pk)",
    }
    return refusal, {"Put": put}


def update(
    table: str,
    key: dict[str, Any],
    expression: str,
    condition: str,
    values: Mapping[str, Any],
    refusal: Refusal,
    names: Mapping[str, str] | None = None,
) -> WriteItem:
    """An `UpdateItem` of `key`, only if `condition` holds (else `refusal`); `values` are plain values."""
    change: dict[str, Any] = {
        "TableName": table,
        "Key": key,
        "UpdateExpression": expression,
        "ConditionExpression": condition,
        "ExpressionAttributeValues": {name: serialize(value) for name, value in values.items()},
    }
    if names:
        change["ExpressionAttributeNames"] = dict(names)
    return refusal, {"Update": change}


def transact(client: Any, items: Sequence[WriteItem]) -> None:
    """One TransactWriteItems; when it is cancelled, `NotRecorded` says which conditions refused (by the
    refusal each item stands for) or that another transaction was on the same items (CONFLICT)."""
    try:
        client.transact_write_items(TransactItems=[item for _, item in items])
    except ClientError as error:
        if error.response["Error"]["Code"] != "TransactionCanceledException":
            raise
        reasons = error.response.get("CancellationReasons") or []
        refusals = {
            refusal if reason.get("Code") == "ConditionalCheckFailed" else Refusal.CONFLICT
            for (refusal, _), reason in zip(items, reasons, strict=False)
            if reason.get("Code") not in (None, "None")
        }
        raise NotRecorded(refusals or {Refusal.CONFLICT}) from error
