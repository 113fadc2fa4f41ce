"""POST /v1.1/points/revert against moto: everything a customer redeemed on a bill goes back, every code."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import pytest

from points_core.domain.models import OtpSettings
from points_core.domain.rules import MAX_REDEMPTIONS_PER_REVERT
from tests.conftest import Aws
from tests.factories import (
    JANE,
    allocation,
    org_config,
    profile,
    program,
    seed_customer,
    seed_jane,
    seed_org,
    seed_ravi,
)
from tests.integration.test_reverse import balance, redeem, reverse
from tests.invoke import call_api

PATH = "/v1.1/points/revert"


@pytest.fixture
def demo(aws: Aws) -> None:
    seed_org(
        org_config(
            programs=(program(973, ratio="0.5"), program(974, ratio="1")),
            default_program_id=973,
            allow_skip_validation=True,
            otp=OtpSettings(channels="sms"),
        )
    )
    seed_jane()
    seed_ravi()


def revert_body(
    transaction_number: Any = "BILL-1", customer: dict[str, str] | None = None, **fields: Any
) -> Any:
    return {
        "root": {
            "revert": {
                "transaction_number": transaction_number,
                "customer": {"mobile": JANE} if customer is None else customer,
                **fields,
            }
        }
    }


def revert(body: Any) -> tuple[int, dict[str, Any]]:
    answer = call_api("revert", "POST", PATH, body=body)
    return answer.status, answer.body


def item(body: dict[str, Any]) -> dict[str, Any]:
    points: dict[str, Any] = body["response"]["responses"]["points"]
    return points


def code(body: Any) -> int:
    status, payload = revert(body)
    assert status == 200
    return int(item(payload)["item_status"]["code"])


def test_a_revert_gives_back_everything_redeemed_on_the_bill(demo: None) -> None:
    # Given
    first = redeem(600, transaction_number="BILL-1")["redemption_id"]
    second = redeem(100, transaction_number="BILL-1")["redemption_id"]
    redeem(50, transaction_number="BILL-2")
    assert balance() == 50

    # When
    status, body = revert(revert_body(points_redeemed="700"))

    # Then
    assert status == 200
    assert body["response"]["status"] == {"success": "true", "code": 200, "message": "Success"}
    reverted = item(body)
    assert reverted["item_status"] == {"success": "true", "code": 200, "message": "Success"}
    assert (reverted["mobile"], reverted["email"], reverted["user_id"]) == (
        JANE,
        "jane.doe@example.com",
        "1001",
    )
    assert reverted["transaction_number"] == "BILL-1"
    assert reverted["points_reverted"] == "700"
    assert reverted["points_reverted_details"] == {"available": 700, "expired": 0}
    assert reverted["balance"] == 750
    reversals = reverted["reversals"]["reversal"]
    assert [(r["redemption_id"], r["points_reversed"]) for r in reversals] == [(first, 600), (second, 100)]
    assert all(len(r["reversal_id"]) == 6 for r in reversals)
    assert balance() == 750


def test_a_bill_partly_reversed_with_v2_reverts_the_rest(demo: None) -> None:
    # Given
    redemption_id = redeem(600, transaction_number="BILL-1")["redemption_id"]
    reverse(redemption_id, 250)

    # When
    status, body = revert(revert_body(points_redeemed=600))  # what was redeemed on the bill

    # Then
    assert status == 200
    assert item(body)["points_reverted"] == "350"
    assert balance() == 800


def test_points_that_differ_from_what_was_redeemed_are_810(demo: None) -> None:
    redeem(600, transaction_number="BILL-1")
    assert code(revert_body(points_redeemed="599")) == 810
    assert balance() == 200


def test_an_unknown_or_blank_transaction_number_is_811(demo: None) -> None:
    redeem(100, transaction_number="BILL-1")
    assert code(revert_body("NO-SUCH-BILL")) == 811
    assert code(revert_body("  ")) == 811
    assert code(revert_body(None)) == 811


def test_a_bill_reverted_already_is_812(demo: None) -> None:
    redeem(100, transaction_number="BILL-1")
    assert code(revert_body()) == 200
    assert code(revert_body()) == 812
    assert balance() == 800


def test_a_bill_reversed_entirely_with_v2_is_812(demo: None) -> None:
    redemption_id = redeem(100, transaction_number="BILL-1")["redemption_id"]
    reverse(redemption_id)
    assert code(revert_body()) == 812


def test_another_customers_bill_is_814(demo: None) -> None:
    redeem(100, {"id": "1002"}, transaction_number="RAVI-BILL")
    assert code(revert_body("RAVI-BILL")) == 814
    assert code(revert_body("RAVI-BILL", {"id": "1001"})) == 814
    assert balance("1002") == 900


def test_an_unknown_customer_is_816_and_a_malformed_one_802(demo: None) -> None:
    redeem(100, transaction_number="BILL-1")
    assert code(revert_body(customer={"mobile": "919999999999"})) == 816
    assert code(revert_body("NO-SUCH-BILL", {"mobile": "919999999999"})) == 816
    assert code(revert_body(customer={"mobile": "12"})) == 802
    assert code(revert_body(customer={})) == 802


@pytest.mark.parametrize(("points", "expected"), [("0", 801), ("-1", 801), ("many", 801), ("1.0001", 878)])
def test_invalid_points_given_are_801_and_878(demo: None, points: str, expected: int) -> None:
    redeem(100, transaction_number="BILL-1")
    assert code(revert_body(points_redeemed=points)) == expected


def test_reversal_disabled_for_the_org_is_905(demo: None) -> None:
    redeem(100, transaction_number="BILL-1")
    seed_org(org_config(programs=(program(973),), reversal_enabled=False))
    assert code(revert_body()) == 905
    assert balance() == 700


def test_more_redemptions_on_one_bill_than_one_transaction_holds_is_815(demo: None) -> None:
    for _ in range(MAX_REDEMPTIONS_PER_REVERT + 1):
        redeem(1, transaction_number="BIG-BILL")
    assert code(revert_body("BIG-BILL")) == 815
    assert balance() == 800 - MAX_REDEMPTIONS_PER_REVERT - 1


def test_a_bill_across_two_programs_reverts_both_without_one_balance(demo: None) -> None:
    # Given
    seed_customer(profile("1001", JANE, email="jane.doe@example.com"), allocation("100"), program_id=974)
    redeem(100, transaction_number="BILL-1")
    body = {
        "root": {
            "redeem": {"points_redeemed": 40, "customer": {"mobile": JANE}, "transaction_number": "BILL-1"}
        }
    }
    call_api(
        "redeem", "POST", "/v1.1/points/redeem", {"skip_validation": "true", "program_id": "974"}, body=body
    )

    # When
    reverted = item(revert(revert_body(points_redeemed=140))[1])

    # Then
    assert (reverted["points_reverted"], "balance" in reverted) == ("140", False)
    assert balance() == 800


def test_several_items_answer_a_list_and_201_when_some_fail(demo: None) -> None:
    # Given
    redeem(100, transaction_number="BILL-1")
    body = {
        "root": {
            "revert": [
                {"transaction_number": "BILL-1", "customer": {"mobile": JANE}},
                {"transaction_number": "NO-SUCH-BILL", "customer": {"mobile": JANE}},
            ]
        }
    }

    # When
    status, payload = revert(body)

    # Then
    assert status == 200
    assert payload["response"]["status"]["code"] == 201
    assert [entry["item_status"]["code"] for entry in payload["response"]["responses"]["points"]] == [
        200,
        811,
    ]


@pytest.mark.parametrize(
    ("body", "reason"),
    [
        ("[", "the body is not JSON"),
        ({"root": {}}, "root.revert is required"),
        ({"root": {"revert": []}}, "root.revert: between 1 and 20 items"),
        ({"root": {"revert": [{"transaction_number": "B"}] * 21}}, "root.revert: between 1 and 20 items"),
    ],
)
def test_an_unusable_body_is_400(demo: None, body: Any, reason: str) -> None:
    status, payload = revert(body)
    assert status == 400
    assert payload == {
        "response": {"status": {"success": "false", "code": 400, "message": f"Invalid input: {reason}"}}
    }


def test_warm_a_revert_takes_three_round_trips(demo: None, dynamodb_calls: list[str]) -> None:
    redeem(100, transaction_number="BILL-1")
    code(revert_body("NO-SUCH-BILL"))  # warm: the configuration is cached
    dynamodb_calls.clear()
    assert code(revert_body()) == 200
    assert dynamodb_calls == ["Query", "BatchGetItem", "TransactWriteItems"]


def test_an_unexpected_failure_is_889_in_the_revert_shape(
    demo: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    from points_core.repositories.reversals import ReversalRepository

    # Given
    def broken(*_: Any, **__: Any) -> None:
        raise RuntimeError("boom")

    monkeypatch.setattr(ReversalRepository, "on_bill", broken)

    # When
    status, payload = revert(revert_body())

    # Then
    assert status == 500
    assert item(payload)["item_status"] == {
        "success": "false",
        "code": 889,
        "message": "Points processing failed, Please try again later",
    }
    assert payload["response"]["status"]["code"] == 500


def test_the_revert_record_says_it_came_from_the_bill(demo: None, aws: Aws) -> None:
    # Given
    redeem(100, transaction_number="BILL-1")

    # When
    reversal_id = item(revert(revert_body())[1])["reversals"]["reversal"][0]["reversal_id"]

    # Then
    record = aws.dynamodb.get_item(
        TableName="RedemptionsTable",
        Key={"pk": {"S": f"ORG#100737#RED#{reversal_id}"}, "sk": {"S": "REDEMPTION"}},
    )["Item"]
    assert (record["source"]["S"], record["transaction_number"]["S"], Decimal(record["points"]["N"])) == (
        "revert",
        "BILL-1",
        100,
    )


def test_when_the_wallet_keeps_changing_the_item_answers_521(
    demo: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    from points_core.domain.errors import NotRecorded, Refusal
    from points_core.repositories.reversals import ReversalRepository

    redeem(100, transaction_number="BILL-1")

    def always_changed(*_: Any, **__: Any) -> None:
        raise NotRecorded({Refusal.WALLET_CHANGED})

    monkeypatch.setattr(ReversalRepository, "record", always_changed)
    monkeypatch.setattr("points_core.services.retry.time.sleep", lambda _: None)
    assert code(revert_body()) == 521
    assert balance() == 700


def test_an_org_without_configuration_is_895(aws: Aws) -> None:
    answer = call_api(
        "revert",
        "POST",
        PATH,
        body=revert_body(),
        authorizer={"org_id": "555", "till_id": "t", "store_id": "1"},
    )
    assert (answer.status, item(answer.body)["item_status"]["code"]) == (200, 895)
