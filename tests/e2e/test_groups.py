"""The README's group session over HTTP, on the demo's Sharma family (group 5001, FAM-5001): the answers the
README says, and the family's 1,000 points back at the end."""

from __future__ import annotations

import json
from decimal import Decimal
from typing import Any

import pytest

from points_admin.cli import main as admin
from tests.e2e.conftest import Api

pytestmark = pytest.mark.e2e

IS_REDEEMABLE = "/v1.1/points/isredeemable"
REDEEM = "/v1.1/points/redeem"
REVERSE = "/v2/points/reverse"
REVERT = "/v1.1/points/revert"
ARJUN = "919000000008"


def family_parts(api: Api, capsys: pytest.CaptureFixture[str]) -> dict[str, Any]:
    aws_url = api.admin_options[api.admin_options.index("--endpoint-url") + 1]
    capsys.readouterr()
    command = ["--local", "--endpoint-url", aws_url, "wallet", "--org", "100737", "--group", "5001", "--json"]
    assert admin(command) == 0
    shown: dict[str, Any] = json.loads(capsys.readouterr().out, parse_float=Decimal)
    return shown


def balances(shown: dict[str, Any]) -> dict[str, Decimal]:
    return {m["customer_id"]: m["balances"][0]["balance"] for m in shown["members"]}


def test_the_readme_group_session(api: Api, capsys: pytest.CaptureFixture[str]) -> None:
    # isredeemable: the family's points, then Arjun's own
    pooled = api.get(
        IS_REDEEMABLE, {"format": "json", "mobile": ARJUN, "points": "600", "user_group2_id": "5001"}
    )
    alone = api.get(IS_REDEEMABLE, {"format": "json", "mobile": ARJUN, "points": "600"})
    item = pooled.body["response"]["points"]["redeemable"]
    assert (item["item_status"]["code"], item["is_group_redemption"]) == (800, "true")
    assert alone.body["response"]["points"]["redeemable"]["item_status"]["code"] == 818

    # redeem 600 for the family by external id
    body = {
        "root": {
            "redeem": {
                "points_redeemed": 600,
                "customer": {"mobile": ARJUN},
                "transaction_number": "BILL-FAM-1",
                "external_reference_number": "FAM-0001",
            }
        }
    }
    query = {"format": "json", "skip_validation": "true", "user_group2_external_id": "FAM-5001"}
    redeemed = api.post(REDEEM, query, json.dumps(body)).body["response"]["responses"]["points"]
    assert (redeemed["item_status"]["code"], redeemed["balance"], redeemed["is_group_redemption"]) == (
        800,
        400,
        "true",
    )
    assert balances(family_parts(api, capsys)) == {"1007": 300, "1008": 0, "1009": 100}

    # reverse 500: Meera's 400 first, then 100 of Arjun's
    reverse = {
        "externalReferenceNumber": "FAM-0001",
        "pointsToBeReversed": 500,
        "identifier": {"type": "PHONE", "value": ARJUN},
    }
    reversed_ = api.post(REVERSE, {}, json.dumps(reverse)).body
    assert [
        (e["memberId"], e["pointsRestored"], e["expiryBatchDate"], e["status"])
        for e in reversed_["crossMemberReversalBreakup"]
    ] == [
        (1009, 400, "2030-06-30T18:29:59+00:00", "REVERSED"),
        (1008, 100, "2029-12-31T18:29:59+00:00", "REVERSED"),
    ]

    # the rest by bill
    revert = {"root": {"revert": {"transaction_number": "BILL-FAM-1", "customer": {"mobile": ARJUN}}}}
    reverted = api.post(REVERT, {"format": "json"}, json.dumps(revert)).body["response"]["responses"][
        "points"
    ]
    assert (reverted["points_reverted"], reverted["balance"]) == ("100", 200)
    shown = family_parts(api, capsys)
    assert balances(shown) == {"1007": 300, "1008": 200, "1009": 500}
    assert shown["totals"][0]["balance"] == 1000

    # only the group named: its primary member
    primary = api.get(
        IS_REDEEMABLE, {"format": "json", "user_group2_external_id": "FAM-5001", "points": "1000"}
    ).body["response"]["points"]["redeemable"]
    assert (primary["item_status"]["code"], primary["mobile"]) == (800, "919000000007")

    # 1632 and 828
    outsider = api.get(
        IS_REDEEMABLE, {"format": "json", "mobile": "919000000001", "points": "100", "user_group2_id": "5001"}
    )
    elsewhere = api.get(
        IS_REDEEMABLE,
        {"format": "json", "mobile": ARJUN, "points": "100", "user_group2_id": "5001", "program_id": "974"},
    )
    assert outsider.body["response"]["points"]["redeemable"]["item_status"]["code"] == 1632
    assert elsewhere.body["response"]["points"]["redeemable"]["item_status"]["code"] == 828
