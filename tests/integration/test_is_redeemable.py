"""GET /v1.1/points/isredeemable through the function's handler, against moto."""

from __future__ import annotations

import io
import json
from collections.abc import Callable
from decimal import Decimal
from typing import Any

import pytest
from botocore.exceptions import ClientError

from points_core.aws.clients import dynamodb_client
from points_core.domain.models import Enrolment, RedemptionRules
from tests.conftest import Aws
from tests.factories import JANE, ORG_ID, allocation, org_config, profile, program, seed_customer, seed_org
from tests.invoke import call_api

PATH = "/v1.1/points/isredeemable"

Invoke = Callable[..., tuple[int, dict[str, Any]]]


@pytest.fixture
def demo(aws: Aws) -> None:
    """An org with a rules-rich program, a second program, and customers in every state."""
    gold = RedemptionRules(min_points=Decimal(1), max_points_per_redemption=Decimal(20000))
    rewards = program(
        973,
        ratio="0.5",
        min_points=Decimal(10),
        max_points_per_redemption=Decimal(5000),
        multiples_of=Decimal(1),
        min_lifetime_points=Decimal(100),
        min_lifetime_purchases=Decimal(50),
    ).model_copy(update={"tier_rules": {"GOLD": gold}})
    miles = program(974, ratio="0.1", min_points=Decimal(100), multiples_of=Decimal(50))
    seed_org(org_config(programs=(rewards, miles), default_program_id=973, local_currency_ratio=Decimal(2)))
    jane = profile("1001", JANE, email="jane.doe@example.com", lifetime_purchases=Decimal(25000))
    seed_customer(jane, allocation("1500", expires_in_days=1500), allocation("500", expires_in_days=900))
    seed_customer(jane, allocation("1000", expires_in_days=None), program_id=974)
    seed_customer(
        profile("1002", "919000000002", lifetime_purchases=Decimal(100)), allocation("12000"), tier="GOLD"
    )
    seed_customer(profile("1003", "919000000003", fraud_status="Confirmed"), allocation("1000"))
    seed_customer(profile("1004", "919000000004", enrolment=Enrolment.CAMPAIGN))
    seed_customer(profile("1005", "919000000005", enrolment=Enrolment.UNREGISTERED))
    seed_customer(
        profile("1006", "919000000006", lifetime_purchases=Decimal(100)),
        allocation("700", expires_in_days=-1),
    )
    seed_customer(profile("1007", "919000000007", lifetime_purchases=Decimal(10)), allocation("200"))


@pytest.fixture
def invoke(demo: None) -> Invoke:
    def call(
        query: dict[str, str], *, authorizer: dict[str, str] | None = None, path: str = PATH
    ) -> tuple[int, dict[str, Any]]:
        answer = call_api("is_redeemable", "GET", path, query, authorizer=authorizer)
        return answer.status, answer.body

    return call


def item(body: dict[str, Any]) -> dict[str, Any]:
    redeemable: dict[str, Any] = body["response"]["points"]["redeemable"]
    return redeemable


def code(body: dict[str, Any]) -> int:
    return int(item(body)["item_status"]["code"])


def test_given_a_customer_with_enough_points_when_checked_then_800_in_the_reference_shape(
    invoke: Invoke,
) -> None:
    # When
    status, body = invoke({"format": "json", "mobile": JANE, "program_id": "973", "points": "100"})

    # Then
    assert status == 200
    assert body == {
        "response": {
            "status": {"success": "true", "code": 200, "message": "Success"},
            "points": {
                "redeemable": {
                    "mobile": JANE,
                    "email": "jane.doe@example.com",
                    "external_id": "EXT-1001",
                    "points": 100,
                    "is_redeemable": "true",
                    "points_redeem_value": 50,
                    "points_redeem_local_value": 100,
                    "input_type": "points",
                    "points_currency_ratio": "0.5",
                    "item_status": {"success": "true", "code": 800, "message": "Points can be redeemed"},
                }
            },
        }
    }
    assert list(item(body)) == [
        "mobile",
        "email",
        "external_id",
        "points",
        "is_redeemable",
        "points_redeem_value",
        "points_redeem_local_value",
        "input_type",
        "points_currency_ratio",
        "item_status",
    ]


def test_a_rejection_is_http_200_with_status_500_and_the_item_code(invoke: Invoke) -> None:
    # When
    status, body = invoke({"mobile": JANE, "points": "2001"})

    # Then
    assert status == 200
    assert body["response"]["status"] == {
        "success": "false",
        "code": 500,
        "message": "All requests have failed due to errors",
    }
    assert item(body)["item_status"] == {
        "success": "false",
        "code": 818,
        "message": "Current points are less than points requested for redemption",
    }
    assert item(body)["is_redeemable"] == "false"
    assert item(body)["points"] == 2001
    assert item(body)["points_redeem_value"] == 0


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ({"mobile": "919999999999", "points": "10"}, 816),
        ({"external_id": "NOPE", "points": "10"}, 816),
        ({"id": "424242", "points": "10"}, 816),
        ({"mobile": "12ab", "points": "10"}, 802),
        ({"email": "not-an-email", "points": "10"}, 802),
        ({"points": "10"}, 802),
        ({"mobile": "919000000004", "points": "10"}, 686),
        ({"mobile": "919000000005", "points": "10"}, 881),
        ({"mobile": "919000000003", "points": "10"}, 809),
        ({"mobile": JANE, "points": "10", "program_id": "999"}, 1101),
        ({"mobile": JANE, "points": "10", "program_id": "abc"}, 1101),
        ({"mobile": JANE}, 801),
        ({"mobile": JANE, "points": "0"}, 801),
        ({"mobile": JANE, "points": "-100"}, 801),
        ({"mobile": JANE, "points": "ten"}, 801),
        ({"mobile": JANE, "points": "10.0005"}, 878),
        ({"mobile": JANE, "points": "10.5"}, 807),
        ({"mobile": JANE, "points": "9"}, 821),
        ({"mobile": JANE, "points": "5001"}, 819),
        ({"mobile": JANE, "points": "2001"}, 818),
        ({"mobile": "919000000006", "points": "10"}, 818),
        ({"mobile": "919000000007", "points": "10"}, 806),
        ({"mobile": JANE, "points": "120", "program_id": "974"}, 807),
    ],
)
def test_each_rule_answers_its_code(invoke: Invoke, query: dict[str, str], expected: int) -> None:
    status, body = invoke(query)
    assert status == 200
    assert code(body) == expected
    assert item(body)["is_redeemable"] == "false"


def test_lifetime_points_805(aws: Aws, invoke: Invoke) -> None:
    seed_customer(profile("1010", "919000000010", lifetime_purchases=Decimal(100)), allocation("99"))
    assert code(invoke({"mobile": "919000000010", "points": "10"})[1]) == 805


def test_tier_rules_let_a_gold_customer_redeem_more(invoke: Invoke) -> None:
    assert code(invoke({"mobile": "919000000002", "points": "12000"})[1]) == 800
    assert code(invoke({"mobile": JANE, "points": "5001"})[1]) == 819


def test_every_identifier_and_mobile_form_finds_the_customer(invoke: Invoke) -> None:
    for query in (
        {"mobile": "9000000001"},
        {"mobile": "+91 90000 00001"},
        {"email": "JANE.DOE@example.com"},
        {"external_id": "EXT-1001"},
        {"id": "1001"},
        {"user_id": "1001"},
        {"mobile": "", "email": "", "external_id": "EXT-1001"},
    ):
        status, body = invoke({**query, "points": "100"})
        assert (status, code(body), item(body)["mobile"]) == (200, 800, JANE), query


def test_only_the_selected_programs_balance_counts(invoke: Invoke) -> None:
    assert code(invoke({"mobile": JANE, "points": "1000", "program_id": "974"})[1]) == 800
    assert code(invoke({"mobile": JANE, "points": "1050", "program_id": "974"})[1]) == 818


def test_currency_input_asks_for_points_worth_an_amount(invoke: Invoke) -> None:
    status, body = invoke({"mobile": JANE, "points": "1", "currency_input": "true", "currency_value": "75"})
    assert (status, code(body)) == (200, 800)
    assert item(body)["points"] == 150
    assert item(body)["input_type"] == "currency"
    assert item(body)["points_redeem_value"] == 75
    fallback = invoke({"mobile": JANE, "points": "75", "currency_input": "TRUE"})[1]
    assert item(fallback)["points"] == 150


def test_unknown_boolean_text_is_false(invoke: Invoke) -> None:
    body = invoke({"mobile": JANE, "points": "100", "currency_input": "null"})[1]
    assert item(body)["input_type"] == "points"


def test_the_json_suffix_route_answers_the_same(invoke: Invoke) -> None:
    status, body = invoke({"mobile": JANE, "points": "100"}, path=PATH + ".json")
    assert (status, code(body)) == (200, 800)


def test_a_request_without_the_authorizer_context_is_401(invoke: Invoke) -> None:
    status, body = invoke({"mobile": JANE, "points": "100"}, authorizer={})
    assert status == 401
    assert body["response"]["status"]["code"] == 401


def test_an_org_without_configuration_is_895(invoke: Invoke) -> None:
    stranger = {"org_id": "555", "till_id": "t", "store_id": "1"}
    assert code(invoke({"mobile": JANE, "points": "10"}, authorizer=stranger)[1]) == 895


def test_an_org_with_programs_but_no_mapping_for_the_store_is_895(aws: Aws, invoke: Invoke) -> None:
    seed_org(org_config(2002, programs=(program(1), program(2))), tills={})
    other = {"org_id": "2002", "till_id": "t2", "store_id": "9"}
    seed_customer(profile("1", "919000000001"), org_id=2002)
    assert code(invoke({"mobile": JANE, "points": "10"}, authorizer=other)[1]) == 895


def test_a_till_of_another_org_never_sees_this_orgs_customers(aws: Aws, invoke: Invoke) -> None:
    seed_org(org_config(2002), tills={})
    other = {"org_id": "2002", "till_id": "other.till", "store_id": "501"}
    for query in ({"mobile": JANE}, {"id": "1001"}, {"email": "jane.doe@example.com"}):
        status, body = invoke({**query, "points": "10"}, authorizer=other)
        assert (status, code(body)) == (200, 816), query
    seed_customer(profile("1001", JANE, lifetime_purchases=Decimal(0)), org_id=2002)
    assert code(invoke({"id": "1001", "points": "10"}, authorizer=other)[1]) == 818
    assert code(invoke({"id": "1001", "points": "100"})[1]) == 800


def test_an_aws_failure_is_http_500_with_889_and_no_detail(
    invoke: Invoke, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Given
    invoke({"mobile": JANE, "points": "100"})  # warm: configuration cached

    def fail(*_: Any, **__: Any) -> None:
        raise ClientError(
            {"Error": {"Code": "ProvisionedThroughputExceededException", "Message": "slow down"}}, "GetItem"
        )

    monkeypatch.setattr(dynamodb_client(), "get_item", fail)

    # When
    status, body = invoke({"mobile": JANE, "points": "100"})

    # Then
    assert status == 500
    assert body["response"]["status"]["code"] == 500
    assert item(body)["item_status"] == {
        "success": "false",
        "code": 889,
        "message": "Points processing failed, Please try again later",
    }
    assert "Traceback" not in json.dumps(body)


def test_warm_it_makes_at_most_two_dynamodb_round_trips(invoke: Invoke, dynamodb_calls: list[str]) -> None:
    invoke({"mobile": JANE, "points": "100"})
    dynamodb_calls.clear()
    invoke({"mobile": JANE, "points": "100"})
    assert dynamodb_calls == ["GetItem", "BatchGetItem"]
    dynamodb_calls.clear()
    invoke({"id": "1001", "points": "100"})
    assert dynamodb_calls == ["BatchGetItem"]
    dynamodb_calls.clear()
    invoke({"mobile": "919999999999", "points": "100"})
    assert dynamodb_calls == ["GetItem"]


def test_warm_a_validation_code_costs_one_conditional_write_more(
    invoke: Invoke, dynamodb_calls: list[str]
) -> None:
    # Given: no code issued (808), which costs what any code costs: the write that would count it
    invoke({"mobile": JANE, "points": "100"})

    # When, then
    dynamodb_calls.clear()
    status, body = invoke({"mobile": JANE, "points": "100", "validation_code": "123456"})
    assert (status, code(body)) == (200, 808)
    assert dynamodb_calls == ["GetItem", "BatchGetItem", "UpdateItem"]
    dynamodb_calls.clear()
    status, body = invoke({"id": "1001", "points": "100", "validation_code": "123456"})
    assert (status, code(body)) == (200, 808)
    assert dynamodb_calls == ["BatchGetItem", "UpdateItem"]


def test_logs_carry_no_unmasked_mobile_or_email(invoke: Invoke, logs: io.StringIO) -> None:
    # When
    invoke({"mobile": JANE, "points": "100"})
    invoke({"email": "jane.doe@example.com", "points": "100"})

    # Then
    written = logs.getvalue()
    assert "91******0001" in written
    assert '"correlation_id"' in written
    assert JANE not in written
    assert "jane.doe@example.com" not in written


def test_org_id_in_the_context_keys_every_read(aws: Aws, invoke: Invoke) -> None:
    """Org 100737's data is not reachable with another org id, even for an existing identifier key."""
    client = aws.dynamodb
    items = client.scan(TableName="CustomersTable")["Items"]
    assert items
    assert all(entry["pk"]["S"].startswith(f"ORG#{ORG_ID}#") for entry in items)


def test_a_parameter_given_twice_is_a_clear_400(demo: None) -> None:
    answer = call_api("is_redeemable", "GET", PATH, {"mobile": JANE, "points": ["100", "200"]})
    assert answer.status == 400
    assert answer.body["response"]["status"] == {
        "success": "false",
        "code": 400,
        "message": "Invalid input: points is given more than once",
    }


def test_a_path_the_function_does_not_serve_is_404(demo: None) -> None:
    answer = call_api("is_redeemable", "GET", "/v1.1/points/unknown")
    assert answer.status == 404
    assert answer.body["response"]["status"]["code"] == 404


def test_every_response_carries_the_request_tracking_id(demo: None) -> None:
    answer = call_api("is_redeemable", "GET", PATH, {"mobile": JANE, "points": "100"})
    assert answer.headers["X-Cap-RequestID"] == [answer.event["requestContext"]["requestId"]]
