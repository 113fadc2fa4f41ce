"""Counting AWS round trips (DynamoDB's, and Secrets Manager's where a function reads a secret) and the
capacity DynamoDB's consume, by DynamoDB's own sizing rules.

moto reports a flat capacity whatever the item size, so capacity is computed from the items themselves: an
eventually consistent read costs 0.5 RCU per started 4 KB of each item it returns (1 RCU when strongly
consistent); a write costs 1 WCU per started KB of the larger of the item before and after it (twice that in a
transaction). A write rarely returns both images, so the meter reads them itself ("peeks"), with a client of
its own that it does not meter: each item a write touches, just before the call and just after it.
"""

from __future__ import annotations

import functools
import math
import time
from collections import Counter
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

import botocore.session

READ_UNIT_BYTES = 4096
WRITE_UNIT_BYTES = 1024


def attribute_size(value: dict[str, Any]) -> int:
    """Bytes DynamoDB bills for one attribute value (approximation of the published rules)."""
    ((kind, content),) = value.items()
    if kind == "S":
        return len(content.encode())
    if kind == "N":
        digits = len(Decimal(content).normalize().as_tuple().digits)
        return math.ceil(digits / 2) + 1
    if kind in ("BOOL", "NULL"):
        return 1
    if kind == "L":
        return 3 + sum(1 + attribute_size(item) for item in content)
    if kind == "M":
        return 3 + sum(1 + len(name.encode()) + attribute_size(item) for name, item in content.items())
    if kind == "B":
        return len(content)
    return sum(attribute_size({kind[0]: element}) for element in content)


def item_size(item: dict[str, Any]) -> int:
    return sum(len(name.encode()) + attribute_size(value) for name, value in item.items())


def read_units(item: dict[str, Any], *, consistent: bool) -> float:
    units = math.ceil(max(item_size(item), 1) / READ_UNIT_BYTES)
    return float(units if consistent else units / 2)


def write_units(*images: dict[str, Any]) -> int:
    """1 WCU per started KB of the largest of an item's images (an absent item, {}, counts as 1 KB)."""
    return math.ceil(max(1, *(item_size(image) for image in images)) / WRITE_UNIT_BYTES)


WRITES = ("PutItem", "UpdateItem", "DeleteItem", "TransactWriteItems")
Target = tuple[str, dict[str, Any]]  # (table, key) of an item a write touches


class Peeker:
    """Reads, strongly consistent, the items a write touches, with a DynamoDB client of its own: the metered
    client's endpoint, region and credentials, never attached to a meter."""

    def __init__(self, client: Any) -> None:
        # botocore has no public accessor for a client's credentials; this private one is botocore's own.
        credentials = client._get_credentials()
        frozen = credentials.get_frozen_credentials() if credentials else None
        self._client: Any = botocore.session.Session().create_client(
            "dynamodb",
            region_name=client.meta.region_name,
            endpoint_url=client.meta.endpoint_url,
            aws_access_key_id=frozen.access_key if frozen else None,
            aws_secret_access_key=frozen.secret_key if frozen else None,
            aws_session_token=frozen.token if frozen else None,
        )
        self._key_names: dict[str, list[str]] = {}

    def targets(self, operation: str, params: dict[str, Any]) -> list[Target]:
        """The items a write touches, in the order of its request (a transaction's entries)."""
        if operation == "TransactWriteItems":
            # Each entry is one action: {"Put" | "Update" | "Delete" | "ConditionCheck": request}.
            return [self._target(request) for entry in params["TransactItems"] for request in entry.values()]
        return [self._target(params)]

    def read(self, targets: list[Target]) -> list[dict[str, Any]]:
        """Each target's item as it is now ({} where there is none)."""
        return [
            self._client.get_item(TableName=table, Key=key, ConsistentRead=True).get("Item", {})
            for table, key in targets
        ]

    def _target(self, request: dict[str, Any]) -> Target:
        table = request["TableName"]
        if "Key" in request:
            return table, request["Key"]
        # A Put names its item, not its key: the key is the item's attributes of the table's key schema.
        if table not in self._key_names:
            schema = self._client.describe_table(TableName=table)["Table"]["KeySchema"]
            self._key_names[table] = [element["AttributeName"] for element in schema]
        return table, {name: request["Item"][name] for name in self._key_names[table]}


@dataclass
class Meter:
    """Attach to boto3 clients (DynamoDB, Secrets Manager); calls, by operation, and capacity accumulate until
    `reset()`. The peeks are the meter's, not the service's: they are in neither `calls`, the capacity nor
    `aws_seconds`; `peek_seconds` is the time they took (inside the handler's time, when a handler wrote)."""

    calls: Counter[str] = field(default_factory=Counter)
    read_units: float = 0.0
    write_units: float = 0.0
    aws_seconds: float = 0.0
    peek_seconds: float = 0.0
    items_read: int = 0
    bytes_read: int = 0
    items_written: int = 0
    bytes_written: int = 0
    """Items a write touched and the bytes of each (the larger of its images), as the capacity counts them."""
    _started: dict[int, float] = field(default_factory=dict)
    _params: dict[int, dict[str, Any]] = field(default_factory=dict)
    _before_images: dict[int, tuple[list[Target], list[dict[str, Any]]]] = field(default_factory=dict)
    _attached: set[int] = field(default_factory=set)

    def attach(self, client: Any) -> Meter:
        """Count this client's calls (once: a client attached already is left as it is)."""
        if id(client) in self._attached:
            return self
        self._attached.add(id(client))
        service = client.meta.service_model.service_id.hyphenize()
        peeker = Peeker(client) if service == "dynamodb" else None
        client.meta.events.register(f"before-parameter-build.{service}", self._parameters)
        client.meta.events.register(f"before-call.{service}", functools.partial(self._before, peeker))
        client.meta.events.register(f"after-call.{service}", functools.partial(self._after, peeker))
        return self

    def reset(self) -> None:
        self.calls.clear()
        self.read_units = 0.0
        self.write_units = 0.0
        self.aws_seconds = 0.0
        self.peek_seconds = 0.0
        self.items_read = self.bytes_read = self.items_written = self.bytes_written = 0

    def _parameters(self, params: dict[str, Any], context: dict[str, Any], **_: Any) -> None:
        self._params[id(context)] = params

    def _before(self, peeker: Peeker | None, model: Any, context: dict[str, Any], **_: Any) -> None:
        self.calls[model.name] += 1
        if peeker and model.name in WRITES:
            peeked = time.perf_counter()
            targets = peeker.targets(model.name, self._params.get(id(context), {}))
            self._before_images[id(context)] = targets, peeker.read(targets)
            self.peek_seconds += time.perf_counter() - peeked
        self._started[id(context)] = time.perf_counter()

    def _after(
        self, peeker: Peeker | None, model: Any, parsed: dict[str, Any], context: dict[str, Any], **_: Any
    ) -> None:
        self.aws_seconds += time.perf_counter() - self._started.pop(id(context), time.perf_counter())
        params = self._params.pop(id(context), {})
        if peeker and id(context) in self._before_images:
            peeked = time.perf_counter()
            targets, before = self._before_images.pop(id(context))
            self._write(model.name, params, before, peeker.read(targets))
            self.peek_seconds += time.perf_counter() - peeked
        if model.name == "GetItem":
            item = parsed.get("Item")
            consistent = bool(params.get("ConsistentRead"))
            self.read_units += (
                read_units(item, consistent=consistent) if item else (1.0 if consistent else 0.5)
            )
            self._count_read([item] if item else [])
        elif model.name == "BatchGetItem":
            requests = params.get("RequestItems", {})
            for table, items in parsed.get("Responses", {}).items():
                consistent = bool(requests.get(table, {}).get("ConsistentRead"))
                self.read_units += sum(read_units(item, consistent=consistent) for item in items)
                self._count_read(items)
        elif model.name == "Query":
            # A Query costs by the total size of the items it read, rounded up to 4 KB once (not per item).
            items = parsed.get("Items", [])
            total = sum(item_size(item) for item in items)
            units = math.ceil(max(total, 1) / READ_UNIT_BYTES)
            self.read_units += float(units if params.get("ConsistentRead") else units / 2)
            self._count_read(items)

    def _count_read(self, items: list[dict[str, Any]]) -> None:
        self.items_read += len(items)
        self.bytes_read += sum(item_size(item) for item in items)

    def _write(
        self,
        operation: str,
        params: dict[str, Any],
        before: list[dict[str, Any]],
        after: list[dict[str, Any]],
    ) -> None:
        """A write's capacity, from each item it touched as it was before the call and after it.

        A write that failed (a condition not met, a transaction cancelled) left its items as they were and is
        billed all the same: a Put by the larger of the item there and the one it would have put, which is
        why a Put's own item is one of its images.
        """
        if operation == "TransactWriteItems":
            # Transactional writes cost double: DynamoDB performs two underlying writes of every item of the
            # transaction, one to prepare it, one to commit it. That includes a ConditionCheck's item: the AWS
            # developer guide ("Capacity management for transactions", transaction-apis.html) says "two
            # underlying reads or writes of every item in the transaction" without singling checks out or
            # saying which of the two a check is; the meter bills it, as a write transaction's entry, like a
            # transactional write of the checked item (before and after are the same item).
            for entry, old, new in zip(params["TransactItems"], before, after, strict=True):
                put = entry.get("Put", {}).get("Item", {})
                self.write_units += 2 * write_units(old, new, put)
                self._count_written(old, new, put)
        else:
            (old,), (new,) = before, after
            self.write_units += write_units(old, new, params.get("Item", {}))
            self._count_written(old, new, params.get("Item", {}))

    def _count_written(self, *images: dict[str, Any]) -> None:
        self.items_written += 1
        self.bytes_written += max(item_size(image) for image in images)
