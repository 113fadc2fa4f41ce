"""`migrate-wallets`: every wallet of an org still stored as before buckets (its allocations inline) is
written in the new shape, a head of buckets and, past `HEAD_MAX` buckets, its pages, as its first write
(a redemption, a reversal, an award) would write it. A wallet in the old shape keeps working until then.

One Scan of the Customers table finds them (filtered to the org's wallets that still have `allocations`;
the Scan reads the whole table). Each is read again, strongly consistent, laid out as every write lays a
wallet out, and written in one transaction: the head only if it is still at the version read, each new page
only if its key is free. A wallet written meanwhile was converted by that write: it is counted as such and
never overwritten. Expired buckets are dropped, as every write drops them (the ledger keeps every award and
every draw). Running it again converts nothing more, and an interrupted run is safe to run again. With
--dry-run, the wallets are read and nothing is written.
"""

from __future__ import annotations

import random
import sys
import time
from dataclasses import dataclass
from datetime import UTC, datetime
from decimal import Decimal

from botocore.exceptions import BotoCoreError, ClientError
from tqdm import tqdm

from points_admin.connection import Backend
from points_admin.errors import CommandError
from points_core.domain.amounts import decimal_text
from points_core.domain.errors import NotRecorded
from points_core.domain.ledger import arrange
from points_core.domain.models import Bucket
from points_core.repositories import CustomerRepository

MAX_ATTEMPTS = 5
"""Writes of one wallet refused because it changed, each after a fresh read, before the command gives up."""


@dataclass(frozen=True, slots=True)
class MigrateRequest:
    org_id: int
    dry_run: bool = False


@dataclass(slots=True)
class Summary:
    dry_run: bool
    found: int = 0
    converted: int = 0
    meanwhile: int = 0
    expired_buckets: int = 0
    expired_points: Decimal = Decimal(0)

    def __str__(self) -> str:
        would = "would be " if self.dry_run else ""
        points = decimal_text(self.expired_points)
        return (
            f"{self.found} wallets in the old shape: {self.converted} {would}converted, "
            f"{self.meanwhile} already converted meanwhile; {self.expired_buckets} expired buckets "
            f"({points} points) {would or 'were '}dropped, as every write drops them"
        )


def _convert(
    customers: CustomerRepository, org_id: int, customer_id: str, program_id: int, dry_run: bool
) -> list[Bucket] | None:
    """The expired buckets the wallet's conversion drops; None when it is no longer in the old shape (a write
    converted it since the Scan)."""
    for attempt in range(MAX_ATTEMPTS):
        wallet = customers.old_shape_wallet(org_id, customer_id, program_id)
        if wallet is None:
            return None
        now = datetime.now(UTC)
        expired = [bucket for bucket in wallet.buckets if not bucket.is_live(now)]
        if dry_run:
            return expired
        layout = arrange(wallet, wallet.buckets, now)
        try:
            customers.save_awards(org_id, customer_id, wallet.version, layout, ())
        except NotRecorded:
            # Changed since it was read (or another transaction was on it): read it again.
            time.sleep(random.uniform(0, 0.05 * 2**attempt))  # noqa: S311 - jitter, not security
            continue
        return expired
    raise CommandError(
        f"the wallet of customer {customer_id} in program {program_id} kept changing: not converted. The "
        "wallets before it are; running the same command again is safe."
    )


def run(request: MigrateRequest, backend: Backend) -> int:
    customers = backend.customers
    summary = Summary(dry_run=request.dry_run)
    scanned = 0
    # tqdm turns itself off when stderr is not a terminal, as the imports' bar does. Its total is unknown
    # until the Scan ends: it counts the wallets found, and the items the Scan read so far.
    with tqdm(
        desc=f"org {request.org_id}", unit=" wallets", file=sys.stderr, disable=None, leave=False
    ) as bar:
        for read, found in customers.old_shape_wallets(request.org_id):
            scanned += read
            for customer_id, program_id in found:
                try:
                    expired = _convert(customers, request.org_id, customer_id, program_id, request.dry_run)
                except (BotoCoreError, ClientError) as error:
                    raise CommandError(
                        f"converting the wallet of customer {customer_id} in program {program_id}: {error}. "
                        "The wallets before it are converted; running the same command again is safe."
                    ) from error
                summary.found += 1
                if expired is None:
                    summary.meanwhile += 1
                else:
                    summary.converted += 1
                    summary.expired_buckets += len(expired)
                    summary.expired_points += sum((bucket.points for bucket in expired), Decimal(0))
                bar.update(1)
                bar.set_postfix(scanned=scanned, converted=summary.converted, refresh=False)
            bar.set_postfix(scanned=scanned, converted=summary.converted)
    print(summary)
    return 0
