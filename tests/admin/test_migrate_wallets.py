"""`points-admin migrate-wallets`: wallets stored with their allocations inline become heads of buckets."""

from __future__ import annotations

import io
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta, timezone
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from botocore.client import BaseClient

from points_core.domain.ledger import HEAD_MAX
from points_core.domain.models import Wallet
from points_core.repositories import CustomerRepository, customer_repository
from points_core.repositories.wallets import load_wallet
from points_core.services.loading import Award, award_points
from tests.admin.conftest import ORG_ID, Run
from tests.conftest import Aws

NOW = datetime.now(UTC).replace(microsecond=0)
KOLKATA = ZoneInfo("Asia/Kolkata")
MIGRATE = ("migrate-wallets", "--org", str(ORG_ID))
OTHER_ORG = 1007370  # its partitions begin with this org's digits: "ORG#100737" + "0#CUST#…"
TABLE = "CustomersTable"

SOON = NOW + timedelta(days=10, microseconds=123456)
MIDDLE = NOW + timedelta(days=40)
LATER = NOW + timedelta(days=60)
PAST = NOW - timedelta(days=5)
MANY = 200


# The wallets as the code before buckets stored them: `Wallet.model_dump()` through the codec (times ISO-8601
# with their offset, numbers as N, None as NULL), written out here by hand.


def _time(moment: datetime | None, zone: Any = KOLKATA) -> dict[str, Any]:
    return {"NULL": True} if moment is None else {"S": moment.astimezone(zone).isoformat()}


def old_allocation(
    allocation_id: str,
    points: str,
    remaining: str,
    expires_at: datetime | None,
    *,
    zone: Any = KOLKATA,
) -> dict[str, Any]:
    return {
        "M": {
            "allocation_id": {"S": allocation_id},
            "points": {"N": points},
            "remaining": {"N": remaining},
            "awarded_at": _time(NOW - timedelta(days=100), zone),
            "expires_at": _time(expires_at, zone),
        }
    }


def old_wallet(
    org_id: int,
    customer_id: str,
    program_id: int,
    allocations: list[dict[str, Any]],
    *,
    version: int,
    lifetime: str,
    tier: str | None = None,
) -> dict[str, Any]:
    return {
        "pk": {"S": f"ORG#{org_id}#CUST#{customer_id}"},
        "sk": {"S": f"WALLET#{program_id}"},
        "program_id": {"N": str(program_id)},
        "version": {"N": str(version)},
        "tier": {"NULL": True} if tier is None else {"S": tier},
        "lifetime_points": {"N": lifetime},
        "allocations": {"L": allocations},
    }


JANE_973 = old_wallet(
    ORG_ID,
    "1001",
    973,
    [
        old_allocation("a-soon", "25.5", "25.5", SOON),
        # Two allocations of one expiry (written in different offsets): one bucket of 100 + 30.
        old_allocation("a-middle", "100", "100", MIDDLE),
        old_allocation("b-middle", "50", "30", MIDDLE, zone=UTC),
        old_allocation("spent", "80", "0", LATER),
        old_allocation("expired", "200", "200", PAST),
        old_allocation("never", "70", "70", None, zone=timezone(timedelta(hours=-3))),
    ],
    version=7,
    lifetime="525.5",
    tier="GOLD",
)
JANE_973_BUCKETS = [(SOON, Decimal("25.5")), (MIDDLE, Decimal(130)), (None, Decimal(70))]
JANE_974 = old_wallet(
    ORG_ID, "1001", 974, [old_allocation("miles", "400", "400", None)], version=2, lifetime="400"
)
RAVI_BUCKETS = [(NOW + timedelta(days=day), Decimal(day)) for day in range(1, MANY + 1)]
RAVI_973 = old_wallet(
    ORG_ID,
    "1002",
    973,
    [
        old_allocation(f"a{day}", str(points), str(points), expiry)
        for day, (expiry, points) in enumerate(RAVI_BUCKETS)
    ],
    version=3,
    lifetime=str(sum(points for _, points in RAVI_BUCKETS)),
)
NEW_SHAPE = {
    "pk": {"S": f"ORG#{ORG_ID}#CUST#1003"},
    "sk": {"S": "WALLET#973"},
    "program_id": {"N": "973"},
    "version": {"N": "4"},
    "lifetime_points": {"N": "10"},
    "buckets": {"S": "-=10"},
}
PROFILE = {"pk": {"S": f"ORG#{ORG_ID}#CUST#1001"}, "sk": {"S": "PROFILE"}, "customer_id": {"S": "1001"}}
ELSEWHERE = [
    old_wallet(OTHER_ORG, "1001", 973, [old_allocation("x", "5", "5", MIDDLE)], version=1, lifetime="5"),
    old_wallet(555, "1001", 973, [old_allocation("y", "6", "6", None)], version=1, lifetime="6"),
]
OLD_SHAPE = {("1001", 973): JANE_973, ("1001", 974): JANE_974, ("1002", 973): RAVI_973}


def _key(item: dict[str, Any]) -> tuple[str, str]:
    return item["pk"]["S"], item["sk"]["S"]


def _table(aws: Aws) -> dict[tuple[str, str], dict[str, Any]]:
    items: list[dict[str, Any]] = []
    request: dict[str, Any] = {"TableName": TABLE, "ConsistentRead": True}
    while True:
        response = aws.dynamodb.scan(**request)
        items += response["Items"]
        if "LastEvaluatedKey" not in response:
            return {_key(item): item for item in items}
        request["ExclusiveStartKey"] = response["LastEvaluatedKey"]


def _item(aws: Aws, customer_id: str, program_id: int, org_id: int = ORG_ID) -> dict[str, Any]:
    key = {"pk": {"S": f"ORG#{org_id}#CUST#{customer_id}"}, "sk": {"S": f"WALLET#{program_id}"}}
    item: dict[str, Any] = aws.dynamodb.get_item(TableName=TABLE, Key=key, ConsistentRead=True)["Item"]
    return item


def _pages(aws: Aws, customer_id: str, program_id: int) -> list[dict[str, Any]]:
    response = aws.dynamodb.query(
        TableName=TABLE,
        KeyConditionExpression="pk = :pk AND begins_with(sk, :page)",
        ExpressionAttributeValues={
            ":pk": {"S": f"ORG#{ORG_ID}#CUST#{customer_id}"},
            ":page": {"S": f"PAGE#{program_id}#"},
        },
        ConsistentRead=True,
    )
    items: list[dict[str, Any]] = response["Items"]
    return items


def _whole(customer_id: str, program_id: int) -> Wallet:
    """The wallet as the service reads it now, every page with it."""
    customers = customer_repository()
    wallet = customers.wallet(ORG_ID, customer_id, program_id)
    assert wallet is not None
    return customers.pages().all_pages(ORG_ID, customer_id, wallet)


def _buckets(wallet: Wallet) -> list[tuple[datetime | None, Decimal]]:
    held = [*wallet.buckets, *(bucket for page in wallet.pages for bucket in page.buckets)]
    return sorted(((b.expires_at, b.points) for b in held), key=lambda b: (b[0] is None, b[0] or NOW))


def _summary(found: int, converted: int, meanwhile: int, dry_run: bool = False) -> str:
    would = "would be " if dry_run else ""
    return (
        f"{found} wallets in the old shape: {converted} {would}converted, {meanwhile} already converted "
        f"meanwhile; {1 if converted else 0} expired buckets ({200 if converted else 0} points) "
        f"{would or 'were '}dropped, as every write drops them"
    )


@pytest.fixture
def old_wallets(aws: Aws, demo_org: None) -> dict[tuple[str, str], dict[str, Any]]:
    """The old-shape wallets of the org, one in the new shape, and old-shape wallets of two other orgs; the
    table as put."""
    for item in [*OLD_SHAPE.values(), NEW_SHAPE, PROFILE, *ELSEWHERE]:
        aws.dynamodb.put_item(TableName=TABLE, Item=item)
    return _table(aws)


def test_every_old_wallet_of_the_org_is_converted_and_keeps_its_points(
    run: Run, aws: Aws, old_wallets: dict[tuple[str, str], dict[str, Any]]
) -> None:
    before = {key: load_wallet(item).balance(NOW) for key, item in OLD_SHAPE.items()}
    assert before == {("1001", 973): Decimal("225.5"), ("1001", 974): Decimal(400), ("1002", 973): 20100}

    result = run(*MIGRATE)

    assert result.code == 0, result.err
    assert result.lines == [_summary(3, 3, 0)]
    assert result.err == ""  # no terminal: no progress bar
    for (customer_id, program_id), old in OLD_SHAPE.items():
        item = _item(aws, customer_id, program_id)
        assert "allocations" not in item
        assert "S" in item["buckets"]
        assert int(item["version"]["N"]) == int(old["version"]["N"]) + 1
        assert item["lifetime_points"] == old["lifetime_points"]
        assert _whole(customer_id, program_id).balance(NOW) == before[(customer_id, program_id)]
    jane = _whole("1001", 973)
    # Same expiry merged, the spent one gone, the expired one dropped, never last.
    assert _buckets(jane) == JANE_973_BUCKETS
    assert (jane.tier, jane.pages, _pages(aws, "1001", 973)) == ("GOLD", (), [])
    assert _buckets(_whole("1001", 974)) == [(None, Decimal(400))]
    assert customer_repository().recorded_awards(ORG_ID, "1001", 973, ["a-soon"]) == {}  # no ledger writes


def test_a_wallet_past_head_max_spills_into_pages(
    run: Run, aws: Aws, old_wallets: dict[tuple[str, str], dict[str, Any]]
) -> None:
    assert run(*MIGRATE).code == 0

    head = customer_repository().wallet(ORG_ID, "1002", 973)
    assert head is not None
    pages = _pages(aws, "1002", 973)
    assert pages
    assert 0 < len(head.buckets) <= HEAD_MAX
    ravi = _whole("1002", 973)
    assert len(ravi.pages) == len(pages)
    assert head.paged_points == sum(page.points for page in ravi.pages) > 0
    # The head holds the soonest expiries; the pages the rest, and nothing is lost or doubled.
    assert head.paged_from is not None
    assert max(b.expires_at for b in head.buckets if b.expires_at) < head.paged_from
    assert _buckets(ravi) == RAVI_BUCKETS
    assert ravi.balance(NOW) == 20100


def test_a_dry_run_writes_nothing_and_a_second_run_converts_nothing(
    run: Run, aws: Aws, old_wallets: dict[tuple[str, str], dict[str, Any]]
) -> None:
    dry = run(*MIGRATE, "--dry-run")

    assert dry.code == 0, dry.err
    assert dry.lines == [_summary(3, 3, 0, dry_run=True)]
    assert _table(aws) == old_wallets

    assert run(*MIGRATE).lines == [_summary(3, 3, 0)]
    converted = _table(aws)
    assert converted != old_wallets

    again = run(*MIGRATE)

    assert again.code == 0
    assert again.lines == [_summary(0, 0, 0)]
    assert _table(aws) == converted
    assert run(*MIGRATE, "--dry-run").lines == [_summary(0, 0, 0, dry_run=True)]


def test_other_orgs_and_new_shape_wallets_are_untouched(
    run: Run, aws: Aws, old_wallets: dict[tuple[str, str], dict[str, Any]]
) -> None:
    assert run(*MIGRATE).code == 0

    after = _table(aws)
    for item in [NEW_SHAPE, PROFILE, *ELSEWHERE]:
        assert after[_key(item)] == item
    assert after[_key(ELSEWHERE[0])]["allocations"] == ELSEWHERE[0]["allocations"]


def _award(customer_id: str, program_id: int) -> None:
    """A write of the service (a goodwill award): it stores the wallet in the new shape."""
    now = datetime.now(UTC)
    award_points(ORG_ID, customer_id, program_id, [Award("LATE-AWARD", Decimal(5), now, None)], now)


def _assert_award_kept(aws: Aws) -> None:
    item = _item(aws, "1001", 974)
    assert "allocations" not in item
    assert item["version"]["N"] == "3"  # the award's write, not overwritten by the command
    assert _buckets(_whole("1001", 974)) == [(None, Decimal(405))]


def test_a_wallet_written_after_the_scan_counts_as_converted_meanwhile(
    run: Run, aws: Aws, old_wallets: dict[tuple[str, str], dict[str, Any]], monkeypatch: pytest.MonkeyPatch
) -> None:
    scan = CustomerRepository.old_shape_wallets

    def scan_then_award(self: CustomerRepository, org_id: int) -> Iterator[tuple[int, list[tuple[str, int]]]]:
        for page in scan(self, org_id):
            if ("1001", 974) in page[1]:
                _award("1001", 974)
            yield page

    monkeypatch.setattr(CustomerRepository, "old_shape_wallets", scan_then_award)

    result = run(*MIGRATE)

    assert result.code == 0, result.err
    assert result.lines == [_summary(3, 2, 1)]
    _assert_award_kept(aws)


def test_a_wallet_written_between_its_read_and_its_write_is_not_overwritten(
    run: Run, aws: Aws, old_wallets: dict[tuple[str, str], dict[str, Any]], monkeypatch: pytest.MonkeyPatch
) -> None:
    read = CustomerRepository.old_shape_wallet
    reads: list[tuple[str, int]] = []

    def read_then_award(self: CustomerRepository, org_id: int, customer_id: str, program_id: int) -> Any:
        wallet = read(self, org_id, customer_id, program_id)
        reads.append((customer_id, program_id))
        if (customer_id, program_id) == ("1001", 974) and reads.count(("1001", 974)) == 1:
            _award(customer_id, program_id)  # the wallet read above is now stale
        return wallet

    monkeypatch.setattr(CustomerRepository, "old_shape_wallet", read_then_award)

    result = run(*MIGRATE)

    assert result.code == 0, result.err
    assert result.lines == [_summary(3, 2, 1)]
    assert reads.count(("1001", 974)) == 2  # refused, read again: converted by the award
    _assert_award_kept(aws)


def test_the_scan_is_followed_page_by_page(
    run: Run, aws: Aws, old_wallets: dict[tuple[str, str], dict[str, Any]], monkeypatch: pytest.MonkeyPatch
) -> None:
    call = BaseClient._make_api_call  # type: ignore[attr-defined]
    scans: list[dict[str, Any]] = []

    def one_item_a_page(self: BaseClient, operation: str, params: dict[str, Any]) -> Any:
        if operation == "Scan" and params.get("TableName") == TABLE and "FilterExpression" in params:
            params = {**params, "Limit": 1}
            scans.append(params)
        return call(self, operation, params)

    monkeypatch.setattr(BaseClient, "_make_api_call", one_item_a_page)

    result = run(*MIGRATE)

    assert result.lines == [_summary(3, 3, 0)]
    assert len(scans) >= len(old_wallets)  # one item a page: as many pages as items
    assert all("allocations" not in _item(aws, c, p) for c, p in OLD_SHAPE)


class _Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


def test_on_a_terminal_a_progress_bar_shows_on_stderr(
    run: Run, old_wallets: dict[tuple[str, str], dict[str, Any]], monkeypatch: pytest.MonkeyPatch
) -> None:
    terminal = _Terminal()
    monkeypatch.setattr("sys.stderr", terminal)

    result = run(*MIGRATE)

    assert result.lines == [_summary(3, 3, 0)]
    shown = terminal.getvalue()
    assert f"org {ORG_ID}" in shown
    assert "3 wallets" in shown


def test_an_org_not_configured_is_refused(
    run: Run, old_wallets: dict[tuple[str, str], dict[str, Any]]
) -> None:
    result = run("migrate-wallets", "--org", "4242")

    assert result.code == 2
    assert result.out == ""
    assert result.err == "points-admin: error: org 4242 is not configured (run apply-config first)\n"
