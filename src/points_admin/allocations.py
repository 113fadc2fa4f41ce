"""`import-allocations FILE --org ORG_ID`: point allocations (the points a customer was awarded, each with
its own expiry) from a CSV file with a header.

Columns (any order; an unknown column stops the import before any row is read):

    customer_id     required: an existing customer of the org
    program_id      required: one of the org's programs
    allocation_id   required, at most 128 characters, unique per customer and program: importing the same
                    id again changes nothing, which is what makes a re-run safe
    points          required: a decimal greater than 0 with at most 3 decimal places
    awarded_at      required: ISO-8601 date and time, e.g. 2026-01-15T10:00:00+05:30; without an offset it
                    is the org's local time (its `timezone`)
    expires_at      optional, the same form; empty means the points never expire; after awarded_at
    tier            optional: sets the customer's tier in that program (the file's last one wins)

An allocation that has expired already is still imported: it counts in the customer's lifetime points, not in
the balance. A repeated customer + program + allocation id within the file is rejected.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from functools import partial

from points_admin import values
from points_admin.csv_import import Outcome, Rejected, Row, RowError
from points_core.domain.errors import GaveUp
from points_core.domain.models import OrgConfig
from points_core.repositories import CustomerRepository
from points_core.services.loading import Award, award_points

COLUMNS: tuple[str, ...] = (
    "customer_id",
    "program_id",
    "allocation_id",
    "points",
    "awarded_at",
    "expires_at",
    "tier",
)
REQUIRED = frozenset({"customer_id", "program_id", "allocation_id", "points", "awarded_at"})
ALLOCATION_ID_MAX_LENGTH = 128
TIER_MAX_LENGTH = 64


@dataclass(frozen=True, slots=True)
class AllocationRow:
    customer_id: str
    program_id: int
    award: Award
    tier: str | None


def _text(row: Row, column: str, max_length: int) -> str:
    value = row.get(column)
    if len(value) > max_length or any(ord(char) < 32 for char in value):
        raise RowError(f"{column}: at most {max_length} printable characters")
    return value


class AllocationRows:
    columns = COLUMNS
    required = REQUIRED

    def __init__(self, org: OrgConfig, customers: CustomerRepository) -> None:
        self._org = org
        self._zone = values.org_zone(org)
        self._customers = customers
        self._lines: dict[tuple[str, int, str], int] = {}

    def _program_id(self, row: Row) -> int:
        text = row.get("program_id")
        program_id = int(text) if text.isascii() and text.isdigit() else None
        if program_id is None or self._org.program(program_id) is None:
            programs = ", ".join(str(program.program_id) for program in self._org.programs)
            raise RowError(f"program_id: not a program of org {self._org.org_id} (programs: {programs})")
        return program_id

    def _timestamp(self, row: Row, column: str) -> datetime:
        if not row.get(column):
            raise RowError(f"{column}: required")
        return row.parsed(column, partial(values.timestamp, zone=self._zone))

    def parse(self, row: Row) -> AllocationRow:
        customer_id = row.parsed("customer_id", values.customer_id)
        program_id = self._program_id(row)
        allocation_id = _text(row, "allocation_id", ALLOCATION_ID_MAX_LENGTH)
        if not allocation_id:
            raise RowError("allocation_id: required")
        points = row.parsed("points", values.points)
        awarded_at = self._timestamp(row, "awarded_at")
        expires_at = self._timestamp(row, "expires_at") if row.get("expires_at") else None
        if expires_at is not None and expires_at <= awarded_at:
            raise RowError("expires_at: must be after awarded_at")
        tier = _text(row, "tier", TIER_MAX_LENGTH) or None

        key = (customer_id, program_id, allocation_id)
        earlier = self._lines.get(key)
        if earlier is not None:
            raise RowError(
                f"allocation_id {allocation_id} of this customer and program is already on line {earlier}"
            )
        self._lines[key] = row.line
        return AllocationRow(
            customer_id, program_id, Award(allocation_id, points, awarded_at, expires_at), tier
        )

    def write(self, batch: Sequence[tuple[Row, AllocationRow]]) -> list[Outcome | Rejected]:
        org_id = self._org.org_id
        existing = self._customers.profiles(org_id, [allocation.customer_id for _, allocation in batch])
        outcomes: dict[int, Outcome | Rejected] = {}
        # One wallet write per customer and program, however many of its rows the batch holds.
        wallets: dict[tuple[str, int], list[tuple[Row, AllocationRow]]] = {}
        for row, allocation in batch:
            if allocation.customer_id in existing:
                wallets.setdefault((allocation.customer_id, allocation.program_id), []).append(
                    (row, allocation)
                )
            else:
                outcomes[row.line] = Rejected(
                    f"customer {allocation.customer_id} does not exist in org {org_id}"
                )
        now = datetime.now(UTC)
        for (customer_id, program_id), rows in wallets.items():
            tiers = [allocation.tier for _, allocation in rows if allocation.tier is not None]
            try:
                result = award_points(
                    org_id,
                    customer_id,
                    program_id,
                    [allocation.award for _, allocation in rows],
                    now,
                    tier=tiers[-1] if tiers else None,
                    customers=self._customers,
                )
            except GaveUp as error:
                outcomes.update({row.line: Rejected(str(error)) for row, _ in rows})
                continue
            created, conflicting = set(result.created), set(result.conflicting)
            for row, allocation in rows:
                allocation_id = allocation.award.allocation_id
                if allocation_id in conflicting:
                    outcomes[row.line] = Rejected(
                        f"allocation_id {allocation_id} was imported before with other points or expiry; "
                        "an imported allocation is never changed"
                    )
                else:
                    outcomes[row.line] = Outcome.CREATED if allocation_id in created else Outcome.UNCHANGED
        return [outcomes[row.line] for row, _ in batch]
