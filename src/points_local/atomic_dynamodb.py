"""Make moto's DynamoDB as atomic as DynamoDB.

DynamoDB applies each request to an item atomically: a conditional write cannot interleave with another
write of the same item, and a transaction is all or nothing against concurrent requests. moto's in-memory
backend has no locking, so under threads (the local stack's HTTP server, concurrency tests) a condition can
be checked, another request can write, and the first then writes too. Serializing the data operations of the
backend restores the service's guarantees; throughput is not what the local stack is for.
"""

from __future__ import annotations

import functools
import threading
from collections.abc import Callable
from typing import Any

from moto.dynamodb.models import DynamoDBBackend

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
_lock = threading.RLock()
_originals: dict[str, Callable[..., Any]] = {}


def _serialized(operation: Callable[..., Any]) -> Callable[..., Any]:
    @functools.wraps(operation)
    def locked(*args: Any, **kwargs: Any) -> Any:
        with _lock:
            return operation(*args, **kwargs)

    return locked


def install() -> None:
    """Idempotent; lasts until `uninstall()`."""
    with _lock:
        for name in _DATA_OPERATIONS:
            if name not in _originals:
                _originals[name] = getattr(DynamoDBBackend, name)
                setattr(DynamoDBBackend, name, _serialized(_originals[name]))


def uninstall() -> None:
    with _lock:
        for name, original in _originals.items():
            setattr(DynamoDBBackend, name, original)
        _originals.clear()
