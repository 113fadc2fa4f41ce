"""`wallet`: what a customer holds, read-only: per program, the balance now, lifetime points, tier and wallet
version, and every allocation the wallet item holds with its expiry and a status.

The customer is named as the API names one: the identifier is normalized with the org's country code and
resolved through the same identifier items. Statuses: `spent` (nothing remaining), else `expired` (its expiry
has passed), else `live` (redeemable; the balance is the sum of what live allocations have remaining).
Allocations are listed in the order a redemption draws them: earliest expiry first, no expiry last.

A wallet keeps live allocations only from one write to the next: every award, redemption or reversal prunes
the spent and expired ones (the ledger keeps their history), and a reversal re-creates an allocation it
credits with its original expiry. So an expired allocation shows here until the wallet is written again.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, tzinfo
from decimal import Decimal
from typing import Any

from points_admin import values
from points_admin.connection import Backend
from points_admin.errors import CommandError, NotFound
from points_core.aws.observability import mask_identifier
from points_core.capillary.json_renderer import dumps
from points_core.domain.amounts import decimal_text
from points_core.domain.errors import MalformedIdentifier
from points_core.domain.identifiers import IdentifierType, pick_identifier
from points_core.domain.models import Allocation, OrgConfig, Program, Wallet

LIVE = "live"
EXPIRED = "expired"
SPENT = "spent"
NEVER = "never"
COLUMNS = ("allocation_id", "points", "remaining", "awarded_at", "expires_at", "status")
# Right-aligned in the table: numbers.
_NUMERIC = frozenset({"points", "remaining"})


@dataclass(frozen=True, slots=True)
class WalletRequest:
    org_id: int
    identifier_type: IdentifierType
    identifier: str
    option: str
    """The command-line option the identifier came with, to name it in an error."""
    program_id: int | None = None
    as_json: bool = False


def status(allocation: Allocation, now: datetime) -> str:
    if allocation.remaining <= 0:
        return SPENT
    if allocation.expires_at is not None and allocation.expires_at <= now:
        return EXPIRED
    return LIVE


def _draw_order(allocation: Allocation) -> tuple[bool, datetime, datetime, str]:
    # Wallet.live_allocations' order, applied to every allocation the wallet holds.
    return (
        allocation.expires_at is None,
        allocation.expires_at or allocation.awarded_at,
        allocation.awarded_at,
        allocation.allocation_id,
    )


def _time(value: datetime, zone: tzinfo) -> str:
    return value.astimezone(zone).isoformat()


def _allocation_view(allocation: Allocation, now: datetime, zone: tzinfo) -> dict[str, Any]:
    return {
        "allocation_id": allocation.allocation_id,
        "points": allocation.points,
        "remaining": allocation.remaining,
        "awarded_at": _time(allocation.awarded_at, zone),
        "expires_at": None if allocation.expires_at is None else _time(allocation.expires_at, zone),
        "status": status(allocation, now),
    }


def wallet_view(program: Program, wallet: Wallet, now: datetime, zone: tzinfo) -> dict[str, Any]:
    """One program's wallet as printed; points are `Decimal`, times ISO-8601 strings in `zone`."""
    return {
        "program_id": program.program_id,
        "name": program.name,
        "balance": wallet.balance(now),
        "lifetime_points": wallet.lifetime_points,
        "tier": wallet.tier,
        "version": wallet.version,
        "allocations": [
            _allocation_view(allocation, now, zone)
            for allocation in sorted(wallet.allocations, key=_draw_order)
        ],
    }


def _cell(value: Any) -> str:
    if value is None:
        return NEVER
    if isinstance(value, Decimal):
        return decimal_text(value)
    return str(value)


def _table(rows: list[dict[str, Any]]) -> list[str]:
    cells = [list(COLUMNS), *([_cell(row[column]) for column in COLUMNS] for row in rows)]
    widths = [max(len(line[index]) for line in cells) for index in range(len(COLUMNS))]
    lines = []
    for line in cells:
        parts = [
            text.rjust(width) if column in _NUMERIC else text.ljust(width)
            for column, text, width in zip(COLUMNS, line, widths, strict=True)
        ]
        lines.append("  " + "  ".join(parts).rstrip())
    return lines


def render_text(view: dict[str, Any]) -> str:
    org = f"org {view['org_id']}" + (f" {view['org_name']}" if view["org_name"] else "")
    lines = [f"customer {view['customer_id']} in {org}, as of {view['as_of']}"]
    for program in view["programs"]:
        name = f" {program['name']}" if program["name"] else ""
        lines += [
            "",
            f"program {program['program_id']}{name}",
            f"  balance:         {decimal_text(program['balance'])}",
            f"  lifetime points: {decimal_text(program['lifetime_points'])}",
            f"  tier:            {program['tier'] or '-'}",
            f"  version:         {program['version']}",
        ]
        lines += _table(program["allocations"]) if program["allocations"] else ["  no allocations"]
    return "\n".join(lines)


def _customer_id(request: WalletRequest, org: OrgConfig, backend: Backend) -> str:
    try:
        identifier = pick_identifier(
            {request.identifier_type.value: request.identifier},
            org.country_code,
            org.mobile_national_digits,
        )
    except MalformedIdentifier as error:
        raise CommandError(f"{request.option}: {error}") from None
    customers = backend.customers
    customer_id = customers.resolve(org.org_id, identifier)
    # An id resolves without a read; an identifier item may outlive an interrupted load: the profile decides.
    if customer_id is None or customer_id not in customers.profiles(org.org_id, [customer_id]):
        masked = mask_identifier(identifier.type.value, identifier.value)
        raise NotFound(f"no customer with {identifier.type.value} {masked} in org {org.org_id}")
    return customer_id


def run(request: WalletRequest, backend: Backend) -> int:
    org = backend.config.org(request.org_id)
    if org is None:
        raise CommandError(f"org {request.org_id} is not configured (run apply-config first)")
    try:
        zone = values.org_zone(org)
    except ValueError as error:
        raise CommandError(str(error)) from None
    if request.program_id is None:
        programs = list(org.programs)
    else:
        program = org.program(request.program_id)
        if program is None:
            raise CommandError(f"--program: {request.program_id} is not a program of org {org.org_id}")
        programs = [program]

    customer_id = _customer_id(request, org, backend)
    now = datetime.now(UTC)
    wallets = [
        (program, wallet)
        for program in programs
        if (wallet := backend.customers.wallet(org.org_id, customer_id, program.program_id)) is not None
    ]
    if not wallets:
        where = (
            f"program {request.program_id}" if request.program_id is not None else "any program"
        ) + f" of org {org.org_id}"
        raise NotFound(f"customer {customer_id} has no wallet in {where}")

    view = {
        "org_id": org.org_id,
        "org_name": org.name,
        "customer_id": customer_id,
        "as_of": now.astimezone(zone).isoformat(timespec="seconds"),
        "programs": [wallet_view(program, wallet, now, zone) for program, wallet in wallets],
    }
    print(dumps(view) if request.as_json else render_text(view))
    return 0
