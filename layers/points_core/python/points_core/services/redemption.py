"""redeem: debit points, earliest expiry first, atomically, once.

Each item: the reference (744 with the original redemption when it was used), the same rules as isredeemable
(one engine), validation (823, 824, 808), the redemption time (859), then one conditional transaction. A
transaction refused because something changed meanwhile is retried from a fresh read, with jittered backoff;
only when retries give out does the item answer 521.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field, replace
from datetime import datetime
from decimal import Decimal
from typing import Any

from points_core.aws.observability import metrics, tracer
from points_core.domain import rules
from points_core.domain.codes import Item, Outcome, RequestStatus
from points_core.domain.errors import GaveUp, InsufficientPoints, NotRecorded, Refusal, RuleFailure
from points_core.domain.ledger import Layout, TooManyDraws, debit, without_pruning
from points_core.domain.models import (
    Caller,
    CustomerProfile,
    CustomField,
    Draw,
    OrgConfig,
    PagesNeeded,
    Redemption,
    UsedReference,
    Wallet,
    new_record_id,
)
from points_core.domain.models.group import NO_GROUP, GroupRequest
from points_core.domain.pool import PoolPagesNeeded, Source, TooManyWallets, pooled_balance, pooled_debit
from points_core.domain.rules import Quote, evaluate, redemption_time
from points_core.domain.timezones import org_zone
from points_core.domain.validation_codes import ValidationType
from points_core.repositories import config_repository, customer_repository, redemption_repository
from points_core.repositories.redemptions import CodeToConsume
from points_core.repositories.wallets import WalletChange
from points_core.services.lookup import Lookup, look_up
from points_core.services.orgs import load_org
from points_core.services.retry import retrying
from points_core.services.validation_codes import check_code_counted


@dataclass(frozen=True, slots=True)
class RedeemItem:
    identifiers: dict[str, str | None]
    points: str | None
    transaction_number: str = ""
    external_reference_number: str = ""
    validation_code: str = ""
    redemption_time: str | None = None
    notes: str = ""
    till_id: str = ""
    purpose: str = ""
    custom_fields: tuple[CustomField, ...] = ()
    group_redemption: bool = False
    """The item's `group_redemption` (cross-program redemption)."""


@dataclass(frozen=True, slots=True)
class RedeemOptions:
    program_id: str | None = None
    skip_validation: bool = False
    validation_type: ValidationType = ValidationType.SMS
    group: GroupRequest = NO_GROUP
    """The request's `user_group2_*` parameters (and `group_redemption`, when given in the query)."""

    def group_for(self, item: RedeemItem) -> GroupRequest:
        if item.group_redemption and not self.group.group_redemption:
            return replace(self.group, group_redemption=True)
        return self.group

    @property
    def skipping(self) -> bool:
        return self.skip_validation or self.validation_type is ValidationType.INVALID


@dataclass(frozen=True, slots=True)
class RedeemOutcome(Outcome):
    item: RedeemItem
    profile: CustomerProfile | None = None
    redemption: Redemption | None = None
    original: UsedReference | None = None
    """The redemption an already used `external_reference_number` belongs to (744)."""
    quote: Quote | None = field(default=None)


def _validate(
    org: OrgConfig, found: Lookup, item: RedeemItem, options: RedeemOptions, points: Decimal, now: datetime
) -> CodeToConsume | None:
    """823/824/808, or the code the transaction must consume (None when it consumes none: validation skipped,
    or no code given where the org does not require one; such a request is never checked or counted)."""
    given = rules.code_to_check(org, options.validation_type, options.skip_validation, item.validation_code)
    if given is None:
        return None
    assert found.profile is not None and found.program is not None
    checked = check_code_counted(org, found.profile.customer_id, found.program, points, given, now)
    if checked.refused is not None or checked.state is None:
        raise RuleFailure(Item.INVALID_VALIDATION_CODE)
    return CodeToConsume(
        found.program.program_id, checked.state.nonce, points, int(now.timestamp()), org.otp.max_attempts
    )


def _attempt(
    org: OrgConfig, caller: Caller, item: RedeemItem, options: RedeemOptions, now: datetime
) -> RedeemOutcome:
    """One read, the rules, one transaction (`NotRecorded` when something changed since the read)."""
    found = look_up(
        org,
        caller.store_id,
        item.identifiers,
        options.program_id,
        now=now,
        reference=item.external_reference_number or None,
        group=options.group_for(item),
    )
    if found.reference is not None:
        return RedeemOutcome(Item.DUPLICATE_REFERENCE, False, item, found.profile, original=found.reference)
    decision = evaluate(found.check(org, now, item.points), success=Item.REDEEMED)
    if not decision.redeemable or decision.quote is None:
        return RedeemOutcome(decision.status, False, item, found.profile, quote=decision.quote)
    # A group's member may redeem from the group's points with none of their own (no wallet of their own).
    assert found.profile is not None and found.program is not None
    assert found.wallet is not None or found.pool is not None
    quote = decision.quote
    try:
        code = _validate(org, found, item, options, quote.points, now)
        redeemed_at = redemption_time(item.redemption_time, org_zone(org), now, org.backdating_days)
    except RuleFailure as failure:
        return RedeemOutcome(failure.status, False, item, found.profile, quote=quote)
    customer_id = found.profile.customer_id
    try:
        if found.pool is not None:
            changes, draws, balance_after = _pooled(org, customer_id, found, quote.points, now)
        else:
            assert found.wallet is not None
            layout, draws = _debit(org, customer_id, found.wallet, quote.points, now)
            changes, balance_after = [WalletChange(customer_id, found.wallet.version, layout)], None
    except TooManyWallets:
        return RedeemOutcome(Item.TOO_MANY_MEMBERS, False, item, found.profile, quote=quote)
    except TooManyDraws:
        return RedeemOutcome(Item.TOO_MANY_EXPIRY_DATES, False, item, found.profile, quote=quote)
    redemption = Redemption(
        redemption_id=new_record_id(),
        customer_id=customer_id,
        program_id=found.program.program_id,
        points=quote.points,
        value=quote.value,
        local_value=quote.local_value,
        balance_after=changes[0].layout.wallet.balance(now) if balance_after is None else balance_after,
        draws=draws,
        redeemed_at=redeemed_at,
        recorded_at=now,
        validated=code is not None,
        **_as_recorded(org, caller, item),
        **_group_of(found),
    )
    if _transaction_items(redemption, changes, code) > TRANSACTION_ITEMS:
        return RedeemOutcome(Item.TOO_MANY_MEMBERS, False, item, found.profile, quote=quote)
    redemption_repository().record(org.org_id, redemption, changes, code)
    return RedeemOutcome(Item.REDEEMED, True, item, found.profile, redemption=redemption, quote=quote)


def _pooled(
    org: OrgConfig, customer_id: str, found: Lookup, points: Decimal, now: datetime
) -> tuple[list[WalletChange], tuple[Draw, ...], Decimal]:
    """A group redemption's debit across its pool: the wallets it changes, the draws in the order drawn (each
    naming its wallet when it is not the redeeming member's in the program), and the pool's balance after.
    A wallet whose pages the walk needs has its first pages read (one Query each) and the walk starts over."""
    assert found.pool is not None and found.program is not None
    pool = dict(found.pool)
    for _ in range(len(pool) + 1):
        try:
            layouts, drawn = pooled_debit(pool, points, now)
            break
        except PoolPagesNeeded as needed:
            wallet = pool[needed.source]
            read = (
                customer_repository()
                .pages()
                .first_pages(org.org_id, needed.source.customer_id, wallet, now, points)
            )
            if read.prefix == wallet.prefix and len(read.pages) == len(wallet.pages):
                raise NotRecorded({Refusal.WALLET_CHANGED}) from None  # no page more: read it all again
            pool[needed.source] = read
        except InsufficientPoints:  # the pages read say less than the heads did: read them again
            raise NotRecorded({Refusal.WALLET_CHANGED}) from None
    else:
        raise NotRecorded({Refusal.WALLET_CHANGED})
    if sum(2 + len(layout.puts) + len(layout.deletes) for layout in layouts.values()) > TRANSACTION_ITEMS - 4:
        # No room for deleting the wallets' expired pages too (the redemption, its two markers and the code
        # take 4 items): the same draws, the expired pages left for later writes.
        unpruned = {source: without_pruning(wallet) for source, wallet in pool.items()}
        layouts, drawn = pooled_debit(unpruned, points, now)
    own = Source.of(customer_id, found.program.program_id)
    draws = tuple(_drawn_from(source, draw, own) for source, draw in drawn)
    after = {**pool, **{source: layout.wallet for source, layout in layouts.items()}}
    changes = [WalletChange(s.customer_id, pool[s].version, layout) for s, layout in layouts.items()]
    return changes, draws, pooled_balance(after, now)


def _drawn_from(source: Source, draw: Draw, own: Source) -> Draw:
    """A pooled draw as recorded: it names its member and program when they are not the redemption's."""
    return draw.model_copy(
        update={
            "customer_id": source.customer_id if source.customer_number != own.customer_number else "",
            "program_id": source.program_id if source.program_id != own.program_id else None,
        }
    )


def _group_of(found: Lookup) -> dict[str, Any]:
    if found.pool is None:
        return {}
    group = found.group
    return {
        "group_id": group.group_id if group else "",
        "cross_member": bool(group and group.cross_member_redemption),
        "program_group": found.program_group,
    }


TRANSACTION_ITEMS = 100


def _transaction_items(
    redemption: Redemption, changes: list[WalletChange], code: CodeToConsume | None
) -> int:
    """How many items recording it writes: per wallet its head, pages and ledger entry; the redemption, its
    markers and the code's consumption."""
    wallets = sum(2 + len(c.layout.puts) + len(c.layout.deletes) for c in changes)
    markers = bool(redemption.external_reference_number) + bool(redemption.transaction_number)
    return wallets + 1 + markers + (code is not None)


def _debit(
    org: OrgConfig, customer_id: str, wallet: Wallet, points: Decimal, now: datetime
) -> tuple[Layout, tuple[Draw, ...]]:
    """The debit, from the head alone in the common case; one more round trip, for the wallet's first pages,
    when the points to draw run past the head's buckets."""
    try:
        return debit(wallet, points, now)
    except PagesNeeded:
        with_pages = customer_repository().pages().first_pages(org.org_id, customer_id, wallet, now, points)
    try:
        return debit(with_pages, points, now)
    except PagesNeeded:  # the pages read do not match the head read before them: read both again
        raise NotRecorded({Refusal.WALLET_CHANGED}) from None


def _as_recorded(org: OrgConfig, caller: Caller, item: RedeemItem) -> dict[str, Any]:
    """What the redemption record keeps of the request: where it came from (the authenticated till, whatever
    the body says) and what the POS said of it."""
    return {
        "till_id": caller.till_id,
        "attributed_till_id": _attributed_till(org, caller, item.till_id),
        "store_id": caller.store_id,
        "transaction_number": item.transaction_number,
        "external_reference_number": item.external_reference_number,
        "notes": item.notes,
        "purpose": item.purpose,
        "custom_fields": item.custom_fields,
    }


def _attributed_till(org: OrgConfig, caller: Caller, named: str) -> str:
    """The body's `till_id` when it names a till of the caller's org, else "": another org's till, or a name
    no till has, is dropped, never refused (POS clients send display names there). The org's configuration
    lists its tills, so this costs no read; one saved before it did has the org's record of the till read."""
    if not named or named == caller.till_id:
        return named
    if org.till_ids is not None:
        return named if named in org.till_ids else ""
    return named if config_repository().is_org_till(org.org_id, named) else ""


@tracer.capture_method(capture_response=False)
def redeem_item(
    caller: Caller, item: RedeemItem, options: RedeemOptions, clock: Callable[[], datetime]
) -> RedeemOutcome:
    try:
        org = load_org(caller)
        # Each attempt reads again: a used reference then answers 744, a consumed code 808.
        outcome = retrying(lambda _: _attempt(org, caller, item, options, clock()), "redemption")
    except RuleFailure as failure:
        return RedeemOutcome(failure.status, False, item)
    except GaveUp:
        metrics.add_metric(name="RedemptionsGivenUp", unit="Count", value=1)
        return RedeemOutcome(RequestStatus.CUSTOMER_LOCKED, False, item)
    if not outcome.success:
        metrics.add_metric(name="RedemptionsRefused", unit="Count", value=1)
    if outcome.success and outcome.redemption is not None:
        metrics.add_metric(name="Redemptions", unit="Count", value=1)
        # CloudWatch stores doubles: the one place points become a float, for a dashboard only.
        metrics.add_metric(name="PointsRedeemed", unit="Count", value=float(outcome.redemption.points))
    return outcome
