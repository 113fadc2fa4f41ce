"""`make bench`. Starts the local stack with the demo data, then measures, per endpoint scenario:

1. AWS round trips (DynamoDB's, Secrets Manager's) and read capacity per request (cold, then warm), by
   request variant;
2. cold init of the function module against a bare `import boto3` plus one client, in fresh processes (for
   the authorizer, the import and the first call of each credential scheme, Basic and OAuth);
3. warm handler time per request and its overhead (handler time minus time spent waiting on AWS), and for
   isredeemable and redeem the same with `format=xml` (XML bodies), alternated with the JSON requests (for
   the authorizer, Basic and OAuth alternated, each call uncached; for the token function, this only);
4. requests per second through the local stack's HTTP front door with concurrent clients;

then the wallet history scenario (`benchmarks/history.py`): what a customer's history costs; and the group
redemption scenario (`benchmarks/groups.py`): what drawing from 2, 10 and the most members costs.
"""

from __future__ import annotations

import argparse
import base64
import importlib
import inspect
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
import uuid
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TextIO
from urllib.parse import urlencode
from xml.sax.saxutils import escape

from benchmarks import groups, history
from benchmarks.meter import Meter

ROOT = Path(__file__).resolve().parent.parent
METER = Meter()
"""The run's meter, attached once to each client the handlers use (attaching again changes nothing)."""
TILL = "demo.till"
TILL_PASSWORD_MD5 = "66ec77491ae1b96f2325d8fd3ea002d3"  # md5("demo-till-password")
BASIC_AUTHORIZATION = "Basic " + base64.b64encode(f"{TILL}:{TILL_PASSWORD_MD5}".encode()).decode()
DEMO_OAUTH_CLIENT = {"key": "demo-pos-client", "secret": "demo-pos-client-secret"}  # demo/org.yaml
OAUTH_TOKEN_HEADER = "X-CAP-API-OAUTH-TOKEN"
AUTHORIZER_CONTEXT = {"principalId": TILL, "org_id": "100737", "till_id": TILL, "store_id": "501"}


def redeem_body(points: int, customer: dict[str, str], reference: str = "") -> str:
    item: dict[str, Any] = {"points_redeemed": points, "customer": customer}
    if reference:
        item["external_reference_number"] = reference
    return json.dumps({"root": {"redeem": item}})


def xml_body(json_body: str) -> str:
    """The XML a client sends for a JSON body: `{"root": {"redeem": {...}}}` is `<root><redeem>...</redeem>
    </root>`, a list its element repeated (how `points_core.capillary.xml_bodies` reads it back)."""

    def element(name: str, value: Any) -> str:
        if isinstance(value, list):
            return "".join(element(name, item) for item in value)
        inner = (
            "".join(element(key, item) for key, item in value.items())
            if isinstance(value, dict)
            else escape(str(value))
        )
        return f"<{name}>{inner}</{name}>"

    return "".join(element(name, value) for name, value in json.loads(json_body).items())


def reverse_body(points: int, customer: int, *, redemption_id: str = "", reference: str = "") -> str:
    body: dict[str, Any] = {}
    if redemption_id:
        body["redemptionId"] = redemption_id
    if reference:
        body["externalReferenceNumber"] = reference
    body |= {"pointsToBeReversed": points, "identifier": {"type": "ID", "value": str(customer)}}
    return json.dumps(body)


@dataclass(frozen=True)
class Scenario:
    name: str
    function_id: str
    module: str
    method: str
    path: str
    variants: dict[str, dict[str, str]]
    """Request variants by name: query parameters over the demo data."""
    bodies: dict[str, str] | Callable[[], dict[str, str]] | None = None
    """For a POST: the body of each variant (or a function giving them, once `prepare` has run)."""
    org_overrides: dict[str, Any] | None = None
    """Changes to the demo org's configuration for this scenario (applied with the operator tool)."""
    load: Callable[[int], tuple[dict[str, str], str | None]] | None = None
    """The n-th request of the throughput run (default: the variants in turn)."""
    prepare: Callable[[], None] | None = None
    """Data the scenario needs beyond the demo (loaded with the operator tool)."""
    xml_too: bool = False
    """Warm handler time with `format=xml` too (a body sent as `text/xml`), each request alternated with the
    same request in JSON, so that the two formats are measured in the same run under the same noise."""
    event: Callable[[Scenario, str], dict[str, Any]] | None = None
    """A variant's event (default: API Gateway's proxy event of its query and body)."""
    environment: dict[str, str] | None = None
    """Changes to the function's environment for this scenario."""
    by_variant: bool = False
    """Each variant measured on its own, the variants alternated: its cold round trips (nothing cached before
    its first call), its cold init with its first call in fresh processes, its warm handler time."""
    warm_label: str = "warm handler time"
    through_stack: bool = True
    """Requests per second through the local stack (not the authorizer's: every other scenario's pass it)."""
    only_handler_time: bool = False
    """Only the warm handler time, one line: no cold init, no local stack (where each request is slow)."""
    max_requests: int | None = None
    """At most this many warm requests (of each variant, `by_variant`) where each one is slow."""
    max_cold_runs: int | None = None
    """At most this many fresh processes per cold figure (of each variant, `by_variant`)."""


SCENARIOS = [
    Scenario(
        name="isredeemable",
        function_id="IsRedeemableFunction",
        module="functions.is_redeemable.app",
        method="GET",
        path="/v1.1/points/isredeemable",
        variants={
            "by mobile, redeemable": {"format": "json", "mobile": "919000000001", "points": "100"},
            "by customer id": {"format": "json", "id": "1001", "points": "100"},
            "by mobile, rejected (818)": {"format": "json", "mobile": "919000000006", "points": "100"},
            "unknown customer (816)": {"format": "json", "mobile": "919999999999", "points": "100"},
        },
        xml_too=True,
    ),
    Scenario(
        name="validationcode",
        function_id="ValidationCodeFunction",
        module="functions.validation_code.app",
        method="GET",
        path="/v1.1/points/validationcode",
        variants={
            "first code, by mobile": {"format": "json", "mobile": "919000000002", "points": "100"},
            "same code again": {"format": "json", "mobile": "919000000002", "points": "100"},
            "by customer id": {"format": "json", "id": "1001", "points": "100"},
            "unknown customer (816)": {"format": "json", "mobile": "919999999999", "points": "100"},
        },
        # Measure sending, not the send limit: one SMS, and a limit the run cannot reach.
        org_overrides={"otp": {"channels": "sms", "max_sends": 1000, "window_minutes": 1}},
    ),
    Scenario(
        name="redeem",
        function_id="RedeemFunction",
        module="functions.redeem.app",
        method="POST",
        path="/v1.1/points/redeem",
        variants={
            "by mobile, validation skipped": {"format": "json", "skip_validation": "true"},
            "by customer id, with a reference": {"format": "json", "skip_validation": "true"},
            "more than the balance (818)": {"format": "json", "skip_validation": "true"},
        },
        bodies={
            "by mobile, validation skipped": redeem_body(1, {"mobile": "919000000002"}),
            "by customer id, with a reference": redeem_body(1, {"id": "1002"}, reference="%s"),
            "more than the balance (818)": redeem_body(20000, {"id": "1002"}),
        },
        load=lambda n: (
            {"format": "json", "skip_validation": "true"},
            redeem_body(10, {"id": str(BENCH_FIRST_CUSTOMER + n % BENCH_CUSTOMERS)}),
        ),
        prepare=lambda: load_bench_customers(),  # noqa: PLW0108 - defined below the scenarios
        xml_too=True,
    ),
    Scenario(
        name="reverse",
        function_id="RevertFunction",
        module="functions.revert.app",
        method="POST",
        path="/v2/points/reverse",
        variants={
            "partial, by redemption id": {},
            "partial, by external reference": {},
            "more than is left (3801)": {},
            "another customer's redemption (3803)": {},
        },
        # The redemptions to reverse exist once `prepare` has made them.
        bodies=lambda: {
            "partial, by redemption id": bench_reversal(1, BENCH_FIRST_CUSTOMER),
            "partial, by external reference": reverse_body(
                1, BENCH_FIRST_CUSTOMER + 1, reference=bench_reference(BENCH_FIRST_CUSTOMER + 1)
            ),
            "more than is left (3801)": bench_reversal(
                BENCH_REDEEMED_FOR_REVERSAL + 1, BENCH_FIRST_CUSTOMER + 2
            ),
            "another customer's redemption (3803)": bench_reversal(
                1, BENCH_FIRST_CUSTOMER, customer=BENCH_FIRST_CUSTOMER + 3
            ),
        },
        load=lambda n: ({}, bench_reversal(1, BENCH_FIRST_CUSTOMER + n % BENCH_CUSTOMERS)),
        prepare=lambda: redeem_for_reversal(),  # noqa: PLW0108 - defined below the scenarios
    ),
    Scenario(
        name="oauth token",
        function_id="OauthTokenFunction",
        module="functions.oauth_token.app",
        method="POST",
        path="/v3/oauth/token/generate",
        variants={"demo client": {}},
        bodies={"demo client": json.dumps(DEMO_OAUTH_CLIENT)},
        only_handler_time=True,
        max_requests=20,  # a slow hash (scrypt) each
    ),
    Scenario(
        name="authorizer",
        function_id="AuthorizerFunction",
        module="functions.authorizer.app",
        # The request authorized: its route, query and a credential of each scheme.
        method="GET",
        path="/v1.1/points/isredeemable",
        variants={
            "Basic": {"format": "json", "mobile": "919000000001", "points": "100"},
            "OAuth token": {"format": "json", "mobile": "919000000001", "points": "100"},
        },
        event=lambda scenario, variant: authorizer_event(scenario, variant),  # noqa: PLW0108 - below
        prepare=lambda: issue_bench_token(),  # noqa: PLW0108 - defined below the scenarios
        # Every call checked, as one not in the container's cache of verified tills (AuthorizerCacheSeconds).
        environment={"AUTHORIZER_CACHE_SECONDS": "0"},
        by_variant=True,
        warm_label="warm handler time, uncached",
        through_stack=False,
        max_requests=60,  # Basic: a slow hash (scrypt) each
        max_cold_runs=5,
    ),
]

BENCH_FIRST_CUSTOMER = 900001
BENCH_CUSTOMERS = 50
BENCH_REDEEMED_FOR_REVERSAL = 5000
"""What each benchmark customer redeems for the reverse scenario to give back a point at a time (the most the
demo program allows in one redemption)."""
BENCH_REDEMPTIONS: dict[int, str] = {}
"""The redemption id of each benchmark customer's redemption for reversal, once `redeem_for_reversal` ran."""


BENCH_CREDENTIALS: dict[str, dict[str, str]] = {"Basic": {"Authorization": BASIC_AUTHORIZATION}}
"""The demo till's credential headers by authorizer variant; the OAuth token once `issue_bench_token` ran."""


API_ARN = "arn:aws:execute-api:eu-west-1:123456789012:bench"


def authorizer_event(scenario: Scenario, variant: str) -> dict[str, Any]:
    """API Gateway's REQUEST authorizer event for the scenario's request with the variant's credential."""
    query = scenario.variants[variant]
    return {
        "type": "REQUEST",
        "methodArn": f"{API_ARN}/prod/{scenario.method}{scenario.path}",
        "resource": scenario.path,
        "path": scenario.path,
        "httpMethod": scenario.method,
        "headers": {"Accept": "application/json", **BENCH_CREDENTIALS[variant]},
        "queryStringParameters": query,
        "multiValueQueryStringParameters": {name: [value] for name, value in query.items()},
        "requestContext": {"requestId": "bench", "stage": "prod", "resourcePath": scenario.path},
    }


def issue_bench_token() -> None:
    """An access token of the demo OAuth client, from the token handler: the authorizer's OAuth variant."""
    token = next(scenario for scenario in SCENARIOS if scenario.name == "oauth token")
    module = importlib.import_module(token.module)
    response = module.lambda_handler(variant_event(token, next(iter(token.variants))), Context())
    if response["statusCode"] != 200:
        raise RuntimeError(f"no access token for the benchmark: {response['body'][:300]}")
    token_value = json.loads(response["body"])["data"]["accessToken"]
    BENCH_CREDENTIALS["OAuth token"] = {OAUTH_TOKEN_HEADER: token_value}


def bench_reference(customer: int) -> str:
    return f"BENCH-REVERSE-{customer}"


def bench_reversal(points: int, owner: int, customer: int | None = None) -> str:
    """Reversing `points` of `owner`'s redemption for reversal, by its id, as `customer` (or the owner)."""
    return reverse_body(points, customer or owner, redemption_id=BENCH_REDEMPTIONS[owner])


def load_bench_customers() -> None:
    """Customers of the benchmark's own, with points enough for every run, loaded with the operator tool."""
    import tempfile

    from points_admin.cli import main as admin

    folder = Path(tempfile.mkdtemp())
    ids = range(BENCH_FIRST_CUSTOMER, BENCH_FIRST_CUSTOMER + BENCH_CUSTOMERS)
    (folder / "customers.csv").write_text(
        "customer_id,mobile\n" + "".join(f"{customer},9190{customer}\n" for customer in ids)
    )
    (folder / "allocations.csv").write_text(
        "customer_id,program_id,allocation_id,points,awarded_at,expires_at\n"
        + "".join(f"{customer},973,BENCH-{customer},1000000,2026-01-01T00:00:00+00:00,\n" for customer in ids)
    )
    for command, name in (("import-customers", "customers.csv"), ("import-allocations", "allocations.csv")):
        if admin([command, str(folder / name), "--org", "100737"]) != 0:
            raise RuntimeError(f"could not load the benchmark's {name}")


def redeem_for_reversal() -> None:
    """A redemption of every benchmark customer's to reverse, with a reference, made by the redeem handler."""
    load_bench_customers()
    redeem = next(scenario for scenario in SCENARIOS if scenario.name == "redeem")
    module = importlib.import_module(redeem.module)
    for customer in range(BENCH_FIRST_CUSTOMER, BENCH_FIRST_CUSTOMER + BENCH_CUSTOMERS):
        body = redeem_body(BENCH_REDEEMED_FOR_REVERSAL, {"id": str(customer)}, bench_reference(customer))
        event = proxy_event(redeem, {"format": "json", "skip_validation": "true"}, body)
        response = module.lambda_handler(event, Context())
        answer = json.loads(response["body"])["response"]["responses"]["points"]
        if "redemption_id" not in answer:
            raise RuntimeError(
                f"could not redeem for the benchmark's reversals (customer {customer}): "
                f"{answer['item_status']}"
            )
        BENCH_REDEMPTIONS[customer] = answer["redemption_id"]


def apply_org_overrides(overrides: dict[str, Any], usage_plan_id: str | None) -> None:
    """The demo org with `overrides` merged in, applied through the operator tool like `make run` does (its
    tills' API keys kept in the stack's usage plan)."""
    import tempfile

    import yaml

    from points_admin.cli import main as admin

    document = yaml.safe_load((ROOT / "demo" / "org.yaml").read_text(encoding="utf-8"))
    for section, values in overrides.items():
        document[section] = {**document.get(section, {}), **values}
    with tempfile.NamedTemporaryFile("w", suffix=".yaml", delete=False) as changed:
        yaml.safe_dump(document, changed)
    plan = ["--usage-plan-id", usage_plan_id] if usage_plan_id else []
    if admin([*plan, "apply-config", changed.name]) != 0:
        raise RuntimeError("could not apply the benchmark's org configuration")
    Path(changed.name).unlink()


def proxy_event(
    scenario: Scenario, query: dict[str, str], body: str | None = None, wire_format: str = "json"
) -> dict[str, Any]:
    """API Gateway's event for a request in `wire_format` (json or xml): its Accept, and its body's type."""
    headers = {"Accept": f"application/{wire_format}"}
    if body is not None:
        headers["Content-Type"] = "text/xml" if wire_format == "xml" else "application/json"
    return {
        "resource": scenario.path,
        "path": scenario.path,
        "httpMethod": scenario.method,
        "headers": headers,
        "multiValueHeaders": {},
        "queryStringParameters": query,
        "multiValueQueryStringParameters": {name: [value] for name, value in query.items()},
        "pathParameters": None,
        "stageVariables": None,
        "requestContext": {
            "requestId": "bench",
            "stage": "prod",
            "resourcePath": scenario.path,
            "httpMethod": scenario.method,
            "identity": {"sourceIp": "127.0.0.1"},
            "authorizer": AUTHORIZER_CONTEXT,
        },
        "body": body,
        "isBase64Encoded": False,
    }


class Context:
    function_name = "bench"
    function_version = "$LATEST"
    memory_limit_in_mb = 512
    invoked_function_arn = "arn:aws:lambda:eu-west-1:123456789012:function:bench"
    aws_request_id = "bench"

    @staticmethod
    def get_remaining_time_in_millis() -> int:
        return 10_000


def percentile(samples: list[float], fraction: float) -> float:
    ordered = sorted(samples)
    return ordered[min(len(ordered) - 1, int(fraction * len(ordered)))]


@contextmanager
def output_captured(log: Path) -> Iterator[TextIO]:
    """Send this process's stdout and stderr, and so those of every process it starts, to `log`.

    The handlers (in-process and in the local stack's workers), Powertools, moto, boto and Python's warnings
    all write there; the figures go to the stream yielded, the real stdout. Captured at the file descriptors,
    so that output from spawned workers and from streams bound before (a logger's handler) is caught too.
    """
    for stream in (sys.stdout, sys.stderr):
        stream.flush()
    saved = {descriptor: os.dup(descriptor) for descriptor in (1, 2)}
    with log.open("ab") as sink:
        for descriptor in saved:
            os.dup2(sink.fileno(), descriptor)
    figures = os.fdopen(os.dup(saved[1]), "w", buffering=1, encoding="utf-8")
    try:
        yield figures
    finally:
        for stream in (sys.stdout, sys.stderr, figures):
            stream.flush()
        for descriptor, original in saved.items():
            os.dup2(original, descriptor)
            os.close(original)
        figures.close()


@contextmanager
def function_environment(environment: dict[str, str]) -> Iterator[None]:
    """The function's environment, its settings (and what is made of them) read afresh as in its container."""
    from points_core.aws.settings import get_settings
    from points_core.services.credentials import verified_credentials

    saved = dict(os.environ)
    os.environ.update(environment)
    os.environ["POWERTOOLS_LOG_LEVEL"] = "WARNING"
    # No metric flushed after each request. Powertools 3.37 still prints a metric that reaches 100 values
    # (`add_metric` does not check this switch): `output_captured` keeps that out of the figures.
    os.environ["POWERTOOLS_METRICS_DISABLED"] = "true"
    get_settings.cache_clear()
    verified_credentials.cache_clear()
    try:
        yield
    finally:
        os.environ.clear()
        os.environ.update(saved)
        get_settings.cache_clear()
        verified_credentials.cache_clear()


def variant_event(scenario: Scenario, variant: str, wire_format: str = "json") -> dict[str, Any]:
    """A variant's event; `%s` in its body becomes a fresh reference, so no two requests share one. In xml:
    the same request with `format=xml` and its body in XML."""
    if scenario.event is not None:
        return scenario.event(scenario, variant)
    bodies = scenario.bodies() if callable(scenario.bodies) else scenario.bodies or {}
    body = bodies.get(variant)
    query = scenario.variants[variant]
    if wire_format == "xml":
        query = {**query, "format": "xml"}
        body = xml_body(body) if body else None
    return proxy_event(scenario, query, body.replace("%s", uuid.uuid4().hex) if body else None, wire_format)


def measure_requests(scenario: Scenario, requests: int) -> dict[str, Any]:
    """Round trips, capacity and handler time, with the handler imported in this process."""
    module = importlib.import_module(scenario.module)
    from aws_lambda_powertools.utilities.parameters import SecretsProvider
    from aws_lambda_powertools.utilities.parameters.constants import DEFAULT_PROVIDERS

    from points_core.aws.clients import dynamodb_client
    from points_core.repositories import config_repository

    # The provider Powertools' `get_secret` uses, made here as it makes it, for its calls to be counted too.
    secrets = DEFAULT_PROVIDERS.setdefault("secrets", SecretsProvider())
    # One meter for the whole run: a second one attached to the same client would peek at every write too,
    # and its peeks would count in this one's handler time.
    meter = METER.attach(dynamodb_client()).attach(secrets.client)
    results: dict[str, Any] = {"variants": {}}
    for number, variant in enumerate(scenario.variants):
        first = number == 0 or scenario.by_variant
        if first:
            # Cold: nothing cached yet, whatever this process ran before (a scenario's own preparation too).
            config_repository.cache_clear()
            secrets.clear_cache()
        event = variant_event(scenario, variant)
        meter.reset()
        module.lambda_handler(event, Context())
        cold = {"round_trips": sum(meter.calls.values()), "calls": dict(meter.calls)} if first else None
        meter.reset()
        answer = module.lambda_handler(variant_event(scenario, variant), Context())
        results["variants"][variant] = {
            "warm_round_trips": sum(meter.calls.values()),
            "warm_calls": dict(meter.calls),
            "warm_read_units": meter.read_units,
            "warm_write_units": meter.write_units,
            **({"cold": cold} if cold else {}),
        }
        if scenario.xml_too:
            check_xml_variant(scenario, variant, module, meter, answer)
    variants = list(scenario.variants)
    # What is timed apart: each variant, or each format over the variants in turn.
    if scenario.by_variant:
        series, round_length = variants, 1
    else:
        series, round_length = ["json", "xml"] if scenario.xml_too else ["json"], len(variants)

    def nth(name: str, index: int) -> dict[str, Any]:
        if scenario.by_variant:
            return variant_event(scenario, name)
        return variant_event(scenario, variants[index % len(variants)], name)

    handler_ms: dict[str, list[float]] = {name: [] for name in series}
    overhead_ms: dict[str, list[float]] = {name: [] for name in series}
    for index in range(requests):
        # The n-th request of each series, one after the other; which goes first flips every round (of the
        # variants, for formats), so that none is always the one measured right after another.
        for name in series if index // round_length % 2 == 0 else series[::-1]:
            event = nth(name, index)
            meter.reset()
            started = time.perf_counter()
            module.lambda_handler(event, Context())
            # The meter's own reads (of each written item, to size it) are the bench's, not the handler's.
            elapsed = time.perf_counter() - started - meter.peek_seconds
            handler_ms[name].append(elapsed * 1000)
            overhead_ms[name].append((elapsed - meter.aws_seconds) * 1000)
    by_series = {
        name: {
            "warm_handler_ms": {"p50": percentile(handler, 0.5), "p95": percentile(handler, 0.95)},
            "warm_overhead_ms": {
                "p50": percentile(overhead_ms[name], 0.5),
                "p95": percentile(overhead_ms[name], 0.95),
            },
        }
        for name, handler in handler_ms.items()
    }
    if scenario.by_variant:
        for variant in variants:
            results["variants"][variant] |= by_series[variant]
        return results
    by_format = by_series
    results |= by_format["json"]
    if scenario.xml_too:
        xml = by_format["xml"]
        for figure in ("handler", "overhead"):
            json_p50 = results[f"warm_{figure}_ms"]["p50"]
            xml[f"{figure}_p50_ratio_to_json"] = xml[f"warm_{figure}_ms"]["p50"] / json_p50
        results["xml"] = xml
    return results


def check_xml_variant(
    scenario: Scenario, variant: str, module: Any, meter: Meter, json_answer: dict[str, Any]
) -> None:
    """The variant in XML is the same request: the same HTTP status, the same DynamoDB round trips, an XML
    answer. Otherwise an XML body the handler misread (a 400 does little work) would make XML look cheap."""
    warm = sum(meter.calls.values())
    meter.reset()
    answer = module.lambda_handler(variant_event(scenario, variant, "xml"), Context())
    headers = {**(answer.get("headers") or {}), **(answer.get("multiValueHeaders") or {})}
    content_type = str({name.lower(): value for name, value in headers.items()}.get("content-type", ""))
    if (
        answer["statusCode"] != json_answer["statusCode"]
        or sum(meter.calls.values()) != warm
        or "xml" not in content_type
    ):
        raise RuntimeError(
            f"{scenario.name}, {variant}: format=xml answered {answer['statusCode']} {content_type} after "
            f"{sum(meter.calls.values())} round trips, format=json {json_answer['statusCode']} after {warm}: "
            f"{answer['body'][:300]}"
        )


def _child_seconds(code: str, environment: dict[str, str]) -> list[float]:
    """Seconds `code` reports (on its last line) in a fresh process; what else the process writes is kept out
    of the figures."""
    child = subprocess.run(
        [sys.executable, "-c", code],
        check=False,
        capture_output=True,
        text=True,
        cwd=ROOT,
        env={**os.environ, **environment, "PYTHONPATH": str(ROOT)},
    )
    if child.returncode != 0:
        last_lines = "\n".join(child.stderr.strip().splitlines()[-5:])
        raise RuntimeError(f"{code!r} exited with {child.returncode}:\n{last_lines}")
    return [float(figure) for figure in child.stdout.strip().splitlines()[-1].split()]


def measure_cold_init(scenario: Scenario, environment: dict[str, str], runs: int) -> dict[str, Any]:
    timed = "import time; t = time.perf_counter(); {body}; print(time.perf_counter() - t)"
    baseline = timed.format(body="import boto3; boto3.client('dynamodb')")
    if scenario.by_variant:
        return measure_cold_calls(scenario, environment, runs, baseline)
    function = timed.format(body=f"import {scenario.module}")
    function_s = statistics.median(_child_seconds(function, environment)[0] for _ in range(runs))
    baseline_s = statistics.median(_child_seconds(baseline, environment)[0] for _ in range(runs))
    return {
        "function_module_ms": function_s * 1000,
        "boto3_plus_client_ms": baseline_s * 1000,
        "ratio": function_s / baseline_s,
    }


def measure_cold_calls(
    scenario: Scenario, environment: dict[str, str], runs: int, baseline: str
) -> dict[str, Any]:
    """A cold start of each variant: the import, then the variant's first call, in each fresh process (a
    Lambda container's init and first invocation); the variants and the baseline alternated."""
    samples: dict[str, list[list[float]]] = {variant: [] for variant in scenario.variants}
    baseline_s: list[float] = []
    for run in range(runs):
        for variant in list(samples) if run % 2 == 0 else list(samples)[::-1]:
            code = (
                f"{inspect.getsource(Context)}\n"
                "import time\n"
                "started = time.perf_counter()\n"
                f"import {scenario.module} as function\n"
                "imported = time.perf_counter()\n"
                f"function.lambda_handler({variant_event(scenario, variant)!r}, Context())\n"
                "print(imported - started, time.perf_counter() - imported)\n"
            )
            samples[variant].append(_child_seconds(code, environment))
        baseline_s.append(_child_seconds(baseline, environment)[0])
    boto3_ms = statistics.median(baseline_s) * 1000
    import_ms = statistics.median(imported for calls in samples.values() for imported, _ in calls) * 1000
    variants = {}
    for variant, figures in samples.items():
        imported = statistics.median(imported for imported, _ in figures) * 1000
        first_call = statistics.median(call for _, call in figures) * 1000
        variants[variant] = {
            "function_module_ms": imported,
            "first_call_ms": first_call,
            "ratio": (imported + first_call) / boto3_ms,
        }
    return {
        "function_module_ms": import_ms,
        "boto3_plus_client_ms": boto3_ms,
        "ratio": import_ms / boto3_ms,
        "variants": variants,
    }


def measure_throughput(scenario: Scenario, api_url: str, clients: int, requests: int) -> dict[str, float]:
    variants = list(scenario.variants.values())

    def nth(index: int) -> tuple[dict[str, str], str | None]:
        if scenario.load is not None:
            return scenario.load(index)
        return variants[index % len(variants)], None

    def call(index: int) -> float:
        query, body = nth(index)
        request = urllib.request.Request(
            f"{api_url}{scenario.path}?{urlencode(query)}",
            data=body.encode() if body is not None else None,
            method=scenario.method,
            headers={"Authorization": BASIC_AUTHORIZATION, "Content-Type": "application/json"},
        )
        started = time.perf_counter()
        with urllib.request.urlopen(request, timeout=30) as response:
            response.read()
        return (time.perf_counter() - started) * 1000

    with ThreadPoolExecutor(clients) as pool:
        list(pool.map(call, range(clients * 2)))  # every worker process started and warm
        started = time.perf_counter()
        latencies = list(pool.map(call, range(requests)))
        elapsed = time.perf_counter() - started
    return {
        "clients": clients,
        "requests": requests,
        "requests_per_second": requests / elapsed,
        "latency_p50_ms": percentile(latencies, 0.5),
        "latency_p95_ms": percentile(latencies, 0.95),
    }


def timing_rows(
    scenario: Scenario, figures: dict[str, Any], prefix: str = "", suffix: str = "", note: str = ""
) -> list[tuple[str, str]]:
    handler, overhead = figures["warm_handler_ms"], figures["warm_overhead_ms"]
    return [
        (
            f"{prefix}{scenario.warm_label}{suffix}",
            f"p50 {handler['p50']:.2f} ms, p95 {handler['p95']:.2f} ms (moto, loopback{note})",
        ),
        (
            f"{prefix}handler overhead{suffix}",
            f"p50 {overhead['p50']:.2f} ms, p95 {overhead['p95']:.2f} ms (minus AWS)",
        ),
    ]


def report(scenario: Scenario, results: dict[str, Any], out: TextIO) -> None:
    print(f"\n== {scenario.name} ==", file=out)
    variants = results["requests"]["variants"]
    xml = results["requests"].get("xml")
    suffix = ", format=json" if xml else ""
    if scenario.only_handler_time:
        ((label, text),) = timing_rows(scenario, results["requests"])[:1]
        print(f"  {label}  {text}", file=out)
        return
    rows: list[tuple[str, str]] = []
    for variant, figures in variants.items():
        cold = figures.get("cold")
        cold_text = f"   (cold: {cold['round_trips']} {cold['calls']})" if cold else ""
        rows.append(
            (
                variant,
                f"warm round trips {figures['warm_round_trips']} {figures['warm_calls']}, "
                f"RCU {figures['warm_read_units']:.1f} WCU {figures['warm_write_units']:.0f}{cold_text}",
            )
        )
    if scenario.by_variant:
        for variant, figures in variants.items():
            others = ", ".join(other for other in variants if other != variant)
            rows += timing_rows(scenario, figures, f"{variant}: ", note=f"; alternated with {others}")
    else:
        rows += timing_rows(scenario, results["requests"], suffix=suffix)
    if xml:
        handler, overhead = xml["warm_handler_ms"], xml["warm_overhead_ms"]
        rows.append(
            (
                "warm handler time, format=xml",
                f"p50 {handler['p50']:.2f} ms, p95 {handler['p95']:.2f} ms: XML/JSON p50 "
                f"{xml['handler_p50_ratio_to_json']:.2f} (alternated with JSON)",
            )
        )
        rows.append(
            (
                "handler overhead, format=xml",
                f"p50 {overhead['p50']:.2f} ms, p95 {overhead['p95']:.2f} ms: XML/JSON p50 "
                f"{xml['overhead_p50_ratio_to_json']:.2f}",
            )
        )
    cold = results.get("cold_init")
    if cold and scenario.by_variant:
        for variant, figures in cold["variants"].items():
            rows.append(
                (
                    f"{variant}: cold start",
                    f"import {figures['function_module_ms']:.0f} ms + first call "
                    f"{figures['first_call_ms']:.0f} ms = "
                    f"{figures['function_module_ms'] + figures['first_call_ms']:.0f} ms vs import boto3 + "
                    f"client {cold['boto3_plus_client_ms']:.0f} ms: ratio {figures['ratio']:.2f}",
                )
            )
    elif cold:
        rows.append(
            (
                "cold init",
                f"{cold['function_module_ms']:.0f} ms vs import boto3 + client "
                f"{cold['boto3_plus_client_ms']:.0f} ms: ratio {cold['ratio']:.2f}",
            )
        )
    http = results.get("throughput")
    if http:
        rows.append(
            (
                "local stack",
                f"{http['requests_per_second']:.0f} req/s, {http['clients']} clients, "
                f"{http['requests']} requests: p50 {http['latency_p50_ms']:.0f} ms, "
                f"p95 {http['latency_p95_ms']:.0f} ms",
            )
        )
    width = max(len(label) for label, _ in rows)
    for label, text in rows:
        print(f"  {label:<{width}}  {text}", file=out)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--requests", type=int, default=300, help="warm in-process requests per scenario")
    parser.add_argument("--http-requests", type=int, default=600, help="requests through the local stack")
    parser.add_argument("--clients", type=int, default=8, help="concurrent HTTP clients")
    parser.add_argument("--cold-runs", type=int, default=7, help="fresh processes per cold-start figure")
    parser.add_argument("--json", type=Path, help="also write the figures to this file")
    parser.add_argument(
        "--no-history", dest="history", action="store_false", help="skip the wallet history scenario"
    )
    parser.add_argument(
        "--history-requests", type=int, default=60, help="timed requests per history customer"
    )
    parser.add_argument(
        "--no-groups", dest="groups", action="store_false", help="skip the group redemption scenario"
    )
    parser.add_argument(
        "--group-requests",
        type=int,
        default=20,
        choices=range(1, groups.ALLOCATIONS_EACH - 1),
        metavar=f"1..{groups.ALLOCATIONS_EACH - 2}",
        help="timed requests per group (each redemption uses one allocation of every member)",
    )
    args = parser.parse_args(argv)

    descriptor, name = tempfile.mkstemp(prefix="bench-", suffix=".log")
    os.close(descriptor)
    log = Path(name)
    try:
        with output_captured(log) as figures:
            all_results = run(args, figures)
    except BaseException:
        print(f"the benchmark stopped; what the stack and its handlers wrote is in {log}", file=sys.stderr)
        raise
    log.unlink()
    if args.json:
        args.json.write_text(json.dumps(all_results, indent=2) + "\n")
    return 0


def run(args: argparse.Namespace, figures: TextIO) -> dict[str, Any]:
    """Every scenario measured and reported to `figures` as it completes; returns all the figures."""
    from points_local.stack import LocalStack

    all_results: dict[str, Any] = {}
    # The demo till's requests per second are what is measured: its limit (TillRateLimit) far above them.
    quiet = {"LogLevel": "WARNING", "TillRateLimit": "10000", "TillBurstLimit": "5000"}
    with LocalStack(
        ROOT / "template.yaml", workers_per_function=args.clients, parameter_overrides=quiet
    ) as stack:
        for scenario in SCENARIOS:
            environment = stack.environment(scenario.function_id) | (scenario.environment or {})
            requests = min(args.requests, scenario.max_requests or args.requests)
            cold_runs = min(args.cold_runs, scenario.max_cold_runs or args.cold_runs)
            with function_environment(environment):
                if scenario.org_overrides:
                    apply_org_overrides(scenario.org_overrides, stack.usage_plan_id)
                if scenario.prepare:
                    scenario.prepare()
                results = {"requests": measure_requests(scenario, requests)}
                if not scenario.only_handler_time:
                    results["cold_init"] = measure_cold_init(scenario, environment, cold_runs)
            if scenario.through_stack and not scenario.only_handler_time:
                results["throughput"] = measure_throughput(
                    scenario, stack.api_url, args.clients, args.http_requests
                )
            report(scenario, results, figures)
            all_results[scenario.name] = results
        if args.history:
            all_results["wallet history"] = history.run(stack, args.history_requests, figures)
        if args.groups:
            all_results["group redemption"] = groups.run(stack, args.group_requests, figures)
    return all_results


if __name__ == "__main__":
    raise SystemExit(main())
