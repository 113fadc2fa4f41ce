"""Recording a redemption: one TransactWriteItems, so nothing is ever half done.

Together, and each conditional: the wallet at the version that was read (no double spend), the redemption
(a fresh id), the `external_reference_number` marker (unique in the org, forever), the bill marker, the
ledger entry, and the consumption of the validation code (still the one checked, unexpired, alive, for
at least these points). `CancellationReasons` come back by position and map to what to do next.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from points_core.aws.observability import tracer
from points_core.domain.errors import Refusal
from points_core.domain.models import Redemption
from points_core.repositories import keys
from points_core.repositories.items import RecordKind
from points_core.repositories.otp import code_names
from points_core.repositories.transactions import WriteItem, insert, transact, update
from points_core.repositories.wallets import WalletChange, layout_writes


@dataclass(frozen=True, slots=True)
class CodeToConsume:
    program_id: int
    nonce: str
    points: Decimal
    now: int
    max_attempts: int


def draws(redemption: Redemption) -> list[dict[str, Any]]:
    """The draws as stored: what each has (a draw of a bucket has no allocation fields)."""
    return [draw.model_dump(exclude_defaults=True) for draw in redemption.draws]


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

    @tracer.capture_method(capture_response=False)
    def record(
        self,
        org_id: int,
        redemption: Redemption,
        wallets: Sequence[WalletChange],
        code: CodeToConsume | None,
    ) -> None:
        """Everything a redemption writes, in one transaction; `NotRecorded` when any condition refused. Each
        wallet drawn from (one; a group redemption's, several) is written with a ledger entry of its own."""
        items = [
            item
            for change in wallets
            for item in layout_writes(
                self._customers, org_id, change.customer_id, change.layout, change.previous_version
            )
        ]
        items.append(
            insert(
                self._redemptions,
                keys.redemption(org_id, redemption.redemption_id),
                {"kind": RecordKind.REDEMPTION, **redemption.model_dump(), "draws": draws(redemption)},
                Refusal.ID_TAKEN,
            )
        )
        items.extend(self._ledger_entry(org_id, redemption, change) for change in wallets)
        items.extend(self._markers(org_id, redemption))
        if code is not None:
            items.append(self._consumption(org_id, redemption.customer_id, code))
        transact(self._client, items)

    def _ledger_entry(self, org_id: int, redemption: Redemption, change: WalletChange) -> WriteItem:
        """The entry in the ledger of the wallet drawn from: what it gave and its balance after."""
        wallet = (change.customer_id, change.layout.wallet.program_id)
        own = [draw for draw in redemption.draws if redemption.wallet_of(draw) == wallet]
        entry: dict[str, Any] = {
            "kind": RecordKind.REDEMPTION,
            "redemption_id": redemption.redemption_id,
            "program_id": wallet[1],
            "points": -sum((draw.points for draw in own), Decimal(0)),
            "balance_after": change.layout.wallet.balance(redemption.recorded_at),
            "draws": [draw.model_dump(exclude_defaults=True) for draw in own],
            "recorded_at": redemption.recorded_at,
        }
        if change.customer_id != redemption.customer_id:
            entry["redeemed_by"] = redemption.customer_id
        if wallet[1] != redemption.program_id:
            entry["redeemed_in"] = redemption.program_id
        key = keys.redemption_entry(org_id, change.customer_id, wallet[1], redemption.redemption_id)
        return insert(self._ledger, key, entry, Refusal.CONFLICT)

    def _markers(self, org_id: int, redemption: Redemption) -> list[WriteItem]:
        """The reference (used once in the org, forever: 744) and the bill (for the revert by bill)."""
        names = {
            "redemption_id": redemption.redemption_id,
            "customer_id": redemption.customer_id,
            "program_id": redemption.program_id,
        }
        markers: list[WriteItem] = []
        if reference := redemption.external_reference_number:
            marker = {
                **names,
                "balance_after": redemption.balance_after,
                "external_reference_number": reference,
            }
            markers.append(
                insert(
                    self._redemptions, keys.reference(org_id, reference), marker, Refusal.DUPLICATE_REFERENCE
                )
            )
        if bill := redemption.transaction_number:
            on_bill = {**names, "points": redemption.points, "transaction_number": bill}
            key = keys.bill_redemption(org_id, bill, redemption.redemption_id)
            markers.append(insert(self._redemptions, key, on_bill, Refusal.CONFLICT))
        return markers

    def _consumption(self, org_id: int, customer_id: str, code: CodeToConsume) -> WriteItem:
        """The validation code is used up: only if it is still the one checked, unexpired, alive, and issued
        for at least these points."""
        return update(
            self._otp,
            keys.otp_state(org_id, customer_id),
            "REMOVE #nonce, #issued, #expires, #points, #attempts, #verifier",
            "#nonce = :nonce AND #expires > :now AND #attempts < :max_attempts AND #points >= :points",
            {
                ":nonce": code.nonce,
                ":now": code.now,
                ":max_attempts": code.max_attempts,
                ":points": code.points,
            },
            Refusal.CODE_CHANGED,
            names=code_names(code.program_id),
        )
