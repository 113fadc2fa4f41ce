"""Group redemption under concurrency and over random histories: a group's redemptions and its members' own
redemptions at the same moment never overspend a member, each draw is earliest expiry first across the
members (ties to the lower customer id), reversals give every member back what was drawn from them, and each
member's ledger explains their wallet."""

from __future__ import annotations

import itertools
import threading
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime
from decimal import Decimal
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from points_core.domain.identifiers import IdentifierType
from points_core.domain.models import Redemption
from points_core.domain.models.group import GroupRequest
from points_core.repositories import customer_repository
from points_core.repositories.customers import CustomerRepository
from points_core.services.redemption import RedeemItem, RedeemOptions, redeem_item
from points_core.services.reversal import ReverseRequest, reverse
from tests.conftest import Aws
from tests.factories import (
    NOW,
    allocation,
    caller,
    family,
    org_config,
    profile,
    program,
    seed_customer,
    seed_group,
    seed_org,
)
from tests.integration.test_group_redemption import ledger_sum

SKIP = RedeemOptions(skip_validation=True)
customer_numbers = itertools.count(6000)
group_numbers = itertools.count(600)


def clock() -> datetime:
    return NOW


def in_group(group_id: str) -> RedeemOptions:
    return RedeemOptions(skip_validation=True, group=GroupRequest(group_id=group_id))


@pytest.fixture
def org(aws: Aws) -> None:
    seed_org(org_config(programs=(program(973, min_points=Decimal("0.001")),), allow_skip_validation=True))


def balance(customer_id: str) -> Decimal:
    wallet = customer_repository().wallet(100737, customer_id, 973)
    return wallet.balance(NOW) if wallet else Decimal(0)


def test_group_and_individual_redemptions_at_once_never_overspend_a_member(
    aws: Aws, org: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Given: three members with 300 each; four group redemptions of 400 and six members' own of 150 (2,500
    # asked of 900) read the wallets at the same moment
    members = ["7001", "7002", "7003"]
    for n, customer_id in enumerate(members):
        seed_customer(
            profile(customer_id, f"91900000{customer_id}"), allocation("300", expires_in_days=50 + n)
        )
    seed_group(family(*members, group_id="70"))
    parties = 10
    barrier = threading.Barrier(parties, timeout=30)
    first_read = threading.local()

    def together(read: Callable[..., Any]) -> Callable[..., Any]:
        def wrapped(self: Any, *args: Any, **kwargs: Any) -> Any:
            found = read(self, *args, **kwargs)
            if not getattr(first_read, "done", False):
                first_read.done = True
                barrier.wait()
            return found

        return wrapped

    monkeypatch.setattr(CustomerRepository, "pool", together(CustomerRepository.pool))
    monkeypatch.setattr(
        CustomerRepository, "profile_and_wallet", together(CustomerRepository.profile_and_wallet)
    )

    def work(n: int) -> Any:
        member = members[n % 3]
        if n < 4:
            return redeem_item(caller(), RedeemItem({"id": member}, "400"), in_group("70"), clock)
        return redeem_item(caller(), RedeemItem({"id": member}, "150"), SKIP, clock)

    # When
    with ThreadPoolExecutor(parties) as pool:
        outcomes = list(pool.map(work, range(parties)))

    # Then: every refusal is "not enough" or "kept changing"; nobody's points spent twice
    assert {o.status.code for o in outcomes} <= {800, 818, 521}
    done = [o.redemption for o in outcomes if o.success and o.redemption is not None]
    assert done
    drawn: dict[str, Decimal] = {}
    for redemption in done:
        for draw in redemption.draws:
            who = redemption.wallet_of(draw)[0]
            drawn[who] = drawn.get(who, Decimal(0)) + draw.points
    for customer_id in members:
        assert drawn.get(customer_id, Decimal(0)) <= 300
        assert balance(customer_id) == 300 - drawn.get(customer_id, Decimal(0))
        assert ledger_sum(aws, customer_id) == balance(customer_id)
    assert sum(drawn.values()) == sum((r.points for r in done), Decimal(0))


# The property: a model of the members' buckets, against the service over random groups and sequences.

Model = dict[str, dict[datetime, Decimal]]


def model_draws(model: Model, points: Decimal, members: list[str]) -> list[tuple[str, datetime, Decimal]]:
    """Earliest expiry first across the members, ties to the lower customer id."""
    live = sorted(
        ((at, int(m), m) for m in members for at, held in model[m].items() if held > 0 and at > NOW),
    )
    draws: list[tuple[str, datetime, Decimal]] = []
    remaining = points
    for at, _, member in live:
        if remaining <= 0:
            break
        take = min(model[member][at], remaining)
        draws.append((member, at, take))
        remaining -= take
    return draws if remaining <= 0 else []


def recorded(redemption: Redemption) -> list[tuple[str, datetime, Decimal]]:
    return [
        (redemption.wallet_of(draw)[0], draw.expires_at, draw.points)
        for draw in redemption.draws
        if draw.expires_at is not None
    ]


operation = st.one_of(
    st.tuples(st.just("group"), st.integers(0, 3), st.integers(1, 900)),
    st.tuples(st.just("own"), st.integers(0, 3), st.integers(1, 400)),
    st.tuples(st.just("reverse"), st.integers(0, 5), st.integers(1, 500)),
)


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    holdings=st.lists(
        st.lists(st.tuples(st.integers(1, 300), st.integers(1, 6)), min_size=0, max_size=3),
        min_size=2,
        max_size=4,
    ),
    operations=st.lists(operation, min_size=1, max_size=8),
)
def test_random_groups_and_sequences_match_the_model(
    aws: Aws, org: None, holdings: list[list[tuple[int, int]]], operations: list[tuple[str, int, int]]
) -> None:
    # Given: members holding points that expire on a few shared days (so ties happen)
    members = [str(next(customer_numbers)) for _ in holdings]
    model: Model = {m: {} for m in members}
    for member, held in zip(members, holdings, strict=True):
        awards = [allocation(str(p), expires_in_days=10 * d, awarded_days_ago=d) for p, d in held]
        seed_customer(profile(member, f"9190{member}00"[:12]), *awards)
        for award in awards:
            assert award.expires_at is not None
            model[member][award.expires_at] = model[member].get(award.expires_at, Decimal(0)) + award.points
    group_id = str(next(group_numbers))
    seed_group(family(*members, group_id=group_id))
    done: list[Redemption] = []

    for kind, who, points_number in operations:
        points = Decimal(points_number)
        member = members[who % len(members)]
        if kind == "reverse":
            if not done:
                continue
            redemption = done[who % len(done)]
            undone = reverse(
                caller(),
                ReverseRequest(
                    IdentifierType.ID, redemption.customer_id, redemption.redemption_id, "", str(points)
                ),
                clock,
            )
            if undone.success:
                assert undone.reversal is not None
                for credit in undone.reversal.credits:
                    assert credit.expires_at is not None and not credit.expired
                    owner = redemption.wallet_of(credit)[0]
                    model[owner][credit.expires_at] += credit.points
            else:
                assert undone.status.code in (3801, 3802)
            continue
        pool = members if kind == "group" else [member]
        expected = model_draws(model, points, pool)
        options = in_group(group_id) if kind == "group" else SKIP
        outcome = redeem_item(caller(), RedeemItem({"id": member}, str(points)), options, clock)
        if not expected:
            assert outcome.status.code == 818
            continue
        assert outcome.success and outcome.redemption is not None
        assert recorded(outcome.redemption) == expected
        for owner, at, take in expected:
            model[owner][at] -= take
        done.append(outcome.redemption)

    # Then: every member's wallet is the model's, and their ledger explains it
    for member in members:
        expected_balance = sum((p for at, p in model[member].items() if at > NOW), Decimal(0))
        assert balance(member) == expected_balance
        assert ledger_sum(aws, member) == expected_balance
