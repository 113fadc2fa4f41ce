"""Recording a redemption: one TransactWriteItems, so nothing is ever half done.

Together, and each conditional: the wallet at the version that was read (no double spend), the redemption
(a fresh id), the `external_reference_number` marker (unique in the org, forever), the bill marker, the
ledger entry, and the consumption of the validation code (still the one checked, unexpired, alive, for
at least these points). `CancellationReasons` come back by position and map to what to do next.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from enum import StrEnum
from typing import Any

from botocore.exceptions import ClientError

from points_core.domain.models import Redemption, Wallet
from points_core.repositories import keys
from points_core.repositories.codec import from_item, serialize, to_item
from points_core.repositories.otp import code_names


class RecordKind(StrEnum):
    """What an item under `keys.redemption` is: redemption and reversal ids share one namespace."""

    REDEMPTION = "redemption"
    REVERSAL = "reversal"


class Refusal(StrEnum):
    WALLET_CHANGED = "wallet changed"
    ID_TAKEN = "redemption id taken"
    DUPLICATE_REFERENCE = "reference already used"
    CODE_CHANGED = "validation code no longer valid"
    REDEMPTION_CHANGED = "redemption reversed meanwhile"
    CONFLICT = "another transaction on the same items"


class NotRecorded(Exception):
    def __init__(self, refusals: set[Refusal]) -> None:
        super().__init__(", ".join(sorted(refusals)))
        self.refusals = refusals


def transact(client: Any, items: list[tuple[Refusal, dict[str, Any]]]) -> None:
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


@dataclass(frozen=True, slots=True)
class CodeToConsume:
    program_id: int
    nonce: str
    points: Decimal
    now: int
    max_attempts: int


@dataclass(frozen=True, slots=True)
class UsedReference:
    redemption_id: str
    customer_id: str
    balance_after: Decimal
    program_id: int | None = None
    """Absent on markers written before reversals needed it."""

    @classmethod
    def from_item(cls, item: dict[str, Any]) -> UsedReference:
        values = from_item(item)
        program_id = values.get("program_id")
        return cls(
            values["redemption_id"],
            values["customer_id"],
            Decimal(values["balance_after"]),
            int(program_id) if program_id is not None else None,
        )


class RedemptionRepository:
    def __init__(self, client: Any, *, redemptions: str, customers: str, ledger: str, otp: str) -> None:
        self._client = client
        self._redemptions = redemptions
        self._customers = customers
        self._ledger = ledger
        self._otp = otp

    @property
    def table(self) -> str:
        return self._redemptions

    def record(
        self,
        org_id: int,
        redemption: Redemption,
        previous_version: int,
        wallet: Wallet,
        code: CodeToConsume | None,
    ) -> None:
        customer_id = redemption.customer_id
        items: list[tuple[Refusal, dict[str, Any]]] = [
            (
                Refusal.WALLET_CHANGED,
                {
                    "Put": {
                        "TableName": self._customers,
                        "Item": to_item(
                            wallet.model_dump(), keys.wallet(org_id, customer_id, wallet.program_id)
                        ),
                        "ConditionExpression": "version = :version",
                        "ExpressionAttributeValues": {":version": serialize(previous_version)},
                    }
                },
            ),
            (
                Refusal.ID_TAKEN,
                {
                    "Put": {
                        "TableName": self._redemptions,
                        "Item": to_item(
                            {"kind": RecordKind.REDEMPTION, **redemption.model_dump()},
                            keys.redemption(org_id, redemption.redemption_id),
                        ),
                        "ConditionExpression": "attribute_not_exists(pk)",
                    }
                },
            ),
            (
                Refusal.CONFLICT,
                {
                    "Put": {
                        "TableName": self._ledger,
                        "Item": to_item(
                            {
                                "kind": "redemption",
                                "redemption_id": redemption.redemption_id,
                                "program_id": redemption.program_id,
                                "points": -redemption.points,
                                "balance_after": redemption.balance_after,
                                "draws": [draw.model_dump() for draw in redemption.draws],
                                "recorded_at": redemption.recorded_at,
                            },
                            keys.redemption_entry(
                                org_id, customer_id, redemption.program_id, redemption.redemption_id
                            ),
                        ),
                        "ConditionExpression": "attribute_not_exists(pk)",
                    }
                },
            ),
        ]
        if redemption.external_reference_number:
            marker = {
                "redemption_id": redemption.redemption_id,
                "customer_id": customer_id,
                "program_id": redemption.program_id,
                "balance_after": redemption.balance_after,
                "external_reference_number": redemption.external_reference_number,
            }
            items.append(
                (
                    Refusal.DUPLICATE_REFERENCE,
                    {
                        "Put": {
                            "TableName": self._redemptions,
                            "Item": to_item(
                                marker, keys.reference(org_id, redemption.external_reference_number)
                            ),
                            "ConditionExpression": "attribute_not_exists(pk)",
                        }
                    },
                )
            )
        if redemption.transaction_number:
            on_bill = {
                "redemption_id": redemption.redemption_id,
                "customer_id": customer_id,
                "program_id": redemption.program_id,
                "points": redemption.points,
                "transaction_number": redemption.transaction_number,
            }
            items.append(
                (
                    Refusal.CONFLICT,
                    {
                        "Put": {
                            "TableName": self._redemptions,
                            "Item": to_item(
                                on_bill,
                                keys.bill_redemption(
                                    org_id, redemption.transaction_number, redemption.redemption_id
                                ),
                            ),
                        }
                    },
                )
            )
        if code is not None:
            names = code_names(code.program_id)
            items.append(
                (
                    Refusal.CODE_CHANGED,
                    {
                        "Update": {
                            "TableName": self._otp,
                            "Key": keys.otp_state(org_id, customer_id),
                            "UpdateExpression": "REMOVE #nonce, #issued, #expires, #points, #attempts",
                            "ConditionExpression": (
                                "#nonce = :nonce AND #expires > :now AND #attempts < :max_attempts "
                                "AND #points >= :points"
                            ),
                            "ExpressionAttributeNames": names,
                            "ExpressionAttributeValues": {
                                ":nonce": serialize(code.nonce),
                                ":now": serialize(code.now),
                                ":max_attempts": serialize(code.max_attempts),
                                ":points": serialize(code.points),
                            },
                        }
                    },
                )
            )
        transact(self._client, items)

    def used_reference(self, item: dict[str, Any]) -> UsedReference:
        return UsedReference.from_item(item)
