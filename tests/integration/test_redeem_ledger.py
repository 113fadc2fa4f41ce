"""The ledger always explains the balance, and an AWS failure at any step leaves nothing half done."""

from __future__ import annotations

import itertools
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from points_core.aws.clients import dynamodb_client
from points_core.repositories import config_repository, customer_repository
from points_core.repositories.keys import customer_partition
from points_core.services.redemption import RedeemItem, RedeemOptions, redeem_item
from tests.conftest import Aws, each_call_failing, failing_nth_call
from tests.factories import allocation, caller, org_config, profile, program, seed_customer, seed_org

SKIP = RedeemOptions(skip_validation=True)
customer_ids = itertools.count(5000)


def now() -> datetime:
    return datetime.now(UTC)


def ledger_sum(aws: Aws, customer_id: str) -> Decimal:
    items: list[dict[str, Any]] = aws.dynamodb.query(
        TableName="LedgerTable",
        KeyConditionExpression="pk = :pk",
        ExpressionAttributeValues={":pk": {"S": customer_partition(100737, customer_id)}},
    )["Items"]
    return sum((Decimal(item["points"]["N"]) for item in items), Decimal(0))


def redemptions(aws: Aws) -> int:
    return len(aws.dynamodb.scan(TableName="RedemptionsTable")["Items"])


@pytest.fixture
def org(aws: Aws) -> None:
    seed_org(org_config(programs=(program(973, min_points=Decimal("0.001")),), allow_skip_validation=True))


@settings(max_examples=20, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    awards=st.lists(
        st.decimals(min_value=Decimal(1), max_value=Decimal(500), places=3), min_size=1, max_size=5
    ),
    requests=st.lists(st.decimals(min_value=Decimal("0.001"), max_value=Decimal(700), places=3), max_size=8),
)
def test_the_ledger_always_explains_the_balance(
    aws: Aws, org: None, awards: list[Decimal], requests: list[Decimal]
) -> None:
    customer_id = str(next(customer_ids))
    seed_customer(
        profile(customer_id, f"9180{customer_id}0000"[:12]),
        *(allocation(str(points), expires_in_days=400 + index) for index, points in enumerate(awards)),
    )
    redeemed = Decimal(0)
    for points in requests:
        outcome = redeem_item(caller(), RedeemItem({"id": customer_id}, str(points)), SKIP, now)
        if outcome.success:
            assert outcome.redemption is not None
            assert sum(draw.points for draw in outcome.redemption.draws) == points
            redeemed += points
        else:
            assert outcome.status.code == 818
        wallet = customer_repository().wallet(100737, customer_id, 973)
        assert wallet is not None
        assert wallet.balance(now()) == sum(awards) - redeemed
        assert ledger_sum(aws, customer_id) == wallet.balance(now())


REDEEM_CALLS = ("get_item", "batch_get_item", "transact_write_items")


@each_call_failing(REDEEM_CALLS)
def test_an_aws_failure_at_any_step_leaves_no_partial_state(
    aws: Aws, org: None, failing_call: int, operation_failed: str
) -> None:
    # Given
    seed_customer(profile("1001", "919000000001"), allocation("500"))
    config_repository().org(100737)  # warm: the configuration is cached, as in a warm function

    # When
    with failing_nth_call(dynamodb_client(), failing_call, REDEEM_CALLS, "InternalServerError") as counter:
        redeem_item(
            caller(),
            RedeemItem({"mobile": "919000000001"}, "100", external_reference_number="F-1"),
            SKIP,
            now,
        )

    # Then
    assert counter["failed"] == operation_failed
    assert customer_repository().wallet(100737, "1001", 973).balance(now()) == 500  # type: ignore[union-attr]
    assert redemptions(aws) == 0
    assert ledger_sum(aws, "1001") == 500
    retried = redeem_item(
        caller(), RedeemItem({"mobile": "919000000001"}, "100", external_reference_number="F-1"), SKIP, now
    )
    assert retried.success
    assert ledger_sum(aws, "1001") == 400
