"""Group redemption over the handlers: UserGroup2 groups (a family's pooled points, `user_group2_*`) and
program groups (`group_redemption=true`), on isredeemable, redeem, v2 reverse and v1.1 revert."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta
from decimal import Decimal
from typing import Any

import pytest

from points_core.domain.models import OtpSettings, ProgramGroup
from points_core.domain.pool import MAX_WALLETS_DRAWN
from points_core.repositories import customer_repository
from points_core.repositories.keys import customer_partition
from tests.conftest import Aws, clear_caches
from tests.factories import (
    NOW,
    allocation,
    family,
    org_config,
    profile,
    program,
    seed_customer,
    seed_group,
    seed_org,
)
from tests.invoke import call_api

CHECK = "/v1.1/points/isredeemable"
REDEEM = "/v1.1/points/redeem"
REVERSE = "/v2/points/reverse"
REVERT = "/v1.1/points/revert"
ASHA, ARJUN, MEERA, MALLORY, OUTSIDER = "2001", "2002", "2003", "2004", "2005"
SKIP = {"skip_validation": "true", "format": "json"}

Call = Callable[..., dict[str, Any]]


def mobile(customer_id: str) -> str:
    return f"91900000{customer_id}"


@pytest.fixture
def org(aws: Aws) -> None:
    """Programs 973 and 974 in one program group, 975 in none; the Sharma family (group 5001: Asha primary,
    Arjun, Meera, and Mallory, who is marked as fraud), a group without a redemption config (5002), and one
    that does not redeem across members (5003)."""
    seed_org(
        org_config(
            programs=(program(973, ratio="0.5"), program(974, ratio="0.1"), program(975)),
            default_program_id=973,
            allow_skip_validation=True,
            otp=OtpSettings(channels="sms"),
            program_groups=(ProgramGroup(name="Rewards and Miles", program_ids=(973, 974)),),
        )
    )
    seed_customer(profile(ASHA, mobile(ASHA)), allocation("300", expires_in_days=400, allocation_id="a"))
    seed_customer(profile(ARJUN, mobile(ARJUN)), allocation("200", expires_in_days=100, allocation_id="b"))
    seed_customer(profile(MEERA, mobile(MEERA)), allocation("500", expires_in_days=200, allocation_id="c"))
    seed_customer(
        profile(MALLORY, mobile(MALLORY), fraud_status="Confirmed"), allocation("1000", expires_in_days=50)
    )
    seed_customer(profile(OUTSIDER, mobile(OUTSIDER)), allocation("100"))
    seed_customer(profile("2006", mobile("2006")), allocation("100"))
    seed_customer(profile("2007", mobile("2007")), allocation("900"))
    seed_group(family(ASHA, ARJUN, MEERA, MALLORY), defaults=(ASHA, ARJUN, MEERA))
    seed_group(family(OUTSIDER, group_id="5002", redemption_program_ids=()))
    seed_group(family("2006", "2007", group_id="5003", cross_member_redemption=False))


def check(query: dict[str, str]) -> dict[str, Any]:
    body: dict[str, Any] = call_api("is_redeemable", "GET", CHECK, {"format": "json", **query}).body
    return body["response"]["points"]["redeemable"]


def redeem(query: dict[str, str], **item: Any) -> dict[str, Any]:
    answer = call_api("redeem", "POST", REDEEM, {**SKIP, **query}, body={"root": {"redeem": [item]}})
    assert answer.status == 200
    points: dict[str, Any] = answer.body["response"]["responses"]["points"]
    return points


def by(customer_id: str, points: int | str, **fields: Any) -> dict[str, Any]:
    return {"points_redeemed": points, "customer": {"mobile": mobile(customer_id)}, **fields}


def code(answer: dict[str, Any]) -> int:
    return int(answer["item_status"]["code"])


def balance(customer_id: str, program_id: int = 973) -> Decimal:
    wallet = customer_repository().wallet(100737, customer_id, program_id)
    return wallet.balance(NOW) if wallet else Decimal(0)


def ledger_sum(aws: Aws, customer_id: str, program_id: int = 973) -> Decimal:
    items = aws.dynamodb.query(
        TableName="LedgerTable",
        KeyConditionExpression="pk = :pk AND begins_with(sk, :program)",
        ExpressionAttributeValues={
            ":pk": {"S": customer_partition(100737, customer_id)},
            ":program": {"S": f"P#{program_id}#"},
        },
    )["Items"]
    return sum((Decimal(item["points"]["N"]) for item in items), Decimal(0))


def recorded_draws(aws: Aws, redemption_id: str) -> list[dict[str, Any]]:
    item = aws.dynamodb.get_item(
        TableName="RedemptionsTable",
        Key={"pk": {"S": f"ORG#100737#RED#{redemption_id}"}, "sk": {"S": "REDEMPTION"}},
    )["Item"]
    return [
        {name: value.get("S") or value.get("N") for name, value in draw["M"].items()}
        for draw in item["draws"]["L"]
    ]


def explained(aws: Aws, *customers: str) -> None:
    """Each wallet is exactly what its own ledger says."""
    for customer_id in customers:
        assert ledger_sum(aws, customer_id) == balance(customer_id), customer_id


GROUP = {"user_group2_id": "5001"}


# isredeemable


def test_the_group_is_checked_against_its_members_pooled_points(org: None) -> None:
    # When: Arjun (200 points of his own) asks for the family's 1,000 (Mallory's 1,000 are not theirs to pool)
    pooled = check({**GROUP, "mobile": mobile(ARJUN), "points": "1000"})
    over = check({**GROUP, "mobile": mobile(ARJUN), "points": "1001"})
    alone = check({"mobile": mobile(ARJUN), "points": "300"})

    # Then
    assert (code(pooled), pooled["is_redeemable"], pooled["is_group_redemption"]) == (800, "true", "true")
    assert pooled["mobile"] == mobile(ARJUN)
    assert list(pooled)[-1] == "is_group_redemption"
    assert (code(over), over["is_group_redemption"]) == (818, "true")
    assert code(alone) == 818
    assert "is_group_redemption" not in alone


@pytest.mark.parametrize(
    "naming",
    [
        {"user_group2_id": "5001"},
        {"user_group2_external_id": "FAM-5001"},
        {"user_group2_primary_user_id": ASHA},
        {
            "user_group2_primary_user_identifier_type": "mobile",
            "user_group2_primary_user_identifier_value": "",
        },
        {"use_default_user_group2": "true"},
        {"user_group2_id": "5001", "user_group2_external_id": "FAM-5001", "use_default_user_group2": "TRUE"},
        {
            "user_group2_primary_user_identifier_type": "ID",
            "user_group2_primary_user_identifier_value": ASHA,
            "user_group2_primary_user_source": "INSTORE",
            "user_group2_primary_user_accountId": "",
        },
    ],
)
def test_every_way_the_reference_names_a_group(org: None, naming: dict[str, str]) -> None:
    if naming.get("user_group2_primary_user_identifier_type") == "mobile":
        naming = {**naming, "user_group2_primary_user_identifier_value": mobile(ASHA)}

    # When
    answer = check({**naming, "mobile": mobile(MEERA), "points": "1000"})

    # Then
    assert (code(answer), answer.get("is_group_redemption")) == (800, "true")


def test_a_group_named_without_a_customer_redeems_as_its_primary_member(org: None) -> None:
    # When
    answer = check({"user_group2_external_id": "FAM-5001", "points": "1000"})

    # Then
    assert (code(answer), answer["mobile"], answer["is_group_redemption"]) == (800, mobile(ASHA), "true")


@pytest.mark.parametrize(
    "query",
    [
        {"user_group2_id": "9999", "mobile": mobile(ARJUN)},  # no such group
        {"user_group2_id": "abc", "mobile": mobile(ARJUN)},
        {"user_group2_id": "\u0665\u0660\u0660\u0661", "mobile": mobile(ARJUN)},  # Arabic-Indic
        {"user_group2_id": "2147483648", "mobile": mobile(ARJUN)},  # past int32
        {"user_group2_id": "5001", "mobile": mobile(OUTSIDER)},  # not a member
        {"user_group2_external_id": "FAM-0000", "mobile": mobile(ARJUN)},
        {"user_group2_id": "5001", "user_group2_external_id": "FAM-5002", "mobile": mobile(ARJUN)},  # two
        {"user_group2_primary_user_id": ARJUN, "mobile": mobile(ARJUN)},  # not a primary member
        {"user_group2_primary_user_id": ASHA, "user_group2_id": "5002", "mobile": mobile(OUTSIDER)},
        {"use_default_user_group2": "true", "mobile": mobile(OUTSIDER)},  # no default group
        {
            "user_group2_primary_user_identifier_type": "passport",
            "user_group2_primary_user_identifier_value": "1",
        },
        {
            "user_group2_primary_user_identifier_type": "mobile",
            "user_group2_primary_user_identifier_value": "12",
        },
        {"user_group2_primary_user_id": ASHA, "user_group2_primary_user_source": "CARRIER_PIGEON"},
        {"user_group2_id": "9999"},  # only a group named, and none is
    ],
)
def test_an_unknown_group_or_a_customer_not_in_it_is_1632(org: None, query: dict[str, str]) -> None:
    # When
    answer = check({**query, "points": "100"})
    customer = {"mobile": query["mobile"]} if "mobile" in query else {}
    group = {name: value for name, value in query.items() if name != "mobile"}
    redeemed = redeem(group, points_redeemed=100, customer=customer)

    # Then: refused, and nobody's points moved
    assert code(answer) == 1632
    assert answer["item_status"]["message"] == "Invalid or non-existent groupId"
    assert code(redeemed) == 1632
    assert [balance(c) for c in (ASHA, ARJUN, MEERA, OUTSIDER)] == [300, 200, 500, 100]


def test_a_group_without_a_redemption_config_is_828(org: None) -> None:
    # When: the group has none, or does not redeem in the program asked
    none = check({"user_group2_id": "5002", "mobile": mobile(OUTSIDER), "points": "10"})
    elsewhere = check({**GROUP, "mobile": mobile(ARJUN), "points": "10", "program_id": "974"})

    # Then
    assert (code(none), code(elsewhere)) == (828, 828)
    assert code(redeem({"user_group2_id": "5002"}, **by(OUTSIDER, 10))) == 828
    assert balance(OUTSIDER) == 100


def test_the_customer_rules_come_before_the_groups(org: None) -> None:
    # When: Mallory, a member marked as fraud, names her group; an unknown customer names no group at all
    fraud = check({**GROUP, "mobile": mobile(MALLORY), "points": "10"})
    unknown = check({"user_group2_id": "9999", "mobile": "919999999999", "points": "10"})

    # Then
    assert (code(fraud), code(unknown)) == (809, 816)


def test_group_redemption_outside_an_enabled_program_group_is_3316(org: None, aws: Aws) -> None:
    # When: program 975 is in no program group
    answer = check({"group_redemption": "true", "mobile": mobile(ASHA), "points": "10", "program_id": "975"})

    # Then
    assert code(answer) == 3316
    assert code(redeem({"program_id": "975"}, **by(ASHA, 10, group_redemption=True))) == 3316

    # And a disabled program group is none
    seed_org(
        org_config(
            programs=(program(973), program(974)),
            allow_skip_validation=True,
            program_groups=(ProgramGroup(name="Off", program_ids=(973, 974), enabled=False),),
        )
    )
    clear_caches()
    disabled = redeem({"program_id": "973"}, **by(ASHA, 10, group_redemption="true"))
    assert code(disabled) == 3316


# redeem


def test_a_group_redemption_draws_earliest_expiry_first_across_members(org: None, aws: Aws) -> None:
    # When: Arjun redeems 600 for the family
    answer = redeem(GROUP, **by(ARJUN, 600, transaction_number="BILL-1"))

    # Then: his 200 (due in 100 days), then 400 of Meera's (200 days); Asha's (400 days) untouched
    assert code(answer) == 800
    assert answer["is_group_redemption"] == "true"
    assert answer["user_id"] == ARJUN
    assert Decimal(answer["balance"]) == 400
    assert [balance(c) for c in (ASHA, ARJUN, MEERA)] == [300, 0, 100]
    assert balance(MALLORY) == 1000
    draws = recorded_draws(aws, answer["redemption_id"])
    assert [(d.get("customer_id", ARJUN), Decimal(d["points"])) for d in draws] == [
        (ARJUN, 200),
        (MEERA, 400),
    ]
    explained(aws, ASHA, ARJUN, MEERA, MALLORY)


def test_ties_of_one_expiry_go_to_the_lower_customer_id(aws: Aws) -> None:
    seed_org(org_config(allow_skip_validation=True))
    for customer_id in ("3009", "3002", "3005"):
        seed_customer(profile(customer_id, mobile(customer_id)), allocation("100", expires_in_days=60))
    seed_group(family("3009", "3002", "3005", group_id="7"))

    # When: the last member redeems 150 for the group
    answer = redeem({"user_group2_id": "7"}, **by("3009", 150))

    # Then
    assert code(answer) == 800
    assert [balance(c) for c in ("3002", "3005", "3009")] == [0, 50, 100]


def test_a_group_that_does_not_redeem_across_members_draws_the_members_own_points(org: None) -> None:
    # When
    checked = check({"user_group2_id": "5003", "mobile": mobile("2006"), "points": "150"})
    answer = redeem({"user_group2_id": "5003"}, **by("2006", 100))

    # Then: no pooling, no is_group_redemption
    assert code(checked) == 818
    assert "is_group_redemption" not in checked
    assert code(answer) == 800
    assert "is_group_redemption" not in answer
    assert (balance("2006"), balance("2007")) == (0, 900)


def test_the_validation_code_is_the_redeeming_members(org: None, aws: Aws) -> None:
    from tests.integration.test_validation_codes import last_code

    # Given: Meera asks for a code (a code is the named customer's)
    sent = call_api(
        "validation_code", "GET", "/v1.1/points/validationcode", {"mobile": mobile(MEERA), "points": "600"}
    )
    assert sent.status == 200
    given = last_code(aws)

    # When: Arjun redeems with Meera's code, then Meera does
    arjun = call_api(
        "redeem",
        "POST",
        REDEEM,
        {"format": "json", **GROUP},
        body={"root": {"redeem": by(ARJUN, 600, validation_code=given)}},
    ).body["response"]["responses"]["points"]
    meera = call_api(
        "redeem",
        "POST",
        REDEEM,
        {"format": "json", **GROUP},
        body={"root": {"redeem": by(MEERA, 600, validation_code=given)}},
    ).body["response"]["responses"]["points"]

    # Then
    assert (code(arjun), code(meera)) == (808, 800)
    assert [balance(c) for c in (ASHA, ARJUN, MEERA)] == [300, 0, 100]


def test_past_the_most_members_one_redemption_draws_from_is_819(aws: Aws) -> None:
    seed_org(org_config(allow_skip_validation=True))
    members = [str(4000 + n) for n in range(MAX_WALLETS_DRAWN + 2)]
    for n, customer_id in enumerate(members):
        seed_customer(profile(customer_id, mobile(customer_id)), allocation("10", expires_in_days=30 + n))
    seed_group(family(*members, group_id="8"))

    # When: the first redemption needs every member; the second exactly the most allowed
    over = redeem({"user_group2_id": "8"}, **by(members[0], 10 * len(members)))
    most = redeem({"user_group2_id": "8"}, **by(members[0], 10 * MAX_WALLETS_DRAWN))

    # Then
    assert code(over) == 819
    assert str(MAX_WALLETS_DRAWN) in over["item_status"]["message"]
    assert code(most) == 800
    assert [balance(c) for c in members] == [0] * MAX_WALLETS_DRAWN + [10, 10]
    explained(aws, *members)


def test_cross_program_redemption_draws_from_the_program_groups_programs(org: None, aws: Aws) -> None:
    seed_customer(
        profile(OUTSIDER, mobile(OUTSIDER)), allocation("400", expires_in_days=None), program_id=974
    )

    # When: 450 in 973 from a customer with 100 there and 400 in 974
    checked = check({"group_redemption": "true", "mobile": mobile(OUTSIDER), "points": "500"})
    answer = redeem({}, **by(OUTSIDER, 450, group_redemption="true"))

    # Then: valued at 973's ratio; 973's points (expiring) first, then 974's (never)
    assert code(checked) == 800
    assert "is_group_redemption" not in checked
    assert code(answer) == 800
    assert Decimal(answer["redeemed_value"]) == 225
    assert (balance(OUTSIDER), balance(OUTSIDER, 974)) == (0, 50)
    assert ledger_sum(aws, OUTSIDER, 974) == 50
    assert code(redeem({}, **by(OUTSIDER, 450))) == 818  # without it, only 973's


# reversal


def reverse(redemption_id: str, customer_id: str, points: str | None = None) -> dict[str, Any]:
    body: dict[str, Any] = {
        "identifier": {"type": "PHONE", "value": mobile(customer_id)},
        "redemptionId": redemption_id,
    }
    if points is not None:
        body["pointsToBeReversed"] = points
    answer = call_api("revert", "POST", REVERSE, body=body)
    result: dict[str, Any] = answer.body
    return result


def test_a_partial_reversal_gives_back_the_last_drawn_first_with_a_breakup(org: None, aws: Aws) -> None:
    # Given: 600 for the family: Arjun's 200, then 400 of Meera's
    redemption_id = redeem(GROUP, **by(ARJUN, 600))["redemption_id"]

    # When: Meera, drawn from too, cannot reverse it (it is Arjun's); he gives 500 back, then the rest
    assert reverse(redemption_id, MEERA)["errors"][0]["code"] == 3803
    partial = reverse(redemption_id, ARJUN, "500")
    rest = reverse(redemption_id, ARJUN)

    # Then: Meera's 400 first, then 100 of Arjun's; then his other 100
    assert partial["pointsReversed"] == 500
    assert [
        (e["memberId"], e["pointsRestored"], e["status"]) for e in partial["crossMemberReversalBreakup"]
    ] == [
        (int(MEERA), 400, "REVERSED"),
        (int(ARJUN), 100, "REVERSED"),
    ]
    meeras = allocation("1", expires_in_days=200).expires_at
    assert meeras is not None
    assert partial["crossMemberReversalBreakup"][0]["expiryBatchDate"] == meeras.isoformat()
    assert partial["crossMemberReversalBreakup"][0]["pointsExpiredByReversal"] == 0
    assert [(e["memberId"], e["pointsRestored"]) for e in rest["crossMemberReversalBreakup"]] == [
        (int(ARJUN), 100)
    ]
    assert [balance(c) for c in (ASHA, ARJUN, MEERA)] == [300, 200, 500]
    explained(aws, ASHA, ARJUN, MEERA)
    assert reverse(redemption_id, ARJUN)["errors"][0]["code"] == 3802


def test_an_individual_reversal_has_no_breakup(org: None) -> None:
    redemption_id = redeem({}, **by(ASHA, 100))["redemption_id"]

    # When
    answer = reverse(redemption_id, ASHA)

    # Then
    assert answer["pointsReversed"] == 100
    assert "crossMemberReversalBreakup" not in answer


def test_a_revert_by_bill_gives_every_member_back_their_draws(org: None, aws: Aws) -> None:
    # Given
    assert code(redeem(GROUP, **by(ARJUN, 600, transaction_number="BILL-7"))) == 800

    # When
    answer = call_api(
        "revert",
        "POST",
        REVERT,
        {"format": "json"},
        body={"root": {"revert": {"transaction_number": "BILL-7", "customer": {"mobile": mobile(ARJUN)}}}},
    ).body["response"]["responses"]["points"]

    # Then: Arjun's balance answered; everyone has their points back
    assert answer["item_status"] == {"success": "true", "code": 200, "message": "Success"}
    assert Decimal(answer["points_reverted"]) == 600
    assert Decimal(answer["balance"]) == 200
    assert [balance(c) for c in (ASHA, ARJUN, MEERA)] == [300, 200, 500]
    explained(aws, ASHA, ARJUN, MEERA)


def test_a_member_with_no_points_of_their_own_redeems_and_reverses_the_groups(org: None, aws: Aws) -> None:
    # Given: a member with no wallet at all (found by the property test: a 500 on redeem, then on reverse)
    seed_customer(profile("2010", mobile("2010")))
    seed_group(family(ASHA, "2010", group_id="5010"))

    # When
    answer = redeem({"user_group2_id": "5010"}, **by("2010", 100))
    reversed_ = reverse(answer["redemption_id"], "2010")

    # Then
    assert code(answer) == 800
    assert Decimal(answer["balance"]) == 200
    assert [(e["memberId"], e["pointsRestored"]) for e in reversed_["crossMemberReversalBreakup"]] == [
        (int(ASHA), 100)
    ]
    assert (balance(ASHA), balance("2010")) == (300, 0)
    explained(aws, ASHA)


def test_round_trips_of_a_group_redemption(org: None, dynamodb_calls: list[str]) -> None:
    def calls_of(run: Callable[[], dict[str, Any]]) -> list[str]:
        dynamodb_calls.clear()
        assert code(run()) == 800
        return list(dynamodb_calls)

    check({"mobile": mobile(ARJUN), "points": "1"})  # warm: the org's configuration is cached
    # The customer's identifier, the group (one Query), every member's profile and wallet (one BatchGetItem)
    by_mobile = {**GROUP, "mobile": mobile(ARJUN), "points": "100"}
    assert calls_of(lambda: check(by_mobile)) == ["GetItem", "Query", "BatchGetItem"]
    assert calls_of(lambda: redeem(GROUP, **by(ARJUN, 100))) == [
        "GetItem",
        "Query",
        "BatchGetItem",
        "TransactWriteItems",
    ]
    # Only the group named: its primary member redeems, with no identifier to resolve
    only_group = {"user_group2_id": "5001", "points": "100"}
    assert calls_of(lambda: check(only_group)) == ["Query", "BatchGetItem"]
    # The default group takes one read more (the customer's pointer to it)
    default = {"use_default_user_group2": "true", "mobile": mobile(ARJUN), "points": "100"}
    assert calls_of(lambda: check(default)) == ["GetItem", "GetItem", "Query", "BatchGetItem"]
    # A reversal of a group redemption: the redemption, then every wallet it gives back to, together
    redemption_id = redeem(GROUP, **by(ARJUN, 400))["redemption_id"]
    dynamodb_calls.clear()
    assert reverse(redemption_id, ARJUN)["pointsReversed"] == 400
    assert dynamodb_calls == ["BatchGetItem", "BatchGetItem", "TransactWriteItems"]


def test_the_references_request_shapes_for_a_group(org: None, aws: Aws) -> None:
    # Given: a code for Arjun, as the reference's flow has it
    from tests.integration.test_validation_codes import last_code

    call_api(
        "validation_code", "GET", "/v1.1/points/validationcode", {"mobile": mobile(ARJUN), "points": "600"}
    )
    given = last_code(aws)
    query = {
        "format": "json",
        "program_id": "973",
        "skip_validation": "false",
        "validation_type": "SMS",
        "user_group2_id": "5001",
        "user_group2_primary_user_source": "INSTORE",
    }
    body = {
        "root": {
            "redeem": [
                {
                    "points_redeemed": 600,
                    "customer": {"mobile": mobile(ARJUN), "email": "", "external_id": ""},
                    "transaction_number": "BILL-2024-000123",
                    "external_reference_number": "a3fd1a63-1aa3-4c47-9173-398e2b1c0d11",
                    "validation_code": given,
                    "notes": "Redeemed at POS 3",
                    "group_redemption": "false",
                    "redemption_purpose": "BILL_PAYMENT",
                    "custom_fields": {"field": [{"name": "redemption_channel", "value": "POS"}]},
                }
            ]
        }
    }

    # When
    answer = call_api("redeem", "POST", REDEEM, query, body=body)

    # Then: an object for the one item, the group flag beside the balance
    points = answer.body["response"]["responses"]["points"]
    assert (answer.status, code(points), points["is_group_redemption"]) == (200, 800, "true")
    assert list(points)[list(points).index("balance") + 1] == "is_group_redemption"
    assert [balance(c) for c in (ASHA, ARJUN, MEERA)] == [300, 0, 100]


def test_a_group_redemption_in_xml(org: None) -> None:
    # When: the XML clients' form, with the group in the query
    xml = (
        "<root><redeem><points_redeemed>300</points_redeemed><customer><mobile>"
        f"{mobile(ARJUN)}</mobile><email></email></customer><group_redemption>false</group_redemption>"
        "</redeem></root>"
    )
    answer = call_api(
        "redeem",
        "POST",
        REDEEM,
        {"format": "xml", "skip_validation": "true", "user_group2_external_id": "FAM-5001"},
        body=xml,
        headers={"Content-Type": "text/xml"},
    )
    checked = call_api(
        "is_redeemable",
        "GET",
        CHECK,
        {"format": "xml", "mobile": mobile(ARJUN), "points": "700", "user_group2_id": "5001"},
    )

    # Then
    assert answer.status == 200
    assert answer.body.findtext("responses/points/item_status/code") == "800"
    assert answer.body.findtext("responses/points/is_group_redemption") == "true"
    assert checked.body.findtext("points/redeemable/is_group_redemption") == "true"
    assert checked.body.findtext("points/redeemable/item_status/code") == "800"
    assert [balance(c) for c in (ASHA, ARJUN, MEERA)] == [300, 0, 400]


def test_a_code_asked_for_the_group_alone_goes_to_its_primary_member(org: None, aws: Aws) -> None:
    # When
    answer = check({"user_group2_id": "5001", "points": "1000", "issue_otp": "true"})

    # Then
    assert (code(answer), answer["mobile"]) == (800, mobile(ASHA))
    destination, _ = aws.sms_sent()[-1]
    assert destination == f"+{mobile(ASHA)}"


def test_a_reversal_reports_each_members_expired_part(org: None, aws: Aws) -> None:
    from points_core.capillary import views
    from points_core.domain.identifiers import IdentifierType
    from points_core.services.reversal import ReverseRequest
    from points_core.services.reversal import reverse as reverse_at
    from tests.factories import caller

    # Given: 600 for the family (Arjun's 200 due in 100 days, 400 of Meera's due in 200)
    redemption_id = redeem(GROUP, **by(ARJUN, 600))["redemption_id"]

    # When: reversed 150 days on, when Arjun's have expired
    later = NOW + timedelta(days=150)
    request = ReverseRequest(IdentifierType.MOBILE, mobile(ARJUN), redemption_id)
    outcome = reverse_at(caller(), request, lambda: later)
    body = views.reverse(outcome, 100737, "PHONE", mobile(ARJUN))

    # Then: Meera's 400 back, Arjun's 200 reported expired, not credited
    assert (body["pointsReversedDetails"]["available"], body["pointsReversedDetails"]["expired"]) == (
        400,
        200,
    )
    assert [
        (e["memberId"], e["pointsRestored"], e["pointsExpiredByReversal"], e["status"])
        for e in body["crossMemberReversalBreakup"]
    ] == [(int(MEERA), 400, 0, "REVERSED"), (int(ARJUN), 0, 200, "EXPIRED")]
    assert ledger_sum(aws, ARJUN) == -200 + 200  # awarded 200, redeemed 200, nothing credited
    assert ledger_sum(aws, MEERA) == 500


def test_a_group_redemption_or_reversal_past_one_transactions_items_is_refused(
    org: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    from points_core.services import redemption, reversal

    # Given: small transactions. A redemption from 2 wallets with a bill and a reference writes 7 items (head
    # and a ledger entry per wallet, the redemption, 2 markers); its reversal 6 (2 per wallet, 2 more)
    monkeypatch.setattr(redemption, "TRANSACTION_ITEMS", 6)
    refused = redeem(GROUP, **by(ARJUN, 600, transaction_number="B-9", external_reference_number="R-9"))
    monkeypatch.setattr(redemption, "TRANSACTION_ITEMS", 7)
    redeemed = redeem(GROUP, **by(ARJUN, 600, transaction_number="B-9", external_reference_number="R-9"))
    monkeypatch.setattr(reversal, "TRANSACTION_ITEMS", 5)
    too_large = reverse(redeemed["redemption_id"], ARJUN)

    # Then
    assert code(refused) == 819
    assert code(redeemed) == 800
    assert too_large["errors"][0]["code"] == 815
    assert "reverse it in parts" in too_large["errors"][0]["message"]
    assert [balance(c) for c in (ASHA, ARJUN, MEERA)] == [300, 0, 100]


def test_a_group_redemption_with_no_room_to_delete_a_members_expired_pages_leaves_them(
    org: None, aws: Aws, monkeypatch: pytest.MonkeyPatch
) -> None:
    from points_core.services import redemption
    from points_core.services.loading import Award, award_points
    from tests.invoke import function_module

    # Given: Meera earned 500 times (days 10 to 509: a head and three pages); 250.5 days on, her first page
    # holds only expired points, and Arjun's and Asha's are due later than her day 251
    awards = [Award(f"M{n:03d}", Decimal(10), NOW, NOW + timedelta(days=10 + n)) for n in range(500)]
    assert len(award_points(100737, MEERA, 973, awards, NOW).created) == 500
    later = NOW + timedelta(days=250.5)
    monkeypatch.setattr(function_module("redeem"), "utc_now", lambda: later)
    meera = customer_repository().wallet(100737, MEERA, 973)
    assert meera is not None
    assert len(customer_repository().pages().all_pages(100737, MEERA, meera).pages) == 3

    # When: the family redeems 10 in a transaction of 4 items: Meera's head, her ledger entry, her second
    # page (drawn from) and the redemption; deleting her expired page would make it 5 (before: 819)
    monkeypatch.setattr(redemption, "TRANSACTION_ITEMS", 4)
    answer = redeem(GROUP, **by(ARJUN, 10))

    # Then: redeemed from Meera's day 251, her expired page left for a later write
    assert code(answer) == 800
    draws = recorded_draws(aws, answer["redemption_id"])
    assert [(d["customer_id"], Decimal(d["points"])) for d in draws] == [(MEERA, 10)]
    meera = customer_repository().wallet(100737, MEERA, 973)
    assert meera is not None
    pages = customer_repository().pages().all_pages(100737, MEERA, meera).pages
    assert len(pages) == 3
    assert not any(bucket.expires_at > later for bucket in pages[0].buckets)  # type: ignore[operator]
    read = customer_repository().pages().first_pages(100737, MEERA, meera, later)
    assert read.balance(later) == 10 * (509 - 250) - 10


# Odd bytes in the group parameters: a clear refusal, never a 5xx.

ODD = [
    "\ufffd",  # what invalid UTF-8 in a URL decodes to (a lone surrogate cannot be in a query string)
    "\x00",
    "x" * 5000,
    "\u0665\u0660\u0660\u0661",
    "1e3",
    "99999999999999999999999999999",
]
PARAMETERS = [
    "user_group2_id",
    "user_group2_external_id",
    "user_group2_primary_user_id",
    "user_group2_primary_user_identifier_value",
    "user_group2_primary_user_source",
    "user_group2_primary_user_accountId",
    "use_default_user_group2",
    "group_redemption",
]


@pytest.mark.parametrize("name", PARAMETERS)
@pytest.mark.parametrize("value", ODD, ids=range(len(ODD)))
def test_odd_group_parameters_never_answer_5xx(org: None, name: str, value: str) -> None:
    query = {name: value}
    if name == "user_group2_primary_user_identifier_value":
        query["user_group2_primary_user_identifier_type"] = "externalId"

    checked = call_api(
        "is_redeemable", "GET", CHECK, {"format": "json", "mobile": mobile(ARJUN), "points": "10", **query}
    )
    redeemed = call_api("redeem", "POST", REDEEM, {**SKIP, **query}, body={"root": {"redeem": by(ARJUN, 10)}})

    assert checked.status < 500, checked.text[:300]
    assert redeemed.status < 500, redeemed.text[:300]
