"""`points-admin import-allocations`: balances, bad rows, re-runs, expired awards, batching."""

from __future__ import annotations

import io
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from points_core.domain import ledger
from points_core.domain.models import AwardEntry, EntryKind, Wallet
from points_core.repositories import customer_repository
from tests.admin.conftest import DEMO, ORG_ID, Run

Write = Callable[[str, str], Path]
HEADER = "customer_id,program_id,allocation_id,points,awarded_at,expires_at,tier\n"
NOW = datetime.now(UTC)
KOLKATA = ZoneInfo("Asia/Kolkata")


def _wallet(customer_id: str, program_id: int = 973) -> Wallet:
    wallet = customer_repository().wallet(ORG_ID, customer_id, program_id)
    assert wallet is not None
    return wallet


def _buckets(customer_id: str, program_id: int = 973) -> list[tuple[datetime | None, Decimal]]:
    """(expiry, points) of each bucket in the wallet's head, in order: earliest expiry first, never last."""
    return [(bucket.expires_at, bucket.points) for bucket in _wallet(customer_id, program_id).buckets]


def _awards(customer_id: str, ids: list[str], program_id: int = 973) -> dict[str, AwardEntry]:
    """The ledger's award entries of these allocation ids, by id (the ledger keeps every award)."""
    return customer_repository().recorded_awards(ORG_ID, customer_id, program_id, ids)


@pytest.fixture
def demo_allocations(run: Run, demo_customers: None) -> None:
    assert run("import-allocations", DEMO / "allocations.csv", "--org", ORG_ID).code == 0


def test_the_demo_file_imports_cleanly(run: Run, demo_customers: None) -> None:
    result = run("import-allocations", DEMO / "allocations.csv", "--org", ORG_ID)

    assert result.code == 0, result.out + result.err
    assert result.lines == ["9 rows read: 9 written (9 created, 0 updated, 0 already present), 0 rejected"]
    jane = _wallet("1001")
    assert jane.balance(NOW) == Decimal(2000)
    assert jane.lifetime_points == Decimal(2000)
    first_expiry = datetime(2030, 12, 31, 23, 59, 59, tzinfo=KOLKATA)
    second_expiry = datetime(2029, 6, 30, 23, 59, 59, tzinfo=KOLKATA)
    assert _buckets("1001") == [(second_expiry, Decimal(500)), (first_expiry, Decimal(1500))]
    awards = _awards("1001", ["AW-1001-1", "AW-1001-2"])
    assert {i: (e.kind, e.points, e.awarded_at, e.expires_at) for i, e in awards.items()} == {
        "AW-1001-1": (
            EntryKind.AWARD,
            Decimal(1500),
            datetime(2026, 1, 15, 10, 0, tzinfo=KOLKATA),
            first_expiry,
        ),
        "AW-1001-2": (
            EntryKind.AWARD,
            Decimal(500),
            datetime(2026, 6, 1, 10, 0, tzinfo=KOLKATA),
            second_expiry,
        ),
    }
    miles = _wallet("1001", 974)
    assert miles.balance(NOW) == Decimal(1000)
    assert _buckets("1001", 974) == [(None, Decimal(1000))]
    (never,) = _awards("1001", ["AW-1001-M"], 974).values()
    assert (never.points, never.expires_at) == (Decimal(1000), None)
    ravi = _wallet("1002")
    assert (ravi.balance(NOW), ravi.tier) == (Decimal(12000), "GOLD")
    assert _wallet("1003").balance(NOW) == Decimal(1000)
    # The Sharma family's points, each with its own expiry (their group pools them: demo/groups.csv).
    assert [_buckets(customer) for customer in ("1007", "1008", "1009")] == [
        [(datetime(2031, 3, 31, 23, 59, 59, tzinfo=KOLKATA), Decimal(300))],
        [(datetime(2029, 12, 31, 23, 59, 59, tzinfo=KOLKATA), Decimal(200))],
        [(datetime(2030, 6, 30, 23, 59, 59, tzinfo=KOLKATA), Decimal(500))],
    ]


def test_an_allocation_expired_on_arrival_counts_in_lifetime_points_only(demo_allocations: None) -> None:
    eve = _wallet("1006")

    assert eve.balance(NOW) == Decimal(0)
    assert eve.lifetime_points == Decimal(700)
    assert (eve.buckets, eve.paged_points) == ((), Decimal(0))
    # The wallet keeps no bucket of it; the ledger keeps the award.
    (award,) = _awards("1006", ["AW-1006-1"]).values()
    assert (award.points, award.expires_at) == (
        Decimal(700),
        datetime(2025, 12, 31, 23, 59, 59, tzinfo=KOLKATA),
    )


def test_a_second_run_changes_nothing(run: Run, demo_allocations: None) -> None:
    before = {
        customer: _wallet(customer) for customer in ("1001", "1002", "1003", "1006", "1007", "1008", "1009")
    }

    result = run("import-allocations", DEMO / "allocations.csv", "--org", ORG_ID)

    assert result.code == 0
    assert result.lines == ["9 rows read: 9 written (0 created, 0 updated, 9 already present), 0 rejected"]
    for customer, wallet in before.items():
        assert _wallet(customer) == wallet
    assert _wallet("1001").lifetime_points == Decimal(2000)


def test_an_imported_allocation_with_other_points_is_rejected_not_rewritten(
    run: Run, demo_allocations: None, write: Write
) -> None:
    before = _wallet("1001")
    path = write(
        "changed.csv",
        HEADER
        + "1001,973,AW-1001-1,9999,2026-01-15T10:00:00+05:30,2030-12-31T23:59:59+05:30,\n"
        + "1001,973,AW-1001-2,500,2026-06-01T10:00:00+05:30,2029-06-30T23:59:59+05:30,\n",
    )

    result = run("import-allocations", path, "--org", ORG_ID)

    assert result.code == 1
    assert result.lines == [
        "line 2: allocation_id AW-1001-1 was imported before with other points or expiry; "
        "an imported allocation is never changed",
        "2 rows read: 1 written (0 created, 0 updated, 1 already present), 1 rejected",
    ]
    assert _wallet("1001") == before
    assert _awards("1001", ["AW-1001-1"])["AW-1001-1"].points == Decimal(1500)


def test_a_time_without_offset_is_in_the_orgs_timezone(run: Run, demo_customers: None, write: Write) -> None:
    path = write("a.csv", HEADER + "1001,973,LOCAL-1,10.125,2026-02-01T09:30:00,2031-02-01 00:00:00,\n")

    assert run("import-allocations", path, "--org", ORG_ID).code == 0

    expiry = datetime(2031, 1, 31, 18, 30, tzinfo=UTC)
    assert _buckets("1001") == [(expiry, Decimal("10.125"))]
    award = _awards("1001", ["LOCAL-1"])["LOCAL-1"]
    assert (award.points, award.awarded_at, award.expires_at) == (
        Decimal("10.125"),
        datetime(2026, 2, 1, 4, 0, tzinfo=UTC),
        expiry,
    )


def test_each_bad_row_is_reported_by_line_and_not_written(
    run: Run, demo_customers: None, write: Write, tmp_path: Path
) -> None:
    rows = [
        "1001,973,OK-1,100,2026-01-01T00:00:00+05:30,,",  # line 2: good
        "9999,973,X-1,100,2026-01-01T00:00:00+05:30,,",  # 3
        "1001,975,X-2,100,2026-01-01T00:00:00+05:30,,",  # 4
        "1001,973,X-3,1.2345,2026-01-01T00:00:00+05:30,,",  # 5
        "1001,973,X-4,100,2026-06-01T00:00:00+05:30,2026-05-01T00:00:00+05:30,",  # 6
        "1001,973,X-5,100,01/02/2026,,",  # 7
        "1001,973,,100,2026-01-01T00:00:00+05:30,,",  # 8
        "1001,973,X-7,0,2026-01-01T00:00:00+05:30,,",  # 9
        "1001,973,OK-1,50,2026-01-01T00:00:00+05:30,,",  # 10: same allocation as line 2
        "1001,973,X-9,100,2026-01-01T00:00:00+05:30,2030-12-31,",  # 11
        "1002,974,OK-2,100,2026-01-01T00:00:00+05:30,,",  # 12: good
    ]
    rejects = tmp_path / "rejects.csv"

    result = run(
        "import-allocations",
        write("a.csv", HEADER + "\n".join(rows) + "\n"),
        "--org",
        ORG_ID,
        "--rejects",
        rejects,
    )

    assert result.code == 1
    assert result.lines == [
        "line 4: program_id: not a program of org 100737 (programs: 973, 974)",
        "line 5: points: at most 3 decimal places",
        "line 6: expires_at: must be after awarded_at",
        "line 7: awarded_at: not an ISO-8601 date and time, e.g. 2026-01-15T10:00:00+05:30",
        "line 8: allocation_id: required",
        "line 9: points: must be a number greater than 0",
        "line 10: allocation_id OK-1 of this customer and program is already on line 2",
        "line 11: expires_at: a date needs a time too, e.g. 2026-12-31T23:59:59",
        "line 3: customer 9999 does not exist in org 100737",
        "11 rows read: 2 written (2 created, 0 updated, 0 already present), 9 rejected",
        f"rejected rows: {rejects}",
    ]
    # Of every allocation id in the file, only line 2's is recorded for 1001 (line 10's 50 points are not).
    ids = ["OK-1", "X-1", "X-2", "X-3", "X-4", "X-5", "X-7", "X-9", "OK-2"]
    assert {i: e.points for i, e in _awards("1001", ids).items()} == {"OK-1": Decimal(100)}
    assert _awards("1001", ids, 974) == {}
    assert _buckets("1001") == [(None, Decimal(100))]
    assert _wallet("1001").lifetime_points == Decimal(100)
    assert _wallet("1002", 974).balance(NOW) == Decimal(100)
    assert list(_awards("1002", ids, 974)) == ["OK-2"]
    assert customer_repository().wallet(ORG_ID, "9999", 973) is None
    assert rejects.read_text(encoding="utf-8").splitlines()[0] == HEADER.strip() + ",line,reason"
    assert len(rejects.read_text(encoding="utf-8").splitlines()) == 10


def test_a_file_larger_than_the_batch_is_written_fully(run: Run, demo_customers: None, write: Write) -> None:
    # Two wallets only: moto copies every table on each transaction, so more wallets only cost time here.
    customers = ("1001", "1002")
    rows = [
        f"{customers[n % 2]},973,BULK-{n},1.5,2026-01-01T00:00:00+05:30,2099-01-01T00:00:00+05:30,"
        for n in range(250)
    ]
    path = write("bulk.csv", HEADER + "\n".join(rows) + "\n")

    result = run("import-allocations", path, "--org", ORG_ID, "--batch-size", "100")

    assert result.code == 0
    assert result.lines == [
        "250 rows read: 250 written (250 created, 0 updated, 0 already present), 0 rejected"
    ]
    expiry = datetime(2099, 1, 1, tzinfo=KOLKATA)
    for index, customer in enumerate(customers):
        wallet = _wallet(customer)
        # 125 allocations of one expiry: one bucket of them all; the ledger keeps each of them.
        assert _buckets(customer) == [(expiry, Decimal("187.5"))]
        assert wallet.balance(NOW) == Decimal("187.5")
        theirs = [f"BULK-{n}" for n in range(index, 250, 2)]
        awards = _awards(customer, [f"BULK-{n}" for n in range(250)])
        assert sorted(awards) == sorted(theirs)
        assert {(e.points, e.expires_at) for e in awards.values()} == {(Decimal("1.5"), expiry)}


def test_the_last_tier_given_wins(run: Run, demo_customers: None, write: Write) -> None:
    rows = "1001,973,T-1,1,2026-01-01T00:00:00Z,,SILVER\n1001,973,T-2,1,2026-01-01T00:00:00Z,,GOLD\n"
    run("import-allocations", write("a.csv", HEADER + rows), "--org", ORG_ID)
    assert _wallet("1001").tier == "GOLD"

    run(
        "import-allocations",
        write("b.csv", HEADER + "1001,973,T-1,1,2026-01-01T00:00:00Z,,PLATINUM\n"),
        "--org",
        ORG_ID,
    )

    assert _wallet("1001").tier == "PLATINUM"
    assert _wallet("1001").lifetime_points == Decimal(2)


def test_missing_required_columns_stop_the_import(run: Run, demo_customers: None, write: Write) -> None:
    result = run("import-allocations", write("a.csv", "customer_id,points\n1001,5\n"), "--org", ORG_ID)

    assert result.code == 2
    assert result.err == (
        "points-admin: error: line 1: missing columns: program_id, allocation_id, awarded_at\n"
    )


class _Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


def test_one_customer_with_thousands_of_expiries_is_imported_whole_with_a_progress_bar(
    run: Run, demo_customers: None, write: Write, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Given: 2,000 allocations for one customer, each with an expiry of its own (before buckets and pages, a
    # wallet held at most 1,500 and the rest of the file was rejected); the operator at a terminal
    first = datetime(2099, 1, 1, tzinfo=UTC)
    expiries = [(first + timedelta(hours=n)).isoformat() for n in range(2000)]
    rows = [f"1001,973,MANY-{n},10,2026-01-01T00:00:00+05:30,{at}," for n, at in enumerate(expiries)]
    path = write("many.csv", HEADER + "\n".join(rows) + "\n")
    terminal = _Terminal()
    monkeypatch.setattr("sys.stderr", terminal)

    # When
    result = run("import-allocations", path, "--org", ORG_ID)

    # Then: every row written, the ledger holds each, the head stays small and the pages hold the rest
    assert result.code == 0
    assert result.lines == [
        "2000 rows read: 2000 written (2000 created, 0 updated, 0 already present), 0 rejected"
    ]
    ids = [f"MANY-{n}" for n in range(2000)]
    assert len(_awards("1001", ids)) == 2000
    wallet = _wallet("1001")
    assert len(wallet.buckets) <= ledger.HEAD_MAX
    assert wallet.balance(NOW) == 20_000
    every = customer_repository().pages().all_pages(ORG_ID, "1001", wallet)
    assert len(every.live_buckets(NOW)) == 2000
    # And the progress bar moved on the terminal, through the file's bytes, counting the rows
    shown = terminal.getvalue()
    assert "many.csv:" in shown
    assert "rows=1900" in shown and "rejected=0" in shown
