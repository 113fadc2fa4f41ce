"""Make moto's DynamoDB as atomic as DynamoDB, and its transactions affordable.

DynamoDB applies each request to an item atomically: a conditional write cannot interleave with another
write of the same item, and a transaction is all or nothing against concurrent requests. moto's in-memory
backend has no locking, so under threads (the local stack's HTTP server, concurrency tests) a condition can
be checked, another request can write, and the first then writes too. Serializing the data operations of the
backend restores the service's guarantees. moto's request handlers for PutItem, UpdateItem and DeleteItem
read the old item (for `ReturnValues` and conditions' failure images) in a call of their own before the write:
they are serialized whole, or a concurrent write between the two would make the returned old image wrong.

moto makes a transaction all-or-nothing by deep-copying every table it touches, once per item, so each
redemption cost time in proportion to all the data loaded. With the operations serialized, a transaction can
instead keep copies of just the items it touches and put those back if it fails.
"""

from __future__ import annotations

import copy
import functools
import threading
from collections.abc import Callable
from typing import Any

import moto.dynamodb.models as moto_dynamodb
from moto.dynamodb.models import DynamoDBBackend
from moto.dynamodb.models.dynamo_type import DynamoType
from moto.dynamodb.models.table import Table
from moto.dynamodb.responses import DynamoHandler

_DATA_OPERATIONS = (
    "put_item",
    "get_item",
    "update_item",
    "delete_item",
    "query",
    "scan",
    "batch_get_item",
    "batch_write_item",
    "transact_get_items",
    "transact_write_items",
    "execute_statement",
    "execute_transaction",
    "batch_execute_statement",
)
# Request handlers that read the item, then write it, in two backend calls.
_READ_THEN_WRITE_HANDLERS = ("put_item", "update_item", "delete_item")
_lock = threading.RLock()
_originals: dict[tuple[type, str], Callable[..., Any]] = {}


def _serialized(operation: Callable[..., Any]) -> Callable[..., Any]:
    @functools.wraps(operation)
    def locked(*args: Any, **kwargs: Any) -> Any:
        with _lock:
            return operation(*args, **kwargs)

    return locked


class _TablesNotCopied:
    """Stands in for the `copy` module inside moto's DynamoDB models during a transaction: tables are not
    copied (the items touched are, by `_with_item_rollback`); everything else is, as before."""

    @staticmethod
    def deepcopy(value: Any, memo: dict[int, Any] | None = None) -> Any:
        return value if isinstance(value, Table) else copy.deepcopy(value, memo)


def _touched_items(backend: DynamoDBBackend, transact_items: list[dict[str, Any]]) -> list[tuple[Any, ...]]:
    touched = []
    for entry in transact_items:
        operation, details = next(iter(entry.items()))
        table = backend.get_table(details["TableName"])
        attributes = details["Item"] if operation == "Put" else details["Key"]
        hash_key = DynamoType(attributes[table.hash_key_attr])
        range_key = DynamoType(attributes[table.range_key_attr]) if table.range_key_attr else None
        touched.append((table, hash_key, range_key, copy.deepcopy(table.get_item(hash_key, range_key))))
    return touched


def _restore(table: Table, hash_key: DynamoType, range_key: DynamoType | None, item: Any) -> None:
    if range_key is None:
        if item is None:
            table.items.pop(hash_key, None)
        else:
            table.items[hash_key] = item
        return
    if item is None:
        table.items.get(hash_key, {}).pop(range_key, None)
    else:
        table.items[hash_key][range_key] = item


def _with_item_rollback(transact: Callable[..., Any]) -> Callable[..., Any]:
    @functools.wraps(transact)
    def run(backend: DynamoDBBackend, transact_items: list[dict[str, Any]]) -> Any:
        touched = _touched_items(backend, transact_items)
        moto_dynamodb.copy = _TablesNotCopied  # type: ignore[assignment]
        try:
            return transact(backend, transact_items)
        except Exception:
            for table, hash_key, range_key, item in reversed(touched):
                _restore(table, hash_key, range_key, item)
            raise
        finally:
            moto_dynamodb.copy = copy

    return run


def install() -> None:
    """Idempotent; lasts until `uninstall()`."""
    wrapped: list[tuple[type, str]] = [(DynamoDBBackend, name) for name in _DATA_OPERATIONS]
    wrapped += [(DynamoHandler, name) for name in _READ_THEN_WRITE_HANDLERS]
    with _lock:
        for owner, name in wrapped:
            if (owner, name) not in _originals:
                _originals[(owner, name)] = getattr(owner, name)
                operation = _originals[(owner, name)]
                if owner is DynamoDBBackend and name == "transact_write_items":
                    operation = _with_item_rollback(operation)
                setattr(owner, name, _serialized(operation))


def uninstall() -> None:
    with _lock:
        for (owner, name), original in _originals.items():
            setattr(owner, name, original)
        _originals.clear()
