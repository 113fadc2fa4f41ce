"""Reversals against moto, through the services: expiry passing between redeem and reverse (time injected),
racing reversals, an AWS failure at each step, and the ledger explaining the balance through any sequence of
redemptions and reversals; and the legacy revert by bill."""

from __future__ import annotations

import itertools
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from points_core.aws.clients import dynamodb_client
from points_core.domain.identifiers import IdentifierType
from points_core.domain.models import Redemption
from points_core.repositories import config_repository, customer_repository
from points_core.repositories.codec import load_model
from points_core.repositories.keys import redemption as redemption_key
from points_core.services.redemption import RedeemItem, RedeemOptions, redeem_item
from points_core.services.reversal import ReverseOutcome, ReverseRequest, reverse
from tests.conftest import Aws, each_call_failing, failing_nth_call
from tests.factories import NOW, allocation, caller, org_config, profile, program, seed_customer, seed_org
from tests.integration.test_redeem_ledger import ledger_sum, redemptions

SKIP = RedeemOptions(skip_validation=True)
customer_ids = itertools.count(7000)


def at(moment: datetime) -> Callable[[], datetime]:
    return lambda: moment


@pytest.fixture
def org(aws: Aws) -> None:
    seed_org(org_config(programs=(program(973, min_points=Decimal("0.001")),), allow_skip_validation=True))


def redeem(customer_id: str, points: str, when: datetime = NOW) -> Redemption:
    outcome = redeem_item(caller(), RedeemItem({"id": customer_id}, points), SKIP, at(when))
    assert outcome.success and outcome.redemption is not None, outcome.status
    return outcome.redemption


def give_back(
    customer_id: str, redemption_id: str, points: str | None, when: datetime = NOW
) -> ReverseOutcome:
    request = ReverseRequest(IdentifierType.ID, customer_id, redemption_id=redemption_id, points=points)
    return reverse(caller(), request, at(when))


def stored(aws: Aws, redemption_id: str) -> Redemption:
    item = aws.dynamodb.get_item(TableName="RedemptionsTable", Key=redemption_key(100737, redemption_id))[
        "Item"
    ]
    return load_model(Redemption, item)


def wallet_balance(customer_id: str, when: datetime = NOW) -> Decimal:
    wallet = customer_repository().wallet(100737, customer_id, 973)
    assert wallet is not None
    return wallet.balance(when)


def test_points_whose_allocation_expired_since_are_reported_and_not_credited(org: None) -> None:
    seed_customer(
        profile("1001", "919000000001"),
        allocation("300", expires_in_days=30, allocation_id="soon"),
        allocation("500", expires_in_days=900, allocation_id="late"),
    )
    redemption = redeem("1001", "600")  # 300 from "soon", then 300 from "late"
    month_later = NOW + timedelta(days=31)  # "soon" has expired
    partly = give_back("1001", redemption.redemption_id, "350", month_later)
    assert partly.reversal is not None
    # Last drawn first: 300 of "late" is credited, then 50 of "soon", which expired: reported, not credited.
    assert (partly.reversal.available, partly.reversal.expired) == (300, 50)
    assert wallet_balance("1001", month_later) == 500
    rest = give_back("1001", redemption.redemption_id, None, month_later)
    assert rest.reversal is not None
    assert (rest.reversal.points, rest.reversal.available, rest.reversal.expired) == (250, 0, 250)
    assert wallet_balance("1001", month_later) == 500
    wallet = customer_repository().wallet(100737, "1001", 973)
    assert wallet is not None
    assert [(b.expires_at, b.points) for b in wallet.buckets] == [(NOW + timedelta(days=900), Decimal(500))]
    assert give_back("1001", redemption.redemption_id, None, month_later).status.code == 3802


@pytest.mark.parametrize(("option", "expected"), [({}, 200), ({"v2_error_http_status": 400}, 400)])
def test_every_reverse_outcome_carries_the_orgs_v2_refusal_http_status(
    aws: Aws, option: dict[str, int], expected: int
) -> None:
    # Given
    org = org_config(
        programs=(program(973, min_points=Decimal("0.001")),), allow_skip_validation=True, **option
    )
    seed_org(org)
    seed_customer(profile("1001", "919000000001"), allocation("1000"))
    redemption_id = redeem("1001", "600").redemption_id

    # When: refusals from every stage of reverse, then a success
    outcomes = [
        give_back("abc", redemption_id, None),
        give_back("4242", redemption_id, None),
        give_back("1001", "zzz999", None),
        give_back("1001", redemption_id, "700"),
        give_back("1001", redemption_id, "100"),
    ]
    seed_org(org.model_copy(update={"reversal_enabled": False}))
    outcomes.append(give_back("1001", redemption_id, None))

    # Then
    codes = [802, 8015, 3803, 3801, 200, 4101]
    assert [(o.status.code, o.refusal_http_status) for o in outcomes] == [(c, expected) for c in codes]


def test_a_reverse_for_an_org_that_cannot_be_loaded_keeps_the_default_refusal_status(aws: Aws) -> None:
    request = ReverseRequest(IdentifierType.ID, "1001", redemption_id="abc123")
    outcome = reverse(caller(org_id=555), request, at(NOW))
    assert (outcome.status.code, outcome.refusal_http_status) == (895, 200)


@pytest.fixture
def racing(org: None, monkeypatch: pytest.MonkeyPatch) -> None:
    """Customer 1001 with 1000 points; a write that lost a race retries at once."""
    monkeypatch.setattr("points_core.services.retry.time.sleep", lambda _: None)
    seed_customer(profile("1001", "919000000001"), allocation("1000"))


def test_racing_reversals_never_give_back_more_than_was_redeemed(racing: None, aws: Aws) -> None:
    # Given
    redemption = redeem("1001", "600")

    # When
    with ThreadPoolExecutor(8) as pool:
        outcomes = list(
            pool.map(lambda _: give_back("1001", redemption.redemption_id, "100"), range(10))
            # 10 x 100 asked, 600 there: six succeed, the rest find too little (3801) or nothing (3802) left.
        )

    # Then
    succeeded = [o for o in outcomes if o.success]
    assert len(succeeded) == 6
    assert {o.status.code for o in outcomes if not o.success} <= {3801, 3802, 521}
    assert stored(aws, redemption.redemption_id).reversed_points == 600
    assert wallet_balance("1001") == 1000
    assert ledger_sum(aws, "1001") == 1000
    assert len({o.reversal.reversal_id for o in succeeded if o.reversal}) == 6


def test_racing_whole_reversals_reverse_once(racing: None) -> None:
    redemption = redeem("1001", "600")
    with ThreadPoolExecutor(6) as pool:
        outcomes = list(pool.map(lambda _: give_back("1001", redemption.redemption_id, None), range(6)))
    assert [o.success for o in outcomes].count(True) == 1
    assert {o.status.code for o in outcomes if not o.success} <= {3802, 521}
    assert wallet_balance("1001") == 1000


def test_redemptions_and_reversals_racing_on_one_customer_stay_consistent(racing: None, aws: Aws) -> None:
    # Given
    first = redeem("1001", "500")

    def work(n: int) -> Any:
        if n % 2:
            return give_back("1001", first.redemption_id, "50")
        return redeem_item(caller(), RedeemItem({"id": "1001"}, "100"), SKIP, at(NOW))

    # When
    with ThreadPoolExecutor(8) as pool:
        outcomes = list(pool.map(work, range(16)))

    # Then
    reversed_points = sum(
        (o.reversal.points for o in outcomes if isinstance(o, ReverseOutcome) and o.success), Decimal(0)
    )
    redeemed = sum(
        (o.redemption.points for o in outcomes if not isinstance(o, ReverseOutcome) and o.success), Decimal(0)
    )
    assert reversed_points <= 500
    assert wallet_balance("1001") == 1000 - 500 - redeemed + reversed_points >= 0
    assert ledger_sum(aws, "1001") == wallet_balance("1001")


REVERSE_CALLS = ("batch_get_item", "get_item", "transact_write_items")


@each_call_failing(REVERSE_CALLS)
def test_an_aws_failure_at_any_step_of_a_reversal_leaves_no_partial_state(
    org: None, aws: Aws, failing_call: int, operation_failed: str
) -> None:
    # Given
    seed_customer(profile("1001", "919000000001"), allocation("500"))
    redemption = redeem("1001", "200")
    config_repository().org(100737)  # warm: the configuration is cached, as in a warm function

    # When
    with failing_nth_call(dynamodb_client(), failing_call, REVERSE_CALLS, "ThrottlingException") as counter:
        give_back("1001", redemption.redemption_id, "50")

    # Then
    assert counter["failed"] == operation_failed
    assert wallet_balance("1001") == 300
    assert stored(aws, redemption.redemption_id).reversed_points == 0
    assert redemptions(aws) == 1  # the redemption, and no reversal record
    assert ledger_sum(aws, "1001") == 300
    assert give_back("1001", redemption.redemption_id, "50").success
    assert wallet_balance("1001") == ledger_sum(aws, "1001") == 350


@settings(max_examples=15, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    awards=st.lists(
        st.decimals(min_value=Decimal(1), max_value=Decimal(500), places=3), min_size=1, max_size=4
    ),
    steps=st.lists(
        st.tuples(
            st.sampled_from(["redeem", "reverse", "reverse all"]),
            st.decimals(min_value=Decimal("0.001"), max_value=Decimal(400), places=3),
            st.integers(min_value=0, max_value=5),
        ),
        max_size=10,
    ),
)
def test_the_ledger_explains_the_balance_through_redemptions_and_reversals(
    aws: Aws, org: None, awards: list[Decimal], steps: list[tuple[str, Decimal, int]]
) -> None:
    customer_id = str(next(customer_ids))
    seed_customer(
        profile(customer_id, f"9170{customer_id}0000"[:12]),
        *(allocation(str(points), expires_in_days=400 + index) for index, points in enumerate(awards)),
    )
    made: list[Redemption] = []
    given_back: dict[str, Decimal] = {}
    for action, points, pick in steps:
        if action == "redeem":
            outcome = redeem_item(caller(), RedeemItem({"id": customer_id}, str(points)), SKIP, at(NOW))
            if outcome.success:
                assert outcome.redemption is not None
                made.append(outcome.redemption)
            continue
        if not made:
            continue
        target = made[pick % len(made)]
        left = target.points - given_back.get(target.redemption_id, Decimal(0))
        result = give_back(
            customer_id, target.redemption_id, None if action == "reverse all" else str(points)
        )
        if result.success:
            assert result.reversal is not None
            given_back[target.redemption_id] = (
                given_back.get(target.redemption_id, Decimal(0)) + result.reversal.points
            )
            assert result.reversal.available == result.reversal.points  # nothing has expired
        else:
            expected = 3802 if left == 0 else 3801
            assert result.status.code == expected
        assert stored(aws, target.redemption_id).reversed_points == given_back.get(target.redemption_id, 0)
    redeemed = sum((r.points for r in made), Decimal(0))
    reversed_points = sum(given_back.values(), Decimal(0))
    assert wallet_balance(customer_id) == sum(awards) - redeemed + reversed_points
    assert ledger_sum(aws, customer_id) == wallet_balance(customer_id)
    for redemption in made:
        assert stored(aws, redemption.redemption_id).reversed_points <= redemption.points
