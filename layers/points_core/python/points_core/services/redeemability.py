"""isredeemable: can this customer redeem these points from this program now?"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal

from points_core.codes import Item, Status
from points_core.identifiers import Identifier, MalformedIdentifier, pick_identifier
from points_core.models import Caller, CustomerProfile, OrgConfig, Program, Wallet
from points_core.observability import logger, mask_identifier
from points_core.repositories import (
    ConfigRepository,
    CustomerRepository,
    config_repository,
    customer_repository,
)
from points_core.rules import Decision, RedemptionCheck, RuleFailure, echo_amount, evaluate, resolve_program


@dataclass(frozen=True, slots=True)
class RedeemableQuery:
    identifiers: dict[str, str | None]
    points: str | None
    program_id: str | None = None
    currency_input: bool = False
    currency_value: str | None = None

    @property
    def amount_text(self) -> str | None:
        if self.currency_input and self.currency_value is not None and self.currency_value.strip():
            return self.currency_value
        return self.points


@dataclass(frozen=True, slots=True)
class RedeemableOutcome:
    decision: Decision
    query: RedeemableQuery
    profile: CustomerProfile | None = None
    program: Program | None = None
    wallet: Wallet | None = None
    identifier: Identifier | None = field(default=None)

    @property
    def requested(self) -> Decimal:
        return self.decision.quote.points if self.decision.quote else echo_amount(self.query.amount_text)


@dataclass(frozen=True, slots=True)
class _Lookup:
    identifier: Identifier | None = None
    customer_failure: Status | None = None
    program: Program | None = None
    program_failure: Status | None = None
    profile: CustomerProfile | None = None
    wallet: Wallet | None = None


def _lookup(org: OrgConfig, caller: Caller, query: RedeemableQuery, customers: CustomerRepository) -> _Lookup:
    try:
        identifier = pick_identifier(query.identifiers, org.country_code, org.mobile_national_digits)
    except MalformedIdentifier:
        identifier = None
    try:
        program: Program | None = resolve_program(org, query.program_id, caller.store_id)
        program_failure = None
    except RuleFailure as failure:
        program, program_failure = None, failure.status
    if identifier is None:
        return _Lookup(None, Item.INVALID_IDENTIFIER, program, program_failure)
    customer_id = customers.resolve(org.org_id, identifier)
    profile, wallet = (
        customers.profile_and_wallet(org.org_id, customer_id, program.program_id if program else None)
        if customer_id
        else (None, None)
    )
    customer_failure = None if profile else Item.CUSTOMER_NOT_FOUND
    return _Lookup(identifier, customer_failure, program, program_failure, profile, wallet)


def check_redeemable(
    caller: Caller,
    query: RedeemableQuery,
    now: datetime,
    *,
    configs: ConfigRepository | None = None,
    customers: CustomerRepository | None = None,
) -> RedeemableOutcome:
    org = (configs or config_repository()).org(caller.org_id)
    if org is None:
        logger.warning("org has no configuration", extra={"org_id": caller.org_id})
        return RedeemableOutcome(Decision(Item.PROGRAM_NOT_CONFIGURED, redeemable=False), query)
    found = _lookup(org, caller, query, customers or customer_repository())
    decision = evaluate(
        RedemptionCheck(
            org=org,
            now=now,
            amount_text=query.amount_text,
            currency_input=query.currency_input,
            customer=found.profile,
            customer_failure=found.customer_failure,
            program=found.program,
            program_failure=found.program_failure,
            wallet=found.wallet,
        )
    )
    logger.info(
        "redeemability checked",
        extra={
            "org_id": org.org_id,
            "till_id": caller.till_id,
            "identifier": mask_identifier(found.identifier.type, found.identifier.value)
            if found.identifier
            else None,
            "program_id": found.program.program_id if found.program else None,
            "code": decision.status.code,
        },
    )
    return RedeemableOutcome(decision, query, found.profile, found.program, found.wallet, found.identifier)
