"""Over HTTP against the local stack: redeem, reverse part, reverse the rest, and see the allocations back
with their original expiry; reversals racing on one redemption; the legacy revert by bill."""

from __future__ import annotations

import json
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

import boto3
import pytest

from points_admin.cli import main as admin
from points_core.domain.models import Wallet
from points_core.repositories import CustomerRepository
from tests.e2e.conftest import Api

pytestmark = pytest.mark.e2e

REDEEM = "/v1.1/points/redeem"
REVERSE = "/v2/points/reverse"
REVERT = "/v1.1/points/revert"
SKIP = {"format": "json", "skip_validation": "true"}


def load_customer(api: Api, folder: Path, customer_id: str) -> None:
    """A customer of its own, via the operator tool: 300 points expiring in 2027 (drawn first), 500 later."""
    (folder / "customers.csv").write_text(f"customer_id,mobile\n{customer_id},9190000{customer_id}\n")
    (folder / "allocations.csv").write_text(
        "customer_id,program_id,allocation_id,points,awarded_at,expires_at\n"
        f"{customer_id},973,{customer_id}-SOON,300,2026-01-01T00:00:00+05:30,2027-03-31T23:59:59+05:30\n"
        f"{customer_id},973,{customer_id}-LATE,500,2026-02-01T00:00:00+05:30,2031-01-01T00:00:00+05:30\n"
    )
    for command, name in (("import-customers", "customers.csv"), ("import-allocations", "allocations.csv")):
        assert admin([*api.admin_options, command, str(folder / name), "--org", "100737"]) == 0


def wallet(api: Api, customer_id: str) -> Wallet:
    options = dict(zip(api.admin_options[::2], api.admin_options[1::2], strict=True))
    client = boto3.client("dynamodb", endpoint_url=options["--endpoint-url"], region_name="eu-west-1")
    found = CustomerRepository(client, options["--customers-table"], options["--ledger-table"]).wallet(
        100737, customer_id, 973
    )
    assert found is not None
    return found


SOON = datetime(2027, 3, 31, 18, 29, 59, tzinfo=UTC)  # 2027-03-31T23:59:59+05:30
LATE = datetime(2030, 12, 31, 18, 30, tzinfo=UTC)  # 2031-01-01T00:00:00+05:30


def remaining(api: Api, customer_id: str) -> dict[str, Decimal]:
    """The customer's buckets by the allocation that made each ("SOON", "LATE": one expiry each)."""
    names = {SOON: "SOON", LATE: "LATE"}
    return {names[b.expires_at]: b.points for b in wallet(api, customer_id).buckets if b.expires_at in names}


def redeem(api: Api, customer_id: str, points: int, **fields: Any) -> dict[str, Any]:
    item = {"points_redeemed": points, "customer": {"id": customer_id}, **fields}
    reply = api.post(REDEEM, SKIP, json.dumps({"root": {"redeem": item}}))
    redeemed: dict[str, Any] = reply.body["response"]["responses"]["points"]
    assert redeemed["item_status"]["code"] == 800
    return redeemed


def reverse(api: Api, customer_id: str, redemption_id: str, points: int | None = None) -> tuple[int, Any]:
    body: dict[str, Any] = {"redemptionId": redemption_id, "identifier": {"type": "ID", "value": customer_id}}
    if points is not None:
        body["pointsToBeReversed"] = points
    reply = api.post(REVERSE, {}, json.dumps(body))
    return reply.status, reply.body


def test_redeem_reverse_part_reverse_the_rest_and_expiry_is_restored(api: Api, tmp_path: Path) -> None:
    load_customer(api, tmp_path, "7101")
    before = remaining(api, "7101")
    assert before == {"SOON": 300, "LATE": 500}
    redemption_id = redeem(api, "7101", 600)["redemption_id"]
    assert remaining(api, "7101") == {"LATE": 200}

    status, part = reverse(api, "7101", redemption_id, 200)
    assert status == 200
    assert (part["pointsReversed"], part["pointsReversedDetails"]) == (200, {"available": 200, "expired": 0})
    assert wallet(api, "7101").balance(datetime.now(UTC)) == 400

    status, rest = reverse(api, "7101", redemption_id)
    assert (status, rest["pointsToBeReversed"], rest["pointsReversed"]) == (200, 400, 400)
    assert remaining(api, "7101") == before  # every point back, in the bucket of its original expiry
    assert reverse(api, "7101", redemption_id)[1]["errors"][0]["code"] == 3802


def test_the_operator_tool_shows_the_restored_wallet_with_local(
    api: Api, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    load_customer(api, tmp_path, "7104")
    reverse(api, "7104", redeem(api, "7104", 600)["redemption_id"])
    aws_url = api.admin_options[api.admin_options.index("--endpoint-url") + 1]
    capsys.readouterr()
    command = ["--local", "--endpoint-url", aws_url, "wallet", "--org", "100737", "--customer-id", "7104"]
    assert admin([*command, "--json"]) == 0
    shown = json.loads(capsys.readouterr().out, parse_float=Decimal)
    (program,) = shown["programs"]
    assert program["balance"] == 800
    assert [(b["expires_at"], b["points"], b["status"], b["held_in"]) for b in program["buckets"]] == [
        ("2027-03-31T23:59:59+05:30", 300, "live", "head"),
        ("2031-01-01T00:00:00+05:30", 500, "live", "head"),
    ]


def test_racing_reversals_of_one_redemption_never_exceed_it(api: Api, tmp_path: Path) -> None:
    load_customer(api, tmp_path, "7102")
    redemption_id = redeem(api, "7102", 500)["redemption_id"]
    with ThreadPoolExecutor(12) as pool:
        replies = list(pool.map(lambda _: reverse(api, "7102", redemption_id, 100), range(12)))
    # A refusal is HTTP 200 too (errors[]), except 521 (409): a reversal succeeded when it has an id
    succeeded = [body for status, body in replies if status == 200 and "reversalId" in body]
    refused = [body["errors"][0]["code"] for _, body in replies if "errors" in body]
    assert (len(succeeded), len(refused)) == (5, 7)
    assert set(refused) <= {3801, 3802, 521}
    assert wallet(api, "7102").balance(datetime.now(UTC)) == 800


def test_a_bill_is_reverted_over_http(api: Api, tmp_path: Path) -> None:
    load_customer(api, tmp_path, "7103")
    redeem(api, "7103", 350, transaction_number="E2E-BILL-7103")
    body = {"root": {"revert": {"transaction_number": "E2E-BILL-7103", "customer": {"id": "7103"}}}}
    reply = api.post(REVERT, {"format": "json"}, json.dumps(body))
    reverted = reply.body["response"]["responses"]["points"]
    assert (reply.status, reverted["item_status"]["code"], reverted["balance"]) == (200, 200, 800)
    again = api.post(REVERT, {"format": "json"}, json.dumps(body)).body["response"]["responses"]["points"]
    assert again["item_status"]["code"] == 812
