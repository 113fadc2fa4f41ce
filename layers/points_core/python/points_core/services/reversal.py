"""reverse (v2) and revert (v1.1): redeemed points go back to the allocations they were drawn from, with their
original expiry; what has expired since is reported, not credited. Each reversal has its own record and id,
and everything is written in one conditional transaction, retried from fresh reads when something changed.

Each use case reads, asks the rules (`points_core.domain.rules`, in the order written there), then writes.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from datetime import datetime
from decimal import Decimal

from points_core.aws.observability import logger, mask_identifier, metrics, tracer
from points_core.domain import rules
from points_core.domain.amounts import parse_amount
from points_core.domain.codes import Item, Outcome, RequestStatus, Status
from points_core.domain.codes import Reversal as ReversalCodes
from points_core.domain.errors import GaveUp, NotRecorded, Refusal, RuleFailure
from points_core.domain.identifiers import Identifier, IdentifierType
from points_core.domain.ledger import changes, credits_for, give_back, pages_to_hold, without_pruning
from points_core.domain.models import (
    Caller,
    Contact,
    Credit,
    OrgConfig,
    PagesNeeded,
    Redemption,
    Reversal,
    ReversalSource,
    Wallet,
    new_record_id,
)
from points_core.repositories import ReversalRepository, reversal_repository
from points_core.repositories.reversals import Given
from points_core.repositories.wallets import WalletChange
from points_core.services.orgs import load_org
from points_core.services.retry import retrying

_REDEMPTION_ID = re.compile(r"[0-9A-Za-z]{6}")


@dataclass(frozen=True, slots=True)
class ReverseRequest:
    identifier_type: IdentifierType
    identifier_value: str
    redemption_id: str = ""
    external_reference_number: str = ""
    points: str | None = None
    """None: everything not reversed yet."""


@dataclass(frozen=True, slots=True)
class ReverseOutcome(Outcome):
    customer_id: str | None = None
    requested: Decimal | None = None
    reversal: Reversal | None = None
    cross_member: bool = False
    """The redemption reversed was drawn from a group's members (`crossMemberReversalBreakup`)."""
    refusal_http_status: int = 200
    """The HTTP status of a business refusal: the org's `v2_error_http_status` once the org is loaded."""


@dataclass(frozen=True, slots=True)
class RevertItem:
    identifiers: dict[str, str | None]
    transaction_number: str
    points: str | None = None
    """What the caller says was redeemed on the bill (checked when given, 810)."""


@dataclass(frozen=True, slots=True)
class RevertOutcome(Outcome):
    item: RevertItem
    contact: Contact | None = None
    reversals: tuple[Reversal, ...] = ()
    balance: Decimal | None = None
    """The balance after, when the bill's redemptions were all in one program."""


WalletKey = tuple[str, int]
"""(customer id, program id): the wallet a draw came from and its credit goes back to."""


def _reversal(
    caller: Caller,
    redemption: Redemption,
    points: Decimal,
    wallets: dict[WalletKey, Wallet],
    now: datetime,
    source: ReversalSource,
) -> tuple[Reversal, tuple[Given, ...]]:
    """`points` of `redemption` given back: each draw's points to the wallet it was taken from (in `wallets`,
    read with the pages the credits need: `with_pages`), which is updated in place; the reversal that records
    it, and what each wallet was given. Its `balance_after` is the redeeming customer's wallet's."""
    credits = credits_for(redemption, points, now)
    given: list[Given] = []
    by_wallet: dict[WalletKey, list[Credit]] = {}
    for c in credits:
        by_wallet.setdefault(redemption.wallet_of(c), []).append(c)
    try:
        for key, own in by_wallet.items():
            wallets[key] = give_back(wallets[key], own, now).wallet
            given.append(Given(key[0], key[1], tuple(own), wallets[key].balance(now)))
        balance_after = wallets[(redemption.customer_id, redemption.program_id)].balance(now)
    except PagesNeeded:  # the pages read do not match the head read before them: read both again
        raise NotRecorded({Refusal.WALLET_CHANGED}) from None
    reversal = Reversal(
        reversal_id=new_record_id(),
        redemption_id=redemption.redemption_id,
        customer_id=redemption.customer_id,
        program_id=redemption.program_id,
        points=points,
        available=sum((c.points for c in credits if not c.expired), Decimal(0)),
        expired=sum((c.points for c in credits if c.expired), Decimal(0)),
        credits=credits,
        balance_after=balance_after,
        reversed_at=now,
        till_id=caller.till_id,
        store_id=caller.store_id,
        source=source,
        transaction_number=redemption.transaction_number,
    )
    return reversal, tuple(given)


def wallets_to_credit(redemption: Redemption, points: Decimal, now: datetime) -> list[WalletKey]:
    """The wallets giving `points` of `redemption` back reads: the redeeming customer's in the program (its
    balance is answered) and each a credit goes to."""
    wanted = [(redemption.customer_id, redemption.program_id)]
    wanted += [redemption.wallet_of(c) for c in credits_for(redemption, points, now)]
    return list(dict.fromkeys(wanted))


def with_pages(
    repository: ReversalRepository,
    org_id: int,
    key: WalletKey,
    wallet: Wallet,
    giving_back: Sequence[tuple[Redemption, Decimal]],
    now: datetime,
) -> Wallet:
    """`wallet` (of `key`) with the pages that giving these points back needs: none in the common case (the
    points go back to the head's buckets); the page holding each expiry later than the head's, one Query
    each; the first pages when the paged points have started expiring (to tell the balance after)."""
    customer_id = key[0]
    if not wallet.known_balance_is_exact(now):
        wallet = repository.pages().first_pages(org_id, customer_id, wallet, now)
    expiries = [
        given.expires_at
        for redemption, points in giving_back
        for given in credits_for(redemption, points, now)
        if not given.expired and redemption.wallet_of(given) == key
    ]
    wanted = pages_to_hold(wallet, expiries, now)
    return repository.pages().holding(org_id, customer_id, wallet, wanted) if wanted else wallet


def _read_wallets(
    repository: ReversalRepository,
    org_id: int,
    wanted: Sequence[WalletKey],
    loaded: dict[WalletKey, Wallet],
    giving_back: Sequence[tuple[Redemption, Decimal]],
    now: datetime,
    consistent: bool,
) -> dict[WalletKey, Wallet]:
    """Every wallet of `wanted`, with the pages its credits need (those not `loaded`: one BatchGetItem). The
    first, the redeeming customer's, is empty when they have none (it is only read, for the balance)."""
    missing = [key for key in wanted if key not in loaded]
    if missing:
        loaded = {**loaded, **repository.load(org_id, wallets=missing, consistent=consistent).wallets}
    wallets: dict[WalletKey, Wallet] = {}
    for key in wanted:
        if key not in loaded and key == wanted[0]:  # a member who redeemed from the group's points alone
            loaded = {**loaded, key: Wallet(program_id=key[1])}
        if key not in loaded:
            raise LookupError(f"no wallet for customer {key[0]} in program {key[1]}")
        wallets[key] = with_pages(repository, org_id, key, loaded[key], giving_back, now)
    return wallets


def _audit(
    source: str, status: Status, who: str | None, reversals: tuple[Reversal, ...], **extra: str
) -> None:
    """One log line per reversal request (identifiers masked), and the metrics."""
    if not reversals:
        metrics.add_metric(name="ReversalsRefused", unit="Count", value=1)
    for reversal in reversals:
        metrics.add_metric(name="Reversals", unit="Count", value=1)
        # CloudWatch stores doubles: the one place points become a float, for a dashboard only.
        metrics.add_metric(name="PointsReversed", unit="Count", value=float(reversal.available))
        if reversal.expired:
            metrics.add_metric(name="PointsReversedExpired", unit="Count", value=float(reversal.expired))
    done = [
        {
            "redemption_id": r.redemption_id,
            "reversal_id": r.reversal_id,
            "available": str(r.available),
            "expired": str(r.expired),
        }
        for r in reversals
    ]
    logger.info(
        f"{source} processed", extra={"customer": who, "code": status.code, "reversals": done, **extra}
    )


# reverse (v2)


@tracer.capture_method(capture_response=False)
def reverse(caller: Caller, request: ReverseRequest, clock: Callable[[], datetime]) -> ReverseOutcome:
    org: OrgConfig | None = None
    try:
        org = load_org(caller)
        rules.reversal_enabled(org, ReversalCodes.REVERSAL_DISABLED)
        identifier = rules.identify(org, Identifier(request.identifier_type, request.identifier_value))
        # A retry reads consistently: the first read may not have seen the write that refused it.
        outcome = retrying(
            lambda attempt: _reverse_once(org, caller, request, identifier, clock(), attempt > 0), "reversal"
        )
    except RuleFailure as failure:
        outcome = ReverseOutcome(failure.status, False)
    except GaveUp:
        metrics.add_metric(name="ReversalsGivenUp", unit="Count", value=1)
        outcome = ReverseOutcome(RequestStatus.CUSTOMER_LOCKED, False)
    _audit(
        "reverse",
        outcome.status,
        mask_identifier(request.identifier_type, request.identifier_value),
        (outcome.reversal,) if outcome.reversal else (),
        redemption_id=request.redemption_id.strip()[:16],
    )
    if org is not None:
        outcome = replace(outcome, refusal_http_status=org.v2_error_http_status)
    return outcome


def _reverse_once(
    org: OrgConfig,
    caller: Caller,
    request: ReverseRequest,
    identifier: Identifier,
    now: datetime,
    consistent: bool,
) -> ReverseOutcome:
    repository = reversal_repository()
    redemption_id = request.redemption_id.strip()
    reference = request.external_reference_number.strip()
    found = repository.find(
        org.org_id,
        identifier,
        # An id of another shape cannot exist: not read, and 3803 once the customer is known.
        redemption_id=redemption_id if _REDEMPTION_ID.fullmatch(redemption_id) else None,
        reference=reference or None,
        consistent=consistent,
    )
    if found.contact is None:
        raise RuleFailure(Item.CUSTOMER_NOT_FOUND_V2)
    customer_id = found.contact.customer_id
    redemption = rules.named_redemption(found.record, found.reference, customer_id, redemption_id, reference)
    if redemption is None:
        assert found.reference is not None
        redemption, wallet = _by_reference(
            repository,
            org,
            customer_id,
            found.reference.redemption_id,
            found.reference.program_id,
            consistent,
        )
    elif redemption.pooled:  # its wallets are read together, below
        wallet = None
    else:
        wallet = repository.wallet(org.org_id, customer_id, redemption.program_id, consistent=consistent)
    points = rules.reversal_amount(redemption, request.points)
    read = {(customer_id, redemption.program_id): wallet} if wallet is not None else {}
    giving_back = [(redemption, points)]
    wanted = wallets_to_credit(redemption, points, now)
    before = _read_wallets(repository, org.org_id, wanted, read, giving_back, now, consistent)
    done, written = _given_back(caller, giving_back, before, now, ReversalSource.REVERSE)
    repository.record(org.org_id, done, written)
    reversal = done[0][1]
    return ReverseOutcome(
        RequestStatus.SUCCESS, True, customer_id, points, reversal, cross_member=redemption.cross_member
    )


Done = tuple[Redemption, Reversal, tuple[Given, ...]]


def _given_back(
    caller: Caller,
    giving_back: Sequence[tuple[Redemption, Decimal]],
    read: dict[WalletKey, Wallet],
    now: datetime,
    source: ReversalSource,
) -> tuple[list[Done], list[WalletChange]]:
    """Each of `giving_back` given back in turn (reversals into one wallet chain their credits; the
    transaction checks the version that was read), and the wallets that changed, each at the version it was
    read. Expired pages are deleted on the way only while the transaction has room for them: past 100 items,
    the same credits are made again leaving them for later writes; past it still, 815."""
    for start in (read, {key: without_pruning(wallet) for key, wallet in read.items()}):
        current = dict(start)
        done = [(r, *_reversal(caller, r, points, current, now, source)) for r, points in giving_back]
        written = [
            WalletChange(key[0], read[key].version, changes(read[key], wallet))
            for key, wallet in current.items()
            if wallet is not start[key]
        ]
        if not _too_many_items(written, len(done)):
            return done, written
    raise RuleFailure(Item.REVERSAL_TOO_LARGE)


TRANSACTION_ITEMS = 100


def _too_many_items(written: Sequence[WalletChange], reversals: int) -> bool:
    """Whether recording it would pass a transaction's 100 items: per wallet its head, pages and a ledger
    entry (at most, one per reversal); per reversal the redemption's update and the reversal record."""
    wallets = sum(1 + len(c.layout.puts) + len(c.layout.deletes) + reversals for c in written)
    return wallets + 2 * reversals > TRANSACTION_ITEMS


def _by_reference(
    repository: ReversalRepository,
    org: OrgConfig,
    customer_id: str,
    redemption_id: str,
    program_id: int | None,
    consistent: bool,
) -> tuple[Redemption, Wallet | None]:
    """The redemption a reference marker names and its wallet: one read (older markers carry no program, so
    their wallet takes one more)."""
    wallets = [(customer_id, program_id)] if program_id is not None else []
    loaded = repository.load(
        org.org_id, redemption_ids=[redemption_id], wallets=wallets, consistent=consistent
    )
    redemption = loaded.redemptions.get(redemption_id)
    if redemption is None:
        raise RuleFailure(ReversalCodes.REDEMPTION_NOT_FOUND)
    wallet = loaded.wallets.get((customer_id, redemption.program_id)) or repository.wallet(
        org.org_id, customer_id, redemption.program_id, consistent=consistent
    )
    return redemption, wallet


# revert (v1.1)


@tracer.capture_method(capture_response=False)
def revert(caller: Caller, item: RevertItem, clock: Callable[[], datetime]) -> RevertOutcome:
    try:
        org = load_org(caller)
        rules.reversal_enabled(org, ReversalCodes.REVERSAL_DISABLED_WARNING)
        transaction_number = rules.transaction_number(item.transaction_number)
        identifier = rules.identify(org, item.identifiers)
        given = parse_amount(item.points) if item.points is not None and item.points.strip() else None
        outcome = retrying(
            lambda attempt: _revert_once(
                org, caller, item, transaction_number, identifier, given, clock(), attempt > 0
            ),
            "revert",
        )
    except RuleFailure as failure:
        outcome = RevertOutcome(failure.status, False, item)
    except GaveUp:
        metrics.add_metric(name="ReversalsGivenUp", unit="Count", value=1)
        outcome = RevertOutcome(RequestStatus.CUSTOMER_LOCKED, False, item)
    who = outcome.contact.customer_id if outcome.contact else None
    _audit("revert", outcome.status, who, outcome.reversals)
    return outcome


def _revert_once(
    org: OrgConfig,
    caller: Caller,
    item: RevertItem,
    transaction_number: str,
    identifier: Identifier,
    given: Decimal | None,
    now: datetime,
    consistent: bool,
) -> RevertOutcome:
    repository = reversal_repository()
    on_bill = repository.on_bill(org.org_id, transaction_number, consistent=consistent)
    # Whose redemptions they are is known before reading the customer only for `id`; otherwise a bill's
    # redemptions (usually one customer's) are read with the customer, in the same round trip.
    wanted = [
        e for e in on_bill if identifier.type is not IdentifierType.ID or e.customer_id == identifier.value
    ]
    loaded = repository.load(
        org.org_id,
        identifier=identifier,
        redemption_ids=[entry.redemption_id for entry in wanted],
        wallets=[(entry.customer_id, entry.program_id) for entry in wanted if entry.program_id is not None],
        consistent=consistent,
    )
    contact = loaded.contact
    if contact is None:
        raise RuleFailure(Item.CUSTOMER_NOT_FOUND)
    try:
        open_ones = rules.redemptions_to_revert(on_bill, contact.customer_id, given, loaded.redemptions)
    except RuleFailure as refused:
        return RevertOutcome(refused.status, False, item, contact)  # the answer still says who
    giving_back = [(r, r.outstanding) for r in open_ones]
    to_read = list(dict.fromkeys(key for r, p in giving_back for key in wallets_to_credit(r, p, now)))
    read = _read_wallets(repository, org.org_id, to_read, loaded.wallets, giving_back, now, consistent)
    done, written = _given_back(caller, giving_back, read, now, ReversalSource.REVERT)
    repository.record(org.org_id, done, written)
    programs = {redemption.program_id for redemption in open_ones}
    balance = done[-1][1].balance_after if len(programs) == 1 else None
    reversals = tuple(reversal for _, reversal, _ in done)
    return RevertOutcome(RequestStatus.SUCCESS, True, item, contact, reversals, balance)
