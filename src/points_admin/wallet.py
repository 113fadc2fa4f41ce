"""`wallet`: what a customer holds, read-only: per program, the balance now, lifetime points, tier and wallet
version, every bucket (the points that expire at one moment) with its status and where it is held (the head
item or which page), and the pages.

The customer is named as the API names one: the identifier is normalized with the org's country code and
resolved through the same identifier items. Statuses: `expired` (its expiry has passed) or `live`
(redeemable; the balance is the sum of the live buckets). Buckets are listed in the order a redemption draws
them: earliest expiry first, no expiry last.

A wallet drops expired buckets only when it is written (an award, a redemption or a reversal; the ledger keeps
every award and every draw), and at most 32 pages of them a write, so an expired bucket shows here until
then. All the pages are read, whatever
their number: this is the operator's view, not the request path's.

With `--group ID` (or `--group-external-id X`) instead of a customer: a UserGroup2 group, its external id,
primary member, whether it redeems across members and its redemption programs, then each member (the
primary first) with their role and their balance now in each of the group's redemption programs (or in
`--program` alone), and the group's total per program: the points its members pool.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, tzinfo
from decimal import Decimal
from typing import Any

from points_admin import groups, values
from points_admin.connection import Backend
from points_admin.errors import CommandError, NotFound
from points_core.aws.observability import mask_identifier
from points_core.capillary.json_renderer import dumps
from points_core.domain.amounts import decimal_text
from points_core.domain.errors import MalformedIdentifier
from points_core.domain.identifiers import IdentifierType, pick_identifier
from points_core.domain.models import Bucket, OrgConfig, Program, UserGroup, Wallet

LIVE = "live"
EXPIRED = "expired"
NEVER = "never"
HEAD = "head"
COLUMNS = ("expires_at", "points", "status", "held_in")
PAGE_COLUMNS = ("page", "bound", "buckets", "points", "version")
# Right-aligned in the tables: numbers.
_NUMERIC = frozenset({"points", "buckets", "version", "page"})
PRIMARY = "primary"
MEMBER = "member"
TOTAL = "total"


@dataclass(frozen=True, slots=True)
class WalletRequest:
    org_id: int
    identifier_type: IdentifierType
    identifier: str
    option: str
    """The command-line option the identifier came with, to name it in an error."""
    program_id: int | None = None
    as_json: bool = False


@dataclass(frozen=True, slots=True)
class GroupWalletRequest:
    """A group, by its id or its external id (one of them)."""

    org_id: int
    group_id: str | None = None
    external_id: str | None = None
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


def _table(
    rows: list[dict[str, Any]], columns: tuple[str, ...] = COLUMNS, numeric: frozenset[str] = _NUMERIC
) -> list[str]:
    cells = [list(columns), *([_cell(row[column]) for column in columns] for row in rows)]
    widths = [max(len(line[index]) for line in cells) for index in range(len(columns))]
    lines = []
    for line in cells:
        parts = [
            text.rjust(width) if column in numeric else text.ljust(width)
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


def _org(org_id: int, backend: Backend) -> tuple[OrgConfig, tzinfo]:
    org = backend.config.org(org_id)
    if org is None:
        raise CommandError(f"org {org_id} is not configured (run apply-config first)")
    try:
        return org, values.org_zone(org)
    except ValueError as error:
        raise CommandError(str(error)) from None


def _program(org: OrgConfig, program_id: int) -> Program:
    program = org.program(program_id)
    if program is None:
        raise CommandError(f"--program: {program_id} is not a program of org {org.org_id}")
    return program


def read_wallet(backend: Backend, org_id: int, customer_id: str, program_id: int) -> Wallet | None:
    """The customer's wallet in the program with every page read, or None when they have none."""
    wallet = backend.customers.wallet(org_id, customer_id, program_id)
    return None if wallet is None else backend.customers.pages().all_pages(org_id, customer_id, wallet)


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
    org, zone = _org(request.org_id, backend)
    programs = list(org.programs) if request.program_id is None else [_program(org, request.program_id)]

    customer_id = _customer_id(request, org, backend)
    now = datetime.now(UTC)
    wallets = [
        (program, wallet)
        for program in programs
        if (wallet := read_wallet(backend, org.org_id, customer_id, program.program_id)) is not None
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


def _group(request: GroupWalletRequest, org: OrgConfig, backend: Backend) -> UserGroup:
    if request.group_id is not None:
        try:
            group_id = groups.group_id(request.group_id)
        except ValueError as error:
            raise CommandError(f"--group: {error}") from None
        missing = f"no group {group_id} in org {org.org_id}"
    else:
        external_id = (request.external_id or "").strip()
        if not external_id:
            raise CommandError("--group-external-id: no external id given")
        found = backend.groups.group_id_by_external_id(org.org_id, external_id)
        missing = f"no group with external id {external_id} in org {org.org_id}"
        if found is None:
            raise NotFound(missing)
        group_id = found
    group = backend.groups.group(org.org_id, group_id, consistent=True)
    if group is None:
        raise NotFound(missing)
    return group


def group_view(
    org: OrgConfig,
    group: UserGroup,
    program_ids: list[int],
    balances: dict[tuple[str, int], Decimal],
    now: datetime,
    zone: tzinfo,
) -> dict[str, Any]:
    """A group as printed: `balances` is (member, program) → the member's balance now."""
    members = [group.primary_customer_id] + [m for m in group.member_ids if m != group.primary_customer_id]

    def program(program_id: int) -> dict[str, Any]:
        found = org.program(program_id)
        return {"program_id": program_id, "name": found.name if found is not None else ""}

    return {
        "org_id": org.org_id,
        "org_name": org.name,
        "group_id": group.group_id,
        "external_id": group.external_id or None,
        "as_of": now.astimezone(zone).isoformat(timespec="seconds"),
        "primary_customer_id": group.primary_customer_id,
        "cross_member_redemption": group.cross_member_redemption,
        "redemption_programs": [program(program_id) for program_id in group.redemption_program_ids],
        "members": [
            {
                "customer_id": member,
                "role": PRIMARY if member == group.primary_customer_id else MEMBER,
                "balances": [
                    {"program_id": program_id, "balance": balances[member, program_id]}
                    for program_id in program_ids
                ],
            }
            for member in members
        ],
        "totals": [
            {
                **program(program_id),
                "balance": sum((balances[member, program_id] for member in members), Decimal(0)),
            }
            for program_id in program_ids
        ],
    }


def _program_name(program: dict[str, Any]) -> str:
    return f"{program['program_id']}" + (f" {program['name']}" if program["name"] else "")


def render_group_text(view: dict[str, Any]) -> str:
    org = f"org {view['org_id']}" + (f" {view['org_name']}" if view["org_name"] else "")
    external = f" (external id {view['external_id']})" if view["external_id"] else ""
    programs = ", ".join(_program_name(program) for program in view["redemption_programs"])
    lines = [
        f"group {view['group_id']}{external} in {org}, as of {view['as_of']}",
        f"  primary member:          {view['primary_customer_id']}",
        f"  cross-member redemption: {'yes' if view['cross_member_redemption'] else 'no'}",
        f"  redemption programs:     {programs or 'none (a redemption for the group answers 828)'}",
        "",
    ]
    program_columns = tuple(str(total["program_id"]) for total in view["totals"])
    rows: list[dict[str, Any]] = [
        {
            "customer": member["customer_id"],
            "role": member["role"],
            **{str(part["program_id"]): part["balance"] for part in member["balances"]},
        }
        for member in view["members"]
    ]
    if program_columns:
        rows.append(
            {"customer": TOTAL, "role": "", **{str(t["program_id"]): t["balance"] for t in view["totals"]}}
        )
    lines += _table(rows, ("customer", "role", *program_columns), frozenset(program_columns))
    return "\n".join(lines)


def run_group(request: GroupWalletRequest, backend: Backend) -> int:
    org, zone = _org(request.org_id, backend)
    program_ids = [_program(org, request.program_id).program_id] if request.program_id is not None else []
    group = _group(request, org, backend)
    program_ids = program_ids or list(group.redemption_program_ids)
    now = datetime.now(UTC)
    balances: dict[tuple[str, int], Decimal] = {}
    for member in group.member_ids:
        for program_id in program_ids:
            wallet = read_wallet(backend, org.org_id, member, program_id)
            balances[member, program_id] = wallet.balance(now) if wallet is not None else Decimal(0)
    view = group_view(org, group, program_ids, balances, now, zone)
    print(dumps(view) if request.as_json else render_group_text(view))
    return 0
