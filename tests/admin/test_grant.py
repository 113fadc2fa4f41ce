"""`points-admin grant`: goodwill points with a reason, idempotent with a reference."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest

from points_core.domain.models import EntryKind, Wallet
from points_core.repositories import customer_repository
from tests.admin.conftest import ORG_ID, Run, assert_refused
from tests.conftest import Aws

NOW = datetime.now(UTC)
KOLKATA = ZoneInfo("Asia/Kolkata")
GRANT = ("grant", "--org", str(ORG_ID), "--program", "973", "--reason", "late delivery, ticket 42")


def _ledger(aws: Aws) -> list[dict[str, dict[str, str]]]:
    return aws.dynamodb.scan(TableName=aws.tables["LedgerTable"])["Items"]


def _buckets(wallet: Wallet) -> list[tuple[datetime | None, Decimal]]:
    """(expiry, points) of each bucket the head holds, in its order: earliest expiry first, never last."""
    return [(bucket.expires_at, bucket.points) for bucket in wallet.buckets]


def test_a_grant_with_a_reference_is_applied_once(run: Run, aws: Aws, demo_customers: None) -> None:
    first = run(*GRANT, "--points", "250", "--mobile", "9000000001", "--reference", "TICKET-42")
    second = run(*GRANT, "--points", "250", "--mobile", "9000000001", "--reference", "TICKET-42")

    assert first.code == 0, first.err
    assert first.lines == [
        "granted 250 points to customer 1001 in program 973 (GW-TICKET-42)",
        "balance: 250",
    ]
    assert second.code == 0
    assert second.lines == [
        "GW-TICKET-42 was granted to customer 1001 already: nothing changed",
        "balance: 250",
    ]
    wallet = customer_repository().wallet(ORG_ID, "1001", 973)
    assert wallet is not None
    assert (wallet.balance(NOW), wallet.lifetime_points) == (Decimal(250), Decimal(250))
    assert _buckets(wallet) == [(None, Decimal(250))]
    (entry,) = _ledger(aws)
    assert entry["kind"]["S"] == EntryKind.GOODWILL
    assert entry["reason"]["S"] == "late delivery, ticket 42"
    assert entry["allocation_id"]["S"] == "GW-TICKET-42"


def test_a_reference_reused_for_other_points_changes_nothing(
    run: Run, aws: Aws, demo_customers: None
) -> None:
    assert run(*GRANT, "--points", "250", "--mobile", "9000000001", "--reference", "TICKET-43").code == 0

    reused = run(*GRANT, "--points", "300", "--mobile", "9000000001", "--reference", "TICKET-43")

    assert reused.code == 2
    assert "GW-TICKET-43 was granted before with other points or expiry: nothing changed" in reused.err
    wallet = customer_repository().wallet(ORG_ID, "1001", 973)
    assert wallet is not None
    assert wallet.balance(NOW) == Decimal(250)


def test_grants_without_a_reference_are_each_new(run: Run, aws: Aws, demo_customers: None) -> None:
    run(*GRANT, "--points", "10.5", "--customer-id", "1002")
    result = run(
        *GRANT, "--points", "10.5", "--email", "Ravi.Kumar@example.com", "--expires-at", "2099-01-01T00:00:00"
    )

    assert result.code == 0, result.err
    assert result.lines[-1] == "balance: 21.0"
    ids = sorted(item["allocation_id"]["S"] for item in _ledger(aws))
    assert len(ids) == 2
    assert all(len(i) == 35 and i.startswith("GW-") for i in ids)
    customers = customer_repository()
    wallet = customers.wallet(ORG_ID, "1002", 973)
    assert wallet is not None
    # One bucket per expiry; the ledger keeps each grant by its allocation id.
    expiry = datetime(2099, 1, 1, tzinfo=KOLKATA)
    assert _buckets(wallet) == [(expiry, Decimal("10.5")), (None, Decimal("10.5"))]
    entries = customers.recorded_awards(ORG_ID, "1002", 973, ids)
    assert sorted(entries) == ids
    grant = (Decimal("10.5"), EntryKind.GOODWILL, "late delivery, ticket 42")
    assert {e.expires_at: (e.points, e.kind, e.reason) for e in entries.values()} == {
        expiry: grant,
        None: grant,
    }


MISTAKES = [
    (("--points", "5", "--mobile", "9000000099"), 2, "no customer with mobile 91******0099 in org 100737"),
    (
        ("--points", "5", "--email", "nobody@example.com"),
        2,
        "no customer with email n***@e***.com in org 100737",
    ),
    (("--points", "5", "--customer-id", "4242"), 2, "no customer with id 4242 in org 100737"),
    (("--points", "5", "--mobile", "12ab"), 2, "--mobile: a mobile number has digits only"),
    (("--points", "0", "--customer-id", "1001"), 2, "--points: must be a number greater than 0"),
    (("--points", "1.2345", "--customer-id", "1001"), 2, "--points: at most 3 decimal places"),
    (
        ("--points", "5", "--customer-id", "1001", "--expires-at", "2020-01-01T00:00:00Z"),
        2,
        "--expires-at: must be in the future",
    ),
    (("--points", "5", "--customer-id", "1001", "--reference", "a b"), 2, "--reference: 1 to 125 letters"),
]


def test_mistakes_are_one_clear_line_and_grant_nothing(
    run: Run, aws: Aws, demo_customers: None, subtests: pytest.Subtests
) -> None:
    # Subtests over one loaded org: a fresh org per case would only add set-up time.
    assert_refused(run, subtests, GRANT, MISTAKES, whole_line=False)
    assert _ledger(aws) == []


def test_the_reason_and_the_program_are_checked(run: Run, demo_customers: None) -> None:
    blank = run(
        "grant",
        "--org",
        str(ORG_ID),
        "--program",
        "973",
        "--reason",
        " ",
        "--points",
        "1",
        "--customer-id",
        "1001",
    )
    unknown = run(
        "grant",
        "--org",
        str(ORG_ID),
        "--program",
        "1",
        "--reason",
        "x",
        "--points",
        "1",
        "--customer-id",
        "1001",
    )

    assert (blank.code, unknown.code) == (2, 2)
    assert "--reason: required" in blank.err
    assert "--program: 1 is not a program of org 100737" in unknown.err
