"""Run each function like Lambda does: a pool of worker processes ("containers") per function.

A worker imports the handler once (cold start) and then serves one invocation at a time. A function
gets another worker only when all of its workers are busy, up to a limit; past it, invocations wait.
A worker that times out or dies is thrown away, so the next invocation starts a fresh one.
"""

from __future__ import annotations

import json
import multiprocessing
import threading
import time
import uuid
from collections.abc import Mapping
from dataclasses import dataclass, replace
from multiprocessing.context import SpawnProcess
from typing import Any

from points_local.worker import INIT_ERROR, READY, RESULT, WorkerConfig, serve

# Lambda gives init 10 s of its own; past that it retries init inside the invoke's time.
INIT_TIMEOUT_SECONDS = 10


@dataclass(frozen=True)
class InvocationResult:
    """The outcome of one invocation, as Lambda's Invoke API reports it."""

    request_id: str
    payload: Any = None  # the handler's return value, JSON round-tripped
    error: Mapping[str, Any] | None = None  # {"errorMessage", "errorType", "stackTrace"} when it failed
    timed_out: bool = False
    init_duration_ms: float | None = None  # set when this invocation started a new worker (cold start)
    duration_ms: float = 0.0

    @property
    def ok(self) -> bool:
        return self.error is None


def _elapsed_ms(started: float) -> float:
    return (time.perf_counter() - started) * 1000


class PoolStopped(RuntimeError):
    """The pool was stopped while an invocation was waiting for a worker."""


class _Worker:
    def __init__(self, context: multiprocessing.context.SpawnContext, config: WorkerConfig) -> None:
        self._connection, child_end = context.Pipe()
        self._process: SpawnProcess = context.Process(
            target=serve, args=(child_end, config), name=f"lambda:{config.function_name}", daemon=True
        )
        self._process.start()
        # Only the child may hold its end, so that either side sees EOF when the other goes away.
        child_end.close()
        # The pool may end a busy worker while its invoking thread still waits on the connection.
        self._lock = threading.Lock()
        self._closed = False

    def receive(self, timeout: float) -> tuple[str, Any] | None:
        """The worker's next message, None on timeout; EOFError when the process died."""
        if not self._connection.poll(timeout):
            return None
        message: tuple[str, Any] = self._connection.recv()
        return message

    def send(self, message: Any) -> None:
        self._connection.send(message)

    def terminate(self) -> None:
        """Kill the process but keep the connection: a thread waiting on it sees EOF, not a closed handle."""
        with self._lock:
            if not self._closed:
                self._kill()

    def close(self) -> None:
        with self._lock:
            if self._closed:
                return
            self._closed = True
            self._kill()
            self._process.close()
            self._connection.close()

    def _kill(self) -> None:
        # Lambda does not ask a sandbox to leave either; logs are already out (line-buffered).
        if self._process.is_alive():
            self._process.kill()
        self._process.join()


class FunctionPool:
    """The workers of one function."""

    def __init__(self, config: WorkerConfig, timeout_seconds: int, max_workers: int) -> None:
        self.config = config
        self.timeout_seconds = timeout_seconds
        self.max_workers = max_workers
        self._spawn = multiprocessing.get_context("spawn")
        self._condition = threading.Condition()
        self._idle: list[_Worker] = []
        self._workers: set[_Worker] = set()
        self._reserved = 0  # workers being started, not yet in _workers
        self._stopped = False

    def invoke(self, event: Mapping[str, Any]) -> InvocationResult:
        request_id = str(uuid.uuid4())
        event_json = json.dumps(event)
        worker = self._checkout()
        init_duration_ms = None
        if worker is None:
            started = time.perf_counter()
            worker, init_error = self._start_worker()
            init_duration_ms = _elapsed_ms(started)
            if worker is None:
                return InvocationResult(request_id, error=init_error, init_duration_ms=init_duration_ms)
        return replace(self._run(worker, request_id, event_json), init_duration_ms=init_duration_ms)

    def _run(self, worker: _Worker, request_id: str, event_json: str) -> InvocationResult:
        started = time.perf_counter()
        deadline_ms = int(time.time() * 1000) + self.timeout_seconds * 1000
        try:
            worker.send((request_id, event_json, deadline_ms))
            message = worker.receive(self.timeout_seconds)
        except (EOFError, OSError):  # the process died
            duration_ms = _elapsed_ms(started)
            self._discard(worker)
            error = {
                "errorType": "Runtime.ExitError",
                "errorMessage": f"RequestId: {request_id} Error: Runtime exited",
            }
            return InvocationResult(request_id, error=error, duration_ms=duration_ms)
        duration_ms = _elapsed_ms(started)
        if message is None:  # as Lambda does, a sandbox that runs past its timeout is stopped
            self._discard(worker)
            error = {
                "errorType": "Sandbox.Timedout",
                "errorMessage": f"Task timed out after {self.timeout_seconds:.2f} seconds",
            }
            return InvocationResult(request_id, error=error, timed_out=True, duration_ms=duration_ms)
        self._checkin(worker)
        kind, body = message
        if kind == RESULT:
            return InvocationResult(request_id, payload=json.loads(body), duration_ms=duration_ms)
        return InvocationResult(request_id, error=body, duration_ms=duration_ms)

    def stop(self) -> None:
        with self._condition:
            self._stopped = True
            idle = list(self._idle)
            busy = self._workers.difference(idle)
            self._workers.clear()
            self._idle.clear()
            self._condition.notify_all()
        for worker in idle:
            worker.close()
        # A busy worker is killed: its invocation ends as a crash and its thread closes it.
        for worker in busy:
            worker.terminate()

    def _checkout(self) -> _Worker | None:
        """An idle worker, or None when the caller has been given a slot to start a new one."""
        with self._condition:
            while True:
                if self._stopped:
                    raise PoolStopped(f"{self.config.function_name}: the local stack is stopping")
                if self._idle:
                    return self._idle.pop()  # the most recently used, as Lambda tends to reuse warm ones
                if len(self._workers) + self._reserved < self.max_workers:
                    self._reserved += 1
                    return None
                self._condition.wait()

    def _start_worker(self) -> tuple[_Worker | None, Mapping[str, Any] | None]:
        try:
            worker = _Worker(self._spawn, self.config)
        except BaseException:
            self._release_reservation()
            raise
        with self._condition:
            self._reserved -= 1
            stopped = self._stopped
            if not stopped:
                self._workers.add(worker)
        if stopped:
            worker.close()
            raise PoolStopped(f"{self.config.function_name}: the local stack is stopping")
        try:
            message = worker.receive(INIT_TIMEOUT_SECONDS + self.timeout_seconds)
        except (EOFError, OSError):
            message = None
        if message is not None and message[0] == READY:
            return worker, None
        self._discard(worker)
        if message is not None and message[0] == INIT_ERROR:
            return None, message[1]
        return None, {"errorType": "Runtime.ExitError", "errorMessage": "Runtime exited during init"}

    def _release_reservation(self) -> None:
        with self._condition:
            self._reserved -= 1
            self._condition.notify()

    def _checkin(self, worker: _Worker) -> None:
        with self._condition:
            if worker in self._workers:
                self._idle.append(worker)
                self._condition.notify()
                return
        worker.close()  # the pool was stopped meanwhile

    def _discard(self, worker: _Worker) -> None:
        with self._condition:
            self._workers.discard(worker)
            self._condition.notify()
        worker.close()


class FunctionHost:
    """The pools of all functions, by logical id."""

    def __init__(self, pools: Mapping[str, FunctionPool]) -> None:
        self.pools = dict(pools)

    def invoke(self, function_id: str, event: Mapping[str, Any]) -> InvocationResult:
        try:
            pool = self.pools[function_id]
        except KeyError:
            raise KeyError(f"no function {function_id} in the template") from None
        return pool.invoke(event)

    def stop(self) -> None:
        for pool in self.pools.values():
            pool.stop()
