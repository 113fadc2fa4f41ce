"""Finding the customer and what the rules need, shared by isredeemable and redeem: at most two round trips
(identifier → customer id, then one BatchGetItem)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from points_core.aws.observability import tracer
from points_core.domain import rules
from points_core.domain.codes import Item, Status
from points_core.domain.errors import GaveUp, NotRecorded, RuleFailure
from points_core.domain.identifiers import Identifier
from points_core.domain.models import CustomerProfile, OrgConfig, Program, UsedReference, Wallet
from points_core.repositories import customer_repository


@dataclass(frozen=True, slots=True)
class Lookup:
    """What was found; the failures are decided here but answered by the rules, in their order."""

    identifier: Identifier | None = None
    customer_failure: Status | None = None
    program: Program | None = None
    program_failure: Status | None = None
    profile: CustomerProfile | None = None
    wallet: Wallet | None = None
    reference: UsedReference | None = None
    """The redemption an asked-for `external_reference_number` was used by."""

    def check(
        self, org: OrgConfig, now: datetime, amount_text: str | None, *, currency_input: bool = False
    ) -> rules.RedemptionCheck:
        """What the redemption rules look at, from what was found."""
        return rules.RedemptionCheck(
            org=org,
            now=now,
            amount_text=amount_text,
            currency_input=currency_input,
            customer=self.profile,
            customer_failure=self.customer_failure,
            program=self.program,
            program_failure=self.program_failure,
            wallet=self.wallet,
        )


PAGE_READ_ATTEMPTS = 3


@tracer.capture_method(capture_response=False)
def look_up(
    org: OrgConfig,
    store_id: str,
    identifiers: dict[str, str | None],
    program_id: str | None,
    *,
    now: datetime,
    reference: str | None = None,
) -> Lookup:
    program: Program | None = None
    program_failure: Status | None = None
    try:
        program = rules.resolve_program(org, program_id, store_id)
    except RuleFailure as failure:
        program_failure = failure.status
    try:
        identifier = rules.identify(org, identifiers)
    except RuleFailure as failure:
        return Lookup(None, failure.status, program, program_failure)
    customers = customer_repository()
    customer_id = customers.resolve(org.org_id, identifier)
    if customer_id is None:
        return Lookup(identifier, Item.CUSTOMER_NOT_FOUND, program, program_failure)
    for attempt in range(PAGE_READ_ATTEMPTS):
        snapshot = customers.profile_and_wallet(
            org.org_id,
            customer_id,
            program.program_id if program else None,
            reference=reference,
            consistent=attempt > 0,
        )
        wallet = snapshot.wallet
        if wallet is None or wallet.known_balance_is_exact(now):
            break
        # The paged points have started expiring since the wallet was last written: its first pages tell
        # how many are left (one more round trip, until the next write brings the head up to date). Pages
        # that do not match the head (a write came between the two reads) are read again with the head.
        try:
            wallet = customers.pages().first_pages(org.org_id, customer_id, wallet, now)
            break
        except NotRecorded:
            continue
    else:
        raise GaveUp("the wallet kept changing while its pages were read")
    return Lookup(
        identifier,
        None if snapshot.profile else Item.CUSTOMER_NOT_FOUND,
        program,
        program_failure,
        snapshot.profile,
        wallet,
        snapshot.reference,
    )
