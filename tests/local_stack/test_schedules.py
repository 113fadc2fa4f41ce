"""`Type: Schedule` events: fired on their rate with EventBridge's scheduled event, or now on request."""

from __future__ import annotations

import re
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Iterator, Mapping
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from points_local.__main__ import banner
from points_local.functions import InvocationResult
from points_local.schedules import Scheduler, scheduled_event
from points_local.stack import LocalStack
from points_local.template import ScheduleSpec
from tests.factories import SCHEDULED_EVENT_KEYS
from tests.http_json import send

REGION = "eu-west-1"


def _function(function_id: str, handler: str, event: str, event_type: str, properties: str) -> str:
    """A function of TEMPLATE with one event; `properties`: the inside of the event's Properties mapping."""
    return f"""\
  {function_id}:
    Type: AWS::Serverless::Function
    Properties:
      Handler: app.{handler}
      Events:
        {event}:
          Type: {event_type}
          Properties: {{{properties}}}
"""


TEMPLATE = """\
Globals:
  Function:
    Runtime: python3.13
    CodeUri: handlers/
    Timeout: 3
Resources:
""" + "".join(
    [
        _function("TickFunction", "tick", "EveryMinute", "Schedule", "Schedule: rate(1 minute)"),
        _function("PausedFunction", "tick", "Daily", "Schedule", "Schedule: rate(1 day), Enabled: false"),
        _function("BrokenFunction", "broken", "Hourly", "Schedule", "Schedule: rate(1 hour)"),
        _function("PingFunction", "tick", "Ping", "Api", "Path: /ping, Method: GET"),
    ]
)

HANDLERS = """\
import os


def tick(event, context):
    return {"pid": os.getpid(), "function": context.function_name, "event": event}


def broken(event, context):
    raise RuntimeError("cleanup failed")
"""


def _write_app(root: Path, template: str = TEMPLATE) -> Path:
    (root / "handlers").mkdir(parents=True, exist_ok=True)
    (root / "handlers" / "app.py").write_text(HANDLERS)
    (root / "template.yaml").write_text(template)
    return root / "template.yaml"


def _assert_scheduled_event(event: Mapping[str, Any], rule_name: str) -> None:
    assert set(event) == SCHEDULED_EVENT_KEYS
    assert event["version"] == "0"
    assert re.fullmatch(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}", event["id"])
    assert (event["detail-type"], event["source"], event["detail"]) == ("Scheduled Event", "aws.events", {})
    assert (event["account"], event["region"]) == ("123456789012", REGION)
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ", event["time"])
    assert event["resources"] == [f"arn:aws:events:{REGION}:123456789012:rule/{rule_name}"]


# --- the scheduler on its own ---------------------------------------------------------------------------


def _spec(
    function_id: str, period_seconds: float, *, enabled: bool = True, input: Any = None
) -> ScheduleSpec:
    return ScheduleSpec(
        function_id=function_id,
        event_id="Every",
        expression="rate(test)",
        period_seconds=period_seconds,
        enabled=enabled,
        rule_name=f"{function_id}Every",
        input=input,
    )


class Invocations:
    """Stands in for the function pools: records each invocation when it starts."""

    def __init__(self, seconds_each: float = 0.0) -> None:
        self.seconds_each = seconds_each
        self.started: list[tuple[str, float, Mapping[str, Any]]] = []
        self._lock = threading.Lock()

    def invoke(self, function_id: str, event: Mapping[str, Any]) -> InvocationResult:
        with self._lock:
            self.started.append((function_id, time.monotonic(), event))
        time.sleep(self.seconds_each)
        return InvocationResult("request-id", payload={"ok": True})

    def count(self) -> int:
        with self._lock:
            return len(self.started)

    def wait_for(self, count: int, seconds: float = 10) -> None:
        deadline = time.monotonic() + seconds
        while self.count() < count:
            assert time.monotonic() < deadline, f"only {self.count()} invocations, expected {count}"
            time.sleep(0.02)


def test_enabled_schedules_fire_one_period_after_start_and_then_every_period() -> None:
    # Given
    invocations = Invocations()
    scheduler = Scheduler(
        [_spec("Ticker", 0.2), _spec("Paused", 0.2, enabled=False)], invocations.invoke, region=REGION
    )

    # When
    started = time.monotonic()
    scheduler.start()
    try:
        invocations.wait_for(3)
    finally:
        scheduler.stop()
    fired = invocations.count()
    time.sleep(0.5)

    # Then: never the disabled one, nothing after stop
    assert {function_id for function_id, _, _ in invocations.started} == {"Ticker"}
    assert invocations.started[0][1] - started >= 0.2
    assert invocations.count() == fired
    _assert_scheduled_event(invocations.started[0][2], "TickerEvery")


def test_a_long_invocation_does_not_delay_the_next_one() -> None:
    # Given: each invocation takes 1 s, the rate is 0.2 s
    invocations = Invocations(seconds_each=1.0)
    scheduler = Scheduler([_spec("Slow", 0.2)], invocations.invoke, region=REGION)

    # When
    scheduler.start()
    try:
        invocations.wait_for(3)
    finally:
        scheduler.stop()

    # Then: the third started while the first was still running
    first, third = invocations.started[0][1], invocations.started[2][1]
    assert third - first < 1.0


def test_the_scheduled_event_is_eventbridges() -> None:
    event = scheduled_event(_spec("Cleanup", 300), REGION, datetime(2026, 3, 4, 5, 6, 7, 890, tzinfo=UTC))

    _assert_scheduled_event(event, "CleanupEvery")
    assert event["time"] == "2026-03-04T05:06:07Z"


def test_a_rule_with_a_constant_input_sends_it_instead() -> None:
    event = scheduled_event(_spec("Cleanup", 300, input={"mode": "dry-run"}), REGION, datetime.now(UTC))

    assert event == {"mode": "dry-run"}


# --- on a running stack ---------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LocalStack]:
    template = _write_app(tmp_path_factory.mktemp("scheduled-app"))
    with LocalStack(template, port=0, load_demo=False, workers_per_function=1) as running:
        yield running


def _post(stack: LocalStack, path: str, method: str = "POST") -> tuple[int, Any, Any]:
    reply = send(urllib.request.Request(stack.api_url + path, method=method))
    return reply.status, reply.headers, reply.body


@pytest.mark.e2e
def test_run_schedule_invokes_the_function_with_a_scheduled_event(stack: LocalStack) -> None:
    # When
    result = stack.run_schedule("TickFunction")

    # Then
    assert result.ok, result.error
    assert result.payload["function"] == "TickFunction"
    _assert_scheduled_event(result.payload["event"], "TickFunctionEveryMinute")


@pytest.mark.e2e
def test_scheduled_invocations_use_the_functions_worker_pool(stack: LocalStack) -> None:
    # Given: one worker per function
    direct = stack.invoke("TickFunction", {})

    # When
    scheduled = stack.run_schedule("TickFunction")

    # Then: the same warm worker served both
    assert scheduled.payload["pid"] == direct.payload["pid"]
    assert scheduled.init_duration_ms is None


@pytest.mark.e2e
def test_a_schedule_runs_now_over_http_and_answers_the_result(stack: LocalStack) -> None:
    # When: no Authorization header, and no authorizer in the way
    status, headers, body = _post(stack, "/_local/schedules/TickFunction")

    # Then
    assert status == 200
    assert headers["Content-Type"] == "application/json"
    assert headers["x-amzn-RequestId"]
    assert body["function"] == "TickFunction"
    _assert_scheduled_event(body["event"], "TickFunctionEveryMinute")


@pytest.mark.e2e
def test_a_disabled_schedule_does_not_fire_but_runs_on_request(stack: LocalStack) -> None:
    paused = next(schedule for schedule in stack.schedules if schedule.function_id == "PausedFunction")

    status, _, body = _post(stack, "/_local/schedules/PausedFunction/Daily")

    assert not paused.enabled
    assert status == 200
    assert body["event"]["resources"] == [f"arn:aws:events:{REGION}:123456789012:rule/PausedFunctionDaily"]


@pytest.mark.e2e
def test_a_failing_scheduled_function_answers_its_error(stack: LocalStack) -> None:
    status, headers, body = _post(stack, "/_local/schedules/BrokenFunction")

    assert status == 502
    assert headers["X-Amz-Function-Error"] == "Unhandled"
    assert (body["errorType"], body["errorMessage"]) == ("RuntimeError", "cleanup failed")


@pytest.mark.e2e
@pytest.mark.parametrize(
    ("path", "method", "status", "message"),
    [
        ("/_local/schedules/PingFunction", "POST", 404, "PingFunction has no schedule"),
        ("/_local/schedules/TickFunction/Other", "POST", 404, "TickFunction has no schedule event Other"),
        ("/_local/schedules/NoSuchFunction", "POST", 404, "NoSuchFunction has no schedule"),
        ("/_local/schedules/TickFunction", "GET", 405, "use POST"),
        ("/_local/elsewhere", "GET", 404, "no local route /_local/elsewhere"),
    ],
)
def test_local_route_errors(stack: LocalStack, path: str, method: str, status: int, message: str) -> None:
    answered, _, body = _post(stack, path, method)

    assert answered == status
    assert message in body["message"]


@pytest.mark.e2e
def test_the_banner_lists_the_schedules(stack: LocalStack) -> None:
    text = banner(stack)

    run_now = f"run now: curl -s -X POST {stack.api_url}/_local/schedules"
    assert f"  rate(1 minute) -> TickFunction (EveryMinute); {run_now}/TickFunction" in text
    assert f"  rate(1 day) -> PausedFunction (Daily, disabled); {run_now}/PausedFunction" in text


def test_a_cron_schedule_stops_the_stack_before_it_starts(tmp_path: Path) -> None:
    template = _write_app(tmp_path, TEMPLATE.replace("rate(1 hour)", '"cron(0 * * * ? *)"'))

    with pytest.raises(ValueError, match=r"BrokenFunction\.Hourly: cron\(0 \* \* \* \? \*\): cron schedules"):
        LocalStack(template, port=0, load_demo=False)


def test_a_template_route_under_the_local_prefix_is_refused(tmp_path: Path) -> None:
    template = _write_app(tmp_path, TEMPLATE.replace("Path: /ping", "Path: /_local/ping"))

    with pytest.raises(ValueError, match=r"PingFunction\.Ping: /_local/ping is where the local stack serves"):
        LocalStack(template, port=0, load_demo=False)
