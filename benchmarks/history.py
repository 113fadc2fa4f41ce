"""`make bench`'s wallet history scenario: does a customer's history cost anything?

Customers with 5, 64 (a full head), 1,000, 20,000 and 100,000 lifetime allocations of 1,000 points, each with
an expiry of its own (the worst case for buckets: none shares one), all live, are loaded with the operator
tool (the 100,000 timed).
Then for isredeemable, redeem (10 points) and reverse (1 point of an earlier redemption): per customer, the
round trips, the items and bytes read and written, RCU and WCU of one warm request, and the handler time p50
over requests alternated between the customers in one run, with each figure's ratio of the largest history
to the smallest, and of the most any customer's took to the smallest; what one redemption that draws past
the head, into the pages, costs; then the aged wallets (`benchmarks/aging.py`).
"""

from __future__ import annotations

import importlib
import json
import tempfile
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any, TextIO

from benchmarks import aging
from benchmarks.meter import Meter

SIZES = (5, 64, 1_000, 20_000, 100_000)
"""Lifetime allocations of each history customer: 64 (each its own expiry) fill the head to `HEAD_MAX`, its
largest; past 64 the head spills into pages and keeps 32."""
FIRST_CUSTOMER = 960001
POINTS_EACH = 1000
"""Enough that the 5-allocation customer still has points after every measured redemption."""
REDEEMED_FOR_REVERSAL = 300
REDEEMED = 10
"""Points of each measured isredeemable and redeem (the demo program's minimum)."""
CROSSING_POINTS = 5_000
"""Redemptions of this much (the demo program's maximum) from the largest history until one draws past the
head (an import leaves it 32 buckets): the figures of that one."""


# AWS list prices, us-east-1, on-demand (DynamoDB since its November 2024 cut; Lambda arm64; API Gateway REST,
# the first 333 million requests a month). Dollars per million requests or units, or per GB-second.
DYNAMODB_PER_MILLION_WRITE_UNITS = 0.625
DYNAMODB_PER_MILLION_READ_UNITS = 0.125
LAMBDA_ARM_PER_GB_SECOND = 0.0000133334
LAMBDA_PER_MILLION_REQUESTS = 0.20
API_GATEWAY_REST_PER_MILLION = 3.50
TEMPLATE = Path(__file__).resolve().parent.parent / "template.yaml"


def function_memory_gb(path: Path = TEMPLATE) -> float:
    """The functions' memory in GB, as template.yaml gives it to every function (its Globals); a function
    given memory of its own would need pricing apart, so it is refused."""
    from points_local.template import load_template

    template = load_template(path)
    memory = template["Globals"]["Function"]["MemorySize"]
    for name, resource in template["Resources"].items():
        own = resource.get("Properties", {}).get("MemorySize", memory)
        if resource.get("Type") == "AWS::Serverless::Function" and own != memory:
            raise ValueError(f"{name} has MemorySize {own}, not the {memory} every other function has")
    return float(memory) / 1024


def cost_per_million(figures: dict[str, Any], memory_gb: float | None = None) -> dict[str, float]:
    """Dollars per million requests: DynamoDB from the capacity measured, Lambda from the handler time
    measured (moto on loopback: its per-call time stands for DynamoDB's in-region latency) at the template's
    memory, API Gateway per request. The authorizer's invocation is not counted (one per request, answered
    from its cache)."""
    memory = function_memory_gb() if memory_gb is None else memory_gb
    dynamodb = (
        figures["rcu"] * DYNAMODB_PER_MILLION_READ_UNITS + figures["wcu"] * DYNAMODB_PER_MILLION_WRITE_UNITS
    )
    seconds = figures["p50_ms"] / 1000
    lambda_ = seconds * memory * LAMBDA_ARM_PER_GB_SECOND * 1e6 + LAMBDA_PER_MILLION_REQUESTS
    return {
        "dynamodb": dynamodb,
        "lambda": lambda_,
        "api_gateway": API_GATEWAY_REST_PER_MILLION,
        "total": dynamodb + lambda_ + API_GATEWAY_REST_PER_MILLION,
    }


def customer_of(size: int) -> int:
    return FIRST_CUSTOMER + SIZES.index(size)


def load(folder: Path) -> float:
    """Every history customer with its allocations, through `points-admin` as an operator loads them; the
    seconds the 100,000-allocation import took (every row must be accepted)."""
    from points_admin.cli import main as admin

    customers = folder / "customers.csv"
    customers.write_text(
        "customer_id,mobile\n" + "".join(f"{customer_of(n)},9191{customer_of(n)}\n" for n in SIZES)
    )
    if admin(["import-customers", str(customers), "--org", "100737"]) != 0:
        raise RuntimeError("could not load the history customers")
    now = datetime.now(UTC).replace(microsecond=0)
    seconds = 0.0
    for size in SIZES:
        rows = folder / f"allocations-{size}.csv"
        with rows.open("w") as out:
            out.write("customer_id,program_id,allocation_id,points,awarded_at,expires_at\n")
            for n in range(size):
                awarded = (now - timedelta(minutes=size - n)).isoformat()
                expires = (now + timedelta(days=1, minutes=n)).isoformat()
                out.write(f"{customer_of(size)},973,H{size}-{n},{POINTS_EACH},{awarded},{expires}\n")
        started = time.perf_counter()
        if admin(["import-allocations", str(rows), "--org", "100737"]) != 0:
            raise RuntimeError(f"the import of {size:,} allocations did not accept every row")
        if size == SIZES[-1]:
            seconds = time.perf_counter() - started
    return seconds


def measure(
    event_for: Callable[[str, int], tuple[str, dict[str, Any]]],
    environment: Callable[[str], Any],
    context: Any,
    meter: Meter,
    requests: int,
) -> dict[str, Any]:
    """Per operation and customer: one warm request metered, then `requests` timed, customers alternated."""
    from benchmarks.__main__ import percentile

    results: dict[str, Any] = {}
    for operation in ("isredeemable", "redeem", "reverse"):
        module_name, _ = event_for(operation, SIZES[0])
        with environment(operation):
            module = importlib.import_module(module_name)
            figures: dict[int, dict[str, Any]] = {}
            for size in SIZES:
                module.lambda_handler(event_for(operation, size)[1], context)  # warm
                meter.reset()
                answer = module.lambda_handler(event_for(operation, size)[1], context)
                check(operation, answer)
                figures[size] = counted(meter)
            times: dict[int, list[float]] = {size: [] for size in SIZES}
            for index in range(requests):
                for size in SIZES if index % 2 == 0 else SIZES[::-1]:
                    event = event_for(operation, size)[1]
                    meter.reset()
                    started = time.perf_counter()
                    module.lambda_handler(event, context)
                    times[size].append((time.perf_counter() - started - meter.peek_seconds) * 1000)
            for size in SIZES:
                figures[size]["p50_ms"] = percentile(times[size], 0.5)
        results[operation] = figures
    return results


def counted(meter: Meter) -> dict[str, Any]:
    return {
        "round_trips": sum(meter.calls.values()),
        "calls": dict(meter.calls),
        "items_read": meter.items_read,
        "bytes_read": meter.bytes_read,
        "items_written": meter.items_written,
        "bytes_written": meter.bytes_written,
        "rcu": meter.read_units,
        "wcu": meter.write_units,
    }


def check(operation: str, answer: dict[str, Any]) -> None:
    """A measured request did what it measures (an error answer does little work and would flatter)."""
    body = json.loads(answer["body"])
    if operation == "reverse":
        ok = answer["statusCode"] == 200 and not body.get("errors")
    elif operation == "redeem":
        ok = body["response"]["responses"]["points"]["item_status"]["code"] == 800
    else:
        ok = body["response"]["points"]["redeemable"]["is_redeemable"] in (True, "true")
    if not ok:
        raise RuntimeError(f"history {operation}: not a success: {answer['body'][:300]}")


ROWS = (
    ("round trips", "round_trips", "{:.0f}"),
    ("items read", "items_read", "{:.0f}"),
    ("bytes read", "bytes_read", "{:,.0f}"),
    ("items written", "items_written", "{:.0f}"),
    ("bytes written", "bytes_written", "{:,.0f}"),
    ("RCU", "rcu", "{:.1f}"),
    ("WCU", "wcu", "{:.0f}"),
    ("handler p50 ms", "p50_ms", "{:.2f}"),
)
"""The figures of one metered request, as `counted` and the timing name them, and how each is printed."""
WRITES = ("items_written", "bytes_written", "wcu")


def report(results: dict[str, Any], import_seconds: float, crossing: dict[str, Any], out: TextIO) -> None:
    print("\n== wallet history ==", file=out)
    print(
        f"  import of {SIZES[-1]:,} allocations for one customer: {import_seconds:.1f} s "
        f"({SIZES[-1] / import_seconds:,.0f} rows/s, every row accepted)",
        file=out,
    )
    header = "".join(f"{size:>12,}" for size in SIZES)
    ratios = f"{SIZES[-1]:,} / {SIZES[0]}  most / {SIZES[0]}"
    print(f"  {'lifetime allocations':<34}{header}  {ratios}", file=out)
    for operation, figures in results.items():
        for label, key, shape in ROWS:
            values = [figures[size][key] for size in SIZES]
            if operation == "isredeemable" and key in WRITES:
                continue
            last, most = (
                (values[-1] / values[0], max(values) / values[0]) if values[0] else (float("nan"),) * 2
            )
            cells = "".join(f"{shape.format(value):>12}" for value in values)
            print(f"  {operation + ' ' + label:<34}{cells}  {last:>11.2f}  {most:>9.2f}", file=out)
    for size in (SIZES[0], SIZES[-1]):
        cost = cost_per_million(results["redeem"][size])
        print(
            f"  cost per million redemptions ({size:,} allocations): ${cost['total']:.2f} = DynamoDB "
            f"${cost['dynamodb']:.2f} + Lambda ${cost['lambda']:.2f} + API Gateway "
            f"${cost['api_gateway']:.2f}",
            file=out,
        )
    print(
        f"  redeem of {CROSSING_POINTS:,} points into the pages ({SIZES[-1]:,}): "
        f"{crossing['round_trips']} round trips {crossing['calls']}, items read {crossing['items_read']} "
        f"({crossing['bytes_read']:,} B), written {crossing['items_written']} "
        f"({crossing['bytes_written']:,} B), "
        f"RCU {crossing['rcu']:.1f} WCU {crossing['wcu']:.0f}",
        file=out,
    )


def run(stack: Any, requests: int, out: TextIO) -> dict[str, Any]:
    """The scenario against the local stack, its handlers imported in this process (as `make bench`'s
    other scenarios)."""
    from benchmarks.__main__ import (
        METER,
        SCENARIOS,
        Context,
        function_environment,
        proxy_event,
        redeem_body,
        reverse_body,
    )
    from points_core.aws.clients import dynamodb_client

    by_name = {scenario.name: scenario for scenario in SCENARIOS}
    functions = {"isredeemable": "isredeemable", "redeem": "redeem", "reverse": "reverse"}
    redemptions: dict[int, str] = {}

    def environment(operation: str) -> Any:
        scenario = by_name[functions[operation]]
        return function_environment(stack.environment(scenario.function_id))

    def event_for(operation: str, size: int) -> tuple[str, dict[str, Any]]:
        return event_of(operation, customer_of(size))

    def event_of(operation: str, customer: int) -> tuple[str, dict[str, Any]]:
        scenario = by_name[functions[operation]]
        if operation == "isredeemable":
            return scenario.module, proxy_event(
                scenario, {"format": "json", "id": str(customer), "points": str(REDEEMED)}
            )
        if operation == "redeem":
            body = redeem_body(REDEEMED, {"id": str(customer)})
            return scenario.module, proxy_event(scenario, {"format": "json", "skip_validation": "true"}, body)
        body = reverse_body(1, customer, redemption_id=redemptions.get(customer, ""))
        return scenario.module, proxy_event(scenario, {}, body)

    with environment("redeem"):
        earner = aging.load_earner(100737)
        import_seconds = load(Path(tempfile.mkdtemp()))
        redeem = importlib.import_module(by_name["redeem"].module)
        for size in SIZES:
            body = redeem_body(REDEEMED_FOR_REVERSAL, {"id": str(customer_of(size))})
            event = proxy_event(by_name["redeem"], {"format": "json", "skip_validation": "true"}, body)
            answer = json.loads(redeem.lambda_handler(event, Context())["body"])["response"]["responses"]
            redemptions[customer_of(size)] = answer["points"]["redemption_id"]
    meter = METER.attach(dynamodb_client())
    results = measure(event_for, environment, Context(), meter, requests)
    with environment("redeem"):
        body = redeem_body(CROSSING_POINTS, {"id": str(customer_of(SIZES[-1]))})
        event = proxy_event(by_name["redeem"], {"format": "json", "skip_validation": "true"}, body)
        for _ in range(100):
            meter.reset()
            answer = redeem.lambda_handler(event, Context())
            check("redeem", answer)
            crossing = counted(meter)
            if "Query" in meter.calls:
                break
    report(results, import_seconds, crossing, out)
    largest = customer_of(SIZES[-1])
    aged = aging.run(event_of, environment, Context(), meter, requests, earner, largest, SIZES[-1])
    aging.report(aged, {operation: results[operation][SIZES[0]] for operation in results}, out)
    return {
        "import_seconds": import_seconds,
        "operations": results,
        "crossing_redemption": crossing,
        "aged_wallets": aged,
    }
