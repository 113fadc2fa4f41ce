"""Counting AWS round trips (DynamoDB's, and Secrets Manager's where a function reads a secret) and the
capacity DynamoDB's consume, by DynamoDB's own sizing rules.

moto reports a flat capacity whatever the item size, so capacity is computed from the items a call returns:
an eventually consistent read costs 0.5 RCU per started 4 KB of each item (1 RCU when strongly consistent).
"""

from __future__ import annotations

import math
import time
from collections import Counter
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

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


@dataclass
class Meter:
    """Attach to boto3 clients (DynamoDB, Secrets Manager); calls, by operation, and capacity accumulate until
    `reset()`."""

    calls: Counter[str] = field(default_factory=Counter)
    read_units: float = 0.0
    write_units: float = 0.0
    aws_seconds: float = 0.0
    _started: dict[int, float] = field(default_factory=dict)
    _params: dict[int, dict[str, Any]] = field(default_factory=dict)

    def attach(self, client: Any) -> Meter:
        service = client.meta.service_model.service_id.hyphenize()
        client.meta.events.register(f"before-parameter-build.{service}", self._parameters)
        client.meta.events.register(f"before-call.{service}", self._before)
        client.meta.events.register(f"after-call.{service}", self._after)
        return self

    def reset(self) -> None:
        self.calls.clear()
        self.read_units = 0.0
        self.write_units = 0.0
        self.aws_seconds = 0.0

    def _parameters(self, params: dict[str, Any], context: dict[str, Any], **_: Any) -> None:
        self._params[id(context)] = params

    def _before(self, model: Any, context: dict[str, Any], **_: Any) -> None:
        self.calls[model.name] += 1
        self._started[id(context)] = time.perf_counter()

    def _after(self, model: Any, parsed: dict[str, Any], context: dict[str, Any], **_: Any) -> None:
        self.aws_seconds += time.perf_counter() - self._started.pop(id(context), time.perf_counter())
        params = self._params.pop(id(context), {})
        if model.name == "GetItem":
            item = parsed.get("Item")
            consistent = bool(params.get("ConsistentRead"))
            self.read_units += (
                read_units(item, consistent=consistent) if item else (1.0 if consistent else 0.5)
            )
        elif model.name in ("UpdateItem", "PutItem", "DeleteItem"):
            # A write costs 1 WCU per started KB of the larger of the old and new item; the old image (our
            # writes ask for it) stands for both, the change being a few bytes.
            old = parsed.get("Attributes") or {}
            self.write_units += math.ceil(max(item_size(old), 1) / WRITE_UNIT_BYTES)
        elif model.name == "TransactWriteItems":
            # Transactional writes cost double: 2 WCU per started KB of each item (an update counts as 1 KB).
            for entry in params.get("TransactItems", []):
                size = item_size(entry["Put"]["Item"]) if "Put" in entry else WRITE_UNIT_BYTES
                self.write_units += 2 * math.ceil(size / WRITE_UNIT_BYTES)
        elif model.name == "BatchGetItem":
            requests = params.get("RequestItems", {})
            for table, items in parsed.get("Responses", {}).items():
                consistent = bool(requests.get(table, {}).get("ConsistentRead"))
                self.read_units += sum(read_units(item, consistent=consistent) for item in items)
