"""Reading what a reversal needs, and recording it: one TransactWriteItems, so nothing is ever half done.

Reads, warm: one BatchGetItem (the customer's identifier and the redemption or its reference marker) and
one read of the redemption's wallet; for a bill, one Query of the bill, then one BatchGetItem. Then one
transaction: each wallet at the version that was read, each redemption at the `reversed_points` that was
read (so two reversals of one redemption can never both count the same points), a reversal record with a
fresh id in the redemptions' id namespace, and a ledger entry.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from points_core.aws.observability import tracer
from points_core.domain.errors import Refusal
from points_core.domain.identifiers import Identifier
from points_core.domain.models import (
    BillEntry,
    Contact,
    Credit,
    Redemption,
    Reversal,
    ReversalRecord,
    UsedReference,
    Wallet,
)
from points_core.repositories import keys
from points_core.repositories.batch import batch_get_tables
from points_core.repositories.codec import serialize
from points_core.repositories.items import RecordKind, bill_entry, contact, record, used_reference
from points_core.repositories.transactions import WriteItem, insert, transact, update
from points_core.repositories.wallets import WalletChange, WalletPages, layout_writes, load_wallet


@dataclass(frozen=True, slots=True)
class Found:
    """The first read of a reverse: who the identifier names, and what the id or reference names."""

    contact: Contact | None = None
    record: Redemption | ReversalRecord | None = None
    reference: UsedReference | None = None


@dataclass(slots=True)
class Loaded:
    """The second read: the customer, redemptions and wallets asked for (missing ones are absent)."""

    contact: Contact | None = None
    redemptions: dict[str, Redemption] = field(default_factory=dict)
    wallets: dict[tuple[str, int], Wallet] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class Given:
    """What one reversal gave one wallet back: its ledger entry."""

    customer_id: str
    program_id: int
    credits: tuple[Credit, ...]
    balance_after: Decimal


def credits(reversal: Reversal) -> list[dict[str, Any]]:
    """The credits as stored: what each has (a credit of a bucket has no allocation)."""
    return [credit.model_dump(exclude_defaults=True) for credit in reversal.credits]


class ReversalRepository:
    def __init__(self, client: Any, *, redemptions: str, customers: str, ledger: str) -> None:
        self._client = client
        self._redemptions = redemptions
        self._customers = customers
        self._ledger = ledger

    @tracer.capture_method(capture_response=False)
    def find(
        self,
        org_id: int,
        identifier: Identifier,
        *,
        redemption_id: str | None,
        reference: str | None,
        consistent: bool,
    ) -> Found:
        """One BatchGetItem: the customer's item, the item under `redemption_id`, the reference marker."""
        customer_key = keys.customer_by(org_id, identifier)
        wanted: dict[str, list[dict[str, Any]]] = {self._customers: [customer_key], self._redemptions: []}
        if redemption_id:
            wanted[self._redemptions].append(keys.redemption(org_id, redemption_id))
        if reference:
            wanted[self._redemptions].append(keys.reference(org_id, reference))
        found: dict[str, Any] = {}
        for table, items in batch_get_tables(self._client, wanted, consistent=consistent).items():
            for item in items:
                if table == self._customers:
                    found["contact"] = contact(item)
                elif item["sk"]["S"] == "REF":
                    found["reference"] = used_reference(item)
                else:
                    found["record"] = record(item)
        return Found(**found)

    @tracer.capture_method(capture_response=False)
    def wallet(self, org_id: int, customer_id: str, program_id: int, *, consistent: bool) -> Wallet | None:
        response = self._client.get_item(
            TableName=self._customers,
            Key=keys.wallet(org_id, customer_id, program_id),
            ConsistentRead=consistent,
        )
        item = response.get("Item")
        return load_wallet(item) if item else None

    def pages(self) -> WalletPages:
        """Reading a wallet's pages, when a reversal needs them."""
        return WalletPages(self._client, self._customers)

    @tracer.capture_method(capture_response=False)
    def on_bill(self, org_id: int, transaction_number: str, *, consistent: bool) -> list[BillEntry]:
        """Every redemption recorded with this transaction number, whoever's (one Query, paginated)."""
        entries: list[BillEntry] = []
        request: dict[str, Any] = {
            "TableName": self._redemptions,
            "KeyConditionExpression": "pk = :pk",
            "ExpressionAttributeValues": {":pk": serialize(keys.bill_partition(org_id, transaction_number))},
            "ConsistentRead": consistent,
        }
        while True:
            response = self._client.query(**request)
            entries.extend(bill_entry(item) for item in response.get("Items", []))
            if "LastEvaluatedKey" not in response:
                return entries
            request["ExclusiveStartKey"] = response["LastEvaluatedKey"]

    @tracer.capture_method(capture_response=False)
    def load(
        self,
        org_id: int,
        *,
        identifier: Identifier | None = None,
        redemption_ids: Iterable[str] = (),
        wallets: Iterable[tuple[str, int]] = (),
        consistent: bool,
    ) -> Loaded:
        """One BatchGetItem (100 keys a call): the customer's item, redemptions, and wallets by (customer,
        program)."""
        customers = [keys.wallet(org_id, customer_id, program_id) for customer_id, program_id in set(wallets)]
        if identifier is not None:
            customers.append(keys.customer_by(org_id, identifier))
        wanted = {
            self._customers: customers,
            self._redemptions: [keys.redemption(org_id, rid) for rid in dict.fromkeys(redemption_ids)],
        }
        loaded = Loaded()
        for table, items in batch_get_tables(self._client, wanted, consistent=consistent).items():
            for item in items:
                if table == self._redemptions:
                    found = record(item)
                    if isinstance(found, Redemption):
                        loaded.redemptions[found.redemption_id] = found
                elif item["sk"]["S"].startswith("WALLET#"):
                    wallet = load_wallet(item)
                    customer_id = item["pk"]["S"].rsplit("#", 1)[-1]
                    loaded.wallets[(customer_id, wallet.program_id)] = wallet
                else:
                    loaded.contact = contact(item)
        return loaded

    @tracer.capture_method(capture_response=False)
    def record(
        self,
        org_id: int,
        reversals: Sequence[tuple[Redemption, Reversal, Sequence[Given]]],
        wallets: Sequence[WalletChange],
    ) -> None:
        """Every wallet, every redemption's new `reversed_points`, every reversal record and its ledger
        entries (one in each wallet given back to), in one transaction; each only if nothing changed since
        it was read. `NotRecorded` otherwise."""
        items = [
            item
            for c in wallets
            for item in layout_writes(self._customers, org_id, c.customer_id, c.layout, c.previous_version)
        ]
        for redemption, reversal, given in reversals:
            items.extend(self._reversal_items(org_id, redemption, reversal, given))
        transact(self._client, items)

    def _reversal_items(
        self, org_id: int, redemption: Redemption, reversal: Reversal, given: Sequence[Given]
    ) -> list[WriteItem]:
        return [
            update(
                self._redemptions,
                keys.redemption(org_id, redemption.redemption_id),
                "SET reversed_points = :reversed",
                "reversed_points = :before AND points >= :reversed",
                {
                    ":before": redemption.reversed_points,
                    ":reversed": redemption.reversed_points + reversal.points,
                },
                Refusal.REDEMPTION_CHANGED,
            ),
            insert(
                self._redemptions,
                keys.redemption(org_id, reversal.reversal_id),
                {"kind": RecordKind.REVERSAL, **reversal.model_dump(), "credits": credits(reversal)},
                Refusal.ID_TAKEN,
            ),
            *(self._ledger_entry(org_id, reversal, wallet) for wallet in given),
        ]

    def _ledger_entry(self, org_id: int, reversal: Reversal, given: Given) -> WriteItem:
        """The entry in the ledger of a wallet given back to: what its balance gained (the expired part kept
        apart) and its balance after."""
        entry: dict[str, Any] = {
            "kind": RecordKind.REVERSAL,
            "reversal_id": reversal.reversal_id,
            "redemption_id": reversal.redemption_id,
            "program_id": given.program_id,
            "points": sum((c.points for c in given.credits if not c.expired), Decimal(0)),
            "expired_points": sum((c.points for c in given.credits if c.expired), Decimal(0)),
            "balance_after": given.balance_after,
            "credits": [c.model_dump(exclude_defaults=True) for c in given.credits],
            "recorded_at": reversal.reversed_at,
        }
        if given.customer_id != reversal.customer_id:
            entry["reversed_for"] = reversal.customer_id
        key = keys.reversal_entry(org_id, given.customer_id, given.program_id, reversal.reversal_id)
        return insert(self._ledger, key, entry, Refusal.CONFLICT)
