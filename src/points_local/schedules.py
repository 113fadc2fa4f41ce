"""EventBridge schedules: invoke each function with a `Type: Schedule` event on its rate, as the rule would.

A rate rule first fires one period after it is created, then every period; an invocation that runs long
does not delay the next one (EventBridge invokes asynchronously), so each runs in a thread of its own and
waits for a worker of the function's pool like any other invocation.
"""

from __future__ import annotations

import logging
import threading
import time
import uuid
from collections.abc import Callable, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime
from typing import Any

from points_local.functions import InvocationResult, PoolStopped
from points_local.template import ACCOUNT_ID, ScheduleSpec

logger = logging.getLogger("points_local.schedules")

Invoke = Callable[[str, Mapping[str, Any]], InvocationResult]


class ScheduleNotFound(LookupError):
    """The function has no schedule of that name, or several when none was named."""


def scheduled_event(schedule: ScheduleSpec, region: str, now: datetime) -> Any:
    """What the rule sends: EventBridge's scheduled event, or the rule's constant Input when it has one."""
    if schedule.input is not None:
        return schedule.input
    return eventbridge_event(schedule.rule_name, region, ACCOUNT_ID, now)


def eventbridge_event(rule_name: str, region: str, account_id: str, now: datetime) -> dict[str, Any]:
    """EventBridge's scheduled event from a rule."""
    return {
        "version": "0",
        "id": str(uuid.uuid4()),
        "detail-type": "Scheduled Event",
        "source": "aws.events",
        "account": account_id,
        "time": now.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
        "region": region,
        "resources": [f"arn:aws:events:{region}:{account_id}:rule/{rule_name}"],
        "detail": {},
    }


class Scheduler:
    """Fires the enabled schedules on their rates from one timer thread; `run` fires any schedule now."""

    def __init__(self, schedules: Sequence[ScheduleSpec], invoke: Invoke, *, region: str) -> None:
        self.schedules = tuple(schedules)
        self.region = region
        self._invoke = invoke
        self._stopping = threading.Event()
        self._timer = threading.Thread(target=self._tick, name="points-local-schedules", daemon=True)
        self._invocations = ThreadPoolExecutor(thread_name_prefix="points-local-scheduled")

    def start(self) -> None:
        if any(schedule.enabled for schedule in self.schedules):
            self._timer.start()

    def stop(self) -> None:
        """No schedule fires after this; invocations under way end when the function pools stop."""
        self._stopping.set()
        if self._timer.is_alive():
            self._timer.join()
        self._invocations.shutdown(wait=False, cancel_futures=True)

    def find(self, function_id: str, event_id: str | None = None) -> ScheduleSpec:
        """The function's schedule (the one named `event_id` when the function has several)."""
        found = [
            schedule
            for schedule in self.schedules
            if schedule.function_id == function_id and event_id in (None, schedule.event_id)
        ]
        if not found:
            event = f" event {event_id}" if event_id else ""
            raise ScheduleNotFound(f"{function_id} has no schedule{event}")
        if len(found) > 1:
            names = ", ".join(schedule.event_id for schedule in found)
            raise ScheduleNotFound(f"{function_id} has several schedules ({names}): name the event")
        return found[0]

    def run(self, schedule: ScheduleSpec) -> InvocationResult:
        """Invoke the schedule's function now with what its rule would send, disabled or not."""
        result = self._invoke(schedule.function_id, scheduled_event(schedule, self.region, datetime.now(UTC)))
        where = f"{schedule.function_id}.{schedule.event_id}"
        if result.ok:
            logger.info("schedule %s: %s ran in %.1f ms", schedule.expression, where, result.duration_ms)
        elif not self._stopping.is_set():
            message = result.error.get("errorMessage") if result.error else None
            logger.warning("schedule %s: %s failed: %s", schedule.expression, where, message)
        return result

    def _tick(self) -> None:
        started = time.monotonic()
        enabled = [schedule for schedule in self.schedules if schedule.enabled]
        due = [started + schedule.period_seconds for schedule in enabled]
        while not self._stopping.wait(max(min(due) - time.monotonic(), 0)):
            now = time.monotonic()
            for index, schedule in enumerate(enabled):
                if due[index] <= now:
                    self._invocations.submit(self._fire, schedule)
                    # A rule fires once for the periods it missed (a suspended laptop), not once per period.
                    missed = int((now - due[index]) // schedule.period_seconds)
                    due[index] += (missed + 1) * schedule.period_seconds

    def _fire(self, schedule: ScheduleSpec) -> None:
        try:
            self.run(schedule)
        except PoolStopped:  # the stack is stopping
            return
