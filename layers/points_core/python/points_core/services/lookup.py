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
from points_core.domain.models import (
    CustomerProfile,
    Enrolment,
    OrgConfig,
    Program,
    UsedReference,
    UserGroup,
    Wallet,
)
from points_core.domain.models.group import NO_GROUP, GroupRequest
from points_core.domain.pool import Source
from points_core.repositories import customer_repository
from points_core.services.groups import PoolPlan, find_group, plan_pool


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
    pool: dict[Source, Wallet] | None = None
    """A group redemption's wallets, the redeeming member's first (None: not a group redemption)."""
    group: UserGroup | None = None
    group_failure: Status | None = None
    program_group: str = ""

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
            pool=self.pool,
            group_failure=self.group_failure,
        )


PAGE_READ_ATTEMPTS = 3


def _program(org: OrgConfig, program_id: str | None, store_id: str) -> tuple[Program | None, Status | None]:
    """The program a request redeems in, or why none (answered in the rules' order)."""
    try:
        return rules.resolve_program(org, program_id, store_id), None
    except RuleFailure as failure:
        return None, failure.status


@tracer.capture_method(capture_response=False)
def look_up(
    org: OrgConfig,
    store_id: str,
    identifiers: dict[str, str | None],
    program_id: str | None,
    *,
    now: datetime,
    reference: str | None = None,
    group: GroupRequest = NO_GROUP,
) -> Lookup:
    if group.is_group:
        return look_up_pool(org, store_id, identifiers, program_id, group, now=now, reference=reference)
    program, program_failure = _program(org, program_id, store_id)
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


def _named(identifiers: dict[str, str | None]) -> bool:
    return any((value or "").strip() for value in identifiers.values())


@tracer.capture_method(capture_response=False)
def look_up_pool(
    org: OrgConfig,
    store_id: str,
    identifiers: dict[str, str | None],
    program_id: str | None,
    request: GroupRequest,
    *,
    now: datetime,
    reference: str | None = None,
) -> Lookup:
    """A group redemption's reads: the customer (or, when only the group is named, its primary member), the
    group (one Query), then every profile and wallet of the pool in one BatchGetItem. The redeeming member's
    failures come first, as for one customer; the group's are answered after the program's."""
    program, program_failure = _program(org, program_id, store_id)
    identifier: Identifier | None = None
    customer_id: str | None = None
    customers = customer_repository()
    if _named(identifiers) or not request.names_group_itself:
        try:
            identifier = rules.identify(org, identifiers)
        except RuleFailure as failure:
            return Lookup(None, failure.status, program, program_failure)
        customer_id = customers.resolve(org.org_id, identifier)
        if customer_id is None:
            return Lookup(identifier, Item.CUSTOMER_NOT_FOUND, program, program_failure)
    group: UserGroup | None = None
    group_failure: Status | None = None
    plan: PoolPlan | None = None
    try:
        if request.names_user_group:
            group = find_group(org, request, customer_id)
        customer_id = customer_id or (group.primary_customer_id if group else None)
        assert customer_id is not None
        plan = plan_pool(org, request, group, customer_id, program) if program else None
    except RuleFailure as failure:
        if customer_id is None:  # only the group was named, and it names none
            return Lookup(None, failure.status, program, program_failure)
        group_failure = failure.status
    sources = plan.sources if plan else ((Source.of(customer_id, program.program_id),) if program else ())
    found = _read_pool(org, customer_id, sources, now, reference)
    pool, profile = found.pool, found.profile
    own = pool.get(sources[0]) if sources else None
    return Lookup(
        identifier,
        None if profile else Item.CUSTOMER_NOT_FOUND,
        program,
        program_failure,
        profile,
        own,
        found.reference,
        pool=pool if plan and group_failure is None else None,
        group=group,
        group_failure=group_failure,
        program_group=plan.program_group if plan else "",
    )


@dataclass(frozen=True, slots=True)
class _PoolRead:
    profile: CustomerProfile | None
    pool: dict[Source, Wallet]
    reference: UsedReference | None


def _read_pool(
    org: OrgConfig, customer_id: str, sources: tuple[Source, ...], now: datetime, reference: str | None
) -> _PoolRead:
    """The pool's profiles and wallets, with the first pages of any whose paged points have started expiring;
    a member who may not redeem (not in loyalty, or of a blocking fraud status) or has no wallet adds
    nothing. Pages that do not match their head are read again with every head, consistently (3 times)."""
    customers = customer_repository()
    for attempt in range(PAGE_READ_ATTEMPTS):
        snapshot = customers.pool(org.org_id, sources, reference=reference, consistent=attempt > 0)
        pool: dict[Source, Wallet] = {}
        try:
            for source in sources:
                wallet = snapshot.wallets.get(source)
                member = snapshot.profiles.get(source.customer_id)
                if wallet is None or member is None or not _may_pool(org, member, source, customer_id):
                    continue
                if not wallet.known_balance_is_exact(now):
                    wallet = customers.pages().first_pages(org.org_id, source.customer_id, wallet, now)
                pool[source] = wallet
        except NotRecorded:
            continue
        return _PoolRead(snapshot.profiles.get(customer_id), pool, snapshot.reference)
    raise GaveUp("the wallets kept changing while their pages were read")


def _may_pool(org: OrgConfig, member: CustomerProfile, source: Source, customer_id: str) -> bool:
    """The redeeming member's own wallets are always the pool's (the rules judge the member); another
    member's only when they could redeem themselves."""
    if source.customer_id == customer_id:
        return True
    return member.enrolment is Enrolment.LOYALTY and member.fraud_status not in org.blocking_fraud_statuses
