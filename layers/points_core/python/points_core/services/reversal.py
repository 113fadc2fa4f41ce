"""reverse (v2) and revert (v1.1): redeemed points go back to the allocations they were drawn from, with their
original expiry; what has expired since is reported, not credited. Each reversal has its own record and id,
and everything is written in one conditional transaction, retried from fresh reads when something changed.

reverse, in order: configuration (895), reversal enabled (4101), the identifier (802); one read: the customer
(8015), the redemption by id or reference (3803 when unknown or another customer's, 3804 for a reversal's
id); the amount (4102, 878); what is left (3802 nothing, 3801 less than asked); then the transaction.

revert, per item: configuration (895), reversal enabled (905), the transaction number (811), the identifier
(802), the points given (801, 878); the bill (811 unknown in the org; 816 unknown customer; 814 nothing of
this customer's on it; 815 too many redemptions for one transaction); 810 when the points given are not what
was redeemed on the bill; 812 when all of it is reversed already; then the transaction, for every redemption
of the customer on the bill.
"""

from __future__ import annotations

import re
import secrets
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal

from points_core.aws.observability import logger, mask_identifier, metrics
from points_core.domain.codes import Item, RequestStatus, Status
from points_core.domain.codes import Reversal as ReversalCodes
from points_core.domain.identifiers import (
    Identifier,
    IdentifierType,
    MalformedIdentifier,
    normalize,
    pick_identifier,
)
from points_core.domain.ledger import StaleRead, credit
from points_core.domain.models import Caller, OrgConfig, Redemption, Reversal, ReversalSource, Wallet
from points_core.domain.models.redemption import BASE62
from points_core.domain.rules import RuleFailure, parse_amount
from points_core.repositories import (
    ConfigRepository,
    ReversalRepository,
    config_repository,
    reversal_repository,
)
from points_core.repositories.customers import Contact
from points_core.repositories.redemptions import NotRecorded, Refusal
from points_core.repositories.reversals import Found, ReversalRecord, WalletChange
from points_core.services.retry import GaveUp, retrying

MAX_REDEMPTIONS_PER_REVERT = 25
"""A revert is one transaction (100 items at most): three items per redemption, plus its wallets."""

_REDEMPTION_ID = re.compile(r"[0-9A-Za-z]{6}")


def new_reversal_id() -> str:
    return "".join(secrets.choice(BASE62) for _ in range(6))


@dataclass(frozen=True, slots=True)
class ReverseRequest:
    identifier_type: IdentifierType
    identifier_value: str
    redemption_id: str = ""
    external_reference_number: str = ""
    points: str | None = None
    """None: everything not reversed yet."""


@dataclass(frozen=True, slots=True)
class ReverseOutcome:
    status: Status
    success: bool
    customer_id: str | None = None
    requested: Decimal | None = None
    reversal: Reversal | None = None


@dataclass(frozen=True, slots=True)
class RevertItem:
    identifiers: dict[str, str | None]
    transaction_number: str
    points: str | None = None
    """What the caller says was redeemed on the bill (checked when given, 810)."""


@dataclass(frozen=True, slots=True)
class RevertOutcome:
    status: Status
    success: bool
    item: RevertItem
    contact: Contact | None = None
    reversals: tuple[Reversal, ...] = ()
    balance: Decimal | None = None
    """The balance after, when the bill's redemptions were all in one program."""


def _reversal(
    caller: Caller,
    redemption: Redemption,
    points: Decimal,
    wallet: Wallet,
    now: datetime,
    source: ReversalSource,
) -> tuple[Wallet, Reversal]:
    """The wallet with `points` of `redemption` given back, and the reversal that records it."""
    try:
        updated, credits = credit(wallet, redemption, points, now)
    except StaleRead:
        raise NotRecorded({Refusal.REDEMPTION_CHANGED}) from None  # retried from fresh reads
    reversal = Reversal(
        reversal_id=new_reversal_id(),
        redemption_id=redemption.redemption_id,
        customer_id=redemption.customer_id,
        program_id=redemption.program_id,
        points=points,
        available=sum((c.points for c in credits if not c.expired), Decimal(0)),
        expired=sum((c.points for c in credits if c.expired), Decimal(0)),
        credits=credits,
        balance_after=updated.balance(now),
        reversed_at=now,
        till_id=caller.till_id,
        store_id=caller.store_id,
        source=source,
        transaction_number=redemption.transaction_number,
    )
    return updated, reversal


def _audit(
    caller: Caller,
    source: str,
    status: Status,
    who: str | None,
    reversals: tuple[Reversal, ...],
    **extra: str,
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
    logger.info(
        f"{source} processed",
        extra={
            "org_id": caller.org_id,
            "till_id": caller.till_id,
            "customer": who,
            "code": status.code,
            "reversals": [
                {
                    "redemption_id": r.redemption_id,
                    "reversal_id": r.reversal_id,
                    "available": str(r.available),
                    "expired": str(r.expired),
                }
                for r in reversals
            ],
            **extra,
        },
    )


def _org(caller: Caller, configs: ConfigRepository | None, disabled: Status) -> OrgConfig:
    org = (configs or config_repository()).org(caller.org_id)
    if org is None:
        raise RuleFailure(Item.PROGRAM_NOT_CONFIGURED)
    if not org.reversal_enabled:
        raise RuleFailure(disabled)
    return org


# reverse (v2)


def reverse(
    caller: Caller,
    request: ReverseRequest,
    clock: Callable[[], datetime],
    *,
    configs: ConfigRepository | None = None,
    reversals: ReversalRepository | None = None,
) -> ReverseOutcome:
    repository = reversals or reversal_repository()
    try:
        org = _org(caller, configs, ReversalCodes.REVERSAL_DISABLED)
        try:
            value = normalize(
                request.identifier_type,
                request.identifier_value,
                org.country_code,
                org.mobile_national_digits,
            )
        except MalformedIdentifier:
            raise RuleFailure(Item.INVALID_IDENTIFIER) from None
        identifier = Identifier(request.identifier_type, value)
        # A retry reads consistently: the first read may not have seen the write that refused it.
        outcome = retrying(
            lambda attempt: _reverse_once(org, caller, request, identifier, clock(), repository, attempt > 0),
            "reversal",
        )
    except RuleFailure as failure:
        outcome = ReverseOutcome(failure.status, False)
    except GaveUp:
        metrics.add_metric(name="ReversalsGivenUp", unit="Count", value=1)
        outcome = ReverseOutcome(RequestStatus.CUSTOMER_LOCKED, False)
    _audit(
        caller,
        "reverse",
        outcome.status,
        mask_identifier(request.identifier_type, request.identifier_value),
        (outcome.reversal,) if outcome.reversal else (),
        redemption_id=request.redemption_id.strip()[:16],
    )
    return outcome


def _target(found: Found, customer_id: str, redemption_id: str, reference: str) -> Redemption | None:
    """The redemption named, when the first read already holds it; 3803/3804 when it names nothing of
    this customer's. None: named by reference only, still to be read."""
    record = found.record
    if redemption_id:
        if record is None or record.customer_id != customer_id:
            raise RuleFailure(ReversalCodes.REDEMPTION_NOT_FOUND)
        if isinstance(record, ReversalRecord):
            raise RuleFailure(ReversalCodes.REVERSAL_OF_REVERSAL)
    if reference:
        marker = found.reference
        if marker is None or marker.customer_id != customer_id:
            raise RuleFailure(ReversalCodes.REDEMPTION_NOT_FOUND)
        if redemption_id and marker.redemption_id != redemption_id:
            raise RuleFailure(ReversalCodes.REDEMPTION_NOT_FOUND)
    return record if isinstance(record, Redemption) else None


def _reverse_once(
    org: OrgConfig,
    caller: Caller,
    request: ReverseRequest,
    identifier: Identifier,
    now: datetime,
    repository: ReversalRepository,
    consistent: bool,
) -> ReverseOutcome:
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
    redemption = _target(found, customer_id, redemption_id, reference)
    if redemption is not None:
        wallet = repository.wallet(org.org_id, customer_id, redemption.program_id, consistent=consistent)
    else:
        assert found.reference is not None
        marker = found.reference
        wallets = [(customer_id, marker.program_id)] if marker.program_id is not None else []
        loaded = repository.load(
            org.org_id, redemption_ids=[marker.redemption_id], wallets=wallets, consistent=consistent
        )
        redemption = loaded.redemptions.get(marker.redemption_id)
        if redemption is None:
            raise RuleFailure(ReversalCodes.REDEMPTION_NOT_FOUND)
        wallet = loaded.wallets.get((customer_id, redemption.program_id)) or repository.wallet(
            org.org_id, customer_id, redemption.program_id, consistent=consistent
        )
    if request.points is None:
        points = redemption.outstanding
    else:
        points = parse_amount(request.points, invalid=ReversalCodes.INVALID_POINTS)
    if redemption.outstanding == 0:
        raise RuleFailure(ReversalCodes.ALREADY_REVERSED)
    if points > redemption.outstanding:
        raise RuleFailure(ReversalCodes.MORE_THAN_REMAINING)
    if wallet is None:
        raise LookupError(f"redemption {redemption.redemption_id} has no wallet")
    updated, reversal = _reversal(caller, redemption, points, wallet, now, ReversalSource.REVERSE)
    repository.record(
        org.org_id, [(redemption, reversal)], [WalletChange(customer_id, wallet.version, updated)]
    )
    return ReverseOutcome(RequestStatus.SUCCESS, True, customer_id, points, reversal)


# revert (v1.1)


class Refused(RuleFailure):
    """A revert refused once the customer is known: the answer still says who."""

    def __init__(self, status: Status, contact: Contact) -> None:
        super().__init__(status)
        self.contact = contact


def revert(
    caller: Caller,
    item: RevertItem,
    clock: Callable[[], datetime],
    *,
    configs: ConfigRepository | None = None,
    reversals: ReversalRepository | None = None,
) -> RevertOutcome:
    repository = reversals or reversal_repository()
    try:
        org = _org(caller, configs, ReversalCodes.REVERSAL_DISABLED_WARNING)
        transaction_number = item.transaction_number.strip()
        if not transaction_number:
            raise RuleFailure(Item.INVALID_TRANSACTION_NUMBER)
        try:
            identifier = pick_identifier(item.identifiers, org.country_code, org.mobile_national_digits)
        except MalformedIdentifier:
            raise RuleFailure(Item.INVALID_IDENTIFIER) from None
        given = parse_amount(item.points) if item.points is not None and item.points.strip() else None
        outcome = retrying(
            lambda attempt: _revert_once(
                org, caller, item, transaction_number, identifier, given, clock(), repository, attempt > 0
            ),
            "revert",
        )
    except RuleFailure as failure:
        contact = failure.contact if isinstance(failure, Refused) else None
        outcome = RevertOutcome(failure.status, False, item, contact)
    except GaveUp:
        metrics.add_metric(name="ReversalsGivenUp", unit="Count", value=1)
        outcome = RevertOutcome(RequestStatus.CUSTOMER_LOCKED, False, item)
    who = outcome.contact.customer_id if outcome.contact else None
    _audit(caller, "revert", outcome.status, who, outcome.reversals)
    return outcome


def _revert_once(
    org: OrgConfig,
    caller: Caller,
    item: RevertItem,
    transaction_number: str,
    identifier: Identifier,
    given: Decimal | None,
    now: datetime,
    repository: ReversalRepository,
    consistent: bool,
) -> RevertOutcome:
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
    if not on_bill:
        raise Refused(Item.INVALID_TRANSACTION_NUMBER, contact)
    mine = [entry for entry in wanted if entry.customer_id == contact.customer_id]
    if not mine:
        raise Refused(Item.NOTHING_REDEEMED_ON_TRANSACTION, contact)
    if len(mine) > MAX_REDEMPTIONS_PER_REVERT:
        raise Refused(Item.UNABLE_TO_PROCESS, contact)
    if given is not None and given != sum((entry.points for entry in mine), Decimal(0)):
        raise Refused(Item.REVERT_POINTS_MISMATCH, contact)
    redemptions = sorted(
        (loaded.redemptions[entry.redemption_id] for entry in mine), key=lambda r: r.recorded_at
    )
    open_ones = [redemption for redemption in redemptions if redemption.outstanding > 0]
    if not open_ones:
        raise Refused(Item.ALREADY_REVERTED, contact)
    read: dict[int, Wallet] = {}
    for program_id in dict.fromkeys(redemption.program_id for redemption in open_ones):
        wallet = loaded.wallets.get((contact.customer_id, program_id)) or repository.wallet(
            org.org_id, contact.customer_id, program_id, consistent=consistent
        )
        if wallet is None:
            raise LookupError(f"customer has no wallet in program {program_id}")
        read[program_id] = wallet
    current = dict(read)
    done: list[tuple[Redemption, Reversal]] = []
    for redemption in open_ones:
        # Reversals into one wallet chain their credits; the transaction checks the version that was read.
        current[redemption.program_id], reversal = _reversal(
            caller,
            redemption,
            redemption.outstanding,
            current[redemption.program_id],
            now,
            ReversalSource.REVERT,
        )
        done.append((redemption, reversal))
    changes = [
        WalletChange(contact.customer_id, read[program_id].version, wallet)
        for program_id, wallet in current.items()
    ]
    repository.record(org.org_id, done, changes)
    balance = next(iter(current.values())).balance(now) if len(current) == 1 else None
    return RevertOutcome(
        RequestStatus.SUCCESS, True, item, contact, tuple(reversal for _, reversal in done), balance
    )
