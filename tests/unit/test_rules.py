"""The redemption rules, pure: each code on its own, their order, and properties where they combine."""

from __future__ import annotations

from dataclasses import replace
from datetime import timedelta
from decimal import Decimal

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from points_core.domain.amounts import parse_amount, points_for_currency
from points_core.domain.codes import Item, Status
from points_core.domain.errors import RuleFailure
from points_core.domain.models import Enrolment, RedemptionRules, Store
from points_core.domain.rules import RedemptionCheck, evaluate, resolve_program
from tests.factories import NOW, allocation, org_config, profile, program, wallet


def check(amount: str | None = "100", **overrides: object) -> RedemptionCheck:
    base = RedemptionCheck(
        org=org_config(),
        now=NOW,
        amount_text=amount,
        customer=profile(lifetime_purchases=Decimal(1000)),
        program=program(),
        wallet=wallet(allocation("1000")),
    )
    return replace(base, **overrides)  # type: ignore[arg-type]


def code_of(redemption: RedemptionCheck) -> int:
    return evaluate(redemption).status.code


class TestEachRule:
    def test_given_everything_in_order_when_evaluated_then_800_with_the_quote(self) -> None:
        decision = evaluate(check("100"))
        assert decision.redeemable
        assert decision.status == Item.REDEEMABLE
        assert decision.quote is not None
        assert (decision.quote.points, decision.quote.value, decision.quote.input_type) == (
            Decimal(100),
            Decimal(50),
            "points",
        )

    @pytest.mark.parametrize("failure", [Item.CUSTOMER_NOT_FOUND, Item.INVALID_IDENTIFIER])
    def test_no_customer_answers_its_lookup_failure(self, failure: Status) -> None:
        assert evaluate(check(customer=None, customer_failure=failure)).status == failure

    def test_campaign_customer_686(self) -> None:
        assert code_of(check(customer=profile(enrolment=Enrolment.CAMPAIGN))) == 686

    def test_unregistered_customer_881(self) -> None:
        assert code_of(check(customer=profile(enrolment=Enrolment.UNREGISTERED))) == 881

    @pytest.mark.parametrize("status", ["Marked", "Confirmed", "Reconfirmed"])
    def test_blocking_fraud_status_809(self, status: str) -> None:
        assert code_of(check(customer=profile(fraud_status=status))) == 809

    @pytest.mark.parametrize("status", ["Not_Fraud", "Internal", ""])
    def test_non_blocking_fraud_status_passes(self, status: str) -> None:
        assert code_of(check(customer=profile(fraud_status=status))) == 800

    def test_fraud_statuses_that_block_are_org_configuration(self) -> None:
        org = org_config(blocking_fraud_statuses=frozenset({"Confirmed"}))
        assert code_of(check(org=org, customer=profile(fraud_status="Marked"))) == 800
        assert code_of(check(org=org, customer=profile(fraud_status="Confirmed"))) == 809

    @pytest.mark.parametrize("failure", [Item.INVALID_PROGRAM_ID, Item.PROGRAM_NOT_CONFIGURED])
    def test_no_program_answers_its_failure(self, failure: Status) -> None:
        assert evaluate(check(program=None, program_failure=failure)).status == failure

    @pytest.mark.parametrize("amount", [None, "", "  ", "0", "-5", "abc", "NaN", "Infinity", "1e13", "0.000"])
    def test_invalid_points_801(self, amount: str | None) -> None:
        assert code_of(check(amount)) == 801

    @pytest.mark.parametrize("amount", ["10.0001", "0.0005", "1.23456"])
    def test_more_than_three_decimals_878(self, amount: str) -> None:
        assert code_of(check(amount)) == 878

    @pytest.mark.parametrize("amount", ["10.5", "10.125", "10.1250000", "1E+2"])
    def test_three_decimals_or_fewer_pass(self, amount: str) -> None:
        assert code_of(check(amount)) == 800

    def test_not_a_multiple_807(self) -> None:
        assert code_of(check("105", program=program(multiples_of=Decimal(10)))) == 807
        assert code_of(check("110", program=program(multiples_of=Decimal(10)))) == 800

    def test_below_minimum_821(self) -> None:
        assert code_of(check("9", program=program(min_points=Decimal(10)))) == 821
        assert code_of(check("10", program=program(min_points=Decimal(10)))) == 800

    def test_above_maximum_819(self) -> None:
        assert code_of(check("501", program=program(max_points_per_redemption=Decimal(500)))) == 819
        assert code_of(check("500", program=program(max_points_per_redemption=Decimal(500)))) == 800

    def test_more_than_the_balance_818(self) -> None:
        assert code_of(check("1000.001")) == 818
        assert code_of(check("1000")) == 800

    def test_no_wallet_in_the_program_is_a_zero_balance(self) -> None:
        assert code_of(check("1", wallet=None)) == 818

    def test_only_live_allocations_count(self) -> None:
        expired = allocation("5000", expires_in_days=-1)
        live = wallet(expired, allocation("100"))
        assert code_of(check("100", wallet=live)) == 800
        assert code_of(check("101", wallet=live)) == 818

    def test_insufficient_lifetime_points_805(self) -> None:
        rules = program(min_lifetime_points=Decimal(5000))
        assert (
            code_of(check("10", program=rules, wallet=wallet(allocation("1000"), lifetime_points="4999")))
            == 805
        )
        assert (
            code_of(check("10", program=rules, wallet=wallet(allocation("1000"), lifetime_points="5000")))
            == 800
        )

    def test_insufficient_lifetime_purchases_806(self) -> None:
        rules = program(min_lifetime_purchases=Decimal(2000))
        assert code_of(check("10", program=rules, customer=profile(lifetime_purchases=Decimal(1999)))) == 806
        assert code_of(check("10", program=rules, customer=profile(lifetime_purchases=Decimal(2000)))) == 800

    def test_tier_rules_replace_the_default_rules(self) -> None:
        gold = program(max_points_per_redemption=Decimal(100)).model_copy(
            update={"tier_rules": {"GOLD": RedemptionRules(max_points_per_redemption=Decimal(800))}}
        )
        assert code_of(check("500", program=gold, wallet=wallet(allocation("1000")))) == 819
        assert code_of(check("500", program=gold, wallet=wallet(allocation("1000"), tier="GOLD"))) == 800
        assert code_of(check("500", program=gold, wallet=wallet(allocation("1000"), tier="SILVER"))) == 819


class TestOrder:
    def test_customer_before_program_before_points(self) -> None:
        everything_wrong = check(
            "abc",
            customer=None,
            customer_failure=Item.CUSTOMER_NOT_FOUND,
            program=None,
            program_failure=Item.INVALID_PROGRAM_ID,
        )
        assert code_of(everything_wrong) == 816
        assert code_of(replace(everything_wrong, customer=profile(enrolment=Enrolment.CAMPAIGN))) == 686
        assert code_of(replace(everything_wrong, customer=profile(fraud_status="Marked"))) == 809
        assert code_of(replace(everything_wrong, customer=profile())) == 1101

    def test_points_format_before_balance(self) -> None:
        assert code_of(check("99999.9999", wallet=None)) == 878

    @settings(max_examples=300, deadline=None)
    @given(
        points=st.decimals(min_value=Decimal("0.001"), max_value=Decimal(3000), places=3),
        multiples=st.sampled_from([None, Decimal(1), Decimal(5), Decimal("0.5")]),
        minimum=st.sampled_from([Decimal(0), Decimal(10), Decimal(500)]),
        maximum=st.sampled_from([None, Decimal(100), Decimal(2000)]),
        balance=st.decimals(min_value=Decimal(0), max_value=Decimal(3000), places=3),
        lifetime_needed=st.sampled_from([Decimal(0), Decimal(1500)]),
        purchases_needed=st.sampled_from([Decimal(0), Decimal(800)]),
    )
    def test_the_first_failing_rule_answers(
        self,
        points: Decimal,
        multiples: Decimal | None,
        minimum: Decimal,
        maximum: Decimal | None,
        balance: Decimal,
        lifetime_needed: Decimal,
        purchases_needed: Decimal,
    ) -> None:
        if maximum is not None and minimum > maximum:
            maximum = None
        rules = program(
            multiples_of=multiples,
            min_points=minimum,
            max_points_per_redemption=maximum,
            min_lifetime_points=lifetime_needed,
            min_lifetime_purchases=purchases_needed,
        )
        holding = (
            wallet(allocation(str(balance)), lifetime_points="1000")
            if balance > 0
            else wallet(lifetime_points="1000")
        )
        expected_failures = [
            (multiples is not None and points % multiples != 0, 807),
            (points < minimum, 821),
            (maximum is not None and points > maximum, 819),
            (points > balance, 818),
            (Decimal(1000) < lifetime_needed, 805),
            (Decimal(500) < purchases_needed, 806),
        ]
        expected = next((code for failed, code in expected_failures if failed), 800)
        decision = evaluate(
            check(
                str(points), program=rules, wallet=holding, customer=profile(lifetime_purchases=Decimal(500))
            )
        )
        assert decision.status.code == expected
        assert decision.redeemable is (expected == 800)


class TestCurrencyInput:
    def test_currency_amount_becomes_points_rounded_up(self) -> None:
        decision = evaluate(check("10", currency_input=True, program=program(ratio="3")))
        assert decision.quote is not None
        assert decision.quote.points == Decimal("3.334")
        assert decision.quote.input_type == "currency"
        assert decision.quote.value == Decimal("10.00")

    def test_points_needed_then_go_through_the_rules(self) -> None:
        assert code_of(check("600", currency_input=True, program=program(ratio="0.5"))) == 818  # 1200 points

    @settings(max_examples=200)
    @given(
        amount=st.decimals(min_value=Decimal("0.001"), max_value=Decimal(10**6), places=3),
        ratio=st.decimals(min_value=Decimal("0.0001"), max_value=Decimal(100), places=4),
    )
    def test_points_cover_the_amount_and_no_fewer_would(self, amount: Decimal, ratio: Decimal) -> None:
        points = points_for_currency(amount, ratio)
        assert points * ratio >= amount
        assert (points - Decimal("0.001")) * ratio < amount
        assert points.as_tuple().exponent == -3


class TestParseAmount:
    @given(st.decimals(min_value=Decimal("0.001"), max_value=Decimal(10**9), places=3))
    def test_any_positive_three_place_decimal_parses_exactly(self, value: Decimal) -> None:
        assert parse_amount(str(value)) == value

    def test_failures_carry_their_code(self) -> None:
        with pytest.raises(RuleFailure) as failure:
            parse_amount("1.0001")
        assert failure.value.status == Item.INVALID_DECIMAL_PRECISION


class TestResolveProgram:
    def org(self) -> object:
        return org_config(
            programs=(program(973), program(974)),
            stores=(
                Store(store_id="501", program_id=973),
                Store(store_id="502", program_id=974),
                Store(store_id="503"),
            ),
            default_program_id=973,
        )

    def test_program_id_wins(self) -> None:
        assert resolve_program(self.org(), "974", "501").program_id == 974  # type: ignore[arg-type]

    @pytest.mark.parametrize("given_id", ["999", "abc", "-973", "9" * 25])
    def test_unknown_program_id_1101(self, given_id: str) -> None:
        with pytest.raises(RuleFailure) as failure:
            resolve_program(self.org(), given_id, "501")  # type: ignore[arg-type]
        assert failure.value.status.code == 1101

    def test_store_mapping_then_default(self) -> None:
        assert resolve_program(self.org(), None, "502").program_id == 974  # type: ignore[arg-type]
        assert resolve_program(self.org(), "", "503").program_id == 973  # type: ignore[arg-type]

    def test_single_program_org_needs_no_mapping(self) -> None:
        assert resolve_program(org_config(programs=(program(42),)), None, "x").program_id == 42

    def test_no_program_applies_895(self) -> None:
        for org in (org_config(programs=()), org_config(programs=(program(1), program(2)))):
            with pytest.raises(RuleFailure) as failure:
                resolve_program(org, None, "x")
            assert failure.value.status.code == 895


class TestWalletBalance:
    @given(
        st.lists(
            st.tuples(
                st.decimals(min_value=Decimal("0.001"), max_value=Decimal(10**5), places=3),
                st.one_of(st.none(), st.integers(min_value=-400, max_value=400)),
            ),
            max_size=12,
        ),
        st.integers(min_value=0, max_value=800),
    )
    def test_balance_is_the_live_allocations_and_never_grows_with_time(
        self, allocations: list[tuple[Decimal, int | None]], days_later: int
    ) -> None:
        holding = wallet(*(allocation(str(points), expires_in_days=days) for points, days in allocations))
        live_now = sum((p for p, days in allocations if days is None or days > 0), Decimal(0))
        assert holding.balance(NOW) == live_now
        assert holding.balance(NOW + timedelta(days=days_later)) <= holding.balance(NOW)

    def test_live_buckets_earliest_expiry_first_never_last_one_per_expiry(self) -> None:
        never = allocation("1", expires_in_days=None)
        late = allocation("2", expires_in_days=90)
        soon_new = allocation("3", expires_in_days=10, awarded_days_ago=1)
        soon_old = allocation("4", expires_in_days=10, awarded_days_ago=50)
        expired = allocation("5", expires_in_days=-1)
        buckets = wallet(never, late, soon_new, expired, soon_old).live_buckets(NOW)
        # Same expiry, one bucket (award dates inside one expiry change nothing for the customer)
        assert [(b.expires_at, b.points) for b in buckets] == [
            (NOW + timedelta(days=10), Decimal(7)),
            (NOW + timedelta(days=90), Decimal(2)),
            (None, Decimal(1)),
        ]
