"""One local Lambda "container": a spawned process that imports a handler once and serves invocations in turn.

This module runs in every worker process, so it imports only the standard library: whatever else a
worker imports is the function's own cold start.
"""

from __future__ import annotations

import decimal
import importlib
import io
import json
import os
import signal
import sys
import time
import traceback
from dataclasses import dataclass
from multiprocessing.connection import Connection
from typing import Any

# Messages from a worker to its pool.
READY = "ready"
INIT_ERROR = "init_error"
RESULT = "result"
ERROR = "error"


@dataclass(frozen=True)
class WorkerConfig:
    """Everything a worker needs, picklable for the spawn start method."""

    function_name: str
    handler: str
    code_dir: str
    layer_dirs: tuple[str, ...]
    environment: dict[str, str]
    invoked_function_arn: str


class LambdaContext:
    """The context object the Lambda Python runtime passes to a handler."""

    def __init__(self, config: WorkerConfig, request_id: str, deadline_ms: int) -> None:
        self.aws_request_id = request_id
        self.invoked_function_arn = config.invoked_function_arn
        self.function_name = os.environ["AWS_LAMBDA_FUNCTION_NAME"]
        self.function_version = os.environ["AWS_LAMBDA_FUNCTION_VERSION"]
        # The real runtime reads these from the environment too, so memory_limit_in_mb is a string there.
        self.memory_limit_in_mb = os.environ["AWS_LAMBDA_FUNCTION_MEMORY_SIZE"]
        self.log_group_name = os.environ["AWS_LAMBDA_LOG_GROUP_NAME"]
        self.log_stream_name = os.environ["AWS_LAMBDA_LOG_STREAM_NAME"]
        self.identity = None
        self.client_context = None
        self.tenant_id = None
        self._deadline_ms = deadline_ms

    def get_remaining_time_in_millis(self) -> int:
        return max(self._deadline_ms - int(time.time() * 1000), 0)


def error_payload(
    error: BaseException, error_type: str | None = None, message: str | None = None
) -> dict[str, Any]:
    """An error as the Lambda runtime reports it to the caller."""
    # Like the runtime, leave out the frames of the machinery that called the handler.
    frames = [frame for frame in traceback.extract_tb(error.__traceback__) if frame.filename != __file__]
    return {
        "errorMessage": str(error) if message is None else message,
        "errorType": error_type or type(error).__name__,
        "stackTrace": traceback.format_list(frames),
    }


def _log_error(payload: dict[str, Any], request_id: str | None = None) -> None:
    # The runtime logs every unhandled error besides returning it; keep the JSON shape of the other logs.
    print(
        json.dumps(
            {"level": "ERROR", "message": payload["errorMessage"], "requestId": request_id, **payload}
        ),
        file=sys.stderr,
    )


def _lambda_json(value: Any) -> str:
    """Serialise a handler's result as the Lambda Python runtime does, Decimals (DynamoDB numbers) too."""

    def number(obj: Any) -> int | float:
        if isinstance(obj, decimal.Decimal):
            # The runtime writes a Decimal's own digits; whole numbers stay exact here too.
            return int(obj) if obj.is_finite() and obj == obj.to_integral_value() else float(obj)
        raise TypeError(f"Object of type {type(obj).__name__} is not JSON serializable")

    return json.dumps(value, default=number, ensure_ascii=False)


def _prepare_process(config: WorkerConfig) -> None:
    # Ctrl-C reaches the whole process group; the pool decides when its workers stop.
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    for stream in (sys.stdout, sys.stderr):
        if isinstance(stream, io.TextIOWrapper):
            # Logs must reach the console as they are written, not when a buffer fills.
            stream.reconfigure(line_buffering=True)
    os.environ.update(config.environment)
    time.tzset()
    # As in Lambda: the function's folder first, then its layers, and it is also the working directory.
    inherited = [os.path.abspath(entry or os.curdir) for entry in sys.path]
    sys.path[:] = [config.code_dir, *config.layer_dirs, *inherited]
    os.chdir(config.code_dir)


class _InitError(Exception):
    def __init__(self, error: BaseException, error_type: str, message: str) -> None:
        super().__init__(message)
        self.payload = error_payload(error, error_type, message)


def _load_handler(handler: str) -> Any:
    module_name, _, function_name = handler.rpartition(".")
    try:
        module = importlib.import_module(module_name)
    except ImportError as error:
        raise _InitError(
            error, "Runtime.ImportModuleError", f"Unable to import module '{module_name}': {error}"
        ) from error
    try:
        return getattr(module, function_name)
    except AttributeError as error:
        message = f"Handler '{function_name}' missing on module '{module_name}'"
        raise _InitError(error, "Runtime.HandlerNotFound", message) from error


def _invoke(
    handler: Any, config: WorkerConfig, request_id: str, event_json: str, deadline_ms: int
) -> tuple[str, Any]:
    try:
        result = handler(json.loads(event_json), LambdaContext(config, request_id, deadline_ms))
    except Exception as error:  # returned to the caller as a function error; the container stays warm
        failure = error_payload(error)
    else:
        try:
            return RESULT, _lambda_json(result)
        except (TypeError, ValueError) as error:
            failure = error_payload(error, "Runtime.MarshalError", f"Unable to marshal response: {error}")
    _log_error(failure, request_id)
    return ERROR, failure


def serve(connection: Connection, config: WorkerConfig) -> None:
    """Worker process entry point: init once, then answer `(request_id, event_json, deadline_ms)` messages."""
    _prepare_process(config)
    try:
        handler = _load_handler(config.handler)
    except Exception as error:  # Lambda reports a failed init to the invocation that triggered it
        payload = error.payload if isinstance(error, _InitError) else error_payload(error)
        _log_error(payload)
        connection.send((INIT_ERROR, payload))
        return
    connection.send((READY, None))
    while True:
        try:
            message = connection.recv()
        except EOFError:  # the pool is gone
            return
        connection.send(_invoke(handler, config, *message))
