"""Finding the customer and what the rules need, shared by isredeemable and redeem: at most two round trips
(identifier → customer id, then one BatchGetItem)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from points_core.domain.codes import Item, Status
from points_core.domain.identifiers import Identifier, MalformedIdentifier, pick_identifier
from points_core.domain.models import CustomerProfile, OrgConfig, Program, Wallet
from points_core.domain.rules import RuleFailure, resolve_program
from points_core.repositories import CustomerRepository


@dataclass(frozen=True, slots=True)
class Lookup:
    identifier: Identifier | None = None
    customer_failure: Status | None = None
    program: Program | None = None
    program_failure: Status | None = None
    profile: CustomerProfile | None = None
    wallet: Wallet | None = None
    codes: dict[str, Any] | None = None
    reference: dict[str, Any] | None = None


def look_up(
    org: OrgConfig,
    store_id: str,
    identifiers: dict[str, str | None],
    program_id: str | None,
    customers: CustomerRepository,
    *,
    with_codes: bool = False,
    reference: str | None = None,
) -> Lookup:
    try:
        identifier = pick_identifier(identifiers, org.country_code, org.mobile_national_digits)
    except MalformedIdentifier:
        identifier = None
    try:
        program: Program | None = resolve_program(org, program_id, store_id)
        program_failure = None
    except RuleFailure as failure:
        program, program_failure = None, failure.status
    if identifier is None:
        return Lookup(None, Item.INVALID_IDENTIFIER, program, program_failure)
    customer_id = customers.resolve(org.org_id, identifier)
    if customer_id is None:
        return Lookup(identifier, Item.CUSTOMER_NOT_FOUND, program, program_failure)
    snapshot = customers.profile_and_wallet(
        org.org_id,
        customer_id,
        program.program_id if program else None,
        with_codes=with_codes,
        reference=reference,
    )
    return Lookup(
        identifier,
        None if snapshot.profile else Item.CUSTOMER_NOT_FOUND,
        program,
        program_failure,
        snapshot.profile,
        snapshot.wallet,
        snapshot.codes,
        snapshot.reference,
    )
