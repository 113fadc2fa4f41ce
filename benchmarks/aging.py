"""`make bench`'s aged wallets, after the wallet history scenario: what years of time do to a wallet's cost.

- The earner: a customer who earns four times a day for 11 years, each award expiring three years after it,
  and never redeems (16,060 lifetime allocations, about 4,400 live, in pages). Their awards are made with the
  loading service, a month at a time, at the moment of that month (the import's clock is the real one); then
  isredeemable and redeem of 10 points are measured at the end of the 11 years, the handlers' clock set there.
- The dormant customer: the history scenario's 100,000-allocation customer (one expiry a minute from a day
  after the import), 36 days on, when about half its expiries have lapsed and with them some 250 pages, none
  of them written since: the first isredeemable, the first redemption, the redemptions it takes until no
  expired page is left, and the one after.

Each figure is one metered request's; the earner's handler time is a p50 over alternated requests.
"""

from __future__ import annotations

import importlib
import tempfile
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any, TextIO

from benchmarks.meter import Meter

EARNER = 960101
EARNER_YEARS = 11
AWARDS_A_DAY = 4
EARNER_EXPIRY = timedelta(days=3 * 365)
DORMANT_AFTER = timedelta(days=1, minutes=50_000)
"""How long after the import the dormant customer is asked: half of its 100,000 minutes of expiries lapsed."""
MOST_PRUNING_REDEMPTIONS = 50


@contextmanager
def clock_at(modules: list[Any], moment: datetime) -> Iterator[None]:
    """The handlers' clock set to `moment` (they read it through their module's `utc_now`)."""
    saved = [module.utc_now for module in modules]
    for module in modules:
        module.utc_now = lambda: moment
    try:
        yield
    finally:
        for module, original in zip(modules, saved, strict=True):
            module.utc_now = original


def load_earner(org_id: int) -> dict[str, Any]:
    """The earner's 11 years of awards, each month's at that month's end: the moment after the last one
    (`end`), how many awards were made and how long it took. (Before the history scenario's imports: moto
    copies every table on each transaction, so a write costs more the more the tables hold.)"""
    started = time.perf_counter()
    from points_admin.cli import main as admin
    from points_core.services.loading import Award, award_points

    customers = Path(tempfile.mkdtemp()) / "earner.csv"
    customers.write_text(f"customer_id,mobile\n{EARNER},9191{EARNER}\n")
    if admin(["import-customers", str(customers), "--org", str(org_id)]) != 0:
        raise RuntimeError("could not load the earner")
    start = datetime.now(UTC).replace(microsecond=0)
    days = 365 * EARNER_YEARS
    made = 0
    for month in range(0, days, 30):
        awards = []
        for day in range(month, min(month + 30, days)):
            for k in range(AWARDS_A_DAY):
                awarded = start + timedelta(days=day, hours=6 * k)
                awards.append(Award(f"E{day}-{k}", Decimal(10), awarded, awarded + EARNER_EXPIRY))
        now = awards[-1].awarded_at
        result = award_points(org_id, str(EARNER), 973, awards, now)
        if len(result.created) != len(awards):
            raise RuntimeError("the earner's awards were not all made")
        made += len(awards)
    return {
        "end": start + timedelta(days=days),
        "awards": made,
        "load_seconds": time.perf_counter() - started,
    }


def pages_of(org_id: int, customer: int, now: datetime) -> tuple[int, int]:
    """The customer's stored pages, and how many of them hold only expired buckets (read unmetered)."""
    from points_core.repositories import customer_repository

    repository = customer_repository()
    head = repository.wallet(org_id, str(customer), 973)
    assert head is not None
    pages = repository.pages().all_pages(org_id, str(customer), head).pages
    expired = sum(1 for page in pages if not any(bucket.is_live(now) for bucket in page.buckets))
    return len(pages), expired


def run(
    event_for: Callable[[str, int], tuple[str, dict[str, Any]]],
    environment: Callable[[str], Any],
    context: Any,
    meter: Meter,
    requests: int,
    loaded: dict[str, Any],
    dormant: int,
    allocations: int,
) -> dict[str, Any]:
    """The earner's (`loaded` by `load_earner`) and the dormant customer's figures (see the module's
    docstring), each request checked and counted as the history scenario's are."""
    from benchmarks.__main__ import percentile
    from benchmarks.history import check, counted

    modules: dict[str, Any] = {}
    for operation in ("isredeemable", "redeem"):
        with environment(operation):
            modules[operation] = importlib.import_module(event_for(operation, EARNER)[0])

    def metered(operation: str, customer: int) -> dict[str, Any]:
        with environment(operation):
            meter.reset()
            started = time.perf_counter()
            answer = modules[operation].lambda_handler(event_for(operation, customer)[1], context)
            elapsed = (time.perf_counter() - started - meter.peek_seconds) * 1000
            check(operation, answer)
            return {**counted(meter), "handler_ms": elapsed}

    end = loaded["end"]
    results: dict[str, Any] = {
        "earner": {"awards": loaded["awards"], "load_seconds": loaded["load_seconds"]},
        "dormant": {"allocations": allocations, "days_on": DORMANT_AFTER / timedelta(days=1)},
    }
    earner = results["earner"]
    with clock_at(list(modules.values()), end):
        earner["pages"], earner["expired_pages"] = pages_of(100737, EARNER, end)
        for operation in ("isredeemable", "redeem"):
            with environment(operation):  # warm, as the history scenario's figures are
                modules[operation].lambda_handler(event_for(operation, EARNER)[1], context)
            earner[operation] = metered(operation, EARNER)
            times: list[float] = []
            for _ in range(requests):
                with environment(operation):
                    meter.reset()
                    started = time.perf_counter()
                    modules[operation].lambda_handler(event_for(operation, EARNER)[1], context)
                    times.append((time.perf_counter() - started - meter.peek_seconds) * 1000)
            earner[operation]["p50_ms"] = percentile(times, 0.5)

    later = datetime.now(UTC) + DORMANT_AFTER
    found = results["dormant"]
    with clock_at(list(modules.values()), later):
        found["pages"], found["expired_pages"] = pages_of(100737, dormant, later)
        found["first_isredeemable"] = metered("isredeemable", dormant)
        found["first_redeem"] = metered("redeem", dormant)
        pruning = 1
        while pages_of(100737, dormant, later)[1] and pruning < MOST_PRUNING_REDEMPTIONS:
            metered("redeem", dormant)
            pruning += 1
        found["pruning_redemptions"] = pruning
        found["then_isredeemable"] = metered("isredeemable", dormant)
        found["then_redeem"] = metered("redeem", dormant)
    return results


def line(figures: dict[str, Any], writes: bool = True) -> str:
    text = (
        f"round trips {figures['round_trips']} {figures['calls']}, items read {figures['items_read']} "
        f"({figures['bytes_read']:,} B), RCU {figures['rcu']:.1f}"
    )
    if writes:
        text += f", items written {figures['items_written']}, WCU {figures['wcu']:.0f}"
    return text + f"; handler {figures['handler_ms']:.1f} ms"


def report(results: dict[str, Any], new: dict[str, Any], out: TextIO) -> None:
    """The aged wallets' figures beside a new customer's (`new`: the history scenario's 5-allocation
    customer, per operation)."""
    earner, dormant = results["earner"], results["dormant"]
    print("\n== aged wallets ==", file=out)
    print(
        f"  earner, {EARNER_YEARS} years of {AWARDS_A_DAY} awards a day ({earner['awards']:,} allocations, "
        f"3-year expiry, never redeemed; awarded in {earner['load_seconds']:.0f} s): "
        f"{earner['pages']} pages, {earner['expired_pages']} of them expired",
        file=out,
    )
    for operation in ("isredeemable", "redeem"):
        figures, base = earner[operation], new[operation]
        print(f"    {operation}: {line(figures, operation == 'redeem')}", file=out)
        ratio = figures["p50_ms"] / base["p50_ms"]
        print(
            f"      handler p50 {figures['p50_ms']:.2f} ms; the new customer's: RCU {base['rcu']:.1f}, "
            f"WCU {base['wcu']:.0f}, p50 {base['p50_ms']:.2f} ms (ratio {ratio:.2f})",
            file=out,
        )
    print(
        f"  dormant, {dormant['allocations']:,} allocations {dormant['days_on']:.0f} days on: "
        f"{dormant['pages']} pages, {dormant['expired_pages']} of them expired",
        file=out,
    )
    print(f"    first isredeemable: {line(dormant['first_isredeemable'], False)}", file=out)
    print(f"    first redeem: {line(dormant['first_redeem'])}", file=out)
    print(f"    redemptions until no expired page is left: {dormant['pruning_redemptions']}", file=out)
    print(f"    then isredeemable: {line(dormant['then_isredeemable'], False)}", file=out)
    print(f"    then redeem: {line(dormant['then_redeem'])}", file=out)
