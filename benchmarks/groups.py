"""`make bench`'s group redemption scenario: what a UserGroup2 group redemption costs by the members it draws
from.

Groups of 2, 10 and `MAX_WALLETS_DRAWN` (40) members are loaded with the operator tool (customers,
allocations, groups). Each member holds allocations of 10 points whose expiries interleave with the other
members', so every measured redemption (10 points a member) draws from every member of its group,
earliest expiry first. Per group: the round trips, the items and bytes read and written, RCU and WCU of one
warm isredeemable and one warm redeem, and the handler time p50 over requests alternated between the groups;
beside them, one customer's redemption of 10 points for comparison.
"""

from __future__ import annotations

import importlib
import tempfile
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any, TextIO

from benchmarks.history import ROWS, WRITES, check, counted
from benchmarks.meter import Meter
from points_core.domain.pool import MAX_WALLETS_DRAWN

SIZES = (2, 10, MAX_WALLETS_DRAWN)
ALLOCATIONS_EACH = 30
"""Fewer than the head keeps after an import (32): the measured redemptions read no page."""
POINTS_EACH = 10
ALONE = 979999
"""A customer of no group, redeeming 10 points: the individual redemption beside the group ones."""


def group_of(size: int) -> str:
    return f"97{size:02d}"


def members_of(size: int) -> list[str]:
    return [f"97{size:02d}{n:02d}" for n in range(size)]


def load(folder: Path) -> None:
    """Every member with their allocations and every group, through `points-admin` as an operator loads
    them."""
    from points_admin.cli import main as admin

    customers = [member for size in SIZES for member in members_of(size)] + [str(ALONE)]
    (folder / "customers.csv").write_text(
        "customer_id,mobile\n" + "".join(f"{c},9192{c}\n" for c in customers)
    )
    now = datetime.now(UTC).replace(microsecond=0)
    with (folder / "allocations.csv").open("w") as out:
        out.write("customer_id,program_id,allocation_id,points,awarded_at,expires_at\n")
        for size in SIZES:
            for index, member in enumerate(members_of(size)):
                for n in range(ALLOCATIONS_EACH):
                    # Member after member within each day: a redemption of 10 a member takes one of each.
                    expires = (now + timedelta(days=1 + n, minutes=index)).isoformat()
                    out.write(f"{member},973,G{member}-{n},{POINTS_EACH},{now.isoformat()},{expires}\n")
        out.write(f"{ALONE},973,ALONE,{POINTS_EACH * ALLOCATIONS_EACH},{now.isoformat()},\n")
    with (folder / "groups.csv").open("w") as out:
        out.write(
            "group_id,external_id,customer_id,role,default_group,cross_member_redemption,"
            "redemption_program_ids\n"
        )
        for size in SIZES:
            for index, member in enumerate(members_of(size)):
                role = "primary" if index == 0 else "member"
                out.write(f"{group_of(size)},BENCH-{size},{member},{role},true,true,973\n")
    for command in ("import-customers", "import-allocations", "import-groups"):
        name = command.removeprefix("import-") + ".csv"
        if admin([command, str(folder / name), "--org", "100737"]) != 0:
            raise RuntimeError(f"could not load the group scenario's {name}")


def run(stack: Any, requests: int, out: TextIO) -> dict[str, Any]:
    """The scenario against the local stack, its handlers imported in this process."""
    from benchmarks.__main__ import (
        METER,
        SCENARIOS,
        Context,
        function_environment,
        percentile,
        proxy_event,
        redeem_body,
    )
    from points_core.aws.clients import dynamodb_client

    by_name = {scenario.name: scenario for scenario in SCENARIOS}
    cases: list[int | None] = [*SIZES, None]  # None: the customer alone

    def event_for(operation: str, size: int | None) -> dict[str, Any]:
        scenario = by_name[operation]
        customer = str(ALONE) if size is None else members_of(size)[-1]
        group = {} if size is None else {"user_group2_id": group_of(size)}
        points = POINTS_EACH * (1 if size is None else size)
        if operation == "isredeemable":
            query = {"format": "json", "id": customer, "points": str(points), **group}
            return proxy_event(scenario, query)
        body = redeem_body(points, {"id": customer})
        return proxy_event(scenario, {"format": "json", "skip_validation": "true", **group}, body)

    with function_environment(stack.environment(by_name["redeem"].function_id)):
        load(Path(tempfile.mkdtemp()))
    meter = METER.attach(dynamodb_client())
    results: dict[str, dict[str, dict[str, Any]]] = {}
    for operation in ("isredeemable", "redeem"):
        scenario = by_name[operation]
        with function_environment(stack.environment(scenario.function_id)):
            module = importlib.import_module(scenario.module)
            figures = _measure(module, operation, cases, event_for, meter, requests, Context(), percentile)
        results[operation] = {_label(size): figures[size] for size in cases}
    report(results, out)
    return results


def _measure(
    module: Any,
    operation: str,
    cases: list[int | None],
    event_for: Callable[[str, int | None], dict[str, Any]],
    meter: Meter,
    requests: int,
    context: Any,
    percentile: Callable[[list[float], float], float],
) -> dict[int | None, dict[str, Any]]:
    figures: dict[int | None, dict[str, Any]] = {}
    for size in cases:
        module.lambda_handler(event_for(operation, size), context)  # warm
        meter.reset()
        answer = module.lambda_handler(event_for(operation, size), context)
        check(operation, answer)
        figures[size] = counted(meter)
    times: dict[int | None, list[float]] = {size: [] for size in cases}
    for index in range(requests):
        for size in cases if index % 2 == 0 else cases[::-1]:
            event = event_for(operation, size)
            meter.reset()
            started = time.perf_counter()
            answer = module.lambda_handler(event, context)
            times[size].append((time.perf_counter() - started - meter.peek_seconds) * 1000)
            check(operation, answer)
    for size in cases:
        figures[size]["p50_ms"] = percentile(times[size], 0.5)
    return figures


def _label(size: int | None) -> str:
    return "one customer" if size is None else f"{size} members"


def report(results: dict[str, dict[str, dict[str, Any]]], out: TextIO) -> None:
    print("\n== group redemption ==", file=out)
    labels = list(results["redeem"])
    print(f"  {'drawing from':<30}" + "".join(f"{label:>14}" for label in labels), file=out)
    for operation, figures in results.items():
        for label, key, shape in ROWS:
            if operation == "isredeemable" and key in WRITES:
                continue
            cells = "".join(f"{shape.format(figures[name][key]):>14}" for name in labels)
            print(f"  {operation + ' ' + label:<30}{cells}", file=out)
