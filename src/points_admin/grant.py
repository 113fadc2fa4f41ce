"""`grant`: member-care goodwill, one allocation of points with a reason, recorded in the ledger as such.

With `--reference` the allocation id is `GW-<reference>`, so repeating the same grant (a retry, a double
click) changes nothing; without it every grant is a new one.
"""

from __future__ import annotations

import re
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime
from decimal import Decimal

from points_admin import values
from points_admin.connection import Backend
from points_admin.errors import CommandError
from points_core.aws.observability import mask_identifier
from points_core.domain.errors import GaveUp
from points_core.domain.identifiers import Identifier, IdentifierType, normalize
from points_core.domain.models import EntryKind
from points_core.services.loading import Award, award_points

ALLOCATION_PREFIX = "GW-"
# The allocation id is part of the ledger key and is at most 128 characters.
REFERENCE = re.compile(r"^[A-Za-z0-9._:/-]{1,125}$")


def identifier_option(identifier_type: IdentifierType) -> str:
    """The command-line option naming a customer by `identifier_type`."""
    if identifier_type is IdentifierType.ID:
        return "--customer-id"
    return "--" + identifier_type.value.replace("_", "-")


@dataclass(frozen=True, slots=True)
class GrantRequest:
    org_id: int
    program_id: int
    points: str
    reason: str
    identifier_type: IdentifierType
    identifier: str
    expires_at: str | None = None
    reference: str | None = None


def run(request: GrantRequest, backend: Backend) -> int:
    reason = request.reason.strip()
    if not reason:
        raise CommandError("--reason: required, the member-care reason for the grant")
    if request.reference is not None and not REFERENCE.match(request.reference):
        raise CommandError("--reference: 1 to 125 letters, digits or . _ : / -")
    try:
        points = values.points(request.points)
    except ValueError as error:
        raise CommandError(f"--points: {error}") from None
    org = backend.config.org(request.org_id)
    if org is None:
        raise CommandError(f"org {request.org_id} is not configured (run apply-config first)")
    if org.program(request.program_id) is None:
        raise CommandError(f"--program: {request.program_id} is not a program of org {org.org_id}")
    now = datetime.now(UTC)
    expires_at = None
    if request.expires_at is not None:
        try:
            expires_at = values.timestamp(request.expires_at, values.org_zone(org))
        except ValueError as error:
            raise CommandError(f"--expires-at: {error}") from None
        if expires_at <= now:
            raise CommandError("--expires-at: must be in the future")

    option = identifier_option(request.identifier_type)
    try:
        value = normalize(
            request.identifier_type, request.identifier, org.country_code, org.mobile_national_digits
        )
    except ValueError as error:
        raise CommandError(f"{option}: {error}") from None
    customers = backend.customers
    customer_id = customers.resolve(org.org_id, Identifier(request.identifier_type, value))
    if customer_id is None or customer_id not in customers.profiles(org.org_id, [customer_id]):
        masked = mask_identifier(request.identifier_type.value, value)
        raise CommandError(f"no customer with {request.identifier_type.value} {masked} in org {org.org_id}")

    allocation_id = ALLOCATION_PREFIX + (request.reference or uuid.uuid4().hex)
    award = Award(allocation_id, points, now, expires_at, kind=EntryKind.GOODWILL, reason=reason)
    try:
        result = award_points(org.org_id, customer_id, request.program_id, [award], now, customers=customers)
    except GaveUp as error:
        raise CommandError(str(error)) from error
    if result.conflicting:
        raise CommandError(f"{allocation_id} was granted before with other points or expiry: nothing changed")
    wallet = customers.wallet(org.org_id, customer_id, request.program_id)
    balance = wallet.balance(now) if wallet is not None else Decimal(0)
    if result.created:
        where = f"customer {customer_id} in program {request.program_id}"
        print(f"granted {points:f} points to {where} ({allocation_id})")
    else:
        print(f"{allocation_id} was granted to customer {customer_id} already: nothing changed")
    print(f"balance: {balance:f}")
    return 0
