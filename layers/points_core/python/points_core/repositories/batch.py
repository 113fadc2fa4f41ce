"""BatchGetItem / BatchWriteItem in chunks, retrying unprocessed items with jittered backoff."""

from __future__ import annotations

import random
import time
from collections.abc import Iterator, Mapping, Sequence
from typing import Any

from points_core.domain.errors import UnprocessedItemsError

BATCH_GET_LIMIT = 100
BATCH_WRITE_LIMIT = 25
MAX_UNPROCESSED_RETRIES = 8


def _chunks(items: Sequence[Any], size: int) -> Iterator[Sequence[Any]]:
    for start in range(0, len(items), size):
        yield items[start : start + size]


def _backoff(attempt: int) -> None:
    time.sleep(random.uniform(0, min(1.0, 0.025 * 2**attempt)))  # noqa: S311 - jitter, not security


def batch_get_tables(
    client: Any, keys_by_table: Mapping[str, Sequence[dict[str, Any]]], *, consistent: bool = False
) -> dict[str, list[dict[str, Any]]]:
    """Items of several tables, in as few BatchGetItem calls as the 100-key limit allows."""
    found: dict[str, list[dict[str, Any]]] = {table: [] for table in keys_by_table}
    wanted = [(table, key) for table, table_keys in keys_by_table.items() for key in table_keys]
    for chunk in _chunks(wanted, BATCH_GET_LIMIT):
        request: dict[str, Any] = {}
        for table, key in chunk:
            request.setdefault(table, {"Keys": [], "ConsistentRead": consistent})["Keys"].append(key)
        for attempt in range(MAX_UNPROCESSED_RETRIES + 1):
            response = client.batch_get_item(RequestItems=request)
            for table, items in response.get("Responses", {}).items():
                found[table].extend(items)
            request = response.get("UnprocessedKeys") or {}
            if not request:
                break
            if attempt == MAX_UNPROCESSED_RETRIES:
                raise UnprocessedItemsError("keys left unprocessed after retries")
            _backoff(attempt)
    return found


def batch_get(
    client: Any, table: str, keys: Sequence[dict[str, Any]], *, consistent: bool = False
) -> list[dict[str, Any]]:
    return batch_get_tables(client, {table: keys}, consistent=consistent)[table]


def batch_write(client: Any, table: str, requests: Sequence[dict[str, Any]]) -> None:
    """`requests` are `{"PutRequest": {...}}` / `{"DeleteRequest": {...}}` entries for `table`."""
    for chunk in _chunks(requests, BATCH_WRITE_LIMIT):
        pending: dict[str, Any] = {table: list(chunk)}
        for attempt in range(MAX_UNPROCESSED_RETRIES + 1):
            response = client.batch_write_item(RequestItems=pending)
            pending = response.get("UnprocessedItems") or {}
            if not pending:
                break
            if attempt == MAX_UNPROCESSED_RETRIES:
                raise UnprocessedItemsError(f"{table}: writes left unprocessed after retries")
            _backoff(attempt)
