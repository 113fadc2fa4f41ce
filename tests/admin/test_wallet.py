"""`points-admin wallet`: a customer's balance and buckets (points by expiry) and pages, read-only."""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from points_admin.cli import main
from points_core.domain import ledger
from points_core.repositories import customer_repository
from points_core.services.loading import Award, award_points
from tests.admin.conftest import DEMO, ORG_ID, Run, assert_refused
from tests.conftest import Aws
from tests.factories import PROGRAM_ID, profile, seed_customer, seed_org

Write = Callable[[str, str], Path]
KOLKATA = ZoneInfo("Asia/Kolkata")
WALLET = ("wallet", "--org", str(ORG_ID))
TABLE_HEADER = "expires_at  points  status  held_in"
ALLOCATIONS_HEADER = "customer_id,program_id,allocation_id,points,awarded_at,expires_at,tier\n"


@pytest.fixture
def demo_allocations(run: Run, demo_customers: None) -> None:
    assert run("import-allocations", DEMO / "allocations.csv", "--org", ORG_ID).code == 0


def _ledger_count(aws: Aws) -> int:
    return int(aws.dynamodb.scan(TableName=aws.tables["LedgerTable"], Select="COUNT")["Count"])


def _columns(line: str) -> list[str]:
    return line.split()


def test_by_customer_id_every_program_with_a_wallet(run: Run, demo_allocations: None) -> None:
    before = datetime.now(UTC).replace(microsecond=0)
    result = run(*WALLET, "--customer-id", "1001")
    after = datetime.now(UTC)

    assert result.code == 0, result.err
    assert result.err == ""
    header, *rest = result.lines
    prefix = "customer 1001 in org 100737 Demo Retail, as of "
    assert header.startswith(prefix)
    as_of = datetime.fromisoformat(header.removeprefix(prefix))
    assert as_of.utcoffset() == timedelta(hours=5, minutes=30)
    assert before <= as_of <= after
    assert [line.rstrip() for line in rest] == [
        "",
        "program 973 Demo Rewards",
        "  balance:         2000",
        "  lifetime points: 2000",
        "  tier:            -",
        "  version:         1",
        "  expires_at                 points  status  held_in",
        "  2029-06-30T23:59:59+05:30     500  live    head",
        "  2030-12-31T23:59:59+05:30    1500  live    head",
        "",
        "program 974 Demo Partner Miles",
        "  balance:         1000",
        "  lifetime points: 1000",
        "  tier:            -",
        "  version:         1",
        "  expires_at  points  status  held_in",
        "  never         1000  live    head",
    ]


@pytest.mark.parametrize("mobile", ["919000000002", "9000000002", "09000000002", "+91 90000 00002"])
def test_by_mobile_in_any_form_the_api_accepts(run: Run, demo_allocations: None, mobile: str) -> None:
    result = run(*WALLET, "--mobile", mobile, "--program", "973")

    assert result.code == 0, result.err
    assert result.lines[0].startswith("customer 1002 in org 100737 Demo Retail, as of ")
    assert result.lines[1:] == [
        "",
        "program 973 Demo Rewards",
        "  balance:         12000",
        "  lifetime points: 12000",
        "  tier:            GOLD",
        "  version:         1",
        "  expires_at                 points  status  held_in",
        "  2030-12-31T23:59:59+05:30   12000  live    head",
    ]


def test_other_identifiers_name_the_same_customer(run: Run, demo_allocations: None) -> None:
    by_id = run(*WALLET, "--customer-id", "1001", "--json")
    others = [
        run(*WALLET, "--customer-id", "0001001", "--json"),
        run(*WALLET, "--email", "Jane.Doe@Example.com", "--json"),
        run(*WALLET, "--external-id", "EXT-1001", "--json"),
        run(*WALLET, "--card-number", "CARD-1001", "--json"),
    ]

    assert by_id.code == 0, by_id.err
    expected = json.loads(by_id.out)
    for other in others:
        assert other.code == 0, other.err
        assert {**json.loads(other.out), "as_of": None} == {**expected, "as_of": None}


def test_a_wallet_whose_points_all_expired_shows_lifetime_points_only(
    run: Run, demo_allocations: None
) -> None:
    # Eve's only allocation had expired when it was imported: it counts in lifetime points, the wallet
    # keeps no bucket (and has no pages).
    result = run(*WALLET, "--mobile", "919000000006", "--json")

    assert result.code == 0, result.err
    (program,) = json.loads(result.out, parse_float=Decimal)["programs"]
    assert program == {
        "program_id": 973,
        "name": "Demo Rewards",
        "balance": 0,
        "lifetime_points": 700,
        "tier": None,
        "version": 1,
        "paged_points": 0,
        "buckets": [],
        "pages": [],
    }
    text = run(*WALLET, "--customer-id", "1006")
    assert text.lines[-2:] == ["  version:         1", "  no points"]


class Seeded:
    """Customer 2001 in program 973 of the factories' org (Asia/Kolkata): a bucket partly spent, one expired,
    one that never expires, and one spent (gone from the wallet; the ledger keeps its award)."""

    def __init__(self) -> None:
        self.now = datetime.now(UTC).replace(microsecond=0)
        now = self.now
        self.partly_spent = Award(
            "LIVE-1", Decimal("100.5"), now - timedelta(days=30), now + timedelta(days=365)
        )
        self.never = Award("NO-EXPIRY", Decimal(20), now - timedelta(days=10))
        self.expired = Award("OLD", Decimal("40.125"), now - timedelta(days=100), now - timedelta(days=1))
        self.spent = Award("SPENT", Decimal(10), now - timedelta(days=20), now + timedelta(days=30))
        seed_org()
        seed_customer(profile("2001", "919000000021"))
        customers = customer_repository()
        awards = [self.partly_spent, self.never, self.spent]
        assert award_points(
            ORG_ID, "2001", PROGRAM_ID, awards, now - timedelta(days=50), tier="SILVER"
        ).created
        # 40 days ago, 50.25 points were drawn, earliest expiry first: all of SPENT's bucket and 40.25 of
        # LIVE-1's. The wallet as a redemption leaves it (a redemption's own records are not this command's).
        wallet = customers.wallet(ORG_ID, "2001", PROGRAM_ID)
        assert wallet is not None
        layout, draws = ledger.debit(wallet, Decimal("50.25"), now - timedelta(days=40))
        assert [(draw.expires_at, draw.points) for draw in draws] == [
            (self.spent.expires_at, Decimal(10)),
            (self.partly_spent.expires_at, Decimal("40.25")),
        ]
        customers.save_awards(ORG_ID, "2001", wallet.version, layout, [])
        # 30 days ago, "OLD" was awarded, live then; it has expired since, and the wallet has not been written
        # since (a write drops an expired bucket).
        assert award_points(ORG_ID, "2001", PROGRAM_ID, [self.expired], now - timedelta(days=30)).created

    @staticmethod
    def iso(value: datetime | None) -> str | None:
        return None if value is None else value.astimezone(KOLKATA).isoformat()


@pytest.fixture
def seeded(aws: Aws) -> Seeded:
    return Seeded()


def test_expired_buckets_are_shown_with_their_status_and_spent_ones_are_gone(
    run: Run, seeded: Seeded
) -> None:
    result = run(*WALLET, "--customer-id", "2001")

    assert result.code == 0, result.err
    assert result.lines[2:7] == [
        "program 973 Program 973",
        "  balance:         80.25",
        "  lifetime points: 170.625",
        "  tier:            SILVER",
        "  version:         3",
    ]
    header, *rows = result.lines[7:]
    assert _columns(header) == _columns(TABLE_HEADER)
    # Draw order: earliest expiry first, no expiry last. SPENT's bucket was drawn to nothing: not held.
    iso = seeded.iso
    assert [_columns(row) for row in rows] == [
        [iso(seeded.expired.expires_at), "40.125", "expired", "head"],
        [iso(seeded.partly_spent.expires_at), "60.25", "live", "head"],
        ["never", "20", "live", "head"],
    ]
    # The ledger keeps every award, the spent one too.
    ids = ["LIVE-1", "NO-EXPIRY", "OLD", "SPENT"]
    recorded = customer_repository().recorded_awards(ORG_ID, "2001", PROGRAM_ID, ids)
    assert {i: (e.points, e.awarded_at, e.expires_at) for i, e in recorded.items()} == {
        award.allocation_id: (award.points, award.awarded_at, award.expires_at)
        for award in (seeded.partly_spent, seeded.never, seeded.expired, seeded.spent)
    }


def test_json_is_exact(run: Run, seeded: Seeded) -> None:
    before = datetime.now(UTC).replace(microsecond=0)
    result = run(*WALLET, "--mobile", "9000000021", "--program", str(PROGRAM_ID), "--json")

    assert result.code == 0, result.err
    assert result.err == ""
    assert len(result.lines) == 1
    # Exact JSON numbers: never a string, a float's digits or an exponent.
    assert '"balance":80.25,' in result.out
    assert '"lifetime_points":170.625,' in result.out
    assert '"paged_points":0,' in result.out
    assert '"points":40.125,' in result.out
    document: dict[str, Any] = json.loads(result.out, parse_float=Decimal)
    as_of = datetime.fromisoformat(document.pop("as_of"))
    assert as_of.utcoffset() == timedelta(hours=5, minutes=30)
    assert before <= as_of <= datetime.now(UTC)
    iso = seeded.iso

    def bucket(award: Award, points: str, status: str) -> dict[str, Any]:
        return {
            "expires_at": iso(award.expires_at),
            "points": Decimal(points),
            "status": status,
            "held_in": "head",
        }

    assert document == {
        "org_id": ORG_ID,
        "org_name": "Org 100737",
        "customer_id": "2001",
        "programs": [
            {
                "program_id": PROGRAM_ID,
                "name": "Program 973",
                "balance": Decimal("80.25"),
                "lifetime_points": Decimal("170.625"),
                "tier": "SILVER",
                "version": 3,
                "paged_points": Decimal(0),
                "buckets": [
                    bucket(seeded.expired, "40.125", "expired"),
                    bucket(seeded.partly_spent, "60.25", "live"),
                    bucket(seeded.never, "20", "live"),
                ],
                "pages": [],
            }
        ],
    }
    assert document["programs"][0]["buckets"][2]["expires_at"] is None


def test_a_wallet_with_pages_shows_the_buckets_each_page_holds_and_the_pages(
    run: Run, demo_customers: None, write: Write
) -> None:
    # More distinct expiries than a head holds (ledger.HEAD_MAX), imported in batches of 100 rows: the first
    # write spills all but the HEAD_KEEP soonest into one page (no bound: the last page), the later ones
    # belong in that page.
    count = 200
    assert count > ledger.HEAD_MAX
    first = datetime(2030, 1, 1, 23, 59, 59, tzinfo=KOLKATA)
    expiries = [first + timedelta(days=n) for n in range(count)]
    rows = [
        f"1003,973,PAGED-{n},{n + 1},2026-01-01T00:00:00+05:30,{expiry.isoformat()},"
        for n, expiry in enumerate(expiries)
    ]
    imported = run(
        "import-allocations", write("paged.csv", ALLOCATIONS_HEADER + "\n".join(rows) + "\n"), "--org", ORG_ID
    )
    assert imported.lines == [
        "200 rows read: 200 written (200 created, 0 updated, 0 already present), 0 rejected"
    ]

    result = run(*WALLET, "--customer-id", "1003")

    assert result.code == 0, result.err
    assert result.lines[0].startswith("customer 1003 in org 100737 Demo Retail, as of ")
    total = count * (count + 1) // 2  # points 1 to 200
    in_head = ledger.HEAD_KEEP
    paged = total - in_head * (in_head + 1) // 2
    # Four writes: two batches, each in a transaction of 90 awards and one of 10.
    assert result.lines[1:8] == [
        "",
        "program 973 Demo Rewards",
        f"  balance:         {total}",
        f"  lifetime points: {total}",
        "  tier:            -",
        "  version:         4",
        "  expires_at                 points  status  held_in",
    ]
    buckets = result.lines[8 : 8 + count]
    assert buckets == [
        f"  {expiry.isoformat()}  {n + 1:>6}  live    {'head' if n < in_head else 'page 1'}"
        for n, expiry in enumerate(expiries)
    ]
    assert result.lines[8 + count :] == [
        "",
        f"  pages ({paged} points; bound: before it)",
        "  page  bound  buckets  points  version",
        f"     1  never  {count - in_head:>7}  {paged:>6}        4",
    ]


def test_it_writes_nothing(run: Run, aws: Aws, demo_allocations: None) -> None:
    items = aws.dynamodb.scan(TableName=aws.tables["CustomersTable"])["Items"]
    entries = _ledger_count(aws)

    assert run(*WALLET, "--customer-id", "1001").code == 0

    assert aws.dynamodb.scan(TableName=aws.tables["CustomersTable"])["Items"] == items
    assert _ledger_count(aws) == entries


# Exit code 1 for what is not there, 2 for a usage mistake.
REFUSALS = [
    (("--customer-id", "4242"), 1, "no customer with id 4242 in org 100737"),
    (("--mobile", "9000000099"), 1, "no customer with mobile 91******0099 in org 100737"),
    (("--email", "nobody@example.com"), 1, "no customer with email n***@e***.com in org 100737"),
    (("--external-id", "EXT-9999"), 1, "no customer with external_id EXT-9999 in org 100737"),
    # 1004 is a customer with no points at all; 1002 has points in 973 only.
    (("--customer-id", "1004"), 1, "customer 1004 has no wallet in any program of org 100737"),
    (
        ("--customer-id", "1004", "--program", "973"),
        1,
        "customer 1004 has no wallet in program 973 of org 100737",
    ),
    (
        ("--mobile", "919000000002", "--program", "974"),
        1,
        "customer 1002 has no wallet in program 974 of org 100737",
    ),
    (("--mobile", "12ab"), 2, "--mobile: a mobile number has digits only"),
    (("--mobile", "90000"), 2, "--mobile: too short for a mobile number"),
    (("--mobile", " "), 2, "--mobile: no customer identifier given"),
    (("--email", "not-an-email"), 2, "--email: not a valid email address"),
    (("--customer-id", "0"), 2, "--customer-id: a customer id is a positive integer"),
    (("--customer-id", "1001", "--program", "1"), 2, "--program: 1 is not a program of org 100737"),
]


def test_no_such_customer_or_wallet_is_exit_code_1_and_a_usage_mistake_2(
    run: Run, demo_allocations: None, subtests: pytest.Subtests
) -> None:
    assert_refused(run, subtests, WALLET, REFUSALS)


def test_an_unknown_org_is_exit_code_2(run: Run, demo_allocations: None) -> None:
    result = run("wallet", "--org", "999", "--customer-id", "1001")

    assert result.code == 2
    assert result.out == ""
    assert result.err == "points-admin: error: org 999 is not configured (run apply-config first)\n"


def test_one_identifier_exactly(capsys: pytest.CaptureFixture[str]) -> None:
    assert main([*WALLET]) == 2
    assert "one of the arguments --customer-id --mobile" in capsys.readouterr().err
    assert main([*WALLET, "--customer-id", "1001", "--mobile", "919000000001"]) == 2
    assert "not allowed with argument" in capsys.readouterr().err


def test_help_lists_the_command(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["--help"]) == 0
    words = " ".join(capsys.readouterr().out.split())  # argparse wraps the help to the terminal's width
    assert (
        "wallet show a customer's balance and points by expiry, in the head and the pages (read-only)"
        in words
    )
    assert main(["wallet", "--help"]) == 0
    assert "--program PROGRAM_ID" in capsys.readouterr().out


# --group: a UserGroup2 group, its members' balances and what they pool.

GROUPS_HEADER = (
    "group_id,external_id,customer_id,role,default_group,cross_member_redemption,redemption_program_ids\n"
)


@pytest.fixture
def demo_family(run: Run, demo_allocations: None) -> None:
    assert run("import-groups", DEMO / "groups.csv", "--org", ORG_ID).code == 0


def _as_of(line: str, prefix: str) -> datetime:
    assert line.startswith(prefix), line
    as_of = datetime.fromisoformat(line.removeprefix(prefix))
    assert as_of.utcoffset() == timedelta(hours=5, minutes=30)
    return as_of


def test_a_group_by_id_each_members_balance_and_the_pooled_total(run: Run, demo_family: None) -> None:
    before = datetime.now(UTC).replace(microsecond=0)
    result = run(*WALLET, "--group", "5001")

    assert result.code == 0, result.err
    assert result.err == ""
    header, *rest = result.lines
    as_of = _as_of(header, "group 5001 (external id FAM-5001) in org 100737 Demo Retail, as of ")
    assert before <= as_of <= datetime.now(UTC)
    assert rest == [
        "  primary member:          1007",
        "  cross-member redemption: yes",
        "  redemption programs:     973 Demo Rewards",
        "",
        "  customer  role      973",
        "  1007      primary   300",
        "  1008      member    200",
        "  1009      member    500",
        "  total              1000",
    ]


def test_a_group_by_external_id_in_json_is_exact(run: Run, demo_family: None) -> None:
    result = run(*WALLET, "--group-external-id", "FAM-5001", "--json")

    assert result.code == 0, result.err
    assert len(result.lines) == 1
    document: dict[str, Any] = json.loads(result.out, parse_float=Decimal)
    assert datetime.fromisoformat(document.pop("as_of")).utcoffset() == timedelta(hours=5, minutes=30)

    def member(customer_id: str, role: str, points: int) -> dict[str, Any]:
        return {
            "customer_id": customer_id,
            "role": role,
            "balances": [{"program_id": 973, "balance": points}],
        }

    assert document == {
        "org_id": ORG_ID,
        "org_name": "Demo Retail",
        "group_id": "5001",
        "external_id": "FAM-5001",
        "primary_customer_id": "1007",
        "cross_member_redemption": True,
        "redemption_programs": [{"program_id": 973, "name": "Demo Rewards"}],
        "members": [
            member("1007", "primary", 300),
            member("1008", "member", 200),
            member("1009", "member", 500),
        ],
        "totals": [{"program_id": 973, "name": "Demo Rewards", "balance": 1000}],
    }


def test_a_group_in_two_programs_counts_expired_points_and_no_wallet_as_nothing(
    run: Run, demo_allocations: None, write: Write
) -> None:
    # Eve (1006): all her points expired; 1004: no wallet at all; Jane (1001), the primary: 2,000 and 1,000.
    rows = "".join(
        f"6001,,{customer},{role},,false,973;974\n"
        for customer, role in (("1006", "member"), ("1001", "primary"), ("1004", "member"))
    )
    assert run("import-groups", write("g.csv", GROUPS_HEADER + rows), "--org", ORG_ID).code == 0

    result = run(*WALLET, "--group", "006001")

    assert result.code == 0, result.err
    _as_of(result.lines[0], "group 6001 in org 100737 Demo Retail, as of ")
    assert result.lines[1:] == [
        "  primary member:          1001",
        "  cross-member redemption: no",
        "  redemption programs:     973 Demo Rewards, 974 Demo Partner Miles",
        "",
        "  customer  role      973   974",
        "  1001      primary  2000  1000",
        "  1004      member      0     0",
        "  1006      member      0     0",
        "  total              2000  1000",
    ]
    only = run(*WALLET, "--group", "6001", "--program", "974")
    assert only.lines[5:] == [
        "  customer  role      974",
        "  1001      primary  1000",
        "  1004      member      0",
        "  1006      member      0",
        "  total              1000",
    ]


def test_a_group_without_redemption_programs_lists_its_members(
    run: Run, demo_allocations: None, write: Write
) -> None:
    rows = "6002,,1002,primary,,,\n6002,,1003,member,,,\n"
    assert run("import-groups", write("g.csv", GROUPS_HEADER + rows), "--org", ORG_ID).code == 0

    result = run(*WALLET, "--group", "6002")

    assert result.code == 0, result.err
    assert result.lines[3:] == [
        "  redemption programs:     none (a redemption for the group answers 828)",
        "",
        "  customer  role",
        "  1002      primary",
        "  1003      member",
    ]


def test_the_group_view_writes_nothing(run: Run, aws: Aws, demo_family: None) -> None:
    items = aws.dynamodb.scan(TableName=aws.tables["CustomersTable"])["Items"]

    assert run(*WALLET, "--group", "5001").code == 0

    assert aws.dynamodb.scan(TableName=aws.tables["CustomersTable"])["Items"] == items


GROUP_REFUSALS = [
    (("--group", "77"), 1, "no group 77 in org 100737"),
    (("--group-external-id", "FAM-9999"), 1, "no group with external id FAM-9999 in org 100737"),
    (("--group", "x"), 2, "--group: a whole number from 1 to 2,147,483,647"),
    (("--group", "0"), 2, "--group: a whole number from 1 to 2,147,483,647"),
    (("--group-external-id", " "), 2, "--group-external-id: no external id given"),
    (("--group", "5001", "--program", "1"), 2, "--program: 1 is not a program of org 100737"),
]


def test_no_such_group_is_exit_code_1_and_a_usage_mistake_2(
    run: Run, demo_family: None, subtests: pytest.Subtests
) -> None:
    assert_refused(run, subtests, WALLET, GROUP_REFUSALS)


def test_a_group_or_a_customer_not_both(capsys: pytest.CaptureFixture[str]) -> None:
    assert main([*WALLET, "--group", "5001", "--customer-id", "1001"]) == 2
    assert "not allowed with argument" in capsys.readouterr().err
    assert main(["wallet", "--help"]) == 0
    assert "--group GROUP_ID" in capsys.readouterr().out
