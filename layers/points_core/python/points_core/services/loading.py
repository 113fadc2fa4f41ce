"""Loading customers and points (the data import and member-care goodwill). Points are never issued through
the API; these are the only ways in, and both are idempotent: running the same load twice changes nothing."""

from __future__ import annotations

import random
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal

from points_core.aws.observability import tracer
from points_core.domain.errors import GaveUp, NotRecorded
from points_core.domain.identifiers import Identifier, IdentifierType
from points_core.domain.ledger import Layout, add, pages_to_hold
from points_core.domain.models import (
    AwardEntry,
    Bucket,
    CustomerProfile,
    EntryKind,
    Wallet,
)
from points_core.repositories import CustomerRepository, CustomerUpsert, customer_repository

# One transaction holds the wallet, the pages it changes and the award entries: DynamoDB's limit is 100 items.
TRANSACTION_ITEMS = 100
AWARDS_PER_TRANSACTION = 90
MAX_WALLET_ATTEMPTS = 6


def profile_identifiers(profile: CustomerProfile) -> set[Identifier]:
    """The lookup identifiers of a profile (its values are already normalized)."""
    return {
        Identifier(identifier_type, value)
        for identifier_type in IdentifierType
        if identifier_type is not IdentifierType.ID and (value := getattr(profile, identifier_type.value))
    }


@dataclass(slots=True)
class CustomerLoad:
    """What `load_customers` did with each customer id."""

    created: list[str] = field(default_factory=list)
    updated: list[str] = field(default_factory=list)
    unchanged: list[str] = field(default_factory=list)
    """Profile and every identifier already stored as given: not written again."""
    rejected: dict[str, str] = field(default_factory=dict)
    """Customer id → reason; a rejected customer is not written at all."""


@tracer.capture_method(capture_response=False)
def load_customers(
    org_id: int, profiles: Sequence[CustomerProfile], customers: CustomerRepository | None = None
) -> CustomerLoad:
    """Create or update customers with their identifiers (customer ids must be unique in `profiles`)."""
    repository = customers or customer_repository()
    claimed = {profile.customer_id: profile_identifiers(profile) for profile in profiles}
    owners = repository.identifier_owners(
        org_id, {i for identifiers in claimed.values() for i in identifiers}
    )
    existing = repository.profiles(org_id, claimed)
    result = CustomerLoad()
    taken_in_batch: dict[Identifier, str] = {}
    upserts: list[CustomerUpsert] = []
    for profile in profiles:
        customer_id = profile.customer_id
        for identifier in sorted(claimed[customer_id], key=lambda i: i.type):
            owner = owners.get(identifier) or taken_in_batch.get(identifier)
            if owner is not None and owner != customer_id:
                result.rejected[customer_id] = f"{identifier.type.value} already belongs to customer {owner}"
                break
        if customer_id in result.rejected:
            continue
        taken_in_batch.update(dict.fromkeys(claimed[customer_id], customer_id))
        previous = existing.get(customer_id)
        # An identifier item can be missing after an interrupted load (a batch write is not a transaction):
        # only a customer whose identifiers all point at it already is left alone.
        if previous == profile and all(owners.get(i) == customer_id for i in claimed[customer_id]):
            result.unchanged.append(customer_id)
            continue
        (result.updated if previous else result.created).append(customer_id)
        released = profile_identifiers(previous) - claimed[customer_id] if previous else set()
        upserts.append(CustomerUpsert(profile, tuple(claimed[customer_id]), tuple(released)))
    repository.write_customers(org_id, upserts)
    return result


def upsert_customers(
    org_id: int, profiles: Sequence[CustomerProfile], customers: CustomerRepository | None = None
) -> dict[str, str]:
    """Create or update customers with their identifiers. Returns the rejected customer ids with the reason;
    a rejected customer is not written at all."""
    return load_customers(org_id, profiles, customers).rejected


@dataclass(frozen=True, slots=True)
class Award:
    allocation_id: str
    points: Decimal
    awarded_at: datetime
    expires_at: datetime | None = None
    kind: EntryKind = EntryKind.AWARD
    reason: str = ""


@dataclass(slots=True)
class AwardResult:
    created: list[str] = field(default_factory=list)
    already_recorded: list[str] = field(default_factory=list)
    conflicting: list[str] = field(default_factory=list)
    """Allocation ids recorded before with other points or expiry: the ledger is never rewritten."""


def _same_award(award: Award, entry: AwardEntry) -> bool:
    # Not the award time: a retried goodwill grant is stamped anew, and is still the same grant.
    return (award.points, award.expires_at) == (entry.points, entry.expires_at)


def _with_awards(
    repository: CustomerRepository,
    org_id: int,
    customer_id: str,
    wallet: Wallet | None,
    program_id: int,
    awards: Sequence[Award],
    tier: str | None,
    now: datetime,
) -> Layout:
    """The wallet after the awards, each in the bucket of its expiry (in the head, or in the page holding it,
    read first), lifetime points grown by every award, expired on arrival or not; expired buckets pruned. When
    the paged points have started expiring, the first pages are read too, so that the write prunes them: a
    wallet that only ever earns keeps no expired page for its reads to go through."""
    base = wallet or Wallet(program_id=program_id)
    base = base.model_copy(
        update={
            "tier": tier if tier is not None else base.tier,
            "lifetime_points": base.lifetime_points + sum((a.points for a in awards), Decimal(0)),
        }
    )
    if not base.known_balance_is_exact(now):
        base = repository.pages().first_pages(org_id, customer_id, base, now)
    buckets = [Bucket(expires_at=award.expires_at, points=award.points) for award in awards]
    wanted = pages_to_hold(base, [bucket.expires_at for bucket in buckets], now)
    if wanted:
        base = repository.pages().holding(org_id, customer_id, base, wanted)
    return add(base, buckets, now)  # a new wallet is written at version 1


def _back_off(attempt: int) -> None:
    time.sleep(random.uniform(0, 0.05 * 2**attempt))  # noqa: S311 - jitter, not security


def _award_chunk(
    repository: CustomerRepository,
    org_id: int,
    customer_id: str,
    program_id: int,
    awards: Sequence[Award],
    tier: str | None,
    now: datetime,
) -> AwardResult:
    for attempt in range(MAX_WALLET_ATTEMPTS):
        wallet = repository.wallet(org_id, customer_id, program_id)
        recorded = repository.recorded_awards(
            org_id, customer_id, program_id, [a.allocation_id for a in awards]
        )
        new = [award for award in awards if award.allocation_id not in recorded]
        conflicting = sorted(
            award.allocation_id
            for award in awards
            if award.allocation_id in recorded and not _same_award(award, recorded[award.allocation_id])
        )
        unchanged = sorted(set(recorded) - set(conflicting))
        tier_changes = tier is not None and (wallet is None or wallet.tier != tier)
        if not new and not tier_changes:
            return AwardResult(already_recorded=unchanged, conflicting=conflicting)
        try:
            layout = _with_awards(repository, org_id, customer_id, wallet, program_id, new, tier, now)
        except NotRecorded:  # its pages do not match the head read: read both again
            _back_off(attempt)
            continue
        if 1 + len(layout.puts) + len(layout.deletes) + len(new) > TRANSACTION_ITEMS and len(new) > 1:
            # Awards spread over many pages: in two halves, each its own transaction.
            half = len(awards) // 2
            first = _award_chunk(repository, org_id, customer_id, program_id, awards[:half], tier, now)
            second = _award_chunk(repository, org_id, customer_id, program_id, awards[half:], tier, now)
            return AwardResult(
                created=first.created + second.created,
                already_recorded=first.already_recorded + second.already_recorded,
                conflicting=first.conflicting + second.conflicting,
            )
        entries = [
            AwardEntry(
                kind=award.kind,
                program_id=program_id,
                allocation_id=award.allocation_id,
                points=award.points,
                awarded_at=award.awarded_at,
                expires_at=award.expires_at,
                reason=award.reason,
                recorded_at=now,
            )
            for award in new
        ]
        try:
            repository.save_awards(org_id, customer_id, wallet.version if wallet else None, layout, entries)
        except NotRecorded:
            _back_off(attempt)
            continue
        return AwardResult(
            created=[a.allocation_id for a in new], already_recorded=unchanged, conflicting=conflicting
        )
    raise GaveUp(f"wallet of customer {customer_id} kept changing; nothing was written")


@tracer.capture_method(capture_response=False)
def award_points(
    org_id: int,
    customer_id: str,
    program_id: int,
    awards: Sequence[Award],
    now: datetime,
    *,
    tier: str | None = None,
    customers: CustomerRepository | None = None,
) -> AwardResult:
    """Add allocations to a wallet, each recorded once in the ledger by its allocation id."""
    repository = customers or customer_repository()
    unique = list({award.allocation_id: award for award in awards}.values())
    result = AwardResult()
    for start in range(0, max(len(unique), 1), AWARDS_PER_TRANSACTION):
        chunk = _award_chunk(
            repository,
            org_id,
            customer_id,
            program_id,
            unique[start : start + AWARDS_PER_TRANSACTION],
            tier,
            now,
        )
        result.created.extend(chunk.created)
        result.already_recorded.extend(chunk.already_recorded)
        result.conflicting.extend(chunk.conflicting)
    return result
