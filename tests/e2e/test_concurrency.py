"""Many point-of-sale clients at once on one customer, over HTTP against the local stack: one code is
consumed once, and the points redeemed never exceed the balance."""

from __future__ import annotations

import json
import urllib.request
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path

import boto3
import pytest

from points_admin.cli import main as admin
from points_core.repositories import CustomerRepository
from tests.e2e.conftest import Api

pytestmark = pytest.mark.e2e

MOBILE = "919000007001"
REDEEM = "/v1.1/points/redeem"


@pytest.fixture
def customer(api: Api, tmp_path: Path) -> str:
    """A customer of its own with 1,000 points, loaded with the operator tool."""
    customers = tmp_path / "customers.csv"
    customers.write_text(f"customer_id,mobile,first_name\n7001,{MOBILE},Concurrent\n")
    allocations = tmp_path / "allocations.csv"
    allocations.write_text(
        "customer_id,program_id,allocation_id,points,awarded_at,expires_at\n"
        "7001,973,C-1,600,2026-01-01T00:00:00+05:30,2031-01-01T00:00:00+05:30\n"
        "7001,973,C-2,400,2026-02-01T00:00:00+05:30,\n"
    )
    assert admin([*api.admin_options, "import-customers", str(customers), "--org", "100737"]) == 0
    assert admin([*api.admin_options, "import-allocations", str(allocations), "--org", "100737"]) == 0
    return MOBILE


def redeem(api: Api, points: int, query: dict[str, str], code: str = "") -> int:
    item = {"points_redeemed": points, "customer": {"mobile": MOBILE}, "validation_code": code}
    reply = api.post(REDEEM, query, json.dumps({"root": {"redeem": item}}))
    assert reply.status == 200
    code_seen: int = reply.body["response"]["responses"]["points"]["item_status"]["code"]
    return code_seen


def balance(api: Api) -> Decimal:
    """Read straight from the stack's DynamoDB: what the wallet holds now."""
    options = dict(zip(api.admin_options[::2], api.admin_options[1::2], strict=True))
    client = boto3.client("dynamodb", endpoint_url=options["--endpoint-url"], region_name="eu-west-1")
    customers = CustomerRepository(client, options["--customers-table"], options["--ledger-table"])
    wallet = customers.wallet(100737, "7001", 973)
    assert wallet is not None
    return wallet.balance(datetime.now(UTC))


def test_one_code_is_consumed_once_and_the_balance_never_overspent(api: Api, customer: str) -> None:
    assert api.get("/v1.1/points/validationcode", {"mobile": MOBILE, "points": "100"}).status == 200
    with urllib.request.urlopen(
        f"{api.url}/_local/outbox?destination={MOBILE}&limit=1", timeout=10
    ) as response:
        code = json.load(response)["messages"][0]["message"].split()[0]

    with ThreadPoolExecutor(12) as pool:
        results = list(pool.map(lambda _: redeem(api, 100, {"format": "json"}, code), range(12)))
    assert results.count(800) == 1
    assert set(results) <= {800, 808}
    assert balance(api) == 900

    with ThreadPoolExecutor(16) as pool:
        results = list(pool.map(lambda _: redeem(api, 150, {"skip_validation": "true"}), range(16)))
    successes = results.count(800)
    assert set(results) <= {800, 818, 521}
    assert successes * 150 <= 900
    assert balance(api) == 900 - 150 * successes
