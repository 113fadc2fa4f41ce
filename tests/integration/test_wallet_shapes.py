"""Wallets stored before buckets (allocations inline) and redemptions recorded then, through the API handlers:
read as they are, written in the new shape by their first write, reversed onto the new shape."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from points_core.domain.models import Redemption
from points_core.repositories import customer_repository, keys
from points_core.repositories import items as records
from tests.conftest import Aws
from tests.factories import JANE, ORG_ID, PROGRAM_ID, org_config, profile, program, seed_customer, seed_org
from tests.invoke import call_api

NOW = datetime.now(UTC).replace(microsecond=0)
"""The functions read the real clock: every expiry here is days away from it."""
KOLKATA = ZoneInfo("Asia/Kolkata")
CUSTOMERS = "CustomersTable"
REDEMPTIONS = "RedemptionsTable"
WALLET_KEY = keys.wallet(ORG_ID, "1001", PROGRAM_ID)

GONE = NOW - timedelta(days=5)
SOON = NOW + timedelta(days=30)
LATE = NOW + timedelta(days=900)
SPENT = NOW + timedelta(days=10)
NAMES = {SOON: "soon", LATE: "late", None: "never"}


def _time(moment: datetime | None) -> dict[str, Any]:
    """As the code before buckets stored a time: ISO-8601 with the offset (Kolkata's), None as NULL."""
    return {"NULL": True} if moment is None else {"S": moment.astimezone(KOLKATA).isoformat()}


def _allocation(
    allocation_id: str, points: str, remaining: str, expires_at: datetime | None
) -> dict[str, Any]:
    return {
        "M": {
            "allocation_id": {"S": allocation_id},
            "points": {"N": points},
            "remaining": {"N": remaining},
            "awarded_at": _time(NOW - timedelta(days=60)),
            "expires_at": _time(expires_at),
        }
    }


def _put_old_wallet(aws: Aws, allocations: list[dict[str, Any]], version: int = 5) -> dict[str, Any]:
    item = {
        **WALLET_KEY,
        "program_id": {"N": str(PROGRAM_ID)},
        "version": {"N": str(version)},
        "tier": {"NULL": True},
        "lifetime_points": {"N": "1050"},
        "allocations": {"L": allocations},
    }
    aws.dynamodb.put_item(TableName=CUSTOMERS, Item=item)
    return item


FRESH = [
    _allocation("soon", "300", "300", SOON),
    _allocation("late-a", "200", "200", LATE),
    _allocation("late-b", "300", "300", LATE),
    _allocation("spent", "80", "0", SPENT),
    _allocation("gone", "100", "100", GONE),
    _allocation("forever", "50", "50", None),
]
"""Jane's old-shape wallet: 300 soon, 500 late (two allocations), 50 never; one spent, one expired: 850."""


@pytest.fixture
def shop(aws: Aws) -> None:
    seed_org(org_config(programs=(program(PROGRAM_ID, ratio="0.5"),), allow_skip_validation=True))
    seed_customer(profile("1001", JANE, email="jane.doe@example.com"))


def _stored(aws: Aws) -> dict[str, Any]:
    item: dict[str, Any] = aws.dynamodb.get_item(TableName=CUSTOMERS, Key=WALLET_KEY, ConsistentRead=True)[
        "Item"
    ]
    return item


def _buckets() -> dict[str, Decimal]:
    wallet = customer_repository().wallet(ORG_ID, "1001", PROGRAM_ID)
    assert wallet is not None
    assert not wallet.has_pages
    return {NAMES.get(b.expires_at, str(b.expires_at)): b.points for b in wallet.buckets}


def _balance() -> Decimal:
    wallet = customer_repository().wallet(ORG_ID, "1001", PROGRAM_ID)
    assert wallet is not None
    return wallet.balance(datetime.now(UTC))


def is_redeemable(points: str) -> int:
    answer = call_api(
        "is_redeemable",
        "GET",
        "/v1.1/points/isredeemable",
        {"mobile": JANE, "points": points, "program_id": "973"},
    )
    assert answer.status == 200
    return int(answer.body["response"]["points"]["redeemable"]["item_status"]["code"])


def redeem(points: int) -> dict[str, Any]:
    body = {"root": {"redeem": {"points_redeemed": points, "customer": {"mobile": JANE}}}}
    answer = call_api("redeem", "POST", "/v1.1/points/redeem", {"skip_validation": "true"}, body=body)
    assert answer.status == 200
    item: dict[str, Any] = answer.body["response"]["responses"]["points"]
    assert item["item_status"]["code"] == 800, item
    return item


def reverse(redemption_id: str, points: Any = None) -> dict[str, Any]:
    body: dict[str, Any] = {"identifier": {"type": "PHONE", "value": JANE}, "redemptionId": redemption_id}
    if points is not None:
        body["pointsToBeReversed"] = points
    answer = call_api("revert", "POST", "/v2/points/reverse", body=body)
    assert answer.status == 200, answer.body
    assert answer.body["warnings"] == [] and "errors" not in answer.body, answer.body
    result: dict[str, Any] = answer.body
    return result


def _redemption(aws: Aws, redemption_id: str) -> Redemption:
    item = aws.dynamodb.get_item(
        TableName=REDEMPTIONS, Key=keys.redemption(ORG_ID, redemption_id), ConsistentRead=True
    )["Item"]
    found = records.record(item)
    assert isinstance(found, Redemption)
    return found


def test_an_old_wallet_answers_isredeemable_with_its_balance_and_is_not_written(shop: None, aws: Aws) -> None:
    stored = _put_old_wallet(aws, FRESH)

    # The live remaining points: 300 + 200 + 300 + 50, not the spent or the expired ones.
    assert is_redeemable("850") == 800
    assert is_redeemable("850.001") == 818
    assert is_redeemable("851") == 818

    assert _stored(aws) == stored


def test_a_redemption_draws_earliest_expiry_first_and_leaves_the_new_shape(shop: None, aws: Aws) -> None:
    _put_old_wallet(aws, FRESH, version=5)

    redeemed = redeem(350)

    assert redeemed["balance"] == 500
    item = _stored(aws)
    assert "allocations" not in item
    assert item["buckets"]["S"]  # the compact string of the new shape
    assert item["version"] == {"N": "6"}
    assert item["lifetime_points"] == {"N": "1050"}
    # "soon" spent (its bucket gone), 50 of "late"; "gone" dropped by the write, "never" untouched.
    assert _buckets() == {"late": 450, "never": 50}
    draws = [(d.expires_at, d.points) for d in _redemption(aws, redeemed["redemption_id"]).draws]
    assert draws == [(SOON, 300), (LATE, 50)]
    assert _balance() == 500


def test_reversing_that_redemption_gives_points_back_to_their_expiries(shop: None, aws: Aws) -> None:
    _put_old_wallet(aws, FRESH)
    redemption_id = redeem(350)["redemption_id"]

    partly = reverse(redemption_id, 100)  # the last drawn first: the 50 of "late", then 50 of "soon"

    assert (partly["pointsReversed"], partly["pointsReversedDetails"]) == (
        100,
        {"available": 100, "expired": 0},
    )
    assert _buckets() == {"soon": 50, "late": 500, "never": 50}

    rest = reverse(redemption_id)

    assert rest["pointsReversed"] == 250
    assert _buckets() == {"soon": 300, "late": 500, "never": 50}
    assert _balance() == 850
    assert "allocations" not in _stored(aws)


def _old_redemption(aws: Aws) -> str:
    """A redemption as the code before buckets recorded it, ten days ago: 100 from "gone" (live then), 250
    from "soon"; each draw names its allocation."""
    redeemed_at = NOW - timedelta(days=10)
    draws = [
        ("gone", "100", GONE, "100"),
        ("soon", "250", SOON, "300"),
    ]
    item = {
        **keys.redemption(ORG_ID, "OLD001"),
        "kind": {"S": "redemption"},
        "redemption_id": {"S": "OLD001"},
        "customer_id": {"S": "1001"},
        "program_id": {"N": str(PROGRAM_ID)},
        "points": {"N": "350"},
        "value": {"N": "175"},
        "local_value": {"N": "175"},
        "balance_after": {"N": "600"},
        "draws": {
            "L": [
                {
                    "M": {
                        "allocation_id": {"S": allocation_id},
                        "points": {"N": points},
                        "awarded_at": _time(NOW - timedelta(days=60)),
                        "expires_at": _time(expires_at),
                        "allocation_points": {"N": awarded},
                    }
                }
                for allocation_id, points, expires_at, awarded in draws
            ]
        },
        "redeemed_at": _time(redeemed_at),
        "recorded_at": _time(redeemed_at),
        "till_id": {"S": "demo.till"},
        "attributed_till_id": {"S": ""},
        "store_id": {"S": "501"},
        "transaction_number": {"S": ""},
        "external_reference_number": {"S": ""},
        "notes": {"S": ""},
        "purpose": {"S": ""},
        "custom_fields": {"L": []},
        "validated": {"BOOL": False},
        "reversed_points": {"N": "0"},
    }
    aws.dynamodb.put_item(TableName=REDEMPTIONS, Item=item)
    return "OLD001"


def test_a_redemption_recorded_the_old_way_is_reversed_onto_the_new_shape(shop: None, aws: Aws) -> None:
    # The wallet as the old code left it after that redemption, then converted by a redemption of today.
    _put_old_wallet(
        aws,
        [
            _allocation("gone", "100", "0", GONE),
            _allocation("soon", "300", "50", SOON),
            _allocation("late-a", "200", "200", LATE),
            _allocation("late-b", "300", "300", LATE),
            _allocation("forever", "50", "50", None),
        ],
    )
    redemption_id = _old_redemption(aws)
    assert {d.allocation_id for d in _redemption(aws, redemption_id).draws} == {"gone", "soon"}
    redeem(10)
    assert "allocations" not in _stored(aws)
    assert _buckets() == {"soon": 40, "late": 500, "never": 50}

    reversed_ = reverse(redemption_id)

    # The last drawn first: 250 back to "soon"; the 100 of "gone" expired since: reported, not credited.
    assert reversed_["pointsReversed"] == 350
    assert reversed_["pointsReversedDetails"] == {"available": 250, "expired": 100}
    assert _buckets() == {"soon": 290, "late": 500, "never": 50}
    assert _balance() == 840
    assert _redemption(aws, redemption_id).reversed_points == 350
    reversal = aws.dynamodb.get_item(
        TableName=REDEMPTIONS, Key=keys.redemption(ORG_ID, reversed_["reversalId"]), ConsistentRead=True
    )["Item"]
    credits = [
        (c["M"]["allocation_id"]["S"], Decimal(c["M"]["points"]["N"]), c["M"]["expired"]["BOOL"])
        for c in reversal["credits"]["L"]
    ]
    assert credits == [("soon", 250, False), ("gone", 100, True)]
