"""`wallet`: what a customer holds, read-only: per program, the balance now, lifetime points, tier and wallet
version, every bucket (the points that expire at one moment) with its status and where it is held (the head
item or which page), and the pages.

The customer is named as the API names one: the identifier is normalized with the org's country code and
resolved through the same identifier items. Statuses: `expired` (its expiry has passed) or `live`
(redeemable; the balance is the sum of the live buckets). Buckets are listed in the order a redemption draws
them: earliest expiry first, no expiry last.

A wallet drops expired buckets only when it is written (an award, a redemption or a reversal; the ledger keeps
every award and every draw), so an expired bucket shows here until then. All the pages are read, whatever
their number: this is the operator's view, not the request path's.
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
from points_core.domain.models import Bucket, OrgConfig, Program, Wallet

LIVE = "live"
EXPIRED = "expired"
NEVER = "never"
HEAD = "head"
COLUMNS = ("expires_at", "points", "status", "held_in")
PAGE_COLUMNS = ("page", "bound", "buckets", "points", "version")
# Right-aligned in the tables: numbers.
_NUMERIC = frozenset({"points", "buckets", "version", "page"})


@dataclass(frozen=True, slots=True)
class WalletRequest:
    org_id: int
    identifier_type: IdentifierType
    identifier: str
    option: str
    """The command-line option the identifier came with, to name it in an error."""
    program_id: int | None = None
    as_json: bool = False


def status(bucket: Bucket, now: datetime) -> str:
    return LIVE if bucket.is_live(now) else EXPIRED


def _time(value: datetime | None, zone: tzinfo) -> str | None:
    return None if value is None else value.astimezone(zone).isoformat()


def _bucket_view(bucket: Bucket, held_in: str, now: datetime, zone: tzinfo) -> dict[str, Any]:
    return {
        "expires_at": _time(bucket.expires_at, zone),
        "points": bucket.points,
        "status": status(bucket, now),
        "held_in": held_in,
    }


def wallet_view(program: Program, wallet: Wallet, now: datetime, zone: tzinfo) -> dict[str, Any]:
    """One program's wallet as printed (every page read: `wallet.pages`); points are `Decimal`, times
    ISO-8601 strings in `zone`."""
    held = [(bucket, HEAD) for bucket in wallet.buckets]
    held += [(bucket, f"page {n}") for n, page in enumerate(wallet.pages, 1) for bucket in page.buckets]
    return {
        "program_id": program.program_id,
        "name": program.name,
        "balance": wallet.balance(now),
        "lifetime_points": wallet.lifetime_points,
        "tier": wallet.tier,
        "version": wallet.version,
        "paged_points": wallet.paged_points,
        "buckets": [
            _bucket_view(bucket, where, now, zone) for bucket, where in sorted(held, key=lambda h: h[0].order)
        ],
        "pages": [
            {
                "page": n,
                "bound": _time(page.upper, zone),
                "buckets": len(page.buckets),
                "points": page.points,
                "version": page.version,
            }
            for n, page in enumerate(wallet.pages, 1)
        ],
    }


def _cell(value: Any) -> str:
    if value is None:
        return NEVER
    if isinstance(value, Decimal):
        return decimal_text(value)
    return str(value)


def _table(rows: list[dict[str, Any]], columns: tuple[str, ...] = COLUMNS) -> list[str]:
    cells = [list(columns), *([_cell(row[column]) for column in columns] for row in rows)]
    widths = [max(len(line[index]) for line in cells) for index in range(len(columns))]
    lines = []
    for line in cells:
        parts = [
            text.rjust(width) if column in _NUMERIC else text.ljust(width)
            for column, text, width in zip(columns, line, widths, strict=True)
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
        lines += _table(program["buckets"]) if program["buckets"] else ["  no points"]
        if program["pages"]:
            lines += ["", f"  pages ({decimal_text(program['paged_points'])} points; bound: before it)"]
            lines += _table(program["pages"], PAGE_COLUMNS)
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
    pages = backend.customers.pages()
    wallets = [
        (program, pages.all_pages(org.org_id, customer_id, wallet))
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
