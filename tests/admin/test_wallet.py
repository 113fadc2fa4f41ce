"""`points-admin wallet`: a customer's balance and allocations with their expiry, read-only."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from points_admin.cli import main
from points_core.repositories import customer_repository
from points_core.services.loading import Award, award_points
from tests.admin.conftest import DEMO, ORG_ID, Run, assert_refused
from tests.conftest import Aws
from tests.factories import PROGRAM_ID, profile, seed_customer, seed_org

KOLKATA = ZoneInfo("Asia/Kolkata")
WALLET = ("wallet", "--org", str(ORG_ID))
TABLE_HEADER = "allocation_id  points  remaining  awarded_at  expires_at  status"


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
        "  allocation_id  points  remaining  awarded_at                 expires_at                 status",
        "  AW-1001-2         500        500  2026-06-01T10:00:00+05:30  2029-06-30T23:59:59+05:30  live",
        "  AW-1001-1        1500       1500  2026-01-15T10:00:00+05:30  2030-12-31T23:59:59+05:30  live",
        "",
        "program 974 Demo Partner Miles",
        "  balance:         1000",
        "  lifetime points: 1000",
        "  tier:            -",
        "  version:         1",
        "  allocation_id  points  remaining  awarded_at                 expires_at  status",
        "  AW-1001-M        1000       1000  2026-01-15T10:00:00+05:30  never       live",
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
        "  allocation_id  points  remaining  awarded_at                 expires_at                 status",
        "  AW-1002-1       12000      12000  2026-01-15T10:00:00+05:30  2030-12-31T23:59:59+05:30  live",
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
    # keeps no allocation.
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
        "allocations": [],
    }
    text = run(*WALLET, "--customer-id", "1006")
    assert text.lines[-2:] == ["  version:         1", "  no allocations"]


class Seeded:
    """Customer 2001 in program 973 of the factories' org (Asia/Kolkata): one allocation of each status."""

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
        # Awarded 50 days ago: every allocation was live then, and "OLD" has expired since.
        awarded = now - timedelta(days=50)
        awards = [self.partly_spent, self.never, self.expired, self.spent]
        assert award_points(ORG_ID, "2001", PROGRAM_ID, awards, awarded, tier="SILVER").created
        # Redemptions since then: 40.25 of LIVE-1 and all of SPENT. A wallet item can hold a spent
        # allocation (the status this command gives it); the next write prunes it.
        customers = customer_repository()
        wallet = customers.wallet(ORG_ID, "2001", PROGRAM_ID)
        assert wallet is not None
        redeemed = {"LIVE-1": Decimal("40.25"), "SPENT": Decimal(10)}
        allocations = tuple(
            a.model_copy(update={"remaining": a.remaining - redeemed.get(a.allocation_id, Decimal(0))})
            for a in wallet.allocations
        )
        updated = wallet.model_copy(update={"version": wallet.version + 1, "allocations": allocations})
        customers.save_awards(ORG_ID, "2001", wallet.version, updated, [])

    @staticmethod
    def iso(value: datetime | None) -> str | None:
        return None if value is None else value.astimezone(KOLKATA).isoformat()

    def dates(self, award: Award) -> list[str | None]:
        """awarded_at and expires_at of an allocation, as the table shows them."""
        return [self.iso(award.awarded_at), self.iso(award.expires_at)]


@pytest.fixture
def seeded(aws: Aws) -> Seeded:
    return Seeded()


def test_expired_and_spent_allocations_are_shown_with_their_status(run: Run, seeded: Seeded) -> None:
    result = run(*WALLET, "--customer-id", "2001")

    assert result.code == 0, result.err
    assert result.lines[2:7] == [
        "program 973 Program 973",
        "  balance:         80.25",
        "  lifetime points: 170.625",
        "  tier:            SILVER",
        "  version:         2",
    ]
    header, *rows = result.lines[7:]
    assert _columns(header) == _columns(TABLE_HEADER)
    # Draw order: earliest expiry first, no expiry last.
    iso = seeded.iso
    dates = seeded.dates
    assert [_columns(row) for row in rows] == [
        ["OLD", "40.125", "40.125", *dates(seeded.expired), "expired"],
        ["SPENT", "10", "0", *dates(seeded.spent), "spent"],
        ["LIVE-1", "100.5", "60.25", *dates(seeded.partly_spent), "live"],
        ["NO-EXPIRY", "20", "20", iso(seeded.never.awarded_at), "never", "live"],
    ]


def test_json_is_exact(run: Run, seeded: Seeded) -> None:
    before = datetime.now(UTC).replace(microsecond=0)
    result = run(*WALLET, "--mobile", "9000000021", "--program", str(PROGRAM_ID), "--json")

    assert result.code == 0, result.err
    assert result.err == ""
    assert len(result.lines) == 1
    # Exact JSON numbers: never a string, a float's digits or an exponent.
    assert '"balance":80.25,' in result.out
    assert '"lifetime_points":170.625,' in result.out
    assert '"remaining":0,' in result.out
    document: dict[str, Any] = json.loads(result.out, parse_float=Decimal)
    as_of = datetime.fromisoformat(document.pop("as_of"))
    assert as_of.utcoffset() == timedelta(hours=5, minutes=30)
    assert before <= as_of <= datetime.now(UTC)
    iso = seeded.iso

    def allocation(award: Award, remaining: str, status: str) -> dict[str, Any]:
        return {
            "allocation_id": award.allocation_id,
            "points": award.points,
            "remaining": Decimal(remaining),
            "awarded_at": iso(award.awarded_at),
            "expires_at": iso(award.expires_at),
            "status": status,
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
                "version": 2,
                "allocations": [
                    allocation(seeded.expired, "40.125", "expired"),
                    allocation(seeded.spent, "0", "spent"),
                    allocation(seeded.partly_spent, "60.25", "live"),
                    allocation(seeded.never, "20", "live"),
                ],
            }
        ],
    }
    assert document["programs"][0]["allocations"][3]["expires_at"] is None


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
    assert "wallet show a customer's balance and allocations with their expiry (read-only)" in words
    assert main(["wallet", "--help"]) == 0
    assert "--program PROGRAM_ID" in capsys.readouterr().out
