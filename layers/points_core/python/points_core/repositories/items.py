"""Items read from DynamoDB, as domain values: nothing raw leaves the repositories."""

from __future__ import annotations

from decimal import Decimal
from enum import StrEnum
from typing import Any

from points_core.domain.models import BillEntry, Contact, Redemption, ReversalRecord, UsedReference
from points_core.repositories.codec import from_item, load_model


class RecordKind(StrEnum):
    """What an item under `keys.redemption` is: redemption and reversal ids share one namespace."""

    REDEMPTION = "redemption"
    REVERSAL = "reversal"


def contact(item: dict[str, Any]) -> Contact:
    """From a profile or an identifier item (both carry these)."""
    values = from_item(item)
    return Contact(
        values["customer_id"],
        values.get("mobile", ""),
        values.get("email", ""),
        values.get("external_id", ""),
    )


def _program_id(values: dict[str, Any]) -> int | None:
    program_id = values.get("program_id")
    return int(program_id) if program_id is not None else None


def used_reference(item: dict[str, Any]) -> UsedReference:
    values = from_item(item)
    return UsedReference(
        values["redemption_id"],
        values["customer_id"],
        Decimal(values["balance_after"]),
        _program_id(values),
    )


def bill_entry(item: dict[str, Any]) -> BillEntry:
    values = from_item(item)
    return BillEntry(
        values["redemption_id"], values["customer_id"], _program_id(values), Decimal(values["points"])
    )


def record(item: dict[str, Any]) -> Redemption | ReversalRecord:
    """What is stored under a redemption id: a redemption, or a reversal (3804)."""
    if item.get("kind", {}).get("S") == RecordKind.REVERSAL:
        values = from_item(item)
        return ReversalRecord(values["reversal_id"], values["customer_id"])
    return load_model(Redemption, item)
